/* ISC license. */
/* fork + execvp + wait, with qmail's meaning for a failed exec. */

#include <errno.h>
#include <signal.h>
#include <unistd.h>
#include <sys/wait.h>
#include <skalibs/djbunix.h>

#include <qmail-s6/errtemp.h>
#include <qmail-s6/progrun.h>

int progrun (char const *const *argv, int *code)
{
  int wstat ;
  pid_t pid = fork() ;
  if (pid < 0) return -1 ;
  if (!pid)
  {
    signal(SIGPIPE, SIG_DFL) ;
    execvp(argv[0], (char *const *)argv) ;
    _exit(qmail_error_temp(errno) ? 111 : 100) ;
  }
  if (waitpid_nointr(pid, &wstat, 0) != pid) return -2 ;
  if (WIFSIGNALED(wstat)) return 0 ;
  *code = WEXITSTATUS(wstat) ;
  return 1 ;
}
