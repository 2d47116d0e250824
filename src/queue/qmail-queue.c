/* ISC license. */
/*
   qmail-queue: put one message into the queue.

   Who runs it: every program that queues mail (qmail-inject, qmail-smtpd,
   qmail-local for forwards, qmail-send for bounces), through qq_open().
   Installed setuid qmailq (04711): the only set-id program of the system.
   In a sandbox it is not set-id; started by root it becomes the sandbox user.

   Reads the message on fd 0 and the envelope on fd 1 (F{sender}\0, then
   T{recipient}\0 per recipient, then \0).  Writes, in this order:
     pid/{pid}.{time}.{seq}   created O_EXCL; its inode number is the message id
     mess/{id%23}/{id}        a link to the pid file, which is then unlinked;
                              Received line + message, fsynced, and the mess/N/
                              directory fsynced
     intd/{id}                u{uid}\0p{pid}\0F{sender}\0T{rcpt}\0..., fsynced
     todo/{id}                a link to intd/{id}: from here on the message is
                              queued; todo/ is fsynced before we exit 0
   then pulls lock/trigger.  qmail trusts BSD's synchronous links; Linux needs
   the directory fsyncs, or a crash could lose an acknowledged message.

   Exits (qmail's): 0 queued; 11 address too long; 52 timeout (24 h);
   53 write error or disk full; 54 read error; 55 unable to read the sandbox file;
   61 home; 62 queue dir; 63 pid file; 64 mess; 65 intd; 66 todo;
   81 internal bug; 91 envelope format.  Prints nothing.
   On any failure before the todo link, the files it made are removed
   (qmail leaves mess and intd behind on a bad envelope; we do not).
*/

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <signal.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include <skalibs/allreadwrite.h>
#include <skalibs/buffer.h>
#include <skalibs/djbunix.h>
#include <skalibs/types.h>

#include <qmail-s6/date822.h>
#include <qmail-s6/envelope.h>
#include <qmail-s6/home.h>
#include <qmail-s6/ids.h>
#include <qmail-s6/queue.h>

static char pidfn[64] ;
static char messfn[QUEUE_PATH_MAX] ;
static char intdfn[QUEUE_PATH_MAX] ;
static char todofn[QUEUE_PATH_MAX] ;
static int messfd = -1 ;
static int intdfd = -1 ;
static int flagpid = 0, flagmess = 0, flagintd = 0 ;

 /* Before the todo link nothing is queued: remove what we made, so that a
    failure leaves no residue.  Emptying first frees the space at once even
    if the unlink fails.  intd goes before mess: an intd file is only ever
    found next to its mess file, which is what qmail-clean expects. */
static void cleanup (void)
{
  if (flagintd) { if (intdfd >= 0) ftruncate(intdfd, 0) ; unlink(intdfn) ; }
  if (flagmess) { if (messfd >= 0) ftruncate(messfd, 0) ; unlink(messfn) ; }
  if (flagpid) unlink(pidfn) ;
}

static void die (int e) __attribute__((noreturn)) ;
static void die (int e)
{
  cleanup() ;
  _exit(e) ;
}

static void die_write (void) __attribute__((noreturn)) ;
static void die_write (void) { die(53) ; }

static void die_read (void) __attribute__((noreturn)) ;
static void die_read (void) { die(54) ; }

 /* The 24 h limit: qmail's DEATH.  No cleanup here: a signal handler must
    stay simple, and qmail-clean removes the leftovers after 36 h. */
static void sigalrm (int sig)
{
  (void)sig ;
  _exit(52) ;
}

static int fsync_dir (char const *dir)
{
  int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC) ;
  int r ;
  if (fd < 0) return 0 ;
  r = fsync(fd) ;
  fd_close(fd) ;
  return r == 0 ;
}

 /* "mess/20/457" -> "mess/20" */
static void parent_of (char *dst, char const *path)
{
  size_t n = strlen(path) ;
  while (n && path[n-1] != '/') n-- ;
  if (n) n-- ;
  memcpy(dst, path, n) ;
  dst[n] = 0 ;
}

typedef enum invoker_e { INVOKER_UID, INVOKER_ALIAS, INVOKER_NETWORK, INVOKER_BOUNCE } invoker ;

 /* Who is queueing, for the Received line: one look-up of the caller's
    uid (not of every qmail user: this runs once per message). */
static invoker invoked_by (uid_t uid, int sandbox)
{
  struct passwd *pw ;
  if (sandbox) return INVOKER_UID ;
  pw = getpwuid(uid) ;
  if (!pw) return INVOKER_UID ;
  if (!strcmp(pw->pw_name, "alias")) return INVOKER_ALIAS ;
  if (!strcmp(pw->pw_name, "qmaild")) return INVOKER_NETWORK ;
  if (!strcmp(pw->pw_name, "qmails")) return INVOKER_BOUNCE ;
  return INVOKER_UID ;
}

static size_t received_line (char *s, invoker who, uid_t uid, pid_t pid, time_t t)
{
  size_t n = 0 ;
  memcpy(s, "Received: (qmail ", 17) ; n = 17 ;
  n += pid_fmt(s + n, pid) ;
  switch (who)
  {
    case INVOKER_ALIAS : memcpy(s + n, " invoked by alias", 17) ; n += 17 ; break ;
    case INVOKER_NETWORK : memcpy(s + n, " invoked from network", 21) ; n += 21 ; break ;
    case INVOKER_BOUNCE : memcpy(s + n, " invoked for bounce", 19) ; n += 19 ; break ;
    default :
      memcpy(s + n, " invoked by uid ", 16) ; n += 16 ;
      n += uid_fmt(s + n, uid) ;
  }
  s[n++] = ')' ; s[n++] = ';' ; s[n++] = ' ' ;
  n += date822_fmt(s + n, t) ;
  s[n++] = '\n' ;
  return n ;
}

 /* Copies one envelope address into the intd buffer.  The letter is already
    written; this reads up to and including the NUL. */
static void copy_address (buffer *in, buffer *out)
{
  char addr[ENVELOPE_ADDR_MAX] ;
  size_t len ;
  switch (text0_get(in, addr, sizeof(addr), &len))
  {
    case 1 : break ;
    case 0 : die_read() ;
    case -2 : die(11) ;
    default : die_read() ;
  }
  if (!buffer_put(out, addr, len + 1)) die_write() ;
}

int main (void)
{
  qmail_ids ids ;
  invoker who ;
  int sandbox ;
  uid_t uid = getuid() ;
  pid_t pid = getpid() ;
  time_t starttime = time(0) ;
  unsigned long id ;
  struct stat st ;
  char dirbuf[QUEUE_PATH_MAX] ;

  umask(033) ;
  signal(SIGPIPE, SIG_IGN) ;
  if (!qmail_chdir_home()) _exit(61) ;
  sandbox = qmail_ids_sandbox(&ids) ;
  if (sandbox < 0) _exit(55) ;
  if (sandbox && geteuid() == 0 && !qmail_become(ids.sandboxuid, ids.sandboxgid)) _exit(55) ;
  who = invoked_by(uid, sandbox) ;
  if (chdir("queue") < 0) _exit(62) ;

  signal(SIGALRM, &sigalrm) ;
  alarm(86400) ;

  {
    unsigned int seq ;
    for (seq = 1 ; seq <= 9 ; seq++)
    {
      size_t n = 4 ;
      memcpy(pidfn, "pid/", 4) ;
      n += pid_fmt(pidfn + n, pid) ; pidfn[n++] = '.' ;
      n += ulong_fmt(pidfn + n, (unsigned long)starttime) ; pidfn[n++] = '.' ;
      n += uint_fmt(pidfn + n, seq) ; pidfn[n] = 0 ;
      messfd = open(pidfn, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644) ;
      if (messfd >= 0) break ;
      if (errno != EEXIST) _exit(63) ;
    }
    if (messfd < 0) _exit(63) ;
    flagpid = 1 ;
  }
  if (fstat(messfd, &st) < 0) die(63) ;
  id = st.st_ino ;
  queue_path(messfn, "mess", id) ;
  queue_path(intdfn, "intd", id) ;
  queue_path(todofn, "todo", id) ;
  if (link(pidfn, messfn) < 0) die(64) ;
  flagmess = 1 ;
  if (unlink(pidfn) < 0) die(63) ;
  flagpid = 0 ;

  {
    char buf[65536] ;
    size_t n = received_line(buf, who, uid, pid, starttime) ;
    if (allwrite(messfd, buf, n) < n) die_write() ;
    for (;;)
    {
      ssize_t r = fd_read(0, buf, sizeof(buf)) ;
      if (r < 0) die_read() ;
      if (!r) break ;
      if (allwrite(messfd, buf, r) < (size_t)r) die_write() ;
    }
  }
  if (fsync(messfd) < 0) die_write() ;
  parent_of(dirbuf, messfn) ;
  if (!fsync_dir(dirbuf)) die_write() ;

  intdfd = open(intdfn, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644) ;
  if (intdfd < 0) die(65) ;
  flagintd = 1 ;

  {
    char inbuf[4096] ;
    char outbuf[8192] ;
    buffer in = BUFFER_INIT(&buffer_read, 1, inbuf, sizeof(inbuf)) ;
    buffer out = BUFFER_INIT(&buffer_write, intdfd, outbuf, sizeof(outbuf)) ;
    char fmt[UID_FMT + PID_FMT + 4] ;
    size_t n = 0 ;
    char c ;
    ssize_t r ;

    fmt[n++] = 'u' ; n += uid_fmt(fmt + n, uid) ; fmt[n++] = 0 ;
    fmt[n++] = 'p' ; n += pid_fmt(fmt + n, pid) ; fmt[n++] = 0 ;
    if (buffer_put(&out, fmt, n) < (ssize_t)n) die_write() ;

    r = buffer_get(&in, &c, 1) ;
    if (r < 0) die_read() ;
    if (!r) die_read() ;
    if (c != 'F') die(91) ;
    if (buffer_put(&out, &c, 1) < 1) die_write() ;
    copy_address(&in, &out) ;
    for (;;)
    {
      r = buffer_get(&in, &c, 1) ;
      if (r < 0 || !r) die_read() ;
      if (!c) break ;
      if (c != 'T') die(91) ;
      if (buffer_put(&out, &c, 1) < 1) die_write() ;
      copy_address(&in, &out) ;
    }
    if (!buffer_flush(&out)) die_write() ;
  }
  if (fsync(intdfd) < 0) die_write() ;
  if (link(intdfn, todofn) < 0) die(66) ;
  flagintd = flagmess = 0 ;   /* queued: nothing of ours may be removed now */
  if (!fsync_dir("todo")) _exit(53) ;

  {
    int fd = open("lock/trigger", O_WRONLY | O_NONBLOCK | O_CLOEXEC) ;
    if (fd >= 0) { fd_write(fd, "", 1) ; fd_close(fd) ; }
  }
  _exit(0) ;
}
