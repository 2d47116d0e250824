#!/bin/sh
# The lines of a .qmail file (qmail.md section 4, dot-qmail(5)): # comment,
# |program, /file or ./file (trailing / = maildir, else mbox), &address,
# +list (forward-only from then on), anything else = an address; trailing
# spaces and tabs stripped; a blank first line -> 111; later blank lines
# ignored; the owner-x bit = forward-only (a file or program line -> 111);
# a writable .qmail -> 111; lines run in order and the first failure stops
# everything; exit 99 of a program stops the rest; -n prints the lines.
. "${QS6_SRC:-$(dirname "$0")/../..}/tests/local/local-lib.sh"

msg 'Subject: lines\n\nhello\n'
H=$(new_home)
mkdir -p "$H/Maildir/tmp" "$H/Maildir/new" "$H/Maildir/cur"

# -n: every kind of line, printed; trailing blanks gone; counts.
printf '%s\n' '# a comment' './Maildir/' '/some/where/mbox  	' '' '|echo hi there	 ' \
  '&first@example.net' 'second@example.net' '+something' '# end' > "$H/.qmail-show"
chmod 0644 "$H/.qmail-show"
deliver_n "$H" - show
check 0 "maildir ./Maildir/
mbox /some/where/mbox
program echo hi there
forward first@example.net
forward second@example.net
did 2+2+1" "-n prints each delivery line and the counts"
[ -z "$(ls "$H/Maildir/new")" ] && [ ! -e /some/where/mbox ]; ok $? "-n delivers nothing"
is "$(todo_ids)" "" "-n queues nothing"

# Without -n: the same kinds of line, really delivered, in order.
printf '%s\n' '# a comment' './Maildir/' './mbox  	' '' '|echo program ran' '   ' '# end' > "$H/.qmail-do"
chmod 0644 "$H/.qmail-do"
deliver "$H" - do
check 0 "program ran
did 2+0+1" "comment, maildir, mbox (trailing blanks stripped), blank lines, program"
is "$(ls "$H/Maildir/new" | wc -l)" 1 "... one message in Maildir/new"
[ -s "$H/mbox" ]; ok $? "... ./mbox written (not './mbox  \\t')"

# A first line that is blank, or only blanks: 111.
printf '\n./mbox\n' > "$H/.qmail-blank"
chmod 0644 "$H/.qmail-blank"
deliver "$H" - blank
check 111 "Uh-oh: first line of .qmail file is blank. (#4.2.1)" "empty first line"
printf ' \t \n./mbox\n' > "$H/.qmail-blank"
deliver "$H" - blank
check 111 "Uh-oh: first line of .qmail file is blank. (#4.2.1)" "first line of spaces and tabs"

# A .qmail without a final newline: its last line still counts.
printf '|echo last line' > "$H/.qmail-nonl"
chmod 0644 "$H/.qmail-nonl"
deliver "$H" - nonl
check 0 "last line
did 0+0+1" "last line without a newline"

# The owner-x bit: forward-only.
dotqmail "$H" .qmail-x './mbox'
chmod 0744 "$H/.qmail-x"
deliver "$H" - x
check 111 "Uh-oh: .qmail has file delivery but has x bit set. (#4.7.0)" "x bit and an mbox line"
dotqmail "$H" .qmail-x './Maildir/'
chmod 0744 "$H/.qmail-x"
deliver "$H" - x
check 111 "Uh-oh: .qmail has file delivery but has x bit set. (#4.7.0)" "x bit and a maildir line"
dotqmail "$H" .qmail-x '|echo no'
chmod 0744 "$H/.qmail-x"
deliver "$H" - x
check 111 "Uh-oh: .qmail has prog delivery but has x bit set. (#4.7.0)" "x bit and a program line"
dotqmail "$H" .qmail-x '# forwards only' 'a@example.net'
chmod 0744 "$H/.qmail-x"
deliver_n "$H" - x
check 0 "forward a@example.net
did 0+1+0" "x bit and only forwards: fine"
# group-x or other-x alone is not the owner-x bit
dotqmail "$H" .qmail-x '|echo group-x'
chmod 0654 "$H/.qmail-x"
deliver "$H" - x
check 0 "group-x
did 0+0+1" "group and other x bits do not make a .qmail forward-only"

# +list: forward-only from that line on; other + lines are ignored.
dotqmail "$H" .qmail-list '|echo before' '+list' '|echo after'
deliver "$H" - list
check 111 "before
Uh-oh: .qmail has prog delivery but has x bit set. (#4.7.0)" "+list: a program line after it fails, one before it ran"
dotqmail "$H" .qmail-list '+lists' '+' '|echo fine'
deliver "$H" - list
check 0 "fine
did 0+0+1" "+lists and + are not +list: ignored"

# A writable .qmail (other-writable: conf-patrn 002): 111.
dotqmail "$H" .qmail-w '|echo no'
chmod 0646 "$H/.qmail-w"
own "$H"
deliver "$H" - w
check 111 "Uh-oh: .qmail file is writable. (#4.7.0)" "other-writable .qmail"
chmod 0664 "$H/.qmail-w"
deliver "$H" - w
check 0 "no
did 0+0+1" "group-writable .qmail is accepted (conf-patrn is 002)"

# Lines run in order; the first failure stops the rest.
rm -f "$H/one" "$H/two"
dotqmail "$H" .qmail-order './one' '|echo failing; exit 100' './two'
deliver "$H" - order
check 100 "failing" "a failing program stops the lines after it"
[ -s "$H/one" ] && [ ! -e "$H/two" ]; ok $? "... the mbox before it was written, the one after it was not"

# Exit 99: success, the rest is ignored.
rm -f "$H/one" "$H/two"
dotqmail "$H" .qmail-99 './one' '|echo stop here; exit 99' './two' '|echo not reached'
deliver "$H" - 99
check 0 "stop here
did 1+0+1" "exit 99: success, later lines ignored"
[ -s "$H/one" ] && [ ! -e "$H/two" ]; ok $? "... ./one written, ./two not"

# A '.' line with a non-slash end is an mbox, "." itself: cannot open a directory.
dotqmail "$H" .qmail-dot '.'
deliver "$H" - dot
check 111 "Unable to open .: is a directory. (#4.2.1)" "the line '.' is an mbox named ."

# defaultdelivery holds lines too (several, separated by newlines).
H2=$(new_home)
mkdir -p "$H2/Maildir/tmp" "$H2/Maildir/new" "$H2/Maildir/cur"
deliver "$H2" "" "" sender@example.org "$(printf './Maildir/\n|echo also')"
check 0 "also
did 1+0+1" "defaultdelivery with two lines"

done_testing
