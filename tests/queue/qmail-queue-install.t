#!/bin/sh
# A real install in a temporary home (root only): make install with the
# home compiled in, the qmail users, qmail-queue setuid qmailq 04711, and the
# Received line per uid class (qmail.md section 2):
#   alias -> "invoked by alias", qmaild -> "invoked from network",
#   qmails -> "invoked for bounce", anyone else -> "invoked by uid N".
. "${QS6_SRC:-$(dirname "$0")/../..}/tests/lib/tap.sh"

[ "$(id -u)" = 0 ] || skip_all "a real install needs root (users, setuid qmail-queue)"
H=$QS6_TMP/home
B=$QS6_TMP/build
# The users and groups this test creates are removed again at exit: a test
# run leaves no accounts behind.
created_users=""; created_groups=""
for u in alias qmaild qmaill qmailp qmailq qmailr qmails; do
  getent passwd $u >/dev/null || created_users="$created_users $u"
done
for g in nofiles qmail; do getent group $g >/dev/null || created_groups="$created_groups $g"; done
remove_accounts() {
  for u in $created_users; do userdel "$u" 2>/dev/null; done
  for g in $created_groups; do groupdel "$g" 2>/dev/null; done
  return 0
}
tap_at_exit remove_accounts
# Build this tree for the temporary home, outside the source tree, with the
# same compiler flags as the build under test (a sanitizer build stays one).
make -s -C "$QS6_SRC" O="$B" QMAIL_HOME="$H" SANITIZE="${QS6_SANITIZE:-0}" all >"$QS6_TMP/make.log" 2>&1 \
  || { cat "$QS6_TMP/make.log" | sed 's/^/# /'; echo "Bail out! build for $H failed"; exit 1; }
make -s -C "$QS6_SRC" O="$B" QMAIL_HOME="$H" SANITIZE="${QS6_SANITIZE:-0}" install >"$QS6_TMP/install.log" 2>&1
is "$?" 0 "make install QMAIL_HOME=$H"
for u in alias qmaild qmaill qmailp qmailq qmailr qmails; do
  getent passwd $u >/dev/null; ok $? "user $u exists"
done
is "$(stat -c '%U %G %a' "$H/bin/qmail-queue")" "qmailq qmail 4711" "qmail-queue is setuid qmailq, mode 04711"
is "$(stat -c '%U %a' "$H/queue")" "qmailq 750" "queue/ made by install: qmailq 0750"
is "$(stat -c '%U %a' "$H/queue/info/0")" "qmails 700" "queue/info/0: qmails 0700"

printf 'Subject: class\n\nx\n' > "$QS6_TMP/msg"
printf 'Fa@b\0Tc@d\0\0' > "$QS6_TMP/env"
chmod 0644 "$QS6_TMP/msg" "$QS6_TMP/env"

# inject_as USER: queue one message as USER, print the first line of its mess file.
inject_as() {
  before=$(ls "$H/queue/todo")
  setpriv --reuid="$1" --regid="$(id -g "$1")" --clear-groups -- \
    env QMAILHOME=/nonexistent "$H/bin/qmail-queue" < "$QS6_TMP/msg" 1< "$QS6_TMP/env" || return 1
  id=$(ls "$H/queue/todo" | grep -vx "$before" | head -1)
  head -1 "$H/queue/mess/$((id % 23))/$id" | sed 's/^Received: (qmail [0-9]* \(invoked [^)]*\)); .*/\1/'
}
is "$(inject_as alias)" "invoked by alias" "uid alias: invoked by alias (and QMAILHOME is ignored: setuid)"
is "$(inject_as qmaild)" "invoked from network" "uid qmaild: invoked from network"
is "$(inject_as qmails)" "invoked for bounce" "uid qmails: invoked for bounce"
nobody=$(id -u nobody)
is "$(inject_as nobody)" "invoked by uid $nobody" "another uid: invoked by uid N"

id=$(ls "$H/queue/todo" | head -1)
is "$(stat -c %U "$H/queue/todo/$id")" qmailq "queue files are owned by qmailq"
is "$(stat -c %U "$H/queue/mess/$((id % 23))/$id")" qmailq "mess files are owned by qmailq"
if [ -x "$H/bin/qmail-qcheck" ]; then
  out=$("$H/bin/qmail-qcheck"); rc=$?
  is "$rc:$out" "0:" "qmail-qcheck: the installed queue with four queued messages is consistent"
else
  fail "qmail-qcheck is installed"
fi

done_testing
