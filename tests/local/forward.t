#!/bin/sh
# forward address ... (qmail's forward(1)): queues $DTLINE + stdin with
# envelope sender $NEWSENDER to the addresses; prints "forward: qp {pid}";
# exit 0.  NEWSENDER or DTLINE unset -> 100; qmail-queue's refusal ->
# "forward: fatal: {text}" with 100 (permanent) or 111.
. "${QS6_SRC:-$(dirname "$0")/../..}/tests/local/local-lib.sh"

FW=$QS6_BUILD/bin/forward
msg 'Subject: fw\n\nbody\nlast'

# run_fw ARGS...: forward as the delivering user, QMAILHOME = the sandbox.
run_fw() {
  rc=0
  as_user env QMAILHOME="$SB" "$FW" "$@" < "$QS6_TMP/msg" > "$QS6_TMP/out" 2>&1 || rc=$?
}

NEWSENDER=new@example.org DTLINE='Delivered-To: joe@example.com
'
export NEWSENDER DTLINE
run_fw a@example.net b@example.net
id=$(todo_ids)
p=$(todo_text "$id" | sed -n 's/^u[0-9]*|p\([0-9]*\)|.*/\1/p')
check 0 "forward: qp $p" "forwarded: exit 0, qp on stderr"
is "$(todo_text "$id")" "u$U_UID|p$p|Fnew@example.org|Ta@example.net|Tb@example.net|" "todo: NEWSENDER and the arguments"
{ printf 'Delivered-To: joe@example.com\n'; cat "$QS6_TMP/msg"; } > "$QS6_TMP/exp"
mess_body "$id" > "$QS6_TMP/got"
same_file "$QS6_TMP/got" "$QS6_TMP/exp" "mess: DTLINE + the message"
clear_queue

# stdin is read from where it is (no rewind).
rc=0
as_user env QMAILHOME="$SB" sh -c 'read -r first; exec "$0" c@example.net' "$FW" < "$QS6_TMP/msg" > "$QS6_TMP/out" 2>&1 || rc=$?
id=$(todo_ids)
{ printf 'Delivered-To: joe@example.com\n'; tail -n +2 "$QS6_TMP/msg"; } > "$QS6_TMP/exp"
mess_body "$id" > "$QS6_TMP/got"
same_file "$QS6_TMP/got" "$QS6_TMP/exp" "the message from the current offset of stdin"
clear_queue

unset NEWSENDER
run_fw a@example.net
check 100 "forward: fatal: NEWSENDER not set" "NEWSENDER unset"
NEWSENDER=new@example.org; export NEWSENDER
unset DTLINE
run_fw a@example.net
check 100 "forward: fatal: DTLINE not set" "DTLINE unset"
is "$(todo_ids)" "" "nothing queued"
DTLINE='Delivered-To: joe@example.com
'
export DTLINE

cat > "$QS6_TMP/qq-exit" <<'EOS'
#!/bin/sh
cat > /dev/null
cat <&1 > /dev/null 2>&1
exit $QQ_EXIT
EOS
chmod 0755 "$QS6_TMP/qq-exit"
export QMAILQUEUE="$QS6_TMP/qq-exit" QQ_EXIT=31
run_fw a@example.net
check 100 "forward: fatal: mail server permanently rejected message (#5.3.0)" "qmail-queue exit 31"
QQ_EXIT=53
run_fw a@example.net
check 111 "forward: fatal: qq write error or disk full (#4.3.0)" "qmail-queue exit 53"
QMAILQUEUE=$QS6_TMP/nonexistent
run_fw a@example.net
check 111 "forward: fatal: unable to exec qq (#4.3.0)" "no qmail-queue"
unset QMAILQUEUE QQ_EXIT

# From a .qmail file: NEWSENDER and DTLINE come from qmail-local.
unset NEWSENDER DTLINE
H=$(new_home)
dotqmail "$H" .qmail-list '|forward "$EXT2"@example.net'
dotqmail "$H" .qmail-list-owner 'x'
deliver "$H" - list poster@example.org
id=$(todo_ids)
p=$(todo_text "$id" | sed -n 's/^u[0-9]*|p\([0-9]*\)|.*/\1/p')
check 0 "forward: qp $p
did 0+0+1" "|forward in .qmail"
is "$(todo_text "$id" | cut -d'|' -f3-)" "Fjoe-list-owner@example.com|T@example.net|" "... NEWSENDER from qmail-local"
{ printf 'Delivered-To: joe-list@example.com\n'; cat "$QS6_TMP/msg"; } > "$QS6_TMP/exp"
mess_body "$id" > "$QS6_TMP/got"
same_file "$QS6_TMP/got" "$QS6_TMP/exp" "... DTLINE from qmail-local, the whole message"
clear_queue

done_testing
