/* ISC license. */
/*
   qmail-start [ defaultdelivery [ logger arg ... ] ]: start the queue.

   Who runs it: the qmail-send service's run script (or rc), as root.
   It makes the pipes and starts, each under its own uid, with group qmail
   and umask 077:
     qmail-lspawn defaultdelivery   as root (it picks the user per delivery)
     qmail-rspawn                   as qmailr
     qmail-clean                    as qmailq
     logger arg ...                 as qmaill, group nofiles, reading fd 0
   and then becomes qmail-send, as qmails, with its descriptors:
     0 log (the logger's pipe, or qmail-start's stdout when there is no
       logger), 1/2 to/from qmail-lspawn, 3/4 to/from qmail-rspawn,
     5/6 to/from qmail-clean.
   defaultdelivery defaults to ./Mailbox.  In a sandbox, every one of them
   runs as the sandbox user (qmail-start started by root becomes it first).

   Differences from qmail: qmail-send, qmail-clean, qmail-lspawn and
   qmail-rspawn are run as HOME/bin/NAME, not found through $PATH (a
   service's PATH then cannot pick another program); the logger is still
   found through $PATH, as qmail does.  qmail closes the helpers' stderr;
   here their stderr is the log, so a helper that dies says why.
   Exits 111 if anything fails before qmail-send runs.
*/

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <grp.h>
#include <unistd.h>
#include <sys/stat.h>
#include <skalibs/djbunix.h>
#include <skalibs/strerr.h>

#include <qmail-s6/home.h>
#include <qmail-s6/ids.h>

static char const *home ;
static int sandbox_norootchange = 0 ;

static void become (uid_t uid, gid_t gid)
{
  if (sandbox_norootchange) return ;
  if (!qmail_become(uid, gid)) _exit(111) ;
}

 /* dup2 that works when from == to.  fd 2 (the log) is always set first:
    the log may be fd 1, which the other moves replace. */
static void fd_put (int from, int to)
{
  if (from == to) { if (fcntl(to, F_SETFD, 0) < 0) _exit(111) ; return ; }
  if (dup2(from, to) < 0) _exit(111) ;
}

static void run (char const *name, char const *const *args)
{
  size_t hlen = strlen(home), nlen = strlen(name) ;
  char path[hlen + nlen + 6] ;
  char const *argv[4] ;
  unsigned int i = 0 ;
  memcpy(path, home, hlen) ;
  memcpy(path + hlen, "/bin/", 5) ;
  memcpy(path + hlen + 5, name, nlen + 1) ;
  argv[i++] = name ;
  while (args && *args && i < 3) argv[i++] = *args++ ;
  argv[i] = 0 ;
  execv(path, (char *const *)argv) ;
  _exit(111) ;
}

 /* A pipe whose ends are above 6, close-on-exec, so that the children's
    fds 0..6 can be set freely. */
static void highpipe (int p[2])
{
  int q[2] ;
  if (pipe(q) < 0) strerr_diefu1sys(111, "create a pipe") ;
  p[0] = fcntl(q[0], F_DUPFD_CLOEXEC, 10) ;
  p[1] = fcntl(q[1], F_DUPFD_CLOEXEC, 10) ;
  if (p[0] < 0 || p[1] < 0) strerr_diefu1sys(111, "move a pipe") ;
  fd_close(q[0]) ; fd_close(q[1]) ;
}

int main (int argc, char const *const *argv)
{
  qmail_ids ids ;
  char const *what ;
  char const *defaultdelivery = "./Mailbox" ;
  int tolspawn[2], fromlspawn[2], torspawn[2], fromrspawn[2], toclean[2], fromclean[2] ;
  int logfd ;
  pid_t pid ;

  PROG = "qmail-start" ;
  home = qmail_home() ;
  if (!qmail_chdir_home()) strerr_diefu2sys(111, "chdir to ", home) ;
  if (!qmail_ids_get(&ids, &what)) strerr_diefu2sys(111, "find the qmail user or group ", what) ;
  if (chdir("/") < 0) strerr_diefu1sys(111, "chdir to /") ;
  umask(077) ;
  if (ids.sandbox)
  {
    if (geteuid() == 0)
    {
      if (!qmail_become(ids.sandboxuid, ids.sandboxgid)) strerr_diefu1sys(111, "become the sandbox user") ;
    }
    sandbox_norootchange = 1 ;
  }
  else
  {
    gid_t g = ids.qmail ;
    if (setgroups(1, &g) < 0 || setgid(g) < 0) strerr_diefu1sys(111, "set group qmail") ;
  }

  if (argc > 1) { defaultdelivery = argv[1] ; argv++ ; argc-- ; }

  logfd = 1 ;
  if (argc > 1)
  {
    int lp[2] ;
    highpipe(lp) ;
    pid = fork() ;
    if (pid < 0) strerr_diefu1sys(111, "fork") ;
    if (!pid)
    {
      become(ids.qmaill, ids.nofiles) ;
      fd_put(lp[0], 0) ;
      execvp(argv[1], (char *const *)(argv + 1)) ;
      _exit(111) ;
    }
    fd_close(lp[0]) ;
    logfd = lp[1] ;
  }

  highpipe(tolspawn) ; highpipe(fromlspawn) ;
  highpipe(torspawn) ; highpipe(fromrspawn) ;
  highpipe(toclean) ; highpipe(fromclean) ;

  pid = fork() ;
  if (pid < 0) strerr_diefu1sys(111, "fork") ;
  if (!pid)
  {
    char const *args[2] = { defaultdelivery, 0 } ;
    fd_put(logfd, 2) ; fd_put(tolspawn[0], 0) ; fd_put(fromlspawn[1], 1) ;
    run("qmail-lspawn", args) ;
  }
  pid = fork() ;
  if (pid < 0) strerr_diefu1sys(111, "fork") ;
  if (!pid)
  {
    become(ids.qmailr, ids.qmail) ;
    fd_put(logfd, 2) ; fd_put(torspawn[0], 0) ; fd_put(fromrspawn[1], 1) ;
    run("qmail-rspawn", 0) ;
  }
  pid = fork() ;
  if (pid < 0) strerr_diefu1sys(111, "fork") ;
  if (!pid)
  {
    become(ids.qmailq, ids.qmail) ;
    fd_put(logfd, 2) ; fd_put(toclean[0], 0) ; fd_put(fromclean[1], 1) ;
    run("qmail-clean", 0) ;
  }

  become(ids.qmails, ids.qmail) ;
  fd_put(logfd, 0) ;
  fd_put(tolspawn[1], 1) ;
  fd_put(fromlspawn[0], 2) ;
  fd_put(torspawn[1], 3) ;
  fd_put(fromrspawn[0], 4) ;
  fd_put(toclean[1], 5) ;
  fd_put(fromclean[0], 6) ;
  run("qmail-send", 0) ;
}
