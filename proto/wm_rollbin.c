/* SPDX-License-Identifier: MIT */
/* wm_rollbin — the binary form of a published rollup; see wm_rollbin.h. */
#include "wm_rollbin.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wm_crypto.h"
#include "wm_date.h"
#include "wm_record.h"

/* The slot table: every integer figure of TOTALS, by its path. Fixed
 * forever (senders and receivers of every build index figures by it):
 * append new figures at the end, never reorder or remove one. */
static const char *const slots[] = {
    "activities.theme_lecture", "activities.theory_education", "activities.party_training",
    "activities.civilization_practice", "activities.culture_sports",
    "activities.volunteer_service", "activities.total",
    "volunteer_services.by_kind.environmental", "volunteer_services.by_kind.science",
    "volunteer_services.by_kind.legal", "volunteer_services.by_kind.campus_safety",
    "volunteer_services.by_kind.traffic", "volunteer_services.by_kind.assistance",
    "volunteer_services.by_kind.other", "volunteer_services.by_kind.total",
    "volunteer_services.total", "participants", "activity_volunteers", "service_hours_x100",
    "festival_events", "grassroots_lectures", "late_entries", "recruitment_posts",
    "funding_fen", "publicity.wechat", "publicity.website", "publicity.poster",
    "publicity.leaflet", "publicity.total", "volunteers.registered", "volunteers.verified",
    "volunteers.registered_cumulative", "volunteers.verified_cumulative", "sites.reporting",
    "sites.plaque", "sites.rules", "sites.equipment", "sites.manager", "sites.ledger",
    "sites.plan", "sites.theme", "sites.six_haves", "sites.model_stations", "plans.due",
    "plans.done", "plans.overdue"};
#define NSLOTS (sizeof slots / sizeof slots[0])

/* The reals of TOTALS and the integer sums they are derived from. */
static const struct {
    const char *real, *hundredths;
} reals[] = {{"service_hours", "service_hours_x100"}, {"funding_yuan", "funding_fen"}};

#define BY_TEAM "volunteer_services.by_team"
#define PATH_MAX_LEN 256
#define DEPTH_MAX 8

/* A figure path a reader takes: dot-separated non-empty segments, shorter
 * than PATH_MAX_LEN (what walk writes). Others, from a bad sender, are
 * dropped. */
static int path_ok(const char *path)
{
    size_t n = strlen(path);
    return n && n < PATH_MAX_LEN && path[0] != '.' && path[n - 1] != '.' && !strstr(path, "..");
}

static int slot_of(const char *path)
{
    for (size_t i = 0; i < NSLOTS; i++)
        if (strcmp(slots[i], path) == 0)
            return (int)i;
    return -1;
}

static int is_real(const char *path)
{
    for (size_t i = 0; i < sizeof reals / sizeof reals[0]; i++)
        if (strcmp(reals[i].real, path) == 0)
            return 1;
    return 0;
}

/* Figures being encoded: growable arrays owned until the message is packed. */
typedef struct {
    Wm__RollupFigures f;
    int64_t v[NSLOTS];
    size_t cap_team, cap_extra;
    int failed;
} figs_t;

static int push_str(char ***a, int64_t **vals, size_t *n, size_t *cap, const char *s, int64_t v)
{
    if (*n == *cap) {
        size_t cap2 = *cap ? *cap * 2 : 16;
        char **na = realloc(*a, cap2 * sizeof *na);
        if (!na)
            return -1;
        *a = na;
        int64_t *nv = realloc(*vals, cap2 * sizeof *nv);
        if (!nv)
            return -1;
        *vals = nv;
        *cap = cap2;
    }
    (*a)[*n] = (char *)s; /* borrowed from the JSON, which outlives packing */
    (*vals)[*n] = v;
    (*n)++;
    return 0;
}

/* Each integer leaf of o under path prefix: a slot, a team, or an extra. */
static void walk(figs_t *g, const json_t *o, const char *prefix, int depth)
{
    const char *k;
    json_t *v;
    char path[PATH_MAX_LEN];
    json_object_foreach((json_t *)o, k, v)
    {
        if (snprintf(path, sizeof path, "%s%s%s", prefix, prefix[0] ? "." : "", k) >=
            (int)sizeof path)
            continue; /* no figure of ours has such a path */
        if (strcmp(path, BY_TEAM) == 0 && json_is_object(v)) {
            const char *tk;
            json_t *tv;
            json_object_foreach(v, tk, tv) if (json_is_integer(tv) &&
                                               push_str(&g->f.team, &g->f.team_v, &g->f.n_team,
                                                        &g->cap_team, tk, json_integer_value(tv)))
                g->failed = 1;
            g->f.n_team_v = g->f.n_team;
        } else if (json_is_object(v) && depth < DEPTH_MAX) {
            walk(g, v, path, depth + 1);
        } else if (json_is_integer(v)) {
            int s = slot_of(path);
            if (s >= 0)
                g->v[s] = json_integer_value(v);
            else if (push_str(&g->f.extra, &g->f.extra_v, &g->f.n_extra, &g->cap_extra,
                              strdup(path), json_integer_value(v)))
                g->failed = 1;
            g->f.n_extra_v = g->f.n_extra;
        } else if (json_is_real(v) && !is_real(path)) {
            /* A real this build does not derive: carried as an integer
             * extra would change its meaning, so it is not carried. */
        }
    }
}

static void figs_clear(figs_t *g)
{
    for (size_t i = 0; i < g->f.n_extra; i++)
        free(g->f.extra[i]);
    free(g->f.extra);
    free(g->f.extra_v);
    free(g->f.team);
    free(g->f.team_v);
}

/* Fills g from a TOTALS object (borrowed: g points into it). */
static wm_err_t figs_from(figs_t *g, const json_t *totals)
{
    memset(g, 0, sizeof *g);
    wm__rollup_figures__init(&g->f);
    walk(g, totals, "", 0);
    /* An older report carries only a real: its integer from it. */
    for (size_t i = 0; i < sizeof reals / sizeof reals[0]; i++) {
        json_t *h = json_object_get(totals, reals[i].hundredths);
        json_t *r = json_object_get(totals, reals[i].real);
        if (!h && json_is_number(r))
            g->v[slot_of(reals[i].hundredths)] = (int64_t)(json_number_value(r) * 100.0 + 0.5);
    }
    size_t n = NSLOTS;
    while (n > 0 && g->v[n - 1] == 0)
        n--;
    g->f.v = g->v;
    g->f.n_v = n;
    return g->failed ? WM_ENOMEM : WM_OK;
}

static const char *jstr(const json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));
    return s ? s : "";
}

/* The message parts that point into j or into heap arrays freed by bin_clear. */
typedef struct {
    Wm__RollupBin b;
    figs_t totals;
    figs_t *rowfigs;
    Wm__RollupRow *rows, **rowp;
    Wm__RollupCover *covers, **coverp;
    uint8_t (*hashes)[32];
    char **node_id, **node_name, **team_key, **team_name;
    char **count_kind;
    int64_t *count_n;
    size_t count_cap;
    char *problems;
} bin_t;

static void bin_clear(bin_t *x)
{
    figs_clear(&x->totals);
    for (size_t i = 0; x->rowfigs && i < x->b.n_rows; i++)
        figs_clear(&x->rowfigs[i]);
    free(x->rowfigs);
    free(x->rows);
    free(x->rowp);
    free(x->covers);
    free(x->coverp);
    free(x->hashes);
    free(x->node_id);
    free(x->node_name);
    free(x->team_key);
    free(x->team_name);
    free(x->count_kind);
    free(x->count_n);
    free(x->problems);
}

/* 32 bytes from 64 hex digits; zeros if it is not that. */
static void hash_of(const char *hex, uint8_t out[32])
{
    if (!hex || wm_unhex(hex, out, 32) != WM_OK)
        memset(out, 0, 32);
}

static wm_err_t rows_from(bin_t *x, const json_t *rows)
{
    size_t n = json_array_size(rows), i;
    json_t *r;
    if (!n)
        return WM_OK;
    x->rowfigs = calloc(n, sizeof *x->rowfigs);
    x->rows = calloc(n, sizeof *x->rows);
    x->rowp = calloc(n, sizeof *x->rowp);
    x->hashes = calloc(n, 32);
    if (!x->rowfigs || !x->rows || !x->rowp || !x->hashes)
        return WM_ENOMEM;
    json_array_foreach(rows, i, r)
    {
        Wm__RollupRow *w = &x->rows[i];
        wm__rollup_row__init(w);
        w->id = (char *)jstr(r, "id");
        w->name = (char *)jstr(r, "name");
        x->b.n_rows = i + 1;
        if (figs_from(&x->rowfigs[i], json_object_get(r, "totals")) != WM_OK)
            return WM_ENOMEM;
        w->totals = &x->rowfigs[i].f;
        json_t *at = json_object_get(r, "report");
        if (json_is_object(at)) {
            w->report_epoch = (uint32_t)json_integer_value(json_object_get(at, "epoch"));
            w->report_seq = (uint64_t)json_integer_value(json_object_get(at, "seq"));
            hash_of(jstr(at, "hash"), x->hashes[i]);
            w->report_hash = (ProtobufCBinaryData){32, x->hashes[i]};
        }
        x->rowp[i] = w;
    }
    x->b.rows = x->rowp;
    return WM_OK;
}

static wm_err_t covers_from(bin_t *x, const json_t *covers, uint8_t (*hashes)[32])
{
    size_t n = json_array_size(covers), i;
    json_t *c;
    if (!n)
        return WM_OK;
    x->covers = calloc(n, sizeof *x->covers);
    x->coverp = calloc(n, sizeof *x->coverp);
    if (!x->covers || !x->coverp)
        return WM_ENOMEM;
    json_array_foreach(covers, i, c)
    {
        Wm__RollupCover *w = &x->covers[i];
        wm__rollup_cover__init(w);
        w->station = (char *)jstr(c, "station");
        w->epoch = (uint32_t)json_integer_value(json_object_get(c, "epoch"));
        w->seq = (uint64_t)json_integer_value(json_object_get(c, "seq"));
        hash_of(jstr(c, "hash"), hashes[i]);
        w->hash = (ProtobufCBinaryData){32, hashes[i]};
        x->coverp[i] = w;
    }
    x->b.covers = x->coverp;
    x->b.n_covers = n;
    return WM_OK;
}

/* The keys and values of object o as two parallel arrays (borrowed). */
static wm_err_t pairs_from(const json_t *o, char ***keys, char ***vals, size_t *n)
{
    size_t cap = json_object_size(o), i = 0;
    const char *k;
    json_t *v;
    *n = 0;
    if (!cap)
        return WM_OK;
    *keys = calloc(cap, sizeof **keys);
    *vals = calloc(cap, sizeof **vals);
    if (!*keys || !*vals)
        return WM_ENOMEM;
    json_object_foreach((json_t *)o, k, v) if (json_is_string(v) && i < cap)
    {
        (*keys)[i] = (char *)k;
        (*vals)[i++] = (char *)json_string_value(v);
    }
    *n = i;
    return WM_OK;
}

wm_err_t wm_rollbin_encode(const json_t *j, int rows, uint8_t **out, size_t *len)
{
    bin_t x;
    memset(&x, 0, sizeof x);
    wm__rollup_bin__init(&x.b);
    const json_t *totals = json_object_get(j, "totals"), *covers = json_object_get(j, "covers");
    const char *period = json_string_value(json_object_get(j, "period"));
    wm_period_t p;
    wm_err_t err = WM_EINVAL;
    if (!json_is_object(totals) || !period || wm_period_parse(period, &p) != WM_OK)
        goto out;
    x.b.schema = 1;
    x.b.period = (char *)period;
    x.b.from = p.from;
    x.b.to = p.to;
    x.b.scope = (char *)jstr(j, "scope");
    x.b.name = (char *)jstr(j, "name");
    x.b.generated = (char *)jstr(j, "generated");
    if ((err = figs_from(&x.totals, totals)) != WM_OK)
        goto out;
    x.b.totals = &x.totals.f;
    if (rows && (err = rows_from(&x, json_object_get(j, "stations"))) != WM_OK)
        goto out;
    uint8_t(*ch)[32] = json_array_size(covers) ? calloc(json_array_size(covers), 32) : NULL;
    if (json_array_size(covers) && !ch) {
        err = WM_ENOMEM;
        goto out;
    }
    err = covers_from(&x, covers, ch);
    x.problems = json_dumps(json_is_array(json_object_get(j, "problems"))
                                ? json_object_get(j, "problems") : json_array(),
                            JSON_COMPACT);
    x.b.problems = x.problems ? x.problems : "[]";
    const json_t *names = json_object_get(j, "names");
    if (err == WM_OK)
        err = pairs_from(json_object_get(names, "nodes"), &x.node_id, &x.node_name, &x.b.n_node_id);
    if (err == WM_OK)
        err = pairs_from(json_object_get(names, "teams"), &x.team_key, &x.team_name, &x.b.n_team_key);
    x.b.node_id = x.node_id, x.b.node_name = x.node_name, x.b.n_node_name = x.b.n_node_id;
    x.b.team_key = x.team_key, x.b.team_name = x.team_name, x.b.n_team_name = x.b.n_team_key;
    const char *ck;
    json_t *cv;
    json_object_foreach(json_object_get((json_t *)j, "problem_counts"), ck, cv)
        if (err == WM_OK && json_is_integer(cv) &&
            push_str(&x.count_kind, &x.count_n, &x.b.n_count_kind, &x.count_cap, ck,
                     json_integer_value(cv)))
            err = WM_ENOMEM;
    x.b.count_kind = x.count_kind, x.b.count_n = x.count_n, x.b.n_count_n = x.b.n_count_kind;
    if (err == WM_OK)
        err = wm_pb_encode(&x.b.base, out, len);
    free(ch);
out:
    bin_clear(&x);
    return err;
}

/* Sets path a.b.c in o to v (taken over), making objects on the way. */
static void set_path(json_t *o, const char *path, json_t *v)
{
    char key[PATH_MAX_LEN];
    const char *dot;
    while ((dot = strchr(path, '.'))) {
        size_t n = (size_t)(dot - path);
        if (n >= sizeof key)
            break;
        memcpy(key, path, n);
        key[n] = 0;
        json_t *sub = json_object_get(o, key);
        if (!json_is_object(sub)) {
            sub = json_object();
            json_object_set_new(o, key, sub);
        }
        o = sub;
        path = dot + 1;
    }
    json_object_set_new(o, path, v);
}

json_t *wm_rollbin_totals_json(const Wm__RollupFigures *f)
{
    json_t *t = json_object();
    if (!t)
        return NULL;
    for (size_t i = 0; i < NSLOTS; i++) {
        set_path(t, slots[i], json_integer(f && i < f->n_v ? f->v[i] : 0));
        if (strcmp(slots[i], "volunteer_services.by_kind.total") == 0)
            set_path(t, BY_TEAM, json_object()); /* in the order a town writes it */
    }
    json_t *teams = json_object_get(json_object_get(t, "volunteer_services"), "by_team");
    for (size_t i = 0; f && i < f->n_team && i < f->n_team_v; i++)
        json_object_set_new(teams, f->team[i], json_integer(f->team_v[i]));
    for (size_t i = 0; f && i < f->n_extra && i < f->n_extra_v; i++)
        if (path_ok(f->extra[i]) && !is_real(f->extra[i]) && strcmp(f->extra[i], BY_TEAM) != 0)
            set_path(t, f->extra[i], json_integer(f->extra_v[i]));
    for (size_t i = 0; i < sizeof reals / sizeof reals[0]; i++) {
        json_int_t h = json_integer_value(json_object_get(t, reals[i].hundredths));
        json_object_set_new(t, reals[i].real, json_real((double)h / 100.0));
    }
    wm_rollup_derive_orders(t);
    return t;
}

static json_t *pairs_json(char **keys, size_t nk, char **vals, size_t nv)
{
    json_t *o = json_object();
    for (size_t i = 0; o && i < nk && i < nv; i++)
        json_object_set_new(o, keys[i], json_string(vals[i]));
    return o;
}

static json_t *rows_json(const Wm__RollupBin *b)
{
    json_t *rows = json_array();
    char hex[65];
    for (size_t i = 0; rows && i < b->n_rows; i++) {
        const Wm__RollupRow *r = b->rows[i];
        json_t *row = json_pack("{s:s, s:s, s:o}", "id", r->id, "name", r->name, "totals",
                                wm_rollbin_totals_json(r->totals));
        if (row && r->report_seq && r->report_hash.len == 32)
            json_object_set_new(row, "report",
                                json_pack("{s:I, s:I, s:s}", "epoch", (json_int_t)r->report_epoch,
                                          "seq", (json_int_t)r->report_seq, "hash",
                                          wm_hex(r->report_hash.data, 32, hex)));
        json_array_append_new(rows, row);
    }
    return rows;
}

static json_t *covers_json(const Wm__RollupBin *b)
{
    json_t *covers = json_array();
    char hex[65];
    static const uint8_t zero[32];
    for (size_t i = 0; covers && i < b->n_covers; i++) {
        const Wm__RollupCover *c = b->covers[i];
        const uint8_t *h = c->hash.len == 32 ? c->hash.data : zero;
        json_array_append_new(covers, json_pack("{s:s, s:I, s:I, s:s}", "station", c->station,
                                                "epoch", (json_int_t)c->epoch, "seq",
                                                (json_int_t)c->seq, "hash", wm_hex(h, 32, hex)));
    }
    return covers;
}

wm_err_t wm_rollbin_decode(const uint8_t *buf, size_t len, const char *id, json_t **out)
{
    Wm__RollupBin *b = NULL;
    char from[11], to[11];
    wm_err_t err = wm_pb_decode(&wm__rollup_bin__descriptor, buf, len, WM_ROLLBIN_MAX, (void **)&b);
    if (err != WM_OK)
        return err == WM_ENOMEM ? err : WM_EDECODE;
    json_t *problems = json_loads(b->problems ? b->problems : "[]", 0, NULL);
    if (!json_is_array(problems)) {
        json_decref(problems);
        wm_pb_free(&b);
        return WM_EDECODE;
    }
    wm_date_format(b->from, from);
    wm_date_format(b->to, to);
    json_t *j = json_pack(
        "{s:i, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:o, s:o, s:o, s:o, s:{s:o, s:o}}", "schema",
        b->schema ? (int)b->schema : 1, "period", b->period, "from", from, "to", to, "scope",
        b->scope, "id", id, "name", b->name, "generated", b->generated, "covers", covers_json(b),
        "totals", wm_rollbin_totals_json(b->totals), "stations", rows_json(b), "problems",
        problems, "names", "nodes",
        pairs_json(b->node_id, b->n_node_id, b->node_name, b->n_node_name), "teams",
        pairs_json(b->team_key, b->n_team_key, b->team_name, b->n_team_name));
    json_t *counts = j && b->n_count_kind ? json_object() : NULL;
    for (size_t i = 0; counts && i < b->n_count_kind && i < b->n_count_n; i++)
        json_object_set_new(counts, b->count_kind[i], json_integer(b->count_n[i]));
    if (counts)
        json_object_set_new(j, "problem_counts", counts);
    wm_pb_free(&b);
    if (!j)
        return WM_ENOMEM;
    *out = j;
    return WM_OK;
}

int wm_rollbin_tier_problem(const char *kind)
{
    return kind && (strcmp(kind, "town_not_reported") == 0 || strcmp(kind, "town_report_invalid") == 0);
}

int wm_rollbin_tier_scope(const char *scope)
{
    return scope && scope[0] && strcmp(scope, "town") != 0 && strcmp(scope, "station") != 0;
}

/* A tier's summary (see wm_rollbin_summary): b trimmed in place; what it
 * drops stays owned by b's arrays (counts set to 0 are restored by the
 * caller before b is freed). kept: the new problems text (malloc'd). */
static wm_err_t trim_tier(Wm__RollupBin *b, char **kept)
{
    json_t *all = json_loads(b->problems ? b->problems : "[]", 0, NULL), *some = json_array();
    size_t i, n = 0;
    json_t *p;
    if (!json_is_array(all) || !some) {
        json_decref(all);
        json_decref(some);
        return json_is_array(all) ? WM_ENOMEM : WM_EDECODE;
    }
    json_array_foreach(all, i, p) if (wm_rollbin_tier_problem(json_string_value(json_object_get(p, "kind"))))
        json_array_append(some, p);
    /* Node names kept: those a remaining problem names (moved to the front). */
    for (i = 0; i < b->n_node_id && i < b->n_node_name; i++) {
        int named = 0;
        size_t k;
        json_array_foreach(some, k, p)
        {
            const char *town = json_string_value(json_object_get(p, "town"));
            named |= town && strcmp(town, b->node_id[i]) == 0;
        }
        if (named) {
            char *id = b->node_id[n], *name = b->node_name[n];
            b->node_id[n] = b->node_id[i], b->node_name[n] = b->node_name[i];
            b->node_id[i] = id, b->node_name[i] = name;
            n++;
        }
    }
    *kept = json_dumps(some, JSON_COMPACT);
    json_decref(all);
    json_decref(some);
    if (!*kept)
        return WM_ENOMEM;
    b->n_node_id = b->n_node_name = n;
    b->n_covers = 0;
    b->n_team_key = b->n_team_name = 0;
    if (b->totals)
        b->totals->n_team = b->totals->n_team_v = 0;
    b->problems = *kept;
    return WM_OK;
}

wm_err_t wm_rollbin_summary(const uint8_t *buf, size_t len, uint8_t **out, size_t *olen)
{
    Wm__RollupBin *b = NULL;
    char *kept = NULL, *problems;
    wm_err_t err = wm_pb_decode(&wm__rollup_bin__descriptor, buf, len, WM_ROLLBIN_MAX, (void **)&b);
    if (err != WM_OK)
        return err == WM_ENOMEM ? err : WM_EDECODE;
    /* Packed without what is dropped; the counts are restored after, so
     * that protobuf-c frees every element. */
    size_t rows = b->n_rows, covers = b->n_covers, nid = b->n_node_id, nname = b->n_node_name,
           tk = b->n_team_key, tn = b->n_team_name;
    size_t team = b->totals ? b->totals->n_team : 0, team_v = b->totals ? b->totals->n_team_v : 0;
    problems = b->problems;
    b->n_rows = 0;
    if (wm_rollbin_tier_scope(b->scope))
        err = trim_tier(b, &kept);
    if (err == WM_OK)
        err = wm_pb_encode(&b->base, out, olen);
    b->n_rows = rows, b->n_covers = covers, b->n_node_id = nid, b->n_node_name = nname;
    b->n_team_key = tk, b->n_team_name = tn, b->problems = problems;
    if (b->totals)
        b->totals->n_team = team, b->totals->n_team_v = team_v;
    free(kept);
    wm_pb_free(&b);
    return err;
}

uint32_t wm_rollbin_parts(size_t len)
{
    return len ? (uint32_t)((len + WM_ROLLBIN_PART_MAX - 1) / WM_ROLLBIN_PART_MAX) : 1;
}

void wm_rollup_derive_orders(json_t *totals)
{
    json_t *o = json_object_get(totals, "orders");
    if (!json_is_object(o))
        return;
    json_int_t n = json_integer_value(json_object_get(o, "loops_closed"));
    json_int_t sum = json_integer_value(json_object_get(o, "rating_sum"));
    json_int_t sat = json_integer_value(json_object_get(o, "ratings_satisfied"));
    json_object_set_new(o, "rating_avg", n > 0 ? json_real((double)sum / (double)n) : json_null());
    json_object_set_new(o, "satisfaction_rate",
                        n > 0 ? json_real((double)sat / (double)n) : json_null());
}
