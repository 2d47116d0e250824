#!/bin/sh
# Program lines (qmail.md section 4, qmail-command(8)): /bin/sh -c cmd in
# the home, stdin = the message as it is (rewound for each line, without
# Return-Path or Delivered-To), the program's output is the report; exit 0
# ok, 99 ok and stop, 100 64 65 70 76 77 78 112 -> 100, killed -> 111
# "Aack, child crashed. (#4.3.0)", anything else -> 111; the environment
# HOST HOME USER LOCAL RECIPIENT DTLINE SENDER RPLINE UFLINE EXT EXT2..4
# HOST2..4 DEFAULT NEWSENDER.
. "${QS6_SRC:-$(dirname "$0")/../..}/tests/local/local-lib.sh"

H=$(new_home)
msg 'Subject: program\nFrom: x\n\nFrom the body\nlast line'
cp "$QS6_TMP/msg" "$QS6_TMP/msg.orig"

# stdin: the message, complete, for every program line, also after an mbox line.
dotqmail "$H" .qmail-in '|cat > in1' './mbox' '|cat > in2' '|head -c 3 > /dev/null' '|cat > in3'
deliver "$H" - in
check 0 "did 1+0+4" "five lines"
same_file "$H/in1" "$QS6_TMP/msg.orig" "first program: the message as it is (no Return-Path, no Delivered-To)"
same_file "$H/in2" "$QS6_TMP/msg.orig" "after an mbox delivery: rewound"
same_file "$H/in3" "$QS6_TMP/msg.orig" "after a program that read 3 bytes: rewound"

# cwd, umask, SIGPIPE back to default.
dotqmail "$H" .qmail-proc '|pwd' '|umask' '|grep "^SigIgn" /proc/$$/status'
deliver "$H" - proc
is "$rc" 0 "pwd, umask, SigIgn: exit 0"
is "$(sed -n 1p "$QS6_TMP/out")" "$H" "runs in the home directory"
is "$(sed -n 2p "$QS6_TMP/out")" "0077" "umask 077 (qmail-local's)"
sigign=$(sed -n 's/^SigIgn:[[:space:]]*//p' "$QS6_TMP/out")
[ -n "$sigign" ] && [ $(( 0x$sigign & 0x1000 )) = 0 ]; ok $? "SIGPIPE is not ignored in the program (SigIgn $sigign)"

# Output (stdout and stderr) is the report.
dotqmail "$H" .qmail-out '|echo to stdout; echo to stderr >&2'
deliver "$H" - out
check 0 "to stdout
to stderr
did 0+0+1" "stdout and stderr of the program go to the report"

# Exit codes.
for code in 100 64 65 70 76 77 78 112; do
  dotqmail "$H" .qmail-exit "|echo exit $code; exit $code"
  deliver "$H" - exit
  check 100 "exit $code" "exit $code: permanent failure (100)"
done
for code in 111 1 2 63 66 67 68 69 71 72 73 74 75 79 98 101 113 120 126 127 255; do
  dotqmail "$H" .qmail-exit "|echo exit $code; exit $code"
  deliver "$H" - exit
  check 111 "exit $code" "exit $code: temporary failure (111)"
done
dotqmail "$H" .qmail-exit '|exit 0' '|echo next'
deliver "$H" - exit
check 0 "next
did 0+0+2" "exit 0: success, go on"
dotqmail "$H" .qmail-exit '|echo stop; exit 99' '|echo next'
deliver "$H" - exit
check 0 "stop
did 0+0+1" "exit 99: success, stop"
dotqmail "$H" .qmail-exit '|nonexistent-command-qs6'
deliver "$H" - exit
is "$rc" 111 "command not found (sh exits 127): 111"
dotqmail "$H" .qmail-exit '|echo dying; kill -SEGV $$'
deliver "$H" - exit
check 111 "dying
Aack, child crashed. (#4.3.0)" "killed by a signal: 111, Aack"
dotqmail "$H" .qmail-exit '|kill -KILL $$'
deliver "$H" - exit
check 111 "Aack, child crashed. (#4.3.0)" "SIGKILL: 111, Aack"

# The environment, with values from the reference.  The program prints
# each variable between brackets, or UNSET.
cat > "$QS6_TMP/dumpenv" <<'EOS'
#!/bin/sh
for v in HOST HOST2 HOST3 HOST4 HOME USER LOCAL RECIPIENT DTLINE SENDER RPLINE UFLINE EXT EXT2 EXT3 EXT4 DEFAULT NEWSENDER; do
  eval "if [ -n \"\${$v+set}\" ]; then printf '%s=[%s]\n' $v \"\$$v\"; else printf '%s UNSET\n' $v; fi"
done
EOS
chmod 0755 "$QS6_TMP/dumpenv"
dotqmail "$H" .qmail-foo:bar-default "|$QS6_TMP/dumpenv"
before=$(utcdate)
ql "$H" -- joe "$H" joe-Foo.Bar-x-y-z - Foo.Bar-x-y-z mail.sub.example.com 'a b@example.org' ./Mailbox
after=$(utcdate)
is "$rc" 0 "environment: exit 0"
grep '^UFLINE' "$QS6_TMP/out" > "$QS6_TMP/uf"
if [ "$(cat "$QS6_TMP/uf")" = "UFLINE=[From a-b@example.org $after" ]; then date=$after; else date=$before; fi
cat > "$QS6_TMP/exp" <<EOS
HOST=[mail.sub.example.com]
HOST2=[mail.sub.example]
HOST3=[mail.sub]
HOST4=[mail]
HOME=[$H]
USER=[joe]
LOCAL=[joe-Foo.Bar-x-y-z]
RECIPIENT=[joe-Foo.Bar-x-y-z@mail.sub.example.com]
DTLINE=[Delivered-To: joe-Foo.Bar-x-y-z@mail.sub.example.com
]
SENDER=[a b@example.org]
RPLINE=[Return-Path: <"a b"@example.org>
]
UFLINE=[From a-b@example.org $date
]
EXT=[Foo.Bar-x-y-z]
EXT2=[x-y-z]
EXT3=[y-z]
EXT4=[z]
DEFAULT=[x-y-z]
NEWSENDER=[a b@example.org]
did 0+0+1
EOS
same_file "$QS6_TMP/out" "$QS6_TMP/exp" "every variable, from .qmail-foo:bar-default"

# Short host and extension: HOSTn stay the whole host, EXTn empty.
dotqmail "$H" .qmail-one "|$QS6_TMP/dumpenv"
ql "$H" -- joe "$H" joe-one - one localhost '' ./Mailbox
cat > "$QS6_TMP/exp" <<EOS
HOST=[localhost]
HOST2=[localhost]
HOST3=[localhost]
HOST4=[localhost]
HOME=[$H]
USER=[joe]
LOCAL=[joe-one]
RECIPIENT=[joe-one@localhost]
DTLINE=[Delivered-To: joe-one@localhost
]
SENDER=[]
RPLINE=[Return-Path: <>
]
UFLINE=[From MAILER-DAEMON DATE
]
EXT=[one]
EXT2=[]
EXT3=[]
EXT4=[]
DEFAULT UNSET
NEWSENDER=[]
did 0+0+1
EOS
sed -E 's/^UFLINE=\[From MAILER-DAEMON [A-Z][a-z]{2} [A-Z][a-z]{2} [0-3][0-9] [0-2][0-9]:[0-5][0-9]:[0-6][0-9] [0-9]{4}$/UFLINE=[From MAILER-DAEMON DATE/' \
  "$QS6_TMP/out" > "$QS6_TMP/got"
same_file "$QS6_TMP/got" "$QS6_TMP/exp" "bounce (empty sender), one-word host, one-word extension"

# Host with two parts; a dash-less ext; sender without '@' (all box, quoted if needed).
ql "$H" -- joe "$H" joe-one - one example.com 'weird box' ./Mailbox
grep -E '^(HOST[0-9]?|RPLINE|SENDER)=' "$QS6_TMP/out" | tr '\n' '|' > "$QS6_TMP/got"
printf '%s|' 'HOST=[example.com]' 'HOST2=[example]' 'HOST3=[example]' 'HOST4=[example]' \
  'SENDER=[weird box]' 'RPLINE=[Return-Path: <"weird box">' > "$QS6_TMP/exp"
same_file "$QS6_TMP/got" "$QS6_TMP/exp" "two-part host; sender without @ quoted as a whole"

# The environment of qmail-local's caller is passed on.
export QS6_MARK=passed-on
dotqmail "$H" .qmail-mark '|echo $QS6_MARK'
deliver "$H" - mark
unset QS6_MARK
check 0 "passed-on
did 0+0+1" "other variables of the environment are kept"

done_testing
