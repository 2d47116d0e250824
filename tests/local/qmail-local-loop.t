#!/bin/sh
# The loop check (qmail.md section 4): a header line byte for byte equal to
# "Delivered-To: {local}@{domain}\n" -> 100 "This message is looping: it
# already has my Delivered-To line. (#5.4.6)".  Only the header counts (up
# to the first empty line); -n does not read the message.
. "${QS6_SRC:-$(dirname "$0")/../..}/tests/local/local-lib.sh"

LOOP="This message is looping: it already has my Delivered-To line. (#5.4.6)"
H=$(new_home)
dotqmail "$H" .qmail-t '|echo delivered'

msg 'Received: x\nDelivered-To: joe-t@example.com\nSubject: loop\n\nbody\n'
deliver "$H" - t
check 100 "$LOOP" "our Delivered-To line in the header"

msg 'Delivered-To: joe-t@example.com\n\nbody\n'
deliver "$H" - t
check 100 "$LOOP" "... as the first line"

msg 'Subject: x\nDelivered-To: joe-t@example.com\n'
deliver "$H" - t
check 100 "$LOOP" "... as the last line of a message without body"

msg 'Subject: x\n\nDelivered-To: joe-t@example.com\n'
deliver "$H" - t
check 0 "delivered
did 0+0+1" "in the body: no loop"

msg 'Subject: x\r\n\r\nDelivered-To: joe-t@example.com\n'
deliver "$H" - t
check 100 "$LOOP" "a CRLF line does not end the header"

for variant in 'delivered-to: joe-t@example.com' 'Delivered-To: JOE-T@example.com' \
    'Delivered-To: joe-t@example.com ' 'Delivered-To:  joe-t@example.com' \
    'Delivered-To: joe-t@example.comm' 'Delivered-To: joe-t@example.co' \
    'Delivered-To: joe@example.com' 'X-Delivered-To: joe-t@example.com'; do
  msg "Subject: x\n$variant\n\nbody\n"
  deliver "$H" - t
  check 0 "delivered
did 0+0+1" "not byte-identical: '$variant'"
done
msg 'Subject: x\nDelivered-To: joe-t@example.com\r\n\nbody\n'
deliver "$H" - t
check 0 "delivered
did 0+0+1" "with CR before the newline: no loop"
msg 'Subject: x\nDelivered-To: joe-t@example.com'
deliver "$H" - t
check 0 "delivered
did 0+0+1" "a last line without newline is not compared"

# A header with very long lines before the loop line: still found.
{ printf 'X-Long: '; head -c 200000 /dev/zero | tr '\0' 'a'; printf '\nDelivered-To: joe-t@example.com\n\nbody\n'; } > "$QS6_TMP/msg"
deliver "$H" - t
check 100 "$LOOP" "after a 200000-byte header line"

# The Delivered-To line of another delivery does not loop.
msg 'Delivered-To: joe-t@example.com\n\nbody\n'
deliver "$H" "" "" sender@example.org '|echo other'
check 0 "other
did 0+0+1" "joe@example.com is not joe-t@example.com"

# -n does not read the message.
msg 'Delivered-To: joe-t@example.com\n\nbody\n'
deliver_n "$H" - t
check 0 "program echo delivered
did 0+0+1" "-n: no loop check"

# A newline in the recipient becomes '_' in DTLINE: the loop line has the '_'.
msg 'Delivered-To: joe-a_b@example.com\n\nbody\n'
dotqmail "$H" .qmail-default '|echo default'
ql "$H" -- joe "$H" "joe-a
b" - "a
b" example.com sender@example.org ./Mailbox
check 100 "$LOOP" "newline in the address: matched as '_'"

done_testing
