/* ISC license. */
/* Unit tests of the shared library's formats, with hostile input: control
   files, box quoting, date822, text0 records, queue paths and ids, and the
   qq exit-code texts.  Expected values come from qmail.md, not from our
   own output. */

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <skalibs/stralloc.h>
#include <skalibs/buffer.h>

#include <qmail-s6/address.h>
#include <qmail-s6/control.h>
#include <qmail-s6/date822.h>
#include <qmail-s6/envelope.h>
#include <qmail-s6/qq.h>
#include <qmail-s6/queue.h>
#include "tap.h"

static void put (char const *fn, char const *s, size_t n)
{
  int fd = open(fn, O_WRONLY | O_CREAT | O_TRUNC, 0644) ;
  if (fd < 0 || write(fd, s, n) != (ssize_t)n) { perror(fn) ; exit(111) ; }
  close(fd) ;
}
#define PUTS(fn, lit) put(fn, lit, sizeof(lit) - 1)

static void test_control (void)
{
  stralloc sa = STRALLOC_ZERO ;
  unsigned long u = 7 ;
  char tmpl[] = "/tmp/qs6unit.XXXXXX" ;
  if (!mkdtemp(tmpl) || chdir(tmpl) < 0 || mkdir("control", 0755) < 0) { perror("tmp") ; exit(111) ; }

  TAP_OK(control_readline(&sa, "control/none") == 0, "readline: missing file -> 0") ;
  PUTS("control/a", "  value \t \nsecond\n") ;
  TAP_OK(control_readline(&sa, "control/a") == 1, "readline: present -> 1") ;
  TAP_MEMEQ(sa.s, sa.len, "  value", "readline: first line, trailing blanks dropped, leading kept") ;
  PUTS("control/b", "noeol") ;
  control_readline(&sa, "control/b") ;
  TAP_MEMEQ(sa.s, sa.len, "noeol", "readline: a last line without newline") ;
  PUTS("control/crlf", "host.example\r\n") ;
  control_readline(&sa, "control/crlf") ;
  TAP_MEMEQ(sa.s, sa.len, "host.example", "readline: CRLF file: the CR goes with the trailing blanks") ;
  put("control/nul", "ab\0cd\n", 6) ;
  errno = 0 ;
  TAP_OK(control_readline(&sa, "control/nul") == -1 && errno == EINVAL, "readline: NUL in the line -> error EINVAL") ;
  put("control/nul2", "ab\n\0\n", 5) ;
  TAP_OK(control_readline(&sa, "control/nul2") == 1, "readline: a NUL after the first line does not matter") ;
  mkdir("control/dir", 0755) ;
  TAP_OK(control_readline(&sa, "control/dir") == -1, "readline: unreadable (a directory) -> -1, not missing") ;
  PUTS("control/empty", "") ;
  TAP_OK(control_readline(&sa, "control/empty") == 1 && sa.len == 0, "readline: empty file -> 1, empty value") ;

  TAP_OK(control_rldef(&sa, "control/none", 1, "dflt") == 0, "rldef: missing, no me -> 0") ;
  TAP_STREQ(sa.s, "dflt", "rldef: the literal default when control/me is missing too") ;
  PUTS("control/me", "me.example.org\n") ;
  control_rldef(&sa, "control/none", 1, "dflt") ;
  TAP_STREQ(sa.s, "me.example.org", "rldef: control/me when asked") ;
  control_rldef(&sa, "control/none", 0, "dflt") ;
  TAP_STREQ(sa.s, "dflt", "rldef: the default when me is not asked for") ;
  TAP_OK(control_rldef(&sa, "control/a", 1, "dflt") == 1, "rldef: present -> 1") ;
  TAP_STREQ(sa.s, "  value", "rldef: value NUL-terminated") ;

  TAP_OK(control_readulong(&u, "control/none", 1200) == 0 && u == 1200, "readulong: missing -> default") ;
  PUTS("control/n1", "604800\n") ;
  TAP_OK(control_readulong(&u, "control/n1", 1) == 1 && u == 604800, "readulong: 604800") ;
  PUTS("control/n2", "12abc\n") ;
  TAP_OK(control_readulong(&u, "control/n2", 1) == -1 && errno == EINVAL, "readulong: trailing junk -> EINVAL") ;
  PUTS("control/n3", "99999999999999999999999999\n") ;
  TAP_OK(control_readulong(&u, "control/n3", 1) == -1, "readulong: a number that wraps -> error") ;
  PUTS("control/n4", "-5\n") ;
  TAP_OK(control_readulong(&u, "control/n4", 1) == -1, "readulong: negative -> error") ;
  PUTS("control/n5", "30 \t\n") ;
  TAP_OK(control_readulong(&u, "control/n5", 1) == 1 && u == 30, "readulong: trailing blanks allowed") ;
  TAP_OK(control_readulong(&u, "control/empty", 1) == -1, "readulong: empty file -> error") ;

  PUTS("control/list", "# comment\none.example\n\n  \ntwo.example  \n#x\nthree") ;
  TAP_OK(control_readfile(&sa, "control/list") == 1, "readfile: present -> 1") ;
  TAP_MEMEQ(sa.s, sa.len, "one.example\0two.example\0three\0", "readfile: comments and empty lines dropped, blanks trimmed") ;
  TAP_OK(control_readfile(&sa, "control/none") == 0 && sa.len == 0, "readfile: missing -> 0, empty") ;
  put("control/listnul", "a\nb\0c\n", 6) ;
  TAP_OK(control_readfile(&sa, "control/listnul") == -1, "readfile: NUL in a line -> error") ;
  {
    int fd = open("control/huge", O_WRONLY | O_CREAT | O_TRUNC, 0644) ;
    int r ;
    if (fd < 0 || ftruncate(fd, CONTROL_MAX + 4096) < 0) { perror("huge") ; exit(111) ; }
    close(fd) ;
    errno = 0 ;
    r = control_readfile(&sa, "control/huge") ;
    TAP_OK(r == -1 && errno == EFBIG, "readfile: a file over CONTROL_MAX -> error EFBIG, memory bounded") ;
    unlink("control/huge") ;
  }
  stralloc_free(&sa) ;
  {
    char cmd[64] = "rm -rf " ;
    strcat(cmd, tmpl) ;
    if (chdir("/") < 0 || system(cmd) != 0) perror("cleanup") ;
  }
}

static void quote_is (char const *addr, char const *expected, char const *what)
{
  stralloc sa = STRALLOC_ZERO ;
  int r = addr_quote_cat(&sa, addr, strlen(addr)) ;
  int same = sa.len == strlen(expected) && (!sa.len || !memcmp(sa.s, expected, sa.len)) ;
  TAP_OK(r && same, "quote: %s", what) ;
  if (!same)
    printf("#   got '%.*s'\n", (int)sa.len, sa.s) ;
  stralloc_free(&sa) ;
}

static void test_address (void)
{
  quote_is("user@example.org", "user@example.org", "plain") ;
  quote_is("", "", "the empty address stays empty") ;
  quote_is("a b@example.org", "\"a b\"@example.org", "space") ;
  quote_is("a@b@example.org", "\"a@b\"@example.org", "the last @ splits") ;
  quote_is(".a@x", "\".a\"@x", "leading dot") ;
  quote_is("a.@x", "\"a.\"@x", "trailing dot") ;
  quote_is("a..b@x", "\"a..b\"@x", "two dots") ;
  quote_is("a.b.c@x", "a.b.c@x", "single dots are fine") ;
  quote_is("q\"x@y", "\"q\\\"x\"@y", "quote is escaped") ;
  quote_is("b\\s@y", "\"b\\\\s\"@y", "backslash is escaped") ;
  quote_is("nl\nx@y", "\"nl\\\nx\"@y", "newline is escaped (shown as \\n)") ;
  quote_is("\xe9t\xe9@y", "\"\xe9t\xe9\"@y", "8-bit bytes need quoting") ;
  quote_is("!#$%&'*+-/=?^_`{|}~@y", "!#$%&'*+-/=?^_`{|}~@y", "every atext special is fine") ;
  quote_is("a(b)@y", "\"a(b)\"@y", "parentheses need quoting") ;
  quote_is("nohost", "nohost", "no @: all box") ;
  quote_is("no host", "\"no host\"", "no @, quoted") ;
  quote_is("@x", "\"\"@x", "empty box is quoted") ;
  quote_is("#@[]", "#@[]", "qmail's double-bounce sender") ;
  TAP_OK(addr_at("a@b@c", 5) == 3, "addr_at: the last @") ;
  TAP_OK(addr_at("abc", 3) == 3, "addr_at: none -> length") ;
  TAP_OK(addr_domain_equal("Example.ORG", 11, "example.org", 11), "domains compare without case") ;
  TAP_OK(!addr_domain_equal("example.org", 11, "example.or", 10), "domains of other lengths differ") ;
}

static void test_date822 (void)
{
  char buf[DATE822_FMT] ;
  size_t n = date822_fmt(buf, 812090814) ;
  TAP_MEMEQ(buf, n, "26 Sep 1995 04:46:54 -0000", "date822: qmail's example") ;
  n = date822_fmt(buf, 0) ;
  TAP_MEMEQ(buf, n, "1 Jan 1970 00:00:00 -0000", "date822: the day is not padded") ;
  n = date822_fmt(buf, 4102444799) ;
  TAP_MEMEQ(buf, n, "31 Dec 2099 23:59:59 -0000", "date822: end of 2099") ;
  n = date822_fmt(buf, 253402300800) ;
  TAP_MEMEQ(buf, n, "1 Jan 10000 00:00:00 -0000", "date822: year 10000 fits the buffer") ;
}

static void test_text0 (void)
{
  static char const env[] = "Fa@b\0Tc@d\0T\0" ;
  size_t pos = 0, len ;
  char const *rec ;
  TAP_OK(text0_next(env, sizeof(env) - 1, &pos, &rec, &len) == 1 && len == 4 && !memcmp(rec, "Fa@b", 4), "text0: first record") ;
  TAP_OK(text0_next(env, sizeof(env) - 1, &pos, &rec, &len) == 1 && len == 4 && !memcmp(rec, "Tc@d", 4), "text0: second record") ;
  TAP_OK(text0_next(env, sizeof(env) - 1, &pos, &rec, &len) == 1 && len == 1 && rec[0] == 'T', "text0: a record with an empty address") ;
  TAP_OK(text0_next(env, sizeof(env) - 1, &pos, &rec, &len) == 0, "text0: end") ;
  pos = 0 ;
  TAP_OK(text0_next("Fa@b", 4, &pos, &rec, &len) == -1 && errno == EPROTO, "text0: unterminated -> -1 EPROTO") ;
  pos = 0 ;
  TAP_OK(text0_next("", 0, &pos, &rec, &len) == 0, "text0: empty input -> end") ;
  {
    stralloc sa = STRALLOC_ZERO ;
    text0_cats(&sa, 'F', "x@y") ;
    text0_cat(&sa, 'T', "a\0b", 0) ;
    TAP_MEMEQ(sa.s, sa.len, "Fx@y\0T\0", "text0_cat: letter, bytes, NUL") ;
    stralloc_free(&sa) ;
  }
  {
    int p[2] ;
    char dst[8], inbuf[64] ;
    size_t n = 99 ;
    buffer b ;
    if (pipe(p) < 0 || write(p[1], "abc\0defghijkl", 13) != 13) { perror("pipe") ; exit(111) ; }
    close(p[1]) ;
    buffer_init(&b, &buffer_read, p[0], inbuf, sizeof(inbuf)) ;
    TAP_OK(text0_get(&b, dst, sizeof(dst), &n) == 1 && n == 3 && !memcmp(dst, "abc", 4), "text0_get: up to the NUL") ;
    TAP_OK(text0_get(&b, dst, sizeof(dst), &n) == -2, "text0_get: max bytes without NUL -> -2") ;
    TAP_OK(text0_get(&b, dst, sizeof(dst), &n) == 0, "text0_get: EOF before NUL -> 0") ;
    close(p[0]) ;
  }
}

static void test_queue (void)
{
  char s[QUEUE_PATH_MAX] ;
  unsigned long id ;
  size_t n = queue_path(s, "mess", 457) ;
  TAP_MEMEQ(s, n, "mess/20/457", "queue_path: mess/457 sits in mess/20") ;
  n = queue_path(s, "todo", 457) ;
  TAP_MEMEQ(s, n, "todo/457", "queue_path: todo/ is flat") ;
  n = queue_path(s, "intd", 457) ;
  TAP_MEMEQ(s, n, "intd/457", "queue_path: intd/ is flat") ;
  n = queue_path(s, "remote", 18446744073709551615UL) ;
  TAP_MEMEQ(s, n, "remote/5/18446744073709551615", "queue_path: the largest id fits") ;
  TAP_OK(queue_id_scan("457", &id) && id == 457, "queue_id_scan: 457") ;
  TAP_OK(queue_id_scan("0", &id) && id == 0, "queue_id_scan: 0") ;
  TAP_OK(!queue_id_scan("0457", &id), "queue_id_scan: leading zero refused") ;
  TAP_OK(!queue_id_scan("45a", &id), "queue_id_scan: junk refused") ;
  TAP_OK(!queue_id_scan("", &id), "queue_id_scan: empty refused") ;
  TAP_OK(!queue_id_scan("-1", &id), "queue_id_scan: sign refused") ;
  TAP_OK(!queue_id_scan("18446744073709551616", &id), "queue_id_scan: a number that wraps is refused") ;
  TAP_OK(queue_id_scan("18446744073709551615", &id) && id == 18446744073709551615UL, "queue_id_scan: the largest") ;
  TAP_OK(queue_dir_is_split("info") && !queue_dir_is_split("bounce"), "split dirs: info yes, bounce no") ;
}

static void test_qq (void)
{
  static struct { int code ; char const *text ; } const t[] =
  {
    { 0, "" },
    { 11, "Denvelope address too long for qq (#5.1.3)" },
    { 115, "Denvelope address too long for qq (#5.1.3)" },
    { 31, "Dmail server permanently rejected message (#5.3.0)" },
    { 51, "Zqq out of memory (#4.3.0)" },
    { 52, "Zqq timeout (#4.3.0)" },
    { 53, "Zqq write error or disk full (#4.3.0)" },
    { 54, "Zqq read error (#4.3.0)" },
    { 55, "Zqq unable to read configuration (#4.3.0)" },
    { 56, "Zqq trouble making network connection (#4.3.0)" },
    { 61, "Zqq trouble in home directory (#4.3.0)" },
    { 62, "Zqq trouble creating files in queue (#4.3.0)" },
    { 66, "Zqq trouble creating files in queue (#4.3.0)" },
    { 71, "Zmail server temporarily rejected message (#4.3.0)" },
    { 72, "Zconnection to mail server timed out (#4.4.1)" },
    { 73, "Zconnection to mail server rejected (#4.4.1)" },
    { 74, "Zcommunication with mail server failed (#4.4.2)" },
    { 81, "Zqq internal bug (#4.3.0)" },
    { 91, "Zqq internal bug (#4.3.0)" },
    { 120, "Zunable to exec qq (#4.3.0)" },
    { 12, "Dqq permanent problem (#5.3.0)" },
    { 40, "Dqq permanent problem (#5.3.0)" },
    { 41, "Zqq temporary problem (#4.3.0)" },
    { 1, "Zqq temporary problem (#4.3.0)" },
  } ;
  size_t i ;
  for (i = 0 ; i < sizeof(t) / sizeof(t[0]) ; i++)
  {
    char const *x = qq_exit_text(t[i].code << 8) ;
    TAP_OK(!strcmp(x, t[i].text), "qq exit %d -> %s", t[i].code, t[i].text) ;
  }
  TAP_OK(!strcmp(qq_exit_text(SIGKILL), "Zqq crashed (#4.3.0)"), "qq killed by a signal -> qq crashed") ;
}

int main (void)
{
  test_control() ;
  test_address() ;
  test_date822() ;
  test_text0() ;
  test_queue() ;
  test_qq() ;
  return TAP_DONE() ;
}
