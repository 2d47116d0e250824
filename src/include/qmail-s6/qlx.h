/* ISC license. */
/* qmail's exit codes between qmail-lspawn, its child and qmail-getpw
   (qmail's qlx.h): each becomes a fixed report text in qmail-lspawn. */

#ifndef QMAIL_S6_QLX_H
#define QMAIL_S6_QLX_H

#define QLX_USAGE 112     /* ZInternal qmail-lspawn bug. */
#define QLX_ROOT 113      /* ZNot allowed to perform deliveries as root. */
#define QLX_NFS 115       /* ZNFS failure in qmail-local. */
#define QLX_NOALIAS 116   /* ZUnable to find alias user! */
#define QLX_CDB 117       /* ZTrouble reading users/cdb in qmail-lspawn. */
#define QLX_SYS 118       /* ZTemporary failure in qmail-lspawn. */
#define QLX_NOMEM 119     /* ZOut of memory in qmail-lspawn. */
#define QLX_EXECSOFT 120  /* ZUnable to run qmail-local. */
#define QLX_EXECPW 121    /* ZUnable to run qmail-getpw. */
#define QLX_EXECHARD 126  /* DUnable to run qmail-local. */

#endif
