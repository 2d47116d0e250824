/* ISC license. */
/* Walking the queue's directories one entry at a time.

   Why a library file: qmail-qread and qmail-qcheck (and later qmail-send's
   start-up scan of info/ and qmail-clean's sweep of pid/) all read
   info/0 .. info/22, or a flat directory such as todo/, the same way, like
   qmail's readsubdir.  Only one directory is open at a time and nothing is
   kept per entry, so memory is the same for a queue of ten messages or of
   ten million.  Paths are relative to the cwd, which is the queue. */

#ifndef QMAIL_S6_QUEUESCAN_H
#define QMAIL_S6_QUEUESCAN_H

#include <dirent.h>

#include <qmail-s6/queue.h>

typedef struct queuescan_s queuescan, *queuescan_ref ;
struct queuescan_s
{
  DIR *dir ;             /* the directory being read, or 0 */
  char const *name ;     /* "info", "todo", ... (not copied) */
  unsigned int nsub ;    /* QUEUE_SPLIT for a split walk, 0 for a flat one */
  unsigned int next ;    /* the next directory to open */
  unsigned int sub ;     /* split index of the current directory (0 when flat) */
  char path[QUEUE_PATH_MAX] ;  /* the current directory: "info/5" or "todo" */
} ;

 /* split != 0: walk name/0 .. name/(QUEUE_SPLIT - 1), in that order;
    split == 0: walk name itself.  name is one of the queue's directory names
    (short: longer than QUEUE_PATH_MAX - 8 makes the walk fail, ENAMETOOLONG). */
extern void queuescan_init (queuescan *qs, char const *name, int split) ;

 /* 1: *ent is the name of the next entry of qs->path ("." and ".." are
       skipped; every other name is given, numeric or not), in directory
       order; valid until the next call.
    0: the walk is over.
    -1: qs->path could not be opened or read (errno).  Calling again goes
       on with the next directory, so a caller may report and continue. */
extern int queuescan_next (queuescan *qs, char const **ent) ;

 /* Closes the open directory; needed only when stopping before the end. */
extern void queuescan_finish (queuescan *qs) ;

#endif
