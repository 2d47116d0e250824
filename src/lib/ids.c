/* ISC license. */
/* The qmail users and groups, at run time.  In a sandbox (a home holding the
   file "sandbox"), every one of them is the sandbox user, so a whole tree can
   run as one unprivileged account. */

#include <errno.h>
#include <stddef.h>
#include <grp.h>
#include <pwd.h>
#include <string.h>
#include <unistd.h>
#include <skalibs/types.h>
#include <skalibs/bytestr.h>
#include <skalibs/stralloc.h>

#include <qmail-s6/control.h>
#include <qmail-s6/ids.h>

static int lookup_user (char const *name, uid_t *u, gid_t *g)
{
  struct passwd *pw ;
  errno = 0 ;
  pw = getpwnam(name) ;
  if (!pw) { if (!errno) errno = ENOENT ; return 0 ; }
  *u = pw->pw_uid ;
  if (g) *g = pw->pw_gid ;
  return 1 ;
}

static int lookup_group (char const *name, gid_t *g)
{
  struct group *gr ;
  errno = 0 ;
  gr = getgrnam(name) ;
  if (!gr) { if (!errno) errno = ENOENT ; return 0 ; }
  *g = gr->gr_gid ;
  return 1 ;
}

 /* "name:uid:gid" */
int qmail_ids_sandbox (qmail_ids *ids)
{
  stralloc sa = STRALLOC_ZERO ;
  size_t i, n ;
  unsigned int u, g ;
  int r = control_readline(&sa, QMAIL_SANDBOX_FILE) ;
  if (r <= 0) { stralloc_free(&sa) ; return r ; }
  if (!stralloc_0(&sa)) { stralloc_free(&sa) ; return -1 ; }
  i = str_chr(sa.s, ':') ;
  if (!sa.s[i]) goto bad ;
  i++ ;
  n = uint_scan(sa.s + i, &u) ;
  if (!n || sa.s[i + n] != ':') goto bad ;
  i += n + 1 ;
  n = uint_scan(sa.s + i, &g) ;
  if (!n || sa.s[i + n]) goto bad ;
  stralloc_free(&sa) ;
  ids->alias = ids->qmaild = ids->qmaill = ids->root = ids->qmailp
    = ids->qmailq = ids->qmailr = ids->qmails = ids->sandboxuid = u ;
  ids->qmail = ids->nofiles = ids->sandboxgid = g ;
  ids->sandbox = 1 ;
  return 1 ;
 bad:
  stralloc_free(&sa) ;
  errno = EINVAL ;
  return -1 ;
}

int qmail_ids_get (qmail_ids *ids, char const **what)
{
  static struct { char const *name ; size_t off ; } const users[] =
  {
    { "alias", offsetof(qmail_ids, alias) },
    { "qmaild", offsetof(qmail_ids, qmaild) },
    { "qmaill", offsetof(qmail_ids, qmaill) },
    { "root", offsetof(qmail_ids, root) },
    { "qmailp", offsetof(qmail_ids, qmailp) },
    { "qmailq", offsetof(qmail_ids, qmailq) },
    { "qmailr", offsetof(qmail_ids, qmailr) },
    { "qmails", offsetof(qmail_ids, qmails) },
  } ;
  size_t i ;
  int r ;
  memset(ids, 0, sizeof(*ids)) ;
  r = qmail_ids_sandbox(ids) ;
  if (r) { if (r < 0) *what = QMAIL_SANDBOX_FILE ; return r > 0 ; }
  for (i = 0 ; i < sizeof(users) / sizeof(users[0]) ; i++)
    if (!lookup_user(users[i].name, (uid_t *)((char *)ids + users[i].off), 0))
    {
      *what = users[i].name ;
      return 0 ;
    }
  if (!lookup_group("qmail", &ids->qmail)) { *what = "qmail" ; return 0 ; }
  if (!lookup_group("nofiles", &ids->nofiles)) { *what = "nofiles" ; return 0 ; }
  ids->sandboxuid = (uid_t)-1 ;
  ids->sandboxgid = (gid_t)-1 ;
  return 1 ;
}

int qmail_become (uid_t uid, gid_t gid)
{
  if (setgroups(1, &gid) < 0 && errno != EPERM) return 0 ;
  if (setgid(gid) < 0) return 0 ;
  if (setuid(uid) < 0) return 0 ;
  return 1 ;
}
