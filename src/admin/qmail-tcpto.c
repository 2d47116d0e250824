/* ISC license. */
/*
   qmail-tcpto: print the remote addresses that timed out recently, from
   the connect-timeout tables qmail-remote keeps (tcpto.h).

   Who runs it: the administrator, as anyone who can open
   HOME/queue/lock/tcpto for writing (the lock is taken on a write
   descriptor, as in qmail: normally root or qmailr).  Arguments are
   ignored, as qmail ignores them.

   Writes, for every record with a timeout count, qmail's line
     {ip} timed out {seconds} seconds ago; # recent timeouts: {count}
   first those of lock/tcpto (IPv4, in file order), then those of
   lock/tcpto6 (IPv6, ours; a missing lock/tcpto6 has none).  A time in
   the future (the clock went back) shows as 0 seconds ago.

   Exits 0; 111 when the home or lock/tcpto cannot be read, or stdout
   cannot be written.
*/

#include <time.h>
#include <skalibs/buffer.h>
#include <skalibs/ip46.h>
#include <skalibs/strerr.h>
#include <skalibs/types.h>

#include <qmail-s6/home.h>
#include <qmail-s6/tcpto.h>

static void show (tcpto_entry const *e, time_t now)
{
  char fmt[IP6_FMT > ULONG_FMT ? IP6_FMT : ULONG_FMT] ;
  unsigned long ago = (unsigned long)now > e->when ? (unsigned long)now - e->when : 0 ;
  buffer_put(buffer_1, fmt, e->is6 ? ip6_fmt(fmt, (char const *)e->ip) : ip4_fmt(fmt, (char const *)e->ip)) ;
  buffer_puts(buffer_1, " timed out ") ;
  buffer_put(buffer_1, fmt, ulong_fmt(fmt, ago)) ;
  buffer_puts(buffer_1, " seconds ago; # recent timeouts: ") ;
  buffer_put(buffer_1, fmt, uint_fmt(fmt, e->count)) ;
  buffer_puts(buffer_1, "\n") ;
}

int main (int argc, char const *const *argv)
{
  tcpto_entry e[TCPTO_RECORDS] ;
  unsigned int n, i ;
  time_t now = time(0) ;
  PROG = "qmail-tcpto" ;
  (void)argc ; (void)argv ;
  if (!qmail_chdir_home()) strerr_diefu2sys(111, "switch to ", qmail_home()) ;
  if (tcpto_list(0, e, &n) <= 0) strerr_diefu1sys(111, "read " TCPTO_FILE4) ;
  for (i = 0 ; i < n ; i++) show(e + i, now) ;
  if (tcpto_list(1, e, &n) < 0) strerr_diefu1sys(111, "read " TCPTO_FILE6) ;
  for (i = 0 ; i < n ; i++) show(e + i, now) ;
  if (!buffer_flush(buffer_1)) strerr_diefu1sys(111, "write to stdout") ;
  return 0 ;
}
