#!/usr/bin/env python3
"""qmail-pw2u [-/ohHuUC] [-c char] (qmail-pw2u(8), qmail.md section 4).

The expected lines are written here from the reference rules:
  account kept -> =name:user:uid:gid:home:::  and  +name-:user:uid:gid:home:-::
  alias        -> also +:alias:uid:gid:home:-::  (missing: "unable to find alias user")
  skipped: uid 0, uppercase (-U default; -u keeps), not in include / in exclude
  (compared without case), home missing or not owned (-o default; -h stops on
  a missing home; -H does not look), malformed lines;
  mailnames "user:name1:name2" (last line of a user wins), subusers
  "sub:user:pre:" -> =sub:...:-:pre: and +sub-:...:-:pre-:, append copied;
  -/ dash "-/", -c char / -C the break character; output ends with ".".
Homes are directories in the test's tmp dir; as root they are given to
made-up uids, otherwise every "owned" home has our own uid.
"""
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.environ.get("QS6_SRC", os.path.join(HERE, "..", "..")), "tests", "lib"))
sys.path.insert(0, HERE)
import qs6  # noqa: E402
from cdbref import Cdb, lspawn_lookup  # noqa: E402

t = qs6.Tap()
sb = t.sandbox()
users = os.path.join(sb, "users")
pw2u = os.path.join(sb, "bin", "qmail-pw2u")
env = dict(os.environ, QMAILHOME=sb)
root = os.geteuid() == 0
me = os.getuid()

A = 7790 if root else me   # alias
J = 7001 if root else me   # joe and friends
OTHER = 7002 if root else me + 1


def mkhome(name, uid):
    path = os.path.join(t.tmp, "h-" + name)
    os.mkdir(path)
    if root:
        os.chown(path, uid, 100)
    return path


ha = mkhome("alias", A)
hj = mkhome("joe", J)
missing = os.path.join(t.tmp, "missing")


def users_file(name, data):
    path = os.path.join(users, name)
    if data is None:
        if os.path.isdir(path):
            os.rmdir(path)
        elif os.path.exists(path):
            os.unlink(path)
    else:
        with open(path, "wb") as f:
            f.write(data.encode() if isinstance(data, str) else data)


def run(passwd, *opts):
    p = subprocess.run([pw2u] + list(opts), input=passwd.encode() if isinstance(passwd, str) else passwd,
                       env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    return p.returncode, p.stdout.decode(errors="replace"), p.stderr.decode(errors="replace")


def lines(*ls):
    return "".join(x + "\n" for x in ls)


ALIAS = "alias:x:%d:2108:alias:%s:/usr/sbin/nologin" % (A, ha)
JOE = "joe:x:%d:100:Joe User:%s:/bin/sh" % (J, hj)
alias_out = ["+:alias:%d:2108:%s:-::" % (A, ha), "=alias:alias:%d:2108:%s:::" % (A, ha), "+alias-:alias:%d:2108:%s:-::" % (A, ha)]
joe_out = ["=joe:joe:%d:100:%s:::" % (J, hj), "+joe-:joe:%d:100:%s:-::" % (J, hj)]

# --- the default rules -----------------------------------------------------------
passwd = lines(
    "root:x:0:0:root:/root:/bin/bash",
    ALIAS,
    JOE,
    "Bob:x:%d:100::%s:/bin/sh" % (J, hj),
    "short:x:%d:100" % J,
    "nosh:x:%d:100::%s" % (J, hj),
    "nohome:x:%d:100::%s:/bin/sh" % (J, missing),
    "notowned:x:%d:100::%s:/bin/sh" % (OTHER, hj),
    "nul\0:x:%d:100::%s:/bin/sh" % (J, hj),
    "badid:x:12abc:100::%s:/bin/sh" % hj,
    "",
) + "last:x:%d:100::%s:/bin/sh" % (J, hj)
expected = lines(*(alias_out + joe_out + ["=last:last:%d:100:%s:::" % (J, hj), "+last-:last:%d:100:%s:-::" % (J, hj), "."]))
t.is_(run(passwd), (0, expected, ""),
      "default: uid 0, uppercase, short, no shell field, missing or foreign home, NUL, bad uid skipped; last line without newline read")

t.is_(run(lines(JOE)), (111, "", "qmail-pw2u: fatal: unable to find alias user\n"), "no alias account: exit 111, qmail's text")
t.is_(run(lines(ALIAS, JOE), "-U"), (0, lines(*(alias_out + joe_out + ["."])), ""), "-U is the default")
t.is_(run(lines(ALIAS, "Bob:x:%d:100::%s:/bin/sh" % (J, hj)), "-u"),
      (0, lines(*(alias_out + ["=Bob:Bob:%d:100:%s:::" % (J, hj), "+Bob-:Bob:%d:100:%s:-::" % (J, hj), "."])), ""),
      "-u keeps an account with uppercase letters, as written")
t.is_(run(lines(ALIAS, "Bob:x:%d:100::%s:/bin/sh" % (J, hj)), "-u", "-U"), (0, lines(*(alias_out + ["."])), ""), "-u -U: the last option wins")
t.is_(run(lines(ALIAS, "joe:x:0%d:0100:g:%s:sh" % (J, hj)), "-H"),
      (0, lines(*(alias_out + ["=joe:joe:0%d:0100:%s:::" % (J, hj), "+joe-:joe:0%d:0100:%s:-::" % (J, hj), "."])), ""),
      "uid and gid are copied as written (leading zeros kept)")

# --- home strategies -----------------------------------------------------------------
nohome = "nohome:x:%d:100::%s:/bin/sh" % (J, missing)
notowned = "notowned:x:%d:100::%s:/bin/sh" % (OTHER, hj)
t.is_(run(lines(ALIAS, nohome, notowned), "-o"), (0, lines(*(alias_out + ["."])), ""), "-o: missing and foreign homes skipped")
rc, out, err = run(lines(ALIAS, notowned, nohome), "-h")
t.ok(rc == 111 and err.startswith("qmail-pw2u: fatal: unable to stat %s: " % missing), "-h: a missing home stops (\"unable to stat {home}\")")
t.is_(run(lines(ALIAS, notowned), "-h"), (0, lines(*(alias_out + ["."])), ""), "-h: a foreign home is skipped")
t.is_(run(lines(ALIAS, nohome, notowned), "-H"),
      (0, lines(*(alias_out + ["=nohome:nohome:%d:100:%s:::" % (J, missing), "+nohome-:nohome:%d:100:%s:-::" % (J, missing),
                               "=notowned:notowned:%d:100:%s:::" % (OTHER, hj), "+notowned-:notowned:%d:100:%s:-::" % (OTHER, hj), "."])), ""),
      "-H: homes not looked at")
t.is_(run(lines(ALIAS, nohome), "-H", "-o"), (0, lines(*(alias_out + ["."])), ""), "-H -o: the last option wins")
rc, out, err = run(lines(ALIAS, "odd:x:%d:100::/etc/passwd/x:/bin/sh" % J))
t.ok(rc == 111 and err.startswith("qmail-pw2u: fatal: unable to stat /etc/passwd/x: "), "-o: a home that cannot be checked (ENOTDIR) stops")

# --- users/include and users/exclude ------------------------------------------------------
BILL = "bill:x:%d:100::%s:/bin/sh" % (J, hj)
bill_out = ["=bill:bill:%d:100:%s:::" % (J, hj), "+bill-:bill:%d:100:%s:-::" % (J, hj)]
users_file("include", "# allowed\n\nALIAS\nJoe  \n")
t.is_(run(lines(ALIAS, JOE, BILL)), (0, lines(*(alias_out + joe_out + ["."])), ""), "include: only listed accounts (without case; comments, blanks, trailing blanks ignored)")
users_file("include", "joe\n")
t.is_(run(lines(ALIAS, JOE))[0:3:2], (111, "qmail-pw2u: fatal: unable to find alias user\n"), "include without alias: alias is skipped too")
users_file("include", "")
t.is_(run(lines(ALIAS, JOE))[0], 111, "an empty include allows nobody")
users_file("include", None)
users_file("exclude", "BILL\n")
t.is_(run(lines(ALIAS, JOE, BILL)), (0, lines(*(alias_out + joe_out + ["."])), ""), "exclude: listed accounts skipped (without case)")
users_file("exclude", None)
os.mkdir(os.path.join(users, "include"))
rc, out, err = run(lines(ALIAS, JOE))
t.ok(rc == 111 and err.startswith("qmail-pw2u: fatal: unable to read controls"), "an unreadable users/include: \"unable to read controls\"")
users_file("include", None)

# --- users/mailnames ------------------------------------------------------------------------
users_file("mailnames", "JOE:joe.shmoe::js\nalias:\nnobody:ghost\nnocolon\nbill:first\nbill:second\n")
t.is_(run(lines(ALIAS, JOE, BILL)),
      (0, lines("+:alias:%d:2108:%s:-::" % (A, ha),
                "=joe.shmoe:joe:%d:100:%s:::" % (J, hj), "+joe.shmoe-:joe:%d:100:%s:-::" % (J, hj),
                "=js:joe:%d:100:%s:::" % (J, hj), "+js-:joe:%d:100:%s:-::" % (J, hj),
                "=second:bill:%d:100:%s:::" % (J, hj), "+second-:bill:%d:100:%s:-::" % (J, hj),
                "."), ""),
      "mailnames: the names replace the account name; \"alias:\" leaves only the catch-all; the last line of a user wins; unknown users ignored")
users_file("mailnames", None)

# --- users/subusers --------------------------------------------------------------------------
users_file("subusers", "sub:joe:pre:\nSub2:JOE:p2:\nx:joe\ny:joe:nocolon\n")
sub_out = ["=sub:joe:%d:100:%s:-:pre:" % (J, hj), "+sub-:joe:%d:100:%s:-:pre-:" % (J, hj),
           "=Sub2:joe:%d:100:%s:-:p2:" % (J, hj), "+Sub2-:joe:%d:100:%s:-:p2-:" % (J, hj)]
t.is_(run(lines(ALIAS, JOE)), (0, lines(*(alias_out + joe_out + sub_out + ["."])), ""),
      "subusers: = and + lines after the accounts; the user is found without case; short lines skipped")
users_file("subusers", "sub:joe:pre:\nz:nobody:p:\n")
rc, out, err = run(lines(ALIAS, JOE))
t.is_((rc, err), (111, "qmail-pw2u: fatal: unable to find nobody user for subuser\n"), "subusers: an unknown user stops, qmail's text")
users_file("subusers", "z:bill:p:\n")
users_file("exclude", "bill\n")
t.is_(run(lines(ALIAS, BILL))[0:3:2], (111, "qmail-pw2u: fatal: unable to find bill user for subuser\n"), "subusers: a skipped account is unknown")
users_file("exclude", None)

# --- -/ -c -C -------------------------------------------------------------------------------
users_file("subusers", "sub:joe:pre:\n")
t.is_(run(lines(ALIAS, JOE), "-/"),
      (0, lines("+:alias:%d:2108:%s:-/::" % (A, ha), "=alias:alias:%d:2108:%s:::" % (A, ha), "+alias-:alias:%d:2108:%s:-/::" % (A, ha),
                "=joe:joe:%d:100:%s:::" % (J, hj), "+joe-:joe:%d:100:%s:-/::" % (J, hj),
                "=sub:joe:%d:100:%s:-/:pre:" % (J, hj), "+sub-:joe:%d:100:%s:-/:pre-:" % (J, hj), "."), ""),
      "-/: dash -/ (home/.qmail-/ext) everywhere but the = lines of accounts")
t.is_(run(lines(ALIAS, JOE), "-c", "+"),
      (0, lines("+:alias:%d:2108:%s:-::" % (A, ha), "=alias:alias:%d:2108:%s:::" % (A, ha), "+alias+:alias:%d:2108:%s:-::" % (A, ha),
                "=joe:joe:%d:100:%s:::" % (J, hj), "+joe+:joe:%d:100:%s:-::" % (J, hj),
                "=sub:joe:%d:100:%s:-:pre:" % (J, hj), "+sub+:joe:%d:100:%s:-:pre-:" % (J, hj), "."), ""),
      "-c +: the prefixes end with +; qmail still puts - after a subuser's pre")
t.is_(run(lines(ALIAS, JOE), "-c+x")[1].count("+joe+:"), 1, "-c+x: only the first character counts")
nobreak = lines("+:alias:%d:2108:%s:-::" % (A, ha), "=alias:alias:%d:2108:%s:::" % (A, ha),
                "=joe:joe:%d:100:%s:::" % (J, hj), "=sub:joe:%d:100:%s:-:pre:" % (J, hj), ".")
t.is_(run(lines(ALIAS, JOE), "-C"), (0, nobreak, ""), "-C: no extensions (only the catch-all + line)")
t.is_(run(lines(ALIAS, JOE), "-c", ""), (0, nobreak, ""), "-c '': like -C")
t.is_(run(lines(ALIAS, JOE), "-C", "-c", "-")[1], lines(*(alias_out + joe_out + ["=sub:joe:%d:100:%s:-:pre:" % (J, hj), "+sub-:joe:%d:100:%s:-:pre-:" % (J, hj), "."])),
      "-C -c -: the last option wins")
users_file("subusers", None)
rc, out, err = run(lines(ALIAS), "-x")
t.ok(rc == 100 and out == "" and err.startswith("qmail-pw2u: usage: "), "a bad option: exit 100, usage")
t.is_(run(lines(ALIAS), "-c")[0], 100, "-c without its argument: exit 100")

# --- users/append -----------------------------------------------------------------------------
users_file("append", "=postmaster:alias:%d:2108:%s:-:postmaster:\n" % (A, ha))
t.is_(run(lines(ALIAS)), (0, lines(*(alias_out + ["=postmaster:alias:%d:2108:%s:-:postmaster:" % (A, ha), "."])), ""), "append: copied before the final .")
users_file("append", "=a:a:1:1:/a:::\n=b:b:2:2:/b:::")
t.is_(run(lines(ALIAS))[1], lines(*(alias_out + ["=a:a:1:1:/a:::", "=b:b:2:2:/b:::", "."])), "append without a final newline: one is added")
users_file("append", None)
os.mkdir(os.path.join(users, "subusers"))
rc, out, err = run(lines(ALIAS))
t.ok(rc == 111 and err.startswith("qmail-pw2u: fatal: unable to read input: "), "users/subusers unreadable: \"unable to read input\"")
users_file("subusers", None)

# --- into qmail-newu -------------------------------------------------------------------------
users_file("subusers", "sub:joe:pre:\n")
rc, out, err = run(lines(ALIAS, JOE))
with open(os.path.join(users, "assign"), "w") as f:
    f.write(out)
p = subprocess.run([os.path.join(sb, "bin", "qmail-newu")], env=env)
db = Cdb(open(os.path.join(users, "cdb"), "rb").read())
t.is_(p.returncode, 0, "qmail-newu takes qmail-pw2u's output")
t.is_(lspawn_lookup(db, b"Joe-Foo"), [b"joe", str(J).encode(), b"100", hj.encode(), b"-", b"Foo"], "joe-foo -> joe, ext Foo")
t.is_(lspawn_lookup(db, b"joe"), [b"joe", str(J).encode(), b"100", hj.encode(), b"", b""], "joe -> joe")
t.is_(lspawn_lookup(db, b"sub-x"), [b"joe", str(J).encode(), b"100", hj.encode(), b"-", b"pre-x"], "sub-x -> joe, ext pre-x")
t.is_(lspawn_lookup(db, b"nobody"), [b"alias", str(A).encode(), b"2108", ha.encode(), b"-", b"nobody"], "nobody -> alias")

t.done()
