/* ISC license. */
/* qmail's date822fmt: "26 Sep 1995 04:46:54 -0000", always UTC. */

#include <time.h>
#include <skalibs/types.h>

#include <qmail-s6/date822.h>

char const *const date822_month[12] =
{
  "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"
} ;

char const *const date822_wday[7] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" } ;

size_t date822_fmt2 (char *s, unsigned int u)
{
  s[0] = '0' + (u / 10) % 10 ;
  s[1] = '0' + u % 10 ;
  return 2 ;
}

size_t date822_fmt (char *s, time_t t)
{
  struct tm tm ;
  size_t n = 0 ;
  if (!gmtime_r(&t, &tm)) { t = 0 ; gmtime_r(&t, &tm) ; }
  n += uint_fmt(s + n, tm.tm_mday) ;
  s[n++] = ' ' ;
  s[n++] = date822_month[tm.tm_mon][0] ;
  s[n++] = date822_month[tm.tm_mon][1] ;
  s[n++] = date822_month[tm.tm_mon][2] ;
  s[n++] = ' ' ;
  n += long_fmt(s + n, (long)tm.tm_year + 1900) ;
  s[n++] = ' ' ;
  n += date822_fmt2(s + n, tm.tm_hour) ;
  s[n++] = ':' ;
  n += date822_fmt2(s + n, tm.tm_min) ;
  s[n++] = ':' ;
  n += date822_fmt2(s + n, tm.tm_sec) ;
  s[n++] = ' ' ; s[n++] = '-' ; s[n++] = '0' ; s[n++] = '0' ; s[n++] = '0' ; s[n++] = '0' ;
  return n ;
}
