/* ISC license. */
/*
   qmail-newu: compile users/assign into users/cdb for qmail-lspawn.

   Who runs it: the administrator (root, or the sandbox user), after editing
   users/assign, often as "qmail-pw2u < /etc/passwd > users/assign;
   qmail-newu".  It needs no privilege beyond writing users/.

   Reads HOME/users/assign: lines "=local:user:uid:gid:home:dash:ext:" and
   "+prefix:user:uid:gid:home:dash:pre:", ending with a line that starts with
   "." (qmail-users(5)).  The format is usersdb.h's.
   Writes HOME/users/cdb.tmp (locked, mode 0644), fsyncs it, renames it to
   users/cdb and fsyncs users/: qmail-lspawn sees the old file or the new
   one, never a part.  On any failure users/cdb stays as it was and
   users/cdb.tmp is removed.

   Exits 0, or 111 after one line on stderr: qmail's texts
   ("qmail-newu: fatal: bad format in users/assign", "... unable to open
   users/assign", ...) followed by ": " and what exactly went wrong.
*/

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <skalibs/buffer.h>
#include <skalibs/djbunix.h>
#include <skalibs/stralloc.h>
#include <skalibs/strerr.h>
#include <skalibs/types.h>

#include <qmail-s6/home.h>
#include <qmail-s6/linemax.h>
#include <qmail-s6/usersdb.h>

#define ASSIGN "users/assign"
#define CDB "users/cdb"
#define TMP "users/cdb.tmp"

static int tmpours = 0 ;

 /* Whatever failed, users/cdb is untouched: remove our half-written file. */
static void cleanup (void)
{
  if (tmpours) unlink(TMP) ;
}

static void die_sys (char const *what) __attribute__((noreturn)) ;
static void die_sys (char const *what)
{
  int e = errno ;
  cleanup() ;
  errno = e ;
  strerr_diefu1sys(111, what) ;
}

static void die_nomem (void) __attribute__((noreturn)) ;
static void die_nomem (void)
{
  cleanup() ;
  strerr_dief1x(111, "out of memory") ;
}

static void die_format (size_t lineno, char const *why) __attribute__((noreturn)) ;
static void die_format (size_t lineno, char const *why)
{
  char fmt[SIZE_FMT] ;
  cleanup() ;
  if (!lineno) strerr_dief2x(111, "bad format in " ASSIGN ": ", why) ;
  fmt[size_fmt(fmt, lineno)] = 0 ;
  strerr_dief4x(111, "bad format in " ASSIGN ": line ", fmt, ": ", why) ;
}

 /* users/cdb.tmp, created or reused, locked against a second qmail-newu,
    truncated.  The lock is on the inode: after waiting for it, make sure
    the name still points to that inode (the other one may have renamed it
    to users/cdb meanwhile). */
static int open_tmp (void)
{
  for (unsigned int tries = 0 ; tries < 100 ; tries++)
  {
    struct stat st1, st2 ;
    int fd = open(TMP, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644) ;
    if (fd < 0) return -1 ;
    if (flock(fd, LOCK_EX) < 0 || fstat(fd, &st1) < 0) { fd_close(fd) ; return -1 ; }
    if (stat(TMP, &st2) == 0 && st1.st_dev == st2.st_dev && st1.st_ino == st2.st_ino)
    {
      tmpours = 1 ;
      if (ftruncate(fd, 0) < 0 || fchmod(fd, 0644) < 0) return -1 ;
      return fd ;
    }
    fd_close(fd) ;
  }
  errno = EBUSY ;
  return -1 ;
}

int main (void)
{
  usersdb_maker m = USERSDB_MAKER_ZERO ;
  stralloc line = STRALLOC_ZERO ;
  char inbuf[BUFFER_INSIZE] ;
  buffer in ;
  size_t lineno = 0 ;
  int fd, fdtmp ;

  PROG = "qmail-newu" ;
  umask(033) ;
  if (!qmail_chdir_home()) strerr_diefu1sys(111, "chdir") ;

  fd = open(ASSIGN, O_RDONLY | O_CLOEXEC) ;
  if (fd < 0) strerr_diefu1sys(111, "open " ASSIGN) ;
  buffer_init(&in, &buffer_read, fd, inbuf, sizeof(inbuf)) ;

  fdtmp = open_tmp() ;
  if (fdtmp < 0) die_sys("open " TMP) ;
  if (!usersdb_make_start(&m, fdtmp)) die_sys("write " TMP) ;

  for (;;)
  {
    usersdb_assign a ;
    char const *why ;
    int r = line_get_max(&in, &line, USERSDB_RECORD_MAX + 1) ;
    lineno++ ;
    if (r < 0)
    {
      if (errno == E2BIG) die_format(lineno, "line too long") ;
      die_sys("read " ASSIGN) ;
    }
     /* qmail: any line starting with a dot ends the file */
    if (line.len && line.s[0] == '.') break ;
    if (!r)
    {
      if (!line.len) die_format(0, "no final \".\" line") ;
      die_format(lineno, "incomplete last line") ;
    }
    if (!usersdb_assign_parse(&a, line.s, line.len - 1, &why)) die_format(lineno, why) ;
    if (!usersdb_make_add(&m, &a))
    {
      if (errno == ENOMEM) die_nomem() ;
      die_sys("write " TMP) ;
    }
  }
  stralloc_free(&line) ;
  fd_close(fd) ;

  if (!usersdb_make_finish(&m)) die_sys("write " TMP) ;
  if (fsync(fdtmp) < 0) die_sys("write " TMP) ;
   /* rename before close: the lock must cover the rename (see open_tmp) */
  if (rename(TMP, CDB) < 0) die_sys("move " TMP " to " CDB) ;
  tmpours = 0 ;
  if (close(fdtmp) < 0) strerr_diefu1sys(111, "write " TMP) ;
  {
    int dfd = open("users", O_RDONLY | O_DIRECTORY | O_CLOEXEC) ;
    if (dfd < 0 || fsync(dfd) < 0) strerr_diefu1sys(111, "fsync users") ;
    fd_close(dfd) ;
  }
  return 0 ;
}
