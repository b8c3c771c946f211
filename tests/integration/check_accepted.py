# SPDX-License-Identifier: MIT
"""Checks a station's log after kill -9 rounds against what its writers saw.

usage: check_accepted.py LOG_JSONL ACCEPTED ATTEMPTED LABEL [--epoch E]

LOG_JSONL: `wmctl log --json`; ACCEPTED: "TITLE SEQ ..." lines for every
record wmctl reported accepted; ATTEMPTED: every title a writer tried.
Every accepted title is in the log exactly once, at the seq it was
acknowledged with; seqs run 1..N; nothing appears that nobody attempted;
with --epoch, every record is in that epoch. Exits nonzero naming what
failed.
"""
import json
import sys

log, accepted, attempted_file, label = sys.argv[1:5]
epoch = int(sys.argv[6]) if len(sys.argv) > 6 and sys.argv[5] == "--epoch" else None
recs = [json.loads(l) for l in open(log, encoding="utf-8") if l.strip()]
errors = []
seqs = [r["seq"] for r in recs]
if seqs != list(range(1, len(recs) + 1)):
    errors.append("seqs not 1..N contiguous: %r" % seqs[:50])
if epoch is not None and any(r["epoch"] != epoch for r in recs):
    errors.append("epochs other than %d: %r" % (epoch, sorted(set(r["epoch"] for r in recs))))
at = {}
for r in recs:
    at.setdefault(r["activity"]["title"], []).append(r["seq"])
dups = {t: q for t, q in at.items() if len(q) > 1}
if dups:
    errors.append("titles recorded twice: %r" % list(dups.items())[:10])
attempted = set(l.rstrip("\n") for l in open(attempted_file, encoding="utf-8"))
extra = [t for t in at if t not in attempted]
if extra:
    errors.append("titles nobody attempted: %r" % extra[:10])
lost, wrong, n = [], [], 0
for line in open(accepted, encoding="utf-8"):
    line = line.rstrip("\n")
    if not line:
        continue
    n += 1
    title, ack = line.split(" ", 1)
    seq = int(ack.split(" ")[0])
    if title not in at:
        lost.append(title)
    elif at[title] != [seq]:
        wrong.append((title, seq, at[title]))
if lost:
    errors.append("%d accepted title(s) lost: %r" % (len(lost), lost[:10]))
if wrong:
    errors.append("accepted at another seq than acknowledged: %r" % wrong[:10])
if errors:
    sys.exit("\n".join(errors))
print("%s: %d records in the log, %d accepted by wmctl" % (label, len(recs), n))
