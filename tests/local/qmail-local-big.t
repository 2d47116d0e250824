#!/bin/sh
# Memory stays bounded (design.md; qmail.md section 9, CVE-2005-1513 reached
# qmail-local with a multi-GB message): the message is streamed for every
# kind of delivery and for the loop check, never held whole.  A 24 MB
# message with a 6 MB line and a header of long lines goes to an mbox, a
# maildir, a program and a forward while qmail-local's address space is
# limited to 16 MB; every copy has the right bytes.
. "${QS6_SRC:-$(dirname "$0")/../..}/tests/local/local-lib.sh"

H=$(new_home)
mkdir -p "$H/Maildir/tmp" "$H/Maildir/new" "$H/Maildir/cur"
{ printf 'X-Long: '; head -c 3000000 /dev/zero | tr '\0' 'h'; printf '\nSubject: big\n\n'
  i=0; while [ $i -lt 6 ]; do head -c 1000000 /dev/zero | tr '\0' 'b'; printf '\nFrom the line\n'; i=$((i+1)); done
  head -c 6000000 /dev/zero | tr '\0' 'x'; printf '\n'
  head -c 9000000 /dev/zero | tr '\0' 'y'
} > "$QS6_TMP/msg"
chmod 0644 "$QS6_TMP/msg"
size=$(wc -c < "$QS6_TMP/msg")
dotqmail "$H" .qmail-big './mbox' './Maildir/' "|cat > $RUN/prog.out" 'fw@example.net'

if [ -n "${QS6_SANITIZE:-}" ]; then
  limit=unlimited   # ASan reserves terabytes of address space
else
  limit=16384
fi
own "$H"
rc=0
as_user env QMAILHOME="$SB" sh -c 'ulimit -v "$1" || exit 99; shift; exec "$@"' sh "$limit" \
  "$QL" -- joe "$H" joe-big - big example.com s@example.org ./Mailbox \
  < "$QS6_TMP/msg" > "$QS6_TMP/out" 2>&1 || rc=$?
is "$rc" 0 "$size-byte message under ulimit -v $limit: delivered"
diag "$(head -c 300 "$QS6_TMP/out")"

{ printf 'Return-Path: <s@example.org>\nDelivered-To: joe-big@example.com\n'; cat "$QS6_TMP/msg"; } > "$QS6_TMP/exp"
same_file "$H/Maildir/new/$(ls "$H/Maildir/new" | head -1)" "$QS6_TMP/exp" "maildir copy"
same_file "$RUN/prog.out" "$QS6_TMP/msg" "program's stdin"
tail -n +2 "$H/mbox" > "$QS6_TMP/got"
{ printf 'Return-Path: <s@example.org>\nDelivered-To: joe-big@example.com\n'; sed 's/^From />From /' "$QS6_TMP/msg"; printf '\n\n'; } > "$QS6_TMP/exp"
same_file "$QS6_TMP/got" "$QS6_TMP/exp" "mbox copy (quoted, newline and empty line added)"
id=$(todo_ids)
{ printf 'Delivered-To: joe-big@example.com\n'; cat "$QS6_TMP/msg"; } > "$QS6_TMP/exp"
mess_body "$id" > "$QS6_TMP/got"
same_file "$QS6_TMP/got" "$QS6_TMP/exp" "forwarded copy"
clear_queue

done_testing
