"""TAP and sandbox helpers for the Python tests (the twin of tap.sh).

Every test runs under prove from `make check`, which sets QS6_BUILD (the build
dir) and QS6_SRC (the source tree)."""

import atexit
import os
import shutil
import subprocess
import sys
import tempfile

SRC = os.environ.get("QS6_SRC") or os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BUILD = os.environ.get("QS6_BUILD") or os.path.join(SRC, "build")
os.environ["QS6_SRC"] = SRC
os.environ["QS6_BUILD"] = BUILD
for var in ("QMAILHOME", "QMAILQUEUE"):
    os.environ.pop(var, None)
# No DNS query may leave the machine: a qmail-remote started by a test that
# does not run its own DNS server asks a closed loopback port, fails at once
# and defers (tests of qmail-remote set DNSCACHEIP to their dnsmasq).
os.environ["DNSCACHEIP"] = "127.0.0.1:1"


class Tap:
    def __init__(self):
        self.n = 0
        self.failed = 0
        self.tmp = tempfile.mkdtemp(prefix="qs6test.", dir=os.environ.get("TMPDIR", "/tmp"))
        os.chmod(self.tmp, 0o755)
        atexit.register(self._cleanup)
        self._sandboxes = 0

    def _cleanup(self):
        if os.environ.get("QS6_KEEP"):
            print("# kept " + self.tmp)
        else:
            shutil.rmtree(self.tmp, ignore_errors=True)

    def ok(self, cond, desc):
        self.n += 1
        if cond:
            print("ok %d - %s" % (self.n, desc))
        else:
            self.failed += 1
            print("not ok %d - %s" % (self.n, desc))
        sys.stdout.flush()
        return cond

    def is_(self, got, expected, desc):
        r = self.ok(got == expected, desc)
        if not r:
            self.diag("got:      %r" % (got,))
            self.diag("expected: %r" % (expected,))
        return r

    def diag(self, text):
        for line in str(text).splitlines() or [""]:
            print("# " + line)
        sys.stdout.flush()

    def skip(self, why):
        self.n += 1
        print("ok %d # skip %s" % (self.n, why))

    def done(self):
        print("1..%d" % self.n)
        sys.exit(1 if self.failed else 0)

    def sandbox(self, fqdn="sandbox.example.test"):
        self._sandboxes += 1
        path = os.path.join(self.tmp, "sb%d" % self._sandboxes)
        subprocess.run([os.path.join(SRC, "tools", "sandbox"), path, fqdn], check=True,
                       stdout=subprocess.DEVNULL)
        return path


def skip_all(why):
    print("1..0 # SKIP " + why)
    sys.exit(0)
