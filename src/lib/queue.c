/* ISC license. */
/* The queue layout (qmail 1.03's, split 23, flat todo/ and intd/) and the
   paths of a message's files. */

#include <string.h>
#include <skalibs/types.h>

#include <qmail-s6/queue.h>

queue_entry const queue_layout[] =
{
  { "", QUEUE_KIND_DIR, QUEUE_OWNER_QMAILQ, 0750, 0 },
  { "pid", QUEUE_KIND_DIR, QUEUE_OWNER_QMAILQ, 0700, 0 },
  { "intd", QUEUE_KIND_DIR, QUEUE_OWNER_QMAILQ, 0700, 0 },
  { "todo", QUEUE_KIND_DIR, QUEUE_OWNER_QMAILQ, 0750, 0 },
  { "mess", QUEUE_KIND_SPLITDIR, QUEUE_OWNER_QMAILQ, 0750, 0 },
  { "info", QUEUE_KIND_SPLITDIR, QUEUE_OWNER_QMAILS, 0700, 0 },
  { "local", QUEUE_KIND_SPLITDIR, QUEUE_OWNER_QMAILS, 0700, 0 },
  { "remote", QUEUE_KIND_SPLITDIR, QUEUE_OWNER_QMAILS, 0700, 0 },
  { "bounce", QUEUE_KIND_DIR, QUEUE_OWNER_QMAILS, 0700, 0 },
  { "lock", QUEUE_KIND_DIR, QUEUE_OWNER_QMAILQ, 0750, 0 },
  { "lock/tcpto", QUEUE_KIND_FILE, QUEUE_OWNER_QMAILR, 0644, 1024 },
  { "lock/tcpto6", QUEUE_KIND_FILE, QUEUE_OWNER_QMAILR, 0644, 2048 },   /* ours: IPv6 (tcpto.h) */
  { "lock/sendmutex", QUEUE_KIND_FILE, QUEUE_OWNER_QMAILS, 0600, 0 },
  { "lock/trigger", QUEUE_KIND_FIFO, QUEUE_OWNER_QMAILS, 0622, 0 },
} ;

size_t const queue_layout_n = sizeof(queue_layout) / sizeof(queue_layout[0]) ;

uid_t queue_owner_uid (qmail_ids const *ids, enum queue_owner_e o)
{
  switch (o)
  {
    case QUEUE_OWNER_QMAILS : return ids->qmails ;
    case QUEUE_OWNER_QMAILR : return ids->qmailr ;
    default : return ids->qmailq ;
  }
}

int queue_dir_is_split (char const *dir)
{
  return !strcmp(dir, "mess") || !strcmp(dir, "info") || !strcmp(dir, "local") || !strcmp(dir, "remote") ;
}

size_t queue_path (char *s, char const *dir, unsigned long id)
{
  size_t n = strlen(dir) ;
  memcpy(s, dir, n) ;
  s[n++] = '/' ;
  if (queue_dir_is_split(dir))
  {
    n += ulong_fmt(s + n, id % QUEUE_SPLIT) ;
    s[n++] = '/' ;
  }
  n += ulong_fmt(s + n, id) ;
  s[n] = 0 ;
  return n ;
}

int queue_id_scan (char const *s, unsigned long *id)
{
  size_t n ;
  if (s[0] < '0' || s[0] > '9') return 0 ;
  if (s[0] == '0' && s[1]) return 0 ;
  n = ulong_scan(s, id) ;
  return n && !s[n] ;
}
