#!/bin/sh
# Forwards (qmail.md sections 2 and 4, dot-qmail(5)): the &address and
# plain address lines of a .qmail file are collected and queued once, after
# every other line, in one qmail-queue call ($QMAILQUEUE, else
# bin/qmail-queue of the home) with DTLINE + the message and the envelope
# sender NEWSENDER: the sender, or local-owner@host when
# .qmail{dash}{ext}-owner exists, or local-owner-@host-@[] when
# -owner-default exists too, except for a bounce ("" or "#@[]").  The report
# ends with "qp {pid}".  A refusal: "Unable to forward message: {qq text}."
# (100 for a permanent one).
. "${QS6_SRC:-$(dirname "$0")/../..}/tests/local/local-lib.sh"

H=$(new_home)
msg 'Subject: forward\n\nFrom the body\nno newline'
cp "$QS6_TMP/msg" "$QS6_TMP/msg.orig"

# A recording qmail-queue: logs each call, then runs the sandbox's.
cat > "$QS6_TMP/qq-log" <<EOS
#!/bin/sh
echo qq >> "$RUN/log"
exec "$SB/bin/qmail-queue"
EOS
chmod 0755 "$QS6_TMP/qq-log"

rm -f "$RUN/log"
dotqmail "$H" .qmail-fw '&one@example.net' '|echo prog >> '"$RUN"'/log' 'two@example.net' \
  './mbox' '&three@example.org' '|echo prog >> '"$RUN"'/log'
own "$RUN"
QMAILQUEUE=$QS6_TMP/qq-log
export QMAILQUEUE
deliver "$H" - fw 'from@example.org'
unset QMAILQUEUE
ids=$(todo_ids)
is "$(echo "$ids" | wc -w)" 1 "three forward lines: one message queued"
id=$ids
p=$(todo_text "$id" | sed -n 's/^u[0-9]*|p\([0-9]*\)|.*/\1/p')
check 0 "did 1+3+2
qp $p" "report: counts, then the qp of qmail-queue"
is "$(cat "$RUN/log" | tr '\n' ' ')" "prog prog qq " "one qmail-queue call, after the other lines"
is "$(todo_text "$id")" "u$U_UID|p$p|Ffrom@example.org|Tone@example.net|Ttwo@example.net|Tthree@example.org|" \
  "todo: the sender, the three recipients in order"
{ printf 'Delivered-To: joe-fw@example.com\n'; cat "$QS6_TMP/msg.orig"; } > "$QS6_TMP/exp"
mess_body "$id" > "$QS6_TMP/got"
same_file "$QS6_TMP/got" "$QS6_TMP/exp" "mess: Delivered-To + the message (no Return-Path)"
head -1 "$Q/mess/$((id % 23))/$id" | grep -q "^Received: (qmail $p invoked by uid $U_UID); "; ok $? "mess starts with that qmail-queue's Received line"
clear_queue

# Exit 99 after a forward: the forward is still sent.
dotqmail "$H" .qmail-99 'a@example.net' '|exit 99' 'b@example.net'
deliver "$H" - 99
id=$(todo_ids)
p=$(todo_text "$id" | sed -n 's/^u[0-9]*|p\([0-9]*\)|.*/\1/p')
check 0 "did 0+1+1
qp $p" "exit 99: the forward before it is sent"
is "$(todo_text "$id")" "u$U_UID|p$p|Fsender@example.org|Ta@example.net|" "... only to the address before it"
clear_queue

# A failure after a forward line: nothing is forwarded.
dotqmail "$H" .qmail-fail 'a@example.net' '|exit 111'
deliver "$H" - fail
check 111 "" "a failing line after a forward line"
is "$(todo_ids)" "" "... nothing queued"

# NEWSENDER and the -owner files (only their existence counts).
dotqmail "$H" .qmail-list 'member@example.net'
dotqmail "$H" .qmail-list-owner 'owner@example.net'
deliver "$H" - list 'poster@example.org'
is "$(todo_text "$(todo_ids)" | cut -d'|' -f3-)" "Fjoe-list-owner@example.com|Tmember@example.net|" \
  ".qmail-list-owner exists: sender joe-list-owner@example.com"
clear_queue
: > "$H/.qmail-list-owner-default"
deliver "$H" - list 'poster@example.org'
is "$(todo_text "$(todo_ids)" | cut -d'|' -f3-)" "Fjoe-list-owner-@example.com-@[]|Tmember@example.net|" \
  "-owner-default too: VERP sender joe-list-owner-@example.com-@[]"
clear_queue
deliver "$H" - list ''
is "$(todo_text "$(todo_ids)" | cut -d'|' -f3-)" "F|Tmember@example.net|" "bounce (empty sender): kept"
clear_queue
deliver "$H" - list '#@[]'
is "$(todo_text "$(todo_ids)" | cut -d'|' -f3-)" "F#@[]|Tmember@example.net|" "double bounce (#@[]): kept"
clear_queue
rm "$H/.qmail-list-owner"
deliver "$H" - list 'poster@example.org'
is "$(todo_text "$(todo_ids)" | cut -d'|' -f3-)" "Fposter@example.org|Tmember@example.net|" \
  "-owner-default alone does not count: the sender"
clear_queue
# The -owner file of the address, not of the .qmail file that matched.
dotqmail "$H" .qmail-club-default 'member@example.net'
dotqmail "$H" .qmail-club-default-owner 'x'
deliver "$H" - club-x 'poster@example.org'
is "$(todo_text "$(todo_ids)" | cut -d'|' -f3-)" "Fposter@example.org|Tmember@example.net|" \
  "ext club-x through .qmail-club-default: .qmail-club-default-owner is not looked at"
clear_queue
dotqmail "$H" .qmail-club-x-owner 'x'
deliver "$H" - club-x 'poster@example.org'
is "$(todo_text "$(todo_ids)" | cut -d'|' -f3-)" "Fjoe-club-x-owner@example.com|Tmember@example.net|" \
  "... .qmail-club-x-owner is"
clear_queue

# Refusals of qmail-queue (a stand-in that exits with the code given).
cat > "$QS6_TMP/qq-exit" <<'EOS'
#!/bin/sh
cat > /dev/null
cat <&1 > /dev/null 2>&1
exit $QQ_EXIT
EOS
chmod 0755 "$QS6_TMP/qq-exit"
dotqmail "$H" .qmail-fw 'a@example.net'
QMAILQUEUE=$QS6_TMP/qq-exit QQ_EXIT=31
export QMAILQUEUE QQ_EXIT
deliver "$H" - fw
check 100 "Unable to forward message: mail server permanently rejected message (#5.3.0)." "qmail-queue exit 31: permanent"
QQ_EXIT=71
deliver "$H" - fw
check 111 "Unable to forward message: mail server temporarily rejected message (#4.3.0)." "qmail-queue exit 71: temporary"
QQ_EXIT=11
deliver "$H" - fw
check 100 "Unable to forward message: envelope address too long for qq (#5.1.3)." "qmail-queue exit 11"
QMAILQUEUE=$QS6_TMP/does-not-exist
deliver "$H" - fw
check 111 "Unable to forward message: unable to exec qq (#4.3.0)." "no qmail-queue: unable to exec qq"
unset QMAILQUEUE QQ_EXIT

# Without QMAILQUEUE: the home's bin/qmail-queue (QMAILHOME).
dotqmail "$H" .qmail-fw 'a@example.net'
deliver "$H" - fw
is "$(todo_text "$(todo_ids)" | cut -d'|' -f3-)" "Fsender@example.org|Ta@example.net|" "QMAILQUEUE unset: the sandbox's qmail-queue"
clear_queue

# An address line as written: no rewriting, trailing blanks stripped, & stripped once.
printf '%s\n' '&&odd@example.net' 'plain  ' '&' > "$H/.qmail-raw"
chmod 0644 "$H/.qmail-raw"
deliver "$H" - raw
is "$(todo_text "$(todo_ids)" | cut -d'|' -f3-)" "Fsender@example.org|T&odd@example.net|Tplain|T|" \
  "addresses are queued as written"
clear_queue

done_testing
