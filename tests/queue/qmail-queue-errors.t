#!/bin/sh
# qmail-queue's exit codes for broken envelopes (qmail.md section 2), and no
# residue: nothing queued, no file left in pid/, mess/, intd/ or todo/.
. "${QS6_SRC:-$(dirname "$0")/../..}/tests/lib/tap.sh"

SB=$(new_sandbox) || { echo "Bail out! no sandbox"; exit 1; }
Q=$SB/queue
QQ=$SB/bin/qmail-queue
printf 'Subject: x\n\nbody\n' > "$QS6_TMP/msg"

residue() {
  find "$Q/pid" "$Q/mess" "$Q/intd" "$Q/todo" -type f | wc -l
}

# try NAME EXPECTED-EXIT ENVELOPE-PRINTF-FORMAT [ARGS]
try() {
  name=$1 want=$2; shift 2
  # shellcheck disable=SC2059
  printf "$@" > "$QS6_TMP/env"
  QMAILHOME=$SB "$QQ" < "$QS6_TMP/msg" 1< "$QS6_TMP/env"
  is "$?" "$want" "$name: exit $want"
  is "$(residue)" 0 "$name: no todo entry, no residue"
}

long=$(head -c 1003 /dev/zero | tr '\0' a)
try "no F record (T first)" 91 'Ta@b\0\0'
try "unknown record letter" 91 'Fa@b\0Xc@d\0\0'
try "lowercase t record" 91 'Fa@b\0tc@d\0\0'
try "1003-byte sender with no NUL" 11 'F%s\0Tc@d\0\0' "$long"
try "1003-byte recipient with no NUL" 11 'Fa@b\0T%s\0\0' "$long"
try "1003-byte recipient cut by EOF" 11 'Fa@b\0T%s' "$long"
try "EOF before the final NUL" 54 'Fa@b\0Tc@d\0'
try "EOF inside a recipient" 54 'Fa@b\0Tc@'
try "EOF inside the sender" 54 'Fa@'
try "empty envelope" 54 ''

# A message that cannot be read: fd 0 is a directory (read error -> 54).
printf 'Fa@b\0Tc@d\0\0' > "$QS6_TMP/env"
QMAILHOME=$SB "$QQ" < "$Q" 1< "$QS6_TMP/env"
is "$?" 54 "unreadable message: exit 54"
is "$(residue)" 0 "unreadable message: no residue"

# The home or the queue is missing.
QMAILHOME=$QS6_TMP/nonexistent "$QQ" < "$QS6_TMP/msg" 1< "$QS6_TMP/env"
is "$?" 61 "missing home: exit 61"
mkdir "$QS6_TMP/noqueue"; cp "$SB/sandbox" "$QS6_TMP/noqueue/"
QMAILHOME=$QS6_TMP/noqueue "$QQ" < "$QS6_TMP/msg" 1< "$QS6_TMP/env"
is "$?" 62 "missing queue/: exit 62"

# A queue whose mess/ split dir is missing: exit 64, and the pid file is gone.
SB2=$(new_sandbox)
rm -rf "$SB2/queue/mess"
QMAILHOME=$SB2 "$SB2/bin/qmail-queue" < "$QS6_TMP/msg" 1< "$QS6_TMP/env"
is "$?" 64 "missing mess/: exit 64"
is "$(ls "$SB2/queue/pid" | wc -l)" 0 "missing mess/: no pid file left"

done_testing
