#!/usr/bin/env python3
"""Crash safety of the scheduler and of local delivery.

500 messages are queued while qmail-send and qmail-local are killed with
SIGKILL at random moments (qmail-send is then restarted).  Afterwards every
message has been delivered at least once, none is lost, the queue ends
empty and qmail-qcheck finds it consistent.  Duplicates are allowed (a
delivery whose success was not recorded is repeated) and counted."""
import os
import random
import re
import signal
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.environ.get("QS6_SRC", os.path.join(os.path.dirname(__file__), "..", "..")), "tests", "lib"))
import qs6  # noqa: E402
from qmailrun import QmailRun  # noqa: E402

MESSAGES = 500
t = qs6.Tap()
seed = int(os.environ.get("QS6_SEED", str(int(time.time()))))
rnd = random.Random(seed)
t.diag("seed %d (set QS6_SEED to replay)" % seed)

sb = t.sandbox()
q = QmailRun(sb)
home = os.path.join(t.tmp, "alice")
q.mkdir(home)
q.maildirmake(os.path.join(home, "Maildir"))
# a short program first, so that qmail-local is often caught in the middle
q.write(os.path.join(home, ".qmail"), "|sleep 0.02\n./Maildir/\n")
q.newu("=alice:alice:%d:%d:%s:::\n.\n" % (q.uid, q.gid, home))
qq = os.path.join(sb, "bin", "qmail-queue")
env = dict(os.environ, QMAILHOME=sb)

queued = []
inject_errors = []


def injector():
    for i in range(MESSAGES):
        msg = b"Subject: crash %d\n\nmarker-%d-end\n" % (i, i)
        er, ew = os.pipe()
        p = subprocess.Popen([qq], stdin=subprocess.PIPE, stdout=er, env=env)
        os.close(er)
        os.write(ew, b"Fsender@example.org\0Talice@sandbox.example.test\0\0")
        os.close(ew)
        p.communicate(msg)
        if p.returncode == 0:
            queued.append(i)
        else:
            inject_errors.append((i, p.returncode))
        if i % 10 == 0:
            time.sleep(0.01)


def local_pids():
    out = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open("/proc/%s/comm" % pid) as f:
                if f.read().strip() != "qmail-local":
                    continue
            with open("/proc/%s/environ" % pid, "rb") as f:
                if ("QMAILHOME=" + sb).encode() in f.read().split(b"\0"):
                    out.append(int(pid))
        except OSError:
            pass
    return out


q.start()
th = threading.Thread(target=injector)
th.start()
kills_send = kills_local = 0
deadline = time.time() + 90
while (th.is_alive() or kills_send < 5 or kills_local < 5) and time.time() < deadline:
    time.sleep(rnd.uniform(0.02, 0.25))
    if rnd.random() < 0.4:
        q.proc.send_signal(signal.SIGKILL)
        q.proc.wait()
        kills_send += 1
        # the old helpers go away when their pipes close; a new qmail-send
        # takes the mutex as soon as the old one is dead
        q.proc = None
        q.logfile.close()
        q.start()
    else:
        pids = local_pids()
        if pids:
            try:
                os.kill(rnd.choice(pids), signal.SIGKILL)
                kills_local += 1
            except ProcessLookupError:
                pass
th.join()
t.diag("killed qmail-send %d times and qmail-local %d times" % (kills_send, kills_local))
t.ok(kills_send >= 3 and kills_local >= 3, "the run killed qmail-send and qmail-local")
t.ok(not inject_errors and len(queued) == MESSAGES, "all %d messages were queued" % MESSAGES)

# Let it finish; killed deliveries were deferred, ALRM makes them due now.
maildir = os.path.join(home, "Maildir")
def finished():
    if q.queue_empty():
        return True
    q.signal(signal.SIGALRM)
    return False
t.ok(q.wait_until(finished, timeout=120), "the queue empties")

counts = {}
for m in q.maildir_messages(maildir):
    for k in re.findall(rb"marker-(\d+)-end", m):
        counts[int(k)] = counts.get(int(k), 0) + 1
lost = [i for i in queued if i not in counts]
dups = sum(c - 1 for c in counts.values())
t.ok(not lost, "every queued message was delivered at least once (%d lost)" % len(lost))
if lost:
    t.diag("lost: %r" % lost[:20])
t.diag("duplicates: %d" % dups)
t.is_(q.stop(timeout=60), 0, "qmail-send exits 0 on TERM")
r = subprocess.run([os.path.join(sb, "bin", "qmail-qcheck")], env=env, capture_output=True, text=True)
t.is_((r.returncode, r.stdout), (0, ""), "qmail-qcheck: the queue is consistent")
tmpfiles = os.listdir(os.path.join(maildir, "tmp"))
t.diag("Maildir tmp/ leftovers of killed deliveries: %d" % len(tmpfiles))
t.done()
