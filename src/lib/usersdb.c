/* ISC license. */
/* users/assign and users/cdb (qmail-users(5)): the one parser, writer and
   reader.  The bytes of users/cdb are qmail-newu's, so a users/cdb made by
   qmail 1.03 works here and ours works with qmail, with one fix: qmail puts
   the last character of a wildcard prefix into the "" record as written,
   but compares it with the lowercased address, so "+Joe-List:..." worked
   and "+joE:..." never matched.  We write that character lowercased, and
   the lookup accepts either case, so such a prefix matches like the others
   (users/assign is case-insensitive, qmail-users(5) says). */

#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <skalibs/bytestr.h>
#include <skalibs/cdb.h>
#include <skalibs/cdbmake.h>
#include <skalibs/genalloc.h>
#include <skalibs/stralloc.h>
#include <skalibs/types.h>

#include <qmail-s6/usersdb.h>

static char lower (char c)
{
  return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c ;
}

static char upper (char c)
{
  return c >= 'a' && c <= 'z' ? c - ('a' - 'A') : c ;
}

int usersdb_scan_id (char const *s, size_t n, unsigned int *id)
{
  uint32_t x = 0 ;
  if (!n) return 0 ;
  for (size_t i = 0 ; i < n ; i++)
  {
    unsigned int d = (unsigned char)s[i] - '0' ;
    if (d > 9) return 0 ;
    if (x > (UINT32_MAX - 1 - d) / 10) return 0 ;  /* x*10+d <= 2^32-2 */
    x = x * 10 + d ;
  }
  *id = x ;
  return 1 ;
}

int usersdb_assign_parse (usersdb_assign *a, char const *s, size_t len, char const **why)
{
  char const *field[6] ;
  size_t fieldlen[6] ;
  size_t i, start, n ;
  unsigned int u, g ;

  if (len > USERSDB_RECORD_MAX) { *why = "line too long" ; goto bad ; }
  if (!len || (s[0] != '=' && s[0] != '+')) { *why = "line does not start with = or +" ; goto bad ; }
  if (memchr(s, 0, len)) { *why = "NUL in line" ; goto bad ; }
  i = byte_chr(s, len, ':') ;
  if (i == len) { *why = "no colon" ; goto bad ; }
  a->wild = s[0] == '+' ;
  a->local = s + 1 ;
  a->locallen = i - 1 ;
  start = ++i ;
  a->data = s + start ;
  for (n = 0 ; n < 6 ; n++)
  {
    size_t j = byte_chr(s + i, len - i, ':') ;
    if (j == len - i) { *why = "fewer than seven colons" ; goto bad ; }
    field[n] = s + i ;
    fieldlen[n] = j ;
    i += j + 1 ;
  }
  a->datalen = i - 1 - start ;
  if (!usersdb_scan_id(field[1], fieldlen[1], &u)) { *why = "uid is not a number" ; goto bad ; }
  if (!usersdb_scan_id(field[2], fieldlen[2], &g)) { *why = "gid is not a number" ; goto bad ; }
  a->uid = u ;
  a->gid = g ;
  return 1 ;
 bad:
  errno = EINVAL ;
  return 0 ;
}

int usersdb_make_start (usersdb_maker *m, int fd)
{
  m->key.len = m->data.len = m->wild.len = 0 ;
  return cdbmake_start(&m->cm, fd) ;
}

int usersdb_make_add (usersdb_maker *m, usersdb_assign const *a)
{
  size_t i ;
  if (a->locallen > USERSDB_RECORD_MAX || a->datalen > USERSDB_RECORD_MAX) return (errno = EINVAL, 0) ;
  if (!stralloc_copyb(&m->key, "!", 1)
   || !stralloc_catb(&m->key, a->local, a->locallen)) return 0 ;
  if (!a->wild && !stralloc_0(&m->key)) return 0 ;
  for (i = 1 ; i < m->key.len ; i++) m->key.s[i] = lower(m->key.s[i]) ;
  if (a->wild && a->locallen)
  {
    char c = lower(a->local[a->locallen - 1]) ;
    if ((!m->wild.len || !memchr(m->wild.s, c, m->wild.len)) && !stralloc_catb(&m->wild, &c, 1)) return 0 ;
  }
  if (!stralloc_copyb(&m->data, a->data, a->datalen)) return 0 ;
  for (i = 0 ; i < m->data.len ; i++) if (m->data.s[i] == ':') m->data.s[i] = 0 ;
  return cdbmake_add(&m->cm, m->key.s, m->key.len, m->data.s, m->data.len) ;
}

int usersdb_make_finish (usersdb_maker *m)
{
  int r = cdbmake_add(&m->cm, "", 0, m->wild.s ? m->wild.s : "", m->wild.len)
       && cdbmake_finish(&m->cm) ;
  usersdb_make_free(m) ;
  return r ;
}

void usersdb_make_free (usersdb_maker *m)
{
  int e = errno ;
  stralloc_free(&m->key) ;
  stralloc_free(&m->data) ;
  stralloc_free(&m->wild) ;
  genalloc_free(diuint32, &m->cm.hplist) ;
  errno = e ;
}

int usersdb_record_parse (usersdb_entry *e, char const *s, size_t len)
{
  char const *f[6] ;
  size_t flen[6] ;
  size_t i = 0 ;
  unsigned int u, g ;
  if (len > USERSDB_RECORD_MAX) goto bad ;
  for (unsigned int n = 0 ; n < 6 ; n++)
  {
    size_t j = byte_chr(s + i, len - i, 0) ;
    if (j == len - i) goto bad ;
    f[n] = s + i ;
    flen[n] = j ;
    i += j + 1 ;
  }
  if (i != len) goto bad ;
  if (!usersdb_scan_id(f[1], flen[1], &u) || !usersdb_scan_id(f[2], flen[2], &g)) goto bad ;
  e->user = f[0] ;
  e->uid = u ;
  e->gid = g ;
  e->home = f[3] ;
  e->dash = f[4] ;
  e->ext = f[5] ;
  return 1 ;
 bad:
  errno = EINVAL ;
  return 0 ;
}

int usersdb_record_cat (stralloc *sa, usersdb_entry const *e)
{
  char fmt[UINT32_FMT] ;
  size_t n ;
  if (!stralloc_catb(sa, e->user, strlen(e->user) + 1)) return 0 ;
  n = uint32_fmt(fmt, (uint32_t)e->uid) ; fmt[n++] = 0 ;
  if (!stralloc_catb(sa, fmt, n)) return 0 ;
  n = uint32_fmt(fmt, (uint32_t)e->gid) ; fmt[n++] = 0 ;
  if (!stralloc_catb(sa, fmt, n)) return 0 ;
  return stralloc_catb(sa, e->home, strlen(e->home) + 1)
      && stralloc_catb(sa, e->dash, strlen(e->dash) + 1)
      && stralloc_catb(sa, e->ext, strlen(e->ext) + 1) ;
}

 /* Is the last character of a probed prefix one of the wildcard ones?
    c is lowercase (the key is); qmail 1.03's newu may have stored it in
    uppercase. */
static int is_wildchar (cdb_data const *w, char c)
{
  if (!w->len) return 0 ;
  return memchr(w->s, c, w->len) || (upper(c) != c && memchr(w->s, upper(c), w->len)) ;
}

int usersdb_lookup (cdb const *c, char const *local, size_t len, usersdb_entry *e, stralloc *storage)
{
  cdb_data wild, d ;
  size_t i ;
  int wildcard = 0 ;
  int r ;

  if (len > USERSDB_RECORD_MAX || memchr(local, 0, len)) return (errno = EINVAL, -1) ;
  r = cdb_find(c, &wild, "", 0) ;
  if (r < 0) return (errno = EINVAL, -1) ;
  if (!r) return (errno = EINVAL, -1) ;  /* not a users/cdb: qmail-lspawn gives up too */

   /* the key: "!" lowercase(local) "\0"; len + 2 <= USERSDB_RECORD_MAX + 2 */
  storage->len = 0 ;
  if (!stralloc_readyplus(storage, len + 2)) return -1 ;
  storage->s[0] = '!' ;
  for (i = 0 ; i < len ; i++) storage->s[i + 1] = lower(local[i]) ;
  storage->s[len + 1] = 0 ;
  storage->len = len + 2 ;

  for (i = len + 2 ; i ; i--, wildcard = 1)
  {
     /* i is the key length: "!" + i - 1 characters of local (+ NUL once) */
    if (wildcard && i > 1 && !is_wildchar(&wild, storage->s[i - 1])) continue ;
    r = cdb_find(c, &d, storage->s, i) ;
    if (r < 0) return (errno = EINVAL, -1) ;
    if (!r) continue ;
    {
      size_t rest = wildcard ? len - (i - 1) : 0 ;
      if (d.len > USERSDB_RECORD_MAX) return (errno = EINVAL, -1) ;
       /* d.len + rest + 1 <= 2 * USERSDB_RECORD_MAX + 1: no overflow */
      storage->len = 0 ;
      if (!stralloc_catb(storage, d.s, d.len)
       || (rest && !stralloc_catb(storage, local + (i - 1), rest))
       || !stralloc_0(storage)) return -1 ;
      if (!usersdb_record_parse(e, storage->s, storage->len)) return -1 ;
      return 1 ;
    }
  }
  return 0 ;
}
