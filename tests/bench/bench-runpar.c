/* ISC license. */
/* bench-runpar: run one command N times, P at a time, each with its stdin
   from FILE, and say what the runs cost.

   usage: bench-runpar -n N [-p P] [-t SECONDS] -i FILE -- PROG [ARG ...]

   Every run is PROG ARG ... (PROG found through $PATH), started with
   posix_spawnp, with fd 0 = FILE opened afresh (so every run reads it from
   the start), fd 1 and fd 2 inherited.  At most P runs (default 1) are in
   flight; it starts no new run once SECONDS (default 600) have passed since
   its own start, so the loop is bounded in count and in time.

   Prints one line:
     runs=N failed=F wall_s=W runs_per_s=R cpu_user_s=U cpu_sys_s=S cpu_total_s=T
   where the CPU figures are those of the runs and of everything they waited
   for (getrusage RUSAGE_CHILDREN: an injector and the queueing program it
   runs), not of bench-runpar itself.  Exits 0 when every run exited 0,
   111 when a run failed or could not be started (it then stops starting
   new ones), 100 for usage.

   Used by tests/bench/local-delivery.sh to inject the same message through
   qmail-inject and through Postfix's sendmail.  Not part of make check. */

#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>

extern char **environ ;

static double now (void)
{
  struct timespec ts ;
  clock_gettime(CLOCK_MONOTONIC, &ts) ;
  return ts.tv_sec + ts.tv_nsec / 1e9 ;
}

static void usage (void)
{
  fprintf(stderr, "usage: bench-runpar -n N [-p P] [-t SECONDS] -i FILE -- PROG [ARG ...]\n") ;
  exit(100) ;
}

static long num (char const *s, long lo, long hi)
{
  char *end ;
  long v ;
  errno = 0 ;
  v = strtol(s, &end, 10) ;
  if (errno || !*s || *end || v < lo || v > hi) usage() ;
  return v ;
}

int main (int argc, char **argv)
{
  long n = -1, p = 1, secs = 600, started = 0, running = 0, failed = 0, done = 0 ;
  char const *file = 0 ;
  double t0, t1 ;
  struct rusage ru ;
  int opt ;

  while ((opt = getopt(argc, argv, "n:p:t:i:")) != -1)
    switch (opt)
    {
      case 'n' : n = num(optarg, 1, 10000000) ; break ;
      case 'p' : p = num(optarg, 1, 256) ; break ;
      case 't' : secs = num(optarg, 1, 86400) ; break ;
      case 'i' : file = optarg ; break ;
      default : usage() ;
    }
  if (n < 0 || !file || optind >= argc) usage() ;

  t0 = now() ;
  while (done < started || (started < n && !failed))
  {
    while (running < p && started < n && !failed && now() - t0 < secs)
    {
      posix_spawn_file_actions_t fa ;
      pid_t pid ;
      int r ;
      if (posix_spawn_file_actions_init(&fa)
       || posix_spawn_file_actions_addopen(&fa, 0, file, O_RDONLY, 0))
      { fprintf(stderr, "bench-runpar: out of memory\n") ; return 111 ; }
      r = posix_spawnp(&pid, argv[optind], &fa, 0, argv + optind, environ) ;
      posix_spawn_file_actions_destroy(&fa) ;
      if (r)
      {
        fprintf(stderr, "bench-runpar: unable to spawn %s: %s\n", argv[optind], strerror(r)) ;
        failed++ ;
        break ;
      }
      started++ ;
      running++ ;
    }
    if (!running) break ;   /* time is up, or a spawn failed */
    {
      int wstat ;
      pid_t pid = wait(&wstat) ;
      if (pid < 0) { if (errno == EINTR) continue ; perror("bench-runpar: wait") ; return 111 ; }
      running-- ;
      done++ ;
      if (!WIFEXITED(wstat) || WEXITSTATUS(wstat))
      {
        if (!failed)
          fprintf(stderr, "bench-runpar: run %ld: %s %d\n", done,
                  WIFEXITED(wstat) ? "exit" : "signal", WIFEXITED(wstat) ? WEXITSTATUS(wstat) : WTERMSIG(wstat)) ;
        failed++ ;
      }
    }
  }
  t1 = now() ;
  if (getrusage(RUSAGE_CHILDREN, &ru) < 0) { perror("bench-runpar: getrusage") ; return 111 ; }
  {
    double u = ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 ;
    double s = ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6 ;
    printf("runs=%ld failed=%ld wall_s=%.3f runs_per_s=%.1f cpu_user_s=%.3f cpu_sys_s=%.3f cpu_total_s=%.3f\n",
           done, failed, t1 - t0, (t1 > t0) ? done / (t1 - t0) : 0.0, u, s, u + s) ;
  }
  return (failed || done < n) ? 111 : 0 ;
}
