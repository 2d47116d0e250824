#!/usr/bin/env python3
"""Local delivery end to end: qmail-inject -> qmail-queue -> qmail-send ->
qmail-lspawn -> qmail-local -> Maildir / mbox / program / forward.

From the reference (qmail.md sections 3 and 4):
- a maildir copy is RPLINE "Return-Path: <sender>", DTLINE "Delivered-To:
  local@domain", then the queued message (qmail-queue's Received line first);
  the log says "delivery D: success: did_F+W+P/" (+ "qp_N/" after a forward);
- users/assign: "=local:user:uid:gid:home:dash:ext:" exact, lowercased key;
  "+prefix:...:pre:" wildcard, longest prefix first, the rest of the local
  part (as written) appended to pre; an exact entry wins; with an empty dash
  and no .qmail the default delivery (qmail-start's ./Maildir/) is used; with
  dash "-" .qmail-{ext} or a -default file is needed, else "Sorry, no mailbox
  here by that name. (#5.1.1)"; safeext = ext lowercased;
- .qmail lines: maildir (trailing /), mbox, |program, forward; each target
  once; the program's environment SENDER RECIPIENT LOCAL HOST USER HOME EXT
  EXT2..4 HOST2..4 DEFAULT DTLINE RPLINE UFLINE NEWSENDER; the program's
  stdin is the message without RP/DT lines; mbox = UFLINE RPLINE DTLINE,
  ">From " quoting, then an empty line; a forward is DTLINE + the message
  requeued, envelope sender NEWSENDER (-owner, -owner-default: VERP).
"""
import sys
import os
import re
import time

sys.dont_write_bytecode = True   # no __pycache__ in the source tree
import sendlib as S  # noqa: E402
from sendlib import qs6, qmailrun, HOST, RECEIVED, DATE822, UFLINE_DATE

t = qs6.Tap()
q = S.QmailRun(t.sandbox())
U = S.Users(t, q)

q.control("locals", HOST + "\nlocalhost\na.b.c.d.example\n")

snd = U.home("snd"); U.exact("snd", snd)
alice = U.home("alice"); U.exact("alice", alice)
bob = U.home("bob"); U.exact("bob", bob, "-", "box")
carol = U.home("carol"); U.exact("carol", carol, "-", "box")
dave = U.home("dave"); U.exact("dave", dave, "-", "x")
lister = U.home("lister"); U.wild("list-", lister, "-", "pre-", user="lister")
short = U.home("short"); U.wild("li", short, "-", "s-", user="short")
special = U.home("special"); U.exact("list-special", special, user="special")
joe = U.home("joe"); U.wild("joe-", joe, "-", "", user="joe")
fwd = U.home("fwd"); U.exact("fwd", fwd)
fwd2 = U.home("fwd2"); U.exact("fwd2", fwd2)
fwd3 = U.home("fwd3"); U.exact("fwd3", fwd3)
U.commit()

q.maildirmake(os.path.join(carol, "Boxdir"))
S.dotqmail(q, carol, ".qmail-box", "./Boxdir/\n")
S.dotqmail(q, dave, ".qmail-default", '|printf "%s|%s\\n" "$EXT" "$DEFAULT" > seen\n')
q.maildirmake(os.path.join(lister, "Foo"))
S.dotqmail(q, lister, ".qmail-pre-foo", "./Foo/\n")
S.dotqmail(q, lister, ".qmail-pre-default", '|printf "%s|%s|%s\\n" "$EXT" "$DEFAULT" "$LOCAL" >> seen\n')
S.dotqmail(q, short, ".qmail-s-default", '|printf "%s\\n" "$EXT" >> seen\n')

for m in ("Maildir1", "Maildir2"):
    q.maildirmake(os.path.join(joe, m))
S.dotqmail(q, joe, ".qmail-list-default",
           "./Maildir1/\n./Maildir2/\n./mbox\n|./prog.sh\nfwd@%s\n" % HOST)
S.dotqmail(q, joe, ".qmail-env-default", "|./prog.sh\n")
S.dotqmail(q, joe, "prog.sh", '#!/bin/sh\nenv -0 > "env.$EXT"\ncat > "msg.$EXT"\necho run >> "runs.$EXT"\n', 0o755)
S.dotqmail(q, joe, ".qmail-owned", "fwd2@%s\n" % HOST)
S.dotqmail(q, joe, ".qmail-owned-owner", "")
S.dotqmail(q, joe, ".qmail-verp", "fwd3@%s\n" % HOST)
S.dotqmail(q, joe, ".qmail-verp-owner", "")
S.dotqmail(q, joe, ".qmail-verp-owner-default", "")

q.start()
ends = 0


def wait_ends(n, desc, timeout=30):
    try:
        q.wait_log(r"^end msg \d+$", timeout=timeout, count=n)
        return t.ok(True, desc)
    except TimeoutError as e:
        t.ok(False, desc)
        t.diag(str(e))
        return False


# --- 1. qmail-inject to a local user ------------------------------------------
msg1 = ("From: Sender <snd@%s>\nTo: alice@%s\nDate: 1 Jan 2026 00:00:00 -0000\n"
        "Message-ID: <one@%s>\nSubject: one\n\nline one\nline two\n") % (HOST, HOST, HOST)
rc, err = q.inject(msg1, ["alice@" + HOST], sender="snd@" + HOST)
t.is_((rc, err), (0, ""), "1: qmail-inject exits 0")
ends += 1
wait_ends(ends, "1: the message ends (end msg)")
got = q.maildir_messages(os.path.join(alice, "Maildir"))
t.is_(len(got), 1, "1: one message in alice's Maildir (the default delivery ./Maildir/)")
m1 = got[0] if got else b""
S.match_pieces(t, m1, [S.delivered_prefix("snd@" + HOST, "alice@" + HOST), RECEIVED, msg1.encode()],
               "1: Return-Path, Delivered-To, the Received line, then the message as injected")
info = S.log_lines(q, "info")
t.ok(info and info[0][2] == "snd@" + HOST, "1: info msg ... from <snd@%s>" % HOST)
pre = len(S.delivered_prefix("snd@" + HOST, "alice@" + HOST))
t.ok(info and int(info[0][1]) == len(m1) - pre,
     "1: info msg bytes = the size of the queued message (Received line + message)")
res = S.log_lines(q, "result")
t.ok(res and res[0][1:] == ("success", "did_1+0+0/"), "1: delivery 1: success: did_1+0+0/")
if not (res and res[0][1:] == ("success", "did_1+0+0/")):
    t.diag(repr(res))

# --- 2. users/assign ------------------------------------------------------------
msg2 = "Subject: two\n\nassign\n"
rc = q.queue_message(msg2, "snd@" + HOST,
                     [x + "@" + HOST for x in ("bob", "carol", "dave", "list-foo", "list-bar", "LIST-Baz",
                                                "lixy", "list-special")])
t.is_(rc, 0, "2: qmail-queue exits 0")
ends += 2   # the message and the bounce for bob
wait_ends(ends, "2: the message and its bounce end")
bounce = q.maildir_messages(os.path.join(snd, "Maildir"))
t.is_(len(bounce), 1, "2: one bounce reaches the sender")
block = b"<bob@" + HOST.encode() + b">:\nSorry, no mailbox here by that name. (#5.1.1)\n\n"
t.ok(bounce and block in bounce[0],
     "2: dash '-', ext 'box', no .qmail-box or .qmail-default: 'Sorry, no mailbox here by that name. (#5.1.1)'")
t.ok(bounce and bounce[0].count(b"\n<") == 1, "2: only bob bounced")
t.is_(q.maildir_messages(os.path.join(bob, "Maildir")), [], "2: nothing in bob's default Maildir")
t.is_(len(q.maildir_messages(os.path.join(carol, "Boxdir"))), 1, "2: carol (ext 'box') -> .qmail-box -> Boxdir")
t.is_(q.maildir_messages(os.path.join(carol, "Maildir")), [], "2: carol: not the default delivery")
t.is_(S.read(os.path.join(dave, "seen")), b"x|x\n", "2: dave (ext 'x') -> .qmail-default, EXT=x DEFAULT=x")
t.is_(len(q.maildir_messages(os.path.join(lister, "Foo"))), 1, "2: +list- wildcard: list-foo -> ext pre-foo -> .qmail-pre-foo")
seen = (S.read(os.path.join(lister, "seen")) or b"").decode().splitlines()
t.ok("pre-bar|bar|list-bar" in seen, "2: list-bar -> ext pre-bar -> .qmail-pre-default, DEFAULT=bar")
t.ok("pre-Baz|Baz|LIST-Baz" in seen,
     "2: LIST-Baz: lowercased lookup, the rest appended as written (ext pre-Baz), safeext finds .qmail-pre-default")
if seen and not all(x in seen for x in ("pre-bar|bar|list-bar", "pre-Baz|Baz|LIST-Baz")):
    t.diag(repr(seen))
t.is_(len(seen), 2, "2: two deliveries through .qmail-pre-default")
t.is_(S.read(os.path.join(short, "seen")), b"s-xy\n", "2: lixy -> the shorter wildcard +li (ext s-xy)")
t.is_(len(q.maildir_messages(os.path.join(special, "Maildir"))), 1, "2: =list-special wins over +list-")

# --- 3. a .qmail with two maildirs, an mbox, a program and a forward -----------
rcpt3 = "joe-list-foo-bar-baz@a.b.c.d.example"
body3 = "Subject: three\n\nFrom here\n>From there\nmiddle\n"
t0 = time.time()
rc = q.queue_message(body3, "snd@" + HOST, [rcpt3, "joe-env-x@localhost", "joe-owned@" + HOST, "joe-verp@" + HOST])
t.is_(rc, 0, "3: qmail-queue exits 0")
ends += 4   # the message, the forwards to fwd, fwd2, fwd3
wait_ends(ends, "3: the message and its three forwards end")
t1 = time.time()

one = q.maildir_messages(os.path.join(joe, "Maildir1"))
two = q.maildir_messages(os.path.join(joe, "Maildir2"))
t.is_(len(one), 1, "3: exactly one copy in Maildir1")
t.is_(len(two), 1, "3: exactly one copy in Maildir2")
dt3 = "Delivered-To: %s\n" % rcpt3
rp3 = "Return-Path: <snd@%s>\n" % HOST
S.match_pieces(t, one[0] if one else None, [(rp3 + dt3).encode(), RECEIVED, body3.encode()], "3: Maildir1 copy: RP, DT, message")
t.is_(two[0] if two else None, one[0] if one else None, "3: Maildir2 has the same bytes")
runs = S.read(os.path.join(joe, "runs.list-foo-bar-baz"))
t.is_(runs, b"run\n", "3: the program ran exactly once")
progmsg = S.read(os.path.join(joe, "msg.list-foo-bar-baz"))
S.match_pieces(t, progmsg, [RECEIVED, body3.encode()], "3: the program's stdin is the message without RP/DT lines")
queued = progmsg or b""

mbox = S.read(os.path.join(joe, "mbox"))
quoted = queued.replace(b"\nFrom here\n", b"\n>From here\n").replace(b"\n>From there\n", b"\n>>From there\n")
S.match_pieces(t, mbox, ["From snd@%s %s\n" % (re.escape(HOST), UFLINE_DATE), (rp3 + dt3).encode(), quoted, b"\n"],
               "3: mbox: UFLINE, RPLINE, DTLINE, the message with >From quoting, one empty line; one copy")

fw = q.maildir_messages(os.path.join(fwd, "Maildir"))
t.is_(len(fw), 1, "3: exactly one copy forwarded to fwd")
S.match_pieces(t, fw[0] if fw else None,
               [S.delivered_prefix("snd@" + HOST, "fwd@" + HOST), RECEIVED, dt3.encode(), queued],
               "3: the forward: new Received, the DTLINE, the message; envelope sender unchanged (no -owner)")

# the log: did_3+1+1 and the forward's qp
res = [g for g in S.log_lines(q, "result") if g[2].startswith("did_3+1+1/")]
t.is_(len(res), 1, "3: delivery D: success: did_3+1+1/qp_N/ (3 files, 1 forward, 1 program)")
m = re.fullmatch(r"did_3\+1\+1/qp_(\d+)/", res[0][2]) if res else None
t.ok(m, "3: the success text is did_3+1+1/qp_N/")
if m:
    infos = [g for g in S.log_lines(q, "info") if g[3] == m.group(1)]
    t.ok(len(infos) == 1 and infos[0][2] == "snd@" + HOST,
         "3: the qp of the success text is the forwarded message's qmail-queue (info msg ... qp N)")

# the environment
envdump = S.read(os.path.join(joe, "env.list-foo-bar-baz")) or b""
env = dict(x.split(b"=", 1) for x in envdump.split(b"\0") if b"=" in x)
env = {k.decode(): v.decode() for k, v in env.items()}
expect = {
    "SENDER": "snd@" + HOST,
    "RECIPIENT": rcpt3,
    "LOCAL": "joe-list-foo-bar-baz",
    "HOST": "a.b.c.d.example",
    "USER": "joe",
    "HOME": joe,
    "EXT": "list-foo-bar-baz",
    "EXT2": "foo-bar-baz",
    "EXT3": "bar-baz",
    "EXT4": "baz",
    "HOST2": "a.b.c.d",
    "HOST3": "a.b.c",
    "HOST4": "a.b",
    "DEFAULT": "foo-bar-baz",
    "DTLINE": dt3,
    "RPLINE": rp3,
    "NEWSENDER": "snd@" + HOST,
}
for k, v in expect.items():
    t.is_(env.get(k), v, "3: the program sees %s=%r" % (k, v))
uf = env.get("UFLINE", "")
m = re.fullmatch(r"From snd@%s (%s)\n" % (re.escape(HOST), UFLINE_DATE), uf)
t.ok(m, "3: UFLINE = 'From snd@%s Www Mmm DD HH:MM:SS YYYY\\n'" % HOST)
if m:
    when = time.mktime(time.strptime(m.group(1), "%a %b %d %H:%M:%S %Y")) - time.mktime(time.gmtime(0))
    t.ok(t0 - 2 <= when <= t1 + 2, "3: UFLINE's date is now, in UTC")
else:
    t.diag(repr(uf))

envx = S.read(os.path.join(joe, "env.env-x")) or b""
envx = {k.decode(): v.decode() for k, v in (x.split(b"=", 1) for x in envx.split(b"\0") if b"=" in x)}
for k, v in {"HOST": "localhost", "HOST2": "localhost", "HOST3": "localhost", "HOST4": "localhost",
             "EXT": "env-x", "EXT2": "x", "EXT3": "", "EXT4": "", "DEFAULT": "x",
             "LOCAL": "joe-env-x", "RECIPIENT": "joe-env-x@localhost"}.items():
    t.is_(envx.get(k), v, "3: joe-env-x@localhost: %s=%r" % (k, v))

# NEWSENDER from -owner and -owner-default, seen by the forwarded copies
f2 = q.maildir_messages(os.path.join(fwd2, "Maildir"))
t.ok(len(f2) == 1 and f2[0].startswith(("Return-Path: <joe-owned-owner@%s>\nDelivered-To: fwd2@%s\n" % (HOST, HOST)).encode()),
     "3: .qmail-owned-owner exists: the forward's envelope sender is joe-owned-owner@host")
f3 = q.maildir_messages(os.path.join(fwd3, "Maildir"))
t.ok(len(f3) == 1 and f3[0].startswith(("Return-Path: <joe-verp-owner-fwd3=%s@%s>\nDelivered-To: fwd3@%s\n"
                                        % (HOST, HOST, HOST)).encode()),
     "3: -owner and -owner-default: VERP sender joe-verp-owner-@host-@[] becomes joe-verp-owner-fwd3=host@host")
verp = [g for g in S.log_lines(q, "info") if g[2] == "joe-verp-owner-@%s-@[]" % HOST]
t.is_(len(verp), 1, "3: info msg ... from <joe-verp-owner-@host-@[]> for the VERP forward")
if not (len(f3) == 1 and f3[0].startswith(b"Return-Path: <joe-verp-owner-fwd3")):
    t.diag(repr(f3[:1]))

# --- Delivered-To loops ------------------------------------------------------------
LOOP = "This message is looping: it already has my Delivered-To line. (#5.4.6)"
A = os.path.join(q.home, "alias")
S.dotqmail(q, A, ".qmail-loop", "loop@%s\n" % HOST)
rc = q.queue_message("Delivered-To: alice@%s\nSubject: loop\n\nbody\n" % HOST, "snd@" + HOST, ["alice@" + HOST])
mid, ds, ended = S.wait_message(t, q, q.last_qp)
t.ok(ds and (ds[0]["result"], ds[0]["text"]) == ("failure", LOOP.replace(" ", "_") + "/"),
     "a message that has alice's Delivered-To line already: failure: This_message_is_looping...")
rc = q.queue_message("Subject: loop2\n\nbody\n", "snd@" + HOST, ["loop@" + HOST])
t.ok(q.wait_until(lambda: len(q.maildir_messages(os.path.join(snd, "Maildir"))) == 3),
     "a .qmail forwarding to itself: the second pass bounces")
b = q.maildir_messages(os.path.join(snd, "Maildir"))
t.ok(sum((("<alice@%s>:\n%s\n\n" % (HOST, LOOP)).encode() in x) for x in b) == 1
     and sum((("<loop@%s>:\n%s\n\n" % (HOST, LOOP)).encode() in x) for x in b) == 1,
     "both bounces say 'This message is looping: it already has my Delivered-To line. (#5.4.6)'")
q.wait_until(q.queue_empty)

rc = q.stop()
t.is_(rc, 0, "qmail-send exits 0 on TERM")
S.check_clean(t, q, "local delivery")
S.check_log(t, q, "local delivery")
t.done()
