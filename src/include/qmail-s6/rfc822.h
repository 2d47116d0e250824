/* ISC license. */
/* RFC 822 message headers as qmail reads them: field names, the tokens of
   structured fields, address lists, and rendering tokens back to text.

   The grammar is qmail's (token822/hfield), not a stricter modern one, so
   that headers come out of qmail-inject the way they came out of qmail:
   - tokens: atoms, "quoted strings", [domain literals], (comments) and the
     specials . , @ < > : ;  Spaces, tabs, CR and LF only separate tokens.
     A backslash quotes the next byte anywhere.  Nested parentheses inside a
     comment are dropped (the words stay).  A ')' or ']' where a token
     starts, or an unterminated comment, string or literal, is a syntax
     error.  An atom holding a byte that cannot be written bare (a control
     byte, a byte above 126, ')', ']' or '\') becomes a quoted string.
     Unlike qmail, a NUL byte anywhere is a syntax error: an address with a
     NUL in it could not be written to the envelope without truncation.
   - address lists are read right to left, which makes "a@b c@d" two
     addresses ("a@b, c@d") and keeps groups ("name: a, b;") whole.
   - rendering puts one space where qmail does, and folds after commas so
     that lines stay within a given width. */

#ifndef QMAIL_S6_RFC822_H
#define QMAIL_S6_RFC822_H

#include <stddef.h>
#include <stdint.h>
#include <skalibs/genalloc.h>
#include <skalibs/stralloc.h>

 /* Field names that mean something to qmail (hfield's list, same order). */
enum rfc822_field_e
{
  RFC822_H_UNKNOWN = 0,
  RFC822_H_SENDER,
  RFC822_H_FROM,
  RFC822_H_REPLYTO,
  RFC822_H_TO,
  RFC822_H_CC,
  RFC822_H_BCC,
  RFC822_H_DATE,
  RFC822_H_MESSAGEID,
  RFC822_H_SUBJECT,
  RFC822_H_R_SENDER,
  RFC822_H_R_FROM,
  RFC822_H_R_REPLYTO,
  RFC822_H_R_TO,
  RFC822_H_R_CC,
  RFC822_H_R_BCC,
  RFC822_H_R_DATE,
  RFC822_H_R_MESSAGEID,
  RFC822_H_RETURNRECEIPTTO,
  RFC822_H_ERRORSTO,
  RFC822_H_APPARENTLYTO,
  RFC822_H_RECEIVED,
  RFC822_H_RETURNPATH,
  RFC822_H_DELIVEREDTO,
  RFC822_H_CONTENTLENGTH,
  RFC822_H_CONTENTTYPE,
  RFC822_H_CONTENTTRANSFERENCODING,
  RFC822_H_NOTICEREQUESTEDUPONDELIVERYTO,
  RFC822_H_MAILFOLLOWUPTO,
  RFC822_H_NUM
} ;

 /* Which known field s[0..len) (a whole field, name first) is: the name,
    in any case, then optional spaces and tabs, then ':'.
    RFC822_H_UNKNOWN when none. */
extern unsigned int rfc822_field_known (char const *s, size_t len) ;

 /* Is s[0..len) a field line?  It has a ':', and the name before it (minus
    trailing spaces and tabs) is not empty and only holds bytes 33..126. */
extern int rfc822_field_valid (char const *s, size_t len) ;

enum rfc822_type_e
{
  RFC822_ATOM = 1,
  RFC822_QUOTE,
  RFC822_LITERAL,
  RFC822_COMMENT,
  RFC822_DOT,
  RFC822_COMMA,
  RFC822_AT,
  RFC822_LEFT,
  RFC822_RIGHT,
  RFC822_COLON,
  RFC822_SEMI
} ;

 /* A word's text is unescaped and without its delimiters; it points into a
    buffer that the caller keeps alive.  Specials have no text. */
typedef struct rfc822_token_s rfc822_token, *rfc822_token_ref ;
struct rfc822_token_s
{
  char const *s ;
  uint32_t len ;
  unsigned char type ;
} ;

 /* Tokenizes s[0..len) into *tokens (a genalloc of rfc822_token, emptied
    first).  The words' text goes into buf, emptied first and sized once, so
    the tokens stay valid until buf is used or freed again.
    1 ok; 0 syntax error (errno EINVAL); -1 out of memory, or len does not
    fit 32 bits (errno EOVERFLOW). */
extern int rfc822_tokenize (genalloc *tokens, stralloc *buf, char const *s, size_t len) ;

 /* Appends the text of t[0..n) to sa, qmail's way: a space after ':' and
    ',', before '<' and between two words; each ',' is a place to fold, and
    a fold ("\n ") is kept only where the line would otherwise be longer than
    linelen (0: never fold).  Ends with "\n".  1 ok, 0 out of memory. */
extern int rfc822_render (stralloc *sa, rfc822_token const *t, size_t n, size_t linelen) ;

 /* Appends the address t[0..n) as the envelope carries it: the words' text
    and the specials, literals in [], comments dropped.  1 ok, 0 nomem. */
extern int rfc822_unquote (stralloc *sa, rfc822_token const *t, size_t n) ;

 /* Called with each address of a list, its tokens left to right (the
    brackets of <...> not included; <> is an empty address).  It may change
    the address (the genalloc of rfc822_token).  1 ok, 0 failure (errno). */
typedef int rfc822_addr_func (genalloc *addr, void *data) ;

 /* Walks the address list t[start..n) right to left, calls f on every
    address (so the rightmost address comes first), and makes *out (a genalloc
    of rfc822_token, emptied first) the whole list t[0..n) with each address
    replaced by what f left, and a ',' inserted between two addresses that
    had none.  t[0..start) (normally the field name and its ':') is copied.
    1 ok; 0 syntax error (errno EINVAL); -1 out of memory or f failed. */
extern int rfc822_addrlist (genalloc *out, rfc822_token const *t, size_t n, size_t start, rfc822_addr_func *f, void *data) ;

#endif
