/* ISC license. */
/*
   qmail-qcheck: check that the queue is consistent.  Read-only.

   Who runs it: the administrator, as root (it must read every directory of
   the queue, and qmails' info/ local/ remote/ bounce/ are mode 0700); after
   a crash, after moving or restoring a queue, from cron, from tests.  It
   changes nothing and takes no options.  qmail has no such tool;
   qmail-qsanity (a Perl script) is the closest.  Unlike qmail-qsanity, a
   message still in todo/ is not reported: it waits for qmail-send.

   What it checks, under the home's queue/ (the owners and modes come from
   queue_layout, the table qmail-mkqueue creates the queue from; the users
   are looked up at run time, or are the sandbox user):
     - every directory, lock file and FIFO of the layout, the 23 split
       subdirectories of mess/ info/ local/ remote/ included: present, of
       the right type, owner, group qmail and mode;
     - nothing else in a split directory but its subdirectories 0..22;
     - every message file: a numeric name (no leading zero), in the split
       subdirectory id % 23, a regular file, owned by qmailq mode 0644
       (mess/ intd/ todo/) or by qmails mode 0600 (info/ local/ remote/
       bounce/); a mess/ file's inode number is its name (qmail-queue names
       it so; a copied queue breaks that, and new ids then collide);
     - the files of each message against each other (below);
     - pid/ is empty.

   Output: one line per problem on stdout, "{tag}: {path}: {explanation}",
   path relative to queue/ ("." is queue/ itself), bytes outside 32..126 in
   names shown as '?'.  Tags:
     stale-pid      a file in pid/: left by an interrupted qmail-queue
     stale-mess     mess/ file with neither todo/ nor info/: same
     stale-intd     intd/ file with no todo/ link: same
     missing        a directory, lock file or FIFO of the layout is absent
     owner          wrong owner, or wrong group for a part of the layout
     mode           wrong permission bits
     type           not a regular file / not a directory / not a FIFO
     split          a file in the wrong split subdirectory, or outside them
     name           a name that is not a message id; a mess/ inode that is
                    not its name
     no-mess        a todo/ intd/ info/ local/ remote/ bounce/ file whose
                    mess/ file is missing
     no-info        a local/ remote/ bounce/ file without info/ (and not
                    in todo/)
     no-recipients  an info/ file with neither local/ nor remote/ (and not
                    in todo/)
   The stale-* leftovers are what qmail's rules remove by themselves after
   36 hours (qmail-send's cleanup through qmail-clean); every other line is
   damage that nothing repairs.  On a running system, files that
   qmail-queue, qmail-send or qmail-clean are handling at that instant can
   show up as problems: run it again, or stop qmail-send first.

   Memory does not grow with the queue: one directory is open at a time
   (queuescan), and each file is checked by lstat() of the few files of its
   message.

   Exits 0 when no problem was found, 1 when some were, 100 on usage, 111
   when the queue cannot be read (with "qmail-qcheck: fatal: ..." on stderr;
   the lines written until then are true problems).
*/

#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <dirent.h>
#include <skalibs/buffer.h>
#include <skalibs/strerr.h>
#include <skalibs/types.h>

#include <qmail-s6/home.h>
#include <qmail-s6/ids.h>
#include <qmail-s6/queue.h>
#include <qmail-s6/queuescan.h>

#define USAGE "qmail-qcheck"

 /* Room for "remote/22/" and a file name. */
#define PATHBUF (QUEUE_PATH_MAX + NAME_MAX + 2)

static qmail_ids ids ;
static unsigned long problems = 0 ;

static void flushout (void)
{
  buffer_flush(buffer_1) ;
}

static void die_sys (char const *what, char const *path) __attribute__((noreturn)) ;
static void die_sys (char const *what, char const *path)
{
  int e = errno ;
  flushout() ;
  errno = e ;
  strerr_diefu3sys(111, what, " ", path) ;
}

static void put (char const *s, size_t n)
{
  if (buffer_put(buffer_1, s, n) < 0) strerr_diefu1sys(111, "write to stdout") ;
}

static void puts_ (char const *s)
{
  if (s) put(s, strlen(s)) ;
}

 /* Names come from readdir: one line per problem whatever they hold. */
static void putsafe (char const *s)
{
  for (; *s ; s++)
  {
    char c = ((unsigned char)*s < 32 || (unsigned char)*s > 126) ? '?' : *s ;
    put(&c, 1) ;
  }
}

 /* "tag: path: {pieces}": one line, one problem.  The pieces are a
    null-terminated list; PROBLEM() builds it. */
static void problem (char const *tag, char const *path, char const *const *v)
{
  problems++ ;
  puts_(tag) ; put(": ", 2) ;
  putsafe(path) ; put(": ", 2) ;
  for (; *v ; v++) puts_(*v) ;
  put("\n", 1) ;
}
#define PROBLEM(tag, path, ...) problem(tag, path, (char const *const[]){ __VA_ARGS__, 0 })

static char const *owner_name (enum queue_owner_e o)
{
  switch (o)
  {
    case QUEUE_OWNER_QMAILS : return "qmails" ;
    case QUEUE_OWNER_QMAILR : return "qmailr" ;
    default : return "qmailq" ;
  }
}

 /* "0644", "04711" */
static size_t mode_fmt (char *s, mode_t m)
{
  s[0] = '0' ;
  return 1 + uint0_ofmt(s + 1, (unsigned int)(m & 07777), 3) ;
}

 /* Owner (and group, for the layout) and permission bits. */
static void check_owner_mode (char const *path, struct stat const *st, enum queue_owner_e o, mode_t mode, int checkgroup)
{
  uid_t want = queue_owner_uid(&ids, o) ;
  if (st->st_uid != want)
  {
    char got[UID_FMT] ;
    char should[UID_FMT] ;
    got[uid_fmt(got, st->st_uid)] = 0 ;
    should[uid_fmt(should, want)] = 0 ;
    PROBLEM("owner", path, "owner is uid ", got, ", should be ", owner_name(o), " (uid ", should, ")") ;
  }
  if (checkgroup && st->st_gid != ids.qmail)
  {
    char got[GID_FMT] ;
    char should[GID_FMT] ;
    got[gid_fmt(got, st->st_gid)] = 0 ;
    should[gid_fmt(should, ids.qmail)] = 0 ;
    PROBLEM("owner", path, "group is gid ", got, ", should be qmail (gid ", should, ")") ;
  }
  if ((st->st_mode & 07777) != mode)
  {
    char got[16] ;
    char should[16] ;
    got[mode_fmt(got, st->st_mode)] = 0 ;
    should[mode_fmt(should, mode)] = 0 ;
    PROBLEM("mode", path, "mode is ", got, ", should be ", should) ;
  }
}

 /* Does path exist (as anything)?  A file that vanished, or a parent that is
    missing or not a directory, is "no"; anything else stops us. */
static int has (char const *path)
{
  struct stat st ;
  if (lstat(path, &st) == 0) return 1 ;
  if (errno == ENOENT || errno == ENOTDIR) return 0 ;
  die_sys("stat", path) ;
}

static int has_id (char const *dir, unsigned long id)
{
  char path[QUEUE_PATH_MAX] ;
  queue_path(path, dir, id) ;
  return has(path) ;
}

static char const *type_text (mode_t type)
{
  switch (type)
  {
    case S_IFDIR : return "not a directory" ;
    case S_IFIFO : return "not a FIFO" ;
    default : return "not a regular file" ;
  }
}

 /* One entry of the layout.  1 when present with the right type (the caller
    may then look inside), 0 otherwise (reported). */
static int check_entry (char const *path, queue_entry const *e, mode_t type)
{
  struct stat st ;
  if (lstat(path, &st) < 0)
  {
    if (errno != ENOENT) die_sys("stat", path) ;
    PROBLEM("missing", path,
      type == S_IFDIR ? "directory" : type == S_IFIFO ? "FIFO" : "file",
      " does not exist (qmail-mkqueue creates it)") ;
    return 0 ;
  }
  if ((st.st_mode & S_IFMT) != type)
  {
    PROBLEM("type", path, type_text(type)) ;
    return 0 ;
  }
  check_owner_mode(path, &st, e->owner, e->mode, 1) ;
  return 1 ;
}

 /* A split directory holds its subdirectories 0 .. QUEUE_SPLIT-1 and
    nothing else. */
static void check_split_top (char const *dir)
{
  char path[PATHBUF] ;
  size_t n = strlen(dir) ;
  queuescan qs ;
  queuescan_init(&qs, dir, 0) ;
  for (;;)
  {
    char const *name ;
    unsigned long id ;
    int r = queuescan_next(&qs, &name) ;
    if (!r) break ;
    if (r < 0) die_sys("read directory", qs.path) ;
    if (queue_id_scan(name, &id) && id < QUEUE_SPLIT) continue ;
    memcpy(path, dir, n) ;
    path[n] = '/' ;
    memcpy(path + n + 1, name, strlen(name) + 1) ;
    if (queue_id_scan(name, &id))
    {
      char last[UINT_FMT] ;
      last[uint_fmt(last, QUEUE_SPLIT - 1)] = 0 ;
      PROBLEM("split", path, "outside the split subdirectories ", dir, "/0 .. ", dir, "/", last) ;
    }
    else PROBLEM("name", path, "not a split subdirectory") ;
  }
}

 /* Every directory, split subdirectory, lock file and FIFO of the layout. */
static void check_layout (void)
{
  size_t i ;
  for (i = 0 ; i < queue_layout_n ; i++)
  {
    queue_entry const *e = queue_layout + i ;
    char const *path = e->name[0] ? e->name : "." ;
    switch (e->kind)
    {
      case QUEUE_KIND_DIR : check_entry(path, e, S_IFDIR) ; break ;
      case QUEUE_KIND_FILE : check_entry(path, e, S_IFREG) ; break ;
      case QUEUE_KIND_FIFO : check_entry(path, e, S_IFIFO) ; break ;
      case QUEUE_KIND_SPLITDIR :
      {
        char sub[QUEUE_PATH_MAX] ;
        size_t n = strlen(path) ;
        unsigned int j ;
        if (!check_entry(path, e, S_IFDIR)) break ;
        memcpy(sub, path, n) ;
        sub[n] = '/' ;
        for (j = 0 ; j < QUEUE_SPLIT ; j++)
        {
          sub[n + 1 + uint_fmt(sub + n + 1, j)] = 0 ;
          check_entry(sub, e, S_IFDIR) ;
        }
        check_split_top(path) ;
        break ;
      }
    }
  }
}

 /* pid/ holds a file only while qmail-queue runs. */
static void check_pid (void)
{
  char path[PATHBUF] ;
  queuescan qs ;
  queuescan_init(&qs, "pid", 0) ;
  for (;;)
  {
    char const *name ;
    int r = queuescan_next(&qs, &name) ;
    if (!r) break ;
    if (r < 0)
    {
      if (errno == ENOENT || errno == ENOTDIR) continue ;  /* reported by check_layout */
      die_sys("read directory", qs.path) ;
    }
    memcpy(path, "pid/", 4) ;
    memcpy(path + 4, name, strlen(name) + 1) ;
    PROBLEM("stale-pid", path, "left by an interrupted qmail-queue; qmail-clean removes it after 36 hours") ;
  }
}

 /* The message directories, what their files must be, and how each file
    relates to the other files of its message. */
enum msgdir_e { MD_TODO, MD_INTD, MD_MESS, MD_INFO, MD_LOCAL, MD_REMOTE, MD_BOUNCE } ;

struct msgdir_s
{
  char const *name ;
  enum msgdir_e which ;
  int split ;
  enum queue_owner_e owner ;
  mode_t mode ;
} ;

static struct msgdir_s const msgdirs[] =
{
  { "todo", MD_TODO, 0, QUEUE_OWNER_QMAILQ, 0644 },
  { "intd", MD_INTD, 0, QUEUE_OWNER_QMAILQ, 0644 },
  { "mess", MD_MESS, 1, QUEUE_OWNER_QMAILQ, 0644 },
  { "info", MD_INFO, 1, QUEUE_OWNER_QMAILS, 0600 },
  { "local", MD_LOCAL, 1, QUEUE_OWNER_QMAILS, 0600 },
  { "remote", MD_REMOTE, 1, QUEUE_OWNER_QMAILS, 0600 },
  { "bounce", MD_BOUNCE, 0, QUEUE_OWNER_QMAILS, 0600 },
} ;

 /* The other files of message id that this one needs. */
static void check_relations (struct msgdir_s const *md, char const *path, unsigned long id)
{
  char mess[QUEUE_PATH_MAX] ;
  char todo[QUEUE_PATH_MAX] ;
  char info[QUEUE_PATH_MAX] ;
  queue_path(mess, "mess", id) ;
  queue_path(todo, "todo", id) ;
  queue_path(info, "info", id) ;
  switch (md->which)
  {
    case MD_MESS :
      if (!has(todo) && !has(info))
        PROBLEM("stale-mess", path, "neither ", todo, " nor ", info, " exists: left by an interrupted qmail-queue; qmail-send and qmail-clean remove it after 36 hours") ;
      return ;
    case MD_TODO :
      if (!has(mess)) PROBLEM("no-mess", path, mess, " does not exist") ;
      return ;
    case MD_INTD :
      if (!has(mess)) PROBLEM("no-mess", path, mess, " does not exist") ;
      else if (!has(todo))
        PROBLEM("stale-intd", path, todo, " does not exist: left by an interrupted qmail-queue; qmail-send and qmail-clean remove it after 36 hours") ;
      return ;
    case MD_INFO :
      if (!has(mess)) PROBLEM("no-mess", path, mess, " does not exist") ;
      if (!has(todo) && !has_id("local", id) && !has_id("remote", id))
      {
        char local[QUEUE_PATH_MAX] ;
        char remote[QUEUE_PATH_MAX] ;
        queue_path(local, "local", id) ;
        queue_path(remote, "remote", id) ;
        PROBLEM("no-recipients", path, "neither ", local, " nor ", remote, " exists") ;
      }
      return ;
    case MD_LOCAL :
    case MD_REMOTE :
    case MD_BOUNCE :
      if (!has(mess)) PROBLEM("no-mess", path, mess, " does not exist") ;
      if (!has(info) && !has(todo)) PROBLEM("no-info", path, info, " does not exist") ;
      return ;
  }
}

static void check_msgdir (struct msgdir_s const *md)
{
  char path[PATHBUF] ;
  queuescan qs ;
  queuescan_init(&qs, md->name, md->split) ;
  for (;;)
  {
    struct stat st ;
    char const *name ;
    unsigned long id ;
    size_t n ;
    int r = queuescan_next(&qs, &name) ;
    if (!r) break ;
    if (r < 0)
    {
      if (errno == ENOENT || errno == ENOTDIR) continue ;  /* reported by check_layout */
      die_sys("read directory", qs.path) ;
    }
    n = strlen(qs.path) ;
    memcpy(path, qs.path, n) ;
    path[n] = '/' ;
    memcpy(path + n + 1, name, strlen(name) + 1) ;
    if (!queue_id_scan(name, &id))
    {
      PROBLEM("name", path, "not a message id") ;
      continue ;
    }
    if (md->split && id % QUEUE_SPLIT != qs.sub)
    {
      char right[QUEUE_PATH_MAX] ;
      queue_path(right, md->name, id) ;
      PROBLEM("split", path, "belongs in ", right) ;
      continue ;
    }
    if (lstat(path, &st) < 0)
    {
      if (errno == ENOENT) continue ;  /* gone since readdir: processed meanwhile */
      die_sys("stat", path) ;
    }
    if (!S_ISREG(st.st_mode))
    {
      PROBLEM("type", path, "not a regular file") ;
      continue ;
    }
    check_owner_mode(path, &st, md->owner, md->mode, 0) ;
    if (md->which == MD_MESS && st.st_ino != id)
    {
      char ino[UINT64_FMT] ;
      ino[uint64_fmt(ino, (uint64_t)st.st_ino)] = 0 ;
      PROBLEM("name", path, "inode number is ", ino, ", not the message id (a copied queue: new messages would collide with it)") ;
    }
    check_relations(md, path, id) ;
  }
}

int main (int argc, char const *const *argv)
{
  char const *what ;
  size_t i ;
  PROG = "qmail-qcheck" ;
  if (argc > 1) strerr_dieusage(100, USAGE) ;

  if (!qmail_chdir_home()) strerr_diefu2sys(111, "chdir to ", qmail_home()) ;
  if (!qmail_ids_get(&ids, &what)) strerr_diefu2sys(111, "find the qmail user or group ", what) ;
  if (chdir("queue") < 0) strerr_diefu3sys(111, "chdir to ", qmail_home(), "/queue") ;

  check_layout() ;
  check_pid() ;
  for (i = 0 ; i < sizeof(msgdirs) / sizeof(msgdirs[0]) ; i++) check_msgdir(msgdirs + i) ;

  if (!buffer_flush(buffer_1)) strerr_diefu1sys(111, "write to stdout") ;
  return problems ? 1 : 0 ;
}
