# SPDX-License-Identifier: MIT
"""corrupt_mdb — damages one sub-database of a wmsync LMDB file in the
middle, the way a bad disk sector would, for the read-error tests.

    python3 corrupt_mdb.py DATA.MDB DBNAME [PREFIX_HEX]

It finds the sub-database DBNAME (log, rollup, teams, peers, …) through the
main database, goes down its tree to a branch page whose children are
leaves, and points one child at a page number beyond the end of the file.
The child is the middle one of those whose first key starts with
PREFIX_HEX (all children without it), never the first or the last of
them: the environment still opens, the first and last entries still read
(the paths to them do not pass that child), but a scan that walks across
the middle stops with MDB_PAGE_NOTFOUND.

Prints the first key of the child it cut off, in hex: the first entry a
scan can no longer reach. Exit 1 if the tree is too small (fewer than
three such children under one branch page).

LMDB's file layout (lmdb 0.9, 64-bit, little-endian): pages of the OS page
size, written in the meta page at offset 40 (4096 on amd64, up to 65536 on
other hosts: docs/porting.md); pages 0 and 1 are meta pages (the one with the higher txnid is current),
whose main database (MDB_db at offset 88: depth u16 at +6, root u64 at
+40) names the sub-databases. A page has a 16-byte header (pgno u64, pad
u16, flags u16, lower u16, upper u16), then u16 offsets of its nodes; a
node is lo u16, hi u16, flags u16, ksize u16, key, data. A branch node's
child is lo | hi << 16 | flags << 32; a leaf node's data size lo | hi << 16
(a sub-database's entry has flag 0x02 and an MDB_db as data).
"""
import struct
import sys

PAGE = 4096  # until main() reads it from the file
HDR = 16
P_BRANCH, P_LEAF = 0x01, 0x02
F_SUBDATA = 0x02


def nodes(buf, pg):
    off = pg * PAGE
    lower = struct.unpack_from("<H", buf, off + 12)[0]
    for i in range(max((lower - HDR) // 2, 0)):
        p = struct.unpack_from("<H", buf, off + HDR + 2 * i)[0]
        lo, hi, fl, ks = struct.unpack_from("<HHHH", buf, off + p)
        yield off + p, lo, hi, fl, bytes(buf[off + p + 8:off + p + 8 + ks])


def kind(buf, pg):
    return struct.unpack_from("<H", buf, pg * PAGE + 10)[0] & 0x7F


def children(buf, pg):
    return [(at, lo | hi << 16 | fl << 32) for at, lo, hi, fl, _ in nodes(buf, pg)]


def first_key(buf, pg):
    while kind(buf, pg) == P_BRANCH:
        pg = children(buf, pg)[0][1]
    return next(nodes(buf, pg))[4]


def find_db(buf, pg, name):
    """The root page of sub-database `name`, searching the main tree."""
    if kind(buf, pg) == P_BRANCH:
        for _, child in children(buf, pg):
            root = find_db(buf, child, name)
            if root is not None:
                return root
        return None
    for at, lo, hi, fl, key in nodes(buf, pg):
        if key == name and fl & F_SUBDATA:
            data = at + 8 + len(key)
            depth = struct.unpack_from("<H", buf, data + 6)[0]
            return struct.unpack_from("<Q", buf, data + 40)[0], depth
    return None


def main():
    path, name = sys.argv[1], sys.argv[2].encode()
    prefix = bytes.fromhex(sys.argv[3]) if len(sys.argv) > 3 else b""
    with open(path, "rb") as f:
        buf = bytearray(f.read())
    global PAGE
    PAGE = struct.unpack_from("<I", buf, 40)[0]
    metas = [struct.unpack_from("<Q", buf, m * PAGE + 144)[0] for m in (0, 1)]
    meta = (0 if metas[0] >= metas[1] else 1) * PAGE
    found = find_db(buf, struct.unpack_from("<Q", buf, meta + 128)[0], name)
    if not found or found[1] < 2:
        print("corrupt_mdb: %s has no branch page in %s" % (name.decode(), path), file=sys.stderr)
        return 1
    pg = found[0]
    while kind(buf, children(buf, pg)[0][1]) == P_BRANCH:  # down to the leaves' parent
        kids = children(buf, pg)
        pg = kids[len(kids) // 2][1]
    kids = children(buf, pg)
    firsts = [first_key(buf, child) for _, child in kids]
    own = [i for i, k in enumerate(firsts) if k.startswith(prefix)]
    if len(own) < 3:
        print("corrupt_mdb: too few %s leaves under one branch page" % name.decode(),
              file=sys.stderr)
        return 1
    cut = own[len(own) // 2]
    bad = 0x7FFFFFF0  # far beyond any page of the file
    struct.pack_into("<HHH", buf, kids[cut][0], bad & 0xFFFF, bad >> 16 & 0xFFFF, 0)
    with open(path, "r+b") as f:
        f.seek(pg * PAGE)
        f.write(buf[pg * PAGE:(pg + 1) * PAGE])
    print(firsts[cut].hex())
    return 0


if __name__ == "__main__":
    sys.exit(main())
