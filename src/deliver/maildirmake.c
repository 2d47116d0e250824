/* ISC license. */
/*
   maildirmake name: make a new, empty maildir: name, name/tmp, name/new
   and name/cur, each mode 0700 (umask 077).

   Who runs it: users, once per maildir, before pointing a .qmail line
   ("./Maildir/") or the defaultdelivery of qmail-start at it.
   Exits 0; 100 for usage; 111 when a directory cannot be made (also when
   name exists already: a maildir is never half-made over something else).
*/

#include <errno.h>
#include <unistd.h>
#include <sys/stat.h>
#include <skalibs/strerr.h>

#include <qmail-s6/errstr.h>

#define USAGE "maildirmake: usage: maildirmake name"

int main (int argc, char const *const *argv)
{
  PROG = "maildirmake" ;
  umask(077) ;
  if (argc < 2) strerr_die(100, USAGE) ;
  if (mkdir(argv[1], 0700) < 0)
    strerr_dief4x(111, "unable to mkdir ", argv[1], ": ", qmail_error_str(errno)) ;
  if (chdir(argv[1]) < 0)
    strerr_dief4x(111, "unable to chdir to ", argv[1], ": ", qmail_error_str(errno)) ;
  if (mkdir("tmp", 0700) < 0)
    strerr_dief4x(111, "unable to mkdir ", argv[1], "/tmp: ", qmail_error_str(errno)) ;
  if (mkdir("new", 0700) < 0)
    strerr_dief4x(111, "unable to mkdir ", argv[1], "/new: ", qmail_error_str(errno)) ;
  if (mkdir("cur", 0700) < 0)
    strerr_dief4x(111, "unable to mkdir ", argv[1], "/cur: ", qmail_error_str(errno)) ;
  return 0 ;
}
