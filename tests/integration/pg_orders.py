# SPDX-License-Identifier: MIT
"""Random needs and orders (群众点单、派单、接单、评单) at a running town and its
stations, through wmctl, for the PostgreSQL export test (it_pg_export.sh): the
whole loop and its odd cases, so that the views' fold meets every rule of the
order state machine (storage/wm_orders.c): needs reviewed (accepted,
rejected, a few dated before the need) or left pending; orders open or to a
station, answering a need or none, due soon or late; acceptances by one or
two stations (a race on an open order, a station the order is not addressed
to), completions (now and then dated before the acceptance, or by a station
that did not take it), ratings (by the station whose need it answers, by
another, twice), cancellations. Dates are spread over the last 500 days and
never after today. The town writes its word (order_assigned,
order_completed) itself as it ingests the steps.

Usage: pg_orders.py WMCTL SEED N TOWN_CONF STATION_ID=STATION_CONF...
N: needs per station (orders: about as many as needs in all). Prints the
number of records written.
"""
import datetime
import json
import random
import subprocess
import sys


def main():
    wmctl, seed, n, town = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
    stations = [a.split("=", 1) for a in sys.argv[5:]]
    rnd = random.Random(seed)
    today = datetime.date.today()
    first = today - datetime.timedelta(days=500)
    written = 0

    def clamp(d):
        return min(max(d, first), today)

    def run(conf, *args):
        nonlocal written
        r = subprocess.run([wmctl, "-c", conf] + list(args) + ["--json"], capture_output=True,
                           text=True)
        if r.returncode != 0:
            sys.exit("pg_orders: %s: %s" % (" ".join(args), r.stderr.strip()))
        written += 1
        return json.loads(r.stdout)["id"]

    def day():
        return first + datetime.timedelta(days=rnd.randint(0, 500))

    def later(d, lo, hi):
        return clamp(d + datetime.timedelta(days=rnd.randint(lo, hi)))

    def steps(oid, d, to, need):
        """Acceptances, a completion, ratings and perhaps a cancellation."""
        takers = [to] if to is not None else rnd.sample(range(len(stations)), rnd.randint(0, 2))
        if to is not None and rnd.random() < 0.15:  # a station it is not addressed to
            takers.append(rnd.randrange(len(stations)))
        done = None
        for t in takers:
            a = later(d, -3, 20)
            run(stations[t][1], "order", "accept", oid, "--date", a.isoformat())
            if done is None and rnd.random() < 0.7:
                done = later(a, -4, 25)  # now and then dated before the acceptance
                run(stations[t][1], "order", "done", oid, "--seq", "1", "--date", done.isoformat())
        if done is None and rnd.random() < 0.1:  # by a station that did not take it
            done = later(d, 0, 30)
            run(stations[rnd.randrange(len(stations))][1], "order", "done", oid, "--seq", "1",
                "--date", done.isoformat())
        if done is not None and rnd.random() < 0.8:
            who = need[1] if need else (takers[0] if takers else 0)
            if rnd.random() < 0.15:  # a station whose need it does not answer
                who = rnd.randrange(len(stations))
            for _ in range(2 if rnd.random() < 0.15 else 1):  # rated twice now and then
                run(stations[who][1], "order", "rate", oid, "--score", str(rnd.randint(1, 5)),
                    "--date", later(done, -2, 12).isoformat())
        if rnd.random() < 0.12:  # cancelled, perhaps after it was taken
            run(town, "order", "cancel", oid, "--reason", "天气原因", "--date",
                later(d, 0, 30).isoformat())

    kinds = ["environmental", "science", "legal", "assistance", "other"]
    needs = []  # (id, station index, date)
    for i, (sid, conf) in enumerate(stations):
        for k in range(n):
            d = day()
            nid = run(conf, "need", "add", "--date", d.isoformat(), "--title", "需求%d-%d" % (i, k),
                      "--service-kind", rnd.choice(kinds))
            needs.append((nid, i, d))
    for nid, i, d in needs:
        x = rnd.random()
        if x < 0.15:
            continue  # left pending
        rd = clamp(d + datetime.timedelta(days=rnd.randint(-5, 20) if x < 0.25 else rnd.randint(0, 20)))
        if rnd.random() < 0.75:
            run(town, "need", "review", nid, "--accept", "--date", rd.isoformat())
        else:
            run(town, "need", "review", nid, "--reject", "--reason", "无法安排", "--date",
                rd.isoformat())
    for k in range(n * len(stations)):
        d = day()
        due = d + datetime.timedelta(days=rnd.randint(0, 90))
        args = ["order", "create", "--title", "订单%d" % k, "--service-kind", rnd.choice(kinds),
                "--due", due.isoformat(), "--date", d.isoformat()]
        to = rnd.randrange(len(stations)) if rnd.random() < 0.5 else None
        args += ["--to", stations[to][0]] if to is not None else ["--open"]
        need = rnd.choice(needs) if needs and rnd.random() < 0.6 else None
        if need:
            args += ["--need", need[0]]
        oid = run(town, *args)
        steps(oid, d, to, need)
    print(written)


main()
