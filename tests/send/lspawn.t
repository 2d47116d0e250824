#!/usr/bin/env python3
"""qmail-lspawn's delivery children, end to end.

- users/cdb is read when each delivery starts: after qmail-newu replaces
  it (by rename) while qmail-send runs, the next delivery follows the new
  assignment, without a restart (qmail-lspawn keeps the file mapped and
  maps it again when it has been replaced);
- the delivery child is named qmail-local (/proc/PID/comm), as with
  qmail's exec of bin/qmail-local, and a program of a .qmail line starts
  with no signal blocked and SIGPIPE and SIGCHLD at their defaults (the
  spawner's selfpipe and SIGPIPE handling do not leak into deliveries);
- with $QMAILLOCAL set, qmail-lspawn execs that program with qmail-local's
  arguments instead (an admin's wrapper around qmail-local keeps working).
"""
import sys
import os
import re

sys.dont_write_bytecode = True   # no __pycache__ in the source tree
import sendlib as S  # noqa: E402
from sendlib import qs6, HOST  # noqa: E402

t = qs6.Tap()
q = S.QmailRun(t.sandbox())


def assign(entries):
    """users/assign from (local, home) pairs, then qmail-newu."""
    q.newu("".join("=%s:%s:%d:%d:%s:::\n" % (loc, loc, q.uid, q.gid, h) for loc, h in entries) + ".\n")


homes = {}
for name in ("a", "b", "sig"):
    h = os.path.join(t.tmp, os.path.basename(q.home) + "-home-" + name)
    q.mkdir(h, 0o755)
    q.maildirmake(os.path.join(h, "Maildir"))
    homes[name] = h
S.dotqmail(q, homes["sig"], ".qmail",
           "|grep -E '^Sig(Blk|Ign):' /proc/self/status > sigs; cat /proc/$PPID/comm > parent\n")

assign([("alice", homes["a"]), ("sig", homes["sig"])])
q.start()
ends = 0


def deliver(rcpt, desc):
    global ends
    rc, err = q.inject("Subject: %s\n\n%s\n" % (desc, desc), [rcpt + "@" + HOST], sender="snd@" + HOST)
    t.is_((rc, err), (0, ""), desc + ": qmail-inject exits 0")
    ends += 1
    try:
        q.wait_log(r"^end msg \d+$", timeout=30, count=ends)
        t.ok(True, desc + ": the message ends")
    except TimeoutError as e:
        t.ok(False, desc + ": the message ends")
        t.diag(str(e))


def count(name):
    return len(q.maildir_messages(os.path.join(homes[name], "Maildir")))


# --- users/cdb replaced while running ----------------------------------------
deliver("alice", "1")
t.is_((count("a"), count("b")), (1, 0), "1: alice -> home a")
assign([("alice", homes["b"]), ("sig", homes["sig"])])
deliver("alice", "2")
t.is_((count("a"), count("b")), (1, 1), "2: after qmail-newu (alice -> home b), the next delivery goes to b")
assign([("alice", homes["a"]), ("sig", homes["sig"])])
deliver("alice", "3")
t.is_((count("a"), count("b")), (2, 1), "3: and back to a after another qmail-newu")

# --- the delivery child's name and signal state -------------------------------
deliver("sig", "4")
t.is_(S.read(os.path.join(homes["sig"], "parent")), b"qmail-local\n",
      "4: a .qmail program's parent is named qmail-local")
sigs = (S.read(os.path.join(homes["sig"], "sigs")) or b"").decode()
blk = re.search(r"^SigBlk:\s*([0-9a-f]+)$", sigs, re.M)
ign = re.search(r"^SigIgn:\s*([0-9a-f]+)$", sigs, re.M)
t.ok(blk and int(blk.group(1), 16) == 0, "4: the program starts with no signal blocked")
SIGPIPE, SIGCHLD = 13, 17
t.ok(ign and not int(ign.group(1), 16) & ((1 << (SIGPIPE - 1)) | (1 << (SIGCHLD - 1))),
     "4: the program starts with SIGPIPE and SIGCHLD not ignored")
if not (blk and ign):
    t.diag(repr(sigs))
q.stop()

# --- $QMAILLOCAL --------------------------------------------------------------
wrapper = os.path.join(t.tmp, "local-wrapper")
trace = os.path.join(homes["a"], "wrapped")
q.write(wrapper, '#!/bin/sh\nprintf "%%s|" "$@" >> %s\necho >> %s\nexec %s "$@"\n'
        % (trace, trace, os.path.join(q.home, "bin", "qmail-local")), 0o755)
q.env["QMAILLOCAL"] = wrapper
q.start()
deliver("alice", "5")
t.is_(count("a"), 3, "5: with $QMAILLOCAL, the delivery still lands in alice's Maildir")
t.is_(S.read(trace), ("--|alice|%s|alice|||%s|snd@%s|./Maildir/|\n" % (homes["a"], HOST, HOST)).encode(),
      "5: $QMAILLOCAL ran with qmail-local's arguments (-- user home local dash ext domain sender defaultdelivery)")
q.stop()
t.done()
