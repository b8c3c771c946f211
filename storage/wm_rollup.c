/* SPDX-License-Identifier: MIT */
/* wm_rollup — incremental counters by day; layouts in wm_rollup.h. */
#include "wm_rollup.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "wm_date.h"
#include "wm_store_int.h"

#define KEY_ROLL 12 /* scope u32 | day u32 | fig u16 | dim u16 */
#define WM_SLOTS 36 /* counters in a (scope, day) vector; see slot_map below */

/* An accumulator entry: the vector of a (scope, day) (key fig 0), or one
 * team's count on a day (key fig WM_FIG_TEAM_SERVICE, dim the team; v[0]). */
typedef struct {
    uint8_t key[KEY_ROLL];
    int used;
    int64_t v[WM_SLOTS];
} slot_t;

struct wm_rollup_acc {
    slot_t *slots;
    size_t cap, n;      /* cap is a power of two */
    slot_t *last[2];    /* the vectors the last record touched (its station, scope 0) */
    int64_t tz_hour;    /* capture quarter-hour last converted to a local date */
    uint32_t tz_date;
};

static uint64_t key_hash(const uint8_t *k)
{
    uint64_t h = 1469598103934665603ull;
    for (int i = 0; i < KEY_ROLL; i++)
        h = (h ^ k[i]) * 1099511628211ull;
    return h;
}

wm_err_t wm_rollup_acc_new(wm_rollup_acc_t **out)
{
    wm_rollup_acc_t *a = calloc(1, sizeof *a);
    if (!a)
        return WM_ENOMEM;
    a->cap = 256;
    a->slots = calloc(a->cap, sizeof *a->slots);
    if (!a->slots) {
        free(a);
        return WM_ENOMEM;
    }
    *out = a;
    return WM_OK;
}

void wm_rollup_acc_free(wm_rollup_acc_t **a)
{
    if (!a || !*a)
        return;
    free((*a)->slots);
    free(*a);
    *a = NULL;
}

static slot_t *slot_for(slot_t *slots, size_t cap, const uint8_t *key)
{
    size_t i = key_hash(key) & (cap - 1);
    while (slots[i].used && memcmp(slots[i].key, key, KEY_ROLL) != 0)
        i = (i + 1) & (cap - 1);
    return &slots[i];
}

/* The entry of key, created zeroed if new; NULL on ENOMEM. */
static slot_t *acc_slot(wm_rollup_acc_t *a, const uint8_t *key)
{
    slot_t *s = slot_for(a->slots, a->cap, key);
    if (s->used)
        return s; /* found: no insertion, so no pointer moves */
    if (2 * (a->n + 1) > a->cap) {
        size_t cap = a->cap * 2;
        slot_t *ns = calloc(cap, sizeof *ns);
        if (!ns)
            return NULL;
        for (size_t i = 0; i < a->cap; i++)
            if (a->slots[i].used)
                *slot_for(ns, cap, a->slots[i].key) = a->slots[i];
        free(a->slots);
        a->slots = ns;
        a->cap = cap;
        a->last[0] = a->last[1] = NULL;
        s = slot_for(a->slots, a->cap, key);
    }
    memcpy(s->key, key, KEY_ROLL);
    s->used = 1;
    a->n++;
    return s;
}

static void roll_key(uint8_t *k, uint32_t scope, uint32_t day, uint16_t fig, uint16_t dim)
{
    wm_put_u32(k, scope);
    wm_put_u32(k + 4, day);
    k[8] = (uint8_t)(fig >> 8), k[9] = (uint8_t)fig;
    k[10] = (uint8_t)(dim >> 8), k[11] = (uint8_t)dim;
}

static const struct {
    uint16_t fig, dims, base;
} slot_map[] = {
    {WM_FIG_ACTIVITY, 8, 0},             {WM_FIG_SERVICE_KIND, 8, 8},
    {WM_FIG_PARTICIPANTS, 1, 16},        {WM_FIG_VOLUNTEERS, 1, 17},
    {WM_FIG_HOURS_X100, 1, 18},          {WM_FIG_FESTIVAL, 1, 19},
    {WM_FIG_GRASSROOTS, 1, 20},          {WM_FIG_PUBLICITY, 8, 21},
    {WM_FIG_REGISTERED, 1, 29},          {WM_FIG_VERIFIED, 1, 30},
    {WM_FIG_RECRUITMENT, 1, 31},         {WM_FIG_FUNDING_FEN, 1, 32},
    {WM_FIG_PLAN_DUE, 1, 33},            {WM_FIG_PLAN_DONE, 1, 34},
    {WM_FIG_LATE, 1, 35},
};

/* The slot of (fig, dim) in a day's vector, or -1 (team figures; dims out
 * of range, which a future enum value would be: it counts nowhere). */
static int slot_of(uint16_t fig, uint16_t dim)
{
    for (size_t i = 0; i < sizeof slot_map / sizeof slot_map[0]; i++)
        if (slot_map[i].fig == fig)
            return dim < slot_map[i].dims ? slot_map[i].base + dim : -1;
    return -1;
}

/* The vector of (scope, day); the last two are remembered, as one record
 * adds several figures to the same two vectors. */
static slot_t *day_vector(wm_rollup_acc_t *a, int which, uint32_t scope, uint32_t day)
{
    uint8_t k[KEY_ROLL];
    roll_key(k, scope, day, 0, 0);
    slot_t *s = a->last[which];
    if (s && memcmp(s->key, k, KEY_ROLL) == 0)
        return s;
    s = acc_slot(a, k);
    a->last[which] = s;
    return s;
}

/* Adds delta to (fig, dim) on ymd, for the station and for all stations. */
static WM_MUST_CHECK wm_err_t add(wm_rollup_acc_t *a, uint32_t node, uint32_t ymd, wm_fig_t fig, uint16_t dim,
                    int64_t delta)
{
    if (delta == 0 || !wm_date_valid(ymd))
        return WM_OK;
    uint32_t day = (uint32_t)wm_date_to_days(ymd);
    if (fig == WM_FIG_TEAM_SERVICE) {
        /* Team numbers are per station: they do not add up across stations. */
        uint8_t k[KEY_ROLL];
        roll_key(k, node, day, (uint16_t)fig, dim);
        slot_t *s = acc_slot(a, k);
        if (!s)
            return WM_ENOMEM;
        s->v[0] += delta;
        return WM_OK;
    }
    int sl = slot_of((uint16_t)fig, dim);
    if (sl < 0)
        return WM_OK;
    slot_t *mine = day_vector(a, 0, node, day);
    if (!mine)
        return WM_ENOMEM;
    mine->v[sl] += delta;
    slot_t *all = day_vector(a, 1, 0, day); /* may grow the table: mine is done */
    if (!all)
        return WM_ENOMEM;
    all->v[sl] += delta;
    return WM_OK;
}

#define TRY(x)                                                                                \
    do {                                                                                      \
        wm_err_t e_ = (x);                                                                    \
        if (e_ != WM_OK)                                                                      \
            return e_;                                                                        \
    } while (0)

/* The local date of a capture time; records of a batch share the quarter
 * hour (every time zone offset is a multiple of it), so it is cached. */
static uint32_t local_date(wm_rollup_acc_t *a, int64_t unix_s)
{
    if (a->tz_date && unix_s / 900 == a->tz_hour)
        return a->tz_date;
    time_t tt = (time_t)unix_s;
    struct tm tm;
    localtime_r(&tt, &tm);
    a->tz_hour = unix_s / 900;
    a->tz_date = (uint32_t)((tm.tm_year + 1900) * 10000 + (tm.tm_mon + 1) * 100 + tm.tm_mday);
    return a->tz_date;
}

static WM_MUST_CHECK wm_err_t plan_put(wm_txn_t *t, uint32_t node, uint32_t epoch, uint64_t seq,
                         const uint32_t *due, const uint32_t *done, const uint8_t *voided)
{
    uint8_t k[KEY_LOG], v[9] = {0};
    wm_log_key(k, node, epoch, seq);
    MDB_val mk = {sizeof k, k}, mv;
    int rc = mdb_get(t->txn, t->s->plans, &mk, &mv);
    if (rc == 0 && mv.mv_size == sizeof v)
        memcpy(v, mv.mv_data, sizeof v);
    else if (rc != MDB_NOTFOUND)
        return wm_mdb_err(t->s, rc, "plan get");
    else if (!due)
        return WM_OK; /* completion or void of something that is not a plan */
    if (due)
        wm_put_u32(v, *due);
    if (done)
        wm_put_u32(v + 4, *done);
    if (voided)
        v[8] = *voided;
    mv = (MDB_val){sizeof v, v};
    return wm_mdb_err(t->s, mdb_put(t->txn, t->s->plans, &mk, &mv, 0), "plan put");
}

static uint16_t site_flags(const Wm__SiteChecklist *s)
{
    return (uint16_t)(s->plaque | s->rules << 1 | s->equipment << 2 | s->manager << 3 |
                      s->ledger << 4 | s->plan << 5 | s->theme << 6 | s->model_station << 7);
}

static WM_MUST_CHECK wm_err_t site_put(wm_txn_t *t, uint32_t node, const Wm__SiteChecklist *s)
{
    uint8_t k[4], v[6];
    wm_put_u32(k, node);
    MDB_val mk = {4, k}, mv;
    int rc = mdb_get(t->txn, t->s->sites, &mk, &mv);
    if (rc == 0 && mv.mv_size == 6 && wm_get_u32(mv.mv_data) > s->date)
        return WM_OK; /* we already hold a newer checklist */
    uint16_t f = site_flags(s);
    wm_put_u32(v, s->date);
    v[4] = (uint8_t)(f >> 8), v[5] = (uint8_t)f;
    mv = (MDB_val){6, v};
    return wm_mdb_err(t->s, mdb_put(t->txn, t->s->sites, &mk, &mv, 0), "site put");
}

/* The latest checklist of a node that no void names, found in its log. */
typedef struct {
    wm_txn_t *t;
    uint32_t node;
    int found;
    Wm__SiteChecklist best; /* date and flags only */
    wm_err_t err;
} site_scan_t;

static int site_scan_fn(void *ctx, uint32_t epoch, uint64_t seq, const wm_srec_t *v)
{
    site_scan_t *sc = ctx;
    wm_record_t *r = NULL;
    uint32_t by_e;
    uint64_t by_s;
    if (!v->bytes || wm_record_decode(v->bytes, v->len, &r) != WM_OK)
        return 0;
    if (r->body_case == WM__RECORD__BODY_SITE && (!sc->found || r->site->date >= sc->best.date)) {
        wm_err_t err = wm_ref_get(sc->t, sc->node, epoch, seq, 'v', &by_e, &by_s);
        if (err == WM_ENOTFOUND) { /* the later record wins a tie, as in site_put */
            sc->found = 1;
            sc->best = *r->site;
        } else if (err != WM_OK) {
            sc->err = err;
        }
    }
    wm_record_free(&r);
    return sc->err != WM_OK;
}

/* A checklist was voided. If it is the one held, the latest checklist that
 * is not voided takes its place, or none. The log is scanned for it: voids
 * of checklists are rare, and the void's own reference is already indexed,
 * so the voided checklist no longer qualifies. */
static WM_MUST_CHECK wm_err_t site_unput(wm_txn_t *t, uint32_t node, const Wm__SiteChecklist *s)
{
    uint32_t date;
    uint16_t flags;
    wm_err_t err = wm_rollup_site(t, node, &date, &flags);
    if (err == WM_ENOTFOUND || (err == WM_OK && (date != s->date || flags != site_flags(s))))
        return WM_OK; /* not the one held */
    if (err != WM_OK && err != WM_EDECODE)
        return err;
    site_scan_t sc = {.t = t, .node = node, .err = WM_OK};
    if ((err = wm_log_scan(t, node, 0, 0, site_scan_fn, &sc, NULL)) != WM_OK)
        return err;
    if (sc.err != WM_OK)
        return sc.err;
    if (sc.found) {
        uint8_t k[4], v[6];
        uint16_t f = site_flags(&sc.best);
        wm_put_u32(k, node);
        wm_put_u32(v, sc.best.date);
        v[4] = (uint8_t)(f >> 8), v[5] = (uint8_t)f;
        MDB_val mk = {4, k}, mv = {6, v};
        return wm_mdb_err(t->s, mdb_put(t->txn, t->s->sites, &mk, &mv, 0), "site put");
    }
    uint8_t k[4];
    wm_put_u32(k, node);
    MDB_val mk = {4, k};
    int rc = mdb_del(t->txn, t->s->sites, &mk, NULL);
    return rc == MDB_NOTFOUND ? WM_OK : wm_mdb_err(t->s, rc, "site del");
}

static int has_tag(const Wm__Activity *x, const char *tag)
{
    for (size_t i = 0; i < x->n_tags; i++)
        if (x->tags[i] && strcmp(x->tags[i], tag) == 0)
            return 1;
    return 0;
}

/* Whether activity r of date d was entered more than WM_LATE_DAYS after
 * d: judged by its capture time corrected by the clock error its station
 * knew when it wrote it (Record.clock_offset_s), so a wrong clock alone
 * makes no late entry. A capture time that is still before WM_CLOCK_FLOOR
 * says nothing of when it was entered: not judged. */
static int late_entry(wm_rollup_acc_t *a, const wm_record_t *r, uint32_t d)
{
    int64_t at = r->captured - r->clock_offset_s;
    return at >= WM_CLOCK_FLOOR &&
           wm_date_to_days(local_date(a, at)) - wm_date_to_days(d) > WM_LATE_DAYS;
}

/* What r adds to the counters, times sign (+1, or -1 when voided). */
static WM_MUST_CHECK wm_err_t contribute(wm_rollup_acc_t *a, wm_txn_t *t, uint32_t node, const wm_record_t *r,
                           int sign)
{
    switch (r->body_case) {
    case WM__RECORD__BODY_ACTIVITY: {
        const Wm__Activity *x = r->activity;
        uint32_t d = x->date;
        TRY(add(a, node, d, WM_FIG_ACTIVITY, (uint16_t)x->category, sign));
        if (x->category == WM__CATEGORY__VOLUNTEER_SERVICE) {
            TRY(add(a, node, d, WM_FIG_SERVICE_KIND, (uint16_t)x->service_kind, sign));
            /* Only a team that existed when the activity was recorded
             * counts it (the station enforces this; the count must not
             * depend on it), and so only then does a void subtract it. */
            wm_team_t tm;
            wm_err_t terr = x->team && x->team[0] ? wm_team_get(t, node, x->team, &tm)
                                                  : WM_ENOTFOUND;
            if (terr != WM_OK && terr != WM_ENOTFOUND)
                return terr;
            if (terr == WM_OK && (tm.created_epoch < r->epoch ||
                                  (tm.created_epoch == r->epoch && tm.created_seq < r->seq)))
                TRY(add(a, node, d, WM_FIG_TEAM_SERVICE, tm.no, sign));
        }
        TRY(add(a, node, d, WM_FIG_PARTICIPANTS, 0, sign * (int64_t)x->participants));
        TRY(add(a, node, d, WM_FIG_VOLUNTEERS, 0, sign * (int64_t)x->volunteers));
        TRY(add(a, node, d, WM_FIG_HOURS_X100, 0, sign * (int64_t)x->hours_x100));
        if (x->category == WM__CATEGORY__CULTURE_SPORTS && x->n_tags > 0)
            TRY(add(a, node, d, WM_FIG_FESTIVAL, 0, sign));
        if (has_tag(x, WM_TAG_GRASSROOTS))
            TRY(add(a, node, d, WM_FIG_GRASSROOTS, 0, sign));
        if (wm_date_valid(d) && late_entry(a, r, d))
            TRY(add(a, node, d, WM_FIG_LATE, 0, sign));
        return WM_OK;
    }
    case WM__RECORD__BODY_PUBLICITY:
        return add(a, node, r->publicity->date, WM_FIG_PUBLICITY, (uint16_t)r->publicity->channel,
                   sign * (int64_t)r->publicity->count);
    case WM__RECORD__BODY_VOLUNTEERS:
        TRY(add(a, node, r->volunteers->date, WM_FIG_REGISTERED, 0,
                sign * (int64_t)r->volunteers->registered));
        return add(a, node, r->volunteers->date, WM_FIG_VERIFIED, 0,
                   sign * (int64_t)r->volunteers->verified);
    case WM__RECORD__BODY_RECRUITMENT:
        return add(a, node, r->recruitment->date, WM_FIG_RECRUITMENT, 0,
                   sign * (int64_t)r->recruitment->count);
    case WM__RECORD__BODY_FUNDING:
        return add(a, node, r->funding->date, WM_FIG_FUNDING_FEN, 0,
                   sign * (int64_t)r->funding->fen);
    case WM__RECORD__BODY_PLAN: {
        uint8_t voided = sign < 0;
        TRY(add(a, node, r->plan->due, WM_FIG_PLAN_DUE, 0, sign));
        return plan_put(t, node, r->epoch, r->seq, &r->plan->due, NULL, &voided);
    }
    case WM__RECORD__BODY_PLAN_DONE: {
        uint32_t done = sign > 0 ? r->plan_done->date : 0;
        uint32_t pe = r->plan_done->plan_epoch ? r->plan_done->plan_epoch : r->epoch;
        TRY(add(a, node, r->plan_done->date, WM_FIG_PLAN_DONE, 0, sign));
        return plan_put(t, node, pe, r->plan_done->plan_seq, NULL, &done, NULL);
    }
    case WM__RECORD__BODY_SITE:
        return sign > 0 ? site_put(t, node, r->site) : site_unput(t, node, r->site);
    default:
        return WM_OK; /* teams feed the team index; unknown kinds count nowhere */
    }
}

wm_err_t wm_rollup_record(wm_rollup_acc_t *a, wm_txn_t *t, uint32_t node, const wm_record_t *r)
{
    if (r->body_case != WM__RECORD__BODY_VOID)
        return contribute(a, t, node, r, +1);
    const Wm__Void *v = r->void_;
    uint32_t te = v->target_epoch ? v->target_epoch : r->epoch, by_e = 0;
    uint64_t by_s = 0;
    /* Only the first void of a target subtracts it. */
    wm_err_t err = wm_ref_get(t, node, te, v->target_seq, 'v', &by_e, &by_s);
    if (err != WM_OK || by_e != r->epoch || by_s != r->seq)
        return err == WM_ENOTFOUND ? WM_OK : err;
    wm_srec_t tgt;
    wm_record_t *old = NULL;
    err = wm_log_get(t, node, te, v->target_seq, &tgt);
    if (err == WM_ENOTFOUND)
        return WM_OK; /* nothing there to subtract */
    if (err != WM_OK)
        return err;
    if (wm_record_decode(tgt.bytes, tgt.len, &old) != WM_OK)
        return WM_OK; /* nothing there to subtract */
    err = old->body_case == WM__RECORD__BODY_VOID ? WM_OK : contribute(a, t, node, old, -1);
    wm_record_free(&old);
    return err;
}

/* ---- stored layout: one vector of counters per (scope, day) ----
 *
 * Every figure but the per-team one has a fixed slot (slot_map), so a day
 * of a scope is one value and a batch touches each (scope, day) once:
 *
 *   key scope u32 | day u32              value WM_SLOTS × i64
 *   key scope u32 | day u32 | team u16   value i64  (WM_FIG_TEAM_SERVICE)
 */
static int key_cmp(const void *x, const void *y)
{
    return memcmp(((const slot_t *)x)->key, ((const slot_t *)y)->key, KEY_ROLL);
}

static WM_MUST_CHECK wm_err_t rmw_add(wm_txn_t *t, MDB_cursor *c, const uint8_t *key, size_t klen,
                        const int64_t *delta, size_t n)
{
    MDB_val k = {klen, (void *)key}, v;
    uint8_t vb[WM_SLOTS * 8];
    int rc = mdb_cursor_get(c, &k, &v, MDB_SET_KEY);
    if (rc == 0 && v.mv_size == n * 8)
        memcpy(vb, v.mv_data, n * 8);
    else if (rc == 0 || rc == MDB_NOTFOUND)
        memset(vb, 0, n * 8);
    else
        return wm_mdb_err(t->s, rc, "rollup get");
    for (size_t i = 0; i < n; i++)
        if (delta[i])
            wm_put_u64(vb + 8 * i, (uint64_t)((int64_t)wm_get_u64(vb + 8 * i) + delta[i]));
    k = (MDB_val){klen, (void *)key};
    v = (MDB_val){n * 8, vb};
    return wm_mdb_err(t->s, mdb_cursor_put(c, &k, &v, rc == 0 ? MDB_CURRENT : 0), "rollup put");
}

wm_err_t wm_rollup_flush(wm_rollup_acc_t *a, wm_txn_t *t)
{
    wm_err_t err = WM_OK;
    MDB_cursor *c = NULL;
    /* In key order, so the cursor moves forward through the tree. */
    size_t n = 0;
    for (size_t i = 0; i < a->cap; i++)
        if (a->slots[i].used)
            a->slots[n++] = a->slots[i];
    qsort(a->slots, n, sizeof *a->slots, key_cmp);
    int rc = mdb_cursor_open(t->txn, t->s->rollup, &c);
    if (rc)
        err = wm_mdb_err(t->s, rc, "rollup cursor");
    for (size_t i = 0; i < n && err == WM_OK; i++) {
        const uint8_t *k = a->slots[i].key;
        if (k[8] == 0 && k[9] == 0) { /* a day's vector */
            int any = 0;
            for (int sl = 0; sl < WM_SLOTS && !any; sl++)
                any = a->slots[i].v[sl] != 0;
            if (any)
                err = rmw_add(t, c, k, 8, a->slots[i].v, WM_SLOTS);
        } else if (a->slots[i].v[0]) { /* a team's day */
            uint8_t tk[10];
            memcpy(tk, k, 8);
            tk[8] = k[10], tk[9] = k[11];
            err = rmw_add(t, c, tk, sizeof tk, a->slots[i].v, 1);
        }
    }
    mdb_cursor_close(c);
    memset(a->slots, 0, a->cap * sizeof *a->slots);
    a->n = 0;
    a->last[0] = a->last[1] = NULL;
    return err;
}

static int cell_cmp(const void *x, const void *y)
{
    const wm_cell_t *a = x, *b = y;
    if (a->fig != b->fig)
        return a->fig < b->fig ? -1 : 1;
    return a->dim < b->dim ? -1 : a->dim > b->dim;
}

static WM_MUST_CHECK wm_err_t cells_add(wm_sums_t *out, uint16_t fig, uint16_t dim, int64_t value)
{
    if (out->n == out->cap) {
        size_t cap = out->cap ? 2 * out->cap : 64;
        wm_cell_t *c = realloc(out->cells, cap * sizeof *c);
        if (!c)
            return WM_ENOMEM;
        out->cells = c;
        out->cap = cap;
    }
    out->cells[out->n++] = (wm_cell_t){fig, dim, value};
    return WM_OK;
}

/* Scans the stored days of scope in [from, to]: vectors are summed into
 * vec, team values are passed to team_fn. */
static WM_MUST_CHECK wm_err_t scan_days(wm_txn_t *t, uint32_t scope, uint32_t from, uint32_t to,
                          int64_t vec[WM_SLOTS], void (*team_fn)(void *, uint32_t, uint16_t, int64_t),
                          void *ctx, void (*day_fn)(void *, uint32_t, const uint8_t *))
{
    uint8_t kb[8];
    uint32_t d0 = (uint32_t)wm_date_to_days(from), d1 = (uint32_t)wm_date_to_days(to);
    wm_put_u32(kb, scope);
    wm_put_u32(kb + 4, d0);
    MDB_cursor *c = NULL;
    MDB_val k = {8, kb}, v;
    uint32_t last = 0; /* the last day read, for the message of a failed scan */
    int rc = mdb_cursor_open(t->txn, t->s->rollup, &c);
    if (rc)
        return wm_mdb_err(t->s, rc, "rollup cursor");
    for (rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE); rc == 0;
         rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
        const uint8_t *p = k.mv_data;
        if (k.mv_size < 8 || wm_get_u32(p) != scope || wm_get_u32(p + 4) > d1)
            break;
        last = wm_get_u32(p + 4);
        if (k.mv_size == 8 && v.mv_size == WM_SLOTS * 8) {
            if (vec)
                for (int i = 0; i < WM_SLOTS; i++)
                    vec[i] += (int64_t)wm_get_u64((const uint8_t *)v.mv_data + 8 * i);
            if (day_fn)
                day_fn(ctx, wm_get_u32(p + 4), v.mv_data);
        } else if (k.mv_size == 10 && v.mv_size == 8 && team_fn) {
            team_fn(ctx, wm_get_u32(p + 4), (uint16_t)(p[8] << 8 | p[9]),
                    (int64_t)wm_get_u64(v.mv_data));
        }
    }
    mdb_cursor_close(c);
    if (rc == 0 || rc == MDB_NOTFOUND)
        return WM_OK;
    char what[64], day[11];
    wm_date_format(wm_date_from_days((int32_t)(last ? last : d0)), day);
    snprintf(what, sizeof what, "rollup counters, %s %s", last ? "after" : "from", day);
    return wm_mdb_err(t->s, rc, what);
}

static void team_sum(void *ctx, uint32_t day, uint16_t team, int64_t value)
{
    (void)day;
    uint8_t k[KEY_ROLL] = {0};
    k[8] = (uint8_t)(WM_FIG_TEAM_SERVICE >> 8), k[9] = (uint8_t)WM_FIG_TEAM_SERVICE;
    k[10] = (uint8_t)(team >> 8), k[11] = (uint8_t)team;
    slot_t *s = acc_slot(ctx, k);
    if (s)
        s->v[0] += value;
}

wm_err_t wm_rollup_sum(wm_txn_t *t, uint32_t scope, uint32_t from, uint32_t to, wm_sums_t *out)
{
    wm_rollup_acc_t *teams = NULL;
    int64_t vec[WM_SLOTS] = {0};
    memset(out, 0, sizeof *out);
    TRY(wm_rollup_acc_new(&teams));
    wm_err_t err = scan_days(t, scope, from, to, vec, team_sum, teams, NULL);
    for (size_t m = 0; err == WM_OK && m < sizeof slot_map / sizeof slot_map[0]; m++)
        for (uint16_t d = 0; d < slot_map[m].dims && err == WM_OK; d++)
            if (vec[slot_map[m].base + d])
                err = cells_add(out, slot_map[m].fig, d, vec[slot_map[m].base + d]);
    for (size_t i = 0; err == WM_OK && i < teams->cap; i++)
        if (teams->slots[i].used && teams->slots[i].v[0])
            err = cells_add(out, WM_FIG_TEAM_SERVICE,
                            (uint16_t)(teams->slots[i].key[10] << 8 | teams->slots[i].key[11]),
                            teams->slots[i].v[0]);
    wm_rollup_acc_free(&teams);
    if (err == WM_OK && out->n)
        qsort(out->cells, out->n, sizeof *out->cells, cell_cmp);
    if (err != WM_OK)
        wm_sums_free(out);
    return err;
}

int64_t wm_sums_get(const wm_sums_t *s, wm_fig_t fig, uint16_t dim)
{
    wm_cell_t key = {(uint16_t)fig, dim, 0};
    const wm_cell_t *c = s->n ? bsearch(&key, s->cells, s->n, sizeof key, cell_cmp) : NULL;
    return c ? c->value : 0;
}

int64_t wm_sums_total(const wm_sums_t *s, wm_fig_t fig)
{
    int64_t sum = 0;
    for (size_t i = 0; i < s->n; i++)
        if (s->cells[i].fig == fig)
            sum += s->cells[i].value;
    return sum;
}

void wm_sums_free(wm_sums_t *s)
{
    free(s->cells);
    memset(s, 0, sizeof *s);
}

typedef struct {
    wm_fig_t fig;
    uint16_t dim;
    int slot;
    wm_day_fn fn;
    void *ctx;
} days_ctx_t;

static void day_vec(void *ctx, uint32_t day, const uint8_t *vec)
{
    days_ctx_t *dc = ctx;
    int64_t x = (int64_t)wm_get_u64(vec + 8 * dc->slot);
    if (x)
        dc->fn(dc->ctx, wm_date_from_days((int32_t)day), x);
}

static void day_team(void *ctx, uint32_t day, uint16_t team, int64_t value)
{
    days_ctx_t *dc = ctx;
    if (team == dc->dim && value)
        dc->fn(dc->ctx, wm_date_from_days((int32_t)day), value);
}

wm_err_t wm_rollup_days(wm_txn_t *t, uint32_t scope, uint32_t from, uint32_t to, wm_fig_t fig,
                        uint16_t dim, wm_day_fn fn, void *ctx)
{
    days_ctx_t dc = {fig, dim, slot_of((uint16_t)fig, dim), fn, ctx};
    if (fig == WM_FIG_TEAM_SERVICE)
        return scan_days(t, scope, from, to, NULL, day_team, &dc, NULL);
    if (dc.slot < 0)
        return WM_OK;
    return scan_days(t, scope, from, to, NULL, NULL, &dc, day_vec);
}

wm_err_t wm_rollup_plans(wm_txn_t *t, uint32_t node, uint32_t from, uint32_t to, uint32_t asof,
                         wm_plans_t *out)
{
    memset(out, 0, sizeof *out);
    MDB_cursor *c = NULL;
    uint8_t kb[KEY_LOG];
    wm_log_key(kb, node, 0, 0);
    MDB_val k = {node ? KEY_LOG : 0, kb}, v;
    int rc = mdb_cursor_open(t->txn, t->s->plans, &c);
    if (rc)
        return wm_mdb_err(t->s, rc, "plans cursor");
    for (rc = mdb_cursor_get(c, &k, &v, node ? MDB_SET_RANGE : MDB_FIRST); rc == 0;
         rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
        if (node && wm_get_u32(k.mv_data) != node)
            break;
        if (v.mv_size != 9 || ((const uint8_t *)v.mv_data)[8])
            continue; /* voided */
        uint32_t due = wm_get_u32(v.mv_data), done = wm_get_u32((const uint8_t *)v.mv_data + 4);
        if (due >= from && due <= to)
            out->due++;
        if (done && done >= from && done <= to)
            out->done++;
        if (due < asof && (!done || done > asof))
            out->overdue++;
    }
    mdb_cursor_close(c);
    return rc == 0 || rc == MDB_NOTFOUND ? WM_OK : wm_mdb_err(t->s, rc, "plans scan");
}

wm_err_t wm_rollup_site(wm_txn_t *t, uint32_t node, uint32_t *date, uint16_t *flags)
{
    uint8_t k[4];
    wm_put_u32(k, node);
    MDB_val mk = {4, k}, mv;
    wm_err_t err = wm_mdb_err(t->s, mdb_get(t->txn, t->s->sites, &mk, &mv), "site get");
    if (err != WM_OK)
        return err;
    if (mv.mv_size != 6)
        return WM_EDECODE;
    *date = wm_get_u32(mv.mv_data);
    *flags = (uint16_t)(((const uint8_t *)mv.mv_data)[4] << 8 | ((const uint8_t *)mv.mv_data)[5]);
    return WM_OK;
}
