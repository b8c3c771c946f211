# SPDX-License-Identifier: MIT
"""The figures of PostgreSQL's views (wmsync.totals, docs/postgres.md) against
`wmctl rollup --format json` for random periods and scopes (it_pg_export.sh).

Usage: pg_compare.py WMCTL CONF CONNINFO SEED N STATION_ID...
For N random periods (days, ISO weeks, bi-weeks, months, quarters, halves,
years, ranges) and each scope (the aggregator itself, then every station)
compares every key of `totals`, numbers as numbers, nulls as nulls (the
ratios of needs and orders without a closed loop), a key on one side only
as a mismatch. Prints one line per
mismatch and a summary; exits 1 on any mismatch.
"""
import datetime
import json
import random
import subprocess
import sys


def period(rnd, today):
    y = rnd.choice([today.year - 1, today.year])
    k = rnd.randrange(8)
    if k == 0:
        return str(y)
    if k == 1:
        return "%d-H%d" % (y, rnd.randint(1, 2))
    if k == 2:
        return "%d-Q%d" % (y, rnd.randint(1, 4))
    if k == 3:
        return "%d-%02d" % (y, rnd.randint(1, 12))
    if k == 4:
        return "%d-W%02d" % (y, rnd.randint(1, 52))
    if k == 5:
        return "%d-BW%02d" % (y, rnd.randint(1, 26))
    a = today - datetime.timedelta(days=rnd.randint(0, 520))
    if k == 6:
        return a.isoformat()
    b = a + datetime.timedelta(days=rnd.randint(0, 200))
    return "%s..%s" % (a.isoformat(), b.isoformat())


MISSING = object()  # a key one side lacks


def flat(o, prefix=""):
    out = {}
    for k, v in o.items():
        if isinstance(v, dict):
            out.update(flat(v, prefix + k + "."))
        else:
            out[prefix + k] = v
    return out


def main():
    wmctl, conf, conn, seed, n = sys.argv[1:6]
    stations = sys.argv[6:]
    rnd = random.Random(int(seed))
    today = datetime.date.today()
    jobs = []
    for _ in range(int(n)):
        p = period(rnd, today)
        for scope in [None] + stations:
            jobs.append((p, scope))
    rollups, sql = [], []
    for i, (p, scope) in enumerate(jobs):
        args = [wmctl, "-c", conf, "rollup", "--period", p, "--format", "json"]
        if scope:
            args += ["--station", scope]
        r = subprocess.run(args, capture_output=True, text=True)
        if r.returncode != 0:
            sys.exit("pg_compare: %s: %s" % (" ".join(args[3:]), r.stderr.strip()))
        j = json.loads(r.stdout)
        rollups.append(j)
        node = "NULL" if scope is None else "'%s'" % scope
        sql.append("SELECT %d, wmsync.totals('%s', '%s', %s);" % (i, j["from"], j["to"], node))
    r = subprocess.run(["psql", conn, "-X", "-q", "-At", "-F", "\t", "-v", "ON_ERROR_STOP=1"],
                       input="\n".join(sql), capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit("pg_compare: psql: %s" % r.stderr.strip())
    got = {}
    for line in r.stdout.splitlines():
        i, js = line.split("\t", 1)
        got[int(i)] = json.loads(js)
    bad = 0
    for i, (p, scope) in enumerate(jobs):
        want = flat(rollups[i]["totals"])
        have = flat(got[i])
        for k in sorted(set(want) | set(have)):
            a, b = want.get(k, MISSING), have.get(k, MISSING)
            if a is None or b is None:  # a ratio without a closed loop: null at both
                same = a is b
            else:
                same = (a is not MISSING and b is not MISSING and
                        (abs(float(a) - float(b)) < 0.005 if not isinstance(a, str) else a == b))
            if not same:
                bad += 1
                if bad <= 20:
                    print("MISMATCH %s %s %s: wmctl rollup %r, PostgreSQL %r" %
                          (p, scope or "(all)", k, a, b))
    nkeys = sum(len(flat(j["totals"])) for j in rollups)
    print("pg_compare: %d periods x %d scopes, %d figures compared, %d mismatches" %
          (int(n), len(stations) + 1, nkeys, bad))
    sys.exit(1 if bad else 0)


main()
