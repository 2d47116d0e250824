#!/bin/sh
# qmail-inject queues through the home's bin/qmail-queue when QMAILQUEUE is
# unset: the message lands in a sandbox queue with qmail's bytes
# (qmail.md sections 1, 2, 6): todo/N = u{uid}\0p{qq pid}\0F{sender}\0
# T{rcpt}\0..., mess/N%23/N = qmail-queue's Received line + the message as
# qmail-inject made it.
. "${QS6_SRC:-$(dirname "$0")/../..}/tests/inject/inject-lib.sh"

SB=$(new_sandbox) || { echo "Bail out! no sandbox"; exit 1; }
Q=$SB/queue
myuid=$(id -u)

printf 'Subject: queued\nTo: "Some One" <one@example.net>\n\nhello\n' > "$QS6_TMP/msg"
env QMAILHOME="$SB" QMAILUSER=joe "$QI" -f bob@example.org rcpt1@example.net rcpt2 < "$QS6_TMP/msg" 2> "$QS6_TMP/err"
is "$?" 0 "qmail-inject into a real queue: exit 0"
is "$(cat "$QS6_TMP/err")" "" "... silently"

todo=$(ls "$Q/todo")
is "$(echo "$todo" | wc -w)" 1 "one message in todo/"
id=$todo
tr '\0' '|' < "$Q/todo/$id" | sed -E 's/\|p[1-9][0-9]*\|/|pPID|/' > "$QS6_TMP/got"
printf 'u%s|pPID|Fbob@example.org|Trcpt1@example.net|Trcpt2@sandbox.example.test|' "$myuid" > "$QS6_TMP/exp"
same_file "$QS6_TMP/got" "$QS6_TMP/exp" "todo bytes: u, p, F (the -f sender), T (the arguments, rewritten)"

mess=$Q/mess/$((id % 23))/$id
head -1 "$mess" | sed -E 's/^Received: \(qmail [1-9][0-9]* invoked by uid [0-9]+\); [1-9][0-9]? [A-Z][a-z]{2} [0-9]{4} [0-9]{2}:[0-9]{2}:[0-9]{2} -0000$/RECEIVED/' > "$QS6_TMP/got"
is "$(cat "$QS6_TMP/got")" "RECEIVED" "mess starts with qmail-queue's Received line"
tail -n +2 "$mess" | mask > "$QS6_TMP/got"
printf '%s\n' 'Date: DATE' 'Message-ID: <STAMP.PID.qmail@sandbox.example.test>' 'From: joe@sandbox.example.test' \
  'Subject: queued' 'To: "Some One" <one@example.net>' '' 'hello' > "$QS6_TMP/exp"
same_file "$QS6_TMP/got" "$QS6_TMP/exp" "mess: the message as qmail-inject made it (no Return-Path)"

# Header recipients and the default sender, second message.
printf 'To: a@example.net, b\nBcc: c@example.net\n\nx\n' | env QMAILHOME="$SB" QMAILUSER=joe "$QI"
is "$?" 0 "second message: exit 0"
new=$(ls "$Q/todo" | grep -vx "$id")
tr '\0' '|' < "$Q/todo/$new" | sed -E 's/\|p[1-9][0-9]*\|/|pPID|/' > "$QS6_TMP/got"
printf 'u%s|pPID|Fjoe@sandbox.example.test|Tb@sandbox.example.test|Ta@example.net|Tc@example.net|' "$myuid" > "$QS6_TMP/exp"
same_file "$QS6_TMP/got" "$QS6_TMP/exp" "todo bytes: default sender, header recipients"
grep -q '^Bcc' "$Q/mess/$((new % 23))/$new"; ok "$([ $? = 1 ]; echo $?)" "the queued message has no Bcc"

done_testing
