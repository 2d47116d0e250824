/* ISC license. */
/*
   qmail-mkqueue: create the queue under the home, or complete a partial one.

   Who runs it: tools/install (as root) and tools/sandbox (as anyone).
   Creates every directory of queue_layout (mess/, info/, local/, remote/ with
   their 23 split subdirectories), lock/tcpto (1024 NULs), lock/tcpto6 (2048 NULs, ours: the IPv6
   connect timeouts), lock/sendmutex and
   the lock/trigger FIFO, with qmail's owners (looked up at run time, or the
   sandbox user), group qmail and modes.  Existing entries are left as they
   are: qmail-qcheck says what is wrong with them.  Exits 0, 100 usage,
   111 on any failure.
*/

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <skalibs/allreadwrite.h>
#include <skalibs/djbunix.h>
#include <skalibs/strerr.h>
#include <skalibs/types.h>

#include <qmail-s6/home.h>
#include <qmail-s6/ids.h>
#include <qmail-s6/queue.h>

#define USAGE "qmail-mkqueue"

static void own (char const *path, uid_t uid, gid_t gid, mode_t mode)
{
  if (chown(path, uid, gid) < 0 && !(errno == EPERM && geteuid() == uid))
    strerr_diefu2sys(111, "chown ", path) ;
  if (chmod(path, mode) < 0) strerr_diefu2sys(111, "chmod ", path) ;
}

 /* 1 made, 0 was there */
static int make_dir (char const *path, uid_t uid, gid_t gid, mode_t mode)
{
  if (mkdir(path, 0700) < 0)
  {
    if (errno == EEXIST) return 0 ;
    strerr_diefu2sys(111, "mkdir ", path) ;
  }
  own(path, uid, gid, mode) ;
  return 1 ;
}

static void make_file (char const *path, size_t size, uid_t uid, gid_t gid, mode_t mode)
{
  char zero[1024] = { 0 } ;
  int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600) ;
  if (fd < 0)
  {
    if (errno == EEXIST) return ;
    strerr_diefu2sys(111, "create ", path) ;
  }
  while (size)
  {
    size_t n = size < sizeof(zero) ? size : sizeof(zero) ;
    if (allwrite(fd, zero, n) < n) strerr_diefu2sys(111, "write ", path) ;
    size -= n ;
  }
  if (fsync(fd) < 0) strerr_diefu2sys(111, "fsync ", path) ;
  fd_close(fd) ;
  own(path, uid, gid, mode) ;
}

static void make_fifo (char const *path, uid_t uid, gid_t gid, mode_t mode)
{
  if (mkfifo(path, 0600) < 0)
  {
    if (errno == EEXIST) return ;
    strerr_diefu2sys(111, "mkfifo ", path) ;
  }
  own(path, uid, gid, mode) ;
}

int main (int argc, char const *const *argv)
{
  qmail_ids ids ;
  char const *what ;
  size_t i ;
  PROG = "qmail-mkqueue" ;
  if (argc > 1) strerr_dieusage(100, USAGE) ;
  umask(077) ;
  if (!qmail_chdir_home()) strerr_diefu2sys(111, "chdir to ", qmail_home()) ;
  if (!qmail_ids_get(&ids, &what)) strerr_diefu2sys(111, "find the qmail user or group ", what) ;
  for (i = 0 ; i < queue_layout_n ; i++)
  {
    queue_entry const *e = queue_layout + i ;
    uid_t uid = queue_owner_uid(&ids, e->owner) ;
    size_t n = strlen(e->name) ;
    char path[n + 20] ;
    memcpy(path, "queue", 5) ;
    if (n) { path[5] = '/' ; memcpy(path + 6, e->name, n + 1) ; }
    else path[5] = 0 ;
    switch (e->kind)
    {
      case QUEUE_KIND_DIR : make_dir(path, uid, ids.qmail, e->mode) ; break ;
      case QUEUE_KIND_SPLITDIR :
      {
        unsigned int j ;
        size_t m = strlen(path) ;
        make_dir(path, uid, ids.qmail, e->mode) ;
        for (j = 0 ; j < QUEUE_SPLIT ; j++)
        {
          path[m] = '/' ;
          path[m + 1 + uint_fmt(path + m + 1, j)] = 0 ;
          make_dir(path, uid, ids.qmail, e->mode) ;
        }
        break ;
      }
      case QUEUE_KIND_FILE : make_file(path, e->size, uid, ids.qmail, e->mode) ; break ;
      case QUEUE_KIND_FIFO : make_fifo(path, uid, ids.qmail, e->mode) ; break ;
    }
  }
  return 0 ;
}
