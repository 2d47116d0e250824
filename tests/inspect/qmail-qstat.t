#!/bin/sh
# qmail-qstat: qmail's two lines (qmail.md section 7, admin-tools.md section 4)
#   messages in queue: {files below queue/mess/*}
#   messages in queue but not yet preprocessed: {files below queue/todo}
# qmail's script counts with find: every entry below each split directory of
# mess/ (dot files too), and every entry below todo/.
. "$QS6_SRC/tests/lib/tap.sh"
. "$QS6_SRC/tests/lib/queue-files.sh"

make_sandbox SB || { echo "Bail out! no sandbox"; exit 1; }

run_in "$SB" qmail-qstat
printf 'messages in queue: 0\nmessages in queue but not yet preprocessed: 0\n' > "$QS6_TMP/exp"
is "$rc" 0 "empty queue: exit 0"
same_file "$QS6_TMP/out" "$QS6_TMP/exp" "empty queue: 0 and 0"

# Three messages: 23 and 24 preprocessed (info/), 48 still in todo/; 49 has
# just been queued too.
for id in 23 24 48 49; do printf 'x\n' | qput "$SB" "mess/$(split $id)/$id" 0644; done
qinfo "$SB" 23 "a@example.org"; qchan "$SB" remote 23 "Tb@remote.example"
qinfo "$SB" 24 "a@example.org"; qchan "$SB" local 24 "Tc@sandbox.example.test"
qtodo "$SB" 48 "a@example.org" "d@remote.example"
qtodo "$SB" 49 "a@example.org" "e@remote.example"
run_in "$SB" qmail-qstat
printf 'messages in queue: 4\nmessages in queue but not yet preprocessed: 2\n' > "$QS6_TMP/exp"
is "$rc" 0 "four messages: exit 0"
same_file "$QS6_TMP/out" "$QS6_TMP/exp" "four messages, two not yet preprocessed"

# What find counts: a dot file below a split directory and below todo/ count;
# a file directly in mess/ is one of the glob's matches, and does not.
: > "$SB/queue/mess/5/.stray"
: > "$SB/queue/todo/.stray"
: > "$SB/queue/mess/junk"
run_in "$SB" qmail-qstat
printf 'messages in queue: 5\nmessages in queue but not yet preprocessed: 3\n' > "$QS6_TMP/exp"
same_file "$QS6_TMP/out" "$QS6_TMP/exp" "counts what qmail's find counts"
rm -f "$SB/queue/mess/5/.stray" "$SB/queue/todo/.stray" "$SB/queue/mess/junk"

# Arguments are ignored, as by qmail's script.
run_in "$SB" qmail-qstat -v
printf 'messages in queue: 4\nmessages in queue but not yet preprocessed: 2\n' > "$QS6_TMP/exp"
same_file "$QS6_TMP/out" "$QS6_TMP/exp" "arguments are ignored"

# A directory that cannot be read: no wrong number, exit 111.
mv "$SB/queue/todo" "$SB/queue/todo.away"
run_in "$SB" qmail-qstat
is "$rc" 111 "no todo/: exit 111"
is "$(wc -c < "$QS6_TMP/out")" 0 "no todo/: nothing on stdout"
grep -q '^qmail-qstat: fatal: unable to open directory queue/todo: ' "$QS6_TMP/err"; ok $? "no todo/: says why on stderr"
mv "$SB/queue/todo.away" "$SB/queue/todo"

run_in "$QS6_TMP/nowhere" qmail-qstat
is "$rc" 111 "no home: exit 111"
grep -q '^qmail-qstat: fatal: unable to chdir to ' "$QS6_TMP/err"; ok $? "no home: says why on stderr"

done_testing
