/* ISC license. */
/*
   qmail-inject [ -nNaAhH ] [ -fsender ] [ recip ... ]: make a message's
   header complete and queue the message (or, with -n, print it).

   Who runs it: users, mail user agents and scripts, directly or through
   sendmail; qmail-local for forwards.  No privileges: it queues through
   qq_open() ($QMAILQUEUE, else HOME/bin/qmail-queue).

   Reads the message on stdin.  The header is held in memory (at most
   HEADER_MAX bytes of it, else exit 100), because the fields qmail-inject
   adds go before it and depend on all of it; the body is streamed.
   Reads $QMAILMFTFILE (relative to the caller's directory), then, in the
   home, control/defaultdomain, defaulthost, plusdomain and idhost, each
   defaulting to control/me and then to its own name, each overridden by
   $QMAILDEFAULTDOMAIN, $QMAILDEFAULTHOST, $QMAILPLUSDOMAIN, $QMAILIDHOST.

   What it does to the message, as qmail 1.03 does (qmail-inject(8)):
   - address fields (To, Cc, Bcc, Apparently-To, Resent-To/Cc/Bcc: the
     recipients; Sender, From, Reply-To, Return-Receipt-To, Errors-To,
     Resent-Sender/From/Reply-To; Return-Path) are parsed and every address
     rewritten: source route dropped, a trailing '.' or '@' dropped, no '@'
     -> @defaulthost, host ending in '+' -> '+' becomes .plusdomain, host
     without a dot (not a [literal]) -> .defaultdomain; <> and box@[] stay.
   - Bcc, Resent-Bcc, Return-Path and Content-Length are deleted.  A
     Return-Path sets the envelope sender unless -f came first.
   - Date, Message-ID, From and "Cc: recipient list not shown: ;" are added
     when missing, or their Resent- forms for a resent message.
   Envelope sender: -f; else the first Return-Path address; else
   $QMAILSUSER@$QMAILSHOST, defaulting to the From user and host.

   Exits 0 when queued (or printed); 100 for usage, a message it cannot
   parse, a header over HEADER_MAX, or a permanent refusal by qmail-queue;
   111 for temporary trouble (memory, reading, qmail-queue's temporary
   errors).  Errors are one line "qmail-inject: fatal: ..." on stderr.

   Where we differ from qmail, and why (see qmail-inject(8)):
   - the header is capped (qmail would use all the memory there is);
   - a NUL byte in an address field is a parse error (qmail would cut the
     envelope address at it);
   - notqmail ignores parse errors in To/Cc/Bcc/Apparently-To/Resent-To/
     Cc/Bcc; we ignore them only when the header's recipients are not used
     (-a, or -A with recipients), since otherwise recipients would be lost
     in silence; the field is then kept as it was;
   - unreadable control files are named in the error message.
*/

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include <sys/uio.h>
#include <skalibs/buffer.h>
#include <skalibs/genalloc.h>
#include <skalibs/sgetopt.h>
#include <skalibs/stralloc.h>
#include <skalibs/strerr.h>
#include <skalibs/types.h>

#include <qmail-s6/address.h>
#include <qmail-s6/control.h>
#include <qmail-s6/date822.h>
#include <qmail-s6/home.h>
#include <qmail-s6/qq.h>
#include <qmail-s6/rfc822.h>

#define USAGE "qmail-inject [ -nNaAhH ] [ -fsender ] [ recip ... ]"

 /* The header lives in memory; this bounds it.  The bytes we add to it
    (rewritten addresses, folding) grow it by a bounded factor at most. */
#define HEADER_MAX (1UL << 20)

 /* qmail folds rewritten address fields at this width. */
#define LINELEN 80

static time_t starttime ;
static pid_t mypid ;

 /* QMAILINJECT letters */
static int flagnamecomment = 0 ;   /* c */
static int flagdeletesender = 0 ;  /* s */
static int flagdeletefrom = 0 ;    /* f */
static int flagdeletemessid = 0 ;  /* i */
static int flaghackrecip = 0 ;     /* r */
static int flaghackmess = 0 ;      /* m */

static char const *mailhost ;
static char const *mailuser ;
static char const *mailrhost ;
static char const *mailruser ;

static stralloc idhost = STRALLOC_ZERO ;
 /* "@defaulthost", ".defaultdomain", ".plusdomain" as tokens, appended to
    addresses by the rewriting; their text lives in the *buf. */
static genalloc defaulthost = GENALLOC_ZERO ;
static stralloc defaulthostbuf = STRALLOC_ZERO ;
static genalloc defaultdomain = GENALLOC_ZERO ;
static stralloc defaultdomainbuf = STRALLOC_ZERO ;
static genalloc plusdomain = GENALLOC_ZERO ;
static stralloc plusdomainbuf = STRALLOC_ZERO ;

static stralloc sender = STRALLOC_ZERO ;
static int sender_set = 0 ;

 /* Address lists: each address NUL-terminated, in the order found (each
    field is read right to left, as qmail does). */
static stralloc reciplist = STRALLOC_ZERO ;  /* arguments */
static stralloc hrlist = STRALLOC_ZERO ;     /* To Cc Bcc Apparently-To */
static stralloc hrrlist = STRALLOC_ZERO ;    /* Resent-To Resent-Cc Resent-Bcc */
static stralloc tocclist = STRALLOC_ZERO ;   /* To Cc: for Mail-Followup-To */

static int flagqueue = 1 ;
static int flagrh ;          /* are header recipients used? */
static int flagresent ;
static int seen[RFC822_H_NUM] ;
static stralloc savedh = STRALLOC_ZERO ;   /* the header fields we keep */

static int flagmft = 0 ;
static stralloc mft = STRALLOC_ZERO ;

static qqclient qq ;

static char inbuf[65536] ;
static buffer in = BUFFER_INIT(&buffer_read, 0, inbuf, sizeof(inbuf)) ;
static int ineof = 0 ;
static char bodylast = '\n' ;


 /* Errors: qmail's texts. */

static void die_nomem (void) __attribute__((noreturn)) ;
static void die_nomem (void)
{
  strerr_dief1x(111, "out of memory") ;
}

static void die_read (void) __attribute__((noreturn)) ;
static void die_read (void)
{
  if (errno == ENOMEM) die_nomem() ;
  strerr_dief1x(111, "read error") ;
}

static void die_write (void) __attribute__((noreturn)) ;
static void die_write (void)
{
  strerr_diefu1sys(111, "write to stdout") ;
}

 /* "unable to parse this line:" and the line, which may hold any byte. */
static void die_parse_line (char const *s, size_t n) __attribute__((noreturn)) ;
static void die_parse_line (char const *s, size_t n)
{
  buffer_puts(buffer_2, PROG) ;
  buffer_puts(buffer_2, ": fatal: unable to parse this line:\n") ;
  buffer_put(buffer_2, s, n) ;
  if (!n || s[n-1] != '\n') buffer_put(buffer_2, "\n", 1) ;
  buffer_flush(buffer_2) ;
  _exit(100) ;
}

static void die_invalid (char const *s, size_t n) __attribute__((noreturn)) ;
static void die_invalid (char const *s, size_t n)
{
  buffer_puts(buffer_2, PROG) ;
  buffer_puts(buffer_2, ": fatal: invalid header field: ") ;
  buffer_put(buffer_2, s, n) ;
  if (!n || s[n-1] != '\n') buffer_put(buffer_2, "\n", 1) ;
  buffer_flush(buffer_2) ;
  _exit(100) ;
}


 /* Output: to qmail-queue, or to stdout with -n. */

static void put (char const *s, size_t n)
{
  if (!n) return ;
  if (flagqueue) qq_put(&qq, s, n) ;
  else if (!buffer_putall(buffer_1, s, n, &(size_t){0})) die_write() ;
}

static void puts_ (char const *s)
{
  put(s, strlen(s)) ;
}

 /* Body bytes: remembers the last one, to end the body with a newline. */
static void body_put (char const *s, size_t n)
{
  if (!n) return ;
  put(s, n) ;
  bodylast = s[n-1] ;
}


 /* Input */

 /* Appends one line, newline included, to sa, taking at most max bytes.
    A last line without a newline gets one, as qmail does.
    1 a line; 0 end of input; -1 read error; -2 max bytes came and no
    newline (sa holds them). */
static int getline_max (stralloc *sa, size_t max)
{
  size_t got = 0 ;
  if (ineof) return 0 ;
  for (;;)
  {
    struct iovec v[2] ;
    char const *nl ;
    size_t n ;
    int complete ;
    if (got >= max) return -2 ;
    if (!buffer_len(&in))
    {
      ssize_t r = buffer_fill(&in) ;
      if (r < 0) return -1 ;
      if (!r)
      {
        ineof = 1 ;
        if (!got) return 0 ;
        if (!stralloc_catb(sa, "\n", 1)) die_nomem() ;
        return 1 ;
      }
    }
    buffer_rpeek(&in, v) ;
    nl = memchr(v[0].iov_base, '\n', v[0].iov_len) ;
    n = nl ? (size_t)(nl - (char const *)v[0].iov_base) + 1 : v[0].iov_len ;
    complete = !!nl ;
    if (n > max - got) { n = max - got ; complete = 0 ; }
    if (!stralloc_catb(sa, v[0].iov_base, n)) die_nomem() ;
    buffer_rseek(&in, n) ;
    got += n ;
    if (complete) return 1 ;
  }
}

 /* The rest of the input, as it comes.  A last line without a newline gets
    one (qmail reads the body by lines and does that). */
static void body_copy (void)
{
  while (!ineof)
  {
    struct iovec v[2] ;
    if (!buffer_len(&in))
    {
      ssize_t r = buffer_fill(&in) ;
      if (r < 0) die_read() ;
      if (!r) { ineof = 1 ; break ; }
    }
    buffer_rpeek(&in, v) ;
    body_put(v[0].iov_base, v[0].iov_len) ;
    buffer_rseek(&in, v[0].iov_len) ;
  }
  if (bodylast != '\n') body_put("\n", 1) ;
}


 /* Address rewriting (qmail-inject's rwgeneric), on the tokens of one
    address, left to right.  0 only when out of memory. */
static int rewrite (genalloc *g)
{
  rfc822_token *t = genalloc_s(rfc822_token, g) ;
  size_t n = genalloc_len(rfc822_token, g) ;
  size_t i ;

  if (!n) return 1 ;  /* <> */
  if (n >= 2 && t[n-1].type == RFC822_LITERAL && !t[n-1].len && t[n-2].type == RFC822_AT)
    return 1 ;  /* box@[]: the VERP and bounce markers */

   /* a source route, @a,@b:box@host, goes, up to its ':' (all of it without one) */
  if (t[0].type == RFC822_AT)
  {
    for (i = 0 ; i < n && t[i].type != RFC822_COLON ; i++) ;
    if (i < n) i++ ;
    memmove(t, t + i, (n - i) * sizeof(rfc822_token)) ;
    n -= i ;
  }
  if (n && t[n-1].type == RFC822_DOT) n-- ;
  if (n && t[n-1].type == RFC822_AT) n-- ;
  genalloc_setlen(rfc822_token, g, n) ;
  if (!n) return 1 ;

  for (i = 0 ; i < n && t[i].type != RFC822_AT ; i++) ;
  if (i == n && !genalloc_cat(rfc822_token, g, &defaulthost)) return 0 ;
  t = genalloc_s(rfc822_token, g) ;
  n = genalloc_len(rfc822_token, g) ;

  if (t[n-1].type == RFC822_ATOM && t[n-1].len && t[n-1].s[t[n-1].len - 1] == '+')
  {
    t[n-1].len-- ;
    if (!genalloc_cat(rfc822_token, g, &plusdomain)) return 0 ;
    t = genalloc_s(rfc822_token, g) ;
    n = genalloc_len(rfc822_token, g) ;
  }

   /* a host with no dot and no [literal] gets .defaultdomain */
  for (i = n ; i-- ; )
  {
    if (t[i].type == RFC822_AT) break ;
    if (t[i].type == RFC822_DOT || t[i].type == RFC822_LITERAL) return 1 ;
  }
  return genalloc_cat(rfc822_token, g, &defaultdomain) ;
}

 /* Appends the address, as the envelope carries it, to a list. */
static int list_add (stralloc *list, genalloc const *g)
{
  return rfc822_unquote(list, genalloc_s(rfc822_token, g), genalloc_len(rfc822_token, g))
    && stralloc_0(list) ;
}

 /* The rewriting callbacks, one per kind of field. */

static int cb_sender (genalloc *g, void *data)
{
  (void)data ;
  return rewrite(g) ;
}

static int cb_return (genalloc *g, void *data)
{
  (void)data ;
  if (!rewrite(g)) return 0 ;
  if (sender_set) return 1 ;
  sender.len = 0 ;
  if (!rfc822_unquote(&sender, genalloc_s(rfc822_token, g), genalloc_len(rfc822_token, g))) return 0 ;
  if (flaghackrecip && !stralloc_cats(&sender, "-@[]")) return 0 ;
  sender_set = 1 ;
  return 1 ;
}

static int cb_tocc (genalloc *g, void *data)
{
  (void)data ;
  return rewrite(g) && list_add(&hrlist, g) && list_add(&tocclist, g) ;
}

static int cb_hr (genalloc *g, void *data)
{
  (void)data ;
  return rewrite(g) && list_add(&hrlist, g) ;
}

static int cb_hrr (genalloc *g, void *data)
{
  (void)data ;
  return rewrite(g) && list_add(&hrrlist, g) ;
}


 /* Building fields from tokens */

static void tok_add (genalloc *g, unsigned char type, char const *s)
{
  rfc822_token t = { .s = s, .len = 0, .type = type } ;
  if (s)
  {
    size_t n = strlen(s) ;
    if (n > UINT32_MAX) die_nomem() ;
    t.len = n ;
  }
  if (!genalloc_append(rfc822_token, g, &t)) die_nomem() ;
}

 /* Renders a made-up field, reads it back as a header field and rewrites
    its addresses with f: the way qmail makes From and Return-Path, so that
    a strange $QMAILHOST fails the same way.  The result goes to out. */
static void field_make (stralloc *out, genalloc const *made, rfc822_addr_func *f)
{
  static stralloc text = STRALLOC_ZERO ;
  static stralloc buf = STRALLOC_ZERO ;
  static genalloc toks = GENALLOC_ZERO ;
  static genalloc res = GENALLOC_ZERO ;
  int r ;
  text.len = 0 ;
  if (!rfc822_render(&text, genalloc_s(rfc822_token, made), genalloc_len(rfc822_token, made), LINELEN)) die_nomem() ;
  r = rfc822_tokenize(&toks, &buf, text.s, text.len) ;
  if (r > 0) r = rfc822_addrlist(&res, genalloc_s(rfc822_token, &toks), genalloc_len(rfc822_token, &toks), 2, f, 0) ;
  if (r < 0) die_nomem() ;
  if (!r) die_parse_line(text.s, text.len) ;
  out->len = 0 ;
  if (!rfc822_render(out, genalloc_s(rfc822_token, &res), genalloc_len(rfc822_token, &res), LINELEN)) die_nomem() ;
}

 /* "From: ..." for the user running us. */
static void default_from (stralloc *out)
{
  static genalloc made = GENALLOC_ZERO ;
  char const *name = getenv("QMAILNAME") ;
  if (!name) name = getenv("MAILNAME") ;
  if (!name) name = getenv("NAME") ;
  genalloc_setlen(rfc822_token, &made, 0) ;
  tok_add(&made, RFC822_ATOM, "From") ;
  tok_add(&made, RFC822_COLON, 0) ;
  if (name && !flagnamecomment)
  {
    tok_add(&made, RFC822_QUOTE, name) ;
    tok_add(&made, RFC822_LEFT, 0) ;
  }
  tok_add(&made, addr_box_needs_quote(mailuser, strlen(mailuser)) ? RFC822_QUOTE : RFC822_ATOM, mailuser) ;
  if (mailhost)
  {
    tok_add(&made, RFC822_AT, 0) ;
    tok_add(&made, RFC822_ATOM, mailhost) ;
  }
  if (name && !flagnamecomment) tok_add(&made, RFC822_RIGHT, 0) ;
  if (name && flagnamecomment) tok_add(&made, RFC822_COMMENT, name) ;
  field_make(out, &made, &cb_sender) ;
}

 /* The envelope sender when neither -f nor Return-Path gave one. */
static void default_return_path (void)
{
  static genalloc made = GENALLOC_ZERO ;
  static stralloc user = STRALLOC_ZERO ;
  static stralloc out = STRALLOC_ZERO ;
  if (!stralloc_copys(&user, mailruser)) die_nomem() ;
  if (flaghackmess)
  {
    char fmt[ULONG_FMT + PID_FMT + 3] ;
    size_t n = 0 ;
    fmt[n++] = '-' ;
    n += ulong_fmt(fmt + n, (unsigned long)starttime) ;
    fmt[n++] = '.' ;
    n += pid_fmt(fmt + n, mypid) ;
    if (!stralloc_catb(&user, fmt, n)) die_nomem() ;
  }
  if (flaghackrecip && !stralloc_catb(&user, "-", 1)) die_nomem() ;
  if (!stralloc_0(&user)) die_nomem() ;
  genalloc_setlen(rfc822_token, &made, 0) ;
  tok_add(&made, RFC822_ATOM, "Return-Path") ;
  tok_add(&made, RFC822_COLON, 0) ;
  tok_add(&made, RFC822_QUOTE, user.s) ;
  if (mailrhost)
  {
    tok_add(&made, RFC822_AT, 0) ;
    tok_add(&made, RFC822_ATOM, mailrhost) ;
  }
  field_make(&out, &made, &cb_return) ;
}


 /* The header */

static void dofield (stralloc *h)
{
  static stralloc buf = STRALLOC_ZERO ;
  static genalloc toks = GENALLOC_ZERO ;
  static genalloc res = GENALLOC_ZERO ;
  unsigned int type = rfc822_field_known(h->s, h->len) ;
  rfc822_addr_func *f = 0 ;
  int mayfail = 0 ;

  if (flagdeletefrom && type == RFC822_H_FROM) return ;
  if (flagdeletemessid && type == RFC822_H_MESSAGEID) return ;
  if (flagdeletesender && type == RFC822_H_RETURNPATH) return ;
  if (type) seen[type] = 1 ;
   /* Cannot happen: only valid field lines get here.  qmail checks too. */
  else if (!rfc822_field_valid(h->s, h->len)) die_invalid(h->s, h->len) ;

  switch (type)
  {
    case RFC822_H_TO : case RFC822_H_CC :
      f = &cb_tocc ; mayfail = 1 ; break ;
    case RFC822_H_BCC : case RFC822_H_APPARENTLYTO :
      f = &cb_hr ; mayfail = 1 ; break ;
    case RFC822_H_R_TO : case RFC822_H_R_CC : case RFC822_H_R_BCC :
      f = &cb_hrr ; mayfail = 1 ; break ;
    case RFC822_H_RETURNPATH :
      f = &cb_return ; break ;
    case RFC822_H_SENDER : case RFC822_H_FROM : case RFC822_H_REPLYTO :
    case RFC822_H_RETURNRECEIPTTO : case RFC822_H_ERRORSTO :
    case RFC822_H_R_SENDER : case RFC822_H_R_FROM : case RFC822_H_R_REPLYTO :
      f = &cb_sender ; break ;
    default : break ;
  }

  if (f)
  {
    size_t hl = hrlist.len, hrl = hrrlist.len, tl = tocclist.len ;
    int r = rfc822_tokenize(&toks, &buf, h->s, h->len) ;
    if (r > 0) r = rfc822_addrlist(&res, genalloc_s(rfc822_token, &toks), genalloc_len(rfc822_token, &toks), 2, f, 0) ;
    if (r < 0) die_nomem() ;
    if (!r)
    {
       /* A recipient field we do not need may stay as it came; one we
          need may not, or its recipients would be lost. */
      if (!mayfail || flagrh) die_parse_line(h->s, h->len) ;
      hrlist.len = hl ; hrrlist.len = hrl ; tocclist.len = tl ;
    }
    else
    {
      h->len = 0 ;
      if (!rfc822_render(h, genalloc_s(rfc822_token, &res), genalloc_len(rfc822_token, &res), LINELEN)) die_nomem() ;
    }
  }

  switch (type)
  {
    case RFC822_H_BCC : case RFC822_H_R_BCC :
    case RFC822_H_RETURNPATH : case RFC822_H_CONTENTLENGTH :
      return ;
    default : break ;
  }
  if (!stralloc_cat(&savedh, h)) die_nomem() ;
}

static void put_date (char const *prefix)
{
  char fmt[6 + DATE822_FMT + 1] ;
  size_t n = 6 ;
  memcpy(fmt, "Date: ", 6) ;
  n += date822_fmt(fmt + n, starttime) ;
  fmt[n++] = '\n' ;
  puts_(prefix) ;
  put(fmt, n) ;
}

 /* Message-ID: <YYYYMMDDHHMMSS.pid.qmail@idhost>, in UTC */
static void put_msgid (char const *prefix)
{
  struct tm tm ;
  char fmt[13 + 30 + PID_FMT + 8] ;
  size_t n = 13 ;
  time_t t = starttime ;
  if (!gmtime_r(&t, &tm)) { t = 0 ; gmtime_r(&t, &tm) ; }
  memcpy(fmt, "Message-ID: <", 13) ;
  n += ulong_fmt(fmt + n, (unsigned long)tm.tm_year + 1900) ;
  n += date822_fmt2(fmt + n, tm.tm_mon + 1) ;
  n += date822_fmt2(fmt + n, tm.tm_mday) ;
  n += date822_fmt2(fmt + n, tm.tm_hour) ;
  n += date822_fmt2(fmt + n, tm.tm_min) ;
  n += date822_fmt2(fmt + n, tm.tm_sec) ;
  fmt[n++] = '.' ;
  n += pid_fmt(fmt + n, mypid) ;
  memcpy(fmt + n, ".qmail@", 7) ; n += 7 ;
  puts_(prefix) ;
  put(fmt, n) ;
  put(idhost.s, idhost.len) ;
  put(">\n", 2) ;
}

static int mft_has (char const *addr, size_t len)
{
  size_t pos = 0 ;
  while (pos < mft.len)
  {
    size_t n = strlen(mft.s + pos) ;
    if (n == len && !strncasecmp(mft.s + pos, addr, len)) return 1 ;
    pos += n + 1 ;
  }
  return 0 ;
}

 /* Mail-Followup-To: when a To or Cc address is a list we are on, point
    replies to all of To and Cc (in qmail's order: the list read backwards). */
static void finish_mft (void)
{
  static stralloc q = STRALLOC_ZERO ;
  size_t pos = 0 ;
  size_t end ;
  int found = 0 ;
  if (!flagmft || seen[RFC822_H_MAILFOLLOWUPTO]) return ;
  while (pos < tocclist.len)
  {
    size_t n = strlen(tocclist.s + pos) ;
    if (mft_has(tocclist.s + pos, n)) { found = 1 ; break ; }
    pos += n + 1 ;
  }
  if (!found) return ;
  puts_("Mail-Followup-To: ") ;
  end = tocclist.len ;
  while (end)
  {
    size_t start = end - 1 ;
    while (start && tocclist.s[start - 1]) start-- ;
    q.len = 0 ;
    if (!addr_quote_cat(&q, tocclist.s + start, end - 1 - start)) die_nomem() ;
    put(q.s, q.len) ;
    end = start ;
    if (end) puts_(",\n  ") ;
  }
  puts_("\n") ;
}

static void finish_header (void)
{
  static stralloc from = STRALLOC_ZERO ;
  flagresent = seen[RFC822_H_R_SENDER] || seen[RFC822_H_R_FROM] || seen[RFC822_H_R_REPLYTO]
    || seen[RFC822_H_R_TO] || seen[RFC822_H_R_CC] || seen[RFC822_H_R_BCC]
    || seen[RFC822_H_R_DATE] || seen[RFC822_H_R_MESSAGEID] ;

   /* Everything that can fail goes before qmail-queue starts. */
  if (!sender_set) default_return_path() ;
  if (!seen[flagresent ? RFC822_H_R_FROM : RFC822_H_FROM]) default_from(&from) ;

  if (!flagqueue)
  {
    static stralloc q = STRALLOC_ZERO ;
    if (!addr_quote_cat(&q, sender.s, sender.len)) die_nomem() ;
    puts_("Return-Path: <") ;
    put(q.s, q.len) ;
    puts_(">\n") ;
  }
  else if (!qq_open(&qq)) strerr_dief1x(111, "unable to run qmail-queue") ;

  if (flagresent)
  {
    if (!seen[RFC822_H_R_DATE]) put_date("Resent-") ;
    if (!seen[RFC822_H_R_MESSAGEID]) put_msgid("Resent-") ;
    if (!seen[RFC822_H_R_FROM])
    {
      puts_("Resent-") ;
      put(from.s, from.len) ;
    }
    if (!seen[RFC822_H_R_TO] && !seen[RFC822_H_R_CC])
      puts_("Resent-Cc: recipient list not shown: ;\n") ;
  }
  else
  {
    if (!seen[RFC822_H_DATE]) put_date("") ;
    if (!seen[RFC822_H_MESSAGEID]) put_msgid("") ;
    if (!seen[RFC822_H_FROM]) put(from.s, from.len) ;
    if (!seen[RFC822_H_TO] && !seen[RFC822_H_CC])
      puts_("Cc: recipient list not shown: ;\n") ;
    finish_mft() ;
  }
  put(savedh.s, savedh.len) ;
}

static int starts_from_ (char const *s, size_t n)
{
  return n >= 5 && !memcmp(s, "From ", 5) ;
}

 /* A line too long for what is left of the header budget: can its start
    s[0..n) still be the start of a field?  Only a ':' after a valid name,
    or a name not yet ended, can; a space inside the name or a control byte
    cannot (that line would begin the body). */
static int may_be_field (char const *s, size_t n)
{
  size_t i = 0 ;
  if (n < 5 ? !memcmp(s, "From ", n) : starts_from_(s, n)) return 1 ;
  for (; i < n ; i++)
  {
    unsigned char c = s[i] ;
    if (c == ':') return rfc822_field_valid(s, n) ;
    if (c == ' ' || c == '\t')
    {
      while (i < n && (s[i] == ' ' || s[i] == '\t')) i++ ;
      if (i == n) return 1 ;
      return s[i] == ':' && rfc822_field_valid(s, n) ;
    }
    if (c < 32 || c >= 127) return 0 ;
  }
  return 1 ;
}

 /* Refuses a header over HEADER_MAX bytes. */
static void die_header_size (void) __attribute__((noreturn)) ;
static void die_header_size (void)
{
  char fmt[ULONG_FMT] ;
  fmt[ulong_fmt(fmt, HEADER_MAX)] = 0 ;
  strerr_dief3x(100, "message header is larger than ", fmt, " bytes") ;
}

 /* The end of the header: the fields we add, the fields we kept, the blank
    line, then the body, which starts with s[0..n) (the line that was not a
    field, if there was one). */
static void start_body (char const *s, size_t n)
{
  finish_header() ;
  body_put("\n", 1) ;
  body_put(s, n) ;
  body_copy() ;
}

 /* qmail's headerbody: fields (with their continuation lines) until a blank
    line, the end, or a line that is not a field, which starts the body after
    an added blank line.  A mbox "From " line becomes a MBOX-Line field.
    Header lines may add up to HEADER_MAX bytes; each read may take one byte
    more, so that the line that ends the header always fits. */
static void do_message (void)
{
  stralloc line = STRALLOC_ZERO ;
  stralloc field = STRALLOC_ZERO ;
  size_t used = 0 ;
  int havefield = 0 ;
  for (;;)
  {
    int r ;
    line.len = 0 ;
    r = getline_max(&line, HEADER_MAX - used + 1) ;
    if (r == -1) die_read() ;
    if (!r)
    {
      if (havefield) dofield(&field) ;
      finish_header() ;
      break ;
    }
    if (r == -2)
    {
       /* too long for the header: the body had better start here */
      if ((havefield && (line.s[0] == ' ' || line.s[0] == '\t')) || may_be_field(line.s, line.len))
        die_header_size() ;
      if (havefield) dofield(&field) ;
      start_body(line.s, line.len) ;
      break ;
    }
    if (havefield && (line.s[0] == ' ' || line.s[0] == '\t'))
    {
      if (line.len > HEADER_MAX - used) die_header_size() ;
      used += line.len ;
      if (!stralloc_cat(&field, &line)) die_nomem() ;
      continue ;
    }
    if (havefield) { dofield(&field) ; havefield = 0 ; }
    if (line.len == 1) { start_body(0, 0) ; break ; }
    if (starts_from_(line.s, line.len))
    {
      if (!stralloc_copys(&field, "MBOX-Line: ") || !stralloc_cat(&field, &line)) die_nomem() ;
    }
    else if (rfc822_field_valid(line.s, line.len))
    {
      if (!stralloc_copy(&field, &line)) die_nomem() ;
    }
    else { start_body(line.s, line.len) ; break ; }
    if (line.len > HEADER_MAX - used) die_header_size() ;
    used += line.len ;
    havefield = 1 ;
  }
  stralloc_free(&line) ;
  stralloc_free(&field) ;
}

static void put_envelope_list (stralloc const *list)
{
  size_t pos = 0 ;
  while (pos < list->len)
  {
    qq_to(&qq, list->s + pos) ;
    pos += strlen(list->s + pos) + 1 ;
  }
}

static void finish (void) __attribute__((noreturn)) ;
static void finish (void)
{
  char const *text ;
  if (!flagqueue)
  {
    if (!buffer_flush(buffer_1)) die_write() ;
    _exit(0) ;
  }
  if (!stralloc_0(&sender)) die_nomem() ;
  qq_from(&qq, sender.s) ;
  put_envelope_list(&reciplist) ;
  if (flagrh) put_envelope_list(flagresent ? &hrrlist : &hrlist) ;
  text = qq_close(&qq) ;
  if (*text) strerr_dief1x(*text == 'D' ? 100 : 111, text + 1) ;
  _exit(0) ;
}


 /* Setup */

 /* A host name control: the file, else control/me, else the literal def;
    $env overrides it.  With prefix ('@' or '.'), it is also tokenized. */
static void get_control (stralloc *val, char const *fn, char const *def, char const *env, char const *prefix, genalloc *toks, stralloc *buf)
{
  static stralloc text = STRALLOC_ZERO ;
  char const *x ;
  if (control_rldef(val, fn, 1, def) < 0) strerr_diefu2sys(111, "read ", fn) ;
  x = getenv(env) ;
  if (x && !stralloc_copys(val, x)) die_nomem() ;
  if (!prefix) return ;
  if (!stralloc_copys(&text, prefix) || !stralloc_catb(&text, val->s, val->len)) die_nomem() ;
  switch (rfc822_tokenize(toks, buf, text.s, text.len))
  {
    case -1 : die_nomem() ;
    case 0 : die_parse_line(text.s, text.len) ;
    default : break ;
  }
}

static void get_controls (void)
{
  stralloc sa = STRALLOC_ZERO ;
  char const *x = getenv("QMAILMFTFILE") ;
  if (x)
  {
    int r = control_readfile(&mft, x) ;
    if (r < 0) strerr_diefu2sys(111, "read ", x) ;
    flagmft = r > 0 ;
  }
  if (!qmail_chdir_home()) strerr_diefu2sys(111, "chdir to ", qmail_home()) ;
  get_control(&sa, "control/defaultdomain", "defaultdomain", "QMAILDEFAULTDOMAIN", ".", &defaultdomain, &defaultdomainbuf) ;
  get_control(&sa, "control/defaulthost", "defaulthost", "QMAILDEFAULTHOST", "@", &defaulthost, &defaulthostbuf) ;
  get_control(&sa, "control/plusdomain", "plusdomain", "QMAILPLUSDOMAIN", ".", &plusdomain, &plusdomainbuf) ;
  get_control(&idhost, "control/idhost", "idhost", "QMAILIDHOST", 0, 0, 0) ;
  stralloc_free(&sa) ;
}

 /* -f and recipient arguments: the box quoted when it needs it (so that
    "joe smith@host" is one address), then parsed and rewritten whole. */
static void arg_address (stralloc *out, char const *arg, int isrecip)
{
  static stralloc q = STRALLOC_ZERO ;
  static stralloc buf = STRALLOC_ZERO ;
  static genalloc toks = GENALLOC_ZERO ;
  q.len = 0 ;
  if (!addr_quote_cat(&q, arg, strlen(arg))) die_nomem() ;
  switch (rfc822_tokenize(&toks, &buf, q.s, q.len))
  {
    case -1 : die_nomem() ;
    case 0 :
      if (isrecip) strerr_dief2x(100, "unable to parse address: ", arg) ;
      die_parse_line(q.s, q.len) ;
    default : break ;
  }
  if (!rewrite(&toks)) die_nomem() ;
  if (!rfc822_unquote(out, genalloc_s(rfc822_token, &toks), genalloc_len(rfc822_token, &toks))) die_nomem() ;
}

 /* qmail's sgetopt wording, then our usage line. */
static void die_usage (char const *prog, subgetopt const *l, int argc, char const *const *argv) __attribute__((noreturn)) ;
static void die_usage (char const *prog, subgetopt const *l, int argc, char const *const *argv)
{
  char c[2] = { (char)l->problem, '\n' } ;
  buffer_puts(buffer_2, prog) ;
  buffer_puts(buffer_2, l->ind < argc && argv[l->ind] ? ": illegal option -- " : ": option requires an argument -- ") ;
  buffer_put(buffer_2, c, 2) ;
  buffer_flush(buffer_2) ;
  strerr_dieusage(100, USAGE) ;
}

enum recip_e { RECIP_DEFAULT, RECIP_ARGS, RECIP_HEADER, RECIP_AH } ;

int main (int argc, char const *const *argv)
{
  subgetopt l = SUBGETOPT_ZERO ;
  enum recip_e strategy = RECIP_DEFAULT ;
  char const *prog ;
  char const *x ;

  PROG = "qmail-inject" ;
  prog = argv[0] ? argv[0] : PROG ;
  if (strrchr(prog, '/')) prog = strrchr(prog, '/') + 1 ;
  signal(SIGPIPE, SIG_IGN) ;
  starttime = time(0) ;
  mypid = getpid() ;

  x = getenv("QMAILINJECT") ;
  if (x)
    for (; *x ; x++)
      switch (*x)
      {
        case 'c' : flagnamecomment = 1 ; break ;
        case 's' : flagdeletesender = 1 ; break ;
        case 'f' : flagdeletefrom = 1 ; break ;
        case 'i' : flagdeletemessid = 1 ; break ;
        case 'r' : flaghackrecip = 1 ; break ;
        case 'm' : flaghackmess = 1 ; break ;
        default : break ;
      }

  mailhost = getenv("QMAILHOST") ;
  if (!mailhost) mailhost = getenv("MAILHOST") ;
  mailrhost = getenv("QMAILSHOST") ;
  if (!mailrhost) mailrhost = mailhost ;
  mailuser = getenv("QMAILUSER") ;
  if (!mailuser) mailuser = getenv("MAILUSER") ;
  if (!mailuser) mailuser = getenv("USER") ;
  if (!mailuser) mailuser = getenv("LOGNAME") ;
  if (!mailuser) mailuser = "anonymous" ;
  mailruser = getenv("QMAILSUSER") ;
  if (!mailruser) mailruser = mailuser ;

  get_controls() ;

  for (;;)
  {
    int opt = subgetopt_r(argc, argv, "aAhHnNf:", &l) ;
    if (opt == -1) break ;
    switch (opt)
    {
      case 'a' : strategy = RECIP_ARGS ; break ;
      case 'A' : strategy = RECIP_DEFAULT ; break ;
      case 'h' : strategy = RECIP_HEADER ; break ;
      case 'H' : strategy = RECIP_AH ; break ;
      case 'n' : flagqueue = 0 ; break ;
      case 'N' : flagqueue = 1 ; break ;
      case 'f' :
        sender.len = 0 ;
        arg_address(&sender, l.arg, 0) ;
        sender_set = 1 ;
        break ;
      default : die_usage(prog, &l, argc, argv) ;
    }
  }
  argc -= l.ind ; argv += l.ind ;

  if (strategy == RECIP_DEFAULT) strategy = argc ? RECIP_ARGS : RECIP_HEADER ;
  if (strategy != RECIP_HEADER)
    for (; *argv ; argv++)
    {
      arg_address(&reciplist, *argv, 1) ;
      if (!stralloc_0(&reciplist)) die_nomem() ;
    }
  flagrh = strategy != RECIP_ARGS ;

  do_message() ;
  finish() ;
}
