/* ISC license. */
/* The mbox format as qmail writes it (mbox(5) of qmail): each message is
     From SENDER Www Mmm DD HH:MM:SS YYYY\n      (the From_ line, UTC)
   then the message, where every line matching ^>*From  gets one more '>'
   in front, then a newline if the message did not end with one, then one
   empty line.

   Why a library file: qmail-local appends messages to mbox files in this
   form, and maildir2mbox converts a maildir into one; the form must be the
   same byte for byte, so there is one writer.  The quoting is a byte-stream
   state machine: no line is ever held in memory, whatever its length. */

#ifndef QMAIL_S6_MBOX_H
#define QMAIL_S6_MBOX_H

#include <stddef.h>
#include <time.h>
#include <skalibs/buffer.h>
#include <skalibs/stralloc.h>

 /* Room for the date of a From_ line, newline included. */
#define MBOX_DATE_FMT 48

 /* qmail's myctime: "Thu Sep 26 04:46:54 1995\n" (UTC, day zero-padded,
    hour, minute and second two digits).  Writes no NUL; returns the length. */
extern size_t mbox_date_fmt (char *s, time_t t) ;

 /* Appends "From " + s[0..n) + " " + date + "\n" to sa, with every space,
    tab and newline of s made '-' (the From_ line must stay one line of
    three words).  The caller chooses the word: qmail-local passes
    MAILER-DAEMON for the empty sender.  1 ok, 0 out of memory. */
extern int mbox_fromline (stralloc *sa, char const *s, size_t n, time_t t) ;

 /* The quoting state between two calls: how many '>' and how many bytes of
    "From " have been seen at the start of the current line, and whether we
    are past the start of the line. */
typedef struct mbox_quoter_s mbox_quoter, *mbox_quoter_ref ;
struct mbox_quoter_s
{
  size_t gt ;
  unsigned int matched ;
  int inline_ ;
} ;
#define MBOX_QUOTER_ZERO { .gt = 0, .matched = 0, .inline_ = 0 }

 /* Writes message bytes s[0..n) to out, quoted.  1 ok, 0 write error. */
extern int mbox_quote_put (mbox_quoter *q, buffer *out, char const *s, size_t n) ;

 /* Ends the message: the pending start of a last line, a newline if the
    message did not end with one, then the empty line.  1 ok, 0 write error.
    Does not flush. */
extern int mbox_quote_end (mbox_quoter *q, buffer *out) ;

 /* Copies in to out through the quoter (what in holds already first) until
    end of file, then ends the message.  1 ok; 0 write error; -1 read error
    (errno).  Does not flush. */
extern int mbox_quote_copy (mbox_quoter *q, buffer *out, buffer *in) ;

#endif
