/* ISC license. */
/* The part qmail-lspawn and qmail-rspawn share (qmail's spawn.c): the
   protocol with qmail-send and the bookkeeping of up to QMAIL_CONF_SPAWN
   deliveries at once.

   From qmail-send on fd 0, per delivery: one byte (the slot), the message
   "split/id\0", the sender "\0", the recipient "\0" (qmail's request).
   Ours, for several recipients of one message and one domain that one
   qmail-remote carries in one SMTP transaction (a batch): the byte
   SPAWNER_BATCH, one byte k (2..SPAWNER_BATCH_MAX), the slot byte, the
   message "split/id\0", the sender "\0", then k recipients, each "\0".
   A batch takes one slot (one child, one connection).
   To qmail-send on fd 1: at start one byte, the slot limit; per finished
   delivery the slot byte, a letter (K success, Z deferral, D failure), the
   text, "\0"; for a batch, k such reports with its slot byte, in the
   order of its recipients.  Each delivery (or batch) runs in a child with fd 0 = the
   message and fd 1 = fd 2 = a pipe whose content becomes the text. */

#ifndef QMAIL_S6_SPAWNER_H
#define QMAIL_S6_SPAWNER_H

#include <stddef.h>
#include <sys/types.h>
#include <skalibs/stralloc.h>

#define SPAWNER_BATCH 0xff
#define SPAWNER_BATCH_MAX 100

typedef struct spawner_ops_s spawner_ops, *spawner_ops_ref ;
struct spawner_ops_s
{
   /* Starts one delivery of recips[0..n) (n > 1 only for a batch, and only
      when batch is set).  fdmess is the open message, fdreport the write
      end of the report pipe; the child must make them its fd 0 and fd 1
      (and 2).  recips[i][ats[i]] is the '@' that splits a recipient.
      Returns the child's pid, or 0 with errno. */
  pid_t (*start) (int fdmess, int fdreport, char const *sender, char const *const *recips, size_t const *ats, unsigned int n) ;

   /* Appends to out the letter and the text for recipient i (of n) of a
      finished delivery: its wait status and what it wrote (s[0..len)).
      1 ok, 0 out of memory. */
  int (*report) (stralloc *out, int wstat, char const *s, size_t len, unsigned int i, unsigned int n) ;

   /* Batches are accepted (qmail-rspawn); else each is refused. */
  int batch ;

   /* Keep at most this many bytes of a child's output (qmail-lspawn: 3000,
      ending with "\nError report too long, sorry.\n"). */
  size_t outputmax ;
  int truncate_with_note ;

   /* Owner the message files must have (qmailq, or the sandbox user). */
  uid_t messowner ;
} ;

 /* In a delivery child, first: undo the loop's signal set-up (the
    selfpipe and its blocked SIGCHLD, SIGPIPE ignored), which a child would
    otherwise keep, across an exec too, and pass on to its programs. */
extern void spawner_child (void) ;

 /* Runs the loop until qmail-send closes fd 0 and every delivery has
    reported.  cwd must be HOME/queue/mess.  Returns the exit code. */
extern int spawner_run (spawner_ops const *ops) ;

#endif
