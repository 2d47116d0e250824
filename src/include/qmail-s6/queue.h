/* ISC license. */
/* The queue: its layout, and the paths of a message's files. */

#ifndef QMAIL_S6_QUEUE_H
#define QMAIL_S6_QUEUE_H

#include <stddef.h>
#include <sys/types.h>
#include <qmail-s6/ids.h>

 /* conf-split: mess/, info/, local/, remote/ hold id % QUEUE_SPLIT subdirs. */
#define QUEUE_SPLIT 23

 /* Longest "remote/22/18446744073709551615" plus NUL, with room. */
#define QUEUE_PATH_MAX 64

 /* "dir/id" or, for a split dir, "dir/(id % QUEUE_SPLIT)/id".  NUL-terminated;
    returns the length.  dir must be short (one of the names below). */
extern size_t queue_path (char *s, char const *dir, unsigned long id) ;

 /* Is dir one of the split directories? */
extern int queue_dir_is_split (char const *dir) ;

 /* Scans a decimal message id that is the whole of s (no sign, no leading
    zero, fits an unsigned long).  1 ok, 0 not an id. */
extern int queue_id_scan (char const *s, unsigned long *id) ;

 /* Who owns what: the one table that the queue creator and the checker use. */
enum queue_owner_e { QUEUE_OWNER_QMAILQ, QUEUE_OWNER_QMAILS, QUEUE_OWNER_QMAILR } ;
enum queue_kind_e { QUEUE_KIND_DIR, QUEUE_KIND_SPLITDIR, QUEUE_KIND_FILE, QUEUE_KIND_FIFO } ;

typedef struct queue_entry_s queue_entry, *queue_entry_ref ;
struct queue_entry_s
{
  char const *name ;        /* relative to queue/; "" is queue/ itself */
  enum queue_kind_e kind ;
  enum queue_owner_e owner ;
  mode_t mode ;
  size_t size ;             /* files: the size they are created with (zeroes) */
} ;
extern queue_entry const queue_layout[] ;
extern size_t const queue_layout_n ;

extern uid_t queue_owner_uid (qmail_ids const *ids, enum queue_owner_e o) ;

#endif
