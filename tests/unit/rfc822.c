/* ISC license. */
/* Unit tests of src/lib/rfc822.c: field names, the tokenizer, rendering
   with folding, unquoting, and the right-to-left address list walk.  The
   expected values are qmail's (token822.c, hfield.c), written from the
   reference, not from our output. */

#include <errno.h>
#include <string.h>
#include <skalibs/genalloc.h>
#include <skalibs/stralloc.h>

#include <qmail-s6/rfc822.h>
#include "tap.h"

static genalloc toks = GENALLOC_ZERO ;
static stralloc buf = STRALLOC_ZERO ;
static stralloc out = STRALLOC_ZERO ;

static int tokenize (char const *s)
{
  return rfc822_tokenize(&toks, &buf, s, strlen(s)) ;
}

static rfc822_token *tok (size_t i)
{
  return genalloc_s(rfc822_token, &toks) + i ;
}

static size_t ntok (void)
{
  return genalloc_len(rfc822_token, &toks) ;
}

 /* tokenize then render (no folding): the canonical text of a field */
static char const *roundtrip (char const *s, size_t linelen)
{
  out.len = 0 ;
  if (tokenize(s) != 1) return "(parse error)" ;
  if (!rfc822_render(&out, genalloc_s(rfc822_token, &toks), ntok(), linelen)) return "(nomem)" ;
  if (!stralloc_0(&out)) return "(nomem)" ;
  out.len-- ;
  return out.s ;
}

 /* The address list callback: records each address, unquoted, with '|'
    after it; rewrites "x" (one atom) into "x@h" to show that the change
    lands in the output. */
static stralloc seen = STRALLOC_ZERO ;
static int record (genalloc *addr, void *data)
{
  rfc822_token *t = genalloc_s(rfc822_token, addr) ;
  size_t n = genalloc_len(rfc822_token, addr) ;
  (void)data ;
  if (n == 1 && t[0].type == RFC822_ATOM && t[0].len == 1 && t[0].s[0] == 'x')
  {
    static rfc822_token const at = { .s = 0, .len = 0, .type = RFC822_AT } ;
    static rfc822_token const h = { .s = "h", .len = 1, .type = RFC822_ATOM } ;
    if (!genalloc_append(rfc822_token, addr, &at) || !genalloc_append(rfc822_token, addr, &h)) return 0 ;
    t = genalloc_s(rfc822_token, addr) ;
    n += 2 ;
  }
  return rfc822_unquote(&seen, t, n) && stralloc_catb(&seen, "|", 1) ;
}

static genalloc list = GENALLOC_ZERO ;

 /* the field through the list walk: "rendered\n" then the addresses */
static char const *walk (char const *s)
{
  int r ;
  out.len = 0 ;
  seen.len = 0 ;
  if (tokenize(s) != 1) return "(parse error)" ;
  r = rfc822_addrlist(&list, genalloc_s(rfc822_token, &toks), ntok(), 2, &record, 0) ;
  if (r < 0) return "(nomem)" ;
  if (!r) return "(list error)" ;
  if (!rfc822_render(&out, genalloc_s(rfc822_token, &list), genalloc_len(rfc822_token, &list), 0)) return "(nomem)" ;
  if (!stralloc_cat(&out, &seen) || !stralloc_0(&out)) return "(nomem)" ;
  return out.s ;
}

int main (void)
{
   /* field names */
  TAP_OK(rfc822_field_known("To: a", 5) == RFC822_H_TO, "To is known") ;
  TAP_OK(rfc822_field_known("tO \t: a", 7) == RFC822_H_TO, "case and blanks before ':' do not matter") ;
  TAP_OK(rfc822_field_known("Toto: a", 7) == RFC822_H_UNKNOWN, "Toto is not To") ;
  TAP_OK(rfc822_field_known("To", 2) == RFC822_H_UNKNOWN, "no colon: unknown") ;
  TAP_OK(rfc822_field_known("RESENT-MESSAGE-ID:x", 19) == RFC822_H_R_MESSAGEID, "Resent-Message-ID") ;
  TAP_OK(rfc822_field_known("Mail-Followup-To: x", 19) == RFC822_H_MAILFOLLOWUPTO, "Mail-Followup-To") ;
  TAP_OK(rfc822_field_known("Resent_To: x", 12) == RFC822_H_UNKNOWN, "'-' must be '-'") ;
  TAP_OK(rfc822_field_valid("X-Any.Thing: v", 14), "a field with dots and dashes is valid") ;
  TAP_OK(rfc822_field_valid("Name  \t: v", 10), "blanks before the colon are allowed") ;
  TAP_OK(!rfc822_field_valid("Two words: v", 12), "a space inside the name is not") ;
  TAP_OK(!rfc822_field_valid(": v", 3), "an empty name is not") ;
  TAP_OK(!rfc822_field_valid("  : v", 5), "a blank name is not") ;
  TAP_OK(!rfc822_field_valid("no colon here", 13), "no colon: not a field") ;
  TAP_OK(!rfc822_field_valid("Sub\001ject: v", 11), "a control byte in the name is not") ;
  TAP_OK(!rfc822_field_valid("Gr\xfc\xdf" "e: v", 8), "an 8-bit byte in the name is not") ;
  TAP_OK(!rfc822_field_valid("N\0me: v", 7), "a NUL in the name is not") ;

   /* tokens */
  TAP_OK(tokenize("a.b@c") == 1 && ntok() == 5 && tok(0)->type == RFC822_ATOM && tok(1)->type == RFC822_DOT
    && tok(3)->type == RFC822_AT && tok(4)->len == 1 && tok(4)->s[0] == 'c', "atoms and specials") ;
  TAP_OK(tokenize(" \t\r\n") == 1 && ntok() == 0, "white space only: no token") ;
  TAP_OK(tokenize("\"a \\\"b\\\\\"") == 1 && ntok() == 1 && tok(0)->type == RFC822_QUOTE, "a quoted string") ;
  TAP_MEMEQ(tok(0)->s, tok(0)->len, "a \"b\\", "... unescaped") ;
  TAP_OK(tokenize("(a (b) \\) c)") == 1 && ntok() == 1 && tok(0)->type == RFC822_COMMENT, "a nested comment is one token") ;
  TAP_MEMEQ(tok(0)->s, tok(0)->len, "a b ) c", "... inner parentheses dropped, escaped one kept") ;
  TAP_OK(tokenize("[1.2.3.4]") == 1 && ntok() == 1 && tok(0)->type == RFC822_LITERAL, "a domain literal") ;
  TAP_MEMEQ(tok(0)->s, tok(0)->len, "1.2.3.4", "... its text") ;
  TAP_OK(tokenize("a\\,b") == 1 && ntok() == 1 && tok(0)->type == RFC822_ATOM, "a backslash quotes a special inside an atom") ;
  TAP_MEMEQ(tok(0)->s, tok(0)->len, "a,b", "... its text") ;
  TAP_OK(tokenize("ab)c") == 1 && ntok() == 1 && tok(0)->type == RFC822_QUOTE, "')' inside an atom makes it a quoted string") ;
  TAP_OK(tokenize("J\xfcrgen") == 1 && ntok() == 1 && tok(0)->type == RFC822_QUOTE, "an 8-bit atom becomes a quoted string") ;
  TAP_OK(tokenize("abc\\") == 1 && ntok() == 1 && tok(0)->len == 3, "a backslash at the very end is dropped") ;
  errno = 0 ;
  TAP_OK(tokenize(")a") == 0 && errno == EINVAL, "')' where a token starts: syntax error, EINVAL") ;
  TAP_OK(tokenize("]") == 0, "']' where a token starts: syntax error") ;
  TAP_OK(tokenize("(a (b)") == 0, "unterminated comment") ;
  TAP_OK(tokenize("\"abc") == 0, "unterminated quoted string") ;
  TAP_OK(tokenize("\"abc\\") == 0, "backslash at the end of a quoted string") ;
  TAP_OK(tokenize("[1.2") == 0, "unterminated literal") ;
  TAP_OK(rfc822_tokenize(&toks, &buf, "a\0b", 3) == 0, "a NUL byte is a syntax error") ;

   /* rendering: spacing */
  TAP_STREQ(roundtrip("To:a@b,c", 0), "To: a@b, c\n", "a space after ':' and ','") ;
  TAP_STREQ(roundtrip("From :  Joe   Q  < joe @ x . y >", 0), "From: Joe Q <joe@x.y>\n", "spaces between words and before '<' only") ;
  TAP_STREQ(roundtrip("X: a(c)\"q\"[l]", 0), "X: a (c) \"q\" [l]\n", "a space between any two words") ;
  TAP_STREQ(roundtrip("X: \"a\\\"(b)\"", 0), "X: \"a\\\"\\(b\\)\"\n", "quotes and parentheses escaped") ;
  TAP_STREQ(roundtrip("X: g:;", 0), "X: g: ;\n", "a group with no address") ;
  TAP_STREQ(roundtrip("X: ", 0), "X:\n", "no contents") ;

   /* rendering: folding after commas; a fold stays only where the line
      would be longer than the width, counting the two fold bytes */
  TAP_STREQ(roundtrip("To: aaaa, bbbb, cccc", 0), "To: aaaa, bbbb, cccc\n", "width 0: never fold") ;
  TAP_STREQ(roundtrip("To: aaaa, bbbb, cccc", 12), "To: aaaa,\n  bbbb,\n  cccc\n", "width 12: each address on its line") ;
  TAP_STREQ(roundtrip("To: aaaa, bbbb, cccc", 18), "To: aaaa, bbbb,\n  cccc\n", "width 18: 'To: aaaa, bbbb,' is 15, plus 2 fits") ;
  TAP_STREQ(roundtrip("To: aaaa, bbbb, cccc", 16), "To: aaaa,\n  bbbb, cccc\n", "width 16: 15 + 2 does not fit") ;
  TAP_STREQ(roundtrip("To: aaaa, bbbb, cccc", 22), "To: aaaa, bbbb, cccc\n", "width 22: the whole field fits") ;
  TAP_STREQ(roundtrip("To: aaaa, bbbb, cccc", 21), "To: aaaa, bbbb,\n  cccc\n", "width 21: the last piece does not") ;

   /* unquote */
  tokenize("\"joe smith\" @ [1.2.3.4] (comment)") ;
  out.len = 0 ;
  rfc822_unquote(&out, genalloc_s(rfc822_token, &toks), ntok()) ;
  TAP_MEMEQ(out.s, out.len, "joe smith@[1.2.3.4]", "unquote: quotes removed, literal bracketed, comment dropped") ;

   /* address lists: read right to left */
  TAP_STREQ(walk("To: a@b, c@d"), "To: a@b, c@d\nc@d|a@b|", "two addresses, the rightmost first") ;
  TAP_STREQ(walk("To: a@b c@d"), "To: a@b, c@d\nc@d|a@b|", "two words without a comma: two addresses, comma added") ;
  TAP_STREQ(walk("To: Joe Q <j@x>, \"R S\" <r@y>"), "To: Joe Q <j@x>, \"R S\" <r@y>\nr@y|j@x|", "phrases stay out of the address") ;
  TAP_STREQ(walk("To: <>"), "To: <>\n|", "<> is an empty address") ;
  TAP_STREQ(walk("To: <@r,@s:a@b>"), "To: <@r, @s: a@b>\n@r,@s:a@b|", "a route stays in the address (the caller strips it)") ;
  TAP_STREQ(walk("To: g: a@b, c@d;, e@f"), "To: g: a@b, c@d;, e@f\ne@f|c@d|a@b|", "a group's addresses, not its name") ;
  TAP_STREQ(walk("To: g: a@b; e@f"), "To: g: a@b;, e@f\ne@f|a@b|", "a comma goes after a group that lacks one") ;
  TAP_STREQ(walk("To: a@b (Joe)"), "To: a@b (Joe)\na@b|", "a comment goes around the address") ;
  TAP_STREQ(walk("To: x, y"), "To: x@h, y\ny|x@h|", "what the callback changes is in the output") ;
  TAP_STREQ(walk("To:"), "To:\n", "an empty list") ;
  TAP_STREQ(walk("To: a@b>"), "(list error)", "'>' without '<': syntax error") ;
  TAP_STREQ(walk("To: a: b"), "(list error)", "':' outside a group: syntax error") ;
  TAP_STREQ(walk("To: g: h: a;;"), "(list error)", "nested groups: syntax error") ;

  genalloc_free(rfc822_token, &toks) ;
  genalloc_free(rfc822_token, &list) ;
  stralloc_free(&buf) ;
  stralloc_free(&out) ;
  stralloc_free(&seen) ;
  return TAP_DONE() ;
}
