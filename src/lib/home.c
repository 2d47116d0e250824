/* ISC license. */
/* The home directory: compiled in, or $QMAILHOME for unprivileged callers.
   A set-id program (AT_SECURE) never trusts the environment, so nobody can
   point the setuid qmail-queue at a queue of their own making. */

#include <stdlib.h>
#include <unistd.h>
#include <sys/auxv.h>

#include <qmail-s6/config.h>
#include <qmail-s6/home.h>

char const *qmail_home (void)
{
  char const *x ;
  if (getauxval(AT_SECURE)) return QMAIL_S6_HOME ;
  x = getenv("QMAILHOME") ;
  return x && *x ? x : QMAIL_S6_HOME ;
}

int qmail_chdir_home (void)
{
  return chdir(qmail_home()) == 0 ;
}
