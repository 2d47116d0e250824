#!/bin/sh
# maildirmake name (qmail's maildirmake(1)): name, name/tmp, name/new,
# name/cur, mode 0700; errors "maildirmake: fatal: unable to mkdir ...".
. "${QS6_SRC:-$(dirname "$0")/../..}/tests/local/local-lib.sh"

MM=$QS6_BUILD/bin/maildirmake
run_mm() { rc=0; "$MM" "$@" > "$QS6_TMP/out" 2>&1 || rc=$?; }

run_mm
check 100 "maildirmake: usage: maildirmake name" "no argument: usage"
run_mm "$QS6_TMP/Maildir"
check 0 "" "maildirmake Maildir"
for d in "" /tmp /new /cur; do
  is "$(stat -c '%F %a' "$QS6_TMP/Maildir$d")" "directory 700" "Maildir$d: directory, mode 0700"
done
is "$(ls -A "$QS6_TMP/Maildir" | tr '\n' ' ')" "cur new tmp " "nothing else"
(umask 0; "$MM" "$QS6_TMP/Md2")
is "$(stat -c '%a' "$QS6_TMP/Md2/new")" 700 "mode 0700 whatever the caller's umask"
run_mm "$QS6_TMP/Maildir"
check 111 "maildirmake: fatal: unable to mkdir $QS6_TMP/Maildir: file already exists" "existing name"
run_mm "$QS6_TMP/none/Maildir"
check 111 "maildirmake: fatal: unable to mkdir $QS6_TMP/none/Maildir: file does not exist" "missing parent"

# A maildir made by maildirmake takes deliveries.
H=$(new_home)
"$MM" "$H/Maildir"
dotqmail "$H" .qmail-md './Maildir/'
msg 'Subject: x\n\nbody\n'
deliver "$H" - md
check 0 "did 1+0+0" "qmail-local delivers into it"
is "$(ls "$H/Maildir/new" | wc -l)" 1 "... one message in new/"

done_testing
