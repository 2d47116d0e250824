/* ISC license. */
/*
   qmail-send: the scheduler.  It preprocesses new messages (todo/ ->
   info/, local/, remote/), hands each recipient to qmail-lspawn or
   qmail-rspawn, retries deferrals on qmail's schedule, bounces failures and
   has finished messages removed.

   Who runs it: qmail-start, as qmails, with group qmail, umask 077.
   cwd: HOME/queue.  Descriptors: 0 log (one line per event, qmail's exact
   words), 1/2 to/from qmail-lspawn, 3/4 to/from qmail-rspawn, 5/6 to/from
   qmail-clean.  It never writes to fd 2, which is a pipe from qmail-lspawn.

   Reads control/ (qmail-control(5)): locals, virtualdomains, percenthack,
   envnoathost, bouncefrom, bouncehost, doublebounceto, doublebouncehost,
   concurrencylocal, concurrencyremote, queuelifetime, and remotebatch
   (ours).
   Signals: TERM lets deliveries in flight finish, saves every retry time
   as the mtime of its local/ or remote/ file, logs "status: exiting" and
   exits 0; ALRM makes every queued recipient due now; HUP rereads locals
   and virtualdomains.

   Durability: a todo/ entry is removed (by qmail-clean) only after info/,
   local/, remote/ and their directories are fsynced.  A success or a
   bounce is recorded (bounce/ fsynced, then the recipient marked D in
   place) before the next step; a crash can repeat a delivery, never lose
   one.

   Beyond qmail 1.03, and why:
   - new messages go before retries (with one retry in every few picks, so
     retries still move): thousands of deferred messages do not hold back a
     new one (qmail's "silly qmail syndrome").  todo/ and intd/ stay flat.
   - the queue is read in slices at start, between other work, so new mail
     is handled while a large queue is still being read.
   - a channel pass feeds every free slot at once instead of one recipient
     per loop, which is what a 500-recipient list needs.
   - remote recipients of one message at one domain (up to
     control/remotebatch, default 50; 1 turns it off) go to one qmail-remote,
     which sends them in one SMTP transaction: each keeps its own delivery
     number, log lines and result (spawner.h's batch request), and the
     batch takes one slot of concurrencyremote (one qmail-remote, one
     connection: what the limit protects), so the "remote" count of the
     status line counts qmail-remote runs.  The pass reads up to
     BATCH_WINDOW records ahead to find them.  VERP messages are not
     batched (each recipient has its own sender).
*/

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <dirent.h>
#include <utime.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <skalibs/allreadwrite.h>
#include <skalibs/buffer.h>
#include <skalibs/djbunix.h>
#include <skalibs/iopause.h>
#include <skalibs/selfpipe.h>
#include <skalibs/skamisc.h>
#include <skalibs/stralloc.h>
#include <skalibs/tai.h>
#include <skalibs/types.h>

#include <qmail-s6/address.h>
#include <qmail-s6/constmap.h>
#include <qmail-s6/control.h>
#include <qmail-s6/date822.h>
#include <qmail-s6/envelope.h>
#include <qmail-s6/home.h>
#include <qmail-s6/prioq.h>
#include <qmail-s6/qq.h>
#include <qmail-s6/queue.h>
#include <qmail-s6/spawner.h>

#define SLEEP_TODO 1500       /* look at todo/ this often even without trigger */
#define SLEEP_FOREVER 86400
#define SLEEP_CLEANUP 76431   /* between two passes over mess/ */
#define SLEEP_SYSFAIL 123     /* retry after a system error */
#define OSSIFIED 129600       /* 36 h: a mess file this old with no info is garbage */
#define REPORTMAX 10000       /* a spawner's report is cut here */
#define RECORD_MAX 8192       /* a local/ or remote/ record; ours are far shorter */
#define COMM_MAX 8192         /* requests waiting for a spawner */
#define TODO_BATCH 32         /* todo/ entries per loop, at most CLEAN_BATCH */
#define SCAN_BATCH 256        /* info/ entries per loop while reading the queue */
#define CLEANUP_BATCH 64      /* mess/ entries per loop during cleanup */
#define FRESH_BEFORE_RETRY 4  /* new messages picked before one retry is */

#define CHANNELS 2
#define REMOTEBATCH_DEFAULT 50   /* recipients per SMTP transaction (Postfix's default too) */
#define BATCH_WINDOW 1024        /* remote/N records read ahead to find recipients of one domain */
static char const *const chanaddr[CHANNELS] = { "local", "remote" } ;
static char const *const chanstatus[CHANNELS] = { " local ", " remote " } ;
static char const *const tochan[CHANNELS] = { " to local ", " to remote " } ;
static int const chanfdout[CHANNELS] = { 1, 3 } ;
static int const chanfdin[CHANNELS] = { 2, 4 } ;
static unsigned int const chanskip[CHANNELS] = { 10, 20 } ;

static time_t recent ;
static int flagexitasap = 0, flagrunasap = 0, flagreadasap = 0 ;

/* ------------------------------------------------------------------ LOG */

static stralloc logline = STRALLOC_ZERO ;

static void log_flush (void)
{
  size_t pos = 0 ;
  while (pos < logline.len)
  {
    ssize_t w = write(0, logline.s + pos, logline.len - pos) ;
    if (w < 0) { if (errno == EINTR) continue ; break ; }
    pos += w ;
  }
  logline.len = 0 ;
}

#define LOG_MAX 65536

 /* Lines are collected and written once per loop pass (log_flush), not one
    write per line; a pass that logs a lot flushes as it goes. */
static void log_cat (char const *s)
{
  if (!stralloc_cats(&logline, s)) { log_flush() ; return ; }
  if (logline.len >= LOG_MAX && logline.s[logline.len - 1] == '\n') log_flush() ;
}

static void log_ulong (unsigned long u)
{
  char fmt[ULONG_FMT] ;
  if (!stralloc_catb(&logline, fmt, ulong_fmt(fmt, u))) logline.len = 0 ;
}

 /* qmail's logsafe: newline -> '/', other bytes outside 33..126 and '%'
    -> '_', so that one event is one line, whatever the remote side said. */
static void log_safe (char const *s)
{
  for (; *s ; s++)
  {
    char c = *s ;
    if (c == '\n') c = '/' ;
    else if ((unsigned char)c < 33 || (unsigned char)c > 126 || c == '%') c = '_' ;
    if (!stralloc_catb(&logline, &c, 1)) { logline.len = 0 ; return ; }
  }
}

#define log1(a) log_cat(a)
#define log2(a, b) (log_cat(a), log_cat(b))
#define log3(a, b, c) (log_cat(a), log_cat(b), log_cat(c))

static void nomem (void)
{
  log1("alert: out of memory, sleeping...\n") ;
  log_flush() ;
  sleep(10) ;
}

static char fn[QUEUE_PATH_MAX] ;
static char fn2[QUEUE_PATH_MAX] ;

/* ------------------------------------------------------------- CONTROLS */

static unsigned long lifetime = 604800 ;
static unsigned long concurrency[CHANNELS] = { 10, 20 } ;
static stralloc envnoathost = STRALLOC_ZERO ;
static stralloc bouncefrom = STRALLOC_ZERO ;
static stralloc bouncehost = STRALLOC_ZERO ;
static stralloc doublebounceto = STRALLOC_ZERO ;
static stralloc doublebouncehost = STRALLOC_ZERO ;
static unsigned long remotebatch ;
static stralloc locals = STRALLOC_ZERO ;
static stralloc percenthack = STRALLOC_ZERO ;
static stralloc vdoms = STRALLOC_ZERO ;
static constmap maplocals = CONSTMAP_ZERO ;
static constmap mappercenthack = CONSTMAP_ZERO ;
static constmap mapvdoms = CONSTMAP_ZERO ;

 /* control/locals, or control/me when it is missing; required. */
static int read_locals (stralloc *sa)
{
  int r = control_readfile(sa, "control/locals") ;
  if (r < 0) return 0 ;
  if (!r)
  {
    if (control_readline(sa, "control/me") != 1) return 0 ;
    if (!stralloc_0(sa)) return 0 ;
  }
  return 1 ;
}

static int getcontrols (void)
{
  if (control_readulong(&lifetime, "control/queuelifetime", 604800) < 0) return 0 ;
  if (control_readulong(&concurrency[0], "control/concurrencylocal", 10) < 0) return 0 ;
  if (control_readulong(&concurrency[1], "control/concurrencyremote", 20) < 0) return 0 ;
  if (control_readulong(&remotebatch, "control/remotebatch", REMOTEBATCH_DEFAULT) < 0) return 0 ;
  if (!remotebatch) remotebatch = 1 ;
  if (remotebatch > SPAWNER_BATCH_MAX) remotebatch = SPAWNER_BATCH_MAX ;
  if (control_rldef(&envnoathost, "control/envnoathost", 1, "envnoathost") < 0) return 0 ;
  if (control_rldef(&bouncefrom, "control/bouncefrom", 0, "MAILER-DAEMON") < 0) return 0 ;
  if (control_rldef(&bouncehost, "control/bouncehost", 1, "bouncehost") < 0) return 0 ;
  if (control_rldef(&doublebouncehost, "control/doublebouncehost", 1, "doublebouncehost") < 0) return 0 ;
  if (control_rldef(&doublebounceto, "control/doublebounceto", 0, "postmaster") < 0) return 0 ;
  if (!stralloc_cats(&doublebounceto, "@") || !stralloc_catb(&doublebounceto, doublebouncehost.s, doublebouncehost.len)
   || !stralloc_0(&doublebounceto)) return 0 ;
  doublebounceto.len-- ;
  if (!read_locals(&locals)) return 0 ;
  if (!constmap_init(&maplocals, locals.s, locals.len, 0)) return 0 ;
  if (control_readfile(&percenthack, "control/percenthack") < 0) return 0 ;
  if (!constmap_init(&mappercenthack, percenthack.s, percenthack.len, 0)) return 0 ;
  if (control_readfile(&vdoms, "control/virtualdomains") < 0) return 0 ;
  if (!constmap_init(&mapvdoms, vdoms.s, vdoms.len, 1)) return 0 ;
  return 1 ;
}

 /* HUP: locals and virtualdomains only, as qmail.  The old maps stay in
    force when a file cannot be read. */
static void reread (void)
{
  stralloc newlocals = STRALLOC_ZERO, newvdoms = STRALLOC_ZERO ;
  constmap ml, mv ;
  if (!qmail_chdir_home())
  {
    log1("alert: unable to reread controls: unable to switch to home directory\n") ;
    return ;
  }
  if (!read_locals(&newlocals)) log1("alert: unable to reread control/locals\n") ;
  else if (control_readfile(&newvdoms, "control/virtualdomains") < 0) log1("alert: unable to reread control/virtualdomains\n") ;
  else if (!constmap_init(&ml, newlocals.s, newlocals.len, 0)) nomem() ;
  else if (!constmap_init(&mv, newvdoms.s, newvdoms.len, 1)) { constmap_free(&ml) ; nomem() ; }
  else
  {
    constmap_free(&maplocals) ; constmap_free(&mapvdoms) ;
    stralloc_free(&locals) ; stralloc_free(&vdoms) ;
    locals = newlocals ; vdoms = newvdoms ;
    maplocals = ml ; mapvdoms = mv ;
    newlocals = (stralloc)STRALLOC_ZERO ; newvdoms = (stralloc)STRALLOC_ZERO ;
  }
  stralloc_free(&newlocals) ;
  stralloc_free(&newvdoms) ;
  while (chdir("queue") < 0)
  {
    log1("alert: unable to switch back to queue directory; HELP! sleeping...\n") ;
    log_flush() ;
    sleep(10) ;
  }
}

/* ------------------------------------------------------------ REWRITING */

 /* The recipient as delivered: 0 out of memory, 1 local, 2 remote.
    rw gets "T" + the address + NUL. */
static int rewrite (stralloc *rw, char const *recip)
{
  static stralloc addr = STRALLOC_ZERO ;
  size_t i, at ;
  if (!stralloc_copys(&addr, recip)) return 0 ;
  at = addr_at(addr.s, addr.len) ;
  if (at == addr.len)
  {
    if (!stralloc_catb(&addr, "@", 1) || !stralloc_catb(&addr, envnoathost.s, envnoathost.len)) return 0 ;
  }
  /* percenthack: the last % becomes the @, for as long as the domain is listed */
  while (constmap_get(&mappercenthack, addr.s + at + 1, addr.len - at - 1))
  {
    char const *pct = memrchr(addr.s, '%', at) ;
    if (!pct) break ;
    addr.len = at ;
    at = pct - addr.s ;
    addr.s[at] = '@' ;
  }
  at = addr_at(addr.s, addr.len) ;
  rw->len = 0 ;
  if (!stralloc_catb(rw, "T", 1)) return 0 ;
  if (constmap_get(&maplocals, addr.s + at + 1, addr.len - at - 1))
    return stralloc_catb(rw, addr.s, addr.len) && stralloc_0(rw) ? 1 : 0 ;
  /* virtualdomains: user@domain, then the domain and each .suffix, then "" */
  for (i = 0 ; i <= addr.len ; i++)
    if (!i || i == at + 1 || i == addr.len || (i > at && addr.s[i] == '.'))
    {
      char const *prepend = constmap_get(&mapvdoms, addr.s + i, addr.len - i) ;
      if (!prepend) continue ;
      if (!*prepend) break ;
      if (!stralloc_cats(rw, prepend) || !stralloc_catb(rw, "-", 1)
       || !stralloc_catb(rw, addr.s, addr.len) || !stralloc_0(rw)) return 0 ;
      return 1 ;
    }
  return stralloc_catb(rw, addr.s, addr.len) && stralloc_0(rw) ? 2 : 0 ;
}

 /* VERP: a sender "owner-@host-@[]" becomes, per delivery,
    "owner-recipbox=reciphost@host". */
static int senderadd (stralloc *sa, char const *sender, char const *recip)
{
  size_t i = strlen(sender) ;
  if (i >= 4 && !strcmp(sender + i - 4, "-@[]"))
  {
    char const *jat = memrchr(sender, '@', i - 4) ;
    char const *kat = strrchr(recip, '@') ;
    size_t j = jat ? (size_t)(jat - sender) : i - 4 ;
    if (kat && j + 5 <= i)
      return stralloc_catb(sa, sender, j) && stralloc_catb(sa, recip, kat - recip)
        && stralloc_catb(sa, "=", 1) && stralloc_cats(sa, kat + 1)
        && stralloc_catb(sa, "@", 1) && stralloc_catb(sa, sender + j + 1, i - 5 - j) ;
  }
  return stralloc_cats(sa, sender) ;
}

/* ---------------------------------------------------------------- INFO */

 /* The sender (NUL-terminated in sa) and the birth time of message id. */
static int getinfo (stralloc *sa, time_t *birth, unsigned long id)
{
  char buf[1024] ;
  struct stat st ;
  size_t w = 0 ;
  buffer b ;
  int r ;
  int fd ;
  queue_path(fn2, "info", id) ;
  fd = open_read(fn2) ;
  if (fd < 0) return 0 ;
  if (fstat(fd, &st) < 0) { fd_close(fd) ; return 0 ; }
  buffer_init(&b, &buffer_read, fd, buf, sizeof(buf)) ;
  sa->len = 0 ;
  if (!stralloc_ready(sa, RECORD_MAX)) { fd_close(fd) ; return 0 ; }
  r = getlnmax(&b, sa->s, RECORD_MAX, &w, 0) ;
  fd_close(fd) ;
  if (r != 1 || w < 2 || sa->s[0] != 'F') return 0 ;
  memmove(sa->s, sa->s + 1, w - 1) ;   /* drop the F, keep the NUL */
  sa->len = w - 1 ;
  *birth = st.st_mtime ;
  return 1 ;
}

/* -------------------------------------------------------- QMAIL-CLEAN */

static void cleandied (void)
{
  log1("alert: oh no! lost qmail-clean connection! dying...\n") ;
  flagexitasap = 1 ;
}

 /* "todo/N" or "foop/N" to qmail-clean for each of ids[0..n), all
    written before the first reply is read: qmail-clean answers in order,
    one byte each, so a batch costs one round trip, not n.  ok[i] is 1 when
    it answered '+'.  0 when the connection is gone (nothing is done). */
#define CLEAN_BATCH 64
static int clean_many (char const *what, unsigned long const *ids, unsigned int n, int *ok)
{
  char req[CLEAN_BATCH * QUEUE_PATH_MAX] ;
  char reply[CLEAN_BATCH] ;
  size_t len = 0, got = 0 ;
  size_t wl = strlen(what) ;
  unsigned int i ;
  if (!n) return 1 ;
  if (n > CLEAN_BATCH) n = CLEAN_BATCH ;   /* callers never pass more */
  for (i = 0 ; i < n ; i++)
  {
    memcpy(req + len, what, wl) ; len += wl ;
    req[len++] = '/' ;
    len += ulong_fmt(req + len, ids[i]) ;
    req[len++] = 0 ;
  }
  if (allwrite(5, req, len) < len) { cleandied() ; return 0 ; }
  while (got < n)
  {
    ssize_t r = read(6, reply + got, n - got) ;
    if (r > 0) { got += r ; continue ; }
    if (r < 0 && errno == EINTR) continue ;
    cleandied() ;
    return 0 ;
  }
  for (i = 0 ; i < n ; i++)
  {
    ok[i] = reply[i] == '+' ;
    if (!ok[i])
    {
      char fmt[ULONG_FMT] ;
      fmt[ulong_fmt(fmt, ids[i])] = 0 ;
      log1("warning: qmail-clean unable to clean up ") ; log3(what, "/", fmt) ; log1("\n") ;
    }
  }
  return 1 ;
}

static int clean (char const *what, unsigned long id)
{
  int ok ;
  return clean_many(what, &id, 1, &ok) && ok ;
}

/* -------------------------------------------------- PRIORITY QUEUES */

static prioq pqfresh[CHANNELS] = { PRIOQ_ZERO, PRIOQ_ZERO } ;  /* never tried */
static prioq pqretry[CHANNELS] = { PRIOQ_ZERO, PRIOQ_ZERO } ;  /* deferred, or found at start */
static prioq pqdone = PRIOQ_ZERO ;   /* no channel file left: bounce, end */
static prioq pqfail = PRIOQ_ZERO ;   /* stat failed: look again later */
static unsigned int freshstreak[CHANNELS] ;

static void pq_insert (prioq *q, unsigned long id, time_t dt)
{
  prioq_elt e = { .dt = dt, .id = id } ;
  while (!prioq_insert(q, &e)) nomem() ;
}

 /* Schedules a message found in info/: each channel file's mtime is its
    retry time. */
static void pqadd (unsigned long id)
{
  struct stat st ;
  int flagchan[CHANNELS] ;
  time_t dt[CHANNELS] ;
  int c ;
  queue_path(fn, "info", id) ;
  if (stat(fn, &st) < 0) { if (errno != ENOENT) goto fail ; return ; }
  queue_path(fn, "todo", id) ;
  if (stat(fn, &st) == 0) return ;   /* preprocessing was cut short: todo/ redoes it */
  if (errno != ENOENT) goto fail ;
  for (c = 0 ; c < CHANNELS ; c++)
  {
    queue_path(fn, chanaddr[c], id) ;
    if (stat(fn, &st) < 0) { if (errno != ENOENT) goto fail ; flagchan[c] = 0 ; }
    else { flagchan[c] = 1 ; dt[c] = st.st_mtime ; }
  }
  for (c = 0 ; c < CHANNELS ; c++) if (flagchan[c]) pq_insert(&pqretry[c], id, dt[c]) ;
  if (!flagchan[0] && !flagchan[1]) pq_insert(&pqdone, id, recent) ;
  return ;
 fail:
  log3("warning: unable to stat ", fn, "; will try again later\n") ;
  pq_insert(&pqfail, id, recent + SLEEP_SYSFAIL) ;
}

 /* TERM: save each retry time as the mtime of its channel file. */
static void pqfinish (void)
{
  int c ;
  prioq *qs[2] ;
  for (c = 0 ; c < CHANNELS ; c++)
  {
    unsigned int k ;
    qs[0] = &pqfresh[c] ; qs[1] = &pqretry[c] ;
    for (k = 0 ; k < 2 ; k++)
    {
      prioq_elt e ;
      while (prioq_min(qs[k], &e))
      {
        struct utimbuf ut = { .actime = e.dt, .modtime = e.dt } ;
        prioq_delmin(qs[k]) ;
        queue_path(fn, chanaddr[c], e.id) ;
        if (utime(fn, &ut) < 0 && errno != ENOENT)
          log3("warning: unable to utime ", fn, "; message will be retried too soon\n") ;
      }
    }
  }
}

 /* ALRM: everything is due now. */
static void pqrun (void)
{
  int c ;
  for (c = 0 ; c < CHANNELS ; c++)
  {
    size_t i ;
    for (i = 0 ; i < pqretry[c].len ; i++) pqretry[c].p[i].dt = recent ;
  }
}

/* --------------------------------------------------- READING THE QUEUE */

 /* At start, info/ is read a slice at a time.  Messages that todo/
    processing schedules meanwhile are remembered, so that the slice that
    later finds their info/ file does not schedule them twice. */
static struct
{
  int active ;
  unsigned int split ;
  DIR *dir ;
  unsigned long *seen ;   /* open addressing; 0 = empty, id + 1 stored */
  size_t seencap, seenlen ;
} scan ;

static int seen_has (unsigned long id)
{
  size_t i ;
  if (!scan.seencap) return 0 ;
  for (i = (id * 2654435761u) & (scan.seencap - 1) ; scan.seen[i] ; i = (i + 1) & (scan.seencap - 1))
    if (scan.seen[i] == id + 1) return 1 ;
  return 0 ;
}

static void seen_add (unsigned long id)
{
  size_t i ;
  if (!scan.active || seen_has(id)) return ;
  if (2 * (scan.seenlen + 1) > scan.seencap)
  {
    size_t ncap = scan.seencap ? 2 * scan.seencap : 1024, k ;
    unsigned long *n ;
    while (!(n = calloc(ncap, sizeof(unsigned long)))) nomem() ;
    for (k = 0 ; k < scan.seencap ; k++)
      if (scan.seen[k])
      {
        unsigned long v = scan.seen[k] - 1 ;
        for (i = (v * 2654435761u) & (ncap - 1) ; n[i] ; i = (i + 1) & (ncap - 1)) ;
        n[i] = v + 1 ;
      }
    free(scan.seen) ;
    scan.seen = n ;
    scan.seencap = ncap ;
  }
  for (i = (id * 2654435761u) & (scan.seencap - 1) ; scan.seen[i] ; i = (i + 1) & (scan.seencap - 1)) ;
  scan.seen[i] = id + 1 ;
  scan.seenlen++ ;
}

static void scan_do (void)
{
  unsigned int n = 0 ;
  while (scan.active && n < SCAN_BATCH)
  {
    struct dirent *d ;
    unsigned long id ;
    if (!scan.dir)
    {
      char dir[16] = "info/" ;
      if (scan.split >= QUEUE_SPLIT)
      {
        scan.active = 0 ;
        free(scan.seen) ;
        scan.seen = 0 ; scan.seencap = scan.seenlen = 0 ;
        return ;
      }
      dir[5 + uint_fmt(dir + 5, scan.split)] = 0 ;
      scan.dir = opendir(dir) ;
      if (!scan.dir)
      {
        log3("alert: unable to opendir ", dir, ", sleeping...\n") ;
        log_flush() ;
        sleep(10) ;
        return ;
      }
    }
    errno = 0 ;
    d = readdir(scan.dir) ;
    if (!d)
    {
      closedir(scan.dir) ;
      scan.dir = 0 ;
      scan.split++ ;
      continue ;
    }
    n++ ;
    if (!queue_id_scan(d->d_name, &id)) continue ;
    if (seen_has(id)) continue ;
    pqadd(id) ;
  }
}

/* -------------------------------------------------------------- CLEANUP */

 /* Once a day or so, mess/ files that nobody refers to any more (an
    interrupted qmail-queue) are removed, 36 hours after their last use. */
static struct { int active ; unsigned int split ; DIR *dir ; time_t next ; } cleanup ;

static void cleanup_do (void)
{
  unsigned int n = 0 ;
  if (!cleanup.active)
  {
    if (recent < cleanup.next || flagexitasap) return ;
    cleanup.active = 1 ;
    cleanup.split = 0 ;
    cleanup.dir = 0 ;
  }
  while (n++ < CLEANUP_BATCH)
  {
    struct dirent *d ;
    struct stat st ;
    unsigned long id ;
    if (!cleanup.dir)
    {
      char dir[16] = "mess/" ;
      if (cleanup.split >= QUEUE_SPLIT)
      {
        cleanup.active = 0 ;
        cleanup.next = recent + SLEEP_CLEANUP ;
        return ;
      }
      dir[5 + uint_fmt(dir + 5, cleanup.split++)] = 0 ;
      cleanup.dir = opendir(dir) ;
      if (!cleanup.dir) { log3("warning: unable to opendir ", dir, "\n") ; continue ; }
    }
    d = readdir(cleanup.dir) ;
    if (!d) { closedir(cleanup.dir) ; cleanup.dir = 0 ; continue ; }
    if (!queue_id_scan(d->d_name, &id)) continue ;
    queue_path(fn, "mess", id) ;
    if (stat(fn, &st) < 0) continue ;   /* qmail-queue removed it */
    if (recent <= st.st_atime + OSSIFIED) continue ;
    queue_path(fn, "info", id) ;
    if (stat(fn, &st) == 0 || errno != ENOENT) continue ;
    queue_path(fn, "todo", id) ;
    if (stat(fn, &st) == 0 || errno != ENOENT) continue ;
    clean("foop", id) ;
  }
}

/* ----------------------------------------------------------------- JOBS */

typedef struct job_s job ;
struct job_s
{
  unsigned int refs ;   /* 0: unused */
  unsigned long id ;
  int channel ;
  time_t retry ;
  stralloc sender ;
  unsigned int numtodo ;
  int flaghiteof ;
  int flagdying ;
} ;

static job *jo ;
static unsigned int numjobs ;

static int job_avail (void)
{
  unsigned int j ;
  for (j = 0 ; j < numjobs ; j++) if (!jo[j].refs) return 1 ;
  return 0 ;
}

static unsigned int job_open (unsigned long id, int channel)
{
  unsigned int j ;
  for (j = 0 ; j < numjobs ; j++) if (!jo[j].refs) break ;
  jo[j].refs = 1 ;
  jo[j].id = id ;
  jo[j].channel = channel ;
  jo[j].numtodo = 0 ;
  jo[j].flaghiteof = 0 ;
  return j ;
}

 /* The last reference is gone: the channel is done with this message for
    now.  All recipients done -> the channel file goes, and when the other
    channel has none either, the message is finished.  Otherwise it waits
    for its next retry. */
static void job_close (unsigned int j)
{
  int c = jo[j].channel ;
  if (--jo[j].refs) return ;
  if (jo[j].flaghiteof && !jo[j].numtodo)
  {
    struct stat st ;
    queue_path(fn, chanaddr[c], jo[j].id) ;
    if (unlink(fn) < 0)
    {
      log3("warning: unable to unlink ", fn, "; will try again later\n") ;
      pq_insert(&pqretry[c], jo[j].id, time(0) + SLEEP_SYSFAIL) ;
      return ;
    }
    queue_path(fn, chanaddr[1 - c], jo[j].id) ;
    if (stat(fn, &st) == 0) return ;   /* the other channel is still going */
    if (errno != ENOENT) log3("warning: unable to stat ", fn, "\n") ;
    pq_insert(&pqdone, jo[j].id, time(0)) ;
    return ;
  }
  pq_insert(&pqretry[c], jo[j].id, jo[j].retry) ;
}

/* -------------------------------------------------------------- BOUNCES */

 /* A recipient rewritten for a virtual domain "prepend-user@dom" is shown
    in a bounce as the sender wrote it. */
static char const *stripvdomprepend (char const *recip)
{
  char const *at = strrchr(recip, '@') ;
  char const *domain ;
  size_t domainlen, i ;
  if (!at) return recip ;
  domain = at + 1 ;
  domainlen = strlen(domain) ;
  for (i = 0 ; i <= domainlen ; i++)
    if (!i || i == domainlen || domain[i] == '.')
    {
      char const *prepend = constmap_get(&mapvdoms, domain + i, domainlen - i) ;
      size_t plen ;
      if (!prepend) continue ;
      if (!*prepend) break ;
      plen = strlen(prepend) ;
      if (strncmp(recip, prepend, plen) || recip[plen] != '-') break ;
      return recip + plen + 1 ;
    }
  return recip ;
}

 /* Appends one failed recipient to bounce/N, fsynced: the recipient is
    marked done right after, so the note must be on disk first. */
static void addbounce (unsigned long id, char const *recip, char const *report)
{
  static stralloc text = STRALLOC_ZERO ;
  size_t pos, rlen = strlen(report) ;
  while (!stralloc_copys(&text, "<") || !stralloc_cats(&text, stripvdomprepend(recip))) nomem() ;
  for (pos = 0 ; pos < text.len ; pos++) if (text.s[pos] == '\n') text.s[pos] = '_' ;
  while (!stralloc_cats(&text, ">:\n") || !stralloc_catb(&text, report, rlen)) nomem() ;
  if (rlen && report[rlen - 1] != '\n') while (!stralloc_catb(&text, "\n", 1)) nomem() ;
  /* an empty line ends the note: empty lines inside it become "/" */
  for (pos = text.len - 2 ; pos > 0 ; pos--)
    if (text.s[pos] == '\n' && text.s[pos - 1] == '\n') text.s[pos] = '/' ;
  while (!stralloc_catb(&text, "\n", 1)) nomem() ;
  queue_path(fn2, "bounce", id) ;
  for (;;)
  {
    int fd = open(fn2, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600) ;
    if (fd >= 0)
    {
      if (allwrite(fd, text.s, text.len) == text.len && fsync(fd) == 0) { fd_close(fd) ; return ; }
      fd_close(fd) ;
    }
    log1("alert: unable to append to bounce message; HELP! sleeping...\n") ;
    log_flush() ;
    sleep(10) ;
  }
}

static int copyfile (qqclient *qq, char const *path)
{
  char buf[8192] ;
  int fd = open_read(path) ;
  if (fd < 0) return 0 ;
  for (;;)
  {
    ssize_t r = fd_read(fd, buf, sizeof(buf)) ;
    if (r < 0) { fd_close(fd) ; return 0 ; }
    if (!r) break ;
    qq_put(qq, buf, r) ;
  }
  fd_close(fd) ;
  return 1 ;
}

 /* 1 when the bounce (if any) is queued or discarded and bounce/N is gone. */
static int injectbounce (unsigned long id)
{
  static stralloc sender = STRALLOC_ZERO ;
  static stralloc hdr = STRALLOC_ZERO ;
  struct stat st ;
  time_t birth ;
  char bouncefn[QUEUE_PATH_MAX], messfn[QUEUE_PATH_MAX] ;
  char const *bouncesender, *bouncerecip ;
  if (!getinfo(&sender, &birth, id)) return 0 ;
  /* owner-@host-@[] -> owner-@host */
  if (sender.len >= 5 && !strcmp(sender.s + sender.len - 5, "-@[]"))
  {
    sender.len -= 4 ;
    sender.s[sender.len - 1] = 0 ;
  }
  queue_path(bouncefn, "bounce", id) ;
  queue_path(messfn, "mess", id) ;
  if (stat(bouncefn, &st) < 0)
  {
    if (errno == ENOENT) return 1 ;
    log3("warning: unable to stat ", bouncefn, "\n") ;
    return 0 ;
  }
  if (!strcmp(sender.s, "#@[]")) log3("triple bounce: discarding ", bouncefn, "\n") ;
  else
  {
    qqclient qq ;
    char const *err ;
    char date[DATE822_FMT] ;
    pid_t qp ;
    if (!qq_open(&qq))
    {
      log1("warning: unable to start qmail-queue, will try later\n") ;
      return 0 ;
    }
    qp = qq_qp(&qq) ;
    if (*sender.s) { bouncesender = "" ; bouncerecip = sender.s ; }
    else { bouncesender = "#@[]" ; bouncerecip = doublebounceto.s ; }
    hdr.len = 0 ;
    while (!stralloc_cats(&hdr, "Date: ") || !stralloc_catb(&hdr, date, date822_fmt(date, time(0)))
      || !stralloc_cats(&hdr, "\nFrom: ") || !addr_box_quote_cat(&hdr, bouncefrom.s, bouncefrom.len)
      || !stralloc_catb(&hdr, "@", 1) || !stralloc_catb(&hdr, bouncehost.s, bouncehost.len)
      || !stralloc_cats(&hdr, "\nTo: ") || !addr_quote_cat(&hdr, bouncerecip, strlen(bouncerecip))
      || !stralloc_cats(&hdr, "\nSubject: failure notice\n\nHi. This is the qmail-send program at ")
      || !stralloc_catb(&hdr, bouncehost.s, bouncehost.len)
      || !stralloc_cats(&hdr, *sender.s
           ? ".\nI'm afraid I wasn't able to deliver your message to the following addresses.\n"
             "This is a permanent error; I've given up. Sorry it didn't work out.\n\n"
           : ".\nI tried to deliver a bounce message to this address, but the bounce bounced!\n\n"))
      nomem() ;
    qq_put(&qq, hdr.s, hdr.len) ;
    if (!copyfile(&qq, bouncefn)) qq_fail(&qq) ;
    hdr.len = 0 ;
    while (!stralloc_cats(&hdr, *sender.s ? "--- Below this line is a copy of the message.\n\n"
                                         : "--- Below this line is the original bounce.\n\n")
      || !stralloc_cats(&hdr, "Return-Path: <") || !addr_quote_cat(&hdr, sender.s, sender.len - 1)
      || !stralloc_cats(&hdr, ">\n"))
      nomem() ;
    qq_put(&qq, hdr.s, hdr.len) ;
    if (!copyfile(&qq, messfn)) qq_fail(&qq) ;
    qq_from(&qq, bouncesender) ;
    qq_to(&qq, bouncerecip) ;
    err = qq_close(&qq) ;
    if (*err)
    {
      log1("warning: trouble injecting bounce message, will try later\n") ;
      return 0 ;
    }
    log1("bounce msg ") ; log_ulong(id) ;
    log1(" qp ") ; log_ulong(qp) ; log1("\n") ;
  }
  if (unlink(bouncefn) < 0)
  {
    log3("warning: unable to unlink ", bouncefn, "\n") ;
    return 0 ;
  }
  return 1 ;
}

/* ----------------------------------------------------------- DELIVERIES */

typedef struct del_s del ;
struct del_s
{
  int used ;
  unsigned int j ;
  unsigned int n ;        /* recipients served by this slot: 1, or a batch's */
  unsigned int next ;     /* the one the next report is for */
  unsigned long delid[SPAWNER_BATCH_MAX] ;
  off_t mpos[SPAWNER_BATCH_MAX] ;
  size_t roff[SPAWNER_BATCH_MAX] ;
  stralloc recips ;       /* the n recipients, each NUL-terminated, at roff[] */
} ;

static unsigned long masterdelid = 1 ;
static unsigned int concurrencyused[CHANNELS] ;
static del *d[CHANNELS] ;
static stralloc dline[CHANNELS] = { STRALLOC_ZERO, STRALLOC_ZERO } ;
static int flagspawnalive[CHANNELS] ;
static stralloc comm[CHANNELS] = { STRALLOC_ZERO, STRALLOC_ZERO } ;
static size_t commpos[CHANNELS] ;

static void spawndied (int c)
{
  log1("alert: oh no! lost spawn connection! dying...\n") ;
  flagspawnalive[c] = 0 ;
  flagexitasap = 1 ;
}

static void del_status (void)
{
  int c ;
  log1("status:") ;
  for (c = 0 ; c < CHANNELS ; c++)
  {
    log1(chanstatus[c]) ; log_ulong(concurrencyused[c]) ;
    log1("/") ; log_ulong(concurrency[c]) ;
  }
  if (flagexitasap) log1(" exitasap") ;
  log1("\n") ;
}

static int del_canexit (void)
{
  int c ;
  for (c = 0 ; c < CHANNELS ; c++)
    if (flagspawnalive[c] && concurrencyused[c]) return 0 ;
  return 1 ;
}

static int del_avail (int c)
{
  return flagspawnalive[c] && comm[c].len - commpos[c] < COMM_MAX && concurrencyused[c] < concurrency[c] ;
}

static void comm_flush (int c)
{
  while (flagspawnalive[c] && commpos[c] < comm[c].len)
  {
    ssize_t w = write(chanfdout[c], comm[c].s + commpos[c], comm[c].len - commpos[c]) ;
    if (w < 0)
    {
      if (errno == EINTR) continue ;
      if (errno != EAGAIN) spawndied(c) ;
      return ;
    }
    commpos[c] += w ;
  }
  if (commpos[c] == comm[c].len) comm[c].len = commpos[c] = 0 ;
}

 /* Starts recipients recips[0..k) of job j, whose records are at mpos[]
    in the channel file, in one slot: one spawner request, one child, one
    connection (a batch when k > 1: the remote channel only, one domain,
    no VERP).  Every recipient is a delivery of its own, with its own
    "starting delivery" line, report and result. */
static void del_start (unsigned int j, off_t const *mpos, char const *const *recips, unsigned int k)
{
  int c = jo[j].channel ;
  unsigned int i, m ;
  char split[QUEUE_PATH_MAX] ;
  char slot ;
  size_t n ;
  del *x ;
  if (!del_avail(c) || !k || k > SPAWNER_BATCH_MAX) return ;
  for (i = 0 ; i < concurrency[c] ; i++) if (!d[c][i].used) break ;
  if (i == concurrency[c]) return ;
  x = &d[c][i] ;
  slot = i ;
  x->used = 1 ; concurrencyused[c]++ ;
  x->j = j ;
  x->n = k ;
  x->next = 0 ;
  x->recips.len = 0 ;
  for (m = 0 ; m < k ; m++)
  {
    x->roff[m] = x->recips.len ;
    while (!stralloc_cats(&x->recips, recips[m]) || !stralloc_0(&x->recips)) nomem() ;
    x->delid[m] = masterdelid++ ;
    x->mpos[m] = mpos[m] ;
    jo[j].refs++ ;
    log1("starting delivery ") ; log_ulong(x->delid[m]) ;
    log1(": msg ") ; log_ulong(jo[j].id) ; log1(tochan[c]) ;
    log_safe(recips[m]) ; log1("\n") ;
    del_status() ;
  }

  /* qmail's request: slot, "split/id\0", sender (VERP applied) "\0",
     recipient "\0"; a batch: SPAWNER_BATCH, k, slot, "split/id\0",
     sender "\0", then the k recipients */
  n = queue_path(split, "mess", jo[j].id) ;
  if (k > 1)
  {
    char hdr[2] = { (char)SPAWNER_BATCH, (char)k } ;
    while (!stralloc_catb(&comm[c], hdr, 2)) nomem() ;
  }
  while (!stralloc_catb(&comm[c], &slot, 1) || !stralloc_catb(&comm[c], split + 5, n - 5 + 1)
    || !senderadd(&comm[c], jo[j].sender.s, recips[0]) || !stralloc_0(&comm[c])
    || !stralloc_catb(&comm[c], x->recips.s, x->recips.len)) nomem() ;
  comm_flush(c) ;
}

 /* Success or permanent failure: the record's T becomes D in place. */
static void markdone (int c, unsigned long id, off_t pos)
{
  int fd ;
  queue_path(fn, chanaddr[c], id) ;
  fd = open(fn, O_WRONLY | O_CLOEXEC) ;
  if (fd >= 0)
  {
    ssize_t w = pwrite(fd, "D", 1, pos) ;
    fd_close(fd) ;
    if (w == 1) return ;
  }
  log3("warning: trouble marking ", fn, "; message will be delivered twice!\n") ;
}

static void del_report (int c)
{
  unsigned int delnum = (unsigned char)dline[c].s[0] ;
  del *x ;
  char const *text, *recip ;
  unsigned long delid ;
  off_t mpos ;
  if (delnum >= concurrency[c] || !d[c][delnum].used)
  {
    log1("warning: internal error: delivery report out of range\n") ;
    return ;
  }
  x = &d[c][delnum] ;
  /* the reports of a batch come in the order of its recipients */
  delid = x->delid[x->next] ;
  mpos = x->mpos[x->next] ;
  recip = x->recips.s + x->roff[x->next] ;
  if (dline[c].s[1] == 'Z' && jo[x->j].flagdying)
  {
    dline[c].s[1] = 'D' ;
    dline[c].len-- ;
    while (!stralloc_cats(&dline[c], "I'm not going to try again; this message has been in the queue too long.\n")
      || !stralloc_0(&dline[c])) nomem() ;
  }
  text = dline[c].s + 2 ;
  switch (dline[c].s[1])
  {
    case 'K' :
      log1("delivery ") ; log_ulong(delid) ; log1(": success: ") ; log_safe(text) ; log1("\n") ;
      markdone(c, jo[x->j].id, mpos) ;
      jo[x->j].numtodo-- ;
      break ;
    case 'Z' :
      log1("delivery ") ; log_ulong(delid) ; log1(": deferral: ") ; log_safe(text) ; log1("\n") ;
      break ;
    case 'D' :
      log1("delivery ") ; log_ulong(delid) ; log1(": failure: ") ; log_safe(text) ; log1("\n") ;
      addbounce(jo[x->j].id, recip, text) ;
      markdone(c, jo[x->j].id, mpos) ;
      jo[x->j].numtodo-- ;
      break ;
    default :
      log1("delivery ") ; log_ulong(delid) ; log1(": report mangled, will defer\n") ;
  }
  if (++x->next == x->n)
  {
    x->used = 0 ;
    concurrencyused[c]-- ;
  }
  job_close(x->j) ;
  del_status() ;
}

static void del_dochan (int c)
{
  char buf[4096] ;
  ssize_t r = read(chanfdin[c], buf, sizeof(buf)) ;
  ssize_t i ;
  if (r < 0) return ;
  if (!r) { spawndied(c) ; return ; }
  for (i = 0 ; i < r ; i++)
  {
    /* qmail-lspawn and qmail-rspawn keep reports short; we do not trust them to */
    if (dline[c].len < REPORTMAX) while (!stralloc_catb(&dline[c], buf + i, 1)) nomem() ;
    else dline[c].s[REPORTMAX - 1] = buf[i] ;
    if (!buf[i] && dline[c].len > 1)
    {
      dline[c].s[dline[c].len - 1] = 0 ;
      del_report(c) ;
      dline[c].len = 0 ;
    }
  }
}

/* --------------------------------------------------------------- PASSES */

 /* A pass reads one message's channel file and starts its recipients. */
typedef struct pending_s pending ;
struct pending_s
{
  off_t mpos ;
  stralloc recip ;   /* NUL-terminated */
} ;

static struct pass_s
{
  unsigned long id ;   /* 0: no pass */
  unsigned int j ;
  int fd ;
  off_t mpos ;
  buffer b ;
  char buf[1024] ;
   /* the remote channel reads ahead: recipients read, not yet started */
  pending pend[BATCH_WINDOW] ;
  unsigned int npend ;
  int eof ;
} pass[CHANNELS] ;

static unsigned long nextretry (time_t birth, int c)
{
  unsigned long n = 0 ;
  if (birth <= recent)
  {
    unsigned long x = recent - birth ;
    /* integer square root: n*n <= x < (n+1)^2 */
    unsigned long lo = 0, hi = x < 4294967295UL ? x + 1 : 4294967296UL ;
    while (hi - lo > 1)
    {
      unsigned long mid = lo + (hi - lo) / 2 ;
      if (mid * mid <= x) lo = mid ; else hi = mid ;
    }
    n = lo ;
  }
  n += chanskip[c] ;
  return (unsigned long)birth + n * n ;
}

 /* The next message whose turn it is on channel c: new ones first, with
    a due retry every FRESH_BEFORE_RETRY picks. */
static int pick (int c, prioq_elt *e)
{
  prioq_elt f, r ;
  int hasf = prioq_min(&pqfresh[c], &f) && f.dt <= recent ;
  int hasr = prioq_min(&pqretry[c], &r) && r.dt <= recent ;
  if (hasf && (!hasr || freshstreak[c] < FRESH_BEFORE_RETRY))
  {
    freshstreak[c]++ ;
    prioq_delmin(&pqfresh[c]) ;
    *e = f ;
    return 1 ;
  }
  if (hasr)
  {
    freshstreak[c] = 0 ;
    prioq_delmin(&pqretry[c]) ;
    *e = r ;
    return 1 ;
  }
  return 0 ;
}

static void pass_close (int c)
{
  pass[c].npend = 0 ;
  pass[c].eof = 0 ;
  fd_close(pass[c].fd) ;
  job_close(pass[c].j) ;
  pass[c].id = 0 ;
}

 /* Do two addresses have the same domain (after the last '@', any case)? */
static int same_domain (char const *a, char const *b)
{
  char const *x = strrchr(a, '@'), *y = strrchr(b, '@') ;
  if (!x || !y) return 0 ;
  return !strcasecmp(x + 1, y + 1) ;
}

 /* One channel record into line: 1 read (w bytes), 0 end of file, -1
    trouble (logged; the pass is closed). */
static int pass_record (int c, stralloc *line, size_t *w)
{
  int r ;
  *w = 0 ;
  while (!stralloc_ready(line, RECORD_MAX)) nomem() ;
  r = getlnmax(&pass[c].b, line->s, RECORD_MAX, w, 0) ;
  if (r < 0 && errno != ERANGE)
  {
    queue_path(fn, chanaddr[c], pass[c].id) ;
    log3("warning: trouble reading ", fn, "; will try again later\n") ;
    pass_close(c) ;
    return -1 ;
  }
  if (!r) return 0 ;
  if (r < 0 || (line->s[0] != 'T' && line->s[0] != 'D'))
  {
    queue_path(fn, chanaddr[c], pass[c].id) ;
    log3("warning: unknown record type in ", fn, "!\n") ;
    pass_close(c) ;
    return -1 ;
  }
  return 1 ;
}

 /* The remote channel's feed: read up to BATCH_WINDOW records ahead, then
    start the first pending recipient together with the later pending ones
    at its domain (up to remotebatch, and the free slots), as one batch. */
static void pass_feed_batched (int c)
{
  static stralloc line = STRALLOC_ZERO ;
  struct pass_s *p = &pass[c] ;
  while (p->id)
  {
    off_t mpos[SPAWNER_BATCH_MAX] ;
    char const *recips[SPAWNER_BATCH_MAX] ;
    unsigned int pick[SPAWNER_BATCH_MAX] ;
    unsigned long max ;
    unsigned int k = 1, i ;
    while (!p->eof && p->npend < BATCH_WINDOW)
    {
      size_t w ;
      int r = pass_record(c, &line, &w) ;
      if (r < 0) return ;
      if (!r) { p->eof = 1 ; break ; }
      if (line.s[0] == 'T')
      {
        pending *x = &p->pend[p->npend++] ;
        x->mpos = p->mpos ;
        while (!stralloc_copys(&x->recip, line.s + 1) || !stralloc_0(&x->recip)) nomem() ;
        jo[p->j].numtodo++ ;
      }
      p->mpos += w ;
    }
    if (!p->npend)
    {
      jo[p->j].flaghiteof = 1 ;
      pass_close(c) ;
      return ;
    }
    if (!del_avail(c)) return ;
    max = remotebatch ;
    {
      /* VERP: every recipient has a sender of its own */
      char const *sd = jo[p->j].sender.s ;
      size_t sl = strlen(sd) ;
      if (sl >= 4 && !strcmp(sd + sl - 4, "-@[]")) max = 1 ;
    }
    pick[0] = 0 ;
    for (i = 1 ; i < p->npend && k < max ; i++)
      if (same_domain(p->pend[i].recip.s, p->pend[0].recip.s)) pick[k++] = i ;

    for (i = 0 ; i < k ; i++) { mpos[i] = p->pend[pick[i]].mpos ; recips[i] = p->pend[pick[i]].recip.s ; }
    del_start(p->j, mpos, recips, k) ;
    /* drop the started ones, keeping the order of the rest; their
       storage moves to the end, to be reused */
    {
      pending kept[BATCH_WINDOW] ;
      pending gone[SPAWNER_BATCH_MAX] ;
      unsigned int nk = 0, ng = 0, q = 0 ;
      for (i = 0 ; i < p->npend ; i++)
      {
        if (q < k && pick[q] == i) { gone[ng++] = p->pend[i] ; q++ ; }
        else kept[nk++] = p->pend[i] ;
      }
      memcpy(p->pend, kept, nk * sizeof(pending)) ;
      memcpy(p->pend + nk, gone, ng * sizeof(pending)) ;
      p->npend = nk ;
    }
  }
}

static void pass_dochan (int c)
{
  static stralloc line = STRALLOC_ZERO ;
  if (flagexitasap) return ;
  if (!pass[c].id)
  {
    prioq_elt e ;
    time_t birth ;
    unsigned int j ;
    if (!concurrency[c] || !del_avail(c) || !job_avail()) return ;
    if (!pick(c, &e)) return ;
    queue_path(fn, chanaddr[c], e.id) ;
    pass[c].fd = open(fn, O_RDONLY | O_CLOEXEC) ;
    if (pass[c].fd < 0)
    {
      if (errno == ENOENT) return ;   /* done meanwhile */
      goto trouble ;
    }
    if (!getinfo(&line, &birth, e.id)) { fd_close(pass[c].fd) ; goto trouble ; }
    pass[c].id = e.id ;
    pass[c].mpos = 0 ;
    pass[c].npend = 0 ;
    pass[c].eof = 0 ;
    buffer_init(&pass[c].b, &buffer_read, pass[c].fd, pass[c].buf, sizeof(pass[c].buf)) ;
    j = pass[c].j = job_open(e.id, c) ;
    jo[j].retry = nextretry(birth, c) ;
    jo[j].flagdying = (unsigned long)recent > (unsigned long)birth + lifetime ;
    while (!stralloc_copyb(&jo[j].sender, line.s, line.len)) nomem() ;
    goto feed ;
   trouble:
    log3("warning: trouble opening ", fn, "; will try again later\n") ;
    pq_insert(&pqretry[c], e.id, recent + SLEEP_SYSFAIL) ;
    return ;
  }
 feed:
  if (c == 1) { pass_feed_batched(c) ; return ; }
  while (pass[c].id && del_avail(c))
  {
    size_t w = 0 ;
    int r ;
    while (!stralloc_ready(&line, RECORD_MAX)) nomem() ;
    r = getlnmax(&pass[c].b, line.s, RECORD_MAX, &w, 0) ;
    if (r < 0 && errno != ERANGE)
    {
      queue_path(fn, chanaddr[c], pass[c].id) ;
      log3("warning: trouble reading ", fn, "; will try again later\n") ;
      pass_close(c) ;
      return ;
    }
    if (!r)
    {
      jo[pass[c].j].flaghiteof = 1 ;
      pass_close(c) ;
      return ;
    }
    if (r < 0 || (line.s[0] != 'T' && line.s[0] != 'D'))
    {
      queue_path(fn, chanaddr[c], pass[c].id) ;
      log3("warning: unknown record type in ", fn, "!\n") ;
      pass_close(c) ;
      return ;
    }
    if (line.s[0] == 'T')
    {
      char const *rcpt = line.s + 1 ;
      jo[pass[c].j].numtodo++ ;
      del_start(pass[c].j, &pass[c].mpos, &rcpt, 1) ;
    }
    pass[c].mpos += w ;
  }
}

 /* Finished messages whose mess/ file goes next, then their info/ file.
    mess/ goes before info/ (qmail does the reverse): a crash in between
    leaves an info/ file that the next start finishes again, instead of a
    mess/ file that nothing refers to for 36 hours.  They are collected
    over one loop pass and sent to qmail-clean together (clean_many). */
static unsigned long foop_ids[CLEAN_BATCH] ;
static unsigned int foop_n = 0 ;

static void foop_flush (void)
{
  int ok[CLEAN_BATCH] ;
  unsigned int i, n = foop_n ;
  foop_n = 0 ;
  if (!n) return ;
  if (!clean_many("foop", foop_ids, n, ok))
    for (i = 0 ; i < n ; i++) ok[i] = 0 ;
  for (i = 0 ; i < n ; i++)
  {
    if (ok[i])
    {
      queue_path(fn, "info", foop_ids[i]) ;
      if (unlink(fn) == 0) continue ;
      log3("warning: unable to unlink ", fn, "; will try again later\n") ;
    }
    pq_insert(&pqdone, foop_ids[i], time(0) + SLEEP_SYSFAIL) ;
  }
}

static void messdone (unsigned long id)
{
  struct stat st ;
  int c ;
  for (c = 0 ; c < CHANNELS ; c++)
  {
    queue_path(fn, chanaddr[c], id) ;
    if (stat(fn, &st) == 0) return ;   /* not done after all */
    if (errno != ENOENT) goto stat_fail ;
  }
  queue_path(fn, "todo", id) ;
  if (stat(fn, &st) == 0) return ;
  if (errno != ENOENT) goto stat_fail ;
  queue_path(fn, "info", id) ;
  if (stat(fn, &st) < 0)
  {
    if (errno == ENOENT) return ;
    goto stat_fail ;
  }
  if (!injectbounce(id)) goto fail ;
  log1("end msg ") ; log_ulong(id) ; log1("\n") ;
  foop_ids[foop_n++] = id ;
  if (foop_n == CLEAN_BATCH) foop_flush() ;
  return ;
 stat_fail:
  log3("warning: unable to stat ", fn, "; will try again later\n") ;
 fail:
  pq_insert(&pqdone, id, time(0) + SLEEP_SYSFAIL) ;
}

static void pass_do (void)
{
  prioq_elt e ;
  int c ;
  for (c = 0 ; c < CHANNELS ; c++) pass_dochan(c) ;
  while (prioq_min(&pqfail, &e) && e.dt <= recent) { prioq_delmin(&pqfail) ; pqadd(e.id) ; }
  /* even when exiting: a message whose last delivery just ended is
     finished (bounce, end msg) before qmail-send goes, as qmail does */
  while (prioq_min(&pqdone, &e) && e.dt <= recent) { prioq_delmin(&pqdone) ; messdone(e.id) ; }
  foop_flush() ;
}

 /* When must the loop wake up for passes, failures and finished messages? */
static void pass_selprep (time_t *wakeup)
{
  prioq_elt e ;
  int c ;
  if (flagexitasap) return ;
  for (c = 0 ; c < CHANNELS ; c++)
  {
    if (pass[c].id && del_avail(c)) { *wakeup = 0 ; return ; }
    if (!pass[c].id && concurrency[c] && job_avail())
    {
      if (prioq_min(&pqfresh[c], &e) && *wakeup > e.dt) *wakeup = e.dt ;
      if (prioq_min(&pqretry[c], &e) && *wakeup > e.dt) *wakeup = e.dt ;
    }
  }
  if (prioq_min(&pqfail, &e) && *wakeup > e.dt) *wakeup = e.dt ;
  if (prioq_min(&pqdone, &e) && *wakeup > e.dt) *wakeup = e.dt ;
}

/* ----------------------------------------------------------------- TODO */

static struct { DIR *dir ; time_t next ; int trigger ; } todo ;

static int fsync_parent (char const *path)
{
  char dir[QUEUE_PATH_MAX] ;
  char const *slash = strrchr(path, '/') ;
  size_t n = slash ? (size_t)(slash - path) : 0 ;
  int fd, r ;
  memcpy(dir, path, n) ;
  dir[n] = 0 ;
  fd = open(n ? dir : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC) ;
  if (fd < 0) return 0 ;
  r = fsync(fd) ;
  fd_close(fd) ;
  return !r ;
}

 /* todo/ is preprocessed a batch at a time (up to TODO_BATCH entries per
    loop pass): todo_prepare writes info/N, local/N and remote/N of each
    entry, then todo_commit fsyncs every file, then each directory they
    were created in, once per batch (entries of one batch share the split
    directories), then asks qmail-clean to remove intd/N and todo/N for
    all of them in one round trip, then schedules them.  todo/N goes only
    after its files and their directories are durable, as before; a crash
    in between leaves todo/N, and the next pass does it again. */
typedef struct todo_entry_s todo_entry ;
struct todo_entry_s
{
  unsigned long id ;
  int fdinfo ;
  int fdchan[CHANNELS] ;
} ;

static void todo_entry_close (todo_entry *t)
{
  int c ;
  if (t->fdinfo >= 0) { fd_close(t->fdinfo) ; t->fdinfo = -1 ; }
  for (c = 0 ; c < CHANNELS ; c++) if (t->fdchan[c] >= 0) { fd_close(t->fdchan[c]) ; t->fdchan[c] = -1 ; }
}

 /* Writes info/N and the channel files of todo/N (not yet fsynced; their
    descriptors stay open in t).  1 done, 0 failed (logged, nothing open). */
static int todo_prepare (unsigned long id, todo_entry *t)
{
  static stralloc rec = STRALLOC_ZERO ;
  static stralloc rw = STRALLOC_ZERO ;
  static stralloc chanbuf[CHANNELS] = { STRALLOC_ZERO, STRALLOC_ZERO } ;
  char todofn[QUEUE_PATH_MAX], infofn[QUEUE_PATH_MAX], chanfn[CHANNELS][QUEUE_PATH_MAX] ;
  char inbuf[4096] ;
  struct stat st, st2 ;
  unsigned long uid = 0, pid = 0 ;
  int fd = -1 ;
  int c ;
  buffer b ;

  t->id = id ;
  t->fdinfo = -1 ;
  for (c = 0 ; c < CHANNELS ; c++) t->fdchan[c] = -1 ;
  queue_path(todofn, "todo", id) ;
  queue_path(infofn, "info", id) ;
  for (c = 0 ; c < CHANNELS ; c++) { queue_path(chanfn[c], chanaddr[c], id) ; chanbuf[c].len = 0 ; }
  fd = open(todofn, O_RDONLY | O_CLOEXEC) ;
  if (fd < 0) { log3("warning: unable to open ", todofn, "\n") ; return 0 ; }
  queue_path(fn, "mess", id) ;
  if (stat(fn, &st) < 0) { log3("warning: unable to stat ", fn, "\n") ; goto fail ; }
  /* leftovers of an earlier attempt that was cut short: info/N is always
     created first and removed last, so without it there is nothing to
     remove (and no unlink calls to make for every new message) */
  if (stat(infofn, &st2) == 0)
  {
    for (c = 0 ; c < CHANNELS ; c++)
      if (unlink(chanfn[c]) < 0 && errno != ENOENT) { log3("warning: unable to unlink ", chanfn[c], "\n") ; goto fail ; }
    if (unlink(infofn) < 0 && errno != ENOENT) { log3("warning: unable to unlink ", infofn, "\n") ; goto fail ; }
  }
  else if (errno != ENOENT) { log3("warning: unable to stat ", infofn, "\n") ; goto fail ; }
  t->fdinfo = open(infofn, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600) ;
  if (t->fdinfo < 0) { log3("warning: unable to create ", infofn, "\n") ; goto fail ; }
  log1("new msg ") ; log_ulong(id) ; log1("\n") ;

  buffer_init(&b, &buffer_read, fd, inbuf, sizeof(inbuf)) ;
  for (;;)
  {
    size_t w = 0 ;
    int r ;
    while (!stralloc_ready(&rec, RECORD_MAX)) nomem() ;
    r = getlnmax(&b, rec.s, RECORD_MAX, &w, 0) ;
    if (!r && !w) break ;
    if (r != 1) { log3("warning: trouble reading ", todofn, "\n") ; goto fail ; }
    switch (rec.s[0])
    {
      case 'u' : ulong_scan(rec.s + 1, &uid) ; break ;
      case 'p' : ulong_scan(rec.s + 1, &pid) ; break ;
      case 'F' :
        if (allwrite(t->fdinfo, rec.s, w) < w) { log3("warning: trouble writing to ", infofn, "\n") ; goto fail ; }
        log1("info msg ") ; log_ulong(id) ;
        log1(": bytes ") ; log_ulong(st.st_size) ;
        log1(" from <") ; log_safe(rec.s + 1) ;
        log1("> qp ") ; log_ulong(pid) ;
        log1(" uid ") ; log_ulong(uid) ; log1("\n") ;
        break ;
      case 'T' :
        switch (rewrite(&rw, rec.s + 1))
        {
          case 0 : nomem() ; goto fail ;
          case 2 : c = 1 ; break ;
          default : c = 0 ; break ;
        }
        if (t->fdchan[c] < 0)
        {
          t->fdchan[c] = open(chanfn[c], O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600) ;
          if (t->fdchan[c] < 0) { log3("warning: unable to create ", chanfn[c], "\n") ; goto fail ; }
        }
        while (!stralloc_catb(&chanbuf[c], rw.s, rw.len)) nomem() ;
        if (chanbuf[c].len >= 65536)
        {
          if (allwrite(t->fdchan[c], chanbuf[c].s, chanbuf[c].len) < chanbuf[c].len)
          { log3("warning: trouble writing to ", chanfn[c], "\n") ; goto fail ; }
          chanbuf[c].len = 0 ;
        }
        break ;
      default :
        log3("warning: unknown record type in ", todofn, "\n") ;
        goto fail ;
    }
  }
  fd_close(fd) ;
  for (c = 0 ; c < CHANNELS ; c++)
    if (t->fdchan[c] >= 0 && allwrite(t->fdchan[c], chanbuf[c].s, chanbuf[c].len) < chanbuf[c].len)
    {
      log3("warning: trouble writing to ", chanfn[c], "\n") ;
      todo_entry_close(t) ;
      return 0 ;
    }
  return 1 ;

 fail:
  fd_close(fd) ;
  todo_entry_close(t) ;
  return 0 ;
}

 /* fsyncs the directory of kind/ holding id's file, unless done already
    in this batch (done[kind][split]); 1 ok. */
static int todo_fsync_dir (unsigned int kind, char const *kindname, unsigned long id, unsigned char done[][QUEUE_SPLIT])
{
  unsigned int split = id % QUEUE_SPLIT ;
  if (done[kind][split]) return 1 ;
  queue_path(fn, kindname, id) ;
  if (!fsync_parent(fn)) { log3("warning: trouble fsyncing ", fn, "\n") ; return 0 ; }
  done[kind][split] = 1 ;
  return 1 ;
}

_Static_assert(TODO_BATCH <= CLEAN_BATCH, "a todo batch must fit in one clean_many call") ;

static void todo_commit (todo_entry *t, unsigned int n)
{
  unsigned char dirdone[1 + CHANNELS][QUEUE_SPLIT] ;
  unsigned long ids[TODO_BATCH] ;
  int ok[TODO_BATCH], flagchan[TODO_BATCH][CHANNELS] ;
  unsigned int i, k = 0 ;
  int c ;

  memset(dirdone, 0, sizeof(dirdone)) ;
  for (i = 0 ; i < n ; i++)
  {
    int good = 1 ;
    if (fsync(t[i].fdinfo) < 0) { queue_path(fn, "info", t[i].id) ; log3("warning: trouble fsyncing ", fn, "\n") ; good = 0 ; }
    for (c = 0 ; good && c < CHANNELS ; c++)
      if (t[i].fdchan[c] >= 0 && fsync(t[i].fdchan[c]) < 0)
      { queue_path(fn, chanaddr[c], t[i].id) ; log3("warning: trouble fsyncing ", fn, "\n") ; good = 0 ; }
    for (c = 0 ; c < CHANNELS ; c++) flagchan[i][c] = t[i].fdchan[c] >= 0 ;
    todo_entry_close(t + i) ;
    if (!good) continue ;
    if (!todo_fsync_dir(0, "info", t[i].id, dirdone)) continue ;
    for (c = 0 ; good && c < CHANNELS ; c++)
      if (flagchan[i][c] && !todo_fsync_dir(1 + c, chanaddr[c], t[i].id, dirdone)) good = 0 ;
    if (!good) continue ;
    ids[k] = t[i].id ;
    flagchan[k][0] = flagchan[i][0] ; flagchan[k][1] = flagchan[i][1] ;
    k++ ;
  }
  if (!k || !clean_many("todo", ids, k, ok)) return ;
  for (i = 0 ; i < k ; i++)
  {
    if (!ok[i]) continue ;
    seen_add(ids[i]) ;
    for (c = 0 ; c < CHANNELS ; c++) if (flagchan[i][c]) pq_insert(&pqfresh[c], ids[i], recent) ;
    if (!flagchan[i][0] && !flagchan[i][1]) pq_insert(&pqdone, ids[i], recent) ;
  }
}

static int trigger_pulled (void)
{
  char buf[64] ;
  int pulled = 0 ;
  if (todo.trigger < 0) return 0 ;
  while (read(todo.trigger, buf, sizeof(buf)) > 0) pulled = 1 ;
  return pulled ;
}

static void todo_do (int triggerready)
{
  todo_entry batch[TODO_BATCH] ;
  unsigned int n = 0, tries = 0 ;
  if (flagexitasap) return ;
  if (!todo.dir)
  {
    int pulled = triggerready && trigger_pulled() ;
    if (!pulled && recent < todo.next) return ;
    todo.dir = opendir("todo") ;
    if (!todo.dir)
    {
      log1("alert: unable to opendir todo, sleeping...\n") ;
      log_flush() ;
      sleep(10) ;
      return ;
    }
    todo.next = recent + SLEEP_TODO ;
  }
  while (tries++ < TODO_BATCH && !flagexitasap)
  {
    struct dirent *de ;
    unsigned long id ;
    de = readdir(todo.dir) ;
    if (!de) { closedir(todo.dir) ; todo.dir = 0 ; break ; }
    if (!queue_id_scan(de->d_name, &id)) continue ;
    if (todo_prepare(id, batch + n)) n++ ;
  }
  todo_commit(batch, n) ;
}

/* ----------------------------------------------------------------- MAIN */

int main (void)
{
  int sfd ;
  int c ;
  unsigned int i ;

  /* signals first: an ALRM or HUP that comes early must not kill us */
  sfd = selfpipe_init() ;
  if (sfd < 0 || !selfpipe_trap(SIGTERM) || !selfpipe_trap(SIGALRM) || !selfpipe_trap(SIGHUP))
  { log1("alert: cannot start: unable to catch signals\n") ; log_flush() ; _exit(111) ; }
  signal(SIGPIPE, SIG_IGN) ;
  if (!qmail_chdir_home()) { log1("alert: cannot start: unable to switch to home directory\n") ; log_flush() ; _exit(111) ; }
  if (!getcontrols()) { log1("alert: cannot start: unable to read controls\n") ; log_flush() ; _exit(111) ; }
  if (chdir("queue") < 0) { log1("alert: cannot start: unable to switch to queue directory\n") ; log_flush() ; _exit(111) ; }
  umask(077) ;

  {
    int fd = open("lock/sendmutex", O_WRONLY | O_CLOEXEC) ;
    if (fd < 0) { log1("alert: cannot start: unable to open mutex\n") ; log_flush() ; _exit(111) ; }
    if (flock(fd, LOCK_EX | LOCK_NB) < 0) { log1("alert: cannot start: qmail-send is already running\n") ; log_flush() ; _exit(111) ; }
  }

  numjobs = 0 ;
  for (c = 0 ; c < CHANNELS ; c++)
  {
    unsigned char ch ;
    ssize_t r ;
    do r = read(chanfdin[c], &ch, 1) ; while (r < 0 && errno == EINTR) ;
    if (r < 1) { log1("alert: cannot start: hath the daemon spawn no fire?\n") ; log_flush() ; _exit(111) ; }
    if (concurrency[c] > ch) concurrency[c] = ch ;
    numjobs += concurrency[c] ;
    flagspawnalive[c] = 1 ;
    if (ndelay_on(chanfdout[c]) < 0 || ndelay_on(chanfdin[c]) < 0) spawndied(c) ;
  }
  while (!(jo = calloc(numjobs ? numjobs : 1, sizeof(job)))) nomem() ;
  for (c = 0 ; c < CHANNELS ; c++)
    while (!(d[c] = calloc(concurrency[c] ? concurrency[c] : 1, sizeof(del)))) nomem() ;

  recent = time(0) ;
  scan.active = 1 ;
  todo.next = recent ;
  todo.trigger = open("lock/trigger", O_RDWR | O_NONBLOCK | O_CLOEXEC) ;
  cleanup.next = recent ;
  del_status() ;

  while (!flagexitasap || !del_canexit())
  {
    iopause_fd x[6] ;
    unsigned int n = 0 ;
    int itrig = -1, iin[CHANNELS] = { -1, -1 }, iout[CHANNELS] = { -1, -1 } ;
    time_t wakeup ;
    tain deadline ;
    int r ;

    recent = time(0) ;
    if (flagrunasap) { flagrunasap = 0 ; pqrun() ; }
    if (flagreadasap) { flagreadasap = 0 ; reread() ; }

    wakeup = recent + SLEEP_FOREVER ;
    x[n].fd = sfd ; x[n].events = IOPAUSE_READ ; n++ ;
    if (!flagexitasap && todo.trigger >= 0) { itrig = n ; x[n].fd = todo.trigger ; x[n].events = IOPAUSE_READ ; n++ ; }
    for (c = 0 ; c < CHANNELS ; c++)
      if (flagspawnalive[c])
      {
        iin[c] = n ; x[n].fd = chanfdin[c] ; x[n].events = IOPAUSE_READ ; n++ ;
        if (commpos[c] < comm[c].len) { iout[c] = n ; x[n].fd = chanfdout[c] ; x[n].events = IOPAUSE_WRITE ; n++ ; }
      }
    pass_selprep(&wakeup) ;
    if (!flagexitasap)
    {
      if (todo.dir || scan.active || cleanup.active) wakeup = 0 ;
      if (wakeup > todo.next) wakeup = todo.next ;
      if (wakeup > cleanup.next) wakeup = cleanup.next ;
    }
    log_flush() ;
    tain_now_g() ;
    if (wakeup <= recent) deadline = STAMP ;
    else tain_addsec_g(&deadline, wakeup - recent + 1) ;   /* +1: never wake up a hair too early */

    r = iopause_g(x, n, &deadline) ;
    if (r < 0) { if (errno != EINTR) log1("warning: trouble in select\n") ; continue ; }
    recent = time(0) ;

    if (x[0].revents & IOPAUSE_READ)
    {
      int sig ;
      while ((sig = selfpipe_read()) > 0)
        switch (sig)
        {
          case SIGTERM : flagexitasap = 1 ; break ;
          case SIGALRM : flagrunasap = 1 ; break ;
          case SIGHUP : flagreadasap = 1 ; break ;
        }
    }
    for (c = 0 ; c < CHANNELS ; c++)
    {
      if (iout[c] >= 0 && x[iout[c]].revents) comm_flush(c) ;
      if (iin[c] >= 0 && x[iin[c]].revents) del_dochan(c) ;
    }
    todo_do(itrig >= 0 && x[itrig].revents) ;
    pass_do() ;
    if (!flagexitasap) { scan_do() ; cleanup_do() ; }
  }
  pqfinish() ;
  for (i = 0 ; i < numjobs ; i++) stralloc_free(&jo[i].sender) ;
  log1("status: exiting\n") ;
  log_flush() ;
  _exit(0) ;
}
