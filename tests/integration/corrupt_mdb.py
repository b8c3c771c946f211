# SPDX-License-Identifier: MIT
"""corrupt_mdb — damages one sub-database of a wmsync LMDB file in the
middle, the way a bad disk sector would, for the read-error tests.

    python3 corrupt_mdb.py DATA.MDB log|rollup

It finds a branch page whose children are leaf pages of the chosen
sub-database (log: 16-byte keys node|epoch|seq with a signed record as
value; rollup: 8-byte keys scope|day with a 288-byte counter vector, cut
among a station's own days, scope not 0), and
points its middle child at a page number beyond the end of the file. The
environment still opens and the first and last entries still read (the
paths to them do not pass that child), but a scan that walks across the
middle stops with MDB_PAGE_NOTFOUND. Run it on a compacted copy (wmctl
backup): it has no stale pages that look like live ones.

Prints the first key of the child it cut off (log: "EPOCH/SEQ", rollup:
"SCOPE/DAY"): the first entry a scan can no longer reach. Exit 1 if no
such branch page exists (too little data for a two-level tree).

LMDB's page layout (lmdb 0.9, 64-bit, little-endian): a 16-byte header
(pgno u64, pad u16, flags u16, lower u16, upper u16), then u16 offsets of
the nodes; a node is lo u16, hi u16, flags u16, ksize u16, key, data. A
branch node's child page number is lo | hi << 16 | flags << 32; a leaf
node's data size is lo | hi << 16.
"""
import struct
import sys

PAGE = 4096
HDR = 16
P_BRANCH, P_LEAF = 0x01, 0x02
F_BIGDATA = 0x01


def nodes(buf, off):
    lower = struct.unpack_from("<H", buf, off + 12)[0]
    n = (lower - HDR) // 2
    for i in range(max(n, 0)):
        p = struct.unpack_from("<H", buf, off + HDR + 2 * i)[0]
        if p < HDR or p + 8 > PAGE:
            return
        lo, hi, fl, ks = struct.unpack_from("<HHHH", buf, off + p)
        yield i, off + p, lo, hi, fl, ks


def flags(buf, pg):
    return struct.unpack_from("<H", buf, pg * PAGE + 10)[0]


def is_target_leaf(buf, pg, kind):
    if pg * PAGE + PAGE > len(buf) or flags(buf, pg) & 0x7F != P_LEAF:
        return None
    for _, at, lo, hi, fl, ks in nodes(buf, pg * PAGE):
        size = lo | hi << 16
        key = buf[at + 8:at + 8 + ks]
        if kind == "log" and ks == 16 and (fl & F_BIGDATA or size > 64):
            return "%d/%d" % (struct.unpack(">I", key[4:8])[0], struct.unpack(">Q", key[8:])[0])
        if kind == "rollup" and ks == 8 and size == 288:
            return "%d/%d" % struct.unpack(">II", key)
        return None
    return None


def main():
    path, kind = sys.argv[1], sys.argv[2]
    with open(path, "rb") as f:
        buf = bytearray(f.read())
    npages = len(buf) // PAGE
    for pg in range(2, npages):  # pages 0 and 1 are the meta pages
        if flags(buf, pg) & 0x7F != P_BRANCH:
            continue
        kids = [(at, lo | hi << 16 | fl << 32) for _, at, lo, hi, fl, _ in nodes(buf, pg * PAGE)]
        firsts = [is_target_leaf(buf, c, kind) for _, c in kids]
        if len(kids) < 3 or not all(firsts):
            continue
        mid = len(kids) // 2
        if kind == "rollup":
            # A child whose entries are a station's own (scope not 0), not
            # the one a scan of that scope starts in: the middle of the rest.
            own = [i for i, k in enumerate(firsts) if not k.startswith("0/")]
            if len(own) < 2:
                continue
            mid = own[len(own) // 2]
        at = kids[mid][0]
        bad = 0x7FFFFFF0  # far beyond any page of the file
        struct.pack_into("<HHH", buf, at, bad & 0xFFFF, bad >> 16 & 0xFFFF, 0)
        with open(path, "r+b") as f:
            f.seek(pg * PAGE)
            f.write(buf[pg * PAGE:(pg + 1) * PAGE])
        print(firsts[mid])
        return 0
    print("corrupt_mdb: no branch page over %s leaves in %s" % (kind, path), file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
