/* ISC license. */
/* RFC 822 header syntax the way qmail reads it: the one tokenizer, address
   list walker and renderer, so that every program that rewrites header
   fields writes them the same way. */

#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <skalibs/genalloc.h>
#include <skalibs/stralloc.h>

#include <qmail-s6/rfc822.h>

 /* Lower case, indexed by enum rfc822_field_e (0 is unused). */
static char const *const field_name[RFC822_H_NUM] =
{
  0,
  "sender",
  "from",
  "reply-to",
  "to",
  "cc",
  "bcc",
  "date",
  "message-id",
  "subject",
  "resent-sender",
  "resent-from",
  "resent-reply-to",
  "resent-to",
  "resent-cc",
  "resent-bcc",
  "resent-date",
  "resent-message-id",
  "return-receipt-to",
  "errors-to",
  "apparently-to",
  "received",
  "return-path",
  "delivered-to",
  "content-length",
  "content-type",
  "content-transfer-encoding",
  "notice-requested-upon-delivery-to",
  "mail-followup-to",
} ;

static int name_is (char const *s, size_t len, char const *name)
{
  size_t i = 0 ;
  for (; name[i] ; i++)
  {
    unsigned char c ;
    if (i >= len) return 0 ;
    c = s[i] ;
    if (c >= 'A' && c <= 'Z') c += 'a' - 'A' ;
    if (c != (unsigned char)name[i]) return 0 ;
  }
  while (i < len && (s[i] == ' ' || s[i] == '\t')) i++ ;
  return i < len && s[i] == ':' ;
}

unsigned int rfc822_field_known (char const *s, size_t len)
{
  unsigned int i = 1 ;
  for (; i < RFC822_H_NUM ; i++)
    if (name_is(s, len, field_name[i])) return i ;
  return RFC822_H_UNKNOWN ;
}

int rfc822_field_valid (char const *s, size_t len)
{
  char const *colon = len ? memchr(s, ':', len) : 0 ;
  size_t n, i ;
  if (!colon) return 0 ;
  n = colon - s ;
  while (n && (s[n-1] == ' ' || s[n-1] == '\t')) n-- ;
  if (!n) return 0 ;
  for (i = 0 ; i < n ; i++)
  {
    unsigned char c = s[i] ;
    if (c <= 32 || c >= 127) return 0 ;
  }
  return 1 ;
}


 /* Tokenizer */

 /* Bytes that end an atom: white space, the specials, and the openers of
    the other words.  ')' ']' and '\' do not (qmail's rule); atoms holding
    them are written as quoted strings. */
static int atom_ends (unsigned char c)
{
  return !!strchr(" \t\r\n([\"<>;:@,.", c) ;
}

static int atom_needs_quote (char const *s, size_t n)
{
  size_t i = 0 ;
  for (; i < n ; i++)
  {
    unsigned char c = s[i] ;
    if (c < 32 || c > 126 || c == ')' || c == ']' || c == '\\') return 1 ;
  }
  return 0 ;
}

 /* A word between delimiters, s[*pos] being the opener.  Comments nest;
    the inner parentheses are not kept.  Copies the unescaped text to the
    end of buf (which has room) and moves *pos past the closer.
    1 ok, 0 unterminated. */
static int delimited (char const *s, size_t len, size_t *pos, char closer, int nests, stralloc *buf)
{
  size_t i = *pos ;
  unsigned int depth = 1 ;
  for (;;)
  {
    char c ;
    if (++i >= len) return 0 ;
    c = s[i] ;
    if (nests && c == '(') { depth++ ; continue ; }
    if (c == closer) { if (!--depth) break ; continue ; }
    if (c == '\\' && ++i >= len) return 0 ;
    buf->s[buf->len++] = s[i] ;
  }
  *pos = i + 1 ;
  return 1 ;
}

int rfc822_tokenize (genalloc *tokens, stralloc *buf, char const *s, size_t len)
{
  size_t i = 0 ;
  genalloc_setlen(rfc822_token, tokens, 0) ;
  buf->len = 0 ;
  if (len > UINT32_MAX) { errno = EOVERFLOW ; return -1 ; }
   /* The text of the words is never longer than the input: one allocation,
      so the pointers into buf stay valid. */
  if (!stralloc_ready(buf, len + 1)) return -1 ;
  if (len && memchr(s, 0, len)) { errno = EINVAL ; return 0 ; }
  while (i < len)
  {
    rfc822_token tok = { .s = 0, .len = 0, .type = 0 } ;
    size_t start = buf->len ;
    switch (s[i])
    {
      case ' ' : case '\t' : case '\r' : case '\n' : i++ ; continue ;
      case ')' : case ']' : errno = EINVAL ; return 0 ;
      case '.' : tok.type = RFC822_DOT ; i++ ; break ;
      case ',' : tok.type = RFC822_COMMA ; i++ ; break ;
      case '@' : tok.type = RFC822_AT ; i++ ; break ;
      case '<' : tok.type = RFC822_LEFT ; i++ ; break ;
      case '>' : tok.type = RFC822_RIGHT ; i++ ; break ;
      case ':' : tok.type = RFC822_COLON ; i++ ; break ;
      case ';' : tok.type = RFC822_SEMI ; i++ ; break ;
      case '(' :
        tok.type = RFC822_COMMENT ;
        if (!delimited(s, len, &i, ')', 1, buf)) { errno = EINVAL ; return 0 ; }
        break ;
      case '"' :
        tok.type = RFC822_QUOTE ;
        if (!delimited(s, len, &i, '"', 0, buf)) { errno = EINVAL ; return 0 ; }
        break ;
      case '[' :
        tok.type = RFC822_LITERAL ;
        if (!delimited(s, len, &i, ']', 0, buf)) { errno = EINVAL ; return 0 ; }
        break ;
      default :
         /* An atom: at least one byte, a backslash quoting the next one.
            A backslash at the very end quotes nothing and is dropped. */
        do
        {
          if (s[i] == '\\' && ++i >= len) break ;
          buf->s[buf->len++] = s[i++] ;
        } while (i < len && !atom_ends(s[i])) ;
        tok.type = atom_needs_quote(buf->s + start, buf->len - start) ? RFC822_QUOTE : RFC822_ATOM ;
        break ;
    }
    if (tok.type <= RFC822_COMMENT)
    {
      tok.s = buf->s + start ;
      tok.len = buf->len - start ;
    }
    if (!genalloc_append(rfc822_token, tokens, &tok)) return -1 ;
  }
  return 1 ;
}


 /* Rendering */

static int is_word (unsigned char type)
{
  return type == RFC822_ATOM || type == RFC822_QUOTE || type == RFC822_LITERAL || type == RFC822_COMMENT ;
}

static int space_between (unsigned char prev, unsigned char next)
{
  if (!prev) return 0 ;
  if (prev == RFC822_COLON || prev == RFC822_COMMA) return 1 ;
  if (next == RFC822_LEFT) return 1 ;
  return is_word(prev) && is_word(next) ;
}

static int word_cat (stralloc *sa, rfc822_token const *t)
{
  static char const opener[] = { [RFC822_QUOTE] = '"', [RFC822_LITERAL] = '[', [RFC822_COMMENT] = '(' } ;
  static char const closer[] = { [RFC822_QUOTE] = '"', [RFC822_LITERAL] = ']', [RFC822_COMMENT] = ')' } ;
  size_t i ;
   /* at worst every byte escaped, plus the delimiters */
  if (!stralloc_readyplus(sa, 2 * (size_t)t->len + 2)) return 0 ;
  if (t->type != RFC822_ATOM) sa->s[sa->len++] = opener[t->type] ;
  for (i = 0 ; i < t->len ; i++)
  {
    char c = t->s[i] ;
    if (strchr("\"[]()\\\r\n", c) && c) sa->s[sa->len++] = '\\' ;
    sa->s[sa->len++] = c ;
  }
  if (t->type != RFC822_ATOM) sa->s[sa->len++] = closer[t->type] ;
  return 1 ;
}

 /* A place to fold at position p (right after a ',', or the end).  The
    previous such place, *bp, gets its "\n " only if the line from *lb to p
    would otherwise be longer than linelen, counting the two bytes of the
    fold as qmail does.  Only the text after *bp moves, so folding a long
    list stays linear. */
static int fold_at (stralloc *sa, size_t *p, size_t *lb, size_t *bp, int *havebp, size_t linelen)
{
  if (*havebp && linelen && *p - *lb + 2 > linelen)
  {
    if (!stralloc_insertb(sa, *bp, "\n ", 2)) return 0 ;
    *lb = *bp + 1 ;
    *p += 2 ;
  }
  *bp = *p ;
  *havebp = 1 ;
  return 1 ;
}

int rfc822_render (stralloc *sa, rfc822_token const *t, size_t n, size_t linelen)
{
  size_t lb = sa->len, bp = 0, p ;
  int havebp = 0 ;
  unsigned char prev = 0 ;
  size_t i = 0 ;
  for (; i < n ; i++)
  {
    static char const punct[] = { [RFC822_DOT] = '.', [RFC822_COMMA] = ',', [RFC822_AT] = '@', [RFC822_LEFT] = '<', [RFC822_RIGHT] = '>', [RFC822_COLON] = ':', [RFC822_SEMI] = ';' } ;
    if (space_between(prev, t[i].type) && !stralloc_catb(sa, " ", 1)) return 0 ;
    prev = t[i].type ;
    if (is_word(t[i].type)) { if (!word_cat(sa, t + i)) return 0 ; }
    else if (!stralloc_catb(sa, punct + t[i].type, 1)) return 0 ;
    if (t[i].type == RFC822_COMMA)
    {
      p = sa->len ;
      if (!fold_at(sa, &p, &lb, &bp, &havebp, linelen)) return 0 ;
    }
  }
  p = sa->len ;
  if (!fold_at(sa, &p, &lb, &bp, &havebp, linelen)) return 0 ;
  return stralloc_catb(sa, "\n", 1) ;
}

int rfc822_unquote (stralloc *sa, rfc822_token const *t, size_t n)
{
  size_t i = 0 ;
  for (; i < n ; i++)
  {
    static char const punct[] = { [RFC822_DOT] = '.', [RFC822_COMMA] = ',', [RFC822_AT] = '@', [RFC822_LEFT] = '<', [RFC822_RIGHT] = '>', [RFC822_COLON] = ':', [RFC822_SEMI] = ';' } ;
    switch (t[i].type)
    {
      case RFC822_COMMENT : break ;
      case RFC822_LITERAL :
        if (!stralloc_readyplus(sa, (size_t)t[i].len + 2)) return 0 ;
        sa->s[sa->len++] = '[' ;
        memcpy(sa->s + sa->len, t[i].s, t[i].len) ;
        sa->len += t[i].len ;
        sa->s[sa->len++] = ']' ;
        break ;
      case RFC822_ATOM : case RFC822_QUOTE :
        if (!stralloc_catb(sa, t[i].s, t[i].len)) return 0 ;
        break ;
      default :
        if (!stralloc_catb(sa, punct + t[i].type, 1)) return 0 ;
        break ;
    }
  }
  return 1 ;
}


 /* Address lists.  Read right to left: a '>' opens a <route-addr> whose
    phrase lies to its left, a ';' opens a group whose name ends at the ':'
    to its left, and two words with nothing between them belong to two
    addresses.  out is built backwards and turned round at the end. */

typedef struct walk_s walk, *walk_ref ;
struct walk_s
{
  genalloc *out ;
  genalloc addr ;       /* the address being collected, backwards */
  rfc822_addr_func *f ;
  void *data ;
} ;

static int out_put (walk *w, rfc822_token const *t)
{
  return genalloc_append(rfc822_token, w->out, t) ;
}

static int addr_put (walk *w, rfc822_token const *t)
{
  return genalloc_append(rfc822_token, &w->addr, t) ;
}

 /* Hands the collected address to f, in reading order, and puts what f
    left into out (backwards, like the rest of out). */
static int deliver (walk *w)
{
  size_t i ;
  genalloc_reverse(rfc822_token, &w->addr) ;
  if (!(*w->f)(&w->addr, w->data)) return 0 ;
  i = genalloc_len(rfc822_token, &w->addr) ;
  if (!genalloc_readyplus(rfc822_token, w->out, i)) return 0 ;
  while (i--)
    if (!out_put(w, genalloc_s(rfc822_token, &w->addr) + i)) return 0 ;
  genalloc_setlen(rfc822_token, &w->addr, 0) ;
  return 1 ;
}

 /* Delivers a pending address, if any; with comma, also puts a ',' after
    it (before it in out's backward order). */
static int flush (walk *w, int comma)
{
  static rfc822_token const tcomma = { .s = 0, .len = 0, .type = RFC822_COMMA } ;
  if (!genalloc_len(rfc822_token, &w->addr)) return 1 ;
  if (!deliver(w)) return 0 ;
  return !comma || out_put(w, &tcomma) ;
}

static int walk_list (walk *w, rfc822_token const *t, size_t n, size_t start)
{
  size_t k = n ;
  int ingroup = 0 ;
  int wordok = 1 ;  /* may a word join the address to its right? */
  while (k > start)
  {
    rfc822_token const *x = t + k - 1 ;
    switch (x->type)
    {
      case RFC822_SEMI :
        if (!flush(w, 1)) return -1 ;
        if (ingroup) return 0 ;
        ingroup = 1 ;
        wordok = 1 ;
        if (!out_put(w, x)) return -1 ;
        k-- ;
        break ;
      case RFC822_COLON :
        if (!flush(w, 0)) return -1 ;
        if (!ingroup) return 0 ;
        ingroup = 0 ;
         /* the group's name, back to the ',' before it */
        while (k > start && t[k-1].type != RFC822_COMMA)
          if (!out_put(w, t + --k)) return -1 ;
        if (k > start && !out_put(w, t + --k)) return -1 ;
        wordok = 1 ;
        break ;
      case RFC822_RIGHT :
        if (!flush(w, 1)) return -1 ;
        if (!out_put(w, t + --k)) return -1 ;
        while (k > start && t[k-1].type != RFC822_LEFT)
          if (!addr_put(w, t + --k)) return -1 ;
         /* delivered even when empty: <> is an address */
        if (!deliver(w)) return -1 ;
        if (k == start) return 0 ;
        if (!out_put(w, t + --k)) return -1 ;
         /* the phrase before '<' */
        while (k > start)
        {
          unsigned char y = t[k-1].type ;
          if (y != RFC822_COMMENT && y != RFC822_ATOM && y != RFC822_QUOTE && y != RFC822_AT && y != RFC822_DOT) break ;
          if (!out_put(w, t + --k)) return -1 ;
        }
        wordok = 0 ;
        break ;
      case RFC822_ATOM : case RFC822_QUOTE : case RFC822_LITERAL :
        if (!wordok && !flush(w, 1)) return -1 ;
        wordok = 0 ;
        if (!addr_put(w, t + --k)) return -1 ;
        break ;
      case RFC822_COMMENT :
         /* lexically a space: it goes around the address, not into it */
        if (!out_put(w, t + --k)) return -1 ;
        break ;
      case RFC822_COMMA :
        if (!flush(w, 0)) return -1 ;
        wordok = 1 ;
        if (!out_put(w, t + --k)) return -1 ;
        break ;
      default :
        wordok = 1 ;
        if (!addr_put(w, t + --k)) return -1 ;
        break ;
    }
  }
  if (!flush(w, 0)) return -1 ;
  while (k--) if (!out_put(w, t + k)) return -1 ;
  genalloc_reverse(rfc822_token, w->out) ;
  return 1 ;
}

int rfc822_addrlist (genalloc *out, rfc822_token const *t, size_t n, size_t start, rfc822_addr_func *f, void *data)
{
  walk w = { .out = out, .addr = GENALLOC_ZERO, .f = f, .data = data } ;
  int r ;
  if (start > n) start = n ;
  genalloc_setlen(rfc822_token, out, 0) ;
  r = walk_list(&w, t, n, start) ;
  genalloc_free(rfc822_token, &w.addr) ;
  if (!r) errno = EINVAL ;
  return r ;
}
