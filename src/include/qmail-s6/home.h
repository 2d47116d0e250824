/* ISC license. */
/* Where a program finds /var/qmail (control/, queue/, users/, alias/, bin/). */

#ifndef QMAIL_S6_HOME_H
#define QMAIL_S6_HOME_H

 /* The compiled default, or $QMAILHOME when the program is not running
    setuid or setgid (AT_SECURE): no caller can point qmail-queue elsewhere. */
extern char const *qmail_home (void) ;

 /* chdir to qmail_home(); 1 on success, 0 and errno on failure. */
extern int qmail_chdir_home (void) ;

#endif
