#!/bin/sh
# bouncesaying error [ program [ arg ... ] ] (qmail's bouncesaying(1)):
# without program, prints error and exits 100; with program: exit 0 -> the
# same; 111 or crash -> 111; anything else (or no such program) -> 0.
. "${QS6_SRC:-$(dirname "$0")/../..}/tests/local/local-lib.sh"

BS=$QS6_BUILD/bin/bouncesaying
run_bs() { rc=0; "$BS" "$@" < /dev/null > "$QS6_TMP/out" 2>&1 || rc=$?; }

run_bs
check 100 "bouncesaying: usage: bouncesaying error [ program [ arg ... ] ]" "no argument: usage"
run_bs 'Sorry, this address is no longer in use. (#5.1.1)'
check 100 "Sorry, this address is no longer in use. (#5.1.1)" "no program: the text, exit 100"
run_bs 'go away' sh -c 'echo matched; exit 0'
check 100 "matched
go away" "program exits 0: bounce"
run_bs 'go away' sh -c 'exit 1'
check 0 "" "program exits 1: exit 0"
run_bs 'go away' sh -c 'exit 100'
check 0 "" "program exits 100: exit 0"
run_bs 'go away' sh -c 'exit 111'
check 111 "bouncesaying: fatal: temporary child error" "program exits 111"
run_bs 'go away' sh -c 'kill -KILL $$'
check 111 "bouncesaying: fatal: child crashed" "program killed"
run_bs 'go away' /nonexistent/program
check 0 "" "no such program: exit 0"

# In a .qmail file: the text becomes the report, permanent.
H=$(new_home)
dotqmail "$H" .qmail-old '|bouncesaying "This address is closed."' './mbox'
msg 'Subject: x\n\nbody\n'
deliver "$H" - old
check 100 "This address is closed." "|bouncesaying in .qmail: 100 with the text"
[ ! -e "$H/mbox" ]; ok $? "... the lines after it did not run"

done_testing
