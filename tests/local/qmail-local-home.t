#!/bin/sh
# Arguments and the home directory (qmail.md section 4): usage (exit 100,
# also for a relative homedir); chdir home or 111 "Unable to switch to ...";
# an other-writable home (conf-patrn 002) -> 111; a sticky home -> 111 (the
# user is editing .qmail), with -n only a warning.
. "${QS6_SRC:-$(dirname "$0")/../..}/tests/local/local-lib.sh"

USAGE="qmail-local: usage: qmail-local [ -nN ] user homedir local dash ext domain sender aliasempty"
msg 'Subject: home\n\nhello\n'
H=$(new_home)
dotqmail "$H" .qmail-t '|echo delivered'

ql "$H" -- joe "$H" joe-t - t example.com sender@example.org
check 100 "$USAGE" "seven arguments: usage"
ql "$H" -- joe "$H" joe-t - t example.com sender@example.org ./Mailbox extra
check 100 "$USAGE" "nine arguments: usage"
ql "$H" -x -- joe "$H" joe-t - t example.com sender@example.org ./Mailbox
check 100 "$USAGE" "unknown option: usage"
ql "$H" -- joe home joe-t - t example.com sender@example.org ./Mailbox
check 100 "$USAGE" "relative homedir: usage"
ql "$H" joe "$H" joe-t - t example.com sender@example.org ./Mailbox
check 0 "delivered
did 0+0+1" "no -- needed"
ql "$H" -n -N -- joe "$H" joe-t - t example.com sender@example.org ./Mailbox
check 0 "delivered
did 0+0+1" "-N after -n: deliver"

ql "$H" -- joe "$H/nonexistent" joe-t - t example.com sender@example.org ./Mailbox
check 111 "Unable to switch to $H/nonexistent: file does not exist. (#4.3.0)" "home missing"
ql "$H" -- joe "$H/.qmail-t" joe-t - t example.com sender@example.org ./Mailbox
check 111 "Unable to switch to $H/.qmail-t: not a directory. (#4.3.0)" "home not a directory"

own "$H"
chmod 0757 "$H"
deliver "$H" - t
check 111 "Uh-oh: home directory is writable. (#4.7.0)" "other-writable home"
chmod 0775 "$H"
deliver "$H" - t
check 0 "delivered
did 0+0+1" "group-writable home is accepted (conf-patrn is 002)"

chmod 01755 "$H"
deliver "$H" - t
check 111 "Home directory is sticky: user is editing his .qmail file. (#4.2.1)" "sticky home: deferred"
deliver_n "$H" - t
check 0 "Warning: home directory is sticky.
program echo delivered
did 0+0+1" "sticky home with -n: a warning, then the description"
chmod 0755 "$H"

done_testing
