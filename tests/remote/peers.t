#!/usr/bin/env python3
"""The peers of the qmail-remote tests (tests/lib/remotepeer.py and
smtppeer.py) do what those tests will rely on, checked with clients that
are not ours: swaks, Python's ssl, DNS queries built by hand.

- Dns: MX records with their preferences, A (several per name), AAAA,
  CNAME, NOERROR without data for a host that has no MX, NXDOMAIN for a
  listed domain and for any name it was not given, SERVFAIL at once for a
  listed domain, and nothing forwarded anywhere else;
- SmtpPeer: a plain delivery on 127.0.0.2:25 recorded exactly; EHLO
  refused and HELO used instead; multi-line replies; per-recipient 4xx and
  5xx; STARTTLS with its own certificate (verified by the client, and
  refused by a client trusting another) and a different EHLO list after
  it; AUTH PLAIN (with and without initial response) and LOGIN, good and
  bad, and AUTH required before MAIL; the end of DATA is "\\r\\n.\\r\\n" only,
  so every smuggling sequence stays inside the message; dropped and
  stalled stages; raw and delayed replies; scripts per session and changed
  between sessions; several addresses on one port, and ::1; open sessions
  logged when the peer stops;
- Blackhole: a connect to it times out; a port without listener refuses.

The test runs in a network namespace of its own when it can (no packet can
leave the machine, and port 25 needs no privilege there)."""

import base64
import os
import socket
import ssl
import subprocess
import sys
import time
import traceback

sys.dont_write_bytecode = True   # no __pycache__ in the source tree
sys.path.insert(0, os.path.join(os.environ.get("QS6_SRC", os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                                                      "..", "..")), "tests", "lib"))
import remotepeer as R  # noqa: E402

isolated = R.private_network()    # execs itself once; before the Tap makes its tmp dir
import qs6  # noqa: E402

t = qs6.Tap()
t.diag("in a network namespace of its own" if isolated else "on the machine's loopback (no namespaces here)")
PORT25 = R.can_bind("127.0.0.2", 25)
MX_PORT = 25 if PORT25 else 0
TIMEOUT = 5     # for anything that answers at once on loopback


def section(fn):
    """Runs one part of the test; an exception (a peer that never answers,
    say) is a failed test, and the next part still runs."""
    try:
        fn()
    except Exception:
        t.ok(False, "%s: ran to its end" % fn.__name__)
        t.diag(traceback.format_exc())
    return fn


def sessions(peer, n, desc):
    """The first n sessions of peer by connection number, once they have
    ended (fewer, with a diag, if they do not end in time)."""
    try:
        got = peer.wait_sessions(n, timeout=TIMEOUT * 3)
    except TimeoutError as e:
        t.diag("%s: %s\n%s" % (desc, e, peer.diagnostics()))
        got = peer.sessions()
    return sorted(got, key=lambda s: s["n"])[:n]


def one_session(peer, desc):
    got = sessions(peer, 1, desc)
    return got[0] if got else None


# =============================================================================
# DNS
# =============================================================================

@section
def dns():
    dns = R.Dns(t.tmp,
                mx={"example.test": [(20, "mx2.example.test"), (10, "mx1.example.test")],
                    "equal.test": [(5, "mx1.example.test"), (5, "mx2.example.test")]},
                a={"mx1.example.test": "127.0.0.2", "mx2.example.test": ["127.0.0.3", "127.0.0.4"],
                   "aonly.test": "127.0.0.5"},
                aaaa={"mx1.example.test": "::1", "six.test": "2001:db8::25"},
                cname={"alias.test": "aonly.test"},
                nxdomain=["nx.test"], servfail=["sf.test"])
    with dns:
        t.is_(dns.dnscacheip, "127.0.0.1:%d" % dns.port, "Dns: dnscacheip is ip:port on 127.0.0.1")
        t.ok(dns.port > 1024, "Dns: a high port (%d)" % dns.port)

        r = dns.query("example.test", "MX")
        t.is_((r.rcode, sorted(r.values("MX"))), (0, [(10, "mx1.example.test"), (20, "mx2.example.test")]),
              "Dns: MX records with their preferences")
        t.is_(sorted(dns.query("equal.test", "MX").values("MX")), [(5, "mx1.example.test"), (5, "mx2.example.test")],
              "Dns: two MX of equal preference")
        r = dns.query("mx2.example.test", "A")
        t.is_((r.rcode, sorted(r.values("A"))), (0, ["127.0.0.3", "127.0.0.4"]), "Dns: a name with two A records")
        t.is_(dns.query("mx1.example.test", "A").values("A"), ["127.0.0.2"], "Dns: one A record")
        t.is_(dns.query("six.test", "AAAA").values("AAAA"), ["2001:db8::25"], "Dns: AAAA record")
        t.is_(dns.query("mx1.example.test", "AAAA").values("AAAA"), ["::1"], "Dns: A and AAAA on one name")
        r = dns.query("aonly.test", "MX")
        t.is_((r.rcode, r.answers), (0, []), "Dns: MX of a host with only an A: NOERROR, no answer (A fallback)")
        r = dns.query("six.test", "A")
        t.is_((r.rcode, r.answers), (0, []), "Dns: A of an AAAA-only host: NOERROR, no answer")
        r = dns.query("alias.test", "A")
        t.is_((r.rcode, r.answers),
              (0, [("alias.test", "CNAME", "aonly.test"), ("aonly.test", "A", "127.0.0.5")]),
              "Dns: CNAME, with its target's A")
        r = dns.query("alias.test", "MX")
        t.is_((r.rcode, r.answers), (0, [("alias.test", "CNAME", "aonly.test")]), "Dns: MX query on a CNAME")
        t.is_(dns.query("nx.test", "MX").rcode, R.NXDOMAIN, "Dns: NXDOMAIN (rcode 3) for a listed domain")
        t.is_(dns.query("host.nx.test", "A").rcode, R.NXDOMAIN, "Dns: ... and its subdomains")
        t.is_(dns.query("not-given.example.org", "MX").rcode, R.NXDOMAIN, "Dns: NXDOMAIN for a name never given")

        t0 = time.monotonic()
        rcodes = [dns.query(n, q).rcode for n, q in (("sf.test", "MX"), ("mx.sf.test", "A"), ("sf.test", "MX"))]
        took = time.monotonic() - t0
        t.is_(rcodes, [R.SERVFAIL] * 3, "Dns: SERVFAIL (rcode 2) for a listed domain and its subdomains, every time")
        t.ok(took < 2, "Dns: SERVFAIL comes at once (%.3fs for 3 queries)" % took)
        names = sorted(set(dns.responder.queries))
        t.ok(names and all(n == "sf.test" or n.endswith(".sf.test") for n, _ in names),
             "Dns: only the SERVFAIL domains reach the SERVFAIL responder: %r" % names)
        with open(dns.log) as f:
            forwarded = [line.rstrip() for line in f if " forwarded " in line]
        where = " to 127.0.0.1#%d" % dns.responder.port
        t.ok(forwarded and all(line.endswith(where) for line in forwarded),
             "Dns: dnsmasq forwarded nothing but to the SERVFAIL responder (%d forwards)" % len(forwarded))
    try:
        R.dns_query("127.0.0.1", dns.port, "example.test", "MX", timeout=0.5)
        t.ok(False, "Dns: stop() stops dnsmasq")
    except TimeoutError:
        t.ok(True, "Dns: stop() stops dnsmasq")


# =============================================================================
# SMTP through swaks
# =============================================================================

MESSAGE = "From: sender@example.test\nTo: rcpt@example.test\nSubject: peers\n\nline 1\n.line with a dot"
# What swaks sends for MESSAGE (it adds "\r\n." and the CRLF after it):
# CRLF line ends, the dot doubled.
MESSAGE_WIRE = (b"From: sender@example.test\r\nTo: rcpt@example.test\r\nSubject: peers\r\n\r\n"
                b"line 1\r\n..line with a dot\r\n")
MESSAGE_UNSTUFFED = MESSAGE_WIRE.replace(b"\n..", b"\n.")


def hostname_in_files():
    """swaks looks its host name up (gethostbyname): outside a namespace of
    our own, that must be answered by /etc/hosts, never by a DNS server."""
    r = subprocess.run(["getent", "-s", "files", "hosts", socket.gethostname()],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=10)
    return r.returncode == 0


def swaks(peer, *args, to="rcpt@example.test"):
    """Runs swaks against peer; (exit code, transcript)."""
    cmd = ["swaks", "--server", peer.host, "--port", str(peer.port), "--helo", "client.example.test",
           "--from", "sender@example.test", "--to", to, "--data", MESSAGE, "--timeout", str(TIMEOUT)] + list(args)
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=TIMEOUT * 6)
    return r.returncode, r.stdout


def swaks_ok(rc, out, desc):
    if not t.ok(rc == 0, desc + ": swaks exits 0"):
        t.diag(out)


def plain():
    """A plain delivery, on 127.0.0.2:25 where qmail-remote will find its MX."""
    with R.SmtpPeer(t.tmp, host="127.0.0.2", port=MX_PORT) as peer:
        if PORT25:
            t.is_((peer.host, peer.port), ("127.0.0.2", 25), "plain: peer on 127.0.0.2:25")
        else:
            t.skip("port 25: neither root nor a namespace of our own; 127.0.0.2:%d instead" % peer.port)
        rc, out = swaks(peer)
        swaks_ok(rc, out, "plain")
        s = one_session(peer, "plain")
        tr = s["transactions"]
        t.is_(s["commands"], ["EHLO client.example.test", "MAIL FROM:<sender@example.test>",
                              "RCPT TO:<rcpt@example.test>", "DATA", "QUIT"], "plain: the commands in order")
        t.is_(s["ehlo"], "client.example.test", "plain: the EHLO name")
        t.is_([(x["mail_from"], x["mail_reply"], [(r["to"], r["reply"]) for r in x["rcpts"]]) for x in tr],
              [("sender@example.test", "250 2.1.0 sender ok", [("rcpt@example.test", "250 2.1.5 recipient ok")])],
              "plain: the envelope, with each reply")
        t.is_(tr[0].get("data_raw"), MESSAGE_WIRE, "plain: DATA's raw bytes (the dot doubled)")
        t.is_(tr[0].get("data"), MESSAGE_UNSTUFFED, "plain: the message, dot-unstuffed")
        t.is_(tr[0].get("dot_reply"), "250 2.0.0 ok: queued as 1", "plain: the reply after the dot")
        t.ok(s["raw"].startswith(b"EHLO client.example.test\r\nMAIL FROM:<sender@example.test>\r\n")
             and s["raw"].endswith(b"\r\n.\r\nQUIT\r\n"), "plain: the raw bytes received")
        t.is_((s["tls"], s["auth"], s["ended"]), (False, None, "quit"), "plain: no TLS, no AUTH, ended by QUIT")
        t.is_(s["local"], ["127.0.0.2", peer.port], "plain: the address the client reached")
        t.is_(peer.connections(), 1, "plain: one connection counted")


def ehlo_refused():
    """EHLO refused: swaks, as qmail-remote must, says HELO instead."""
    with R.SmtpPeer(t.tmp, host="127.0.0.2", ehlo="502 5.5.2 EHLO not here") as peer:
        rc, out = swaks(peer)
        swaks_ok(rc, out, "EHLO->HELO")
        s = one_session(peer, "EHLO->HELO")
        t.is_(s["commands"][:2], ["EHLO client.example.test", "HELO client.example.test"],
              "EHLO->HELO: EHLO refused, then HELO")
        t.is_(s["replies"][1:3], ["502 5.5.2 EHLO not here", "250 peer.example.test"],
              "EHLO->HELO: the scripted refusal, then HELO's 250")
        t.is_((s["ehlo"], s["helo"], len(peer.messages())), ("client.example.test", "client.example.test", 1),
              "EHLO->HELO: the message arrives after HELO")


def multiline():
    greeting = ["220-peer.example.test first line", "220-second line", "220 third line"]
    with R.SmtpPeer(t.tmp, host="127.0.0.2", greeting=greeting,
                    mail=["250-2.1.0 sender", "250 2.1.0 ok"], dot="250-queued\n250 as 42") as peer:
        rc, out = swaks(peer)
        swaks_ok(rc, out, "multi-line")
        t.ok("<-  220-second line" in out and "<-  250 as 42" in out, "multi-line: swaks saw every line")
        s = one_session(peer, "multi-line")
        t.is_(s["replies"][0], "\n".join(greeting), "multi-line: greeting recorded")
        t.is_((s["transactions"][0]["mail_reply"], s["transactions"][0]["dot_reply"]),
              ("250-2.1.0 sender\n250 2.1.0 ok", "250-queued\n250 as 42"), "multi-line: MAIL and dot replies")


def per_rcpt():
    with R.SmtpPeer(t.tmp, host="127.0.0.2",
                    rcpt_for={"later@example.test": "451 4.2.1 try again later",
                              "gone@example.test": ["550-5.1.1 no such user", "550 5.1.1 really"]}) as peer:
        rc, out = swaks(peer, to="later@example.test,gone@example.test,ok@example.test")
        s = one_session(peer, "per-RCPT")
        tr = s["transactions"][0]
        t.is_([(r["to"], r["reply"]) for r in tr["rcpts"]],
              [("later@example.test", "451 4.2.1 try again later"),
               ("gone@example.test", "550-5.1.1 no such user\n550 5.1.1 really"),
               ("ok@example.test", "250 2.1.5 recipient ok")], "per-RCPT: 4xx, multi-line 5xx, default 250")
        t.ok("451 4.2.1" in out and "550 5.1.1 really" in out, "per-RCPT: swaks got them")
        t.is_(tr.get("data"), MESSAGE_UNSTUFFED, "per-RCPT: the message for the one accepted")


def starttls():
    """STARTTLS with a certificate made for the peer; the EHLO list changes."""
    with R.SmtpPeer(t.tmp, host="127.0.0.2", tls=True, caps=["STARTTLS", "SIZE 1000000"],
                    caps_tls=["AUTH PLAIN LOGIN", "SIZE 2000000"], auth={"user": "u", "password": "p"}) as peer:
        t.ok(os.path.isfile(peer.cert) and os.path.isfile(peer.key), "STARTTLS: cert and key made in the tmp dir")
        rc, out = swaks(peer, "-tls", "--tls-verify", "--tls-ca-path", peer.cert)
        swaks_ok(rc, out, "STARTTLS")
        t.ok("=== TLS started" in out, "STARTTLS: swaks verified the certificate and started TLS")
        s = one_session(peer, "STARTTLS")
        t.is_((s["tls"], s["commands"][:3]), (True, ["EHLO client.example.test", "STARTTLS",
                                                      "EHLO client.example.test"]),
              "STARTTLS: EHLO, STARTTLS, EHLO again under TLS")
        t.is_(s["replies"][1], "250-peer.example.test\n250-STARTTLS\n250 SIZE 1000000",
              "STARTTLS: the EHLO list before TLS")
        t.is_(s["replies"][3], "250-peer.example.test\n250-AUTH PLAIN LOGIN\n250 SIZE 2000000",
              "STARTTLS: another EHLO list under TLS")
        t.ok(s["tls_version"] in ("TLSv1.2", "TLSv1.3"), "STARTTLS: %s" % s["tls_version"])
        t.is_(len(peer.messages()), 1, "STARTTLS: the message arrived under TLS")
        other_dir = os.path.join(t.tmp, "other-ca")
        os.mkdir(other_dir)
        other_cert, _ = R.make_cert(other_dir, "other.example.test", ["127.0.0.2"])
        rc, out = swaks(peer, "-tls", "--tls-verify", "--tls-ca-path", other_cert)
        t.ok(rc != 0 and "=== TLS started" not in out,
             "STARTTLS: a client trusting another certificate refuses the peer (rc %d)" % rc)


def auth():
    with R.SmtpPeer(t.tmp, host="127.0.0.2", auth={"user": "qmailr@example.test", "password": "s3cr3t pw"}) as peer:
        cases = [("PLAIN", "s3cr3t pw", True), ("PLAIN", "wrong", False),
                 ("LOGIN", "s3cr3t pw", True), ("LOGIN", "wrong", False)]
        for n, (mech, pw, good) in enumerate(cases, 1):
            desc = "AUTH %s %s" % (mech, "good" if good else "bad")
            rc, out = swaks(peer, "-a", mech, "-au", "qmailr@example.test", "-ap", pw)
            s = sessions(peer, n, desc)[n - 1]
            attempt = s["auth_attempts"][0] if s["auth_attempts"] else {}
            t.is_((attempt.get("mechanism"), attempt.get("user"), attempt.get("password"), attempt.get("ok")),
                  (mech, "qmailr@example.test", pw, good), desc + ": the credentials the client sent, checked")
            expect = "235 2.7.0 authentication successful" if good else "535 5.7.8 authentication credentials invalid"
            t.ok(expect in s["replies"], desc + ": " + expect[:3])
            t.is_((s["auth"], rc == 0), ("qmailr@example.test" if good else None, good),
                  desc + ": identity recorded; swaks " + ("succeeds" if good else "fails"))
        first = sessions(peer, 1, "AUTH PLAIN")[0]
        t.ok(any(c.startswith("AUTH PLAIN ") for c in first["commands"]), "AUTH PLAIN: swaks sent an initial response")


if isolated or hostname_in_files():
    for part in (plain, ehlo_refused, multiline, per_rcpt, starttls, auth):
        section(part)
else:
    t.skip("swaks: our host name is not in /etc/hosts and we are not in a namespace of our own: "
           "swaks would ask the machine's DNS server")


# =============================================================================
# SMTP through a bare client, for the exact bytes
# =============================================================================

class Client:
    """An SMTP client on a plain socket, sending exactly what it is given."""

    def __init__(self, host, port):
        self.sock = socket.create_connection((host, port), timeout=TIMEOUT)
        self.buf = b""

    def send(self, data):
        self.sock.sendall(data if isinstance(data, bytes) else data.encode("latin-1"))

    def reply(self):
        """One complete reply (its lines joined by "\\n"), "" on EOF;
        socket.timeout when the peer says nothing."""
        lines = []
        while True:
            while b"\r\n" not in self.buf:
                more = self.sock.recv(65536)
                if not more:
                    return "\n".join(lines)
                self.buf += more
            line, self.buf = self.buf.split(b"\r\n", 1)
            lines.append(line.decode("latin-1"))
            if len(line) < 4 or line[3:4] != b"-":
                return "\n".join(lines)

    def silent(self, seconds=0.5):
        """True if the peer says nothing for that long."""
        self.sock.settimeout(seconds)
        try:
            self.reply()
            return False
        except socket.timeout:
            return True
        finally:
            self.sock.settimeout(TIMEOUT)

    def cmd(self, line):
        self.send(line + "\r\n")
        return self.reply()

    def starttls(self, cafile, name):
        ctx = ssl.create_default_context(cafile=cafile)
        self.sock = ctx.wrap_socket(self.sock, server_hostname=name)

    def close(self):
        self.sock.close()


# SMTP smuggling: none of these ends DATA; only CRLF . CRLF does.
SMUGGLING = (b"Subject: smuggling\r\n\r\n"
             b"a\n.\nb\n.\r\nc\r.\r\nd\r.\re\r\n.\nf\r\n.\rg\n.\rh\r\n.x\r\n"
             b"\n.\r\nMAIL FROM:<evil@example.test>\r\nRCPT TO:<victim@example.test>\r\nDATA\r\n"
             b"..leading dot\r\n")
# The CRLF-delimited lines that start with a dot (".\nf", ".\rg\n.\rh", ".x",
# "..leading dot") each lose that one dot, and no other dot goes.
SMUGGLING_UNSTUFFED = (b"Subject: smuggling\r\n\r\n"
                       b"a\n.\nb\n.\r\nc\r.\r\nd\r.\re\r\n\nf\r\n\rg\n.\rh\r\nx\r\n"
                       b"\n.\r\nMAIL FROM:<evil@example.test>\r\nRCPT TO:<victim@example.test>\r\nDATA\r\n"
                       b".leading dot\r\n")


@section
def smuggling():
    with R.SmtpPeer(t.tmp, host="127.0.0.2") as peer:
        c = Client(peer.host, peer.port)
        greet = c.reply()
        replies = [c.cmd("HELO client"), c.cmd("MAIL FROM:<a@example.test>"), c.cmd("RCPT TO:<b@example.test>"),
                   c.cmd("DATA")]
        c.send(SMUGGLING)
        t.ok(c.silent(), "smuggling: no reply while only smuggling sequences have been sent")
        c.send(b".\r\n")
        dot = c.reply()
        after = c.cmd("QUIT")
        c.close()
        t.is_((greet[:3], [r[:3] for r in replies], dot[:3], after[:3]),
              ("220", ["250", "250", "250", "354"], "250", "221"), "smuggling: one DATA, one final reply, then QUIT")
        s = one_session(peer, "smuggling")
        t.is_(len(s["transactions"]), 1, "smuggling: one transaction, no smuggled one")
        tr = s["transactions"][0]
        t.is_(tr.get("data_raw"), SMUGGLING, "smuggling: every byte up to CRLF . CRLF is in the message")
        t.is_(tr.get("data"), SMUGGLING_UNSTUFFED, "smuggling: a dot removed only where it starts a CRLF line")
        t.is_(s["commands"], ["HELO client", "MAIL FROM:<a@example.test>", "RCPT TO:<b@example.test>", "DATA", "QUIT"],
              "smuggling: the smuggled commands were never commands")


@section
def empty_message():
    """The dot right after DATA, and QUIT pipelined behind it."""
    with R.SmtpPeer(t.tmp) as peer:
        c = Client(peer.host, peer.port)
        c.reply()
        for line in ("HELO c", "MAIL FROM:<>", "RCPT TO:<b@example.test>", "DATA"):
            c.cmd(line)
        c.send(b".\r\nQUIT\r\n")
        got = (c.reply()[:3], c.reply()[:3])
        c.close()
        s = one_session(peer, "empty message")
        t.is_((got, s["transactions"][0].get("data_raw"), s["transactions"][0]["mail_from"]),
              (("250", "221"), b"", ""), "empty message, null sender, pipelined QUIT")


@section
def auth_by_hand():
    """AUTH PLAIN without initial response; bad base64; AUTH before MAIL."""
    with R.SmtpPeer(t.tmp, auth={"user": "u", "password": "p", "mechanisms": ["PLAIN"]}, require_auth=True) as peer:
        c = Client(peer.host, peer.port)
        c.reply()
        ehlo = c.cmd("EHLO c")
        mail = c.cmd("MAIL FROM:<a@example.test>")
        login = c.cmd("AUTH LOGIN")
        challenge = c.cmd("AUTH PLAIN")
        bad64 = c.cmd("not base64!")
        c.cmd("AUTH PLAIN")
        ok = c.cmd(base64.b64encode(b"\0u\0p").decode())
        mail2 = c.cmd("MAIL FROM:<a@example.test>")
        c.cmd("QUIT")
        c.close()
        t.ok(ehlo.endswith("\n250 AUTH PLAIN"), "AUTH: advertised with the configured mechanisms")
        t.is_(mail[:3], "530", "AUTH required: MAIL before AUTH gets 530")
        t.is_(login[:3], "504", "AUTH: a mechanism not offered gets 504")
        t.is_((challenge, bad64[:3]), ("334 ", "501"), "AUTH PLAIN without initial response: 334, bad base64 501")
        t.is_((ok[:3], mail2[:3]), ("235", "250"), "AUTH PLAIN with the response on its own line: 235, then MAIL ok")
        t.is_(one_session(peer, "AUTH PLAIN 334")["auth"], "u", "AUTH PLAIN 334: identity recorded")


@section
def drop():
    with R.SmtpPeer(t.tmp, rcpt_for={"drop@example.test": R.DROP}) as peer:
        c = Client(peer.host, peer.port)
        c.reply()
        c.cmd("HELO c")
        c.cmd("MAIL FROM:<a@example.test>")
        ok1 = c.cmd("RCPT TO:<ok@example.test>")
        dropped = c.cmd("RCPT TO:<drop@example.test>")
        c.close()
        s = one_session(peer, "drop")
        t.is_((ok1[:3], dropped), ("250", ""), "drop: RCPT of one address answered by closing the connection")
        t.is_((s["ended"], [r["reply"] for r in s["transactions"][0]["rcpts"]]),
              ("drop", ["250 2.1.5 recipient ok", ""]), "drop: recorded as dropped, the RCPT without reply")


@section
def stall_greeting():
    with R.SmtpPeer(t.tmp, greeting=R.STALL) as peer:
        c = Client(peer.host, peer.port)
        t.ok(c.silent(), "stall: the greeting never comes")
        c.send(b"HELO impatient\r\n")
        c.close()
        s = one_session(peer, "stall")
        t.is_((s["ended"], s["raw"], s["replies"]), ("eof", b"HELO impatient\r\n", []),
              "stall: nothing answered, input still recorded, ended when the client left")


@section
def raw_delayed_dropped():
    with R.SmtpPeer(t.tmp, data={"lines": "451 4.3.0 not now", "after": "drop"},
                    helo={"raw": "250 bare LF\n250 and \x00 NUL\r\n", "delay": 0.3}) as peer:
        c = Client(peer.host, peer.port)
        c.reply()
        t0 = time.monotonic()
        c.send(b"HELO c\r\n")
        want = b"250 bare LF\n250 and \x00 NUL\r\n"
        while len(c.buf) < len(want):
            more = c.sock.recv(100)
            if not more:
                break
            c.buf += more
        took = time.monotonic() - t0
        t.is_(c.buf, want, "raw reply: sent byte for byte")
        t.ok(took >= 0.3, "delay: the reply came after its delay (%.2fs)" % took)
        c.buf = b""
        c.cmd("MAIL FROM:<a@example.test>")
        c.cmd("RCPT TO:<b@example.test>")
        t.is_((c.cmd("DATA"), c.reply()), ("451 4.3.0 not now", ""), "a reply, then the connection dropped")
        c.close()


@section
def stall_after_dot():
    with R.SmtpPeer(t.tmp, dot=R.STALL) as peer:
        c = Client(peer.host, peer.port)
        c.reply()
        for line in ("HELO c", "MAIL FROM:<a@example.test>", "RCPT TO:<b@example.test>", "DATA"):
            c.cmd(line)
        c.send(b"body\r\n.\r\n")
        t.ok(c.silent(), "stall after the dot: no reply")
        open_then = len(peer.sessions())
        c.close()
        tr = one_session(peer, "stall after dot")["transactions"][0]
        t.is_((open_then, tr.get("data"), tr.get("dot_reply")), (0, b"body\r\n", ""),
              "stall after the dot: the message recorded, no reply, logged when the client left")


@section
def scripts_per_session():
    with R.SmtpPeer(t.tmp, sessions=[{"rcpt": "451 4.4.1 first time"}, {}]) as peer:
        def rcpt_reply():
            c = Client(peer.host, peer.port)
            c.reply()
            c.cmd("HELO c")
            c.cmd("MAIL FROM:<a@example.test>")
            r = c.cmd("RCPT TO:<b@example.test>")
            c.cmd("QUIT")
            c.close()
            return r
        first, second = rcpt_reply(), rcpt_reply()
        t.is_((first, second), ("451 4.4.1 first time", "250 2.1.5 recipient ok"),
              "sessions: a script for the first only")
        peer.set_script(rcpt="550 5.7.1 changed")
        t.is_(rcpt_reply(), "550 5.7.1 changed", "set_script: the next connection follows the new script")
        t.is_((peer.connections(), len(sessions(peer, 3, "three sessions"))), (3, 3),
              "three connections counted and logged")


@section
def starttls_injection():
    """Commands pipelined after STARTTLS: discarded, and recorded."""
    with R.SmtpPeer(t.tmp, host="127.0.0.2", tls=True) as peer:
        c = Client(peer.host, peer.port)
        c.reply()
        c.cmd("EHLO c")
        c.send("STARTTLS\r\nMAIL FROM:<injected@example.test>\r\n")
        t.is_(c.reply()[:3], "220", "STARTTLS: 220")
        c.starttls(peer.cert, "127.0.0.2")
        caps = c.cmd("EHLO c")
        mail = c.cmd("MAIL FROM:<a@example.test>")
        c.cmd("QUIT")
        c.close()
        s = one_session(peer, "STARTTLS injection")
        t.ok("STARTTLS" not in caps and mail.startswith("250"),
             "STARTTLS: Python's ssl trusts .cert; no STARTTLS offered under TLS")
        t.is_((s["tls_leftover"], [x["mail_from"] for x in s["transactions"]]),
              (b"MAIL FROM:<injected@example.test>\r\n", ["a@example.test"]),
              "STARTTLS: plaintext pipelined after it is discarded, and recorded")


@section
def addresses():
    """Several addresses on one port (MX targets), and IPv6."""
    with R.SmtpPeer(t.tmp, host=["127.0.0.2", "127.0.0.3"], port=MX_PORT) as peer:
        for host in ("127.0.0.3", "127.0.0.2"):
            c = Client(host, peer.port)
            c.reply()
            c.cmd("QUIT")
            c.close()
        got = [(x["n"], x["local"][0]) for x in sessions(peer, 2, "two addresses")]
        t.is_(got, [(1, "127.0.0.3"), (2, "127.0.0.2")],
              "two addresses, one port (%d): each session knows which was reached" % peer.port)
    if not R.can_bind("::1", 0):
        t.skip("no ::1 here")
        return
    with R.SmtpPeer(t.tmp, host="::1") as peer:
        c = Client("::1", peer.port)
        t.ok(c.reply().startswith("220"), "IPv6: greeting on ::1")
        c.close()
        t.is_(one_session(peer, "IPv6")["remote"][0], "::1", "IPv6: session recorded")


@section
def stop_with_open_session():
    peer = R.SmtpPeer(t.tmp).start()
    c = Client(peer.host, peer.port)
    c.reply()
    c.cmd("HELO c")
    R.wait_until(lambda: peer.connections() == 1, TIMEOUT, "the connection")
    peer.stop()
    c.close()
    t.is_([(x["ended"], x["commands"]) for x in peer.sessions()], [("stopped", ["HELO c"])],
          "stop(): an open session is logged as stopped")
    try:
        socket.create_connection((peer.host, peer.port), timeout=TIMEOUT).close()
        t.ok(False, "stop(): nothing listens any more")
    except ConnectionRefusedError:
        t.ok(True, "stop(): nothing listens any more")


@section
def unreachable():
    """Connects that time out, and a port that refuses."""
    with R.Blackhole("127.0.0.2") as hole:
        t0 = time.monotonic()
        try:
            socket.create_connection((hole.host, hole.port), timeout=1).close()
            t.ok(False, "Blackhole: a connect times out")
        except socket.timeout:
            t.ok(time.monotonic() - t0 >= 0.9, "Blackhole: a connect times out")
    port = R.free_port("127.0.0.2")
    try:
        socket.create_connection(("127.0.0.2", port), timeout=TIMEOUT).close()
        t.ok(False, "a port without listener refuses the connection")
    except ConnectionRefusedError:
        t.ok(True, "a port without listener refuses the connection")


t.done()
