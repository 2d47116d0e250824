/* ISC license. */
/* qq-null: a stand-in for qmail-queue that queues nothing.  It reads the
   message (fd 0) and the envelope (fd 1) to end of file and exits 0, so
   that qq-inject-loop with QMAILQUEUE=.../qq-null measures what one message
   costs before any disk work: posix_spawn, exec, the C library's start-up,
   the pipes and the wait.  Build it the way the qmail-queue under study is
   built (dynamic with -Wl,--no-as-needed -lskarnet, -static, musl-gcc
   -static) to price each way.  See doc/performance.md. */

#include <unistd.h>

int main (void)
{
  char buf[8192] ;
  int fd ;
  for (fd = 0 ; fd < 2 ; fd++)
    for (;;)
    {
      ssize_t r = read(fd, buf, sizeof(buf)) ;
      if (r < 0) return 54 ;
      if (!r) break ;
    }
  return 0 ;
}
