/* ISC license. */
/*
   except program [ arg ... ]: turn program's success into a bounce and its
   failure into a success.

   Who runs it: a .qmail program line, as the user, from qmail-local; e.g.
   "|except grep -q secret" bounces the messages that match.

   Runs program (found in PATH) with our stdin, stdout and stderr, and
   exits 100 if it exits 0; 111 if it exits 111 or crashes (retry later);
   0 for any other exit, or when it cannot be run for a reason that is not
   temporary.  Exits 100 for usage.
*/

#include <errno.h>
#include <skalibs/strerr.h>

#include <qmail-s6/errstr.h>
#include <qmail-s6/progrun.h>

#define USAGE "except: usage: except program [ arg ... ]"

int main (int argc, char const *const *argv)
{
  int code ;
  PROG = "except" ;
  if (argc < 2) strerr_die(100, USAGE) ;
  switch (progrun(argv + 1, &code))
  {
    case -1 : strerr_dief2x(111, "unable to fork: ", qmail_error_str(errno)) ;
    case -2 : strerr_dief1x(111, "wait failed") ;
    case 0 : strerr_dief1x(111, "child crashed") ;
  }
  switch (code)
  {
    case 0 : return 100 ;
    case 111 : strerr_dief1x(111, "temporary child error") ;
    default : return 0 ;
  }
}
