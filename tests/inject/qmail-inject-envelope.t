#!/bin/sh
# qmail-inject: the envelope it hands to qmail-queue (qmail.md sections 2
# and 6): recipients by -a/-h/-A/-H, the sender by -f, Return-Path, the
# environment and the VERP letters r and m, address rewriting of arguments,
# and what it does with qmail-queue's exit codes.  QMAILQUEUE points at
# tests/inject/fake-qq-record, which records fd 0 and fd 1.  Expected
# envelopes are written from the reference: F{sender}\0 T{rcpt}\0 ... \0,
# shown here with | for NUL; header recipients come field by field, each
# field read right to left, as qmail's token822_addrlist does.
. "${QS6_SRC:-$(dirname "$0")/../..}/tests/inject/inject-lib.sh"

H=$(light_home h1 sandbox.example.test)
FQ=$QS6_TMP/fq
mkdir -p "$FQ"
# inj [VAR=value ...] PROGRAM ARGS...: run with the fake qmail-queue.
inj() {
  rm -f "$FQ/envelope" "$FQ/mess" "$FQ/cwd"
  env QMAILHOME="$H" QMAILQUEUE="$FAKEQQ" FAKEQQ_DIR="$FQ" QMAILUSER=joe "$@"
}
env_is() { is "$(envelope_of "$FQ/envelope" 2>/dev/null)" "$1" "$2"; }

printf '%s\n' 'To: t1@x.example, t2@x.example' 'Cc: c@x.example' 'Bcc: b@x.example' \
  'Apparently-To: ap@x.example' 'Subject: s' '' 'body' > "$QS6_TMP/msg"
hdr='Tt2@x.example|Tt1@x.example|Tc@x.example|Tb@x.example|Tap@x.example|'

# 1. Recipient selection.
inj "$QI" -a a1@y.example a2 < "$QS6_TMP/msg"
is "$?" 0 "-a: exit 0"
env_is "Fjoe@sandbox.example.test|Ta1@y.example|Ta2@sandbox.example.test||" "-a: the arguments only, rewritten"
is "$(cat "$FQ/cwd")" "$H" "qmail-queue runs in the home"
grep -q '^Bcc' "$FQ/mess"; ok "$([ $? = 1 ]; echo $?)" "the queued message has no Bcc field"
is "$(grep -c '^To: t1@x.example, t2@x.example$' "$FQ/mess")" 1 "the queued message keeps To"
inj "$QI" -h a1@y.example < "$QS6_TMP/msg"
env_is "Fjoe@sandbox.example.test|$hdr|" "-h: To, Cc, Bcc, Apparently-To; arguments ignored"
inj "$QI" -A a1@y.example < "$QS6_TMP/msg"
env_is "Fjoe@sandbox.example.test|Ta1@y.example||" "-A with arguments: the arguments"
inj "$QI" -A < "$QS6_TMP/msg"
env_is "Fjoe@sandbox.example.test|$hdr|" "-A without arguments: the header"
inj "$QI" -H a1@y.example < "$QS6_TMP/msg"
env_is "Fjoe@sandbox.example.test|Ta1@y.example|$hdr|" "-H: arguments, then the header"
inj "$QI" a1@y.example < "$QS6_TMP/msg"
env_is "Fjoe@sandbox.example.test|Ta1@y.example||" "default with arguments: the arguments"
inj "$QI" < "$QS6_TMP/msg"
env_is "Fjoe@sandbox.example.test|$hdr|" "default without arguments: the header"
inj "$QI" -a -h -n -N < "$QS6_TMP/msg"
env_is "Fjoe@sandbox.example.test|$hdr|" "the last of -a/-h wins, -N undoes -n"
printf 'Subject: none\n' | inj "$QI"
env_is "Fjoe@sandbox.example.test||" "no recipient anywhere: queued with none (as qmail does)"

printf '%s\n' 'To: t@x.example' 'Resent-To: rt@x.example' 'Resent-Cc: rc1@x.example, rc2@x.example' \
  'Resent-Bcc: rb@x.example' 'Bcc: b@x.example' '' 'body' > "$QS6_TMP/resent"
inj "$QI" -h < "$QS6_TMP/resent"
env_is "Fjoe@sandbox.example.test|Trt@x.example|Trc2@x.example|Trc1@x.example|Trb@x.example||" "resent message: Resent-To/Cc/Bcc only"
grep -q 'Bcc' "$FQ/mess"; ok "$([ $? = 1 ]; echo $?)" "resent message: Bcc and Resent-Bcc deleted"

# 2. The sender.
inj "$QI" -f bob@example.org -a x@y.example < /dev/null
env_is "Fbob@example.org|Tx@y.example||" "-f sets the envelope sender"
printf 'Return-Path: <rp@x.example>\n' | inj "$QI" -f bob@example.org -a x@y.example
env_is "Fbob@example.org|Tx@y.example||" "-f wins over Return-Path"
printf 'Return-Path: <rp@x.example>\n' | inj "$QI" -a x@y.example
env_is "Frp@x.example|Tx@y.example||" "Return-Path sets the sender"
printf 'Return-Path: <rp>\n' | inj "$QI" -a x@y.example
env_is "Frp@sandbox.example.test|Tx@y.example||" "the Return-Path address is rewritten"
inj "$QI" -f bob -a x@y.example < /dev/null
env_is "Fbob@sandbox.example.test|Tx@y.example||" "-f is rewritten"
inj "$QI" -f '' -a x@y.example < /dev/null
env_is "F|Tx@y.example||" "-f '': the null sender"
inj "$QI" -f 'joe smith@x.example' -a x@y.example < /dev/null
env_is "Fjoe smith@x.example|Tx@y.example||" "-f with a box that needs quoting"
inj QMAILINJECT=r "$QI" -a x@y.example < /dev/null
env_is "Fjoe-@sandbox.example.test-@[]|Tx@y.example||" "QMAILINJECT=r: per-recipient VERP sender"
printf 'Return-Path: <rp@x.example>\n' | inj QMAILINJECT=r "$QI" -a x@y.example
env_is "Frp@x.example-@[]|Tx@y.example||" "QMAILINJECT=r with Return-Path"
inj QMAILINJECT=r "$QI" -f bob@example.org -a x@y.example < /dev/null
env_is "Fbob@example.org|Tx@y.example||" "QMAILINJECT=r does not touch -f"
inj QMAILINJECT=r QMAILUSER=joe "$QI" -n -a x@y.example < /dev/null > "$QS6_TMP/out"
is "$(sed -n 1p "$QS6_TMP/out")" 'Return-Path: <"joe-@sandbox.example.test-"@[]>' "QMAILINJECT=r -n: the box quoted at its last @"
t0=$(date +%s)
# (env, not inj: $! must be the pid of qmail-inject itself)
env QMAILHOME="$H" QMAILQUEUE="$FAKEQQ" FAKEQQ_DIR="$FQ" QMAILUSER=joe QMAILINJECT=m "$QI" -a x@y.example < /dev/null &
pid=$!; wait $pid
t1=$(date +%s)
found=1; t=$t0
while [ "$t" -le "$t1" ]; do
  [ "$(envelope_of "$FQ/envelope")" = "Fjoe-$t.$pid@sandbox.example.test|Tx@y.example||" ] && found=0
  t=$((t + 1))
done
ok $found "QMAILINJECT=m: sender user-{time}.{pid}"
t0=$(date +%s)
env QMAILHOME="$H" QMAILQUEUE="$FAKEQQ" FAKEQQ_DIR="$FQ" QMAILUSER=joe QMAILINJECT=rm QMAILSUSER=list QMAILSHOST=lists.example "$QI" -a x@y.example < /dev/null &
pid=$!; wait $pid
t1=$(date +%s)
found=1; t=$t0
while [ "$t" -le "$t1" ]; do
  [ "$(envelope_of "$FQ/envelope")" = "Flist-$t.$pid-@lists.example-@[]|Tx@y.example||" ] && found=0
  t=$((t + 1))
done
ok $found "QMAILINJECT=rm with QMAILSUSER/QMAILSHOST: list-{time}.{pid}-@host-@[]"

# 3. Rewriting of recipient arguments (each argument is one address; its
#    box is quoted first when it needs it).
inj "$QI" -a joe joe@box joe@box+ joe@x.example. 'joe smith@x.example' 'joe@[1.2.3.4]' 'foo@[]' \
  '@r1.example,@r2.example:joe@box.example' < /dev/null
env_is "Fjoe@sandbox.example.test|Tjoe@sandbox.example.test|Tjoe@box.sandbox.example.test|Tjoe@box.sandbox.example.test|Tjoe@x.example|Tjoe smith@x.example|Tjoe@[1.2.3.4]|Tfoo@[]|T@r1.example,@r2.example:joe@box.example||" \
  "arguments: @defaulthost, .defaultdomain, .plusdomain, trailing dot, quoting, literals, foo@[]"
printf '%s\n' 'To: joe, joe@box, joe@box+, <@r1.example,@r2.example:joe@box.example>, <>, Joe Smith <js>' \
  'Cc: friends: a, b;, c d, e (Eee), "q x"@box.example' > "$QS6_TMP/rw"
inj QMAILDEFAULTHOST=mailhost QMAILDEFAULTDOMAIN=example.com QMAILPLUSDOMAIN=plus.example.com "$QI" -h < "$QS6_TMP/rw"
env_is "Fjoe@mailhost.example.com|Tjs@mailhost.example.com|T|Tjoe@box.example|Tjoe@box.plus.example.com|Tjoe@box.example.com|Tjoe@mailhost.example.com|Tq x@box.example|Te@mailhost.example.com|Td@mailhost.example.com|Tc@mailhost.example.com|Tb@mailhost.example.com|Ta@mailhost.example.com||" \
  "header recipients: routes stripped, <> kept, groups, words without commas, comments, quotes"
sed -n '/^To:/,$p' "$FQ/mess" > "$QS6_TMP/got"
printf '%s\n' 'To: joe@mailhost.example.com, joe@box.example.com, joe@box.plus.example.com,' \
  '  <joe@box.example>, <>, Joe Smith <js@mailhost.example.com>' \
  'Cc: friends: a@mailhost.example.com, b@mailhost.example.com;,' \
  '  c@mailhost.example.com, d@mailhost.example.com,' \
  '  e@mailhost.example.com (Eee), "q x"@box.example' > "$QS6_TMP/exp"
same_file "$QS6_TMP/got" "$QS6_TMP/exp" "the same fields as rewritten in the message"

# 4. Parse errors.
inj "$QI" -a 'a@(b' < /dev/null 2> "$QS6_TMP/err"
is "$?" 100 "unparsable recipient argument: exit 100"
is "$(cat "$QS6_TMP/err")" "qmail-inject: fatal: unable to parse address: a@(b" "... with qmail's text"
inj "$QI" -a 'x@[y' < /dev/null 2> "$QS6_TMP/err"
is "$?:$(cat "$QS6_TMP/err")" "100:qmail-inject: fatal: unable to parse address: x@[y" "unterminated literal in an argument"
inj "$QI" -f 'a@(b' -a x@y.example < /dev/null 2> "$QS6_TMP/err"
is "$?" 100 "unparsable -f: exit 100"
printf 'qmail-inject: fatal: unable to parse this line:\na@(b\n' > "$QS6_TMP/exp"
same_file "$QS6_TMP/err" "$QS6_TMP/exp" "... unable to parse this line: and the address"
printf 'Subject: x\nFrom: a@(b\n  c\n\nbody\n' | inj "$QI" -a x@y.example 2> "$QS6_TMP/err"
is "$?" 100 "unparsable From field: exit 100"
printf 'qmail-inject: fatal: unable to parse this line:\nFrom: a@(b\n  c\n' > "$QS6_TMP/exp"
same_file "$QS6_TMP/err" "$QS6_TMP/exp" "... unable to parse this line: and the whole field"
test -e "$FQ/envelope"; ok "$([ $? = 1 ]; echo $?)" "... and nothing was queued"
printf 'To: x@y.example>\n' | inj "$QI" -h 2> "$QS6_TMP/err"
is "$?:$(head -1 "$QS6_TMP/err")" "100:qmail-inject: fatal: unable to parse this line:" "unparsable To with header recipients: exit 100"
printf 'Cc: ok@x.example, ))\nTo: good@x.example\n' | inj "$QI" -a x@y.example 2> "$QS6_TMP/err"
is "$?" 0 "unparsable Cc with -a: tolerated (the field is not needed)"
env_is "Fjoe@sandbox.example.test|Tx@y.example||" "... no recipient taken from it"
is "$(grep -c '^Cc: ok@x.example, ))$' "$FQ/mess")" 1 "... and the field is kept as it came"
printf 'Cc: a@x.example\nTo: b@x.example, <c\0d@x.example>\n' | inj "$QI" -h 2> "$QS6_TMP/err"
is "$?:$(head -1 "$QS6_TMP/err")" "100:qmail-inject: fatal: unable to parse this line:" "a NUL byte in an address field: a parse error"
printf 'Sender: s@x.example\nReply-To: ;;\n' | inj "$QI" -a x@y.example 2> "$QS6_TMP/err"
is "$?" 100 "unparsable Reply-To: exit 100"

# 5. qmail-queue's answers.
inj FAKEQQ_EXIT=31 "$QI" -a x@y.example < "$QS6_TMP/msg" 2> "$QS6_TMP/err"
is "$?" 100 "qq exit 31: exit 100"
is "$(cat "$QS6_TMP/err")" "qmail-inject: fatal: mail server permanently rejected message (#5.3.0)" "... with the D text"
inj FAKEQQ_EXIT=53 "$QI" -a x@y.example < "$QS6_TMP/msg" 2> "$QS6_TMP/err"
is "$?" 111 "qq exit 53: exit 111"
is "$(cat "$QS6_TMP/err")" "qmail-inject: fatal: qq write error or disk full (#4.3.0)" "... with the Z text"
inj FAKEQQ_EXIT=11 "$QI" -a x@y.example < "$QS6_TMP/msg" 2> "$QS6_TMP/err"
is "$?:$(cat "$QS6_TMP/err")" "100:qmail-inject: fatal: envelope address too long for qq (#5.1.3)" "qq exit 11"
inj FAKEQQ_EXIT=71 "$QI" -a x@y.example < "$QS6_TMP/msg" 2> "$QS6_TMP/err"
is "$?:$(cat "$QS6_TMP/err")" "111:qmail-inject: fatal: mail server temporarily rejected message (#4.3.0)" "qq exit 71"
env QMAILHOME="$H" QMAILQUEUE="$QS6_TMP/no-such-qq" QMAILUSER=joe "$QI" -a x@y.example < "$QS6_TMP/msg" 2> "$QS6_TMP/err"
is "$?:$(cat "$QS6_TMP/err")" "111:qmail-inject: fatal: unable to run qmail-queue" "QMAILQUEUE that cannot run: exit 111"

# 6. Usage and the home.
env QMAILHOME="$H" "$QI" -x < /dev/null 2> "$QS6_TMP/err"
is "$?" 100 "unknown option: exit 100"
printf 'qmail-inject: illegal option -- x\nqmail-inject: usage: qmail-inject [ -nNaAhH ] [ -fsender ] [ recip ... ]\n' > "$QS6_TMP/exp"
same_file "$QS6_TMP/err" "$QS6_TMP/exp" "... qmail's illegal option line, then the usage"
env QMAILHOME="$H" "$QI" -n -f < /dev/null 2> "$QS6_TMP/err"
is "$?:$(head -1 "$QS6_TMP/err")" "100:qmail-inject: option requires an argument -- f" "-f without an argument"
env QMAILHOME="$QS6_TMP/no-such-home" "$QI" -n < /dev/null 2> "$QS6_TMP/err"
is "$?" 111 "no home: exit 111"

done_testing
