#!/bin/sh
# Maildir delivery (qmail.md section 4, maildir(5)): the file is
# tmp/{unixtime}.{pid}.{hostname} (created O_EXCL), holds RPLINE + DTLINE +
# the message, is fsynced, linked to new/ under the same name and unlinked
# from tmp/.  Errors are all 111: "Unable to chdir to maildir. (#4.2.1)",
# "Temporary error on maildir delivery. (#4.3.0)", ...
. "${QS6_SRC:-$(dirname "$0")/../..}/tests/local/local-lib.sh"

H=$(new_home)
mkdir -p "$H/Maildir/tmp" "$H/Maildir/new" "$H/Maildir/cur"
msg 'Subject: maildir\nFrom: x\n\nFrom the body\n>From quoted\nno newline at the end'
dotqmail "$H" .qmail-md './Maildir/'

t0=$(date +%s)
deliver "$H" - md 'Some.Body@example.org'
t1=$(date +%s)
check 0 "did 1+0+0" "delivery to ./Maildir/"
name=$(ls "$H/Maildir/new")
is "$(echo "$name" | wc -l)" 1 "one file in new/"
is "$(ls "$H/Maildir/tmp")" "" "tmp/ is empty again"
t=${name%%.*}
rest=${name#*.}
pid=${rest%%.*}
host=${rest#*.}
[ "$t" -ge "$t0" ] && [ "$t" -le "$t1" ]; ok $? "name starts with the time of delivery ($t)"
# the first maildir line is delivered by qmail-local itself (no fork), so
# the pid is its own; later lines fork, as in qmail (see below)
is "$pid" "$qlpid" "then a pid: qmail-local's own, for its first maildir line"
is "$host" "$HOSTNAME_" "then the host name"
{ printf 'Return-Path: <Some.Body@example.org>\nDelivered-To: joe-md@example.com\n'; cat "$QS6_TMP/msg"; } > "$QS6_TMP/exp"
same_file "$H/Maildir/new/$name" "$QS6_TMP/exp" "bytes: Return-Path + Delivered-To + the message, unchanged"
is "$(stat -c %a "$H/Maildir/new/$name")" 600 "mode 0600 (umask 077)"
is "$(stat -c %u "$H/Maildir/new/$name")" "$U_UID" "owned by the delivering user"

# An absolute path, an empty sender, and a sender that needs quoting.
rm -f "$H"/Maildir/new/*
dotqmail "$H" .qmail-abs "$H/Maildir/"
msg 'Subject: bounce\n\nbody\n'
deliver "$H" - abs ''
check 0 "did 1+0+0" "absolute maildir path"
{ printf 'Return-Path: <>\nDelivered-To: joe-abs@example.com\n'; cat "$QS6_TMP/msg"; } > "$QS6_TMP/exp"
same_file "$H/Maildir/new/$(ls "$H/Maildir/new")" "$QS6_TMP/exp" "empty sender: Return-Path: <>"
rm -f "$H"/Maildir/new/*
deliver "$H" - abs 'two words@example.org'
{ printf 'Return-Path: <"two words"@example.org>\nDelivered-To: joe-abs@example.com\n'; cat "$QS6_TMP/msg"; } > "$QS6_TMP/exp"
same_file "$H/Maildir/new/$(ls "$H/Maildir/new")" "$QS6_TMP/exp" "a box with a space is quoted in Return-Path"

# Two maildirs in one .qmail, and an empty message.
mkdir -p "$H/Md2/tmp" "$H/Md2/new" "$H/Md2/cur"
rm -f "$H"/Maildir/new/*
dotqmail "$H" .qmail-two './Maildir/' './Md2/'
: > "$QS6_TMP/msg"
deliver "$H" - two
check 0 "did 2+0+0" "two maildir lines"
printf 'Return-Path: <sender@example.org>\nDelivered-To: joe-two@example.com\n' > "$QS6_TMP/exp"
same_file "$H/Md2/new/$(ls "$H/Md2/new")" "$QS6_TMP/exp" "empty message: only the two lines"
same_file "$H/Maildir/new/$(ls "$H/Maildir/new")" "$QS6_TMP/exp" "... in both"

# Two lines naming the same maildir: two files, even within one second.
rm -f "$H"/Maildir/new/*
dotqmail "$H" .qmail-same './Maildir/' './Maildir/'
msg 'Subject: twice\n\nbody\n'
deliver "$H" - same
check 0 "did 2+0+0" "two lines for one maildir"
is "$(ls "$H/Maildir/new" | wc -l)" 2 "... two different files in new/"
pids=$(ls "$H/Maildir/new" | sed 's/^[0-9]*\.\([0-9]*\)\..*/\1/' | sort -u | tr '\n' ' ')
case " $pids" in *" $qlpid "*) ok 0 "... one named with qmail-local's pid, the other with a child's ($pids)" ;;
  *) ok 1 "... one named with qmail-local's pid, the other with a child's ($pids; qmail-local $qlpid)" ;; esac

# Errors.
msg 'Subject: x\n\nbody\n'
dotqmail "$H" .qmail-err './Missing/'
deliver "$H" - err
check 111 "Unable to chdir to maildir. (#4.2.1)" "maildir missing"
dotqmail "$H" .qmail-err './.qmail-err/'
deliver "$H" - err
check 111 "Unable to chdir to maildir. (#4.2.1)" "maildir is a file"
mkdir -p "$H/NoTmp/new" "$H/NoTmp/cur"
dotqmail "$H" .qmail-err './NoTmp/'
deliver "$H" - err
check 111 "Temporary error on maildir delivery. (#4.3.0)" "no tmp/"
mkdir -p "$H/NoNew/tmp" "$H/NoNew/cur"
dotqmail "$H" .qmail-err './NoNew/'
deliver "$H" - err
check 111 "Temporary error on maildir delivery. (#4.3.0)" "no new/"
is "$(ls "$H/NoNew/tmp")" "" "... and nothing left in tmp/"
mkdir -p "$H/Closed/tmp" "$H/Closed/new" "$H/Closed/cur"
chmod 0600 "$H/Closed"
own "$H"
dotqmail "$H" .qmail-err './Closed/'
if as_user test -x "$H/Closed"; then
  skip "the delivering user can enter a mode-0600 directory"; skip "..."
else
  deliver "$H" - err
  check 111 "Unable to chdir to maildir. (#4.2.1)" "maildir without search permission"
fi
chmod 0700 "$H/Closed"

# A failure in a maildir line stops the lines after it.
rm -f "$H/after"
dotqmail "$H" .qmail-err './Missing/' './after'
deliver "$H" - err
is "$rc" 111 "failed maildir: 111"
[ ! -e "$H/after" ]; ok $? "... the mbox line after it did not run"

done_testing
