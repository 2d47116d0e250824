#!/usr/bin/env python3
"""qmail-getpw local (qmail-getpw(8), qmail.md section 4).

Rules from the reference: the longest prefix of local shorter than 32
characters that ends at the end or before a '-', lowercased, is an account
with a non-zero uid that owns its existing home -> user, uid, gid, home,
dash "" (all of local) or "-", ext = the rest; else the account "alias" with
dash "-" and ext = local; no alias account -> exit 116, nothing printed.
Output: six NUL-terminated fields.  No argument -> exit 100.
In a sandbox every address goes to "alias" = the sandbox user, home
HOME/alias (qmail-getpw(8) of qmail-s6).

Accounts are created (useradd, uniquely named, homes in the test's tmp dir,
removed at exit) only when we are root; otherwise only the fallback rules
are tested.
"""
import atexit
import os
import pwd
import random
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.environ.get("QS6_SRC", os.path.join(HERE, "..", "..")), "tests", "lib"))
import qs6  # noqa: E402

t = qs6.Tap()
sb = t.sandbox()
getpw = os.path.join(sb, "bin", "qmail-getpw")
root = os.geteuid() == 0


def run(home, *args):
    p = subprocess.run([getpw] + list(args), env=dict(os.environ, QMAILHOME=home),
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    return p.returncode, p.stdout


def rec(*fields):
    return b"".join((f.encode() if isinstance(f, str) else f) + b"\0" for f in fields)


# --- usage --------------------------------------------------------------------
t.is_(run(sb), (100, b""), "no argument: exit 100, nothing printed")

# --- sandbox: everything to alias = the sandbox user, home HOME/alias ---------
_, suid, sgid = open(os.path.join(sb, "sandbox")).read().strip().split(":")
alias_home = os.path.join(os.path.realpath(sb), "alias")
for local, desc in (("Joe-Foo", "an address"), ("", "the empty address"), ("root", "root"),
                    (pwd.getpwuid(os.getuid()).pw_name, "the caller's own account")):
    t.is_(run(sb, local), (0, rec("alias", suid, sgid, alias_home, "-", local)),
          "sandbox: %s -> alias, the sandbox ids, HOME/alias, dash -, ext = local" % desc)

bad = os.path.join(t.tmp, "badsandbox")
os.mkdir(bad)
with open(os.path.join(bad, "sandbox"), "w") as f:
    f.write("not a sandbox line\n")
t.is_(run(bad, "joe"), (118, b""), "unreadable sandbox file: exit 118 (temporary), nothing printed")
t.is_(run(os.path.join(t.tmp, "nonexistent"), "joe"), (118, b""), "no home directory: exit 118, nothing printed")

# --- a real home (no sandbox file): passwd -----------------------------------
home = os.path.join(t.tmp, "home")
os.mkdir(home)
try:
    alias = pwd.getpwnam("alias")
except KeyError:
    alias = None


def fallback(local):
    if alias is None:
        return (116, b"")
    return (0, rec(alias.pw_name, str(alias.pw_uid), str(alias.pw_gid), alias.pw_dir, "-", local))


what = "alias" if alias else "exit 116 (no alias account here)"
t.is_(run(home, "root"), fallback("root"), "root (uid 0) is never a user -> " + what)
t.is_(run(home, "Root-x"), fallback("Root-x"), "Root-x -> " + what + ", ext = all of local")
t.is_(run(home, "qs6-no-such-account-x"), fallback("qs6-no-such-account-x"), "no such account -> " + what)
t.is_(run(home, ""), fallback(""), "empty address -> " + what)

if not root:
    t.skip("not root: no test accounts")
    t.done()

# --- test accounts (root only) -------------------------------------------------
tag = "qs6gp%05d" % random.randrange(100000)
created = []


def cleanup():
    for name in created:
        subprocess.run(["userdel", name], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


atexit.register(cleanup)


def account(name, homedir, owned=True, mkhome=True):
    """Creates name with home homedir; returns its passwd entry or None."""
    if mkhome:
        os.mkdir(homedir)
    r = subprocess.run(["useradd", "-M", "-N", "-d", homedir, "-s", "/usr/sbin/nologin", name],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    if r.returncode:
        t.diag("useradd %s: %s" % (name, r.stdout.decode(errors="replace")))
        return None
    created.append(name)
    pw = pwd.getpwnam(name)
    if mkhome and owned:
        os.chown(homedir, pw.pw_uid, pw.pw_gid)
    return pw


def user(pw, dash, ext):
    return (0, rec(pw.pw_name, str(pw.pw_uid), str(pw.pw_gid), pw.pw_dir, dash, ext))


h = os.path.join(t.tmp, "homes")
os.mkdir(h)
os.chmod(h, 0o755)
a = account(tag, os.path.join(h, "a"))
b = account(tag + "-sub", os.path.join(h, "b"))
n31 = account(tag + "x" * (31 - len(tag)), os.path.join(h, "n31"))
n32 = account(tag + "y" * (32 - len(tag)), os.path.join(h, "n32"))
notowned = account(tag + "no", os.path.join(h, "notowned"), owned=False)
nohome = account(tag + "nh", os.path.join(h, "missing"), mkhome=False)

if not (a and b and n31 and notowned and nohome):
    t.ok(False, "useradd works")
    t.done()

t.is_(run(home, tag), user(a, "", ""), "an account: dash and ext empty")
t.is_(run(home, tag.upper()), user(a, "", ""), "the account in uppercase: the prefix is lowercased")
t.is_(run(home, tag + "-Foo-Bar"), user(a, "-", "Foo-Bar"), "account-Foo-Bar: dash -, ext Foo-Bar (its case kept)")
t.is_(run(home, tag + "-"), user(a, "-", ""), "account-: dash -, ext empty")
t.is_(run(home, tag + "x"), fallback(tag + "x"), "accountx: a prefix must end before a '-' -> " + what)
t.is_(run(home, tag + "-sub"), user(b, "", ""), "account-sub: the longer account wins")
t.is_(run(home, tag + "-sub-ext"), user(b, "-", "ext"), "account-sub-ext: the longest prefix wins")
t.is_(run(home, tag + "-subway"), user(a, "-", "subway"), "account-subway: account, ext subway")
t.is_(run(home, n31.pw_name), user(n31, "", ""), "a 31-character account is found")
t.is_(run(home, n31.pw_name + "-x"), user(n31, "-", "x"), "a 31-character account with an extension")
if n32:
    t.is_(run(home, n32.pw_name), fallback(n32.pw_name), "a 32-character account is never found -> " + what)
    t.is_(run(home, n32.pw_name + "-x"), fallback(n32.pw_name + "-x"), "nor with an extension")
else:
    t.skip("useradd refused a 32-character name")
    t.skip("useradd refused a 32-character name")
t.is_(run(home, notowned.pw_name), fallback(notowned.pw_name), "home not owned by the account -> " + what)
t.is_(run(home, nohome.pw_name + "-x"), fallback(nohome.pw_name + "-x"), "home missing -> " + what)
t.is_(run(sb, tag), (0, rec("alias", suid, sgid, alias_home, "-", tag)), "in a sandbox the account is not looked up")

# as qmail-lspawn runs it: an unprivileged uid
p = subprocess.run(["setpriv", "--reuid=" + suid, "--regid=" + sgid, "--clear-groups", "--", getpw, tag + "-z"],
                   env=dict(os.environ, QMAILHOME=home), stdout=subprocess.PIPE)
t.is_((p.returncode, p.stdout), user(a, "-", "z"), "run by an unprivileged uid (as qmailp)")

t.done()
