/* SPDX-License-Identifier: MIT */
/* wm_evidcheck — evidence problems of a period; see wm_evidcheck.h. */
#include "wm_evidcheck.h"

#include <stdlib.h>
#include <string.h>

#include "wm_crypto.h"
#include "wm_record.h"

/* One photo of one activity. */
typedef struct {
    uint32_t st;       /* index into the stations */
    uint32_t epoch;
    uint64_t seq;
    uint32_t date;     /* the activity's, YYYYMMDD */
    int64_t taken_at;  /* 0: undated */
    uint64_t dhash;
    uint8_t hash[WM_HASH_BYTES];
} photo_t;

/* An activity of the period without a photo: a finding only if it is
 * dated on or after its station's start (known once the log is read). */
typedef struct {
    uint32_t st, date;
} bare_t;

typedef struct {
    wm_txn_t *t;
    const wm_period_t *p;
    uint32_t st, node;
    photo_t *v;
    size_t n, cap;
    bare_t *bare;
    size_t nbare, capbare;
    uint32_t *first;              /* per station: its first activity with a photo, 0 none */
    uint64_t *no_photo, *undated; /* per station, activities in the period */
    wm_err_t err;
} scan_t;

static int in_period(const scan_t *c, uint32_t date)
{
    return date >= c->p->from && date <= c->p->to;
}

static int add_photo(scan_t *c, const photo_t *ph)
{
    if (c->n == c->cap) {
        size_t cap = c->cap ? 2 * c->cap : 64;
        photo_t *v = realloc(c->v, cap * sizeof *v);
        if (!v)
            return 0;
        c->v = v, c->cap = cap;
    }
    c->v[c->n++] = *ph;
    return 1;
}

static int add_bare(scan_t *c, uint32_t date)
{
    if (c->nbare == c->capbare) {
        size_t cap = c->capbare ? 2 * c->capbare : 64;
        bare_t *v = realloc(c->bare, cap * sizeof *v);
        if (!v)
            return 0;
        c->bare = v, c->capbare = cap;
    }
    c->bare[c->nbare++] = (bare_t){c->st, date};
    return 1;
}

/* One record of a station's log: an activity not voided gives its photos
 * (up to the period's end) and the date its station's photos start (any
 * date). */
static int scan_one(void *ctx, uint32_t epoch, uint64_t seq, const wm_srec_t *v)
{
    scan_t *c = ctx;
    wm_record_t *r = NULL;
    uint32_t be;
    uint64_t bs;
    if (wm_record_decode(v->bytes, v->len, &r) != WM_OK)
        return 0; /* counted nowhere, as in the figures */
    const Wm__Activity *a = r->body_case == WM__RECORD__BODY_ACTIVITY ? r->activity : NULL;
    if (!a)
        goto out;
    wm_err_t err = wm_ref_get(c->t, c->node, epoch, seq, 'v', &be, &bs);
    if (err == WM_OK)
        goto out; /* voided */
    if (err != WM_ENOTFOUND) {
        c->err = err;
        wm_record_free(&r);
        return 1;
    }
    size_t photos = 0;
    for (size_t i = 0; i < a->n_attachments; i++) {
        const Wm__Attachment *x = a->attachments[i];
        if (x->role != WM__ATTACHMENT_ROLE__PHOTO || x->hash.len != WM_HASH_BYTES)
            continue;
        if (!c->first[c->st] || a->date < c->first[c->st])
            c->first[c->st] = a->date;
        if (a->date > c->p->to)
            continue;
        photo_t ph = {.st = c->st, .epoch = epoch, .seq = seq, .date = a->date,
                      .taken_at = x->taken_at, .dhash = x->dhash};
        memcpy(ph.hash, x->hash.data, WM_HASH_BYTES);
        if (!add_photo(c, &ph)) {
            c->err = WM_ENOMEM;
            wm_record_free(&r);
            return 1;
        }
        photos++;
        if (in_period(c, a->date) && x->taken_at == 0)
            c->undated[c->st]++;
    }
    if (in_period(c, a->date) && photos == 0 && !add_bare(c, a->date)) {
        c->err = WM_ENOMEM;
        wm_record_free(&r);
        return 1;
    }
out:
    wm_record_free(&r);
    return 0;
}

static json_t *activity_json(const wm_evid_station_t *v, const photo_t *ph)
{
    char d[11];
    return json_pack("{s:s, s:I, s:I, s:s}", "station", v[ph->st].id, "epoch",
                     (json_int_t)ph->epoch, "seq", (json_int_t)ph->seq, "date",
                     wm_date_format(ph->date, d));
}

static int same_activity(const photo_t *a, const photo_t *b)
{
    return a->st == b->st && a->epoch == b->epoch && a->seq == b->seq;
}

/* activity_without_photo: the activities of the period without a photo
 * dated on or after their station's start (from, if set, else the date of
 * the station's first activity with a photo; a station that never showed
 * one has none), one problem per station, with the start it used. */
static void without_photo(const wm_evid_station_t *v, size_t n, scan_t *c, uint32_t from,
                          json_t *problems)
{
    char d[11];
    for (size_t i = 0; i < c->nbare; i++) {
        uint32_t start = from ? from : c->first[c->bare[i].st];
        if (start && c->bare[i].date >= start)
            c->no_photo[c->bare[i].st]++;
    }
    for (size_t i = 0; i < n; i++)
        if (c->no_photo[i])
            json_array_append_new(
                problems, json_pack("{s:s, s:s, s:I, s:s}", "kind", "activity_without_photo",
                                    "station", v[i].id, "count", (json_int_t)c->no_photo[i],
                                    "from", wm_date_format(from ? from : c->first[i], d)));
}

/* Counted findings, one problem per station. */
static void per_station(const wm_evid_station_t *v, size_t n, const uint64_t *count,
                        const char *kind, json_t *problems)
{
    for (size_t i = 0; i < n; i++)
        if (count[i])
            json_array_append_new(problems, json_pack("{s:s, s:s, s:I}", "kind", kind, "station",
                                                      v[i].id, "count", (json_int_t)count[i]));
}

/* Capture dates further than tol days from the activity's. */
static void date_mismatch(const wm_evid_station_t *v, const scan_t *c, unsigned tol,
                          json_t *problems)
{
    char hex[2 * WM_HASH_BYTES + 1], d[11], k[11];
    for (size_t i = 0; i < c->n; i++) {
        const photo_t *ph = &c->v[i];
        if (!in_period(c, ph->date) || ph->taken_at == 0)
            continue;
        int64_t day = (ph->taken_at + WM_EVID_CST_S) / 86400 -
                      (ph->taken_at + WM_EVID_CST_S < 0 && (ph->taken_at + WM_EVID_CST_S) % 86400);
        int64_t diff = day - wm_date_to_days(ph->date);
        if (llabs(diff) <= (long long)tol || day < INT32_MIN || day > INT32_MAX)
            continue;
        json_array_append_new(
            problems,
            json_pack("{s:s, s:s, s:I, s:I, s:s, s:s, s:I, s:s}", "kind", "photo_date_mismatch",
                      "station", v[ph->st].id, "epoch", (json_int_t)ph->epoch, "seq",
                      (json_int_t)ph->seq, "date", wm_date_format(ph->date, d), "taken",
                      wm_date_format(wm_date_from_days((int32_t)day), k), "days_off",
                      (json_int_t)diff, "hash", wm_hex(ph->hash, WM_HASH_BYTES, hex)));
    }
}

/* By file, then by date: a file's first photo is its earliest use. */
static int by_hash(const void *a, const void *b)
{
    const photo_t *x = a, *y = b;
    int c = memcmp(x->hash, y->hash, WM_HASH_BYTES);
    if (c)
        return c;
    if (x->date != y->date)
        return x->date < y->date ? -1 : 1;
    if (x->st != y->st)
        return x->st < y->st ? -1 : 1;
    if (x->epoch != y->epoch)
        return x->epoch < y->epoch ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* One file on more than one activity (c->v sorted by hash). */
static void reused(const wm_evid_station_t *v, const scan_t *c, json_t *problems)
{
    char hex[2 * WM_HASH_BYTES + 1];
    for (size_t i = 0, j; i < c->n; i = j) {
        int any_in = 0, across = 0;
        for (j = i; j < c->n && !memcmp(c->v[j].hash, c->v[i].hash, WM_HASH_BYTES); j++) {
            any_in |= in_period(c, c->v[j].date);
            across |= c->v[j].st != c->v[i].st;
        }
        if (j - i < 2 || !any_in)
            continue;
        json_t *acts = json_array();
        for (size_t k = i; k < j; k++)
            json_array_append_new(acts, activity_json(v, &c->v[k]));
        json_array_append_new(problems,
                              json_pack("{s:s, s:s, s:s, s:o, s:b}", "kind", "photo_reused",
                                        "station", v[c->v[i].st].id, "hash",
                                        wm_hex(c->v[i].hash, WM_HASH_BYTES, hex), "activities",
                                        acts, "across", across));
    }
}

/* Two different files, nearly the same picture, on different activities.
 * A file stands for itself by its earliest use (c->v sorted by hash, then
 * date); a pair is listed once, if either file is used in the period. The
 * outer loop runs over the files used in the period only: a town's month
 * (a few thousand photos) against everything it holds, not all pairs. */
static int near_dups(const wm_evid_station_t *v, const scan_t *c, json_t *problems)
{
    char hex[2 * WM_HASH_BYTES + 1], hex2[2 * WM_HASH_BYTES + 1];
    size_t *rep = malloc((c->n + 1) * sizeof *rep), nrep = 0;
    uint8_t *inp = malloc(c->n + 1);
    if (!rep || !inp) {
        free(rep);
        free(inp);
        return 0;
    }
    for (size_t i = 0; i < c->n; i++) {
        if (i == 0 || memcmp(c->v[i - 1].hash, c->v[i].hash, WM_HASH_BYTES))
            rep[nrep] = i, inp[nrep++] = 0;
        inp[nrep - 1] |= (uint8_t)in_period(c, c->v[i].date);
    }
    for (size_t x = 0; x < nrep; x++) {
        if (!inp[x] || !c->v[rep[x]].dhash)
            continue;
        for (size_t y = 0; y < nrep; y++) {
            const photo_t *a = &c->v[rep[x]], *b = &c->v[rep[y]];
            if (y == x || (inp[y] && y < x) || !b->dhash || same_activity(a, b))
                continue; /* a pair of two files of the period: once, at the lower x */
            int d = __builtin_popcountll(a->dhash ^ b->dhash);
            if (d > WM_EVID_NEAR)
                continue;
            if (b->date < a->date) { /* the earlier use first, as for a reused file */
                const photo_t *tmp = a;
                a = b, b = tmp;
            }
            json_t *acts = json_pack("[o, o]", activity_json(v, a), activity_json(v, b));
            json_array_append_new(
                problems, json_pack("{s:s, s:s, s:s, s:s, s:i, s:o, s:b}", "kind",
                                    "photo_near_duplicate", "station", v[a->st].id, "hash",
                                    wm_hex(a->hash, WM_HASH_BYTES, hex), "other",
                                    wm_hex(b->hash, WM_HASH_BYTES, hex2), "distance", d,
                                    "activities", acts, "across", a->st != b->st));
        }
    }
    free(rep);
    free(inp);
    return 1;
}

wm_err_t wm_evid_problems(wm_txn_t *t, const wm_evid_station_t *v, size_t n,
                          const wm_period_t *p, unsigned tol_days, uint32_t photos_from,
                          json_t *problems, const char **bad_id)
{
    scan_t c = {.t = t, .p = p, .err = WM_OK};
    wm_err_t err = WM_OK;
    c.no_photo = calloc(n + 1, sizeof *c.no_photo);
    c.undated = calloc(n + 1, sizeof *c.undated);
    c.first = calloc(n + 1, sizeof *c.first);
    if (!c.no_photo || !c.undated || !c.first) {
        err = WM_ENOMEM;
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        if (!v[i].node)
            continue;
        c.st = (uint32_t)i, c.node = v[i].node;
        err = wm_log_scan(t, v[i].node, 0, 0, scan_one, &c, NULL);
        if (err == WM_OK)
            err = c.err;
        if (err != WM_OK) {
            *bad_id = v[i].id;
            goto out;
        }
    }
    without_photo(v, n, &c, photos_from, problems);
    per_station(v, n, c.undated, "photo_undated", problems);
    date_mismatch(v, &c, tol_days, problems);
    if (c.n)
        qsort(c.v, c.n, sizeof *c.v, by_hash);
    reused(v, &c, problems);
    if (!near_dups(v, &c, problems))
        err = WM_ENOMEM;
out:
    free(c.v);
    free(c.bare);
    free(c.first);
    free(c.no_photo);
    free(c.undated);
    return err;
}
