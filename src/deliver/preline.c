/* ISC license. */
/*
   preline [ -dfrDFR ] cmd [ arg ... ]: feed the message to cmd with the
   From_, Return-Path and Delivered-To lines that qmail-local gives a file
   delivery, for programs (procmail, filters) that want them in the message
   rather than in the environment.

   Who runs it: a .qmail program line, "|preline procmail", as the user,
   from qmail-local, which sets UFLINE, RPLINE and DTLINE (qmail-command(8)).

   Runs cmd (found in PATH) with a pipe as its stdin, and writes into the
   pipe $UFLINE (unless -f), $RPLINE (unless -r), $DTLINE (unless -d), then
   our stdin.  -F, -R, -D put a line back.  Exits with cmd's exit code; 111
   if cmd crashed or on a system error; 100 for usage (also when UFLINE,
   RPLINE or DTLINE is not set); cmd that cannot be run: 111 if the reason
   is temporary, else 100.

   Where we differ from qmail: when cmd exits without reading all of its
   input, qmail's preline fails with "unable to copy input: broken pipe"
   (exit 111) or not, depending on the size of the message and on timing;
   we stop writing and exit with cmd's code, always.
*/

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>
#include <skalibs/allreadwrite.h>
#include <skalibs/djbunix.h>
#include <skalibs/sgetopt.h>
#include <skalibs/strerr.h>

#include <qmail-s6/errstr.h>
#include <qmail-s6/errtemp.h>

#define USAGE "preline: usage: preline cmd [ arg ... ]"

static void die_usage (void) __attribute__((noreturn)) ;
static void die_usage (void)
{
  strerr_die(100, USAGE) ;
}

 /* Writes s[0..n) to the pipe.  0 ok; 1 the reader is gone (stop
    writing, the child's exit code decides); dies on another error. */
static int put (int fd, char const *s, size_t n)
{
  if (allwrite(fd, s, n) == n) return 0 ;
  if (errno == EPIPE) return 1 ;
  strerr_dief2x(111, "unable to copy input: ", qmail_error_str(errno)) ;
}

int main (int argc, char const *const *argv)
{
  subgetopt l = SUBGETOPT_ZERO ;
  int flagufline = 1, flagrpline = 1, flagdtline = 1 ;
  char const *ufline, *rpline, *dtline ;
  int pi[2] ;
  pid_t pid ;
  int wstat ;
  int gone = 0 ;

  PROG = "preline" ;
  signal(SIGPIPE, SIG_IGN) ;

  if (!(ufline = getenv("UFLINE"))) die_usage() ;
  if (!(rpline = getenv("RPLINE"))) die_usage() ;
  if (!(dtline = getenv("DTLINE"))) die_usage() ;

  for (;;)
  {
    int opt = subgetopt_r(argc, argv, "frdFRD", &l) ;
    if (opt == -1) break ;
    switch (opt)
    {
      case 'f' : flagufline = 0 ; break ;
      case 'r' : flagrpline = 0 ; break ;
      case 'd' : flagdtline = 0 ; break ;
      case 'F' : flagufline = 1 ; break ;
      case 'R' : flagrpline = 1 ; break ;
      case 'D' : flagdtline = 1 ; break ;
      default : die_usage() ;
    }
  }
  argc -= l.ind ; argv += l.ind ;
  if (!argc) die_usage() ;

  if (pipe(pi) < 0) strerr_dief2x(111, "unable to create pipe: ", qmail_error_str(errno)) ;
  pid = fork() ;
  if (pid < 0) strerr_dief2x(111, "unable to fork: ", qmail_error_str(errno)) ;
  if (!pid)
  {
    close(pi[1]) ;
    if (fd_move(0, pi[0]) < 0) strerr_dief2x(111, "unable to set up fds: ", qmail_error_str(errno)) ;
    signal(SIGPIPE, SIG_DFL) ;
    execvp(argv[0], (char *const *)argv) ;
    {
      int e = errno ;
      strerr_dief4x(qmail_error_temp(e) ? 111 : 100, "unable to run ", argv[0], ": ", qmail_error_str(e)) ;
    }
  }
  close(pi[0]) ;

  if (flagufline) gone = put(pi[1], ufline, strlen(ufline)) ;
  if (!gone && flagrpline) gone = put(pi[1], rpline, strlen(rpline)) ;
  if (!gone && flagdtline) gone = put(pi[1], dtline, strlen(dtline)) ;
  while (!gone)
  {
    char buf[16384] ;
    ssize_t r = fd_read(0, buf, sizeof(buf)) ;
    if (r < 0) strerr_dief2x(111, "unable to copy input: ", qmail_error_str(errno)) ;
    if (!r) break ;
    gone = put(pi[1], buf, r) ;
  }
  close(pi[1]) ;

  if (waitpid_nointr(pid, &wstat, 0) != pid)
    strerr_dief2x(111, "wait failed: ", qmail_error_str(errno)) ;
  if (WIFSIGNALED(wstat)) strerr_dief1x(111, "child crashed") ;
  return WEXITSTATUS(wstat) ;
}
