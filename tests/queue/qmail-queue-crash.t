#!/usr/bin/env python3
"""kill -9 of qmail-queue at random points, in 200 bounded iterations.

What must hold (qmail.md section 1, issue "durable queue"):
- a todo/ entry exists only when its mess file and its envelope are complete
  (nothing half-written is ever queued);
- a qmail-queue that exited 0 has its todo/ entry;
- qmail-qcheck then reports only leftovers that qmail-clean's rules remove:
  stale pid/ files, stale mess/ files and intd/ files with no todo/ link.
"""
import os
import random
import re
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.environ.get("QS6_SRC", os.path.join(os.path.dirname(__file__), "..", "..")), "tests", "lib"))
import qs6  # noqa: E402

t = qs6.Tap()
sb = t.sandbox()
q = os.path.join(sb, "queue")
qq = os.path.join(sb, "bin", "qmail-queue")
env = dict(os.environ, QMAILHOME=sb)
seed = int(os.environ.get("QS6_SEED", str(int(time.time()))))
rnd = random.Random(seed)
t.diag("seed %d (set QS6_SEED to replay)" % seed)

ITERATIONS = 200
DEADLINE = time.time() + 120  # bounded in time as well as in count

expected = {}   # marker -> (message bytes, envelope records after u,p)
completed = []  # markers whose qmail-queue exited 0
stages = [0, 0, 0, 0, 0]
done_iterations = 0


def write_all(fd, data):
    try:
        while data:
            n = os.write(fd, data)
            data = data[n:]
        return True
    except (BrokenPipeError, OSError):
        return False


for i in range(ITERATIONS):
    if time.time() > DEADLINE:
        break
    marker = "crash-%d" % i
    body = (("%s line %%d\n" % marker) * rnd.randint(0, 4000)).replace("%d", "x").encode()
    msg = ("Subject: %s\n\n" % marker).encode() + body
    envrec = b"F" + ("s%d@example.org" % i).encode() + b"\0" + b"T" + ("r%d@example.net" % i).encode() + b"\0"
    expected[marker] = (msg, envrec)
    er, ew = os.pipe()
    p = subprocess.Popen([qq], stdin=subprocess.PIPE, stdout=er, env=env)
    os.close(er)
    stage = rnd.randint(0, 4)
    stages[stage] += 1
    mfd = p.stdin.fileno()
    if stage == 0:
        time.sleep(rnd.random() * 0.003)
    elif stage == 1:
        write_all(mfd, msg[: rnd.randint(0, len(msg))])
        time.sleep(rnd.random() * 0.002)
    else:
        write_all(mfd, msg)
        try:
            p.stdin.close()
        except OSError:
            pass
        full = envrec + b"\0"
        if stage == 2:
            write_all(ew, full[: rnd.randint(0, len(full) - 1)])
            time.sleep(rnd.random() * 0.002)
        else:
            write_all(ew, full)
            time.sleep(rnd.random() * (0.004 if stage == 3 else 0.0))
    if stage != 4:
        p.kill()
    rc = p.wait(timeout=30)
    try:
        p.stdin.close()
    except OSError:
        pass
    os.close(ew)
    if rc == 0:
        completed.append(marker)
    done_iterations += 1

t.diag("iterations %d, stages %r, exited 0: %d" % (done_iterations, stages, len(completed)))
t.ok(done_iterations >= 200, "at least 200 kill iterations ran (%d)" % done_iterations)

todo = sorted(os.listdir(os.path.join(q, "todo")))
bad = []
queued = set()
for name in todo:
    mid = int(name)
    mess = os.path.join(q, "mess", str(mid % 23), name)
    try:
        with open(mess, "rb") as f:
            data = f.read()
        with open(os.path.join(q, "todo", name), "rb") as f:
            env_bytes = f.read()
    except OSError as e:
        bad.append("%s: %s" % (name, e))
        continue
    m = re.search(rb"Subject: (crash-\d+)\n", data)
    if not m:
        bad.append("%s: no marker in mess" % name)
        continue
    marker = m.group(1).decode()
    msg, envrec = expected[marker]
    first_nl = data.find(b"\n")
    if not data.startswith(b"Received: (qmail ") or data[first_nl + 1:] != msg:
        bad.append("%s: mess of %s is not complete" % (name, marker))
    m2 = re.match(rb"u\d+\0p\d+\0", env_bytes)
    if not m2 or env_bytes[m2.end():] != envrec:
        bad.append("%s: todo of %s is not complete: %r" % (name, marker, env_bytes[:80]))
    queued.add(marker)

t.ok(not bad, "every todo/ entry has a complete mess file and a complete envelope (%d queued)" % len(todo))
for b in bad[:10]:
    t.diag(b)
missing = [m for m in completed if m not in queued]
t.ok(not missing, "every qmail-queue that exited 0 left a todo/ entry")
for m in missing[:10]:
    t.diag("lost: " + m)

qcheck = os.path.join(sb, "bin", "qmail-qcheck")
r = subprocess.run([qcheck], env=env, capture_output=True, text=True, timeout=60)
lines = [l for l in r.stdout.splitlines() if l]
allowed = ("stale-pid: ", "stale-mess: ", "stale-intd: ")
others = [l for l in lines if not l.startswith(allowed)]
t.ok(r.returncode in (0, 1) and not others,
     "qmail-qcheck reports only leftovers that qmail-clean removes (%d lines)" % len(lines))
for l in others[:10]:
    t.diag(l)
if r.stderr:
    t.diag(r.stderr)
t.is_(r.returncode, 1 if lines else 0, "qmail-qcheck exits 1 exactly when it prints problems")
t.done()
