/* ISC license. */
/* maildir: delivery (tmp/ then new/), listing, and the tmp/ sweep. */

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <dirent.h>
#include <sys/stat.h>
#include <skalibs/allreadwrite.h>
#include <skalibs/djbunix.h>
#include <skalibs/genalloc.h>
#include <skalibs/stralloc.h>
#include <skalibs/types.h>

#include <qmail-s6/errtemp.h>
#include <qmail-s6/maildir.h>

 /* tmp/{time}.{pid}.{host}: qmail's unique name.  The host comes from
    gethostname, cut at 64 bytes as qmail does; '/' and ':' in it are
    written \057 and \072, as the maildir specification asks, so that the
    name stays one file name without a ':' (the start of a maildir info). */
static void make_name (char *s, time_t t, pid_t pid)
{
  char host[65] ;
  size_t n = 0, i ;
  host[0] = 0 ;
  if (gethostname(host, 64) < 0) host[0] = 0 ;
  host[64] = 0 ;
  memcpy(s, "tmp/", 4) ; n = 4 ;
  n += uint64_fmt(s + n, (uint64_t)t) ;
  s[n++] = '.' ;
  n += uint64_fmt(s + n, (uint64_t)pid) ;
  s[n++] = '.' ;
  for (i = 0 ; host[i] ; i++)
  {
    if (host[i] == '/') { memcpy(s + n, "\\057", 4) ; n += 4 ; }
    else if (host[i] == ':') { memcpy(s + n, "\\072", 4) ; n += 4 ; }
    else s[n++] = host[i] ;
  }
  s[n] = 0 ;
}

void maildir_abort (maildir_delivery *d)
{
  if (d->flagtmp && d->dfd >= 0) unlinkat(d->dfd, d->name, 0) ;
  d->flagtmp = 0 ;
}

static int fail (maildir_delivery *d, int fd, int code)
{
  int e = errno ;
  if (fd >= 0) close(fd) ;
  maildir_abort(d) ;
  if (d->dfd >= 0) { close(d->dfd) ; d->dfd = -1 ; }
  errno = e ;
  return code ;
}

int maildir_deliver (maildir_delivery *d, char const *dir, char const *pre, size_t prelen, int fdin)
{
  char buf[32768] ;
  char newname[MAILDIR_NAME_MAX] ;
  struct stat st ;
  unsigned int loop ;
  int fd, nfd ;

  d->flagtmp = 0 ;
  d->dfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC) ;
   /* qmail chdirs into the maildir: that needs search permission too */
  if (d->dfd >= 0 && faccessat(d->dfd, ".", X_OK, 0) < 0)
  {
    int e = errno ;
    close(d->dfd) ; d->dfd = -1 ;
    errno = e ;
  }
  if (d->dfd < 0) return qmail_error_temp(errno) ? MAILDIR_ETEMP : MAILDIR_ECHDIR ;

  for (loop = 0 ;; loop++)
  {
    make_name(d->name, time(0), getpid()) ;
    if (fstatat(d->dfd, d->name, &st, 0) < 0 && errno == ENOENT) break ;
    if (loop == 2) { if (errno != ENOENT) errno = EEXIST ; return fail(d, -1, MAILDIR_ETEMP) ; }
    sleep(2) ;
  }
  memcpy(newname, "new", 3) ;
  memcpy(newname + 3, d->name + 3, strlen(d->name + 3) + 1) ;

  fd = openat(d->dfd, d->name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644) ;
  if (fd < 0) return fail(d, -1, MAILDIR_ETEMP) ;
  d->flagtmp = 1 ;

  if (prelen && allwrite(fd, pre, prelen) < prelen) return fail(d, fd, MAILDIR_ETEMP) ;
  for (;;)
  {
    ssize_t r = fd_read(fdin, buf, sizeof(buf)) ;
    if (r < 0) return fail(d, fd, MAILDIR_EREAD) ;
    if (!r) break ;
    if (allwrite(fd, buf, r) < (size_t)r) return fail(d, fd, MAILDIR_ETEMP) ;
  }
  if (fsync(fd) < 0) return fail(d, fd, MAILDIR_ETEMP) ;
  if (close(fd) < 0) return fail(d, -1, MAILDIR_ETEMP) ;  /* NFS reports errors here */

  if (linkat(d->dfd, d->name, d->dfd, newname, 0) < 0) return fail(d, -1, MAILDIR_ETEMP) ;
  maildir_abort(d) ;

   /* beyond qmail: make the new/ entry durable before saying "delivered";
      if we cannot, take the message back and say "try again" */
  nfd = openat(d->dfd, "new", O_RDONLY | O_DIRECTORY | O_CLOEXEC) ;
  if (nfd < 0 || fsync(nfd) < 0)
  {
    int e = errno ;
    if (nfd >= 0) close(nfd) ;
    unlinkat(d->dfd, newname, 0) ;
    close(d->dfd) ; d->dfd = -1 ;
    errno = e ;
    return MAILDIR_ETEMP ;
  }
  close(nfd) ;
  close(d->dfd) ;
  d->dfd = -1 ;
  return MAILDIR_OK ;
}

static int msgcmp (void const *a, void const *b, void *names)
{
  maildir_msg const *x = a ;
  maildir_msg const *y = b ;
  if (x->mtime != y->mtime) return x->mtime < y->mtime ? -1 : 1 ;
  return strcmp((char const *)names + x->name, (char const *)names + y->name) ;
}

static int scan_dir (stralloc *names, genalloc *msgs, char const *sub, time_t now)
{
  DIR *dir = opendir(sub) ;
  if (!dir) return -1 ;
  for (;;)
  {
    struct dirent *de ;
    struct stat st ;
    size_t pos = names->len ;
    errno = 0 ;
    de = readdir(dir) ;
    if (!de) break ;
    if (de->d_name[0] == '.') continue ;
    if (!stralloc_cats(names, sub) || !stralloc_catb(names, "/", 1)
     || !stralloc_cats(names, de->d_name) || !stralloc_0(names)) goto nomem ;
    if (stat(names->s + pos, &st) == 0 && st.st_mtime < now)
    {
      maildir_msg m = { .mtime = st.st_mtime, .name = pos } ;
      if (!genalloc_append(maildir_msg, msgs, &m)) goto nomem ;
    }
    else names->len = pos ;
  }
  if (errno) { int e = errno ; closedir(dir) ; errno = e ; return -2 ; }
  closedir(dir) ;
  return 1 ;
 nomem:
  closedir(dir) ;
  errno = ENOMEM ;
  return 0 ;
}

int maildir_scan (stralloc *names, genalloc *msgs, int flagnew, int flagcur, time_t now, char const **errdir)
{
  names->len = 0 ;
  genalloc_setlen(maildir_msg, msgs, 0) ;
  if (flagnew)
  {
    int r = scan_dir(names, msgs, "new", now) ;
    if (r <= 0) { *errdir = "new" ; return r ; }
  }
  if (flagcur)
  {
    int r = scan_dir(names, msgs, "cur", now) ;
    if (r <= 0) { *errdir = "cur" ; return r ; }
  }
  if (genalloc_len(maildir_msg, msgs) > 1)
    qsort_r(genalloc_s(maildir_msg, msgs), genalloc_len(maildir_msg, msgs), sizeof(maildir_msg), &msgcmp, names->s) ;
  return 1 ;
}

void maildir_clean (time_t now)
{
  DIR *dir = opendir("tmp") ;
  if (!dir) return ;
  for (;;)
  {
    struct dirent *de = readdir(dir) ;
    struct stat st ;
    size_t n ;
    if (!de) break ;
    if (de->d_name[0] == '.') continue ;
    n = strlen(de->d_name) ;
    {
      char path[5 + n] ;
      memcpy(path, "tmp/", 4) ;
      memcpy(path + 4, de->d_name, n + 1) ;
      if (stat(path, &st) == 0 && now > st.st_atime + 129600) unlink(path) ;
    }
  }
  closedir(dir) ;
}
