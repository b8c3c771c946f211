/* SPDX-License-Identifier: MIT */
/* wm_report — figures and problems of a period as JSON; see wm_report.h. */
#include "wm_report.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "wm_evidcheck.h"
#include "wm_orderbook.h"
#include "wm_rollbin.h"
#include "wm_rollidx.h"
#include "wm_rollup.h"
#include "wm_store_int.h"

/* Fails a build: o->why names the node whose data could not be read and
 * what was being read; LMDB's own words follow for a storage error. */
static WM_MUST_CHECK wm_err_t read_fail(wm_txn_t *t, const wm_report_opts_t *o, wm_err_t err, const char *node,
                          const char *what)
{
    int storage = err == WM_ECORRUPT || err == WM_EIO || err == WM_ENOMEM;
    if (o->why && o->why_cap)
        snprintf(o->why, o->why_cap, "cannot read %s of %s: %s%s%s%s", what, node,
                 wm_strerror(err), storage ? " (" : "", storage ? wm_store_detail(t->s) : "",
                 storage ? ")" : "");
    return err;
}

typedef struct {
    char id[WM_ID_MAX + 1];
    char name[WM_TEXT_MAX + 1];
    uint32_t node;     /* 0: nothing stored yet */
    int64_t last_seen; /* aggregators: last message; -1 for the node itself */
    int quiet;         /* counted and covered, but no problems reported: a revoked
                        * child, or the aggregator's own records */
} station_t;

typedef struct {
    station_t *v;
    size_t n, cap;
    const char *only;
} stations_t;

static int add_station(stations_t *ss, const char *id, const char *name, int64_t last_seen)
{
    if (ss->only && strcmp(ss->only, id) != 0)
        return 0;
    for (size_t i = 0; i < ss->n; i++)
        if (strcmp(ss->v[i].id, id) == 0)
            return 0; /* listed already (an aggregator that is also a peer) */
    if (ss->n == ss->cap) {
        size_t cap = ss->cap ? 2 * ss->cap : 32;
        station_t *v = realloc(ss->v, cap * sizeof *v);
        if (!v)
            return 1;
        ss->v = v;
        ss->cap = cap;
    }
    station_t *s = &ss->v[ss->n++];
    memset(s, 0, sizeof *s);
    snprintf(s->id, sizeof s->id, "%s", id);
    snprintf(s->name, sizeof s->name, "%s", name ? name : "");
    s->last_seen = last_seen;
    return 0;
}

/* Every child whose records are held, revoked ones too: what was accepted
 * before a revocation still counts, so it must be covered (auditable). */
static int peer_station(void *ctx, const Wm__PeerState *p)
{
    stations_t *ss = ctx;
    size_t before = ss->n;
    if (add_station(ss, p->node, p->name, p->last_seen))
        return 1;
    if (ss->n > before)
        ss->v[ss->n - 1].quiet = p->state == WM_PEER_REVOKED;
    return 0;
}

static json_t *enum_counts(const ProtobufCEnumDescriptor *d, const wm_sums_t *s, wm_fig_t fig)
{
    json_t *o = json_object();
    char slug[64];
    int64_t total = 0;
    for (unsigned i = 0; i < d->n_values; i++) {
        int v = d->values[i].value;
        if (!wm_enum_slug(d, v, slug, sizeof slug)[0])
            continue;
        int64_t x = wm_sums_get(s, fig, (uint16_t)v);
        total += x;
        json_object_set_new(o, slug, json_integer(x));
    }
    json_object_set_new(o, "total", json_integer(total));
    return o;
}

typedef struct {
    const wm_sums_t *s;
    json_t *by_team;
    const char *prefix; /* "station/" at town scope, "" for a station */
    json_t *names;      /* if not NULL: "STATION/TEAM" -> the team's display name */
    const char *station;
} team_ctx_t;

static int team_total(void *ctx, const wm_team_t *tm)
{
    team_ctx_t *tc = ctx;
    char key[400];
    snprintf(key, sizeof key, "%s%s", tc->prefix, tm->id);
    json_object_set_new(tc->by_team, key, json_integer(wm_sums_get(tc->s, WM_FIG_TEAM_SERVICE, tm->no)));
    if (tc->names && tm->name[0]) {
        snprintf(key, sizeof key, "%s/%s", tc->station, tm->id);
        json_object_set_new(tc->names, key, json_string(tm->name));
    }
    return 0;
}

/* The "orders" object of station (NULL: every log) for period p: the
 * sums and counts of wm_orders_count over the orders of log own (NULL:
 * every log; wm_orders_keep_log), and the two ratios derived; *out
 * NULL when every figure is 0, so that the totals of a node without needs
 * or orders are those of a build before them (an older county auditing a
 * town, or a newer one an older town, finds the same figures). */
static WM_MUST_CHECK wm_err_t orders_json(wm_txn_t *t, const char *station, const char *own,
                                          const wm_period_t *p, json_t **out)
{
    wm_orders_t book = WM_ORDERS_INIT;
    wm_order_figs_t f = {0};
    wm_err_t err = wm_orderbook_load(t, &book);
    if (err == WM_OK && own)
        wm_orders_keep_log(&book, own);
    if (err == WM_OK)
        wm_orders_count(&book, station, p->from, p->to, &f);
    wm_orders_free(&book);
    *out = NULL;
    if (err != WM_OK)
        return err;
    static const wm_order_figs_t none;
    if (memcmp(&f, &none, sizeof f) == 0)
        return WM_OK; /* no needs or orders: no "orders", as a build before them wrote */
    json_t *o = json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}",
                          "needs_received", (json_int_t)f.needs_received,
                          "needs_accepted", (json_int_t)f.needs_accepted,
                          "needs_rejected", (json_int_t)f.needs_rejected,
                          "orders_dispatched", (json_int_t)f.orders_dispatched,
                          "orders_accepted", (json_int_t)f.orders_accepted,
                          "orders_done", (json_int_t)f.orders_done,
                          "orders_overdue", (json_int_t)f.orders_overdue,
                          "loops_closed", (json_int_t)f.loops_closed,
                          "rating_sum", (json_int_t)f.rating_sum,
                          "ratings_satisfied", (json_int_t)f.ratings_satisfied);
    json_t *wrap = o ? json_pack("{s:o}", "orders", o) : NULL;
    if (!wrap)
        return WM_ENOMEM;
    wm_rollup_derive_orders(wrap);
    *out = json_incref(json_object_get(wrap, "orders"));
    json_decref(wrap);
    return WM_OK;
}

/* Figures of one scope (named `who` in a failure), from its period sums s
 * and its sums since the start of records (cum, for "截至目前" figures);
 * by_team (a new reference) is taken over, also on failure. */
static WM_MUST_CHECK wm_err_t totals_json(wm_txn_t *t, uint32_t scope, const char *who, const wm_period_t *p,
                            const wm_sums_t *s, const wm_sums_t *cum, json_t *by_team,
                            const wm_report_opts_t *o, const stations_t *ss, json_t **out)
{
    wm_plans_t plans = {0};
    wm_err_t err = wm_rollup_plans(t, scope, p->from, p->to, p->to < o->today ? p->to : o->today,
                                   &plans);
    if (err != WM_OK) {
        json_decref(by_team);
        return read_fail(t, o, err, who, "the plans");
    }

    json_t *vs = json_object();
    json_object_set_new(vs, "by_kind", enum_counts(&wm__service_kind__descriptor, s, WM_FIG_SERVICE_KIND));
    json_object_set_new(vs, "total", json_integer(wm_sums_get(s, WM_FIG_ACTIVITY, WM__CATEGORY__VOLUNTEER_SERVICE)));
    json_object_set_new(vs, "by_team", by_team);

    /* Six haves: the latest checklist of each station in scope. */
    int64_t haves[8] = {0}, reporting = 0, all_six = 0;
    for (size_t i = 0; i < ss->n; i++) {
        uint32_t date;
        uint16_t f;
        if (!ss->v[i].node || (scope && ss->v[i].node != scope))
            continue;
        err = wm_rollup_site(t, ss->v[i].node, &date, &f);
        if (err == WM_ENOTFOUND || err == WM_EDECODE)
            continue; /* no checklist (EDECODE: a value of an older layout) */
        if (err != WM_OK) {
            json_decref(vs);
            return read_fail(t, o, err, ss->v[i].id, "the site checklist");
        }
        reporting++;
        for (int b = 0; b < 8; b++)
            haves[b] += (f >> b) & 1;
        all_six += (f & 0x7f) == 0x7f;
    }
    json_t *tot = json_pack(
        "{s:o, s:o, s:I, s:I, s:f, s:I, s:I, s:I, s:I, s:f, s:o, s:{s:I, s:I, s:I, s:I},"
        " s:{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}, s:{s:I, s:I, s:I}}",
        "activities", enum_counts(&wm__category__descriptor, s, WM_FIG_ACTIVITY),
        "volunteer_services", vs,
        "participants", (json_int_t)wm_sums_total(s, WM_FIG_PARTICIPANTS),
        "activity_volunteers", (json_int_t)wm_sums_total(s, WM_FIG_VOLUNTEERS),
        "service_hours", wm_sums_total(s, WM_FIG_HOURS_X100) / 100.0,
        "festival_events", (json_int_t)wm_sums_total(s, WM_FIG_FESTIVAL),
        "grassroots_lectures", (json_int_t)wm_sums_total(s, WM_FIG_GRASSROOTS),
        "late_entries", (json_int_t)wm_sums_total(s, WM_FIG_LATE),
        "recruitment_posts", (json_int_t)wm_sums_total(s, WM_FIG_RECRUITMENT),
        "funding_yuan", wm_sums_total(s, WM_FIG_FUNDING_FEN) / 100.0,
        "publicity", enum_counts(&wm__channel__descriptor, s, WM_FIG_PUBLICITY),
        "volunteers", "registered", (json_int_t)wm_sums_total(s, WM_FIG_REGISTERED),
        "verified", (json_int_t)wm_sums_total(s, WM_FIG_VERIFIED),
        "registered_cumulative", (json_int_t)wm_sums_total(cum, WM_FIG_REGISTERED),
        "verified_cumulative", (json_int_t)wm_sums_total(cum, WM_FIG_VERIFIED),
        "sites", "reporting", (json_int_t)reporting, "plaque", (json_int_t)haves[0],
        "rules", (json_int_t)haves[1], "equipment", (json_int_t)haves[2],
        "manager", (json_int_t)haves[3], "ledger", (json_int_t)haves[4],
        "plan", (json_int_t)haves[5], "theme", (json_int_t)haves[6],
        "six_haves", (json_int_t)all_six, "model_stations", (json_int_t)haves[7],
        "plans", "due", (json_int_t)plans.due, "done", (json_int_t)plans.done,
        "overdue", (json_int_t)plans.overdue);
    json_t *orders = NULL;
    /* an aggregator counts the orders of its own log, never its parent's */
    if ((err = orders_json(t, scope ? who : NULL, o->aggregator ? o->id : NULL, p, &orders)) !=
        WM_OK) {
        json_decref(tot);
        return read_fail(t, o, err, who, "the needs and orders");
    }
    if (orders)
        json_object_set_new(tot, "orders", orders);
    /* The exact sums behind the two reals (rule 3 of docs/rollup-json.md:
     * the tiers above add these, never the reals). */
    json_object_set_new(tot, "service_hours_x100", json_integer(wm_sums_total(s, WM_FIG_HOURS_X100)));
    json_object_set_new(tot, "funding_fen", json_integer(wm_sums_total(s, WM_FIG_FUNDING_FEN)));
    *out = tot;
    return tot ? WM_OK : WM_ENOMEM;
}

typedef struct {
    uint32_t from;
    unsigned cadence;
    unsigned nblocks;
    uint8_t *served; /* per block */
} cadence_ctx_t;

static void mark_block(void *ctx, uint32_t ymd, int64_t value)
{
    cadence_ctx_t *cc = ctx;
    int32_t off = wm_date_to_days(ymd) - wm_date_to_days(cc->from);
    if (value > 0 && off >= 0 && (unsigned)off / cc->cadence < cc->nblocks)
        cc->served[off / cc->cadence] = 1;
}

typedef struct {
    wm_txn_t *t;
    const station_t *st;
    const wm_period_t *p;
    const wm_report_opts_t *o;
    json_t *problems;
    const wm_sums_t *ever; /* the station's sums since the start of records */
    wm_err_t err;          /* a failed read of a team's days */
} team_problem_ctx_t;

static int team_problems(void *ctx, const wm_team_t *tm)
{
    team_problem_ctx_t *c = ctx;
    if (tm->state != WM_TEAM_ACTIVE)
        return 0;
    int64_t served = wm_sums_get(c->ever, WM_FIG_TEAM_SERVICE, tm->no);
    if (served == 0) {
        json_array_append_new(c->problems,
                              json_pack("{s:s, s:s, s:s, s:s}", "kind", "team_never_served",
                                        "station", c->st->id, "team", tm->id, "name", tm->name));
        return 0;
    }
    /* Whole cadence blocks of the period, counted from its first day. */
    unsigned span = (unsigned)(wm_date_to_days(c->p->to) - wm_date_to_days(c->p->from)) + 1;
    cadence_ctx_t cc = {c->p->from, c->o->cadence_days, span / c->o->cadence_days, NULL};
    if (cc.nblocks == 0)
        return 0;
    cc.served = calloc(cc.nblocks, 1);
    if (!cc.served) {
        c->err = WM_ENOMEM;
        return 1;
    }
    c->err = wm_rollup_days(c->t, c->st->node, c->p->from, c->p->to, WM_FIG_TEAM_SERVICE, tm->no,
                            mark_block, &cc);
    if (c->err != WM_OK) {
        free(cc.served);
        return 1;
    }
    unsigned missed = 0;
    for (unsigned b = 0; b < cc.nblocks; b++)
        missed += !cc.served[b];
    free(cc.served);
    if (missed)
        json_array_append_new(c->problems,
                              json_pack("{s:s, s:s, s:s, s:s, s:i, s:i, s:i}", "kind",
                                        "team_below_cadence", "station", c->st->id, "team", tm->id,
                                        "name", tm->name, "blocks", (int)cc.nblocks,
                                        "blocks_missed", (int)missed, "cadence_days",
                                        (int)c->o->cadence_days));
    return 0;
}

static WM_MUST_CHECK wm_err_t station_problems(wm_txn_t *t, const station_t *st, const wm_sums_t *s,
                                 const wm_sums_t *ever, const wm_period_t *p,
                                 const wm_report_opts_t *o, json_t *problems)
{
    wm_err_t err = WM_OK;
    if (st->last_seen >= 0 && o->aggregator) {
        int64_t days = st->last_seen ? (o->now - st->last_seen) / 86400 : -1;
        if (days < 0 || days >= (int64_t)o->silent_days)
            json_array_append_new(problems, json_pack("{s:s, s:s, s:I}", "kind", "station_not_synced",
                                                      "station", st->id, "days", (json_int_t)days));
    }
    if (wm_sums_total(s, WM_FIG_ACTIVITY) == 0)
        json_array_append_new(problems, json_pack("{s:s, s:s}", "kind", "station_no_activity",
                                                  "station", st->id));
    /* Every calendar month wholly inside the period needs a grassroots lecture. */
    json_t *months = json_array();
    for (uint32_t m = p->from / 100 * 100 + 1; m <= p->to; ) {
        uint32_t y = m / 10000, mo = m / 100 % 100;
        uint32_t next = mo == 12 ? (y + 1) * 10000 + 101 : m + 100;
        uint32_t last = wm_date_from_days(wm_date_to_days(next) - 1);
        if (m >= p->from && last <= p->to) {
            wm_sums_t ms = {0};
            if (st->node && (err = wm_rollup_sum(t, st->node, m, last, &ms)) != WM_OK) {
                json_decref(months);
                return read_fail(t, o, err, st->id, "the rollup counters");
            }
            if (wm_sums_total(&ms, WM_FIG_GRASSROOTS) == 0) {
                char buf[11];
                wm_date_format(m, buf);
                buf[7] = 0;
                json_array_append_new(months, json_string(buf));
            }
            wm_sums_free(&ms);
        }
        m = next;
    }
    if (json_array_size(months))
        json_array_append_new(problems, json_pack("{s:s, s:s, s:o}", "kind",
                                                  "station_no_grassroots_lecture", "station",
                                                  st->id, "months", months));
    else
        json_decref(months);
    int64_t late = wm_sums_total(s, WM_FIG_LATE);
    if (late)
        json_array_append_new(problems, json_pack("{s:s, s:s, s:I, s:i}", "kind", "late_entries",
                                                  "station", st->id, "count", (json_int_t)late,
                                                  "late_days", WM_LATE_DAYS));
    if (st->node) {
        team_problem_ctx_t tc = {t, st, p, o, problems, ever, WM_OK};
        if ((err = wm_team_scan(t, st->node, team_problems, &tc)) == WM_OK)
            err = tc.err;
        if (err != WM_OK)
            return read_fail(t, o, err, st->id, "the teams");
    }
    return WM_OK;
}

/* A report's outer object: the period, the scope, its id and name, when
 * it was generated (o->now), and its four parts, which it takes over (also
 * when it fails: then it returns NULL). */
/* Adds n to counts[kind]. */
static void count_kind(json_t *counts, const char *kind, json_int_t n)
{
    if (kind && n)
        json_object_set_new(counts, kind,
                            json_integer(json_integer_value(json_object_get(counts, kind)) + n));
}

/* The problems of the list, counted by kind (a new object). */
static json_t *count_problems(const json_t *problems)
{
    json_t *counts = json_object(), *v;
    size_t i;
    json_array_foreach(problems, i, v) count_kind(counts, json_string_value(json_object_get(v, "kind")), 1);
    return counts;
}

/* A report's outer object: the period, the scope, its id and name, when
 * it was generated (o->now), and its parts, which it takes over (also
 * when it fails: then it returns NULL). counts: the problems below by
 * kind; NULL: those of the list. */
static json_t *report_json(const wm_period_t *p, const wm_report_opts_t *o, const char *scope,
                           const char *name, json_t *covers, json_t *totals, json_t *rows,
                           json_t *problems, json_t *names, json_t *counts)
{
    char from[11], to[11], gen[40];
    time_t now = (time_t)o->now;
    struct tm tm;
    localtime_r(&now, &tm);
    strftime(gen, sizeof gen, "%Y-%m-%dT%H:%M:%S%z", &tm);
    if (!counts)
        counts = count_problems(problems);
    return json_pack("{s:i, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:o, s:o, s:o, s:o, s:o, s:o}",
                     "schema", WM_REPORT_SCHEMA, "period", p->name, "from",
                     wm_date_format(p->from, from), "to", wm_date_format(p->to, to), "scope",
                     scope, "id", o->station ? o->station : o->id, "name", name, "generated",
                     gen, "covers", covers, "totals", totals, "stations", rows, "problems",
                     problems, "names", names ? names : json_pack("{s:{}, s:{}}", "nodes", "teams"),
                     "problem_counts", counts);
}

/* What wm_report_build gathers, station by station. s and ever are the
 * sums of the station at hand (the period, and since the start of
 * records); scope_s and scope_ever those of the report's scope. */
typedef struct {
    wm_txn_t *t;
    const wm_period_t *p;
    const wm_report_opts_t *o;
    stations_t ss;
    json_t *covers, *rows, *problems;
    json_t *names;      /* {"nodes": {id: name}, "teams": {"STATION/TEAM": name}} */
    json_t *town_teams; /* the scope's service by team */
    wm_sums_t s, ever, scope_s, scope_ever;
} build_t;

static void build_free(build_t *b)
{
    json_decref(b->covers);
    json_decref(b->rows);
    json_decref(b->problems);
    json_decref(b->names);
    json_decref(b->town_teams);
    wm_sums_free(&b->s);
    wm_sums_free(&b->ever);
    wm_sums_free(&b->scope_s);
    wm_sums_free(&b->scope_ever);
    free(b->ss.v);
}

/* The stations a report counts: an aggregator's children and itself, or
 * the node itself. WM_ENOTFOUND if o->station is none of them. */
static WM_MUST_CHECK wm_err_t list_stations(build_t *b)
{
    const wm_report_opts_t *o = b->o;
    wm_err_t err = WM_OK;
    if (o->aggregator) {
        /* The aggregator's own records (an institute records activities
         * too) are counted in scope 0, so they are a row and covered. */
        uint32_t self = 0, e = 0;
        if ((err = wm_peer_scan(b->t, peer_station, &b->ss)) != WM_OK)
            return read_fail(b->t, o, err, o->id, "the register of enrolled stations");
        err = wm_nodeno_lookup(b->t, o->id, &self);
        if (err == WM_OK)
            err = wm_epoch_last(b->t, self, &e);
        if (err == WM_OK && add_station(&b->ss, o->id, o->name, -1) == 0 && b->ss.n &&
            strcmp(b->ss.v[b->ss.n - 1].id, o->id) == 0)
            b->ss.v[b->ss.n - 1].quiet = 1;
        if (err == WM_ENOTFOUND)
            err = WM_OK; /* the aggregator recorded nothing itself */
        if (err != WM_OK)
            return read_fail(b->t, o, err, o->id, "the log");
    } else {
        add_station(&b->ss, o->id, o->name, -1);
    }
    return o->station && b->ss.n == 0 ? WM_ENOTFOUND : WM_OK;
}

/* Sets st->node (0: nothing stored) and adds the head the report covers
 * of st (epoch and seq 0 when it has no records yet). */
static WM_MUST_CHECK wm_err_t cover_station(build_t *b, station_t *st)
{
    wm_head_t h = {0};
    uint32_t e = 0;
    char hex[65];
    wm_err_t err = wm_nodeno_lookup(b->t, st->id, &st->node);
    if (err == WM_ENOTFOUND)
        st->node = 0, err = WM_OK;
    if (err == WM_OK && st->node && (err = wm_epoch_last(b->t, st->node, &e)) == WM_OK)
        err = wm_log_head(b->t, st->node, e, &h);
    if (err == WM_ENOTFOUND)
        err = WM_OK; /* known, but no records yet */
    if (err != WM_OK)
        return read_fail(b->t, b->o, err, st->id, "the log");
    json_array_append_new(b->covers, json_pack("{s:s, s:I, s:I, s:s}", "station", st->id, "epoch",
                                               (json_int_t)h.epoch, "seq", (json_int_t)h.seq,
                                               "hash", wm_hex(h.hash, 32, hex)));
    return WM_OK;
}

/* Reads st's sums into b->s and b->ever, once: the period, and since the
 * start of records (cumulative figures, teams that never served). */
static WM_MUST_CHECK wm_err_t sum_station(build_t *b, const station_t *st)
{
    if (!st->node)
        return WM_OK;
    wm_err_t err = wm_rollup_sum(b->t, st->node, b->p->from, b->p->to, &b->s);
    if (err == WM_OK)
        err = wm_rollup_sum(b->t, st->node, WM_DATE_MIN, b->p->to, &b->ever);
    return err == WM_OK ? WM_OK : read_fail(b->t, b->o, err, st->id, "the rollup counters");
}

/* Adds the service of each of st's teams in sums s to by_team, keyed by
 * prefix and the team's id. */
static WM_MUST_CHECK wm_err_t team_totals(build_t *b, const station_t *st, const wm_sums_t *s,
                                          json_t *by_team, const char *prefix)
{
    team_ctx_t tc = {s, by_team, prefix, json_object_get(b->names, "teams"), st->id};
    wm_err_t err = wm_team_scan(b->t, st->node, team_total, &tc);
    return err == WM_OK ? WM_OK : read_fail(b->t, b->o, err, st->id, "the teams");
}

/* An aggregator's row of station st: its own totals. */
static WM_MUST_CHECK wm_err_t station_row(build_t *b, station_t *st)
{
    stations_t one = {.v = st, .n = 1, .cap = 1};
    json_t *teams = json_object(), *row_tot = NULL;
    wm_err_t err = team_totals(b, st, &b->s, teams, "");
    if (err != WM_OK) {
        json_decref(teams);
        return err;
    }
    err = totals_json(b->t, st->node, st->id, b->p, &b->s, &b->ever, teams, b->o, &one, &row_tot);
    if (err != WM_OK)
        return err;
    json_array_append_new(b->rows, json_pack("{s:s, s:s, s:o}", "id", st->id, "name", st->name,
                                             "totals", row_tot));
    return WM_OK;
}

/* The scope is the one station st: its sums and teams become the scope's. */
static WM_MUST_CHECK wm_err_t take_scope(build_t *b, const station_t *st)
{
    wm_sums_free(&b->scope_s);
    wm_sums_free(&b->scope_ever);
    b->scope_s = b->s, b->scope_ever = b->ever;
    memset(&b->s, 0, sizeof b->s);
    memset(&b->ever, 0, sizeof b->ever);
    json_decref(b->town_teams);
    b->town_teams = json_object();
    return st->node ? team_totals(b, st, &b->scope_s, b->town_teams, "") : WM_OK;
}

/* Everything the report says of station st: its head, problems, teams,
 * row, and (when the scope is st) the scope's sums. */
static WM_MUST_CHECK wm_err_t add_station_figures(build_t *b, station_t *st)
{
    wm_err_t err;
    if ((err = cover_station(b, st)) != WM_OK || (err = sum_station(b, st)) != WM_OK)
        return err;
    if (st->name[0])
        json_object_set_new(json_object_get(b->names, "nodes"), st->id, json_string(st->name));
    if (!st->quiet &&
        (err = station_problems(b->t, st, &b->s, &b->ever, b->p, b->o, b->problems)) != WM_OK)
        return err;
    if (st->node) {
        char prefix[200];
        snprintf(prefix, sizeof prefix, "%s/", st->id);
        if ((err = team_totals(b, st, &b->s, b->town_teams, prefix)) != WM_OK)
            return err;
    }
    if (b->o->aggregator && st->node && (err = station_row(b, st)) != WM_OK)
        return err;
    if (!b->o->aggregator || b->o->station) /* the scope is this one station */
        return take_scope(b, st);
    wm_sums_free(&b->s);
    wm_sums_free(&b->ever);
    return WM_OK;
}

/* The scope's own totals: all stations (0) or the one asked for. Takes
 * b->town_teams over. */
static WM_MUST_CHECK wm_err_t scope_totals(build_t *b, json_t **tot)
{
    const wm_report_opts_t *o = b->o;
    uint32_t scope = o->station || !o->aggregator ? (b->ss.n ? b->ss.v[0].node : 0) : 0;
    wm_err_t err = WM_OK;
    if (o->aggregator && !o->station) {
        if ((err = wm_rollup_sum(b->t, 0, b->p->from, b->p->to, &b->scope_s)) == WM_OK)
            err = wm_rollup_sum(b->t, 0, WM_DATE_MIN, b->p->to, &b->scope_ever);
        if (err != WM_OK)
            return read_fail(b->t, o, err, o->id, "the rollup counters of all stations");
    }
    err = totals_json(b->t, scope, scope ? b->ss.v[0].id : o->id, b->p, &b->scope_s,
                      &b->scope_ever, b->town_teams, o, &b->ss, tot);
    b->town_teams = NULL; /* taken over */
    return err;
}

/* The evidence checks over the stations whose problems are reported. */
static WM_MUST_CHECK wm_err_t evidence_problems(build_t *b)
{
    wm_evid_station_t *v = calloc(b->ss.n + 1, sizeof *v);
    const char *bad = "";
    size_t n = 0;
    if (!v)
        return WM_ENOMEM;
    for (size_t i = 0; i < b->ss.n; i++)
        if (!b->ss.v[i].quiet)
            v[n++] = (wm_evid_station_t){b->ss.v[i].node, b->ss.v[i].id};
    wm_err_t err = wm_evid_problems(b->t, v, n, b->p, b->o->date_tolerance_days,
                                    b->o->photos_from, b->problems,
                                    &bad);
    free(v);
    return err == WM_OK ? WM_OK : read_fail(b->t, b->o, err, bad, "the activities' photos");
}

/* The index of id among the stations the report counts, or -1. */
static int counted(const build_t *b, const char *id)
{
    for (size_t i = 0; i < b->ss.n; i++)
        if (strcmp(b->ss.v[i].id, id) == 0)
            return (int)i;
    return -1;
}

/* A station's step of the period that counts in no figure: a problem
 * "order_step_not_counted" naming why (wm_orders_step_problem). The
 * record is stored all the same: a station offline for weeks is never
 * refused for what its steps name. */
static void step_problem(build_t *b, const wm_orders_t *book, const wm_record_t *r)
{
    uint32_t date = 0;
    char id[WM_ORDER_ID_MAX];
    const char *why = wm_orders_step_problem(book, r, &date);
    if (!why || date < b->p->from || date > b->p->to || counted(b, r->station) < 0)
        return;
    const char *log = NULL;
    uint32_t e = 0;
    uint64_t s = 0;
    if (!wm_orders_step_ref(r, &log, &e, &s))
        return;
    json_array_append_new(b->problems,
                          json_pack("{s:s, s:s, s:s, s:s, s:s}", "kind", "order_step_not_counted",
                                    "station", r->station, "order", wm_order_id(log, e, s, id),
                                    "step", wm_record_kind(r), "reason", why));
}

/* Problems of needs and orders, judged at the period's end: an order
 * overdue then ("order_overdue"), and, at an aggregator, a need left
 * unreviewed for more than review_days ("need_unreviewed"). */
static WM_MUST_CHECK wm_err_t orders_problems(build_t *b)
{
    wm_orders_t book = WM_ORDERS_INIT;
    wm_record_t **recs = NULL;
    size_t nrecs = 0;
    char id[WM_ORDER_ID_MAX], due[11];
    unsigned review = b->o->review_days ? b->o->review_days : WM_REVIEW_DAYS;
    wm_err_t err = wm_orderbook_load_keep(b->t, &book, &recs, &nrecs);
    for (size_t i = 0; err == WM_OK && b->o->aggregator && i < nrecs; i++)
        step_problem(b, &book, recs[i]);
    wm_orderbook_recs_free(&recs, &nrecs);
    if (err == WM_OK && b->o->aggregator) /* its parent's orders are not its own (overdue) */
        wm_orders_keep_log(&book, b->o->id);
    for (size_t i = 0; err == WM_OK && i < book.n; i++) {
        const wm_order_t *x = &book.v[i];
        if (counted(b, wm_order_counted_at(x)) < 0 || !wm_order_overdue_at(x, b->p->to))
            continue;
        wm_date_format(x->due, due);
        json_array_append_new(b->problems,
                              json_pack("{s:s, s:s, s:s, s:s, s:s}", "kind", "order_overdue",
                                        "station", wm_order_counted_at(x), "order",
                                        wm_order_id(x->log, x->epoch, x->seq, id), "name",
                                        x->title, "due", due));
    }
    for (size_t i = 0; err == WM_OK && b->o->aggregator && i < book.n_needs; i++) {
        const wm_need_t *n = &book.needs[i];
        int32_t days = wm_date_to_days(b->p->to) - wm_date_to_days(n->date);
        if (counted(b, n->log) < 0 || !wm_need_pending_at(n, b->p->to) || days <= (int32_t)review)
            continue;
        json_array_append_new(b->problems,
                              json_pack("{s:s, s:s, s:s, s:s, s:i}", "kind", "need_unreviewed",
                                        "station", n->log, "need",
                                        wm_order_id(n->log, n->epoch, n->seq, id), "name",
                                        n->title, "days", (int)days));
    }
    wm_orders_free(&book);
    return err == WM_OK ? WM_OK : read_fail(b->t, b->o, err, b->o->id, "the needs and orders");
}

wm_err_t wm_report_build(wm_txn_t *t, const wm_period_t *p, const wm_report_opts_t *o,
                         json_t **out)
{
    build_t b = {.t = t, .p = p, .o = o, .ss = {.only = o->station}};
    json_t *tot = NULL;
    wm_err_t err = list_stations(&b);
    if (err != WM_OK)
        goto out;
    b.covers = json_array(), b.rows = json_array(), b.problems = json_array();
    b.town_teams = json_object();
    b.names = json_pack("{s:{}, s:{}}", "nodes", "teams");
    if (o->name && o->name[0])
        json_object_set_new(json_object_get(b.names, "nodes"), o->id, json_string(o->name));
    for (size_t i = 0; i < b.ss.n; i++)
        if ((err = add_station_figures(&b, &b.ss.v[i])) != WM_OK)
            goto out;
    if ((err = evidence_problems(&b)) != WM_OK || (err = orders_problems(&b)) != WM_OK ||
        (err = scope_totals(&b, &tot)) != WM_OK)
        goto out;
    *out = report_json(p, o, o->station || !o->aggregator ? "station" : o->role,
                       o->station ? (b.ss.n ? b.ss.v[0].name : "") : o->name, b.covers, tot,
                       b.rows, b.problems, b.names, NULL);
    b.covers = b.rows = b.problems = b.names = NULL; /* taken over, also by a failed pack */
    if (!*out)
        err = WM_ENOMEM;
out:
    build_free(&b);
    return err;
}

/* ---- the county: sums of the towns' published, signed rollups ---- */

/* How deep a town's totals may nest. This build writes three levels
 * (totals.volunteer_services.by_kind); deeper is no report of ours. */
#define WM_TIER_MAX_DEPTH 8

/* dst += src, key by key: numbers add, objects recurse, others are kept.
 * WM_ETOOBIG if a sum of integers would leave the range of int64 (no
 * honest town's figures come near it: the report is bad, and adding it
 * would be undefined) or objects nest deeper than WM_TIER_MAX_DEPTH; *bad
 * then names the key, valid while src lives, and dst is partly added to:
 * add into a copy. */
static WM_MUST_CHECK wm_err_t json_add_into(json_t *dst, const json_t *src, int depth, const char **bad)
{
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)src, k, v)
    {
        json_t *d = json_object_get(dst, k);
        json_int_t sum;
        if (json_is_object(v)) {
            if (depth >= WM_TIER_MAX_DEPTH) {
                *bad = k;
                return WM_ETOOBIG;
            }
            if (!json_is_object(d)) {
                d = json_object();
                json_object_set_new(dst, k, d);
            }
            wm_err_t err = json_add_into(d, v, depth + 1, bad);
            if (err != WM_OK)
                return err;
        } else if (json_is_integer(v) && json_is_integer(d)) {
            if (__builtin_add_overflow(json_integer_value(d), json_integer_value(v), &sum)) {
                *bad = k;
                return WM_ETOOBIG;
            }
            json_object_set_new(dst, k, json_integer(sum));
        } else if (json_is_number(v) && json_is_number(d)) {
            double x = json_number_value(d) + json_number_value(v);
            if (!isfinite(x)) {
                *bad = k;
                return WM_ETOOBIG;
            }
            json_object_set_new(dst, k, json_real(x));
        } else if (!d) {
            json_object_set(dst, k, v);
        }
    }
    return WM_OK;
}

/* The reals of TOTALS and the integer sums, in hundredths, they are
 * computed from. */
static const struct {
    const char *real, *hundredths;
} exact_figures[] = {{"service_hours", "service_hours_x100"}, {"funding_yuan", "funding_fen"}};

/* A town's totals as the county adds them (a new reference, NULL out of
 * memory): each real of exact_figures is dropped and its integer kept; a
 * report of an older build, which carries only the real, gets the integer
 * from it, rounded to hundredths. WM_ETOOBIG, *bad naming the key (valid
 * while totals lives), if an integer key is not an integer or such a real
 * is not a finite number within ±2^53 hundredths. */
static WM_MUST_CHECK wm_err_t town_totals(const json_t *totals, json_t **out, const char **bad)
{
    json_t *c = json_is_object(totals) ? json_deep_copy(totals) : json_object();
    wm_err_t err = c ? WM_OK : WM_ENOMEM;
    for (size_t i = 0; err == WM_OK && i < sizeof exact_figures / sizeof exact_figures[0]; i++) {
        json_t *h = json_object_get(c, exact_figures[i].hundredths);
        json_t *r = json_object_get(c, exact_figures[i].real);
        if (h && !json_is_integer(h)) {
            *bad = exact_figures[i].hundredths;
            err = WM_ETOOBIG;
        } else if (!h && json_is_number(r)) {
            double x = json_number_value(r) * 100.0;
            if (!isfinite(x) || fabs(x) > 9007199254740992.0) {
                *bad = exact_figures[i].real;
                err = WM_ETOOBIG;
            } else {
                json_int_t n = (json_int_t)(x < 0 ? x - 0.5 : x + 0.5); /* to the nearest */
                json_object_set_new(c, exact_figures[i].hundredths, json_integer(n));
            }
        }
        if (err == WM_OK)
            json_object_del(c, exact_figures[i].real);
    }
    json_t *ord = json_object_get(c, "orders");
    if (err == WM_OK && json_is_object(ord)) { /* derived ratios: never added */
        json_object_del(ord, "rating_avg");
        json_object_del(ord, "satisfaction_rate");
    }
    if (err != WM_OK) {
        json_decref(c);
        c = NULL;
    }
    *out = c;
    return err;
}

/* Each real of exact_figures in totals, from its integer sum. */
static void exact_reals(json_t *totals)
{
    wm_rollup_derive_orders(totals);
    for (size_t i = 0; i < sizeof exact_figures / sizeof exact_figures[0]; i++) {
        json_int_t h = json_integer_value(json_object_get(totals, exact_figures[i].hundredths));
        json_object_set_new(totals, exact_figures[i].real, json_real((double)h / 100.0));
    }
}

/* wm_report_find and wm_report_find_full: rows 0 reads a binary report
 * from the index, 1 joins it from the log with its rows. */
static WM_MUST_CHECK wm_err_t find(wm_txn_t *t, const char *node_id, const wm_period_t *p,
                                   json_t **report, wm_head_t *at, int rows)
{
    uint32_t node = 0, epoch = 0;
    uint64_t seq = 0;
    wm_srec_t v;
    wm_record_t *r = NULL;
    json_t *j = NULL;
    wm_err_t err = wm_nodeno_lookup(t, node_id, &node);
    if (err == WM_OK)
        err = wm_report_at(t, node, p->name, &epoch, &seq);
    if (err == WM_OK)
        err = wm_log_get(t, node, epoch, seq, &v);
    if (err == WM_OK)
        err = wm_record_decode(v.bytes, v.len, &r);
    if (err != WM_OK)
        return err;
    if (r->body_case == WM__RECORD__BODY_ROLLUP)
        j = json_loads(r->rollup->json, 0, NULL);
    else if (r->body_case == WM__RECORD__BODY_ROLLUP_PART)
        err = wm_rollidx_get(t, node, node_id, p->name, epoch, seq, rows, &j);
    wm_record_free(&r);
    if (err == WM_OK && !j)
        err = WM_EDECODE;
    if (err != WM_OK)
        return err;
    *report = j;
    if (at) {
        at->epoch = epoch;
        at->seq = seq;
        wm_srec_hash(&v, at->hash);
    }
    return WM_OK;
}

wm_err_t wm_report_find(wm_txn_t *t, const char *node_id, const wm_period_t *p, json_t **report,
                        wm_head_t *at)
{
    return find(t, node_id, p, report, at, 0);
}

wm_err_t wm_report_find_full(wm_txn_t *t, const char *node_id, const wm_period_t *p,
                             json_t **report, wm_head_t *at)
{
    return find(t, node_id, p, report, at, 1);
}

/* Every number in j set to 0, in place (integers stay integers). */
static void json_zero(json_t *j)
{
    const char *k;
    json_t *v;
    json_object_foreach(j, k, v)
    {
        if (json_is_object(v))
            json_zero(v);
        else if (json_is_integer(v))
            json_integer_set(v, 0);
        else if (json_is_real(v))
            json_real_set(v, 0.0);
    }
}

/* The totals of no records: every documented figure, all 0. A tier's sums
 * start from it, so a period no child reported still has every key. */
static WM_MUST_CHECK wm_err_t zero_totals(wm_txn_t *t, const wm_period_t *p, const wm_report_opts_t *o,
                            json_t **out)
{
    wm_sums_t none = {0};
    stations_t no_stations = {0};
    wm_err_t err = totals_json(t, 0, o->id, p, &none, &none, json_object(), o, &no_stations, out);
    if (err == WM_OK)
        json_zero(*out);
    return err;
}

/* The children of a tier: every enrolled one (revoked ones too, quiet),
 * with its role; roles[i] is "station" or an aggregator's role. */
typedef struct {
    stations_t ss;
    char (*roles)[16];
    size_t cap;
} children_t;

static int peer_child(void *ctx, const Wm__PeerState *p)
{
    children_t *c = ctx;
    size_t before = c->ss.n;
    if (peer_station(&c->ss, p))
        return 1;
    if (c->ss.n == before)
        return 0;
    if (c->ss.n > c->cap) {
        size_t cap = c->ss.cap;
        char(*r)[16] = realloc(c->roles, cap * sizeof *r);
        if (!r)
            return 1;
        c->roles = r;
        c->cap = cap;
    }
    snprintf(c->roles[c->ss.n - 1], sizeof c->roles[0], "%s", p->role && p->role[0] ? p->role : "station");
    return 0;
}

/* What a tier gathers, child by child. */
typedef struct {
    wm_txn_t *t;
    const wm_period_t *p;
    const wm_report_opts_t *o;
    json_t *totals, *rows, *covers, *problems, *names;
    json_t *counts; /* the problems below, by kind */
} tier_t;

/* Keys of src's object `key` into dst's (dst's win: what a tier knows of
 * its own children comes first). */
static void merge_names(json_t *dst, const json_t *src, const char *key)
{
    json_t *d = json_object_get(dst, key), *s = json_object_get(src, key);
    const char *k;
    json_t *v;
    if (!json_is_object(d) || !json_is_object(s))
        return;
    json_object_foreach(s, k, v) if (json_is_string(v) && !json_object_get(d, k))
        json_object_set(d, k, v);
}

/* A station child's figures, as if it had published them: its own report
 * (o->station), with its teams keyed "STATION/TEAM" as a town keys them. */
static WM_MUST_CHECK wm_err_t station_child(tier_t *x, const station_t *st, json_t **rep)
{
    wm_report_opts_t so = *x->o;
    so.station = st->id;
    so.aggregator = 1;
    wm_err_t err = wm_report_build(x->t, x->p, &so, rep);
    if (err != WM_OK)
        return err;
    json_t *vs = json_object_get(json_object_get(*rep, "totals"), "volunteer_services");
    json_t *teams = json_object_get(vs, "by_team"), *keyed = json_object();
    const char *k;
    json_t *v;
    char key[400];
    json_object_foreach(teams, k, v)
    {
        snprintf(key, sizeof key, "%s/%s", st->id, k);
        json_object_set(keyed, key, v);
    }
    json_object_set_new(vs, "by_team", keyed);
    return WM_OK;
}

/* A problem the tier finds itself (a child not reported, or invalid). */
static void tier_problem(tier_t *x, json_t *p)
{
    count_kind(x->counts, json_string_value(json_object_get(p, "kind")), 1);
    json_array_append_new(x->problems, p);
}

/* What the tier lists of a child's report beyond its figures. A town's
 * (or a station's): its covers (the station logs), every problem, marked
 * with the child it came from, and the names of its stations and teams.
 * A tier's (docs/rollup-json.md, "Above a county"): its report record as
 * the cover, only the problems of its own children not reported or
 * invalid, and the names those name; the rest it counts. */
static void child_details(tier_t *x, const station_t *c, const json_t *rep, const wm_head_t *at)
{
    size_t k;
    json_t *v, *names = json_object_get(rep, "names");
    int tier = at && wm_rollbin_tier_scope(json_string_value(json_object_get(rep, "scope")));
    char hex[65];
    if (tier)
        json_array_append_new(x->covers, json_pack("{s:s, s:I, s:I, s:s}", "station", c->id, "epoch",
                                                   (json_int_t)at->epoch, "seq", (json_int_t)at->seq,
                                                   "hash", wm_hex(at->hash, 32, hex)));
    else
        json_array_foreach(json_object_get(rep, "covers"), k, v) json_array_append(x->covers, v);
    json_array_foreach(json_object_get(rep, "problems"), k, v)
    {
        const char *kind = json_string_value(json_object_get(v, "kind"));
        if (tier && !wm_rollbin_tier_problem(kind))
            continue;
        /* The child a problem came from; one a tier below already named
         * keeps the town it came from. */
        if (at && !json_object_get(v, "town")) {
            json_t *cp = json_deep_copy(v);
            json_object_set_new(cp, "town", json_string(c->id));
            json_array_append_new(x->problems, cp);
        } else {
            json_array_append(x->problems, v);
        }
        const char *town = json_string_value(json_object_get(v, "town"));
        const char *tn = town ? json_string_value(json_object_get(json_object_get(names, "nodes"), town)) : NULL;
        if (tier && tn && !json_object_get(json_object_get(x->names, "nodes"), town))
            json_object_set_new(json_object_get(x->names, "nodes"), town, json_string(tn));
    }
    const json_t *counts = json_object_get(rep, "problem_counts");
    json_t *own = json_is_object(counts) ? NULL : count_problems(json_object_get(rep, "problems"));
    const char *kk;
    json_object_foreach((json_t *)(own ? own : counts), kk, v) count_kind(x->counts, kk, json_integer_value(v));
    json_decref(own);
    if (!tier) {
        merge_names(x->names, names, "nodes");
        merge_names(x->names, names, "teams");
    }
}

/* Adds one child's report (rep, borrowed) to the tier: its totals to the
 * sums, a row, and what child_details lists. at: where its published
 * report is, NULL for a station child counted here. */
static void add_child(tier_t *x, const station_t *c, json_t *rep, const wm_head_t *at)
{
    json_t *sum = json_deep_copy(x->totals), *add = NULL;
    const char *bad = "";
    char hex[65];
    /* Into a copy: a report that cannot be added leaves the sums as they
     * were, and is named instead. */
    int tier = at && wm_rollbin_tier_scope(json_string_value(json_object_get(rep, "scope")));
    if (sum && town_totals(json_object_get(rep, "totals"), &add, &bad) == WM_OK && tier)
        /* Above a county, teams are not listed one by one (the tier below does). */
        json_object_set_new(json_object_get(add, "volunteer_services"), "by_team", json_object());
    if (!sum || !add || json_add_into(sum, add, 0, &bad) != WM_OK) {
        tier_problem(x, json_pack("{s:s, s:s, s:s}", "kind", "town_report_invalid", "town", c->id,
                                  "field", bad));
        json_decref(add);
        json_decref(sum);
        return;
    }
    json_decref(add);
    json_decref(x->totals);
    x->totals = sum;
    json_t *row = json_pack("{s:s, s:s, s:O}", "id", c->id, "name", c->name, "totals",
                            json_object_get(rep, "totals"));
    if (row && at)
        json_object_set_new(row, "report",
                            json_pack("{s:I, s:I, s:s}", "epoch", (json_int_t)at->epoch, "seq",
                                      (json_int_t)at->seq, "hash", wm_hex(at->hash, 32, hex)));
    json_array_append_new(x->rows, row);
    child_details(x, c, rep, at);
}

/* One child of the tier: a station's figures from the counters, an
 * aggregator's from its latest published report of exactly the period. */
static WM_MUST_CHECK wm_err_t tier_child(tier_t *x, const station_t *c, const char *role)
{
    json_t *rep = NULL;
    wm_head_t at;
    int station = strcmp(role, "station") == 0;
    if (c->name[0])
        json_object_set_new(json_object_get(x->names, "nodes"), c->id, json_string(c->name));
    wm_err_t err = station ? station_child(x, c, &rep) : wm_report_find(x->t, c->id, x->p, &rep, &at);
    if (!station && (err == WM_ENOTFOUND || err == WM_EDECODE)) {
        tier_problem(x, json_pack("{s:s, s:s}", "kind", "town_not_reported", "town", c->id));
        return WM_OK;
    }
    if (err != WM_OK)
        return station ? err : read_fail(x->t, x->o, err, c->id, "the published rollup");
    add_child(x, c, rep, station ? NULL : &at);
    json_decref(rep);
    return WM_OK;
}

static void tier_free(tier_t *x)
{
    json_decref(x->totals);
    json_decref(x->rows);
    json_decref(x->covers);
    json_decref(x->problems);
    json_decref(x->names);
    json_decref(x->counts);
}

wm_err_t wm_report_build_tier(wm_txn_t *t, const wm_period_t *p, const wm_report_opts_t *o,
                              json_t **out)
{
    children_t ch = {.ss = {.only = o->station}};
    tier_t x = {.t = t, .p = p, .o = o};
    wm_err_t err = wm_peer_scan(t, peer_child, &ch);
    if (err != WM_OK) {
        err = read_fail(t, o, err, o->id, "the register of enrolled children");
        goto out;
    }
    if (o->station && ch.ss.n == 0) {
        err = WM_ENOTFOUND;
        goto out;
    }
    if ((err = zero_totals(t, p, o, &x.totals)) != WM_OK)
        goto out; /* o->why says what could not be read */
    x.rows = json_array(), x.covers = json_array(), x.problems = json_array();
    x.names = json_pack("{s:{}, s:{}}", "nodes", "teams");
    x.counts = json_object();
    if (o->name && o->name[0])
        json_object_set_new(json_object_get(x.names, "nodes"), o->id, json_string(o->name));
    for (size_t i = 0; i < ch.ss.n; i++)
        if ((err = tier_child(&x, &ch.ss.v[i], ch.roles[i])) != WM_OK)
            goto out;
    exact_reals(x.totals);
    *out = report_json(p, o, o->role, o->station ? ch.ss.v[0].name : o->name, x.covers, x.totals,
                       x.rows, x.problems, x.names, x.counts);
    x.covers = x.totals = x.rows = x.problems = x.names = x.counts = NULL; /* taken over */
    if (!*out)
        err = WM_ENOMEM;
out:
    tier_free(&x);
    free(ch.ss.v);
    free(ch.roles);
    return err;
}

/* Whether the node's figures are a tier's: it is above a town, or one of
 * its children is itself an aggregator. */
static int peer_aggregator(void *ctx, const Wm__PeerState *p)
{
    int *found = ctx;
    *found |= p->role && p->role[0] && strcmp(p->role, "station") != 0;
    return *found;
}

wm_err_t wm_report_build_any(wm_txn_t *t, const wm_period_t *p, const wm_report_opts_t *o,
                             json_t **out)
{
    int tier = 0;
    if (!o->aggregator)
        return wm_report_build(t, p, o, out);
    tier = o->role && strcmp(o->role, "station") != 0 && strcmp(o->role, "town") != 0;
    if (!tier) {
        wm_err_t err = wm_peer_scan(t, peer_aggregator, &tier);
        if (err != WM_OK)
            return read_fail(t, o, err, o->id, "the register of enrolled stations");
    }
    return tier ? wm_report_build_tier(t, p, o, out) : wm_report_build(t, p, o, out);
}
