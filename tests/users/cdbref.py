"""Reference implementations for the users tests, written from the specs,
not from our C code:

- djb's cdb format (cr.yp.to/cdb/cdb.txt): 256 (pos, slots) pairs, the
  records "klen dlen key data" from byte 2048, then the 256 hash tables of
  (hash, pos) slots; hash h = 5381, h = ((h << 5) + h) ^ c (32 bits); table
  h % 256, first slot (h >> 8) % slots, linear probing.  The writer places
  the records of a table in the order they were added, which is what djb's
  cdbmake (and so qmail-newu) does; that is why a lookup finds the first.
- qmail-newu's users/cdb: key "!" + lowercase(local) + NUL for '=', "!" +
  lowercase(prefix) for '+', data = the fields with their first five ':'
  made NUL (up to the sixth), key "" = last characters of the prefixes.
- qmail-lspawn's lookup (qmail.md section 4).
"""

import struct


def cdb_hash(key):
    h = 5381
    for c in key:
        h = (((h << 5) + h) & 0xffffffff) ^ c
    return h


class Cdb:
    def __init__(self, data):
        self.d = data
        if len(data) < 2048:
            raise ValueError("cdb shorter than its header")

    def records(self):
        """Every record, in file order."""
        end = min(struct.unpack("<I", self.d[i * 8:i * 8 + 4])[0] for i in range(256))
        pos, out = 2048, []
        while pos < end:
            kl, dl = struct.unpack("<II", self.d[pos:pos + 8])
            out.append((self.d[pos + 8:pos + 8 + kl], self.d[pos + 8 + kl:pos + 8 + kl + dl]))
            pos += 8 + kl + dl
        if pos != end:
            raise ValueError("records overrun the hash tables")
        return out

    def find(self, key):
        """The first record of key through the hash tables, or None."""
        h = cdb_hash(key)
        tpos, slots = struct.unpack("<II", self.d[(h & 255) * 8:(h & 255) * 8 + 8])
        if not slots:
            return None
        slot = (h >> 8) % slots
        for _ in range(slots):
            sh, rpos = struct.unpack("<II", self.d[tpos + slot * 8:tpos + slot * 8 + 8])
            if not rpos:
                return None
            if sh == h:
                kl, dl = struct.unpack("<II", self.d[rpos:rpos + 8])
                if self.d[rpos + 8:rpos + 8 + kl] == key:
                    return self.d[rpos + 8 + kl:rpos + 8 + kl + dl]
            slot = (slot + 1) % slots
        return None


def cdb_make(records):
    """djb's cdbmake: the bytes of a cdb holding records [(key, data)...]."""
    body = b""
    pos = 2048
    tables = [[] for _ in range(256)]
    for k, d in records:
        h = cdb_hash(k)
        tables[h & 255].append((h, pos))
        rec = struct.pack("<II", len(k), len(d)) + k + d
        body += rec
        pos += len(rec)
    header = b""
    tail = b""
    for t in tables:
        slots = 2 * len(t)
        header += struct.pack("<II", pos + len(tail), slots)
        table = [(0, 0)] * slots
        for h, p in t:
            where = (h >> 8) % slots
            while table[where][1]:
                where = (where + 1) % slots
            table[where] = (h, p)
        tail += b"".join(struct.pack("<II", h, p) for h, p in table)
    return header + body + tail


def assign_records(lines):
    """qmail-newu 1.03's records for users/assign lines (without the final
    "." line), plus our one fix: the "" record holds the last character of
    each prefix lowercased (qmail keeps its case)."""
    recs, wild = [], b""
    for line in lines:
        i = line.index(b":")
        local = line[1:i].lower()
        if line[:1] == b"+":
            key = b"!" + local
            if local and local[-1:] not in wild:
                wild += local[-1:]
        else:
            key = b"!" + local + b"\0"
        fields = line[i + 1:].split(b":")
        recs.append((key, b"\0".join(fields[:6])))
    recs.append((b"", wild))
    return recs


def lspawn_lookup(db, local):
    """qmail-lspawn's nughde_get on users/cdb: the six fields, or None."""
    wild = db.find(b"")
    if wild is None:
        raise ValueError("no \"\" record")
    lower = b"!" + local.lower() + b"\0"
    i, flagwild = len(lower), False
    while i:
        if not flagwild or i == 1 or lower[i - 1:i] in wild:
            d = db.find(lower[:i])
            if d is not None:
                if flagwild:
                    d += local[i - 1:]
                return (d + b"\0").split(b"\0")[:6]
        i -= 1
        flagwild = True
    return None
