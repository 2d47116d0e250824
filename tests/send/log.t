#!/usr/bin/env python3
"""qmail-send's log (qmail.md section 3): the grammar of its lines, and
logsafe in the variable parts (sender, recipient, report text): a newline
is shown as '/', bytes below 33 or above 126 and '%' as '_'.  Delivery
numbers count from 1 in each run; every "starting delivery D" has exactly
one later "delivery D:" line.

The grammar checker (sendlib.check_log) is first shown to catch broken logs,
then run on a real log with hostile bytes in every variable part.
"""
import sys
import os

sys.dont_write_bytecode = True   # no __pycache__ in the source tree
import sendlib as S  # noqa: E402
from sendlib import qs6, qmailrun, HOST, RECEIVED

t = qs6.Tap()


# --- the checker itself ---------------------------------------------------------
class Collect:
    def __init__(self):
        self.results = []

    def ok(self, cond, desc):
        self.results.append(bool(cond))
        return cond

    def diag(self, text):
        pass


def verdict(log):
    c = Collect()
    S.check_log(c, log, "x")
    return c.results == [True, True]


good = ("status: local 0/10 remote 0/20\nnew msg 5\ninfo msg 5: bytes 10 from <a@b> qp 7 uid 0\n"
        "starting delivery 1: msg 5 to local c@d\nstatus: local 1/10 remote 0/20\n"
        "delivery 1: success: did_1+0+0/\nstatus: local 0/10 remote 0/20\nend msg 5\nstatus: exiting\n")
t.ok(verdict(good), "checker: a well-formed log passes")
t.ok(not verdict(good.replace("delivery 1", "delivery 2")), "checker: delivery numbers must start at 1")
t.ok(not verdict(good.replace("c@d", "c d@d")), "checker: a space in a recipient is refused")
t.ok(not verdict(good.replace("a@b", "a%b")), "checker: a % in a sender is refused")
t.ok(not verdict(good.replace("status: local 1/10", "status: local 0/10")), "checker: status counts must match")
t.ok(not verdict(good.replace("delivery 1: success: did_1+0+0/\n", "")), "checker: a delivery without a result")
t.ok(not verdict(good.replace("end msg 5\n", "delivery 1: failure: x/\nend msg 5\n")),
     "checker: a second result for one delivery")
t.ok(not verdict(good + "qmail-lspawn: fatal: oops\n"), "checker: a line that is not qmail-send's")
t.ok(not verdict(good + "=================================================================\n==1==ERROR: LeakSanitizer: "
                 "detected memory leaks\n\nSUMMARY: AddressSanitizer: 1 byte(s) leaked in 1 allocation(s).\n"),
     "checker: a sanitizer report")

# --- a real log with hostile bytes -------------------------------------------------
q = S.QmailRun(t.sandbox())
U = S.Users(t, q)
alice = U.home("alice"); U.exact("alice", alice)
U.commit()
A = os.path.join(q.home, "alias")
S.dotqmail(q, A, ".qmail-weird-default", "|printf 'a%%b\\tc\\200d\\ne\\n'; exit 100\n")
S.dotqmail(q, A, ".qmail-pct", '|echo "100% done"\n')
q.start()

sender = b"x y%z\x01\xff@" + HOST.encode()
rc = q.queue_message(b"Subject: w\n\nbody\n", sender, [b"weird-a%b\tc@" + HOST.encode(), b"pct@" + HOST.encode()])
t.is_(rc, 0, "queued with a hostile sender and recipient")
mid, ds, ended = S.wait_message(t, q, q.last_qp)
infos = [g for g in S.log_lines(q, "info") if g[3] == str(q.last_qp)]
t.is_(infos[0][2] if infos else None, "x_y_z__@" + HOST, "info msg: the sender logsafe'd (space, %, \\001, \\377 -> _)")
w = [x for x in ds if x["rcpt"].startswith("weird")]
t.ok(w and w[0]["rcpt"] == "weird-a_b_c@" + HOST, "starting delivery: the recipient logsafe'd (%, tab -> _)")
t.ok(w and (w[0]["result"], w[0]["text"]) == ("failure", "a_b_c_d/e/"),
     "delivery D: failure: the report logsafe'd (% tab \\200 -> _, newline -> /)")
if not (w and w[0]["text"] == "a_b_c_d/e/"):
    t.diag(repr(w))
p = [x for x in ds if x["rcpt"].startswith("pct")]
t.ok(p and (p[0]["result"], p[0]["text"]) == ("success", "100__done/did_0+0+1/"), "delivery D: success: 100__done/did_0+0+1/ (% and space -> _)")
q.wait_log(r"^triple bounce: discarding bounce/\d+$")
q.wait_log(r"^end msg \d+$", count=3)

rc = q.queue_message(b"Subject: nl\n\nbody\n", "alice@" + HOST, [b"nl\nx@" + HOST.encode()])
mid, ds, ended = S.wait_message(t, q, q.last_qp)
t.ok(ds and ds[0]["rcpt"] == "nl/x@" + HOST, "starting delivery: a newline in the recipient is shown as /")
q.wait_until(lambda: q.maildir_messages(os.path.join(alice, "Maildir")))
b = q.maildir_messages(os.path.join(alice, "Maildir"))
t.ok(b and b"\n\n<nl_x@" + HOST.encode() + b">:\nSorry, no mailbox here by that name. (#5.1.1)\n\n--- Below" in b[0],
     "the bounce shows a newline in the recipient as _")
q.wait_until(q.queue_empty)
t.is_(q.stop(), 0, "exit 0")

raw = open(q.logpath, "rb").read()
t.ok(all(32 <= c <= 126 or c == 10 for c in raw), "the raw log holds only printable ASCII and newlines")
t.ok(raw.startswith(b"status: local 0/10 remote 0/20\n"), "the first line is the status line")
starts = S.log_lines(q, "start")
t.ok(starts and starts[0][0] == "1", "delivery numbers start at 1")
S.check_log(t, q, "hostile bytes")
S.check_clean(t, q, "hostile bytes")
t.done()
