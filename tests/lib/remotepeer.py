"""The far side of qmail-remote, for its tests: a DNS server (dnsmasq, fed
from Python data), a scriptable SMTP receiver (smtppeer.py, run as a
subprocess) and a port whose connects time out.  Not a test itself.

    import remotepeer as R
    with R.Dns(t.tmp, mx={"example.test": [(10, "mx.example.test")]},
               a={"mx.example.test": "127.0.0.2"}) as dns, \\
         R.SmtpPeer(t.tmp, host="127.0.0.2", port=25, rcpt_for={"bad@example.test": "550 no"}) as peer:
        env = dict(os.environ, DNSCACHEIP=dns.dnscacheip)
        ... run qmail-remote ...
        s = peer.wait_sessions(1)[0]
        s["transactions"][0]["data"]      # the message, dot-unstuffed (bytes)

Everything listens on loopback only, and no DNS query ever leaves the
machine: dnsmasq reads no resolv.conf and has no upstream server but our
own SERVFAIL responder on 127.0.0.1.  Every wait is a bounded poll."""

import ipaddress
import json
import os
import random
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SMTPPEER = os.path.join(HERE, "smtppeer.py")

# What a stalled or dropped stage looks like in an SmtpPeer script.
DROP = {"after": "drop"}
STALL = {"after": "stall"}


# -- small helpers ------------------------------------------------------------

def _sbin(program):
    """program's path, also found in the sbin directories an unprivileged
    PATH lacks (dnsmasq is in /usr/sbin)."""
    path = os.environ.get("PATH", "/usr/bin:/bin") + ":/usr/local/sbin:/usr/sbin:/sbin"
    return shutil.which(program, path=path) or program


def _die_with_parent():
    """preexec_fn: the child gets SIGTERM when the test dies, even by
    SIGKILL (prctl PR_SET_PDEATHSIG), so that no dnsmasq outlives it."""
    import ctypes
    ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM, 0, 0, 0)


def _shared_dir(tmpdir, prefix):
    """A new directory under tmpdir, searchable by all: qmail-remote may run
    as another user (qmailr) and must read the peer's certificate."""
    d = tempfile.mkdtemp(prefix=prefix, dir=tmpdir)
    os.chmod(d, 0o755)
    return d


def wait_until(cond, timeout, what, interval=0.02):
    """Polls cond() until it returns something true, which is returned;
    TimeoutError naming what after timeout seconds."""
    deadline = time.monotonic() + timeout
    while True:
        got = cond()
        if got:
            return got
        if time.monotonic() >= deadline:
            raise TimeoutError("timed out after %gs waiting for %s" % (timeout, what))
        time.sleep(interval)


def _family(host):
    return socket.AF_INET6 if ":" in host else socket.AF_INET


def free_port(host="127.0.0.1"):
    """A port free for both UDP and TCP on host right now.  dnsmasq binds it
    itself later, so another process could take it in between; Dns.start
    retries on that."""
    for _ in range(50):
        with socket.socket(_family(host), socket.SOCK_DGRAM) as u:
            u.bind((host, 0))
            port = u.getsockname()[1]
            with socket.socket(_family(host), socket.SOCK_STREAM) as s:
                try:
                    s.bind((host, port))
                except OSError:
                    continue
                return port
    raise OSError("no free port on " + host)


def make_cert(directory, name, ips=()):
    """A self-signed certificate (EC P-256, 2 days) for name and the given IP
    addresses, made with the openssl CLI; returns (cert_path, key_path).
    A client trusts it by taking cert_path as its CA file."""
    cert = os.path.join(directory, "cert.pem")
    key = os.path.join(directory, "key.pem")
    san = ",".join(["DNS:" + name] + ["IP:" + ip for ip in ips])
    r = subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                        "-nodes", "-keyout", key, "-out", cert, "-days", "2", "-subj", "/CN=" + name,
                        "-addext", "subjectAltName=" + san],
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, timeout=60)
    if r.returncode != 0:
        raise RuntimeError("openssl req failed: " + r.stderr)
    os.chmod(cert, 0o644)
    return cert, key


def _set_loopback_up():
    """ip link set lo up, without iproute2: SIOCGIFFLAGS then SIOCSIFFLAGS."""
    import fcntl
    siocgifflags, siocsifflags, iff_up = 0x8913, 0x8914, 0x1
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        ifreq = struct.pack("16sH22x", b"lo", 0)
        flags = struct.unpack("16sH22x", fcntl.ioctl(s, siocgifflags, ifreq))[1]
        fcntl.ioctl(s, siocsifflags, struct.pack("16sH22x", b"lo", flags | iff_up))


def private_network():
    """Re-executes the running test in a network namespace of its own, whose
    only interface is lo (unshare -n as root, unshare -rn otherwise, where
    we become root of a user namespace): port 25 can then be bound without
    real privileges, nothing of the machine's listens there, and no packet
    can leave the machine.  Call it before anything else (it execs).
    Returns True inside the namespace, False when namespaces are not
    available here (the test then runs on the machine's own loopback).
    Without real root, the namespace maps our one uid and nothing else: a
    test that needs other users (a sandbox's qmailr) cannot run there."""
    if os.environ.get("QS6_NETNS") == str(os.getpid()):
        _set_loopback_up()
        return True
    flags = "-n" if os.getuid() == 0 else "-rn"
    try:
        probe = subprocess.run(["unshare", flags, "true"], stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return False
    if probe.returncode != 0:
        return False
    sys.stdout.flush()
    # unshare execs python, which keeps unshare's pid: that is how the child
    # knows it is the one inside.
    script = os.path.abspath(sys.argv[0])
    os.execvp("sh", ["sh", "-c", 'QS6_NETNS=$$ exec unshare %s -- "$@"' % flags, "sh",
                     sys.executable, script] + sys.argv[1:])


def can_bind(host, port):
    """True if this process may listen on host:port (port 25 needs root, or
    a namespace of our own)."""
    try:
        with socket.socket(_family(host), socket.SOCK_STREAM) as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind((host, port))
        return True
    except OSError:
        return False


# -- DNS wire format: just enough to query dnsmasq and read its answers ------

QTYPE = {"A": 1, "NS": 2, "CNAME": 5, "SOA": 6, "PTR": 12, "MX": 15, "TXT": 16, "AAAA": 28, "ANY": 255}
QTYPE_NAME = {v: k for k, v in QTYPE.items()}
NOERROR, SERVFAIL, NXDOMAIN, REFUSED = 0, 2, 3, 5


def encode_name(name):
    out = b""
    for label in name.rstrip(".").split("."):
        if label:
            b = label.encode("ascii")
            if len(b) > 63:
                raise ValueError("label too long: " + label)
            out += bytes([len(b)]) + b
    return out + b"\0"


def read_name(msg, off):
    """(name, offset after it) at off in msg, following compression pointers
    (a bounded number of them: a pointer loop is an error, not a hang)."""
    labels = []
    end = None
    for _ in range(128):
        n = msg[off]
        if n & 0xC0 == 0xC0:
            if end is None:
                end = off + 2
            off = ((n & 0x3F) << 8) | msg[off + 1]
            continue
        if n == 0:
            return ".".join(labels), (end if end is not None else off + 1)
        labels.append(msg[off + 1:off + 1 + n].decode("latin-1"))
        off += 1 + n
    raise ValueError("DNS name with too many pointers")


def build_query(name, qtype, qid):
    header = struct.pack(">HHHHHH", qid, 0x0100, 1, 0, 0, 0)   # RD set, as a stub resolver does
    return header + encode_name(name) + struct.pack(">HH", QTYPE[qtype], 1)


class DnsReply:
    """rcode (0 NOERROR, 2 SERVFAIL, 3 NXDOMAIN, 5 REFUSED), the answer
    records as (name, type, value) with value "1.2.3.4" for A, the
    compressed text form for AAAA, (preference, exchange) for MX, the
    target for CNAME, raw bytes otherwise; tc and aa flags."""

    def __init__(self, msg):
        qid, flags, qd, an, ns, ar = struct.unpack(">HHHHHH", msg[:12])
        self.id, self.rcode = qid, flags & 0xF
        self.tc, self.aa = bool(flags & 0x0200), bool(flags & 0x0400)
        off = 12
        for _ in range(qd):
            _, off = read_name(msg, off)
            off += 4
        self.answers = []
        for _ in range(an):
            name, off = read_name(msg, off)
            rtype, _cls, _ttl, rdlen = struct.unpack(">HHIH", msg[off:off + 10])
            off += 10
            rdata = msg[off:off + rdlen]
            if rtype == 1:
                value = str(ipaddress.IPv4Address(rdata))
            elif rtype == 28:
                value = str(ipaddress.IPv6Address(rdata))
            elif rtype == 15:
                value = (struct.unpack(">H", rdata[:2])[0], read_name(msg, off + 2)[0])
            elif rtype == 5:
                value = read_name(msg, off)[0]
            else:
                value = rdata
            self.answers.append((name, QTYPE_NAME.get(rtype, rtype), value))
            off += rdlen

    def values(self, rtype):
        return [v for _, t, v in self.answers if t == rtype]

    def __repr__(self):
        return "DnsReply(rcode=%d, answers=%r)" % (self.rcode, self.answers)


def dns_query(server, port, name, qtype="A", timeout=2.0):
    """One query over UDP to server:port; the DnsReply, or TimeoutError."""
    qid = random.randrange(1 << 16)
    deadline = time.monotonic() + timeout
    with socket.socket(_family(server), socket.SOCK_DGRAM) as s:
        s.connect((server, port))
        s.send(build_query(name, qtype, qid))
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("no DNS answer from %s#%d for %s %s" % (server, port, name, qtype))
            s.settimeout(left)
            try:
                msg = s.recv(65535)
            except socket.timeout:
                continue
            except ConnectionRefusedError:   # ICMP port unreachable: not up yet
                raise TimeoutError("DNS port %s#%d refused" % (server, port))
            if len(msg) >= 12 and struct.unpack(">H", msg[:2])[0] == qid:
                return DnsReply(msg)


class ServfailResponder:
    """A UDP DNS server on loopback that answers every query with SERVFAIL:
    dnsmasq forwards the SERVFAIL domains to it.  dnsmasq itself has no
    way to answer SERVFAIL from its configuration, and a forward to a port
    nobody listens on would only answer after dnsmasq's retries time out;
    this answers at once, every time.  Runs as a thread of the test."""

    def __init__(self, host="127.0.0.1"):
        self.sock = socket.socket(_family(host), socket.SOCK_DGRAM)
        self.sock.bind((host, 0))
        self.sock.settimeout(0.2)    # how often the thread looks at _stop
        self.host, self.port = host, self.sock.getsockname()[1]
        self.queries = []            # (name, type) of every query received
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def start(self):
        self._thread.start()
        return self

    def _serve(self):
        while not self._stop.is_set():
            try:
                msg, addr = self.sock.recvfrom(65535)
            except socket.timeout:
                continue
            except OSError:
                return
            try:
                qid, flags, qd = struct.unpack(">HHH", msg[:6])
                name, off = read_name(msg, 12)
                qtype = struct.unpack(">H", msg[off:off + 2])[0]
            except (struct.error, IndexError, ValueError):
                continue
            self.queries.append((name, QTYPE_NAME.get(qtype, qtype)))
            question = msg[12:off + 4]
            # QR, the query's opcode and RD, RA; rcode 2; the question echoed.
            rflags = 0x8000 | (flags & 0x7900) | 0x0080 | SERVFAIL
            self.sock.sendto(struct.pack(">HHHHHH", qid, rflags, 1, 0, 0, 0) + question, addr)

    def stop(self):
        self._stop.set()
        self._thread.join(5)
        self.sock.close()


class Dns:
    """dnsmasq on host (127.0.0.1) at a free port, serving only what it is
    given; the tests set DNSCACHEIP to .dnscacheip ("127.0.0.1:PORT").

        mx        {domain: [(preference, exchange), ...]}
        a, aaaa   {name: address or [addresses]}
        cname     {alias: target}      (target must be a name given here)
        nxdomain  [domain, ...]        NXDOMAIN for it and its subdomains
        servfail  [domain, ...]        SERVFAIL for it and its subdomains
        extra     [dnsmasq config line, ...]

    A name given nothing at all answers NXDOMAIN too (every name is local:
    nothing is forwarded, and there is no upstream server to forward to),
    so a forgotten record shows as "no such host", never as a query to the
    outside.  A name that has some record but not the one asked answers
    NOERROR with no answer (as an MX-less host must).  No cache: what
    dnsmasq answers is always what it was given.  Its log (every query,
    with log-queries) is .log, in the test's tmp dir."""

    def __init__(self, tmpdir, mx=None, a=None, aaaa=None, cname=None, nxdomain=(), servfail=(),
                 extra=(), host="127.0.0.1"):
        self.dir = _shared_dir(tmpdir, "dns.")
        self.host = host
        self.mx, self.a, self.aaaa = mx or {}, a or {}, aaaa or {}
        self.cname, self.nxdomain, self.servfail = cname or {}, list(nxdomain), list(servfail)
        self.extra = list(extra)
        self.port = None
        self.proc = None
        self.responder = None
        self.conf = os.path.join(self.dir, "dnsmasq.conf")
        self.log = os.path.join(self.dir, "dnsmasq.log")

    @property
    def dnscacheip(self):
        return "%s:%d" % (self.host, self.port)

    def _config(self):
        lines = [
            "port=%d" % self.port,
            "listen-address=" + self.host,
            "bind-interfaces",            # only our address, not the wildcard
            "no-resolv", "no-hosts", "no-poll",
            "cache-size=0",
            "log-queries",
            "log-facility=" + self.log,
            # every name is local: answered from the records below or NXDOMAIN
            "local=/#/",
        ]
        for domain, mxs in self.mx.items():
            for pref, exchange in mxs:
                lines.append("mx-host=%s,%s,%d" % (domain, exchange, pref))
        for table in (self.a, self.aaaa):
            for name, addrs in table.items():
                for addr in [addrs] if isinstance(addrs, str) else addrs:
                    lines.append("host-record=%s,%s" % (name, addr))
        for alias, target in self.cname.items():
            lines.append("cname=%s,%s" % (alias, target))
        for domain in self.nxdomain:
            lines.append("local=/%s/" % domain)
        for domain in self.servfail:
            lines.append("server=/%s/%s#%d" % (domain, self.responder.host, self.responder.port))
        return "\n".join(lines + self.extra) + "\n"

    def start(self, timeout=10):
        if self.servfail:
            self.responder = ServfailResponder(self.host).start()
        for _ in range(5):
            self.port = free_port(self.host)
            with open(self.conf, "w") as f:
                f.write(self._config())
            with open(os.path.join(self.dir, "dnsmasq.stderr"), "ab") as err:
                # --no-daemon, not --keep-in-foreground: it also keeps dnsmasq
                # from changing ids (to nobody:dip when root), which would
                # lose the tmp dir, and fails in a user namespace.
                self.proc = subprocess.Popen([_sbin("dnsmasq"), "--no-daemon", "--conf-file=" + self.conf],
                                             stdin=subprocess.DEVNULL, stdout=err, stderr=err,
                                             preexec_fn=_die_with_parent)
            try:
                wait_until(self._answers, timeout, "dnsmasq on %s#%d" % (self.host, self.port))
                return self
            except TimeoutError:
                if self.proc.poll() is None:
                    self._kill()
                    raise RuntimeError("dnsmasq does not answer: " + self.diagnostics())
                if "in use" not in self.diagnostics():
                    raise RuntimeError("dnsmasq would not start: " + self.diagnostics())
                # the port was taken between free_port and dnsmasq's bind: another one
        raise RuntimeError("dnsmasq found no free port: " + self.diagnostics())

    def _answers(self):
        if self.proc.poll() is not None:
            raise TimeoutError("dnsmasq exited")   # caught by start: try another port
        try:
            dns_query(self.host, self.port, "dnsmasq-ready.invalid", "A", timeout=0.2)
            return True
        except TimeoutError:
            return False

    def query(self, name, qtype="A", timeout=2.0):
        return dns_query(self.host, self.port, name, qtype, timeout)

    def diagnostics(self):
        """The last lines of dnsmasq's stderr and log, for a test's diag."""
        out = []
        for path in (os.path.join(self.dir, "dnsmasq.stderr"), self.log):
            try:
                with open(path, errors="replace") as f:
                    out += f.read().splitlines()[-20:]
            except OSError:
                pass
        return "\n".join(out)

    def _kill(self):
        self.proc.terminate()
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self._kill()
        if self.responder:
            self.responder.stop()
            self.responder = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


# -- SMTP ----------------------------------------------------------------------

class SmtpPeer:
    """smtppeer.py run as a subprocess, listening on host (an address or a
    list of addresses, all on the same port) at port (0: a free one, read
    back as .port once started).  The script is given as keywords; each
    stage's reply is a reply spec (see smtppeer.py): "250 ok", a list of
    lines ["250-a", "250 b"], DROP, STALL, or a dict {"lines"|"raw", "delay",
    "after"}.

        greeting ehlo ehlo_tls helo starttls mail rcpt data dot quit rset
        noop unknown auth_ok auth_bad   the reply at each stage
        rcpt_for     {address: reply} for RCPT, else rcpt
        caps         EHLO keywords (default PIPELINING 8BITMIME SIZE 10485760,
                     plus STARTTLS with tls, AUTH ... with auth)
        caps_tls     EHLO keywords once TLS is on (default caps less STARTTLS)
        auth         {"user", "password", "mechanisms": ["PLAIN", "LOGIN"]}
        require_auth / require_tls   MAIL before them gets 530
        sessions     [script overrides for connection 1, 2, ...]
        hostname     the name in the greeting and EHLO reply

    tls=True makes a self-signed certificate in the peer's dir (.cert,
    .key): STARTTLS works, and a client trusts the peer with .cert as CA."""

    def __init__(self, tmpdir, host="127.0.0.1", port=0, tls=False, idle_timeout=60, **script):
        self.dir = _shared_dir(tmpdir, "smtppeer.")
        self.hosts = [host] if isinstance(host, str) else list(host)
        self.host = self.hosts[0]
        self.port = port
        self.script = dict(script)
        self.script.setdefault("hostname", "peer.example.test")
        self.cert = self.key = None
        if tls:
            self.cert, self.key = make_cert(self.dir, self.script["hostname"], self.hosts)
        self.idle_timeout = idle_timeout
        self.config = os.path.join(self.dir, "config.json")
        self.ready = os.path.join(self.dir, "ready")
        self.log = os.path.join(self.dir, "sessions.jsonl")
        self.counter = os.path.join(self.dir, "connections")
        self.stderr = os.path.join(self.dir, "stderr")
        self.proc = None

    def _write_config(self):
        config = {
            "listen": [[h, self.port] for h in self.hosts],
            "ready": self.ready, "log": self.log, "connections": self.counter,
            "parent": os.getpid(), "idle_timeout": self.idle_timeout,
            "tls": {"cert": self.cert, "key": self.key} if self.cert else None,
            "script": self.script,
        }
        tmp = self.config + ".tmp"
        with open(tmp, "w") as f:
            json.dump(config, f, indent=1)
        os.rename(tmp, self.config)   # the peer re-reads it at each connection: never half a file

    def start(self, timeout=10):
        self._write_config()
        with open(self.stderr, "ab") as err:
            self.proc = subprocess.Popen([sys.executable, SMTPPEER, self.config],
                                         stdin=subprocess.DEVNULL, stdout=err, stderr=err,
                                         preexec_fn=_die_with_parent)

        def ready():
            if self.proc.poll() is not None:
                raise RuntimeError("smtppeer exited %s: %s" % (self.proc.returncode, self.diagnostics()))
            try:
                with open(self.ready) as f:
                    return json.load(f)
            except (OSError, ValueError):
                return None
        self.port = wait_until(ready, timeout, "smtppeer to listen on %s" % self.hosts)["port"]
        self._write_config()          # with the port now known, for later re-reads
        return self

    def set_script(self, **changes):
        """Changes the script from the next connection on (a None value
        removes a key)."""
        for k, v in changes.items():
            if v is None:
                self.script.pop(k, None)
            else:
                self.script[k] = v
        self._write_config()

    def connections(self):
        """Connections accepted so far (finished or not)."""
        try:
            with open(self.counter) as f:
                return int(f.read() or 0)
        except (OSError, ValueError):
            return 0

    def sessions(self):
        """The finished sessions, in the order they ended; each a dict:
            n            connection number (1 = the first accepted)
            local, remote  [address, port] of each end
            start, end   Unix times
            raw          bytes: all the client sent (decrypted, under TLS)
            commands     every line the client sent outside DATA, without
                         CRLF (AUTH responses included)
            replies      every reply sent, each as one string of its lines
            ehlo, helo   the last EHLO/HELO argument, or None
            tls          True once STARTTLS succeeded; tls_version
            tls_leftover bytes the client sent after STARTTLS and before
                         the handshake (discarded, as RFC 3207 demands)
            auth         the authenticated user, or None
            auth_attempts [{"mechanism", "authzid", "user", "password", "ok"}]
            stalled      True if a stage stalled (answered nothing more)
            transactions [{"mail_from", "mail_params", "mail_reply",
                           "rcpts": [{"to", "params", "reply"}],
                           "data_reply", "data_raw", "data", "dot_reply"}]
                         data_raw: bytes between the DATA line and the
                         final ".\\r\\n" (its last CRLF included); data: the
                         same with the leading dot of each line removed;
                         both absent if DATA was not answered 354 or the
                         final dot never came
            ended        "quit", "eof", "drop" (scripted), "timeout" (idle),
                         "stopped" (peer stopped), or "error: ..."
        """
        out = []
        try:
            with open(self.log, encoding="utf-8") as f:
                for line in f:
                    if line.endswith("\n"):       # a line being written is not yet a session
                        out.append(_decode_session(json.loads(line)))
        except FileNotFoundError:
            pass
        return out

    def wait_sessions(self, n, timeout=10):
        """The sessions, once at least n have ended; TimeoutError otherwise."""
        return wait_until(lambda: (lambda s: s if len(s) >= n else None)(self.sessions()),
                          timeout, "%d SMTP sessions (have %d)" % (n, len(self.sessions())))

    def messages(self):
        """Every transaction whose final dot arrived, in session order."""
        return [tr for s in sorted(self.sessions(), key=lambda s: s["n"])
                for tr in s["transactions"] if "data" in tr]

    def diagnostics(self):
        try:
            with open(self.stderr, errors="replace") as f:
                return "\n".join(f.read().splitlines()[-20:])
        except OSError:
            return ""

    def stop(self, timeout=10):
        """Stops the peer; sessions still open are logged as "stopped"."""
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


def _decode_session(s):
    """Bytes fields travel in JSON as latin-1 text: give them back as bytes."""
    for key in ("raw", "tls_leftover"):
        s[key] = s[key].encode("latin-1")
    for tr in s["transactions"]:
        for key in ("data_raw", "data"):
            if key in tr:
                tr[key] = tr[key].encode("latin-1")
    return s


class Blackhole:
    """A loopback port whose connects time out: a listener that never
    accepts, with its backlog filled, so the kernel drops further SYNs.
    For qmail-remote's timeoutconnect and lock/tcpto (no firewall needed)."""

    def __init__(self, host="127.0.0.1", port=0):
        self.listener = socket.socket(_family(host), socket.SOCK_STREAM)
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind((host, port))
        self.listener.listen(0)
        self.host, self.port = host, self.listener.getsockname()[1]
        self.fillers = []

    def start(self):
        # With backlog 0 Linux queues one connection; a few more make sure the
        # accept queue is full, after which a connect no longer completes.
        for _ in range(8):
            c = socket.socket(_family(self.host), socket.SOCK_STREAM)
            c.settimeout(0.3)
            try:
                c.connect((self.host, self.port))
            except (socket.timeout, OSError):
                c.close()
                return self
            self.fillers.append(c)
        raise RuntimeError("the backlog of %s:%d never filled" % (self.host, self.port))

    def stop(self):
        for c in self.fillers:
            c.close()
        self.listener.close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
