#!/usr/bin/env python3
"""A queue of a few hundred messages (qmail.md sections 1 and 3, and
qmail-send's top comment: todo/ is read in batches, info/ in slices at start,
new messages go before retries).

- 300 messages queued while qmail-send is down are all taken from todo/ and
  delivered once each.
- They are deferred, qmail-send is restarted: the queue (more than one slice
  of info/) is read back, and messages queued during that reading are not
  scheduled twice (they are queued while it is down, so that todo/ and
  info/ are read at the same time); after ALRM every message is delivered once, and the
  queue ends empty.
"""
import sys
import os

sys.dont_write_bytecode = True   # no __pycache__ in the source tree
import sendlib as S  # noqa: E402
from sendlib import qs6, qmailrun, HOST

N = 300
t = qs6.Tap()
q = S.QmailRun(t.sandbox())
A = os.path.join(q.home, "alias")
S.dotqmail(q, A, ".qmail-box", "./Box/\n")
q.maildirmake(os.path.join(A, "Box"))
S.dotqmail(q, A, ".qmail-later", "|[ -f ok ] || { echo later; exit 111; }; echo \"$RECIPIENT\" >> got\n")

qps = []
for i in range(N):
    q.queue_message("Subject: %d\n\nbody %d\n" % (i, i), "a@" + HOST, ["box@" + HOST])
    qps.append(q.last_qp)
t.is_(len(os.listdir(os.path.join(q.home, "queue", "todo"))), N, "%d messages wait in todo/" % N)
q.start()
t.ok(q.wait_until(lambda: len(S.log_lines(q, "end")) >= N, 60), "all %d end" % N)
t.is_(len(q.maildir_messages(os.path.join(A, "Box"))), N, "%d copies, one per message" % N)
ds = S.deliveries(q)
t.is_(len(ds), N, "%d deliveries, no more" % N)
S.check_clean(t, q, "todo batches")

for i in range(N):
    q.queue_message("Subject: l%d\n\nbody\n" % i, "a@" + HOST, ["later@" + HOST])
t.ok(q.wait_until(lambda: len([x for x in S.deliveries(q) if x["result"] == "deferral"]) >= N, 60),
     "%d messages deferred" % N)
t.is_(q.stop(), 0, "exit 0")
# new messages in todo/: at start they are taken in while info/ is being
# read back, and the reading must not schedule them a second time
for i in range(20):
    q.queue_message("Subject: f%d\n\nbody\n" % i, "a@" + HOST, ["box@" + HOST])
q.restart()
t.ok(q.wait_until(lambda: len(S.log_lines(q, "end")) >= N + 20, 60), "the 20 new messages end")
q.write(os.path.join(A, "ok"), "")
q.signal_taken(14)
t.ok(q.wait_until(lambda: len(S.log_lines(q, "end")) >= 2 * N + 20, 60), "after ALRM the %d deferred messages end" % N)
run = [x for x in S.deliveries(q) if x["run"] == 1]
t.is_(len(run), N + 20, "the restarted run made exactly one delivery per message")
got = (S.read(os.path.join(A, "got")) or b"").split(b"\n")
t.is_(len(got) - 1, N, "the program delivered each deferred message once")
t.is_(len(q.maildir_messages(os.path.join(A, "Box"))), N + 20, "and the new ones once each")
S.check_clean(t, q, "restart with a queue")

# TERM in the middle of a busy queue: nothing is lost, nothing done twice
S.dotqmail(q, A, ".qmail-tick", "|sleep 0.05; grep '^Subject:' >> ticks\n")
t.is_(q.stop(), 0, "exit 0")
for i in range(100):
    q.queue_message("Subject: t%d\n\nbody\n" % i, "a@" + HOST, ["tick@" + HOST])
q.restart()
t.ok(q.wait_until(lambda: len((S.read(os.path.join(A, "ticks")) or b"").split(b"\n")) > 20, 30), "deliveries under way")
q.signal_taken(15)
t.is_(q.wait_exit(30), 0, "TERM in the middle: exit 0")
done = len((S.read(os.path.join(A, "ticks")) or b"").split(b"\n")) - 1
t.ok(0 < done < 100, "some messages were left for later (%d of 100 done)" % done)
q.stop()
q.restart()
t.ok(q.wait_until(lambda: len((S.read(os.path.join(A, "ticks")) or b"").split(b"\n")) - 1 >= 100, 60), "after the restart all 100 are delivered")
S.check_clean(t, q, "TERM under load")
ticks = (S.read(os.path.join(A, "ticks")) or b"").split(b"\n")[:-1]
t.is_((len(ticks), len(set(ticks))), (100, 100), "each of the 100 messages was delivered exactly once")
t.is_(q.stop(), 0, "exit 0")
S.check_log(t, q, "load")
t.done()
