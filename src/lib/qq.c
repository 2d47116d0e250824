/* ISC license. */
/* The client side of qmail-queue: start it, feed it the message and the
   envelope, turn its exit code into qmail's reply text.  posix_spawn keeps
   the cost per message low (no copy of the caller's address space). */

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>
#include <skalibs/allreadwrite.h>
#include <skalibs/buffer.h>
#include <skalibs/djbunix.h>

#include <qmail-s6/home.h>
#include <qmail-s6/qq.h>

extern char **environ ;

int qq_open (qqclient *qq)
{
  int pm[2], pe[2] ;
  posix_spawn_file_actions_t fa ;
  char const *qqprog = getenv("QMAILQUEUE") ;
  char const *home = qmail_home() ;
  size_t hlen = strlen(home) ;
  char path[4096 + 20] ;
  char *argv[2] ;
  int e ;

  qq->pid = 0 ;
  qq->fdm = qq->fde = -1 ;
  qq->flagerr = 1 ;
  if (!qqprog || !*qqprog)
  {
    if (hlen > 4096) { errno = ENAMETOOLONG ; return 0 ; }
    memcpy(path, home, hlen) ;
    memcpy(path + hlen, "/bin/qmail-queue", 17) ;
    qqprog = path ;
  }
  if (pipe2(pm, O_CLOEXEC) < 0) return 0 ;
  if (pipe2(pe, O_CLOEXEC) < 0) { fd_close(pm[0]) ; fd_close(pm[1]) ; return 0 ; }
  e = posix_spawn_file_actions_init(&fa) ;
  if (!e) e = posix_spawn_file_actions_adddup2(&fa, pm[0], 0) ;
  if (!e) e = posix_spawn_file_actions_adddup2(&fa, pe[0], 1) ;
  if (!e) e = posix_spawn_file_actions_addchdir_np(&fa, home) ;
  argv[0] = (char *)qqprog ;
  argv[1] = 0 ;
  if (!e) e = posix_spawn(&qq->pid, qqprog, &fa, 0, argv, environ) ;
  posix_spawn_file_actions_destroy(&fa) ;
  fd_close(pm[0]) ;
  fd_close(pe[0]) ;
  if (e)
  {
    fd_close(pm[1]) ; fd_close(pe[1]) ;
    qq->pid = 0 ;
    errno = e ;
    return 0 ;
  }
  qq->fdm = pm[1] ;
  qq->fde = pe[1] ;
  qq->flagerr = 0 ;
  buffer_init(&qq->b, &buffer_write, qq->fdm, qq->buf, sizeof(qq->buf)) ;
  return 1 ;
}

void qq_put (qqclient *qq, char const *s, size_t n)
{
  if (!qq->flagerr && !buffer_putall(&qq->b, s, n, &(size_t){0})) qq->flagerr = 1 ;
}

void qq_puts (qqclient *qq, char const *s)
{
  qq_put(qq, s, strlen(s)) ;
}

void qq_from (qqclient *qq, char const *sender)
{
  if (!qq->flagerr && !buffer_flush(&qq->b)) qq->flagerr = 1 ;
  if (qq->fdm >= 0) { fd_close(qq->fdm) ; qq->fdm = -1 ; }
  buffer_init(&qq->b, &buffer_write, qq->fde, qq->buf, sizeof(qq->buf)) ;
  qq_put(qq, "F", 1) ;
  qq_put(qq, sender, strlen(sender) + 1) ;
}

void qq_to (qqclient *qq, char const *rcpt)
{
  qq_put(qq, "T", 1) ;
  qq_put(qq, rcpt, strlen(rcpt) + 1) ;
}

void qq_fail (qqclient *qq)
{
  qq->flagerr = 1 ;
}

pid_t qq_qp (qqclient const *qq)
{
  return qq->pid ;
}

char const *qq_exit_text (int wstat)
{
  if (WIFSIGNALED(wstat)) return "Zqq crashed (#4.3.0)" ;
  switch (WEXITSTATUS(wstat))
  {
    case 0 : return "" ;
    case 11 : case 115 : return "Denvelope address too long for qq (#5.1.3)" ;
    case 31 : return "Dmail server permanently rejected message (#5.3.0)" ;
    case 51 : return "Zqq out of memory (#4.3.0)" ;
    case 52 : return "Zqq timeout (#4.3.0)" ;
    case 53 : return "Zqq write error or disk full (#4.3.0)" ;
    case 54 : return "Zqq read error (#4.3.0)" ;
    case 55 : return "Zqq unable to read configuration (#4.3.0)" ;
    case 56 : return "Zqq trouble making network connection (#4.3.0)" ;
    case 61 : return "Zqq trouble in home directory (#4.3.0)" ;
    case 62 : case 63 : case 64 : case 65 : case 66 :
      return "Zqq trouble creating files in queue (#4.3.0)" ;
    case 71 : return "Zmail server temporarily rejected message (#4.3.0)" ;
    case 72 : return "Zconnection to mail server timed out (#4.4.1)" ;
    case 73 : return "Zconnection to mail server rejected (#4.4.1)" ;
    case 74 : return "Zcommunication with mail server failed (#4.4.2)" ;
    case 81 : case 91 : return "Zqq internal bug (#4.3.0)" ;
    case 120 : return "Zunable to exec qq (#4.3.0)" ;
    default :
      return WEXITSTATUS(wstat) >= 11 && WEXITSTATUS(wstat) <= 40
        ? "Dqq permanent problem (#5.3.0)" : "Zqq temporary problem (#4.3.0)" ;
  }
}

char const *qq_close (qqclient *qq)
{
  int wstat ;
  char const *text ;
  if (!qq->pid) return "Zunable to exec qq (#4.3.0)" ;
  qq_put(qq, "", 1) ;
  if (!qq->flagerr && !buffer_flush(&qq->b)) qq->flagerr = 1 ;
  if (qq->fdm >= 0) { fd_close(qq->fdm) ; qq->fdm = -1 ; }
  if (qq->fde >= 0) { fd_close(qq->fde) ; qq->fde = -1 ; }
  if (waitpid_nointr(qq->pid, &wstat, 0) != qq->pid) return "Zqq waitpid surprise (#4.3.0)" ;
  text = qq_exit_text(wstat) ;
  if (!*text && qq->flagerr) return "Zqq read error (#4.3.0)" ;
  return text ;
}
