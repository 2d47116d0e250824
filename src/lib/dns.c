/* ISC license. */
/* dns.h: qmail's MX and address rules on top of c-ares.  One query at a
   time, waited for with poll: qmail-remote does nothing else meanwhile. */

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/nameser.h>
#include <ares.h>
#include <skalibs/fmtscan.h>
#include <skalibs/genalloc.h>
#include <skalibs/stralloc.h>

#include <qmail-s6/dns.h>

static ares_channel channel ;
static int initialized = 0 ;

 /* DNSCACHEIP ("1.2.3.4 5.6.7.8", "127.0.0.1:5353", "[::1]:53") to the
    comma-separated list c-ares takes. */
static int servers_from_env (char const *x)
{
  stralloc csv = STRALLOC_ZERO ;
  int r ;
  for (; *x ; x++)
  {
    char c = (*x == ' ' || *x == '\t' || *x == '\n') ? ',' : *x ;
    if (!stralloc_catb(&csv, &c, 1)) { stralloc_free(&csv) ; return 0 ; }
  }
  if (!stralloc_0(&csv)) { stralloc_free(&csv) ; return 0 ; }
  r = ares_set_servers_ports_csv(channel, csv.s) ;
  stralloc_free(&csv) ;
  if (r != ARES_SUCCESS) { errno = r == ARES_ENOMEM ? ENOMEM : EINVAL ; return 0 ; }
  return 1 ;
}

int dns_init (void)
{
  struct ares_options o ;
  char const *x ;
  if (initialized) return 1 ;
  if (ares_library_init(ARES_LIB_INIT_ALL) != ARES_SUCCESS) { errno = ENOMEM ; return 0 ; }
  memset(&o, 0, sizeof(o)) ;
  o.timeout = DNS_TIMEOUT_MS ;
  o.tries = DNS_TRIES ;
  o.flags = ARES_FLAG_NOSEARCH | ARES_FLAG_NOALIASES ;
  if (ares_init_options(&channel, &o, ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES | ARES_OPT_FLAGS) != ARES_SUCCESS)
  {
    errno = ENOMEM ;
    return 0 ;
  }
  x = getenv("DNSCACHEIP") ;
  if (x && *x && !servers_from_env(x)) { ares_destroy(channel) ; return 0 ; }
  initialized = 1 ;
  return 1 ;
}

 /* What a query's callback leaves: the status, and the parsed records. */
typedef struct query_s query ;
struct query_s
{
  int done ;
  int status ;
  int type ;
  char const *name ;
  genalloc *out ;          /* dns_addr, for A and AAAA */
  unsigned long pref ;
  struct ares_mx_reply *mx ;
} ;

static void got_answer (void *arg, int status, int timeouts, unsigned char *abuf, int alen)
{
  query *q = arg ;
  (void)timeouts ;
  q->done = 1 ;
  q->status = status ;
  if (status != ARES_SUCCESS) return ;
  if (q->type == ns_t_mx)
  {
    q->status = ares_parse_mx_reply(abuf, alen, &q->mx) ;
    return ;
  }
  {
    struct ares_addrttl a4[64] ;
    struct ares_addr6ttl a6[64] ;
    int n = 64, i ;
    q->status = q->type == ns_t_a
      ? ares_parse_a_reply(abuf, alen, 0, a4, &n)
      : ares_parse_aaaa_reply(abuf, alen, 0, a6, &n) ;
    if (q->status != ARES_SUCCESS) return ;
    for (i = 0 ; i < n ; i++)
    {
      dns_addr d ;
      memset(&d, 0, sizeof(d)) ;
      d.pref = q->pref ;
      d.is6 = q->type == ns_t_aaaa ;
      if (q->name) { strncpy(d.name, q->name, sizeof(d.name) - 1) ; d.name[sizeof(d.name) - 1] = 0 ; }
      if (d.is6) memcpy(d.ip, &a6[i].ip6addr, 16) ;
      else memcpy(d.ip, &a4[i].ipaddr, 4) ;
      if (!genalloc_append(dns_addr, q->out, &d)) { q->status = ARES_ENOMEM ; return ; }
    }
  }
}

 /* Runs c-ares until q is answered (its own timeouts bound the wait). */
static void wait_for (query *q)
{
  while (!q->done)
  {
    ares_socket_t socks[ARES_GETSOCK_MAXNUM] ;
    struct pollfd p[ARES_GETSOCK_MAXNUM] ;
    struct timeval tv, *tvp ;
    int bits = ares_getsock(channel, socks, ARES_GETSOCK_MAXNUM) ;
    int n = 0, i, r, ms ;
    for (i = 0 ; i < ARES_GETSOCK_MAXNUM ; i++)
    {
      short ev = 0 ;
      /* not c-ares' ARES_GETSOCK_* macros: they shift a signed 1 by up to
         31 places (undefined behaviour, which UBSan stops on) */
      if (((unsigned int)bits >> i) & 1) ev |= POLLIN ;
      if (((unsigned int)bits >> (i + ARES_GETSOCK_MAXNUM)) & 1) ev |= POLLOUT ;
      if (!ev) continue ;
      p[n].fd = socks[i] ; p[n].events = ev ; p[n].revents = 0 ; n++ ;
    }
    tvp = ares_timeout(channel, 0, &tv) ;
    ms = tvp ? (int)(tvp->tv_sec * 1000 + (tvp->tv_usec + 999) / 1000) : 1000 ;
    r = poll(p, n, ms) ;
    if (r < 0 && errno != EINTR) { ares_cancel(channel) ; continue ; }
    if (r <= 0) { ares_process_fd(channel, ARES_SOCKET_BAD, ARES_SOCKET_BAD) ; continue ; }
    for (i = 0 ; i < n ; i++)
      if (p[i].revents)
        ares_process_fd(channel,
          p[i].revents & (POLLIN | POLLERR | POLLHUP) ? p[i].fd : ARES_SOCKET_BAD,
          p[i].revents & POLLOUT ? p[i].fd : ARES_SOCKET_BAD) ;
  }
}

 /* c-ares status to ours.  NODATA (the name exists, no such records) is
    not an error: there is simply nothing. */
static int status_map (int status)
{
  switch (status)
  {
    case ARES_SUCCESS : case ARES_ENODATA : return DNS_OK ;
    case ARES_ENOTFOUND : return DNS_HARD ;
    case ARES_ENOMEM : return DNS_MEM ;
    default : return DNS_SOFT ;
  }
}

static int lookup (query *q, char const *host, int type)
{
  q->done = 0 ;
  q->type = type ;
  q->mx = 0 ;
  ares_query(channel, host, ns_c_in, type, &got_answer, q) ;
  wait_for(q) ;
  return status_map(q->status) ;
}

int dns_literal (dns_addr *a, char const *s, size_t len)
{
  char buf[64] ;
  int bracket = len >= 2 && s[0] == '[' && s[len - 1] == ']' ;
  if (bracket) { s++ ; len -= 2 ; }
  if (bracket && len > 5 && !strncasecmp(s, "IPv6:", 5)) { s += 5 ; len -= 5 ; }
  if (!len || len >= sizeof(buf)) return 0 ;
  memcpy(buf, s, len) ;
  buf[len] = 0 ;
  memset(a, 0, sizeof(*a)) ;
  if (ip4_scan(buf, (char *)a->ip) == len) { a->is6 = 0 ; return 1 ; }
  if (memchr(buf, ':', len) && ip6_scan(buf, (char *)a->ip) == len) { a->is6 = 1 ; return 1 ; }
  return 0 ;
}

int dns_ip (genalloc *out, char const *host, unsigned long pref)
{
  query q = { .out = out, .pref = pref, .name = host } ;
  dns_addr lit ;
  size_t before = genalloc_len(dns_addr, out) ;
  int r4, r6 ;
  if (dns_literal(&lit, host, strlen(host)))
  {
    lit.pref = pref ;
    return genalloc_append(dns_addr, out, &lit) ? DNS_OK : DNS_MEM ;
  }
  if (!initialized && !dns_init()) return DNS_SOFT ;
  r4 = lookup(&q, host, ns_t_a) ;
  if (r4 == DNS_HARD || r4 == DNS_MEM) return r4 ;
  r6 = lookup(&q, host, ns_t_aaaa) ;
  if (r6 == DNS_MEM) return r6 ;
  /* an address found is worth trying even if the other family's lookup
     failed (servers that time out on AAAA exist) */
  if (genalloc_len(dns_addr, out) > before) return DNS_OK ;
  if (r4 == DNS_SOFT || r6 == DNS_SOFT) return DNS_SOFT ;
  return DNS_OK ;
}

typedef struct mx_s mx ;
struct mx_s
{
  unsigned long pref ;
  char *host ;
} ;

int dns_mxip (genalloc *out, char const *host, unsigned long random)
{
  query q = { .out = out } ;
  mx list[DNS_MX_MAX] ;
  struct ares_mx_reply *m ;
  unsigned int n = 0, i ;
  int r, flagsoft = 0 ;
  dns_addr lit ;

  if (dns_literal(&lit, host, strlen(host)))
    return genalloc_append(dns_addr, out, &lit) ? DNS_OK : DNS_MEM ;
  if (!initialized && !dns_init()) return DNS_SOFT ;
  r = lookup(&q, host, ns_t_mx) ;
  if (r == DNS_SOFT || r == DNS_MEM) { if (q.mx) ares_free_data(q.mx) ; return r ; }
  if (r == DNS_HARD || !q.mx) { if (q.mx) ares_free_data(q.mx) ; return dns_ip(out, host, 0) ; }

  /* keep the DNS_MX_MAX lowest preferences */
  for (m = q.mx ; m ; m = m->next)
  {
    unsigned int worst = 0 ;
    if (n < DNS_MX_MAX) { list[n].pref = m->priority ; list[n].host = m->host ; n++ ; continue ; }
    for (i = 1 ; i < n ; i++) if (list[i].pref > list[worst].pref) worst = i ;
    if (m->priority < list[worst].pref) { list[worst].pref = m->priority ; list[worst].host = m->host ; }
  }

  /* qmail's order: repeatedly the lowest preference, a random one among
     equals (its linear congruential draw), then its addresses */
  while (n)
  {
    unsigned long numsame = 1 ;
    unsigned int j ;
    i = 0 ;
    for (j = 1 ; j < n ; j++)
    {
      if (list[j].pref < list[i].pref) { i = j ; numsame = 1 ; }
      else if (list[j].pref == list[i].pref)
      {
        numsame++ ;
        random = random * 69069 + 1 ;
        if ((random / 2) < (2147483647UL / numsame)) i = j ;
      }
    }
    /* a null MX (RFC 7505: the target ".") has no addresses: a domain that
       only has one gets "no mail exchanger or IP address" */
    r = list[i].host[0] ? dns_ip(out, list[i].host, list[i].pref) : DNS_OK ;
    if (r == DNS_MEM) { ares_free_data(q.mx) ; return DNS_MEM ; }
    if (r == DNS_SOFT) flagsoft = 1 ;
    list[i] = list[--n] ;
  }
  ares_free_data(q.mx) ;
  return flagsoft ? DNS_SOFTSOME : DNS_OK ;
}
