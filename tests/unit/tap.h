/* ISC license. */
/* Minimal TAP for the C unit tests: each check prints ok/not ok. */

#ifndef QS6_TAP_H
#define QS6_TAP_H

#include <stdio.h>
#include <string.h>

static int tap_n = 0, tap_failed = 0 ;

#define TAP_OK(cond, ...) do { \
  tap_n++ ; \
  if (cond) { printf("ok %d - ", tap_n) ; printf(__VA_ARGS__) ; printf("\n") ; } \
  else { tap_failed++ ; printf("not ok %d - ", tap_n) ; printf(__VA_ARGS__) ; \
    printf("\n#   at %s line %d\n", __FILE__, __LINE__) ; } \
} while (0)

 /* byte comparison of got[0..gotlen) with the C string expected */
#define TAP_MEMEQ(got, gotlen, expected, ...) do { \
  size_t tap_el_ = sizeof(expected) - 1 ; \
  int tap_eq_ = (size_t)(gotlen) == tap_el_ && (!tap_el_ || !memcmp((got), (expected), tap_el_)) ; \
  TAP_OK(tap_eq_, __VA_ARGS__) ; \
  if (!tap_eq_) { printf("#   got (%zu): '", (size_t)(gotlen)) ; fwrite((got), 1, (gotlen), stdout) ; \
    printf("'\n#   expected (%zu): '%s'\n", tap_el_, (expected)) ; } \
} while (0)

#define TAP_STREQ(got, expected, ...) TAP_MEMEQ((got), strlen(got), expected, __VA_ARGS__)

#define TAP_DONE() (printf("1..%d\n", tap_n), tap_failed ? 1 : 0)

#endif
