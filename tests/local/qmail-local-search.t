#!/bin/sh
# The .qmail search (qmail.md section 4, dot-qmail(5)): .qmail{dash}{ext},
# then for each cut of ext at its end, at a '-', or at its start,
# .qmail{dash}{ext up to the cut}default; ext lowercased and '.' -> ':';
# DEFAULT = the part of ext that "default" stands for; nothing found with a
# non-empty dash -> 100 "Sorry, no mailbox here by that name. (#5.1.1)";
# nothing found with an empty dash, or an empty file -> defaultdelivery.
# Only a regular file counts.
. "${QS6_SRC:-$(dirname "$0")/../..}/tests/local/local-lib.sh"

msg 'Subject: search\n\nhello\n'
H=$(new_home)

# Each candidate says its name and DEFAULT (or "unset").
for f in .qmail-a-b-c .qmail-a-b-default .qmail-a-default .qmail-default; do
  dotqmail "$H" "$f" "|echo $f \${DEFAULT-unset}"
done

deliver "$H" - a-b-c
check 0 ".qmail-a-b-c unset
did 0+0+1" "ext a-b-c: .qmail-a-b-c first, DEFAULT not set"

rm "$H/.qmail-a-b-c"
deliver "$H" - a-b-c
check 0 ".qmail-a-b-default c
did 0+0+1" "then .qmail-a-b-default, DEFAULT=c"

rm "$H/.qmail-a-b-default"
deliver "$H" - a-b-c
check 0 ".qmail-a-default b-c
did 0+0+1" "then .qmail-a-default, DEFAULT=b-c"

rm "$H/.qmail-a-default"
deliver "$H" - a-b-c
check 0 ".qmail-default a-b-c
did 0+0+1" "then .qmail-default, DEFAULT=a-b-c"

rm "$H/.qmail-default"
deliver "$H" - a-b-c
check 100 "Sorry, no mailbox here by that name. (#5.1.1)" "none: #5.1.1"
[ ! -e "$H/Mailbox" ]; ok $? "... and defaultdelivery is not used"

# Case and dots: the file name is lowercased with ':' for '.', DEFAULT is not.
dotqmail "$H" .qmail-x:y-default '|echo $DEFAULT'
deliver "$H" - X.Y-Some.Thing
check 0 "Some.Thing
did 0+0+1" "ext X.Y-Some.Thing: .qmail-x:y-default, DEFAULT keeps case and dots"
dotqmail "$H" .qmail-x:y-some:thing '|echo exact'
deliver "$H" - X.Y-Some.Thing
check 0 "exact
did 0+0+1" "ext X.Y-Some.Thing: .qmail-x:y-some:thing"
rm "$H"/.qmail-x*

# A trailing '-' in ext: "a-" tries .qmail-a-, .qmail-a-default, .qmail-default.
dotqmail "$H" .qmail-a-default '|echo [$DEFAULT]'
deliver "$H" - a-
check 0 "[]
did 0+0+1" "ext a-: .qmail-a-default with an empty DEFAULT"
rm "$H/.qmail-a-default"

# Exact match of a name that ends in "default": DEFAULT is the word itself.
dotqmail "$H" .qmail-foo-default '|echo [$DEFAULT]'
deliver "$H" - foo-default
check 0 "[default]
did 0+0+1" "ext foo-default matching .qmail-foo-default exactly: DEFAULT=default"
rm "$H/.qmail-foo-default"

# Only regular files count: a directory is passed over.
mkdir "$H/.qmail-dir"
dotqmail "$H" .qmail-default '|echo default for $DEFAULT'
deliver "$H" - dir
check 0 "default for dir
did 0+0+1" "a directory named .qmail-dir is not a .qmail file"
rmdir "$H/.qmail-dir"
# A FIFO is passed over too (and opening it does not block).
mkfifo "$H/.qmail-fifo"
deliver "$H" - fifo
check 0 "default for fifo
did 0+0+1" "a FIFO named .qmail-fifo is not a .qmail file"
rm -f "$H/.qmail-fifo" "$H/.qmail-default"

# A file that exists but cannot be read: temporary failure.
dotqmail "$H" .qmail-locked '|echo no'
chmod 0 "$H/.qmail-locked"
own "$H"
if as_user test -r "$H/.qmail-locked"; then
  skip "the delivering user can read a mode-0 file (CAP_DAC_OVERRIDE)"
  skip "..."
else
  deliver "$H" - locked
  check 111 "Unable to open .qmail-locked: access denied. (#4.3.0)" "unreadable .qmail: 111"
fi
rm -f "$H/.qmail-locked"

# Empty dash (the user's own address): .qmail, then .qmaildefault, then
# defaultdelivery.
H2=$(new_home)
deliver "$H2" "" ""
check 0 "did 1+0+0" "no .qmail, empty dash: defaultdelivery ./Mailbox"
[ -s "$H2/Mailbox" ]; ok $? "... Mailbox written"
rm -f "$H2/Mailbox"
dotqmail "$H2" .qmaildefault '|echo qmaildefault [$DEFAULT]'
deliver "$H2" "" ""
check 0 "qmaildefault []
did 0+0+1" "empty dash, empty ext: .qmaildefault"
dotqmail "$H2" .qmail '|echo dot-qmail'
deliver "$H2" "" ""
check 0 "dot-qmail
did 0+0+1" "empty dash, empty ext: .qmail before .qmaildefault"

# An empty .qmail file means defaultdelivery, with any dash.
: > "$H2/.qmail"
deliver "$H2" "" "" sender@example.org '|echo default delivery'
check 0 "default delivery
did 0+0+1" "0-byte .qmail: defaultdelivery"
: > "$H2/.qmail-empty"
chmod 0644 "$H2/.qmail-empty"
deliver "$H2" - empty sender@example.org '|echo default delivery'
check 0 "default delivery
did 0+0+1" "0-byte .qmail-empty: defaultdelivery"
# An empty .qmail with the x bit: defaultdelivery is not forward-only.
chmod 0744 "$H2/.qmail-empty"
deliver "$H2" - empty sender@example.org '|echo default delivery'
check 0 "default delivery
did 0+0+1" "0-byte .qmail with the x bit: defaultdelivery may run programs"

# A dash of "-" and an empty ext: .qmail-, then .qmail-default.
H3=$(new_home)
dotqmail "$H3" .qmail-default '|echo dash-default'
deliver "$H3" - ""
check 0 "dash-default
did 0+0+1" "dash -, empty ext: .qmail-default"
dotqmail "$H3" .qmail- '|echo dash-only'
deliver "$H3" - ""
check 0 "dash-only
did 0+0+1" "dash -, empty ext: .qmail- first"

# DEFAULT from the environment is not passed on when no default file matched.
dotqmail "$H3" .qmail-exact '|echo [${DEFAULT-unset}]'
export DEFAULT=stale
deliver "$H3" - exact
unset DEFAULT
check 0 "[unset]
did 0+0+1" "exact match: DEFAULT is not set, whatever the environment held"

done_testing
