/* ISC license. */
/* DNS for qmail-remote, through c-ares: the addresses to try for a
   domain, as qmail's dns_mxip and dns_ip, with AAAA records too.

   The resolver: $DNSCACHEIP when set (djb's variable: one or more
   addresses separated by spaces or commas; ours also takes ip:port and
   [ipv6]:port, so that a test can run its DNS server on a high port),
   else /etc/resolv.conf.  Names are looked up as given (no search list),
   and a CNAME only leads to its target's records: nothing is rewritten.
   Each query waits at most DNS_TIMEOUT_MS per try, DNS_TRIES tries per
   server. */

#ifndef QMAIL_S6_DNS_H
#define QMAIL_S6_DNS_H

#include <skalibs/genalloc.h>

#define DNS_TIMEOUT_MS 5000
#define DNS_TRIES 2

 /* At most this many MX records of a domain are used (the lowest
    preferences): bounds the number of lookups for a hostile zone. */
#define DNS_MX_MAX 64

 /* Results.  DNS_SOFTSOME: addresses were found, but some lookup failed
    temporarily (qmail's "flagsoft": qmail-remote goes on with what it
    has, and defers when that is nothing). */
#define DNS_OK 0
#define DNS_SOFTSOME 1
#define DNS_SOFT (-1)      /* temporary failure: defer */
#define DNS_HARD (-2)      /* the name does not exist (NXDOMAIN) */
#define DNS_MEM (-3)

typedef struct dns_addr_s dns_addr ;
struct dns_addr_s
{
  unsigned long pref ;     /* MX preference; 0 for an A/AAAA fallback */
  int is6 ;
  unsigned char ip[16] ;   /* 4 bytes used for IPv4 */
  char name[256] ;         /* the host name it belongs to ("" for a literal) */
} ;

 /* Sets up the resolver.  1 ok, 0 failure (errno). */
extern int dns_init (void) ;

 /* Parses an address literal: "1.2.3.4", "[1.2.3.4]", "[IPv6:2001:db8::1]"
    or "[2001:db8::1]", the whole of s[0..len).  1 and *a filled (pref 0),
    or 0. */
extern int dns_literal (dns_addr *a, char const *s, size_t len) ;

 /* qmail's dns_ip: appends to out (a genalloc of dns_addr) the A then the
    AAAA addresses of host, with preference pref; an address literal is
    itself.  DNS_OK (maybe none: the name exists without addresses),
    DNS_HARD, DNS_SOFT (no address, and a lookup failed temporarily),
    DNS_MEM. */
extern int dns_ip (genalloc *out, char const *host, unsigned long pref) ;

 /* qmail's dns_mxip: the addresses of host's mail exchangers, lowest
    preference first, equal preferences in an order drawn from random
    (qmail's generator), each exchanger's A then AAAA addresses; without
    MX records (or when the MX lookup says NXDOMAIN), dns_ip(host, 0).
    DNS_OK, DNS_SOFTSOME (some exchanger's lookup failed temporarily),
    DNS_SOFT, DNS_HARD, DNS_MEM. */
extern int dns_mxip (genalloc *out, char const *host, unsigned long random) ;

#endif
