/* ISC license. */
/* qmail's text0 records: a letter, bytes without NUL, a NUL.
   Used by the envelope on qmail-queue's fd 1 (F, T, then a lone NUL), by the
   intd/ and todo/ files (u, p, F, T) and by info/, local/, remote/ (F, T, D). */

#ifndef QMAIL_S6_ENVELOPE_H
#define QMAIL_S6_ENVELOPE_H

#include <stddef.h>
#include <skalibs/buffer.h>
#include <skalibs/stralloc.h>

 /* qmail-queue's limit: an address of this many bytes with no NUL is refused. */
#define ENVELOPE_ADDR_MAX 1003

 /* Appends letter, s[0..n), NUL.  1 ok, 0 out of memory. */
extern int text0_cat (stralloc *sa, char letter, char const *s, size_t n) ;
extern int text0_cats (stralloc *sa, char letter, char const *s) ;

 /* Next record of s[0..len) starting at *pos.  On 1, *rec points at the
    record (letter first) and *reclen counts the letter and the bytes, not the
    NUL; *pos moves past the NUL.  0 at the end, -1 for an unterminated last
    record (errno EPROTO). */
extern int text0_next (char const *s, size_t len, size_t *pos, char const **rec, size_t *reclen) ;

 /* Stream reader for an envelope: reads bytes from b up to and including a
    NUL into dst (max bytes at most, NUL included).
    Returns 1 with *n = length without the NUL; 0 on EOF before the NUL;
    -1 on read error (errno); -2 when max bytes came without a NUL. */
extern int text0_get (buffer *b, char *dst, size_t max, size_t *n) ;

#endif
