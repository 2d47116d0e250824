/* ISC license. */
/*
   bouncesaying error [ program [ arg ... ] ]: bounce the message with the
   text error, always or when program says yes.

   Who runs it: a .qmail program line, as the user, from qmail-local.

   Without program: prints error on stderr (which qmail-local makes its
   report) and exits 100, a permanent failure: the sender gets a bounce
   with that text.  With program (found in PATH, run with the message on
   its stdin): exit 0 -> the same bounce; exit 111 (or crash) ->
   bouncesaying exits 111, retry later; any other exit, or a program that
   cannot be run for a reason that is not temporary -> exit 0, .qmail goes
   on.  Exits 100 for usage.
*/

#include <errno.h>
#include <skalibs/strerr.h>

#include <qmail-s6/errstr.h>
#include <qmail-s6/progrun.h>

#define USAGE "bouncesaying: usage: bouncesaying error [ program [ arg ... ] ]"

int main (int argc, char const *const *argv)
{
  PROG = "bouncesaying" ;
  if (argc < 2) strerr_die(100, USAGE) ;
  if (argc > 2)
  {
    int code ;
    switch (progrun(argv + 2, &code))
    {
      case -1 : strerr_dief2x(111, "unable to fork: ", qmail_error_str(errno)) ;
      case -2 : strerr_dief1x(111, "wait failed") ;
      case 0 : strerr_dief1x(111, "child crashed") ;
    }
    switch (code)
    {
      case 0 : break ;
      case 111 : strerr_dief1x(111, "temporary child error") ;
      default : return 0 ;
    }
  }
  strerr_die(100, argv[1]) ;
}
