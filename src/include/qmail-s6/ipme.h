/* ISC license. */
/* The addresses of this machine (qmail's ipme): qmail-remote must not
   send mail to itself through an MX that points here, and treats such an
   MX as "ambiguous" unless a better one exists.  They are the addresses
   of every interface (getifaddrs), plus 0.0.0.0 and :: (which reach this
   machine when connected to, as netqmail added). */

#ifndef QMAIL_S6_IPME_H
#define QMAIL_S6_IPME_H

 /* 1 when ip (is6: 16 bytes, else 4) is this machine's; 0 when not; -1
    when the interfaces cannot be read (errno). */
extern int ipme_is (unsigned char const *ip, int is6) ;

#endif
