/* ISC license. */
/* Bounded line reader: copies straight out of the buffer, a chunk at a time. */

#include <errno.h>
#include <string.h>
#include <sys/uio.h>
#include <skalibs/buffer.h>
#include <skalibs/stralloc.h>

#include <qmail-s6/linemax.h>

int line_get_max (buffer *b, stralloc *sa, size_t max)
{
  sa->len = 0 ;
  for (;;)
  {
    struct iovec v[2] ;
    ssize_t r ;
    buffer_rpeek(b, v) ;
    for (unsigned int k = 0 ; k < 2 ; k++)
    {
      char const *p ;
      size_t n ;
      if (!v[k].iov_len) continue ;
      p = memchr(v[k].iov_base, '\n', v[k].iov_len) ;
      n = p ? (size_t)(p - (char const *)v[k].iov_base) + 1 : v[k].iov_len ;
      if (n > max - sa->len) return (errno = E2BIG, -1) ;
      if (!stralloc_catb(sa, v[k].iov_base, n)) return -1 ;
      buffer_rseek(b, n) ;
      if (p) return 1 ;
    }
    r = buffer_fill(b) ;
    if (r < 0) return -1 ;
    if (!r) return 0 ;
  }
}
