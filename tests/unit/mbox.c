/* ISC license. */
/* Unit tests of mbox.h: qmail's myctime date, the From_ line, and the
   >From quoting.  The quoter is a byte-stream state machine; it is checked
   against a model written the way qmail reads it (whole lines, gfrom:
   skip '>'s, then "From "), with messages cut into random pieces so that
   every boundary falls inside a ">>From " prefix somewhere. */

#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <skalibs/buffer.h>
#include <skalibs/stralloc.h>

#include <qmail-s6/mbox.h>
#include "tap.h"

 /* The model: qmail-local's mailfile loop over getln lines. */
static void model (stralloc *out, char const *s, size_t n)
{
  size_t i = 0 ;
  out->len = 0 ;
  while (i < n)
  {
    char const *nl = memchr(s + i, '\n', n - i) ;
    size_t len = nl ? (size_t)(nl - (s + i)) + 1 : n - i ;
    size_t j = 0 ;
    while (j < len && s[i+j] == '>') j++ ;
    if (len - j >= 5 && !memcmp(s + i + j, "From ", 5)) stralloc_catb(out, ">", 1) ;
    stralloc_catb(out, s + i, len) ;
    if (!nl) stralloc_catb(out, "\n", 1) ;
    i += len ;
  }
  stralloc_catb(out, "\n", 1) ;
}

static int outfd ;

 /* Runs the quoter over s[0..n) cut at the given places, returns the bytes. */
static void quote (stralloc *got, char const *s, size_t n, size_t const *cuts, size_t ncuts)
{
  char buf[64] ;   /* small on purpose: many flushes */
  buffer b ;
  mbox_quoter q = MBOX_QUOTER_ZERO ;
  size_t prev = 0, k ;
  ssize_t r ;
  if (ftruncate(outfd, 0) < 0 || lseek(outfd, 0, SEEK_SET) < 0) exit(111) ;
  buffer_init(&b, &buffer_write, outfd, buf, sizeof(buf)) ;
  for (k = 0 ; k <= ncuts ; k++)
  {
    size_t end = k < ncuts ? cuts[k] : n ;
    if (!mbox_quote_put(&q, &b, s + prev, end - prev)) exit(111) ;
    prev = end ;
  }
  if (!mbox_quote_end(&q, &b) || !buffer_flush(&b)) exit(111) ;
  got->len = 0 ;
  if (lseek(outfd, 0, SEEK_SET) < 0) exit(111) ;
  for (;;)
  {
    if (!stralloc_readyplus(got, 4096)) exit(111) ;
    r = read(outfd, got->s + got->len, 4096) ;
    if (r < 0) exit(111) ;
    if (!r) break ;
    got->len += r ;
  }
}

#define QUOTED(in, expected, ...) do { \
  stralloc g_ = STRALLOC_ZERO ; \
  quote(&g_, in, sizeof(in) - 1, 0, 0) ; \
  TAP_MEMEQ(g_.s, g_.len, expected, __VA_ARGS__) ; \
  stralloc_free(&g_) ; \
} while (0)

int main (void)
{
  char d[MBOX_DATE_FMT] ;
  stralloc sa = STRALLOC_ZERO ;
  stralloc m = STRALLOC_ZERO ;
  unsigned int i, bad = 0, badcut = 0 ;

  outfd = memfd_create("mbox-out", 0) ;
  if (outfd < 0) { perror("memfd_create") ; return 111 ; }

  TAP_MEMEQ(d, mbox_date_fmt(d, 812090814), "Tue Sep 26 04:46:54 1995\n", "date: 26 Sep 1995 04:46:54 UTC") ;
  TAP_MEMEQ(d, mbox_date_fmt(d, 0), "Thu Jan 01 00:00:00 1970\n", "date: the epoch, day zero-padded") ;
  TAP_MEMEQ(d, mbox_date_fmt(d, 951868799), "Tue Feb 29 23:59:59 2000\n", "date: a leap day") ;

  TAP_OK(mbox_fromline(&sa, "a b\tc\nd@x", 9, 0), "fromline: ok") ;
  TAP_MEMEQ(sa.s, sa.len, "From a-b-c-d@x Thu Jan 01 00:00:00 1970\n", "fromline: blanks and newline become '-'") ;
  sa.len = 0 ;
  mbox_fromline(&sa, "", 0, 0) ;
  TAP_MEMEQ(sa.s, sa.len, "From  Thu Jan 01 00:00:00 1970\n", "fromline: an empty word stays empty (callers choose MAILER-DAEMON)") ;

  QUOTED("", "\n", "empty message: the empty line") ;
  QUOTED("x\n", "x\n\n", "one line") ;
  QUOTED("x", "x\n\n", "no final newline: added") ;
  QUOTED("From x\n", ">From x\n\n", "From_ quoted") ;
  QUOTED(">From x\n", ">>From x\n\n", ">From quoted") ;
  QUOTED(">>>>From \n", ">>>>>From \n\n", ">>>>From quoted") ;
  QUOTED("From", "From\n\n", "From at the end, no space: not quoted") ;
  QUOTED("From ", ">From \n\n", "From+space at the end: quoted") ;
  QUOTED(">>", ">>\n\n", "only '>' at the end") ;
  QUOTED("From\n", "From\n\n", "From then newline: not quoted") ;
  QUOTED(" From x\n", " From x\n\n", "leading space: not quoted") ;
  QUOTED("from x\n", "from x\n\n", "lower case: not quoted") ;
  QUOTED("Frox\n>Fr\n\n\nFrom\tx\n", "Frox\n>Fr\n\n\nFrom\tx\n\n", "partial matches given back as they were") ;
  QUOTED("a\nFrom b\nc From d\n", "a\n>From b\nc From d\n\n", "only at the start of a line") ;
  QUOTED("x\0From \n\0From \n", "x\0From \n\0From \n\n", "NUL bytes pass") ;

   /* random messages, random cuts */
  srand(12345) ;
  for (i = 0 ; i < 3000 ; i++)
  {
    static char const alphabet[] = ">>>From  \n\nxF" ;
    char s[64] ;
    size_t n = rand() % sizeof(s), k, ncuts = rand() % 6 ;
    size_t cuts[6] ;
    stralloc got = STRALLOC_ZERO ;
    for (k = 0 ; k < n ; k++) s[k] = alphabet[rand() % (sizeof(alphabet) - 1)] ;
    for (k = 0 ; k < ncuts ; k++) cuts[k] = n ? rand() % (n + 1) : 0 ;
     /* cuts must grow */
    for (k = 1 ; k < ncuts ; k++) if (cuts[k] < cuts[k-1]) { size_t t = cuts[k] ; cuts[k] = cuts[k-1] ; cuts[k-1] = t ; k = 0 ; }
    model(&m, s, n) ;
    quote(&got, s, n, 0, 0) ;
    if (got.len != m.len || memcmp(got.s, m.s, m.len)) bad++ ;
    quote(&got, s, n, cuts, ncuts) ;
    if (got.len != m.len || memcmp(got.s, m.s, m.len)) badcut++ ;
    stralloc_free(&got) ;
  }
  TAP_OK(!bad, "3000 random messages: same bytes as the line model (%u differ)", bad) ;
  TAP_OK(!badcut, "... cut in random places (%u differ)", badcut) ;

   /* a long run of '>' before From and a long line */
  {
    size_t n = 100000 ;
    char *s = malloc(n + 7) ;
    stralloc got = STRALLOC_ZERO ;
    if (!s) return 111 ;
    memset(s, '>', n) ;
    memcpy(s + n, "From \n", 6) ;
    quote(&got, s, n + 6, 0, 0) ;
    TAP_OK(got.len == n + 8 && got.s[0] == '>' && got.s[n] == '>' && !memcmp(got.s + n + 1, "From \n\n", 7),
      "100000 '>' then From: one more '>'") ;
    free(s) ;
    stralloc_free(&got) ;
  }

  return TAP_DONE() ;
}
