/* ISC license. */
/*
   qmail-rspawn: run qmail-remote for each remote delivery qmail-send asks for.

   Who runs it: qmail-start, as qmailr (the sandbox user in a sandbox).
   cwd: HOME/queue/mess.  The protocol with qmail-send is spawner.h's.
   Each delivery runs $QMAILREMOTE if set, else HOME/bin/qmail-remote (an
   absolute path, not qmail's PATH search), as
       qmail-remote host sender recipient
   with fd 0 = the message.  At start it zeroes lock/tcpto, qmail's
   record of hosts that timed out, as qmail-rspawn does, and lock/tcpto6,
   its IPv6 counterpart (tcpto.h).

   Reports, from qmail-remote's output (per recipient r\0, h{text}\0 or
   s{text}\0, then K|Z|D{text}\0 for the message): the worse of the
   recipient's and the message's verdict, the recipient's text, then the
   message's text when it is the one that decided.  Fixed texts:
   "Zqmail-remote crashed.", exit 111 "ZUnable to run qmail-remote.",
   another exit "DUnable to run qmail-remote.", nothing written
   "Zqmail-remote produced no output.".  Until qmail-remote exists, every
   remote delivery is thus deferred, never bounced.
*/

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>
#include <skalibs/djbunix.h>
#include <skalibs/stralloc.h>
#include <skalibs/strerr.h>

#include <qmail-s6/home.h>
#include <qmail-s6/ids.h>
#include <qmail-s6/spawner.h>
#include <qmail-s6/tcpto.h>

static char remoteprog[4096] ;

static pid_t start (int fdmess, int fdreport, char const *sender, char const *const *recips, size_t const *ats, unsigned int n)
{
  pid_t pid = fork() ;
  if (pid < 0) return 0 ;
  if (!pid)
  {
     /* qmail-remote host sender recip...: all recipients share the domain
        (qmail-send batches by it), so the first one's is the host */
    char const *argv[3 + SPAWNER_BATCH_MAX + 1] ;
    unsigned int i ;
    argv[0] = remoteprog ;
    argv[1] = recips[0] + ats[0] + 1 ;
    argv[2] = sender ;
    for (i = 0 ; i < n ; i++) argv[3 + i] = recips[i] ;
    argv[3 + n] = 0 ;
    spawner_child() ;
    if (fd_move(0, fdmess) < 0 || fd_move(1, fdreport) < 0 || fd_copy(2, 1) < 0) _exit(111) ;
    execv(remoteprog, (char *const *)argv) ;
    /* qmail bounces when the exec fails for good; a missing or broken
       qmail-remote is an installation problem, so we defer instead */
    _exit(111) ;
  }
  return pid ;
}

 /* The report of recipient i of a qmail-remote run.  Its output is one
    segment "r", "h{text}" or "s{text}" per recipient (when it got as far
    as RCPT), then one message segment "K|Z|D{text}", each ended by a NUL.
    qmail's rule: result = the message verdict (K 1, Z 0, D -1, none -1);
    the recipient's letter can only make it worse (s -> 0, h -> -1); the
    text is the recipient's, then the message's unless the recipient's
    letter made it worse. */
static int report (stralloc *out, int wstat, char const *s, size_t len, unsigned int i, unsigned int n)
{
  char const *seg[SPAWNER_BATCH_MAX + 1] ;
  size_t seglen[SPAWNER_BATCH_MAX + 1] ;
  unsigned int nseg = 0, mi ;
  size_t pos = 0 ;
  int result = -1, orr ;
  char const *rseg = 0 ;
  (void)n ;
  if (WIFSIGNALED(wstat)) return stralloc_cats(out, "Zqmail-remote crashed.\n") ;
  if (WEXITSTATUS(wstat) == 111) return stralloc_cats(out, "ZUnable to run qmail-remote.\n") ;
  if (WEXITSTATUS(wstat)) return stralloc_cats(out, "DUnable to run qmail-remote.\n") ;
  if (!len) return stralloc_cats(out, "Zqmail-remote produced no output.\n") ;
  while (pos < len && nseg < SPAWNER_BATCH_MAX + 1)
  {
    char const *nul = memchr(s + pos, 0, len - pos) ;
    size_t l = nul ? (size_t)(nul - s - pos) : len - pos ;
    seg[nseg] = s + pos ;
    seglen[nseg++] = l ;
    pos += l + 1 ;
  }
  for (mi = 0 ; mi < nseg ; mi++)
    if (seglen[mi] && (seg[mi][0] == 'K' || seg[mi][0] == 'Z' || seg[mi][0] == 'D')) break ;
  if (mi < nseg) result = seg[mi][0] == 'K' ? 1 : seg[mi][0] == 'Z' ? 0 : -1 ;
  if (i < mi && seglen[i]) rseg = seg[i] ;
  orr = result ;
  if (rseg && rseg[0] == 's') orr = 0 ;
  else if (rseg && rseg[0] == 'h') orr = -1 ;
  if (!stralloc_catb(out, orr == 1 ? "K" : orr == 0 ? "Z" : "D", 1)) return 0 ;
  if (rseg && !stralloc_catb(out, rseg + 1, seglen[i] - 1)) return 0 ;
  if ((!rseg || result <= orr) && mi < nseg && !stralloc_catb(out, seg[mi] + 1, seglen[mi] - 1)) return 0 ;
  return 1 ;
}

int main (int argc, char const *const *argv)
{
  qmail_ids ids ;
  char const *what ;
  char const *qr = getenv("QMAILREMOTE") ;
  spawner_ops ops = { .start = &start, .report = &report, .outputmax = 65536, .truncate_with_note = 0, .batch = 1 } ;
  PROG = "qmail-rspawn" ;
  (void)argc ; (void)argv ;
  if (qr && *qr)
  {
    if (strlen(qr) >= sizeof(remoteprog)) strerr_dief1x(111, "QMAILREMOTE is too long") ;
    strcpy(remoteprog, qr) ;
  }
  else
  {
    char const *home = qmail_home() ;
    if (strlen(home) + sizeof("/bin/qmail-remote") > sizeof(remoteprog)) strerr_dief1x(111, "home path is too long") ;
    strcpy(remoteprog, home) ;
    strcat(remoteprog, "/bin/qmail-remote") ;
  }
  if (!qmail_chdir_home()) strerr_diefu2sys(111, "chdir to ", qmail_home()) ;
  if (!qmail_ids_get(&ids, &what)) strerr_diefu2sys(111, "find the qmail user ", what) ;
  ops.messowner = ids.qmailq ;
  /* every host gets a clean slate when qmail starts */
  if (!tcpto_clear(0) && errno != ENOENT) strerr_warnwu1sys("clear " TCPTO_FILE4) ;
  if (!tcpto_clear(1) && errno != ENOENT) strerr_warnwu1sys("clear " TCPTO_FILE6) ;
  if (chdir("queue/mess") < 0) strerr_diefu1sys(111, "chdir to queue/mess") ;
  return spawner_run(&ops) ;
}
