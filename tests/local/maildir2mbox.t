#!/bin/sh
# maildir2mbox (qmail's maildir2mbox(1)): MAILDIR, MAIL, MAILTMP; the
# messages of new/ and cur/ (oldest first) appended to $MAIL in mbox form
# (From_ from the Return-Path line or "From XXX", dated with the file's
# mtime; >From quoting; an empty line after each) through $MAILTMP, then
# removed; tmp/ files older than 36 hours removed.
. "${QS6_SRC:-$(dirname "$0")/../..}/tests/local/local-lib.sh"

M2=$QS6_BUILD/bin/maildir2mbox
D=$QS6_TMP/md
mkdir -p "$D/tmp" "$D/new" "$D/cur"
run_m2() { rc=0; "$M2" > "$QS6_TMP/out" 2>&1 || rc=$?; }

unset MAIL MAILTMP MAILDIR
run_m2
check 111 "maildir2mbox: fatal: MAIL not set" "MAIL unset"
export MAIL=../mbox
run_m2
check 111 "maildir2mbox: fatal: MAILTMP not set" "MAILTMP unset"
export MAILTMP=../mbox.tmp
run_m2
check 111 "maildir2mbox: fatal: MAILDIR not set" "MAILDIR unset"
export MAILDIR=$QS6_TMP/nomd
run_m2
check 111 "maildir2mbox: fatal: unable to chdir to $QS6_TMP/nomd: file does not exist" "MAILDIR missing"
export MAILDIR=$D

run_m2
check 0 "" "empty maildir: exit 0"
[ ! -e "$QS6_TMP/mbox" ]; ok $? "... MAIL not even created"

# Three messages: mtimes decide the order, not the directories or names.
printf 'Return-Path: <a b@example.org>\nSubject: first\n\nFrom here\n>From there\nno newline' > "$D/cur/zzz:2,S"
printf 'Return-Path: <>\nSubject: second\n\nbody\n' > "$D/new/bbb"
printf 'Subject: third, no Return-Path\n\nbody\n' > "$D/new/aaa"
printf 'only line' > "$D/new/ccc"
touch -d '2001-02-03 04:05:06 UTC' "$D/cur/zzz:2,S"
touch -d '2001-02-03 04:05:07 UTC' "$D/new/bbb"
touch -d '2001-02-03 04:05:08 UTC' "$D/new/aaa"
touch -d '2001-02-03 04:05:09 UTC' "$D/new/ccc"
# a message of the future waits, dot files and old tmp files
printf 'Subject: later\n\n' > "$D/new/future"
touch -d '2099-01-01 00:00:00 UTC' "$D/new/future"
printf 'x' > "$D/new/.hidden"
touch -d '2001-01-01 00:00:00 UTC' "$D/new/.hidden"
: > "$D/tmp/stale"; touch -a -d '@'$(( $(date +%s) - 36*3600 - 60 )) "$D/tmp/stale"
: > "$D/tmp/fresh"
printf 'Old mbox content\n\n' > "$QS6_TMP/mbox"
run_m2
check 0 "" "four messages moved"
cat > "$QS6_TMP/exp" <<'EOS'
Old mbox content

From a-b@example.org Sat Feb 03 04:05:06 2001
Return-Path: <a b@example.org>
Subject: first

>From here
>>From there
no newline

From MAILER-DAEMON Sat Feb 03 04:05:07 2001
Return-Path: <>
Subject: second

body

From XXX Sat Feb 03 04:05:08 2001
Subject: third, no Return-Path

body

From XXX Sat Feb 03 04:05:09 2001
only line

EOS
same_file "$QS6_TMP/mbox" "$QS6_TMP/exp" "mbox bytes: old content, then each message in mtime order"
is "$(ls -A "$D/new" "$D/cur" | tr '\n' ' ')" "$D/cur:  $D/new: .hidden future " "moved messages removed; the future one and the dot file stay"
is "$(ls "$D/tmp" | tr '\n' ' ')" "fresh " "tmp/ file unused for 36 hours removed, the fresh one kept"
[ ! -e "$QS6_TMP/mbox.tmp" ]; ok $? "MAILTMP renamed to MAIL"
is "$(stat -c %a "$QS6_TMP/mbox")" 600 "the new mbox has mode 0600"

# A mailbox from qmail-local's maildir delivery, converted: the same bytes as
# qmail-local's own mbox delivery (but for the date).
H=$(new_home)
mkdir -p "$H/Maildir/tmp" "$H/Maildir/new" "$H/Maildir/cur"
dotqmail "$H" .qmail-both './Maildir/' './direct'
msg 'Subject: both\n\nFrom x\nend\n'
deliver "$H" - both 'p q@example.org'
check 0 "did 2+0+0" "delivered to a maildir and an mbox"
f=$H/Maildir/new/$(ls "$H/Maildir/new")
touch -d '2001-02-03 04:05:06 UTC' "$f"
rc=0
MAILDIR=$H/Maildir MAIL=../converted MAILTMP=../converted.tmp "$M2" || rc=$?
is "$rc" 0 "maildir2mbox on it"
sed '1s/ [A-Z].*$/ DATE/' "$H/direct" > "$QS6_TMP/direct"
sed '1s/ [A-Z].*$/ DATE/' "$H/converted" > "$QS6_TMP/converted"
# qmail-local's From_ line comes from the sender; maildir2mbox's from Return-Path,
# whose box is quoted: the rest is the same.
head -1 "$QS6_TMP/converted" > "$QS6_TMP/got"
echo 'From "p-q"@example.org DATE' > "$QS6_TMP/exp"
same_file "$QS6_TMP/got" "$QS6_TMP/exp" "From_ from the Return-Path text"
tail -n +2 "$QS6_TMP/converted" > "$QS6_TMP/got"
tail -n +2 "$QS6_TMP/direct" > "$QS6_TMP/exp"
same_file "$QS6_TMP/got" "$QS6_TMP/exp" "the rest is what qmail-local writes to an mbox"

# Errors: MAILTMP cannot be created -> 111, nothing removed.
printf 'Subject: stays\n\n' > "$D/new/stays"
touch -d '2001-02-03 04:05:06 UTC' "$D/new/stays"
MAILTMP=/nonexistent/dir/tmp
run_m2
check 111 "maildir2mbox: fatal: unable to create /nonexistent/dir/tmp: file does not exist" "MAILTMP cannot be created"
[ -e "$D/new/stays" ]; ok $? "... the message stays"
MAILTMP=../mbox.tmp
rm -rf "$D/cur"
run_m2
check 111 "maildir2mbox: fatal: unable to scan \$MAILDIR/cur: file does not exist" "no cur/"
[ -e "$D/new/stays" ]; ok $? "... the message stays"

done_testing
