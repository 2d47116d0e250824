/* ISC license. */
/*
   condredirect newaddress program [ arg ... ]: if program says yes, forward
   the message to newaddress and stop the .qmail file.

   Who runs it: a .qmail program line, as the user, from qmail-local
   (stdin is the message, seekable; SENDER and DTLINE are set).

   Runs program (found in PATH) with the message on its stdin.  Exit 0:
   the message is forwarded to newaddress (DTLINE + the message, envelope
   sender $SENDER, through qmail-queue: $QMAILQUEUE, else
   $QMAILHOME/bin/qmail-queue), "condredirect: qp {pid}" goes to stderr, and
   condredirect exits 99, so that qmail-local ignores the rest of .qmail.
   Exit 111 (or crash): condredirect exits 111, delivery is retried later.
   Any other exit, or a program that cannot be run for a reason that is not
   temporary: condredirect exits 0, and .qmail goes on.
   Exits 100 for usage, unset SENDER or DTLINE, or a permanent qmail-queue
   refusal.
*/

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>
#include <skalibs/strerr.h>
#include <skalibs/types.h>

#include <qmail-s6/errstr.h>
#include <qmail-s6/progrun.h>
#include <qmail-s6/qqfwd.h>

#define USAGE "condredirect: usage: condredirect newaddress program [ arg ... ]"

int main (int argc, char const *const *argv)
{
  char const *sender ;
  char const *dtline ;
  char const *text ;
  char num[PID_FMT] ;
  pid_t qp ;
  int code, why ;

  PROG = "condredirect" ;
  if (argc < 3) strerr_die(100, USAGE) ;

  switch (progrun(argv + 2, &code))
  {
    case -1 : strerr_dief2x(111, "unable to fork: ", qmail_error_str(errno)) ;
    case -2 : strerr_dief1x(111, "wait failed") ;
    case 0 : strerr_dief1x(111, "child crashed") ;
  }
  switch (code)
  {
    case 0 : break ;
    case 111 : strerr_dief1x(111, "temporary child error") ;
    default : return 0 ;
  }

  if (lseek(0, 0, SEEK_SET) < 0) strerr_dief2x(111, "unable to rewind: ", qmail_error_str(errno)) ;
  signal(SIGPIPE, SIG_IGN) ;

  sender = getenv("SENDER") ;
  if (!sender) strerr_dief1x(100, "SENDER not set") ;
  dtline = getenv("DTLINE") ;
  if (!dtline) strerr_dief1x(100, "DTLINE not set") ;

  text = qqfwd(dtline, 0, sender, argv + 1, 1, &qp, &why) ;
  if (!text)
  {
    if (why == QQFWD_EFORK) strerr_dief2x(111, "unable to fork: ", qmail_error_str(errno)) ;
    strerr_dief2x(111, "unable to read message: ", qmail_error_str(errno)) ;
  }
  if (*text) strerr_dief1x(*text == 'D' ? 100 : 111, text + 1) ;
  num[pid_fmt(num, qp)] = 0 ;
  strerr_die(99, "condredirect: qp ", num) ;
}
