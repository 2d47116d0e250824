/* ISC license. */
/*
   qmail-pw2u [-/ohHuUC] [-c char]: users/assign lines from a passwd file.

   Who runs it: the administrator, as "qmail-pw2u < /etc/passwd >
   users/assign" before qmail-newu.  Any uid that can read HOME/users/ and
   stat the homes.

   Reads passwd lines (user:password:uid:gid:gecos:home:shell) on stdin and
   the optional files HOME/users/include, exclude and mailnames (control
   lists: blank and '#' lines skipped, trailing blanks dropped), subusers
   and append.  Writes qmail-users(5) lines on stdout, ending with ".".

   The rules are qmail's (qmail-getpw's, written down once and for all):
   an account is skipped when its uid is 0, its name has an uppercase
   letter (-U, the default; -u allows them), it is not in include (when that
   exists) or is in exclude, or (-o, the default) its home does not exist or
   is not owned by its uid; -h stops instead when a home does not exist;
   -H checks no home.  A kept account gives
     =name:user:uid:gid:home:::          for each of its mail names
     +name-:user:uid:gid:home:-::        (mail names: the account name, or
                                          the list in users/mailnames)
   with -c char for '-' in "name-" and without these lines under -C, and
   -/ for the dash "-/" (home/.qmail-/ext files).  The account "alias" also
   gets the catch-all "+:alias:uid:gid:home:-::".  users/subusers lines
   "sub:user:pre:" give "=sub:user:uid:gid:home:-:pre:" and
   "+sub-:user:uid:gid:home:-:pre-:".  users/append is copied at the end.

   Exits 0; 100 for a bad option; 111 after "qmail-pw2u: fatal: ..." with
   qmail's texts ("unable to read controls", "unable to find alias user",
   "unable to stat {home}", "unable to find {user} user for subuser", ...).
*/

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <skalibs/buffer.h>
#include <skalibs/djbunix.h>
#include <skalibs/sgetopt.h>
#include <skalibs/stralloc.h>
#include <skalibs/strerr.h>

#include <qmail-s6/conf.h>
#include <qmail-s6/control.h>
#include <qmail-s6/home.h>
#include <qmail-s6/linemax.h>
#include <qmail-s6/usersdb.h>

#define USAGE "qmail-pw2u [ -/ohHuUC ] [ -c char ] < passwd > users/assign"

 /* No input line may be longer than this (a users/assign line is bounded
    by USERSDB_RECORD_MAX; a passwd line gives a little more). */
#define LINE_MAX_PW2U (USERSDB_RECORD_MAX + 1)

static char const *dash = "-" ;
static char breakchar = QMAIL_CONF_BREAK ;
static int flagnoupper = 1 ;
 /* 2: skip if home is missing or not owned (-o); 1: stop if home is
    missing, skip if not owned (-h); 0: do not look at home (-H). */
static int homestrategy = 2 ;
static int flagalias = 0 ;

static void die_nomem (void) __attribute__((noreturn)) ;
static void die_nomem (void) { strerr_dief1x(111, "out of memory") ; }
static void die_write (void) __attribute__((noreturn)) ;
static void die_write (void) { strerr_diefu1sys(111, "write output") ; }
static void die_control (char const *fn) __attribute__((noreturn)) ;
static void die_control (char const *fn) { strerr_diefu3sys(111, "read controls", ": ", fn) ; }

static void out (char const *s, size_t n)
{
  if (buffer_put(buffer_1, s, n) < (ssize_t)n) die_write() ;
}
static void outs (char const *s) { out(s, strlen(s)) ; }
static void outc (char c) { out(&c, 1) ; }

 /* qmail's constmap semantics: keys compared without ASCII case; of two
    lines with the same key, the LAST one wins; with splitcolon, a line
    "key:value" (one without ':' is ignored). */
typedef struct nm_entry_s nm_entry ;
struct nm_entry_s
{
  char const *key ;
  size_t keylen ;
  char const *value ;
  size_t idx ;
} ;
typedef struct namemap_s namemap ;
struct namemap_s
{
  nm_entry *e ;
  size_t n ;
} ;

static int keycmp (char const *a, size_t alen, char const *b, size_t blen)
{
  size_t n = alen < blen ? alen : blen ;
  for (size_t i = 0 ; i < n ; i++)
  {
    unsigned char x = a[i], y = b[i] ;
    if (x >= 'A' && x <= 'Z') x += 'a' - 'A' ;
    if (y >= 'A' && y <= 'Z') y += 'a' - 'A' ;
    if (x != y) return x < y ? -1 : 1 ;
  }
  return alen < blen ? -1 : alen > blen ;
}

static int nm_cmp (void const *pa, void const *pb)
{
  nm_entry const *a = pa, *b = pb ;
  int r = keycmp(a->key, a->keylen, b->key, b->keylen) ;
  return r ? r : a->idx < b->idx ? -1 : a->idx > b->idx ;
}

 /* list[0..len): NUL-terminated lines; it must outlive the map. */
static void namemap_init (namemap *m, char const *list, size_t len, int splitcolon)
{
  size_t count = 0, pos = 0 ;
  for (size_t i = 0 ; i < len ; i++) if (!list[i]) count++ ;
  m->n = 0 ;
  m->e = calloc(count ? count : 1, sizeof(nm_entry)) ;
  if (!m->e) die_nomem() ;
  while (pos < len)
  {
    char const *line = list + pos ;
    size_t linelen = strnlen(line, len - pos) ;
    nm_entry *e = m->e + m->n ;
    pos += linelen + 1 ;
    e->key = line ;
    e->keylen = linelen ;
    e->value = line + linelen ;
    if (splitcolon)
    {
      char const *colon = memchr(line, ':', linelen) ;
      if (!colon) continue ;
      e->keylen = colon - line ;
      e->value = colon + 1 ;
    }
    e->idx = m->n++ ;
  }
  qsort(m->e, m->n, sizeof(nm_entry), &nm_cmp) ;
}

static char const *namemap_get (namemap const *m, char const *s, size_t n)
{
  size_t lo = 0, hi = m->n ;
   /* the first entry whose key is greater than s; the one before it is the
      last line with key s, if any */
  while (lo < hi)
  {
    size_t mid = lo + (hi - lo) / 2 ;
    if (keycmp(m->e[mid].key, m->e[mid].keylen, s, n) <= 0) lo = mid + 1 ; else hi = mid ;
  }
  if (!lo || keycmp(m->e[lo-1].key, m->e[lo-1].keylen, s, n)) return 0 ;
  return m->e[lo-1].value ;
}

static stralloc incl = STRALLOC_ZERO, excl = STRALLOC_ZERO, mana = STRALLOC_ZERO ;
static namemap mapincl, mapexcl, mapmana, mapuser ;
static int okincl, okexcl, okmana ;
static stralloc allusers = STRALLOC_ZERO ;  /* "user::user:uid:gid:home:\0"... */

 /* One line of b into sa, without its newline.  1 a line, 0 end of file
    (sa holds a last line without newline, maybe empty); dies on errors. */
static int getline_max (buffer *b, stralloc *sa)
{
  int r = line_get_max(b, sa, LINE_MAX_PW2U + 1) ;
  if (r < 0)
  {
    if (errno == E2BIG) strerr_dief1x(111, "unable to read input: line too long") ;
    if (errno == ENOMEM) die_nomem() ;
    strerr_diefu1sys(111, "read input") ;
  }
  if (r && sa->len && sa->s[sa->len - 1] == '\n') sa->len-- ;
  return r ;
}

 /* The i-th ':'-separated field of s[0..len) that is followed by a ':'.
    0 when there are not that many colons. */
static int field (char const *s, size_t len, unsigned int i, char const **f, size_t *flen)
{
  size_t pos = 0 ;
  for (;;)
  {
    char const *colon = memchr(s + pos, ':', len - pos) ;
    if (!colon) return 0 ;
    if (!i--)
    {
      *f = s + pos ;
      *flen = colon - (s + pos) ;
      return 1 ;
    }
    pos = colon - s + 1 ;
  }
}

static void doaccount (char const *s, size_t len)
{
  stralloc user = STRALLOC_ZERO, home = STRALLOC_ZERO, uugh = STRALLOC_ZERO ;
  char const *f[6] ;
  size_t flen[6] ;
  unsigned int uid, gid ;
  char const *mailnames = 0 ;

  if (!len || memchr(s, 0, len)) return ;
  for (unsigned int i = 0 ; i < 6 ; i++) if (!field(s, len, i, f + i, flen + i)) return ;
   /* qmail reads the uid with scan_ulong; a passwd uid or gid that is not
      a plain number has no sensible meaning, so the line is skipped */
  if (!usersdb_scan_id(f[2], flen[2], &uid) || !usersdb_scan_id(f[3], flen[3], &gid)) return ;
  if (!uid) return ;
  if (flagnoupper)
    for (size_t i = 0 ; i < flen[0] ; i++)
      if (f[0][i] >= 'A' && f[0][i] <= 'Z') return ;
  if (okincl && !namemap_get(&mapincl, f[0], flen[0])) return ;
  if (okexcl && namemap_get(&mapexcl, f[0], flen[0])) return ;
  if (!stralloc_copyb(&user, f[0], flen[0]) || !stralloc_0(&user)
   || !stralloc_copyb(&home, f[5], flen[5]) || !stralloc_0(&home)) die_nomem() ;
  if (homestrategy)
  {
    struct stat st ;
    if (stat(home.s, &st) < 0)
    {
      if (errno != ENOENT || homestrategy == 1) strerr_diefu2sys(111, "stat ", home.s) ;
      goto end ;
    }
    if (st.st_uid != uid) goto end ;
  }

   /* ":user:uid:gid:home:" with uid and gid as written in passwd */
  if (!stralloc_copyb(&uugh, ":", 1)
   || !stralloc_catb(&uugh, f[0], flen[0]) || !stralloc_catb(&uugh, ":", 1)
   || !stralloc_catb(&uugh, f[2], flen[2]) || !stralloc_catb(&uugh, ":", 1)
   || !stralloc_catb(&uugh, f[3], flen[3]) || !stralloc_catb(&uugh, ":", 1)
   || !stralloc_catb(&uugh, f[5], flen[5]) || !stralloc_catb(&uugh, ":", 1)) die_nomem() ;
  if (!stralloc_catb(&allusers, f[0], flen[0]) || !stralloc_catb(&allusers, ":", 1)
   || !stralloc_catb(&allusers, uugh.s, uugh.len) || !stralloc_0(&allusers)) die_nomem() ;

  if (!strcmp(user.s, "alias"))
  {
    outc('+') ; out(uugh.s, uugh.len) ; outs(dash) ; outs("::\n") ;
    flagalias = 1 ;
  }

  if (okmana) mailnames = namemap_get(&mapmana, f[0], flen[0]) ;
  if (!mailnames) mailnames = user.s ;
  for (;;)
  {
    size_t i ;
    while (*mailnames == ':') mailnames++ ;
    if (!*mailnames) break ;
    i = strcspn(mailnames, ":") ;
    outc('=') ; out(mailnames, i) ; out(uugh.s, uugh.len) ; outs("::\n") ;
    if (breakchar)
    {
      outc('+') ; out(mailnames, i) ; outc(breakchar) ; out(uugh.s, uugh.len) ; outs(dash) ; outs("::\n") ;
    }
    mailnames += i ;
  }
 end:
  stralloc_free(&user) ;
  stralloc_free(&home) ;
  stralloc_free(&uugh) ;
}

static void dosubuser (char const *s, size_t len)
{
  char const *sub, *user, *pre, *uugh ;
  size_t sublen, userlen, prelen ;
  if (!len || memchr(s, 0, len)) return ;
  if (!field(s, len, 0, &sub, &sublen)) return ;
  if (!field(s, len, 1, &user, &userlen)) return ;
  uugh = namemap_get(&mapuser, user, userlen) ;
  if (!uugh)
  {
    stralloc u = STRALLOC_ZERO ;
    if (!stralloc_copyb(&u, user, userlen) || !stralloc_0(&u)) die_nomem() ;
    strerr_dief3x(111, "unable to find ", u.s, " user for subuser") ;
  }
  if (!field(s, len, 2, &pre, &prelen)) return ;
  outc('=') ; out(sub, sublen) ; outs(uugh) ; outs(dash) ; outc(':') ; out(pre, prelen) ; outs(":\n") ;
  if (breakchar)
  {
     /* qmail writes a literal '-' after pre, whatever the break character */
    outc('+') ; out(sub, sublen) ; outc(breakchar) ; outs(uugh) ; outs(dash) ; outc(':') ; out(pre, prelen) ; outs("-:\n") ;
  }
}

static int open_users_file (char const *fn)
{
  int fd = open(fn, O_RDONLY | O_CLOEXEC) ;
  if (fd < 0 && errno != ENOENT) die_control(fn) ;
  return fd ;
}

static int readlist (stralloc *sa, char const *fn, namemap *m, int splitcolon)
{
  int r = control_readfile(sa, fn) ;
  if (r < 0) die_control(fn) ;
  if (r) namemap_init(m, sa->s, sa->len, splitcolon) ;
  return r ;
}

int main (int argc, char const *const *argv)
{
  stralloc line = STRALLOC_ZERO ;
  char buf[BUFFER_INSIZE] ;
  buffer b ;
  int fd ;

  PROG = "qmail-pw2u" ;
  {
    subgetopt l = SUBGETOPT_ZERO ;
    for (;;)
    {
      int opt = subgetopt_r(argc, argv, "/ohHuUc:C", &l) ;
      if (opt == -1) break ;
      switch (opt)
      {
        case '/' : dash = "-/" ; break ;
        case 'o' : homestrategy = 2 ; break ;
        case 'h' : homestrategy = 1 ; break ;
        case 'H' : homestrategy = 0 ; break ;
        case 'u' : flagnoupper = 0 ; break ;
        case 'U' : flagnoupper = 1 ; break ;
        case 'c' : breakchar = *l.arg ; break ;
        case 'C' : breakchar = 0 ; break ;
        default : strerr_dieusage(100, USAGE) ;
      }
    }
  }

  if (!qmail_chdir_home()) strerr_diefu1sys(111, "chdir") ;
  okincl = readlist(&incl, "users/include", &mapincl, 0) ;
  okexcl = readlist(&excl, "users/exclude", &mapexcl, 0) ;
  okmana = readlist(&mana, "users/mailnames", &mapmana, 1) ;

  for (;;)
  {
    int r = getline_max(buffer_0, &line) ;
    doaccount(line.s, line.len) ;
    if (!r) break ;
  }
  if (!flagalias) strerr_dief1x(111, "unable to find alias user") ;

  fd = open_users_file("users/subusers") ;
  if (fd >= 0)
  {
    namemap_init(&mapuser, allusers.s, allusers.len, 1) ;
    buffer_init(&b, &buffer_read, fd, buf, sizeof(buf)) ;
    for (;;)
    {
      int r = getline_max(&b, &line) ;
      dosubuser(line.s, line.len) ;
      if (!r) break ;
    }
    fd_close(fd) ;
  }

  fd = open_users_file("users/append") ;
  if (fd >= 0)
  {
    char last = '\n' ;
    for (;;)
    {
      ssize_t r = fd_read(fd, buf, sizeof(buf)) ;
      if (r < 0) strerr_diefu1sys(111, "read input") ;
      if (!r) break ;
      out(buf, r) ;
      last = buf[r-1] ;
    }
     /* qmail would glue the "." to a last line without newline */
    if (last != '\n') outc('\n') ;
    fd_close(fd) ;
  }

  outs(".\n") ;
  if (!buffer_flush(buffer_1)) die_write() ;
  return 0 ;
}
