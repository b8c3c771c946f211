/* SPDX-License-Identifier: MIT */
/*
 * bench_town — the town's ingest itself, in one process, beside the raw
 * LMDB limit measured in the same run (docs/design.md §7).
 *
 * A station's log (gen_log) is encoded into the SyncMsgs a station sends
 * — a Hello, then Batches of WM_SYNC_MAX_RECORDS records (at most
 * WM_SYNC_MAX_BYTES), plain or, with feature "zstd", ZBatches
 * (wm_wire_encode_batch, as wm_upstream does) — before the clock starts.
 * Then the town's own code takes them: wm_node_open and wm_agg_open on
 * the town's directory (its verifier thread included), and each loop turn
 * is wm_agg_on_router, the daemon's router turn, its messages taken from
 * memory instead of the socket (wm_agg_set_source): the message decoded, the session and credit checked, the records
 * decoded, checked, chained, staged and charged, the turn's one fsynced
 * commit, the ACK encoded and sent (to a route nobody holds: ZeroMQ drops
 * it). Up to WM_SYNC_CREDIT batches are offered a turn, the credit a
 * station has in flight. Between turns the verifier's socket is polled as
 * the reactor does, so promotion of verified records into the log shares
 * the loop exactly as in the daemon (folded into the next turn's commit
 * while messages wait, as the daemon does).
 *
 * "acked" is when the last batch's turn returned: every record durable
 * and acked (what the protocol promises; each record's own signature is
 * then checked off this path). The rate is records / that time; beside it
 * the loop thread's CPU seconds (the ingest path alone) and the process's
 * (the verifier thread too). It then waits until every record is verified
 * and in the log ("verified").
 *
 * The limit: the same srecs (same count, same sizes) put under 16-byte
 * big-endian keys in one transaction of a fresh LMDB environment next to
 * the town's directory, plus its fsynced commit (bench_ingest's
 * limit_lmdb_batch_per_s), measured before and after the ingest; the
 * faster of the two is the limit. Beside it, the same puts with an
 * fsynced commit every WM_SYNC_CREDIT x WM_SYNC_MAX_RECORDS records
 * (limit_lmdb_window_per_s): one station's credit window, the most a
 * commit can hold when each batch is acked only once it is durable —
 * what the protocol itself costs against the one-commit limit.
 *
 * Usage: bench_town TOWN_DIR STATION_DIR plain|zstd
 *   TOWN_DIR: a town with the station enrolled whose daemon is NOT
 *   running and which holds none of its records; STATION_DIR: the station,
 *   its log written by gen_log (epoch 1, seq 1..M).
 * Prints "key value" lines: town_records, town_acked_s, town_per_s,
 * town_loop_cpu_s, town_cpu_s, town_verified_s, limit_lmdb_batch_per_s,
 * town_ratio, limit_lmdb_window_per_s, town_window_ratio; town_window
 * T0,T1 (CLOCK_MONOTONIC seconds of the first batch and of acked) and
 * town_pid, to cut a `perf record -k CLOCK_MONOTONIC`
 * profile to the ingest path: perf report --time T0,T1 --tid PID.
 *
 * A benchmark, not a test. The limit does not go through the layers it
 * is the limit of (bench_lmdb.c).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "sync.pb-c.h"
#include "wm_agg.h"
#include "bench_lmdb.h"
#include "wm_config.h"
#include "wm_crypto.h"
#include "wm_ingest.h"
#include "wm_nodedir.h"
#include "wm_stage.h"
#include "wm_wire.h"

#define ROUTE "\0bench"
#define ROUTE_LEN 6
#define VERIFY_TIMEOUT_S 600

static double clock_s(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void die(const char *what, const char *why)
{
    fprintf(stderr, "bench_town: %s: %s\n", what, why);
    exit(1);
}

static void check(wm_err_t err, const char *what)
{
    if (err != WM_OK)
        die(what, wm_strerror(err));
}


/* The station's log: M srecs, copied out of its store. */
typedef struct {
    uint8_t **srec;
    size_t *len;
    size_t n;
    wm_head_t head;
} chain_t;

static void read_log(const wm_config_t *cfg, chain_t *c)
{
    wm_store_t *st = NULL;
    wm_txn_t *t = NULL;
    uint32_t node = 0;
    size_t cap = 1024;
    check(wm_store_open(cfg->data_dir, WM_STORE_RDONLY, cfg->map_mb, &st), "station store");
    check(wm_txn_begin(st, 0, &t), "station txn");
    check(wm_nodeno_lookup(t, cfg->id, &node), "station node number");
    memset(c, 0, sizeof *c);
    c->srec = malloc(cap * sizeof *c->srec);
    c->len = malloc(cap * sizeof *c->len);
    for (uint64_t seq = 1;; seq++) {
        wm_srec_t v;
        wm_err_t err = wm_log_get(t, node, 1, seq, &v);
        if (err == WM_ENOTFOUND)
            break;
        check(err, "station log");
        if (c->n == cap) {
            cap *= 2;
            c->srec = realloc(c->srec, cap * sizeof *c->srec);
            c->len = realloc(c->len, cap * sizeof *c->len);
        }
        if (!c->srec || !c->len)
            die("read_log", "out of memory");
        c->len[c->n] = WM_SIG_BYTES + v.len;
        if (!(c->srec[c->n] = malloc(c->len[c->n])))
            die("read_log", "out of memory");
        memcpy(c->srec[c->n], v.sig, c->len[c->n]);
        c->n++;
    }
    if (!c->n)
        die(cfg->id, "the station's log is empty (run gen_log)");
    c->head.epoch = 1;
    c->head.seq = c->n;
    wm_srec_hash_buf(c->srec[c->n - 1], c->len[c->n - 1], c->head.hash);
    wm_txn_abort(&t);
    wm_store_close(&st);
}

/* ---- the limit ---------------------------------------------------- */


static MDB_val chain_value(size_t i, void *ctx)
{
    const chain_t *c = ctx;
    return (MDB_val){c->len[i], c->srec[i]};
}

/* bench_lmdb_windows of c's srecs, in a new directory beside town_dir:
 * one fsynced commit every per_commit records (c->n: bench_lmdb_batch). */
static double lmdb_limit(const char *town_dir, const chain_t *c, size_t per_commit)
{
    char dir[4200];
    snprintf(dir, sizeof dir, "%s.lmdb.XXXXXX", town_dir);
    return bench_lmdb_windows(dir, c->n, per_commit, chain_value, (void *)c, NULL);
}

/* ---- the station's messages --------------------------------------- */

typedef struct {
    uint8_t *buf;
    size_t len;
} enc_t;

typedef struct {
    enc_t *msg; /* [0] the Hello, then the batches */
    size_t n;
    size_t next;     /* the next message to offer */
    size_t in_turn;  /* offered in this turn */
    char user_id[65];
} feed_t;

static enc_t encode_hello(const wm_config_t *cfg, const chain_t *c, int zstd)
{
    Wm__SyncMsg m = WM__SYNC_MSG__INIT;
    Wm__Hello h = WM__HELLO__INIT;
    Wm__Frontier f = wm_frontier_of(&c->head);
    char *features[] = {(char *)WM_WIRE_FEATURE};
    h.version = WM_SYNC_VERSION;
    h.node = (char *)cfg->id;
    h.head = &f;
    h.features = zstd ? features : NULL;
    h.n_features = zstd ? 1 : 0;
    h.time_ms = (int64_t)time(NULL) * 1000;
    m.msg_case = WM__SYNC_MSG__MSG_HELLO;
    m.hello = &h;
    enc_t e;
    check(wm_pb_encode(&m.base, &e.buf, &e.len), "encode hello");
    return e;
}

static void encode_all(const wm_config_t *cfg, const chain_t *c, int zstd, feed_t *fd,
                       size_t *wire_bytes)
{
    size_t cap = c->n / 1 + 2;
    fd->msg = calloc(cap, sizeof *fd->msg);
    ProtobufCBinaryData *bd = calloc(WM_SYNC_MAX_RECORDS, sizeof *bd);
    if (!fd->msg || !bd)
        die("encode", "out of memory");
    fd->msg[fd->n++] = encode_hello(cfg, c, zstd);
    Wm__Frontier f = wm_frontier_of(&c->head);
    *wire_bytes = 0;
    for (size_t i = 0; i < c->n;) {
        Wm__Batch b = WM__BATCH__INIT;
        size_t bytes = 0;
        b.records = bd;
        while (i < c->n && b.n_records < WM_SYNC_MAX_RECORDS &&
               bytes + c->len[i] <= WM_SYNC_MAX_BYTES) {
            bd[b.n_records++] = (ProtobufCBinaryData){c->len[i], c->srec[i]};
            bytes += c->len[i++];
        }
        b.batch_id = fd->n; /* 1, 2, ... */
        b.head = &f;
        int zipped = 0;
        enc_t *e = &fd->msg[fd->n++];
        check(wm_wire_encode_batch(&b, zstd, &e->buf, &e->len, &zipped), "encode batch");
        if (zstd && !zipped)
            die("encode", "a batch was not smaller compressed");
        *wire_bytes += e->len;
    }
    free(bd);
}

/* wm_agg_next_fn: the next message of the feed, as wm_sock_recv gives it
 * (frames malloc'd and copied), at most WM_SYNC_CREDIT a turn. */
static wm_err_t feed_next(void *ctx, wm_msg_t *m)
{
    feed_t *fd = ctx;
    if (fd->next >= fd->n || fd->in_turn >= WM_SYNC_CREDIT)
        return WM_ETIMEOUT;
    const enc_t *e = &fd->msg[fd->next];
    memset(m, 0, sizeof *m);
    m->f[0].data = malloc(ROUTE_LEN);
    m->f[1].data = malloc(e->len);
    if (!m->f[0].data || !m->f[1].data)
        die("feed", "out of memory");
    memcpy(m->f[0].data, ROUTE, ROUTE_LEN);
    m->f[0].len = ROUTE_LEN;
    memcpy(m->f[1].data, e->buf, e->len);
    m->f[1].len = e->len;
    m->n = 2;
    snprintf(m->user_id, sizeof m->user_id, "%s", fd->user_id);
    fd->next++;
    fd->in_turn++;
    return WM_OK;
}

/* wm_agg_waiting_fn: more of the station's messages are to come. */
static int feed_waiting(void *ctx)
{
    const feed_t *fd = ctx;
    return fd->next < fd->n;
}

/* ---- the town ----------------------------------------------------- */

/* The station's durable and verified heads at the town. */
static void heads(wm_node_t *node, const char *id, wm_head_t *durable, wm_head_t *verified)
{
    wm_txn_t *t = NULL;
    uint32_t no = 0;
    memset(durable, 0, sizeof *durable);
    memset(verified, 0, sizeof *verified);
    check(wm_txn_begin(node->store, 0, &t), "town txn");
    if (wm_nodeno_lookup(t, id, &no) == WM_OK) {
        check(wm_ingest_frontier(t, no, durable), "durable head");
        check(wm_stage_verified(t, no, verified), "verified head");
    }
    wm_txn_abort(&t);
}

/* The verifier's verdicts, as the reactor hands them over: now if any
 * wait, else after up to wait_ms. */
static void poll_verifier(wm_agg_t *agg, long wait_ms)
{
    wm_sock_t *vs = wm_agg_verifier(agg);
    int ready = 0;
    if (wm_net_poll(&vs, 1, &ready, wait_ms) > 0 && ready)
        wm_agg_on_verified(agg);
}

typedef struct {
    double acked_s, verified_s, loop_cpu_s, cpu_s;
    double t0, t1; /* CLOCK_MONOTONIC at the first batch and at acked */
} result_t;

static void run_town(const char *town_dir, const wm_config_t *scfg, feed_t *fd, size_t n,
                     result_t *r)
{
    char conf[4200], why[WM_WHY_MAX];
    static wm_config_t cfg;
    wm_node_t *node = NULL;
    wm_net_t *net = NULL;
    wm_agg_t *agg = NULL;
    snprintf(conf, sizeof conf, "%s/" WM_CONF_NAME, town_dir);
    if (wm_config_load(conf, &cfg, why, sizeof why) != WM_OK)
        die(conf, why);
    if (wm_node_open(&cfg, 0, &node, why, sizeof why) != WM_OK)
        die("town", why);
    uint8_t *sec = wm_secure_alloc(32), pub[32];
    check(wm_net_new(&net), "net");
    if (!sec || wm_nodedir_load_curve(&cfg, sec, pub, why, sizeof why) != WM_OK ||
        wm_agg_open(node, net, cfg.listen, sec, &agg, why, sizeof why) != WM_OK)
        die("town", why);
    wm_secure_free(sec);
    wm_head_t d, v;
    heads(node, scfg->id, &d, &v);
    if (d.seq)
        die(town_dir, "the town holds records of the station already: use a fresh town");

    wm_agg_set_source(agg, feed_next, feed_waiting, fd);
    fd->in_turn = 0;
    wm_agg_on_router(agg); /* the Hello */
    double t0 = clock_s(CLOCK_MONOTONIC), c0 = clock_s(CLOCK_THREAD_CPUTIME_ID);
    double p0 = clock_s(CLOCK_PROCESS_CPUTIME_ID);
    int trace = getenv("BENCH_TOWN_TRACE") != NULL;
    while (fd->next < fd->n) {
        double a = clock_s(CLOCK_MONOTONIC), ac = clock_s(CLOCK_THREAD_CPUTIME_ID);
        size_t before = fd->next;
        fd->in_turn = 0;
        wm_agg_on_router(agg);
        double b = clock_s(CLOCK_MONOTONIC), bc = clock_s(CLOCK_THREAD_CPUTIME_ID);
        poll_verifier(agg, 0);
        if (trace) /* each turn: messages, wall and CPU ms; then the verifier's share */
            fprintf(stderr, "turn %zu msgs %.2f ms (cpu %.2f) verifier %.2f ms (cpu %.2f)\n",
                    fd->next - before, 1e3 * (b - a), 1e3 * (bc - ac),
                    1e3 * (clock_s(CLOCK_MONOTONIC) - b), 1e3 * (clock_s(CLOCK_THREAD_CPUTIME_ID) - bc));
    }
    r->t0 = t0;
    r->t1 = clock_s(CLOCK_MONOTONIC);
    r->acked_s = r->t1 - t0;
    r->loop_cpu_s = clock_s(CLOCK_THREAD_CPUTIME_ID) - c0;
    r->cpu_s = clock_s(CLOCK_PROCESS_CPUTIME_ID) - p0;
    heads(node, scfg->id, &d, &v);
    if (d.seq != n)
        die("town", "not every batch was stored (see the log lines above)");
    /* BENCH_TOWN_ACKED_ONLY: stop here (a profile of the ingest path alone). */
    int acked_only = getenv("BENCH_TOWN_ACKED_ONLY") != NULL;
    while (!acked_only && v.seq < n && clock_s(CLOCK_MONOTONIC) - t0 < VERIFY_TIMEOUT_S) {
        poll_verifier(agg, 50);
        wm_agg_tick(agg);
        heads(node, scfg->id, &d, &v);
    }
    r->verified_s = v.seq == n ? clock_s(CLOCK_MONOTONIC) - t0 : -1;
    wm_agg_close(&agg);
    wm_net_free(&net);
    wm_node_close(&node);
}

int main(int argc, char **argv)
{
    if (argc != 4 || (strcmp(argv[3], "plain") != 0 && strcmp(argv[3], "zstd") != 0)) {
        fprintf(stderr, "usage: bench_town TOWN_DIR STATION_DIR plain|zstd\n");
        return 2;
    }
    const char *town_dir = argv[1];
    int zstd = strcmp(argv[3], "zstd") == 0;
    char conf[4200], why[WM_WHY_MAX];
    static wm_config_t scfg;
    check(wm_crypto_init(), "crypto init");
    snprintf(conf, sizeof conf, "%s/" WM_CONF_NAME, argv[2]);
    if (wm_config_load(conf, &scfg, why, sizeof why) != WM_OK)
        die(conf, why);
    chain_t c;
    read_log(&scfg, &c);
    uint8_t *sec = wm_secure_alloc(32), pub[32];
    if (!sec || wm_nodedir_load_curve(&scfg, sec, pub, why, sizeof why) != WM_OK)
        die("station keys", why);
    wm_secure_free(sec);
    feed_t fd = {0};
    wm_hex(pub, 32, fd.user_id);
    size_t wire = 0;
    encode_all(&scfg, &c, zstd, &fd, &wire);

    /* One station's credit window: what a turn can hold of it. */
    size_t window = (size_t)WM_SYNC_CREDIT * WM_SYNC_MAX_RECORDS;
    double lim0 = lmdb_limit(town_dir, &c, c.n), win0 = lmdb_limit(town_dir, &c, window);
    result_t r;
    run_town(town_dir, &scfg, &fd, c.n, &r);
    double lim1 = lmdb_limit(town_dir, &c, c.n), win1 = lmdb_limit(town_dir, &c, window);
    double lim = lim0 > lim1 ? lim0 : lim1, rate = (double)c.n / r.acked_s;
    double win = win0 > win1 ? win0 : win1;
    size_t bytes = 0;
    for (size_t i = 0; i < c.n; i++)
        bytes += c.len[i];
    printf("town_mode %s\n", argv[3]);
    printf("town_records %zu\n", c.n);
    printf("town_batches %zu\n", fd.n - 1);
    printf("town_srec_bytes %zu\n", bytes);
    printf("town_wire_bytes %zu\n", wire);
    printf("town_acked_s %.4f\n", r.acked_s);
    printf("town_per_s %.0f\n", rate);
    printf("town_loop_cpu_s %.4f\n", r.loop_cpu_s);
    printf("town_cpu_s %.4f\n", r.cpu_s);
    printf("town_verified_s %.4f\n", r.verified_s);
    printf("limit_lmdb_batch_per_s %.0f\n", lim);
    printf("limit_lmdb_runs_per_s %.0f %.0f\n", lim0, lim1);
    printf("town_ratio %.3f\n", rate / lim);
    printf("limit_lmdb_window_records %zu\n", window);
    printf("limit_lmdb_window_per_s %.0f\n", win);
    printf("town_window_ratio %.3f\n", rate / win);
    /* For perf record -k CLOCK_MONOTONIC: report --time T0,T1 --tid PID. */
    printf("town_window %.6f,%.6f\n", r.t0, r.t1);
    printf("town_pid %ld\n", (long)getpid());
    for (size_t i = 0; i < fd.n; i++)
        free(fd.msg[i].buf);
    free(fd.msg);
    for (size_t i = 0; i < c.n; i++)
        free(c.srec[i]);
    free(c.srec);
    free(c.len);
    return 0;
}
