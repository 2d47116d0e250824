/* ISC license. */
/* ipme.h: read the interface addresses once, then compare. */

#include <errno.h>
#include <string.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <qmail-s6/ipme.h>

static struct ifaddrs *addrs = 0 ;
static int loaded = 0 ;

int ipme_is (unsigned char const *ip, int is6)
{
  static unsigned char const zero[16] = { 0 } ;
  struct ifaddrs *a ;
  if (!memcmp(ip, zero, is6 ? 16 : 4)) return 1 ;
  if (!loaded)
  {
    if (getifaddrs(&addrs) < 0) return -1 ;
    loaded = 1 ;
  }
  for (a = addrs ; a ; a = a->ifa_next)
  {
    if (!a->ifa_addr) continue ;
    if (!is6 && a->ifa_addr->sa_family == AF_INET
     && !memcmp(&((struct sockaddr_in *)a->ifa_addr)->sin_addr, ip, 4)) return 1 ;
    if (is6 && a->ifa_addr->sa_family == AF_INET6
     && !memcmp(&((struct sockaddr_in6 *)a->ifa_addr)->sin6_addr, ip, 16)) return 1 ;
  }
  return 0 ;
}
