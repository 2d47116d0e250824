/* ISC license. */
/* The connect-timeout tables, tcpto.h: one reader and writer for both. */

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include <sys/file.h>
#include <skalibs/allreadwrite.h>
#include <skalibs/djbunix.h>

#include <qmail-s6/tcpto.h>

 /* Where the fields are, per file. */
typedef struct layout_s layout ;
struct layout_s
{
  char const *file ;
  unsigned int reclen ;
  unsigned int iplen ;
  unsigned int countpos ;
  unsigned int whenpos ;
} ;

static layout const layouts[2] =
{
  { TCPTO_FILE4, 16, 4, 4, 8 },
  { TCPTO_FILE6, 32, 16, 16, 24 },
} ;

static uint32_t get_when (unsigned char const *r, layout const *l)
{
  unsigned char const *p = r + l->whenpos ;
  return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24) ;
}

static void put_when (unsigned char *r, layout const *l, uint32_t when)
{
  unsigned char *p = r + l->whenpos ;
  p[0] = when ; p[1] = when >> 8 ; p[2] = when >> 16 ; p[3] = when >> 24 ;
}

 /* Opens the file for writing, locks it, reads it into buf.  Returns the
    locked write descriptor and the number of whole records in *n, or -1. */
static int open_locked (layout const *l, unsigned char *buf, unsigned int *n)
{
  ssize_t r ;
  int fd = open(l->file, O_RDWR | O_CLOEXEC) ;
  if (fd < 0) return -1 ;
  if (flock(fd, LOCK_EX) < 0) { fd_close(fd) ; return -1 ; }
  r = allread(fd, (char *)buf, TCPTO_RECORDS * l->reclen) ;
  if (r < 0) { fd_close(fd) ; return -1 ; }
  *n = (size_t)r / l->reclen ;
  return fd ;
}

static void write_record (int fd, layout const *l, unsigned int i, unsigned char const *r)
{
  if (lseek(fd, (off_t)i * l->reclen, SEEK_SET) == (off_t)i * l->reclen)
    if (allwrite(fd, (char const *)r, l->reclen) < l->reclen) { /* qmail ignores it too */ }
}

int tcpto_skip (unsigned char const *ip, int is6, time_t now, pid_t pid, int *known)
{
  layout const *l = &layouts[!!is6] ;
  unsigned char buf[TCPTO_SIZE6] ;
  unsigned int n, i ;
  int fd ;
  *known = 0 ;
  fd = open_locked(l, buf, &n) ;
  if (fd < 0) return 0 ;
  fd_close(fd) ;
  for (i = 0 ; i < n ; i++)
  {
    unsigned char const *r = buf + i * l->reclen ;
    if (memcmp(r, ip, l->iplen)) continue ;
    *known = 1 ;
    if (r[l->countpos] >= 2 && (unsigned long)now - get_when(r, l) < ((60UL + (pid & 31)) << 6))
      return 1 ;
    return 0 ;
  }
  return 0 ;
}

void tcpto_note (unsigned char const *ip, int is6, int timedout, int known, time_t now)
{
  layout const *l = &layouts[!!is6] ;
  unsigned char buf[TCPTO_SIZE6] ;
  unsigned int n, i ;
  int fd ;
  if (!timedout && !known) return ;   /* nothing to reset: qmail's shortcut */
  fd = open_locked(l, buf, &n) ;
  if (fd < 0) return ;
  for (i = 0 ; i < n ; i++)
  {
    unsigned char *r = buf + i * l->reclen ;
    if (memcmp(r, ip, l->iplen)) continue ;
    if (!timedout) r[l->countpos] = 0 ;
    else
    {
      /* one slow peer answering several connections at once counts once */
      if (r[l->countpos] && (unsigned long)now < 120UL + get_when(r, l)) { fd_close(fd) ; return ; }
      if (++r[l->countpos] > 10) r[l->countpos] = 10 ;
      put_when(r, l, now) ;
    }
    write_record(fd, l, i, r) ;
    fd_close(fd) ;
    return ;
  }
  if (!timedout) { fd_close(fd) ; return ; }
  for (i = 0 ; i < n ; i++) if (!buf[i * l->reclen + l->countpos]) break ;
  if (i >= n)
  {
    /* no free record: replace the least interesting one */
    unsigned long best = 0 ;
    unsigned int j ;
    i = n ;
    for (j = 0 ; j < n ; j++)
    {
      unsigned char const *r = buf + j * l->reclen ;
      unsigned long score = get_when(r, l) + ((unsigned long)r[l->countpos] << 10) ;
      if (i == n || score < best) { i = j ; best = score ; }
    }
  }
  if (i < n)
  {
    unsigned char *r = buf + i * l->reclen ;
    memset(r, 0, l->reclen) ;
    memcpy(r, ip, l->iplen) ;
    r[l->countpos] = 1 ;
    put_when(r, l, now) ;
    write_record(fd, l, i, r) ;
  }
  fd_close(fd) ;
}

int tcpto_list (int is6, tcpto_entry *e, unsigned int *n)
{
  layout const *l = &layouts[!!is6] ;
  unsigned char buf[TCPTO_SIZE6] ;
  unsigned int nrec, i ;
  int fd = open_locked(l, buf, &nrec) ;
  *n = 0 ;
  if (fd < 0) return errno == ENOENT ? 0 : -1 ;
  fd_close(fd) ;
  for (i = 0 ; i < nrec ; i++)
  {
    unsigned char const *r = buf + i * l->reclen ;
    if (!r[l->countpos]) continue ;
    e[*n].is6 = !!is6 ;
    memset(e[*n].ip, 0, sizeof(e[*n].ip)) ;
    memcpy(e[*n].ip, r, l->iplen) ;
    e[*n].count = r[l->countpos] ;
    e[*n].when = get_when(r, l) ;
    (*n)++ ;
  }
  return 1 ;
}

int tcpto_clear (int is6)
{
  layout const *l = &layouts[!!is6] ;
  unsigned char zero[TCPTO_SIZE6] = { 0 } ;
  int fd = open(l->file, O_WRONLY | O_CLOEXEC) ;
  if (fd < 0) return 0 ;
  if (flock(fd, LOCK_EX) < 0
   || allwrite(fd, (char const *)zero, TCPTO_RECORDS * l->reclen) < TCPTO_RECORDS * l->reclen)
  {
    int e = errno ;
    fd_close(fd) ;
    errno = e ;
    return 0 ;
  }
  fd_close(fd) ;
  return 1 ;
}
