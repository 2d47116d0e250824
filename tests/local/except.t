#!/bin/sh
# except program [ arg ... ] (qmail's except(1)): program exits 0 -> 100;
# 111 or crash -> 111; anything else (or no such program) -> 0.
. "${QS6_SRC:-$(dirname "$0")/../..}/tests/local/local-lib.sh"

EX=$QS6_BUILD/bin/except
run_ex() { rc=0; "$EX" "$@" < "$QS6_TMP/msg" > "$QS6_TMP/out" 2>&1 || rc=$?; }
msg 'Subject: x\n\nsecret body\n'

run_ex
check 100 "except: usage: except program [ arg ... ]" "no argument: usage"
run_ex sh -c 'echo output; exit 0'
check 100 "output" "program exits 0: 100, its output kept"
run_ex sh -c 'exit 1'
check 0 "" "program exits 1: 0"
run_ex sh -c 'exit 100'
check 0 "" "program exits 100: 0"
run_ex sh -c 'exit 99'
check 0 "" "program exits 99: 0"
run_ex sh -c 'exit 111'
check 111 "except: fatal: temporary child error" "program exits 111"
run_ex sh -c 'kill -SEGV $$'
check 111 "except: fatal: child crashed" "program killed"
run_ex /nonexistent/program
check 0 "" "no such program: 0"
run_ex grep -q secret
check 100 "" "stdin is passed on: grep finds the word, 100"

# In a .qmail file.
H=$(new_home)
dotqmail "$H" .qmail-ex '|except grep -q secret' './mbox'
deliver "$H" - ex
check 100 "" "|except grep: a match bounces"
msg 'Subject: x\n\npublic body\n'
deliver "$H" - ex
check 0 "did 1+0+1" "no match: delivered"

done_testing
