/* ISC license. */
/* qmail's mbox form: the From_ line and the >From quoting. */

#include <errno.h>
#include <string.h>
#include <sys/uio.h>
#include <skalibs/buffer.h>
#include <skalibs/stralloc.h>
#include <skalibs/types.h>

#include <qmail-s6/date822.h>
#include <qmail-s6/mbox.h>

size_t mbox_date_fmt (char *s, time_t t)
{
  struct tm tm ;
  size_t n = 0 ;
  if (!gmtime_r(&t, &tm)) { t = 0 ; gmtime_r(&t, &tm) ; }
  memcpy(s + n, date822_wday[tm.tm_wday], 3) ; n += 3 ;
  s[n++] = ' ' ;
  memcpy(s + n, date822_month[tm.tm_mon], 3) ; n += 3 ;
  s[n++] = ' ' ;
  n += date822_fmt2(s + n, tm.tm_mday) ;
  s[n++] = ' ' ;
  n += date822_fmt2(s + n, tm.tm_hour) ;
  s[n++] = ':' ;
  n += date822_fmt2(s + n, tm.tm_min) ;
  s[n++] = ':' ;
  n += date822_fmt2(s + n, tm.tm_sec) ;
  s[n++] = ' ' ;
  n += long_fmt(s + n, (long)tm.tm_year + 1900) ;
  s[n++] = '\n' ;
  return n ;
}

int mbox_fromline (stralloc *sa, char const *s, size_t n, time_t t)
{
  char date[MBOX_DATE_FMT] ;
  size_t dlen = mbox_date_fmt(date, t) ;
  size_t i ;
  if (n > (size_t)-1 - 7 - dlen) { errno = ENOMEM ; return 0 ; }
  if (!stralloc_readyplus(sa, 5 + n + 1 + dlen)) return 0 ;
  memcpy(sa->s + sa->len, "From ", 5) ; sa->len += 5 ;
  for (i = 0 ; i < n ; i++)
  {
    char c = s[i] ;
    sa->s[sa->len++] = c == ' ' || c == '\t' || c == '\n' ? '-' : c ;
  }
  sa->s[sa->len++] = ' ' ;
  memcpy(sa->s + sa->len, date, dlen) ; sa->len += dlen ;
  return 1 ;
}

static char const from_[5] = { 'F', 'r', 'o', 'm', ' ' } ;

static int put_gt (buffer *out, size_t n)
{
  static char const gts[64] =
    ">>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>" ;
  while (n)
  {
    size_t k = n < sizeof(gts) ? n : sizeof(gts) ;
    if (!buffer_putall(out, gts, k, &(size_t){0})) return 0 ;
    n -= k ;
  }
  return 1 ;
}

 /* The start of a line, as far as it was held back: the '>'s and the part
    of "From " seen. */
static int put_pending (mbox_quoter *q, buffer *out)
{
  if (!put_gt(out, q->gt)) return 0 ;
  if (q->matched && !buffer_putall(out, from_, q->matched, &(size_t){0})) return 0 ;
  q->gt = 0 ;
  q->matched = 0 ;
  return 1 ;
}

int mbox_quote_put (mbox_quoter *q, buffer *out, char const *s, size_t n)
{
  size_t i = 0 ;
  while (i < n)
  {
    if (q->inline_)
    {
      char const *nl = memchr(s + i, '\n', n - i) ;
      size_t k = nl ? (size_t)(nl - (s + i)) + 1 : n - i ;
      if (!buffer_putall(out, s + i, k, &(size_t){0})) return 0 ;
      i += k ;
      if (nl) q->inline_ = 0 ;
      continue ;
    }
    {
      char c = s[i] ;
      if (!q->matched && c == '>') { q->gt++ ; i++ ; continue ; }
      if (c == from_[q->matched])
      {
        i++ ;
        if (++q->matched < sizeof(from_)) continue ;
         /* ^>*From : one more '>' */
        if (!buffer_putall(out, ">", 1, &(size_t){0})) return 0 ;
        if (!put_pending(q, out)) return 0 ;
        q->inline_ = 1 ;
        continue ;
      }
       /* not a From_ line: give back what was held, then go on with c */
      if (!put_pending(q, out)) return 0 ;
      if (!buffer_putall(out, &c, 1, &(size_t){0})) return 0 ;
      i++ ;
      if (c != '\n') q->inline_ = 1 ;
    }
  }
  return 1 ;
}

int mbox_quote_end (mbox_quoter *q, buffer *out)
{
  int partial = q->inline_ || q->gt || q->matched ;
  if (!put_pending(q, out)) return 0 ;
  q->inline_ = 0 ;
  if (partial && !buffer_putall(out, "\n", 1, &(size_t){0})) return 0 ;
  return buffer_putall(out, "\n", 1, &(size_t){0}) ;
}

int mbox_quote_copy (mbox_quoter *q, buffer *out, buffer *in)
{
  for (;;)
  {
    struct iovec v[2] ;
    ssize_t r ;
    buffer_rpeek(in, v) ;
    if (v[0].iov_len && !mbox_quote_put(q, out, v[0].iov_base, v[0].iov_len)) return 0 ;
    if (v[1].iov_len && !mbox_quote_put(q, out, v[1].iov_base, v[1].iov_len)) return 0 ;
    buffer_rseek(in, v[0].iov_len + v[1].iov_len) ;
    r = buffer_fill(in) ;
    if (r < 0) return -1 ;
    if (!r) break ;
  }
  return mbox_quote_end(q, out) ;
}
