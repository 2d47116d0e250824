/* ISC license. */
/* qq-inject-loop: how many messages per second qmail-queue takes.

   usage: qq-inject-loop [-p NPROC] [-n MAXCOUNT] [-t SECONDS] [-s SIZE]
                         [-f SENDER] RCPT

   NPROC worker processes (default 1) each queue the same SIZE-byte message
   (default 4096, headers included) from SENDER to the one recipient RCPT,
   one after the other, through the project's client (qq_open ... qq_close:
   posix_spawn of $QMAILHOME/bin/qmail-queue, or $QMAILQUEUE, with two pipes),
   exactly as qmail-inject and qmail-smtpd do.  Every worker stops after
   MAXCOUNT messages (default 1000000) or when SECONDS (default 10) have
   passed since the common start, whichever comes first.  The loop is bounded
   both ways; a failing qmail-queue stops everything with exit 111.

   Prints one line:
     injectors=N seconds=S msgs=M msgs_per_s=R p50_us=.. p99_us=..
     client_cpu_us=.. qq_cpu_us=.. qq_user_us=.. qq_sys_us=..
   where the CPU figures are per message: client_cpu_us is the injecting
   process itself (spawn, pipe writes, wait), qq_cpu_us is qmail-queue
   (user + system, from getrusage(RUSAGE_CHILDREN) of each worker).  CPU
   that the kernel spends for the process in other threads (the ext4
   journal, block I/O completion) is in neither.

   Exits 0 when every message was queued; 100 usage; 111 on any failure.
   Run by tests/bench/qmail-queue-rate.sh; not part of make check. */

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>

#include <qmail-s6/qq.h>

#define NPROC_MAX 64
#define LATMAX 200000

struct worker_result
{
  long count ;
  int failed ;
  char why[200] ;
  double self_us ;
  double qq_user_us ;
  double qq_sys_us ;
} ;

static double now (void)
{
  struct timespec ts ;
  clock_gettime(CLOCK_MONOTONIC, &ts) ;
  return ts.tv_sec + ts.tv_nsec / 1e9 ;
}

static double tv_us (struct timeval const *tv)
{
  return tv->tv_sec * 1e6 + tv->tv_usec ;
}

static int cmpd (void const *a, void const *b)
{
  double x = *(double const *)a, y = *(double const *)b ;
  return x < y ? -1 : x > y ;
}

static void usage (void)
{
  fprintf(stderr, "usage: qq-inject-loop [-p NPROC] [-n MAXCOUNT] [-t SECONDS] [-s SIZE] [-f SENDER] RCPT\n") ;
  exit(100) ;
}

 /* A plain RFC 5322 message of exactly size bytes: a few headers, then a
    body of 72-character lines padded to the size. */
static char *make_message (size_t size, char const *sender, char const *rcpt)
{
  char *m = malloc(size + 1) ;
  int h ;
  size_t n ;
  if (!m) return 0 ;
  h = snprintf(m, size + 1,
    "From: %s\nTo: %s\nSubject: qmail-queue rate bench\n"
    "Date: Sun, 22 Nov 2026 03:00:00 +0000\n"
    "Message-ID: <qq-inject-loop@bench.invalid>\n\n", sender, rcpt) ;
  if (h < 0 || (size_t)h >= size) { free(m) ; return 0 ; }
  n = h ;
  while (n < size)
  {
    size_t line = size - n > 73 ? 73 : size - n ;
    memset(m + n, 'x', line) ;
    m[n + line - 1] = '\n' ;
    n += line ;
  }
  m[size] = 0 ;
  return m ;
}

static void worker (struct worker_result *res, double *lat, double end, long maxcount,
  char const *msg, size_t msglen, char const *sender, char const *rcpt)
{
  struct rusage ru ;
  long i ;
  for (i = 0 ; i < maxcount ; i++)
  {
    qqclient qq ;
    char const *r ;
    double s = now() ;
    if (s >= end) break ;
    if (!qq_open(&qq))
    {
      snprintf(res->why, sizeof(res->why), "qq_open: %s", strerror(errno)) ;
      res->failed = 1 ;
      break ;
    }
    qq_put(&qq, msg, msglen) ;
    qq_from(&qq, sender) ;
    qq_to(&qq, rcpt) ;
    r = qq_close(&qq) ;
    if (*r)
    {
      snprintf(res->why, sizeof(res->why), "message %ld: %s", i, r + 1) ;
      res->failed = 1 ;
      break ;
    }
    if (i < LATMAX) lat[i] = now() - s ;
  }
  res->count = i ;
  if (getrusage(RUSAGE_SELF, &ru) == 0)
    res->self_us = tv_us(&ru.ru_utime) + tv_us(&ru.ru_stime) ;
  if (getrusage(RUSAGE_CHILDREN, &ru) == 0)
  {
    res->qq_user_us = tv_us(&ru.ru_utime) ;
    res->qq_sys_us = tv_us(&ru.ru_stime) ;
  }
}

int main (int argc, char **argv)
{
  int nproc = 1 ;
  long maxcount = 1000000 ;
  double secs = 10 ;
  size_t size = 4096 ;
  char const *sender = "bench@bench.invalid" ;
  char const *rcpt ;
  char *msg ;
  struct worker_result *res ;
  double *lats, *all, t0, el, self = 0, quser = 0, qsys = 0 ;
  size_t shsz ;
  long tot = 0, nl = 0 ;
  int p, opt, failed = 0 ;

  while ((opt = getopt(argc, argv, "p:n:t:s:f:")) != -1)
    switch (opt)
    {
      case 'p' : nproc = atoi(optarg) ; break ;
      case 'n' : maxcount = atol(optarg) ; break ;
      case 't' : secs = atof(optarg) ; break ;
      case 's' : size = strtoul(optarg, 0, 10) ; break ;
      case 'f' : sender = optarg ; break ;
      default : usage() ;
    }
  if (argc - optind != 1) usage() ;
  rcpt = argv[optind] ;
  if (nproc < 1 || nproc > NPROC_MAX || maxcount < 1 || secs <= 0 || secs > 600
   || size < 256 || size > 64 << 20)
  {
    fprintf(stderr, "qq-inject-loop: NPROC 1..64, MAXCOUNT >= 1, SECONDS (0..600], SIZE 256..64M\n") ;
    return 100 ;
  }
  msg = make_message(size, sender, rcpt) ;
  if (!msg) { fprintf(stderr, "qq-inject-loop: cannot build the message\n") ; return 111 ; }
  signal(SIGPIPE, SIG_IGN) ;

  shsz = sizeof(struct worker_result) * NPROC_MAX + sizeof(double) * (size_t)LATMAX * nproc ;
  res = mmap(0, shsz, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0) ;
  if (res == MAP_FAILED) { perror("qq-inject-loop: mmap") ; return 111 ; }
  lats = (double *)(res + NPROC_MAX) ;

  t0 = now() ;
  for (p = 0 ; p < nproc ; p++)
  {
    pid_t pid = fork() ;
    if (pid < 0) { perror("qq-inject-loop: fork") ; failed = 1 ; break ; }
    if (pid) continue ;
    worker(res + p, lats + (size_t)p * LATMAX, t0 + secs, maxcount, msg, size, sender, rcpt) ;
    _exit(0) ;
  }
  for (;;)
  {
    int wstat ;
    pid_t pid = wait(&wstat) ;
    if (pid < 0) { if (errno == EINTR) continue ; break ; }
    if (!WIFEXITED(wstat) || WEXITSTATUS(wstat)) failed = 1 ;
  }
  el = now() - t0 ;

  for (p = 0 ; p < nproc ; p++)
  {
    if (res[p].failed)
    {
      fprintf(stderr, "qq-inject-loop: worker %d: %s\n", p, res[p].why) ;
      failed = 1 ;
    }
    tot += res[p].count ;
    self += res[p].self_us ;
    quser += res[p].qq_user_us ;
    qsys += res[p].qq_sys_us ;
  }
  all = malloc(sizeof(double) * (size_t)(tot ? tot : 1)) ;
  if (!all) { fprintf(stderr, "qq-inject-loop: out of memory\n") ; return 111 ; }
  for (p = 0 ; p < nproc ; p++)
  {
    long i ;
    for (i = 0 ; i < res[p].count && i < LATMAX ; i++) all[nl++] = lats[(size_t)p * LATMAX + i] ;
  }
  qsort(all, nl, sizeof(double), &cmpd) ;
  printf("injectors=%d seconds=%.2f msgs=%ld msgs_per_s=%.1f p50_us=%.0f p99_us=%.0f"
         " client_cpu_us=%.0f qq_cpu_us=%.0f qq_user_us=%.0f qq_sys_us=%.0f\n",
    nproc, el, tot, tot / el,
    nl ? all[nl / 2] * 1e6 : 0, nl ? all[(long)(nl * 0.99)] * 1e6 : 0,
    tot ? self / tot : 0, tot ? (quser + qsys) / tot : 0,
    tot ? quser / tot : 0, tot ? qsys / tot : 0) ;
  return failed ? 111 : 0 ;
}
