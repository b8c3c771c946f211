# SPDX-License-Identifier: MIT
#
# How fast a town catches up with its stations over real daemons (durable
# commits, CURVE, ZAP), beside the limits measured in the same run
# (docs/design.md §4.6, §4.7, §7):
#
#   a) limits: single-core Ed25519 verify rate; raw LMDB, 100k puts in one
#      fsynced transaction (bench_ingest limits);
#   b) catch-up: one station with M records (gen_log) starts against a town
#      that holds nothing; time from the station daemon's start until the
#      town's stored (durable, acked) seq is M (bench_ingest catchup polls
#      the town's LMDB); target <= 2 s for 100k and >= 10x the verify rate;
#      then until every record's own signature is verified (the town's
#      verifier thread, off the ingest path): how long full verification
#      lags ingest, and the most records that waited unverified;
#   c) N stations x NM records catching up at once;
#   d) 1000 stations connected and synced to one town (bench_swarm plays
#      them in one process): the town's VmRSS, target <= 64 MiB;
#   e) the town's ingest itself, in one process (bench_town): the M records
#      of a station, pre-encoded as it sends them (Batches, then ZBatches),
#      through the aggregator's own router turn to the durable commit and
#      the ACK, beside raw LMDB puts of the same records measured in the
#      same run; target >= 0.5x. (b) and (c) share the two cores between
#      the town and its station daemons; (e) has the town alone.
#
# A benchmark, not a test: it prints figures and fails only if something
# cannot be set up or does not sync. Each part gets its own fresh town in a
# temporary directory, removed at exit.
#
# Usage: bash tests/bench/bench_sync.sh BUILD_DIR
#   BENCH_M (100000)  BENCH_N (10)  BENCH_NM (20000)  BENCH_SWARM (1000)
#   BENCH_SWARM_K (5 records per swarm station)
#   BENCH_KEEP=1      keep the temporary directory (daemon logs, figures)
#   BENCH_PROFILE=1   also record the town of (b) (`perf record -g`) and
#                     bench_town of (e) (its loop thread, the ingest window
#                     alone) and print the top of each profile.
#   BENCH_ONLY=e      run (a) and (e) only.
#   BENCH_TOWN_RUNS (5) runs of bench_town per mode in (e): median and spread.
set -eu

if [ $# -ne 1 ]; then
    echo "usage: $0 BUILD_DIR" >&2
    exit 2
fi
BUILD=$(cd "$1" && pwd)
M=${BENCH_M:-100000}
N=${BENCH_N:-10}
NM=${BENCH_NM:-20000}
SWARM=${BENCH_SWARM:-1000}
SWARM_K=${BENCH_SWARM_K:-5}
WMCTL=$BUILD/cli/wmctl
WMSYNCD=$BUILD/daemon/wmsyncd
GEN=$BUILD/tests/bench/gen_log
INGEST=$BUILD/tests/bench/bench_ingest
SWARMB=$BUILD/tests/bench/bench_swarm
TOWNB=$BUILD/tests/bench/bench_town
for b in "$WMCTL" "$WMSYNCD" "$GEN" "$INGEST" "$SWARMB" "$TOWNB"; do
    if [ ! -x "$b" ]; then
        echo "bench_sync: $b is not built" >&2
        exit 1
    fi
done

# About 2 descriptors per swarm station in bench_swarm, 1 in the town.
need=$((2 * SWARM + 256))
if [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt "$need" ]; then
    ulimit -n "$need" 2>/dev/null || {
        echo "bench_sync: cannot raise ulimit -n to $need (hard limit $(ulimit -Hn))" >&2
        exit 1
    }
fi

TMP=$(mktemp -d "${TMPDIR:-/tmp}/wmbench-sync.XXXXXX")
TOWN_PID=
stop_town() {
    if [ -n "$TOWN_PID" ] && kill -0 "$TOWN_PID" 2>/dev/null; then
        kill -TERM "$TOWN_PID" 2>/dev/null || true
        wait "$TOWN_PID" 2>/dev/null || true
    fi
    TOWN_PID=
}
cleanup() {
    stop_town
    if [ "${BENCH_KEEP:-0}" = 1 ]; then
        echo "bench_sync: kept $TMP" >&2
    else
        rm -rf "$TMP"
    fi
}
trap cleanup EXIT

now_us() {
    if [ -n "${EPOCHREALTIME:-}" ]; then
        local t=${EPOCHREALTIME/[.,]/}
        echo "$t"
    else
        echo $(($(date +%s%N) / 1000))
    fi
}

# Starts a fresh town in $1 on a free loopback port; sets TOWN_PID.
start_town() {
    local dir=$1 port tries=0
    while :; do
        port=$((20000 + RANDOM % 40000))
        rm -rf "$dir"
        "$WMCTL" init --role town --id xx/longhua --name 龙华镇 --dir "$dir" \
            --listen "tcp://127.0.0.1:$port" >/dev/null
        # gen_log captures a whole log on one day: beyond any day quota
        sed -i 's/^day_mb = .*/day_mb = 0/' "$dir/wmsync.conf"
        "$WMSYNCD" -c "$dir/wmsync.conf" 2>"$dir.log" &
        TOWN_PID=$!
        local deadline=$(($(now_us) + 10000000))
        until "$WMCTL" -c "$dir/wmsync.conf" status --json 2>/dev/null |
            grep -q '"daemon_running":true'; do
            if ! kill -0 "$TOWN_PID" 2>/dev/null || [ "$(now_us)" -gt "$deadline" ]; then
                break
            fi
            sleep 0.01 # poll interval
        done
        if kill -0 "$TOWN_PID" 2>/dev/null &&
            "$WMCTL" -c "$dir/wmsync.conf" status --json 2>/dev/null | grep -q '"daemon_running":true'; then
            TOWN_PORT=$port
            return 0
        fi
        stop_town
        tries=$((tries + 1))
        if [ "$tries" -ge 5 ]; then
            echo "bench_sync: the town would not start:" >&2
            cat "$dir.log" >&2
            exit 1
        fi
    done
}

# Makes station $2 (id xx/longhua/$2) of the town in $1 with $3 records,
# enrolled at the running town. Its daemon has never run (gen_log needs that).
make_station() {
    local town=$1 name=$2 m=$3 sdir=$TMP/$2
    "$WMCTL" init --role station --id "xx/longhua/$name" --name "站$name" --dir "$sdir" \
        --upstream "tcp://127.0.0.1:$TOWN_PORT" --upstream-key "$(cat "$town/keys/curve.pub")" \
        >/dev/null
    "$GEN" "$sdir" "$m" >/dev/null
    "$WMCTL" -c "$sdir/wmsync.conf" keys | "$WMCTL" -c "$town/wmsync.conf" enroll - >/dev/null
}

kib() { awk -v f="$2:" '$1 == f {print $2}' "/proc/$1/status"; }
val() { awk -v k="$2" '$1 == k {print $2}' "$1"; }

PERF=
if [ "${BENCH_PROFILE:-0}" = 1 ]; then
    if command -v perf >/dev/null 2>&1; then PERF=perf; else
        echo "bench_sync: BENCH_PROFILE=1 but perf is not installed; no profile" >&2
    fi
fi

echo "bench_sync: limits, 1 x $M, $N x $NM, $SWARM connected (x $SWARM_K records); in $TMP"

# a) limits, in the same run.
"$INGEST" limits >"$TMP/limits"

# e) the town's ingest itself: one station's M records into a fresh town,
# plain and compressed, each beside raw LMDB in the same run.
start_town "$TMP/Tp"
make_station "$TMP/Tp" se "$M"
stop_town
start_town "$TMP/Tz"
"$WMCTL" -c "$TMP/se/wmsync.conf" keys | "$WMCTL" -c "$TMP/Tz/wmsync.conf" enroll - >/dev/null
stop_town
# Each mode RUNS times, each on a fresh copy of its town (the ratio varies
# with what else the machine does: the median and the spread are printed;
# the row shows the median run). The profile is of the first run.
RUNS=${BENCH_TOWN_RUNS:-5}
load=$(cut -d' ' -f1-3 /proc/loadavg)
for mode in plain zstd; do
    town=$TMP/Tp
    [ "$mode" = zstd ] && town=$TMP/Tz
    for ((r = 1; r <= RUNS; r++)); do
        rm -rf "$town.run"
        cp -a "$town" "$town.run"
        out=$TMP/e-$mode-$r
        if [ -n "$PERF" ] && [ "$r" = 1 ]; then
            perf record -q -k CLOCK_MONOTONIC -F 4999 -o "$TMP/e-$mode.perf" "$TOWNB" "$town.run" \
                "$TMP/se" "$mode" >"$out" 2>"$out.log"
        else
            "$TOWNB" "$town.run" "$TMP/se" "$mode" >"$out" 2>"$out.log"
        fi
        rm -rf "$town.run"
    done
    # The median run (by town_ratio) stands for the mode.
    for ((r = 1; r <= RUNS; r++)); do echo "$(val "$TMP/e-$mode-$r" town_ratio) $r"; done |
        sort -n >"$TMP/e-$mode.order"
    cp "$TMP/e-$mode-$(awk -v m=$(((RUNS + 1) / 2)) 'NR == m {print $2}' "$TMP/e-$mode.order")" "$TMP/e-$mode"
    [ -z "$PERF" ] || cp "$TMP/e-$mode-1" "$TMP/e-$mode.first"
done
e_spread() { # MODE KEY: "min-max" of KEY over the runs
    for ((r = 1; r <= RUNS; r++)); do val "$TMP/e-$1-$r" "$2"; done |
        sort -n | awk 'NR == 1 {lo = $1} {hi = $1} END {printf "%s-%s", lo, hi}'
}
awk -v m="$M" -v runs="$RUNS" -v load="$load" -v ps="$(e_spread plain town_ratio)" \
    -v zs="$(e_spread zstd town_ratio)" -v pw="$(e_spread plain town_window_ratio)" \
    -v zw="$(e_spread zstd town_window_ratio)" '
    FILENAME ~ /plain$/ { p[$1] = $2 } FILENAME ~ /zstd$/ { z[$1] = $2 }
    function row(what, x) {
        printf "%-46s | %10.0f | %10.0f | %7.3fx | %6.2f us | %6.2f us\n", what, x["town_per_s"],
               x["limit_lmdb_batch_per_s"], x["town_ratio"], 1e6 * x["town_loop_cpu_s"] / m,
               1e6 / x["limit_lmdb_batch_per_s"]
    }
    END {
        printf "%-46s | %10s | %10s | %8s | %9s | %9s\n", "e) town ingest, one process (no stations)",
               "records/s", "LMDB/s", "ratio", "CPU/rec", "LMDB/rec"
        row(sprintf("e) %d records, Batch (plain), to acked", m), p)
        row(sprintf("e) %d records, ZBatch (zstd), to acked", m), z)
        printf "   the median of %d runs each (load average %s before them); ratio over the runs: plain %s, zstd %s\n",
               runs, load, ps, zs
        printf "   target >= 0.5x: plain %s, zstd %s; all verified and in the log %.2f s / %.2f s after the first batch;\n",
               (p["town_ratio"] >= 0.5 ? "met" : "MISSED"), (z["town_ratio"] >= 0.5 ? "met" : "MISSED"),
               p["town_verified_s"], z["town_verified_s"]
        printf "   beside raw LMDB committing every %d records (one station'"'"'s credit window, the most one commit can\n",
               p["limit_lmdb_window_records"]
        printf "   hold when a batch is acked only once durable): %.0f/s, town %.3fx (%s) / zstd %.3fx (%s)\n",
               p["limit_lmdb_window_per_s"], p["town_window_ratio"], pw, z["town_window_ratio"], zw
        printf "   process CPU to acked (the verifier thread too): %.2f s / %.2f s; wire bytes %d / %d\n\n",
               p["town_cpu_s"], z["town_cpu_s"], p["town_wire_bytes"], z["town_wire_bytes"]
    }' "$TMP/e-plain" "$TMP/e-zstd"
if [ -n "$PERF" ]; then
    for mode in plain zstd; do
        # Only the loop thread, from the first batch until acked (not the
        # set-up, not the verifier thread's Ed25519 afterwards).
        # libsodium's inner functions have no symbols: its total is its
        # hashes (BLAKE2b, every record) and the batch tails' signatures.
        echo "== perf: bench_town $mode, its loop thread from the first batch to acked, self time: by library, then the top 20"
        for sort in dso dso,symbol; do
            perf report -q -i "$TMP/e-$mode.perf" --time "$(val "$TMP/e-$mode.first" town_window)" \
                --tid "$(val "$TMP/e-$mode.first" town_pid)" --percentage relative --no-children \
                --sort "$sort" --stdio -g none 2>/dev/null | grep -v '^$' | head -20
        done
        echo
    done
fi
if [ "${BENCH_ONLY:-}" = e ]; then
    exit 0
fi

# b) one station, M records.
start_town "$TMP/T1"
make_station "$TMP/T1" s1 "$M"
if [ -n "$PERF" ]; then
    perf record -q -g -F 4999 -o "$TMP/town.perf" -p "$TOWN_PID" 2>/dev/null &
    PERF_PID=$!
    sleep 0.3 # let perf attach before the clock starts
fi
mkdir -p "$TMP/logs1"
"$INGEST" catchup "$TMP/T1" "$TOWN_PID" "$WMSYNCD" "$M" "$TMP/logs1" "$TMP/s1" >"$TMP/b"
if [ -n "$PERF" ]; then
    kill -INT "$PERF_PID" 2>/dev/null || true
    wait "$PERF_PID" 2>/dev/null || true
fi
b_hwm=$(kib "$TOWN_PID" VmHWM)
stop_town

# c) N stations x NM records at once.
start_town "$TMP/T2"
dirs=()
for ((i = 1; i <= N; i++)); do
    make_station "$TMP/T2" "m$i" "$NM"
    dirs+=("$TMP/m$i")
done
mkdir -p "$TMP/logs2"
"$INGEST" catchup "$TMP/T2" "$TOWN_PID" "$WMSYNCD" "$NM" "$TMP/logs2" "${dirs[@]}" >"$TMP/c"
c_hwm=$(kib "$TOWN_PID" VmHWM)
stop_town

# d) the swarm.
start_town "$TMP/T3"
"$SWARMB" "$TMP/T3" "$TOWN_PID" "$(cat "$TMP/T3/keys/curve.pub")" "$WMCTL" "$SWARM" "$SWARM_K" \
    "$TMP/swarm" >"$TMP/d"
stop_town

ver=$(val "$TMP/limits" limit_verify_per_s)
lmdb=$(val "$TMP/limits" limit_lmdb_batch_per_s)
lcpu=$(val "$TMP/limits" limit_lmdb_cpu_us)
mem=$(sed -n 's/^ *#* *memory_mb = //p' "$TMP/T2/wmsync.conf" | head -1)
awk -v ver="$ver" -v lmdb="$lmdb" -v lcpu="$lcpu" -v mem="${mem:-default}" -v m="$M" -v n="$N" -v nm="$NM" -v bh="$b_hwm" -v ch="$c_hwm" '
    FILENAME ~ /\/b$/ { b[$1] = $2 } FILENAME ~ /\/c$/ { c[$1] = $2 } FILENAME ~ /\/d$/ { d[$1] = $2 }
    function row(what, rate, target) {
        printf "%-46s | %10.0f | %8.1fx | %8.1f%% | %s\n", what, rate, rate / ver,
               100 * rate / lmdb, target
    }
    END {
        printf "%-46s | %10s | %9s | %9s | %s\n", "what", "records/s", "/ verify", "/ LMDB", "target"
        printf "%.46s-+-%.10s-+-%.9s-+-%.9s-+-%s\n", "----------------------------------------------",
               "----------", "---------", "---------", "------"
        printf "%-46s | %10.0f | %9s | %9s | %s\n", "a) limit: Ed25519 verify, 1 core, 250 B", ver, "1.0x", "-", "(limit)"
        printf "%-46s | %10.0f | %9s | %9s | %s\n", "a) limit: raw LMDB, 100k puts in 1 fsynced txn", lmdb, "-", "100.0%", "(limit)"
        row(sprintf("b) catch-up 1 x %d, station start to stored", m), b["catchup_per_s"],
            ">= 10x verify")
        sb = b["catchup_s"] - b["catchup_first_record_s"]
        row("b) the same, first stored record to last", (m - 1) / sb, "(streaming)")
        row(sprintf("c) catch-up %d x %d at once", n, nm), c["catchup_per_s"], ">= 10x verify")
        sc = c["catchup_s"] - c["catchup_first_record_s"]
        row("c) the same, first stored record to last", (n * nm - 1) / sc, "(streaming)")
        printf "\nb) %d records in %.3f s (target <= 2 s for 100k: %s); first record stored at %.3f s;\n",
               m, b["catchup_s"], (b["catchup_s"] * 100000 / m <= 2) ? "met" : "MISSED", b["catchup_first_record_s"]
        printf "   CPU: town %.2f s (its verifier included), station %.2f s; town VmHWM %.1f MiB; ratio to verify %.1fx (target >= 10x: %s)\n",
               b["catchup_town_cpu_s"], b["catchup_stations_cpu_s"], bh / 1024, b["catchup_per_s"] / ver,
               (b["catchup_per_s"] / ver >= 10 ? "met" : "MISSED")
        printf "   town CPU per record until all stored: %.2f us (its poll loop %.2f us), beside raw LMDB %.2f us (a put in one txn, commit included): %.2fx\n",
               1e6 * b["catchup_town_cpu_stored_s"] / m, 1e6 * b["catchup_town_loop_cpu_stored_s"] / m, lcpu,
               lcpu / (1e6 * b["catchup_town_loop_cpu_stored_s"] / m)
        printf "   full verification: every signature checked %.3f s after the start, %.3f s after the last record was stored (the lag); %.0f records/s; at most %d records waited unverified\n",
               b["catchup_verified_s"], b["catchup_verify_lag_s"], b["catchup_verify_per_s"], b["catchup_max_unverified"]
        printf "c) %d records in %.3f s; first record at %.3f s, first station done at %.3f s;\n",
               n * nm, c["catchup_s"], c["catchup_first_record_s"], c["catchup_first_station_done_s"]
        printf "   CPU: town %.2f s, stations %.2f s; town peak memory (VmHWM) %.1f MiB, target <= 48 MiB ([sync] memory_mb = %s): %s\n",
               c["catchup_town_cpu_s"], c["catchup_stations_cpu_s"], ch / 1024, mem,
               (ch <= 48 * 1024 ? "met" : "MISSED")
        printf "   full verification: %.3f s after the start, lag %.3f s after the last record was stored; %.0f records/s; at most %d waited unverified\n",
               c["catchup_verified_s"], c["catchup_verify_lag_s"], c["catchup_verify_per_s"], c["catchup_max_unverified"]
        printf "d) %d stations connected, %d records each: enrolled (wmctl) in %.1f s, all welcomed %.2f s and all acked %.2f s after connecting;\n",
               d["swarm_stations"], d["swarm_records_each"], d["swarm_enroll_s"], d["swarm_all_welcomed_s"], d["swarm_all_acked_s"]
        printf "   town holds every head: %d/%d, all verified %.2f s after connecting (%d/%d); wmctl status shows %d/%d caught up\n",
               d["swarm_stored_ok"], d["swarm_stations"], d["swarm_all_verified_s"], d["swarm_verified_ok"],
               d["swarm_stations"], d["swarm_status_ok"], d["swarm_stations"]
        r = d["swarm_town_rss_connected_kib"]
        printf "   town VmRSS: %.1f MiB idle, %.1f MiB enrolled, %.1f MiB with all connected (%.0f KiB per link), peak %.1f MiB; target <= 64 MiB: %s\n",
               d["swarm_town_rss_idle_kib"] / 1024, d["swarm_town_rss_enrolled_kib"] / 1024, r / 1024,
               (r - d["swarm_town_rss_enrolled_kib"]) / d["swarm_stations"], d["swarm_town_hwm_kib"] / 1024,
               (r <= 65536 ? "met" : "MISSED")
    }' "$TMP/b" "$TMP/c" "$TMP/d"

if [ -n "$PERF" ]; then
    echo
    echo "== perf: the town during (b), self time, top 25"
    perf report -q -i "$TMP/town.perf" --no-children --sort symbol --stdio -g none 2>/dev/null |
        grep -v '^$' | head -25
fi
