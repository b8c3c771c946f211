#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Does a rollup hold exactly the figures of the records the simulated
stations wrote? The tiers' tests (it_bigtown, it_oldtier) run sim_town,
which writes one JSON line per station to a truth file:
{"months": {"2024-05": {"activities.theme_lecture": 3, ...}}}.

usage: truth_equal.py ROLLUP_JSON TRUTH MONTH [ROWS]
Prints "N figures equal", or each differing figure; with ROWS, the rollup
must also have exactly ROWS rows in "stations" (a county: its one town).
Exit 0 when all is equal, 1 otherwise.
"""
import json
import sys


def figure(totals, path):
    v = totals
    for p in path.split("."):
        v = v.get(p) if isinstance(v, dict) else None
    return v


def main(rollup, truth, month, rows=None):
    j = json.load(open(rollup))
    want = {}
    for line in open(truth):
        for k, v in json.loads(line)["months"].get(month, {}).items():
            want[k] = want.get(k, 0) + v
    bad = ["%s: rollup %s, records %s" % (k, figure(j["totals"], k), v)
           for k, v in sorted(want.items()) if figure(j["totals"], k) != v]
    if rows is not None and len(j["stations"]) != int(rows):
        bad.append("%d rows, want %s" % (len(j["stations"]), rows))
    print("; ".join(bad) if bad else "%d figures equal" % len(want))
    return 1 if bad else 0


if __name__ == "__main__":
    if len(sys.argv) not in (4, 5):
        sys.exit(__doc__)
    sys.exit(main(*sys.argv[1:]))
