/* ISC license. */
/* Mail addresses: quoting of the local part (the "box") for Return-Path,
   SMTP and headers, and case-insensitive domains. */

#ifndef QMAIL_S6_ADDRESS_H
#define QMAIL_S6_ADDRESS_H

#include <stddef.h>
#include <skalibs/stralloc.h>

 /* Does the local part s[0..n) need "..." quoting?  (empty, a byte outside
    RFC 5322 atext and '.', a leading or trailing dot, two dots in a row) */
extern int addr_box_needs_quote (char const *s, size_t n) ;

 /* Appends the box s[0..n) to sa, quoted when needed ("..." with \ before
    " \ CR LF).  1 ok, 0 out of memory. */
extern int addr_box_quote_cat (stralloc *sa, char const *s, size_t n) ;

 /* Appends addr (local@domain, the last '@' splits) to sa with the box quoted
    when needed.  An empty address stays empty; one without '@' is all box.
    1 ok, 0 out of memory. */
extern int addr_quote_cat (stralloc *sa, char const *addr, size_t n) ;

 /* Position of the '@' that splits local part and domain: the last one;
    n when there is none. */
extern size_t addr_at (char const *s, size_t n) ;

 /* Case-insensitive comparison of domains: 1 equal, 0 not. */
extern int addr_domain_equal (char const *a, size_t alen, char const *b, size_t blen) ;

#endif
