# SPDX-License-Identifier: MIT
#
# The web console's speed and memory (issue: wmweb), each beside a limit
# measured in the same run:
#   1. POST /api/v1/records through a station's wmweb and daemon, one
#      keep-alive connection, p50/p99 (target p99 <= 10 ms), beside the
#      daemon's own durable append round trip over its control socket
#      (bench_ctl, no HTTP, no JSON);
#   2. GET /api/v1/rollup of a town's month with 40 stations (sim_town plays
#      them against a real town daemon), p50/p99 (target p99 <= 20 ms),
#      beside `wmctl rollup --format json` of the same month (a process
#      per query, LMDB opened each time);
#   3. wmweb's resident memory (VmRSS) idle, and with 20 sessions open
#      (target <= 16 MiB; a login's 64 MiB password hash is freed at once,
#      so it is not counted here).
# A benchmark, not a test: it prints figures and fails only if it cannot
# set up the nodes or a request is refused.
#
# Usage: bash tests/bench/bench_web.sh BUILD_DIR   (BENCH_WEB_N=500 posts,
# BENCH_WEB_Q=200 rollup queries)
set -eu

if [ $# -ne 1 ]; then
    echo "usage: $0 BUILD_DIR" >&2
    exit 2
fi
BUILD=$(cd "$1" && pwd)
N=${BENCH_WEB_N:-500}
Q=${BENCH_WEB_Q:-200}
WMCTL=$BUILD/cli/wmctl
WMSYNCD=$BUILD/daemon/wmsyncd
WMWEB=$BUILD/web/wmweb
BENCH_CTL=$BUILD/tests/bench/bench_ctl
SIM_TOWN=$BUILD/tests/integration/sim_town
for b in "$WMCTL" "$WMSYNCD" "$WMWEB" "$BENCH_CTL" "$SIM_TOWN"; do
    [ -x "$b" ] || { echo "bench_web: $b is not built" >&2; exit 1; }
done
TMP=$(mktemp -d "${TMPDIR:-/tmp}/wmbench-web.XXXXXX")
PIDS=()
cleanup() {
    for p in "${PIDS[@]:-}"; do
        [ -n "$p" ] && kill -TERM "$p" 2>/dev/null || true
    done
    for p in "${PIDS[@]:-}"; do
        [ -n "$p" ] && wait "$p" 2>/dev/null || true
    done
    rm -rf "$TMP"
}
trap cleanup EXIT
mkdir -p "$TMP/assets" && echo '<!doctype html>' >"$TMP/assets/index.html"

# wait_for CMD...: polls CMD until it succeeds (10 s at most).
wait_for() {
    local i
    for i in $(seq 1 200); do
        "$@" >/dev/null 2>&1 && return 0
        sleep 0.05
    done
    echo "bench_web: timed out waiting for: $*" >&2
    exit 1
}
running() { "$WMCTL" -c "$1/wmsync.conf" status --json | grep -q '"daemon_running":true'; }

# start_web DIR: wmweb for DIR on a free port; URL in $URL, pid in $WPID.
start_web() {
    "$WMWEB" -c "$1/wmsync.conf" --assets "$TMP/assets" --listen 127.0.0.1:0 \
        >"$1/web.out" 2>"$1/web.log" &
    WPID=$!
    PIDS+=("$WPID")
    wait_for grep -q '^wmweb: serving' "$1/web.out"
    URL=$(sed -n 's/^wmweb: serving \(http[^ ]*\) .*/\1/p' "$1/web.out")
}

rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }

CLIENT='
import http.client, json, sys, time, urllib.parse
mode, url, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
u = urllib.parse.urlsplit(url)
def conn():
    return http.client.HTTPConnection(u.hostname, u.port, timeout=30)
def login(c, user, pw):
    c.request("POST", "/api/v1/login", json.dumps({"user": user, "password": pw}),
              {"Content-Type": "application/json"})
    r = c.getresponse(); b = r.read()
    assert r.status == 200, b
    return {"Cookie": r.getheader("Set-Cookie").split(";")[0], "X-CSRF-Token": json.loads(b)["csrf"]}
def timed(c, n, method, path, body, h):
    t = []
    for i in range(n):
        t0 = time.perf_counter()
        c.request(method, path, body(i) if body else None, h)
        r = c.getresponse(); b = r.read()
        t.append((time.perf_counter() - t0) * 1000)
        assert r.status in (200, 201), (r.status, b[:200])
    t.sort()
    return t
if mode == "post":
    c = conn(); h = login(c, "op", "op-password"); h["Content-Type"] = "application/json"
    body = lambda i: json.dumps({"kind": "activity", "date": "2024-03-05", "category": "theme_lecture",
        "title": "学习贯彻党的二十大精神主题宣讲（网页第%d期）" % i, "place": "新河村新时代文明实践站",
        "participants": 40, "volunteers": 5, "hours": 2.5})
    timed(c, 20, "POST", "/api/v1/records", body, h)
    t = timed(c, n, "POST", "/api/v1/records", body, h)
elif mode == "rollup":
    c = conn(); h = login(c, "op", "op-password")
    timed(c, 10, "GET", "/api/v1/rollup?period=2024-05", None, h)
    t = timed(c, n, "GET", "/api/v1/rollup?period=2024-05", None, h)
elif mode == "sessions":
    cs = []
    for i in range(n):
        c = conn(); h = login(c, "op", "op-password")
        c.request("GET", "/api/v1/status", headers=h); c.getresponse().read()
        cs.append(c)
    print("sessions %d" % n)
    sys.stdin.read()  # keep them open until told
    sys.exit(0)
print("%.3f %.3f %.3f" % (t[len(t) // 2], t[int((len(t) - 1) * 0.99)], sum(t) / len(t)))
'

# ---- 1. a station: POST /api/v1/records beside the control socket ----------
S=$TMP/station
"$WMCTL" init --role station --id xx/longhua/xinhe --name 新河村新时代文明实践站 --dir "$S" >/dev/null
"$WMSYNCD" -c "$S/wmsync.conf" >"$S/daemon.log" 2>&1 &
PIDS+=("$!")
wait_for running "$S"
echo op-password | "$WMCTL" -c "$S/wmsync.conf" user add op --role operator --password-stdin >/dev/null
start_web "$S"
SWPID=$WPID
SURL=$URL
IDLE=$(rss_kib "$SWPID")
"$BENCH_CTL" "$S/wmsync.conf" "$N" 2 >"$TMP/ctl.out" 2>&1 ||
    { echo "bench_web: bench_ctl failed: $(tail -3 "$TMP/ctl.out")" >&2; exit 1; }
read -r WP50 WP99 WMEAN < <(python3 -c "$CLIENT" post "$URL" "$N")
CP99=$(awk -F'|' '/control socket, 1 client/ {gsub(/ /, "", $4); print $4}' "$TMP/ctl.out")
echo "POST /api/v1/records: $N durable appends through wmweb and the daemon, one keep-alive connection"
printf '  wmweb:                      p50 %6.2f ms  p99 %6.2f ms  mean %6.2f ms
' "$WP50" "$WP99" "$WMEAN"
printf '  ratio to the 10 ms target:  p99 x%.2f
' "$(awk -v a="$WP99" 'BEGIN {print a / 10}')"
printf '  ratio to the daemon'"'"'s own control-socket round trip (p99 %s ms): p99 x%.2f
' "$CP99" \
    "$(awk -v a="$WP99" -v b="$CP99" 'BEGIN {print (b > 0 ? a / b : 0)}')"
echo "  the daemon's own round trip (bench_ctl, same daemon, same run):"
grep -v '^ctl_appended' "$TMP/ctl.out" | sed 's/^/    /'

# ---- 2. a town of 40 stations: GET /api/v1/rollup of a month ----------------
PORT=$((20000 + RANDOM % 20000))
TW=$TMP/town
"$WMCTL" init --role town --id xx/longhua --name 龙华镇新时代文明实践所 --dir "$TW" \
    --listen "tcp://127.0.0.1:$PORT" >/dev/null
"$WMSYNCD" -c "$TW/wmsync.conf" >"$TW/daemon.log" 2>&1 &
PIDS+=("$!")
wait_for running "$TW"
"$SIM_TOWN" "$TW" "$(cat "$TW/keys/curve.pub")" 40 3 "$TMP/sim" "$TMP/truth.jsonl" >"$TMP/sim.log" 2>&1 ||
    { echo "bench_web: sim_town failed: $(tail -3 "$TMP/sim.log")" >&2; exit 1; }
wait_for bash -c "'$WMCTL' -c '$TW/wmsync.conf' status --json | grep -q '\"caught_up\":true'"
echo op-password | "$WMCTL" -c "$TW/wmsync.conf" user add op --role viewer --password-stdin >/dev/null
start_web "$TW"
read -r RP50 RP99 RMEAN < <(python3 -c "$CLIENT" rollup "$URL" "$Q")
t0=$(date +%s%N)
for i in $(seq 1 20); do
    "$WMCTL" -c "$TW/wmsync.conf" rollup --period 2024-05 --format json >/dev/null
done
CLI_MS=$(awk -v a="$t0" -v b="$(date +%s%N)" 'BEGIN {printf "%.2f", (b - a) / 20 / 1e6}')
echo "GET /api/v1/rollup?period=2024-05 at a town of 40 stations, $Q queries:"
printf '  wmweb:                   p50 %6.2f ms  p99 %6.2f ms  mean %6.2f ms  (p99 / 20 ms target = %.2f)\n' \
    "$RP50" "$RP99" "$RMEAN" "$(awk -v a="$RP99" 'BEGIN {print a / 20}')"
printf '  wmctl rollup --format json (a process each, LMDB opened each time): mean %s ms\n' "$CLI_MS"

# ---- 3. memory ---------------------------------------------------------------
# 20 sessions held open (20 logins, 20 keep-alive connections) by one client
# that waits on a fifo; wmweb's VmRSS while they are open.
mkfifo "$TMP/hold"
python3 -c "$CLIENT" sessions "$SURL" 20 <"$TMP/hold" >"$TMP/sess.out" 2>&1 &
HOLD=$!
exec 8>"$TMP/hold"
wait_for grep -q '^sessions 20' "$TMP/sess.out"
RSS20=$(rss_kib "$SWPID")
exec 8>&-
wait "$HOLD" 2>/dev/null || true
RSSNOW=$(rss_kib "$SWPID")
echo "wmweb resident memory (VmRSS), target <= 16 MiB:"
for x in "idle, just started:$IDLE" "with 20 sessions open:$RSS20" "after the sessions closed:$RSSNOW"; do
    printf '  %-34s %6.1f MiB  (x%.2f of 16 MiB)\n' "${x%:*}" "$(awk -v k="${x##*:}" 'BEGIN {print k / 1024}')" \
        "$(awk -v k="${x##*:}" 'BEGIN {print k / 1024 / 16}')"
done
