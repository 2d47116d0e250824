#!/usr/bin/env python3
"""Local and remote recipients of one message; deliveries in parallel; the
concurrency limit (qmail.md sections 1, 3, 4).

- Preprocessing: info/N = "F{sender}\\0"; local/N and remote/N = one
  "T{recipient}\\0" per recipient of that channel; todo/N and intd/N are
  removed; a done recipient's T becomes D in place; the channel file goes
  when all its recipients are done, the message ("end msg") when both are.
- qmail-rspawn runs $QMAILREMOTE (else qmail-remote) as "qmail-remote host
  sender recipient" with the message on fd 0 (no Return-Path/Delivered-To);
  its report "r\\0" then "K{text}\\0" is a success with that text.
- "status: local l/L remote r/R": L = concurrencylocal (default 10), l the
  deliveries in flight; never more than L at once.
"""
import sys
import os
import re

sys.dont_write_bytecode = True   # no __pycache__ in the source tree
import sendlib as S  # noqa: E402
from sendlib import qs6, qmailrun, HOST, RECEIVED

t = qs6.Tap()
q = S.QmailRun(t.sandbox())
U = S.Users(t, q)
alice = U.home("alice"); U.exact("alice", alice)
U.commit()
A = os.path.join(q.home, "alias")
for x in ("slow", "slowa", "slowb"):
    S.dotqmail(q, A, ".qmail-" + x, "|touch started-%s; while [ ! -f go ]; do sleep 0.02; done\n" % x)
rdir = os.path.join(t.tmp, "remote")
q.mkdir(rdir, 0o755)
fake = os.path.join(t.tmp, "remote-ok")
with open(fake, "w") as f:
    f.write("#!/bin/sh\n"
            "d=%s\n"
            "printf '%%s\\n' \"$@\" > $d/args.$$\n"
            "cat > $d/msg.$$\n"
            "while [ ! -f $d/go ]; do sleep 0.02; done\n"
            "printf 'r\\000K127.0.0.1 accepted message.\\nRemote host said: 250 ok 1 qp 2\\n\\000'\n" % rdir)
os.chmod(fake, 0o755)
q.env["QMAILREMOTE"] = fake
q.start()

# --- one message, local and remote recipients ---------------------------------
msg = "Subject: mixed\n\nbody\n"
REMOTE = "bob@remote.example.net"
t.is_(q.queue_message(msg, "alice@" + HOST, ["slow@" + HOST, "alice@" + HOST, REMOTE]), 0, "queued: two local, one remote")
t.ok(S.wait_file(q, os.path.join(A, "started-slow")), "the slow local delivery runs")
t.ok(q.wait_until(lambda: [x for x in os.listdir(rdir) if x.startswith("msg.")]), "qmail-remote runs")
q.wait_log(r"^delivery \d+: success: did_1\+0\+0/$")
mid = S.log_lines(q, "new")[0][0]
t.is_(S.read(q.queue_path("info", mid)), ("Falice@%s\0" % HOST).encode(), "info/N = F{sender}\\0")
q.wait_until(lambda: S.read(q.queue_path("local", mid)) == ("Tslow@%s\0Dalice@%s\0" % (HOST, HOST)).encode(), 10)
t.is_(S.read(q.queue_path("local", mid)), ("Tslow@%s\0Dalice@%s\0" % (HOST, HOST)).encode(),
      "local/N = the local recipients, the delivered one marked D in place")
t.is_(S.read(q.queue_path("remote", mid)), ("T%s\0" % REMOTE).encode(), "remote/N = the remote recipient")
t.ok(not os.path.exists(q.queue_path("todo", mid)) and not os.path.exists(q.queue_path("intd", mid)),
     "todo/N and intd/N are removed")
st = [g for g in S.log_lines(q, "status")][-1]
t.is_(st[0] + "/" + st[2], "1/1", "status: local 1/10 remote 1/20 while both are in flight")
q.write(os.path.join(A, "go"), "")
q.write(os.path.join(rdir, "go"), "")
q.wait_log(r"^end msg %s$" % mid)
ds = S.deliveries(q)
t.is_(sorted((x["chan"], x["rcpt"]) for x in ds),
      sorted([("local", "slow@" + HOST), ("local", "alice@" + HOST), ("remote", REMOTE)]),
      "starting delivery ... to local / to remote, once per recipient")
r = [x for x in ds if x["chan"] == "remote"]
t.ok(r and (r[0]["result"], r[0]["text"]) == ("success", "127.0.0.1_accepted_message./Remote_host_said:_250_ok_1_qp_2/"),
     "remote: success: 127.0.0.1_accepted_message./Remote_host_said:_250_ok_1_qp_2/")
args = [x for x in os.listdir(rdir) if x.startswith("args.")]
t.is_(S.read(os.path.join(rdir, args[0])) if args else None, ("remote.example.net\nalice@%s\n%s\n" % (HOST, REMOTE)).encode(),
      "qmail-remote's arguments: host, sender, recipient")
rmsg = S.read(os.path.join(rdir, "msg." + args[0].split(".")[1])) if args else None
S.match_pieces(t, rmsg, [RECEIVED, msg.encode()], "qmail-remote's stdin: the queued message, no Return-Path or Delivered-To")
t.is_(len(q.maildir_messages(os.path.join(alice, "Maildir"))), 1, "alice got her copy")
S.check_clean(t, q, "mixed")

# --- two messages in parallel ---------------------------------------------------
os.unlink(os.path.join(A, "go"))
q.queue_message("Subject: a\n\na\n", "alice@" + HOST, ["slowa@" + HOST])
q.queue_message("Subject: b\n\nb\n", "alice@" + HOST, ["slowb@" + HOST])
t.ok(S.wait_file(q, os.path.join(A, "started-slowa")) and S.wait_file(q, os.path.join(A, "started-slowb")),
     "two messages: both deliveries run at once")
st = S.log_lines(q, "status")[-1]
t.is_(st[:4], ("2", "10", "0", "20"), "status: local 2/10 remote 0/20")
q.write(os.path.join(A, "go"), "")
q.wait_log(r"^end msg \d+$", count=3)
t.is_(len([x for x in S.deliveries(q) if x["result"] == "success"]), 5, "both succeed")
S.check_clean(t, q, "parallel")
t.is_(q.stop(), 0, "qmail-send exits 0")

# --- concurrencylocal 1 --------------------------------------------------------------
for x in ("go", "started-slowa", "started-slowb"):
    os.unlink(os.path.join(A, x))
q.control("concurrencylocal", "1\n")
q.restart()
t.is_(S.log_lines(q, "status")[-1][:4], ("0", "1", "0", "20"), "concurrencylocal 1: status: local 0/1 remote 0/20")
q.queue_message("Subject: a\n\na\n", "alice@" + HOST, ["slowa@" + HOST])
q.queue_message("Subject: b\n\nb\n", "alice@" + HOST, ["slowb@" + HOST])
t.ok(q.wait_until(lambda: os.path.exists(os.path.join(A, "started-slowa")) or os.path.exists(os.path.join(A, "started-slowb"))),
     "one delivery runs")
q.wait_log(r"^info msg ", count=5)
# a remote delivery, on the other channel, goes through meanwhile
q.queue_message("Subject: c\n\nc\n", "alice@" + HOST, ["carol@remote.example.net"])
q.wait_log(r"^delivery \d+: success: 127", count=2)
run = [x for x in S.deliveries(q) if x["run"] == 1]
t.is_(len([x for x in run if x["chan"] == "local"]), 1, "the second local delivery waits for a free slot")
q.write(os.path.join(A, "go"), "")
q.wait_log(r"^end msg \d+$", count=6)
lines = q.log().split("\n")
first = [i for i, l in enumerate(lines) if re.match(r"starting delivery \d+: msg \d+ to local slow", l)][-2:]
done1 = [i for i, l in enumerate(lines) if i > first[0] and re.match(r"delivery \d+: success: did_0", l)]
t.ok(len(first) == 2 and done1 and done1[0] < first[1], "it starts after the first one is done")
S.check_clean(t, q, "concurrency 1")
t.is_(q.stop(), 0, "qmail-send exits 0")

# --- qmail-rspawn's reports; the concurrency cap; odd messages ------------------------------
fake2 = os.path.join(t.tmp, "remote-cases")
with open(fake2, "w") as f:
    f.write("#!/bin/sh\n"
            "cat > /dev/null\n"
            "fixed() { [ -f %s/FIX ] && printf 'r\\000Kfixed\\n\\000' && exit 0; }\n"
            "case \"$3\" in\n"
            "ok@*) printf 'r\\000K1.2.3.4 accepted message.\\nRemote host said: 250 ok\\n\\000' ;;\n"
            "hard@*) printf 'h1.2.3.4 does not like recipient.\\nRemote host said: 550 no\\n\\000DGiving up on 1.2.3.4.\\n\\000' ;;\n"
            "soft@*) fixed; printf 'r\\000ZConnected to 1.2.3.4 but greeting failed.\\n\\000' ;;\n"
            "empty@*) fixed; exit 0 ;;\n"
            "die@*) exit 3 ;;\n"
            "crash@*) fixed; kill -9 $$ ;;\n"
            "esac\n" % rdir)
os.chmod(fake2, 0o755)
q.env["QMAILREMOTE"] = fake2
q.control("concurrencylocal", "300\n")
q.control("concurrencyremote", "500\n")
# qmail's one recipient per qmail-remote (the fake answers for "$3" only);
# batches have their own test, tests/remote/batch.t
q.control("remotebatch", "1\n")
q.restart()
t.is_(S.log_lines(q, "status")[-1][:4], ("0", "120", "0", "120"),
      "concurrency 300 and 500 are capped by the spawners' limit: status: local 0/120 remote 0/120")
cases = ["ok", "hard", "soft", "empty", "die", "crash"]
t.is_(q.queue_message("Subject: r\n\nbody\n", "alice@" + HOST, [c + "@remote.example.net" for c in cases]), 0, "queued to 6 remote recipients")
qp = q.last_qp
q.wait_log(r"^delivery \d+: ", count=len(S.log_lines(q, "result")) + 6)
m, ds, ended = S.message(q, qp)
got = {x["rcpt"].split("@")[0]: (x["result"], x["text"]) for x in ds}
t.is_(got.get("ok"), ("success", "1.2.3.4_accepted_message./Remote_host_said:_250_ok/"), "r + K: success, the message text")
t.is_(got.get("hard"), ("failure", "1.2.3.4_does_not_like_recipient./Remote_host_said:_550_no/Giving_up_on_1.2.3.4./"),
      "h + D: failure, the recipient text then the message text")
t.is_(got.get("soft"), ("deferral", "Connected_to_1.2.3.4_but_greeting_failed./"), "r + Z: deferral, the message text")
t.ok(got.get("empty") in (("deferral", "qmail-remote_produced_no_output."), ("deferral", "qmail-remote_produced_no_output./")),
     "no output: deferral: qmail-remote_produced_no_output.")
t.ok(got.get("die") in (("failure", "Unable_to_run_qmail-remote."), ("failure", "Unable_to_run_qmail-remote./")),
     "exit 3: failure: Unable_to_run_qmail-remote.")
t.ok(got.get("crash") in (("deferral", "qmail-remote_crashed."), ("deferral", "qmail-remote_crashed./")),
     "killed: deferral: qmail-remote_crashed.")
if not got.get("empty", ("",))[0] == "deferral":
    t.diag(repr(got))
q.write(os.path.join(rdir, "FIX"), "")
q.signal_taken(14)
m, ds, ended = S.wait_message(t, q, qp)
t.ok(ended and sorted(x["rcpt"].split("@")[0] for x in ds if x["result"] == "success") == ["crash", "empty", "ok", "soft"],
     "ALRM: the deferred remote recipients are retried and succeed")
q.wait_until(lambda: q.maildir_messages(os.path.join(alice, "Maildir"))[1:])
b = q.maildir_messages(os.path.join(alice, "Maildir"))
b = b[1] if len(b) > 1 else b""
t.ok(b"<hard@remote.example.net>:\n1.2.3.4 does not like recipient.\nRemote host said: 550 no\nGiving up on 1.2.3.4.\n\n" in b
     and b"<die@remote.example.net>:\nUnable to run qmail-remote.\n\n" in b and b.count(b"\n<") == 2,
     "one bounce for the two remote failures, with their texts")

t.is_(q.queue_message("Subject: none\n\nbody\n", "alice@" + HOST, []), 0, "a message with no recipients")
m, ds, ended = S.wait_message(t, q, q.last_qp)
t.ok(ended and ds == [], "no recipients: new msg, info msg, end msg, no delivery")
t.is_(q.queue_message("Subject: empty local\n\nbody\n", "alice@" + HOST, ["@" + HOST]), 0, "a message to @host")
m, ds, ended = S.wait_message(t, q, q.last_qp)
t.ok(ended and [(x["chan"], x["rcpt"], x["result"], x["text"]) for x in ds] == [("local", "@" + HOST, "success", "")],
     "an empty local part: success at once, with an empty text")
q.maildirmake(os.path.join(A, "Many"))
S.dotqmail(q, A, ".qmail-many-default", "./Many/\n")
many = ["many-%d@%s" % (i, HOST) for i in range(25)]
t.is_(q.queue_message("Subject: many\n\nbody\n", "alice@" + HOST, many), 0, "a message to 25 local recipients")
m, ds, ended = S.wait_message(t, q, q.last_qp)
t.ok(ended and sorted(x["rcpt"] for x in ds) == sorted(many) and all(x["result"] == "success" for x in ds),
     "each of the 25 recipients is delivered once")
t.is_(len(q.maildir_messages(os.path.join(A, "Many"))), 25, "25 copies")
S.check_clean(t, q, "remote reports")
t.is_(q.stop(), 0, "qmail-send exits 0")

# --- concurrencyremote 0 holds the channel ---------------------------------------------------
q.control("concurrencyremote", "0\n")
q.restart()
t.is_(S.log_lines(q, "status")[-1][2:4], ("0", "0"), "concurrencyremote 0: status: ... remote 0/0")
q.queue_message("Subject: held\n\nbody\n", "alice@" + HOST, ["alice@" + HOST, "ok@remote.example.net"])
qp = q.last_qp
q.wait_until(lambda: [x for x in S.message(q, qp)[1] if x["result"]])
q.signal_taken(14)
q.queue_message("Subject: probe\n\nbody\n", "alice@" + HOST, ["alice@" + HOST])
S.wait_message(t, q, q.last_qp)
m, ds, ended = S.message(q, qp)
t.ok(not ended and [x["chan"] for x in ds] == ["local"], "the local recipient is delivered, the remote one waits (even after ALRM)")
t.is_(q.stop(), 0, "qmail-send exits 0")
rc, out = q.qcheck()
t.is_((rc, out), (0, ""), "qmail-qcheck exits 0 with the held message")
S.check_log(t, q, "mixed")
t.done()
