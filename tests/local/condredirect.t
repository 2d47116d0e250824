#!/bin/sh
# condredirect newaddress program [ arg ... ] (qmail's condredirect(1)):
# runs program with the message; exit 0 -> forward $DTLINE + the message
# (rewound) to newaddress with envelope sender $SENDER, print
# "condredirect: qp {pid}", exit 99; exit 111 or a crash -> 111; anything
# else (or no such program) -> exit 0.
. "${QS6_SRC:-$(dirname "$0")/../..}/tests/local/local-lib.sh"

CR=$QS6_BUILD/bin/condredirect
msg 'Subject: cr\n\nbody\n'

run_cr() {
  rc=0
  as_user env QMAILHOME="$SB" "$CR" "$@" < "$QS6_TMP/msg" > "$QS6_TMP/out" 2>&1 || rc=$?
}

rc=0; "$CR" > "$QS6_TMP/out" 2>&1 || rc=$?
check 100 "condredirect: usage: condredirect newaddress program [ arg ... ]" "no argument: usage"
rc=0; "$CR" a@example.net > "$QS6_TMP/out" 2>&1 || rc=$?
check 100 "condredirect: usage: condredirect newaddress program [ arg ... ]" "no program: usage"

export SENDER=orig@example.org NEWSENDER=notthis@example.org DTLINE='Delivered-To: joe@example.com
'
# The program reads the whole message; condredirect rewinds before forwarding.
run_cr to@example.net sh -c 'cat > /dev/null; echo yes'
id=$(todo_ids)
p=$(todo_text "$id" | sed -n 's/^u[0-9]*|p\([0-9]*\)|.*/\1/p')
check 99 "yes
condredirect: qp $p" "program exits 0: forwarded, exit 99"
is "$(todo_text "$id" | cut -d'|' -f3-)" "Forig@example.org|Tto@example.net|" "envelope: \$SENDER (not NEWSENDER), newaddress"
{ printf 'Delivered-To: joe@example.com\n'; cat "$QS6_TMP/msg"; } > "$QS6_TMP/exp"
mess_body "$id" > "$QS6_TMP/got"
same_file "$QS6_TMP/got" "$QS6_TMP/exp" "mess: DTLINE + the whole message"
clear_queue

run_cr to@example.net sh -c 'exit 1'
check 0 "" "program exits 1: exit 0, nothing forwarded"
run_cr to@example.net sh -c 'exit 100'
check 0 "" "program exits 100: exit 0"
run_cr to@example.net sh -c 'exit 111'
check 111 "condredirect: fatal: temporary child error" "program exits 111"
run_cr to@example.net sh -c 'kill -TERM $$'
check 111 "condredirect: fatal: child crashed" "program killed"
run_cr to@example.net /nonexistent/program
check 0 "" "no such program: exit 0"
is "$(todo_ids)" "" "nothing queued by any of these"

unset SENDER
run_cr to@example.net true
check 100 "condredirect: fatal: SENDER not set" "SENDER unset (checked after the program)"
export SENDER=orig@example.org
unset DTLINE
run_cr to@example.net true
check 100 "condredirect: fatal: DTLINE not set" "DTLINE unset"
export DTLINE='Delivered-To: joe@example.com
'
export QMAILQUEUE=/nonexistent/qq
run_cr to@example.net true
check 111 "condredirect: fatal: unable to exec qq (#4.3.0)" "no qmail-queue"
unset QMAILQUEUE

# In a .qmail file: exit 99 stops the lines after it.
unset SENDER NEWSENDER DTLINE
H=$(new_home)
dotqmail "$H" .qmail-cr '|condredirect other@example.net grep -q secret' './mbox'
msg 'Subject: secret\n\nbody\n'
deliver "$H" - cr poster@example.org
id=$(todo_ids)
p=$(todo_text "$id" | sed -n 's/^u[0-9]*|p\([0-9]*\)|.*/\1/p')
check 0 "condredirect: qp $p
did 0+0+1" "matching message: redirected, the rest of .qmail ignored"
[ ! -e "$H/mbox" ]; ok $? "... mbox not written"
is "$(todo_text "$id" | cut -d'|' -f3-)" "Fposter@example.org|Tother@example.net|" "... to other@example.net"
clear_queue
msg 'Subject: public\n\nbody\n'
deliver "$H" - cr poster@example.org
check 0 "did 1+0+1" "other message: not redirected, delivered to mbox"
[ -s "$H/mbox" ]; ok $? "... mbox written"

done_testing
