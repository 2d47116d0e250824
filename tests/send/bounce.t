#!/usr/bin/env python3
"""Bounces, double bounces and triple bounces (qmail.md section 3).

- One bounce per message, covering every failed recipient, queued with
  envelope sender "" to the original sender, text (QSBMF):
    Date / From: {bouncefrom}@{bouncehost} / To: {sender} / Subject: failure notice
    "Hi. This is the qmail-send program at {bouncehost}." ... one block
    "<rcpt>:\\n{report}\\n" + blank line per recipient, "--- Below this line is
    a copy of the message.", Return-Path: <sender>, the queued message.
  bouncefrom defaults to MAILER-DAEMON, bouncehost to control/me.
- bounce/N: "<rcpt>:\\n" + report (forced to end with \\n, a \\n right after a
  \\n becomes /) + "\\n".
- Original sender "" -> double bounce: envelope sender #@[], to
  {doublebounceto}@{doublebouncehost}, "I tried to deliver a bounce message
  to this address, but the bounce bounced!", "--- Below this line is the
  original bounce.".  Sender #@[] -> "triple bounce: discarding bounce/N".
- Sender x-@h-@[] (VERP) is shown and used as x-@h.
- Log: "bounce msg N qp Q", Q = the pid of the qmail-queue that queued the
  bounce (its own "info msg M: ... qp Q").
"""
import sys
import os
import re

sys.dont_write_bytecode = True   # no __pycache__ in the source tree
import sendlib as S  # noqa: E402
from sendlib import qs6, qmailrun, HOST, RECEIVED

t = qs6.Tap()
NOMBOX = "Sorry, no mailbox here by that name. (#5.1.1)\n"


def block(rcpt, report):
    return ("<%s>:\n%s\n\n" % (rcpt, report)).encode()


# === sandbox A: default bouncefrom/bouncehost; doublebounceto a local user ===
q = S.QmailRun(t.sandbox())
U = S.Users(t, q)
snd = U.home("snd"); U.exact("snd", snd)
dbl = U.home("dbl"); U.exact("dbl", dbl)
lister = U.home("lister"); U.exact("list-", lister, user="lister")
U.commit()
q.control("doublebounceto", "dbl\n")
alias = os.path.join(q.home, "alias")
S.dotqmail(q, alias, ".qmail-slow", "|while [ ! -f go ]; do sleep 0.02; done\n")
S.dotqmail(q, alias, ".qmail-blank", "|printf 'first\\n\\nafter a blank line'; exit 100\n")
q.start()

# --- a bounce covering two recipients, with bounce/N looked at first ---------
msgA = "Subject: A\n\nbody A\n"
rc = q.queue_message(msgA, "snd@" + HOST, ["nobody1@" + HOST, "slow@" + HOST, "blank@" + HOST])
t.is_(rc, 0, "A: queued")
q.wait_log(r"^delivery \d+: failure: ", count=2)
idA = S.log_lines(q, "new")[0][0]
# the failure is logged, then appended to bounce/N
q.wait_until(lambda: (S.read(q.queue_path("bounce", idA)) or b"").count(b">:\n") == 2, 10)
bfile = S.read(q.queue_path("bounce", idA))
b1 = block("nobody1@" + HOST, NOMBOX.rstrip("\n"))
b2 = block("blank@" + HOST, "first\n/after a blank line")
t.ok(bfile in (b1 + b2, b2 + b1),
     "A: bounce/N holds one note per failure: <rcpt>:, the report ending in \\n, \\n\\n inside -> \\n/, a blank line")
if bfile not in (b1 + b2, b2 + b1):
    t.diag(repr(bfile))
t.is_(S.log_lines(q, "bounce"), [], "A: no bounce while a recipient is still in delivery")
q.write(os.path.join(alias, "go"), "")
q.wait_log(r"^end msg \d+$", count=2)
got = q.maildir_messages(os.path.join(snd, "Maildir"))
t.is_(len(got), 1, "A: one bounce for the two failed recipients")
blocks = "(?:%s|%s)" % (re.escape((b1 + b2).decode()), re.escape((b2 + b1).decode()))
S.match_pieces(t, got[0] if got else None,
               [S.delivered_prefix("", "snd@" + HOST), RECEIVED]
               + S.bounce_pieces("MAILER-DAEMON", HOST, "snd@" + HOST, [blocks], "snd@" + HOST, [RECEIVED, msgA.encode()]),
               "A: the bounce text, exactly: MAILER-DAEMON@me, the paragraph, both blocks, the copy of the message")
bl = S.log_lines(q, "bounce")
t.ok(len(bl) == 1 and bl[0][0] == idA, "A: bounce msg N qp Q names the original message")
if bl:
    binfo = [g for g in S.log_lines(q, "info") if g[3] == bl[0][1]]
    t.ok(len(binfo) == 1 and binfo[0][2] == "", "A: Q is the qmail-queue of the bounce, whose sender is <>")

# --- the bounce bounces: double bounce to doublebounceto@doublebouncehost -----
msgB = "Subject: B\n\nbody B\n"
rc = q.queue_message(msgB, "nosuch@" + HOST, ["nobody2@" + HOST])
t.is_(rc, 0, "B: queued")
q.wait_log(r"^end msg \d+$", count=5)
got = q.maildir_messages(os.path.join(dbl, "Maildir"))
t.is_(len(got), 1, "B: one double bounce reaches doublebounceto (dbl@me)")
inner = ([RECEIVED] + S.bounce_pieces("MAILER-DAEMON", HOST, "nosuch@" + HOST, [block("nobody2@" + HOST, NOMBOX.rstrip("\n"))],
                                      "nosuch@" + HOST, [RECEIVED, msgB.encode()]))
S.match_pieces(t, got[0] if got else None,
               [S.delivered_prefix("#@[]", "dbl@" + HOST), RECEIVED]
               + S.bounce_pieces("MAILER-DAEMON", HOST, "dbl@" + HOST, [block("nosuch@" + HOST, NOMBOX.rstrip("\n"))],
                                 "", inner, double=True),
               "B: the double bounce: envelope sender #@[], 'the bounce bounced!', the original bounce below")

# --- sender "" bounces straight to doublebounceto ------------------------------
msgC = "Subject: C\n\nbody C\n"
rc = q.queue_message(msgC, "", ["nobody3@" + HOST])
q.wait_log(r"^end msg \d+$", count=7)
got = q.maildir_messages(os.path.join(dbl, "Maildir"))
t.is_(len(got), 2, "C: a failure of a message from <> is a double bounce")
new = [m for m in got if b"nobody3@" in m]
S.match_pieces(t, new[0] if new else None,
               [S.delivered_prefix("#@[]", "dbl@" + HOST), RECEIVED]
               + S.bounce_pieces("MAILER-DAEMON", HOST, "dbl@" + HOST, [block("nobody3@" + HOST, NOMBOX.rstrip("\n"))],
                                 "", [RECEIVED, msgC.encode()], double=True),
               "C: the double bounce of a message from <>")

# --- sender #@[]: triple bounce ----------------------------------------------------
rc = q.queue_message("Subject: D\n\nbody D\n", "#@[]", ["nobody4@" + HOST])
q.wait_log(r"^end msg \d+$", count=8)
idD = [g[0] for g in S.log_lines(q, "info") if g[2] == "#@[]"][-1]
t.ok(S.log_lines(q, "triple") == [(idD,)], "D: sender #@[]: 'triple bounce: discarding bounce/%s', nothing sent" % idD)
t.is_(len(q.maildir_messages(os.path.join(dbl, "Maildir"))), 2, "D: no new mail for doublebounceto")

# --- VERP sender: the bounce goes to x-@h --------------------------------------------
msgE = "Subject: E\n\nbody E\n"
rc = q.queue_message(msgE, "list-@%s-@[]" % HOST, ["nobody5@" + HOST])
q.wait_log(r"^end msg \d+$", count=10)
got = q.maildir_messages(os.path.join(lister, "Maildir"))
t.is_(len(got), 1, "E: the bounce for sender list-@host-@[] reaches list-@host")
S.match_pieces(t, got[0] if got else None,
               [S.delivered_prefix("", "list-@" + HOST), RECEIVED]
               + S.bounce_pieces("MAILER-DAEMON", HOST, "list-@" + HOST,
                                 [block("nobody5@" + HOST, NOMBOX.rstrip("\n"))], "list-@" + HOST, [RECEIVED, msgE.encode()]),
               "E: To: and Return-Path: show list-@host")
t.is_(q.stop(), 0, "A: qmail-send exits 0")
S.check_clean(t, q, "A")
S.check_log(t, q, "A")

# === sandbox B: bouncefrom, bouncehost, doublebouncehost set; doublebounceto missing ===
q = S.QmailRun(t.sandbox())
U = S.Users(t, q)
snd = U.home("snd"); U.exact("snd", snd)
U.commit()
q.control("bouncefrom", "bounce-robot\n")
q.control("bouncehost", "bounces.example.org\n")
q.control("doublebounceto", "nodbl\n")
q.control("doublebouncehost", "localhost\n")
q.start()
msgF = "Subject: F\n\nbody F\n"
q.queue_message(msgF, "snd@" + HOST, ["nobody@" + HOST])
q.wait_log(r"^end msg \d+$", count=2)
got = q.maildir_messages(os.path.join(snd, "Maildir"))
S.match_pieces(t, got[0] if got else None,
               [S.delivered_prefix("", "snd@" + HOST), RECEIVED]
               + S.bounce_pieces("bounce-robot", "bounces.example.org", "snd@" + HOST,
                                 [block("nobody@" + HOST, NOMBOX.rstrip("\n"))], "snd@" + HOST, [RECEIVED, msgF.encode()]),
               "F: From: bounce-robot@bounces.example.org, 'the qmail-send program at bounces.example.org'")
q.queue_message("Subject: G\n\nbody G\n", "nosuch@" + HOST, ["nobody@" + HOST])
q.wait_log(r"^end msg \d+$", count=5)
dbinfo = [g for g in S.log_lines(q, "info") if g[2] == "#@[]"]
t.is_(len(dbinfo), 1, "G: one double bounce queued, from <#@[]>")
starts = S.message(q, dbinfo[0][3])[1] if dbinfo else []
t.ok(len(starts) == 1 and (starts[0]["chan"], starts[0]["rcpt"]) == ("local", "nodbl@localhost"),
     "G: the double bounce goes to doublebounceto@doublebouncehost (nodbl@localhost)")
t.ok(dbinfo and S.log_lines(q, "triple") == [(dbinfo[0][0],)],
     "G: it bounces too: 'triple bounce: discarding bounce/N' with N the double bounce")
t.is_(q.stop(), 0, "B: qmail-send exits 0")
S.check_clean(t, q, "B")
S.check_log(t, q, "B")

# === sandbox C: box parts that need quoting ===
q = S.QmailRun(t.sandbox())
q.control("bouncefrom", "Mail Daemon\n")
A = os.path.join(q.home, "alias")
q.maildirmake(os.path.join(A, "JS"))
S.dotqmail(q, A, ".qmail-john smith", "./JS/\n")
q.start()
msgH = "Subject: H\n\nbody H\n"
q.queue_message(msgH, "john smith@" + HOST, ["nobody@" + HOST])
q.wait_until(lambda: q.maildir_messages(os.path.join(A, "JS")))
got = q.maildir_messages(os.path.join(A, "JS"))
S.match_pieces(t, got[0] if got else None,
               [S.delivered_prefix("", "john smith@" + HOST), RECEIVED]
               + S.bounce_pieces('"Mail Daemon"', HOST, '"john smith"@' + HOST,
                                 [block("nobody@" + HOST, NOMBOX.rstrip("\n"))], '"john smith"@' + HOST,
                                 [RECEIVED, msgH.encode()]),
               'H: From: "Mail Daemon"@host, To: and Return-Path: "john smith"@host (quoted box parts)')
q.wait_until(q.queue_empty)
t.is_(q.stop(), 0, "C: qmail-send exits 0")
S.check_clean(t, q, "C")
S.check_log(t, q, "C")

# === sandbox D: bounces go through $QMAILQUEUE; a failed injection is retried ===
q = S.QmailRun(t.sandbox())
U = S.Users(t, q)
snd = U.home("snd"); U.exact("snd", snd)
U.commit()
qqdir = os.path.join(t.tmp, "qq")
q.mkdir(qqdir, 0o755)
badqq = os.path.join(t.tmp, "qq-fail")
with open(badqq, "w") as f:
    f.write("#!/bin/sh\necho fail >> %s/calls\nexit 71\n" % qqdir)
os.chmod(badqq, 0o755)
q.env["QMAILQUEUE"] = badqq
q.start()
q.queue_message("Subject: I\n\nbody I\n", "snd@" + HOST, ["nobody@" + HOST])
qp = q.last_qp
t.ok(S.wait(t, q, r"^warning: trouble injecting bounce message, will try later$"),
     "QMAILQUEUE failing: 'warning: trouble injecting bounce message, will try later'")
t.ok(S.read(os.path.join(qqdir, "calls")), "qmail-send ran $QMAILQUEUE for the bounce")
m, ds, ended = S.message(q, qp)
t.ok(not ended and os.path.exists(q.queue_path("bounce", m)), "the message and its bounce/N stay")
t.is_(q.stop(), 0, "D: exit 0")
goodqq = os.path.join(t.tmp, "qq-ok")
with open(goodqq, "w") as f:
    f.write("#!/bin/sh\necho ok >> %s/calls\nexec %s/bin/qmail-queue\n" % (qqdir, q.home))
os.chmod(goodqq, 0o755)
q.env["QMAILQUEUE"] = goodqq
q.restart()
m, ds, ended = S.wait_message(t, q, qp)
t.ok(ended, "after the restart the bounce is queued and the message ends")
t.ok(q.wait_until(lambda: q.maildir_messages(os.path.join(snd, "Maildir"))), "the bounce reaches the sender")
t.ok((S.read(os.path.join(qqdir, "calls")) or b"").endswith(b"ok\n"), "through $QMAILQUEUE")
q.wait_until(q.queue_empty, 10)
t.is_(q.stop(), 0, "D: exit 0")
S.check_clean(t, q, "D")
S.check_log(t, q, "D")
t.done()
