/* ISC license. */
/* DTLINE + message -> qmail-queue, with a new envelope. */

#include <errno.h>
#include <string.h>
#include <skalibs/allreadwrite.h>

#include <qmail-s6/qq.h>
#include <qmail-s6/qqfwd.h>

 /* posix_spawn reports in one errno both a fork that failed and an exec
    that failed; qmail's fork-then-exec tells them apart: no process is
    "unable to fork", a process that cannot exec qmail-queue is exit 120,
    "unable to exec qq".  These are the errors of pipe() and fork(). */
static int is_fork_error (int e)
{
  return e == EAGAIN || e == EMFILE || e == ENFILE ;
}

char const *qqfwd (char const *dtline, int fd, char const *sender, char const *const *rcpts, size_t n, pid_t *qp, int *why)
{
  qqclient qq ;
  char buf[16384] ;
  size_t i ;

  *qp = 0 ;
  if (!qq_open(&qq))
  {
    if (is_fork_error(errno)) { *why = QQFWD_EFORK ; return 0 ; }
    return qq_close(&qq) ;
  }
  *qp = qq_qp(&qq) ;
  qq_puts(&qq, dtline) ;
  for (;;)
  {
    ssize_t r = fd_read(fd, buf, sizeof(buf)) ;
    if (r < 0)
    {
      int e = errno ;
      qq_fail(&qq) ;
      qq_close(&qq) ;
      *why = QQFWD_EREAD ;
      errno = e ;
      return 0 ;
    }
    if (!r) break ;
    qq_put(&qq, buf, r) ;
  }
  qq_from(&qq, sender) ;
  for (i = 0 ; i < n ; i++) qq_to(&qq, rcpts[i]) ;
  return qq_close(&qq) ;
}
