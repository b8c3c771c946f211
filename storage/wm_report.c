/* SPDX-License-Identifier: MIT */
/* wm_report — figures and problems of a period as JSON; see wm_report.h. */
#include "wm_report.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "wm_rollup.h"

typedef struct {
    char id[160];
    char name[300];
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
} team_ctx_t;

static int team_total(void *ctx, const wm_team_t *tm)
{
    team_ctx_t *tc = ctx;
    char key[400];
    snprintf(key, sizeof key, "%s%s", tc->prefix, tm->id);
    json_object_set_new(tc->by_team, key, json_integer(wm_sums_get(tc->s, WM_FIG_TEAM_SERVICE, tm->no)));
    return 0;
}

/* Figures of one scope. by_team is filled by the caller. */
/* Figures of one scope, from its period sums s and its sums since the
 * start of records (cum, for "截至目前" figures); by_team (a new reference)
 * is taken over. */
static json_t *totals_json(wm_txn_t *t, uint32_t scope, const wm_period_t *p, const wm_sums_t *s,
                           const wm_sums_t *cum, json_t *by_team, const wm_report_opts_t *o,
                           const stations_t *ss)
{
    wm_plans_t plans = {0};
    wm_rollup_plans(t, scope, p->from, p->to, p->to < o->today ? p->to : o->today, &plans);

    json_t *vs = json_object();
    json_object_set_new(vs, "by_kind", enum_counts(&wm__service_kind__descriptor, s, WM_FIG_SERVICE_KIND));
    json_object_set_new(vs, "total", json_integer(wm_sums_get(s, WM_FIG_ACTIVITY, WM__CATEGORY__VOLUNTEER_SERVICE)));
    json_object_set_new(vs, "by_team", by_team);

    /* Six haves: the latest checklist of each station in scope. */
    int64_t haves[8] = {0}, reporting = 0, all_six = 0;
    for (size_t i = 0; i < ss->n; i++) {
        uint32_t date;
        uint16_t f;
        if (!ss->v[i].node || (scope && ss->v[i].node != scope) ||
            wm_rollup_site(t, ss->v[i].node, &date, &f) != WM_OK)
            continue;
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
    return tot;
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
    if (!cc.served)
        return 1;
    wm_rollup_days(c->t, c->st->node, c->p->from, c->p->to, WM_FIG_TEAM_SERVICE, tm->no, mark_block,
                   &cc);
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

static void station_problems(wm_txn_t *t, const station_t *st, const wm_sums_t *s,
                             const wm_sums_t *ever, const wm_period_t *p,
                             const wm_report_opts_t *o, json_t *problems)
{
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
            wm_rollup_sum(t, st->node, m, last, &ms);
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
        team_problem_ctx_t tc = {t, st, p, o, problems, ever};
        wm_team_scan(t, st->node, team_problems, &tc);
    }
}

wm_err_t wm_report_build(wm_txn_t *t, const wm_period_t *p, const wm_report_opts_t *o,
                         json_t **out)
{
    stations_t ss = {.only = o->station};
    wm_err_t err = WM_OK;
    if (o->aggregator) {
        /* The aggregator's own records (an institute records activities
         * too) are counted in scope 0, so they are a row and covered. */
        uint32_t self = 0, e = 0;
        err = wm_peer_scan(t, peer_station, &ss);
        if (err == WM_OK && wm_node_lookup(t, o->id, &self) == WM_OK &&
            wm_epoch_last(t, self, &e) == WM_OK && add_station(&ss, o->id, o->name, -1) == 0 &&
            ss.n && strcmp(ss.v[ss.n - 1].id, o->id) == 0)
            ss.v[ss.n - 1].quiet = 1;
    } else {
        add_station(&ss, o->id, o->name, -1);
    }
    if (err != WM_OK)
        goto out;
    if (o->station && ss.n == 0) {
        err = WM_ENOTFOUND;
        goto out;
    }
    char from[11], to[11], gen[40];
    time_t now = (time_t)o->now;
    struct tm tm;
    localtime_r(&now, &tm);
    strftime(gen, sizeof gen, "%Y-%m-%dT%H:%M:%S%z", &tm);
    json_t *covers = json_array(), *rows = json_array(), *problems = json_array();
    json_t *town_teams = json_object();
    wm_sums_t scope_s = {0}, scope_ever = {0};
    for (size_t i = 0; i < ss.n; i++) {
        station_t *st = &ss.v[i];
        if (wm_node_lookup(t, st->id, &st->node) != WM_OK)
            st->node = 0;
        wm_head_t h = {0};
        uint32_t e = 0;
        if (st->node && wm_epoch_last(t, st->node, &e) == WM_OK)
            wm_log_head(t, st->node, e, &h);
        char hex[65];
        json_array_append_new(covers, json_pack("{s:s, s:I, s:I, s:s}", "station", st->id, "epoch",
                                                (json_int_t)h.epoch, "seq", (json_int_t)h.seq, "hash",
                                                wm_hex(h.hash, 32, hex)));
        /* Each station's sums are read once: the period, and since the
         * start of records (cumulative figures, teams that never served). */
        wm_sums_t s = {0}, ever = {0};
        if (st->node) {
            wm_rollup_sum(t, st->node, p->from, p->to, &s);
            wm_rollup_sum(t, st->node, WM_DATE_MIN, p->to, &ever);
        }
        if (!st->quiet)
            station_problems(t, st, &s, &ever, p, o, problems);
        if (st->node) {
            char prefix[200];
            snprintf(prefix, sizeof prefix, "%s/", st->id);
            team_ctx_t tc = {&s, town_teams, prefix};
            wm_team_scan(t, st->node, team_total, &tc);
        }
        if (o->aggregator && st->node) {
            stations_t one = {.v = st, .n = 1, .cap = 1};
            json_t *teams = json_object();
            team_ctx_t tc = {&s, teams, ""};
            wm_team_scan(t, st->node, team_total, &tc);
            json_array_append_new(rows, json_pack("{s:s, s:s, s:o}", "id", st->id, "name", st->name,
                                                  "totals", totals_json(t, st->node, p, &s, &ever,
                                                                        teams, o, &one)));
        }
        if (!o->aggregator || o->station) { /* the scope is this one station */
            wm_sums_free(&scope_s);
            wm_sums_free(&scope_ever);
            scope_s = s, scope_ever = ever;
            json_decref(town_teams);
            town_teams = json_object();
            team_ctx_t tc = {&s, town_teams, ""};
            if (st->node)
                wm_team_scan(t, st->node, team_total, &tc);
            continue;
        }
        wm_sums_free(&s);
        wm_sums_free(&ever);
    }
    /* The scope's own totals: all stations (0) or the one asked for. */
    uint32_t scope = o->station || !o->aggregator ? (ss.n ? ss.v[0].node : 0) : 0;
    if (o->aggregator && !o->station) {
        wm_rollup_sum(t, 0, p->from, p->to, &scope_s);
        wm_rollup_sum(t, 0, WM_DATE_MIN, p->to, &scope_ever);
    }
    json_t *tot = totals_json(t, scope, p, &scope_s, &scope_ever, town_teams, o, &ss);
    wm_sums_free(&scope_s);
    wm_sums_free(&scope_ever);
    *out = json_pack("{s:i, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:o, s:o, s:o, s:o}", "schema",
                     WM_REPORT_SCHEMA, "period", p->name,
                     "from", wm_date_format(p->from, from), "to", wm_date_format(p->to, to),
                     "scope", o->station || !o->aggregator ? "station" : o->role, "id",
                     o->station ? o->station : o->id, "name",
                     o->station ? (ss.n ? ss.v[0].name : "") : o->name, "generated", gen, "covers",
                     covers, "totals", tot, "stations", rows, "problems", problems);
    if (!*out)
        err = WM_ENOMEM;
out:
    free(ss.v);
    return err;
}

/* ---- the county: sums of the towns' published, signed rollups ---- */

/* dst += src, key by key: numbers add, objects recurse, others are kept. */
static void json_add_into(json_t *dst, const json_t *src)
{
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)src, k, v)
    {
        json_t *d = json_object_get(dst, k);
        if (json_is_object(v)) {
            if (!json_is_object(d)) {
                d = json_object();
                json_object_set_new(dst, k, d);
            }
            json_add_into(d, v);
        } else if (json_is_integer(v) && json_is_integer(d)) {
            json_object_set_new(dst, k, json_integer(json_integer_value(d) + json_integer_value(v)));
        } else if (json_is_number(v) && json_is_number(d)) {
            json_object_set_new(dst, k, json_real(json_number_value(d) + json_number_value(v)));
        } else if (!d) {
            json_object_set(dst, k, v);
        }
    }
}

wm_err_t wm_report_find(wm_txn_t *t, const char *node_id, const wm_period_t *p, json_t **report,
                        wm_head_t *at)
{
    uint32_t node = 0, epoch = 0;
    uint64_t seq = 0;
    wm_srec_t v;
    wm_record_t *r = NULL;
    wm_err_t err = wm_node_lookup(t, node_id, &node);
    if (err == WM_OK)
        err = wm_report_at(t, node, p->name, &epoch, &seq);
    if (err == WM_OK)
        err = wm_log_get(t, node, epoch, seq, &v);
    if (err == WM_OK)
        err = wm_record_decode(v.bytes, v.len, &r);
    if (err != WM_OK)
        return err;
    json_t *j = r->body_case == WM__RECORD__BODY_ROLLUP ? json_loads(r->rollup->json, 0, NULL) : NULL;
    wm_record_free(&r);
    if (!j)
        return WM_EDECODE;
    *report = j;
    if (at) {
        at->epoch = epoch;
        at->seq = seq;
        wm_srec_hash(&v, at->hash);
    }
    return WM_OK;
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
static json_t *zero_totals(wm_txn_t *t, const wm_period_t *p, const wm_report_opts_t *o)
{
    wm_sums_t none = {0};
    stations_t no_stations = {0};
    json_t *z = totals_json(t, 0, p, &none, &none, json_object(), o, &no_stations);
    if (z)
        json_zero(z);
    return z;
}

static int peer_town(void *ctx, const Wm__PeerState *p)
{
    return peer_station(ctx, p);
}

wm_err_t wm_report_build_tier(wm_txn_t *t, const wm_period_t *p, const wm_report_opts_t *o,
                              json_t **out)
{
    stations_t towns = {.only = o->station};
    wm_err_t err = wm_peer_scan(t, peer_town, &towns);
    if (err != WM_OK)
        goto out;
    if (o->station && towns.n == 0) {
        err = WM_ENOTFOUND;
        goto out;
    }
    json_t *totals = zero_totals(t, p, o), *rows = json_array(), *covers = json_array(),
           *problems = json_array();
    for (size_t i = 0; i < towns.n; i++) {
        json_t *rep = NULL;
        wm_head_t at;
        char hex[65];
        if (wm_report_find(t, towns.v[i].id, p, &rep, &at) != WM_OK) {
            json_array_append_new(problems, json_pack("{s:s, s:s}", "kind", "town_not_reported",
                                                      "town", towns.v[i].id));
            continue;
        }
        json_add_into(totals, json_object_get(rep, "totals"));
        json_array_append_new(rows, json_pack("{s:s, s:s, s:O, s:{s:I, s:I, s:s}}", "id",
                                              towns.v[i].id, "name", towns.v[i].name, "totals",
                                              json_object_get(rep, "totals"), "report", "epoch",
                                              (json_int_t)at.epoch, "seq", (json_int_t)at.seq, "hash",
                                              wm_hex(at.hash, 32, hex)));
        size_t k;
        json_t *x;
        json_array_foreach(json_object_get(rep, "covers"), k, x) json_array_append(covers, x);
        json_array_foreach(json_object_get(rep, "problems"), k, x)
        {
            json_t *c = json_deep_copy(x);
            json_object_set_new(c, "town", json_string(towns.v[i].id));
            json_array_append_new(problems, c);
        }
        json_decref(rep);
    }
    char from[11], to[11], gen[40];
    time_t now = (time_t)o->now;
    struct tm tm;
    localtime_r(&now, &tm);
    strftime(gen, sizeof gen, "%Y-%m-%dT%H:%M:%S%z", &tm);
    *out = json_pack("{s:i, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:o, s:o, s:o, s:o}", "schema",
                     WM_REPORT_SCHEMA, "period", p->name,
                     "from", wm_date_format(p->from, from), "to", wm_date_format(p->to, to),
                     "scope", o->role, "id", o->station ? o->station : o->id, "name",
                     o->station ? towns.v[0].name : o->name, "generated", gen, "covers", covers,
                     "totals", totals, "stations", rows, "problems", problems);
    if (!*out)
        err = WM_ENOMEM;
out:
    free(towns.v);
    return err;
}
