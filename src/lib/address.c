/* ISC license. */
/* Mail addresses: box quoting, the splitting '@', domain comparison. */

#include <string.h>
#include <strings.h>
#include <skalibs/stralloc.h>

#include <qmail-s6/address.h>

 /* RFC 5322 atext, plus '.', which has rules of its own. */
static int box_char_ok (unsigned char c)
{
  if (c >= 'a' && c <= 'z') return 1 ;
  if (c >= 'A' && c <= 'Z') return 1 ;
  if (c >= '0' && c <= '9') return 1 ;
  return c && !!strchr("!#$%&'*+-/=?^_`{|}~.", c) ;
}

int addr_box_needs_quote (char const *s, size_t n)
{
  size_t i ;
  if (!n) return 1 ;
  for (i = 0 ; i < n ; i++)
    if (!box_char_ok(s[i])) return 1 ;
  if (s[0] == '.' || s[n-1] == '.') return 1 ;
  for (i = 0 ; i + 1 < n ; i++)
    if (s[i] == '.' && s[i+1] == '.') return 1 ;
  return 0 ;
}

size_t addr_at (char const *s, size_t n)
{
  size_t i = n ;
  while (i--) if (s[i] == '@') return i ;
  return n ;
}

int addr_box_quote_cat (stralloc *sa, char const *s, size_t n)
{
  size_t i ;
  if (!addr_box_needs_quote(s, n)) return stralloc_catb(sa, s, n) ;
  if (n > ((size_t)-1 - 2) / 2 || !stralloc_readyplus(sa, 2 * n + 2)) return 0 ;
  sa->s[sa->len++] = '"' ;
  for (i = 0 ; i < n ; i++)
  {
    char c = s[i] ;
    if (c == '"' || c == '\\' || c == '\r' || c == '\n') sa->s[sa->len++] = '\\' ;
    sa->s[sa->len++] = c ;
  }
  sa->s[sa->len++] = '"' ;
  return 1 ;
}

int addr_quote_cat (stralloc *sa, char const *addr, size_t n)
{
  size_t at ;
  if (!n) return 1 ;
  at = addr_at(addr, n) ;
  return addr_box_quote_cat(sa, addr, at) && stralloc_catb(sa, addr + at, n - at) ;
}

int addr_domain_equal (char const *a, size_t alen, char const *b, size_t blen)
{
  return alen == blen && !strncasecmp(a, b, alen) ;
}
