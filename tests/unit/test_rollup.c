/* SPDX-License-Identifier: MIT */
/*
 * test_rollup — a property test of storage/wm_rollup.c as the town feeds
 * it: random signed logs of several stations (every record kind, teams
 * created, renamed and disbanded, voids of earlier records, plans and their
 * completions, a record of a kind this build does not know, late entries)
 * go through wm_ingest (the aggregator's ingest) in batches of random
 * sizes, interleaved across stations, in parent transactions with one child
 * per batch as the aggregator does; some batches are resent (duplicates) and some parent
 * transactions are aborted (a crash before commit). At checkpoints and at
 * the end of each round, every counter of wm_rollup_sum, wm_rollup_days,
 * wm_rollup_plans and wm_rollup_site, for random periods (months, ISO
 * weeks, quarters, halves, years, ranges) and every scope (each station and
 * all together), must equal a brute-force recount from the records the
 * test keeps in memory, and no additive counter may go negative.
 *
 * Deterministic: the seed is printed; WM_SEED=<n> replays a run and
 * WM_ROUNDS=<n> changes the number of rounds (default 30).
 *
 * The brute force's rules, written from docs/design.md §2/§6 and wm_rollup.h
 * rather than from the code: a voided record counts nowhere (only one
 * void per target exists: the station refuses a second one, and voids of
 * voids); a record of an unknown kind counts nowhere; team services count
 * under the team's number (1.. in order of first creation of its id,
 * stable across rename, disband and re-creation), per station only; an
 * activity is late when the local day of its capture is more than
 * WM_LATE_DAYS after its date; a plan is completed by its (non-voided)
 * completion; the site checklist is the latest non-voided one by date.
 */
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "wm_date.h"
#include "wm_ingest.h"
#include "wm_rollup.h"
#include "wm_testutil.h"

#define MAX_STATIONS 6
#define MAX_TEAMS 8
#define NDIM 16
#define TZ_OFFSET_S (8 * 3600) /* the test runs with TZ=CST-8 (UTC+8, no tzdata needed) */
#define DAY0 20230101u         /* records are dated 2023-01-01 .. 2024-12-31 */
#define DAY1 20241231u
#define PLAN_DAY1 20251231u    /* plans may fall due until the end of 2025 */

/* ---------------------------------------------------------------- PRNG */

static uint64_t rng_state;

static uint64_t rnd(void)
{
    /* splitmix64: tiny, good enough, identical everywhere */
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* Uniform in [lo, hi]. */
static int64_t rnd_in(int64_t lo, int64_t hi)
{
    return lo + (int64_t)(rnd() % (uint64_t)(hi - lo + 1));
}

static int chance(int percent)
{
    return rnd_in(1, 100) <= percent;
}

static uint32_t rnd_date(uint32_t from, uint32_t to)
{
    return wm_date_from_days((int32_t)rnd_in(wm_date_to_days(from), wm_date_to_days(to)));
}

/* ------------------------------------------------ the test's own model */

static const char *const TAGS[] = {"春节", "元旦", "三八", WM_TAG_GRASSROOTS, "道德讲堂", "端午"};
#define N_TAGS (sizeof TAGS / sizeof *TAGS)

/* What a record is, as the brute force needs it. kind is the body case,
 * or WM__RECORD__BODY__NOT_SET for the unknown kind. */
typedef struct {
    int kind;
    uint64_t seq;
    uint64_t voided_by; /* seq of the void that targets it, 0 if none */
    uint32_t date;
    /* activity */
    int category, service_kind, team_no, festival, grassroots, late;
    uint32_t participants, volunteers, hours_x100;
    /* publicity: channel in category, count in participants; volunteers:
     * registered, verified in participants, volunteers; recruitment: count
     * in participants; funding */
    uint64_t fen;
    /* site */
    uint16_t flags;
    /* plan: date is the due date; done_by the seq of its completion */
    uint64_t done_by;
    /* plan_done: the plan; void: the target */
    uint64_t target;
} mrec_t;

typedef struct {
    char id[64];
    uint32_t node;
    wm_signer_t *signer;
    mrec_t *m;         /* m[i] is seq i + 1 */
    uint8_t **srec;
    size_t *len;
    size_t n;          /* records generated */
    size_t stored;     /* records durably ingested (seq 1..stored) */
    /* generation state: teams as the station knows them */
    int team_state[MAX_TEAMS]; /* 0 never created, 1 active, 2 disbanded */
    int team_no[MAX_TEAMS];
    int teams_made;
} station_t;

typedef struct {
    station_t st[MAX_STATIONS];
    int n;
    unsigned round;
    uint64_t seed;
} world_t;

/* ----------------------------------------------------- log generation */

static void push(station_t *s, const tu_rec_t *t, const mrec_t *m)
{
    size_t len = 0;
    uint8_t *srec = tu_seal(t, s->signer, &len);
    s->srec[s->n] = srec;
    s->len[s->n] = len;
    s->m[s->n] = *m;
    s->n++;
}

/* The header of s's next record; captured defaults to noon of `date`
 * local time plus up to a few hours, occasionally far later. */
static void next_header(station_t *s, tu_rec_t *t, uint32_t date)
{
    uint8_t prev[WM_HASH_BYTES];
    if (s->n)
        tu_srec_hash(s->srec[s->n - 1], s->len[s->n - 1], prev);
    tu_rec_init(t, s->id, 1, s->n + 1, s->n ? prev : NULL);
    int64_t midnight = (int64_t)wm_date_to_days(date) * 86400 - TZ_OFFSET_S;
    int64_t after = rnd_in(0, 2 * 86400);
    int r = (int)rnd_in(1, 100);
    if (r <= 15)
        after = rnd_in(6, 9) * 86400 + rnd_in(0, 86399); /* around the late threshold */
    else if (r <= 30)
        after = rnd_in(10, 400) * 86400 + rnd_in(0, 86399); /* entered much later */
    t->r.captured = midnight + after;
}

static int is_late(int64_t captured, uint32_t date)
{
    int64_t local_day = (captured + TZ_OFFSET_S) / 86400; /* captured > 0 here */
    return local_day - wm_date_to_days(date) > WM_LATE_DAYS;
}

static void gen_activity(station_t *s)
{
    tu_rec_t t;
    mrec_t m = {.kind = WM__RECORD__BODY_ACTIVITY, .seq = s->n + 1};
    char team_id[32] = "";
    char *tags[3];
    m.date = rnd_date(DAY0, DAY1);
    next_header(s, &t, m.date);
    wm__activity__init(&t.b.activity);
    Wm__Activity *a = &t.b.activity;
    a->date = m.date;
    a->category = (Wm__Category)rnd_in(1, 6);
    if (chance(10))
        a->category = WM__CATEGORY__CULTURE_SPORTS;
    if (a->category == WM__CATEGORY__VOLUNTEER_SERVICE)
        a->service_kind = (Wm__ServiceKind)rnd_in(1, 7);
    a->title = "活动";
    a->place = "村委会";
    a->participants = (uint32_t)rnd_in(0, 300);
    a->volunteers = (uint32_t)rnd_in(0, 40);
    a->hours_x100 = chance(70) ? (uint32_t)rnd_in(0, 80000) : 0;
    /* A team, if one is active and by chance (most volunteer services). */
    int active[MAX_TEAMS], na = 0;
    for (int i = 0; i < MAX_TEAMS; i++)
        if (s->team_state[i] == 1)
            active[na++] = i;
    if (na && chance(a->category == WM__CATEGORY__VOLUNTEER_SERVICE ? 70 : 20)) {
        int i = active[rnd_in(0, na - 1)];
        snprintf(team_id, sizeof team_id, "team-%d", i);
        a->team = team_id;
        if (a->category == WM__CATEGORY__VOLUNTEER_SERVICE)
            m.team_no = s->team_no[i];
    }
    size_t nt = chance(50) ? 0 : (size_t)rnd_in(1, 3);
    for (size_t i = 0; i < nt; i++)
        tags[i] = (char *)TAGS[rnd_in(0, N_TAGS - 1)];
    if (nt && chance(20))
        tags[0] = (char *)WM_TAG_GRASSROOTS;
    a->n_tags = nt;
    a->tags = nt ? tags : NULL;
    t.r.body_case = WM__RECORD__BODY_ACTIVITY;
    t.r.activity = a;

    m.category = a->category;
    m.service_kind = a->service_kind;
    m.participants = a->participants;
    m.volunteers = a->volunteers;
    m.hours_x100 = a->hours_x100;
    m.festival = a->category == WM__CATEGORY__CULTURE_SPORTS && nt > 0;
    for (size_t i = 0; i < nt; i++)
        if (strcmp(tags[i], WM_TAG_GRASSROOTS) == 0)
            m.grassroots = 1;
    m.late = is_late(t.r.captured, m.date);
    push(s, &t, &m);
}

static void gen_simple(station_t *s, int kind)
{
    tu_rec_t t;
    mrec_t m = {.kind = kind, .seq = s->n + 1};
    m.date = rnd_date(DAY0, DAY1);
    next_header(s, &t, m.date);
    t.r.body_case = (Wm__Record__BodyCase)kind;
    switch (kind) {
    case WM__RECORD__BODY_PUBLICITY:
        wm__publicity__init(&t.b.publicity);
        t.b.publicity.date = m.date;
        t.b.publicity.channel = (Wm__Channel)rnd_in(1, 4);
        t.b.publicity.count = (uint32_t)rnd_in(0, 6000);
        t.r.publicity = &t.b.publicity;
        m.category = t.b.publicity.channel;
        m.participants = t.b.publicity.count;
        break;
    case WM__RECORD__BODY_VOLUNTEERS:
        wm__volunteers__init(&t.b.volunteers);
        t.b.volunteers.date = m.date;
        t.b.volunteers.registered = (uint32_t)rnd_in(0, 500);
        t.b.volunteers.verified = (uint32_t)rnd_in(0, 400);
        t.r.volunteers = &t.b.volunteers;
        m.participants = t.b.volunteers.registered;
        m.volunteers = t.b.volunteers.verified;
        break;
    case WM__RECORD__BODY_RECRUITMENT:
        wm__recruitment__init(&t.b.recruitment);
        t.b.recruitment.date = m.date;
        t.b.recruitment.count = (uint32_t)rnd_in(0, 20);
        t.r.recruitment = &t.b.recruitment;
        m.participants = t.b.recruitment.count;
        break;
    case WM__RECORD__BODY_FUNDING:
        wm__funding__init(&t.b.funding);
        t.b.funding.date = m.date;
        t.b.funding.fen = (uint64_t)rnd_in(0, 5000000000ll); /* beyond 32 bits */
        t.b.funding.source = "县配套资金";
        t.r.funding = &t.b.funding;
        m.fen = t.b.funding.fen;
        break;
    case WM__RECORD__BODY_SITE: {
        Wm__SiteChecklist *c = &t.b.site;
        wm__site_checklist__init(c);
        c->date = m.date;
        uint16_t f = (uint16_t)rnd_in(0, 255);
        c->plaque = f & 1, c->rules = f >> 1 & 1, c->equipment = f >> 2 & 1;
        c->manager = f >> 3 & 1, c->ledger = f >> 4 & 1, c->plan = f >> 5 & 1;
        c->theme = f >> 6 & 1, c->model_station = f >> 7 & 1;
        t.r.site = c;
        m.flags = f;
        break;
    }
    case WM__RECORD__BODY_PLAN:
        m.date = rnd_date(DAY0, PLAN_DAY1);
        tu_rec_plan(&t, "外出参观学习", m.date);
        break;
    default:
        fail_msg("gen_simple: kind %d", kind);
    }
    push(s, &t, &m);
}

static void gen_plan_done(station_t *s)
{
    size_t cand[4096], nc = 0;
    for (size_t i = 0; i < s->n && nc < 4096; i++)
        if (s->m[i].kind == WM__RECORD__BODY_PLAN && !s->m[i].done_by)
            cand[nc++] = i; /* the station completes a plan once; voided plans too */
    if (!nc) {
        gen_simple(s, WM__RECORD__BODY_PLAN);
        return;
    }
    size_t p = cand[rnd_in(0, (int64_t)nc - 1)];
    tu_rec_t t;
    mrec_t m = {.kind = WM__RECORD__BODY_PLAN_DONE, .seq = s->n + 1};
    m.date = rnd_date(DAY0, DAY1);
    m.target = s->m[p].seq;
    next_header(s, &t, m.date);
    tu_rec_plan_done(&t, chance(50) ? 1 : 0, m.target, m.date);
    s->m[p].done_by = m.seq;
    push(s, &t, &m);
}

static void gen_team(station_t *s)
{
    tu_rec_t t;
    mrec_t m = {.kind = WM__RECORD__BODY_TEAM, .seq = s->n + 1};
    char id[32], name[64];
    int i = (int)rnd_in(0, MAX_TEAMS - 1);
    Wm__TeamAction action;
    if (s->team_state[i] != 1) {
        action = WM__TEAM_ACTION__CREATE; /* new, or re-created after disband */
        if (!s->team_state[i])
            s->team_no[i] = ++s->teams_made;
        s->team_state[i] = 1;
    } else if (chance(60)) {
        action = WM__TEAM_ACTION__RENAME;
    } else {
        action = WM__TEAM_ACTION__DISBAND;
        s->team_state[i] = 2;
    }
    snprintf(id, sizeof id, "team-%d", i);
    snprintf(name, sizeof name, "志愿服务分队 %d/%" PRIu64, i, m.seq);
    next_header(s, &t, rnd_date(DAY0, DAY1));
    tu_rec_team(&t, id, action, action == WM__TEAM_ACTION__DISBAND ? "" : name);
    if (action == WM__TEAM_ACTION__CREATE && s->team_no[i] == 1)
        t.b.team.kind = WM__TEAM_KIND__GENERAL;
    t.b.team.trade = "医疗";
    push(s, &t, &m);
}

/* A void of an earlier record that is neither a void nor voided; now and
 * then (again) of one already voided: the station refuses that, but the
 * town must not count on it, and only the first void may subtract. */
static void gen_void(station_t *s)
{
    size_t cand[4096], nc = 0;
    int again = chance(4);
    for (size_t i = 0; i < s->n && nc < 4096; i++)
        if (s->m[i].kind != WM__RECORD__BODY_VOID && !s->m[i].voided_by == !again)
            cand[nc++] = i;
    if (!nc && again) {
        again = 0;
        for (size_t i = 0; i < s->n && nc < 4096; i++)
            if (s->m[i].kind != WM__RECORD__BODY_VOID && !s->m[i].voided_by)
                cand[nc++] = i;
    }
    if (!nc) {
        gen_activity(s);
        return;
    }
    size_t v = cand[rnd_in(0, (int64_t)nc - 1)];
    tu_rec_t t;
    mrec_t m = {.kind = WM__RECORD__BODY_VOID, .seq = s->n + 1};
    m.target = s->m[v].seq;
    next_header(s, &t, rnd_date(DAY0, DAY1));
    tu_rec_void(&t, chance(50) ? 1 : 0, m.target, "录入错误");
    if (!again)
        s->m[v].voided_by = m.seq;
    push(s, &t, &m);
}

/* A record of a kind this build does not know: a valid header followed by
 * field 99 (a varint), signed over those bytes. */
static void gen_unknown(station_t *s)
{
    tu_rec_t t;
    mrec_t m = {.kind = WM__RECORD__BODY__NOT_SET, .seq = s->n + 1};
    next_header(s, &t, rnd_date(DAY0, DAY1));
    size_t len = 0;
    uint8_t *srec = tu_seal(&t, s->signer, &len);
    srec = realloc(srec, len + 3);
    assert_non_null(srec);
    srec[len] = 0x98, srec[len + 1] = 0x06, srec[len + 2] = 0x2a; /* 99 << 3 | 0 = 792; 42 */
    len += 3;
    assert_int_equal(wm_sign(s->signer, WM_CTX_RECORD, srec + WM_SIG_BYTES, len - WM_SIG_BYTES,
                             srec),
                     WM_OK);
    wm_record_t *r = NULL;
    assert_int_equal(wm_record_decode(srec + WM_SIG_BYTES, len - WM_SIG_BYTES, &r), WM_OK);
    assert_int_equal(r->body_case, WM__RECORD__BODY__NOT_SET);
    assert_int_equal(r->base.n_unknown_fields, 1);
    wm_record_free(&r);
    s->srec[s->n] = srec;
    s->len[s->n] = len;
    s->m[s->n] = m;
    s->n++;
}

static void gen_station(station_t *s, size_t n)
{
    s->m = calloc(n, sizeof *s->m);
    s->srec = calloc(n, sizeof *s->srec);
    s->len = calloc(n, sizeof *s->len);
    assert_true(s->m && s->srec && s->len);
    size_t unknown_at = (size_t)rnd_in(0, (int64_t)n - 1); /* at least one per station */
    while (s->n < n) {
        if (s->n == unknown_at) {
            gen_unknown(s);
            continue;
        }
        int r = (int)rnd_in(1, 100);
        if (r <= 36)
            gen_activity(s);
        else if (r <= 42)
            gen_simple(s, WM__RECORD__BODY_PUBLICITY);
        else if (r <= 46)
            gen_simple(s, WM__RECORD__BODY_VOLUNTEERS);
        else if (r <= 49)
            gen_simple(s, WM__RECORD__BODY_RECRUITMENT);
        else if (r <= 52)
            gen_simple(s, WM__RECORD__BODY_FUNDING);
        else if (r <= 57)
            gen_simple(s, WM__RECORD__BODY_SITE);
        else if (r <= 63)
            gen_simple(s, WM__RECORD__BODY_PLAN);
        else if (r <= 68)
            gen_plan_done(s);
        else if (r <= 78)
            gen_team(s);
        else if (r <= 98)
            gen_void(s);
        else
            gen_unknown(s);
    }
}

static void station_free(station_t *s)
{
    for (size_t i = 0; i < s->n; i++)
        free(s->srec[i]);
    free(s->srec);
    free(s->len);
    free(s->m);
    wm_signer_free(&s->signer);
    memset(s, 0, sizeof *s);
}

/* --------------------------------------------------------- brute force */

/* Is m counted, given that seq 1..stored of its station are stored? */
static int counts(const mrec_t *m, size_t stored)
{
    if (m->seq > stored || m->kind == WM__RECORD__BODY_VOID ||
        m->kind == WM__RECORD__BODY__NOT_SET)
        return 0;
    return !m->voided_by || m->voided_by > stored;
}

typedef void (*contrib_fn)(void *ctx, uint32_t date, int fig, int dim, int64_t v);

/* What one counted record adds: (date, fig, dim, value) tuples. */
static void contributions(const mrec_t *m, int station_scope, contrib_fn fn, void *ctx)
{
    switch (m->kind) {
    case WM__RECORD__BODY_ACTIVITY:
        fn(ctx, m->date, WM_FIG_ACTIVITY, m->category, 1);
        if (m->category == WM__CATEGORY__VOLUNTEER_SERVICE) {
            fn(ctx, m->date, WM_FIG_SERVICE_KIND, m->service_kind, 1);
            if (m->team_no && station_scope)
                fn(ctx, m->date, WM_FIG_TEAM_SERVICE, m->team_no, 1);
        }
        fn(ctx, m->date, WM_FIG_PARTICIPANTS, 0, m->participants);
        fn(ctx, m->date, WM_FIG_VOLUNTEERS, 0, m->volunteers);
        fn(ctx, m->date, WM_FIG_HOURS_X100, 0, m->hours_x100);
        fn(ctx, m->date, WM_FIG_FESTIVAL, 0, m->festival);
        fn(ctx, m->date, WM_FIG_GRASSROOTS, 0, m->grassroots);
        fn(ctx, m->date, WM_FIG_LATE, 0, m->late);
        break;
    case WM__RECORD__BODY_PUBLICITY:
        fn(ctx, m->date, WM_FIG_PUBLICITY, m->category, m->participants);
        break;
    case WM__RECORD__BODY_VOLUNTEERS:
        fn(ctx, m->date, WM_FIG_REGISTERED, 0, m->participants);
        fn(ctx, m->date, WM_FIG_VERIFIED, 0, m->volunteers);
        break;
    case WM__RECORD__BODY_RECRUITMENT:
        fn(ctx, m->date, WM_FIG_RECRUITMENT, 0, m->participants);
        break;
    case WM__RECORD__BODY_FUNDING:
        fn(ctx, m->date, WM_FIG_FUNDING_FEN, 0, (int64_t)m->fen);
        break;
    case WM__RECORD__BODY_PLAN:
        fn(ctx, m->date, WM_FIG_PLAN_DUE, 0, 1);
        break;
    case WM__RECORD__BODY_PLAN_DONE:
        fn(ctx, m->date, WM_FIG_PLAN_DONE, 0, 1);
        break;
    default:
        break; /* teams, sites: no day counters */
    }
}

typedef struct {
    uint32_t from, to;
    int64_t v[WM_FIG_COUNT][NDIM];
} period_acc_t;

static void add_period(void *ctx, uint32_t date, int fig, int dim, int64_t v)
{
    period_acc_t *p = ctx;
    assert_true(fig > 0 && fig < WM_FIG_COUNT && dim >= 0 && dim < NDIM);
    if (date >= p->from && date <= p->to)
        p->v[fig][dim] += v;
}

/* The stations a scope covers: one station, or all (scope 0). */
static int in_scope(const station_t *s, uint32_t scope)
{
    return scope == 0 || s->node == scope;
}

static void expect_period(const world_t *w, uint32_t scope, uint32_t from, uint32_t to,
                          period_acc_t *p)
{
    memset(p, 0, sizeof *p);
    p->from = from, p->to = to;
    for (int i = 0; i < w->n; i++) {
        const station_t *s = &w->st[i];
        if (!in_scope(s, scope))
            continue;
        for (size_t j = 0; j < s->stored; j++)
            if (counts(&s->m[j], s->stored))
                contributions(&s->m[j], scope != 0, add_period, p);
    }
}

static void expect_plans(const world_t *w, uint32_t scope, uint32_t from, uint32_t to,
                         uint32_t asof, wm_plans_t *out)
{
    memset(out, 0, sizeof *out);
    for (int i = 0; i < w->n; i++) {
        const station_t *s = &w->st[i];
        if (!in_scope(s, scope))
            continue;
        for (size_t j = 0; j < s->stored; j++) {
            const mrec_t *m = &s->m[j];
            if (m->kind != WM__RECORD__BODY_PLAN || !counts(m, s->stored))
                continue;
            uint32_t done = 0;
            if (m->done_by && counts(&s->m[m->done_by - 1], s->stored))
                done = s->m[m->done_by - 1].date;
            if (m->date >= from && m->date <= to)
                out->due++;
            if (done && done >= from && done <= to)
                out->done++;
            if (m->date < asof && (!done || done > asof))
                out->overdue++;
        }
    }
}

/* The latest counted checklist by date (the later record wins a tie). */
static const mrec_t *expect_site(const station_t *s)
{
    const mrec_t *best = NULL;
    for (size_t j = 0; j < s->stored; j++) {
        const mrec_t *m = &s->m[j];
        if (m->kind == WM__RECORD__BODY_SITE && counts(m, s->stored) &&
            (!best || m->date >= best->date))
            best = m;
    }
    return best;
}

/* ------------------------------------------------------------- checks */

static const char *fig_name(int fig)
{
    static const char *const names[WM_FIG_COUNT] = {
        "?",          "activity",   "service_kind", "team_service", "participants",
        "volunteers", "hours_x100", "festival",     "grassroots",   "publicity",
        "registered", "verified",   "recruitment",  "funding_fen",  "plan_due",
        "plan_done",  "late"};
    return fig > 0 && fig < WM_FIG_COUNT ? names[fig] : "?";
}

static void check_period(const world_t *w, wm_store_t *store, uint32_t scope, uint32_t from,
                         uint32_t to, const char *label)
{
    wm_txn_t *t = NULL;
    wm_sums_t sums;
    period_acc_t *exp = malloc(sizeof *exp);
    assert_non_null(exp);
    expect_period(w, scope, from, to, exp);
    assert_int_equal(wm_txn_begin(store, 0, &t), WM_OK);
    assert_int_equal(wm_rollup_sum(t, scope, from, to, &sums), WM_OK);
    wm_txn_abort(&t);

    /* Every cell the rollup has, against the recount ... */
    for (size_t i = 0; i < sums.n; i++) {
        const wm_cell_t *c = &sums.cells[i];
        int64_t want = c->fig < WM_FIG_COUNT && c->dim < NDIM ? exp->v[c->fig][c->dim] : 0;
        if (c->value != want)
            fail_msg("WM_SEED=%" PRIu64 " round %u: scope %u, %s %u..%u: %s[%u] is %" PRId64
                     ", the records say %" PRId64,
                     w->seed, w->round, scope, label, from, to, fig_name(c->fig), c->dim,
                     c->value, want);
        if (c->value < 0)
            fail_msg("WM_SEED=%" PRIu64 " round %u: scope %u, %s: %s[%u] is negative (%" PRId64 ")",
                     w->seed, w->round, scope, label, fig_name(c->fig), c->dim, c->value);
    }
    /* ... and every figure the records have, against the rollup. */
    for (int f = 1; f < WM_FIG_COUNT; f++)
        for (int d = 0; d < NDIM; d++)
            if (exp->v[f][d] != wm_sums_get(&sums, (wm_fig_t)f, (uint16_t)d))
                fail_msg("WM_SEED=%" PRIu64 " round %u: scope %u, %s %u..%u: %s[%d] is %" PRId64
                         ", the records say %" PRId64,
                         w->seed, w->round, scope, label, from, to, fig_name(f), d,
                         wm_sums_get(&sums, (wm_fig_t)f, (uint16_t)d), exp->v[f][d]);
    /* Totals agree with the cells. */
    int64_t acts = 0;
    for (int d = 0; d < NDIM; d++)
        acts += exp->v[WM_FIG_ACTIVITY][d];
    assert_int_equal(wm_sums_total(&sums, WM_FIG_ACTIVITY), acts);
    wm_sums_free(&sums);
    free(exp);
}

static void check_plans(const world_t *w, wm_store_t *store, uint32_t scope, uint32_t from,
                        uint32_t to, uint32_t asof)
{
    wm_txn_t *t = NULL;
    wm_plans_t got, want;
    expect_plans(w, scope, from, to, asof, &want);
    assert_int_equal(wm_txn_begin(store, 0, &t), WM_OK);
    assert_int_equal(wm_rollup_plans(t, scope, from, to, asof, &got), WM_OK);
    wm_txn_abort(&t);
    if (got.due != want.due || got.done != want.done || got.overdue != want.overdue)
        fail_msg("WM_SEED=%" PRIu64 " round %u: scope %u plans %u..%u as of %u: due/done/overdue "
                 "%" PRId64 "/%" PRId64 "/%" PRId64 ", the records say %" PRId64 "/%" PRId64
                 "/%" PRId64,
                 w->seed, w->round, scope, from, to, asof, got.due, got.done, got.overdue,
                 want.due, want.done, want.overdue);
}

static void check_site(const world_t *w, wm_store_t *store, const station_t *s)
{
    wm_txn_t *t = NULL;
    uint32_t date = 0;
    uint16_t flags = 0;
    const mrec_t *want = expect_site(s);
    assert_int_equal(wm_txn_begin(store, 0, &t), WM_OK);
    wm_err_t err = wm_rollup_site(t, s->node, &date, &flags);
    wm_txn_abort(&t);
    if (!want) {
        if (err != WM_ENOTFOUND)
            fail_msg("WM_SEED=%" PRIu64 " round %u: %s has no counted site checklist, but the "
                     "rollup holds one of %u (flags %#x)",
                     w->seed, w->round, s->id, date, flags);
        return;
    }
    if (err != WM_OK || date != want->date || flags != want->flags)
        fail_msg("WM_SEED=%" PRIu64 " round %u: %s site checklist: rollup says %s %u flags %#x, "
                 "the records say %u flags %#x (record %" PRIu64 ")",
                 w->seed, w->round, s->id, wm_strerror(err), date, flags, want->date,
                 want->flags, want->seq);
}

/* Per-day counters, through wm_rollup_days, against the recount. */
typedef struct {
    int64_t *days; /* [day - base] */
    int32_t base;
    size_t n;
    int bad;
    uint32_t bad_day;
    int64_t bad_got, bad_want;
} days_t;

static void day_fn(void *ctx, uint32_t ymd, int64_t value)
{
    days_t *d = ctx;
    int32_t i = wm_date_to_days(ymd) - d->base;
    int64_t want = i >= 0 && (size_t)i < d->n ? d->days[i] : 0;
    if (!d->bad && (value != want || value < 0)) {
        d->bad = 1;
        d->bad_day = ymd, d->bad_got = value, d->bad_want = want;
    }
    if (i >= 0 && (size_t)i < d->n)
        d->days[i] = INT64_MIN; /* seen */
}

typedef struct {
    int fig, dim;
    days_t *d;
} day_sel_t;

static void add_day(void *ctx, uint32_t date, int fig, int dim, int64_t v)
{
    day_sel_t *s = ctx;
    if (fig == s->fig && dim == s->dim)
        s->d->days[wm_date_to_days(date) - s->d->base] += v;
}

static void check_days(const world_t *w, wm_store_t *store, uint32_t scope, int fig, int dim)
{
    days_t d = {0};
    d.base = wm_date_to_days(DAY0);
    d.n = (size_t)(wm_date_to_days(PLAN_DAY1) - d.base + 1);
    d.days = calloc(d.n, sizeof *d.days);
    assert_non_null(d.days);
    day_sel_t sel = {fig, dim, &d};
    for (int i = 0; i < w->n; i++) {
        const station_t *s = &w->st[i];
        if (!in_scope(s, scope))
            continue;
        for (size_t j = 0; j < s->stored; j++)
            if (counts(&s->m[j], s->stored))
                contributions(&s->m[j], scope != 0, add_day, &sel);
    }
    wm_txn_t *t = NULL;
    assert_int_equal(wm_txn_begin(store, 0, &t), WM_OK);
    assert_int_equal(wm_rollup_days(t, scope, DAY0, PLAN_DAY1, (wm_fig_t)fig, (uint16_t)dim,
                                    day_fn, &d),
                     WM_OK);
    wm_txn_abort(&t);
    if (d.bad)
        fail_msg("WM_SEED=%" PRIu64 " round %u: scope %u %s[%d] on %u is %" PRId64
                 ", the records say %" PRId64,
                 w->seed, w->round, scope, fig_name(fig), dim, d.bad_day, d.bad_got, d.bad_want);
    /* Days the rollup did not report must be zero in the recount. */
    for (size_t i = 0; i < d.n; i++)
        if (d.days[i] != INT64_MIN && d.days[i] != 0)
            fail_msg("WM_SEED=%" PRIu64 " round %u: scope %u %s[%d] on %u: the rollup has nothing, "
                     "the records say %" PRId64,
                     w->seed, w->round, scope, fig_name(fig), dim,
                     wm_date_from_days(d.base + (int32_t)i), d.days[i]);
    free(d.days);
}

/* A random reporting period, parsed the way wmctl parses it. */
static void random_period(wm_period_t *p)
{
    char s[64];
    int y = (int)rnd_in(2023, 2024);
    switch (rnd_in(0, 6)) {
    case 0:
        snprintf(s, sizeof s, "%d-%02d", y, (int)rnd_in(1, 12));
        break;
    case 1:
        snprintf(s, sizeof s, "%d-W%02d", y, (int)rnd_in(1, 52));
        break;
    case 2:
        snprintf(s, sizeof s, "%d-Q%d", y, (int)rnd_in(1, 4));
        break;
    case 3:
        snprintf(s, sizeof s, "%d-H%d", y, (int)rnd_in(1, 2));
        break;
    case 4:
        snprintf(s, sizeof s, "%d", y);
        break;
    case 5: {
        uint32_t a = rnd_date(20221201, 20250131), b = rnd_date(20221201, 20250131);
        if (a > b) {
            uint32_t x = a;
            a = b, b = x;
        }
        char fa[11], fb[11];
        snprintf(s, sizeof s, "%s..%s", wm_date_format(a, fa), wm_date_format(b, fb));
        break;
    }
    default: {
        uint32_t a = rnd_date(DAY0, DAY1);
        char fa[11];
        snprintf(s, sizeof s, "%s", wm_date_format(a, fa)); /* one day */
        break;
    }
    }
    if (wm_period_parse(s, p) != WM_OK)
        fail_msg("period \"%s\" does not parse", s);
}

static void check_random(const world_t *w, wm_store_t *store, int periods)
{
    for (int k = 0; k < periods; k++) {
        wm_period_t p;
        random_period(&p);
        int i = (int)rnd_in(-1, w->n - 1);
        uint32_t scope = i < 0 ? 0 : w->st[i].node;
        check_period(w, store, scope, p.from, p.to, p.name);
    }
}

static void check_all(const world_t *w, wm_store_t *store)
{
    for (int i = -1; i < w->n; i++) {
        uint32_t scope = i < 0 ? 0 : w->st[i].node;
        check_period(w, store, scope, 20000101, 21001231, "everything");
        for (int k = 0; k < 8; k++) {
            wm_period_t p;
            random_period(&p);
            check_period(w, store, scope, p.from, p.to, p.name);
        }
        for (int k = 0; k < 4; k++) {
            uint32_t a = rnd_date(DAY0, PLAN_DAY1), b = rnd_date(DAY0, PLAN_DAY1);
            check_plans(w, store, scope, a < b ? a : b, a < b ? b : a,
                        rnd_date(DAY0, PLAN_DAY1));
        }
        check_plans(w, store, scope, 20000101, 21001231, 21001231);
        if (i >= 0)
            check_site(w, store, &w->st[i]);
    }
    /* Day by day, for scope 0 and one station: every figure and dim. */
    uint32_t scopes[2] = {0, w->st[rnd_in(0, w->n - 1)].node};
    for (int k = 0; k < 2; k++) {
        for (int f = 1; f < WM_FIG_COUNT; f++) {
            int d0 = 0, d1 = 0;
            if (f == WM_FIG_ACTIVITY)
                d0 = 1, d1 = 6;
            else if (f == WM_FIG_SERVICE_KIND)
                d0 = 1, d1 = 7;
            else if (f == WM_FIG_TEAM_SERVICE)
                d0 = 1, d1 = MAX_TEAMS;
            else if (f == WM_FIG_PUBLICITY)
                d0 = 1, d1 = 4;
            for (int d = d0; d <= d1; d++)
                check_days(w, store, scopes[k], f, d);
        }
    }
}

/* -------------------------------------------------------------- ingest */

static void ingest_batch(wm_txn_t *parent, station_t *s, size_t *next, int64_t now)
{
    size_t from = *next, n = (size_t)rnd_in(1, 40);
    if (from > 0 && chance(15))
        from -= (size_t)rnd_in(1, (int64_t)(from < 6 ? from : 6)); /* a resend */
    if (from + n > s->n)
        n = s->n - from;
    const uint8_t *recs[40];
    size_t lens[40];
    for (size_t i = 0; i < n; i++)
        recs[i] = s->srec[from + i], lens[i] = s->len[from + i];
    wm_txn_t *t = NULL;
    wm_ingest_t res;
    wm_sender_t snd = {s->id, s->node, wm_signer_pub(s->signer), WM_INGEST_SETTLE, NULL, NULL};
    assert_int_equal(wm_txn_begin_child(parent, &t), WM_OK);
    wm_err_t err = wm_ingest(t, &snd, recs, lens, n, now, &res);
    if (err != WM_OK)
        fail_msg("ingest of %s %zu..%zu: %s (%s: %s)", s->id, from + 1, from + n,
                 wm_strerror(err), res.reason ? wm_sync_slug(res.reason) : "-", res.detail);
    size_t dup = *next - from < n ? *next - from : n;
    assert_int_equal(res.duplicates, dup);
    assert_int_equal(res.accepted, n - dup);
    assert_int_equal(res.durable.seq, from + n > *next ? from + n : *next);
    assert_int_equal(wm_txn_commit(&t), WM_OK);
    if (from + n > *next)
        *next = from + n;
}

static void run_round(unsigned round, uint64_t base, uint64_t seed)
{
    world_t *w = calloc(1, sizeof *w);
    assert_non_null(w);
    rng_state = seed;
    w->seed = base; /* failures name the seed that replays the run */
    w->round = round;
    w->n = (int)rnd_in(3, MAX_STATIONS);
    for (int i = 0; i < w->n; i++) {
        station_t *s = &w->st[i];
        snprintf(s->id, sizeof s->id, "xx-county/longhua/station-%d", i);
        s->signer = tu_signer((uint8_t)(round * MAX_STATIONS + (unsigned)i + 1));
        gen_station(s, (size_t)rnd_in(80, 300));
    }

    char *dir = tu_mkdtemp();
    wm_store_t *store = NULL;
    wm_txn_t *t = NULL;
    assert_int_equal(wm_store_open(dir, WM_STORE_NOSYNC, 64, &store), WM_OK);
    /* Enrolment numbers the stations in a shuffled order. */
    assert_int_equal(wm_txn_begin(store, 1, &t), WM_OK);
    int order[MAX_STATIONS];
    for (int i = 0; i < w->n; i++)
        order[i] = i;
    for (int i = w->n - 1; i > 0; i--) {
        int j = (int)rnd_in(0, i), x = order[i];
        order[i] = order[j], order[j] = x;
    }
    for (int i = 0; i < w->n; i++)
        assert_int_equal(wm_nodeno_add(t, w->st[order[i]].id, &w->st[order[i]].node), WM_OK);
    assert_int_equal(wm_txn_commit(&t), WM_OK);

    int64_t now = 1735689600; /* 2025-01-01 */
    int aborted = 0, commits = 0;
    for (;;) {
        int left[MAX_STATIONS], nl = 0;
        for (int i = 0; i < w->n; i++)
            if (w->st[i].stored < w->st[i].n)
                left[nl++] = i;
        if (!nl)
            break;
        /* One turn: a parent transaction with one to three batches. */
        size_t next[MAX_STATIONS];
        for (int i = 0; i < w->n; i++)
            next[i] = w->st[i].stored;
        assert_int_equal(wm_txn_begin(store, 1, &t), WM_OK);
        int batches = (int)rnd_in(1, 3);
        for (int b = 0; b < batches; b++) {
            int i = left[rnd_in(0, nl - 1)];
            if (next[i] < w->st[i].n)
                ingest_batch(t, &w->st[i], &next[i], now);
        }
        if (chance(8)) {
            wm_txn_abort(&t); /* a crash before the commit point: nothing moved */
            aborted++;
        } else {
            assert_int_equal(wm_txn_commit(&t), WM_OK);
            commits++;
            for (int i = 0; i < w->n; i++)
                w->st[i].stored = next[i];
        }
        if (chance(30))
            check_random(w, store, 3);
    }
    check_all(w, store);

    size_t total = 0;
    for (int i = 0; i < w->n; i++)
        total += w->st[i].n;
    print_message("round %2u: %d stations, %zu records, %d commits, %d aborted turns\n", round,
                  w->n, total, commits, aborted);
    wm_store_close(&store);
    tu_rmrf(dir);
    free(dir);
    for (int i = 0; i < w->n; i++)
        station_free(&w->st[i]);
    free(w);
}

static void test_rollup_matches_recount(void **state)
{
    (void)state;
    uint64_t seed = 20240315;
    unsigned rounds = 30;
    const char *e = getenv("WM_SEED");
    if (e && *e)
        seed = strtoull(e, NULL, 0);
    e = getenv("WM_ROUNDS");
    if (e && *e)
        rounds = (unsigned)strtoul(e, NULL, 0);
    print_message("test_rollup: seed %" PRIu64 " (WM_SEED=%" PRIu64 " replays), %u rounds\n",
                  seed, seed, rounds);
    for (unsigned r = 0; r < rounds; r++)
        run_round(r, seed, seed + r * 0x100000001b3ull);
}

int main(void)
{
    /* Local time is UTC+8 for the late-entry rule, whatever the machine. */
    setenv("TZ", "CST-8", 1);
    tzset();
    if (wm_crypto_init() != WM_OK)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rollup_matches_recount),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
