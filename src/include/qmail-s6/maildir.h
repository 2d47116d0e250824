/* ISC license. */
/* The maildir format (maildir(5) of qmail): a directory with tmp/, new/ and
   cur/.  A message is written to tmp/{time}.{pid}.{host}, fsynced, then
   linked to new/ under the same name and unlinked from tmp/: a reader never
   sees a partial message, and a message in new/ is complete.

   Why a library file: the one writer (qmail-local's deliveries) and the one
   reader (maildir2mbox now, qmail-pop3d later) of the format live here.
   Paths are relative to the cwd unless said so. */

#ifndef QMAIL_S6_MAILDIR_H
#define QMAIL_S6_MAILDIR_H

#include <signal.h>
#include <stddef.h>
#include <time.h>
#include <skalibs/genalloc.h>
#include <skalibs/stralloc.h>

 /* "tmp/" + 20-digit time + "." + 20-digit pid + "." + a hostname of at
    most 64 bytes, each escaped to at most 4 bytes + NUL. */
#define MAILDIR_NAME_MAX (4 + 20 + 1 + 20 + 1 + 64 * 4 + 1)

 /* What maildir_deliver returns: qmail's maildir child exit codes. */
#define MAILDIR_OK 0
#define MAILDIR_ETEMP 1   /* "Temporary error on maildir delivery. (#4.3.0)" */
#define MAILDIR_ECHDIR 2  /* "Unable to chdir to maildir. (#4.2.1)" */
#define MAILDIR_EREAD 4   /* "Unable to read message. (#4.3.0)" */

 /* One delivery in progress.  name holds "tmp/..." once the file exists
    there (flagtmp), so that maildir_abort, from a signal handler, can
    remove it. */
typedef struct maildir_delivery_s maildir_delivery, *maildir_delivery_ref ;
struct maildir_delivery_s
{
  int dfd ;
  volatile sig_atomic_t flagtmp ;
  char name[MAILDIR_NAME_MAX] ;
} ;
#define MAILDIR_DELIVERY_ZERO { .dfd = -1, .flagtmp = 0, .name = "" }

 /* Delivers pre[0..prelen) followed by everything fdin holds from its
    current offset into the maildir dir (a path, absolute or relative to the
    cwd; the cwd is not changed).  The name is tmp/{time}.{pid}.{host}; when
    it exists already the name is tried again after 2 seconds, 3 times in
    all.  The file is fsynced before the link, and new/ is fsynced after it
    (beyond qmail: on Linux the link is not durable without it).
    Returns MAILDIR_OK, MAILDIR_ECHDIR (dir cannot be entered, for a reason
    that is not temporary), MAILDIR_EREAD or MAILDIR_ETEMP, errno set.
    Nothing is left in tmp/ or new/ on failure.
    qmail-local calls it in its own process for its first maildir line and
    in a child process for later ones, as qmail does for all: the pid in
    the name is then different for every delivery, also for two deliveries
    to one maildir in one second; a 24-hour alarm can call maildir_abort
    and exit. */
extern int maildir_deliver (maildir_delivery *d, char const *dir, char const *pre, size_t prelen, int fdin) ;

 /* Async-signal-safe: removes the tmp/ file of a delivery in progress. */
extern void maildir_abort (maildir_delivery *d) ;

 /* The messages of the maildir that is the cwd, oldest first. */
typedef struct maildir_msg_s maildir_msg, *maildir_msg_ref ;
struct maildir_msg_s
{
  time_t mtime ;
  size_t name ;  /* offset in names of "new/..." or "cur/...", NUL-terminated */
} ;

 /* Lists new/ (if flagnew) and cur/ (if flagcur): every entry not starting
    with '.' whose mtime is older than now (a message of this very second
    may still be moving; it waits for the next run).  msgs (a genalloc of
    maildir_msg) is sorted by mtime, then name.  Both are emptied first.
    1 ok; 0 out of memory; -1 the directory *errdir ("new" or "cur") could
    not be opened, -2 not read (errno). */
extern int maildir_scan (stralloc *names, genalloc *msgs, int flagnew, int flagcur, time_t now, char const **errdir) ;

 /* Removes the files in tmp/ last accessed more than 36 hours before now
    (what a crashed delivery leaves); errors are ignored. */
extern void maildir_clean (time_t now) ;

#endif
