/* ISC license. */
/* Which errno values qmail calls temporary (its error_temp).

   Why a library file: qmail-local decides by it whether a .qmail file that
   cannot be opened, or a maildir it cannot enter, is a temporary failure,
   and the helpers of .qmail files (condredirect, bouncesaying, except,
   preline) decide by it whether a program that cannot be executed means
   "try again later" (111) or "no" (100).  It belongs next to errstr.h
   (qmail's words for errno values); see the report that added it. */

#ifndef QMAIL_S6_ERRTEMP_H
#define QMAIL_S6_ERRTEMP_H

 /* 1 when qmail treats e as temporary (out of memory, I/O trouble, full
    disk, quota, stale NFS handle, lock trouble, network trouble ...). */
extern int qmail_error_temp (int e) ;

#endif
