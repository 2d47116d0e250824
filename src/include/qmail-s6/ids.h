/* ISC license. */
/* The qmail users and groups, looked up at run time. */

#ifndef QMAIL_S6_IDS_H
#define QMAIL_S6_IDS_H

#include <sys/types.h>

typedef struct qmail_ids_s qmail_ids, *qmail_ids_ref ;
struct qmail_ids_s
{
  uid_t alias, qmaild, qmaill, root, qmailp, qmailq, qmailr, qmails ;
  gid_t qmail, nofiles ;
  uid_t sandboxuid ;
  gid_t sandboxgid ;
  int sandbox ;  /* every qmail user and group is the one sandbox user */
} ;

 /* Name of the file, relative to the home, that turns a home into a sandbox.
    It holds one line "name:uid:gid". */
#define QMAIL_SANDBOX_FILE "sandbox"

 /* Fills ids.  Call it with the home as cwd.  Returns 1, or 0 with errno and
    *what naming the user, group or file that failed (ENOENT: no such user). */
extern int qmail_ids_get (qmail_ids *ids, char const **what) ;

 /* Only the sandbox part, for programs that need no other user (cwd: the
    home): 1 a sandbox (ids filled as qmail_ids_get does), 0 not one,
    -1 unreadable sandbox file. */
extern int qmail_ids_sandbox (qmail_ids *ids) ;

 /* Become uid/gid for good: setgroups to gid alone, setgid, setuid.
    1 on success, 0 and errno on failure. */
extern int qmail_become (uid_t uid, gid_t gid) ;

#endif
