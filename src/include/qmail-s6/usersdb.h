/* ISC license. */
/* The qmail-users mechanism (qmail-users(5)): the one reader and writer of
   users/assign lines and of the users/cdb file that qmail-newu makes from
   them and qmail-lspawn reads, and of the six-field record that both the
   users/cdb lookup and qmail-getpw produce for qmail-local's arguments.

   users/assign lines (without their newline):
     =local:user:uid:gid:home:dash:ext:     one address
     +prefix:user:uid:gid:home:dash:pre:    every address starting with prefix;
                                            ext = pre + the rest of the address
   users/cdb, exactly as qmail-newu 1.03 writes it (djb's cdb format):
     key "!" + lowercase(local) + "\0"   data "user\0uid\0gid\0home\0dash\0ext"
     key "!" + lowercase(prefix)         data "user\0uid\0gid\0home\0dash\0pre"
     key ""                              data: the set of the last characters
                                         of the non-empty wildcard prefixes
   (the data has five NULs: the sixth field ends with the record, so that
   a wildcard lookup can append the rest of the address to it).  Every line
   is a record, in the order of the file; a lookup finds the first one of
   its key, which is how the first assignment wins.

   The record, what a lookup returns and what qmail-getpw prints:
     user\0uid\0gid\0home\0dash\0ext\0      (six NUL-terminated fields) */

#ifndef QMAIL_S6_USERSDB_H
#define QMAIL_S6_USERSDB_H

#include <stddef.h>
#include <sys/types.h>
#include <skalibs/cdb.h>
#include <skalibs/cdbmake.h>
#include <skalibs/stralloc.h>

 /* The longest users/assign line (without its newline), users/cdb data
    record and six-field record we handle, and the longest address a lookup
    takes: far above anything real (an envelope address has at most 1002
    bytes), low enough that no size computation can overflow. */
#define USERSDB_RECORD_MAX 65536

 /* One delivery assignment: qmail-local's arguments
    "user homedir local dash ext" and the ids to run it as. */
typedef struct usersdb_entry_s usersdb_entry, *usersdb_entry_ref ;
struct usersdb_entry_s
{
  char const *user ;   /* account name */
  uid_t uid ;
  gid_t gid ;
  char const *home ;
  char const *dash ;
  char const *ext ;
} ;

 /* One parsed users/assign line.  Pointers go into the line. */
typedef struct usersdb_assign_s usersdb_assign, *usersdb_assign_ref ;
struct usersdb_assign_s
{
  int wild ;             /* 1 for '+', 0 for '=' */
  char const *local ;    /* the address, or the prefix of a wildcard */
  size_t locallen ;
  char const *data ;     /* "user:uid:gid:home:dash:ext", up to (not */
  size_t datalen ;       /*  including) the sixth ':' after the local */
  uid_t uid ;
  gid_t gid ;
} ;

 /* Parses one users/assign line s[0..len) (no newline; the caller handles
    the final "." line).  Anything after the seventh ':' is ignored, as
    qmail does (so a trailing CR is harmless).  1 ok; 0 bad format, with
    errno EINVAL and *why saying what is wrong. */
extern int usersdb_assign_parse (usersdb_assign *a, char const *s, size_t len, char const **why) ;

 /* Writing users/cdb.  The caller opens, fsyncs and renames the file. */
typedef struct usersdb_maker_s usersdb_maker, *usersdb_maker_ref ;
struct usersdb_maker_s
{
  cdbmaker cm ;
  stralloc key ;
  stralloc data ;
  stralloc wild ;   /* the "" record: last characters of the prefixes */
} ;
#define USERSDB_MAKER_ZERO { .cm = CDBMAKER_ZERO, .key = STRALLOC_ZERO, .data = STRALLOC_ZERO, .wild = STRALLOC_ZERO }

 /* 1 ok, 0 error (errno).  start writes to fd from its current offset 0. */
extern int usersdb_make_start (usersdb_maker *m, int fd) ;
extern int usersdb_make_add (usersdb_maker *m, usersdb_assign const *a) ;
 /* Adds the "" record and writes the hash tables.  Frees m's memory. */
extern int usersdb_make_finish (usersdb_maker *m) ;
extern void usersdb_make_free (usersdb_maker *m) ;

 /* qmail-lspawn's lookup of the address local[0..len) (the recipient
    before its last '@', in its original case) in an open users/cdb:
    the exact key first, then the wildcard prefixes from the longest to the
    empty one, trying a non-empty prefix only when its last character is in
    the "" record.  A wildcard appends the rest of the address, in its
    original case, to pre.  On 1, e points into storage (valid until storage
    changes).  1 found, 0 no assignment (qmail-lspawn then asks qmail-getpw),
    -1 error with errno: a cdb without the "" record or with a record that
    is not six fields with numeric ids (EINVAL), an address with a NUL or
    longer than USERSDB_RECORD_MAX (EINVAL), memory (ENOMEM). */
extern int usersdb_lookup (cdb const *c, char const *local, size_t len, usersdb_entry *e, stralloc *storage) ;

 /* Parses a six-field record s[0..len) (what qmail-getpw prints): exactly six
    NUL-terminated fields, uid and gid decimal and below 2^32-1.  e points
    into s.  1 ok, 0 bad (errno EINVAL). */
extern int usersdb_record_parse (usersdb_entry *e, char const *s, size_t len) ;

 /* Appends the six-field record of e to sa.  1 ok, 0 out of memory. */
extern int usersdb_record_cat (stralloc *sa, usersdb_entry const *e) ;

 /* A uid or gid: decimal digits only, below 2^32-1 ((uid_t)-1 means "no
    change" to setreuid and is refused).  1 ok, 0 not one. */
extern int usersdb_scan_id (char const *s, size_t n, unsigned int *id) ;

#endif
