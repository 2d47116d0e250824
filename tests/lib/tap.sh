# tests/lib/tap.sh: TAP helpers and sandboxes for the shell tests.
# Source it: . "$QS6_SRC/tests/lib/tap.sh"
# Every test runs under prove from `make check` (or check-sanitize), which sets
# QS6_BUILD (the build dir: bin/, tests/) and QS6_SRC (the source tree).

: "${QS6_SRC:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${QS6_BUILD:=$QS6_SRC/build}"
export QS6_SRC QS6_BUILD
unset QMAILHOME QMAILQUEUE 2>/dev/null || true
# No DNS query may leave the machine (see qs6.py): a closed loopback port.
DNSCACHEIP=127.0.0.1:1
export DNSCACHEIP

_tap_n=0
_tap_fail=0
_tap_cleanup=""

# Each test gets its own scratch dir, world-traversable so that the sandbox
# user (when we are root) can reach the sandboxes inside it.
QS6_TMP=$(mktemp -d "${TMPDIR:-/tmp}/qs6test.XXXXXX")
chmod 0755 "$QS6_TMP"
_tap_exit() {
  rc=$?
  for c in $_tap_cleanup; do "$c" || true; done
  if [ -z "${QS6_KEEP:-}" ]; then rm -rf "$QS6_TMP"; else echo "# kept $QS6_TMP"; fi
  exit $rc
}
trap _tap_exit EXIT
trap 'exit 129' HUP INT TERM

tap_at_exit() { _tap_cleanup="$_tap_cleanup $1"; }

plan() { echo "1..$1"; }
skip_all() { echo "1..0 # SKIP $*"; exit 0; }
diag() { printf '%s\n' "$*" | sed 's/^/# /'; }

ok() { # ok CONDITION-STATUS DESCRIPTION  (status 0 = pass)
  _tap_n=$((_tap_n + 1))
  if [ "$1" = 0 ]; then echo "ok $_tap_n - $2"
  else echo "not ok $_tap_n - $2"; _tap_fail=$((_tap_fail + 1)); fi
}
pass() { ok 0 "$1"; }
fail() { ok 1 "$1"; }
skip() { _tap_n=$((_tap_n + 1)); echo "ok $_tap_n # skip $*"; }

# is GOT EXPECTED DESCRIPTION
is() {
  if [ "$1" = "$2" ]; then ok 0 "$3"
  else ok 1 "$3"; diag "got:      '$1'" "expected: '$2'"; fi
}

# same_file GOT_FILE EXPECTED_FILE DESCRIPTION: byte comparison, with a diff of
# the octal dumps when they differ.
same_file() {
  if cmp -s "$1" "$2"; then ok 0 "$3"
  else
    ok 1 "$3"
    od -c "$1" > "$QS6_TMP/.got" 2>&1; od -c "$2" > "$QS6_TMP/.exp" 2>&1
    diff "$QS6_TMP/.exp" "$QS6_TMP/.got" | head -40 | sed 's/^/# /'
  fi
}

done_testing() {
  echo "1..$_tap_n"
  [ "$_tap_fail" = 0 ]
}

# new_sandbox [FQDN]: makes a sandbox under QS6_TMP, prints its path.
# (mktemp, not a counter: SB=$(new_sandbox) runs in a subshell.)
new_sandbox() {
  _sb=$(mktemp -d "$QS6_TMP/sb.XXXXXX") || return 1
  "$QS6_SRC/tools/sandbox" "$_sb" "${1:-sandbox.example.test}" >&2 || return 1
  printf '%s\n' "$_sb"
}

# The sandbox user's uid (what owns the queue files).
sandbox_uid() { cut -d: -f2 "$1/sandbox"; }

# run_as_sandbox SB CMD...: run a command as the sandbox user (su when root).
run_as_sandbox() {
  _sbd=$1; shift
  if [ "$(id -u)" = 0 ]; then
    setpriv --reuid="$(cut -d: -f2 "$_sbd/sandbox")" --regid="$(cut -d: -f3 "$_sbd/sandbox")" --clear-groups -- "$@"
  else
    "$@"
  fi
}

# wait_until SECONDS CMD...: retry CMD every 0.05 s until it succeeds or the
# time is up.  Bounded: never a fixed sleep.
wait_until() {
  _wu_end=$(( $(date +%s) + $1 )); shift
  while ! "$@" 2>/dev/null; do
    [ "$(date +%s)" -ge "$_wu_end" ] && return 1
    sleep 0.05
  done
}
