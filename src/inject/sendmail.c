/* ISC license. */
/*
   sendmail: the sendmail command line, for programs that only know that
   one, turned into qmail's programs (qmail's sendmail wrapper).

   Who runs it: mail user agents, scripts, cron, PHP and the like, as any
   user.  No privileges; it only sets up the environment and execs, by path
   under the home's bin/:
     sendmail [ -t ] [ -fsender ] [ -Fname ] [ arg ... ]
         -> qmail-inject -H (with -t) or -a, then -f sender, "--", args
     sendmail -bp, or invoked as mailq  -> qmail-qread
     sendmail -bs                       -> qmail-smtpd on stdin/stdout, with,
         unless $PROTO is set, RELAYCLIENT="" DATABYTES=0 PROTO=TCP
         TCPLOCALIP=TCPREMOTEIP=127.0.0.1 TCPLOCALHOST=TCPREMOTEHOST=localhost
         TCPREMOTEINFO=sendmail-bs
     invoked as newaliases              -> refused (exit 100)
   -f sender also sets QMAILUSER and QMAILHOST from sender (split at its last
   '@') after removing QMAILNAME, MAILNAME, NAME, QMAILHOST and MAILHOST, so
   that the From field matches the envelope sender.  -F name sets MAILNAME.
   Ignored, as qmail does: -i -v -m -x -e X -o X -p X -B X -bm, and -E, -J
   with whatever follows them in the same argument.

   Where we differ from qmail: with both -f and -F, qmail loses the name
   (its -f handling removes MAILNAME after -F set it); we keep it.

   Exits: 100 for usage and newaliases; 111 when it cannot switch to the
   home or run the program; otherwise the exit code is the program's.
*/

#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <skalibs/buffer.h>
#include <skalibs/sgetopt.h>
#include <skalibs/strerr.h>

#include <qmail-s6/home.h>

#define USAGE "sendmail [ -t ] [ -fsender ] [ -Fname ] [ -bp ] [ -bs ] [ arg ... ]"

extern char **environ ;

static char const *home ;

static void die_nomem (void) __attribute__((noreturn)) ;
static void die_nomem (void)
{
  strerr_dief1x(111, "out of memory") ;
}

static void die_usage (void) __attribute__((noreturn)) ;
static void die_usage (void)
{
  strerr_dieusage(100, USAGE) ;
}

static void set (char const *name, char const *value)
{
  if (setenv(name, value, 1) < 0) die_nomem() ;
}

 /* HOME/bin/prog; relative to the home (our cwd) when the home is relative. */
static char *bin_path (char const *prog)
{
  size_t hlen = home[0] == '/' ? strlen(home) : 0 ;
  size_t plen = strlen(prog) ;
  char *p = malloc(hlen + 5 + plen + 1) ;
  if (!p) die_nomem() ;
  if (hlen) { memcpy(p, home, hlen) ; memcpy(p + hlen, "/bin/", 5) ; memcpy(p + hlen + 5, prog, plen + 1) ; }
  else { memcpy(p, "bin/", 4) ; memcpy(p + 4, prog, plen + 1) ; }
  return p ;
}

static void run (char const *prog, char **argv) __attribute__((noreturn)) ;
static void run (char const *prog, char **argv)
{
  execve(argv[0], argv, environ) ;
  strerr_dief2x(111, "unable to run ", prog) ;
}

static void mailq (void) __attribute__((noreturn)) ;
static void mailq (void)
{
  char *argv[2] = { bin_path("qmail-qread"), 0 } ;
  run("qmail-qread", argv) ;
}

 /* An SMTP session on stdin and stdout, as if from localhost, allowed to
    relay; a caller that set PROTO knows better. */
static void smtpd (void) __attribute__((noreturn)) ;
static void smtpd (void)
{
  char *argv[2] = { bin_path("qmail-smtpd"), 0 } ;
  if (!getenv("PROTO"))
  {
    set("RELAYCLIENT", "") ;
    set("DATABYTES", "0") ;
    set("PROTO", "TCP") ;
    set("TCPLOCALIP", "127.0.0.1") ;
    set("TCPLOCALHOST", "localhost") ;
    set("TCPREMOTEIP", "127.0.0.1") ;
    set("TCPREMOTEHOST", "localhost") ;
    set("TCPREMOTEINFO", "sendmail-bs") ;
  }
  run("qmail-smtpd", argv) ;
}

 /* The From field follows the envelope sender. */
static void do_sender (char const *s)
{
  char const *at = strrchr(s, '@') ;
  unsetenv("QMAILNAME") ;
  unsetenv("MAILNAME") ;
  unsetenv("NAME") ;
  unsetenv("QMAILHOST") ;
  unsetenv("MAILHOST") ;
  if (!at) { set("QMAILUSER", s) ; return ; }
  set("QMAILHOST", at + 1) ;
  {
    size_t n = at - s ;
    char *user = malloc(n + 1) ;
    if (!user) die_nomem() ;
    memcpy(user, s, n) ;
    user[n] = 0 ;
    set("QMAILUSER", user) ;
    free(user) ;
  }
}

int main (int argc, char const *const *argv)
{
  subgetopt l = SUBGETOPT_ZERO ;
  char const *prog ;
  char const *sender = 0 ;
  char const *name = 0 ;
  int flagh = 0 ;
  char **qiargv ;
  size_t n = 0 ;

  PROG = "sendmail" ;
  prog = argv[0] ? argv[0] : PROG ;
  if (strrchr(prog, '/')) prog = strrchr(prog, '/') + 1 ;
  home = qmail_home() ;
  if (chdir(home) < 0) strerr_dief1x(111, "unable to switch to qmail home directory") ;

  for (;;)
  {
    int opt = subgetopt_r(argc, argv, "vimte:f:p:o:B:F:EJxb:", &l) ;
    if (opt == -1) break ;
    switch (opt)
    {
      case 't' : flagh = 1 ; break ;
      case 'f' : sender = l.arg ; break ;
      case 'F' : name = l.arg ; set("MAILNAME", name) ; break ;
      case 'v' : case 'i' : case 'x' : case 'm' :
      case 'e' : case 'o' : case 'p' : case 'B' : break ;
      case 'E' : case 'J' :  /* Sony NEWS-OS: the rest of the argument is theirs */
        if (l.pos && l.ind < argc) l.pos = strlen(argv[l.ind]) ;
        break ;
      case 'b' :
        switch (l.arg[0])
        {
          case 'm' : break ;
          case 'p' : mailq() ;
          case 's' : smtpd() ;
          default : die_usage() ;
        }
        break ;
      default :
      {
        char c[2] = { (char)l.problem, '\n' } ;
        buffer_puts(buffer_2, prog) ;
        buffer_puts(buffer_2, l.ind < argc && argv[l.ind] ? ": illegal option -- " : ": option requires an argument -- ") ;
        buffer_put(buffer_2, c, 2) ;
        buffer_flush(buffer_2) ;
        die_usage() ;
      }
    }
  }
  argc -= l.ind ; argv += l.ind ;

  if (!strcmp(prog, "mailq")) mailq() ;
  if (!strcmp(prog, "newaliases"))
    strerr_dief1x(100, "please use fastforward/newaliases instead") ;

  qiargv = malloc(((size_t)argc + 6) * sizeof(char *)) ;
  if (!qiargv) die_nomem() ;
  qiargv[n++] = bin_path("qmail-inject") ;
  qiargv[n++] = flagh ? "-H" : "-a" ;
  if (sender)
  {
    qiargv[n++] = "-f" ;
    qiargv[n++] = (char *)sender ;
    do_sender(sender) ;
    if (name) set("MAILNAME", name) ;
  }
  qiargv[n++] = "--" ;
  while (argc--) qiargv[n++] = (char *)*argv++ ;
  qiargv[n] = 0 ;
  run("qmail-inject", qiargv) ;
}
