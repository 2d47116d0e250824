/* ISC license. */
/*
   qmail-clean: remove queue files on qmail-send's behalf.

   Who runs it: qmail-start, as qmailq (the owner of mess/, intd/, todo/,
   pid/, which qmail-send, as qmails, cannot touch).  cwd: HOME/queue.
   Protocol (fd 0 from qmail-send, fd 1 back), one request at a time:
     "todo/{id}\0"  unlink intd/{id}, then todo/{id}: preprocessing is done
     "foop/{id}\0"  unlink intd/{id}, then mess/{split}/{id}: message done
   Reply: one byte, '+' done (a file already gone counts as done), '!' an
   unlink failed, 'x' a malformed request (shorter than 7 or longer than 100
   bytes counting its NUL, another prefix, an id that is not a number).
   Every 30 requests it also removes pid/ files unused for 36 hours, the
   leftovers of qmail-queue runs that were killed.
   Exits 0 when qmail-send closes the pipe, 111 on a read or write error.
*/

#include <errno.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <dirent.h>
#include <sys/stat.h>
#include <skalibs/allreadwrite.h>
#include <skalibs/buffer.h>
#include <skalibs/strerr.h>

#include <qmail-s6/envelope.h>
#include <qmail-s6/home.h>
#include <qmail-s6/queue.h>

#define REQUEST_MAX 100
#define OSSIFIED 129600   /* 36 h: must exceed qmail-queue's 24 h limit */
#define CLEAN_EVERY 30

static void clean_pid_dir (void)
{
  time_t now = time(0) ;
  DIR *dir = opendir("pid") ;
  if (!dir) return ;
  for (;;)
  {
    struct dirent *d ;
    struct stat st ;
    char path[sizeof("pid/") + 256] ;
    size_t n ;
    errno = 0 ;
    d = readdir(dir) ;
    if (!d) break ;
    if (d->d_name[0] == '.') continue ;
    n = strlen(d->d_name) ;
    if (n > 255) continue ;
    memcpy(path, "pid/", 4) ;
    memcpy(path + 4, d->d_name, n + 1) ;
    if (stat(path, &st) < 0) continue ;
    if (now > st.st_atime + OSSIFIED) unlink(path) ;
  }
  closedir(dir) ;
}

static int unlink_ok (char const *path)
{
  return unlink(path) == 0 || errno == ENOENT ;
}

static char handle (char const *req, size_t len)
{
  unsigned long id ;
  char path[QUEUE_PATH_MAX] ;
  char idbuf[REQUEST_MAX + 1] ;
  int istodo ;
  if (len + 1 < 7 || len + 1 > REQUEST_MAX) return 'x' ;
  if (!memcmp(req, "todo/", 5)) istodo = 1 ;
  else if (!memcmp(req, "foop/", 5)) istodo = 0 ;
  else return 'x' ;
  memcpy(idbuf, req + 5, len - 5) ;
  idbuf[len - 5] = 0 ;
  if (!queue_id_scan(idbuf, &id)) return 'x' ;
  queue_path(path, "intd", id) ;
  if (!unlink_ok(path)) return '!' ;
  queue_path(path, istodo ? "todo" : "mess", id) ;
  if (!unlink_ok(path)) return '!' ;
  return '+' ;
}

int main (int argc, char const *const *argv)
{
  char inbuf[1024] ;
  buffer in = BUFFER_INIT(&buffer_read, 0, inbuf, sizeof(inbuf)) ;
  unsigned int count = 0 ;
  PROG = "qmail-clean" ;
  (void)argc ; (void)argv ;
  if (!qmail_chdir_home()) strerr_diefu2sys(111, "chdir to ", qmail_home()) ;
  if (chdir("queue") < 0) strerr_diefu1sys(111, "chdir to queue") ;
  for (;;)
  {
    char req[REQUEST_MAX] ;
    size_t len ;
    char reply ;
    int r = text0_get(&in, req, sizeof(req), &len) ;
    if (!r) return 0 ;
    if (r == -1) strerr_diefu1sys(111, "read from qmail-send") ;
    if (r == -2)
    {
      /* longer than any request: skip to its NUL, refuse it */
      char c ;
      ssize_t g ;
      do g = buffer_get(&in, &c, 1) ; while (g == 1 && c) ;
      if (g < 0) strerr_diefu1sys(111, "read from qmail-send") ;
      reply = 'x' ;
    }
    else reply = handle(req, len) ;
    if (fd_write(1, &reply, 1) != 1) strerr_diefu1sys(111, "write to qmail-send") ;
    if (++count >= CLEAN_EVERY) { count = 0 ; clean_pid_dir() ; }
  }
}
