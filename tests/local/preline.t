#!/bin/sh
# preline [ -dfrDFR ] cmd [ arg ... ] (qmail's preline(1)): cmd gets
# $UFLINE $RPLINE $DTLINE and then the message on its stdin (-f, -r, -d
# leave a line out, -F, -R, -D put it back); preline exits with cmd's code.
# UFLINE, RPLINE or DTLINE unset -> usage (100).
. "${QS6_SRC:-$(dirname "$0")/../..}/tests/local/local-lib.sh"

PL=$QS6_BUILD/bin/preline
USAGE="preline: usage: preline cmd [ arg ... ]"
msg 'Subject: pl\n\nFrom body\nlast'
export UFLINE='From s@x Thu Jan 01 00:00:00 1970
' RPLINE='Return-Path: <s@x>
' DTLINE='Delivered-To: joe@example.com
'
run_pl() { rc=0; "$PL" "$@" < "$QS6_TMP/msg" > "$QS6_TMP/out" 2>&1 || rc=$?; }
# expected LETTERS: the lines named (u r d), then the message
expected() {
  case $1 in *u*) printf '%s' "$UFLINE" ;; esac
  case $1 in *r*) printf '%s' "$RPLINE" ;; esac
  case $1 in *d*) printf '%s' "$DTLINE" ;; esac
  cat "$QS6_TMP/msg"
}

run_pl cat
is "$rc" 0 "preline cat: exit 0"
expected urd > "$QS6_TMP/exp"
same_file "$QS6_TMP/out" "$QS6_TMP/exp" "From_, Return-Path, Delivered-To, then the message as it is"
run_pl -f cat
expected rd > "$QS6_TMP/exp"
same_file "$QS6_TMP/out" "$QS6_TMP/exp" "-f: no From_ line"
run_pl -r cat
expected ud > "$QS6_TMP/exp"
same_file "$QS6_TMP/out" "$QS6_TMP/exp" "-r: no Return-Path"
run_pl -d cat
expected ur > "$QS6_TMP/exp"
same_file "$QS6_TMP/out" "$QS6_TMP/exp" "-d: no Delivered-To"
run_pl -frd cat
expected "" > "$QS6_TMP/exp"
same_file "$QS6_TMP/out" "$QS6_TMP/exp" "-frd: the message alone"
run_pl -fFd -- cat
expected ur > "$QS6_TMP/exp"
same_file "$QS6_TMP/out" "$QS6_TMP/exp" "-fF: the last one wins; -- ends the options"

run_pl sh -c 'cat > /dev/null; exit 42'
check 42 "" "cmd's exit code is preline's"
run_pl sh -c 'cat > /dev/null; exit 100'
check 100 "" "... 100"
run_pl sh -c 'kill -KILL $$'
check 111 "preline: fatal: child crashed" "cmd killed: 111"
run_pl /nonexistent/cmd
check 100 "preline: fatal: unable to run /nonexistent/cmd: file does not exist" "no such cmd: 100"
run_pl
check 100 "$USAGE" "no cmd: usage"
run_pl -x cat
check 100 "$USAGE" "unknown option: usage"
for v in UFLINE RPLINE DTLINE; do
  rc=0
  env -u "$v" "$PL" cat < "$QS6_TMP/msg" > "$QS6_TMP/out" 2>&1 || rc=$?
  check 100 "$USAGE" "$v unset: usage"
done

# A cmd that does not read its input: its exit code, whatever the size.
head -c 1000000 /dev/zero | tr '\0' 'x' > "$QS6_TMP/msg"
run_pl true
check 0 "" "cmd exits 0 without reading 1 MB: 0"
run_pl false
check 1 "" "cmd exits 1 without reading: 1"

# In a .qmail file, with qmail-local's lines.
H=$(new_home)
msg 'Subject: x\n\nbody\n'
dotqmail "$H" .qmail-pl '|preline cat > got'
deliver "$H" - pl 'a b@example.org'
check 0 "did 0+0+1" "|preline in .qmail"
sed -E '1s/ [A-Z][a-z]{2} [A-Z][a-z]{2} [0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2} [0-9]{4}$/ DATE/' "$H/got" > "$QS6_TMP/got"
{ printf 'From a-b@example.org DATE\nReturn-Path: <"a b"@example.org>\nDelivered-To: joe-pl@example.com\n'; cat "$QS6_TMP/msg"; } > "$QS6_TMP/exp"
same_file "$QS6_TMP/got" "$QS6_TMP/exp" "... the command sees qmail-local's UFLINE, RPLINE, DTLINE, then the message"

done_testing
