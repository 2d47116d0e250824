#!/bin/sh
# qmail-inject -n: the header it prints (qmail.md section 6, qmail-inject(8),
# qmail-header(5)): Return-Path first, then the fields it adds (Date,
# Message-ID, From, "Cc: recipient list not shown: ;", or their Resent-
# forms), then the fields it keeps, then the body.  The environment
# variables, their precedence, the controls and the QMAILINJECT letters.
# Expected texts are written here from the reference.
. "${QS6_SRC:-$(dirname "$0")/../..}/tests/inject/inject-lib.sh"

H=$(light_home h1 sandbox.example.test)
out=$QS6_TMP/out

# 1. No input at all: only the fields qmail-inject makes; no blank line.
t0=$(date +%s)
QMAILHOME=$H QMAILUSER=joe "$QI" -n < /dev/null > "$out" &
pid=$!
wait $pid
rc=$?
t1=$(date +%s)
is "$rc" 0 "empty message: exit 0"
printf '%s\n' 'Return-Path: <joe@sandbox.example.test>' 'Date: DATE' \
  'Message-ID: <STAMP.PID.qmail@sandbox.example.test>' 'From: joe@sandbox.example.test' \
  'Cc: recipient list not shown: ;' > "$QS6_TMP/exp"
mask < "$out" > "$QS6_TMP/got"
same_file "$QS6_TMP/got" "$QS6_TMP/exp" "empty message: Return-Path, Date, Message-ID, From, Cc synthesized"
# The Message-ID holds our pid and the same second as the Date field.
msgid=$(sed -n 's/^Message-ID: <\([0-9]*\)\.\([0-9]*\)\.qmail@.*/\1 \2/p' "$out")
is "${msgid#* }" "$pid" "Message-ID carries the pid of qmail-inject"
date=$(sed -n 's/^Date: //p' "$out")
found=1
t=$t0
while [ "$t" -le "$t1" ]; do
  if [ "$(date -u -d "@$t" '+%-d %b %Y %H:%M:%S -0000')" = "$date" ] &&
     [ "$(date -u -d "@$t" '+%Y%m%d%H%M%S')" = "${msgid% *}" ]; then found=0; fi
  t=$((t + 1))
done
ok $found "Date and Message-ID stamp: the same second, in UTC"

# 2. A body with no header: a blank line goes before it; the last line gets
#    its newline.
printf 'hello world\nsecond line' | QMAILHOME=$H QMAILUSER=joe "$QI" -n | mask > "$QS6_TMP/got"
{ cat "$QS6_TMP/exp"; printf '\nhello world\nsecond line\n'; } > "$QS6_TMP/exp2"
same_file "$QS6_TMP/got" "$QS6_TMP/exp2" "no header: blank line added, last newline added"

# 3. A complete header: nothing added but Return-Path; address fields
#    rewritten, other fields kept byte for byte (continuations, spacing);
#    Bcc, Content-Length and Return-Path deleted; Return-Path sets the sender.
printf '%s\n' 'From: Joe Q <joe>' 'To: fred@x.example,  mary' 'Date: 1 Jan 2000 00:00:00 -0000' \
  'Message-ID: <abc@def>' 'Subject: test' '  continued' 'X-Thing:   keep   as is  ' \
  'Content-Length: 42' 'Bcc: hidden@example.org' 'Return-Path: <rp@example.net>' '' 'body' > "$QS6_TMP/in3"
printf '%s\n' 'Return-Path: <rp@example.net>' 'From: Joe Q <joe@sandbox.example.test>' \
  'To: fred@x.example, mary@sandbox.example.test' 'Date: 1 Jan 2000 00:00:00 -0000' \
  'Message-ID: <abc@def>' 'Subject: test' '  continued' 'X-Thing:   keep   as is  ' '' 'body' > "$QS6_TMP/exp3"
QMAILHOME=$H QMAILUSER=joe "$QI" -n < "$QS6_TMP/in3" > "$QS6_TMP/got"
same_file "$QS6_TMP/got" "$QS6_TMP/exp3" "full header: kept, rewritten, Bcc/Content-Length/Return-Path deleted"

# 4. The From user: QMAILUSER, MAILUSER, USER, LOGNAME, then anonymous.
from_of() { QMAILHOME=$H "$@" "$QI" -n < /dev/null | sed -n 's/^From: //p'; }
is "$(from_of env QMAILUSER=q MAILUSER=m USER=u LOGNAME=l)" "q@sandbox.example.test" "QMAILUSER comes first"
is "$(from_of env MAILUSER=m USER=u LOGNAME=l)" "m@sandbox.example.test" "then MAILUSER"
is "$(from_of env USER=u LOGNAME=l)" "u@sandbox.example.test" "then USER"
is "$(from_of env LOGNAME=l)" "l@sandbox.example.test" "then LOGNAME"
is "$(from_of env)" "anonymous@sandbox.example.test" "else anonymous"
is "$(from_of env QMAILUSER='j smith')" '"j smith"@sandbox.example.test' "a user that needs quoting is quoted"

# The host: QMAILHOST, then MAILHOST, else defaulthost; rewritten like any address.
is "$(from_of env QMAILUSER=joe QMAILHOST=q.example MAILHOST=m.example)" "joe@q.example" "QMAILHOST comes first"
is "$(from_of env QMAILUSER=joe MAILHOST=m.example)" "joe@m.example" "then MAILHOST"
is "$(from_of env QMAILUSER=joe QMAILHOST=box)" "joe@box.sandbox.example.test" "a dotless QMAILHOST gets the default domain"

# The name: QMAILNAME, then MAILNAME, then NAME; "Name" <addr>, or with the
# letter c, addr (Name).
is "$(from_of env QMAILUSER=joe QMAILNAME=Q MAILNAME=M NAME=N)" '"Q" <joe@sandbox.example.test>' "QMAILNAME comes first"
is "$(from_of env QMAILUSER=joe MAILNAME=M NAME=N)" '"M" <joe@sandbox.example.test>' "then MAILNAME"
is "$(from_of env QMAILUSER=joe NAME='Joe Q. Public')" '"Joe Q. Public" <joe@sandbox.example.test>' "then NAME"
is "$(from_of env QMAILUSER=joe NAME='Joe "Q" Public')" '"Joe \"Q\" Public" <joe@sandbox.example.test>' "quotes in the name are escaped"
is "$(from_of env QMAILUSER=joe NAME='Joe Q. Public' QMAILINJECT=c)" 'joe@sandbox.example.test (Joe Q. Public)' "QMAILINJECT=c: address (comment) style"

# The envelope sender: QMAILSUSER@QMAILSHOST, defaulting to the From parts.
rp_of() { QMAILHOME=$H "$@" "$QI" -n < /dev/null | sed -n 's/^Return-Path: //p'; }
is "$(rp_of env QMAILUSER=joe QMAILHOST=h.example)" "<joe@h.example>" "Return-Path follows the From user and host"
is "$(rp_of env QMAILUSER=joe QMAILHOST=h.example QMAILSUSER=bounces QMAILSHOST=b.example)" "<bounces@b.example>" "QMAILSUSER and QMAILSHOST set the envelope sender"
is "$(from_of env QMAILUSER=joe QMAILHOST=h.example QMAILSUSER=bounces QMAILSHOST=b.example)" "joe@h.example" "... but not the From field"
is "$(rp_of env QMAILUSER=joe QMAILSUSER=bounces)" "<bounces@sandbox.example.test>" "QMAILSUSER alone: default host"
is "$(rp_of env QMAILUSER=joe QMAILHOST=h.example QMAILSHOST=b.example)" "<joe@b.example>" "QMAILSHOST alone: From user"
is "$(rp_of env QMAILUSER='j smith')" '<"j smith"@sandbox.example.test>' "-n quotes the box of the Return-Path"

# 5. Controls: defaulthost, defaultdomain, plusdomain, idhost (each control/me
#    when missing), and their environment overrides.
C=$(light_home h2 me.example.org)
printf 'mail\n' > "$C/control/defaulthost"
printf 'example.com\n' > "$C/control/defaultdomain"
printf 'plus.example.com\n' > "$C/control/plusdomain"
printf 'id.example.com\n' > "$C/control/idhost"
printf 'To: a, b@box, c@box+, d@[10.0.0.1]\n' | QMAILHOME=$C QMAILUSER=joe "$QI" -n | mask > "$QS6_TMP/got"
printf '%s\n' 'Return-Path: <joe@mail.example.com>' 'Date: DATE' 'Message-ID: <STAMP.PID.qmail@id.example.com>' \
  'From: joe@mail.example.com' 'To: a@mail.example.com, b@box.example.com, c@box.plus.example.com,' \
  '  d@[10.0.0.1]' > "$QS6_TMP/exp"
same_file "$QS6_TMP/got" "$QS6_TMP/exp" "control files: defaulthost, defaultdomain, plusdomain, idhost"
printf 'To: a, b@box, c@box+\n' | QMAILHOME=$C QMAILUSER=joe QMAILDEFAULTHOST=dh.example QMAILDEFAULTDOMAIN=dd.example \
  QMAILPLUSDOMAIN=pd.example QMAILIDHOST=ih.example "$QI" -n | mask > "$QS6_TMP/got"
printf '%s\n' 'Return-Path: <joe@dh.example>' 'Date: DATE' 'Message-ID: <STAMP.PID.qmail@ih.example>' \
  'From: joe@dh.example' 'To: a@dh.example, b@box.dd.example, c@box.pd.example' > "$QS6_TMP/exp"
same_file "$QS6_TMP/got" "$QS6_TMP/exp" "QMAILDEFAULTHOST, QMAILDEFAULTDOMAIN, QMAILPLUSDOMAIN, QMAILIDHOST override the controls"
printf 'To: a\n' | QMAILHOME=$(light_home h3) QMAILUSER=joe "$QI" -n | mask > "$QS6_TMP/got"
printf '%s\n' 'Return-Path: <joe@defaulthost.defaultdomain>' 'Date: DATE' 'Message-ID: <STAMP.PID.qmail@idhost>' \
  'From: joe@defaulthost.defaultdomain' 'To: a@defaulthost.defaultdomain' > "$QS6_TMP/exp"
same_file "$QS6_TMP/got" "$QS6_TMP/exp" "no control/me: the literal names defaulthost, defaultdomain, idhost"
printf 'plushost+\n' > "$C/control/defaulthost"
is "$(QMAILHOME=$C QMAILUSER=joe "$QI" -n < /dev/null | sed -n 's/^From: //p')" "joe@plushost.plus.example.com" "a defaulthost ending in + gets the plus domain"

# 6. QMAILINJECT letters s, f, i (c above; r, m with the envelope tests).
printf '%s\n' 'Return-Path: <rp@x.example>' 'From: other@x.example' 'Message-ID: <old@x.example>' 'To: t@x.example' > "$QS6_TMP/in6"
QMAILHOME=$H QMAILUSER=joe "$QI" -n < "$QS6_TMP/in6" | mask > "$QS6_TMP/got"
printf '%s\n' 'Return-Path: <rp@x.example>' 'Date: DATE' 'From: other@x.example' 'Message-ID: <old@x.example>' 'To: t@x.example' > "$QS6_TMP/exp"
same_file "$QS6_TMP/got" "$QS6_TMP/exp" "no letters: Return-Path sets the sender, From and Message-ID are kept"
QMAILHOME=$H QMAILUSER=joe QMAILINJECT=s "$QI" -n < "$QS6_TMP/in6" | mask > "$QS6_TMP/got"
printf '%s\n' 'Return-Path: <joe@sandbox.example.test>' 'Date: DATE' 'From: other@x.example' 'Message-ID: <old@x.example>' 'To: t@x.example' > "$QS6_TMP/exp"
same_file "$QS6_TMP/got" "$QS6_TMP/exp" "QMAILINJECT=s: the incoming Return-Path is ignored (and deleted)"
QMAILHOME=$H QMAILUSER=joe QMAILINJECT=f "$QI" -n < "$QS6_TMP/in6" | mask > "$QS6_TMP/got"
printf '%s\n' 'Return-Path: <rp@x.example>' 'Date: DATE' 'From: joe@sandbox.example.test' 'Message-ID: <old@x.example>' 'To: t@x.example' > "$QS6_TMP/exp"
same_file "$QS6_TMP/got" "$QS6_TMP/exp" "QMAILINJECT=f: the incoming From is replaced"
QMAILHOME=$H QMAILUSER=joe QMAILINJECT=i "$QI" -n < "$QS6_TMP/in6" | mask > "$QS6_TMP/got"
printf '%s\n' 'Return-Path: <rp@x.example>' 'Date: DATE' 'Message-ID: <STAMP.PID.qmail@sandbox.example.test>' 'From: other@x.example' 'To: t@x.example' > "$QS6_TMP/exp"
same_file "$QS6_TMP/got" "$QS6_TMP/exp" "QMAILINJECT=i: the incoming Message-ID is replaced"
QMAILHOME=$H QMAILUSER=joe QMAILINJECT=sfi "$QI" -n < "$QS6_TMP/in6" | mask > "$QS6_TMP/got"
printf '%s\n' 'Return-Path: <joe@sandbox.example.test>' 'Date: DATE' 'Message-ID: <STAMP.PID.qmail@sandbox.example.test>' \
  'From: joe@sandbox.example.test' 'To: t@x.example' > "$QS6_TMP/exp"
same_file "$QS6_TMP/got" "$QS6_TMP/exp" "QMAILINJECT=sfi: all three; unknown letters ignored"
is "$(QMAILHOME=$H QMAILUSER=joe QMAILINJECT=xyz "$QI" -n < /dev/null | sed -n 's/^From: //p')" "joe@sandbox.example.test" "unknown QMAILINJECT letters are ignored"

# 7. Resent messages: Resent-Date, Resent-Message-ID, Resent-From,
#    Resent-Cc added instead; no Date/Message-ID/From/Cc.
printf '%s\n' 'Resent-To: r@x.example' 'Subject: s' '' 'b' | QMAILHOME=$H QMAILUSER=joe "$QI" -n | mask > "$QS6_TMP/got"
printf '%s\n' 'Return-Path: <joe@sandbox.example.test>' 'Resent-Date: DATE' 'Resent-Message-ID: <STAMP.PID.qmail@sandbox.example.test>' \
  'Resent-From: joe@sandbox.example.test' 'Resent-To: r@x.example' 'Subject: s' '' 'b' > "$QS6_TMP/exp"
same_file "$QS6_TMP/got" "$QS6_TMP/exp" "resent: Resent-Date, -Message-ID, -From added, no Date/From/Cc"
printf '%s\n' 'Resent-From: a@b.example' 'From: f@b.example' | QMAILHOME=$H QMAILUSER=joe NAME=Joe "$QI" -n | mask > "$QS6_TMP/got"
printf '%s\n' 'Return-Path: <joe@sandbox.example.test>' 'Resent-Date: DATE' 'Resent-Message-ID: <STAMP.PID.qmail@sandbox.example.test>' \
  'Resent-Cc: recipient list not shown: ;' 'Resent-From: a@b.example' 'From: f@b.example' > "$QS6_TMP/exp"
same_file "$QS6_TMP/got" "$QS6_TMP/exp" "resent without Resent-To/Cc: Resent-Cc: recipient list not shown: ;"
printf '%s\n' 'Resent-Message-ID: <x@y>' 'Resent-Date: Sun, 2 Jan 2000 00:00:00 +0000' 'Resent-Cc: c@x.example' 'Resent-Bcc: hidden@x.example' \
  | QMAILHOME=$H QMAILUSER=joe NAME=Joe "$QI" -n | mask > "$QS6_TMP/got"
printf '%s\n' 'Return-Path: <joe@sandbox.example.test>' 'Resent-From: "Joe" <joe@sandbox.example.test>' \
  'Resent-Message-ID: <x@y>' 'Resent-Date: Sun, 2 Jan 2000 00:00:00 +0000' 'Resent-Cc: c@x.example' > "$QS6_TMP/exp"
same_file "$QS6_TMP/got" "$QS6_TMP/exp" "resent: present Resent- fields are kept, Resent-Bcc deleted"

# 8. A mbox "From " line becomes a MBOX-Line field; a line that is not a
#    field (here: an unprintable byte in the name) ends the header, and a
#    blank line is put before it.  (qmail's "invalid header field" error
#    cannot happen: its header reader never passes such a line as a field.)
printf 'From joe Mon Jan  1 00:00:00 2000\nTo: t@x.example\nSubj\001ect: x\nCc: c@x.example\n\nbody\n' \
  | QMAILHOME=$H QMAILUSER=joe "$QI" -n | mask > "$QS6_TMP/got"
printf 'Return-Path: <joe@sandbox.example.test>\nDate: DATE\nMessage-ID: <STAMP.PID.qmail@sandbox.example.test>\nFrom: joe@sandbox.example.test\nMBOX-Line: From joe Mon Jan  1 00:00:00 2000\nTo: t@x.example\n\nSubj\001ect: x\nCc: c@x.example\n\nbody\n' > "$QS6_TMP/exp"
same_file "$QS6_TMP/got" "$QS6_TMP/exp" "From_ line -> MBOX-Line; a field name with an unprintable byte starts the body"
printf 'Subject: a\nnot a header\nTo: x\n' | QMAILHOME=$H QMAILUSER=joe "$QI" -n | mask > "$QS6_TMP/got"
printf 'Return-Path: <joe@sandbox.example.test>\nDate: DATE\nMessage-ID: <STAMP.PID.qmail@sandbox.example.test>\nFrom: joe@sandbox.example.test\nCc: recipient list not shown: ;\nSubject: a\n\nnot a header\nTo: x\n' > "$QS6_TMP/exp"
same_file "$QS6_TMP/got" "$QS6_TMP/exp" "a line without a colon starts the body"
printf 'Subject: no newline' | QMAILHOME=$H QMAILUSER=joe "$QI" -n | tail -n 1 | od -c | head -1 > "$QS6_TMP/got"
printf 'Subject: no newline\n' | od -c | head -1 > "$QS6_TMP/exp"
same_file "$QS6_TMP/got" "$QS6_TMP/exp" "a last header line without newline gets one, and no blank line"

# 9. Mail-Followup-To from QMAILMFTFILE (read relative to the caller's
#    directory): the To and Cc addresses, qmail's order.
mkdir -p "$QS6_TMP/cwd"
printf '# lists\nLIST@Example.org\n' > "$QS6_TMP/cwd/mft"
printf '%s\n' 'To: list@example.org, bob@x.example' 'Cc: carol@y.example' '' 'b' > "$QS6_TMP/in9"
(cd "$QS6_TMP/cwd" && QMAILHOME=$H QMAILUSER=joe QMAILMFTFILE=mft "$QI" -n < "$QS6_TMP/in9") | mask > "$QS6_TMP/got"
printf '%s\n' 'Return-Path: <joe@sandbox.example.test>' 'Date: DATE' 'Message-ID: <STAMP.PID.qmail@sandbox.example.test>' \
  'From: joe@sandbox.example.test' 'Mail-Followup-To: carol@y.example,' '  list@example.org,' '  bob@x.example' \
  'To: list@example.org, bob@x.example' 'Cc: carol@y.example' '' 'b' > "$QS6_TMP/exp"
same_file "$QS6_TMP/got" "$QS6_TMP/exp" "QMAILMFTFILE: Mail-Followup-To added when To/Cc names a listed address"
(cd "$QS6_TMP/cwd" && printf 'To: bob@x.example\n' | QMAILHOME=$H QMAILUSER=joe QMAILMFTFILE=mft "$QI" -n) > "$QS6_TMP/got"
is "$(grep -c '^Mail-Followup-To' "$QS6_TMP/got")" 0 "no listed address: no Mail-Followup-To"
(cd "$QS6_TMP/cwd" && printf 'To: list@example.org\nMail-Followup-To: me@x.example\n' | QMAILHOME=$H QMAILUSER=joe QMAILMFTFILE=mft "$QI" -n) > "$QS6_TMP/got"
is "$(grep -c '^Mail-Followup-To' "$QS6_TMP/got")" 1 "an existing Mail-Followup-To is kept, none added"
(cd "$QS6_TMP/cwd" && printf 'To: list@example.org\n' | QMAILHOME=$H QMAILUSER=joe QMAILMFTFILE=missing "$QI" -n) > "$QS6_TMP/got"
is "$(grep -c '^Mail-Followup-To' "$QS6_TMP/got")" 0 "a missing QMAILMFTFILE means no list"

# 10. Folding of rewritten address fields near 80 columns.
printf 'To: user01@example.com, user02@example.com, user03@example.com, user04@example.com, user05@example.com, user06@example.com, user07@example.com, user08@example.com, user09@example.com, user10@example.com\n' \
  | QMAILHOME=$H QMAILUSER=joe "$QI" -n | sed -n '/^To:/,$p' > "$QS6_TMP/got"
printf '%s\n' 'To: user01@example.com, user02@example.com, user03@example.com,' \
  '  user04@example.com, user05@example.com, user06@example.com,' \
  '  user07@example.com, user08@example.com, user09@example.com,' \
  '  user10@example.com' > "$QS6_TMP/exp"
same_file "$QS6_TMP/got" "$QS6_TMP/exp" "address fields are folded after commas, within 80 columns"

done_testing
