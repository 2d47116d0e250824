/* ISC license. */
/* The connect-timeout table (qmail-tcpto(8)): which remote addresses timed
   out recently, so that qmail-remote skips them for a while instead of
   waiting timeoutconnect seconds for each message.  qmail-remote reads and
   updates it, qmail-tcpto prints it, qmail-tcpok and qmail-rspawn (at
   start) clear it.  Paths are relative to the home.

   queue/lock/tcpto, byte for byte qmail's (IPv4): 64 records of 16 bytes,
     0-3 the address, 4 the number of recent timeouts (at most 10), 8-11
     the time of the last one (seconds since 1970, little-endian), the
     other bytes zero.  A record whose count is 0 is free.
   queue/lock/tcpto6, ours (IPv6, which qmail's file cannot hold): 64
     records of 32 bytes, 0-15 the address, 16 the count, 24-27 the time,
     little-endian.
   Both are read and written under an exclusive flock of a write
   descriptor, as qmail's lock_ex. */

#ifndef QMAIL_S6_TCPTO_H
#define QMAIL_S6_TCPTO_H

#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#define TCPTO_RECORDS 64
#define TCPTO_FILE4 "queue/lock/tcpto"
#define TCPTO_FILE6 "queue/lock/tcpto6"
#define TCPTO_SIZE4 (TCPTO_RECORDS * 16)
#define TCPTO_SIZE6 (TCPTO_RECORDS * 32)

typedef struct tcpto_entry_s tcpto_entry ;
struct tcpto_entry_s
{
  int is6 ;
  unsigned char ip[16] ;   /* 4 bytes used for IPv4 */
  unsigned int count ;
  uint32_t when ;
} ;

 /* qmail's tcpto(): should qmail-remote skip ip (is6: 16 bytes, else 4)?
    Yes (1) when it timed out at least twice and the last time less than
    (60 + (pid & 31)) * 64 seconds before now.  *known says whether ip has
    a record at all, for tcpto_note.  A file that cannot be read means no. */
extern int tcpto_skip (unsigned char const *ip, int is6, time_t now, pid_t pid, int *known) ;

 /* qmail's tcpto_err(): after a connection attempt to ip.  timedout: the
    count goes up (at most 10, not twice within 120 s) and the time is now;
    a new address takes a free record, else the one whose time + count *
    1024 is smallest.  Else (connected, or failed otherwise) a known
    address's count goes back to 0.  Errors are ignored, as in qmail. */
extern void tcpto_note (unsigned char const *ip, int is6, int timedout, int known, time_t now) ;

 /* Every used record (count > 0) of one file into e[0..*n).  1 ok, 0 the
    file is missing (none), -1 error (errno). */
extern int tcpto_list (int is6, tcpto_entry *e, unsigned int *n) ;

 /* Overwrites one file with zeros (all records free).  1 ok, 0 error
    (errno; ENOENT: the file is missing, qmail-mkqueue makes it). */
extern int tcpto_clear (int is6) ;

#endif
