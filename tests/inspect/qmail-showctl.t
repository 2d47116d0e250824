#!/bin/sh
# qmail-showctl: qmail's report of the compiled-in values and of every control
# file (qmail.md sections 7 and 8; the words are qmail-showctl's).  Expected
# text is written here from qmail's wording: per file an empty line, then
# "{file}: " and the value, "(Default.) " and the default when the file is
# missing, list files one line per entry; unknown files "I have no idea what
# this file does."; bytes outside 32..126 as '?'.
. "$QS6_SRC/tests/lib/tap.sh"
. "$QS6_SRC/tests/lib/queue-files.sh"

make_sandbox SB mail.example.test || { echo "Bail out! no sandbox"; exit 1; }
U=$(sandbox_uid "$SB"); G=$(sandbox_gid "$SB")
C=$SB/control

printf '# spammers\n\nspam@example.net  \n@bad.example\n' > "$C/badmailfrom"
printf 'bounces\t \n' > "$C/bouncefrom"
printf 'ten\n' > "$C/concurrencylocal"
printf '255\n' > "$C/concurrencyremote"
printf '1000000 \n' > "$C/databytes"
printf 'we\001ird.example\nsecond line ignored\n' > "$C/defaulthost"
: > "$C/doublebounceto"
printf 'example.org\n' > "$C/percenthack"
printf '86400' > "$C/queuelifetime"
printf 'more.example\n' > "$C/morercpthosts"
printf 'not a real cdb' > "$C/morercpthosts.cdb"
touch -d '2024-01-02 00:00:00 UTC' "$C/morercpthosts"
touch -d '2024-01-01 00:00:00 UTC' "$C/morercpthosts.cdb"
printf ':relay.example:2525\n' > "$C/smtproutes"
printf 'lists.example:alias-lists\nexample.com:joe\n' > "$C/virtualdomains"
printf './Maildir/\n' > "$C/defaultdelivery"
: > "$C/aaa"
: > "$C/.hidden"

cat > "$QS6_TMP/exp" <<EOF
qmail home directory: $SB.
user-ext delimiter: -.
paternalism (in decimal): 2.
silent concurrency limit: 120.
subdirectory split: 23.
user ids: $U, $U, $U, $U, $U, $U, $U, $U.
group ids: $G, $G.

badmailfrom: 
spam@example.net not accepted in MAIL FROM.
@bad.example not accepted in MAIL FROM.

bouncefrom: Bounce user name is bounces.

bouncehost: (Default.) Bounce host name is mail.example.test.

concurrencylocal: Oops! Trouble reading this file.

concurrencyremote: Remote concurrency is 255.

databytes: SMTP DATA limit is 1000000 bytes.

defaultdomain: (Default.) Default domain name is mail.example.test.

defaulthost: Default host name is we?ird.example.

doublebouncehost: (Default.) 2B recipient host: mail.example.test.

doublebounceto: 2B recipient user: .

envnoathost: (Default.) Presumed domain name is mail.example.test.

helohost: (Default.) SMTP client HELO host name is mail.example.test.

idhost: (Default.) Message-ID host name is mail.example.test.

localiphost: (Default.) Local IP address becomes mail.example.test.

locals: 
Messages for mail.example.test are delivered locally.
Messages for localhost are delivered locally.

me: My name is mail.example.test.

percenthack: 
The percent hack is allowed for user%host@example.org.

plusdomain: (Default.) Plus domain name is mail.example.test.

qmqpservers: (Default.) No QMQP servers.

queuelifetime: Message lifetime in the queue is 86400 seconds.

rcpthosts: 
SMTP clients may send messages to recipients at mail.example.test.
SMTP clients may send messages to recipients at localhost.

morercpthosts: 
SMTP clients may send messages to recipients at more.example.

morercpthosts.cdb: Oops! morercpthosts.cdb is older than morercpthosts.

smtpgreeting: (Default.) SMTP greeting: 220 mail.example.test.

smtproutes: 
SMTP route: :relay.example:2525

timeoutconnect: (Default.) SMTP client connection timeout is 60 seconds.

timeoutremote: (Default.) SMTP client data timeout is 1200 seconds.

timeoutsmtpd: (Default.) SMTP server data timeout is 1200 seconds.

virtualdomains: 
Virtual domain: lists.example:alias-lists
Virtual domain: example.com:joe

.hidden: I have no idea what this file does.

aaa: I have no idea what this file does.

defaultdelivery: I have no idea what this file does.
EOF
run_in "$SB" qmail-showctl
is "$rc" 0 "configured: exit 0"
same_file "$QS6_TMP/out" "$QS6_TMP/exp" "configured: qmail's text, byte for byte"
is "$(cat "$QS6_TMP/err")" "" "configured: nothing on stderr"

# block FILE: the lines qmail-showctl printed for that control file, up to
# the next empty line.
block() { awk -v f="$1: " 'index($0, f) == 1 { p = 1 } p && $0 == "" { exit } p' "$QS6_TMP/out"; }

# No me, no rcpthosts: the defaults that do not come from me, and
# morercpthosts is irrelevant.
rm -f "$C/me" "$C/rcpthosts" "$C/morercpthosts.cdb"
run_in "$SB" qmail-showctl
is "$rc" 0 "no me: exit 0"
is "$(block me)" "me: (Default.) My name is undefined! Uh-oh." "no me: me"
is "$(block bouncehost)" "bouncehost: (Default.) Bounce host name is bouncehost." "no me: bouncehost"
is "$(block smtpgreeting)" "smtpgreeting: (Default.) SMTP greeting: 220 smtpgreeting." "no me: smtpgreeting"
is "$(block rcpthosts)" "rcpthosts: (Default.) SMTP clients may send messages to any recipient." "no rcpthosts: rcpthosts"
is "$(block morercpthosts)" "morercpthosts: 
No rcpthosts; doesn't matter that morercpthosts has more.example." "no rcpthosts: morercpthosts"
is "$(block morercpthosts.cdb)" "morercpthosts.cdb: Oops! morercpthosts exists but morercpthosts.cdb doesn't." "morercpthosts without its cdb"

rm -f "$C/morercpthosts"
run_in "$SB" qmail-showctl
is "$(block morercpthosts)" "morercpthosts: (Default.) No rcpthosts; morercpthosts is irrelevant." "neither rcpthosts nor morercpthosts"
is "$(block morercpthosts.cdb)" "morercpthosts.cdb: (Default.) No effect." "no morercpthosts.cdb"

printf 'mail.example.test\n' > "$C/rcpthosts"
printf 'x' > "$C/morercpthosts.cdb"
run_in "$SB" qmail-showctl
is "$(block morercpthosts)" "morercpthosts: (Default.) No effect." "rcpthosts without morercpthosts"
is "$(block morercpthosts.cdb)" "morercpthosts.cdb: Oops! morercpthosts.cdb exists but morercpthosts doesn't." "a cdb without morercpthosts"

printf 'more.example\n' > "$C/morercpthosts"
touch -d '2024-01-01 00:00:00 UTC' "$C/morercpthosts"
touch -d '2024-01-02 00:00:00 UTC' "$C/morercpthosts.cdb"
run_in "$SB" qmail-showctl
is "$(block morercpthosts.cdb)" "morercpthosts.cdb: Modified recently enough; hopefully up to date." "an up-to-date cdb"

# A control file that cannot be read (a directory in its place).
mkdir "$C/smtpgreeting"
run_in "$SB" qmail-showctl
is "$rc" 0 "unreadable file: exit 0"
is "$(block smtpgreeting)" "smtpgreeting: Oops! Trouble reading this file." "unreadable file: Oops"
rmdir "$C/smtpgreeting"

# control/me cannot be read: qmail stops there.
rm -f "$C/me"; mkdir "$C/me"
run_in "$SB" qmail-showctl
is "$rc" 111 "unreadable me: exit 111"
is "$(tail -n 1 "$QS6_TMP/out")" "Oops! Trouble reading control/me." "unreadable me: Oops"
rmdir "$C/me"

# No control/ at all.
mv "$C" "$C.away"
run_in "$SB" qmail-showctl
is "$rc" 111 "no control/: exit 111"
is "$(tail -n 1 "$QS6_TMP/out")" "Oops! Unable to chdir to control." "no control/: Oops"
is "$(head -n 1 "$QS6_TMP/out")" "qmail home directory: $SB." "no control/: the compiled-in values come first"
mv "$C.away" "$C"

# qmail-s6's own control files: described only when they exist, among the
# other files; a password in smtproutes or authsenders is not shown.
printf 'example.org:relay.example:587|joe|s3cret\n:relay.example\n' > "$C/smtproutes"
printf '@example.net:relay.example:587|ann|hidden pw\n' > "$C/authsenders"
printf '7\n' > "$C/remotebatch"
printf 'example.org:verify\n' > "$C/tlsdestinations"
printf 'broken.example\n' > "$C/notlshosts"
run_in "$SB" qmail-showctl
is "$rc" 0 "our files: exit 0"
is "$(block smtproutes)" "smtproutes: 
SMTP route: example.org:relay.example:587|joe|(password not shown)
SMTP route: :relay.example" "smtproutes: the password of a route is not shown"
is "$(block authsenders)" "authsenders: 
SMTP route and AUTH for the sender: @example.net:relay.example:587|ann|(password not shown)" "authsenders: described, password not shown"
is "$(block remotebatch)" "remotebatch: Most recipients per SMTP transaction: 7." "remotebatch: described"
is "$(block tlsdestinations)" "tlsdestinations: 
TLS required for mail to: example.org:verify" "tlsdestinations: described"
is "$(block notlshosts)" "notlshosts: 
No STARTTLS to broken.example." "notlshosts: described"
if grep -q "s3cret\|hidden pw" "$QS6_TMP/out"; then ok 1 "no password anywhere in the output"; else ok 0 "no password anywhere in the output"; fi
rm -f "$C/authsenders" "$C/remotebatch" "$C/tlsdestinations" "$C/notlshosts"

run_in "$QS6_TMP/nowhere" qmail-showctl
is "$rc" 111 "no home: exit 111"
is "$(tail -n 1 "$QS6_TMP/out")" "Oops! Unable to chdir to $QS6_TMP/nowhere." "no home: Oops"

done_testing
