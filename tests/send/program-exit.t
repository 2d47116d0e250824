#!/usr/bin/env python3
"""Programs in .qmail files, retries, ALRM and queuelifetime (qmail.md
sections 3 and 4).

- qmail-local runs |cmd with /bin/sh -c; exit 0 ok, 99 ok and stop (later
  lines are not run, forwards collected so far are still sent), 100, 64, 65,
  70, 76, 77, 78, 112 permanent, a crash "Aack, child crashed. (#4.3.0)",
  anything else temporary; the program's output is the report.
- qmail-lspawn: exit 0 K, 111 Z, 100 D; qmail-send logs "delivery D:
  deferral: TEXT" / "failure: TEXT" / "success: TEXT" (logsafe).
- A success or failure marks its record D in place; deferred ones stay T.
- Local retries at birth + (isqrt(now - birth) + 10)^2: the first one at
  birth + 100; saved as the mtime of local/N on exit; ALRM makes every
  queued recipient due now.
- After queuelifetime, a deferral becomes a failure with
  "I'm not going to try again; this message has been in the queue too long."
  appended to the report; one bounce per message for all failures.
"""
import sys
import math
import os
import re
import time

sys.dont_write_bytecode = True   # no __pycache__ in the source tree
import sendlib as S  # noqa: E402
from sendlib import qs6, qmailrun, HOST, RECEIVED

t = qs6.Tap()
q = S.QmailRun(t.sandbox())
U = S.Users(t, q)
snd = U.home("snd"); U.exact("snd", snd)
fwd99 = U.home("fwd99"); U.exact("fwd99", fwd99)
U.commit()
A = os.path.join(q.home, "alias")
S.dotqmail(q, A, ".qmail-defer", '|if [ -f ok ]; then echo fine; exit 0; fi; touch ok; echo "not now"; exit 111\n')
S.dotqmail(q, A, ".qmail-ex1", "|if [ -f ok1 ]; then exit 0; fi; touch ok1; echo soft; exit 1\n")
S.dotqmail(q, A, ".qmail-crash", "|if [ -f ok2 ]; then exit 0; fi; touch ok2; kill -9 $$\n")
S.dotqmail(q, A, ".qmail-hard", '|echo "go away"; exit 100\n')
S.dotqmail(q, A, ".qmail-ex77", "|echo perm77; exit 77\n")
for m in ("Before", "After"):
    q.maildirmake(os.path.join(A, m))
S.dotqmail(q, A, ".qmail-stop", "./Before/\n&fwd99@%s\n|exit 99\n./After/\n" % HOST)
S.dotqmail(q, A, ".qmail-forever", '|echo "still not"; exit 111\n')
q.start()

rcpts = ["defer", "ex1", "crash", "hard", "ex77", "stop"]
msg = "Subject: programs\n\nbody\n"
t.is_(q.queue_message(msg, "snd@" + HOST, [r + "@" + HOST for r in rcpts]), 0, "queued to 6 program recipients")
q.wait_log(r"^delivery \d+: ", count=6)
q.wait_log(r"^end msg \d+$")   # the forward from .qmail-stop
starts = {g[3].split("@")[0]: g[0] for g in S.log_lines(q, "start")}
results = {g[0]: g[1:] for g in S.log_lines(q, "result")}


def res(r):
    return results.get(starts.get(r))


t.is_(res("defer"), ("deferral", "not_now/"), "exit 111: delivery D: deferral: not_now/")
t.is_(res("ex1"), ("deferral", "soft/"), "exit 1: temporary, deferral: soft/")
t.is_(res("crash"), ("deferral", "Aack,_child_crashed._(#4.3.0)/"), "killed by a signal: deferral: Aack,_child_crashed._(#4.3.0)/")
t.is_(res("hard"), ("failure", "go_away/"), "exit 100: delivery D: failure: go_away/")
t.is_(res("ex77"), ("failure", "perm77/"), "exit 77: permanent, failure: perm77/")
r = res("stop")
t.ok(r and r[0] == "success" and re.fullmatch(r"did_1\+1\+1/qp_\d+/", r[1]),
     "exit 99: success: did_1+1+1/qp_N/ (the maildir, the forward, the program; nothing after)")
if not (r and r[0] == "success" and re.fullmatch(r"did_1\+1\+1/qp_\d+/", r[1])):
    t.diag(repr(r))
t.is_(len(q.maildir_messages(os.path.join(A, "Before"))), 1, "exit 99: the maildir line before it delivered")
t.is_(q.maildir_messages(os.path.join(A, "After")), [], "exit 99: the maildir line after it got nothing")
t.is_(len(q.maildir_messages(os.path.join(fwd99, "Maildir"))), 1, "exit 99: the forward before it is still sent")

mid = S.log_lines(q, "new")[0][0]
t.ok(os.path.exists(q.queue_path("info", mid)), "deferred: the message stays in the queue (info/N)")
want = b"".join((b"T" if r in ("defer", "ex1", "crash") else b"D") + (r + "@" + HOST).encode() + b"\0" for r in rcpts)
q.wait_until(lambda: S.read(q.queue_path("local", mid)) == want, 10)   # marked right after the log line
t.is_(S.read(q.queue_path("local", mid)), want, "local/N: done recipients marked D in place, deferred ones still T")
t.is_(S.log_lines(q, "bounce"), [], "no bounce while recipients are deferred")

# ALRM: retried now, long before birth + 100
q.signal_taken(14)
try:
    q.wait_log(r"^end msg %s$" % mid)
    t.ok(True, "ALRM: the deferred recipients are retried at once and the message ends")
except TimeoutError as e:
    t.ok(False, "ALRM: the deferred recipients are retried at once and the message ends")
    t.diag(str(e))
starts2 = {}
for g in S.log_lines(q, "start"):
    starts2.setdefault(g[3].split("@")[0], []).append(g[0])
results = {g[0]: g[1:] for g in S.log_lines(q, "result")}
for r, text in (("defer", "fine/did_0+0+1/"), ("ex1", "did_0+0+1/"), ("crash", "did_0+0+1/")):
    d = starts2.get(r, [])
    t.ok(len(d) == 2 and results.get(d[1]) == ("success", text),
         "ALRM: %s retried once, success: %s" % (r, text))
t.is_([len(starts2.get(r, [])) for r in ("hard", "ex77", "stop")], [1, 1, 1], "done recipients are not retried")
q.wait_log(r"^end msg \d+$", count=3)
got = q.maildir_messages(os.path.join(snd, "Maildir"))
t.is_(len(got), 1, "one bounce for the message, sent when its last recipient is done")
b1 = ("<hard@%s>:\ngo away\n\n" % HOST).encode()
b2 = ("<ex77@%s>:\nperm77\n\n" % HOST).encode()
blocks = "(?:%s|%s)" % (re.escape((b1 + b2).decode()), re.escape((b2 + b1).decode()))
S.match_pieces(t, got[0] if got else None,
               [S.delivered_prefix("", "snd@" + HOST), RECEIVED]
               + S.bounce_pieces("MAILER-DAEMON", HOST, "snd@" + HOST, [blocks], "snd@" + HOST, [RECEIVED, msg.encode()]),
               "the bounce lists both failed recipients with the programs' output")
S.check_clean(t, q, "programs")

# --- a report longer than 3000 bytes ------------------------------------------------
S.dotqmail(q, A, ".qmail-long", "|i=0; while [ $i -lt 50 ]; do printf '%0100d'; i=$((i+1)); done; exit 100\n")
t.is_(q.queue_message("Subject: long\n\nbody\n", "snd@" + HOST, ["long@" + HOST]), 0, "queued to a program with 5000 bytes of output")
q.wait_until(lambda: [m for m in q.maildir_messages(os.path.join(snd, "Maildir")) if b"<long@" in m])
got = [m for m in q.maildir_messages(os.path.join(snd, "Maildir")) if b"<long@" in m]
m = re.search(rb"\n<long@[^>]*>:\n(0*)\nError report too long, sorry\.\n\n--- Below", got[0]) if got else None
t.ok(m and 2900 <= len(m.group(1)) <= 3000,
     "the report is cut near 3000 bytes and ends with 'Error report too long, sorry.'")
q.wait_until(q.queue_empty)

# --- retry times and queuelifetime ------------------------------------------------
msg2 = "Subject: forever\n\nbody\n"
t.is_(q.queue_message(msg2, "snd@" + HOST, ["forever@" + HOST]), 0, "queued to a program that always defers")
qp2 = q.last_qp
q.wait_log(r"^delivery \d+: deferral: still_not/$")
mid2 = S.message(q, qp2)[0]
t.is_(q.stop(), 0, "TERM: qmail-send exits 0")
birth = int(os.stat(q.queue_path("info", mid2)).st_mtime)
retry = int(os.stat(q.queue_path("local", mid2)).st_mtime)
t.ok(retry - birth in (100, 121),
     "the local retry time saved as the mtime of local/N is birth + (isqrt(age) + 10)^2 = birth + 100")
if retry - birth not in (100, 121):
    t.diag("birth %d, retry %d" % (birth, retry))

# at an age of about 150 s the next retry is birth + (12 + 10)^2
birth = int(time.time()) - 150
os.utime(q.queue_path("info", mid2), (birth, birth))
q.restart()
t0 = time.time()
q.signal_taken(14)
S.wait(t, q, r"^delivery \d+: deferral: still_not/$", count=2)
t1 = time.time()
t.is_(q.stop(), 0, "TERM: qmail-send exits 0")
retry = int(os.stat(q.queue_path("local", mid2)).st_mtime)
want = set(birth + (math.isqrt(a) + 10) ** 2 for a in range(int(t0) - birth, int(t1) - birth + 2))
t.ok(retry in want, "a deferral at age ~150 s: next retry birth + (isqrt(age) + 10)^2 = birth + 484")
if retry not in want:
    t.diag("birth %d, retry %d, expected one of %s" % (birth, retry, sorted(want)))

old = int(time.time()) - 1000
os.utime(q.queue_path("info", mid2), (old, old))
q.control("queuelifetime", "1\n")
q.restart()
q.signal_taken(14)
m, ds, ended = S.wait_message(t, q, qp2)
lifetime = "I'm not going to try again; this message has been in the queue too long.\n"
t.is_([(x["result"], x["text"]) for x in ds],
      [("deferral", "still_not/")] * 2 + [("failure", "still_not/" + lifetime.replace(" ", "_").replace("\n", "/"))],
      "after queuelifetime the deferral is a failure: the report + \"I'm not going to try again; ...\"")
q.wait_until(lambda: [m for m in q.maildir_messages(os.path.join(snd, "Maildir")) if b"<forever@" in m])
got = [m for m in q.maildir_messages(os.path.join(snd, "Maildir")) if b"<forever@" in m]
S.match_pieces(t, got[0] if got else None,
               [S.delivered_prefix("", "snd@" + HOST), RECEIVED]
               + S.bounce_pieces("MAILER-DAEMON", HOST, "snd@" + HOST,
                                 [("<forever@%s>:\nstill not\n%s\n" % (HOST, lifetime)).encode()],
                                 "snd@" + HOST, [RECEIVED, msg2.encode()]),
               "the bounce says exactly \"I'm not going to try again; this message has been in the queue too long.\"")
q.wait_until(q.queue_empty)
t.is_(q.stop(), 0, "qmail-send exits 0")
S.check_clean(t, q, "queuelifetime")
S.check_log(t, q, "programs")
t.done()
