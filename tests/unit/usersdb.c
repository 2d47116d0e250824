/* ISC license. */
/* Unit tests of usersdb (users/assign lines, users/cdb, the six-field
   record).  Expected bytes and answers come from qmail-users(5) and
   qmail.md section 4 (qmail-newu's keys and data, qmail-lspawn's lookup),
   not from our own output.  Some cdbs are made with skalibs' cdbmake
   directly, to hold what qmail 1.03 writes or broken records. */

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <skalibs/cdb.h>
#include <skalibs/cdbmake.h>
#include <skalibs/stralloc.h>

#include <qmail-s6/usersdb.h>
#include "tap.h"

static char dir[] = "/tmp/qs6usersdb.XXXXXX" ;
static char fn[64] ;
static int nfiles = 0 ;

 /* A users/cdb from users/assign lines (no final "."), through the maker. */
static void make_from_lines (cdb *c, char const *const *lines)
{
  usersdb_maker m = USERSDB_MAKER_ZERO ;
  int fd ;
  snprintf(fn, sizeof(fn), "%s/%d.cdb", dir, nfiles++) ;
  fd = open(fn, O_RDWR | O_CREAT | O_TRUNC, 0644) ;
  if (fd < 0 || !usersdb_make_start(&m, fd)) { perror(fn) ; exit(111) ; }
  for (; *lines ; lines++)
  {
    usersdb_assign a ;
    char const *why ;
    if (!usersdb_assign_parse(&a, *lines, strlen(*lines), &why)) { fprintf(stderr, "%s: %s\n", *lines, why) ; exit(111) ; }
    if (!usersdb_make_add(&m, &a)) { perror("add") ; exit(111) ; }
  }
  if (!usersdb_make_finish(&m)) { perror("finish") ; exit(111) ; }
  close(fd) ;
  if (!cdb_init(c, fn)) { perror(fn) ; exit(111) ; }
}

 /* A cdb with raw records: keys and data given with their lengths. */
typedef struct { char const *k ; size_t kl ; char const *d ; size_t dl ; } rawrec ;
#define R(k, d) { k, sizeof(k) - 1, d, sizeof(d) - 1 }
static void make_raw (cdb *c, rawrec const *r, size_t n)
{
  cdbmaker m = CDBMAKER_ZERO ;
  int fd ;
  snprintf(fn, sizeof(fn), "%s/%d.cdb", dir, nfiles++) ;
  fd = open(fn, O_RDWR | O_CREAT | O_TRUNC, 0644) ;
  if (fd < 0 || !cdbmake_start(&m, fd)) { perror(fn) ; exit(111) ; }
  for (size_t i = 0 ; i < n ; i++)
    if (!cdbmake_add(&m, r[i].k, r[i].kl, r[i].d, r[i].dl)) { perror("add") ; exit(111) ; }
  if (!cdbmake_finish(&m)) { perror("finish") ; exit(111) ; }
  close(fd) ;
  if (!cdb_init(c, fn)) { perror(fn) ; exit(111) ; }
}

static int entry_is (usersdb_entry const *e, char const *user, unsigned int uid, unsigned int gid,
                     char const *home, char const *dash, char const *ext)
{
  int ok = !strcmp(e->user, user) && e->uid == uid && e->gid == gid
        && !strcmp(e->home, home) && !strcmp(e->dash, dash) && !strcmp(e->ext, ext) ;
  if (!ok)
    printf("#   got: user '%s' uid %u gid %u home '%s' dash '%s' ext '%s'\n",
      e->user, (unsigned int)e->uid, (unsigned int)e->gid, e->home, e->dash, e->ext) ;
  return ok ;
}

static int look (cdb const *c, char const *local, usersdb_entry *e, stralloc *sa)
{
  return usersdb_lookup(c, local, strlen(local), e, sa) ;
}

static void test_scan_id (void)
{
  unsigned int u = 12345 ;
  TAP_OK(usersdb_scan_id("0", 1, &u) && u == 0, "scan_id: 0") ;
  TAP_OK(usersdb_scan_id("007", 3, &u) && u == 7, "scan_id: leading zeros are digits") ;
  TAP_OK(usersdb_scan_id("4294967294", 10, &u) && u == 4294967294u, "scan_id: 2^32-2 is the largest") ;
  TAP_OK(!usersdb_scan_id("4294967295", 10, &u), "scan_id: 2^32-1 ((uid_t)-1) refused") ;
  TAP_OK(!usersdb_scan_id("99999999999999999999", 20, &u), "scan_id: overflow refused") ;
  TAP_OK(!usersdb_scan_id("", 0, &u), "scan_id: empty refused") ;
  TAP_OK(!usersdb_scan_id("+1", 2, &u) && !usersdb_scan_id("-1", 2, &u) && !usersdb_scan_id(" 1", 2, &u), "scan_id: sign or blank refused") ;
  TAP_OK(!usersdb_scan_id("12x", 3, &u), "scan_id: trailing garbage refused") ;
}

static void test_parse (void)
{
  usersdb_assign a ;
  char const *why = 0 ;
  char const *l1 = "=joe.shmoe:joe:503:78:/home/joe:::" ;
  char const *l2 = "+joe-:joe:503:78:/home/joe:-:pre:junk after:" ;
  TAP_OK(usersdb_assign_parse(&a, l1, strlen(l1), &why) && !a.wild, "parse: = line") ;
  TAP_MEMEQ(a.local, a.locallen, "joe.shmoe", "parse: = local") ;
  TAP_MEMEQ(a.data, a.datalen, "joe:503:78:/home/joe::", "parse: data up to the seventh colon") ;
  TAP_OK(a.uid == 503 && a.gid == 78, "parse: uid and gid") ;
  TAP_OK(usersdb_assign_parse(&a, l2, strlen(l2), &why) && a.wild, "parse: + line") ;
  TAP_MEMEQ(a.local, a.locallen, "joe-", "parse: + prefix") ;
  TAP_MEMEQ(a.data, a.datalen, "joe:503:78:/home/joe:-:pre", "parse: what follows the seventh colon is ignored") ;
  TAP_OK(usersdb_assign_parse(&a, "+:a:1:2:/a:-::", 14, &why) && a.wild && !a.locallen, "parse: empty prefix") ;
#define BAD(s, w, d) do { errno = 0 ; why = 0 ; \
    TAP_OK(!usersdb_assign_parse(&a, s, sizeof(s) - 1, &why) && errno == EINVAL && why && !strcmp(why, w), "parse: %s -> %s", d, w) ; } while (0)
  BAD("", "line does not start with = or +", "empty line") ;
  BAD("-joe:joe:1:2:/h:::", "line does not start with = or +", "other first character") ;
  BAD("=joe", "no colon", "no colon") ;
  BAD("=joe:joe:1:2:/h::", "fewer than seven colons", "six colons") ;
  BAD("=j\0oe:joe:1:2:/h:::", "NUL in line", "NUL") ;
  BAD("=joe:joe:a:2:/h:::", "uid is not a number", "uid") ;
  BAD("=joe:joe:1::/h:::", "gid is not a number", "empty gid") ;
#undef BAD
  {
    char *big = malloc(USERSDB_RECORD_MAX + 2) ;
    if (!big) exit(111) ;
    memset(big, 'x', USERSDB_RECORD_MAX + 1) ;
    big[0] = '=' ;
    TAP_OK(!usersdb_assign_parse(&a, big, USERSDB_RECORD_MAX + 1, &why) && !strcmp(why, "line too long"), "parse: a line over USERSDB_RECORD_MAX") ;
    free(big) ;
  }
}

static void test_maker_bytes (void)
{
  static char const *const lines[] =
  {
    "+:alias:7790:2108:/var/qmail/alias:-::",
    "+Joe-:joe:507:100:/home/joe:-::",
    "=JOE:joe:507:100:/home/joe:::",
    "+list-x:l:1:1:/l:-:p-:",
    "+ab:a:1:1:/a:-::",
    0
  } ;
  cdb c = CDB_ZERO ;
  cdb_data d ;
  make_from_lines(&c, lines) ;
  TAP_OK(cdb_find(&c, &d, "!", 1) == 1, "maker: key \"!\" for the empty prefix") ;
  TAP_MEMEQ(d.s, d.len, "alias\0" "7790\0" "2108\0" "/var/qmail/alias\0" "-\0", "maker: its data: five NULs, the sixth field unterminated") ;
  TAP_OK(cdb_find(&c, &d, "!joe-", 5) == 1, "maker: + key lowercased, no NUL") ;
  TAP_MEMEQ(d.s, d.len, "joe\0" "507\0" "100\0" "/home/joe\0" "-\0", "maker: + data") ;
  TAP_OK(cdb_find(&c, &d, "!joe\0", 5) == 1, "maker: = key lowercased, with its NUL") ;
  TAP_MEMEQ(d.s, d.len, "joe\0" "507\0" "100\0" "/home/joe\0" "\0", "maker: = data (dash and ext empty)") ;
  TAP_OK(cdb_find(&c, &d, "!joe", 4) == 0, "maker: no key without NUL for a = line") ;
  TAP_OK(cdb_find(&c, &d, "!list-x", 7) == 1, "maker: a prefix with pre") ;
  TAP_MEMEQ(d.s, d.len, "l\0" "1\0" "1\0" "/l\0" "-\0" "p-", "maker: pre is the unterminated sixth field") ;
  TAP_OK(cdb_find(&c, &d, "", 0) == 1, "maker: the \"\" record") ;
  TAP_MEMEQ(d.s, d.len, "-xb", "maker: last characters of the non-empty prefixes, once each, in order") ;
  cdb_free(&c) ;
}

static void test_lookup (void)
{
  static char const *const lines[] =
  {
    "+:alias:7790:2108:/var/qmail/alias:-::",
    "+joe-:joe:507:100:/home/joe:-::",
    "=joe:joe:507:100:/home/joe:::",
    "=joe:second:1:1:/second:::",
    "+list-:lists:600:60:/home/lists:-:ml-:",
    "+list-big-:lists:600:60:/home/lists:-:big-:",
    "+list-:second:1:1:/second:-::",
    "=list-big-exact:exact:601:60:/home/exact:-:x:",
    0
  } ;
  cdb c = CDB_ZERO ;
  usersdb_entry e ;
  stralloc sa = STRALLOC_ZERO ;
  make_from_lines(&c, lines) ;
  TAP_OK(look(&c, "joe", &e, &sa) == 1 && entry_is(&e, "joe", 507, 100, "/home/joe", "", ""), "lookup: joe -> the = line") ;
  TAP_OK(look(&c, "JoE", &e, &sa) == 1 && entry_is(&e, "joe", 507, 100, "/home/joe", "", ""), "lookup: case-insensitive") ;
  TAP_OK(look(&c, "joe-Direct", &e, &sa) == 1 && entry_is(&e, "joe", 507, 100, "/home/joe", "-", "Direct"), "lookup: joe-Direct -> +joe-, ext in the address's case") ;
  TAP_OK(look(&c, "JOE-", &e, &sa) == 1 && entry_is(&e, "joe", 507, 100, "/home/joe", "-", ""), "lookup: a prefix matches itself, ext = pre") ;
  TAP_OK(look(&c, "bill", &e, &sa) == 1 && entry_is(&e, "alias", 7790, 2108, "/var/qmail/alias", "-", "bill"), "lookup: bill -> the catch-all") ;
  TAP_OK(look(&c, "joey", &e, &sa) == 1 && entry_is(&e, "alias", 7790, 2108, "/var/qmail/alias", "-", "joey"), "lookup: joey is not joe") ;
  TAP_OK(look(&c, "list-foo", &e, &sa) == 1 && entry_is(&e, "lists", 600, 60, "/home/lists", "-", "ml-foo"), "lookup: pre + rest") ;
  TAP_OK(look(&c, "list-big-foo", &e, &sa) == 1 && entry_is(&e, "lists", 600, 60, "/home/lists", "-", "big-foo"), "lookup: the longest prefix wins") ;
  TAP_OK(look(&c, "list-big-exact", &e, &sa) == 1 && entry_is(&e, "exact", 601, 60, "/home/exact", "-", "x"), "lookup: = beats every prefix") ;
  TAP_OK(look(&c, "list-big-exactly", &e, &sa) == 1 && entry_is(&e, "lists", 600, 60, "/home/lists", "-", "big-exactly"), "lookup: = is not a prefix") ;
  TAP_OK(look(&c, "", &e, &sa) == 1 && entry_is(&e, "alias", 7790, 2108, "/var/qmail/alias", "-", ""), "lookup: the empty address -> the catch-all") ;
  cdb_free(&c) ;

  {
    static char const *const nocatch[] = { "=joe:joe:507:100:/home/joe:::", 0 } ;
    make_from_lines(&c, nocatch) ;
    TAP_OK(look(&c, "bill", &e, &sa) == 0, "lookup: no assignment -> 0 (qmail-getpw's turn)") ;
    TAP_OK(look(&c, "joe-x", &e, &sa) == 0, "lookup: no wildcard -> 0") ;
    cdb_free(&c) ;
  }

  {
     /* qmail-lspawn probes a non-empty prefix only when its last character
        is in the "" record: a record "!ab" without 'b' there is never found */
    static rawrec const r[] =
    {
      R("!ab", "ab\0" "1\0" "1\0" "/ab\0" "-\0"),
      R("!a", "a\0" "2\0" "2\0" "/a\0" "-\0"),
      R("", "a"),
    } ;
    make_raw(&c, r, 3) ;
    TAP_OK(look(&c, "abc", &e, &sa) == 1 && entry_is(&e, "a", 2, 2, "/a", "-", "bc"), "lookup: a prefix whose last character is not in the set is skipped") ;
    cdb_free(&c) ;
  }
  {
    static rawrec const r[] =
    {
      R("!", "alias\0" "7\0" "8\0" "/al\0" "-\0"),
      R("", ""),
    } ;
    make_raw(&c, r, 2) ;
    TAP_OK(look(&c, "anything-at-all", &e, &sa) == 1 && entry_is(&e, "alias", 7, 8, "/al", "-", "anything-at-all"), "lookup: the empty prefix is always tried") ;
    cdb_free(&c) ;
  }
  {
     /* qmail 1.03's qmail-newu keeps the case of the prefix character */
    static rawrec const r[] =
    {
      R("!joe", "e\0" "3\0" "3\0" "/e\0" "-\0"),
      R("", "E"),
    } ;
    make_raw(&c, r, 2) ;
    TAP_OK(look(&c, "joey", &e, &sa) == 1 && entry_is(&e, "e", 3, 3, "/e", "-", "y"), "lookup: an uppercase prefix character from qmail 1.03 still matches") ;
    cdb_free(&c) ;
  }
  {
    static rawrec const r[] = { R("!joe\0", "joe\0" "1\0" "1\0" "/j\0" "\0") } ;
    make_raw(&c, r, 1) ;
    errno = 0 ;
    TAP_OK(look(&c, "joe", &e, &sa) == -1 && errno == EINVAL, "lookup: no \"\" record -> -1 (qmail-lspawn: trouble reading users/cdb)") ;
    cdb_free(&c) ;
  }
  {
    static rawrec const r[] =
    {
      R("!four\0", "u\0" "1\0" "1\0" "/h"),
      R("!seven\0", "u\0" "1\0" "1\0" "/h\0" "-\0" "e\0" "x"),
      R("!baduid\0", "u\0" "1x\0" "1\0" "/h\0" "-\0"),
      R("!big\0", "u\0" "4294967295\0" "1\0" "/h\0" "-\0"),
      R("", ""),
    } ;
    make_raw(&c, r, 5) ;
    TAP_OK(look(&c, "four", &e, &sa) == -1 && errno == EINVAL, "lookup: a record of four fields -> -1") ;
    TAP_OK(look(&c, "seven", &e, &sa) == -1 && errno == EINVAL, "lookup: a record of seven fields -> -1") ;
    TAP_OK(look(&c, "baduid", &e, &sa) == -1 && errno == EINVAL, "lookup: a uid that is not a number -> -1") ;
    TAP_OK(look(&c, "big", &e, &sa) == -1 && errno == EINVAL, "lookup: uid 2^32-1 -> -1") ;
    TAP_OK(usersdb_lookup(&c, "fo\0ur", 5, &e, &sa) == -1 && errno == EINVAL, "lookup: an address with a NUL -> -1") ;
    {
      char *big = malloc(USERSDB_RECORD_MAX + 1) ;
      if (!big) exit(111) ;
      memset(big, 'a', USERSDB_RECORD_MAX + 1) ;
      TAP_OK(usersdb_lookup(&c, big, USERSDB_RECORD_MAX + 1, &e, &sa) == -1 && errno == EINVAL, "lookup: an address over USERSDB_RECORD_MAX -> -1") ;
      TAP_OK(usersdb_lookup(&c, big, USERSDB_RECORD_MAX, &e, &sa) == 0, "lookup: an address of USERSDB_RECORD_MAX bytes is looked up") ;
      free(big) ;
    }
    cdb_free(&c) ;
  }
  {
     /* a truncated file: nothing is read outside the map */
    int fd ;
    static char const *const one[] = { "=joe:joe:1:1:/j:::", 0 } ;
    make_from_lines(&c, one) ;
    cdb_free(&c) ;
    fd = open(fn, O_RDWR) ;
    if (fd < 0 || ftruncate(fd, 2060) < 0) exit(111) ;
    close(fd) ;
    if (!cdb_init(&c, fn)) exit(111) ;
    TAP_OK(look(&c, "joe", &e, &sa) == -1, "lookup: a truncated users/cdb -> -1, no crash") ;
    cdb_free(&c) ;
  }
  stralloc_free(&sa) ;
}

static void test_record (void)
{
  usersdb_entry e = { .user = "joe", .uid = 503, .gid = 78, .home = "/home/joe", .dash = "-", .ext = "Foo-bar" } ;
  usersdb_entry f ;
  stralloc sa = STRALLOC_ZERO ;
  TAP_OK(usersdb_record_cat(&sa, &e), "record_cat") ;
  TAP_MEMEQ(sa.s, sa.len, "joe\0" "503\0" "78\0" "/home/joe\0" "-\0" "Foo-bar\0", "record_cat: qmail-getpw's six NUL-terminated fields") ;
  TAP_OK(usersdb_record_parse(&f, sa.s, sa.len) && entry_is(&f, "joe", 503, 78, "/home/joe", "-", "Foo-bar"), "record_parse: back") ;
#define BADREC(s, d) TAP_OK(!usersdb_record_parse(&f, s, sizeof(s) - 1) && errno == EINVAL, "record_parse: %s refused", d)
  BADREC("joe\0" "503\0" "78\0" "/home/joe\0" "-\0" "ext", "sixth field unterminated") ;
  BADREC("joe\0" "503\0" "78\0" "/home/joe\0" "-\0", "five fields") ;
  BADREC("joe\0" "503\0" "78\0" "/home/joe\0" "-\0" "e\0" "\0", "seven fields") ;
  BADREC("joe\0" "-1\0" "78\0" "/home/joe\0" "-\0" "e\0", "uid -1") ;
  BADREC("joe\0" "1\0" "\0" "/home/joe\0" "-\0" "e\0", "empty gid") ;
  BADREC("", "empty") ;
#undef BADREC
  stralloc_free(&sa) ;
}

int main (void)
{
  if (!mkdtemp(dir)) { perror("mkdtemp") ; return 111 ; }
  test_scan_id() ;
  test_parse() ;
  test_maker_bytes() ;
  test_lookup() ;
  test_record() ;
  {
    char cmd[128] ;
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir) ;
    if (system(cmd)) {}
  }
  return TAP_DONE() ;
}
