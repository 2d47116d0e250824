/* ISC license. */
/*
   qmail-tcpok: forget every recent connect timeout, so that qmail-remote
   tries all remote addresses again at once (after a network outage).

   Who runs it: the administrator, as root or qmailr (the owner of the
   files).  Arguments are ignored, as qmail ignores them.
   Overwrites HOME/queue/lock/tcpto with zeros under its lock, as qmail
   does, and lock/tcpto6 (ours, IPv6) when it exists.

   Exits 0; 111 when the home cannot be entered or lock/tcpto cannot be
   opened or written.
*/

#include <errno.h>
#include <skalibs/strerr.h>

#include <qmail-s6/home.h>
#include <qmail-s6/tcpto.h>

int main (int argc, char const *const *argv)
{
  PROG = "qmail-tcpok" ;
  (void)argc ; (void)argv ;
  if (!qmail_chdir_home()) strerr_diefu2sys(111, "switch to ", qmail_home()) ;
  if (!tcpto_clear(0)) strerr_diefu1sys(111, "clear " TCPTO_FILE4) ;
  if (!tcpto_clear(1) && errno != ENOENT) strerr_diefu1sys(111, "clear " TCPTO_FILE6) ;
  return 0 ;
}
