/* ISC license. */
/* Control files (qmail-control(5)): read relative to the home.

   Single-value files use their first line, with trailing spaces and tabs
   removed.  List files drop blank lines and lines starting with '#', and
   trailing spaces and tabs of every line.  A missing file (ENOENT) is not an
   error: it means "use the default".  Any other failure to read is an error,
   and so is a value that cannot be what it should be (a number that is not
   one, a NUL byte in a line): qmail would quietly use a default there; we
   say so instead. */

#ifndef QMAIL_S6_CONTROL_H
#define QMAIL_S6_CONTROL_H

#include <skalibs/stralloc.h>

 /* No control file may be larger than this: memory is bounded. */
#define CONTROL_MAX (64UL << 20)

 /* First line into sa (not NUL-terminated).  1 read, 0 missing, -1 error. */
extern int control_readline (stralloc *sa, char const *fn) ;

 /* Like control_readline, then NUL-terminated; when missing, the value is
    control/me's if usemedefault (and me exists), else def.
    1 from the file, 0 defaulted, -1 error. */
extern int control_rldef (stralloc *sa, char const *fn, int usemedefault, char const *def) ;

 /* Decimal number on the first line; *u = def when the file is missing.
    1 read, 0 defaulted, -1 error (EINVAL: not a number, or out of range). */
extern int control_readulong (unsigned long *u, char const *fn, unsigned long def) ;

 /* List file: each kept line NUL-terminated, concatenated into sa.
    1 read, 0 missing (sa empty), -1 error. */
extern int control_readfile (stralloc *sa, char const *fn) ;

 /* The shared line cleaner: length of s[0..n) without trailing spaces and tabs. */
extern size_t control_trim (char const *s, size_t n) ;

#endif
