/* ISC license. */
/* qmail's compile-time settings (conf-spawn, conf-break, conf-patrn), kept
   at qmail's values: scripts and habits depend on them.  conf-split is
   QUEUE_SPLIT in queue.h. */

#ifndef QMAIL_S6_CONF_H
#define QMAIL_S6_CONF_H

 /* conf-spawn: the most simultaneous deliveries per spawner; one byte of the
    spawn protocol carries the slot, so it stays below 256. */
#define QMAIL_CONF_SPAWN 120

 /* conf-break: the character that splits user and extension (joe-list). */
#define QMAIL_CONF_BREAK '-'

 /* conf-patrn: the permission bits that make a home or a .qmail file
    "writable" to qmail-local, which then refuses it. */
#define QMAIL_CONF_PATRN 002

#endif
