#!/usr/bin/env python3
"""Remote delivery end to end: qmail-inject -> qmail-queue -> qmail-send ->
qmail-rspawn -> qmail-remote (the real one) -> an SMTP receiver on the
loopback (tests/lib/remotepeer.py), through control/smtproutes.

From the reference (qmail.md sections 3 and 4):
- each remote recipient is delivered; the log says "delivery N: success:
  {ip}_accepted_message./Remote_host_said:_250_.../" (qmail-send's log
  turns newlines into "/" and spaces into "_");
- a 4xx to RCPT is a deferral ("... does_not_like_recipient./...") and the
  recipient is tried again later (ALRM: now) and then delivered;
- a 5xx to RCPT is a failure: a bounce reaches the (local) sender, with
  the remote server's text in it.
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

peer = R.SmtpPeer(t.tmp, dot="250 ok queued",
                  rcpt_for={"later@remote.example": "451 4.2.1 try again later",
                            "nobody@remote.example": "550 5.1.1 no such user here"}).start()
q.control("smtproutes", "remote.example:127.0.0.1:%d\n" % peer.port)
q.start()
ends = 0


def ends_wait(n, desc):
    t.ok(S.wait(t, q, r"^end msg \d+$", count=n, timeout=60), desc)


# --- 1. two remote recipients arrive ---------------------------------------------
msg = "From: snd@%s\nSubject: one\n\nhello remote\n" % HOST
rc, err = q.inject(msg, ["a@remote.example", "b@remote.example"], sender="snd@" + HOST)
t.is_((rc, err), (0, ""), "1: qmail-inject exits 0")
ends += 1
ends_wait(ends, "1: the message ends")
got = sorted(r["to"] for s in peer.sessions() for tr in s["transactions"] for r in tr["rcpts"]
             if tr.get("dot_reply", "").startswith("250"))
t.is_(got, ["a@remote.example", "b@remote.example"], "1: both recipients reached the receiver")
datas = [tr["data"] for s in peer.sessions() for tr in s["transactions"]]
t.ok(datas and all(b"\r\nhello remote\r\n" in d and d.startswith(b"Received: ") for d in datas),
     "1: the message arrived, with qmail-queue's Received line first")
succ = [d for d in S.deliveries(q) if d["result"] == "success"]
t.ok(len(succ) == 2 and all(d["chan"] == "remote" and
                            d["text"] == "127.0.0.1_accepted_message./Remote_host_said:_250_ok_queued/"
                            for d in succ),
     "1: delivery N: success: 127.0.0.1_accepted_message./Remote_host_said:_250_ok_queued/")
if len(succ) != 2:
    t.diag(repr([d for d in S.deliveries(q) if d["result"] != "success"]))

# --- 2. a 4xx defers, and the retry delivers ----------------------------------------
rc, err = q.inject("Subject: two\n\nlater\n", ["later@remote.example"], sender="snd@" + HOST)
t.is_(rc, 0, "2: queued")
q.wait_log(r"^delivery \d+: deferral: ", timeout=60)
dfr = [d for d in S.deliveries(q) if d["result"] == "deferral"]
# qmail-rspawn: the recipient's s (deferral) wins over the message's D
# ("Giving up"), and both texts are reported
t.ok(dfr and dfr[0]["text"] == "127.0.0.1_does_not_like_recipient./Remote_host_said:_451_4.2.1_try_again_later/"
     "Giving_up_on_127.0.0.1./",
     "2: a 451 to RCPT: deferral: 127.0.0.1_does_not_like_recipient./Remote_host_said:_451_..._later/Giving_up_on_127.0.0.1./")
if not dfr:
    t.diag(repr([d for d in S.deliveries(q) if d["result"] != "success"]))
peer.set_script(rcpt_for={"nobody@remote.example": "550 5.1.1 no such user here"})   # later@ now accepted
q.signal_taken(14)   # ALRM: retry now
ends += 1
ends_wait(ends, "2: after ALRM the deferred recipient is tried again and the message ends")
t.ok(any(r["to"] == "later@remote.example" and r["reply"].startswith("250")
         for s in peer.sessions() for tr in s["transactions"] for r in tr["rcpts"]),
     "2: the retry reached the receiver and was accepted")

# --- 3. a 5xx bounces, with the remote text ------------------------------------------
rc, err = q.inject("Subject: three\n\nno such user\n", ["nobody@remote.example"], sender="snd@" + HOST)
t.is_(rc, 0, "3: queued")
ends += 2   # the message and its bounce
ends_wait(ends, "3: the message and its bounce end")
fails = [d for d in S.deliveries(q) if d["result"] == "failure"]
t.ok(fails and fails[0]["text"] == "127.0.0.1_does_not_like_recipient./Remote_host_said:_550_5.1.1_no_such_user_here/Giving_up_on_127.0.0.1./",
     "3: failure: 127.0.0.1_does_not_like_recipient./Remote_host_said:_550_.../Giving_up_on_127.0.0.1./")
if not fails:
    t.diag(repr([d for d in S.deliveries(q) if d["result"] != "success"]))
bounces = q.maildir_messages(os.path.join(snd, "Maildir"))
t.is_(len(bounces), 1, "3: one bounce reached the sender")
b = bounces[0] if bounces else b""
t.ok(b"<nobody@remote.example>:\n127.0.0.1 does not like recipient.\n"
     b"Remote host said: 550 5.1.1 no such user here\nGiving up on 127.0.0.1.\n" in b,
     "3: the bounce quotes the remote server's text")
t.ok(q.wait_until(q.queue_empty, 10), "the queue ends empty")
q.stop()
peer.stop()
t.done()
