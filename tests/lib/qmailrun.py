"""A running queue in a sandbox, for the end-to-end tests: qmail-start (and
so qmail-send, qmail-lspawn, qmail-rspawn, qmail-clean) started in the
background with its log captured, plus the helpers every such test needs.

    t = qs6.Tap()
    q = QmailRun(t.sandbox())
    q.start()
    q.inject("From: a@b\\n\\nbody\\n", ["user@sandbox.example.test"])
    q.wait_log(r"^end msg \\d+$")
    q.stop()

Waits are bounded retries on a condition, never fixed sleeps."""

import os
import re
import signal
import subprocess
import time

import qs6


class QmailRun:
    def __init__(self, home, defaultdelivery="./Maildir/"):
        self.home = home
        self.defaultdelivery = defaultdelivery
        self.proc = None
        self.logpath = os.path.join(home, "send.log")
        self.env = dict(os.environ, QMAILHOME=home)
        with open(os.path.join(home, "sandbox")) as f:
            name, uid, gid = f.read().strip().split(":")
        self.uid, self.gid = int(uid), int(gid)

    # -- files owned by the sandbox user ---------------------------------
    def chown(self, path):
        if os.getuid() == 0:
            os.chown(path, self.uid, self.gid)

    def write(self, path, text, mode=0o644):
        data = text.encode() if isinstance(text, str) else text
        with open(path, "wb") as f:
            f.write(data)
        os.chmod(path, mode)
        self.chown(path)

    def mkdir(self, path, mode=0o755):
        os.makedirs(path, exist_ok=True)
        os.chmod(path, mode)
        self.chown(path)

    def maildirmake(self, path):
        for sub in ("", "tmp", "new", "cur"):
            self.mkdir(os.path.join(path, sub), 0o700)

    def control(self, name, text):
        self.write(os.path.join(self.home, "control", name), text)

    def newu(self, assign):
        """users/assign from text, then qmail-newu."""
        self.write(os.path.join(self.home, "users", "assign"), assign)
        subprocess.run([os.path.join(self.home, "bin", "qmail-newu")], env=self.env, check=True)

    # -- the queue -------------------------------------------------------
    def start(self):
        # the log is kept across restarts: wait for a status line of this run
        before = len(re.findall(r"^status: local 0/\d+ remote 0/\d+$", self.log(), re.M))
        self.logfile = open(self.logpath, "ab")
        self.proc = subprocess.Popen([os.path.join(self.home, "bin", "qmail-start"), self.defaultdelivery],
                                     stdout=self.logfile, stderr=subprocess.STDOUT,
                                     env=self.env, cwd="/")
        self.wait_log(r"^status: local 0/\d+ remote 0/\d+$", timeout=10, count=before + 1)

    def send_pid(self):
        return self.proc.pid  # qmail-start execs qmail-send

    def signal(self, sig):
        os.kill(self.proc.pid, sig)

    def stop(self, timeout=30):
        """TERM, then wait for qmail-send and its helpers to exit."""
        if not self.proc:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            rc = self.proc.wait()
        # the spawners and qmail-clean exit when qmail-send's pipes close
        deadline = time.time() + timeout
        while time.time() < deadline and self.helpers():
            time.sleep(0.05)
        self.proc = None
        self.logfile.close()
        return rc

    def helpers(self):
        """pids of qmail-lspawn/rspawn/clean processes of this sandbox."""
        out = []
        for pid in os.listdir("/proc"):
            if not pid.isdigit():
                continue
            try:
                with open("/proc/%s/environ" % pid, "rb") as f:
                    env = f.read().split(b"\0")
                with open("/proc/%s/comm" % pid) as f:
                    comm = f.read().strip()
            except OSError:
                continue
            if comm in ("qmail-lspawn", "qmail-rspawn", "qmail-clean", "qmail-send") and \
                    ("QMAILHOME=" + self.home).encode() in env:
                out.append(int(pid))
        return out

    def inject(self, message, recipients, sender=None, extra_env=None):
        """qmail-inject -f sender -a recipients < message; returns (rc, stderr)."""
        args = [os.path.join(self.home, "bin", "qmail-inject")]
        if sender is not None:
            args.append("-f" + sender)
        args += ["-a", "--"] + list(recipients)
        env = dict(self.env)
        if extra_env:
            env.update(extra_env)
        p = subprocess.run(args, input=message.encode() if isinstance(message, str) else message,
                           capture_output=True, env=env)
        return p.returncode, p.stderr.decode(errors="replace")

    def log(self):
        try:
            with open(self.logpath, "rb") as f:
                return f.read().decode(errors="replace")
        except OSError:
            return ""

    def wait_log(self, pattern, timeout=30, count=1):
        """Waits until `count` lines match the regular expression; returns them."""
        rx = re.compile(pattern, re.M)
        deadline = time.time() + timeout
        while True:
            found = rx.findall(self.log())
            if len(found) >= count:
                return found
            if time.time() > deadline:
                raise TimeoutError("no %d line(s) matching %r in the log after %ss" % (count, pattern, timeout))
            time.sleep(0.05)

    def wait_until(self, cond, timeout=30):
        deadline = time.time() + timeout
        while not cond():
            if time.time() > deadline:
                return False
            time.sleep(0.05)
        return True

    def queue_empty(self):
        q = os.path.join(self.home, "queue")
        for d in ("todo", "intd"):
            if os.listdir(os.path.join(q, d)):
                return False
        for d in ("mess", "info", "local", "remote"):
            for s in range(23):
                if os.listdir(os.path.join(q, d, str(s))):
                    return False
        return not os.listdir(os.path.join(q, "bounce"))

    def maildir_messages(self, path):
        out = []
        for sub in ("new", "cur"):
            d = os.path.join(path, sub)
            if os.path.isdir(d):
                for n in sorted(os.listdir(d)):
                    with open(os.path.join(d, n), "rb") as f:
                        out.append(f.read())
        return out

    # -- added for tests/send ------------------------------------------------
    def queue_message(self, message, sender, recipients, extra_env=None):
        """bin/qmail-queue itself: message on fd 0, envelope
        F{sender}\\0 T{r}\\0 ... \\0 on fd 1, so that the envelope is exactly
        what the test says (no qmail-inject rewriting).  Strings or bytes.
        Returns qmail-queue's exit code."""
        def b(x):
            return x if isinstance(x, bytes) else x.encode()
        env = b"F" + b(sender) + b"\0" + b"".join(b"T" + b(r) + b"\0" for r in recipients) + b"\0"
        rfd, wfd = os.pipe()
        e = dict(self.env)
        if extra_env:
            e.update(extra_env)
        p = subprocess.Popen([os.path.join(self.home, "bin", "qmail-queue")], stdin=subprocess.PIPE,
                             stdout=rfd, env=e, cwd="/")
        os.close(rfd)
        os.write(wfd, env)
        os.close(wfd)
        p.communicate(b(message))
        self.last_qp = p.pid   # the "qp" of qmail-send's "info msg" line
        return p.returncode

    def qcheck(self):
        """HOME/bin/qmail-qcheck: (exit code, output)."""
        p = subprocess.run([os.path.join(self.home, "bin", "qmail-qcheck")], env=self.env,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        return p.returncode, p.stdout.decode(errors="replace")

    def queue_path(self, kind, msgid):
        """queue/{kind}/{split}/{id} for the split dirs, queue/{kind}/{id} else."""
        msgid = int(msgid)
        if kind in ("mess", "info", "local", "remote"):
            return os.path.join(self.home, "queue", kind, str(msgid % 23), str(msgid))
        return os.path.join(self.home, "queue", kind, str(msgid))

    def signal_pending(self, sig):
        """Is sig still pending (not yet delivered) for qmail-send?"""
        try:
            with open("/proc/%d/status" % self.proc.pid) as f:
                text = f.read()
        except OSError:
            return False
        bit = 1 << (int(sig) - 1)
        for line in text.splitlines():
            if line.startswith(("SigPnd:", "ShdPnd:")) and int(line.split()[1], 16) & bit:
                return True
        return False

    def signal_taken(self, sig, timeout=10):
        """Sends sig to qmail-send and waits until it has been delivered
        (its handler has run), so that the next event is seen after it."""
        self.signal(sig)
        return self.wait_until(lambda: not self.signal_pending(sig), timeout)

    def wait_exit(self, timeout=30):
        """Waits for qmail-send to exit by itself; its exit code, or None."""
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None

    def restart(self, timeout=10):
        """start() again after stop(): the log file is appended to, so this
        waits for one more start-up status line than the log already has
        (start() would be satisfied by the previous run's line)."""
        rx = r"^status: local 0/\d+ remote 0/\d+$"
        n = len(re.findall(rx, self.log(), re.M))
        # where each later run's lines begin (bytes into the log file)
        self.run_starts = getattr(self, "run_starts", []) + [os.path.getsize(self.logpath)]
        self.logfile = open(self.logpath, "ab")
        self.proc = subprocess.Popen([os.path.join(self.home, "bin", "qmail-start"), self.defaultdelivery],
                                     stdout=self.logfile, stderr=subprocess.STDOUT,
                                     env=self.env, cwd="/")
        self.wait_log(rx, timeout=timeout, count=n + 1)
