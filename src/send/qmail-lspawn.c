/* ISC license. */
/*
   qmail-lspawn defaultdelivery: run qmail-local for each local delivery
   qmail-send asks for.

   Who runs it: qmail-start, as root (group qmail): it must become the user
   of each delivery.  In a sandbox it is the sandbox user and every delivery
   runs as that user.  cwd: HOME/queue/mess.  The protocol with qmail-send
   is spawner.h's.

   Per delivery, in a child: the recipient's local part (before its last
   '@') is looked up in HOME/users/cdb (usersdb.h; the parent keeps it
   mapped and maps it again when qmail-newu has replaced it), else by
   running HOME/bin/qmail-getpw local as qmailp, group nofiles; then, as
   that user's uid and gid, the child does what
       qmail-local -- user home local dash ext domain sender defaultdelivery
   does, with fd 0 = the message and fd 1 = fd 2 = the report: it runs
   qmail-local's code itself (localdeliver.h), named "qmail-local", rather
   than exec'ing HOME/bin/qmail-local, which saves an exec and a dynamic
   linker start-up per delivery; with $QMAILLOCAL set it execs that
   program instead, as qmail-rspawn does with $QMAILREMOTE.  An empty local
   part (the address "@domain") succeeds at once.  A delivery is never run
   as root.

   Report: the letter from qmail-local's exit code (0 K; 111, 71, 74, 75 Z;
   100 and anything else D) and its output up to 3000 bytes; or a fixed text
   when the child failed before qmail-local ran (qmail's QLX codes):
   crash "Zqmail-local crashed.", 112 "ZInternal qmail-lspawn bug.",
   113 "ZNot allowed to perform deliveries as root.", 115 "ZNFS failure in
   qmail-local.", 116 "ZUnable to find alias user!", 117 "ZTrouble reading
   users/cdb in qmail-lspawn.", 118 "ZTemporary failure in qmail-lspawn.",
   119 "ZOut of memory in qmail-lspawn.", 120 "ZUnable to run qmail-local.",
   121 "ZUnable to run qmail-getpw.", 126 "DUnable to run qmail-local.".

   Differences from qmail: programs are run by absolute path under the
   home; qmail-local runs without an exec unless $QMAILLOCAL is set; a users/cdb record that is not six fields with numeric ids is a
   temporary error (qmail would run qmail-local with garbage).
*/

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <skalibs/allreadwrite.h>
#include <skalibs/cdb.h>
#include <skalibs/djbunix.h>
#include <skalibs/stralloc.h>
#include <skalibs/strerr.h>

#include <qmail-s6/errtemp.h>
#include <qmail-s6/home.h>
#include <qmail-s6/ids.h>
#include <qmail-s6/localdeliver.h>
#include <qmail-s6/qlx.h>
#include <qmail-s6/spawner.h>
#include <qmail-s6/usersdb.h>


#define GETPW_MAX 65536

static char const *defaultdelivery ;
static char const *home ;
static qmail_ids ids ;

static void homepath (char *buf, size_t max, char const *prog)
{
  size_t hl = strlen(home), pl = strlen(prog) ;
  if (hl + pl + 6 > max) _exit(QLX_USAGE) ;
  memcpy(buf, home, hl) ;
  memcpy(buf + hl, "/bin/", 5) ;
  memcpy(buf + hl + 5, prog, pl + 1) ;
}

 /* qmail-getpw local, run as qmailp/nofiles; its record goes into sa. */
static void getpw (char const *local, stralloc *sa)
{
  char path[4096 + 32] ;
  int pi[2], wstat ;
  pid_t pid ;
  homepath(path, sizeof(path), "qmail-getpw") ;
  if (pipe(pi) < 0) _exit(QLX_SYS) ;
  pid = fork() ;
  if (pid < 0) _exit(QLX_SYS) ;
  if (!pid)
  {
    char const *argv[3] = { "qmail-getpw", local, 0 } ;
    if (!ids.sandbox && !qmail_become(ids.qmailp, ids.nofiles)) _exit(QLX_USAGE) ;
    fd_close(pi[0]) ;
    if (fd_move(1, pi[1]) < 0) _exit(QLX_SYS) ;
    execv(path, (char *const *)argv) ;
    _exit(QLX_EXECPW) ;
  }
  fd_close(pi[1]) ;
  sa->len = 0 ;
  for (;;)
  {
    ssize_t r ;
    if (!stralloc_readyplus(sa, 4096)) _exit(QLX_NOMEM) ;
    r = fd_read(pi[0], sa->s + sa->len, 4096) ;
    if (r < 0) _exit(QLX_SYS) ;
    if (!r) break ;
    sa->len += r ;
    if (sa->len > GETPW_MAX) _exit(QLX_USAGE) ;
  }
  fd_close(pi[0]) ;
  if (waitpid_nointr(pid, &wstat, 0) != pid) _exit(QLX_SYS) ;
  if (WIFSIGNALED(wstat)) _exit(QLX_SYS) ;
  if (WEXITSTATUS(wstat)) _exit(WEXITSTATUS(wstat)) ;
}

static int homefd = -1 ;   /* users/cdb is looked up from here */
static char localprog[4096 + 32] ;   /* $QMAILLOCAL: exec this instead */
static cdb users = CDB_ZERO ;
static int users_mapped = 0 ;
static int users_errno = ENOENT ;   /* why users is not mapped */
static struct stat users_st ;

 /* Keep users/cdb mapped in the parent, so that a delivery child does not
    open and map it again.  qmail-newu replaces it by rename, so a new
    inode (or a changed size or mtime, for an in-place writer) means
    reload; the old map is held until then, so its inode cannot be reused
    under us.  Called before each fork: one stat per delivery. */
static void users_refresh (void)
{
  struct stat st ;
  int fd ;
  if (fstatat(homefd, "users/cdb", &st, 0) == 0 && users_mapped
   && st.st_dev == users_st.st_dev && st.st_ino == users_st.st_ino
   && st.st_size == users_st.st_size && st.st_mtime == users_st.st_mtime)
    return ;
  if (users_mapped) { cdb_free(&users) ; users_mapped = 0 ; }
  fd = openat(homefd, "users/cdb", O_RDONLY | O_CLOEXEC) ;
  if (fd < 0) { users_errno = errno ; return ; }
  if (fstat(fd, &users_st) < 0 || !cdb_init_fromfd(&users, fd))
  {
    users_errno = errno ;
    fd_close(fd) ;
    return ;
  }
  fd_close(fd) ;
  users_mapped = 1 ;
}

 /* In the child: find the user, become it, deliver.  Never returns. */
static void deliver (char const *sender, char *r, size_t at)
{
  stralloc storage = STRALLOC_ZERO ;
  usersdb_entry e ;
  char const *argv[11] ;
  int found = 0 ;

  r[at] = 0 ;
  if (!r[0]) _exit(0) ;   /* <>: nothing to deliver */
  if (!qmail_chdir_home()) _exit(QLX_USAGE) ;
  if (users_mapped)
  {
    found = usersdb_lookup(&users, r, at, &e, &storage) ;
    if (found < 0) _exit(errno == ENOMEM ? QLX_NOMEM : QLX_CDB) ;
  }
  else if (users_errno != ENOENT) _exit(QLX_CDB) ;
  if (!found)
  {
    getpw(r, &storage) ;
    if (!usersdb_record_parse(&e, storage.s, storage.len)) _exit(QLX_USAGE) ;
  }
  argv[0] = "qmail-local" ;
  argv[1] = "--" ;
  argv[2] = e.user ;
  argv[3] = e.home ;
  argv[4] = r ;
  argv[5] = e.dash ;
  argv[6] = e.ext ;
  argv[7] = r + at + 1 ;
  argv[8] = sender ;
  argv[9] = defaultdelivery ;
  argv[10] = 0 ;
  if (!ids.sandbox && !qmail_become(e.uid, e.gid)) _exit(QLX_USAGE) ;
  if (!getuid()) _exit(QLX_ROOT) ;
  if (localprog[0])
  {
    execv(localprog, (char *const *)argv) ;
    _exit(qmail_error_temp(errno) ? QLX_EXECSOFT : QLX_EXECHARD) ;
  }
  /* what exec'ing bin/qmail-local would do, without the exec: ps and
     /proc/PID/comm show qmail-local, as admins expect */
  prctl(PR_SET_NAME, "qmail-local", 0, 0, 0) ;
  _exit(qmail_local_main(10, argv)) ;
}

static pid_t start (int fdmess, int fdreport, char const *sender, char const *const *recips, size_t const *ats, unsigned int n)
{
  char const *recip = recips[0] ;   /* n is 1: no batches for local deliveries */
  size_t at = ats[0] ;
  pid_t pid ;
  (void)n ;
  users_refresh() ;
  pid = fork() ;
  if (pid < 0) return 0 ;
  if (!pid)
  {
    size_t rlen = strlen(recip) ;
    char r[rlen + 1] ;
    memcpy(r, recip, rlen + 1) ;
    spawner_child() ;
    if (fd_move(0, fdmess) < 0 || fd_move(1, fdreport) < 0 || fd_copy(2, 1) < 0) _exit(QLX_SYS) ;
    deliver(sender, r, at) ;
  }
  return pid ;
}

static int report (stralloc *out, int wstat, char const *s, size_t len, unsigned int i, unsigned int n)
{
  char const *fixed = 0 ;
  char letter ;
  (void)i ; (void)n ;
  if (WIFSIGNALED(wstat)) return stralloc_cats(out, "Zqmail-local crashed.\n") ;
  switch (WEXITSTATUS(wstat))
  {
    case QLX_CDB : fixed = "ZTrouble reading users/cdb in qmail-lspawn.\n" ; break ;
    case QLX_NOMEM : fixed = "ZOut of memory in qmail-lspawn.\n" ; break ;
    case QLX_SYS : fixed = "ZTemporary failure in qmail-lspawn.\n" ; break ;
    case QLX_NOALIAS : fixed = "ZUnable to find alias user!\n" ; break ;
    case QLX_ROOT : fixed = "ZNot allowed to perform deliveries as root.\n" ; break ;
    case QLX_USAGE : fixed = "ZInternal qmail-lspawn bug.\n" ; break ;
    case QLX_NFS : fixed = "ZNFS failure in qmail-local.\n" ; break ;
    case QLX_EXECHARD : fixed = "DUnable to run qmail-local.\n" ; break ;
    case QLX_EXECSOFT : fixed = "ZUnable to run qmail-local.\n" ; break ;
    case QLX_EXECPW : fixed = "ZUnable to run qmail-getpw.\n" ; break ;
    case 111 : case 71 : case 74 : case 75 : letter = 'Z' ; break ;
    case 0 : letter = 'K' ; break ;
    default : letter = 'D' ; break ;
  }
  if (fixed) return stralloc_cats(out, fixed) ;
  {
    char const *nul = len ? memchr(s, 0, len) : 0 ;
    return stralloc_catb(out, &letter, 1) && stralloc_catb(out, s, nul ? (size_t)(nul - s) : len) ;
  }
}

int main (int argc, char const *const *argv)
{
  char const *what ;
  char const *ql = getenv("QMAILLOCAL") ;
  spawner_ops ops = { .start = &start, .report = &report, .outputmax = 3000, .truncate_with_note = 1 } ;
  PROG = "qmail-lspawn" ;
  if (argc < 2 || !argv[1]) return 100 ;
  defaultdelivery = argv[1] ;
  home = qmail_home() ;
  if (ql && *ql)
  {
    if (strlen(ql) >= sizeof(localprog)) strerr_dief1x(111, "QMAILLOCAL is too long") ;
    strcpy(localprog, ql) ;
  }
  if (!qmail_chdir_home()) strerr_diefu2sys(111, "chdir to ", home) ;
  homefd = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC) ;
  if (homefd < 0) strerr_diefu2sys(111, "open ", home) ;
  if (!qmail_ids_get(&ids, &what)) strerr_diefu2sys(111, "find the qmail user or group ", what) ;
  ops.messowner = ids.qmailq ;
  if (chdir("queue/mess") < 0) strerr_diefu1sys(111, "chdir to queue/mess") ;
  return spawner_run(&ops) ;
}
