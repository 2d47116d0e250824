/* ISC license. */
/* Walking the queue's directories: see queuescan.h. */

#include <errno.h>
#include <string.h>
#include <dirent.h>
#include <skalibs/types.h>

#include <qmail-s6/queue.h>
#include <qmail-s6/queuescan.h>

void queuescan_init (queuescan *qs, char const *name, int split)
{
  qs->dir = 0 ;
  qs->name = name ;
  qs->nsub = split ? QUEUE_SPLIT : 0 ;
  qs->next = 0 ;
  qs->sub = 0 ;
  qs->path[0] = 0 ;
}

void queuescan_finish (queuescan *qs)
{
  if (qs->dir) closedir(qs->dir) ;
  qs->dir = 0 ;
}

 /* Opens the next directory of the walk.  1 opened, 0 none left, -1 error. */
static int queuescan_open (queuescan *qs)
{
  size_t n = strlen(qs->name) ;
  if (qs->nsub ? qs->next >= qs->nsub : qs->next >= 1) return 0 ;
  qs->sub = qs->nsub ? qs->next : 0 ;
  qs->next++ ;
  if (n > QUEUE_PATH_MAX - 8)
  {
    qs->path[0] = 0 ;
    errno = ENAMETOOLONG ;
    return -1 ;
  }
  memcpy(qs->path, qs->name, n) ;
  if (qs->nsub)
  {
    qs->path[n++] = '/' ;
    n += uint_fmt(qs->path + n, qs->sub) ;
  }
  qs->path[n] = 0 ;
  qs->dir = opendir(qs->path) ;
  return qs->dir ? 1 : -1 ;
}

int queuescan_next (queuescan *qs, char const **ent)
{
  for (;;)
  {
    struct dirent *d ;
    if (!qs->dir)
    {
      int r = queuescan_open(qs) ;
      if (r <= 0) return r ;
    }
    errno = 0 ;
    d = readdir(qs->dir) ;
    if (!d)
    {
      int e = errno ;
      closedir(qs->dir) ;
      qs->dir = 0 ;
      if (e) { errno = e ; return -1 ; }
      continue ;
    }
    if (d->d_name[0] == '.' && (!d->d_name[1] || (d->d_name[1] == '.' && !d->d_name[2]))) continue ;
    *ent = d->d_name ;
    return 1 ;
  }
}
