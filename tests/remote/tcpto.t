#!/usr/bin/env python3
"""The connect-timeout table (qmail.md section 4, lock/tcpto) and its tools.

From the reference: lock/tcpto is 64 records of 16 bytes: 0-3 the IPv4
address, 4 the number of recent timeouts (at most 10), 8-11 the time of the
last one, little-endian.  A connect timeout counts one more (not again
within 120 s); a connection that works sets the count back to 0.
qmail-remote skips an address whose count is >= 2 and whose last timeout
is less than (60 + (pid & 31)) << 6 seconds (64 to 95 minutes) old.
qmail-tcpto prints "{ip} timed out {n} seconds ago; # recent timeouts: {c}";
qmail-tcpok zeroes the file.  lock/tcpto6 (ours) holds IPv6 addresses in
32-byte records (0-15 address, 16 count, 24-27 time).
"""
import os
import socket
import struct
import subprocess
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import qs6  # noqa: E402

t = qs6.Tap()
home = t.sandbox()
env = dict(os.environ, QMAILHOME=home)
bin_ = lambda p: os.path.join(home, "bin", p)  # noqa: E731
tcpto4 = os.path.join(home, "queue", "lock", "tcpto")
tcpto6 = os.path.join(home, "queue", "lock", "tcpto6")


def run(prog, *args, stdin=b""):
    p = subprocess.run([bin_(prog)] + list(args), input=stdin, capture_output=True, env=env,
                       cwd=os.path.join(home, "queue", "mess"))
    return p.returncode, p.stdout.decode(errors="replace"), p.stderr.decode(errors="replace")


def records4():
    data = open(tcpto4, "rb").read()
    return [(socket.inet_ntoa(data[i:i + 4]), data[i + 4], struct.unpack("<I", data[i + 8:i + 12])[0])
            for i in range(0, len(data), 16) if data[i + 4]]


def control(name, text):
    with open(os.path.join(home, "control", name), "w") as f:
        f.write(text)


t.is_(os.path.getsize(tcpto4), 1024, "qmail-mkqueue made lock/tcpto: 1024 bytes")
t.is_(os.path.getsize(tcpto6), 2048, "and lock/tcpto6: 2048 bytes")
t.is_(run("qmail-tcpto"), (0, "", ""), "qmail-tcpto on an empty table prints nothing")

# --- qmail-tcpto reads records written by hand ----------------------------------
now = int(time.time())
d4 = bytearray(1024)
d4[5 * 16:5 * 16 + 16] = socket.inet_aton("192.0.2.7") + bytes([3, 0, 0, 0]) + struct.pack("<I", now - 100) + bytes(4)
d4[9 * 16:9 * 16 + 16] = socket.inet_aton("192.0.2.8") + bytes(12)   # count 0: free
open(tcpto4, "wb").write(d4)
d6 = bytearray(2048)
d6[2 * 32:2 * 32 + 32] = (socket.inet_pton(socket.AF_INET6, "2001:db8::1") + bytes([1]) + bytes(7)
                          + struct.pack("<I", now - 50) + bytes(4))
open(tcpto6, "wb").write(d6)
rc, out, err = run("qmail-tcpto")
lines = out.splitlines()
t.is_(rc, 0, "qmail-tcpto exits 0")
t.ok(len(lines) == 2 and lines[0] in ["192.0.2.7 timed out %d seconds ago; # recent timeouts: 3" % s
                                       for s in (100, 101, 102)],
     "an IPv4 record: '{ip} timed out {n} seconds ago; # recent timeouts: {c}'")
t.ok(len(lines) == 2 and lines[1] in ["2001:db8::1 timed out %d seconds ago; # recent timeouts: 1" % s
                                       for s in (50, 51, 52)],
     "then an IPv6 record of lock/tcpto6, in the same words")
if len(lines) != 2:
    t.diag(repr(out))

# --- qmail-tcpok -------------------------------------------------------------------
t.is_(run("qmail-tcpok"), (0, "", ""), "qmail-tcpok exits 0")
t.is_(open(tcpto4, "rb").read(), bytes(1024), "lock/tcpto is all zeros again")
t.is_(open(tcpto6, "rb").read(), bytes(2048), "lock/tcpto6 too")
t.is_(run("qmail-tcpto"), (0, "", ""), "qmail-tcpto prints nothing")

# --- qmail-remote records a connect timeout -----------------------------------------
# A listener with a full accept queue: the kernel drops further SYNs, so a
# connect to it times out (nothing leaves 127.0.0.1).
lst = socket.socket()
lst.bind(("127.0.0.1", 0))
lst.listen(0)
port = lst.getsockname()[1]
fill = []
for i in range(3):
    c = socket.socket()
    c.setblocking(False)
    try:
        c.connect(("127.0.0.1", port))
    except BlockingIOError:
        pass
    fill.append(c)
time.sleep(0.2)   # the fillers' handshakes complete (not a wait for the program under test)
control("smtproutes", ":127.0.0.1:%d\n" % port)
control("timeoutconnect", "1\n")
msg = b"Subject: x\n\nbody\n"
t0 = time.time()
rc, out, err = run("qmail-remote", "example.org", "a@example.net", "b@example.org", stdin=msg)
t.is_((rc, out), (0, "ZSorry, I wasn't able to establish an SMTP connection. (#4.4.1)\n\0"),
      "a connect timeout: ZSorry, I wasn't able to establish an SMTP connection. (#4.4.1)")
r = records4()
t.ok(len(r) == 1 and r[0][0] == "127.0.0.1" and r[0][1] == 1 and int(t0) <= r[0][2] <= int(time.time()),
     "lock/tcpto: 127.0.0.1, count 1, the time of the timeout")
if len(r) != 1:
    t.diag(repr(r))
rc, out, err = run("qmail-tcpto")
t.ok(out.startswith("127.0.0.1 timed out ") and out.endswith("seconds ago; # recent timeouts: 1\n"),
     "qmail-tcpto shows it")
rc, out, err = run("qmail-remote", "example.org", "a@example.net", "b@example.org", stdin=msg)
r = records4()
t.ok(len(r) == 1 and r[0][1] == 1, "a second timeout within 120 s does not count again")

# count 2 and recent: skipped without a connection attempt
for c in fill:
    c.close()
lst.close()
acc = socket.socket()
acc.bind(("127.0.0.1", port))
acc.listen(16)
acc.setblocking(False)
d4 = bytearray(open(tcpto4, "rb").read())
d4[4] = 2
open(tcpto4, "wb").write(d4)
rc, out, err = run("qmail-remote", "example.org", "a@example.net", "b@example.org", stdin=msg)
try:
    acc.accept()
    tried = True
except BlockingIOError:
    tried = False
t.is_((out, tried), ("ZSorry, I wasn't able to establish an SMTP connection. (#4.4.1)\n\0", False),
      "count 2, last timeout just now: the address is skipped, no connection is made")
# an old timeout is not a reason to skip; a connection that works resets the count
d4[8:12] = struct.pack("<I", int(time.time()) - 6100)   # more than 95 minutes ago
open(tcpto4, "wb").write(d4)
control("timeoutremote", "1\n")   # nobody greets: qmail-remote gives up after 1 s
rc, out, err = run("qmail-remote", "example.org", "a@example.net", "b@example.org", stdin=msg)
try:
    conn, _ = acc.accept()
    tried = True
    conn.close()
except BlockingIOError:
    tried = False
t.ok(tried, "count 2, last timeout 6100 s ago: the address is tried again")
t.is_(out, "ZConnected to 127.0.0.1 but connection died. (#4.4.2)\n\0", "no greeting within timeoutremote: connection died")
t.is_(records4(), [], "the connection worked: its count is back to 0")
acc.close()
t.done()
