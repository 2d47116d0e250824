/* ISC license. */
/* qmail's texts for errno values.  The first entry for a value wins, as in
   qmail: on Linux EAGAIN == EWOULDBLOCK is "temporary failure". */

#include <errno.h>
#include <stddef.h>

#include <qmail-s6/errstr.h>

struct errtext_s { int e ; char const *s ; } ;

static struct errtext_s const errtext[] =
{
  { 0, "no error" },
  { EINTR, "interrupted system call" },
  { ENOMEM, "out of memory" },
  { ENOENT, "file does not exist" },
  { ETXTBSY, "text busy" },
  { EIO, "input/output error" },
  { EEXIST, "file already exists" },
  { ETIMEDOUT, "timed out" },
  { EINPROGRESS, "operation in progress" },
  { EAGAIN, "temporary failure" },
  { EWOULDBLOCK, "input/output would block" },
  { EPIPE, "broken pipe" },
  { EPERM, "permission denied" },
  { EACCES, "access denied" },
  { ESRCH, "no such process" },
  { ENXIO, "device not configured" },
  { E2BIG, "argument list too long" },
  { ENOEXEC, "exec format error" },
  { EBADF, "file descriptor not open" },
  { ECHILD, "no child processes" },
  { EDEADLK, "operation would cause deadlock" },
  { EFAULT, "bad address" },
#ifdef ENOTBLK
  { ENOTBLK, "not a block device" },
#endif
  { EBUSY, "device busy" },
  { EXDEV, "cross-device link" },
  { ENODEV, "device does not support operation" },
  { ENOTDIR, "not a directory" },
  { EISDIR, "is a directory" },
  { EINVAL, "invalid argument" },
  { ENFILE, "system cannot open more files" },
  { EMFILE, "process cannot open more files" },
  { ENOTTY, "not a tty" },
  { EFBIG, "file too big" },
  { ENOSPC, "out of disk space" },
  { ESPIPE, "unseekable descriptor" },
  { EROFS, "read-only file system" },
  { EMLINK, "too many links" },
  { EDOM, "input out of range" },
  { ERANGE, "output out of range" },
  { EALREADY, "operation already in progress" },
  { ENOTSOCK, "not a socket" },
  { EDESTADDRREQ, "destination address required" },
  { EMSGSIZE, "message too long" },
  { EPROTOTYPE, "incorrect protocol type" },
  { ENOPROTOOPT, "protocol not available" },
  { EPROTONOSUPPORT, "protocol not supported" },
#ifdef ESOCKTNOSUPPORT
  { ESOCKTNOSUPPORT, "socket type not supported" },
#endif
  { EOPNOTSUPP, "operation not supported" },
#ifdef EPFNOSUPPORT
  { EPFNOSUPPORT, "protocol family not supported" },
#endif
  { EAFNOSUPPORT, "address family not supported" },
  { EADDRINUSE, "address already used" },
  { EADDRNOTAVAIL, "address not available" },
  { ENETDOWN, "network down" },
  { ENETUNREACH, "network unreachable" },
  { ENETRESET, "network reset" },
  { ECONNABORTED, "connection aborted" },
  { ECONNRESET, "connection reset" },
  { ENOBUFS, "out of buffer space" },
  { EISCONN, "already connected" },
  { ENOTCONN, "not connected" },
#ifdef ESHUTDOWN
  { ESHUTDOWN, "socket shut down" },
#endif
#ifdef ETOOMANYREFS
  { ETOOMANYREFS, "too many references" },
#endif
  { ECONNREFUSED, "connection refused" },
  { ELOOP, "symbolic link loop" },
  { ENAMETOOLONG, "file name too long" },
#ifdef EHOSTDOWN
  { EHOSTDOWN, "host down" },
#endif
  { EHOSTUNREACH, "host unreachable" },
  { ENOTEMPTY, "directory not empty" },
#ifdef EPROCLIM
  { EPROCLIM, "too many processes" },
#endif
#ifdef EUSERS
  { EUSERS, "too many users" },
#endif
  { EDQUOT, "disk quota exceeded" },
  { ESTALE, "stale NFS file handle" },
#ifdef EREMOTE
  { EREMOTE, "too many levels of remote in path" },
#endif
#ifdef EBADRPC
  { EBADRPC, "RPC structure is bad" },
#endif
#ifdef ERPCMISMATCH
  { ERPCMISMATCH, "RPC version mismatch" },
#endif
#ifdef EPROGUNAVAIL
  { EPROGUNAVAIL, "RPC program unavailable" },
#endif
#ifdef EPROGMISMATCH
  { EPROGMISMATCH, "program version mismatch" },
#endif
#ifdef EPROCUNAVAIL
  { EPROCUNAVAIL, "bad procedure for program" },
#endif
  { ENOLCK, "no locks available" },
  { ENOSYS, "system call not available" },
#ifdef EFTYPE
  { EFTYPE, "bad file type" },
#endif
#ifdef EAUTH
  { EAUTH, "authentication error" },
#endif
#ifdef ENEEDAUTH
  { ENEEDAUTH, "not authenticated" },
#endif
#ifdef ENOSTR
  { ENOSTR, "not a stream device" },
#endif
#ifdef ETIME
  { ETIME, "timer expired" },
#endif
#ifdef ENOSR
  { ENOSR, "out of stream resources" },
#endif
  { ENOMSG, "no message of desired type" },
  { EBADMSG, "bad message type" },
  { EIDRM, "identifier removed" },
#ifdef ENONET
  { ENONET, "machine not on network" },
#endif
#ifdef ERREMOTE
  { ERREMOTE, "object not local" },
#endif
#ifdef ENOLINK
  { ENOLINK, "link severed" },
#endif
#ifdef EADV
  { EADV, "advertise error" },
#endif
#ifdef ESRMNT
  { ESRMNT, "srmount error" },
#endif
#ifdef ECOMM
  { ECOMM, "communication error" },
#endif
  { EPROTO, "protocol error" },
#ifdef EMULTIHOP
  { EMULTIHOP, "multihop attempted" },
#endif
#ifdef EREMCHG
  { EREMCHG, "remote address changed" },
#endif
} ;

char const *qmail_error_str (int e)
{
  size_t i ;
  for (i = 0 ; i < sizeof(errtext) / sizeof(errtext[0]) ; i++)
    if (errtext[i].e == e) return errtext[i].s ;
  return "unknown error" ;
}
