/* ISC license. */
/* A binary min-heap of (time, message id): qmail-send's schedule. */

#ifndef QMAIL_S6_PRIOQ_H
#define QMAIL_S6_PRIOQ_H

#include <stddef.h>
#include <time.h>

typedef struct prioq_elt_s prioq_elt ;
struct prioq_elt_s
{
  time_t dt ;
  unsigned long id ;
} ;

typedef struct prioq_s prioq, *prioq_ref ;
struct prioq_s
{
  prioq_elt *p ;
  size_t len ;
  size_t cap ;
} ;
#define PRIOQ_ZERO { 0, 0, 0 }

 /* Never more than this many entries: a queue that large is refused
    (the caller logs and retries later) instead of eating all memory. */
#define PRIOQ_MAX (64UL << 20)

 /* 1 ok, 0 out of memory or full (errno ENOMEM). */
extern int prioq_insert (prioq *q, prioq_elt const *e) ;
 /* 1 and *e = the earliest entry, 0 when empty. */
extern int prioq_min (prioq const *q, prioq_elt *e) ;
extern void prioq_delmin (prioq *q) ;
extern void prioq_free (prioq *q) ;

#endif
