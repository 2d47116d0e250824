#!/bin/sh
# mbox delivery (qmail.md section 4, mbox(5) of qmail): opened O_APPEND
# (created 0600), flock'ed for at most 30 seconds ("File has been locked for
# 30 seconds straight. (#4.3.0)"), then UFLINE + RPLINE + DTLINE + the
# message with ">" before every line matching ^>*From , a newline added if
# the message lacks one, then an empty line; fsync; on a write error the
# file is cut back and 111 "Unable to write {f}: {err}. (#4.3.0)".
. "${QS6_SRC:-$(dirname "$0")/../..}/tests/local/local-lib.sh"

H=$(new_home)
dotqmail "$H" .qmail-mb './mbox'

# From_ quoting: every kind of line, from the definition (^>*From ).
msg 'From: header\nSubject: quoting\n\nFrom the start\n>From one\n>>>From three\n From space\nFrom\nFromage\nFrom\t tab\nfrom lower\n>From\n>>>>\nx From y\nFrom '
t0=$(date +%s)
deliver "$H" - mb 'some one@example.org'
t1=$(date +%s)
check 0 "did 1+0+0" "mbox delivery"
d=$(head -1 "$H/mbox" | sed 's/^From [^ ]* //')
[ "$d" = "$(utcdate "$t0")" ] || [ "$d" = "$(utcdate "$t1")" ]; ok $? "From_ date: qmail's ctime form, UTC ($d)"
{ printf 'From some-one@example.org %s\n' "$d"
  printf 'Return-Path: <"some one"@example.org>\nDelivered-To: joe-mb@example.com\n'
  printf 'From: header\nSubject: quoting\n\n>From the start\n>>From one\n>>>>From three\n From space\nFrom\nFromage\nFrom\t tab\nfrom lower\n>From\n>>>>\nx From y\n>From \n\n'
} > "$QS6_TMP/exp"
same_file "$H/mbox" "$QS6_TMP/exp" "bytes: From_, Return-Path, Delivered-To, quoted message, final newline added, empty line"
is "$(stat -c %a "$H/mbox")" 600 "created with mode 0600"

# Appending: the old content stays; a message ending in a newline gets only the empty line.
cp "$H/mbox" "$QS6_TMP/before"
msg 'Subject: second\n\nbody\n'
deliver "$H" - mb ''
check 0 "did 1+0+0" "second delivery"
d=$(sed -n '/^From MAILER-DAEMON /{s/^From MAILER-DAEMON //;p;}' "$H/mbox")
{ cat "$QS6_TMP/before"
  printf 'From MAILER-DAEMON %s\nReturn-Path: <>\nDelivered-To: joe-mb@example.com\nSubject: second\n\nbody\n\n' "$d"
} > "$QS6_TMP/exp"
same_file "$H/mbox" "$QS6_TMP/exp" "appended; empty sender is MAILER-DAEMON and <>"

# Blanks in the sender become '-' in the From_ line.
rm -f "$H/mbox"
msg ''
deliver "$H" - mb "$(printf 'a\tb c@x')"
head -1 "$H/mbox" | sed -E 's/ [A-Z][a-z]{2} [A-Z][a-z]{2} [0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2} [0-9]{4}$/ DATE/' > "$QS6_TMP/got"
echo 'From a-b-c@x DATE' > "$QS6_TMP/exp"
same_file "$QS6_TMP/got" "$QS6_TMP/exp" "tab and space in the sender: '-' in From_"
is "$(tail -n +2 "$H/mbox" | od -An -c | tr -s ' ')" "$(printf 'Return-Path: <"a\tb c"@x>\nDelivered-To: joe-mb@example.com\n\n' | od -An -c | tr -s ' ')" \
  "empty message: the three lines, then the empty line"

# Errors.
msg 'Subject: x\n\nbody\n'
dotqmail "$H" .qmail-err './nodir/mbox'
deliver "$H" - err
check 111 "Unable to open ./nodir/mbox: file does not exist. (#4.2.1)" "mbox in a missing directory"
if [ -w /dev/full ]; then
  dotqmail "$H" .qmail-err '/dev/full'
  deliver "$H" - err
  check 111 "Unable to write /dev/full: out of disk space. (#4.3.0)" "write error (disk full)"
else
  skip "no /dev/full"; skip "..."
fi

# The lock: another process holds flock on the mbox; qmail-local waits 30
# seconds, then gives up without writing anything.
: > "$H/locked"
own "$H"
rm -f "$QS6_TMP/ready"
# one process holds the lock (the shell that becomes sleep), so that killing it frees the lock
sh -c 'exec 9>>"$1"; flock -x 9; : > "$2"; exec sleep 90' sh "$H/locked" "$QS6_TMP/ready" &
holder=$!
if wait_until 10 test -e "$QS6_TMP/ready"; then
  dotqmail "$H" .qmail-lock './locked'
  start=$(date +%s)
  rc=0
  as_user env QMAILHOME="$SB" timeout 60 "$QL" -- joe "$H" joe-lock - lock example.com s@x ./Mailbox \
    < "$QS6_TMP/msg" > "$QS6_TMP/out" 2>&1 || rc=$?
  took=$(( $(date +%s) - start ))
  check 111 "File has been locked for 30 seconds straight. (#4.3.0)" "mbox locked by another process"
  [ "$took" -ge 29 ] && [ "$took" -le 40 ]; ok $? "... after about 30 seconds ($took)"
  [ ! -s "$H/locked" ]; ok $? "... nothing written"
else
  fail "could not take the lock"
fi
kill "$holder" 2>/dev/null
wait "$holder" 2>/dev/null

# Once the lock is free, delivery goes through.
deliver "$H" - lock
check 0 "did 1+0+0" "lock released: delivered"

done_testing
