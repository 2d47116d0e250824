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

static void err (unsigned char delnum, char const *text)
{
  char c = delnum ;
  emit(&c, 1) ;
  emit(text, strlen(text) + 1) ;
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

static void start_delivery (spawner_ops const *ops, unsigned char delnum, stralloc const *messid, stralloc const *sender, stralloc const *recip)
{
  struct stat st ;
  int fdmess, pi[2] ;
  char const *at ;
  pid_t pid ;

  if (delnum >= QMAIL_CONF_SPAWN) { err(delnum, "ZInternal error: delnum too big. (#4.3.5)\n") ; return ; }
  if (slots[delnum].used) { err(delnum, "ZInternal error: delnum in use. (#4.3.5)\n") ; return ; }
  if (!messid_ok(messid->s, messid->len - 1)) { err(delnum, "DInternal error: messid has nonnumerics. (#5.3.5)\n") ; return ; }
  at = memrchr(recip->s, '@', recip->len - 1) ;
  if (!at) { err(delnum, "DSorry, address must include host name. (#5.1.3)\n") ; return ; }

  fdmess = open(messid->s, O_RDONLY | O_CLOEXEC) ;
  if (fdmess < 0) { err(delnum, "Zqmail-spawn unable to open message. (#4.3.0)\n") ; return ; }
  if (fstat(fdmess, &st) < 0) { fd_close(fdmess) ; err(delnum, "Zqmail-spawn unable to fstat message. (#4.3.0)\n") ; return ; }
  if (!S_ISREG(st.st_mode)) { fd_close(fdmess) ; err(delnum, "ZSorry, message has wrong type. (#4.3.5)\n") ; return ; }
  if (st.st_uid != ops->messowner) { fd_close(fdmess) ; err(delnum, "ZSorry, message has wrong owner. (#4.3.5)\n") ; return ; }
  if (pipe2(pi, O_CLOEXEC) < 0) { fd_close(fdmess) ; err(delnum, "Zqmail-spawn unable to create pipe. (#4.3.0)\n") ; return ; }

  pid = ops->start(fdmess, pi[1], sender->s, recip->s, at - recip->s) ;
  fd_close(fdmess) ;
  fd_close(pi[1]) ;
  if (!pid) { fd_close(pi[0]) ; err(delnum, "Zqmail-spawn unable to fork. (#4.3.0)\n") ; return ; }
  ndelay_on(pi[0]) ;
  slots[delnum].used = 1 ;
  slots[delnum].fdin = pi[0] ;
  slots[delnum].pid = pid ;
  slots[delnum].output.len = 0 ;
  slots[delnum].full = 0 ;
}

void spawner_child (void)
{
  selfpipe_finish() ;
  signal(SIGPIPE, SIG_DFL) ;
}

static void finish_if_done (spawner_ops const *ops, unsigned int i)
{
  slot *s = slots + i ;
  stralloc rep = STRALLOC_ZERO ;
  char c = i ;
  if (!s->used || s->fdin >= 0 || s->pid) return ;
  if (!stralloc_catb(&rep, &c, 1) || !ops->report(&rep, s->wstat, s->output.s, s->output.len) || !stralloc_0(&rep))
  {
    rep.len = 0 ;
    stralloc_catb(&rep, &c, 1) ;
    stralloc_catb(&rep, "Zqmail-spawn out of memory. (#4.3.0)\n", 38) ;
  }
  emit(rep.s, rep.len) ;
  emit_flush() ;
  stralloc_free(&rep) ;
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

int spawner_run (spawner_ops const *ops)
{
  stralloc field[3] = { STRALLOC_ZERO, STRALLOC_ZERO, STRALLOC_ZERO } ;
  unsigned int stage = 0 ;
  unsigned char delnum = 0 ;
  int flagreading = 1, flagabort = 0 ;
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
      for (i = 0 ; i < 3 ; i++) stralloc_free(&field[i]) ;
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
      {
        char c = buf[i] ;
        if (!stage) { delnum = c ; stage = 1 ; flagabort = 0 ; field[0].len = field[1].len = field[2].len = 0 ; continue ; }
        if (field[stage-1].len < (stage == 1 ? MESSID_MAX : FIELD_MAX))
        {
          if (!stralloc_catb(&field[stage-1], &c, 1)) flagabort = 1 ;
        }
        else flagabort = 2 ;
        if (c) continue ;
        if (++stage <= 3) continue ;
        stage = 0 ;
        if (flagabort == 1) err(delnum, "Zqmail-spawn out of memory. (#4.3.0)\n") ;
        else if (flagabort == 2) err(delnum, "DInternal error: request too long. (#5.3.5)\n") ;
        else start_delivery(ops, delnum, &field[0], &field[1], &field[2]) ;
      }
    }
  }
}
