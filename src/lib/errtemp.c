/* ISC license. */
/* qmail's list of temporary errno values (error_temp). */

#include <errno.h>
#include <stddef.h>

#include <qmail-s6/errtemp.h>

static int const temperr[] =
{
  EINTR, ENOMEM, ETXTBSY, EIO, ETIMEDOUT, EWOULDBLOCK, EAGAIN,
  EDEADLK, EBUSY, ENFILE, EMFILE, EFBIG, ENOSPC,
  ENETDOWN, ENETUNREACH, ENETRESET, ECONNABORTED, ECONNRESET, ENOBUFS,
#ifdef ETOOMANYREFS
  ETOOMANYREFS,
#endif
  ECONNREFUSED,
#ifdef EHOSTDOWN
  EHOSTDOWN,
#endif
  EHOSTUNREACH,
#ifdef EPROCLIM
  EPROCLIM,
#endif
#ifdef EUSERS
  EUSERS,
#endif
  EDQUOT, ESTALE, ENOLCK
} ;

int qmail_error_temp (int e)
{
  size_t i ;
  for (i = 0 ; i < sizeof(temperr) / sizeof(temperr[0]) ; i++)
    if (temperr[i] == e) return 1 ;
  return 0 ;
}
