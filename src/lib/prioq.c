/* ISC license. */
/* Binary min-heap on dt; among equal times the order is unspecified. */

#include <errno.h>
#include <stdlib.h>

#include <qmail-s6/prioq.h>

int prioq_insert (prioq *q, prioq_elt const *e)
{
  size_t i ;
  if (q->len >= q->cap)
  {
    size_t ncap = q->cap ? 2 * q->cap : 64 ;
    prioq_elt *np ;
    if (q->len >= PRIOQ_MAX) { errno = ENOMEM ; return 0 ; }
    if (ncap > PRIOQ_MAX) ncap = PRIOQ_MAX ;
    np = realloc(q->p, ncap * sizeof(prioq_elt)) ;
    if (!np) return 0 ;
    q->p = np ;
    q->cap = ncap ;
  }
  i = q->len++ ;
  while (i)
  {
    size_t parent = (i - 1) / 2 ;
    if (q->p[parent].dt <= e->dt) break ;
    q->p[i] = q->p[parent] ;
    i = parent ;
  }
  q->p[i] = *e ;
  return 1 ;
}

int prioq_min (prioq const *q, prioq_elt *e)
{
  if (!q->len) return 0 ;
  *e = q->p[0] ;
  return 1 ;
}

void prioq_delmin (prioq *q)
{
  size_t i = 0 ;
  prioq_elt last ;
  if (!q->len) return ;
  last = q->p[--q->len] ;
  for (;;)
  {
    size_t c = 2 * i + 1 ;
    if (c >= q->len) break ;
    if (c + 1 < q->len && q->p[c + 1].dt < q->p[c].dt) c++ ;
    if (last.dt <= q->p[c].dt) break ;
    q->p[i] = q->p[c] ;
    i = c ;
  }
  if (q->len) q->p[i] = last ;
}

void prioq_free (prioq *q)
{
  free(q->p) ;
  q->p = 0 ;
  q->len = q->cap = 0 ;
}
