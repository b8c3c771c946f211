/* SPDX-License-Identifier: MIT */
/*
 * bench_store — how fast the storage API appends signed records, each
 * figure measured beside the limit it cannot beat (docs/design.md §7):
 *
 *   a) durable single append   vs one fsynced raw LMDB put per txn
 *   b) signing append           vs the raw Ed25519 sign rate
 *   c) batched append of already-signed records (the town's ingest path)
 *                               vs raw LMDB puts in one txn
 *   d) Ed25519 verify and BLAKE2b-256 rates, for reference;
 *   e) the town's ingest of a station's batches (wm_ingest: decode, content
 *      rules, chain, staging, quota, the tail signature), the aggregator's
 *      work without the network, vs the raw puts of (c).
 *
 * Every measurement gets a fresh LMDB environment under a mkdtemp
 * directory ($TMPDIR or /tmp) that is removed afterwards. Single thread.
 * This is a benchmark, not a test: it prints figures and fails only when
 * the API refuses what it should accept.
 *
 * Usage: bench_store [--raw-fsync | --ingest]
 *   --raw-fsync  measure only the raw fsynced put and print one line
 *                "raw_fsync_put_us <mean> <p50> <p99>" (for bench_daemon.sh).
 *   --ingest     only (e), REPS times: "ingest_per_s R" (to profile it).
 *
 * This file includes <lmdb.h> and <sodium.h> directly: the raw baselines
 * must not go through the layers they are the limits of.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* nftw */
#endif
#include <errno.h>
#include <ftw.h>
#include <lmdb.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "wm_crypto.h"
#include "wm_ingest.h"
#include "wm_record.h"
#include "wm_store.h"

#define N_FSYNC 2000      /* (a) one transaction per record */
#define N_SIGN 20000      /* (b) sign rate and signing append */
#define N_SIGN_BATCH 1000 /* (b) records per commit */
#define N_BATCH 100000    /* (c) one transaction */
#define N_VERIFY 10000    /* (d) */
#define N_HASH 1000000    /* (d) */
#define MSG_BYTES 200     /* raw sign/verify/hash message size */
#define VAL_BYTES 250     /* raw LMDB value size when no srecs are given */
#define MAP_MB 1024
#define REPS 3            /* runs per measurement; the median is shown */
#define INGEST_BATCH 2000 /* (e) records per batch: WM_SYNC_MAX_RECORDS */
#define INGEST_TURN 8     /* (e) batches per committed turn: the credit of a child */

static const char STATION[] = "xx-county/longhua/xinhe";
static const uint32_t EPOCH = 1;

/* ---- helpers ------------------------------------------------------- */

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* CPU seconds of this process so far (user and system). */
static double cpu_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void die(const char *what, const char *why)
{
    fprintf(stderr, "bench_store: %s: %s\n", what, why);
    exit(1);
}

static void check(wm_err_t err, const char *what)
{
    if (err != WM_OK)
        die(what, wm_strerror(err));
}

static void check_mdb(int rc, const char *what)
{
    if (rc)
        die(what, mdb_strerror(rc));
}

static void put_be64(uint8_t *p, uint64_t v)
{
    for (int i = 7; i >= 0; i--, v >>= 8)
        p[i] = (uint8_t)v;
}

static char root[4096];
static int dir_no;

/* A fresh empty directory under the run's temp root. */
static void fresh_dir(char *out, size_t cap, const char *tag)
{
    snprintf(out, cap, "%s/%02d-%s", root, ++dir_no, tag);
}

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb, (void)flag, (void)ftw;
    return remove(path);
}

static void rm_tree(const char *path)
{
    nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static void make_root(void)
{
    const char *tmp = getenv("TMPDIR");
    snprintf(root, sizeof root, "%s/wmbench.XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(root))
        die("mkdtemp", strerror(errno));
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Median of REPS figures (sorts v). */
static double median(double v[REPS])
{
    qsort(v, REPS, sizeof v[0], cmp_double);
    return v[REPS / 2];
}

/* ---- raw LMDB ------------------------------------------------------ */

/* A chain of n signed records and their decoded forms, as an ingest
 * would hold them after reading and verifying a batch. */
typedef struct {
    int n;
    uint8_t **srec;
    size_t *len;
    wm_record_t **dec;
    size_t bytes; /* total record bytes, for the mean size */
} chain_t;

/* The value of the i-th raw put: the i-th srec of vals, so the limit
 * stores exactly the bytes the API stores, read from the same memory; or,
 * without vals, VAL_BYTES of random bytes. */
static MDB_val raw_value(const chain_t *vals, int i, uint8_t *vb)
{
    if (vals)
        return (MDB_val){vals->len[i % vals->n], vals->srec[i % vals->n]};
    return (MDB_val){VAL_BYTES, vb};
}

/* Opened like wm_store_open does (NOTLS, same map size), one unnamed DB. */
static MDB_env *raw_open(const char *dir, unsigned extra)
{
    MDB_env *env = NULL;
    if (mkdir(dir, 0700) != 0)
        die("mkdir", strerror(errno));
    check_mdb(mdb_env_create(&env), "env create");
    check_mdb(mdb_env_set_mapsize(env, (size_t)MAP_MB << 20), "mapsize");
    check_mdb(mdb_env_open(env, dir, MDB_NOTLS | extra, 0600), "env open");
    return env;
}

/* (a) limit: one put per fsynced transaction. Fills lat[] (seconds) if
 * not NULL. Returns puts per second. */
static double raw_fsync_puts(int n, const chain_t *vals, double *lat)
{
    char dir[4200];
    fresh_dir(dir, sizeof dir, "raw-fsync");
    MDB_env *env = raw_open(dir, 0);
    MDB_dbi dbi;
    MDB_txn *txn;
    check_mdb(mdb_txn_begin(env, NULL, 0, &txn), "begin");
    check_mdb(mdb_dbi_open(txn, NULL, 0, &dbi), "dbi");
    check_mdb(mdb_txn_commit(txn), "commit");
    uint8_t kb[16] = {0}, vb[VAL_BYTES];
    randombytes_buf(vb, sizeof vb);
    double t0 = now();
    for (int i = 0; i < n; i++) {
        double s = now();
        put_be64(kb + 8, (uint64_t)i + 1);
        MDB_val k = {sizeof kb, kb}, v = raw_value(vals, i, vb);
        check_mdb(mdb_txn_begin(env, NULL, 0, &txn), "begin");
        check_mdb(mdb_put(txn, dbi, &k, &v, 0), "put");
        check_mdb(mdb_txn_commit(txn), "commit");
        if (lat)
            lat[i] = now() - s;
    }
    double rate = n / (now() - t0);
    mdb_env_close(env);
    rm_tree(dir);
    return rate;
}

/* (c) limit: n puts of 16-byte big-endian keys in one txn, then commit.
 * *put_rate: the rate of the puts alone, before the commit. */
static double raw_batch_puts(int n, const chain_t *vals, double *put_rate)
{
    char dir[4200];
    fresh_dir(dir, sizeof dir, "raw-batch");
    MDB_env *env = raw_open(dir, 0);
    MDB_dbi dbi;
    MDB_txn *txn;
    check_mdb(mdb_txn_begin(env, NULL, 0, &txn), "begin");
    check_mdb(mdb_dbi_open(txn, NULL, 0, &dbi), "dbi");
    check_mdb(mdb_txn_commit(txn), "commit");
    uint8_t kb[16] = {0}, vb[VAL_BYTES];
    randombytes_buf(vb, sizeof vb);
    double t0 = now();
    check_mdb(mdb_txn_begin(env, NULL, 0, &txn), "begin");
    for (int i = 0; i < n; i++) {
        put_be64(kb + 8, (uint64_t)i + 1);
        MDB_val k = {sizeof kb, kb}, v = raw_value(vals, i, vb);
        check_mdb(mdb_put(txn, dbi, &k, &v, 0), "put");
    }
    *put_rate = n / (now() - t0);
    check_mdb(mdb_txn_commit(txn), "commit");
    double rate = n / (now() - t0);
    mdb_env_close(env);
    rm_tree(dir);
    return rate;
}

/* ---- raw crypto ---------------------------------------------------- */

static double raw_sign_rate(int n)
{
    unsigned char pk[crypto_sign_PUBLICKEYBYTES], sk[crypto_sign_SECRETKEYBYTES];
    unsigned char msg[MSG_BYTES], sig[crypto_sign_BYTES];
    crypto_sign_keypair(pk, sk);
    randombytes_buf(msg, sizeof msg);
    double t0 = now();
    for (int i = 0; i < n; i++) {
        msg[0] = (unsigned char)i; /* a different message each time */
        crypto_sign_detached(sig, NULL, msg, sizeof msg, sk);
    }
    double rate = n / (now() - t0);
    sodium_memzero(sk, sizeof sk);
    return rate;
}

static double raw_verify_rate(int n)
{
    unsigned char pk[crypto_sign_PUBLICKEYBYTES], sk[crypto_sign_SECRETKEYBYTES];
    unsigned char msg[MSG_BYTES], sig[crypto_sign_BYTES];
    crypto_sign_keypair(pk, sk);
    randombytes_buf(msg, sizeof msg);
    crypto_sign_detached(sig, NULL, msg, sizeof msg, sk);
    double t0 = now();
    for (int i = 0; i < n; i++)
        if (crypto_sign_verify_detached(sig, msg, sizeof msg, pk) != 0)
            die("verify", "signature does not verify");
    double rate = n / (now() - t0);
    sodium_memzero(sk, sizeof sk);
    return rate;
}

static double raw_hash_rate(int n)
{
    unsigned char msg[MSG_BYTES], out[32];
    randombytes_buf(msg, sizeof msg);
    double t0 = now();
    for (int i = 0; i < n; i++) {
        crypto_generichash(out, sizeof out, msg, sizeof msg, NULL, 0);
        msg[0] ^= out[0]; /* keep the loop from being hoisted */
    }
    return n / (now() - t0);
}

/* ---- records ------------------------------------------------------- */

/* A realistic activity record: Chinese title and place, a team, a tag.
 * The caller owns the buffers the pointers name (all in *b). */
typedef struct {
    Wm__Record r;
    Wm__Activity a;
    uint8_t prev[WM_HASH_BYTES];
    char title[128];
    char *tags[1];
} rec_buf_t;

static const char *const TITLES[] = {
    "学习贯彻党的二十大精神主题宣讲",
    "新时代文明实践志愿服务进村入户",
    "“我们的节日·春节”群众文化活动",
    "道德讲堂：孝老爱亲身边好人故事分享",
    "平安校园交通安全普法宣传",
};

static void rec_init(rec_buf_t *b)
{
    memset(b, 0, sizeof *b);
    wm__record__init(&b->r);
    wm__activity__init(&b->a);
    b->r.schema = WM_SCHEMA;
    b->r.station = (char *)STATION;
    b->r.epoch = EPOCH;
    b->r.prev.data = b->prev;
    b->r.prev.len = WM_HASH_BYTES;
    b->r.body_case = WM__RECORD__BODY_ACTIVITY;
    b->r.activity = &b->a;
    b->a.category = WM__CATEGORY__THEME_LECTURE;
    b->a.title = b->title;
    b->a.place = "新河村新时代文明实践站";
    b->a.team = "general";
    b->tags[0] = "基层宣讲";
    b->a.tags = b->tags;
    b->a.n_tags = 1;
}

/* Sets the fields that change from record to record. */
static void rec_fill(rec_buf_t *b, uint64_t seq)
{
    b->r.seq = seq;
    b->r.captured = 1709600000 + (int64_t)seq * 60;
    b->a.date = 20240301 + (uint32_t)(seq % 28);
    b->a.participants = 20 + (uint32_t)(seq % 180);
    b->a.volunteers = 3 + (uint32_t)(seq % 12);
    snprintf(b->title, sizeof b->title, "%s（第%llu期）", TITLES[seq % 5],
             (unsigned long long)seq);
}

/* Seals the next record of the chain; advances b->prev. */
static void rec_seal(rec_buf_t *b, uint64_t seq, const wm_signer_t *s, uint8_t **srec,
                     size_t *len)
{
    rec_fill(b, seq);
    check(wm_record_seal(&b->r, s, srec, len), "seal");
    wm_srec_hash_buf(*srec, *len, b->prev);
}


static void chain_make(chain_t *c, int n, const wm_signer_t *s)
{
    rec_buf_t b;
    rec_init(&b);
    c->n = n;
    c->srec = calloc((size_t)n, sizeof *c->srec);
    c->len = calloc((size_t)n, sizeof *c->len);
    c->dec = calloc((size_t)n, sizeof *c->dec);
    c->bytes = 0;
    if (!c->srec || !c->len || !c->dec)
        die("chain", "out of memory");
    for (int i = 0; i < n; i++) {
        rec_seal(&b, (uint64_t)i + 1, s, &c->srec[i], &c->len[i]);
        check(wm_record_decode(c->srec[i] + WM_SIG_BYTES, c->len[i] - WM_SIG_BYTES, &c->dec[i]),
              "decode");
        c->bytes += c->len[i] - WM_SIG_BYTES;
    }
}

static void chain_free(chain_t *c)
{
    for (int i = 0; i < c->n; i++) {
        free(c->srec[i]);
        wm_record_free(&c->dec[i]);
    }
    free(c->srec);
    free(c->len);
    free(c->dec);
    memset(c, 0, sizeof *c);
}

/* A fresh store with the station enrolled and its epoch key set. */
static wm_store_t *store_fresh(const char *tag, const wm_signer_t *s, uint32_t *node,
                               char *dir, size_t cap)
{
    wm_store_t *st = NULL;
    wm_txn_t *t = NULL;
    fresh_dir(dir, cap, tag);
    check(wm_store_open(dir, 0, MAP_MB, &st), "store open");
    check(wm_txn_begin(st, 1, &t), "begin");
    check(wm_nodeno_add(t, STATION, node), "node add");
    check(wm_epoch_set(t, *node, EPOCH, wm_signer_pub(s)), "epoch set");
    check(wm_txn_commit(&t), "commit");
    return st;
}

static void store_done(wm_store_t **st, const char *dir, uint32_t node, uint64_t want)
{
    wm_txn_t *t = NULL;
    uint64_t count = 0;
    check(wm_txn_begin(*st, 0, &t), "begin");
    check(wm_log_count(t, node, &count), "count");
    wm_txn_abort(&t);
    if (count != want)
        die("log count", "records went missing");
    wm_store_close(st);
    rm_tree(dir);
}

/* (a) ours: one pre-signed record per durable transaction. */
static double our_fsync_appends(const chain_t *c, const wm_signer_t *s)
{
    char dir[4200];
    uint32_t node;
    wm_store_t *st = store_fresh("our-fsync", s, &node, dir, sizeof dir);
    double t0 = now();
    for (int i = 0; i < c->n; i++) {
        wm_txn_t *t = NULL;
        check(wm_txn_begin(st, 1, &t), "begin");
        check(wm_log_append(t, node, c->dec[i], c->srec[i], c->len[i]), "append");
        check(wm_txn_commit(&t), "commit");
    }
    double rate = c->n / (now() - t0);
    store_done(&st, dir, node, (uint64_t)c->n);
    return rate;
}

/* (b) ours: build, seal and append, committing every N_SIGN_BATCH. Like
 * the station's signer, it takes seq and prev from the store's head (which
 * the open transaction caches), not from its own memory. */
static double our_signing_appends(int n, const wm_signer_t *s, size_t *mean_bytes)
{
    char dir[4200];
    uint32_t node;
    wm_store_t *st = store_fresh("our-sign", s, &node, dir, sizeof dir);
    rec_buf_t b;
    rec_init(&b);
    size_t bytes = 0;
    wm_txn_t *t = NULL;
    double t0 = now();
    for (int i = 0; i < n; i++) {
        uint8_t *srec = NULL;
        size_t len = 0;
        wm_head_t head;
        if (!t)
            check(wm_txn_begin(st, 1, &t), "begin");
        check(wm_log_head(t, node, EPOCH, &head), "head");
        memcpy(b.prev, head.hash, WM_HASH_BYTES);
        rec_fill(&b, head.seq + 1);
        check(wm_record_seal(&b.r, s, &srec, &len), "seal");
        check(wm_log_append(t, node, &b.r, srec, len), "append");
        bytes += len - WM_SIG_BYTES;
        free(srec);
        if ((i + 1) % N_SIGN_BATCH == 0 || i + 1 == n)
            check(wm_txn_commit(&t), "commit");
    }
    double rate = n / (now() - t0);
    *mean_bytes = bytes / (size_t)n;
    store_done(&st, dir, node, (uint64_t)n);
    return rate;
}

/* (c) ours: append a pre-signed, pre-decoded chain in one txn + commit.
 * *put_rate: the rate of the appends alone, before the commit. */
static double our_batch_appends(const chain_t *c, const wm_signer_t *s, double *put_rate)
{
    char dir[4200];
    uint32_t node;
    wm_store_t *st = store_fresh("our-batch", s, &node, dir, sizeof dir);
    wm_txn_t *t = NULL;
    double t0 = now();
    check(wm_txn_begin(st, 1, &t), "begin");
    for (int i = 0; i < c->n; i++)
        check(wm_log_append(t, node, c->dec[i], c->srec[i], c->len[i]), "append");
    *put_rate = c->n / (now() - t0);
    check(wm_txn_commit(&t), "commit");
    double rate = c->n / (now() - t0);
    store_done(&st, dir, node, (uint64_t)c->n);
    return rate;
}

/* (e) the town's ingest path without the network: wm_ingest of batches of
 * INGEST_BATCH records (decode, content rules, chain, staging, quota;
 * the tail signature of each batch verified), each in a child of a turn's
 * transaction that commits every INGEST_TURN batches, as wm_agg does. */
static double our_ingest(const chain_t *c, const wm_signer_t *s)
{
    char dir[4200];
    uint32_t node;
    wm_store_t *st = store_fresh("our-ingest", s, &node, dir, sizeof dir);
    wm_quota_t quota = {0, 0};
    wm_sender_t snd = {STATION, node, wm_signer_pub(s), 0, NULL, &quota};
    wm_txn_t *t = NULL;
    double t0 = now();
    for (int i = 0, b = 0; i < c->n; i += INGEST_BATCH, b++) {
        wm_txn_t *child = NULL;
        wm_ingest_t res;
        size_t k = (size_t)(c->n - i < INGEST_BATCH ? c->n - i : INGEST_BATCH);
        if (!t)
            check(wm_txn_begin(st, 1, &t), "begin");
        check(wm_txn_begin_child(t, &child), "child");
        check(wm_ingest(child, &snd, (const uint8_t *const *)c->srec + i, c->len + i, k,
                        (int64_t)time(NULL), &res),
              "ingest");
        check(wm_txn_commit(&child), "child commit");
        if ((b + 1) % INGEST_TURN == 0 || i + INGEST_BATCH >= c->n)
            check(wm_txn_commit(&t), "commit");
    }
    double rate = c->n / (now() - t0);
    wm_head_t h;
    check(wm_txn_begin(st, 0, &t), "begin");
    check(wm_ingest_frontier(t, node, &h), "frontier");
    wm_txn_abort(&t);
    if (h.seq != (uint64_t)c->n)
        die("ingest", "records went missing");
    wm_store_close(&st);
    rm_tree(dir);
    return rate;
}

/* (d) ours: wm_srec_verify over real records. */
static double our_verify_rate(const chain_t *c, const wm_signer_t *s, int n)
{
    double t0 = now();
    for (int i = 0; i < n; i++) {
        wm_srec_t v;
        int j = i % c->n;
        check(wm_srec_view(c->srec[j], c->len[j], &v), "view");
        check(wm_srec_verify(&v, wm_signer_pub(s)), "verify");
    }
    return n / (now() - t0);
}

/* ---- output -------------------------------------------------------- */

static void row(const char *what, double rate, double limit, const char *target)
{
    if (limit > 0)
        printf("%-44s | %12.0f | %12.0f | %6.1f%% | %s\n", what, rate, limit,
               100.0 * rate / limit, target);
    else
        printf("%-44s | %12.0f | %12s | %7s | %s\n", what, rate, "-", "-", target);
}

static void limit_row(const char *what, double rate)
{
    printf("%-44s | %12.0f | %12s | %7s | %s\n", what, rate, "(limit)", "-", "-");
}

static int raw_fsync_only(void)
{
    double *lat = calloc(N_FSYNC, sizeof *lat);
    if (!lat)
        die("calloc", "out of memory");
    double rate = raw_fsync_puts(N_FSYNC, NULL, lat);
    qsort(lat, N_FSYNC, sizeof *lat, cmp_double);
    printf("raw_fsync_put_us %.0f %.0f %.0f\n", 1e6 / rate, lat[N_FSYNC / 2] * 1e6,
           lat[N_FSYNC * 99 / 100] * 1e6);
    free(lat);
    return 0;
}

int main(int argc, char **argv)
{
    int only_fsync = argc > 1 && strcmp(argv[1], "--raw-fsync") == 0;
    if (argc > 1 && !only_fsync && strcmp(argv[1], "--ingest") != 0) {
        fprintf(stderr, "usage: bench_store [--raw-fsync | --ingest]\n");
        return 2;
    }
    check(wm_crypto_init(), "crypto init");
    make_root();
    if (only_fsync) {
        int rc = raw_fsync_only();
        rm_tree(root);
        return rc;
    }

    uint8_t seed[WM_SEED_BYTES];
    wm_signer_t *signer = NULL;
    wm_random(seed, sizeof seed);
    check(wm_signer_from_seed(seed, &signer), "signer");

    if (argc == 2 && strcmp(argv[1], "--ingest") == 0) { /* (e) alone, for a profiler */
        chain_t big;
        chain_make(&big, N_BATCH, signer);
        fprintf(stderr, "bench_store: chain made\n");
        for (int i = 0; i < REPS; i++) {
            double c0 = cpu_s(), r = our_ingest(&big, signer);
            printf("ingest_per_s %.0f per_cpu_s %.0f\n", r, big.n / (cpu_s() - c0));
        }
        chain_free(&big);
        wm_signer_free(&signer);
        rm_tree(root);
        return 0;
    }
    printf("bench_store: LMDB in %s, one core; Ed25519/BLAKE2b limits over %d B\n", root,
           MSG_BYTES);
    fflush(stdout);

    /* Each pair is measured REPS times, interleaved (limit, ours, limit,
     * ours ...), after one untimed warm-up of each: the first LMDB
     * transaction of a process pays for faulting in heap pages that later
     * ones reuse. The median is reported. */
    chain_t small, big;
    chain_make(&small, N_FSYNC, signer);
    chain_make(&big, N_BATCH, signer);
    double a_lim[REPS], a_our[REPS], b_lim[REPS], b_our[REPS], c_lim[REPS], c_our[REPS];
    double cp_lim[REPS], cp_our[REPS], e_our[REPS];
    size_t b_bytes = 0;
    raw_batch_puts(N_BATCH, &big, &cp_lim[0]);
    our_batch_appends(&big, signer, &cp_our[0]);
    for (int i = 0; i < REPS; i++) {
        a_lim[i] = raw_fsync_puts(N_FSYNC, &small, NULL);
        a_our[i] = our_fsync_appends(&small, signer);
        b_lim[i] = raw_sign_rate(N_SIGN);
        b_our[i] = our_signing_appends(N_SIGN, signer, &b_bytes);
        c_lim[i] = raw_batch_puts(N_BATCH, &big, &cp_lim[i]);
        c_our[i] = our_batch_appends(&big, signer, &cp_our[i]);
        e_our[i] = our_ingest(&big, signer);
    }

    /* (d) */
    double d_ver = raw_verify_rate(N_VERIFY);
    double d_our_ver = our_verify_rate(&big, signer, N_VERIFY);
    double d_hash = raw_hash_rate(N_HASH);

    printf("records: activity, mean %zu B encoded + %d B signature; the raw LMDB limits\n"
           "put the same srecs as values under 16-byte big-endian keys\n\n",
           big.bytes / (size_t)big.n, WM_SIG_BYTES);
    printf("%-44s | %12s | %12s | %7s | %s\n", "what", "rate/s", "limit/s", "ratio",
           "target");
    printf("%.44s-+-%.12s-+-%.12s-+-%.7s-+-%s\n",
           "--------------------------------------------", "------------", "------------",
           "-------", "------");
    double al = median(a_lim), ao = median(a_our), bl = median(b_lim), bo = median(b_our);
    double cl = median(c_lim), co = median(c_our), cpl = median(cp_lim), cpo = median(cp_our);
    limit_row("a) raw LMDB: 1 put per fsynced txn", al);
    row("a) durable single append (N=2000)", ao, al, "~100% (fsync-bound)");
    limit_row("b) raw Ed25519 sign, 200 B", bl);
    row("b) signing append, commit/1000 (N=20000)", bo, bl, ">= 80%");
    limit_row("c) raw LMDB: puts in 1 txn + commit", cl);
    row("c) batched append, pre-signed (N=100000)", co, cl, ">= 50%");
    limit_row("c') raw LMDB puts alone, before commit", cpl);
    row("c') appends alone, before commit", cpo, cpl, "(CPU cost)");
    row("e) town ingest: wm_ingest, 2000/batch, 8/commit", median(e_our), cl, ">= 50%");
    limit_row("d) raw Ed25519 verify, 200 B", d_ver);
    row("d) wm_srec_verify of a record", d_our_ver, d_ver, "reference");
    row("d) BLAKE2b-256, 200 B", d_hash, 0, "reference");
    printf("\nmedian of %d interleaved runs each; (b) record mean %zu B; "
           "(a) raw fsynced put %.0f us\n",
           REPS, b_bytes, 1e6 / al);

    chain_free(&small);
    chain_free(&big);
    wm_signer_free(&signer);
    rm_tree(root);
    return 0;
}
