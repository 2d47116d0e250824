/* ISC license. */
/*
   forward address ...: forward the message on stdin to the addresses.

   Who runs it: a .qmail program line, "|forward joe@example.net", as the
   user, from qmail-local, which sets NEWSENDER (the envelope sender to use,
   dot-qmail(5)) and DTLINE (its Delivered-To line).  Unlike a forward line
   of the .qmail file, it queues at once, and it can take its addresses from
   the shell: "|forward "$LOCAL"@example.net".

   Queues DTLINE + the message (from where stdin is) through qmail-queue
   ($QMAILQUEUE, else $QMAILHOME/bin/qmail-queue), envelope sender
   $NEWSENDER, one recipient per argument.
   Exits 0 after printing "forward: qp {pid}" on stderr; 100 when NEWSENDER
   or DTLINE is not set or qmail-queue refuses for good; 111 for temporary
   trouble.  Messages are qmail's, "forward: fatal: ...".
*/

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <skalibs/strerr.h>
#include <skalibs/types.h>

#include <qmail-s6/errstr.h>
#include <qmail-s6/qqfwd.h>

int main (int argc, char const *const *argv)
{
  char const *sender ;
  char const *dtline ;
  char const *text ;
  char num[PID_FMT] ;
  pid_t qp ;
  int why ;

  PROG = "forward" ;
  signal(SIGPIPE, SIG_IGN) ;

  sender = getenv("NEWSENDER") ;
  if (!sender) strerr_dief1x(100, "NEWSENDER not set") ;
  dtline = getenv("DTLINE") ;
  if (!dtline) strerr_dief1x(100, "DTLINE not set") ;

  text = qqfwd(dtline, 0, sender, argv + 1, argc > 1 ? (size_t)(argc - 1) : 0, &qp, &why) ;
  if (!text)
  {
    if (why == QQFWD_EFORK) strerr_dief2x(111, "unable to fork: ", qmail_error_str(errno)) ;
    strerr_dief2x(111, "unable to read message: ", qmail_error_str(errno)) ;
  }
  if (*text) strerr_dief1x(*text == 'D' ? 100 : 111, text + 1) ;
  num[pid_fmt(num, qp)] = 0 ;
  strerr_die(0, "forward: qp ", num) ;
}
