#!/bin/sh
# qmail-qread: qmail's listing of the queue (qmail.md section 7, admin-tools.md
# section 4).  The queues are written by hand from the reference formats, with
# fixed mtimes; the expected text is written from the reference:
#   {day} {Mon} {year} {HH:MM:SS} GMT  #{id}  {mess bytes}  <{sender}> [ bouncing]
#   \tlocal\t{addr} / \tremote\t{addr}, "  done" first for a D record
# info/0..22 in order; UTC; day not padded; bytes outside 32..126 -> '_';
# errors on stdout: "warning: trouble with #{id}: {qmail's error text}".
. "$QS6_SRC/tests/lib/tap.sh"
. "$QS6_SRC/tests/lib/queue-files.sh"

make_sandbox SB || { echo "Bail out! no sandbox"; exit 1; }

# An empty queue lists nothing.
run_in "$SB" qmail-qread
is "$rc" 0 "empty queue: exit 0"
is "$(wc -c < "$QS6_TMP/out")" 0 "empty queue: no output"

# mess file of a chosen id and size (qmail-qread only stats it).
mess() { head -c "$2" /dev/zero | qput "$SB" "mess/$(split "$1")/$1" 0644; }
when() { touch -d "$2" "$SB/queue/info/$(split "$1")/$1"; }

# id 23 (info/0): a bounce (empty sender) to a remote address.
mess 23 300
qinfo "$SB" 23 ""
qchan "$SB" remote 23 "Tpostmaster@remote.example"
when 23 '2024-12-31 23:59:59 UTC'

# id 24 (info/1): local and remote recipients, some done.
mess 24 1234
qinfo "$SB" 24 "alice@example.org"
qchan "$SB" local 24 "Tbob@sandbox.example.test" "Dcarol@sandbox.example.test"
qchan "$SB" remote 24 "Tdave@remote.example" "Derin@remote.example"
when 24 '2024-03-05 07:08:09 UTC'

# id 48 (info/2): bouncing, its only recipient done.
mess 48 56
qinfo "$SB" 48 "list-owner@example.org"
qchan "$SB" remote 48 "Dfrank@remote.example"
qbounce "$SB" 48
when 48 '2023-11-22 00:00:00 UTC'

# id 72 (info/3): non-printable bytes in the sender and in a recipient,
# an empty message.
mess 72 0
printf 'Fev\001il\tx\377\177@example.org\0' | qput "$SB" "info/3/72" 0600
printf 'Tgr\033[1mace@sandbox.example.test\0' | qput "$SB" "local/3/72" 0600
when 72 '2000-01-01 00:00:00 UTC'

# id 96 (todo/ only): not preprocessed, so not in info/: not listed.
mess 96 99
qtodo "$SB" 96 "todo@example.org" "x@remote.example"

# A name that is not a message id is skipped.
printf 'junk' | qput "$SB" "info/5/junk" 0600

# id 120 (info/5): a record of an unknown kind is skipped, and an
# unterminated last record is not shown.
mess 120 10
qinfo "$SB" 120 "h@example.org"
printf 'Thank@remote.example\0Xweird\0Tpartial@remote.exa' | qput "$SB" "remote/5/120" 0600
when 120 '2024-02-29 12:00:00 UTC'

# id 144 (info/6): its mess file is missing.
qinfo "$SB" 144 "lost@example.org"
qchan "$SB" remote 144 "Tlost@remote.example"

cat > "$QS6_TMP/exp" <<'EOF'
31 Dec 2024 23:59:59 GMT  #23  300  <> 
	remote	postmaster@remote.example
5 Mar 2024 07:08:09 GMT  #24  1234  <alice@example.org> 
	local	bob@sandbox.example.test
  done	local	carol@sandbox.example.test
	remote	dave@remote.example
  done	remote	erin@remote.example
22 Nov 2023 00:00:00 GMT  #48  56  <list-owner@example.org>  bouncing
  done	remote	frank@remote.example
1 Jan 2000 00:00:00 GMT  #72  0  <ev_il_x__@example.org> 
	local	gr_[1mace@sandbox.example.test
29 Feb 2024 12:00:00 GMT  #120  10  <h@example.org> 
	remote	hank@remote.example
warning: trouble with #144: file does not exist
EOF
run_in "$SB" qmail-qread
is "$rc" 0 "listing: exit 0 (warnings included)"
same_file "$QS6_TMP/out" "$QS6_TMP/exp" "listing: qmail's text, byte for byte"
is "$(wc -c < "$QS6_TMP/err")" 0 "listing: nothing on stderr"

# Arguments are ignored, as by qmail's qmail-qread (sendmail -bp).
run_in "$SB" qmail-qread -x foo
same_file "$QS6_TMP/out" "$QS6_TMP/exp" "arguments are ignored"

# A recipient longer than the record buffer is shown whole.
SB_SAVE=$SB
make_sandbox SB || { echo "Bail out! no sandbox"; exit 1; }
long=$(head -c 70000 /dev/zero | tr '\0' 'a')
mess 25 7
qinfo "$SB" 25 "big@example.org"
qchan "$SB" remote 25 "T$long@remote.example" "Dshort@remote.example"
when 25 '2024-01-02 03:04:05 UTC'
{ printf '2 Jan 2024 03:04:05 GMT  #25  7  <big@example.org> \n'
  printf '\tremote\t%s@remote.example\n' "$long"
  printf '  done\tremote\tshort@remote.example\n'
} > "$QS6_TMP/exp"
run_in "$SB" qmail-qread
is "$rc" 0 "long recipient: exit 0"
same_file "$QS6_TMP/out" "$QS6_TMP/exp" "long recipient: shown whole"

# An info/ subdirectory that cannot be opened is fatal, after what came before.
rmdir "$SB/queue/info/7"
{ printf '2 Jan 2024 03:04:05 GMT  #25  7  <big@example.org> \n'
  printf '\tremote\t%s@remote.example\n' "$long"
  printf '  done\tremote\tshort@remote.example\n'
  printf 'fatal: unable to opendir info/7: file does not exist\n'
} > "$QS6_TMP/exp"
run_in "$SB" qmail-qread
is "$rc" 111 "missing info/7: exit 111"
same_file "$QS6_TMP/out" "$QS6_TMP/exp" "missing info/7: qmail's fatal line on stdout"
SB=$SB_SAVE

# No queue at all.
run_in "$QS6_TMP/nowhere" qmail-qread
is "$rc" 111 "no home: exit 111"
is "$(cat "$QS6_TMP/out")" "fatal: unable to chdir: file does not exist" "no home: qmail's fatal line"

# A local/ file that cannot be opened (not ENOENT) is a warning; the listing
# goes on.  Needs an unreadable file: not possible as root.
if [ "$(id -u)" != 0 ]; then
  chmod 0 "$SB/queue/local/1/24"
  run_in "$SB" qmail-qread
  chmod 0600 "$SB/queue/local/1/24"
  grep -q '^warning: trouble with #24: access denied$' "$QS6_TMP/out"; ok $? "unreadable local/: warning with qmail's words"
  grep -q '^	remote	dave@remote.example$' "$QS6_TMP/out"; ok $? "unreadable local/: remote recipients still listed"
else
  skip "unreadable file: running as root"
  skip "unreadable file: running as root"
fi

done_testing
