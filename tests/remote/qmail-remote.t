#!/usr/bin/env python3
"""qmail-remote against real peers (tests/lib/remotepeer.py: dnsmasq and a
scripted SMTP receiver), run directly as qmail-rspawn runs it.

From the reference (qmail.md section 4, qmail-remote):
- report: per recipient r\\0 / h{text}\\0 / s{text}\\0, then K|Z|D{text}\\0;
  texts "{ip} does not like recipient.\\nRemote host said: ...\\n",
  "K{ip} accepted message.\\nRemote host said: 250 ...\\n", "ZConnected to
  {ip} but greeting failed.", "... but my name was rejected.", "D|Z...
  but sender was rejected.", "DGiving up on {ip}.", "D|Z{ip} failed on
  DATA command.", "D|Z{ip} failed after I sent the message.",
  "ZConnected to {ip} but connection died. (#4.4.2)" ("Possible duplicate!
  " after the final dot), "ZSorry, I wasn't able to establish an SMTP
  connection. (#4.4.1)", "ZSorry, I couldn't find any host by that name.
  (#4.1.2)", "DSorry, I couldn't find any host named {host}. (#5.1.2)",
  the ambiguous-MX text (#5.4.6), "DSMTP cannot transfer messages with
  partial final lines. (#5.6.2)"; server text with CR removed;
- smtproutes: host, .suffix, "" catch-all; relay[:port]; empty relay = MX;
- MX: lowest preference first; no MX -> A; an MX that is this machine
  (127.0.0.1 is, 127.0.0.2 is not) and every worse one are skipped;
- data: LF -> CRLF, leading "." doubled, notqmail's bare CR -> CRLF, so
  that no smuggling sequence ends DATA early;
- ours (qmail-remote(8)): EHLO then HELO, STARTTLS (tlsdestinations,
  notlshosts), AUTH PLAIN/LOGIN from smtproutes "|user|pass", SIZE.
"""
import os
import subprocess
import sys

sys.dont_write_bytecode = True   # no __pycache__ in the source tree
sys.path.insert(0, os.path.join(os.environ.get("QS6_SRC", os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                                                      "..", "..")), "tests", "lib"))
import remotepeer as R  # noqa: E402

isolated = R.private_network()    # execs itself once: a network namespace with lo only
import qs6  # noqa: E402

t = qs6.Tap()
if not isolated and os.getuid() != 0:
    qs6.skip_all("needs a network namespace or root (MX hosts listen on 127.0.0.2:25 and up)")
if not R.can_bind("127.0.0.2", 25):
    qs6.skip_all("cannot listen on 127.0.0.2:25")
home = t.sandbox()
TMP = t.tmp


def control(name, text):
    path = os.path.join(home, "control", name)
    if text is None:
        if os.path.exists(path):
            os.unlink(path)
        return
    with open(path, "w") as f:
        f.write(text)


MSG = b"Subject: test\nFrom: a@example.net\n\nbody line\n"
dns = R.Dns(TMP,
            mx={"mx.test": [(10, "mx1.mx.test"), (20, "mx2.mx.test")],
                "ambig.test": [(10, "self.ambig.test"), (20, "mx2.mx.test")],
                "ambig2.test": [(10, "self.ambig.test")],
                "down.test": [(10, "mx3.mx.test"), (20, "mx2.mx.test")],
                "v6only.test": [(10, "v6host.mx.test")]},
            aaaa={"v6host.mx.test": "::1"},
            a={"mx1.mx.test": "127.0.0.3", "mx2.mx.test": "127.0.0.2", "mx3.mx.test": "127.0.0.5",
               "self.ambig.test": "127.0.0.1", "nomx.test": "127.0.0.4"},
            nxdomain=["nx.test"], servfail=["sf.test"])
dns.start()
ENV = dict(os.environ, QMAILHOME=home, DNSCACHEIP=dns.dnscacheip)


def remote(host, recips, msg=MSG, sender="a@example.net", env=None):
    """Runs qmail-remote host sender recips < msg; its report, split at the
    NULs (the last, empty piece dropped), and its exit code."""
    path = os.path.join(TMP, "message")   # a file, as qmail-rspawn gives it
    with open(path, "wb") as f:
        f.write(msg)
    with open(path, "rb") as f:
        p = subprocess.run([os.path.join(home, "bin", "qmail-remote"), host, sender] + list(recips),
                           stdin=f, capture_output=True, env=env or ENV,
                           cwd=os.path.join(home, "queue", "mess"), timeout=60)
    out = p.stdout.decode("latin-1")
    if p.returncode or not out:
        t.diag("qmail-remote %s: exit %d, stderr: %s" % (host, p.returncode, p.stderr.decode("latin-1")[-3000:]))
    pieces = out.split("\0")
    if pieces and pieces[-1] == "":
        pieces.pop()
    return p.returncode, pieces


def check(desc, got, want):
    t.is_(got, want, desc)


peers = []


def peer(host="127.0.0.1", port=0, **script):
    script.setdefault("dot", "250 ok")
    p = R.SmtpPeer(TMP, host=host, port=port, **script).start()
    peers.append(p)
    return p


# --- 1. smtproutes to a peer: the whole session ---------------------------------
p1 = peer()
control("smtproutes", "example.org:127.0.0.1:%d\n" % p1.port)
rc, rep = remote("example.org", ["u1@example.org", "u2@example.org"])
check("1: exit 0, r for each recipient, then K with the server's text",
      (rc, rep), (0, ["r", "r", "K127.0.0.1 accepted message.\nRemote host said: 250 ok\n"]))
s = p1.wait_sessions(1)[-1]
tr = s["transactions"][0] if s["transactions"] else {}
t.is_(s.get("ehlo"), "sandbox.example.test", "1: EHLO with control/me (no helohost)")
t.is_((tr.get("mail_from"), [r["to"] for r in tr.get("rcpts", [])]),
      ("a@example.net", ["u1@example.org", "u2@example.org"]), "1: MAIL FROM and one RCPT TO per recipient")
t.is_(tr.get("mail_params"), "SIZE=%d" % len(MSG), "1: SIZE=n on MAIL, n the size of the message (the peer announces SIZE)")
t.is_(tr.get("data"), MSG.replace(b"\n", b"\r\n"), "1: the message, CRLF line ends")
t.is_(s["commands"][-1] if s["commands"] else None, "QUIT", "1: QUIT at the end")

control("helohost", "helo.example.test\n")
control("smtproutes", ".example.org:127.0.0.1:%d\n:[127.0.0.1]:%d\n" % (p1.port, p1.port))
rc, rep = remote("sub.example.org", ["u@sub.example.org"])
t.is_(rep[-1][:1], "K", "1: a .suffix route")
t.is_(p1.wait_sessions(2)[-1].get("ehlo"), "helo.example.test", "1: EHLO with control/helohost")
rc, rep = remote("other.example", ["u@other.example"])
t.is_(rep[-1][:1], "K", "1: the catch-all route, relay given as [ip]")
control("helohost", None)

# EHLO refused: HELO
p2 = peer(ehlo="502 no ehlo here")
control("smtproutes", ":127.0.0.1:%d\n" % p2.port)
rc, rep = remote("example.org", ["u@example.org"])
s = p2.wait_sessions(1)[-1]
t.ok(rep[-1].startswith("K") and s.get("helo") == "sandbox.example.test", "1: EHLO refused: HELO, delivered")
t.is_(s["transactions"][0]["mail_params"] if s["transactions"] else None, "", "1: after HELO, no SIZE parameter")

# --- 2. every error text ---------------------------------------------------------
cases = [
    ("greeting 554", dict(greeting="554 go away"),
     ["ZConnected to 127.0.0.1 but greeting failed.\nRemote host said: 554 go away\n"]),
    ("EHLO and HELO refused", dict(ehlo="500 what", helo="550 not you"),
     ["ZConnected to 127.0.0.1 but my name was rejected.\nRemote host said: 550 not you\n"]),
    ("MAIL 553", dict(mail="553 sender unwelcome"),
     ["DConnected to 127.0.0.1 but sender was rejected.\nRemote host said: 553 sender unwelcome\n"]),
    ("MAIL 451", dict(mail="451 later"),
     ["ZConnected to 127.0.0.1 but sender was rejected.\nRemote host said: 451 later\n"]),
    ("all RCPTs refused", dict(rcpt="550 no such user"),
     ["h127.0.0.1 does not like recipient.\nRemote host said: 550 no such user\n",
      "DGiving up on 127.0.0.1.\n"]),   # qmail: the RCPT's text went with its own report
    ("DATA 554", dict(data="554 no data"),
     ["r", "D127.0.0.1 failed on DATA command.\nRemote host said: 554 no data\n"]),
    ("DATA 451", dict(data="451 not now"),
     ["r", "Z127.0.0.1 failed on DATA command.\nRemote host said: 451 not now\n"]),
    ("after the dot 554", dict(dot="554 spam"),
     ["r", "D127.0.0.1 failed after I sent the message.\nRemote host said: 554 spam\n"]),
    ("after the dot 452", dict(dot="452 full"),
     ["r", "Z127.0.0.1 failed after I sent the message.\nRemote host said: 452 full\n"]),
    ("dropped at the greeting", dict(greeting=R.DROP),
     ["ZConnected to 127.0.0.1 but connection died. (#4.4.2)\n"]),
    ("dropped after the dot", dict(dot=R.DROP),
     ["r", "ZConnected to 127.0.0.1 but connection died. Possible duplicate! (#4.4.2)\n"]),
    ("multi-line reply, CRs removed", dict(dot=["250-first line", "250 second line"]),
     ["r", "K127.0.0.1 accepted message.\nRemote host said: 250-first line\n250 second line\n"]),
]
for desc, script, want in cases:
    pp = peer(**script)
    control("smtproutes", ":127.0.0.1:%d\n" % pp.port)
    rc, rep = remote("example.org", ["u@example.org"])
    check("2: " + desc, (rc, rep), (0, want))
    pp.stop()

# hostile replies: NUL bytes become '?', the text is cut at 5000 bytes (as
# qmail), and a reply of more than 1 MB (here endless continuation lines)
# is given up on instead of read forever
long_text = "a\0b" + "x" * 6000
pp = peer(greeting={"raw": "554 " + long_text + "\r\n"})
control("smtproutes", ":127.0.0.1:%d\n" % pp.port)
rc, rep = remote("example.org", ["u@example.org"])
said = "ZConnected to 127.0.0.1 but greeting failed.\nRemote host said: "
t.ok(len(rep) == 1 and rep[0].startswith(said) and rep[0][len(said):] == ("554 " + long_text)[:5000].replace("\0", "?"),
     "2: a reply with a NUL and 6000 bytes: NUL shown as ?, text cut at 5000 bytes")
pp.stop()
pp = peer(ehlo={"raw": ("250-" + "y" * 70 + "\r\n") * 16000 + "250 end\r\n"})
control("smtproutes", ":127.0.0.1:%d\n" % pp.port)
check("2: an EHLO reply of more than 1 MB", remote("example.org", ["u@example.org"]),
      (0, ["ZConnected to 127.0.0.1 but its reply was longer than 1 MB. (#4.4.2)\n"]))
pp.stop()

pp = peer(rcpt_for={"bad@example.org": "550 5.1.1 unknown", "later@example.org": "450 4.2.1 busy"})
control("smtproutes", ":127.0.0.1:%d\n" % pp.port)
rc, rep = remote("example.org", ["bad@example.org", "ok@example.org", "later@example.org"])
check("2: per recipient: h for 5xx, r, s for 4xx; the message goes to the accepted one",
      rep, ["h127.0.0.1 does not like recipient.\nRemote host said: 550 5.1.1 unknown\n", "r",
            "s127.0.0.1 does not like recipient.\nRemote host said: 450 4.2.1 busy\n",
            "K127.0.0.1 accepted message.\nRemote host said: 250 ok\n"])
pp.stop()

port = R.free_port()
control("smtproutes", ":127.0.0.1:%d\n" % port)
check("2: connection refused", remote("example.org", ["u@example.org"]),
      (0, ["ZSorry, I wasn't able to establish an SMTP connection. (#4.4.1)\n"]))
control("smtproutes", ":127.0.0.1:%d\n" % p1.port)
check("2: partial final line", remote("example.org", ["u@example.org"], msg=b"Subject: x\n\nno newline")[1][-1],
      "DSMTP cannot transfer messages with partial final lines. (#5.6.2)\n")
check("2: invoked improperly", remote("example.org", [])[1],
      ["DI (qmail-remote) was invoked improperly. (#5.3.5)\n"])

# --- 3. dots, bare CRs and smuggling sequences ---------------------------------------
p3 = peer()
control("smtproutes", ":127.0.0.1:%d\n" % p3.port)
body = (b"Subject: smuggle\n\n.\n..two\n.leading dot\nbare\rCR\n"
        b"a\n.\nMAIL FROM:<evil@example.com>\n"
        b"b\n.\r\nc\r.\r\nd\r\n.\r\ne\r\n.\nf\n.\rg\n")
rc, rep = remote("example.org", ["u@example.org"], msg=body)
t.is_(rep[-1][:1], "K", "3: the message with every smuggling sequence is accepted")
sess = p3.wait_sessions(1)[-1]
t.is_(len(sess["transactions"]), 1, "3: the peer saw exactly one transaction")
t.ok(all(x != "MAIL FROM:<evil@example.com>" for x in sess["commands"]), "3: no smuggled command")
want = (b"Subject: smuggle\r\n\r\n..\r\n...two\r\n..leading dot\r\nbare\r\nCR\r\n"
        b"a\r\n..\r\nMAIL FROM:<evil@example.com>\r\n"
        b"b\r\n..\r\nc\r\n..\r\nd\r\n..\r\ne\r\n..\r\nf\r\n..\r\ng\r\n")
t.is_(sess["transactions"][0]["data_raw"] if sess["transactions"] else None, want,
      "3: on the wire: CRLF everywhere (bare CR too), every leading dot doubled")

# --- 4. MX records from dnsmasq --------------------------------------------------------
control("smtproutes", None)
mx1 = peer("127.0.0.3", 25)
mx2 = peer("127.0.0.2", 25)
rc, rep = remote("mx.test", ["u@mx.test"])
t.is_(rep[-1], "K127.0.0.3 accepted message.\nRemote host said: 250 ok\n", "4: the lowest preference first (127.0.0.3)")
mx1.stop()
rc, rep = remote("mx.test", ["u@mx.test"])
t.is_(rep[-1], "K127.0.0.2 accepted message.\nRemote host said: 250 ok\n", "4: the best one down: the next preference")
a4 = peer("127.0.0.4", 25)
rc, rep = remote("nomx.test", ["u@nomx.test"])
t.is_(rep[-1], "K127.0.0.4 accepted message.\nRemote host said: 250 ok\n", "4: no MX: the A record")
rc, rep = remote("ambig.test", ["u@ambig.test"])
t.is_(rep, ["DSorry. Although I'm listed as a best-preference MX or A for that host,\n"
            "it isn't in my control/locals file, so I don't treat it as local. (#5.4.6)\n"],
      "4: the best MX is this machine (127.0.0.1): ambiguous MX, even with a worse one elsewhere")
check("4: NXDOMAIN", remote("nx.test", ["u@nx.test"])[1],
      ["DSorry, I couldn't find any host named nx.test. (#5.1.2)\n"])
check("4: SERVFAIL", remote("sf.test", ["u@sf.test"])[1],
      ["ZSorry, I couldn't find any host by that name. (#4.1.2)\n"])
check("4: a name that is not in the DNS at all", remote("nowhere.test", ["u@nowhere.test"])[1],
      ["DSorry, I couldn't find any host named nowhere.test. (#5.1.2)\n"])
control("smtproutes", "relay.example:mx2.mx.test\n")
rc, rep = remote("relay.example", ["u@relay.example"])
t.is_(rep[-1][:10], "K127.0.0.2", "4: a relay by name: its A record")
control("smtproutes", "relay.example:\n")
check("4: an empty relay: the normal MX lookup", remote("relay.example", ["u@relay.example"])[1],
      ["DSorry, I couldn't find any host named relay.example. (#5.1.2)\n"])
control("smtproutes", None)

# --- 4b. IPv6 ------------------------------------------------------------------------
AMBIG = ("DSorry. Although I'm listed as a best-preference MX or A for that host,\n"
         "it isn't in my control/locals file, so I don't treat it as local. (#5.4.6)\n")
if R.can_bind("::1", 0):
    p6a = peer("::1")
    control("smtproutes", "v6.example:[::1]:%d\n" % p6a.port)
    rc, rep = remote("v6.example", ["u@v6.example"])
    t.is_(rep, ["r", "K::1 accepted message.\nRemote host said: 250 ok\n"], "4b: an IPv6 relay in brackets")
    control("smtproutes", None)
    p6a.stop()
    # ::1 is this machine's (the only IPv6 address of lo): without the AAAA
    # lookup this would be "no mail exchanger or IP address" (#5.4.4)
    t.is_(remote("v6only.test", ["u@v6only.test"])[1], [AMBIG],
          "4b: an MX with only an AAAA record is looked up (here: this machine, so ambiguous)")
    t.is_(remote("[IPv6:::1]", ["u@[IPv6:::1]"])[1], [AMBIG], "4b: the literal [IPv6:::1] is this machine too")
else:
    t.skip("no IPv6 loopback here")
    t.skip("no IPv6 loopback here")
    t.skip("no IPv6 loopback here")

# --- 5. STARTTLS ------------------------------------------------------------------------
p5 = peer(tls=True)
control("smtproutes", ":127.0.0.1:%d\n" % p5.port)
rc, rep = remote("example.org", ["u@example.org"])
s = p5.wait_sessions(1)[-1]
t.ok(rep[-1].startswith("K") and s["tls"], "5: the peer offers STARTTLS: the message goes over TLS")
t.is_([c.split()[0] for c in s["commands"][:3]], ["EHLO", "STARTTLS", "EHLO"], "5: EHLO, STARTTLS, EHLO again")
control("notlshosts", "example.org\n")
rc, rep = remote("example.org", ["u@example.org"])
s = p5.wait_sessions(2)[-1]
t.ok(rep[-1].startswith("K") and not s["tls"], "5: control/notlshosts: no STARTTLS")
control("notlshosts", None)
control("tlsdestinations", "example.org:verify:%s\n" % p5.cert)
rc, rep = remote("example.org", ["u@example.org"])
s = p5.wait_sessions(3)[-1]
t.ok(rep[-1].startswith("K") and s["tls"], "5: tlsdestinations with verify against the peer's certificate")
control("smtproutes", ":[127.0.0.1]:%d\n" % p5.port)
rc, rep = remote("example.org", ["u@example.org"])
t.ok(rep[-1].startswith("K") and p5.wait_sessions(4)[-1]["tls"],
     "5: verify with the relay written [127.0.0.1]: the certificate names the address")
control("smtproutes", ":127.0.0.1:%d\n" % p5.port)
os.makedirs(os.path.join(TMP, "othercert"))
other = R.make_cert(os.path.join(TMP, "othercert"), "other.example.test")[0]
control("tlsdestinations", "example.org:verify:%s\n" % other)
rc, rep = remote("example.org", ["u@example.org"])
t.ok(rep[-1].startswith("ZConnected to 127.0.0.1 but the TLS handshake failed: "),
     "5: verify against another authority: the handshake fails, deferred")
p5.wait_sessions(5)
t.is_(len(p5.sessions()), 5, "5: ... and it is not retried in the clear")
plain = peer()
control("smtproutes", ":127.0.0.1:%d\n" % plain.port)
control("tlsdestinations", ".org\n")
check("5: TLS required, the peer does not offer it", remote("example.org", ["u@example.org"])[1],
      ["ZConnected to 127.0.0.1 but it does not offer STARTTLS.\n"])
t.is_(plain.wait_sessions(1)[-1]["transactions"], [], "5: ... and nothing was sent")
control("tlsdestinations", None)

# --- 6. AUTH ----------------------------------------------------------------------------
p6 = peer(auth={"user": "joe", "password": "s3cret", "mechanisms": ["PLAIN", "LOGIN"]}, require_auth=True)
control("smtproutes", ":127.0.0.1:%d|joe|s3cret\n" % p6.port)
check("6: a password in a file others can read is refused", remote("example.org", ["u@example.org"])[1],
      ["ZRefusing the password in control/smtproutes: the file is readable by others "
       "(make it mode 0600, owner qmailr). (#4.3.0)\n"])
t.is_(p6.connections(), 0, "6: ... before any connection")
os.chmod(os.path.join(home, "control", "smtproutes"), 0o600)
rc, rep = remote("example.org", ["u@example.org"])
s = p6.wait_sessions(1)[-1]
t.ok(rep[-1].startswith("K") and s["auth"] and s["auth_attempts"][0]["mechanism"] == "PLAIN",
     "6: AUTH PLAIN with the credentials of smtproutes")
p6.set_script(auth={"user": "joe", "password": "s3cret", "mechanisms": ["LOGIN"]})
rc, rep = remote("example.org", ["u@example.org"])
s = p6.wait_sessions(2)[-1]
t.ok(rep[-1].startswith("K") and s["auth_attempts"] and s["auth_attempts"][0]["mechanism"] == "LOGIN",
     "6: AUTH LOGIN when only LOGIN is offered")
control("smtproutes", ":127.0.0.1:%d|joe|wrong\n" % p6.port)
os.chmod(os.path.join(home, "control", "smtproutes"), 0o600)
rc, rep = remote("example.org", ["u@example.org"])
t.ok(rep[-1].startswith("ZConnected to 127.0.0.1 but authentication was rejected.\nRemote host said: 535"),
     "6: a wrong password defers: authentication was rejected")
control("smtproutes", ":127.0.0.1:%d\n" % p6.port)
control("authsenders", "a@example.net:127.0.0.1:%d|joe|s3cret\n" % p6.port)
os.chmod(os.path.join(home, "control", "authsenders"), 0o600)
rc, rep = remote("example.org", ["u@example.org"])
t.ok(rep[-1].startswith("K"), "6: control/authsenders gives the credentials for this sender")
control("authsenders", None)
rc, rep = remote("example.org", ["u@example.org"])
t.ok(rep[-1].startswith("ZConnected to 127.0.0.1 but sender was rejected.") or
     rep[-1].startswith("DConnected to 127.0.0.1 but sender was rejected."),
     "6: without credentials the peer refuses MAIL")

for pp in peers:
    pp.stop()
dns.stop()
t.done()
