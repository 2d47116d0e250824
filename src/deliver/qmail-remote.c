/* ISC license. */
/*
   qmail-remote host sender recip [ recip ... ]: send the message on fd 0 to
   the recipients, all at domain host, over SMTP.

   Who runs it: qmail-rspawn, as qmailr, once per remote delivery, cwd
   HOME/queue/mess; fd 0 is the message (a file), fd 1 the report.  It
   chdirs to the home to read control files and queue/lock/tcpto.

   Report (qmail's protocol, read by qmail-rspawn): for each recipient, in
   order, "r\0" (accepted), "h{text}\0" (refused for good) or "s{text}\0"
   (refused for now), when the session got that far; then one message
   report, "K{text}\0" (accepted), "Z{text}\0" (try again later) or
   "D{text}\0" (failed for good), with qmail's texts.  It always exits 0.

   Where to connect: control/smtproutes (keys: host, then each ".suffix"
   of it, then "" for all; value relay[:port], an IPv6 relay in brackets;
   an empty relay means the normal MX lookup), looked up in DNS as an
   address only; else host's MX records (dns.h).  Addresses of this
   machine (ipme.h) and worse MX preferences are skipped as qmail does;
   addresses that timed out recently are skipped (tcpto.h).  Port 25 unless
   the route says otherwise.  control/timeoutconnect (60 s) bounds each
   connect, control/timeoutremote (1200 s) each read and write.

   The SMTP session, beyond qmail's: EHLO first (HELO when EHLO is
   refused); STARTTLS when the peer offers it, unless control/notlshosts
   names the host, the relay or the MX (then never), and required for the
   destinations of control/tlsdestinations (see qmail-remote(8) for its
   lines: required, optionally with certificate verification against the
   system's or a named CA file); after a failed handshake that was not
   required, the same address is tried once more without TLS.  SMTP AUTH
   (PLAIN, else LOGIN) when the route carries credentials: smtproutes
   "dom:relay:port|user|pass", or control/authsenders "sender:relay:port|user|pass"
   (the sender's full address, then "@" and its domain), which takes
   precedence.  SIZE=n on MAIL when the peer announces SIZE.
   The message is sent with notqmail's line ends: an LF ends a line, a CR
   right before it is dropped, any other CR ends a line too; every line is
   sent with CRLF and a leading "." doubled; so no byte sequence of the
   message can end the DATA early (SMTP smuggling).  A message whose last
   line has no LF is refused ("partial final lines").
*/

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <openssl/evp.h>
#include <tls.h>
#include <skalibs/buffer.h>
#include <skalibs/bytestr.h>
#include <skalibs/djbunix.h>
#include <skalibs/fmtscan.h>
#include <skalibs/genalloc.h>
#include <skalibs/stralloc.h>
#include <skalibs/types.h>

#include <qmail-s6/address.h>
#include <qmail-s6/constmap.h>
#include <qmail-s6/control.h>
#include <qmail-s6/dns.h>
#include <qmail-s6/home.h>
#include <qmail-s6/ipme.h>
#include <qmail-s6/tcpto.h>

 /* qmail keeps at most this much of a server's reply for the report. */
#define SMTPTEXT_MAX 5000
 /* ... and keeps no reply line longer than this, and reads no reply
    (all its lines) longer than REPLY_MAX: memory and time stay bounded
    whatever the peer sends. */
#define SMTPLINE_MAX 65536
#define REPLY_MAX (1UL << 20)
#define PORT_SMTP 25

static char outbuf[1024] ;
static buffer out = BUFFER_INIT(&buffer_write, 1, outbuf, sizeof(outbuf)) ;

 /* ------------------------------------------------------- the report */

static void put (char const *s, size_t n)
{
  if (!buffer_putall(&out, s, n, &(size_t){0})) _exit(0) ;
}

static void puts_ (char const *s)
{
  put(s, strlen(s)) ;
}

static void zero (void)
{
  put("", 1) ;
}

static void zerodie (void) __attribute__((noreturn)) ;
static void zerodie (void)
{
  zero() ;
  buffer_flush(&out) ;
  _exit(0) ;
}

 /* A value from the outside (a host name) in a report: bytes outside
    33..126 become '?', as qmail's outsafe. */
static void putsafe (char const *s, size_t n)
{
  size_t i ;
  for (i = 0 ; i < n ; i++)
  {
    char c = (unsigned char)s[i] < 33 || (unsigned char)s[i] > 126 ? '?' : s[i] ;
    put(&c, 1) ;
  }
}

static void die (char const *text) __attribute__((noreturn)) ;
static void die (char const *text)
{
  puts_(text) ;
  zerodie() ;
}

static void temp_nomem (void) __attribute__((noreturn)) ;
static void temp_nomem (void) { die("ZOut of memory. (#4.3.0)\n") ; }
static void temp_oserr (void) __attribute__((noreturn)) ;
static void temp_oserr (void) { die("ZSystem resources temporarily unavailable. (#4.3.0)\n") ; }
static void temp_noconn (void) __attribute__((noreturn)) ;
static void temp_noconn (void) { die("ZSorry, I wasn't able to establish an SMTP connection. (#4.4.1)\n") ; }
static void temp_read (void) __attribute__((noreturn)) ;
static void temp_read (void) { die("ZUnable to read message. (#4.3.0)\n") ; }
static void temp_dns (void) __attribute__((noreturn)) ;
static void temp_dns (void) { die("ZSorry, I couldn't find any host by that name. (#4.1.2)\n") ; }
static void temp_chdir (void) __attribute__((noreturn)) ;
static void temp_chdir (void) { die("ZUnable to switch to home directory. (#4.3.0)\n") ; }
static void temp_control (void) __attribute__((noreturn)) ;
static void temp_control (void) { die("ZUnable to read control files. (#4.3.0)\n") ; }
static void perm_partialline (void) __attribute__((noreturn)) ;
static void perm_partialline (void) { die("DSMTP cannot transfer messages with partial final lines. (#5.6.2)\n") ; }
static void perm_usage (void) __attribute__((noreturn)) ;
static void perm_usage (void) { die("DI (qmail-remote) was invoked improperly. (#5.3.5)\n") ; }
static void perm_nomx (void) __attribute__((noreturn)) ;
static void perm_nomx (void) { die("DSorry, I couldn't find a mail exchanger or IP address. (#5.4.4)\n") ; }
static void perm_ambigmx (void) __attribute__((noreturn)) ;
static void perm_ambigmx (void)
{
  die("DSorry. Although I'm listed as a best-preference MX or A for that host,\n"
      "it isn't in my control/locals file, so I don't treat it as local. (#5.4.6)\n") ;
}

static stralloc host = STRALLOC_ZERO ;   /* where DNS looks: the domain or the relay */

static void perm_dns (void) __attribute__((noreturn)) ;
static void perm_dns (void)
{
  puts_("DSorry, I couldn't find any host named ") ;
  putsafe(host.s, host.len) ;
  die(". (#5.1.2)\n") ;
}


 /* ------------------------------------------------------- control */

static stralloc helohost = STRALLOC_ZERO ;
static unsigned long timeoutconnect = 60 ;
static unsigned long timeoutremote = 1200 ;
static stralloc routes = STRALLOC_ZERO ;
static constmap maproutes ;
static stralloc authsenders = STRALLOC_ZERO ;
static constmap mapauthsenders ;
static stralloc tlsdest = STRALLOC_ZERO ;
static constmap maptlsdest ;
static stralloc notls = STRALLOC_ZERO ;
static constmap mapnotls ;

static void getcontrols (void)
{
  if (control_rldef(&helohost, "control/helohost", 1, "") < 0) temp_control() ;
  if (!helohost.len) temp_control() ;   /* neither helohost nor me: qmail refuses to talk */
  if (control_readulong(&timeoutconnect, "control/timeoutconnect", 60) < 0) temp_control() ;
  if (control_readulong(&timeoutremote, "control/timeoutremote", 1200) < 0) temp_control() ;
  if (control_readfile(&routes, "control/smtproutes") < 0) temp_control() ;
  if (!constmap_init(&maproutes, routes.s, routes.len, 1)) temp_nomem() ;
  if (control_readfile(&authsenders, "control/authsenders") < 0) temp_control() ;
  if (!constmap_init(&mapauthsenders, authsenders.s, authsenders.len, 1)) temp_nomem() ;
  if (control_readfile(&tlsdest, "control/tlsdestinations") < 0) temp_control() ;
  if (!constmap_init(&maptlsdest, tlsdest.s, tlsdest.len, 1)) temp_nomem() ;
  if (control_readfile(&notls, "control/notlshosts") < 0) temp_control() ;
  if (!constmap_init(&mapnotls, notls.s, notls.len, 0)) temp_nomem() ;
}

 /* smtproutes' rule: the key host, then each ".suffix", then "".  The
    value, or 0. */
static char const *route_lookup (constmap const *m, char const *h, size_t len)
{
  size_t i ;
  for (i = 0 ; i <= len ; i++)
    if (!i || i == len || h[i] == '.')
    {
      char const *v = constmap_get(m, h + i, len - i) ;
      if (v) return v ;
    }
  return 0 ;
}

 /* A route value "relay[:port][|user|pass]"; relay may be "[ipv6]". */
typedef struct route_s route ;
struct route_s
{
  stralloc relay ;       /* NUL-terminated; empty: use MX */
  uint16_t port ;
  stralloc user ;        /* NUL-terminated; empty: no AUTH */
  stralloc pass ;
} ;

static int route_parse (route *r, char const *v)
{
  char const *bar = strchr(v, '|') ;
  size_t len = bar ? (size_t)(bar - v) : strlen(v) ;
  size_t colon ;
  r->port = PORT_SMTP ;
  r->relay.len = r->user.len = r->pass.len = 0 ;
  /* the port follows the last ':' after a closing bracket, or the only
     ':' of a name or IPv4 address */
  if (len && v[0] == '[')
  {
    char const *close = memchr(v, ']', len) ;
    colon = close ? (size_t)(close - v) + 1 : len ;
    if (colon < len && v[colon] != ':') return 0 ;
  }
  else colon = byte_chr(v, len, ':') ;
  if (!stralloc_copyb(&r->relay, v, colon) || !stralloc_0(&r->relay)) temp_nomem() ;
  if (colon < len)
  {
    char buf[UINT16_FMT + 1] ;
    size_t plen = len - colon - 1 ;
    if (!plen || plen >= sizeof(buf)) return 0 ;
    memcpy(buf, v + colon + 1, plen) ;
    buf[plen] = 0 ;
    if (uint160_scan(buf, &r->port) != plen || !r->port) return 0 ;
  }
  if (bar)
  {
    char const *bar2 = strchr(bar + 1, '|') ;
    if (!bar2) return 0 ;
    if (!stralloc_copyb(&r->user, bar + 1, bar2 - bar - 1) || !stralloc_0(&r->user)) temp_nomem() ;
    if (!stralloc_copys(&r->pass, bar2 + 1) || !stralloc_0(&r->pass)) temp_nomem() ;
    r->user.len-- ; r->pass.len-- ;
  }
  r->relay.len-- ;
  return 1 ;
}


 /* A password may only come from a file no one but its owner (qmailr)
    can read: one readable by others is refused, loudly, rather than used. */
static void credentials_private (char const *fn)
{
  struct stat st ;
  if (stat(fn, &st) < 0) temp_control() ;
  if (st.st_mode & 044)
  {
    puts_("ZRefusing the password in ") ;
    puts_(fn) ;
    die(": the file is readable by others (make it mode 0600, owner qmailr). (#4.3.0)\n") ;
  }
}


 /* ------------------------------------------------------- the connection */

static int smtpfd = -1 ;
static struct tls *tlsctx = 0 ;
static dns_addr partner ;
static int flagcritical = 0 ;   /* the final dot is sent: a drop may mean a duplicate */

static void outhost (void)
{
  char fmt[IP6_FMT] ;
  put(fmt, partner.is6 ? ip6_fmt(fmt, (char const *)partner.ip) : ip4_fmt(fmt, (char const *)partner.ip)) ;
}

static void dropped (void) __attribute__((noreturn)) ;
static void dropped (void)
{
  puts_("ZConnected to ") ;
  outhost() ;
  puts_(" but connection died. ") ;
  if (flagcritical) puts_("Possible duplicate! ") ;
  die("(#4.4.2)\n") ;
}

 /* Waits until smtpfd is ready for events, at most timeoutremote
    seconds; dropped() when it is not. */
static void wait_ready (short events)
{
  struct pollfd p = { .fd = smtpfd, .events = events } ;
  int r ;
  do r = poll(&p, 1, timeoutremote > 86400 ? 86400000 : (int)timeoutremote * 1000) ;
  while (r < 0 && errno == EINTR) ;
  if (r <= 0) dropped() ;
}

static size_t net_read (char *buf, size_t n)
{
  for (;;)
  {
    ssize_t r ;
    if (tlsctx)
    {
      r = tls_read(tlsctx, buf, n) ;
      if (r == TLS_WANT_POLLIN) { wait_ready(POLLIN) ; continue ; }
      if (r == TLS_WANT_POLLOUT) { wait_ready(POLLOUT) ; continue ; }
    }
    else
    {
      r = read(smtpfd, buf, n) ;
      if (r < 0 && (errno == EAGAIN || errno == EINTR)) { wait_ready(POLLIN) ; continue ; }
    }
    if (r <= 0) dropped() ;
    return r ;
  }
}

static void net_write (char const *buf, size_t n)
{
  while (n)
  {
    ssize_t r ;
    if (tlsctx)
    {
      r = tls_write(tlsctx, buf, n) ;
      if (r == TLS_WANT_POLLIN) { wait_ready(POLLIN) ; continue ; }
      if (r == TLS_WANT_POLLOUT) { wait_ready(POLLOUT) ; continue ; }
    }
    else
    {
      r = write(smtpfd, buf, n) ;
      if (r < 0 && (errno == EAGAIN || errno == EINTR)) { wait_ready(POLLOUT) ; continue ; }
    }
    if (r <= 0) dropped() ;
    buf += r ; n -= r ;
  }
}

 /* Output to the peer goes through this buffer, flushed before each read
    of a reply. */
static char netout[8192] ;
static size_t netoutlen = 0 ;

static void smtp_flush (void)
{
  net_write(netout, netoutlen) ;
  netoutlen = 0 ;
}

 /* For QUIT: one try, errors ignored (the report is what matters). */
static void smtp_flush_try (void)
{
  if (tlsctx) { if (tls_write(tlsctx, netout, netoutlen) < 0) {} }
  else if (write(smtpfd, netout, netoutlen) < 0) {}
  netoutlen = 0 ;
}

static void smtp_put (char const *s, size_t n)
{
  while (n)
  {
    size_t k = sizeof(netout) - netoutlen ;
    if (!k) { smtp_flush() ; continue ; }
    if (k > n) k = n ;
    memcpy(netout + netoutlen, s, k) ;
    netoutlen += k ; s += k ; n -= k ;
  }
}

static void smtp_puts (char const *s)
{
  smtp_put(s, strlen(s)) ;
}

static char netin[4096] ;
static size_t netinpos = 0, netinlen = 0 ;

static char smtp_getc (void)
{
  if (netinpos == netinlen) { netinlen = net_read(netin, sizeof(netin)) ; netinpos = 0 ; }
  return netin[netinpos++] ;
}

 /* The text of the last reply, CRs removed, at most SMTPTEXT_MAX bytes. */
static stralloc smtptext = STRALLOC_ZERO ;
 /* Its lines, NUL-separated, without the codes; and those of the last
    successful EHLO, for its extensions. */
static stralloc smtplines = STRALLOC_ZERO ;
static stralloc ehlolines = STRALLOC_ZERO ;

 /* Reads one reply (all its lines) and returns its code.  A reply that
    does not start with three digits counts as 451: never as success. */
static void reply_too_long (void) __attribute__((noreturn)) ;
static void reply_too_long (void)
{
  puts_("ZConnected to ") ;
  outhost() ;
  die(" but its reply was longer than 1 MB. (#4.4.2)\n") ;
}

static unsigned int smtpcode (void)
{
  unsigned int code = 0 ;
  int first = 1, bad = 0 ;
  size_t total = 0 ;
  smtptext.len = smtplines.len = 0 ;
  for (;;)
  {
    char line[SMTPLINE_MAX] ;
    size_t n = 0, i ;
    char c ;
    do
    {
      if (++total > REPLY_MAX) reply_too_long() ;
      c = smtp_getc() ;
      if (c == '\r') continue ;
      if (n < sizeof(line)) line[n++] = c ;
    } while (c != '\n') ;
    for (i = 0 ; i < n && smtptext.len < SMTPTEXT_MAX ; i++)
      if (!stralloc_catb(&smtptext, line + i, 1)) temp_nomem() ;
    if (n < 4 || line[0] < '0' || line[0] > '9' || line[1] < '0' || line[1] > '9' || line[2] < '0' || line[2] > '9')
    {
      bad = 1 ;
      if (n < 4 || line[3] != '-') break ;
      continue ;
    }
    if (first) code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0') ;
    first = 0 ;
    if (n > 4 && !stralloc_catb(&smtplines, line + 4, n - 5)) temp_nomem() ;
    if (!stralloc_0(&smtplines)) temp_nomem() ;
    if (line[3] != '-') break ;
  }
  return bad ? 451 : code ;
}

static void outsmtptext (void)
{
  size_t i ;
  if (!smtptext.len) return ;
  puts_("Remote host said: ") ;
  for (i = 0 ; i < smtptext.len ; i++) if (!smtptext.s[i]) smtptext.s[i] = '?' ;
  put(smtptext.s, smtptext.len) ;
  smtptext.len = 0 ;
}

 /* qmail's quit: QUIT without waiting for the answer, then the report. */
static void quit (char const *prepend, char const *append) __attribute__((noreturn)) ;
static void quit (char const *prepend, char const *append)
{
  smtp_puts("QUIT\r\n") ;
  smtp_flush_try() ;
  puts_(prepend) ;
  outhost() ;
  puts_(append) ;
  puts_(".\n") ;
  outsmtptext() ;
  zerodie() ;
}

 /* After a 250 to EHLO. */
static void ehlo_keep (void)
{
  if (!stralloc_copy(&ehlolines, &smtplines)) temp_nomem() ;
}

 /* Does the last EHLO reply list keyword (first word of a line, any case)?
    *params points to what follows it. */
static int ehlo_has (char const *keyword, char const **params)
{
  size_t i, k = strlen(keyword) ;
  if (!ehlolines.len) return 0 ;
  /* the first line is the greeting part, not an extension */
  i = strlen(ehlolines.s) + 1 ;
  while (i < ehlolines.len)
  {
    char const *l = ehlolines.s + i ;
    size_t n = strlen(l) ;
    if (n >= k && !strncasecmp(l, keyword, k) && (n == k || l[k] == ' ' || l[k] == '='))
    {
      if (params) *params = l + k + (n > k) ;
      return 1 ;
    }
    i += n + 1 ;
  }
  return 0 ;
}


 /* ------------------------------------------------------- TLS */

 /* What control/tlsdestinations says for this destination. */
typedef struct tlspolicy_s tlspolicy ;
struct tlspolicy_s
{
  int never ;        /* control/notlshosts */
  int required ;
  int verify ;
  char const *cafile ;   /* 0: the system's */
  char const *name ;     /* the name to verify the certificate against */
} ;

 /* Line "dest" (TLS required), "dest:verify" or "dest:verify:/ca/file". */
static void tlspolicy_get (tlspolicy *p, char const *domain, char const *relay, char const *mxname)
{
  char const *v = route_lookup(&maptlsdest, domain, strlen(domain)) ;
  p->required = p->verify = 0 ;
  p->cafile = 0 ;
  p->never = (constmap_get(&mapnotls, domain, strlen(domain))
    || (relay[0] && constmap_get(&mapnotls, relay, strlen(relay)))
    || (mxname[0] && constmap_get(&mapnotls, mxname, strlen(mxname)))) ;
  p->name = relay[0] ? relay : mxname[0] ? mxname : domain ;
  if (p->name[0] == '[')
  {
    /* an address literal: the certificate names the address, without
       brackets (and no SNI is sent for an address) */
    static char lit[64] ;
    size_t n = strlen(p->name) ;
    if (n >= 2 && n - 2 < sizeof(lit) && p->name[n - 1] == ']')
    {
      memcpy(lit, p->name + 1, n - 2) ;
      lit[n - 2] = 0 ;
      p->name = strncasecmp(lit, "IPv6:", 5) ? lit : lit + 5 ;
    }
  }
  if (!v) return ;
  p->required = 1 ;
  if (!strncmp(v, "verify", 6) && (!v[6] || v[6] == ':'))
  {
    p->verify = 1 ;
    if (v[6] == ':' && v[7]) p->cafile = v + 7 ;
  }
  p->never = 0 ;   /* asked for explicitly: it wins */
}

static char const *tlsfailure = 0 ;

 /* STARTTLS and the handshake.  1 done; 0 the handshake failed (the
    connection is unusable; tlsfailure says why). */
static int starttls (tlspolicy const *p)
{
  struct tls_config *cfg ;
  smtp_puts("STARTTLS\r\n") ;
  smtp_flush() ;
  if (smtpcode() != 220)
  {
    if (p->required) quit("ZConnected to ", " but STARTTLS was refused") ;
    return 1 ;   /* still a valid plain session (RFC 3207) */
  }
  cfg = tls_config_new() ;
  if (!cfg) temp_nomem() ;
  if (!p->verify)
  {
    tls_config_insecure_noverifycert(cfg) ;
    tls_config_insecure_noverifyname(cfg) ;
  }
  else if (p->cafile && tls_config_set_ca_file(cfg, p->cafile) < 0)
  {
    tlsfailure = tls_config_error(cfg) ;
    return 0 ;
  }
  tlsctx = tls_client() ;
  if (!tlsctx) temp_nomem() ;
  if (tls_configure(tlsctx, cfg) < 0 || tls_connect_socket(tlsctx, smtpfd, p->name) < 0)
  {
    tlsfailure = tls_error(tlsctx) ;
    return 0 ;
  }
  for (;;)
  {
    int r = tls_handshake(tlsctx) ;
    if (r == TLS_WANT_POLLIN) { wait_ready(POLLIN) ; continue ; }
    if (r == TLS_WANT_POLLOUT) { wait_ready(POLLOUT) ; continue ; }
    if (r < 0) { tlsfailure = tls_error(tlsctx) ; return 0 ; }
    break ;
  }
  netinpos = netinlen = 0 ;   /* nothing read before the handshake counts */
  return 1 ;
}


 /* ------------------------------------------------------- AUTH */

#define B64_IN_MAX (2 * 1024 + 2)   /* "\0user\0pass", each at most 1024 */

static void b64_put (char const *s, size_t n)
{
  unsigned char enc[4 * ((B64_IN_MAX + 2) / 3) + 1] ;
  if (n > B64_IN_MAX) n = B64_IN_MAX ;
  smtp_put((char const *)enc, EVP_EncodeBlock(enc, (unsigned char const *)s, n)) ;
}

static void auth (route const *r)
{
  char const *mechs ;
  unsigned int code ;
  if (!ehlo_has("AUTH", &mechs)) { smtptext.len = 0 ; quit("ZConnected to ", " but it does not offer AUTH") ; }
  if (strcasestr(mechs, "PLAIN"))
  {
    char buf[2 * 1024 + 2] ;
    size_t n = 0 ;
    if (r->user.len > 1024 || r->pass.len > 1024) quit("ZConnected to ", " but my credentials are too long") ;
    buf[n++] = 0 ;
    memcpy(buf + n, r->user.s, r->user.len) ; n += r->user.len ;
    buf[n++] = 0 ;
    memcpy(buf + n, r->pass.s, r->pass.len) ; n += r->pass.len ;
    smtp_puts("AUTH PLAIN ") ;
    b64_put(buf, n) ;
    smtp_puts("\r\n") ;
    smtp_flush() ;
    code = smtpcode() ;
  }
  else if (strcasestr(mechs, "LOGIN"))
  {
    smtp_puts("AUTH LOGIN\r\n") ;
    smtp_flush() ;
    code = smtpcode() ;
    if (code == 334)
    {
      b64_put(r->user.s, r->user.len) ;
      smtp_puts("\r\n") ;
      smtp_flush() ;
      code = smtpcode() ;
    }
    if (code == 334)
    {
      b64_put(r->pass.s, r->pass.len) ;
      smtp_puts("\r\n") ;
      smtp_flush() ;
      code = smtpcode() ;
    }
  }
  else { smtptext.len = 0 ; quit("ZConnected to ", " but it offers neither AUTH PLAIN nor AUTH LOGIN") ; }
  /* a refusal defers (a wrong password is the admin's to fix; bouncing
     every message meanwhile would lose them), as Postfix's soft bounce */
  if (code != 235) quit("ZConnected to ", " but authentication was rejected") ;
}


 /* ------------------------------------------------------- the message */

static char inbuf[8192] ;
static buffer in = BUFFER_INIT(&buffer_read, 0, inbuf, sizeof(inbuf)) ;

 /* Copies the message with CRLF line ends and dot-stuffing (see the top). */
static void blast (void)
{
  int linestart = 1 ;
  int pendingcr = 0 ;   /* a CR was read; what follows decides */
  for (;;)
  {
    char c ;
    ssize_t r = buffer_get(&in, &c, 1) ;
    if (r < 0) temp_read() ;
    if (!r) break ;
    if (pendingcr)
    {
      pendingcr = 0 ;
      smtp_put("\r\n", 2) ;
      linestart = 1 ;
      if (c == '\n') continue ;   /* CRLF: one line end */
    }
    if (c == '\r') { pendingcr = 1 ; continue ; }
    if (c == '\n') { smtp_put("\r\n", 2) ; linestart = 1 ; continue ; }
    if (linestart && c == '.') smtp_put(".", 1) ;
    linestart = 0 ;
    smtp_put(&c, 1) ;
  }
  if (pendingcr || !linestart) perm_partialline() ;
  flagcritical = 1 ;
  smtp_put(".\r\n", 3) ;
  smtp_flush() ;
}


 /* ------------------------------------------------------- the session */

static char const *sender ;
static char const *const *recips ;
static unsigned int nrecips ;
static route rt ;
static off_t messagesize ;

static void mail_from (int withsize)
{
  stralloc sa = STRALLOC_ZERO ;
  if (!addr_quote_cat(&sa, sender, strlen(sender))) temp_nomem() ;
  smtp_puts("MAIL FROM:<") ;
  smtp_put(sa.s, sa.len) ;
  smtp_puts(">") ;
  if (withsize)
  {
    char fmt[ULONG_FMT] ;
    smtp_puts(" SIZE=") ;
    smtp_put(fmt, ulong_fmt(fmt, (unsigned long)messagesize)) ;
  }
  smtp_puts("\r\n") ;
  smtp_flush() ;
  stralloc_free(&sa) ;
}

 /* Returns 0 when the connection must be tried again without TLS. */
static int smtp (tlspolicy const *tp)
{
  unsigned int code ;
  int flagbother = 0, esmtp ;
  unsigned int i ;

  if (smtpcode() != 220) quit("ZConnected to ", " but greeting failed") ;
  smtp_puts("EHLO ") ; smtp_put(helohost.s, helohost.len) ; smtp_puts("\r\n") ;
  smtp_flush() ;
  esmtp = smtpcode() == 250 ;
  if (esmtp) ehlo_keep() ;
  else
  {
    smtp_puts("HELO ") ; smtp_put(helohost.s, helohost.len) ; smtp_puts("\r\n") ;
    smtp_flush() ;
    if (smtpcode() != 250) quit("ZConnected to ", " but my name was rejected") ;
  }
  if (!tp->never && (tp->required || (esmtp && ehlo_has("STARTTLS", 0))))
  {
    if (!esmtp || !ehlo_has("STARTTLS", 0))
    {
      smtptext.len = 0 ;   /* its EHLO reply says nothing useful here */
      quit("ZConnected to ", " but it does not offer STARTTLS") ;
    }
    if (!starttls(tp))
    {
      if (tp->required)
      {
        puts_("ZConnected to ") ; outhost() ;
        puts_(" but the TLS handshake failed: ") ; putsafe(tlsfailure ? tlsfailure : "unknown error", strlen(tlsfailure ? tlsfailure : "unknown error")) ;
        die(". (#4.7.0)\n") ;
      }
      return 0 ;
    }
    if (tlsctx)
    {
      smtp_puts("EHLO ") ; smtp_put(helohost.s, helohost.len) ; smtp_puts("\r\n") ;
      smtp_flush() ;
      if (smtpcode() != 250) quit("ZConnected to ", " but my name was rejected") ;
      ehlo_keep() ;
    }
  }
  if (rt.user.len)
  {
    if (!esmtp) { smtptext.len = 0 ; quit("ZConnected to ", " but it does not offer AUTH") ; }
    auth(&rt) ;
  }

  mail_from(esmtp && messagesize >= 0 && ehlo_has("SIZE", 0)) ;
  code = smtpcode() ;
  if (code >= 500) quit("DConnected to ", " but sender was rejected") ;
  if (code >= 400) quit("ZConnected to ", " but sender was rejected") ;

  for (i = 0 ; i < nrecips ; i++)
  {
    stralloc sa = STRALLOC_ZERO ;
    if (!addr_quote_cat(&sa, recips[i], strlen(recips[i]))) temp_nomem() ;
    smtp_puts("RCPT TO:<") ; smtp_put(sa.s, sa.len) ; smtp_puts(">\r\n") ;
    smtp_flush() ;
    stralloc_free(&sa) ;
    code = smtpcode() ;
    if (code >= 400)
    {
      puts_(code >= 500 ? "h" : "s") ;
      outhost() ;
      puts_(" does not like recipient.\n") ;
      outsmtptext() ;
      zero() ;
    }
    else { puts_("r") ; zero() ; flagbother = 1 ; }
  }
  if (!flagbother) quit("DGiving up on ", "") ;

  smtp_puts("DATA\r\n") ;
  smtp_flush() ;
  code = smtpcode() ;
  if (code >= 500) quit("D", " failed on DATA command") ;
  if (code >= 400) quit("Z", " failed on DATA command") ;
  blast() ;
  code = smtpcode() ;
  flagcritical = 0 ;
  if (code >= 500) quit("D", " failed after I sent the message") ;
  if (code >= 400) quit("Z", " failed after I sent the message") ;
  quit("K", " accepted message") ;
}

 /* Non-blocking connect bounded by timeoutconnect.  1 connected, 0 not
    (errno: ETIMEDOUT for a timeout). */
static int connect_to (dns_addr const *a, uint16_t port)
{
  struct sockaddr_storage ss ;
  socklen_t sl ;
  struct pollfd p ;
  int r, e ;
  socklen_t el = sizeof(e) ;
  memset(&ss, 0, sizeof(ss)) ;
  if (a->is6)
  {
    struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss ;
    s6->sin6_family = AF_INET6 ;
    s6->sin6_port = htons(port) ;
    memcpy(&s6->sin6_addr, a->ip, 16) ;
    sl = sizeof(*s6) ;
  }
  else
  {
    struct sockaddr_in *s4 = (struct sockaddr_in *)&ss ;
    s4->sin_family = AF_INET ;
    s4->sin_port = htons(port) ;
    memcpy(&s4->sin_addr, a->ip, 4) ;
    sl = sizeof(*s4) ;
  }
  smtpfd = socket(a->is6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0) ;
  if (smtpfd < 0) temp_oserr() ;
  if (connect(smtpfd, (struct sockaddr *)&ss, sl) == 0) return 1 ;
  if (errno != EINPROGRESS) { e = errno ; fd_close(smtpfd) ; errno = e ; return 0 ; }
  p.fd = smtpfd ; p.events = POLLOUT ;
  do r = poll(&p, 1, timeoutconnect > 86400 ? 86400000 : (int)timeoutconnect * 1000) ;
  while (r < 0 && errno == EINTR) ;
  if (r == 0) { fd_close(smtpfd) ; errno = ETIMEDOUT ; return 0 ; }
  if (r < 0 || getsockopt(smtpfd, SOL_SOCKET, SO_ERROR, &e, &el) < 0) { e = errno ; fd_close(smtpfd) ; errno = e ; return 0 ; }
  if (e) { fd_close(smtpfd) ; errno = e ; return 0 ; }
  return 1 ;
}

static void disconnect (void)
{
  if (tlsctx) { tls_free(tlsctx) ; tlsctx = 0 ; }
  fd_close(smtpfd) ;
  smtpfd = -1 ;
  netinpos = netinlen = netoutlen = 0 ;
  ehlolines.len = 0 ;
  if (lseek(0, 0, SEEK_SET) < 0) temp_read() ;
  buffer_init(&in, &buffer_read, 0, inbuf, sizeof(inbuf)) ;   /* start over with the file */
}

int main (int argc, char const *const *argv)
{
  genalloc ips = GENALLOC_ZERO ;   /* dns_addr */
  dns_addr const *ip ;
  char const *relayv ;
  size_t i, nips ;
  unsigned long prefme ;
  unsigned long random ;
  int r ;

  signal(SIGPIPE, SIG_IGN) ;
  if (argc < 4) perm_usage() ;
  if (!qmail_chdir_home()) temp_chdir() ;
  getcontrols() ;
  if (!stralloc_copys(&host, argv[1]) || !stralloc_0(&host)) temp_nomem() ;
  host.len-- ;
  sender = argv[2] ;
  recips = argv + 3 ;
  nrecips = argc - 3 ;
  {
    /* qmail-rspawn gives a file; from a pipe the size is unknown (-1: no
       SIZE parameter) */
    struct stat st ;
    messagesize = fstat(0, &st) == 0 && S_ISREG(st.st_mode) ? st.st_size : -1 ;
  }

  /* the route: authsenders by the sender first (it may carry the
     credentials), then smtproutes by the domain */
  {
    char const *from = 0 ;
    size_t sl = strlen(sender), at = addr_at(sender, sl) ;
    relayv = sl ? constmap_get(&mapauthsenders, sender, sl) : 0 ;
    if (!relayv && at < sl) relayv = constmap_get(&mapauthsenders, sender + at, sl - at) ;
    if (relayv) from = "control/authsenders" ;
    else
    {
      relayv = route_lookup(&maproutes, host.s, host.len) ;
      from = "control/smtproutes" ;
    }
    if (!relayv) relayv = "" ;   /* no route: MX, port 25, no AUTH */
    if (!route_parse(&rt, relayv)) temp_control() ;
    if (rt.user.len) credentials_private(from) ;
  }
  if (rt.relay.len)
  {
    if (!stralloc_copyb(&host, rt.relay.s, rt.relay.len) || !stralloc_0(&host)) temp_nomem() ;
    host.len-- ;
  }

  random = (unsigned long)time(0) + ((unsigned long)getpid() << 16) ;
  /* dns.h sets the resolver up at the first lookup: an address literal
     (a relay given as [ip], say) needs none */
  r = rt.relay.len ? dns_ip(&ips, host.s, 0) : dns_mxip(&ips, host.s, random) ;
  switch (r)
  {
    case DNS_MEM : temp_nomem() ;
    case DNS_SOFT : temp_dns() ;
    case DNS_HARD : perm_dns() ;
    case DNS_SOFTSOME : if (!genalloc_len(dns_addr, &ips)) temp_dns() ; break ;
    default : break ;
  }
  nips = genalloc_len(dns_addr, &ips) ;
  ip = genalloc_s(dns_addr, &ips) ;
  if (!nips) perm_nomx() ;

  /* qmail's rule: only preferences better than the best one that is this
     machine; a relay is trusted as it is */
  if (rt.relay.len) prefme = 300000 ;
  else
  {
    prefme = 100000 ;
    for (i = 0 ; i < nips ; i++)
    {
      int me = ipme_is(ip[i].ip, ip[i].is6) ;
      if (me < 0) temp_oserr() ;
      if (me && ip[i].pref < prefme) prefme = ip[i].pref ;
    }
  }
  for (i = 0 ; i < nips ; i++) if (ip[i].pref < prefme) break ;
  if (i >= nips) perm_ambigmx() ;

  for (i = 0 ; i < nips ; i++)
  {
    int known, cleartext = 0 ;
    if (ip[i].pref >= prefme) continue ;
    if (tcpto_skip(ip[i].ip, ip[i].is6, time(0), getpid(), &known)) continue ;
   again:
    if (connect_to(ip + i, rt.port))
    {
      tlspolicy tp ;
      tcpto_note(ip[i].ip, ip[i].is6, 0, known, time(0)) ;
      partner = ip[i] ;
      tlspolicy_get(&tp, argv[1], rt.relay.s, ip[i].name) ;
      if (cleartext) tp.never = 1 ;
      if (!smtp(&tp))
      {
        /* the opportunistic handshake failed: once more, in the clear */
        disconnect() ;
        cleartext = 1 ;
        goto again ;
      }
    }
    tcpto_note(ip[i].ip, ip[i].is6, errno == ETIMEDOUT, known, time(0)) ;
  }
  temp_noconn() ;
}
