/* ISC license. */
/*
   qmail-local [ -nN ] -- user homedir local dash ext domain sender defaultdelivery:
   deliver one message to one local recipient.  The work is done by
   qmail_local_main (src/lib/localdeliver.c), which qmail-lspawn also runs
   in its delivery children without exec'ing this program.
*/

#include <qmail-s6/localdeliver.h>

int main (int argc, char const *const *argv)
{
  return qmail_local_main(argc, argv) ;
}
