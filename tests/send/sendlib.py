"""Shared pieces of the end-to-end tests of tests/send/ (not a test itself:
prove runs only the .t files).

Everything expected here is written from the reference (qmail.md sections 3
and 4: qmail-send's log lines, logsafe, the QSBMF bounce, the Received line
of qmail-queue, qmail-local's lines), never captured from our programs."""

import atexit
import os
import re
import signal
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.environ.get("QS6_SRC", os.path.join(HERE, "..", "..")), "tests", "lib"))
import qs6  # noqa: E402,F401
import qmailrun  # noqa: E402,F401

HOST = "sandbox.example.test"   # the sandbox's control/me (tools/sandbox)


class QmailRun(qmailrun.QmailRun):
    """qmailrun.QmailRun that, when the test ends (even by an exception),
    kills whatever still runs for its sandbox: qmail-send, its helpers and
    the programs of .qmail files (they all carry QMAILHOME=home), so that a
    failed test leaves no process behind (a program waiting for a file in
    a removed directory would loop for ever)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        atexit.register(self._reap)   # after qs6.Tap's: runs before the tmp dir goes

    def _reap(self):
        mine = ("QMAILHOME=" + self.home).encode()
        for pid in os.listdir("/proc"):
            if not pid.isdigit() or int(pid) == os.getpid():
                continue
            try:
                with open("/proc/%s/environ" % pid, "rb") as f:
                    env = f.read().split(b"\0")
            except OSError:
                continue
            if mine in env:
                try:
                    os.kill(int(pid), signal.SIGKILL)
                except OSError:
                    pass

# -- formats from the reference ----------------------------------------------

MONTHS = "Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec"
# date822fmt: "26 Sep 1995 04:46:54 -0000" (day not zero-padded, always UTC)
DATE822 = r"[1-9]\d? (?:%s) \d{4} \d\d:\d\d:\d\d -0000" % MONTHS
# qmail-queue's line: "Received: (qmail {pid} invoked by alias); {date}", with
# "from network", "for bounce" or "by uid {uid}" for the other callers
RECEIVED = r"Received: \(qmail (\d+) invoked (?:by alias|from network|for bounce|by uid \d+)\); " + DATE822 + r"\n"
# UFLINE: "From {sender} {Www Mmm DD HH:MM:SS YYYY}\n", UTC, DD zero-padded
UFLINE_DATE = r"(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) (?:%s) \d\d \d\d:\d\d:\d\d \d{4}" % MONTHS

# logsafe: no space, no byte < 33 or > 126, no '%' in the variable parts
SAFE = r"[!-$&-~]"
LOG_GRAMMAR = [
    ("status", re.compile(r"status: local (\d+)/(\d+) remote (\d+)/(\d+)( exitasap)?")),
    ("exiting", re.compile(r"status: exiting")),
    ("new", re.compile(r"new msg (\d+)")),
    ("info", re.compile(r"info msg (\d+): bytes (\d+) from <(%s*)> qp (\d+) uid (\d+)" % SAFE)),
    ("start", re.compile(r"starting delivery (\d+): msg (\d+) to (local|remote) (%s+)" % SAFE)),
    ("result", re.compile(r"delivery (\d+): (success|failure|deferral): (%s*)" % SAFE)),
    ("mangled", re.compile(r"delivery (\d+): report mangled, will defer")),
    ("bounce", re.compile(r"bounce msg (\d+) qp (\d+)")),
    ("triple", re.compile(r"triple bounce: discarding bounce/(\d+)")),
    ("end", re.compile(r"end msg (\d+)")),
    ("warning", re.compile(r"warning: .*")),
    ("alert", re.compile(r"alert: .*")),
]


def segments(q):
    """The log as one list of lines per qmail-send run (split where
    QmailRun.restart started a new one, so that a run killed without
    "status: exiting" is told apart too).  q may be a log string."""
    if isinstance(q, str):
        data, cuts = q.encode(), []
    else:
        try:
            with open(q.logpath, "rb") as f:
                data = f.read()
        except OSError:
            data = b""
        cuts = getattr(q, "run_starts", [])
    out, prev = [], 0
    for c in list(cuts) + [len(data)]:
        lines = data[prev:c].decode(errors="replace").split("\n")
        if lines and lines[-1] == "":
            lines.pop()
        out.append(lines)
        prev = c
    return out


def parse_line(line):
    for kind, rx in LOG_GRAMMAR:
        m = rx.fullmatch(line)
        if m:
            return kind, m.groups()
    return None, None


def check_log(t, log, name):
    """log: a QmailRun (or a log string).  The log of one sandbox (one or more qmail-send runs, each ended by
    "status: exiting") against the reference's grammar and meaning:
    every line is one of qmail-send's lines; delivery numbers count 1, 2,
    3... from the start of each run; every "starting delivery D" gets
    exactly one later "delivery D:" line in the same run; the status
    counts are the deliveries in flight (remote: the qmail-remote runs, each
    carrying one delivery or a batch of them); info/start/bounce/end name a
    message that was announced by "new msg" and not yet ended; nothing
    starts after a status line with exitasap."""
    problems = []
    segs = segments(log)
    text = log if isinstance(log, str) else log.log()
    if text and not text.endswith("\n"):
        problems.append("the log does not end with a newline")
    live = set()

    def newrun():
        return {"next": 1, "open": {}, "inflight": {"local": 0, "remote": 0},
                "limits": None, "exitasap": False}
    numbered = [(i, line) for i, seg in enumerate(segs) for line in seg]
    lines = [x[1] for x in numbered]   # noqa: F841
    run, seg = newrun(), 0
    sanitizer, insan = [], False
    for n, (segno, line) in enumerate(numbered, 1):
        if segno != seg:   # a restart: deliveries of a killed run are simply gone
            run, seg = newrun(), segno
        kind, g = parse_line(line)
        where = "line %d %r" % (n, line)
        # an ASan/UBSan/LSan report of a helper (their stderr is the log):
        # reported on its own, so that the grammar verdict stays about
        # qmail-send's lines
        if kind is None and (re.match(r"=+$|==\d+==", line) or "Sanitizer" in line or "runtime error:" in line
                             or (line == "" and n < len(numbered) and re.match(r"=+$", numbered[n][1]))):
            insan = True
        if kind is None and insan:
            if "SUMMARY:" in line or "runtime error:" in line or "==ERROR:" in line:
                sanitizer.append(where)
            if line.startswith("SUMMARY:"):
                insan = False
            continue
        if kind is None:
            problems.append(where + ": not a qmail-send log line")
            continue
        if kind == "status":
            lim = (int(g[1]), int(g[3]))
            if run["limits"] is None:
                run["limits"] = lim
            elif run["limits"] != lim:
                problems.append(where + ": the concurrency limits changed within a run")
            got = (int(g[0]), int(g[2]))
            want = (run["inflight"]["local"], run["inflight"]["remote"])
            # local: one slot per delivery, as qmail; remote: one slot per
            # qmail-remote, and a batch (qmail-send(8), remotebatch) carries
            # several deliveries, so between 1 and their number
            remote_ok = got[1] == 0 if want[1] == 0 else 1 <= got[1] <= want[1]
            if got[0] != want[0] or not remote_ok:
                problems.append(where + ": %d/%d in flight, the log says %d/%d" % (want + got))
            if got[0] > lim[0] or got[1] > lim[1]:
                problems.append(where + ": more in flight than the limit")
            if g[4]:
                run["exitasap"] = True
        elif kind == "exiting":
            if run["open"]:
                problems.append(where + ": deliveries %s never finished" % sorted(run["open"]))
            run = newrun()
        elif kind == "new":
            live.add(g[0])   # again after a todo/N that could not be processed
        elif kind in ("info",):
            if g[0] not in live:
                problems.append(where + ": info for a message without new msg")
        elif kind == "start":
            d, msg, chan = int(g[0]), g[1], g[2]
            if d != run["next"]:
                problems.append(where + ": delivery number %d, expected %d" % (d, run["next"]))
            run["next"] = d + 1
            if msg not in live:
                problems.append(where + ": delivery of a message that is not in the queue")
            if run["exitasap"]:
                problems.append(where + ": a delivery started after exitasap")
            run["open"][d] = chan
            run["inflight"][chan] += 1
        elif kind in ("result", "mangled"):
            d = int(g[0])
            if d not in run["open"]:
                problems.append(where + ": a result for delivery %d, which is not in flight" % d)
            else:
                run["inflight"][run["open"].pop(d)] -= 1
        elif kind in ("bounce", "triple"):
            if g[0] not in live:
                problems.append(where + ": a bounce for a message that is not in the queue")
        elif kind == "end":
            if g[0] not in live:
                problems.append(where + ": end of a message that is not in the queue")
            live.discard(g[0])
    if run["open"]:
        problems.append("at the end: deliveries %s have no result line" % sorted(run["open"]))
    t.ok(not sanitizer, name + ": no sanitizer report in the log")
    for p in sanitizer[:10]:
        t.diag(p)
    t.ok(not problems, name + ": the log follows qmail-send's grammar (%d lines)" % len(lines))
    for p in problems[:20]:
        t.diag(p)
    return not problems


def wait(t, q, pattern, count=1, timeout=30):
    """q.wait_log that says why in a diagnostic instead of raising."""
    try:
        q.wait_log(pattern, timeout=timeout, count=count)
        return True
    except TimeoutError as e:
        t.diag(str(e))
        return False


def log_lines(q, kind):
    """The parsed lines of one kind, in order: a list of group tuples."""
    out = []
    for line in q.log().split("\n"):
        k, g = parse_line(line)
        if k == kind:
            out.append(g)
    return out


def deliveries(q):
    """Every delivery of the log: dicts with run (0, 1, ... one per
    qmail-send run), d, msg, chan, rcpt, and result/text (None while in
    flight).  Delivery numbers restart with each run."""
    out = []
    for run, seg in enumerate(segments(q)):
        cur = {}
        for line in seg:
            k, g = parse_line(line)
            if k == "start":
                cur[g[0]] = {"run": run, "d": int(g[0]), "msg": g[1], "chan": g[2], "rcpt": g[3],
                             "result": None, "text": None}
                out.append(cur[g[0]])
            elif k == "result" and g[0] in cur:
                cur[g[0]]["result"], cur[g[0]]["text"] = g[1], g[2]
            elif k == "mangled" and g[0] in cur:
                cur[g[0]]["result"] = "mangled"
    return out


def message(q, qp):
    """The message that the qmail-queue with pid qp queued, followed in the
    log (ids are inode numbers and get reused, so the id alone is not
    enough): (id or None, its deliveries as dicts like deliveries(), ended)."""
    mid, ds, ended = None, [], False
    for seg in segments(q):
        cur = {}
        for line in seg:
            k, g = parse_line(line)
            if mid is None:
                if k == "info" and g[3] == str(qp):
                    mid = g[0]
                continue
            if k == "start" and g[1] == mid:
                cur[g[0]] = {"d": int(g[0]), "msg": mid, "chan": g[2], "rcpt": g[3], "result": None, "text": None}
                ds.append(cur[g[0]])
            elif k == "result" and g[0] in cur:
                x = cur.pop(g[0])
                x["result"], x["text"] = g[1], g[2]
            elif k == "end" and g[0] == mid:
                return mid, ds, True
    return mid, ds, ended


def wait_message(t, q, qp, timeout=30):
    """Waits for "end msg" of the message queued by qmail-queue pid qp."""
    if not q.wait_until(lambda: message(q, qp)[2], timeout):
        t.diag("the message of qp %s did not end within %ss" % (qp, timeout))
    return message(q, qp)


def check_clean(t, q, name):
    """After a scenario that should end clean: the queue is empty (within
    10 s: the last "end msg" may still be on its way) and qmail-qcheck
    finds nothing."""
    t.ok(q.wait_until(q.queue_empty, 10), name + ": the queue is empty")
    rc, out = q.qcheck()
    t.is_((rc, out), (0, ""), name + ": qmail-qcheck exits 0 and says nothing")


# -- sandbox users -------------------------------------------------------------

class Users:
    """Homes under the test's tmp dir, owned by the sandbox user, and the
    users/assign lines that point at them."""

    def __init__(self, t, q):
        self.t, self.q = t, q
        self.lines = []

    def home(self, name, maildir=True):
        h = os.path.join(self.t.tmp, os.path.basename(self.q.home) + "-home-" + name)
        self.q.mkdir(h, 0o755)
        if maildir:
            self.q.maildirmake(os.path.join(h, "Maildir"))
        return h

    def exact(self, local, home, dash="", ext="", user=None):
        self.lines.append("=%s:%s:%d:%d:%s:%s:%s:" % (local, user or local, self.q.uid, self.q.gid, home, dash, ext))

    def wild(self, prefix, home, dash="-", pre="", user=None):
        self.lines.append("+%s:%s:%d:%d:%s:%s:%s:" % (prefix, user or prefix.strip("-") or "w",
                                                       self.q.uid, self.q.gid, home, dash, pre))

    def commit(self):
        self.q.newu("".join(x + "\n" for x in self.lines) + ".\n")


def dotqmail(q, home, name, text, mode=0o644):
    q.write(os.path.join(home, name), text, mode)


def maildir(q, path):
    return q.maildir_messages(path)


def read(path):
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError:
        return None


def wait_file(q, path, timeout=30):
    return q.wait_until(lambda: os.path.exists(path), timeout)


def match_pieces(t, got, pieces, desc):
    """got (bytes) must be exactly the concatenation of pieces, each either
    bytes (literal) or a str (a regular expression for that stretch, e.g.
    RECEIVED or a date).  On a mismatch the diagnostic shows where."""
    if got is None:
        t.ok(False, desc)
        t.diag("nothing was delivered")
        return False
    pos = 0
    for p in pieces:
        if isinstance(p, bytes):
            if got[pos:pos + len(p)] != p:
                t.ok(False, desc)
                i = 0
                while i < len(p) and pos + i < len(got) and got[pos + i] == p[i]:
                    i += 1
                t.diag("differs at byte %d" % (pos + i))
                t.diag("expected: %r" % p[max(0, i - 40):i + 80])
                t.diag("got:      %r" % got[pos + max(0, i - 40):pos + i + 80])
                return False
            pos += len(p)
        else:
            m = re.compile(p.encode()).match(got, pos)
            if not m:
                t.ok(False, desc)
                t.diag("at byte %d, expected /%s/" % (pos, p))
                t.diag("got: %r" % got[pos:pos + 120])
                return False
            pos = m.end()
    if pos != len(got):
        t.ok(False, desc)
        t.diag("extra bytes at the end: %r" % got[pos:pos + 200])
        return False
    return t.ok(True, desc)


def bounce_pieces(bouncefrom, bouncehost, to, blocks, sender_rp, original, double=False):
    """The QSBMF bounce of qmail.md section 3, as match_pieces pieces:
    Date/From/To/Subject, the paragraph, the recipient blocks (already
    complete, each "<rcpt>:\n{report}\n\n"... as bytes, or a str regex for
    blocks whose order is free), the separator, Return-Path and the original
    (a list of pieces itself: typically [RECEIVED, message bytes])."""
    p = [b"Date: ", DATE822, ("\nFrom: %s@%s\nTo: %s\nSubject: failure notice\n\n"
                                % (bouncefrom, bouncehost, to)).encode()]
    text = "Hi. This is the qmail-send program at %s.\n" % bouncehost
    if double:
        text += "I tried to deliver a bounce message to this address, but the bounce bounced!\n\n"
    else:
        text += ("I'm afraid I wasn't able to deliver your message to the following addresses.\n"
                 "This is a permanent error; I've given up. Sorry it didn't work out.\n\n")
    p.append(text.encode())
    p += blocks
    p.append(b"--- Below this line is the original bounce.\n\n" if double
             else b"--- Below this line is a copy of the message.\n\n")
    p.append(("Return-Path: <%s>\n" % sender_rp).encode())
    p += original
    return p


def delivered_prefix(sender, recipient):
    """What qmail-local puts before a message in a maildir: RPLINE, DTLINE."""
    return ("Return-Path: <%s>\nDelivered-To: %s\n" % (sender, recipient)).encode()


def now():
    return time.time()
