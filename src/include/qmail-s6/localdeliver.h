/* ISC license. */
/* qmail-local as a function, for the qmail-local program and for
   qmail-lspawn's delivery child (which runs it without an exec). */

#ifndef QMAIL_S6_LOCALDELIVER_H
#define QMAIL_S6_LOCALDELIVER_H

 /* argv as qmail-local's: [ -nN ] [--] user homedir local dash ext domain
    sender defaultdelivery.  fd 0 is the message, fd 1 and fd 2 the report.
    Runs in a process of its own: it chdirs, changes the environment and
    the umask, and ends with _exit() on any error; on success it returns
    0, with the report flushed. */
extern int qmail_local_main (int argc, char const *const *argv) ;

#endif
