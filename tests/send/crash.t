#!/usr/bin/env python3
"""Never losing a message (qmail.md sections 1 and 3).

- todo processing removes leftovers of an attempt that was cut short
  (stale info/N, local/N, remote/N) and writes them again from todo/N: a
  recipient that only the stale files named gets nothing.
- qmail-send killed (SIGKILL) while a delivery runs: the recipient is still
  T in local/N, so the next qmail-send delivers it again (a crash can repeat
  a delivery, never lose one), and the message ends.
- A second qmail-send on the same queue: "alert: cannot start: qmail-send is
  already running" (sendmutex), exit 111.
- A todo/N record with an unknown letter: "warning: unknown record type in
  todo/N", the message is left alone.
"""
import sys
import os
import signal
import subprocess
import time

sys.dont_write_bytecode = True   # no __pycache__ in the source tree
import sendlib as S  # noqa: E402
from sendlib import qs6, qmailrun, HOST

t = qs6.Tap()
q = S.QmailRun(t.sandbox())
U = S.Users(t, q)
alice = U.home("alice"); U.exact("alice", alice)
bogus = U.home("bogus"); U.exact("bogus", bogus)
U.commit()
A = os.path.join(q.home, "alias")
S.dotqmail(q, A, ".qmail-slow", "|echo x >> runs; while [ ! -f go ]; do sleep 0.02; done\n")

# --- stale info/local/remote next to todo/N ------------------------------------------
t.is_(q.queue_message("Subject: s\n\nbody\n", "alice@" + HOST, ["alice@" + HOST]), 0, "queued while qmail-send is down")
todo = os.listdir(os.path.join(q.home, "queue", "todo"))
mid = todo[0] if todo else "0"
q.write(q.queue_path("info", mid), b"Fbogus@x\0", 0o600)
q.write(q.queue_path("local", mid), ("Tbogus@%s\0" % HOST).encode(), 0o600)
q.write(q.queue_path("remote", mid), b"Tbogus@remote.example.net\0", 0o600)
q.start()
m, ds, ended = S.wait_message(t, q, q.last_qp)
t.ok(ended, "the message is taken from todo/ and ends")
t.is_([(x["chan"], x["rcpt"], x["result"]) for x in ds], [("local", "alice@" + HOST, "success")],
      "only the recipients of todo/N are delivered, not those of the stale files")
t.is_(q.maildir_messages(os.path.join(bogus, "Maildir")), [], "the stale recipient got nothing")
info = [g for g in S.log_lines(q, "info") if g[3] == str(q.last_qp)]
t.ok(info and info[0][2] == "alice@" + HOST, "info msg shows the sender of todo/N")
S.check_clean(t, q, "stale files")

# --- a second qmail-send ------------------------------------------------------------------
p = subprocess.run([os.path.join(q.home, "bin", "qmail-start"), "./Maildir/"], env=q.env, cwd="/",
                   stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=30)
t.is_(p.returncode, 111, "a second qmail-start on the same queue: exit 111")
t.ok(b"alert: cannot start: qmail-send is already running\n" in p.stdout,
     "it logs 'alert: cannot start: qmail-send is already running'")
if b"already running" not in p.stdout:
    t.diag(repr(p.stdout))
t.ok(q.proc.poll() is None, "the first qmail-send keeps running")

# --- SIGKILL during a delivery ------------------------------------------------------------
t.is_(q.queue_message("Subject: k\n\nbody\n", "alice@" + HOST, ["slow@" + HOST, "alice@" + HOST]), 0, "queued")
qp = q.last_qp
t.ok(q.wait_until(lambda: S.read(os.path.join(A, "runs")) == b"x\n"), "the slow delivery runs")
q.wait_log(r"^delivery \d+: success: did_1\+0\+0/$", count=2)
mk = S.message(q, qp)[0]
# the success is logged, then marked D in local/N: kill after both
q.wait_until(lambda: S.read(q.queue_path("local", mk)) == ("Tslow@%s\0Dalice@%s\0" % (HOST, HOST)).encode(), 10)
q.signal(signal.SIGKILL)
q.wait_exit(10)
q.write(os.path.join(A, "go"), "")
q.stop()
t.ok(q.wait_until(lambda: not q.helpers(), 20), "the helpers exit after qmail-send is killed")
m, ds, ended = S.message(q, qp)
t.ok(m and os.path.exists(q.queue_path("info", m)), "the message is still queued")
t.is_(S.read(q.queue_path("local", m)) if m else None, ("Tslow@%s\0Dalice@%s\0" % (HOST, HOST)).encode(),
      "local/N: the finished recipient is D, the one in flight still T")
q.restart()
m2, ds, ended = S.wait_message(t, q, qp)
t.ok(ended, "after the restart the message ends")
run1 = [x for x in S.deliveries(q) if x["run"] == 1]
t.is_([(x["rcpt"], x["result"]) for x in run1], [("slow@" + HOST, "success")],
      "only the interrupted recipient is delivered again")
t.is_(len(q.maildir_messages(os.path.join(alice, "Maildir"))), 2, "alice has exactly one copy of each message")
t.is_(q.stop(), 0, "exit 0")
S.check_clean(t, q, "SIGKILL")

# --- an unknown record in todo/N ----------------------------------------------------------
t.is_(q.queue_message("Subject: u\n\nbody\n", "alice@" + HOST, ["alice@" + HOST]), 0, "queued while qmail-send is down")
todo = os.listdir(os.path.join(q.home, "queue", "todo"))
mid = todo[0] if todo else "0"
with open(q.queue_path("todo", mid), "ab") as f:
    f.write(b"Xstrange\0")
q.restart()
S.wait(t, q, r"^warning: unknown record type in todo/%s$" % mid)
t.ok(("warning: unknown record type in todo/%s\n" % mid) in q.log(), "warning: unknown record type in todo/N")
t.ok(os.path.exists(q.queue_path("todo", mid)), "todo/N is left in place")
t.is_(q.maildir_messages(os.path.join(alice, "Maildir"))[2:], [], "nothing is delivered")
t.is_(q.stop(), 0, "exit 0")

# --- stale files: mess/ without todo/ or info/, old pid/ files ---------------------------------
qs = os.path.join(q.home, "queue")
for kind in ("todo", "intd", "info", "local", "remote"):   # only mess/N stays
    if os.path.exists(q.queue_path(kind, mid)):
        os.unlink(q.queue_path(kind, mid))
old = time.time() - 37 * 3600
os.utime(q.queue_path("mess", mid), (old, old))
t.is_(q.queue_message("Subject: v\n\nbody\n", "alice@" + HOST, []), 0, "queued while qmail-send is down")
young = [n for n in os.listdir(os.path.join(qs, "todo"))][0]
os.unlink(q.queue_path("todo", young))
os.unlink(q.queue_path("intd", young))
recent = time.time() - 3600
os.utime(q.queue_path("mess", young), (recent, recent))
q.write(os.path.join(qs, "pid", "1.2.3"), "", 0o644)
os.utime(os.path.join(qs, "pid", "1.2.3"), (old, old))
q.write(os.path.join(qs, "pid", "4.5.6"), "", 0o644)
q.restart()
t.ok(q.wait_until(lambda: not os.path.exists(q.queue_path("mess", mid)), 10),
     "a mess/ file with neither todo/ nor info/, unused for 36 h, is removed")
t.ok(os.path.exists(q.queue_path("mess", young)), "one unused for an hour stays")
t.ok(not [l for l in S.segments(q)[-1] if l in ("new msg " + mid, "end msg " + mid)],
     "(removed by the cleanup, not as a message: no new msg / end msg for it)")
for i in range(15):   # 30 requests to qmail-clean: todo/ and foop/ for each
    q.queue_message("Subject: n\n\nbody\n", "alice@" + HOST, [])
t.ok(q.wait_until(lambda: not os.path.exists(os.path.join(qs, "pid", "1.2.3")), 10),
     "qmail-clean removes a pid/ file unused for 36 h (every 30 requests)")
t.ok(os.path.exists(os.path.join(qs, "pid", "4.5.6")), "a recent pid/ file stays")
t.is_(q.stop(), 0, "exit 0")
os.unlink(q.queue_path("mess", young))
os.unlink(os.path.join(qs, "pid", "4.5.6"))
S.check_clean(t, q, "stale files")
S.check_log(t, q, "crash")

# --- a damaged users/cdb: deferral, not a guess --------------------------------------------
q = S.QmailRun(t.sandbox())
q.write(os.path.join(q.home, "users", "cdb"), b"not a cdb")
q.start()
q.queue_message("Subject: c\n\nbody\n", "a@" + HOST, ["someone@" + HOST])
S.wait(t, q, r"^delivery \d+: ")
m, ds, ended = S.message(q, q.last_qp)
t.ok(ds and (ds[0]["result"], ds[0]["text"]) in (("deferral", "Trouble_reading_users/cdb_in_qmail-lspawn."),
                                               ("deferral", "Trouble_reading_users/cdb_in_qmail-lspawn./")),
     "users/cdb unreadable: deferral: Trouble_reading_users/cdb_in_qmail-lspawn.")
if not ds or ds[0]["result"] != "deferral":
    t.diag(repr(ds))
t.is_(q.stop(), 0, "exit 0")
S.check_log(t, q, "users/cdb")
t.done()
