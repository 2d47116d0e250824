/* ISC license. */
/* Reading a text file line by line with a cap on the line length: the one
   reader for users/assign, passwd input and the like, so that no input can
   make a program hold an unbounded line in memory. */

#ifndef QMAIL_S6_LINEMAX_H
#define QMAIL_S6_LINEMAX_H

#include <stddef.h>
#include <skalibs/buffer.h>
#include <skalibs/stralloc.h>

 /* One line of b into sa, its newline included when there is one.
    1 a whole line; 0 end of file (sa holds what came before it, maybe
    nothing); -1 error (errno; E2BIG: the line has more than max bytes). */
extern int line_get_max (buffer *b, stralloc *sa, size_t max) ;

#endif
