# SPDX-License-Identifier: MIT
#
# Report latency at every tier of a simulated province (issue: reports in
# milliseconds at every tier): tests/integration/it_province.sh builds the
# tree with real daemons for every aggregator (PROVINCE_SHAPE, default the
# full "4 10 50": 1 province <- 4 counties <- 40 towns <- 2,000 stations),
# publishes 2024-05, 2024-06 and the year 2024 up every tier, and times each
# level's report (bench_report: the rollup object built and serialized,
# the path of `wmctl rollup --format json`), p50 and p99 of N runs.
#
# Printed beside the targets at the top of the province (year <= 10 ms,
# month <= 5 ms), and beside the same report at a county whose towns
# publish JSON (county c2 plays a build without rollup-bin): the path
# before binary rollups, measured in the same run.
#
# Usage: bash tests/bench/bench_tiers.sh BUILD_DIR
set -eu
BUILD=$(cd "$1" && pwd)
HERE=$(cd "$(dirname "$0")" && pwd)
OUT=$(mktemp)
trap 'rm -f "$OUT"' EXIT
t0=$(date +%s)
PROVINCE_SHAPE=${PROVINCE_SHAPE:-4 10 50} PROVINCE_BENCH=$BUILD/tests/bench/bench_report \
    PROVINCE_BENCH_OUT=$OUT PROVINCE_BENCH_N=${PROVINCE_BENCH_N:-200} \
    bash "$HERE/../integration/it_province.sh" "$BUILD/cli/wmctl" "$BUILD/daemon/wmsyncd" \
    "$BUILD/tests/integration/sim_town" | tail -1
echo "tiers_shape ${PROVINCE_SHAPE:-4 10 50} (counties, towns each, stations each); $(($(date +%s) - t0)) s in all"
printf '%-9s %-12s %-8s %8s %8s %10s %11s %10s\n' level node period p50_ms p99_ms target_ms p99/target json_kib
awk '
$1 == "report_ms" {
    id = $2; role = $3; period = $4; p50 = $6; p99 = $8; bytes = $12
    target = (role == "province") ? (period ~ /^[0-9]+$/ ? 10 : 5) : 0
    label = role
    if (role == "county" && id ~ /c2$/) label = "county*"
    if (target)
        printf "%-9s %-12s %-8s %8.2f %8.2f %10d %11.2f %10d\n", label, id, period, p50, p99, target, p99 / target, bytes / 1024
    else
        printf "%-9s %-12s %-8s %8.2f %8.2f %10s %11s %10d\n", label, id, period, p50, p99, "-", "-", bytes / 1024
}' "$OUT"
echo "county*: its towns publish JSON (a county of an older build): the path before binary rollups"
