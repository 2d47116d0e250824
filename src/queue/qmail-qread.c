/* ISC license. */
/*
   qmail-qread: list the messages in the queue, with qmail-qread's output.

   Who runs it: the administrator, directly or as `sendmail -bp` (mailq).
   It needs to read queue/info, queue/local and queue/remote (owner qmails,
   mode 0700): in practice root.  It has no privileges of its own and
   changes nothing.  Arguments are ignored, as qmail ignores them.

   Reads, relative to the home's queue/: info/0 .. info/22, each in
   directory order (qmail's order); for every numeric name there:
     mess/{id%23}/{id}    its size is the message size
     bounce/{id}          whether it exists (" bouncing")
     info/{id%23}/{id}    the sender (the first record, its letter skipped);
                          the file's mtime is when the message was queued
     local/.., remote/..  the recipients: T records, and D records (done)
   and writes, on stdout, per message
     {day} {Mon} {year} {HH:MM:SS} GMT  #{id}  {bytes}  <{sender}> [ bouncing]
   then per recipient "\tlocal\t{addr}" or "\tremote\t{addr}", preceded by
   "  done" once delivered (or permanently failed).  Dates are UTC, the day is
   not padded.  Bytes outside 32..126 in the message line and in addresses
   are shown as '_'.  A record without its NUL at the end of a file is not
   shown, as in qmail.

   Errors, like qmail's, go to stdout with qmail's words for errno:
     warning: trouble with #{id}: {error}   (that message or channel is
                                             skipped; the listing goes on)
     fatal: unable to chdir: {error}
     fatal: unable to opendir info/{n}: {error}
   Exits 0 when the listing is complete (warnings included), 111 after a
   fatal error or when stdout cannot be written.
*/

#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include <skalibs/allreadwrite.h>
#include <skalibs/buffer.h>
#include <skalibs/djbunix.h>
#include <skalibs/strerr.h>
#include <skalibs/types.h>

#include <qmail-s6/date822.h>
#include <qmail-s6/envelope.h>
#include <qmail-s6/errstr.h>
#include <qmail-s6/home.h>
#include <qmail-s6/queue.h>
#include <qmail-s6/queuescan.h>

 /* The first record of info/ is read into this; a longer one is shown cut.
    qmail-queue refuses addresses of ENVELOPE_ADDR_MAX bytes, so a real one
    always fits. */
#define INFO_MAX 8192

 /* A recipient record longer than this is shown in pieces: memory stays
    bounded whatever the file holds. */
#define RECORD_MAX 65536

static char recbuf[RECORD_MAX] ;

static void out (char const *s, size_t n)
{
  if (buffer_put(buffer_1, s, n) < 0) strerr_diefu1sys(111, "write to stdout") ;
}

static void outs (char const *s)
{
  out(s, strlen(s)) ;
}

 /* qmail-qread's out(): bytes outside 32..126 become '_'. */
static void outsafe (char const *s, size_t n)
{
  while (n)
  {
    size_t i = 0 ;
    while (i < n && (unsigned char)s[i] >= 32 && (unsigned char)s[i] <= 126) i++ ;
    if (i) out(s, i) ;
    if (i == n) break ;
    out("_", 1) ;
    s += i + 1 ;
    n -= i + 1 ;
  }
}

static void die (void) __attribute__((noreturn)) ;
static void die (void)
{
  if (!buffer_flush(buffer_1)) strerr_diefu1sys(111, "write to stdout") ;
  _exit(111) ;
}

 /* "fatal: {what}{fn}: {error}" on stdout, as qmail does. */
static void fatal (char const *what, char const *fn) __attribute__((noreturn)) ;
static void fatal (char const *what, char const *fn)
{
  char const *e = qmail_error_str(errno) ;
  outs("fatal: ") ; outs(what) ; outs(fn) ; outs(": ") ; outs(e) ; outs("\n") ;
  die() ;
}

 /* "warning: trouble with #{id}: {error}", errno kept from the failed call */
static void trouble (unsigned long id)
{
  char const *e = qmail_error_str(errno) ;
  char fmt[ULONG_FMT] ;
  outs("warning: trouble with #") ;
  out(fmt, ulong_fmt(fmt, id)) ;
  outs(": ") ; outs(e) ; outs("\n") ;
}

 /* The message line, written through outsafe() like qmail's putstats(). */
static void putstats (time_t qtime, unsigned long id, uint64_t size, char const *sender, size_t senderlen, int flagbounce)
{
  char fmt[DATE822_FMT + ULONG_FMT + UINT64_FMT + 16] ;
  size_t n = date822_fmt(fmt, qtime) ;
  n -= 6 ;  /* qmail cuts date822fmt's " -0000" and says " GMT" instead */
  memcpy(fmt + n, " GMT  #", 7) ; n += 7 ;
  n += ulong_fmt(fmt + n, id) ;
  memcpy(fmt + n, "  ", 2) ; n += 2 ;
  n += uint64_fmt(fmt + n, size) ;
  memcpy(fmt + n, "  <", 3) ; n += 3 ;
  outsafe(fmt, n) ;
  outsafe(sender, senderlen) ;
  outs(flagbounce ? ">  bouncing\n" : "> \n") ;
}

 /* The recipients of one channel file.  A missing file is normal (the
    message has no recipient on that channel, or all are done). */
static void putrecipients (unsigned long id, char const *fn, char const *label)
{
  char inbuf[4096] ;
  buffer b ;
  int state = 0 ;  /* 0 at a record's start; 1 showing it; 2 skipping it */
  int fd = open_read(fn) ;
  if (fd < 0)
  {
    if (errno != ENOENT) trouble(id) ;
    return ;
  }
  buffer_init(&b, &buffer_read, fd, inbuf, sizeof(inbuf)) ;
  for (;;)
  {
    char const *s = recbuf ;
    size_t n = 0 ;
    int r = text0_get(&b, recbuf, sizeof(recbuf), &n) ;
    if (r == -1) { trouble(id) ; if (state == 1) outs("\n") ; break ; }
    if (!r) { if (state == 1) outs("\n") ; break ; }
    if (r == -2) n = sizeof(recbuf) ;  /* a piece of a longer record */
    if (!state)
    {
      if (n && (s[0] == 'D' || s[0] == 'T'))
      {
        if (s[0] == 'D') outs("  done") ;
        outs(label) ;
        s++ ; n-- ;
        state = 1 ;
      }
      else state = 2 ;
    }
    if (state == 1) outsafe(s, n) ;
    if (r == 1)
    {
      if (state == 1) outs("\n") ;
      state = 0 ;
    }
  }
  fd_close(fd) ;
}

static void doit (unsigned long id)
{
  char fnmess[QUEUE_PATH_MAX] ;
  char fninfo[QUEUE_PATH_MAX] ;
  char fnlocal[QUEUE_PATH_MAX] ;
  char fnremote[QUEUE_PATH_MAX] ;
  char fnbounce[QUEUE_PATH_MAX] ;
  char info[INFO_MAX] ;
  char const *rec = info ;
  size_t reclen = 0, pos = 0 ;
  struct stat st ;
  uint64_t size ;
  int flagbounce ;
  ssize_t r ;
  int fd ;

  queue_path(fnmess, "mess", id) ;
  queue_path(fninfo, "info", id) ;
  queue_path(fnlocal, "local", id) ;
  queue_path(fnremote, "remote", id) ;
  queue_path(fnbounce, "bounce", id) ;

  if (stat(fnmess, &st) < 0) { trouble(id) ; return ; }
  size = st.st_size ;
  flagbounce = !stat(fnbounce, &st) ;

  fd = open_read(fninfo) ;
  if (fd < 0) { trouble(id) ; return ; }
  if (fstat(fd, &st) < 0) { trouble(id) ; fd_close(fd) ; return ; }
  r = allread(fd, info, sizeof(info)) ;
  if (r < 0) { trouble(id) ; fd_close(fd) ; return ; }
  fd_close(fd) ;

   /* The sender is the first record without its letter.  An info file
      without a NUL (damaged) still shows what it holds. */
  if (text0_next(info, r, &pos, &rec, &reclen) < 0) { rec = info ; reclen = r ; }
  if (reclen) { rec++ ; reclen-- ; }
  putstats(st.st_mtime, id, size, rec, reclen, flagbounce) ;

  putrecipients(id, fnlocal, "\tlocal\t") ;
  putrecipients(id, fnremote, "\tremote\t") ;
}

int main (int argc, char const *const *argv)
{
  queuescan qs ;
  PROG = "qmail-qread" ;
  (void)argc ; (void)argv ;

  if (!qmail_chdir_home() || chdir("queue") < 0) fatal("unable to chdir", "") ;

  queuescan_init(&qs, "info", 1) ;
  for (;;)
  {
    char const *name ;
    unsigned long id ;
    int r = queuescan_next(&qs, &name) ;
    if (!r) break ;
    if (r < 0) fatal("unable to opendir ", qs.path) ;
    if (!queue_id_scan(name, &id)) continue ;
    doit(id) ;
  }
  if (!buffer_flush(buffer_1)) strerr_diefu1sys(111, "write to stdout") ;
  return 0 ;
}
