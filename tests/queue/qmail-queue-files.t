#!/bin/sh
# qmail-queue writes qmail's files, byte for byte (qmail.md sections 1 and 2):
# mess/{id%23}/{id} = Received line + message, intd/{id} = todo/{id} =
# u{uid}\0p{pid}\0F{sender}\0T{rcpt}\0..., the id is the inode number.
# The expected bytes are written here from the reference.
. "${QS6_SRC:-$(dirname "$0")/../..}/tests/lib/tap.sh"
export LC_ALL=C

SB=$(new_sandbox) || { echo "Bail out! no sandbox"; exit 1; }
Q=$SB/queue
QQ=$SB/bin/qmail-queue
myuid=$(id -u)
sbuid=$(sandbox_uid "$SB")

printf 'Subject: test\n\nline one\nline two\n' > "$QS6_TMP/msg"
printf 'Fsender@example.org\0Trcpt1@example.net\0Trcpt2@sandbox.example.test\0\0' > "$QS6_TMP/env"

t0=$(date +%s)
QMAILHOME=$SB "$QQ" < "$QS6_TMP/msg" 1< "$QS6_TMP/env" &
qqpid=$!
wait $qqpid
rc=$?
t1=$(date +%s)
is "$rc" 0 "qmail-queue exits 0"

todo=$(ls "$Q/todo")
is "$(echo "$todo" | wc -w)" 1 "one todo entry"
id=$todo
split=$((id % 23))
ok "$([ -f "$Q/mess/$split/$id" ]; echo $?)" "mess file sits in split dir id % 23 (mess/$split/$id)"
is "$(stat -c %i "$Q/mess/$split/$id")" "$id" "the message number is the inode number of mess"
is "$(stat -c %i "$Q/todo/$id")" "$(stat -c %i "$Q/intd/$id")" "todo is a hard link of intd"

# Received: (qmail {pid} invoked by uid {uid}); {date822}\n  -- the date is
# the time qmail-queue started: one of the seconds between t0 and t1.
matched=1
t=$t0
while [ "$t" -le "$t1" ]; do
  d=$(date -u -d "@$t" '+%-d %b %Y %H:%M:%S -0000')
  { printf 'Received: (qmail %s invoked by uid %s); %s\n' "$qqpid" "$myuid" "$d"; cat "$QS6_TMP/msg"; } > "$QS6_TMP/mess.exp"
  if cmp -s "$QS6_TMP/mess.exp" "$Q/mess/$split/$id"; then matched=0; break; fi
  t=$((t + 1))
done
ok $matched "mess bytes: Received line (sandbox: invoked by uid N) + the message"
[ $matched = 0 ] || same_file "$Q/mess/$split/$id" "$QS6_TMP/mess.exp" "mess bytes (diff)"

printf 'u%s\0p%s\0Fsender@example.org\0Trcpt1@example.net\0Trcpt2@sandbox.example.test\0' "$myuid" "$qqpid" > "$QS6_TMP/todo.exp"
same_file "$Q/todo/$id" "$QS6_TMP/todo.exp" "todo bytes: u, p, F, T records, no final NUL"
same_file "$Q/intd/$id" "$QS6_TMP/todo.exp" "intd bytes equal todo bytes"

is "$(stat -c '%a %u' "$Q/mess/$split/$id")" "644 $sbuid" "mess is mode 0644, owned by the queue user"
is "$(stat -c '%a %u' "$Q/todo/$id")" "644 $sbuid" "todo is mode 0644, owned by the queue user"
is "$(ls "$Q/pid" | wc -l)" 0 "no pid/ file left behind"

# The empty sender and a message with no trailing newline.
printf 'no newline at end' > "$QS6_TMP/msg2"
printf 'F\0Tx@y\0\0' > "$QS6_TMP/env2"
before=$(ls "$Q/todo")
QMAILHOME=$SB "$QQ" < "$QS6_TMP/msg2" 1< "$QS6_TMP/env2" &
qqpid=$!; wait $qqpid; rc=$?
is "$rc" 0 "empty sender queued"
id2=$(ls "$Q/todo" | grep -vx "$before")
printf 'u%s\0p%s\0F\0Tx@y\0' "$myuid" "$qqpid" > "$QS6_TMP/todo2.exp"
same_file "$Q/todo/$id2" "$QS6_TMP/todo2.exp" "empty sender: the F record is F and a NUL"
ok "$(tail -c 17 "$Q/mess/$((id2 % 23))/$id2" | cmp -s - "$QS6_TMP/msg2"; echo $?)" "message bytes kept exactly, no newline added"

# No recipients at all is a valid envelope (qmail-queue does not judge it).
printf 'Fa@b\0\0' > "$QS6_TMP/env3"
QMAILHOME=$SB "$QQ" < "$QS6_TMP/msg" 1< "$QS6_TMP/env3"
is "$?" 0 "envelope with no recipient is accepted"

# An address of 1002 bytes is the longest that fits.
long=$(head -c 1002 /dev/zero | tr '\0' a)
printf 'F%s\0T%s\0\0' "$long" "$long" > "$QS6_TMP/env4"
QMAILHOME=$SB "$QQ" < "$QS6_TMP/msg" 1< "$QS6_TMP/env4"
is "$?" 0 "1002-byte addresses are accepted"

# The trigger: qmail-queue writes one byte to lock/trigger when a reader holds it.
python3 - "$SB" "$QQ" "$QS6_TMP/msg" "$QS6_TMP/env" > "$QS6_TMP/trig" <<'PY'
import os, subprocess, sys, select
sb, qq, msg, env = sys.argv[1:]
fd = os.open(sb + "/queue/lock/trigger", os.O_RDONLY | os.O_NONBLOCK)
with open(msg, "rb") as m, open(env, "rb") as e:
    rc = subprocess.call([qq], stdin=m, stdout=e, env=dict(os.environ, QMAILHOME=sb))
r, _, _ = select.select([fd], [], [], 5)
data = os.read(fd, 16) if r else b""
print(rc, data.hex())
PY
is "$(cat "$QS6_TMP/trig")" "0 00" "the trigger FIFO gets one NUL byte"

# QMAILHOME is ignored when the program runs set-id (AT_SECURE): a setuid copy
# started by another user goes to the compiled home instead.
if [ "$myuid" = 0 ] && ! mount | grep -q " $(df --output=target "$QS6_TMP" | tail -1) .*nosuid"; then
  cp "$QQ" "$QS6_TMP/qq-setuid"
  chown "$sbuid" "$QS6_TMP/qq-setuid"; chmod 04711 "$QS6_TMP/qq-setuid"
  nobody=$(id -u nobody 2>/dev/null || echo 65534)
  n_before=$(ls "$Q/todo" | wc -l)
  setpriv --reuid="$nobody" --regid="$nobody" --clear-groups env QMAILHOME="$SB" "$QS6_TMP/qq-setuid" < "$QS6_TMP/msg" 1< "$QS6_TMP/env"
  rc=$?
  n_after=$(ls "$Q/todo" | wc -l)
  is "$n_after" "$n_before" "setuid qmail-queue ignores QMAILHOME: nothing queued in the sandbox"
  if [ -d /var/qmail/queue ]; then skip "a real /var/qmail exists; exit code not checked"
  else is "$rc" 61 "setuid qmail-queue goes to the compiled home (absent here: exit 61)"; fi
else
  skip "setuid check needs root and a suid-capable filesystem"
  skip "setuid check needs root and a suid-capable filesystem"
fi

done_testing
