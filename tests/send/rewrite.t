#!/usr/bin/env python3
"""Recipient rewriting in qmail-send, HUP, VERP, and qmail-getpw in a
sandbox (qmail.md sections 3, 4 and 8).

Rewriting, in order: (1) no @ -> @{envnoathost} (control/envnoathost, else
control/me); (2) while the domain is in percenthack and the local part has a
%, the last % becomes the @; (3) a domain in locals (case-insensitive) is
local; (4) virtualdomains "key:prepend", first hit of user@domain, domain,
each .suffix, "" (catch-all): a non-empty prepend makes it local
"prepend-user@domain", an empty one means "not virtual"; (5) else remote.
A bounce shows a virtual recipient without its prepend.
HUP rereads locals and virtualdomains only ("alert: unable to reread
control/locals" when it cannot, and the old ones stay).
VERP: sender "x-@h-@[]" is passed per delivery as "x-{box}={host}@h".
qmail-getpw in a sandbox: every local part belongs to the user "alias",
home HOME/alias, dash "-", ext = the whole local part.
"""
import sys
import os

sys.dont_write_bytecode = True   # no __pycache__ in the source tree
import sendlib as S  # noqa: E402
from sendlib import qs6, qmailrun, HOST

t = qs6.Tap()
q = S.QmailRun(t.sandbox())
U = S.Users(t, q)
alice = U.home("alice"); U.exact("alice", alice)
U.commit()
A = os.path.join(q.home, "alias")
S.dotqmail(q, A, ".qmail-default",
           "|printf '%s|%s|%s|%s|%s|%s\\n' \"$USER\" \"$HOME\" \"$LOCAL\" \"$EXT\" \"$HOST\" \"$SENDER\" >> seen\n")
S.dotqmail(q, A, ".qmail-mr:smith-x", '|printf "%s\\n" "$EXT" > smith\n')
S.dotqmail(q, A, ".qmail-vuser-fail", "|echo nope; exit 100\n")
fake = os.path.join(t.tmp, "remote-ok")
with open(fake, "w") as f:
    f.write("#!/bin/sh\ncat > /dev/null\nprintf 'r\\000K127.0.0.1 accepted message.\\nRemote host said: 250 ok\\n\\000'\n")
os.chmod(fake, 0o755)
q.env["QMAILREMOTE"] = fake


def send(rcpts, sender="alice@" + HOST):
    rc = q.queue_message("Subject: rw\n\nbody\n", sender, rcpts)
    mid, ds, ended = S.wait_message(t, q, q.last_qp)
    return rc, sorted((x["chan"], x["rcpt"]) for x in ds)


def seen():
    return (S.read(os.path.join(A, "seen")) or b"").decode().splitlines()


# --- defaults: envnoathost is control/me ------------------------------------------
q.start()
rc, got = send(["nohost"])
t.is_(got, [("local", "nohost@" + HOST)], "no envnoathost: 'nohost' -> nohost@{me}, local")
t.is_(q.stop(), 0, "exit 0")

q.control("envnoathost", "localhost\n")
q.control("percenthack", "relay.example.org\n")
q.control("virtualdomains", "exact@virt.example.org:exactuser\nvirt.example.org:vuser\n"
          ".sub.example.org:subuser\nnotvirt.example.org:\n:catchall\n")
q.restart()

cases = [
    ("nohost2", "local", "nohost2@localhost", "envnoathost: 'nohost2' -> nohost2@localhost"),
    ("Mixed@SANDBOX.Example.TEST", "local", "Mixed@SANDBOX.Example.TEST", "locals match case-insensitively"),
    ("exact@virt.example.org", "local", "exactuser-exact@virt.example.org", "virtualdomains: the user@domain key first"),
    ("other@virt.example.org", "local", "vuser-other@virt.example.org", "virtualdomains: the domain key"),
    ("x@a.sub.example.org", "local", "subuser-x@a.sub.example.org", "virtualdomains: a .suffix key"),
    ("x@deep.a.sub.example.org", "local", "subuser-x@deep.a.sub.example.org", "virtualdomains: a .suffix key, deeper"),
    ("y@sub.example.org", "local", "catchall-y@sub.example.org", "virtualdomains: .sub.example.org does not match sub.example.org itself"),
    ("w@elsewhere.example.com", "local", "catchall-w@elsewhere.example.com", "virtualdomains: the catch-all \"\" key"),
    ("z@notvirt.example.org", "remote", "z@notvirt.example.org", "virtualdomains: an empty prepend means not virtual: remote"),
    ("l@localhost", "local", "l@localhost", "a domain in locals is local even with a catch-all"),
    ("u%%%s@relay.example.org" % HOST, "local", "u@" + HOST, "percenthack: the last % becomes the @"),
    ("a%b.example.net%relay.example.org@relay.example.org", "local", "catchall-a@b.example.net",
     "percenthack: repeated while the domain is listed, then virtualdomains"),
    ("p%%q@%s" % HOST, "local", "p%%q@%s" % HOST, "no percenthack for a domain not listed"),
    ("plain@relay.example.org", "local", "catchall-plain@relay.example.org", "percenthack: no % -> unchanged"),
    ("h@newlocal.example.org", "local", "catchall-h@newlocal.example.org", "not (yet) in locals"),
]
rc, got = send([c[0] for c in cases])
t.is_(rc, 0, "queued %d recipients" % len(cases))
for c in cases:
    # logsafe: % is shown as _
    want = (c[1], c[2].replace("%", "_"))
    t.ok(want in got, "%s: %s -> %s %s" % (c[3], c[0], c[1], c[2]))
t.is_(len(got), len(cases), "one delivery per recipient")

# qmail-getpw in the sandbox, seen by the .qmail-default program
lines = seen()
t.ok("alias|%s|Mixed|Mixed|SANDBOX.Example.TEST|alice@%s" % (A, HOST) in lines,
     "qmail-getpw: Mixed -> user alias, home HOME/alias, ext = the whole local part")
t.ok("alias|%s|catchall-w|catchall-w|elsewhere.example.com|alice@%s" % (A, HOST) in lines,
     "a virtual recipient is delivered as prepend-user@domain")
rc, got = send(["Mr.Smith-X@" + HOST])
t.is_(S.read(os.path.join(A, "smith")), b"Mr.Smith-X\n", "ext Mr.Smith-X -> safeext mr:smith-x -> .qmail-mr:smith-x")

# a virtual recipient that fails: the bounce shows it without the prepend
rc, got = send(["fail@virt.example.org"])
q.wait_until(lambda: q.maildir_messages(os.path.join(alice, "Maildir")))
b = q.maildir_messages(os.path.join(alice, "Maildir"))
t.ok(len(b) == 1 and b"\n\n<fail@virt.example.org>:\nnope\n\n--- Below this line" in b[0],
     "the bounce names <fail@virt.example.org>, not vuser-fail@...")

# VERP
rc, got = send(["v1@" + HOST, "v2@localhost"], sender="list-@%s-@[]" % HOST)
lines = seen()
t.ok(any(x.endswith("|v1|v1|%s|list-v1=%s@%s" % (HOST, HOST, HOST)) for x in lines)
     and any(x.endswith("|v2|v2|localhost|list-v2=localhost@%s" % HOST) for x in lines),
     "VERP: sender list-@host-@[] is list-{box}={host}@host for each delivery")

# --- HUP ---------------------------------------------------------------------------
q.control("locals", HOST + "\nlocalhost\nnewlocal.example.org\n")
q.control("virtualdomains", "virt.example.org:vuser2\n:catchall\n")
q.control("envnoathost", "changed.example\n")
t.ok(q.signal_taken(1), "HUP delivered")
send(["alice@" + HOST])   # a message after the HUP has been acted on
rc, got = send(["h@newlocal.example.org", "other@virt.example.org", "nohost3"])
t.ok(("local", "h@newlocal.example.org") in got, "HUP rereads locals: h@newlocal.example.org is local")
t.ok(("local", "vuser2-other@virt.example.org") in got, "HUP rereads virtualdomains")
t.ok(("local", "nohost3@localhost") in got, "HUP does not reread envnoathost")
if len(got) != 3 or ("local", "nohost3@localhost") not in got:
    t.diag(repr(got))

# locals unreadable: the alert, and the old maps stay
os.unlink(os.path.join(q.home, "control", "locals"))
os.mkdir(os.path.join(q.home, "control", "locals"))
q.signal_taken(1)
try:
    q.wait_log(r"^alert: unable to reread control/locals$", timeout=10)
    t.ok(True, "HUP with an unreadable control/locals: 'alert: unable to reread control/locals'")
except TimeoutError:
    t.ok(False, "HUP with an unreadable control/locals: 'alert: unable to reread control/locals'")
rc, got = send(["h2@newlocal.example.org"])
t.is_(got, [("local", "h2@newlocal.example.org")], "the old locals stay in force")
os.rmdir(os.path.join(q.home, "control", "locals"))
q.control("locals", HOST + "\nlocalhost\n")

t.is_(q.stop(), 0, "exit 0")
S.check_clean(t, q, "rewrite")
S.check_log(t, q, "rewrite")
t.done()
