#!/bin/sh
# qmail-inject with hostile input: the header is held in memory and capped
# at 1 MiB (1048576 bytes of header lines; more: exit 100); the body is
# streamed, whatever its line lengths or NUL bytes, byte for byte.  qmail
# has no cap (qmail-inject(8) says where we differ); everything else here
# is qmail's behaviour: a final newline is added, a line that cannot be a
# field starts the body.
. "${QS6_SRC:-$(dirname "$0")/../..}/tests/inject/inject-lib.sh"

H=$(light_home h1 sandbox.example.test)
T=$QS6_TMP
rep() { head -c "$2" /dev/zero | tr '\0' "$1"; }   # rep CHAR COUNT
run() { env QMAILHOME="$H" QMAILUSER=joe "$QI" -n "$@"; }
toolarge="qmail-inject: fatal: message header is larger than 1048576 bytes"

# 1. One field over the cap.
{ printf 'X-Big: '; rep a 1048576; printf '\n\nbody\n'; } > "$T/in1"
run < "$T/in1" > "$T/out" 2> "$T/err"
is "$?" 100 "a field over 1 MiB: exit 100"
is "$(cat "$T/err")" "$toolarge" "... and says why"

# 2. Many small fields over the cap.
i=0; : > "$T/line"
{ printf 'X-L: '; rep b 58; printf '\n'; } > "$T/line"
{ i=0; while [ $i -lt 64 ]; do cat "$T/line"; i=$((i + 1)); done; } > "$T/l64"
{ i=0; while [ $i -lt 320 ]; do cat "$T/l64"; i=$((i + 1)); done; printf '\nbody\n'; } > "$T/in2"
run < "$T/in2" > "$T/out" 2> "$T/err"
is "$?:$(cat "$T/err")" "100:$toolarge" "20480 fields of 64 bytes (1.25 MiB): exit 100"

# 3. Exactly 1 MiB of header lines passes; one byte more does not.
{ printf 'X-L: '; rep c 65530; printf '\n'; } > "$T/f64k"
{ i=0; while [ $i -lt 16 ]; do cat "$T/f64k"; i=$((i + 1)); done; } > "$T/h1m"
is "$(wc -c < "$T/h1m")" 1048576 "(the header below is 1048576 bytes)"
{ cat "$T/h1m"; printf '\nbody\n'; } > "$T/in3"
run < "$T/in3" > "$T/out" 2> "$T/err"
is "$?" 0 "a header of exactly 1 MiB: accepted"
tail -c 1048582 "$T/out" > "$T/got"
{ cat "$T/h1m"; printf '\nbody\n'; } > "$T/exp"
same_file "$T/got" "$T/exp" "... and passed through unchanged"
{ printf 'X-L: '; rep c 65531; printf '\n'; cat "$T/h1m"; printf '\nbody\n'; } > "$T/in3b"
run < "$T/in3b" > "$T/out" 2> "$T/err"
is "$?:$(cat "$T/err")" "100:$toolarge" "one byte more: exit 100"

# 4. A continuation line that goes over.
{ printf 'Subject: x\n '; rep d 1048576; printf '\n\nbody\n'; } > "$T/in4"
run < "$T/in4" > "$T/out" 2> "$T/err"
is "$?:$(cat "$T/err")" "100:$toolarge" "a continuation line over the cap: exit 100"

# 5. A huge first line that cannot be a field (it has a space before any
#    colon) starts the body, as any non-field line does, and is kept whole.
{ i=0; while [ $i -lt 20 ]; do rep e 100000; printf ' word'; i=$((i + 1)); done; printf '\nnext line\n'; } > "$T/in5"
run < "$T/in5" > "$T/out" 2> "$T/err"
is "$?" 0 "a 2 MB line that is not a field: accepted as body"
{ printf '\n'; cat "$T/in5"; } > "$T/exp"
tail -c "$(wc -c < "$T/exp")" "$T/out" > "$T/got"
same_file "$T/got" "$T/exp" "... after a blank line, byte for byte"
{ rep f 1100000; printf '\n'; } > "$T/in5b"
run < "$T/in5b" > "$T/out" 2> "$T/err"
is "$?:$(cat "$T/err")" "100:$toolarge" "a 1.1 MB first line that could still be a field name: exit 100"

# 6. The body: NUL bytes, a 3 MB line, no final newline: streamed as is, and
#    the final newline added (qmail does).
{ printf 'Subject: bin\n\nNUL:\0:\0\0end\n'; rep g 3000000; printf '\nlast'; } > "$T/in6"
run < "$T/in6" > "$T/out" 2> "$T/err"
is "$?" 0 "binary body: exit 0"
{ printf 'Subject: bin\n\nNUL:\0:\0\0end\n'; rep g 3000000; printf '\nlast\n'; } > "$T/exp"
tail -c "$(wc -c < "$T/exp")" "$T/out" > "$T/got"
same_file "$T/got" "$T/exp" "... NULs and long lines kept, final newline added"

# 7. A NUL in a field that is not an address field is kept.
printf 'X-Nul: a\0b\nSubject: s\n\nbody\n' > "$T/in7"
run < "$T/in7" > "$T/out"
printf 'X-Nul: a\0b\nSubject: s\n\nbody\n' > "$T/exp"
tail -c "$(wc -c < "$T/exp")" "$T/out" > "$T/got"
same_file "$T/got" "$T/exp" "a NUL inside an ordinary field is kept"

# 8. CRLF lines are not special: a CRLF "blank" line is not the end of the
#    header, but a line that is not a field, so a blank line goes before it.
printf 'Subject: s\r\n\r\nbody\r\n' | run > "$T/out"
printf 'Subject: s\r\n\n\r\nbody\r\n' > "$T/exp"
tail -c "$(wc -c < "$T/exp")" "$T/out" > "$T/got"
same_file "$T/got" "$T/exp" "CRLF: kept as qmail keeps it"

done_testing
