/* ISC license. */
/* Control files: the one reader of qmail's control/ formats. */

#include <errno.h>
#include <string.h>
#include <skalibs/stralloc.h>
#include <skalibs/djbunix.h>
#include <skalibs/types.h>
#include <skalibs/allreadwrite.h>
#include <skalibs/bytestr.h>

#include <qmail-s6/control.h>

size_t control_trim (char const *s, size_t n)
{
  while (n && (s[n-1] == ' ' || s[n-1] == '\t' || s[n-1] == '\r')) n-- ;
  return n ;
}

 /* Reads the whole file into sa, bounded.  1 read, 0 missing, -1 error. */
static int control_slurp (stralloc *sa, char const *fn)
{
  int fd = open_read(fn) ;
  sa->len = 0 ;
  if (fd < 0) return errno == ENOENT ? 0 : -1 ;
  for (;;)
  {
    ssize_t r ;
    if (sa->len >= CONTROL_MAX) { fd_close(fd) ; errno = EFBIG ; return -1 ; }
    if (!stralloc_readyplus(sa, 4096)) { fd_close(fd) ; return -1 ; }
    r = fd_read(fd, sa->s + sa->len, 4096) ;
    if (r < 0) { int e = errno ; fd_close(fd) ; errno = e ; return -1 ; }
    if (!r) break ;
    sa->len += r ;
  }
  fd_close(fd) ;
  return 1 ;
}

int control_readline (stralloc *sa, char const *fn)
{
  size_t n ;
  int r = control_slurp(sa, fn) ;
  if (r <= 0) return r ;
  n = byte_chr(sa->s, sa->len, '\n') ;
  if (memchr(sa->s, 0, n)) { errno = EINVAL ; return -1 ; }
  sa->len = control_trim(sa->s, n) ;
  return 1 ;
}

int control_rldef (stralloc *sa, char const *fn, int usemedefault, char const *def)
{
  int r = control_readline(sa, fn) ;
  if (r < 0) return -1 ;
  if (!r && usemedefault)
  {
    int m = control_readline(sa, "control/me") ;
    if (m < 0) return -1 ;
    if (m) { if (!stralloc_0(sa)) return -1 ; sa->len-- ; return 0 ; }
  }
  if (!r && !stralloc_copys(sa, def)) return -1 ;
  if (!stralloc_0(sa)) return -1 ;
  sa->len-- ;
  return r ;
}

int control_readulong (unsigned long *u, char const *fn, unsigned long def)
{
  stralloc sa = STRALLOC_ZERO ;
  size_t pos ;
  int r = control_readline(&sa, fn) ;
  if (r <= 0)
  {
    stralloc_free(&sa) ;
    if (!r) *u = def ;
    return r ;
  }
  if (!stralloc_0(&sa)) { stralloc_free(&sa) ; return -1 ; }
  pos = ulong_scan(sa.s, u) ;
  if (!pos || pos + 1 != sa.len)
  {
    stralloc_free(&sa) ;
    errno = EINVAL ;
    return -1 ;
  }
  stralloc_free(&sa) ;
  return 1 ;
}

int control_readfile (stralloc *sa, char const *fn)
{
  stralloc raw = STRALLOC_ZERO ;
  size_t pos = 0 ;
  int r = control_slurp(&raw, fn) ;
  sa->len = 0 ;
  if (r <= 0) { stralloc_free(&raw) ; return r ; }
  while (pos < raw.len)
  {
    size_t n = byte_chr(raw.s + pos, raw.len - pos, '\n') ;
    size_t k = control_trim(raw.s + pos, n) ;
    if (k && raw.s[pos] != '#')
    {
      if (memchr(raw.s + pos, 0, k)) { stralloc_free(&raw) ; errno = EINVAL ; return -1 ; }
      if (!stralloc_catb(sa, raw.s + pos, k) || !stralloc_0(sa))
      {
        stralloc_free(&raw) ;
        return -1 ;
      }
    }
    pos += n + 1 ;
  }
  stralloc_free(&raw) ;
  return 1 ;
}
