# tests/local/local-lib.sh: what the tests of qmail-local and of the .qmail
# helpers share.  Sourced by tests/local/*.t.
#
# qmail-local is meant to be run by qmail-lspawn as the recipient user; here
# the tests run it directly.  Every test file makes one sandbox (a qmail home
# with a queue, for forwards: QMAILHOME points at it), and the deliveries run
# as the sandbox user: the caller, or, when the tests run as root, the user
# qmails6 (through setpriv), so that the homes, mailboxes and the queue all
# belong to the user who delivers, as in a real system.
. "${QS6_SRC:-$(dirname "$0")/../..}/tests/lib/tap.sh"
export LC_ALL=C

QL=$QS6_BUILD/bin/qmail-local
# The helpers of .qmail program lines (preline, forward ...) are found in PATH.
PATH=$QS6_BUILD/bin:$PATH
export PATH
unset DEFAULT SENDER NEWSENDER DTLINE RPLINE UFLINE MAILDIR MAIL MAILTMP 2>/dev/null || true

SB=$(new_sandbox) || { echo "Bail out! no sandbox"; exit 1; }
U_UID=$(cut -d: -f2 "$SB/sandbox")
U_GID=$(cut -d: -f3 "$SB/sandbox")
HOSTNAME_=$(uname -n)
# A directory the delivering user can write to (for pid files and such).
RUN=$QS6_TMP/run
mkdir -p "$RUN"
chmod 0755 "$RUN"
[ "$(id -u)" != 0 ] || chown "$U_UID:$U_GID" "$RUN"

# new_home: a fresh home directory (mode 0755), its path on stdout.
new_home() {
  _nh=$(mktemp -d "$QS6_TMP/home.XXXXXX") || return 1
  chmod 0755 "$_nh"
  printf '%s\n' "$_nh"
}

# own PATH...: gives files made by the test to the delivering user (root only).
own() {
  [ "$(id -u)" = 0 ] || return 0
  chown -R "$U_UID:$U_GID" "$@"
}

# as_user CMD...: runs a command as the delivering user.
as_user() { run_as_sandbox "$SB" "$@"; }

# msg TEXT: the message for the next delivery, from printf's format TEXT.
msg() {
  printf "$1" > "$QS6_TMP/msg"
  chmod 0644 "$QS6_TMP/msg"
}

# ql HOME ARGS...: runs qmail-local ARGS (the message on stdin) as the
# delivering user, after giving HOME to that user.  Output (fd 1 and fd 2,
# one pipe, as qmail-lspawn gives them) in $QS6_TMP/out; exit code in rc;
# qmail-local's pid in qlpid.
ql() {
  _qh=$1; shift
  [ -d "$_qh" ] && own "$_qh"
  rc=0
  as_user env QMAILHOME="$SB" sh -c 'echo $$ > "$0"; exec "$@"' "$RUN/qlpid" "$QL" "$@" \
    < "$QS6_TMP/msg" > "$QS6_TMP/out" 2>&1 || rc=$?
  qlpid=$(cat "$RUN/qlpid")
}

# deliver HOME DASH EXT [SENDER [DEFAULTDELIVERY]]: qmail-local for
# joe{DASH}{EXT}@example.com, user joe, sender (default
# sender@example.org), defaultdelivery (default ./Mailbox).
deliver() {
  ql "$1" -- joe "$1" "joe$2$3" "$2" "$3" example.com "${4-sender@example.org}" "${5-./Mailbox}"
}

# deliver_n: the same with -n.
deliver_n() {
  ql "$1" -n -- joe "$1" "joe$2$3" "$2" "$3" example.com "${4-sender@example.org}" "${5-./Mailbox}"
}

# out: what qmail-local printed.
out() { cat "$QS6_TMP/out"; }

# check RC OUTPUT DESCRIPTION: exit code and the whole output.
check() {
  is "$rc" "$1" "$3: exit $1"
  is "$(out)" "$2" "$3: output"
}

# dotqmail HOME NAME LINE...: writes HOME/NAME with one line per argument,
# mode 0644.
dotqmail() {
  _dh=$1; _dn=$2; shift 2
  printf '%s\n' "$@" > "$_dh/$_dn"
  chmod 0644 "$_dh/$_dn"
}

# utcdate [EPOCH]: qmail's From_ date (myctime): "Thu Sep 26 04:46:54 1995".
utcdate() { date -u ${1:+-d "@$1"} +'%a %b %d %H:%M:%S %Y'; }

# The queue of the sandbox: the files a forward made.
Q=$SB/queue
todo_ids() { ls "$Q/todo" 2>/dev/null; }
# todo_text ID: the todo file with NULs shown as '|'.
todo_text() { tr '\0' '|' < "$Q/todo/$1"; }
# mess_body ID: the mess file without qmail-queue's Received line.
mess_body() { tail -n +2 "$Q/mess/$(( $1 % 23 ))/$1"; }
# clear_queue: forget the messages queued so far (the tests look at todo/).
clear_queue() {
  for _cq in $(todo_ids); do
    rm -f "$Q/todo/$_cq" "$Q/intd/$_cq" "$Q/mess/$(( _cq % 23 ))/$_cq"
  done
}
