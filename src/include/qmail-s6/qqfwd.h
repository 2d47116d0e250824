/* ISC license. */
/* Forwarding a message that is being delivered: its Delivered-To line, then
   the message, into qmail-queue (qq_open: $QMAILQUEUE or bin/qmail-queue)
   with a new envelope.

   Why a library file: qmail-local (for the forward lines of a .qmail file),
   forward and condredirect all do exactly this, and must agree on what
   "could not start qmail-queue" and "could not read the message" become. */

#ifndef QMAIL_S6_QQFWD_H
#define QMAIL_S6_QQFWD_H

#include <stddef.h>
#include <sys/types.h>

 /* Why qqfwd returned 0. */
#define QQFWD_EFORK 1   /* qmail-queue could not be started: no pipe, no process (errno) */
#define QQFWD_EREAD 2   /* fd could not be read (errno); nothing was queued */

 /* Queues dtline followed by what fd holds from its current offset, with
    envelope sender and the n recipients rcpts[0..n).  *qp gets the pid of
    qmail-queue (the "qp" that the callers print).
    Returns qmail-queue's text: "" queued, "D..." permanent, "Z..." temporary
    (qq.h); an executable that could not be run is "Zunable to exec qq
    (#4.3.0)", as with qmail's fork and exec.  Returns 0 with *why set to
    QQFWD_EFORK or QQFWD_EREAD, and errno.
    SIGPIPE must be ignored by the caller. */
extern char const *qqfwd (char const *dtline, int fd, char const *sender, char const *const *rcpts, size_t n, pid_t *qp, int *why) ;

#endif
