/* SPDX-License-Identifier: MIT */
/*
 * bench_rollup — what the rollup counters cost the town, and what they buy
 * it (docs/design.md §6, §7). In-process, through the same wm_ingest and
 * wm_report code the daemon runs.
 *
 *   a) Ingest rate with rollup maintenance on and off, in the same run:
 *      several stations' pre-signed, chained logs of realistic kinds (teams
 *      created first; activities of all six categories, volunteer services
 *      with and without a team, festival and grassroots tags, publicity,
 *      volunteers, recruitment, funding; dates spread over 2024, a few late
 *      entries) go through wm_ingest as the town ingests them: one write
 *      transaction per batch of 2000 records, the batch in a child
 *      transaction. Same data both ways, a fresh environment for every run,
 *      runs in ABBA order, median of 3 per mode; once with the fsync the
 *      town really does at each commit, once NOSYNC (the CPU cost alone).
 *      Target: rollup maintenance costs <= 20 % of ingest throughput.
 *
 *   b) Query latency over 1000 stations x 366 days (all of 2024), every
 *      station with records on every day (BENCH_ROLLUP_PER_DAY records a
 *      day, default 3, about 1.1 M records) ingested through wm_ingest with
 *      rollups on, NOSYNC, a month at a time (signing on two threads).
 *      After the first quarter (1/4 of the data) and again after the whole
 *      year it times the same queries of March 2024, so the two figures
 *      show whether query time depends on the number of records:
 *        town-month    wm_rollup_sum, scope 0, one month (with its read txn)
 *        report-month  wm_report_build, aggregator, one month: 1000
 *                      per-station rows, each with its team checks
 *      Then the county: 20 towns enrolled in a county store, each of whose
 *      logs holds 19 signed RollupReport records (the 12 months, 4
 *      quarters, 2 halves and the year of 2024, built by wm_report_build on
 *      the town store above and cut to what a 50-station town publishes:
 *      no per-station rows, covers, problems and by-team counts of 50
 *      stations), ingested through wm_ingest; it times
 *        county-year   wm_report_build_tier for 2024
 *      p50/p99 over at least 50 repetitions each. Target: <= 10 ms each.
 *
 * Usage: bench_rollup [a|b]   (both by default)
 * A benchmark, not a test: it prints figures and fails only if something
 * cannot run or a batch is refused.
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "wm_crypto.h"
#include "wm_date.h"
#include "wm_ingest.h"
#include "wm_record.h"
#include "wm_report.h"
#include "wm_rollup.h"
#include "wm_store.h"
#include "wm_validate.h"

#define BATCH 2000           /* records per write transaction, as the town */
#define A_STATIONS 8
#define A_PER_STATION 20000
#define A_RUNS 3             /* per mode and sync setting */
#define B_STATIONS 1000
#define B_TEAMS 3
#define C_TOWNS 20
#define C_TOWN_STATIONS 50   /* stations a town's published rollup covers */
#define REPS_FAST 200
#define REPS_SLOW 50
#define TARGET_QUERY_MS 10.0
#define TARGET_ROLLUP_COST 20.0

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void die(const char *what, const char *why)
{
    fprintf(stderr, "bench_rollup: %s: %s\n", what, why);
    exit(1);
}

static void check(wm_err_t err, const char *what)
{
    if (err != WM_OK)
        die(what, wm_strerror(err));
}

static char *scratch_dir(const char *tag)
{
    const char *tmp = getenv("TMPDIR");
    char *dir = malloc(4096);
    if (!dir)
        die("malloc", "out of memory");
    snprintf(dir, 4096, "%s/wmbench-%s.XXXXXX", tmp && *tmp ? tmp : "/tmp", tag);
    if (!mkdtemp(dir))
        die("mkdtemp", dir);
    return dir;
}

static void rm_dir(const char *dir)
{
    char cmd[4200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "bench_rollup: could not remove %s\n", dir);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Sorts v and returns its p-th percentile (0..1), nearest rank below. */
static double pct(double *v, size_t n, double p)
{
    qsort(v, n, sizeof *v, cmp_double);
    return v[(size_t)((double)(n - 1) * p)];
}

static double median3(double a, double b, double c)
{
    double v[3] = {a, b, c};
    return pct(v, 3, 0.5);
}

/* ---- realistic station logs ------------------------------------------ */

/* One station's chain as the generator knows it. */
typedef struct {
    char id[96];
    uint8_t seed[WM_SEED_BYTES];
    uint8_t pub[WM_PUB_BYTES];
    uint64_t seq;                 /* last sealed */
    uint8_t next[WM_HASH_BYTES];  /* hash of the last sealed record */
    uint32_t node;                /* in the store being filled */
    /* the records sealed but not yet ingested */
    uint8_t **srec;
    size_t *len;
    size_t n, cap;
} gst_t;

static const char *const TEAM_IDS[B_TEAMS] = {"zongdui", "fendui-huanbao", "fendui-pufa"};
static const char *const TEAM_NAMES[B_TEAMS] = {"新时代文明实践志愿服务总队", "环保宣传志愿分队",
                                                "普法宣传志愿分队"};

static void gst_init(gst_t *g, const char *id, uint32_t k)
{
    memset(g, 0, sizeof *g);
    snprintf(g->id, sizeof g->id, "%s", id);
    for (size_t i = 0; i < sizeof g->seed; i++)
        g->seed[i] = (uint8_t)(k * 131u + i * 7u + (k >> 8));
    wm_signer_t *s = NULL;
    check(wm_signer_from_seed(g->seed, &s), "signer");
    memcpy(g->pub, wm_signer_pub(s), WM_PUB_BYTES);
    wm_signer_free(&s);
}

static void gst_push(gst_t *g, uint8_t *srec, size_t len)
{
    if (g->n == g->cap) {
        size_t cap = g->cap ? 2 * g->cap : 256;
        uint8_t **a = realloc(g->srec, cap * sizeof *a);
        size_t *b = realloc(g->len, cap * sizeof *b);
        if (!a || !b)
            die("realloc", "out of memory");
        g->srec = a, g->len = b, g->cap = cap;
    }
    g->srec[g->n] = srec;
    g->len[g->n++] = len;
}

/* Frees the sealed records (after they were ingested). */
static void gst_drop(gst_t *g)
{
    for (size_t i = 0; i < g->n; i++)
        free(g->srec[i]);
    g->n = 0;
}

static void gst_free(gst_t *g)
{
    gst_drop(g);
    free(g->srec);
    free(g->len);
    g->srec = NULL, g->len = NULL, g->cap = 0;
}

/* Seals body r (body set by the caller) as the next record of g's chain,
 * captured at `captured`, and keeps it for ingest. */
static void gst_seal(gst_t *g, const wm_signer_t *s, Wm__Record *r, int64_t captured,
                     uint32_t today)
{
    wm_reject_t rej;
    if (wm_validate_body(r, today, &rej) != WM_OK) {
        fprintf(stderr, "bench_rollup: generated an invalid record: %s: %s\n", rej.field, rej.why);
        exit(1);
    }
    uint8_t prev[WM_HASH_BYTES];
    memcpy(prev, g->next, sizeof prev);
    r->schema = WM_SCHEMA;
    r->station = g->id;
    r->epoch = 1;
    r->seq = g->seq + 1;
    r->prev = (ProtobufCBinaryData){WM_HASH_BYTES, prev};
    r->captured = captured;
    uint8_t *srec = NULL;
    size_t len = 0;
    check(wm_record_seal(r, s, &srec, &len), "seal");
    wm_srec_hash_buf(srec, len, g->next);
    g->seq++;
    gst_push(g, srec, len);
}

static void gen_teams(gst_t *g, const wm_signer_t *s, int64_t captured, uint32_t today)
{
    for (int i = 0; i < B_TEAMS; i++) {
        Wm__Record r = WM__RECORD__INIT;
        Wm__Team t = WM__TEAM__INIT;
        t.team = (char *)TEAM_IDS[i];
        t.action = WM__TEAM_ACTION__CREATE;
        t.name = (char *)TEAM_NAMES[i];
        t.kind = i == 0 ? WM__TEAM_KIND__GENERAL : WM__TEAM_KIND__BRANCH;
        t.trade = "志愿服务";
        r.body_case = WM__RECORD__BODY_TEAM;
        r.team = &t;
        gst_seal(g, s, &r, captured, today);
    }
}

static const char *const TITLES[] = {
    "学习贯彻党的二十大精神主题宣讲", "习近平新时代中国特色社会主义思想理论学习",
    "党员冬训集中培训",                 "移风易俗文明新风进万家",
    "“我们的节日·春节”群众文化活动",   "新时代文明实践志愿服务进村入户",
};

/* The u-th kind of the rotation, dated `date`: twelve kinds that between
 * them touch every rollup figure. */
static void gen_one(gst_t *g, const wm_signer_t *s, unsigned u, uint32_t date, uint32_t today)
{
    Wm__Record r = WM__RECORD__INIT;
    Wm__Activity a = WM__ACTIVITY__INIT;
    Wm__Publicity pub = WM__PUBLICITY__INIT;
    Wm__Volunteers vol = WM__VOLUNTEERS__INIT;
    Wm__Recruitment rec = WM__RECRUITMENT__INIT;
    Wm__Funding fund = WM__FUNDING__INIT;
    char title[200];
    char *tags[1];
    uint64_t n = g->seq + 1;
    /* Captured that day at 10:00 (UTC+8); one record in 37 entered ten
     * days late (a late entry). */
    int64_t captured = (int64_t)wm_date_to_days(date) * 86400 + 2 * 3600 + (int64_t)(n % 3600);
    if (n % 37 == 0)
        captured += 10 * 86400;
    switch (u % 12) {
    case 0: case 1: case 2: case 3: case 4: case 5: case 6: case 11: {
        static const Wm__Category cats[] = {
            WM__CATEGORY__THEME_LECTURE,     WM__CATEGORY__THEORY_EDUCATION,
            WM__CATEGORY__PARTY_TRAINING,    WM__CATEGORY__CIVILIZATION_PRACTICE,
            WM__CATEGORY__CULTURE_SPORTS,    WM__CATEGORY__VOLUNTEER_SERVICE,
            WM__CATEGORY__VOLUNTEER_SERVICE, WM__CATEGORY__VOLUNTEER_SERVICE,
        };
        unsigned c = u % 12 == 11 ? 7 : u % 12;
        a.date = date;
        a.category = cats[c];
        a.participants = 20 + (uint32_t)(n % 180);
        a.volunteers = 3 + (uint32_t)(n % 12);
        a.place = "新时代文明实践站";
        snprintf(title, sizeof title, "%s（第%" PRIu64 "期）", TITLES[c < 5 ? c : 5], n);
        a.title = title;
        if (c == 0 && n % 2 == 0) {
            tags[0] = WM_TAG_GRASSROOTS;
            a.tags = tags, a.n_tags = 1;
        } else if (c == 4) {
            tags[0] = "春节";
            a.tags = tags, a.n_tags = 1;
        }
        if (a.category == WM__CATEGORY__VOLUNTEER_SERVICE) {
            a.service_kind = (Wm__ServiceKind)(1 + n % 7);
            a.hours_x100 = 100 + (uint32_t)(n % 4) * 50;
            if (c != 6) /* some services by a team, some without */
                a.team = (char *)TEAM_IDS[n % B_TEAMS];
        }
        r.body_case = WM__RECORD__BODY_ACTIVITY;
        r.activity = &a;
        break;
    }
    case 7:
        pub.date = date;
        pub.channel = (Wm__Channel)(1 + n % 4);
        pub.count = 1 + (uint32_t)(n % 50);
        r.body_case = WM__RECORD__BODY_PUBLICITY;
        r.publicity = &pub;
        break;
    case 8:
        vol.date = date;
        vol.registered = 1 + (uint32_t)(n % 5);
        vol.verified = (uint32_t)(n % 4);
        r.body_case = WM__RECORD__BODY_VOLUNTEERS;
        r.volunteers = &vol;
        break;
    case 9:
        rec.date = date;
        rec.count = 1 + (uint32_t)(n % 3);
        r.body_case = WM__RECORD__BODY_RECRUITMENT;
        r.recruitment = &rec;
        break;
    default:
        fund.date = date;
        fund.fen = 50000 + n % 100000;
        fund.source = "县财政专项资金";
        r.body_case = WM__RECORD__BODY_FUNDING;
        r.funding = &fund;
        break;
    }
    gst_seal(g, s, &r, captured, today);
}

/* ---- ingest, as the town's aggregator does ---------------------------- */

/* Ingests g's pending records [from, from+n) as one batch, in a child of
 * parent. */
static void ingest_child(wm_txn_t *parent, gst_t *g, size_t from, size_t n, unsigned flags,
                         int64_t now)
{
    wm_txn_t *t = NULL;
    wm_ingest_t res;
    wm_sender_t snd = {g->id, g->node, g->pub, flags | WM_INGEST_SETTLE, NULL, NULL};
    check(wm_txn_begin_child(parent, &t), "begin child");
    wm_err_t err = wm_ingest(t, &snd, (const uint8_t *const *)g->srec + from, g->len + from, n,
                             now, &res);
    if (err != WM_OK || res.accepted != n) {
        fprintf(stderr, "bench_rollup: ingest of %s refused: %s (%s: %s)\n", g->id,
                wm_strerror(err), res.reason ? wm_sync_slug(res.reason) : "-", res.detail);
        exit(1);
    }
    check(wm_txn_commit(&t), "commit child");
}

static void add_nodes(wm_store_t *st, gst_t *g, size_t n, int enrol, const char *role)
{
    wm_txn_t *t = NULL;
    check(wm_txn_begin(st, 1, &t), "begin");
    for (size_t i = 0; i < n; i++) {
        check(wm_nodeno_add(t, g[i].id, &g[i].node), "node add");
        if (!enrol)
            continue;
        Wm__PeerState p = WM__PEER_STATE__INIT;
        uint8_t curve[32];
        for (size_t k = 0; k < sizeof curve; k++)
            curve[k] = (uint8_t)(i * 31 + k * 17 + 1);
        memcpy(curve, &i, sizeof i);
        char name[64];
        snprintf(name, sizeof name, "第%zu新时代文明实践站", i + 1);
        p.node = g[i].id;
        p.name = name;
        p.role = (char *)role;
        p.sign_pub = (ProtobufCBinaryData){WM_PUB_BYTES, g[i].pub};
        p.curve_pub = (ProtobufCBinaryData){sizeof curve, curve};
        p.state = WM_PEER_ACTIVE;
        p.enrolled = 1704038400;  /* 2024-01-01 */
        p.last_seen = 1735660800; /* 2024-12-31 */
        check(wm_peer_put(t, &p), "peer put");
    }
    check(wm_txn_commit(&t), "commit");
}

/* ---- a) ingest with and without rollups ------------------------------- */

static gst_t a_st[A_STATIONS];

static double a_run(int rollup, int nosync, uint64_t *bytes)
{
    char *dir = scratch_dir("rollup-a");
    wm_store_t *st = NULL;
    check(wm_store_open(dir, nosync ? WM_STORE_NOSYNC : 0, 1024, &st), "open");
    add_nodes(st, a_st, A_STATIONS, 0, NULL);
    int64_t now = (int64_t)time(NULL);
    unsigned flags = rollup ? 0 : WM_INGEST_NO_ROLLUP;
    size_t total = 0;
    double t0 = now_s();
    for (size_t from = 0; from < A_PER_STATION + B_TEAMS; from += BATCH)
        for (int s = 0; s < A_STATIONS; s++) {
            size_t n = a_st[s].n - from < BATCH ? a_st[s].n - from : BATCH;
            wm_txn_t *t = NULL;
            check(wm_txn_begin(st, 1, &t), "begin");
            ingest_child(t, &a_st[s], from, n, flags, now);
            check(wm_txn_commit(&t), "commit"); /* the batch is durable here (unless NOSYNC) */
            total += n;
        }
    double rate = (double)total / (now_s() - t0);
    wm_store_close(&st);
    if (bytes) {
        char path[4200];
        snprintf(path, sizeof path, "%s/data.mdb", dir);
        FILE *f = fopen(path, "rb");
        *bytes = 0;
        if (f) {
            fseek(f, 0, SEEK_END);
            *bytes = (uint64_t)ftell(f);
            fclose(f);
        }
    }
    rm_dir(dir);
    free(dir);
    return rate;
}

static void bench_a(void)
{
    uint32_t today = wm_date_today();
    double t0 = now_s();
    size_t total = 0, bytes = 0;
    for (int s = 0; s < A_STATIONS; s++) {
        char id[96];
        snprintf(id, sizeof id, "bench-county/town/station-%02d", s + 1);
        gst_init(&a_st[s], id, (uint32_t)s + 1);
        wm_signer_t *sg = NULL;
        check(wm_signer_from_seed(a_st[s].seed, &sg), "signer");
        gen_teams(&a_st[s], sg, 1704067200 - 86400, today);
        for (size_t i = 0; i < A_PER_STATION; i++) {
            uint32_t date = wm_date_from_days(wm_date_to_days(20240101) +
                                              (int32_t)(i * 366 / A_PER_STATION));
            gen_one(&a_st[s], sg, (unsigned)(i + (size_t)s), date, today);
        }
        wm_signer_free(&sg);
        total += a_st[s].n;
        for (size_t i = 0; i < a_st[s].n; i++)
            bytes += a_st[s].len[i];
    }
    printf("a) ingest through wm_ingest, rollup maintenance on vs off\n");
    printf("   %d stations x %d records (+%d team records each) = %zu records, %.0f bytes/srec "
           "on average, dated over 2024; signed in %.1f s\n",
           A_STATIONS, A_PER_STATION, B_TEAMS, total, (double)bytes / (double)total, now_s() - t0);
    printf("   one write txn per batch of %d (child txn per batch, as the aggregator); fresh env "
           "per run; ABBA order, median of %d\n\n",
           BATCH, A_RUNS);
    printf("   %-30s | %14s | %14s | %9s | %s\n", "commit", "rollup on /s", "rollup off /s",
           "cost", "target <= 20 %");
    printf("   %-30s-+-%14s-+-%14s-+-%9s-+-%s\n", "------------------------------",
           "--------------", "--------------", "---------", "--------------");
    for (int nosync = 0; nosync <= 1; nosync++) {
        double on[A_RUNS], off[A_RUNS];
        for (int r = 0; r < A_RUNS; r++) {
            if (r % 2 == 0) {
                on[r] = a_run(1, nosync, NULL);
                off[r] = a_run(0, nosync, NULL);
            } else {
                off[r] = a_run(0, nosync, NULL);
                on[r] = a_run(1, nosync, NULL);
            }
        }
        double mon = median3(on[0], on[1], on[2]), moff = median3(off[0], off[1], off[2]);
        double cost = 100.0 * (1.0 - mon / moff);
        printf("   %-30s | %14.0f | %14.0f | %8.1f%% | %s\n",
               nosync ? "NOSYNC (CPU cost only)" : "fsync at each commit (town)", mon, moff, cost,
               cost <= TARGET_ROLLUP_COST ? "met" : "MISSED");
        printf("   %-30s   runs on: %.0f %.0f %.0f   off: %.0f %.0f %.0f\n", "", on[0], on[1],
               on[2], off[0], off[1], off[2]);
    }
    uint64_t b_on = 0, b_off = 0;
    a_run(1, 1, &b_on);
    a_run(0, 1, &b_off);
    printf("   data.mdb after the run: %.1f MiB with rollups, %.1f MiB without\n\n",
           (double)b_on / 1048576.0, (double)b_off / 1048576.0);
    for (int s = 0; s < A_STATIONS; s++)
        gst_free(&a_st[s]);
}

/* ---- b) query latency over 1000 stations x 366 days ------------------- */

static gst_t *b_st;
static unsigned b_per_day;

typedef struct {
    int part, parts;
    uint32_t from, to; /* the days this chunk covers */
    int first;         /* the first chunk: teams first */
} gen_job_t;

static void *gen_thread(void *arg)
{
    const gen_job_t *j = arg;
    uint32_t today = wm_date_today();
    for (int s = j->part; s < B_STATIONS; s += j->parts) {
        gst_t *g = &b_st[s];
        wm_signer_t *sg = NULL;
        check(wm_signer_from_seed(g->seed, &sg), "signer");
        if (j->first)
            gen_teams(g, sg, 1704067200 - 86400, today);
        for (int32_t d = wm_date_to_days(j->from); d <= wm_date_to_days(j->to); d++)
            for (unsigned q = 0; q < b_per_day; q++)
                gen_one(g, sg, (unsigned)d * b_per_day + q + (unsigned)s, wm_date_from_days(d),
                        today);
        wm_signer_free(&sg);
    }
    return NULL;
}

/* Signs every station's records of [from, to] on two threads, then
 * ingests them, NOSYNC, about BATCH records per write transaction. */
static size_t b_fill(wm_store_t *st, uint32_t from, uint32_t to, int first, double *gen_s,
                     double *ing_s)
{
    double t0 = now_s();
    pthread_t th[2];
    gen_job_t jobs[2] = {{0, 2, from, to, first}, {1, 2, from, to, first}};
    for (int i = 0; i < 2; i++)
        if (pthread_create(&th[i], NULL, gen_thread, &jobs[i]) != 0)
            die("pthread_create", "failed");
    for (int i = 0; i < 2; i++)
        pthread_join(th[i], NULL);
    double t1 = now_s();
    int64_t now = (int64_t)time(NULL);
    size_t total = 0, in_txn = 0;
    wm_txn_t *t = NULL;
    for (int s = 0; s < B_STATIONS; s++) {
        if (!t)
            check(wm_txn_begin(st, 1, &t), "begin");
        ingest_child(t, &b_st[s], 0, b_st[s].n, 0, now);
        in_txn += b_st[s].n;
        total += b_st[s].n;
        gst_drop(&b_st[s]);
        if (in_txn >= BATCH || s == B_STATIONS - 1) {
            check(wm_txn_commit(&t), "commit");
            in_txn = 0;
        }
    }
    *gen_s += t1 - t0;
    *ing_s += now_s() - t1;
    return total;
}

typedef struct {
    double p50, p99, mean;
} lat_t;

static lat_t lat_of(double *v, size_t n)
{
    double sum = 0;
    for (size_t i = 0; i < n; i++)
        sum += v[i];
    lat_t l = {pct(v, n, 0.5) * 1e3, pct(v, n, 0.99) * 1e3, sum / (double)n * 1e3};
    return l;
}

/* wm_rollup_sum of scope 0 over p, with its own read transaction. */
static lat_t time_town_sum(wm_store_t *st, const wm_period_t *p, int64_t *check_total)
{
    static double v[REPS_FAST];
    for (int i = 0; i < REPS_FAST; i++) {
        wm_txn_t *t = NULL;
        wm_sums_t s = {0};
        double t0 = now_s();
        check(wm_txn_begin(st, 0, &t), "begin read");
        check(wm_rollup_sum(t, 0, p->from, p->to, &s), "rollup sum");
        wm_txn_abort(&t);
        v[i] = now_s() - t0;
        *check_total = wm_sums_total(&s, WM_FIG_ACTIVITY);
        wm_sums_free(&s);
    }
    return lat_of(v, REPS_FAST);
}

static wm_report_opts_t town_opts(void)
{
    wm_report_opts_t o = {.id = "bench-county/town",
                          .name = "测试镇",
                          .role = "town",
                          .aggregator = 1,
                          .cadence_days = 14,
                          .silent_days = 7,
                          .today = 20250101,
                          .now = 1735689600};
    return o;
}

/* wm_report_build of p (aggregator: a row per station), with its read
 * transaction; the object is freed inside the timing too. */
static lat_t time_town_report(wm_store_t *st, const wm_period_t *p, size_t *json_bytes)
{
    static double v[REPS_SLOW];
    wm_report_opts_t o = town_opts();
    for (int i = 0; i < REPS_SLOW; i++) {
        wm_txn_t *t = NULL;
        json_t *j = NULL;
        double t0 = now_s();
        check(wm_txn_begin(st, 0, &t), "begin read");
        check(wm_report_build(t, p, &o, &j), "report build");
        wm_txn_abort(&t);
        if (i == 0) {
            char *s = json_dumps(j, JSON_COMPACT);
            *json_bytes = s ? strlen(s) : 0;
            free(s);
        }
        json_decref(j);
        v[i] = now_s() - t0;
    }
    return lat_of(v, REPS_SLOW);
}

static void row(const char *what, const char *data, lat_t l)
{
    printf("   %-34s | %-22s | %8.3f | %8.3f | %8.3f | %s\n", what, data, l.p50, l.p99, l.mean,
           l.p99 <= TARGET_QUERY_MS ? "met" : "MISSED");
}

static void row_head(void)
{
    printf("   %-34s | %-22s | %8s | %8s | %8s | %s\n", "query", "data", "p50 ms", "p99 ms",
           "mean ms", "target p99 <= 10 ms");
    printf("   %-34s-+-%-22s-+-%8s-+-%8s-+-%8s-+-%s\n", "----------------------------------",
           "----------------------", "--------", "--------", "--------", "-------------------");
}

/* A town's published rollup of p as a 50-station town would publish it:
 * built by wm_report_build on the town store, without per-station rows
 * (as wm_node_publish drops them when too big), covers and problems kept
 * and the by-team counts for the first C_TOWN_STATIONS stations only.
 * Compact JSON, malloc'd. */
static char *town_rollup_json(wm_store_t *st, const wm_period_t *p)
{
    wm_report_opts_t o = town_opts();
    wm_txn_t *t = NULL;
    json_t *j = NULL;
    check(wm_txn_begin(st, 0, &t), "begin read");
    check(wm_report_build(t, p, &o, &j), "report build");
    wm_txn_abort(&t);
    json_object_set_new(j, "stations", json_array());
    json_t *covers = json_object_get(j, "covers"), *problems = json_object_get(j, "problems");
    while (json_array_size(covers) > C_TOWN_STATIONS)
        json_array_remove(covers, json_array_size(covers) - 1);
    json_t *kept = json_array();
    size_t k;
    json_t *x;
    json_array_foreach(problems, k, x)
    {
        const char *sid = json_string_value(json_object_get(x, "station"));
        int n = 0;
        if (sid && sscanf(sid, "bench-county/town/st-%d", &n) == 1 && n <= C_TOWN_STATIONS)
            json_array_append(kept, x);
    }
    json_object_set_new(j, "problems", kept);
    json_t *by_team =
        json_object_get(json_object_get(json_object_get(j, "totals"), "volunteer_services"),
                        "by_team");
    const char *key;
    void *tmp;
    json_object_foreach_safe(by_team, tmp, key, x)
    {
        int n = 0;
        if (sscanf(key, "bench-county/town/st-%d", &n) != 1 || n > C_TOWN_STATIONS)
            json_object_del(by_team, key);
    }
    char *s = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    if (!s)
        die("json_dumps", "out of memory");
    return s;
}

static void bench_b(void)
{
    const char *env = getenv("BENCH_ROLLUP_PER_DAY");
    b_per_day = env && atoi(env) > 0 ? (unsigned)atoi(env) : 3;
    b_st = calloc(B_STATIONS, sizeof *b_st);
    if (!b_st)
        die("calloc", "out of memory");
    for (int s = 0; s < B_STATIONS; s++) {
        char id[96];
        snprintf(id, sizeof id, "bench-county/town/st-%04d", s + 1);
        gst_init(&b_st[s], id, (uint32_t)s + 1001);
    }
    char *dir = scratch_dir("rollup-b");
    wm_store_t *st = NULL;
    check(wm_store_open(dir, WM_STORE_NOSYNC, 8192, &st), "open");
    add_nodes(st, b_st, B_STATIONS, 1, "station");

    printf("b) query latency: %d stations x 366 days (2024), %u records a day each, through "
           "wm_ingest with rollups, NOSYNC\n",
           B_STATIONS, b_per_day);
    wm_period_t mar, nov, year;
    check(wm_period_parse("2024-03", &mar), "period");
    check(wm_period_parse("2024-11", &nov), "period");
    check(wm_period_parse("2024", &year), "period");
    double gen_s = 0, ing_s = 0;
    size_t total = 0, q_total = 0;
    lat_t sum_q = {0}, rep_q = {0};
    int64_t act_q = 0, act_full = 0;
    size_t rep_bytes = 0;
    for (int m = 1; m <= 12; m++) {
        char name[16];
        wm_period_t mp;
        snprintf(name, sizeof name, "2024-%02d", m);
        check(wm_period_parse(name, &mp), "period");
        total += b_fill(st, mp.from, mp.to, m == 1, &gen_s, &ing_s);
        if (m == 3) {
            q_total = total;
            sum_q = time_town_sum(st, &mar, &act_q);
            rep_q = time_town_report(st, &mar, &rep_bytes);
        }
    }
    printf("   %zu records: signed in %.1f s (2 threads), ingested in %.1f s (%.0f records/s, "
           "one core)\n\n",
           total, gen_s, ing_s, (double)total / ing_s);
    lat_t sum_f = time_town_sum(st, &mar, &act_full);
    int64_t act_nov = 0;
    lat_t sum_nov = time_town_sum(st, &nov, &act_nov);
    size_t rep_bytes_f = 0, rep_bytes_nov = 0;
    lat_t rep_f = time_town_report(st, &mar, &rep_bytes_f);
    lat_t rep_nov = time_town_report(st, &nov, &rep_bytes_nov);
    if (act_q != act_full)
        die("town-month", "March figures changed when later months were added");

    char qdata[64], fdata[64];
    snprintf(qdata, sizeof qdata, "%zuk recs (1/4)", q_total / 1000);
    snprintf(fdata, sizeof fdata, "%zuk recs (full)", total / 1000);
    row_head();
    row("town-month 2024-03 (rollup_sum)", qdata, sum_q);
    row("town-month 2024-03 (rollup_sum)", fdata, sum_f);
    row("town-month 2024-11 (rollup_sum)", fdata, sum_nov);
    row("report-month 2024-03, 1000 rows", qdata, rep_q);
    row("report-month 2024-03, 1000 rows", fdata, rep_f);
    row("report-month 2024-11, 1000 rows", fdata, rep_nov);
    printf("   full/quarter data, same March query: rollup_sum p50 x%.2f, report p50 x%.2f "
           "(records x%.2f)\n",
           sum_f.p50 / sum_q.p50, rep_f.p50 / rep_q.p50, (double)total / (double)q_total);
    printf("   (March: %" PRId64 " activities in both; report JSON %zu bytes, %zu with the full "
           "year present)\n",
           act_full, rep_bytes, rep_bytes_f);

    /* ---- the county ---- */
    static const char *const periods[] = {
        "2024-01", "2024-02", "2024-03", "2024-04", "2024-05", "2024-06", "2024-07",
        "2024-08", "2024-09", "2024-10", "2024-11", "2024-12", "2024-Q1", "2024-Q2",
        "2024-Q3", "2024-Q4", "2024-H1", "2024-H2", "2024",
    };
    enum { NP = sizeof periods / sizeof periods[0] };
    gst_t towns[C_TOWNS];
    char *cdir = scratch_dir("rollup-county");
    wm_store_t *cst = NULL;
    check(wm_store_open(cdir, WM_STORE_NOSYNC, 1024, &cst), "open county");
    for (int k = 0; k < C_TOWNS; k++) {
        char id[96];
        snprintf(id, sizeof id, "bench-county/town-%02d", k + 1);
        gst_init(&towns[k], id, (uint32_t)k + 5001);
    }
    add_nodes(cst, towns, C_TOWNS, 1, "town");
    uint32_t today = wm_date_today();
    size_t max_rec = 0, year_rec = 0;
    double t0 = now_s();
    for (int pi = 0; pi < NP; pi++) {
        wm_period_t p;
        check(wm_period_parse(periods[pi], &p), "period");
        /* Built once per period; each town publishes it under its own id. */
        json_t *base = NULL;
        char *btext = town_rollup_json(st, &p);
        if (!(base = json_loads(btext, 0, NULL)))
            die("town rollup", "does not parse");
        free(btext);
        for (int k = 0; k < C_TOWNS; k++) {
            json_object_set_new(base, "id", json_string(towns[k].id));
            char *text = json_dumps(base, JSON_COMPACT);
            if (!text)
                die("json_dumps", "out of memory");
            Wm__RollupReport rr = WM__ROLLUP_REPORT__INIT;
            Wm__Record r = WM__RECORD__INIT;
            rr.period = p.name;
            rr.from = p.from;
            rr.to = p.to;
            rr.json = text;
            r.body_case = WM__RECORD__BODY_ROLLUP;
            r.rollup = &rr;
            wm_signer_t *sg = NULL;
            check(wm_signer_from_seed(towns[k].seed, &sg), "signer");
            /* published the day after the period ends */
            gst_seal(&towns[k], sg, &r, (int64_t)(wm_date_to_days(p.to) + 1) * 86400, today);
            wm_signer_free(&sg);
            size_t len = towns[k].len[towns[k].n - 1];
            if (len > max_rec)
                max_rec = len;
            if (pi == NP - 1)
                year_rec = len;
            if (len > WM_REC_MAX)
                die("town rollup", "larger than WM_REC_MAX");
            free(text);
        }
        json_decref(base);
    }
    wm_txn_t *t = NULL;
    check(wm_txn_begin(cst, 1, &t), "begin");
    for (int k = 0; k < C_TOWNS; k++)
        ingest_child(t, &towns[k], 0, towns[k].n, 0, (int64_t)time(NULL));
    check(wm_txn_commit(&t), "commit");
    double build_s = now_s() - t0;

    static double v[REPS_SLOW];
    wm_report_opts_t o = {.id = "bench-county",
                          .name = "测试县",
                          .role = "county",
                          .aggregator = 1,
                          .cadence_days = 14,
                          .silent_days = 7,
                          .today = 20250101,
                          .now = 1735689600};
    size_t cbytes = 0, nrows = 0;
    for (int i = 0; i < REPS_SLOW; i++) {
        json_t *j = NULL;
        double c0 = now_s();
        check(wm_txn_begin(cst, 0, &t), "begin read");
        check(wm_report_build_tier(t, &year, &o, &j), "report build tier");
        wm_txn_abort(&t);
        if (i == 0) {
            char *s = json_dumps(j, JSON_COMPACT);
            cbytes = s ? strlen(s) : 0;
            free(s);
            nrows = json_array_size(json_object_get(j, "stations"));
        }
        json_decref(j);
        v[i] = now_s() - c0;
    }
    lat_t county = lat_of(v, REPS_SLOW);
    if (nrows != C_TOWNS)
        die("county-year", "not every town's rollup was found");
    char cdata[64];
    snprintf(cdata, sizeof cdata, "%d towns x %d reports", C_TOWNS, NP);
    row("county-year 2024 (build_tier)", cdata, county);
    printf("   (county: %d towns' logs of %d signed RollupReport records each, built and "
           "ingested in %.1f s; the year record %zu bytes, largest %zu; result JSON %zu bytes)\n",
           C_TOWNS, NP, build_s, year_rec, max_rec, cbytes);

    /* How big a 1000-station town's own rollup is: what wm_node_publish
     * would have to fit into one record. */
    {
        wm_report_opts_t to = town_opts();
        json_t *j = NULL;
        check(wm_txn_begin(st, 0, &t), "begin read");
        check(wm_report_build(t, &year, &to, &j), "report build");
        wm_txn_abort(&t);
        json_object_set_new(j, "stations", json_array());
        char *s = json_dumps(j, JSON_COMPACT);
        printf("   note: this %d-station town's 2024 rollup without station rows is %zu bytes "
               "(record limit WM_REC_MAX %d): %s\n",
               B_STATIONS, s ? strlen(s) : 0, WM_REC_MAX,
               s && strlen(s) > WM_REC_MAX - 1024 ? "too big to publish as one record"
                                                  : "fits");
        free(s);
        json_decref(j);
    }

    for (int k = 0; k < C_TOWNS; k++)
        gst_free(&towns[k]);
    wm_store_close(&cst);
    rm_dir(cdir);
    free(cdir);
    wm_store_close(&st);
    rm_dir(dir);
    free(dir);
    for (int s = 0; s < B_STATIONS; s++)
        gst_free(&b_st[s]);
    free(b_st);
}

int main(int argc, char **argv)
{
    if (wm_crypto_init() != WM_OK)
        die("wm_crypto_init", "libsodium failed to initialise");
    const char *which = argc > 1 ? argv[1] : "ab";
    if (argc > 2 || (strcmp(which, "a") && strcmp(which, "b") && strcmp(which, "ab"))) {
        fprintf(stderr, "usage: bench_rollup [a|b]\n");
        return 2;
    }
    if (strchr(which, 'a'))
        bench_a();
    if (strchr(which, 'b'))
        bench_b();
    return 0;
}
