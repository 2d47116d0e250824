/* ISC license. */
/* Dates in the form qmail writes them. */

#ifndef QMAIL_S6_DATE822_H
#define QMAIL_S6_DATE822_H

#include <stddef.h>
#include <time.h>

#define DATE822_FMT 40

 /* RFC 5322 date, always UTC, qmail's date822fmt: "26 Sep 1995 04:46:54 -0000"
    (day not padded).  Writes no NUL; returns the length. */
extern size_t date822_fmt (char *s, time_t t) ;

 /* "Www, 26 Sep 1995 04:46:54 -0000" is not what qmail writes; we keep its
    form.  The month names, for other formats (qmail-qread, From_ lines). */
extern char const *const date822_month[12] ;

 /* u % 100 as two digits, zero-padded (times of day, days in some forms). */
extern size_t date822_fmt2 (char *s, unsigned int u) ;
extern char const *const date822_wday[7] ;

#endif
