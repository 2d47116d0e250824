/* ISC license. */
/*
   The whole of qmail-local, as a library function (localdeliver.h): the
   qmail-local program calls it, and so does qmail-lspawn's delivery child
   once it has become the user, which saves an exec and a dynamic-linker
   start-up per delivery.

   qmail-local [ -nN ] -- user homedir local dash ext domain sender defaultdelivery:
   deliver one message to one local recipient, local@domain, by the
   instructions of the user's .qmail file (dot-qmail(5)).

   Who runs it: qmail-lspawn, once per local delivery, in a child process
   already running as the user (uid and gid of the users/cdb or qmail-getpw
   entry), or bin/qmail-local exec'd by it ($QMAILLOCAL); qmail-lspawn, not
   qmail-local, refuses to deliver as root (its exit 113), as in qmail.
   Users run it too, with -n, to see what their .qmail file would do.

   fd 0 is the message (queue/mess/N: a seekable file, read once per
   delivery instruction, never held in memory).  fd 1 is the report
   (qmail-lspawn passes it on to qmail-send): "did F+W+P\n" (+ "qp N\n"
   after a forward) on success; every error is one line on fd 2, which
   qmail-lspawn makes the same pipe as fd 1.  Programs of |lines write their
   own output there too.

   What it reads and writes, all relative to the home, where it chdirs:
   .qmail{dash}{ext} or the -default files (the first that is a regular
   file), .qmail{dash}{ext}-owner and -owner-default (only whether they
   exist); the mbox files and maildirs that the .qmail lines name; it runs
   the programs of |lines with /bin/sh -c; forwards go to qmail-queue
   ($QMAILQUEUE, else $QMAILHOME/bin/qmail-queue) in one call at the end.

   Exits: 0 every instruction done; 100 permanent failure (no such
   mailbox, loop, a program's hard error, a permanent qmail-queue error);
   111 temporary failure (the texts of qmail-local 1.03, each with its
   enhanced status code).

   Where we differ from qmail, and why (see qmail-local(8)):
   - a maildir delivery fsyncs new/ after the link (and takes the message
     back if it cannot): on Linux the link is not durable without it;
   - a .qmail file is read up to DOTQMAIL_MAX bytes; a bigger one, or one
     that cannot be read, is "Unable to read ...", not "Out of memory";
   - DEFAULT is removed from the environment when no -default file matched,
     so that it always means what dot-qmail(5) says;
   - '/' and ':' in the host name are written \057 and \072 in maildir file
     names (the maildir specification).
*/

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <skalibs/allreadwrite.h>
#include <skalibs/buffer.h>
#include <skalibs/bytestr.h>
#include <skalibs/djbunix.h>
#include <skalibs/genalloc.h>
#include <skalibs/sgetopt.h>
#include <skalibs/stralloc.h>
#include <skalibs/strerr.h>
#include <skalibs/types.h>

#include <qmail-s6/address.h>
#include <qmail-s6/conf.h>
#include <qmail-s6/localdeliver.h>
#include <qmail-s6/errstr.h>
#include <qmail-s6/errtemp.h>
#include <qmail-s6/maildir.h>
#include <qmail-s6/mbox.h>
#include <qmail-s6/qqfwd.h>

#define USAGE "qmail-local: usage: qmail-local [ -nN ] user homedir local dash ext domain sender aliasempty"

 /* The biggest .qmail file we read.  qmail reads any size into memory; a
    mailing list of a hundred thousand addresses is far below this. */
#define DOTQMAIL_MAX (16UL << 20)

extern char **environ ;

static int flagdoit = 1 ;
static int flag99 = 0 ;

static char const *user ;
static char const *homedir ;
static char const *local ;
static char const *dash ;
static char const *ext ;
static char const *host ;
static char const *sender ;
static char const *aliasempty ;

static stralloc safeext = STRALLOC_ZERO ;
static stralloc dtline = STRALLOC_ZERO ;   /* NUL-terminated, like the others */
static stralloc rpline = STRALLOC_ZERO ;
static stralloc ufline = STRALLOC_ZERO ;
static stralloc rpdtline = STRALLOC_ZERO ; /* RPLINE + DTLINE, for maildirs */
static stralloc newsender = STRALLOC_ZERO ;
static stralloc qme = STRALLOC_ZERO ;      /* the .qmail file name being tried */
static stralloc dotqmail = STRALLOC_ZERO ; /* the one found, NUL-terminated */
static stralloc foo = STRALLOC_ZERO ;      /* scratch */
static stralloc cmds = STRALLOC_ZERO ;

static unsigned long count_file = 0 ;
static unsigned long count_forward = 0 ;
static unsigned long count_program = 0 ;
static pid_t mailforward_qp = 0 ;


 /* Errors: qmail's texts, one line on fd 2, no program name (the line is
    the delivery report). */

static void temp_nomem (void) __attribute__((noreturn)) ;
static void temp_nomem (void)
{
  strerr_die(111, "Out of memory. (#4.3.0)") ;
}

static void temp_rewind (void) __attribute__((noreturn)) ;
static void temp_rewind (void)
{
  strerr_die(111, "Unable to rewind message. (#4.3.0)") ;
}

static void temp_childcrashed (void) __attribute__((noreturn)) ;
static void temp_childcrashed (void)
{
  strerr_die(111, "Aack, child crashed. (#4.3.0)") ;
}

static void temp_fork (void) __attribute__((noreturn)) ;
static void temp_fork (void)
{
  strerr_die(111, "Unable to fork: ", qmail_error_str(errno), ". (#4.3.0)") ;
}

static void temp_read (void) __attribute__((noreturn)) ;
static void temp_read (void)
{
  strerr_die(111, "Unable to read message: ", qmail_error_str(errno), ". (#4.3.0)") ;
}

static void temp_qmail (char const *fn) __attribute__((noreturn)) ;
static void temp_qmail (char const *fn)
{
  strerr_die(111, "Unable to open ", fn, ": ", qmail_error_str(errno), ". (#4.3.0)") ;
}

static void xsetenv (char const *name, char const *value)
{
  if (setenv(name, value, 1) < 0) temp_nomem() ;
}

static void xrewind (void)
{
  if (lseek(0, 0, SEEK_SET) < 0) temp_rewind() ;
}


 /* Output: the -n descriptions and the final count, on fd 1. */

static void sayit (char const *type, char const *s, size_t len)
{
  buffer_puts(buffer_1, type) ;
  buffer_put(buffer_1, s, len) ;
  buffer_putsflush(buffer_1, "\n") ;
}

static void count_print (void)
{
  char fmt[ULONG_FMT] ;
  buffer_puts(buffer_1, "did ") ;
  buffer_put(buffer_1, fmt, ulong_fmt(fmt, count_file)) ;
  buffer_puts(buffer_1, "+") ;
  buffer_put(buffer_1, fmt, ulong_fmt(fmt, count_forward)) ;
  buffer_puts(buffer_1, "+") ;
  buffer_put(buffer_1, fmt, ulong_fmt(fmt, count_program)) ;
  buffer_puts(buffer_1, "\n") ;
  if (mailforward_qp)
  {
    buffer_puts(buffer_1, "qp ") ;
    buffer_put(buffer_1, fmt, pid_fmt(fmt, mailforward_qp)) ;
    buffer_puts(buffer_1, "\n") ;
  }
  buffer_flush(buffer_1) ;
}


 /* The home directory: ours (we run as the user), not writable by others
    (conf-patrn), and not sticky (the user's sign that .qmail is being
    edited: deliveries wait). */

static void checkhome (void)
{
  struct stat st ;
  if (stat(".", &st) < 0)
    strerr_die(111, "Unable to stat home directory: ", qmail_error_str(errno), ". (#4.3.0)") ;
  if (st.st_mode & QMAIL_CONF_PATRN)
    strerr_die(111, "Uh-oh: home directory is writable. (#4.7.0)") ;
  if (st.st_mode & S_ISVTX)
  {
    if (flagdoit)
      strerr_die(111, "Home directory is sticky: user is editing his .qmail file. (#4.2.1)") ;
    strerr_warn("Warning: home directory is sticky.") ;
  }
}


 /* The loop check: a header line byte for byte equal to our Delivered-To
    line.  The header is read as a stream, compared as it goes: nothing of
    it is kept, whatever the length of its lines. */

static void loopcheck (void)
{
  char buf[8192] ;
  size_t pos = 0 ;   /* bytes of the current line so far */
  int same = 1 ;     /* the current line is dtline so far */
  size_t dtlen = dtline.len - 1 ;
  xrewind() ;
  for (;;)
  {
    ssize_t r = fd_read(0, buf, sizeof(buf)) ;
    ssize_t i ;
    if (r < 0) temp_read() ;
    if (!r) return ;  /* a header with no end, or a last line with no \n */
    for (i = 0 ; i < r ; i++)
    {
      if (buf[i] == '\n')
      {
        if (!pos) return ;  /* the empty line: end of the header */
        if (same && pos + 1 == dtlen)
          strerr_die(100, "This message is looping: it already has my Delivered-To line. (#5.4.6)") ;
        pos = 0 ;
        same = 1 ;
        continue ;
      }
      if (same && (pos + 1 >= dtlen || dtline.s[pos] != buf[i])) same = 0 ;
      if (pos < dtlen) pos++ ;
    }
  }
}


 /* The .qmail file search (dot-qmail(5)). */

 /* Opens qme (without its NUL yet) if it is a regular file.  1 found,
    *fd open, *cutable = the owner-x bit; 0 not there (or not a regular
    file): try the next name.  Dies on temporary trouble. */
static int qmeexists (int *fd, int *cutable)
{
  struct stat st ;
  if (!stralloc_0(&qme)) temp_nomem() ;
  *fd = open(qme.s, O_RDONLY | O_NONBLOCK | O_CLOEXEC) ;
  if (*fd < 0)
  {
    if (qmail_error_temp(errno) || errno == EPERM || errno == EACCES) temp_qmail(qme.s) ;
    return 0 ;
  }
  if (fstat(*fd, &st) < 0) temp_qmail(qme.s) ;
  if (S_ISREG(st.st_mode))
  {
    if (st.st_mode & QMAIL_CONF_PATRN)
      strerr_die(111, "Uh-oh: .qmail file is writable. (#4.7.0)") ;
    *cutable = !!(st.st_mode & 0100) ;
    return 1 ;
  }
  close(*fd) ;
  *fd = -1 ;
  return 0 ;
}

static void qme_start (void)
{
  if (!stralloc_copys(&qme, ".qmail") || !stralloc_cats(&qme, dash)) temp_nomem() ;
}

 /* .qmail{dash}{safeext}, then for every cut of safeext at its end, at a
    '-' or at its start, .qmail{dash}{safeext up to the cut}default:
    ext a-b-c tries -a-b-c, -a-b-default, -a-default, -default.  DEFAULT is
    the part of ext that "default" stands for. */
static int qmesearch (int *cutable)
{
  size_t extlen = strlen(ext) ;
  size_t i ;
  int fd ;
  qme_start() ;
  if (!stralloc_catb(&qme, safeext.s, safeext.len)) temp_nomem() ;
  if (qmeexists(&fd, cutable))
  {
    if (safeext.len >= 7 && !memcmp(safeext.s + safeext.len - 7, "default", 7))
      xsetenv("DEFAULT", ext + (safeext.len - 7)) ;
    else unsetenv("DEFAULT") ;
    return fd ;
  }
  for (i = safeext.len + 1 ; i-- ;)
  {
    if (i && safeext.s[i-1] != '-') continue ;
    qme_start() ;
    if (!stralloc_catb(&qme, safeext.s, i) || !stralloc_cats(&qme, "default")) temp_nomem() ;
    if (qmeexists(&fd, cutable))
    {
      if (i <= extlen) xsetenv("DEFAULT", ext + i) ;
      return fd ;
    }
  }
  unsetenv("DEFAULT") ;
  return -1 ;
}

 /* Does .qmail{dash}{safeext}{suffix} exist?  (for the -owner rules) */
static int qmeox (char const *suffix)
{
  struct stat st ;
  qme_start() ;
  if (!stralloc_catb(&qme, safeext.s, safeext.len) || !stralloc_cats(&qme, suffix) || !stralloc_0(&qme))
    temp_nomem() ;
  if (stat(qme.s, &st) < 0)
  {
    if (qmail_error_temp(errno)) temp_qmail(qme.s) ;
    return 0 ;
  }
  return 1 ;
}

 /* The whole .qmail file into cmds, at most DOTQMAIL_MAX bytes. */
static void slurp_qmail (int fd)
{
  cmds.len = 0 ;
  for (;;)
  {
    ssize_t r ;
    if (cmds.len >= DOTQMAIL_MAX) { errno = EFBIG ; goto err ; }
    if (!stralloc_readyplus(&cmds, 8192)) temp_nomem() ;
    r = fd_read(fd, cmds.s + cmds.len, 8192) ;
    if (r < 0) goto err ;
    if (!r) break ;
    cmds.len += r ;
  }
  close(fd) ;
  return ;
 err:
  strerr_die(111, "Unable to read ", dotqmail.s, ": ", qmail_error_str(errno), ". (#4.3.0)") ;
}


 /* The deliveries. */

static maildir_delivery md = MAILDIR_DELIVERY_ZERO ;

 /* The exit code of the maildir child for a timeout (qmail's). */
#define MAILDIR_ETIMEOUT 3

static void sigalrm_maildir (int sig)
{
  (void)sig ;
  maildir_abort(&md) ;
  _exit(MAILDIR_ETIMEOUT) ;
}

 /* The first maildir delivery of a qmail-local runs in qmail-local itself:
    its pid makes the file name unique, as qmail's child's does, and saves
    a fork per delivery.  Any later one runs in a child process, as in
    qmail, so that two deliveries to one maildir within one second still
    get different names.  Either way with qmail's 24-hour alarm. */
static int maildir_done_here = 0 ;

static void sigalrm_maildir_here (int sig)
{
  static char const msg[] = "Timeout on maildir delivery. (#4.3.0)\n" ;
  (void)sig ;
  maildir_abort(&md) ;
  if (write(2, msg, sizeof(msg) - 1) < 0) _exit(111) ;
  _exit(111) ;
}

static void maildir_verdict (int r) ;

static void maildir (char const *dir)
{
  pid_t pid ;
  int wstat ;
  xrewind() ;
  if (!maildir_done_here)
  {
    int r ;
    maildir_done_here = 1 ;
    signal(SIGALRM, &sigalrm_maildir_here) ;
    alarm(86400) ;
    r = maildir_deliver(&md, dir, rpdtline.s, rpdtline.len, 0) ;
    alarm(0) ;
    signal(SIGALRM, SIG_DFL) ;
    maildir_verdict(r) ;
    return ;
  }
  pid = fork() ;
  if (pid < 0) temp_fork() ;
  if (!pid)
  {
    signal(SIGALRM, &sigalrm_maildir) ;
    alarm(86400) ;
    _exit(maildir_deliver(&md, dir, rpdtline.s, rpdtline.len, 0)) ;
  }
  if (waitpid_nointr(pid, &wstat, 0) != pid) temp_fork() ;
  if (WIFSIGNALED(wstat)) temp_childcrashed() ;
  maildir_verdict(WEXITSTATUS(wstat)) ;
}

static void maildir_verdict (int r)
{
  switch (r)
  {
    case MAILDIR_OK : return ;
    case MAILDIR_ECHDIR : strerr_die(111, "Unable to chdir to maildir. (#4.2.1)") ;
    case MAILDIR_ETIMEOUT : strerr_die(111, "Timeout on maildir delivery. (#4.3.0)") ;
    case MAILDIR_EREAD : strerr_die(111, "Unable to read message. (#4.3.0)") ;
    default : strerr_die(111, "Temporary error on maildir delivery. (#4.3.0)") ;
  }
}

static void sigalrm_lock (int sig)
{
  static char const msg[] = "File has been locked for 30 seconds straight. (#4.3.0)\n" ;
  (void)sig ;
  if (write(2, msg, sizeof(msg) - 1) < 0) _exit(111) ;
  _exit(111) ;
}

static void mailfile (char const *fn)
{
  char inbuf[8192] ;
  char outbuf[8192] ;
  buffer in, out ;
  mbox_quoter q = MBOX_QUOTER_ZERO ;
  int fd, flaglocked, r ;
  off_t pos ;

  xrewind() ;
  fd = open(fn, O_WRONLY | O_NONBLOCK | O_APPEND | O_CREAT | O_CLOEXEC, 0600) ;
  if (fd < 0)
    strerr_die(111, "Unable to open ", fn, ": ", qmail_error_str(errno), ". (#4.2.1)") ;

  signal(SIGALRM, &sigalrm_lock) ;
  alarm(30) ;
  flaglocked = flock(fd, LOCK_EX) == 0 ;
  alarm(0) ;
  signal(SIGALRM, SIG_DFL) ;

  pos = lseek(fd, 0, SEEK_END) ;
  if (pos < 0) goto writeerrs ;
  buffer_init(&in, &buffer_read, 0, inbuf, sizeof(inbuf)) ;
  buffer_init(&out, &buffer_write, fd, outbuf, sizeof(outbuf)) ;
  if (!buffer_putall(&out, ufline.s, ufline.len - 1, &(size_t){0})) goto writeerrs ;
  if (!buffer_putall(&out, rpline.s, rpline.len - 1, &(size_t){0})) goto writeerrs ;
  if (!buffer_putall(&out, dtline.s, dtline.len - 1, &(size_t){0})) goto writeerrs ;
  r = mbox_quote_copy(&q, &out, &in) ;
  if (r < 0)
  {
    strerr_warn("Unable to read message: ", qmail_error_str(errno), ". (#4.3.0)") ;
    if (flaglocked) ftruncate(fd, pos) ;
    close(fd) ;
    _exit(111) ;
  }
  if (!r) goto writeerrs ;
  if (!buffer_flush(&out)) goto writeerrs ;
  if (fsync(fd) < 0) goto writeerrs ;
  close(fd) ;
  return ;

 writeerrs:
  strerr_warn("Unable to write ", fn, ": ", qmail_error_str(errno), ". (#4.3.0)") ;
  if (flaglocked) ftruncate(fd, pos) ;
  close(fd) ;
  _exit(111) ;
}

static void mailprogram (char const *prog)
{
  posix_spawnattr_t attr ;
  sigset_t set ;
  char const *argv[4] = { "/bin/sh", "-c", prog, 0 } ;
  pid_t pid ;
  int wstat, e ;

  xrewind() ;
   /* SIGPIPE back to its default: we ignore it, the program should not */
  sigemptyset(&set) ;
  sigaddset(&set, SIGPIPE) ;
  e = posix_spawnattr_init(&attr) ;
  if (!e) e = posix_spawnattr_setsigdefault(&attr, &set) ;
  if (!e) e = posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF) ;
  if (!e) e = posix_spawn(&pid, argv[0], 0, &attr, (char *const *)argv, environ) ;
  posix_spawnattr_destroy(&attr) ;
  if (e)
  {
    errno = e ;
    if (e == EAGAIN) temp_fork() ;
    strerr_die(111, "Unable to run /bin/sh: ", qmail_error_str(e), ". (#4.3.0)") ;
  }
  if (waitpid_nointr(pid, &wstat, 0) != pid) temp_fork() ;
  if (WIFSIGNALED(wstat)) temp_childcrashed() ;
  switch (WEXITSTATUS(wstat))
  {
    case 100 :
    case 64 : case 65 : case 70 : case 76 : case 77 : case 78 : case 112 : _exit(100) ;
    case 0 : break ;
    case 99 : flag99 = 1 ; break ;
    default : _exit(111) ;
  }
}

static void mailforward (char const *const *recips, size_t n)
{
  char const *text ;
  int why ;
  xrewind() ;
  text = qqfwd(dtline.s, 0, newsender.s, recips, n, &mailforward_qp, &why) ;
  if (!text)
  {
    if (why == QQFWD_EFORK) temp_fork() ;
    text = "Zqq read error (#4.3.0)" ;
  }
  if (!*text) return ;
  strerr_die(*text == 'D' ? 100 : 111, "Unable to forward message: ", text + 1, ".") ;
}


 /* The envelope and the environment of the programs (qmail-command(8)). */

static void stralloc_nl_to_underscore (stralloc *sa, size_t from)
{
  size_t i ;
  for (i = from ; i < sa->len ; i++) if (sa->s[i] == '\n') sa->s[i] = '_' ;
}

static void setup_lines (void)
{
  xsetenv("HOST", host) ;
  xsetenv("HOME", homedir) ;
  xsetenv("USER", user) ;
  xsetenv("LOCAL", local) ;

  if (!stralloc_copys(&foo, local) || !stralloc_catb(&foo, "@", 1)
   || !stralloc_cats(&foo, host) || !stralloc_0(&foo)) temp_nomem() ;
  xsetenv("RECIPIENT", foo.s) ;

  if (!stralloc_copys(&dtline, "Delivered-To: ") || !stralloc_catb(&dtline, foo.s, foo.len - 1)) temp_nomem() ;
  stralloc_nl_to_underscore(&dtline, 0) ;
  if (!stralloc_catb(&dtline, "\n", 2)) temp_nomem() ;
  xsetenv("DTLINE", dtline.s) ;
}

static void setup_sender (void)
{
  size_t i, n ;
  char const *x ;

  xsetenv("SENDER", sender) ;

  if (!stralloc_copys(&rpline, "Return-Path: <")) temp_nomem() ;
  n = rpline.len ;
  if (!addr_quote_cat(&rpline, sender, strlen(sender))) temp_nomem() ;
  stralloc_nl_to_underscore(&rpline, n) ;
  if (!stralloc_catb(&rpline, ">\n", 3)) temp_nomem() ;
  xsetenv("RPLINE", rpline.s) ;

  if (*sender ? !mbox_fromline(&ufline, sender, strlen(sender), time(0))
              : !mbox_fromline(&ufline, "MAILER-DAEMON", 13, time(0))) temp_nomem() ;
  if (!stralloc_0(&ufline)) temp_nomem() ;
  xsetenv("UFLINE", ufline.s) ;

  if (!stralloc_copyb(&rpdtline, rpline.s, rpline.len - 1)
   || !stralloc_catb(&rpdtline, dtline.s, dtline.len - 1)) temp_nomem() ;

  x = ext ;
  xsetenv("EXT", x) ;
  x += str_chr(x, '-') ; if (*x) x++ ;
  xsetenv("EXT2", x) ;
  x += str_chr(x, '-') ; if (*x) x++ ;
  xsetenv("EXT3", x) ;
  x += str_chr(x, '-') ; if (*x) x++ ;
  xsetenv("EXT4", x) ;

  if (!stralloc_copys(&safeext, ext)) temp_nomem() ;
  for (i = 0 ; i < safeext.len ; i++)
  {
    char c = safeext.s[i] ;
    if (c >= 'A' && c <= 'Z') safeext.s[i] = c + ('a' - 'A') ;
    else if (c == '.') safeext.s[i] = ':' ;
  }

   /* HOST2, HOST3, HOST4: HOST without its last one, two, three parts */
  n = strlen(host) ;
  {
    static char const *const names[3] = { "HOST2", "HOST3", "HOST4" } ;
    unsigned int k ;
    for (k = 0 ; k < 3 ; k++)
    {
      n = byte_rchr(host, n, '.') ;
      if (!stralloc_copyb(&foo, host, n) || !stralloc_0(&foo)) temp_nomem() ;
      xsetenv(names[k], foo.s) ;
    }
  }
}

 /* NEWSENDER, the envelope sender of forwards: local-owner@host when
    .qmail{dash}{ext}-owner exists, local-owner-@host-@[] (VERP) when
    -owner-default exists too; the sender as it is for a bounce ("" or
    "#@[]") or when there is no -owner file. */
static void setup_newsender (void)
{
  if (!stralloc_copys(&newsender, sender)) temp_nomem() ;
  if (*sender && strcmp(sender, "#@[]") && qmeox("-owner"))
  {
    if (!stralloc_copys(&newsender, local)) temp_nomem() ;
    if (qmeox("-owner-default"))
    {
      if (!stralloc_cats(&newsender, "-owner-@") || !stralloc_cats(&newsender, host)
       || !stralloc_cats(&newsender, "-@[]")) temp_nomem() ;
    }
    else if (!stralloc_cats(&newsender, "-owner@") || !stralloc_cats(&newsender, host)) temp_nomem() ;
  }
  if (!stralloc_0(&newsender)) temp_nomem() ;
  xsetenv("NEWSENDER", newsender.s) ;
}


 /* The instructions, one per line, in order. */

static void run_cmds (int flagforwardonly)
{
  genalloc recips = GENALLOC_ZERO ;  /* char const *, into cmds */
  size_t i, j ;

  if (!cmds.len || cmds.s[cmds.len - 1] != '\n')
    if (!stralloc_catb(&cmds, "\n", 1)) temp_nomem() ;

  i = 0 ;
  for (j = 0 ; j < cmds.len ; j++)
  {
    size_t k ;
    char *line ;
    if (cmds.s[j] != '\n') continue ;
    cmds.s[j] = 0 ;
    k = j ;
    while (k > i && (cmds.s[k-1] == ' ' || cmds.s[k-1] == '\t')) cmds.s[--k] = 0 ;
    line = cmds.s + i ;
    switch (*line)
    {
      case 0 :
        if (i) break ;
        strerr_die(111, "Uh-oh: first line of .qmail file is blank. (#4.2.1)") ;
      case '#' :
        break ;
      case '.' :
      case '/' :
        count_file++ ;
        if (flagforwardonly)
          strerr_die(111, "Uh-oh: .qmail has file delivery but has x bit set. (#4.7.0)") ;
        if (cmds.s[k-1] == '/')
        {
          if (flagdoit) maildir(line) ;
          else sayit("maildir ", line, k - i) ;
        }
        else
        {
          if (flagdoit) mailfile(line) ;
          else sayit("mbox ", line, k - i) ;
        }
        break ;
      case '|' :
        count_program++ ;
        if (flagforwardonly)
          strerr_die(111, "Uh-oh: .qmail has prog delivery but has x bit set. (#4.7.0)") ;
        if (flagdoit) mailprogram(line + 1) ;
        else sayit("program ", line + 1, k - i - 1) ;
        break ;
      case '+' :
        if (!strcmp(line + 1, "list")) flagforwardonly = 1 ;
        break ;
      case '&' :
        line++ ; i++ ;
         /* fall through */
      default :
        count_forward++ ;
        if (flagdoit)
        {
          char const *p = line ;
          if (!genalloc_append(char const *, &recips, &p)) temp_nomem() ;
        }
        else sayit("forward ", line, k - i) ;
        break ;
    }
    i = j + 1 ;
    if (flag99) break ;
  }

  if (flagdoit && genalloc_len(char const *, &recips))
    mailforward(genalloc_s(char const *, &recips), genalloc_len(char const *, &recips)) ;
  genalloc_free(char const *, &recips) ;
}


int qmail_local_main (int argc, char const *const *argv)
{
  subgetopt l = SUBGETOPT_ZERO ;
  int flagforwardonly = 0 ;
  int fd ;

  PROG = "qmail-local" ;
  umask(077) ;
  signal(SIGPIPE, SIG_IGN) ;

  for (;;)
  {
    int opt = subgetopt_r(argc, argv, "nN", &l) ;
    if (opt == -1) break ;
    switch (opt)
    {
      case 'n' : flagdoit = 0 ; break ;
      case 'N' : flagdoit = 1 ; break ;
      default : strerr_die(100, USAGE) ;
    }
  }
  argc -= l.ind ; argv += l.ind ;
  if (argc != 8) strerr_die(100, USAGE) ;
  user = argv[0] ;
  homedir = argv[1] ;
  local = argv[2] ;
  dash = argv[3] ;
  ext = argv[4] ;
  host = argv[5] ;
  sender = argv[6] ;
  aliasempty = argv[7] ;

  if (homedir[0] != '/') strerr_die(100, USAGE) ;
  if (chdir(homedir) < 0)
    strerr_die(111, "Unable to switch to ", homedir, ": ", qmail_error_str(errno), ". (#4.3.0)") ;
  checkhome() ;

  setup_lines() ;
  if (flagdoit) loopcheck() ;
  setup_sender() ;

  fd = qmesearch(&flagforwardonly) ;
  if (fd < 0 && *dash)
    strerr_die(100, "Sorry, no mailbox here by that name. (#5.1.1)") ;
  if (fd >= 0 && !stralloc_copy(&dotqmail, &qme)) temp_nomem() ;

  setup_newsender() ;

  cmds.len = 0 ;
  if (fd >= 0) slurp_qmail(fd) ;
  if (!cmds.len)
  {
    if (!stralloc_copys(&cmds, aliasempty)) temp_nomem() ;
    flagforwardonly = 0 ;
  }
  run_cmds(flagforwardonly) ;

  count_print() ;
  return 0 ;
}
