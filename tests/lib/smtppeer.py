#!/usr/bin/env python3
"""smtppeer.py CONFIG.json: a scriptable SMTP receiver for the qmail-remote
tests (stdlib only).  remotepeer.SmtpPeer writes the config, runs this and
reads back what happened; see there for the script keys.

It answers each stage exactly as scripted, and records per session, as one
JSON line appended to config["log"] when the session ends, everything the
client did: the raw bytes, the commands, the envelope with each reply, TLS,
AUTH, and for DATA the raw bytes and the dot-unstuffed message.  The end
of DATA is "\\r\\n.\\r\\n" and nothing else (RFC 5321 strictly): a client
that sends "\\n.\\n" or "\\r.\\r" raw is seen doing so, the message then
going on (SMTP smuggling).

A reply spec (each stage of the script) is one of
    "250 ok"                     a line (or lines separated by "\\n")
    ["250-first", "250 last"]    lines, sent as given with CRLF
    {"lines": ... or "raw": "bytes as latin-1, sent as they are",
     "delay": seconds before answering,
     "after": "drop" (close the connection) | "stall" (never answer again)}
A dict without lines or raw answers nothing before its "after".

Config keys: listen [[host, port], ...] (port 0: one free port, the same
for every host); ready (file written with {"port", "pid"} once listening);
log; connections (file holding the number accepted); parent (pid: we exit
when it is gone); idle_timeout (seconds a session may stay silent);
tls {"cert", "key"} or null; script.  The config is read again at each
connection, so a test changes the script between sessions by rewriting it.
SIGTERM logs the open sessions as "stopped" and exits."""

import base64
import binascii
import json
import os
import re
import select
import signal
import socket
import ssl
import sys
import threading
import time

MAX_LINE = 65536             # a command line longer than this ends the session
MAX_DATA = 64 << 20          # so does a message larger than this

DEFAULT_REPLIES = {
    "greeting": "220 {hostname} ESMTP smtppeer",
    "helo": "250 {hostname}",
    "starttls": "220 2.0.0 ready to start TLS",
    "mail": "250 2.1.0 sender ok",
    "rcpt": "250 2.1.5 recipient ok",
    "data": "354 go ahead",
    "dot": "250 2.0.0 ok: queued as {n}",
    "quit": "221 2.0.0 bye",
    "rset": "250 2.0.0 ok",
    "noop": "250 2.0.0 ok",
    "unknown": "502 5.5.2 command not recognized",
    "auth_ok": "235 2.7.0 authentication successful",
    "auth_bad": "535 5.7.8 authentication credentials invalid",
}

log_lock = threading.Lock()
open_sessions = {}           # n -> Session, while they run


class Dropped(Exception):
    """The script said to close the connection here."""


class Gone(Exception):
    """The client closed, or went silent for idle_timeout."""

    def __init__(self, why):
        self.why = why


class Session:
    def __init__(self, config, conn, n):
        self.config = config
        self.script = dict(config["script"])
        overrides = self.script.pop("sessions", None) or []
        if n <= len(overrides):
            self.script.update(overrides[n - 1] or {})
        self.conn = conn
        self.n = n
        # bytearrays: a message of megabytes arrives in many pieces
        self.buf = bytearray()
        self.logged = False
        self.record = {
            "n": n, "local": address(conn.getsockname), "remote": address(conn.getpeername),
            "start": time.time(), "end": None, "raw": bytearray(), "commands": [], "replies": [],
            "ehlo": None, "helo": None, "tls": False, "tls_version": None, "tls_leftover": b"",
            "auth": None, "auth_attempts": [], "transactions": [], "stalled": False, "ended": None,
        }
        self.transaction = None

    # -- script ---------------------------------------------------------------
    def caps(self):
        """EHLO keywords for the current state (TLS on or not)."""
        if self.record["tls"] and "caps_tls" in self.script:
            return self.script["caps_tls"]
        if "caps" in self.script:
            caps = list(self.script["caps"])
        else:
            caps = ["PIPELINING", "8BITMIME", "SIZE 10485760"]
            if self.config.get("tls"):
                caps.append("STARTTLS")
            if self.script.get("auth"):
                caps.append("AUTH " + " ".join(self.script["auth"].get("mechanisms", ["PLAIN", "LOGIN"])))
        if self.record["tls"]:
            caps = [c for c in caps if c.upper() != "STARTTLS"]
        return caps

    def spec(self, stage, default=None):
        if stage in self.script:
            return self.script[stage]
        return default if default is not None else DEFAULT_REPLIES[stage]

    # -- I/O ------------------------------------------------------------------
    def recv(self):
        """More bytes into buf; Gone on EOF or idle timeout."""
        try:
            data = self.conn.recv(65536)
        except socket.timeout:
            raise Gone("timeout")
        except (ConnectionResetError, BrokenPipeError):
            raise Gone("eof")
        except ssl.SSLError as e:
            raise Gone("error: TLS: %s" % e)
        if not data:
            raise Gone("eof")
        self.record["raw"] += data
        self.buf += data

    def line(self):
        """The next line (CRLF or bare LF ends it), without its end."""
        while True:
            i = self.buf.find(b"\n")
            if i >= 0:
                line, self.buf = self.buf[:i], self.buf[i + 1:]
                line = line[:-1] if line.endswith(b"\r") else line
                text = line.decode("latin-1")
                self.record["commands"].append(text)
                return text
            if len(self.buf) > MAX_LINE:
                raise Gone("error: line too long")
            self.recv()

    def reply(self, spec, into=None):
        """Sends what spec says and returns the reply's text; into, a
        (dict, key), gets the text first, so that the envelope has it even
        when the stage then drops (Dropped) or stalls (never returns)."""
        if isinstance(spec, dict):
            delay, after = spec.get("delay", 0), spec.get("after")
            lines, raw = spec.get("lines"), spec.get("raw")
        else:
            delay, after, lines, raw = 0, None, spec, None
        if delay:
            time.sleep(delay)
        text = ""
        if raw is not None:
            out = raw.encode("latin-1")
            text = raw
        elif lines is not None:
            if isinstance(lines, str):
                lines = lines.split("\n")
            lines = [l.replace("{hostname}", self.script["hostname"]).replace("{n}", str(self.n))
                     for l in lines]
            text = "\n".join(lines)
            out = "".join(l + "\r\n" for l in lines).encode("latin-1")
        else:
            out = b""
        if into:
            into[0][into[1]] = text
        if out:
            self.record["replies"].append(text)
            try:
                self.conn.sendall(out)
            except (BrokenPipeError, ConnectionResetError):
                raise Gone("eof")
        if after == "drop":
            raise Dropped()
        if after == "stall":
            self.stall()
        return text

    def stall(self):
        """Answers nothing more; records what comes until the client gives up."""
        self.record["stalled"] = True
        while True:
            self.recv()

    # -- the SMTP dialogue -----------------------------------------------------
    def run(self):
        self.reply(self.spec("greeting"))
        while True:
            cmd = self.line()
            verb = cmd.split(" ", 1)[0].upper()
            arg = cmd[len(verb):].strip()
            handler = getattr(self, "do_" + verb.lower(), None) if verb.isalpha() else None
            if handler is None:
                self.reply(self.spec("unknown"))
            elif handler(arg) == "quit":
                self.record["ended"] = "quit"
                return

    def do_ehlo(self, arg):
        self.record["ehlo"] = arg
        self.transaction = None
        stage = "ehlo_tls" if self.record["tls"] and "ehlo_tls" in self.script else "ehlo"
        if stage in self.script:
            self.reply(self.script[stage])
            return
        caps = self.caps()
        lines = ["250-{hostname}" if caps else "250 {hostname}"]
        lines += ["250-" + c for c in caps[:-1]] + ["250 " + c for c in caps[-1:]]
        self.reply(lines)

    def do_helo(self, arg):
        self.record["helo"] = arg
        self.transaction = None
        self.reply(self.spec("helo"))

    def do_starttls(self, arg):
        tls = self.config.get("tls")
        if self.record["tls"]:
            self.reply(self.spec("starttls_again", "503 5.5.1 TLS already active"))
            return
        if not tls:
            self.reply(self.spec("starttls_unavailable", "454 4.7.0 TLS not available"))
            return
        if not self.reply(self.spec("starttls")).startswith("220"):
            return
        # Whatever the client pipelined after STARTTLS is plaintext injected
        # before the handshake: thrown away (RFC 3207), but kept for the test.
        self.record["tls_leftover"] += self.buf
        self.buf = bytearray()
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(tls["cert"], tls["key"])
        try:
            self.conn = ctx.wrap_socket(self.conn, server_side=True)
        except (ssl.SSLError, OSError) as e:
            raise Gone("error: TLS handshake: %s" % e)
        self.record["tls"] = True
        self.record["tls_version"] = self.conn.version()
        self.record["ehlo"] = self.record["helo"] = None
        self.transaction = None

    def do_auth(self, arg):
        auth = self.script.get("auth")
        if not auth:
            self.reply(self.spec("auth_unavailable", "502 5.5.1 AUTH not available"))
            return
        if self.record["auth"]:
            self.reply(self.spec("auth_again", "503 5.5.1 already authenticated"))
            return
        words = arg.split()
        mech = words[0].upper() if words else ""
        initial = words[1] if len(words) > 1 else None
        if mech not in [m.upper() for m in auth.get("mechanisms", ["PLAIN", "LOGIN"])]:
            self.reply(self.spec("auth_mechanism", "504 5.5.4 mechanism not supported"))
            return
        try:
            if mech == "PLAIN":
                response = self.b64(initial if initial is not None else self.challenge(""))
                fields = response.split(b"\0")
                if len(fields) != 3:
                    raise ValueError("PLAIN response without 3 fields")
                authzid, user, password = (f.decode("latin-1") for f in fields)
            else:   # LOGIN: the initial response, when given, is the user name
                authzid = ""
                user = self.b64(initial if initial is not None else self.challenge("VXNlcm5hbWU6"))
                user = user.decode("latin-1")
                password = self.b64(self.challenge("UGFzc3dvcmQ6")).decode("latin-1")
        except AuthCancelled:
            self.reply(self.spec("auth_cancelled", "501 5.0.0 AUTH cancelled"))
            return
        except ValueError:
            self.reply(self.spec("auth_syntax", "501 5.5.2 cannot decode response"))
            return
        ok = user == auth.get("user") and password == auth.get("password")
        self.record["auth_attempts"].append({"mechanism": mech, "authzid": authzid, "user": user,
                                             "password": password, "ok": ok})
        if ok:
            self.record["auth"] = user
        self.reply(self.spec("auth_ok" if ok else "auth_bad"))

    def challenge(self, text):
        self.reply("334 " + text)
        line = self.line()
        if line == "*":
            raise AuthCancelled()
        return line

    @staticmethod
    def b64(text):
        try:
            return base64.b64decode(text.strip(), validate=True)
        except (binascii.Error, ValueError):
            raise ValueError("bad base64")

    def do_mail(self, arg):
        m = re.match(r"(?i)FROM:\s*(<[^>]*>|\S*)\s*(.*)$", arg)
        if not m:
            self.reply(self.spec("mail_syntax", "501 5.5.4 syntax: MAIL FROM:<address>"))
            return
        if self.transaction and self.transaction["mail_reply"].startswith("2"):
            self.reply(self.spec("mail_nested", "503 5.5.1 sender already given"))
            return
        addr, params = m.group(1).strip("<>"), m.group(2)
        tr = {"mail_from": addr, "mail_params": params, "mail_reply": "", "rcpts": []}
        self.record["transactions"].append(tr)
        self.transaction = tr
        size = re.search(r"(?i)\bSIZE=(\d+)", params)
        limit = [int(c.split()[1]) for c in self.caps() if re.match(r"(?i)SIZE \d+$", c)]
        if self.script.get("require_tls") and not self.record["tls"]:
            spec = self.spec("tls_required", "530 5.7.0 must issue a STARTTLS command first")
        elif self.script.get("require_auth") and not self.record["auth"]:
            spec = self.spec("auth_required", "530 5.7.0 authentication required")
        elif size and limit and limit[0] and int(size.group(1)) > limit[0]:
            spec = self.spec("too_big", "552 5.3.4 message size exceeds fixed limit")
        else:
            spec = self.spec("mail")
        self.reply(spec, (tr, "mail_reply"))

    def do_rcpt(self, arg):
        m = re.match(r"(?i)TO:\s*(<[^>]*>|\S*)\s*(.*)$", arg)
        if not m:
            self.reply(self.spec("rcpt_syntax", "501 5.5.4 syntax: RCPT TO:<address>"))
            return
        tr = self.transaction
        if not tr or not tr["mail_reply"].startswith("2"):
            self.reply(self.spec("rcpt_nomail", "503 5.5.1 MAIL first"))
            return
        addr = m.group(1).strip("<>")
        per_address = self.script.get("rcpt_for") or {}
        spec = per_address.get(addr, per_address.get(addr.lower(), self.spec("rcpt")))
        rcpt = {"to": addr, "params": m.group(2), "reply": ""}
        tr["rcpts"].append(rcpt)
        self.reply(spec, (rcpt, "reply"))

    def do_data(self, arg):
        tr = self.transaction
        if not tr or not tr["mail_reply"].startswith("2"):
            self.reply(self.spec("data_nomail", "503 5.5.1 MAIL first"))
            return
        if not any(r["reply"].startswith("2") for r in tr["rcpts"]):
            self.reply(self.spec("data_norcpt", "554 5.5.1 no valid recipients"))
            return
        if not self.reply(self.spec("data"), (tr, "data_reply")).startswith("3"):
            return
        raw = self.read_data()
        tr["data_raw"] = raw
        # Dot-unstuffing works on CRLF-delimited lines only, like the end.
        tr["data"] = b"\r\n".join(l[1:] if l.startswith(b".") else l for l in raw.split(b"\r\n"))
        self.transaction = None
        self.reply(self.spec("dot"), (tr, "dot_reply"))

    def read_data(self):
        """The bytes up to the final ".\\r\\n", which must start a line: the
        CRLF of the DATA line counts as the start, so an empty message is
        just ".\\r\\n".  Returned with its last CRLF, without the dot line."""
        scanned = 0
        while True:
            if self.buf[:3] == b".\r\n":
                self.buf = self.buf[3:]
                return b""
            i = self.buf.find(b"\r\n.\r\n", scanned)
            if i >= 0:
                data, self.buf = bytes(self.buf[:i + 2]), self.buf[i + 5:]
                return data
            scanned = max(0, len(self.buf) - 4)      # a match may straddle what comes next
            if len(self.buf) > MAX_DATA:
                raise Gone("error: message too large")
            self.recv()

    def do_rset(self, arg):
        self.transaction = None
        self.reply(self.spec("rset"))

    def do_noop(self, arg):
        self.reply(self.spec("noop"))

    def do_quit(self, arg):
        try:
            self.reply(self.spec("quit"))
        except Gone:
            pass          # qmail-remote does not wait for the 221: fine
        return "quit"


class AuthCancelled(Exception):
    pass


def address(getname):
    """[ip, port] of one end; a client gone already has none."""
    try:
        return list(getname()[:2])
    except OSError:
        return [None, None]


def write_atomic(path, text):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.rename(tmp, path)


def log_session(config, session, ended=None):
    """Appends the session's record to the log, once."""
    with log_lock:
        if session.logged:
            return
        session.logged = True
        open_sessions.pop(session.n, None)
        # A copy: a session stopped by SIGTERM is still running in its thread.
        rec = dict(session.record, end=time.time())
        rec["ended"] = rec["ended"] or ended
        for key in ("raw", "tls_leftover"):
            rec[key] = bytes(rec[key]).decode("latin-1")
        rec["transactions"] = [dict(tr) for tr in rec["transactions"]]
        for tr in rec["transactions"]:
            for key in ("data_raw", "data"):
                if key in tr:
                    tr[key] = tr[key].decode("latin-1")
        with open(config["log"], "a", encoding="utf-8") as f:
            f.write(json.dumps(rec) + "\n")


def serve_connection(config_path, conn, n):
    with open(config_path) as f:
        config = json.load(f)
    conn.settimeout(config.get("idle_timeout", 60))
    session = Session(config, conn, n)
    with log_lock:
        open_sessions[n] = session
    ended = None
    try:
        session.run()
    except Dropped:
        ended = "drop"
    except Gone as g:
        ended = g.why
    except Exception as e:          # a bug here must not look like a client's doing
        ended = "error: %r" % (e,)
    finally:
        try:
            session.conn.close()
        except OSError:
            pass
        log_session(config, session, ended)


def main():
    config_path = sys.argv[1]
    with open(config_path) as f:
        config = json.load(f)
    listeners = []
    port = 0
    for host, want in config["listen"]:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        s = socket.socket(family, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if family == socket.AF_INET6:
            s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        s.bind((host, want or port))
        s.listen(128)
        port = s.getsockname()[1]
        listeners.append(s)

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    write_atomic(config["ready"], json.dumps({"port": port, "pid": os.getpid()}))

    accepted = 0
    while not stop.is_set():
        if os.getppid() != config["parent"]:
            break            # the test is gone: so are we
        try:
            readable, _, _ = select.select(listeners, [], [], 0.2)
        except InterruptedError:
            continue
        for s in readable:
            try:
                conn, _ = s.accept()
            except OSError:
                continue
            accepted += 1
            write_atomic(config["connections"], str(accepted))
            threading.Thread(target=serve_connection, args=(config_path, conn, accepted), daemon=True).start()

    with log_lock:
        running = list(open_sessions.values())
    for session in running:
        log_session(config, session, "stopped")
    sys.stdout.flush()
    os._exit(0)     # the session threads may be blocked in recv


if __name__ == "__main__":
    main()
