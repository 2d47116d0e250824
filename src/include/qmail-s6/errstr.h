/* ISC license. */
/* qmail's words for errno values (its error_str).

   Why a library file: where qmail prints an error inside its own fixed
   output, the words are part of that output, e.g. qmail-qread's
   "warning: trouble with #457: file does not exist" (not the C library's
   "No such file or directory").  qmail-qread uses them now; qmail-local's
   "Unable to open {file}: {error}. (#4.3.0)" and qmail-send's warnings
   need the same table.  Diagnostics of our own (strerr_*) keep strerror. */

#ifndef QMAIL_S6_ERRSTR_H
#define QMAIL_S6_ERRSTR_H

 /* The text qmail prints for e; "unknown error" for one it has no word for. */
extern char const *qmail_error_str (int e) ;

#endif
