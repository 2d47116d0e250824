#!/usr/bin/env python3
"""A deep queue does not starve new mail (qmail's "silly qmail syndrome").

10 000 deferred local messages are written straight into the queue (info/,
local/ with a due retry time, mess/), all for a user whose .qmail program
exits 111.  qmail-send starts, reads them and begins its retry pass; one new
message is queued for another user.  It must be delivered before the
backlog's retry pass ends: when its success is logged, fewer than 10 000
backlog deferrals have been."""
import os
import re
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.environ.get("QS6_SRC", os.path.join(os.path.dirname(__file__), "..", "..")), "tests", "lib"))
import qs6  # noqa: E402
from qmailrun import QmailRun  # noqa: E402

BACKLOG = 10000
BASE_ID = 9000000000  # far above any inode number qmail-queue will hand out

t = qs6.Tap()
sb = t.sandbox()
q = QmailRun(sb)
qdir = os.path.join(sb, "queue")

backlog_home = os.path.join(t.tmp, "backlog")
alice_home = os.path.join(t.tmp, "alice")
q.mkdir(backlog_home)
q.mkdir(alice_home)
q.maildirmake(os.path.join(alice_home, "Maildir"))
q.write(os.path.join(backlog_home, ".qmail"), "|exit 111\n")
q.newu("=backlog:backlog:%d:%d:%s:::\n=alice:alice:%d:%d:%s:::\n.\n"
       % (q.uid, q.gid, backlog_home, q.uid, q.gid, alice_home))

# The backlog, written from the queue format (qmail.md section 1): born an
# hour ago, retry due now.
birth = int(time.time()) - 3600
t0 = time.time()
for i in range(BACKLOG):
    mid = BASE_ID + i
    split = str(mid % 23)
    for sub, data, mode in (("mess", b"Subject: backlog %d\n\nold\n" % i, 0o644),
                            ("info", b"Fold@example.org\0", 0o600),
                            ("local", b"Tbacklog@sandbox.example.test\0", 0o600)):
        path = os.path.join(qdir, sub, split, str(mid))
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
        os.write(fd, data)
        if os.getuid() == 0:
            os.fchown(fd, q.uid, q.gid)
        os.close(fd)
        if sub == "info":
            os.utime(path, (birth, birth))
        elif sub == "local":
            os.utime(path, (birth + 100, birth + 100))
t.diag("wrote %d deferred messages in %.1f s" % (BACKLOG, time.time() - t0))

q.start()
# let the retry pass get going before the new message arrives
q.wait_log(r"^delivery \d+: deferral: ", timeout=60, count=20)
rc, err = q.inject("Subject: new\n\nfresh mail\n", ["alice@sandbox.example.test"], sender="new@example.org")
t.is_(rc, 0, "the new message is queued while the backlog is being retried")
try:
    q.wait_log(r"^delivery \d+: success: did_1\+0\+0/$", timeout=120)
    delivered = True
except TimeoutError:
    delivered = False
t.ok(delivered, "the new message is delivered")
log = q.log()
pos = log.find("success: did_1+0+0/")
deferrals_before = len(re.findall(r"^delivery \d+: deferral: ", log[:pos], re.M)) if pos >= 0 else -1
t.diag("backlog deferrals logged before the new message's success: %d of %d" % (deferrals_before, BACKLOG))
t.ok(0 <= deferrals_before < BACKLOG, "it is delivered before the backlog's retry pass ends")
t.ok(0 <= deferrals_before < 1000, "and it did not wait behind the backlog (fewer than 1000 retries first)")
msgs = q.maildir_messages(os.path.join(alice_home, "Maildir"))
t.ok(len(msgs) == 1 and b"fresh mail" in msgs[0], "alice's Maildir holds it")
rc = q.stop(timeout=60)
t.is_(rc, 0, "qmail-send exits 0 on TERM")
t.done()
