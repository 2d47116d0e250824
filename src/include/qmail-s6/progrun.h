/* ISC license. */
/* Running the program of a .qmail helper and reading its exit code.

   Why a library file: condredirect, bouncesaying and except all run
   "program [ arg ... ]" the same way qmail's do (fork, execvp through
   PATH, the same descriptors and environment, wait) and then decide by its
   exit code; a program that cannot be executed counts as exit 111 when the
   reason is temporary (qmail's error_temp) and as exit 100 otherwise. */

#ifndef QMAIL_S6_PROGRUN_H
#define QMAIL_S6_PROGRUN_H

 /* Runs argv[0] (searched in PATH, like execvp) with argv and waits.
    The child gets SIGPIPE back to its default action.
    Returns 1 with *code = the exit code; 0 when the child was killed by a
    signal; -1 when no child could be made (errno); -2 when waiting failed
    (errno). */
extern int progrun (char const *const *argv, int *code) ;

#endif
