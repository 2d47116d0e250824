# tests/inject/inject-lib.sh: what the tests of qmail-inject and sendmail
# share.  Sourced by tests/inject/*.t after nothing else.
. "${QS6_SRC:-$(dirname "$0")/../..}/tests/lib/tap.sh"
export LC_ALL=C

QI=$QS6_BUILD/bin/qmail-inject
SM=$QS6_BUILD/bin/sendmail
FAKEQQ=$QS6_SRC/tests/inject/fake-qq-record

# Everything qmail-inject and sendmail read from the environment starts unset;
# each test sets what it means with env VAR=value.
unset QMAILUSER MAILUSER USER LOGNAME QMAILHOST MAILHOST QMAILNAME MAILNAME \
  NAME QMAILSUSER QMAILSHOST QMAILINJECT QMAILMFTFILE QMAILDEFAULTDOMAIN \
  QMAILDEFAULTHOST QMAILPLUSDOMAIN QMAILIDHOST QMAILQUEUE QMAILHOME PROTO \
  RELAYCLIENT DATABYTES TCPLOCALIP TCPLOCALHOST TCPREMOTEIP TCPREMOTEHOST \
  TCPREMOTEINFO FAKEQQ_DIR FAKEQQ_EXIT FAKEQQ_NOREAD 2>/dev/null || true

# light_home NAME [ME]: a home holding only control/me (when ME is given):
# all that qmail-inject reads.  Prints its path.
light_home() {
  _lh=$QS6_TMP/$1
  mkdir -p "$_lh/control"
  [ $# -lt 2 ] || printf '%s\n' "$2" > "$_lh/control/me"
  printf '%s\n' "$_lh"
}

# mask: the parts of qmail-inject's output that depend on the clock and the
# pid become DATE, STAMP and PID, once their form has been checked: Date is
# date822 ("1 Jan 2000 00:00:00 -0000": day not padded, UTC), Message-ID is
# <YYYYMMDDHHMMSS.pid.qmail@idhost>.
mask() {
  sed -E \
    -e 's/^(Resent-)?Date: [1-9][0-9]? (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) [0-9]{4} [0-2][0-9]:[0-5][0-9]:[0-6][0-9] -0000$/\1Date: DATE/' \
    -e 's/^(Resent-)?Message-ID: <[0-9]{14}\.[1-9][0-9]*\.qmail@/\1Message-ID: <STAMP.PID.qmail@/'
}

# envelope_of FILE: a text0 envelope as lines, NULs shown as "|".
envelope_of() { tr '\0' '|' < "$1"; }
