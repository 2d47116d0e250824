#!/bin/sh
# qmail-qcheck: the read-only queue checker.  Each problem is one line
# "{tag}: {path}: {explanation}" (path relative to queue/); exit 0 when there
# is none, 1 when there are some, 100 usage, 111 when the queue cannot be read.
# The layout (owners, modes) is qmail's (qmail.md section 1): mess/ intd/ todo/
# files qmailq 0644, info/ local/ remote/ bounce/ files qmails 0600; a message
# in todo/ waits for qmail-send and is not a problem.  Each case gets its own
# sandbox, with files written by hand from the reference formats.
. "$QS6_SRC/tests/lib/tap.sh"
. "$QS6_SRC/tests/lib/queue-files.sh"

fresh() { make_sandbox SB || { echo "Bail out! no sandbox"; exit 1; }; }

# check DESC RC: runs qmail-qcheck in $SB; stdout must be $QS6_TMP/exp byte
# for byte, the exit code RC, stderr empty.
check() {
  run_in "$SB" qmail-qcheck
  is "$rc" "$2" "$1: exit $2"
  same_file "$QS6_TMP/out" "$QS6_TMP/exp" "$1: output"
  is "$(cat "$QS6_TMP/err")" "" "$1: nothing on stderr"
}

# check_sorted DESC RC: the same, for lines that come in directory order.
check_sorted() {
  run_in "$SB" qmail-qcheck
  is "$rc" "$2" "$1: exit $2"
  sort "$QS6_TMP/out" > "$QS6_TMP/out.sorted"
  sort "$QS6_TMP/exp" > "$QS6_TMP/exp.sorted"
  same_file "$QS6_TMP/out.sorted" "$QS6_TMP/exp.sorted" "$1: output (sorted)"
  is "$(cat "$QS6_TMP/err")" "" "$1: nothing on stderr"
}

STALE="left by an interrupted qmail-queue"
AFTER1="qmail-clean removes it after 36 hours"
AFTER2="qmail-send and qmail-clean remove it after 36 hours"

# A delivered-to-be message: mess, info, local and remote (one done), bounce.
good_message() {
  _id=$(printf 'Received: (qmail 1 invoked by uid 0); 1 Jan 2024 00:00:00 -0000\n\nhi\n' | qmess "$SB")
  qinfo "$SB" "$_id" "alice@example.org"
  qchan "$SB" local "$_id" "Tbob@sandbox.example.test" "Dcarol@sandbox.example.test"
  qchan "$SB" remote "$_id" "Tdave@remote.example"
  qbounce "$SB" "$_id"
  echo "$_id"
}

# --- a clean queue
fresh
: > "$QS6_TMP/exp"
check "fresh queue" 0

good=$(good_message)
# Waiting for preprocessing: mess + intd + todo.
waiting=$(printf 'x\n' | qmess "$SB")
qtodo "$SB" "$waiting" "alice@example.org" "bob@sandbox.example.test"
# Preprocessed by qmail-send, todo/ not yet removed by qmail-clean.
half=$(printf 'y\n' | qmess "$SB")
qtodo "$SB" "$half" "alice@example.org" "erin@remote.example"
qinfo "$SB" "$half" "alice@example.org"
qchan "$SB" remote "$half" "Terin@remote.example"
# qmail-send died between unlinking info/ and local/ while preprocessing again.
again=$(printf 'z\n' | qmess "$SB")
qtodo "$SB" "$again" "alice@example.org" "bob@sandbox.example.test"
qchan "$SB" local "$again" "Tbob@sandbox.example.test"
check "healthy messages, and messages in todo/" 0

# --- stale-pid, stale-mess, stale-intd: what an interrupted qmail-queue leaves
fresh
printf '' | qput "$SB" "pid/12345.1700000000.1" 0644
printf 'stale-pid: pid/12345.1700000000.1: %s; %s\n' "$STALE" "$AFTER1" > "$QS6_TMP/exp"
check "pid/ file" 1

fresh
m=$(printf 'Received: x\n' | qmess "$SB")
printf 'stale-mess: mess/%s/%s: neither todo/%s nor info/%s/%s exists: %s; %s\n' \
  "$(split $m)" "$m" "$m" "$(split $m)" "$m" "$STALE" "$AFTER2" > "$QS6_TMP/exp"
check "mess/ without todo/ or info/" 1

fresh
m=$(printf 'Received: x\n' | qmess "$SB")
printf 'u0\0p12345\0Fa@example.org\0Tb@example.org\0' | qput "$SB" "intd/$m" 0644
{ printf 'stale-intd: intd/%s: todo/%s does not exist: %s; %s\n' "$m" "$m" "$STALE" "$AFTER2"
  printf 'stale-mess: mess/%s/%s: neither todo/%s nor info/%s/%s exists: %s; %s\n' \
    "$(split $m)" "$m" "$m" "$(split $m)" "$m" "$STALE" "$AFTER2"
} > "$QS6_TMP/exp"
check "intd/ without todo/" 1

# --- missing parts of the layout
fresh
rmdir "$SB/queue/mess/7"
rm -f "$SB/queue/lock/sendmutex" "$SB/queue/lock/trigger"
rmdir "$SB/queue/bounce"
cat > "$QS6_TMP/exp" <<'EOF'
missing: mess/7: directory does not exist (qmail-mkqueue creates it)
missing: bounce: directory does not exist (qmail-mkqueue creates it)
missing: lock/sendmutex: file does not exist (qmail-mkqueue creates it)
missing: lock/trigger: FIFO does not exist (qmail-mkqueue creates it)
EOF
check "missing directories and lock files" 1

# --- owner and group (only root can give a file away)
if [ "$(id -u)" = 0 ]; then
  fresh
  U=$(sandbox_uid "$SB"); G=$(sandbox_gid "$SB")
  m=$(good_message)
  chown 0:0 "$SB/queue/info/$(split $m)/$m"
  chgrp 0 "$SB/queue/todo"
  chown 0 "$SB/queue/lock/tcpto"
  { printf 'owner: todo: group is gid 0, should be qmail (gid %s)\n' "$G"
    printf 'owner: lock/tcpto: owner is uid 0, should be qmailr (uid %s)\n' "$U"
    printf 'owner: info/%s/%s: owner is uid 0, should be qmails (uid %s)\n' "$(split $m)" "$m" "$U"
  } > "$QS6_TMP/exp"
  check "wrong owner and group" 1
else
  skip "owner: not root"; skip "owner: not root"; skip "owner: not root"
fi

# --- modes
fresh
m=$(good_message)
chmod 0640 "$SB/queue/info/$(split $m)/$m"
chmod 0664 "$SB/queue/mess/$(split $m)/$m"
chmod 0755 "$SB/queue/mess/3"
chmod 0666 "$SB/queue/lock/trigger"
chmod 0755 "$SB/queue"
{ printf 'mode: .: mode is 0755, should be 0750\n'
  printf 'mode: mess/3: mode is 0755, should be 0750\n'
  printf 'mode: lock/trigger: mode is 0666, should be 0622\n'
  printf 'mode: mess/%s/%s: mode is 0664, should be 0644\n' "$(split $m)" "$m"
  printf 'mode: info/%s/%s: mode is 0640, should be 0600\n' "$(split $m)" "$m"
} > "$QS6_TMP/exp"
check "wrong modes" 1

# --- types
fresh
mkdir "$SB/queue/todo/123"
rm -f "$SB/queue/lock/trigger"
printf '' | qput "$SB" lock/trigger 0622
m=$(good_message)
# a split dir other than the message's own, so that its mess file stays
bad=$(( ($(split $m) + 1) % 23 ))
rmdir "$SB/queue/mess/$bad"
printf '' | qput "$SB" mess/$bad 0750
mv "$SB/queue/remote/$(split $m)/$m" "$QS6_TMP/remote.$m"
ln -s "$QS6_TMP/remote.$m" "$SB/queue/remote/$(split $m)/$m"
{ printf 'type: mess/%s: not a directory\n' "$bad"
  printf 'type: lock/trigger: not a FIFO\n'
  printf 'type: todo/123: not a regular file\n'
  printf 'type: remote/%s/%s: not a regular file\n' "$(split $m)" "$m"
} > "$QS6_TMP/exp"
check "wrong types" 1

# --- split: a file in the wrong split directory, entries outside them
fresh
m=$(good_message)
r=$(split $m); w=$(( (r + 1) % 23 ))
mv "$SB/queue/info/$r/$m" "$SB/queue/info/$w/$m"
{ printf 'stale-mess: mess/%s/%s: neither todo/%s nor info/%s/%s exists: %s; %s\n' "$r" "$m" "$m" "$r" "$m" "$STALE" "$AFTER2"
  printf 'split: info/%s/%s: belongs in info/%s/%s\n' "$w" "$m" "$r" "$m"
  printf 'no-info: local/%s/%s: info/%s/%s does not exist\n' "$r" "$m" "$r" "$m"
  printf 'no-info: remote/%s/%s: info/%s/%s does not exist\n' "$r" "$m" "$r" "$m"
  printf 'no-info: bounce/%s: info/%s/%s does not exist\n' "$m" "$r" "$m"
} > "$QS6_TMP/exp"
check "info/ file in the wrong split directory" 1

fresh
mkdir "$SB/queue/mess/23"
printf 'x' | qput "$SB" mess/foo 0644
printf 'x' | qput "$SB" remote/457 0600
cat > "$QS6_TMP/exp" <<'EOF'
split: mess/23: outside the split subdirectories mess/0 .. mess/22
name: mess/foo: not a split subdirectory
split: remote/457: outside the split subdirectories remote/0 .. remote/22
EOF
check_sorted "entries beside the split subdirectories" 1

# --- names
fresh
printf 'x' | qput "$SB" todo/foo 0644
printf 'x' | qput "$SB" bounce/012 0600
printf 'x' | qput "$SB" "$(printf 'intd/a\001b')" 0644
cat > "$QS6_TMP/exp" <<'EOF'
name: todo/foo: not a message id
name: intd/a?b: not a message id
name: bounce/012: not a message id
EOF
check "names that are not message ids" 1

# A mess/ file whose inode number is not its name (a copied queue).
fresh
m=$(printf 'x\n' | qmess "$SB")
n=$((m + 1))
mv "$SB/queue/mess/$(split $m)/$m" "$SB/queue/mess/$(split $n)/$n"
qinfo "$SB" "$n" "alice@example.org"
qchan "$SB" remote "$n" "Tdave@remote.example"
printf 'name: mess/%s/%s: inode number is %s, not the message id (a copied queue: new messages would collide with it)\n' \
  "$(split $n)" "$n" "$m" > "$QS6_TMP/exp"
check "mess/ inode that is not its name" 1

# --- no-mess, no-info, no-recipients
fresh
qtodo "$SB" 777 "alice@example.org" "bob@sandbox.example.test"
qinfo "$SB" 778 "alice@example.org"
qchan "$SB" remote 778 "Tdave@remote.example"
qbounce "$SB" 778
{ printf 'no-mess: todo/777: mess/%s/777 does not exist\n' "$(split 777)"
  printf 'no-mess: intd/777: mess/%s/777 does not exist\n' "$(split 777)"
  printf 'no-mess: info/%s/778: mess/%s/778 does not exist\n' "$(split 778)" "$(split 778)"
  printf 'no-mess: remote/%s/778: mess/%s/778 does not exist\n' "$(split 778)" "$(split 778)"
  printf 'no-mess: bounce/778: mess/%s/778 does not exist\n' "$(split 778)"
} > "$QS6_TMP/exp"
check "files whose mess/ is missing" 1

fresh
m=$(good_message)
rm -f "$SB/queue/info/$(split $m)/$m"
{ printf 'stale-mess: mess/%s/%s: neither todo/%s nor info/%s/%s exists: %s; %s\n' \
    "$(split $m)" "$m" "$m" "$(split $m)" "$m" "$STALE" "$AFTER2"
  printf 'no-info: local/%s/%s: info/%s/%s does not exist\n' "$(split $m)" "$m" "$(split $m)" "$m"
  printf 'no-info: remote/%s/%s: info/%s/%s does not exist\n' "$(split $m)" "$m" "$(split $m)" "$m"
  printf 'no-info: bounce/%s: info/%s/%s does not exist\n' "$m" "$(split $m)" "$m"
} > "$QS6_TMP/exp"
check "local/ remote/ bounce/ without info/" 1

fresh
m=$(printf 'x\n' | qmess "$SB")
qinfo "$SB" "$m" "alice@example.org"
printf 'no-recipients: info/%s/%s: neither local/%s/%s nor remote/%s/%s exists\n' \
  "$(split $m)" "$m" "$(split $m)" "$m" "$(split $m)" "$m" > "$QS6_TMP/exp"
check "info/ without local/ or remote/" 1

# --- usage and fatal errors
run_in "$SB" qmail-qcheck -v
is "$rc" 100 "usage: exit 100"
is "$(cat "$QS6_TMP/err")" "qmail-qcheck: usage: qmail-qcheck" "usage: message"

run_in "$QS6_TMP/nowhere" qmail-qcheck
is "$rc" 111 "no home: exit 111"
grep -q '^qmail-qcheck: fatal: unable to chdir to ' "$QS6_TMP/err"; ok $? "no home: fatal message"

fresh
mv "$SB/queue" "$SB/queue.away"
run_in "$SB" qmail-qcheck
is "$rc" 111 "no queue/: exit 111"
grep -q "^qmail-qcheck: fatal: unable to chdir to $SB/queue: " "$QS6_TMP/err"; ok $? "no queue/: fatal message"

if [ "$(id -u)" != 0 ]; then
  fresh
  chmod 0 "$SB/queue/info/5"
  run_in "$SB" qmail-qcheck
  chmod 0700 "$SB/queue/info/5"
  is "$rc" 111 "unreadable info/5: exit 111"
  grep -q '^qmail-qcheck: fatal: unable to read directory info/5: ' "$QS6_TMP/err"; ok $? "unreadable info/5: fatal message"
  is "$(cat "$QS6_TMP/out")" "mode: info/5: mode is 0000, should be 0700" "unreadable info/5: the lines found before"
else
  skip "unreadable directory: running as root"; skip "unreadable directory: running as root"; skip "unreadable directory: running as root"
fi

done_testing
