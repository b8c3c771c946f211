/* SPDX-License-Identifier: MIT */
/*
 * bench_swarm — a town's memory with many stations connected at once
 * (docs/design.md §1: a town serves ~10–40 stations; this asks for 1,000).
 * Running 1,000 station daemons would not fit two cores, so this one
 * process plays all of them, each over its own CURVE DEALER with its own
 * transport key, speaking the station side of proto/sync.proto exactly:
 *
 *   1. makes N station identities in memory (an Ed25519 signer from
 *      wm_signer_generate, a Curve25519 key from wm_curve_generate under
 *      WORKDIR/keys) and enrols each at the running town with
 *      `wmctl -c TOWN/wmsync.conf enroll -` fed its identity line;
 *   2. seals K chained activity records per station (bench_rec);
 *   3. opens N DEALERs to the town (wm_sync_connect), sends Hello, waits
 *      for Welcome, sends one Batch of the K records, waits for its Ack
 *      with the durable seq K;
 *   4. while all N are still connected: reads the town's VmRSS and VmHWM
 *      from /proc, checks in the town's LMDB (read-only) that every
 *      station's stored head is seq K, and counts the stations
 *      `wmctl status --json` reports as caught up.
 *
 * Usage: bench_swarm TOWN_DIR TOWN_PID SERVER_KEY_HEX WMCTL N K WORKDIR
 * Prints "swarm_*" lines (see the end of main). Needs about 2 file
 * descriptors per station here and 1 in the town (bench_sync.sh raises
 * ulimit -n). A benchmark, not a test: it fails only if a station cannot
 * be enrolled or synced within BENCH_TIMEOUT_S (default 300) seconds.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "bench_rec.h"
#include "sim_station.h"
#include "sync.pb-c.h"
#include "wm_config.h"
#include "wm_ingest.h"
#include "wm_net.h"
#include "wm_stage.h"
#include "wm_store.h"

/* One context holds at most ZMQ_MAX_SOCKETS (1023 by default) sockets;
 * beyond that wm_net would need a way to raise it. */
#define MAX_STATIONS 1020
#define VERIFY_WAIT_S 60 /* for the town to verify every record after the acks */

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void die(const char *what, const char *why)
{
    fprintf(stderr, "bench_swarm: %s: %s\n", what, why);
    exit(1);
}

static void check(wm_err_t err, const char *what)
{
    if (err != WM_OK)
        die(what, wm_strerror(err));
}

/* A field of /proc/PID/status in KiB; -1 if absent. */
static long proc_kib(long pid, const char *field)
{
    char path[64], line[256];
    long v = -1;
    size_t fl = strlen(field);
    snprintf(path, sizeof path, "/proc/%ld/status", pid);
    FILE *f = fopen(path, "re");
    if (!f)
        return -1;
    while (fgets(line, sizeof line, f))
        if (strncmp(line, field, fl) == 0 && line[fl] == ':')
            v = strtol(line + fl + 1, NULL, 10);
    fclose(f);
    return v;
}

/* Enrols s at the town through wmctl (the admin's own path). */
static void enroll(sim_station_t *s, const char *wmctl, const char *town_conf, int i)
{
    char cmd[9000], sh[65], ch[65];
    snprintf(cmd, sizeof cmd, "'%s' -c '%s' enroll - >/dev/null", wmctl, town_conf);
    FILE *p = popen(cmd, "w");
    if (!p)
        die("popen", strerror(errno));
    fprintf(p, "wmsync-id 1 station %s %s %s 测试站%04d\n", s->id,
            wm_hex(wm_signer_pub(s->signer), WM_PUB_BYTES, sh), wm_hex(s->curve_pub, 32, ch), i);
    if (pclose(p) != 0)
        die(s->id, "wmctl enroll failed");
}

int main(int argc, char **argv)
{
    if (argc != 8) {
        fprintf(stderr,
                "usage: bench_swarm TOWN_DIR TOWN_PID SERVER_KEY_HEX WMCTL N K WORKDIR\n");
        return 2;
    }
    const char *town_dir = argv[1], *wmctl = argv[4], *work = argv[7];
    long town_pid = atol(argv[2]);
    int n = atoi(argv[5]);
    size_t k = (size_t)atoi(argv[6]);
    uint8_t server_pub[WM_PUB_BYTES];
    char why[8192], town_conf[4200], path[4400];
    wm_config_t town;
    if (n < 1 || n > MAX_STATIONS || k < 1 || k > 64)
        die("usage", "N must be 1..1020 and K 1..64");
    if (wm_unhex(argv[3], server_pub, sizeof server_pub) != WM_OK)
        die("usage", "SERVER_KEY_HEX is not 64 hex digits");
    const char *tmo = getenv("BENCH_TIMEOUT_S");
    double timeout = tmo && *tmo ? atof(tmo) : 300;
    check(wm_crypto_init(), "crypto init");
    snprintf(town_conf, sizeof town_conf, "%s/" WM_CONF_NAME, town_dir);
    if (wm_config_load(town_conf, &town, why, sizeof why) != WM_OK)
        die(town_conf, why);
    snprintf(path, sizeof path, "%s/keys", work);
    if (mkdir(work, 0700) != 0 && errno != EEXIST)
        die(work, strerror(errno));
    if (mkdir(path, 0700) != 0 && errno != EEXIST)
        die(path, strerror(errno));

    sim_station_t *st = calloc((size_t)n, sizeof *st);
    sim_station_t **sims = calloc((size_t)n, sizeof *sims);
    if (!st || !sims)
        die("calloc", "out of memory");
    long rss_idle = proc_kib(town_pid, "VmRSS");

    /* 1–2: identities, enrolment, records. */
    double t0 = now_s();
    for (int i = 0; i < n; i++) {
        sim_station_t *s = &st[i];
        if (snprintf(s->id, sizeof s->id, "%s/sw%04d", town.id, i + 1) >= (int)sizeof s->id)
            die(town.id, "the town id is too long to name stations under it");
        snprintf(path, sizeof path, "%s/keys/sw%04d.key", work, i + 1);
        check(sim_station_keys(s, path), "station keys");
        sims[i] = s;
        bench_rec_t b;
        bench_rec_init(&b, s->id, 1);
        for (size_t j = 0; j < k; j++) {
            uint8_t *srec = NULL;
            size_t len = 0;
            check(bench_rec_next(&b, s->signer, (int64_t)time(NULL), &srec, &len), "seal");
            check(sim_station_push(s, srec, len), "batch");
        }
        enroll(s, wmctl, town_conf, i + 1);
    }
    double enroll_s = now_s() - t0;
    long rss_enrolled = proc_kib(town_pid, "VmRSS");

    /* 3: connect everyone, Hello, Welcome, Batch, Ack. */
    wm_net_t *net = NULL;
    check(wm_net_new(&net), "net");
    t0 = now_s();
    double welcome_s = 0;
    if (sim_sync_all(net, town.listen, server_pub, sims, n, timeout, &welcome_s, why,
                     sizeof why) != 0) {
        fprintf(stderr, "bench_swarm: %s\n", why);
        return 1;
    }
    double sync_s = now_s() - t0;

    /* 4: all connected: the town's memory and its own view of them. */
    long rss = proc_kib(town_pid, "VmRSS"), hwm = proc_kib(town_pid, "VmHWM");
    wm_store_t *store = NULL;
    wm_txn_t *txn = NULL;
    int stored = 0, verified = 0;
    check(wm_store_open(town.data_dir, WM_STORE_RDONLY, town.map_mb, &store), "town store");
    /* Stored (acked) at once; verified (each signature checked by the
     * town's verifier thread, in the log) a moment later: wait for it. */
    double deadline = now_s() + VERIFY_WAIT_S;
    for (int first = 1; first || (verified < n && now_s() < deadline); first = 0) {
        if (!first)
            usleep(10000);
        verified = 0;
        check(wm_txn_begin(store, 0, &txn), "read txn");
        for (int i = 0; i < n; i++) {
            uint32_t node = 0;
            wm_head_t h = {0}, v = {0};
            if (wm_nodeno_lookup(txn, st[i].id, &node) != WM_OK)
                continue;
            if (wm_ingest_frontier(txn, node, &h) == WM_OK && h.seq == k &&
                memcmp(h.hash, st[i].head.hash, WM_HASH_BYTES) == 0)
                stored += first; /* as the acks left it */
            if (wm_stage_verified(txn, node, &v) == WM_OK && v.seq == k &&
                memcmp(v.hash, st[i].head.hash, WM_HASH_BYTES) == 0)
                verified++;
        }
        wm_txn_abort(&txn);
    }
    double verified_s = now_s() - t0;
    wm_store_close(&store);
    char cmd[9000];
    snprintf(cmd, sizeof cmd, "'%s' -c '%s' status --json", wmctl, town_conf);
    FILE *p = popen(cmd, "r");
    if (!p)
        die("popen", strerror(errno));
    size_t cap = 1 << 20, len = 0;
    char *js = malloc(cap);
    for (size_t r; js && (r = fread(js + len, 1, cap - 1 - len, p)) > 0;) {
        len += r;
        if (len + 1 == cap) {
            char *nj = realloc(js, cap *= 2);
            if (!nj)
                die("realloc", "out of memory");
            js = nj;
        }
    }
    pclose(p);
    if (!js)
        die("malloc", "out of memory");
    js[len] = 0;
    int ok_rows = 0;
    for (const char *q = js; (q = strstr(q, "\"state\"")); q += 7) {
        const char *v = q + 7;
        while (*v == ' ' || *v == ':')
            v++;
        ok_rows += strncmp(v, "\"ok\"", 4) == 0;
    }
    free(js);
    long rss_after = proc_kib(town_pid, "VmRSS");

    printf("swarm_stations %d\n", n);
    printf("swarm_records_each %zu\n", k);
    printf("swarm_enroll_s %.2f\n", enroll_s);
    printf("swarm_all_welcomed_s %.3f\n", welcome_s);
    printf("swarm_all_acked_s %.3f\n", sync_s);
    printf("swarm_stored_ok %d\n", stored);
    printf("swarm_verified_ok %d\n", verified);
    printf("swarm_all_verified_s %.3f\n", verified_s);
    printf("swarm_status_ok %d\n", ok_rows);
    printf("swarm_town_rss_idle_kib %ld\n", rss_idle);
    printf("swarm_town_rss_enrolled_kib %ld\n", rss_enrolled);
    printf("swarm_town_rss_connected_kib %ld\n", rss);
    printf("swarm_town_rss_after_status_kib %ld\n", rss_after);
    printf("swarm_town_hwm_kib %ld\n", hwm);
    printf("swarm_self_rss_kib %ld\n", proc_kib((long)getpid(), "VmRSS"));
    fflush(stdout);

    for (int i = 0; i < n; i++)
        sim_station_free(&st[i]);
    free(sims);
    free(st);
    wm_net_free(&net);
    return stored == n && verified == n && ok_rows == n ? 0 : 1;
}
