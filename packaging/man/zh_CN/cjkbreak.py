#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# cjkbreak.py IN OUT: a Chinese man page as groff 1.22 can fill it: a
# zero-width break point (\:) between two CJK characters, so that lines
# break inside Chinese text ("can't break line" otherwise). Comment lines
# are left as they are. Run by the build before gzip.
import re
import sys

CJK = "\u3000-\u303f\u4e00-\u9fff\uff00-\uffef\u201c\u201d"
OPEN = "（《「『“〔【"    # no break after these
CLOSE = "，。、；：？！）》」』”〕】"  # nor before these
PAT = re.compile("([%s])(?=[%s])" % (CJK, CJK))


def brk(m):
    a, b = m.group(1), m.string[m.end()]
    return a if a in OPEN or b in CLOSE else a + "\\:"


# After a list comma or a full stop a line may break whatever follows
# (".BR role 、 id 、 name" runs words together with no space).
PUNCT = re.compile(r"([、，；。])(?!\\:|$|[%s])" % CLOSE)


def line(l):
    if l.startswith('.\\"'):
        return l
    return PUNCT.sub(r"\1\\:", PAT.sub(brk, l))


src = open(sys.argv[1], encoding="utf-8").read().split("\n")
out = [line(l) for l in src]
open(sys.argv[2], "w", encoding="utf-8").write("\n".join(out))
