#!/usr/bin/env python3
"""TERM, and retry times kept across a restart (qmail.md section 3).

- TERM: deliveries in flight finish and are logged, status lines then carry
  " exitasap", no new delivery and no new message is started, each pending
  channel file gets its retry time as its mtime, "status: exiting", exit 0;
  qmail-lspawn, qmail-rspawn and qmail-clean exit when qmail-send's pipes
  close.
- qmail-rspawn: qmail-remote exiting 111 -> "ZUnable to run qmail-remote.".
- Remote retries at birth + (isqrt(now - birth) + 20)^2: the first one at
  birth + 400; birth = the mtime of info/N.  At start the retry time is read
  back from the mtime: the message is still queued, and not tried before
  that time (ALRM makes it due at once).
"""
import sys
import math
import os
import time

sys.dont_write_bytecode = True   # no __pycache__ in the source tree
import sendlib as S  # noqa: E402
from sendlib import qs6, qmailrun, HOST

t = qs6.Tap()
q = S.QmailRun(t.sandbox())
U = S.Users(t, q)
alice = U.home("alice"); U.exact("alice", alice)
U.commit()
A = os.path.join(q.home, "alias")
S.dotqmail(q, A, ".qmail-slow", "|touch started; while [ ! -f go ]; do sleep 0.02; done; echo slow done\n")
fake = os.path.join(t.tmp, "remote-111")
with open(fake, "w") as f:
    f.write("#!/bin/sh\nexit 111\n")
os.chmod(fake, 0o755)
q.env["QMAILREMOTE"] = fake
q.start()
pids = q.helpers()

REMOTE = "bob@remote.example.net"
t.is_(q.queue_message("Subject: one\n\nbody\n", "alice@" + HOST, ["slow@" + HOST, REMOTE]), 0, "queued: one local, one remote")
t.ok(S.wait_file(q, os.path.join(A, "started")), "the slow program runs")
q.wait_log(r"^delivery \d+: deferral: ")
m1 = S.log_lines(q, "new")[0][0]
rem = [x for x in S.deliveries(q) if x["chan"] == "remote"]
t.ok(len(rem) == 1 and rem[0]["rcpt"] == REMOTE and rem[0]["result"] == "deferral"
     and rem[0]["text"] in ("Unable_to_run_qmail-remote.", "Unable_to_run_qmail-remote./"),
     "qmail-remote exits 111: deferral: Unable_to_run_qmail-remote.")
if not rem or rem[0]["result"] != "deferral":
    t.diag(repr(rem))

t.ok(q.signal_taken(15), "TERM delivered to qmail-send")
t.is_(q.queue_message("Subject: two\n\nbody\n", "alice@" + HOST, ["alice@" + HOST]), 0,
      "a message queued after TERM")
m2 = None
for n in os.listdir(os.path.join(q.home, "queue", "todo")):
    m2 = n
t.ok(q.proc.poll() is None, "qmail-send waits for the delivery in flight")
q.write(os.path.join(A, "go"), "")
rc = q.wait_exit(30)
t.is_(rc, 0, "qmail-send exits 0 once the delivery is done")
log = q.log().split("\n")
slow = [x for x in S.deliveries(q) if x["rcpt"] == "slow@" + HOST]
t.ok(slow and slow[0]["result"] == "success" and slow[0]["text"] == "slow_done/did_0+0+1/",
     "the delivery in flight finished and is logged: success: slow_done/did_0+0+1/")
t.is_(log[-2:], ["status: exiting", ""], "the last line is 'status: exiting'")
t.is_(log[-3:-2], ["status: local 0/10 remote 0/20 exitasap"], "the status line after TERM ends with exitasap")
t.is_(len(S.log_lines(q, "new")), 1, "the message queued after TERM was not taken in")
q.stop()
t.ok(q.wait_until(lambda: not q.helpers(), 10), "qmail-lspawn, qmail-rspawn and qmail-clean exit")
t.ok(len(pids) == 4 and not any(p in q.helpers() for p in pids),
     "the four processes seen at start (qmail-send and its three helpers) are gone")

birth = int(os.stat(q.queue_path("info", m1)).st_mtime)
retry = int(os.stat(q.queue_path("remote", m1)).st_mtime)
t.ok(retry - birth in (400, 441),
     "remote/N's mtime is the retry time birth + (isqrt(age) + 20)^2 = birth + 400")
if retry - birth not in (400, 441):
    t.diag("birth %d retry %d" % (birth, retry))
t.ok(not os.path.exists(q.queue_path("local", m1)), "local/N is gone (its recipient is done)")
t.is_(S.read(q.queue_path("remote", m1)), ("T%s\0" % REMOTE).encode(), "remote/N still holds the deferred recipient")
t.ok(m2 is not None and os.path.exists(q.queue_path("todo", m2)), "the late message waits in todo/")
rc, out = q.qcheck()
t.is_((rc, out), (0, ""), "qmail-qcheck: the queue left by TERM is consistent")

# --- restart ------------------------------------------------------------------
q.restart()
try:
    q.wait_log(r"^end msg %s$" % m2)
    t.ok(True, "after the restart the late message is delivered")
except TimeoutError as e:
    t.ok(False, "after the restart the late message is delivered")
    t.diag(str(e))
run2 = [x for x in S.deliveries(q) if x["run"] == 1]
t.is_([x["rcpt"] for x in run2], ["alice@" + HOST], "the remote recipient is not retried before its time")
t.ok(os.path.exists(q.queue_path("info", m1)), "the deferred message is still queued")
t.is_(int(os.stat(q.queue_path("remote", m1)).st_mtime), retry, "its retry time is unchanged")
t0 = time.time()
q.signal_taken(14)
q.wait_log(r"^delivery \d+: deferral: ", count=2)
t1 = time.time()
run2 = [x for x in S.deliveries(q) if x["run"] == 1]
t.ok([x["rcpt"] for x in run2] == ["alice@" + HOST, REMOTE] and run2[1]["msg"] == m1,
     "ALRM: the remote recipient is retried now")
t.is_(q.stop(), 0, "qmail-send exits 0")
retry2 = int(os.stat(q.queue_path("remote", m1)).st_mtime)
want = set(birth + (math.isqrt(a) + 20) ** 2 for a in range(int(t0) - birth, int(t1) - birth + 2))
t.ok(retry2 in want, "the new retry time is birth + (isqrt(now - birth) + 20)^2")
if retry2 not in want:
    t.diag("birth %d retry %d, expected one of %s" % (birth, retry2, sorted(want)))
rc, out = q.qcheck()
t.is_((rc, out), (0, ""), "qmail-qcheck exits 0")
S.check_log(t, q, "TERM")

# --- the last delivery of a message finishes after TERM ------------------------------------
# qmail-send's loop handles the report (del_do) and then, in the same pass,
# the finished message (pass_do -> messdone: bounce, "end msg"), exitasap
# or not; only then does the loop see that nothing is in flight and exit.
q = S.QmailRun(t.sandbox())
U = S.Users(t, q)
snd = U.home("snd"); U.exact("snd", snd)
U.commit()
A = os.path.join(q.home, "alias")
S.dotqmail(q, A, ".qmail-slowfail", "|touch started; while [ ! -f go ]; do sleep 0.02; done; echo failed late; exit 100\n")
q.start()
q.queue_message("Subject: late\n\nbody\n", "snd@" + HOST, ["slowfail@" + HOST])
qp = q.last_qp
t.ok(S.wait_file(q, os.path.join(A, "started")), "the slow delivery runs")
q.signal_taken(15)
q.write(os.path.join(A, "go"), "")
t.is_(q.wait_exit(30), 0, "TERM: exit 0 after the delivery")
lines = q.log().split("\n")
mid = S.message(q, qp)[0]
t.ok("delivery 1: failure: failed_late/" in lines, "the delivery in flight fails: failure: failed_late/")
ex = lines.index("status: exiting") if "status: exiting" in lines else -1
t.ok(mid and ("end msg " + mid) in lines[:ex] and [l for l in lines[:ex] if l.startswith("bounce msg %s qp " % mid)],
     "its message is finished before 'status: exiting': bounce msg N qp Q, end msg N")
if not (mid and ("end msg " + mid) in lines[:ex]):
    t.diag(repr(lines[-6:]))
q.stop()
rc, out = q.qcheck()
t.is_((rc, out), (0, ""), "qmail-qcheck exits 0 after the TERM")
q.restart()
t.ok(q.wait_until(lambda: q.maildir_messages(os.path.join(snd, "Maildir"))), "the bounce reaches the sender")
q.wait_until(q.queue_empty, 10)
t.is_(q.stop(), 0, "exit 0")
S.check_clean(t, q, "late failure")
S.check_log(t, q, "late failure")
t.done()
