/* ISC license. */
/* The spawner loop shared by qmail-lspawn and qmail-rspawn.
   One iopause loop over fd 0 (requests), a selfpipe (SIGCHLD) and the
   report pipes of the running deliveries.  A delivery is reported when its
   child has exited and its pipe is at EOF, whichever comes last, so the
   wait status is always known. */

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <skalibs/allreadwrite.h>
#include <skalibs/buffer.h>
#include <skalibs/djbunix.h>
#include <skalibs/iopause.h>
#include <skalibs/selfpipe.h>
#include <skalibs/stralloc.h>
#include <skalibs/tai.h>

#include <qmail-s6/conf.h>
#include <qmail-s6/spawner.h>

 /* qmail-send never sends more than this for an address; anything longer
    is refused rather than held in memory. */
#define FIELD_MAX 8192
#define MESSID_MAX 100

typedef struct slot_s slot ;
struct slot_s
{
  int used ;
  int fdin ;     /* read end of the report pipe, -1 at EOF */
  pid_t pid ;    /* 0 once reaped */
  int wstat ;
  int full ;     /* output at its limit: the rest is read and dropped */
  stralloc output ;
  unsigned int n ;   /* recipients: 1, or a batch's k */
} ;

static slot slots[QMAIL_CONF_SPAWN] ;
static char outbuf[4096] ;
static buffer out = BUFFER_INIT(&buffer_write, 1, outbuf, sizeof(outbuf)) ;
static int flagwriting = 1 ;

 /* qmail-send gone: keep running the deliveries, drop their reports. */
static void emit (char const *s, size_t n)
{
  if (flagwriting && !buffer_putall(&out, s, n, &(size_t){0})) flagwriting = 0 ;
}

static void emit_flush (void)
{
  if (flagwriting && !buffer_flush(&out)) flagwriting = 0 ;
}

 /* The same report for each of the k recipients of a request. */
static void err (unsigned char delnum, unsigned int k, char const *text)
{
  unsigned int i ;
  char c = delnum ;
  for (i = 0 ; i < k ; i++)
  {
    emit(&c, 1) ;
    emit(text, strlen(text) + 1) ;
  }
  emit_flush() ;
}

static int messid_ok (char const *s, size_t len)
{
  size_t i ;
  if (!len) return 0 ;
  for (i = 0 ; i < len ; i++)
    if ((i == 0 || s[i] != '/') && (s[i] < '0' || s[i] > '9')) return 0 ;
  return 1 ;
}

 /* One request: slot delnum for k recipients, the message, the sender,
    and the k NUL-terminated recipients one after the other in recips. */
static void start_delivery (spawner_ops const *ops, unsigned char delnum, unsigned int k, stralloc const *messid, stralloc const *sender, stralloc const *recips)
{
  struct stat st ;
  int fdmess, pi[2] ;
  char const *rv[SPAWNER_BATCH_MAX] ;
  size_t ats[SPAWNER_BATCH_MAX] ;
  unsigned int i ;
  size_t pos = 0 ;
  pid_t pid ;
  slot *s ;

  if (delnum >= QMAIL_CONF_SPAWN) { err(delnum, k, "ZInternal error: delnum too big. (#4.3.5)\n") ; return ; }
  if (slots[delnum].used) { err(delnum, k, "ZInternal error: delnum in use. (#4.3.5)\n") ; return ; }
  if (k > 1 && !ops->batch) { err(delnum, k, "ZInternal error: no batches here. (#4.3.5)\n") ; return ; }
  if (!messid_ok(messid->s, messid->len - 1)) { err(delnum, k, "DInternal error: messid has nonnumerics. (#5.3.5)\n") ; return ; }
  for (i = 0 ; i < k ; i++)
  {
    char const *r = recips->s + pos ;
    size_t len = strlen(r) ;
    char const *at = memrchr(r, '@', len) ;
    if (!at) { err(delnum, k, "DSorry, address must include host name. (#5.1.3)\n") ; return ; }
    rv[i] = r ;
    ats[i] = at - r ;
    pos += len + 1 ;
  }

  fdmess = open(messid->s, O_RDONLY | O_CLOEXEC) ;
  if (fdmess < 0) { err(delnum, k, "Zqmail-spawn unable to open message. (#4.3.0)\n") ; return ; }
  if (fstat(fdmess, &st) < 0) { fd_close(fdmess) ; err(delnum, k, "Zqmail-spawn unable to fstat message. (#4.3.0)\n") ; return ; }
  if (!S_ISREG(st.st_mode)) { fd_close(fdmess) ; err(delnum, k, "ZSorry, message has wrong type. (#4.3.5)\n") ; return ; }
  if (st.st_uid != ops->messowner) { fd_close(fdmess) ; err(delnum, k, "ZSorry, message has wrong owner. (#4.3.5)\n") ; return ; }
  if (pipe2(pi, O_CLOEXEC) < 0) { fd_close(fdmess) ; err(delnum, k, "Zqmail-spawn unable to create pipe. (#4.3.0)\n") ; return ; }

  pid = ops->start(fdmess, pi[1], sender->s, rv, ats, k) ;
  fd_close(fdmess) ;
  fd_close(pi[1]) ;
  if (!pid) { fd_close(pi[0]) ; err(delnum, k, "Zqmail-spawn unable to fork. (#4.3.0)\n") ; return ; }
  ndelay_on(pi[0]) ;
  s = slots + delnum ;
  s->used = 1 ;
  s->fdin = pi[0] ;
  s->pid = pid ;
  s->output.len = 0 ;
  s->full = 0 ;
  s->n = k ;
}

void spawner_child (void)
{
  selfpipe_finish() ;
  signal(SIGPIPE, SIG_DFL) ;
}

 /* A delivery is reported when its child has exited and its pipe is at
    EOF: one report per recipient it served. */
static void finish_if_done (spawner_ops const *ops, unsigned int l)
{
  slot *s = slots + l ;
  unsigned int i ;
  char c = l ;
  if (!s->used || s->fdin >= 0 || s->pid) return ;
  for (i = 0 ; i < s->n ; i++)
  {
    stralloc rep = STRALLOC_ZERO ;
    if (!stralloc_catb(&rep, &c, 1) || !ops->report(&rep, s->wstat, s->output.s, s->output.len, i, s->n) || !stralloc_0(&rep))
    {
      rep.len = 0 ;
      stralloc_catb(&rep, &c, 1) ;
      stralloc_catb(&rep, "Zqmail-spawn out of memory. (#4.3.0)\n", 38) ;
    }
    emit(rep.s, rep.len) ;
    stralloc_free(&rep) ;
  }
  emit_flush() ;
  s->used = 0 ;
}

static void read_output (spawner_ops const *ops, unsigned int i)
{
  slot *s = slots + i ;
  char buf[4096] ;
  size_t room ;
  ssize_t r = read(s->fdin, buf, sizeof(buf)) ;
  if (r < 0 && (errno == EAGAIN || errno == EINTR)) return ;
  if (r <= 0) { fd_close(s->fdin) ; s->fdin = -1 ; finish_if_done(ops, i) ; return ; }
  if (s->full) return ;   /* keep draining, so the child never blocks */
  room = ops->outputmax - s->output.len ;
  if ((size_t)r <= room) { if (!stralloc_catb(&s->output, buf, r)) s->full = 1 ; return ; }
  s->full = 1 ;
  if (ops->truncate_with_note)
  {
    /* qmail-lspawn's rule: cut, then say so */
    static char const note[] = "\nError report too long, sorry.\n" ;
    stralloc_catb(&s->output, buf, room) ;
    s->output.len = ops->outputmax - (sizeof(note) - 1) - 3 ;
    stralloc_catb(&s->output, note, sizeof(note) - 1) ;
  }
  else stralloc_catb(&s->output, buf, room) ;
}

static void reap (spawner_ops const *ops)
{
  for (;;)
  {
    int wstat ;
    unsigned int i ;
    pid_t pid = waitpid(-1, &wstat, WNOHANG) ;
    if (pid <= 0) return ;
    for (i = 0 ; i < QMAIL_CONF_SPAWN ; i++)
      if (slots[i].used && slots[i].pid == pid)
      {
        slots[i].pid = 0 ;
        slots[i].wstat = wstat ;
        finish_if_done(ops, i) ;
        break ;
      }
  }
}

 /* A request being read, byte by byte (see spawner.h). */
typedef struct request_s request ;
struct request_s
{
  unsigned int stage ;    /* 0 slot or batch byte, 1 count, 2 slot, 3 message, 4 sender, 5 recipients */
  unsigned int k ;        /* recipients */
  unsigned int nrecips ;
  unsigned char delnum ;
  stralloc field[3] ;     /* message, sender, the recipients one after the other */
  size_t fieldlen ;       /* of the field being read */
  int abort ;             /* 1 out of memory, 2 a field too long */
} ;

 /* One byte of a request; when it completes one, the delivery starts.
    0 when the request cannot be understood (qmail-send is broken). */
static int request_byte (spawner_ops const *ops, request *q, unsigned char c)
{
  switch (q->stage)
  {
    case 0 :
      q->field[0].len = q->field[1].len = q->field[2].len = 0 ;
      q->fieldlen = 0 ;
      q->abort = 0 ;
      q->nrecips = 0 ;
      if (c == SPAWNER_BATCH) { q->stage = 1 ; return 1 ; }
      q->k = 1 ;
      q->delnum = c ;
      q->stage = 3 ;
      return 1 ;
    case 1 :
      if (c < 2 || c > SPAWNER_BATCH_MAX) return 0 ;
      q->k = c ;
      q->stage = 2 ;
      return 1 ;
    case 2 :
      q->delnum = c ;
      q->stage = 3 ;
      return 1 ;
    default :
    {
      unsigned int f = q->stage - 3 ;
      if (q->fieldlen < (f == 0 ? MESSID_MAX : FIELD_MAX))
      {
        if (!stralloc_catb(&q->field[f], (char *)&c, 1)) q->abort = 1 ;
      }
      else q->abort = 2 ;
      q->fieldlen++ ;
      if (c) return 1 ;
      q->fieldlen = 0 ;
      if (q->stage < 5) { q->stage++ ; return 1 ; }
      if (++q->nrecips < q->k) return 1 ;
      q->stage = 0 ;
      if (q->abort == 1) err(q->delnum, q->k, "Zqmail-spawn out of memory. (#4.3.0)\n") ;
      else if (q->abort == 2) err(q->delnum, q->k, "DInternal error: request too long. (#5.3.5)\n") ;
      else start_delivery(ops, q->delnum, q->k, &q->field[0], &q->field[1], &q->field[2]) ;
      return 1 ;
    }
  }
}

int spawner_run (spawner_ops const *ops)
{
  request req = { .stage = 0, .field = { STRALLOC_ZERO, STRALLOC_ZERO, STRALLOC_ZERO } } ;
  int flagreading = 1 ;
  int sfd ;
  char limit = QMAIL_CONF_SPAWN ;

  signal(SIGPIPE, SIG_IGN) ;
  sfd = selfpipe_init() ;
  if (sfd < 0 || !selfpipe_trap(SIGCHLD)) return 111 ;
  emit(&limit, 1) ;
  emit_flush() ;

  for (;;)
  {
    iopause_fd x[2 + QMAIL_CONF_SPAWN] ;
    unsigned int map[QMAIL_CONF_SPAWN] ;
    unsigned int n = 0, nslots = 0, i, active = 0 ;
    int r ;

    for (i = 0 ; i < QMAIL_CONF_SPAWN ; i++) if (slots[i].used) active++ ;
    if (!flagreading && !active)
    {
      for (i = 0 ; i < 3 ; i++) stralloc_free(&req.field[i]) ;
      for (i = 0 ; i < QMAIL_CONF_SPAWN ; i++) stralloc_free(&slots[i].output) ;
      return 0 ;
    }
    x[n].fd = sfd ; x[n].events = IOPAUSE_READ ; n++ ;
    if (flagreading) { x[n].fd = 0 ; x[n].events = IOPAUSE_READ ; n++ ; }
    for (i = 0 ; i < QMAIL_CONF_SPAWN ; i++)
      if (slots[i].used && slots[i].fdin >= 0)
      {
        map[nslots++] = i ;
        x[n].fd = slots[i].fdin ; x[n].events = IOPAUSE_READ ; n++ ;
      }
    r = iopause(x, n, 0, 0) ;
    if (r < 0) { if (errno == EINTR) continue ; return 111 ; }

    if (x[0].revents & IOPAUSE_READ)
    {
      int sig ;
      while ((sig = selfpipe_read()) > 0) if (sig == SIGCHLD) reap(ops) ;
    }
    for (i = 0 ; i < nslots ; i++)
      if (x[n - nslots + i].revents) read_output(ops, map[i]) ;
    if (flagreading && x[1].revents)
    {
      char buf[4096] ;
      ssize_t got = read(0, buf, sizeof(buf)) ;
      if (got < 0 && errno == EINTR) continue ;
      if (got <= 0) { flagreading = 0 ; continue ; }
      for (i = 0 ; i < (size_t)got ; i++)
        if (!request_byte(ops, &req, buf[i])) return 111 ;
    }
  }
}
