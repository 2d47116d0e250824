#!/bin/sh
# Disk full: qmail-queue exits 53 ("qq write error or disk full"), queues
# nothing and leaves no half message; qmail-inject exits 111 with the qq text.
# Needs root for a small tmpfs under the queue; otherwise skipped.
. "${QS6_SRC:-$(dirname "$0")/../..}/tests/lib/tap.sh"

[ "$(id -u)" = 0 ] || skip_all "needs root to mount a small tmpfs as the queue"
SB=$(new_sandbox) || { echo "Bail out! no sandbox"; exit 1; }
Q=$SB/queue
rm -rf "$Q"; mkdir "$Q"
mount -t tmpfs -o size=256k,mode=0750 tmpfs "$Q" 2>/dev/null || skip_all "cannot mount a tmpfs here"
unmount_queue() { umount "$Q"; }
tap_at_exit unmount_queue
chown "$(sandbox_uid "$SB")" "$Q"
QMAILHOME=$SB "$SB/bin/qmail-mkqueue" || { echo "Bail out! qmail-mkqueue failed on tmpfs"; exit 1; }

residue() { find "$Q/pid" "$Q/mess" "$Q/intd" "$Q/todo" -type f | wc -l; }

{ printf 'Subject: big\n\n'; head -c 600000 /dev/zero | tr '\0' 'x'; } > "$QS6_TMP/big"
printf 'Fa@b\0Tc@d\0\0' > "$QS6_TMP/env"

QMAILHOME=$SB "$SB/bin/qmail-queue" < "$QS6_TMP/big" 1< "$QS6_TMP/env"
is "$?" 53 "qmail-queue: disk full -> exit 53"
is "$(residue)" 0 "qmail-queue: no todo entry, no half message left"

QMAILHOME=$SB "$SB/bin/qmail-inject" -f a@example.org c@example.net < "$QS6_TMP/big" 2> "$QS6_TMP/err"
is "$?" 111 "qmail-inject: disk full -> exit 111"
is "$(cat "$QS6_TMP/err")" "qmail-inject: fatal: qq write error or disk full (#4.3.0)" "qmail-inject: the qq text"
is "$(residue)" 0 "qmail-inject: no todo entry, no half message left"

printf 'Subject: small\n\nfits\n' > "$QS6_TMP/small"
QMAILHOME=$SB "$SB/bin/qmail-queue" < "$QS6_TMP/small" 1< "$QS6_TMP/env"
is "$?" 0 "the space is given back: a small message still queues"
is "$(ls "$Q/todo" | wc -l)" 1 "and it is in todo/"

done_testing
