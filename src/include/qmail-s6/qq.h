/* ISC license. */
/* Talking to qmail-queue (or $QMAILQUEUE): what every program that queues
   mail calls.  The message goes down one pipe, the envelope down another,
   and the exit code becomes qmail's text ("" ok, "D..." permanent, "Z..."
   temporary). */

#ifndef QMAIL_S6_QQ_H
#define QMAIL_S6_QQ_H

#include <sys/types.h>
#include <skalibs/buffer.h>

typedef struct qqclient_s qqclient, *qqclient_ref ;
struct qqclient_s
{
  pid_t pid ;
  int fdm ;
  int fde ;
  int flagerr ;
  buffer b ;
  char buf[8192] ;
} ;

 /* Starts $QMAILQUEUE if set and not empty, else HOME/bin/qmail-queue, with cwd
    the home.  1 ok, 0 and errno on failure (then qq_close says why).
    SIGPIPE should be ignored by the caller. */
extern int qq_open (qqclient *qq) ;
extern void qq_put (qqclient *qq, char const *s, size_t n) ;
extern void qq_puts (qqclient *qq, char const *s) ;
 /* Ends the message; then the envelope. */
extern void qq_from (qqclient *qq, char const *sender) ;
extern void qq_to (qqclient *qq, char const *rcpt) ;
 /* Makes qq_close fail with a temporary error without queueing anything. */
extern void qq_fail (qqclient *qq) ;
 /* Ends the envelope, waits: "" when queued, else "D..." or "Z...". */
extern char const *qq_close (qqclient *qq) ;
 /* The pid of the qmail-queue process (the "qp" of logs and replies). */
extern pid_t qq_qp (qqclient const *qq) ;

 /* qmail's mapping of a qmail-queue wait status to its text. */
extern char const *qq_exit_text (int wstat) ;

#endif
