/* ISC license. */
/*
   maildir2mbox: move the messages of the maildir $MAILDIR to the end of
   the mbox file $MAIL, through the temporary file $MAILTMP.

   Who runs it: users (or their login scripts) who keep mail in a maildir
   but read it with an mbox reader.  No privileges.

   chdirs to $MAILDIR ($MAIL and $MAILTMP relative to it then), removes the
   tmp/ files not accessed for 36 hours, lists new/ and cur/ (oldest first;
   messages of the current second wait for the next run), and when there is
   something to move: locks $MAIL (flock, created if missing), copies it to
   $MAILTMP, appends each message in qmail's mbox form (mbox.h: a From_ line
   made from its Return-Path line, or "From XXX", dated with the file's
   mtime; >From quoting; an empty line after each), fsyncs $MAILTMP, renames
   it to $MAIL, and only then unlinks the messages.  A message that cannot
   be unlinked is said to be delivered twice, and stays.
   Exits 0; 111 on any error (nothing is lost: the messages stay in the
   maildir until the new mbox is in place).  Messages are qmail's,
   "maildir2mbox: fatal: ...".

   Where we differ from qmail (see maildir2mbox(1)): a message whose only
   line has no newline is copied (qmail drops its text); messages of the
   same second are ordered by name; the first line of a message is looked
   at for a Return-Path up to FIRSTLINE_MAX bytes.
*/

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <skalibs/allreadwrite.h>
#include <skalibs/buffer.h>
#include <skalibs/djbunix.h>
#include <skalibs/genalloc.h>
#include <skalibs/stralloc.h>
#include <skalibs/strerr.h>

#include <qmail-s6/errstr.h>
#include <qmail-s6/maildir.h>
#include <qmail-s6/mbox.h>

 /* A Return-Path line longer than this is not looked at ("From XXX"). */
#define FIRSTLINE_MAX 65536

static char const *mbox ;
static char const *mboxtmp ;

static void die_nomem (void) __attribute__((noreturn)) ;
static void die_nomem (void)
{
  strerr_dief1x(111, "out of memory") ;
}

static void die_write (void) __attribute__((noreturn)) ;
static void die_write (void)
{
  strerr_dief4x(111, "unable to write to ", mboxtmp, ": ", qmail_error_str(errno)) ;
}

static void die_readmsg (char const *name) __attribute__((noreturn)) ;
static void die_readmsg (char const *name)
{
  strerr_dief4x(111, "unable to read $MAILDIR/", name, ": ", qmail_error_str(errno)) ;
}

 /* Appends one message file to out in mbox form. */
static void append_message (buffer *out, char const *name, time_t mtime)
{
  static char first[FIRSTLINE_MAX] ;
  char inbuf[16384] ;
  stralloc ufline = STRALLOC_ZERO ;
  mbox_quoter q = MBOX_QUOTER_ZERO ;
  buffer in ;
  size_t len = 0, linelen = 0 ;
  int fd, r ;

  fd = open(name, O_RDONLY | O_NONBLOCK | O_CLOEXEC) ;
  if (fd < 0) die_readmsg(name) ;

   /* the first line, for the From_ line */
  for (;;)
  {
    char const *nl = memchr(first, '\n', len) ;
    ssize_t n ;
    if (nl) { linelen = nl - first + 1 ; break ; }
    if (len == sizeof(first)) break ;
    n = fd_read(fd, first + len, sizeof(first) - len) ;
    if (n < 0) die_readmsg(name) ;
    if (!n) break ;
    len += n ;
  }
  if (linelen >= 14 && !memcmp(first, "Return-Path: <", 14))
  {
    if (first[14] == '>') r = mbox_fromline(&ufline, "MAILER-DAEMON", 13, mtime) ;
    else r = mbox_fromline(&ufline, first + 14, linelen >= 16 ? linelen - 16 : 0, mtime) ;
  }
  else r = mbox_fromline(&ufline, "XXX", 3, mtime) ;
  if (!r) die_nomem() ;
  if (!buffer_putall(out, ufline.s, ufline.len, &(size_t){0})) die_write() ;
  stralloc_free(&ufline) ;

  if (!mbox_quote_put(&q, out, first, len)) die_write() ;
  buffer_init(&in, &buffer_read, fd, inbuf, sizeof(inbuf)) ;
  r = mbox_quote_copy(&q, out, &in) ;
  if (r < 0) die_readmsg(name) ;
  if (!r) die_write() ;
  close(fd) ;
}

int main (void)
{
  stralloc names = STRALLOC_ZERO ;
  genalloc msgs = GENALLOC_ZERO ;  /* maildir_msg */
  char const *maildir ;
  char const *errdir ;
  char outbuf[16384] ;
  buffer out ;
  int fdlock, fdold, fdnew ;
  size_t i, n ;
  time_t now ;

  PROG = "maildir2mbox" ;
  umask(077) ;

  mbox = getenv("MAIL") ;
  if (!mbox) strerr_dief1x(111, "MAIL not set") ;
  mboxtmp = getenv("MAILTMP") ;
  if (!mboxtmp) strerr_dief1x(111, "MAILTMP not set") ;
  maildir = getenv("MAILDIR") ;
  if (!maildir) strerr_dief1x(111, "MAILDIR not set") ;
  if (chdir(maildir) < 0)
    strerr_dief4x(111, "unable to chdir to ", maildir, ": ", qmail_error_str(errno)) ;

  now = time(0) ;
  maildir_clean(now) ;
  switch (maildir_scan(&names, &msgs, 1, 1, now, &errdir))
  {
    case 1 : break ;
    case 0 : die_nomem() ;
    case -1 : strerr_dief4x(111, "unable to scan $MAILDIR/", errdir, ": ", qmail_error_str(errno)) ;
    default : strerr_dief4x(111, "unable to read $MAILDIR/", errdir, ": ", qmail_error_str(errno)) ;
  }
  n = genalloc_len(maildir_msg, &msgs) ;
  if (!n) return 0 ;  /* nothing new */

  fdlock = open(mbox, O_WRONLY | O_NONBLOCK | O_APPEND | O_CREAT | O_CLOEXEC, 0600) ;
  if (fdlock < 0) strerr_dief4x(111, "unable to lock ", mbox, ": ", qmail_error_str(errno)) ;
  if (flock(fdlock, LOCK_EX) < 0) strerr_dief4x(111, "unable to lock ", mbox, ": ", qmail_error_str(errno)) ;

  fdold = open(mbox, O_RDONLY | O_NONBLOCK | O_CLOEXEC) ;
  if (fdold < 0) strerr_dief4x(111, "unable to read ", mbox, ": ", qmail_error_str(errno)) ;
  fdnew = open(mboxtmp, O_WRONLY | O_NONBLOCK | O_TRUNC | O_CREAT | O_CLOEXEC, 0644) ;
  if (fdnew < 0) strerr_dief4x(111, "unable to create ", mboxtmp, ": ", qmail_error_str(errno)) ;

  buffer_init(&out, &buffer_write, fdnew, outbuf, sizeof(outbuf)) ;
  for (;;)
  {
    char buf[16384] ;
    ssize_t r = fd_read(fdold, buf, sizeof(buf)) ;
    if (r < 0) strerr_dief4x(111, "unable to read ", mbox, ": ", qmail_error_str(errno)) ;
    if (!r) break ;
    if (!buffer_putall(&out, buf, r, &(size_t){0})) die_write() ;
  }
  close(fdold) ;

  for (i = 0 ; i < n ; i++)
  {
    maildir_msg const *m = genalloc_s(maildir_msg, &msgs) + i ;
    append_message(&out, names.s + m->name, m->mtime) ;
  }

  if (!buffer_flush(&out)) die_write() ;
  if (fsync(fdnew) < 0) die_write() ;
  if (close(fdnew) < 0) die_write() ;  /* NFS reports errors here */
  if (rename(mboxtmp, mbox) < 0)
    strerr_dief6x(111, "unable to move ", mboxtmp, " to ", mbox, ": ", qmail_error_str(errno)) ;

  for (i = 0 ; i < n ; i++)
  {
    char const *name = names.s + genalloc_s(maildir_msg, &msgs)[i].name ;
    if (unlink(name) < 0)
      strerr_warnw4x("$MAILDIR/", name, " will be delivered twice; unable to unlink: ", qmail_error_str(errno)) ;
  }
  return 0 ;
}
