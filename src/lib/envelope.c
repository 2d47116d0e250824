/* ISC license. */
/* text0 records: the one reader and writer. */

#include <errno.h>
#include <string.h>
#include <skalibs/buffer.h>
#include <skalibs/stralloc.h>

#include <qmail-s6/envelope.h>

int text0_cat (stralloc *sa, char letter, char const *s, size_t n)
{
  if (!stralloc_readyplus(sa, n + 2)) return 0 ;
  sa->s[sa->len++] = letter ;
  memcpy(sa->s + sa->len, s, n) ;
  sa->len += n ;
  sa->s[sa->len++] = 0 ;
  return 1 ;
}

int text0_cats (stralloc *sa, char letter, char const *s)
{
  return text0_cat(sa, letter, s, strlen(s)) ;
}

int text0_next (char const *s, size_t len, size_t *pos, char const **rec, size_t *reclen)
{
  char const *nul ;
  if (*pos >= len) return 0 ;
  nul = memchr(s + *pos, 0, len - *pos) ;
  if (!nul) { errno = EPROTO ; return -1 ; }
  *rec = s + *pos ;
  *reclen = nul - (s + *pos) ;
  *pos += *reclen + 1 ;
  return 1 ;
}

int text0_get (buffer *b, char *dst, size_t max, size_t *n)
{
  size_t i = 0 ;
  while (i < max)
  {
    char c ;
    ssize_t r = buffer_get(b, &c, 1) ;
    if (r < 0) return -1 ;
    if (!r) return 0 ;
    dst[i] = c ;
    if (!c) { *n = i ; return 1 ; }
    i++ ;
  }
  return -2 ;
}
