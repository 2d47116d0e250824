#!/usr/bin/env python3
"""qmail-start (qmail.md sections 0 and 3).

- "qmail-start [defaultdelivery [logger args...]]": defaultdelivery defaults
  to ./Mailbox (an mbox in the user's home); with a logger, the log goes to
  the logger's fd 0 and nothing to qmail-start's stdout; without one, to
  qmail-start's stdout.
- qmail-send without control/locals and control/me: "alert: cannot start:
  unable to read controls", exit 111.
"""
import sys
import os
import re
import signal
import subprocess
import time

sys.dont_write_bytecode = True   # no __pycache__ in the source tree
import sendlib as S  # noqa: E402
from sendlib import qs6, qmailrun, HOST, RECEIVED, UFLINE_DATE

t = qs6.Tap()


def raw_start(q, args, out):
    return subprocess.Popen([os.path.join(q.home, "bin", "qmail-start")] + args, stdout=out,
                            stderr=subprocess.STDOUT, env=q.env, cwd="/")


def wait_text(path, text, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if text in (S.read(path) or b""):
            return True
        time.sleep(0.05)
    return False


# --- no arguments: ./Mailbox -------------------------------------------------------
q = S.QmailRun(t.sandbox())
U = S.Users(t, q)
alice = U.home("alice", maildir=False); U.exact("alice", alice)
U.commit()
logpath = os.path.join(t.tmp, "start-a.log")
with open(logpath, "wb") as out:
    p = raw_start(q, [], out)
t.ok(wait_text(logpath, b"status: local 0/10 remote 0/20\n"), "no logger: the log is on qmail-start's stdout")
msg = "Subject: m\n\nbody\nFrom x\n"
q.queue_message(msg, "s@" + HOST, ["alice@" + HOST])
t.ok(wait_text(logpath, b"end msg "), "the message ends")
S.match_pieces(t, S.read(os.path.join(alice, "Mailbox")),
               ["From s@%s %s\n" % (re.escape(HOST), UFLINE_DATE),
                ("Return-Path: <s@%s>\nDelivered-To: alice@%s\n" % (HOST, HOST)).encode(), RECEIVED,
                msg.replace("\nFrom x", "\n>From x").encode(), b"\n"],
               "no defaultdelivery: ./Mailbox, an mbox in the home")
p.send_signal(signal.SIGTERM)
t.is_(p.wait(30), 0, "exit 0 on TERM")

# --- a logger ------------------------------------------------------------------------------
q.maildirmake(os.path.join(alice, "Maildir"))
ldir = os.path.join(t.tmp, "logger")
q.mkdir(ldir, 0o755)
lfile = os.path.join(ldir, "current")
outpath = os.path.join(t.tmp, "start-b.out")
with open(outpath, "wb") as out:
    p = raw_start(q, ["./Maildir/", "/bin/sh", "-c", "exec cat > " + lfile], out)
t.ok(wait_text(lfile, b"status: local 0/10 remote 0/20\n"), "with a logger: the log goes to the logger's stdin")
q.queue_message("Subject: m\n\nbody\n", "s@" + HOST, ["alice@" + HOST])
t.ok(wait_text(lfile, b"end msg "), "the message's log lines reach the logger")
p.send_signal(signal.SIGTERM)
t.is_(p.wait(30), 0, "exit 0 on TERM")
t.ok(wait_text(lfile, b"status: exiting\n"), "status: exiting reaches the logger")
t.is_(S.read(outpath), b"", "nothing on qmail-start's own stdout")
t.ok(q.wait_until(lambda: not q.helpers(), 10), "the helpers exit")
t.is_(len(q.maildir_messages(os.path.join(alice, "Maildir"))), 1, "defaultdelivery ./Maildir/ as given")
t.is_((S.read(os.path.join(alice, "Mailbox")) or b"").count(b"\nFrom s@"), 0, "(the Mailbox got only the first message)")

S.check_log(t, (S.read(logpath) or b"").decode(errors="replace"), "stdout log")
S.check_log(t, (S.read(lfile) or b"").decode(errors="replace"), "logger log")

# --- no locals, no me ----------------------------------------------------------------------------
q2 = S.QmailRun(t.sandbox())
os.unlink(os.path.join(q2.home, "control", "me"))
os.unlink(os.path.join(q2.home, "control", "locals"))
outpath = os.path.join(t.tmp, "start-c.out")
with open(outpath, "wb") as out:
    p = raw_start(q2, ["./Maildir/"], out)
    try:
        rc = p.wait(30)
    except subprocess.TimeoutExpired:
        p.kill()
        rc = p.wait()
t.is_(rc, 111, "no control/locals and no control/me: exit 111")
t.ok(b"alert: cannot start: unable to read controls\n" in (S.read(outpath) or b""),
     "alert: cannot start: unable to read controls")
t.ok(q2.wait_until(lambda: not q2.helpers(), 10), "the helpers exit")
t.done()
