#!/usr/bin/env python3
"""qmail-newu: users/assign -> users/cdb (qmail-users(5), qmail-newu(8),
qmail.md section 4).

The expected cdb comes from tests/users/cdbref.py, a reference cdbmake and
reader written from djb's cdb spec and qmail-newu's documented key and data
format, and from records written out by hand below; lookups follow
qmail-lspawn's algorithm.  Errors: exit 111 with qmail's texts
("qmail-newu: fatal: bad format in users/assign", "... unable to open
users/assign", "... unable to open users/cdb.tmp"), users/cdb untouched and
no users/cdb.tmp left.
"""
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.environ.get("QS6_SRC", os.path.join(HERE, "..", "..")), "tests", "lib"))
sys.path.insert(0, HERE)
import qs6  # noqa: E402
from cdbref import Cdb, assign_records, cdb_make, lspawn_lookup  # noqa: E402

t = qs6.Tap()
sb = t.sandbox()
users = os.path.join(sb, "users")
newu = os.path.join(sb, "bin", "qmail-newu")
env = dict(os.environ, QMAILHOME=sb)
root = os.geteuid() == 0


def write_assign(data):
    with open(os.path.join(users, "assign"), "wb") as f:
        f.write(data)


def run(extra_env=None, argv=None, as_sandbox=False):
    cmd = argv or [newu]
    if as_sandbox and root:
        _, uid, gid = open(os.path.join(sb, "sandbox")).read().strip().split(":")
        cmd = ["setpriv", "--reuid=" + uid, "--regid=" + gid, "--clear-groups", "--"] + cmd
    p = subprocess.run(cmd, env=extra_env or env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    return p.returncode, p.stdout, p.stderr


def cdb_bytes():
    with open(os.path.join(users, "cdb"), "rb") as f:
        return f.read()


def build(lines, desc):
    """Writes lines + "." and runs qmail-newu; checks exit 0 and the bytes."""
    write_assign(b"".join(x + b"\n" for x in lines) + b".\n")
    rc, out, err = run()
    t.is_((rc, out, err), (0, b"", b""), desc + ": exit 0, silent")
    got = cdb_bytes()
    t.ok(got == cdb_make(assign_records(lines)), desc + ": users/cdb has the bytes of djb's cdbmake")
    return Cdb(got)


# --- the qmail-users(5) example ---------------------------------------------
example = [
    b"+:alias:7790:2108:/var/qmail/alias:-::",
    b"+joe-:joe:507:100:/home/joe:-::",
    b"=joe:joe:507:100:/home/joe:::",
]
db = build(example, "qmail-users(5) example")
t.is_(db.records(), [
    (b"!", b"alias\x007790\x002108\x00/var/qmail/alias\x00-\x00"),
    (b"!joe-", b"joe\x00507\x00100\x00/home/joe\x00-\x00"),
    (b"!joe\x00", b"joe\x00507\x00100\x00/home/joe\x00\x00"),
    (b"", b"-"),
], "records in file order: keys !, !joe-, !joe NUL, then \"\" = the prefix characters")
t.is_(lspawn_lookup(db, b"joe"), [b"joe", b"507", b"100", b"/home/joe", b"", b""], "joe: the = line (dash and ext empty)")
t.is_(lspawn_lookup(db, b"joe-direct"), [b"joe", b"507", b"100", b"/home/joe", b"-", b"direct"], "joe-direct: the +joe- line, ext = direct")
t.is_(lspawn_lookup(db, b"bill"), [b"alias", b"7790", b"2108", b"/var/qmail/alias", b"-", b"bill"], "bill: the catch-all, ext = bill")
t.is_(lspawn_lookup(db, b"JOE"), [b"joe", b"507", b"100", b"/home/joe", b"", b""], "JOE: keys are case-insensitive")
t.is_(lspawn_lookup(db, b"Joe-Direct"), [b"joe", b"507", b"100", b"/home/joe", b"-", b"Direct"], "Joe-Direct: ext keeps the address's case")
st = os.stat(os.path.join(users, "cdb"))
t.is_(oct(st.st_mode & 0o7777), "0o644", "users/cdb is mode 0644 (umask 033)")
t.ok(not os.path.exists(os.path.join(users, "cdb.tmp")), "users/cdb.tmp is gone (renamed)")

# --- wildcards with pre, longest prefix, the prefix-character set ------------
lines = [
    b"+:alias:7790:2108:/a:-::",
    b"+list-:lists:600:60:/home/lists:-:ml-:",
    b"+list-big-:lists:600:60:/home/lists:-:big-:",
    b"+ab:ab:601:60:/home/ab:-:x:",
    b"=exact:ex:602:60:/home/ex:-:e:",
]
db = build(lines, "wildcards")
t.is_(db.find(b""), b"-b", "\"\" record: each prefix's last character once, in order")
t.is_(lspawn_lookup(db, b"list-foo"), [b"lists", b"600", b"60", b"/home/lists", b"-", b"ml-foo"], "list-foo: pre + rest")
t.is_(lspawn_lookup(db, b"list-big-x"), [b"lists", b"600", b"60", b"/home/lists", b"-", b"big-x"], "list-big-x: the longest prefix wins")
t.is_(lspawn_lookup(db, b"list-"), [b"lists", b"600", b"60", b"/home/lists", b"-", b"ml-"], "list-: a prefix matches itself")
t.is_(lspawn_lookup(db, b"abc"), [b"ab", b"601", b"60", b"/home/ab", b"-", b"xc"], "abc: +ab (b in the set)")
t.is_(lspawn_lookup(db, b"exact"), [b"ex", b"602", b"60", b"/home/ex", b"-", b"e"], "exact: the = line")
t.is_(lspawn_lookup(db, b"exactly"), [b"alias", b"7790", b"2108", b"/a", b"-", b"exactly"], "exactly: = is not a prefix")

# --- first assignment wins ----------------------------------------------------
lines = [b"=joe:first:1:1:/f:::", b"=JOE:second:2:2:/s:::", b"+w-:w1:3:3:/w1:-::", b"+w-:w2:4:4:/w2:-::"]
db = build(lines, "duplicates")
t.is_(len(db.records()), 5, "both duplicates are stored, as qmail-newu does")
t.is_(lspawn_lookup(db, b"joe")[0], b"first", "=: the first assignment wins")
t.is_(lspawn_lookup(db, b"w-x")[0], b"w1", "+: the first assignment wins")

# --- what qmail-newu tolerates ------------------------------------------------
write_assign(b"=joe:joe:1:2:/h:-:ext:trailing:junk\n=crlf:c:3:4:/c:::\r\n=:empty:5:6:/e:::\n.\r\n")
rc, out, err = run()
t.is_(rc, 0, "anything after the seventh colon (junk, a CR) is ignored; \".\\r\" ends")
db = Cdb(cdb_bytes())
t.is_(db.find(b"!joe\0"), b"joe\x001\x002\x00/h\x00-\x00ext", "data stops at the sixth field")
t.is_(db.find(b"!crlf\0"), b"c\x003\x004\x00/c\x00\x00", "CRLF line: the CR is after the last colon")
t.is_(db.find(b"!\0"), b"empty\x005\x006\x00/e\x00\x00", "an empty local is a key \"!\\0\"")

write_assign(b"=a:a:1:1:/a:::\n.whatever\nthis is not a line\n")
rc, _, _ = run()
t.is_(rc, 0, "a line starting with \".\" ends the file; what follows is ignored")
t.is_(Cdb(cdb_bytes()).records(), [(b"!a\0", b"a\x001\x001\x00/a\x00\x00"), (b"", b"")], "only the lines before it count")

write_assign(b"=a:a:1:1:/a:::\n.")
rc, _, _ = run()
t.is_(rc, 0, "a final \".\" without newline is enough")

write_assign(b".\n")
rc, _, _ = run()
t.is_((rc, cdb_bytes()), (0, cdb_make([(b"", b"")])), "just \".\": a cdb with the empty \"\" record only")

write_assign(b"=JOE.Shmoe:joe:1:1:/j:::\n+Big-List-:l:2:2:/l:-::\n+joE:e:3:3:/e:-::\n.\n")
rc, _, _ = run()
db = Cdb(cdb_bytes())
t.ok(rc == 0 and db.find(b"!joe.shmoe\0") is not None and db.find(b"!big-list-") is not None,
     "keys are lowercased")
t.is_(db.find(b""), b"-e", "the prefix characters are lowercased (qmail 1.03 keeps 'E', see qmail-newu(8))")
t.is_(lspawn_lookup(db, b"JOEY")[0], b"e", "so +joE matches joey")

# --- errors: exit 111, qmail's text, users/cdb untouched, no cdb.tmp ----------
good = [b"=keep:keep:9:9:/keep:::"]
build(good, "a good users/cdb first")
before = cdb_bytes()
bad = [
    (b"joe:joe:1:2:/h:::\n.\n", "line 1: line does not start with = or +", "a line not starting with = or +"),
    (b"=joe\n.\n", "line 1: no colon", "no colon"),
    (b"=a:a:1:1:/a:::\n=joe:joe:1:2:/h::\n.\n", "line 2: fewer than seven colons", "six colons"),
    (b"=joe:joe:1:2:/h:-:e\n.\n", "line 1: fewer than seven colons", "no colon after ext"),
    (b"=jo\0e:joe:1:2:/h:::\n.\n", "line 1: NUL in line", "a NUL"),
    (b"=joe:joe:x1:2:/h:::\n.\n", "line 1: uid is not a number", "uid not a number"),
    (b"=joe:joe::2:/h:::\n.\n", "line 1: uid is not a number", "empty uid"),
    (b"=joe:joe:1:-2:/h:::\n.\n", "line 1: gid is not a number", "gid not a number"),
    (b"=joe:joe:4294967295:2:/h:::\n.\n", "line 1: uid is not a number", "uid 2^32-1"),
    (b"=joe:joe:1:2:/h:::\n", "no final \".\" line", "no \".\" line"),
    (b"", "no final \".\" line", "an empty file"),
    (b"=joe:joe:1:2:/h:::\n=bob:bob:1:2:/h:::", "line 2: incomplete last line", "a last line without newline"),
    (b"\n.\n", "line 1: line does not start with = or +", "an empty line"),
    (b"=" + b"x" * 70000 + b":u:1:1:/h:::\n.\n", "line 1: line too long", "a line of 70 kB"),
]
for data, why, desc in bad:
    write_assign(data)
    rc, out, err = run()
    t.is_((rc, out, err), (111, b"", b"qmail-newu: fatal: bad format in users/assign: " + why.encode() + b"\n"),
          "bad format (%s): exit 111 and qmail's text" % desc)
    t.ok(cdb_bytes() == before and not os.path.exists(os.path.join(users, "cdb.tmp")),
         "bad format (%s): users/cdb untouched, no users/cdb.tmp" % desc)

os.unlink(os.path.join(users, "assign"))
rc, out, err = run()
t.ok(rc == 111 and err.startswith(b"qmail-newu: fatal: unable to open users/assign: "),
     "no users/assign: exit 111, \"unable to open users/assign\"")
t.ok(cdb_bytes() == before, "no users/assign: users/cdb untouched")

rc, out, err = run(extra_env=dict(os.environ, QMAILHOME=os.path.join(sb, "nonexistent")))
t.ok(rc == 111 and err.startswith(b"qmail-newu: fatal: unable to chdir: "), "no home: exit 111, \"unable to chdir\"")

# users/ not writable: the sandbox user cannot write a root-owned users/
write_assign(b"=a:a:1:1:/a:::\n.\n")
if not root:
    os.chmod(users, 0o555)
if root or os.access(users, os.W_OK) is False:
    rc, out, err = run(as_sandbox=True)
    t.ok(rc == 111 and err.startswith(b"qmail-newu: fatal: unable to open users/cdb.tmp: "),
         "users/ not writable: exit 111, \"unable to open users/cdb.tmp\"")
    t.ok(cdb_bytes() == before, "users/ not writable: users/cdb untouched")
else:
    t.skip("users/ stays writable")
    t.skip("users/ stays writable")
os.chmod(users, 0o755)

# a stale users/cdb.tmp (a killed run) is reused and replaced
with open(os.path.join(users, "cdb.tmp"), "wb") as f:
    f.write(b"junk" * 5000)
os.chmod(os.path.join(users, "cdb.tmp"), 0o600)
build(example, "over a stale users/cdb.tmp")
t.is_(oct(os.stat(os.path.join(users, "cdb")).st_mode & 0o7777), "0o644", "the new users/cdb is 0644 whatever cdb.tmp was")

# --- a bigger file, and concurrent runs ---------------------------------------
big = [b"+:alias:7790:2108:/a:-::"]
for i in range(3000):
    big.append(b"=user%d:user%d:%d:%d:/home/user%d:::" % (i, i, 1000 + i, 100, i))
    big.append(b"+user%d-:user%d:%d:%d:/home/user%d:-::" % (i, i, 1000 + i, 100, i))
db = build(big, "6001 lines")
t.is_(lspawn_lookup(db, b"user2999-x"), [b"user2999", b"3999", b"100", b"/home/user2999", b"-", b"x"], "6001 lines: a lookup")
procs = [subprocess.Popen([newu], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _ in range(8)]
results = [(p.wait(), p.stdout.read(), p.stderr.read()) for p in procs]
for p in procs:
    p.stdout.close()
    p.stderr.close()
t.is_(results, [(0, b"", b"")] * 8, "8 simultaneous runs all succeed")
t.ok(cdb_bytes() == cdb_make(assign_records(big)), "8 simultaneous runs: users/cdb is whole")
t.ok(not os.path.exists(os.path.join(users, "cdb.tmp")), "8 simultaneous runs: no users/cdb.tmp left")

t.done()
