/* ISC license. */
/*
   qmail-getpw local: which account controls the address local.

   Who runs it: qmail-lspawn, as qmailp/nofiles with the home as cwd, for an
   address that users/cdb does not assign (or when there is no users/cdb).
   It reads the passwd database and, to tell a sandbox, the home's
   "sandbox" file; it writes nothing but its answer.

   Rules (qmail's): the longest prefix of local that is shorter than 32
   characters and ends at the end of local or before a '-' (conf-break),
   lowercased, names an account with a non-zero uid whose home directory
   exists and is owned by that uid: then dash is "" when the prefix is all
   of local, else "-" and ext is what follows the '-'.  Otherwise the
   address goes to the account "alias", with dash "-" and ext = local.
   In a sandbox there are no accounts to look up: every address goes to
   "alias", which is the sandbox user with the home HOME/alias.

   Prints the record user\0uid\0gid\0home\0dash\0ext\0 (usersdb.h) on
   stdout and exits 0.  In case of trouble it prints nothing and exits with
   qmail-lspawn's codes: 100 no argument; 115 a home directory could not be
   checked for a temporary reason ("NFS failure"); 116 no alias account;
   118 temporary failure (a passwd lookup, the sandbox file, the home, the
   output); 119 out of memory.
*/

#include <errno.h>
#include <pwd.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <skalibs/allreadwrite.h>
#include <skalibs/djbunix.h>
#include <skalibs/stralloc.h>

#include <qmail-s6/conf.h>
#include <qmail-s6/errtemp.h>
#include <qmail-s6/home.h>
#include <qmail-s6/ids.h>
#include <qmail-s6/qlx.h>
#include <qmail-s6/usersdb.h>

 /* qmail's GETPW_USERLEN: account names are shorter than this. */
#define GETPW_USERLEN 32


static stralloc pwbuf = STRALLOC_ZERO ;

 /* getpwnam that tells "no such account" from "could not ask": qmail
    defers on ETXTBSY only; we defer on any temporary error, so that a
    passwd service that is down does not send a user's mail to alias. */
static struct passwd *pw_lookup (char const *name, struct passwd *pw)
{
  struct passwd *res ;
  if (!pwbuf.a && !stralloc_ready(&pwbuf, 4096)) _exit(QLX_NOMEM) ;
  for (;;)
  {
    int e = getpwnam_r(name, pw, pwbuf.s, pwbuf.a, &res) ;
    if (!e) return res ;
    if (e == ERANGE && pwbuf.a < (1UL << 20))
    {
      if (!stralloc_ready(&pwbuf, pwbuf.a * 2)) _exit(QLX_NOMEM) ;
      continue ;
    }
    if (e == ENOMEM) _exit(QLX_NOMEM) ;
    if (e == ERANGE || qmail_error_temp(e)) _exit(QLX_SYS) ;
    return 0 ;  /* ENOENT, ESRCH, EBADF, EPERM...: not found */
  }
}

 /* Is name a user: non-zero uid, home exists and is owned by the uid. */
static int isuser (char const *name, struct passwd *pw)
{
  struct stat st ;
  if (!pw_lookup(name, pw)) return 0 ;
  if (!pw->pw_uid) return 0 ;
  if (stat(pw->pw_dir, &st) < 0)
  {
    if (qmail_error_temp(errno)) _exit(QLX_NFS) ;
    return 0 ;
  }
  return st.st_uid == pw->pw_uid ;
}

static void answer (usersdb_entry const *e) __attribute__((noreturn)) ;
static void answer (usersdb_entry const *e)
{
  stralloc sa = STRALLOC_ZERO ;
  if (!usersdb_record_cat(&sa, e)) _exit(QLX_NOMEM) ;
  if (allwrite(1, sa.s, sa.len) < sa.len) _exit(QLX_SYS) ;
  _exit(0) ;
}

int main (int argc, char const *const *argv)
{
  char const *local = argv[1] ;
  char const *what ;
  qmail_ids ids ;
  struct passwd pw ;
  usersdb_entry e ;
  size_t len, n ;

  if (argc < 2 || !local) _exit(100) ;
  len = strlen(local) ;
  if (!qmail_chdir_home()) _exit(QLX_SYS) ;
  if (!qmail_ids_get(&ids, &what))
  {
     /* a missing qmail user only matters for alias, checked below */
    if (!strcmp(what, QMAIL_SANDBOX_FILE)) _exit(QLX_SYS) ;
    ids.sandbox = 0 ;
  }

  if (ids.sandbox)
  {
    stralloc home = STRALLOC_ZERO ;
    if (sagetcwd(&home) < 0 || !stralloc_cats(&home, "/alias") || !stralloc_0(&home)) _exit(QLX_SYS) ;
    e.user = "alias" ;
    e.uid = ids.sandboxuid ;
    e.gid = ids.sandboxgid ;
    e.home = home.s ;
    e.dash = "-" ;
    e.ext = local ;
    answer(&e) ;
  }

   /* n = the length of the prefix tried, from len down to 0 */
  for (n = len + 1 ; n-- ; )
  {
    char username[GETPW_USERLEN] ;
    if (n >= GETPW_USERLEN) continue ;
    if (n < len && local[n] != QMAIL_CONF_BREAK) continue ;
    memcpy(username, local, n) ;
    username[n] = 0 ;
    for (size_t i = 0 ; i < n ; i++)
      if (username[i] >= 'A' && username[i] <= 'Z') username[i] += 'a' - 'A' ;
    if (!isuser(username, &pw)) continue ;
    e.user = pw.pw_name ;
    e.uid = pw.pw_uid ;
    e.gid = pw.pw_gid ;
    e.home = pw.pw_dir ;
    e.dash = n < len ? "-" : "" ;
    e.ext = n < len ? local + n + 1 : "" ;
    answer(&e) ;
  }

  if (!pw_lookup("alias", &pw)) _exit(QLX_NOALIAS) ;
  e.user = pw.pw_name ;
  e.uid = pw.pw_uid ;
  e.gid = pw.pw_gid ;
  e.home = pw.pw_dir ;
  e.dash = "-" ;
  e.ext = local ;
  answer(&e) ;
}
