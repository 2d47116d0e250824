#!/bin/sh
# sendmail, qmail's sendmail wrapper (qmail.md section 6): options
# vimte:f:p:o:B:F:EJxb:; -t -> qmail-inject -H, else -a; -f sender (and
# QMAILUSER/QMAILHOST from it); -F name -> MAILNAME; ignored flags; -bp or
# the name mailq -> HOME/bin/qmail-qread; -bs -> HOME/bin/qmail-smtpd with
# the localhost environment; other -b -> usage (100); the name newaliases
# -> refused (100).  The sandbox's bin/ holds our qmail-inject; QMAILQUEUE
# points at tests/inject/fake-qq-record.  Stubs for qmail-qread and
# qmail-smtpd are put in the temporary sandbox's bin/ only.
. "${QS6_SRC:-$(dirname "$0")/../..}/tests/inject/inject-lib.sh"

SB=$(new_sandbox) || { echo "Bail out! no sandbox"; exit 1; }
FQ=$QS6_TMP/fq
mkdir -p "$FQ"
sm() {
  rm -f "$FQ/envelope" "$FQ/mess"
  env QMAILHOME="$SB" QMAILQUEUE="$FAKEQQ" FAKEQQ_DIR="$FQ" "$@"
}
env_is() { is "$(envelope_of "$FQ/envelope" 2>/dev/null)" "$1" "$2"; }
usage='sendmail: usage: sendmail [ -t ] [ -fsender ] [ -Fname ] [ -bp ] [ -bs ] [ arg ... ]'

printf 'To: t@x.example\nSubject: s\n\nbody\n' > "$QS6_TMP/msg"

# 1. Plain sendmail: qmail-inject -a -- args.
sm QMAILUSER=joe "$SM" r@y.example < "$QS6_TMP/msg"
is "$?" 0 "sendmail rcpt: exit 0"
env_is "Fjoe@sandbox.example.test|Tr@y.example||" "without -t: the arguments only (qmail-inject -a)"
sm QMAILUSER=joe "$SM" -t r@y.example < "$QS6_TMP/msg"
env_is "Fjoe@sandbox.example.test|Tr@y.example|Tt@x.example||" "-t: arguments and header (qmail-inject -H)"
sm QMAILUSER=joe "$SM" -t < "$QS6_TMP/msg"
env_is "Fjoe@sandbox.example.test|Tt@x.example||" "-t alone: the header"
sm QMAILUSER=joe "$SM" -- -r@y.example < "$QS6_TMP/msg"
env_is "Fjoe@sandbox.example.test|T-r@y.example||" "arguments after -- are passed after qmail-inject's --"

# 2. -f: the envelope sender, and the From field from it.
sm QMAILUSER=joe NAME=Joe QMAILNAME=QJ MAILHOST=m.example "$SM" -f bob@example.org r@y.example < /dev/null
env_is "Fbob@example.org|Tr@y.example||" "-f sender -> qmail-inject -f"
is "$(sed -n 's/^From: //p' "$FQ/mess")" "bob@example.org" "-f: From is the sender; the names and hosts of the environment are dropped"
sm QMAILUSER=joe "$SM" -fbob r@y.example < /dev/null
env_is "Fbob@sandbox.example.test|Tr@y.example||" "-fsender in one argument, without a host"
is "$(sed -n 's/^From: //p' "$FQ/mess")" "bob@sandbox.example.test" "... From: the user, the default host"
sm QMAILUSER=joe "$SM" -F 'Joe Q' r@y.example < /dev/null
is "$(sed -n 's/^From: //p' "$FQ/mess")" '"Joe Q" <joe@sandbox.example.test>' "-F name -> MAILNAME"
sm QMAILUSER=joe "$SM" -F 'Bob B' -f bob@example.org r@y.example < /dev/null
is "$(sed -n 's/^From: //p' "$FQ/mess")" '"Bob B" <bob@example.org>' "-F with -f: the name is kept (qmail loses it; see sendmail(8))"

# 3. Ignored options, with and without their arguments.
sm QMAILUSER=joe "$SM" -i -v -m -x -oi -o em -e q -p smtp -B 8BITMIME -bm -Efoo -J -Jbar -Ex r@y.example < "$QS6_TMP/msg"
is "$?" 0 "-i -v -m -x -o -e -p -B -bm -E -J: accepted"
env_is "Fjoe@sandbox.example.test|Tr@y.example||" "... and ignored"
sm QMAILUSER=joe "$SM" -Etfoo r@y.example < "$QS6_TMP/msg"
env_is "Fjoe@sandbox.example.test|Tr@y.example||" "-E eats the rest of its argument (here a t that is not -t)"

# 4. Usage errors.
sm "$SM" -bx < /dev/null 2> "$QS6_TMP/err"
is "$?" 100 "-bx: exit 100"
is "$(cat "$QS6_TMP/err")" "$usage" "-bx: qmail's usage text"
sm "$SM" -z r@y.example < /dev/null 2> "$QS6_TMP/err"
is "$?" 100 "unknown option: exit 100"
printf 'sendmail: illegal option -- z\n%s\n' "$usage" > "$QS6_TMP/exp"
same_file "$QS6_TMP/err" "$QS6_TMP/exp" "unknown option: illegal option line, then the usage"
test -e "$FQ/envelope"; ok "$([ $? = 1 ]; echo $?)" "... and nothing queued"

# 5. -bp and mailq run HOME/bin/qmail-qread; -bs runs HOME/bin/qmail-smtpd.
cat > "$SB/bin/qmail-qread" <<'EOF'
#!/bin/sh
echo "qread-stub $0 $# $(pwd)"
EOF
cat > "$SB/bin/qmail-smtpd" <<'EOF'
#!/bin/sh
echo "smtpd-stub $0 $(pwd)"
for v in PROTO RELAYCLIENT DATABYTES TCPLOCALIP TCPLOCALHOST TCPREMOTEIP TCPREMOTEHOST TCPREMOTEINFO; do
  eval "printf '%s=%s\n' $v \"\${$v-(unset)}\""
done
EOF
chmod 0755 "$SB/bin/qmail-qread" "$SB/bin/qmail-smtpd"
is "$(sm "$SM" -bp)" "qread-stub $SB/bin/qmail-qread 0 $SB" "-bp runs HOME/bin/qmail-qread in the home"
ln -s "$SB/bin/sendmail" "$QS6_TMP/mailq"
is "$(sm "$QS6_TMP/mailq")" "qread-stub $SB/bin/qmail-qread 0 $SB" "invoked as mailq: qmail-qread"
sm "$SM" -bs > "$QS6_TMP/out"
printf '%s\n' "smtpd-stub $SB/bin/qmail-smtpd $SB" PROTO=TCP RELAYCLIENT= DATABYTES=0 TCPLOCALIP=127.0.0.1 \
  TCPLOCALHOST=localhost TCPREMOTEIP=127.0.0.1 TCPREMOTEHOST=localhost TCPREMOTEINFO=sendmail-bs > "$QS6_TMP/exp"
same_file "$QS6_TMP/out" "$QS6_TMP/exp" "-bs: HOME/bin/qmail-smtpd with the localhost environment"
sm PROTO=TCP TCPREMOTEIP=10.0.0.1 "$SM" -bs > "$QS6_TMP/out"
printf '%s\n' "smtpd-stub $SB/bin/qmail-smtpd $SB" PROTO=TCP 'RELAYCLIENT=(unset)' 'DATABYTES=(unset)' 'TCPLOCALIP=(unset)' \
  'TCPLOCALHOST=(unset)' TCPREMOTEIP=10.0.0.1 'TCPREMOTEHOST=(unset)' 'TCPREMOTEINFO=(unset)' > "$QS6_TMP/exp"
same_file "$QS6_TMP/out" "$QS6_TMP/exp" "-bs with PROTO set: the environment is left alone"
rm -f "$SB/bin/qmail-smtpd"
sm "$SM" -bs < /dev/null 2> "$QS6_TMP/err"
is "$?:$(cat "$QS6_TMP/err")" "111:sendmail: fatal: unable to run qmail-smtpd" "-bs without qmail-smtpd: exit 111"

# 6. newaliases, a missing qmail-inject, a missing home.
ln -s "$SB/bin/sendmail" "$QS6_TMP/newaliases"
sm "$QS6_TMP/newaliases" < /dev/null 2> "$QS6_TMP/err"
is "$?:$(cat "$QS6_TMP/err")" "100:sendmail: fatal: please use fastforward/newaliases instead" "invoked as newaliases: refused"
mkdir -p "$QS6_TMP/emptyhome"
env QMAILHOME="$QS6_TMP/emptyhome" "$SM" r@y.example < /dev/null 2> "$QS6_TMP/err"
is "$?:$(cat "$QS6_TMP/err")" "111:sendmail: fatal: unable to run qmail-inject" "no HOME/bin/qmail-inject: exit 111"
env QMAILHOME="$QS6_TMP/no-such-home" "$SM" r@y.example < /dev/null 2> "$QS6_TMP/err"
is "$?:$(cat "$QS6_TMP/err")" "111:sendmail: fatal: unable to switch to qmail home directory" "no home: exit 111"

done_testing
