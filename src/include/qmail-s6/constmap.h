/* ISC license. */
/* A read-only, case-insensitive set or map built from a control list
   (control_readfile's NUL-separated lines): locals, percenthack,
   virtualdomains, rcpthosts...  Lookups cost one hash, whatever the size
   of the list.  For "key:value" lines (virtualdomains), the key ends at the
   first ':' and the value is the rest; for plain lists the value is "". */

#ifndef QMAIL_S6_CONSTMAP_H
#define QMAIL_S6_CONSTMAP_H

#include <stddef.h>
#include <stdint.h>

typedef struct constmap_entry_s constmap_entry ;
struct constmap_entry_s
{
  char const *key ;
  size_t keylen ;
  char const *value ;  /* NUL-terminated, points into the list */
  uint32_t hash ;
  uint32_t next ;      /* index + 1 of the next entry of the bucket, 0 = end */
} ;

typedef struct constmap_s constmap, *constmap_ref ;
struct constmap_s
{
  constmap_entry *entries ;
  uint32_t *buckets ;   /* index + 1 of the first entry, 0 = empty */
  uint32_t n ;
  uint32_t mask ;
} ;
#define CONSTMAP_ZERO { 0, 0, 0, 0 }

 /* Builds the map over list[0..len) (NUL-terminated lines; the list must
    outlive the map).  splitcolon: lines are key:value.  When a key appears
    twice, the last line wins, as with qmail's constmap.  1 ok, 0 out of memory (or too many lines). */
extern int constmap_init (constmap *m, char const *list, size_t len, int splitcolon) ;
extern void constmap_free (constmap *m) ;

 /* The value of key s[0..n), compared without case; 0 when absent. */
extern char const *constmap_get (constmap const *m, char const *s, size_t n) ;

#endif
