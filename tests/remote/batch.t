#!/usr/bin/env python3
"""Batching: remote recipients of one message at one domain go to one
qmail-remote, in one SMTP transaction (qmail-send(8), control/remotebatch,
default 50), while every recipient keeps its own delivery: its own
"starting delivery N" line, result line and retry.

- 7 recipients at two domains, interleaved: two transactions (5 RCPTs, in
  the order of the message, and 2); 7 start lines and 7 success lines,
  with 7 different delivery numbers; a batch takes one slot of
  concurrencyremote (one qmail-remote, one connection), and the status
  line counts slots;
- a 4xx to one RCPT of a batch: only that recipient is deferred; after ALRM
  it goes alone, and the message ends;
- control/remotebatch 2: 5 recipients at one domain make transactions of
  2, 2 and 1; remotebatch 1 is qmail's one recipient per transaction;
- a VERP sender is never batched: each recipient has its own envelope
  sender;
- the connection dies after the final dot: every recipient of the batch
  is deferred (nothing marked done: "Possible duplicate!"), and the retry
  delivers them all;
- qmail-rspawn's per-recipient reports from one qmail-remote run: r, h and
  s recipients with a K, a Z and a D message verdict (qmail's rule for
  each: the recipient's letter can only make the verdict worse).
"""
import os
import re
import sys

sys.dont_write_bytecode = True   # no __pycache__ in the source tree
here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(here, "..", "send"))
sys.path.insert(0, os.path.join(here, "..", "lib"))
import sendlib as S  # noqa: E402
from sendlib import qs6, HOST  # noqa: E402
import remotepeer as R  # noqa: E402

t = qs6.Tap()
q = S.QmailRun(t.sandbox())
U = S.Users(t, q)
snd = U.home("snd")
U.exact("snd", snd)
U.commit()

peer = R.SmtpPeer(t.tmp, dot="250 ok", rcpt_for={"later@one.example": "451 4.2.1 not now"}).start()
q.control("smtproutes", ":127.0.0.1:%d\n" % peer.port)
q.start()
ends = 0


def ends_wait(n, desc):
    t.ok(S.wait(t, q, r"^end msg \d+$", count=n, timeout=60), desc)


def transactions(since=0):
    """(MAIL FROM, [RCPT TO...]) of every transaction that reached DATA."""
    out = []
    for s in peer.sessions()[since:]:
        for tr in s["transactions"]:
            if tr.get("data") is not None:
                out.append((tr["mail_from"], [r["to"] for r in tr["rcpts"] if r["reply"].startswith("250")]))
    return out


# --- 1. two domains, interleaved ------------------------------------------------------
rcpts = ["a1@one.example", "b1@two.example", "a2@one.example", "a3@ONE.example", "b2@two.example",
         "a4@one.example", "c1@one.example"]
logpos = len(q.log())
rc = q.queue_message("Subject: one\n\nbatch me\n", "snd@" + HOST, rcpts)
t.is_(rc, 0, "1: queued to 7 remote recipients at 2 domains")
ends += 1
ends_wait(ends, "1: the message ends")
trs = sorted(transactions(), key=lambda x: len(x[1]), reverse=True)
t.is_(trs, [("snd@" + HOST, ["a1@one.example", "a2@one.example", "a3@ONE.example", "a4@one.example", "c1@one.example"]),
            ("snd@" + HOST, ["b1@two.example", "b2@two.example"])],
      "1: two transactions: the 5 recipients at one.example (any case) in order, then the 2 at two.example")
log = q.log()[logpos:]
starts = re.findall(r"^starting delivery (\d+): msg \d+ to remote (\S+)$", log, re.M)
results = re.findall(r"^delivery (\d+): success: 127\.0\.0\.1_accepted_message\./Remote_host_said:_250_ok/$", log, re.M)
t.is_(sorted(r for _, r in starts), sorted(rcpts), "1: one 'starting delivery' line per recipient")
t.ok(len(set(n for n, _ in starts)) == 7 and sorted(results) == sorted(n for n, _ in starts),
     "1: 7 delivery numbers, each with its own success line")
remote_status = [int(x) for x in re.findall(r"^status: local \d+/\d+ remote (\d+)/\d+$", log, re.M)]
t.ok(remote_status and max(remote_status) == 2,
     "1: two batches, two slots: the status line never counts more than 2 remote deliveries (qmail-remote runs)")

# --- 2. a 4xx to one recipient of a batch ------------------------------------------------
nsess = len(peer.sessions())
rc = q.queue_message("Subject: two\n\npartly later\n", "snd@" + HOST,
                     ["x1@one.example", "later@one.example", "x2@one.example"])
q.wait_log(r"^delivery \d+: deferral: ", timeout=60)
q.wait_log(r"^delivery \d+: success: ", timeout=60, count=len(results) + 2)
dl = {d["rcpt"]: d["result"] for d in S.deliveries(q) if d["rcpt"].startswith(("x1@", "later@", "x2@"))}
t.is_(dl, {"x1@one.example": "success", "later@one.example": "deferral", "x2@one.example": "success"},
      "2: one batch; only the refused recipient is deferred")
t.is_([r for _, r in transactions(nsess)], [["x1@one.example", "x2@one.example"]],
      "2: the message went once, to the two accepted recipients")
peer.set_script(rcpt_for={})
nsess = len(peer.sessions())
q.signal_taken(14)
ends += 1
ends_wait(ends, "2: after ALRM the deferred recipient goes, and the message ends")
t.is_([r for _, r in transactions(nsess)], [["later@one.example"]], "2: ... alone")

# --- 3. control/remotebatch -------------------------------------------------------------
q.stop()
q.control("remotebatch", "2\n")
q.restart()
nsess = len(peer.sessions())
rc = q.queue_message("Subject: three\n\nin twos\n", "snd@" + HOST, ["y%d@one.example" % i for i in range(5)])
ends += 1
ends_wait(ends, "3: the message ends")
t.is_(sorted(len(r) for _, r in transactions(nsess)), [1, 2, 2], "3: remotebatch 2: transactions of 2, 2 and 1")
q.stop()
q.control("remotebatch", "1\n")
q.restart()
nsess = len(peer.sessions())
rc = q.queue_message("Subject: three b\n\none by one\n", "snd@" + HOST, ["z%d@one.example" % i for i in range(3)])
ends += 1
ends_wait(ends, "3: remotebatch 1: the message ends")
t.is_(sorted(len(r) for _, r in transactions(nsess)), [1, 1, 1], "3: remotebatch 1: one recipient per transaction, as qmail")
q.stop()
os.unlink(os.path.join(q.home, "control", "remotebatch"))   # back to the default (50)
q.restart()

# --- 4. VERP ---------------------------------------------------------------------------------
nsess = len(peer.sessions())
rc = q.queue_message("Subject: verp\n\nverp\n", "list-@example.net-@[]", ["v1@one.example", "v2@one.example"])
ends += 1
ends_wait(ends, "4: the VERP message ends")
t.is_(sorted(transactions(nsess)), [("list-v1=one.example@example.net", ["v1@one.example"]),
                                    ("list-v2=one.example@example.net", ["v2@one.example"])],
      "4: VERP: one transaction per recipient, each with its own sender")

# --- 5. the connection dies after the final dot ---------------------------------------------
peer.set_script(dot=R.DROP)
nsess = len(peer.sessions())
rc = q.queue_message("Subject: drop\n\ndropped\n", "snd@" + HOST, ["d1@one.example", "d2@one.example"])
q.wait_log(r"^delivery \d+: deferral: .*Possible_duplicate!", timeout=60, count=2)
mid = S.log_lines(q, "new")[-1][0]
t.is_(S.read(q.queue_path("remote", mid)), b"Td1@one.example\0Td2@one.example\0",
      "5: connection died after the dot: both deferred, neither marked done")
peer.set_script(dot="250 ok")
q.signal_taken(14)
ends += 1
ends_wait(ends, "5: after ALRM both are delivered and the message ends")
t.is_([r for _, r in transactions(nsess)][-1:], [["d1@one.example", "d2@one.example"]],
      "5: the retry carries both again, in one transaction")

# --- 5b. concurrencyremote below the batch size ------------------------------------------------
q.stop()
q.control("concurrencyremote", "3\n")
q.restart()
nsess = len(peer.sessions())
logpos = len(q.log())
rc = q.queue_message("Subject: cap\n\ncapped\n", "snd@" + HOST, ["w%d@one.example" % i for i in range(7)])
ends += 1
ends_wait(ends, "5b: concurrencyremote 3, 7 recipients at one domain: the message ends")
t.is_(sorted(len(r) for _, r in transactions(nsess)), [7],
      "5b: a batch takes one slot: all 7 in one transaction")
remote_status = [int(x) for x in re.findall(r"^status: local \d+/\d+ remote (\d+)/3$", q.log()[logpos:], re.M)]
t.ok(remote_status and max(remote_status) == 1, "5b: the status line counts one qmail-remote in flight")
S.check_log(t, q, "5b")
q.stop()
os.unlink(os.path.join(q.home, "control", "concurrencyremote"))

# --- 6. qmail-rspawn's reports for a batch (a scripted qmail-remote) -------------------------
fake = os.path.join(t.tmp, "remote-batch")
with open(fake, "w") as f:
    f.write("#!/bin/sh\n"
            "cat > /dev/null\n"
            "shift 2\n"
            "for r in \"$@\"; do case $r in\n"
            "  r*) printf 'r\\000' ;;\n"
            "  h*) printf 'h1.2.3.4 does not like recipient.\\nRemote host said: 550 no\\n\\000' ;;\n"
            "  s*) printf 's1.2.3.4 does not like recipient.\\nRemote host said: 450 later\\n\\000' ;;\n"
            "esac ; done\n"
            "case $1 in\n"
            "  *@k.example) printf 'K1.2.3.4 accepted message.\\nRemote host said: 250 ok\\n\\000' ;;\n"
            "  *@z.example) printf 'Z1.2.3.4 failed after I sent the message.\\nRemote host said: 451 hmm\\n\\000' ;;\n"
            "esac\n")
os.chmod(fake, 0o755)
q.env["QMAILREMOTE"] = fake
q.restart()
rc = q.queue_message("Subject: reports\n\nr\n", "snd@" + HOST,
                     ["r1@k.example", "h1@k.example", "s1@k.example", "r2@z.example", "h2@z.example"])
q.wait_log(r"^delivery \d+: ", timeout=60, count=len(S.log_lines(q, "result")) + 5)
mid = S.log_lines(q, "new")[-1][0]
got = {d["rcpt"].split("@")[0]: (d["result"], d["text"]) for d in S.deliveries(q)
       if d["msg"] == mid and d["rcpt"].endswith(("@k.example", "@z.example"))}
K = "1.2.3.4_accepted_message./Remote_host_said:_250_ok/"
H = "1.2.3.4_does_not_like_recipient./Remote_host_said:_550_no/"
Sf = "1.2.3.4_does_not_like_recipient./Remote_host_said:_450_later/"
Z = "1.2.3.4_failed_after_I_sent_the_message./Remote_host_said:_451_hmm/"
t.is_(got, {"r1": ("success", K), "h1": ("failure", H), "s1": ("deferral", Sf),
            "r2": ("deferral", Z), "h2": ("failure", H)},
      "6: r+K success, h+K failure, s+K deferral (recipient text only); r+Z deferral (message text); h+Z failure")
q.stop()
S.check_log(t, q, "all runs")
peer.stop()
t.done()
