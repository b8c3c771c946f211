# SPDX-License-Identifier: MIT
"""Random records of every kind at a running station, through `wmctl record`,
for the PostgreSQL export test (it_pg_export.sh): teams (more created along
the way), activities of every category with festival and 基层宣讲 tags, late
and recent dates, publicity, volunteers, recruitment, funding, site
checklists, plans, completions, and voids of any of
these but teams (a voided team takes no activity) (a station refuses a void of a void, or a second void of a record),
so the SQL views meet every rule of the rollup counters.

Usage: pg_records.py WMCTL CONF SEED N [FIRST_SEQ]
The station must be the only writer of its log; FIRST_SEQ is the seq its next
record gets (1 for a new log). Prints the seq of its last record.
"""
import datetime
import random
import subprocess
import sys

CATS = ["theme_lecture", "theory_education", "party_training", "civilization_practice",
        "culture_sports", "volunteer_service"]
KINDS = ["environmental", "science", "legal", "campus_safety", "traffic", "assistance", "other"]
CHANNELS = ["wechat", "website", "poster", "leaflet"]
SITE_FLAGS = ["plaque", "rules", "equipment", "manager", "ledger", "plan", "theme", "model"]


def main():
    wmctl, conf, seed, n = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    seq = int(sys.argv[5]) if len(sys.argv) > 5 else 1
    rnd = random.Random(seed)
    today = datetime.date.today()
    first = today - datetime.timedelta(days=500)
    teams, plans, open_plans, kept = [], [], [], []

    def day():
        if rnd.random() < 0.2:  # recent: not a late entry
            return (today - datetime.timedelta(days=rnd.randint(0, 6))).isoformat()
        return (first + datetime.timedelta(days=rnd.randint(0, 500))).isoformat()

    def rec(*args):
        nonlocal seq
        r = subprocess.run([wmctl, "-c", conf, "record", *args], capture_output=True, text=True)
        if r.returncode != 0:
            sys.exit("pg_records: wmctl record %s: %s" % (" ".join(args), r.stderr.strip()))
        seq += 1
        return seq - 1

    fresh = seq == 1  # a later round finds the first teams made
    for i in range(2):
        teams.append("t%d" % i)
        if fresh:
            rec("team", "--team", "t%d" % i, "--name", "队%d" % i, "--kind", "branch")
    for _ in range(n):
        x = rnd.random()
        if x < 0.45:
            cat = rnd.choice(CATS)
            a = ["activity", "--date", day(), "--category", cat, "--title", "活动%d" % seq,
                 "--participants", str(rnd.randint(0, 80)), "--volunteers", str(rnd.randint(0, 9))]
            if cat == "volunteer_service":
                a += ["--service-kind", rnd.choice(KINDS), "--hours", "%d.%02d" % (rnd.randint(0, 5), rnd.choice([0, 25, 29, 50, 99]))]
                if rnd.random() < 0.7:
                    a += ["--team", rnd.choice(teams)]
            if rnd.random() < 0.3:
                a += ["--festival", rnd.choice(["春节", "元旦", "基层宣讲"])]
            if rnd.random() < 0.2:
                a += ["--festival", "基层宣讲"]
            kept.append(rec(*a))
        elif x < 0.52:
            kept.append(rec("publicity", "--date", day(), "--channel", rnd.choice(CHANNELS),
                            "--count", str(rnd.randint(0, 500))))
        elif x < 0.57:
            kept.append(rec("volunteers", "--date", day(), "--registered", str(rnd.randint(0, 50)),
                            "--verified", str(rnd.randint(0, 40))))
        elif x < 0.61:
            kept.append(rec("recruitment", "--date", day(), "--count", str(rnd.randint(0, 5))))
        elif x < 0.66:
            kept.append(rec("funding", "--date", day(), "--yuan",
                            "%d.%02d" % (rnd.randint(0, 9000), rnd.randint(0, 99)), "--source", "县拨款"))
        elif x < 0.71:
            flags = ["--" + f for f in SITE_FLAGS if rnd.random() < 0.7]
            kept.append(rec("site", "--date", day(), *flags))
        elif x < 0.77:
            plans.append(rec("plan", "--title", "计划%d" % seq, "--due", day()))
            open_plans.append(plans[-1])
        elif x < 0.83 and open_plans:
            p = rnd.choice(open_plans)
            open_plans.remove(p)  # a plan is completed once
            kept.append(rec("plan-done", "--plan", str(p), "--date", day()))
        elif x < 0.86:
            name = "t%d_%d" % (seed, len(teams))
            teams.append(name)
            rec("team", "--team", name, "--name", "新队", "--kind", "branch")
        elif kept or plans:
            # a void of anything before it that is not a void nor voided
            target = rnd.choice(kept + plans)
            rec("void", "--seq", str(target), "--reason", "更正")
            (kept if target in kept else plans).remove(target)
            if target in open_plans:
                open_plans.remove(target)
    print(seq - 1)


main()
