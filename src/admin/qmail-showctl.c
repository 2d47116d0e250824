/* ISC license. */
/*
   qmail-showctl: show how this qmail is configured, with qmail-showctl's
   output.

   Who runs it: the administrator, as anyone who can read control/ (the
   control files are world-readable).  No privileges; changes nothing;
   arguments are ignored, as qmail ignores them.

   Writes on stdout:
     - the compiled-in values: home (or $QMAILHOME), user-ext delimiter,
       paternalism, silent concurrency limit, subdirectory split, then the
       user ids (alias, qmaild, qmaill, root, qmailp, qmailq, qmailr, qmails)
       and group ids (nofiles, qmail), looked up at run time (in a sandbox:
       all the sandbox user);
     - for each control file qmail reads, in qmail's order, an empty line
       and "{file}: " followed by its value in qmail's words, or
       "(Default.) " and the value used when the file is missing (control/me
       where qmail falls back to it), or "Oops! Trouble reading this file.";
       bytes outside 32..126 in values are shown as '?';
     - an empty line and "{file}: I have no idea what this file does." for
       every other file in control/, sorted by name (qmail uses directory
       order).
   Control files are read with control.h, the reader every qmail-s6 program
   uses, so what is shown is what the programs get: a number that is not one
   (empty, "10x") is "Oops! Trouble reading this file." where qmail would
   quietly use a default or the leading digits.

   Exits 0; 111 when the home, control/ or control/me cannot be read (an
   "Oops! ..." line on stdout, as qmail), when the qmail users cannot be
   found (on stderr), or when stdout cannot be written.
*/

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <dirent.h>
#include <sys/stat.h>
#include <skalibs/buffer.h>
#include <skalibs/genalloc.h>
#include <skalibs/strerr.h>
#include <skalibs/stralloc.h>
#include <skalibs/types.h>

#include <qmail-s6/control.h>
#include <qmail-s6/home.h>
#include <qmail-s6/ids.h>
#include <qmail-s6/queue.h>

 /* qmail's conf-break, conf-patrn and conf-spawn.  (conf-split is
    QUEUE_SPLIT.)  They belong in a shared header once qmail-local and
    qmail-send use them. */
#define CONF_BREAK "-"
#define CONF_PATRN 002
#define CONF_SPAWN 120

static stralloc me = STRALLOC_ZERO ;
static int meok ;
static stralloc line = STRALLOC_ZERO ;

static void out (char const *s, size_t n)
{
  if (buffer_put(buffer_1, s, n) < 0) strerr_diefu1sys(111, "write to stdout") ;
}

static void outs (char const *s)
{
  out(s, strlen(s)) ;
}

static void outulong (unsigned long u)
{
  char fmt[ULONG_FMT] ;
  out(fmt, ulong_fmt(fmt, u)) ;
}

 /* qmail-showctl's safeput: bytes outside 32..126 become '?'. */
static void outsafe (char const *s, size_t n)
{
  for (; n ; s++, n--)
  {
    char c = ((unsigned char)*s < 32 || (unsigned char)*s > 126) ? '?' : *s ;
    out(&c, 1) ;
  }
}

static void flush (void)
{
  if (!buffer_flush(buffer_1)) strerr_diefu1sys(111, "write to stdout") ;
}

static void oops (char const *s1, char const *s2) __attribute__((noreturn)) ;
static void oops (char const *s1, char const *s2)
{
  outs("Oops! ") ; outs(s1) ; outs(s2) ; outs(".\n") ;
  flush() ;
  _exit(111) ;
}

 /* The kinds of control files, and how qmail-showctl words each. */
enum kind_e { K_INT, K_STR, K_LST, K_MRH, K_MRHCDB } ;

struct ctl_s
{
  char const *name ;
  enum kind_e kind ;
  int flagme ;        /* K_STR: control/me is the default when it exists */
  char const *def ;   /* shown after "(Default.) " */
  char const *pre ;
  char const *post ;
  int maskpass ;      /* K_LST: "...|user|password": the password is not shown */
} ;

 /* qmail's control files, in qmail-showctl's order. */
static struct ctl_s const ctls[] =
{
  { "badmailfrom", K_LST, 0, "Any MAIL FROM is allowed.", "", " not accepted in MAIL FROM.", 0 },
  { "bouncefrom", K_STR, 0, "MAILER-DAEMON", "Bounce user name is ", 0, 0 },
  { "bouncehost", K_STR, 1, "bouncehost", "Bounce host name is ", 0, 0 },
  { "concurrencylocal", K_INT, 0, "10", "Local concurrency is ", "", 0 },
  { "concurrencyremote", K_INT, 0, "20", "Remote concurrency is ", "", 0 },
  { "databytes", K_INT, 0, "0", "SMTP DATA limit is ", " bytes", 0 },
  { "defaultdomain", K_STR, 1, "defaultdomain", "Default domain name is ", 0, 0 },
  { "defaulthost", K_STR, 1, "defaulthost", "Default host name is ", 0, 0 },
  { "doublebouncehost", K_STR, 1, "doublebouncehost", "2B recipient host: ", 0, 0 },
  { "doublebounceto", K_STR, 0, "postmaster", "2B recipient user: ", 0, 0 },
  { "envnoathost", K_STR, 1, "envnoathost", "Presumed domain name is ", 0, 0 },
  { "helohost", K_STR, 1, "helohost", "SMTP client HELO host name is ", 0, 0 },
  { "idhost", K_STR, 1, "idhost", "Message-ID host name is ", 0, 0 },
  { "localiphost", K_STR, 1, "localiphost", "Local IP address becomes ", 0, 0 },
  { "locals", K_LST, 0, "Messages for me are delivered locally.", "Messages for ", " are delivered locally.", 0 },
  { "me", K_STR, 0, "undefined! Uh-oh", "My name is ", 0, 0 },
  { "percenthack", K_LST, 0, "The percent hack is not allowed.", "The percent hack is allowed for user%host@", ".", 0 },
  { "plusdomain", K_STR, 1, "plusdomain", "Plus domain name is ", 0, 0 },
  { "qmqpservers", K_LST, 0, "No QMQP servers.", "QMQP server: ", ".", 0 },
  { "queuelifetime", K_INT, 0, "604800", "Message lifetime in the queue is ", " seconds", 0 },
  { "rcpthosts", K_LST, 0, "SMTP clients may send messages to any recipient.", "SMTP clients may send messages to recipients at ", ".", 0 },
  { "morercpthosts", K_MRH, 0, 0, 0, 0, 0 },
  { "morercpthosts.cdb", K_MRHCDB, 0, 0, 0, 0, 0 },
  { "smtpgreeting", K_STR, 1, "smtpgreeting", "SMTP greeting: 220 ", 0, 0 },
  { "smtproutes", K_LST, 0, "No artificial SMTP routes.", "SMTP route: ", "", 1 },
  { "timeoutconnect", K_INT, 0, "60", "SMTP client connection timeout is ", " seconds", 0 },
  { "timeoutremote", K_INT, 0, "1200", "SMTP client data timeout is ", " seconds", 0 },
  { "timeoutsmtpd", K_INT, 0, "1200", "SMTP server data timeout is ", " seconds", 0 },
  { "virtualdomains", K_LST, 0, "No virtual domains.", "Virtual domain: ", "", 0 },
} ;

#define NCTLS (sizeof(ctls) / sizeof(ctls[0]))

 /* Control files of qmail-s6 that qmail does not have: described only when
    they exist (in the sorted list of other files), so that the output for
    a plain qmail configuration stays qmail's. */
static struct ctl_s const ours[] =
{
  { "authsenders", K_LST, 0, "", "SMTP route and AUTH for the sender: ", "", 1 },
  { "notlshosts", K_LST, 0, "", "No STARTTLS to ", ".", 0 },
  { "remotebatch", K_INT, 0, "50", "Most recipients per SMTP transaction: ", "", 0 },
  { "tlsdestinations", K_LST, 0, "", "TLS required for mail to: ", "", 0 },
} ;
#define NOURS (sizeof(ours) / sizeof(ours[0]))

static void head (char const *fn)
{
  outs("\n") ; outs(fn) ; outs(": ") ;
}

static void do_int (char const *fn, char const *def, char const *pre, char const *post)
{
  unsigned long u ;
  head(fn) ;
  switch (control_readulong(&u, fn, 0))
  {
    case 0 :
      outs("(Default.) ") ; outs(pre) ; outs(def) ; outs(post) ; outs(".\n") ;
      break ;
    case 1 :
      outs(pre) ; outulong(u) ; outs(post) ; outs(".\n") ;
      break ;
    default :
      outs("Oops! Trouble reading this file.\n") ;
      break ;
  }
}

static void do_str (char const *fn, int flagme, char const *def, char const *pre)
{
  head(fn) ;
  switch (control_readline(&line, fn))
  {
    case 0 :
      outs("(Default.) ") ;
      if (flagme && meok) { outs(pre) ; outsafe(me.s, me.len) ; }
      else { outs(pre) ; outs(def) ; }
      outs(".\n") ;
      break ;
    case 1 :
      outs(pre) ; outsafe(line.s, line.len) ; outs(".\n") ;
      break ;
    default :
      outs("Oops! Trouble reading this file.\n") ;
      break ;
  }
}

 /* 1 the file is there, 0 missing, -1 unreadable. */
static int do_lst (char const *fn, char const *def, char const *pre, char const *post, int maskpass)
{
  size_t i = 0, j ;
  head(fn) ;
  switch (control_readfile(&line, fn))
  {
    case 0 :
      outs("(Default.) ") ; outs(def) ; outs("\n") ;
      return 0 ;
    case 1 :
      outs("\n") ;
      for (j = 0 ; j < line.len ; j++)
        if (!line.s[j])
        {
          size_t len = j - i ;
          char const *bar = maskpass ? memchr(line.s + i, '|', len) : 0 ;
          char const *bar2 = bar ? memchr(bar + 1, '|', line.s + j - bar - 1) : 0 ;
          outs(pre) ;
          if (bar2) { outsafe(line.s + i, bar2 + 1 - line.s - i) ; outs("(password not shown)") ; }
          else outsafe(line.s + i, len) ;
          outs(post) ; outs("\n") ;
          i = j + 1 ;
        }
      return 1 ;
    default :
      outs("Oops! Trouble reading this file.\n") ;
      return -1 ;
  }
}

 /* morercpthosts.cdb is made from morercpthosts by qmail-newmrh: say
    whether it looks up to date (by mtime; the contents are not compared). */
static void do_mrhcdb (void)
{
  struct stat stmrh, stcdb ;
  outs("\nmorercpthosts.cdb: ") ;
  if (stat("morercpthosts", &stmrh) < 0)
  {
    if (stat("morercpthosts.cdb", &stcdb) < 0) outs("(Default.) No effect.\n") ;
    else outs("Oops! morercpthosts.cdb exists but morercpthosts doesn't.\n") ;
  }
  else if (stat("morercpthosts.cdb", &stcdb) < 0)
    outs("Oops! morercpthosts exists but morercpthosts.cdb doesn't.\n") ;
  else if (stmrh.st_mtime > stcdb.st_mtime)
    outs("Oops! morercpthosts.cdb is older than morercpthosts.\n") ;
  else outs("Modified recently enough; hopefully up to date.\n") ;
}

static int is_known (char const *name)
{
  size_t i ;
  for (i = 0 ; i < NCTLS ; i++) if (!strcmp(name, ctls[i].name)) return 1 ;
  return 0 ;
}

static char const *sortbase ;
static int cmpname (void const *a, void const *b)
{
  return strcmp(sortbase + *(size_t const *)a, sortbase + *(size_t const *)b) ;
}

 /* Every other file of control/, sorted.  control/ is the administrator's
    small directory: the names are kept in memory to sort them. */
static void do_unknown (DIR *dir)
{
  stralloc names = STRALLOC_ZERO ;
  genalloc offsets = GENALLOC_ZERO ;
  size_t i, n ;
  for (;;)
  {
    struct dirent *d ;
    size_t off = names.len ;
    errno = 0 ;
    d = readdir(dir) ;
    if (!d)
    {
      if (errno) { flush() ; strerr_diefu1sys(111, "read directory control") ; }
      break ;
    }
    if (!strcmp(d->d_name, ".") || !strcmp(d->d_name, "..")) continue ;
    if (is_known(d->d_name)) continue ;
    if (!stralloc_catb(&names, d->d_name, strlen(d->d_name) + 1)
     || !genalloc_append(size_t, &offsets, &off))
      strerr_diefu1sys(111, "allocate memory") ;
  }
  n = genalloc_len(size_t, &offsets) ;
  sortbase = names.s ;
  if (n > 1) qsort(genalloc_s(size_t, &offsets), n, sizeof(size_t), &cmpname) ;
  for (i = 0 ; i < n ; i++)
  {
    char const *name = names.s + genalloc_s(size_t, &offsets)[i] ;
    size_t k ;
    for (k = 0 ; k < NOURS ; k++) if (!strcmp(name, ours[k].name)) break ;
    if (k < NOURS && ours[k].kind == K_INT) do_int(name, ours[k].def, ours[k].pre, ours[k].post) ;
    else if (k < NOURS) do_lst(name, ours[k].def, ours[k].pre, ours[k].post, ours[k].maskpass) ;
    else
    {
      outs("\n") ;
      outs(name) ;
      outs(": I have no idea what this file does.\n") ;
    }
  }
  genalloc_free(size_t, &offsets) ;
  stralloc_free(&names) ;
}

int main (int argc, char const *const *argv)
{
  qmail_ids ids ;
  char const *what ;
  DIR *dir ;
  int rcpt = 0 ;
  size_t i ;
  PROG = "qmail-showctl" ;
  (void)argc ; (void)argv ;

  outs("qmail home directory: ") ; outs(qmail_home()) ; outs(".\n") ;
  outs("user-ext delimiter: ") ; outs(CONF_BREAK) ; outs(".\n") ;
  outs("paternalism (in decimal): ") ; outulong(CONF_PATRN) ; outs(".\n") ;
  outs("silent concurrency limit: ") ; outulong(CONF_SPAWN) ; outs(".\n") ;
  outs("subdirectory split: ") ; outulong(QUEUE_SPLIT) ; outs(".\n") ;

   /* The ids are looked up at run time, with the home as cwd (a sandbox
      home maps them all to its user), so qmail's chdir comes first here. */
  if (!qmail_chdir_home()) oops("Unable to chdir to ", qmail_home()) ;
  if (!qmail_ids_get(&ids, &what))
  {
    flush() ;
    strerr_diefu2sys(111, "find the qmail user or group ", what) ;
  }
  outs("user ids: ") ;
  outulong(ids.alias) ; outs(", ") ;
  outulong(ids.qmaild) ; outs(", ") ;
  outulong(ids.qmaill) ; outs(", ") ;
  outulong(ids.root) ; outs(", ") ;
  outulong(ids.qmailp) ; outs(", ") ;
  outulong(ids.qmailq) ; outs(", ") ;
  outulong(ids.qmailr) ; outs(", ") ;
  outulong(ids.qmails) ; outs(".\n") ;
  outs("group ids: ") ;
  outulong(ids.nofiles) ; outs(", ") ;
  outulong(ids.qmail) ; outs(".\n") ;

  if (chdir("control") < 0) oops("Unable to chdir to control", "") ;
  dir = opendir(".") ;
  if (!dir) oops("Unable to open current directory", "") ;
  meok = control_readline(&me, "me") ;
  if (meok < 0) oops("Trouble reading control/me", "") ;

  for (i = 0 ; i < NCTLS ; i++)
  {
    struct ctl_s const *c = ctls + i ;
    switch (c->kind)
    {
      case K_INT : do_int(c->name, c->def, c->pre, c->post) ; break ;
      case K_STR : do_str(c->name, c->flagme, c->def, c->pre) ; break ;
      case K_LST :
      {
        int r = do_lst(c->name, c->def, c->pre, c->post, c->maskpass) ;
        if (!strcmp(c->name, "rcpthosts")) rcpt = r ;
        break ;
      }
      case K_MRH :
         /* qmail-smtpd reads morercpthosts.cdb only when rcpthosts exists */
        if (rcpt) do_lst(c->name, "No effect.", "SMTP clients may send messages to recipients at ", ".", 0) ;
        else do_lst(c->name, "No rcpthosts; morercpthosts is irrelevant.", "No rcpthosts; doesn't matter that morercpthosts has ", ".", 0) ;
        break ;
      case K_MRHCDB : do_mrhcdb() ; break ;
    }
  }
  do_unknown(dir) ;
  closedir(dir) ;
  flush() ;
  return 0 ;
}
