/* SPDX-License-Identifier: MIT */
/* wm_orders — the service-order state machine as a fold over records; see wm_orders.h. */
#include "wm_orders.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

wm_order_t *wm_orders_find(const wm_orders_t *o, const char *log, uint32_t epoch, uint64_t seq)
{
    for (size_t i = 0; i < o->n; i++) {
        wm_order_t *x = &o->v[i];
        if (x->seq == seq && x->epoch == epoch && strcmp(x->log, log) == 0)
            return x;
    }
    return NULL;
}

wm_need_t *wm_needs_find(const wm_orders_t *o, const char *log, uint32_t epoch, uint64_t seq)
{
    for (size_t i = 0; i < o->n_needs; i++) {
        wm_need_t *x = &o->needs[i];
        if (x->seq == seq && x->epoch == epoch && strcmp(x->log, log) == 0)
            return x;
    }
    return NULL;
}

static void copy(char *dst, size_t cap, const char *src)
{
    snprintf(dst, cap, "%s", src ? src : "");
}

/* Room for one more of size bytes in *v: WM_OK or WM_ENOMEM (unchanged). */
static WM_MUST_CHECK wm_err_t grow(void **v, size_t *cap, size_t n, size_t size)
{
    if (n < *cap)
        return WM_OK;
    size_t c = *cap ? 2 * *cap : 16;
    void *p = realloc(*v, c * size);
    if (!p)
        return WM_ENOMEM;
    *v = p, *cap = c;
    return WM_OK;
}

static WM_MUST_CHECK wm_err_t need_add(wm_orders_t *o, const wm_record_t *r)
{
    if (wm_needs_find(o, r->station, r->epoch, r->seq))
        return WM_OK; /* applied before */
    if (grow((void **)&o->needs, &o->cap_needs, o->n_needs, sizeof *o->needs) != WM_OK)
        return WM_ENOMEM;
    wm_need_t *x = &o->needs[o->n_needs++];
    memset(x, 0, sizeof *x);
    copy(x->log, sizeof x->log, r->station);
    x->epoch = r->epoch, x->seq = r->seq;
    copy(x->title, sizeof x->title, r->need->title);
    x->date = r->need->date, x->state = WM_NEED_PENDING;
    o->changes++;
    return WM_OK;
}

static void need_review(wm_orders_t *o, const wm_record_t *r)
{
    const Wm__NeedReview *v = r->need_review;
    wm_need_t *x = wm_needs_find(o, v->need_station, v->need_epoch, v->need_seq);
    if (!x || x->state != WM_NEED_PENDING || strcmp(x->log, r->station) == 0)
        return;
    x->state = v->accept ? WM_NEED_ACCEPTED : WM_NEED_REJECTED;
    x->reviewed = v->date;
    o->changes++;
}

const char *wm_need_state(const wm_need_t *need)
{
    return need->state == WM_NEED_ACCEPTED   ? "accepted"
           : need->state == WM_NEED_REJECTED ? "rejected"
                                             : "pending";
}

static WM_MUST_CHECK wm_err_t create(wm_orders_t *o, const wm_record_t *r)
{
    const Wm__ServiceOrder *s = r->service_order;
    if (wm_orders_find(o, r->station, r->epoch, r->seq))
        return WM_OK; /* applied before */
    if (grow((void **)&o->v, &o->cap, o->n, sizeof *o->v) != WM_OK)
        return WM_ENOMEM;
    wm_order_t *x = &o->v[o->n++];
    memset(x, 0, sizeof *x);
    copy(x->log, sizeof x->log, r->station);
    x->epoch = r->epoch, x->seq = r->seq;
    copy(x->title, sizeof x->title, s->title);
    x->date = s->date, x->due = s->due;
    copy(x->to, sizeof x->to, s->to_station);
    copy(x->from, sizeof x->from, s->from_order);
    for (size_t i = 0; i < s->n_needs && x->n_needs < WM_NEEDS_MAX; i++) {
        uint32_t e;
        uint64_t q;
        if (wm_order_id_parse(s->needs[i], x->need_log[x->n_needs], &e, &q) == WM_OK)
            x->n_needs++;
    }
    x->state = WM_ORDER_DISPATCHED;
    o->changes++;
    return WM_OK;
}

static int open_step(const wm_order_t *x)
{
    return x->state == WM_ORDER_DISPATCHED || x->state == WM_ORDER_ACCEPTED;
}

static void accept(wm_order_t *x, const char *station, uint32_t date)
{
    if (x->state != WM_ORDER_DISPATCHED || (x->to[0] && strcmp(x->to, station) != 0))
        return; /* taken already, or not addressed to this station */
    copy(x->station, sizeof x->station, station);
    x->state = WM_ORDER_ACCEPTED, x->accepted = date;
}

/* The aggregator's word (assigned, completed, cancel): only from the
 * order's own log, only while the order is open. */
static void agg_step(wm_order_t *x, const wm_record_t *r)
{
    if (strcmp(r->station, x->log) != 0 || !open_step(x))
        return;
    if (r->body_case == WM__RECORD__BODY_ORDER_CANCEL) {
        x->state = WM_ORDER_CANCELLED, x->cancelled = r->order_cancel->date;
    } else if (r->body_case == WM__RECORD__BODY_ORDER_ASSIGNED) {
        copy(x->station, sizeof x->station, r->order_assigned->station);
        x->state = WM_ORDER_ACCEPTED, x->accepted = r->order_assigned->date;
    } else {
        copy(x->station, sizeof x->station, r->order_completed->station);
        if (!x->accepted)
            x->accepted = r->order_completed->date;
        x->state = WM_ORDER_DONE, x->done = r->order_completed->date;
    }
}

/* Whether station's rating counts: the order answers a need it raised,
 * or, answering none, it took the order. */
static int may_rate(const wm_order_t *x, const char *station)
{
    if (x->n_needs == 0)
        return strcmp(x->station, station) == 0;
    for (uint32_t i = 0; i < x->n_needs; i++)
        if (strcmp(x->need_log[i], station) == 0)
            return 1;
    return 0;
}

static void station_step(wm_order_t *x, const wm_record_t *r)
{
    switch (r->body_case) {
    case WM__RECORD__BODY_ORDER_ACCEPT:
        accept(x, r->station, r->order_accept->date);
        break;
    case WM__RECORD__BODY_ORDER_DONE:
        if (x->state == WM_ORDER_ACCEPTED && strcmp(x->station, r->station) == 0)
            x->state = WM_ORDER_DONE, x->done = r->order_done->date;
        break;
    case WM__RECORD__BODY_RATING:
        if (x->state == WM_ORDER_DONE && may_rate(x, r->station)) {
            x->state = WM_ORDER_RATED, x->rated = r->rating->date;
            x->score = (uint32_t)r->rating->score;
        }
        break;
    default:
        agg_step(x, r);
    }
}

int wm_orders_step_ref(const wm_record_t *r, const char **log, uint32_t *epoch, uint64_t *seq)
{
#define REF(m) (*log = r->m->order_station, *epoch = r->m->order_epoch, *seq = r->m->order_seq, 1)
    switch (r->body_case) {
    case WM__RECORD__BODY_ORDER_ACCEPT: return REF(order_accept);
    case WM__RECORD__BODY_ORDER_DONE: return REF(order_done);
    case WM__RECORD__BODY_RATING: return REF(rating);
    case WM__RECORD__BODY_ORDER_CANCEL: return REF(order_cancel);
    case WM__RECORD__BODY_ORDER_ASSIGNED: return REF(order_assigned);
    case WM__RECORD__BODY_ORDER_COMPLETED: return REF(order_completed);
    default: return 0;
    }
#undef REF
}

/* The order a step names, or NULL. */
static wm_order_t *step_order(const wm_orders_t *o, const wm_record_t *r)
{
    const char *log = NULL;
    uint32_t epoch = 0;
    uint64_t seq = 0;
    return wm_orders_step_ref(r, &log, &epoch, &seq) ? wm_orders_find(o, log, epoch, seq) : NULL;
}

wm_err_t wm_orders_apply(wm_orders_t *o, const wm_record_t *r)
{
    if (!r->station)
        return WM_OK;
    if (r->body_case == WM__RECORD__BODY_SERVICE_ORDER)
        return create(o, r);
    if (r->body_case == WM__RECORD__BODY_NEED)
        return need_add(o, r);
    if (r->body_case == WM__RECORD__BODY_NEED_REVIEW) {
        need_review(o, r);
        return WM_OK;
    }
    wm_order_t *x = step_order(o, r);
    if (x) {
        wm_order_t before = *x;
        station_step(x, r);
        o->changes += memcmp(&before, x, sizeof before) != 0;
    }
    return WM_OK;
}

const char *wm_order_state(const wm_order_t *ord, uint32_t asof)
{
    static const char *const names[] = {"", "dispatched", "accepted", "done", "rated",
                                        "cancelled"};
    if (open_step(ord) && ord->due < asof)
        return "overdue";
    return names[ord->state];
}

const char *wm_order_state_for(const wm_order_t *ord, uint32_t asof, const char *viewer)
{
    int other = ord->station[0] && strcmp(ord->station, viewer) != 0 &&
                strcmp(ord->log, viewer) != 0 && ord->state != WM_ORDER_CANCELLED;
    for (uint32_t i = 0; other && i < ord->n_needs; i++)
        other = strcmp(ord->need_log[i], viewer) != 0;
    return other ? "taken" : wm_order_state(ord, asof);
}

char *wm_order_id(const char *log, uint32_t epoch, uint64_t seq, char *buf)
{
    snprintf(buf, WM_ORDER_ID_MAX, "%s:%" PRIu32 ":%" PRIu64, log, epoch, seq);
    return buf;
}

/* A decimal number of at most max, digits only. */
static int number(const char *s, size_t n, uint64_t max, uint64_t *out)
{
    uint64_t v = 0;
    if (n == 0 || n > 20)
        return 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9' || v > (UINT64_MAX - (uint64_t)(s[i] - '0')) / 10)
            return 0;
        v = v * 10 + (uint64_t)(s[i] - '0');
    }
    *out = v;
    return v <= max;
}

wm_err_t wm_order_id_parse(const char *id, char log[WM_ID_MAX + 1], uint32_t *epoch,
                           uint64_t *seq)
{
    const char *b = strrchr(id, ':');
    const char *a = b ? memrchr(id, ':', (size_t)(b - id)) : NULL;
    uint64_t e = 0, s = 0;
    if (!a || (size_t)(a - id) > WM_ID_MAX || !number(a + 1, (size_t)(b - a - 1), UINT32_MAX, &e) ||
        !number(b + 1, strlen(b + 1), UINT64_MAX, &s) || s == 0)
        return WM_EINVAL;
    memcpy(log, id, (size_t)(a - id));
    log[a - id] = 0;
    if (wm_validate_id(log) != WM_OK)
        return WM_EINVAL;
    *epoch = (uint32_t)e, *seq = s;
    return WM_OK;
}

void wm_orders_free(wm_orders_t *o)
{
    free(o->v);
    free(o->needs);
    *o = (wm_orders_t)WM_ORDERS_INIT;
}

int wm_orders_kind(const wm_record_t *r)
{
    return r->body_case >= WM__RECORD__BODY_NEED && r->body_case <= WM__RECORD__BODY_ORDER_COMPLETED;
}

/* The step's date and its rank among steps of one day (wm_orders_sort). */
static uint32_t step_key(const wm_record_t *r, int *rank)
{
#define K(m, k) (*rank = (k), r->m->date)
    switch (r->body_case) {
    case WM__RECORD__BODY_NEED: return K(need, 0);
    case WM__RECORD__BODY_SERVICE_ORDER: return K(service_order, 0);
    case WM__RECORD__BODY_NEED_REVIEW: return K(need_review, 1);
    case WM__RECORD__BODY_ORDER_ASSIGNED: return K(order_assigned, 2);
    case WM__RECORD__BODY_ORDER_ACCEPT: return K(order_accept, 3);
    case WM__RECORD__BODY_ORDER_DONE: return K(order_done, 4);
    case WM__RECORD__BODY_ORDER_COMPLETED: return K(order_completed, 4);
    case WM__RECORD__BODY_RATING: return K(rating, 5);
    case WM__RECORD__BODY_ORDER_CANCEL: return K(order_cancel, 6);
    default: return *rank = 7, 0; /* notices and other kinds: no step */
    }
#undef K
}

static int cmp_step(const void *pa, const void *pb)
{
    const wm_record_t *a = *(wm_record_t *const *)pa, *b = *(wm_record_t *const *)pb;
    int ra = 0, rb = 0;
    uint32_t da = step_key(a, &ra), db = step_key(b, &rb);
    if (da != db)
        return da < db ? -1 : 1;
    if (ra != rb)
        return ra < rb ? -1 : 1;
    int c = strcmp(a->station ? a->station : "", b->station ? b->station : "");
    if (c)
        return c;
    if (a->epoch != b->epoch)
        return a->epoch < b->epoch ? -1 : 1;
    return a->seq < b->seq ? -1 : a->seq > b->seq;
}

void wm_orders_sort(wm_record_t **v, size_t n)
{
    if (n > 1) /* qsort's array may not be NULL, even empty */
        qsort(v, n, sizeof *v, cmp_step);
}

wm_err_t wm_orders_apply_all(wm_orders_t *o, wm_record_t **v, size_t n)
{
    uint64_t before;
    wm_orders_sort(v, n);
    do {
        before = o->changes;
        for (size_t i = 0; i < n; i++)
            if (wm_orders_apply(o, v[i]) != WM_OK)
                return WM_ENOMEM;
    } while (o->changes != before); /* ends: states only move forward */
    return WM_OK;
}

/* The decision on an acceptance by station of order x. */
static wm_decide_t decide_accept(const wm_order_t *x, const char *station, const char **why)
{
    if (x->state == WM_ORDER_CANCELLED)
        return *why = "order cancelled", WM_DECIDE_NONE;
    if (x->to[0] && strcmp(x->to, station) != 0)
        return *why = "order addressed to another station", WM_DECIDE_NONE;
    if (x->state == WM_ORDER_DISPATCHED)
        return WM_DECIDE_ASSIGN;
    if (strcmp(x->station, station) == 0)
        return WM_DECIDE_NONE; /* it is this station's already */
    return *why = "order taken by another station", WM_DECIDE_NONE;
}

/* The decision on a completion by station of order x. */
static wm_decide_t decide_done(const wm_order_t *x, const char *station, const char **why)
{
    if (x->state == WM_ORDER_CANCELLED)
        return *why = "order cancelled", WM_DECIDE_NONE;
    if (x->state == WM_ORDER_DISPATCHED || strcmp(x->station, station) != 0)
        return *why = "order not accepted by this station", WM_DECIDE_NONE;
    if (x->state == WM_ORDER_ACCEPTED)
        return WM_DECIDE_COMPLETE;
    return WM_DECIDE_NONE; /* done by it already */
}

wm_decide_t wm_orders_decide(const wm_orders_t *o, const char *self, const wm_record_t *r,
                             const char **why)
{
    *why = "";
    int acc = r->body_case == WM__RECORD__BODY_ORDER_ACCEPT;
    if ((!acc && r->body_case != WM__RECORD__BODY_ORDER_DONE) || !r->station)
        return WM_DECIDE_NONE;
    const wm_order_t *x = step_order(o, r);
    if (!x || strcmp(x->log, self) != 0)
        return *why = "unknown order", WM_DECIDE_NONE;
    return acc ? decide_accept(x, r->station, why) : decide_done(x, r->station, why);
}

const char *wm_order_counted_at(const wm_order_t *x)
{
    return x->station[0] ? x->station : x->to[0] ? x->to : x->log;
}

static int within(uint32_t d, uint32_t from, uint32_t to)
{
    return d && d >= from && d <= to;
}

void wm_orders_keep_log(wm_orders_t *o, const char *log)
{
    size_t kept = 0;
    for (size_t i = 0; i < o->n; i++)
        if (strcmp(o->v[i].log, log) == 0)
            o->v[kept++] = o->v[i];
    o->n = kept;
}

int wm_need_pending_at(const wm_need_t *n, uint32_t to)
{
    return n->date <= to && (n->state == WM_NEED_PENDING || n->reviewed > to);
}

int wm_order_overdue_at(const wm_order_t *x, uint32_t to)
{
    return x->date <= to && x->due <= to && !(x->done && x->done <= to) &&
           !(x->cancelled && x->cancelled <= to);
}

void wm_orders_count(const wm_orders_t *o, const char *station, uint32_t from, uint32_t to,
                     wm_order_figs_t *f)
{
    for (size_t i = 0; i < o->n_needs; i++) {
        const wm_need_t *n = &o->needs[i];
        if (station && strcmp(n->log, station) != 0)
            continue;
        f->needs_received += within(n->date, from, to);
        f->needs_accepted += n->state == WM_NEED_ACCEPTED && within(n->reviewed, from, to);
        f->needs_rejected += n->state == WM_NEED_REJECTED && within(n->reviewed, from, to);
    }
    for (size_t i = 0; i < o->n; i++) {
        const wm_order_t *x = &o->v[i];
        if (station && strcmp(wm_order_counted_at(x), station) != 0)
            continue;
        f->orders_dispatched += within(x->date, from, to);
        f->orders_accepted += x->station[0] && within(x->accepted, from, to);
        f->orders_done += x->station[0] && within(x->done, from, to);
        f->orders_overdue += wm_order_overdue_at(x, to);
        if (x->state == WM_ORDER_RATED && within(x->rated, from, to)) {
            f->loops_closed++;
            f->rating_sum += x->score;
            f->ratings_satisfied += x->score >= 4;
        }
    }
}

/* Why an acceptance by station of order x counts nowhere, or NULL. */
static const char *accept_problem(const wm_order_t *x, const char *station)
{
    if (strcmp(x->station, station) == 0)
        return NULL;
    if (x->to[0] && strcmp(x->to, station) != 0)
        return "order_not_addressed";
    return x->station[0] ? "order_taken" : x->state == WM_ORDER_CANCELLED ? "order_cancelled"
                                                                        : NULL;
}

/* Why a rating r of order x counts nowhere, or NULL. */
static const char *rating_problem(const wm_order_t *x, const wm_record_t *r)
{
    if (x->state != WM_ORDER_DONE && x->state != WM_ORDER_RATED)
        return "order_not_done";
    if (!may_rate(x, r->station))
        return "rating_not_theirs";
    if (x->state != WM_ORDER_RATED || x->rated != r->rating->date ||
        x->score != (uint32_t)r->rating->score)
        return "rating_repeated";
    return NULL;
}

const char *wm_orders_step_problem(const wm_orders_t *o, const wm_record_t *r, uint32_t *date)
{
    const wm_order_t *x = step_order(o, r);
    switch (r->body_case) {
    case WM__RECORD__BODY_ORDER_ACCEPT:
        *date = r->order_accept->date;
        return !x ? "order_unknown" : accept_problem(x, r->station);
    case WM__RECORD__BODY_ORDER_DONE:
        *date = r->order_done->date;
        if (!x)
            return "order_unknown";
        if (strcmp(x->station, r->station) == 0 &&
            (x->state == WM_ORDER_DONE || x->state == WM_ORDER_RATED))
            return NULL;
        return x->state == WM_ORDER_CANCELLED ? "order_cancelled" : "order_not_accepted";
    case WM__RECORD__BODY_RATING:
        *date = r->rating->date;
        return !x ? "order_unknown" : rating_problem(x, r);
    default:
        return NULL;
    }
}
