/* ISC license. */
/*
   qmail-qstat: how many messages are in the queue.

   Who runs it: the administrator and monitoring scripts (e.g. check_mailq),
   as anyone who can read queue/mess and queue/todo (root, or a member of
   group qmail).  No privileges of its own; changes nothing.  Arguments are
   ignored, as qmail's script ignores them.

   qmail's qmail-qstat is a shell script that runs find on each match of
   the glob "queue/mess/" + "*" and on queue/todo, and subtracts the
   starting points from the counts:
     messages in queue:  what find prints below the glob's matches
     messages in queue but not yet preprocessed:
                         what find prints below queue/todo
   i.e. every entry below the split directories of mess/, and every entry
   below todo/, at any depth, directories included.  We count the same
   things with readdir (no word splitting of names, no subshells), and print
     messages in queue: {N}
     messages in queue but not yet preprocessed: {M}
   Where the script would count a directory it cannot read as empty and
   print a wrong number, we stop: exit 111 with a message on stderr and
   nothing on stdout.  Exits 0 otherwise.
*/

#include <errno.h>
#include <limits.h>
#include <string.h>
#include <unistd.h>
#include <dirent.h>
#include <sys/stat.h>
#include <skalibs/buffer.h>
#include <skalibs/strerr.h>
#include <skalibs/types.h>

#include <qmail-s6/home.h>

 /* The queue has two levels; deeper trees are counted down to this depth,
    which also bounds the open directories and the stack. */
#define DEPTH_MAX 8

static int is_dot (char const *s)
{
  return s[0] == '.' && (!s[1] || (s[1] == '.' && !s[2])) ;
}

 /* Is path, an entry just read with its d_type, a directory?  A symlink is
    not: find does not follow them. */
static int is_dir (char const *path, unsigned char type)
{
  struct stat st ;
  if (type == DT_DIR) return 1 ;
  if (type != DT_UNKNOWN) return 0 ;
  if (lstat(path, &st) < 0)
  {
    if (errno == ENOENT) return 0 ;  /* gone while we looked */
    strerr_diefu2sys(111, "stat ", path) ;
  }
  return S_ISDIR(st.st_mode) ;
}

 /* Entries below path (a directory), at any depth, like `find path` minus
    path itself.  path has room for PATH_MAX bytes. */
static unsigned long count_below (char *path, size_t len, unsigned int depth)
{
  unsigned long n = 0 ;
  DIR *dir = opendir(path) ;
  if (!dir) strerr_diefu2sys(111, "open directory ", path) ;
  for (;;)
  {
    struct dirent *d ;
    size_t k ;
    errno = 0 ;
    d = readdir(dir) ;
    if (!d)
    {
      if (errno) strerr_diefu2sys(111, "read directory ", path) ;
      break ;
    }
    if (is_dot(d->d_name)) continue ;
    n++ ;
    if (depth + 1 >= DEPTH_MAX) continue ;
    k = strlen(d->d_name) ;
    if (len + 1 + k >= PATH_MAX) continue ;
    path[len] = '/' ;
    memcpy(path + len + 1, d->d_name, k + 1) ;
    if (is_dir(path, d->d_type)) n += count_below(path, len + 1 + k, depth + 1) ;
    path[len] = 0 ;
  }
  closedir(dir) ;
  return n ;
}

 /* The glob "queue/mess/" + "*" skips names starting with '.'; find then
    counts everything below each match. */
static unsigned long count_mess (void)
{
  char path[PATH_MAX] = "queue/mess" ;
  size_t len = 10 ;
  unsigned long n = 0 ;
  DIR *dir = opendir(path) ;
  if (!dir) strerr_diefu2sys(111, "open directory ", path) ;
  for (;;)
  {
    struct dirent *d ;
    size_t k ;
    errno = 0 ;
    d = readdir(dir) ;
    if (!d)
    {
      if (errno) strerr_diefu2sys(111, "read directory ", "queue/mess") ;
      break ;
    }
    if (d->d_name[0] == '.') continue ;
    k = strlen(d->d_name) ;
    if (len + 1 + k >= PATH_MAX) continue ;
    path[len] = '/' ;
    memcpy(path + len + 1, d->d_name, k + 1) ;
    if (is_dir(path, d->d_type)) n += count_below(path, len + 1 + k, 1) ;
    path[len] = 0 ;
  }
  closedir(dir) ;
  return n ;
}

int main (int argc, char const *const *argv)
{
  char todo[PATH_MAX] = "queue/todo" ;
  char fmt[ULONG_FMT] ;
  unsigned long mess, pending ;
  PROG = "qmail-qstat" ;
  (void)argc ; (void)argv ;

  if (!qmail_chdir_home()) strerr_diefu2sys(111, "chdir to ", qmail_home()) ;
  mess = count_mess() ;
  pending = count_below(todo, 10, 0) ;

  if (buffer_puts(buffer_1, "messages in queue: ") < 0
   || buffer_put(buffer_1, fmt, ulong_fmt(fmt, mess)) < 0
   || buffer_puts(buffer_1, "\nmessages in queue but not yet preprocessed: ") < 0
   || buffer_put(buffer_1, fmt, ulong_fmt(fmt, pending)) < 0
   || buffer_putflush(buffer_1, "\n", 1) < 0)
    strerr_diefu1sys(111, "write to stdout") ;
  return 0 ;
}
