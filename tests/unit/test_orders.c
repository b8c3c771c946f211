/* SPDX-License-Identifier: MIT */
/*
 * test_orders — the service-order state machine (storage/wm_orders) as a
 * property test: random streams of needs-and-orders records over several
 * orders, logs and stations, applied by the fold, against a brute-force
 * recount that replays each order alone, from scratch, through a
 * transition table written apart from the fold; plus the properties the
 * protocol leans on: applying twice is applying once, a state never goes
 * back, an open order has exactly one taker (the first acceptance, or
 * the aggregator's word) and the others see it taken, overdue is a view
 * as of a day; steps read out
 * of order reach the same fixed point. And order ids round-trip, and bad
 * ones are refused; each kind belongs to one tier (wm_validate_writer).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "wm_orders.h"

#define STEPS 40
#define RUNS 3000

static const char *const logs[] = {"xx/t", "xx/u"};            /* aggregators */
static const char *const stations[] = {"xx/t/s1", "xx/t/s2", "xx/t/s3"};

/* One generated record: its body lives beside it. */
typedef struct {
    wm_record_t r;
    Wm__ServiceOrder so;
    Wm__OrderAccept acc;
    Wm__OrderDone done;
    Wm__Rating rate;
    Wm__OrderCancel cancel;
    Wm__OrderAssigned asg;
    Wm__OrderCompleted comp;
    char *need[1];  /* the need an order answers, now and then */
    char need_id[64];
} ev_t;

static unsigned rnd(unsigned n)
{
    return (unsigned)(rand() % (int)n);
}

/* The kinds, as the brute force's table numbers them. */
enum { K_ORDER, K_ACCEPT, K_DONE, K_RATE, K_CANCEL, K_ASSIGN, K_COMPLETE, K_N };
enum { K_ORDER_ACCEPT = K_ACCEPT, K_ORDER_DONE = K_DONE, K_RATING = K_RATE,
       K_ORDER_CANCEL = K_CANCEL, K_ORDER_ASSIGNED = K_ASSIGN, K_ORDER_COMPLETED = K_COMPLETE };

#define SET_REF(m) (m).order_station = (char *)ol, (m).order_epoch = 1, (m).order_seq = oseq

static void gen(ev_t *e, unsigned i)
{
    memset(e, 0, sizeof *e);
    wm__record__init(&e->r);
    unsigned k = rnd(K_N);
    int agg = k == K_ORDER || k == K_CANCEL || k == K_ASSIGN || k == K_COMPLETE;
    /* a foreign log now and then: an aggregator's word from the wrong log */
    e->r.station = (char *)(agg && rnd(6) ? logs[rnd(2)] : agg ? stations[rnd(3)] : stations[rnd(3)]);
    e->r.epoch = 1, e->r.seq = i + 1;
    const char *ol = logs[rnd(2)];
    uint64_t oseq = 1 + rnd(STEPS / 2);
    uint32_t date = 20240301 + rnd(28);
    const char *st = stations[rnd(3)];
    switch (k) {
    case K_ORDER:
        wm__service_order__init(&e->so);
        e->so.date = date, e->so.due = 20240310 + rnd(10), e->so.title = "送医上门";
        e->so.to_station = (char *)(rnd(2) ? "" : st);
        if (rnd(2)) { /* answers a need of some station: only it may rate */
            snprintf(e->need_id, sizeof e->need_id, "%s:1:%u", stations[rnd(3)], 1 + rnd(9));
            e->need[0] = e->need_id, e->so.needs = e->need, e->so.n_needs = 1;
        }
        e->r.body_case = WM__RECORD__BODY_SERVICE_ORDER, e->r.service_order = &e->so;
        break;
    case K_ACCEPT:
        wm__order_accept__init(&e->acc), SET_REF(e->acc), e->acc.date = date;
        e->r.body_case = WM__RECORD__BODY_ORDER_ACCEPT, e->r.order_accept = &e->acc;
        break;
    case K_DONE:
        wm__order_done__init(&e->done), SET_REF(e->done), e->done.date = date;
        e->done.activity_seq = 1;
        e->r.body_case = WM__RECORD__BODY_ORDER_DONE, e->r.order_done = &e->done;
        break;
    case K_RATE:
        wm__rating__init(&e->rate), SET_REF(e->rate), e->rate.date = date;
        e->rate.score = (Wm__Score)(1 + rnd(5));
        e->r.body_case = WM__RECORD__BODY_RATING, e->r.rating = &e->rate;
        break;
    case K_CANCEL:
        wm__order_cancel__init(&e->cancel), SET_REF(e->cancel), e->cancel.date = date;
        e->cancel.reason = "x";
        e->r.body_case = WM__RECORD__BODY_ORDER_CANCEL, e->r.order_cancel = &e->cancel;
        break;
    case K_ASSIGN:
        wm__order_assigned__init(&e->asg), SET_REF(e->asg), e->asg.date = date;
        e->asg.station = (char *)st, e->asg.accept_seq = 1;
        e->r.body_case = WM__RECORD__BODY_ORDER_ASSIGNED, e->r.order_assigned = &e->asg;
        break;
    default:
        wm__order_completed__init(&e->comp), SET_REF(e->comp), e->comp.date = date;
        e->comp.station = (char *)st, e->comp.done_seq = 1;
        e->r.body_case = WM__RECORD__BODY_ORDER_COMPLETED, e->r.order_completed = &e->comp;
    }
}

/* ---- the brute force: one order, replayed alone through a table ---- */

typedef struct {
    int state; /* 0 unborn, then wm_order_state_t */
    const char *to, *station;
    const char *need; /* the need's id "STATION:1:N", or NULL */
    uint32_t date, due, accepted, cancelled;
    uint32_t score, done, rated;
} bf_t;

/* Which step a record is for the order (log, seq), and its fields. */
static int bf_kind(const ev_t *e, const char *log, uint64_t seq, const char **who, uint32_t *date)
{
    const wm_record_t *r = &e->r;
    if (r->body_case == WM__RECORD__BODY_SERVICE_ORDER)
        return r->seq == seq && !strcmp(r->station, log) ? K_ORDER : -1;
#define IS(m, k, w)                                                                           \
    if (r->body_case == WM__RECORD__BODY_##k && !strcmp(r->m->order_station, log) && r->m->order_seq == seq &&               \
        r->m->order_epoch == 1) {                                                             \
        *who = (w), *date = r->m->date;                                                      \
        return K_##k;                                                                         \
    }
    IS(order_accept, ORDER_ACCEPT, r->station)
    IS(order_done, ORDER_DONE, r->station)
    IS(rating, RATING, r->station)
    IS(order_cancel, ORDER_CANCEL, r->station)
    IS(order_assigned, ORDER_ASSIGNED, r->order_assigned->station)
    IS(order_completed, ORDER_COMPLETED, r->order_completed->station)
#undef IS
    return -1;
}

/* allowed[state][kind]: the state a step leads to from a state, or 0 when
 * it changes nothing (guards on who applied apart). */
static const int allowed[6][K_N] = {
    [WM_ORDER_DISPATCHED] = {[K_ACCEPT] = WM_ORDER_ACCEPTED, [K_CANCEL] = WM_ORDER_CANCELLED,
                             [K_ASSIGN] = WM_ORDER_ACCEPTED, [K_COMPLETE] = WM_ORDER_DONE},
    [WM_ORDER_ACCEPTED] = {[K_DONE] = WM_ORDER_DONE, [K_CANCEL] = WM_ORDER_CANCELLED,
                           [K_ASSIGN] = WM_ORDER_ACCEPTED, [K_COMPLETE] = WM_ORDER_DONE},
    [WM_ORDER_DONE] = {[K_RATE] = WM_ORDER_RATED},
};

static bf_t brute(const ev_t *ev, size_t n, const char *log, uint64_t seq)
{
    bf_t b = {0};
    for (size_t i = 0; i < n; i++) {
        const char *who = NULL;
        uint32_t date = 0;
        int k = bf_kind(&ev[i], log, seq, &who, &date);
        if (k == K_ORDER && b.state == 0) {
            b.state = WM_ORDER_DISPATCHED, b.to = ev[i].so.to_station;
            b.need = ev[i].so.n_needs ? ev[i].so.needs[0] : NULL;
            b.date = ev[i].so.date, b.due = ev[i].so.due;
            continue;
        }
        if (k < 0 || k == K_ORDER || b.state == 0 || !allowed[b.state][k])
            continue;
        int own = !strcmp(ev[i].r.station, log);
        if ((k == K_CANCEL || k == K_ASSIGN || k == K_COMPLETE) && !own)
            continue;
        if (k == K_ACCEPT && b.to[0] && strcmp(b.to, who))
            continue;
        if (k == K_DONE && strcmp(b.station, who))
            continue;
        /* a rating counts from the station that raised the need it answers,
         * or, answering none, from the station that took it */
        if (k == K_RATE && (b.need ? strncmp(b.need, who, strlen(who)) || b.need[strlen(who)] != ':'
                                   : strcmp(b.station, who)))
            continue;
        b.state = allowed[b.state][k];
        if (k == K_ACCEPT || k == K_ASSIGN || k == K_COMPLETE)
            b.station = who;
        if (k == K_DONE || k == K_COMPLETE)
            b.done = date;
        if (k == K_RATE)
            b.rated = date, b.score = (uint32_t)ev[i].rate.score;
        if (k == K_ACCEPT || k == K_ASSIGN || (k == K_COMPLETE && !b.accepted))
            b.accepted = date;
        if (k == K_CANCEL)
            b.cancelled = date;
    }
    return b;
}

static void check_against_brute(const wm_orders_t *o, const ev_t *ev, size_t n)
{
    size_t born = 0;
    static const char *const all[] = {"xx/t", "xx/u", "xx/t/s1", "xx/t/s2", "xx/t/s3"};
    for (unsigned l = 0; l < 5; l++)
        for (uint64_t s = 1; s <= STEPS; s++) {
            bf_t b = brute(ev, n, all[l], s);
            const wm_order_t *x = wm_orders_find(o, all[l], 1, s);
            born += b.state != 0;
            if (!b.state) {
                assert_null(x);
                continue;
            }
            assert_non_null(x);
            assert_int_equal(x->state, b.state);
            assert_string_equal(x->station, b.station ? b.station : "");
            assert_int_equal(x->done, b.done);
            assert_int_equal(x->rated, b.rated);
            assert_int_equal(x->score, b.score);
        }
    assert_int_equal(born, o->n);
}

static void test_fold_equals_recount(void **state)
{
    (void)state;
    static ev_t ev[STEPS];
    srand(11);
    for (int run = 0; run < RUNS; run++) {
        wm_orders_t o = WM_ORDERS_INIT, twice = WM_ORDERS_INIT;
        for (unsigned i = 0; i < STEPS; i++) {
            gen(&ev[i], i);
            assert_int_equal(wm_orders_apply(&o, &ev[i].r), WM_OK);
            /* applied twice: as once */
            assert_int_equal(wm_orders_apply(&twice, &ev[i].r), WM_OK);
            assert_int_equal(wm_orders_apply(&twice, &ev[i].r), WM_OK);
            check_against_brute(&o, ev, i + 1);
        }
        assert_int_equal(o.n, twice.n);
        for (size_t i = 0; i < o.n; i++)
            assert_memory_equal(&o.v[i], &twice.v[i], sizeof o.v[i]);
        wm_orders_free(&o);
        wm_orders_free(&twice);
    }
}

/* ---- the figures (wm_orders_count) against a brute-force recount ---- */

static const char *const everyone[] = {"xx/t", "xx/u", "xx/t/s1", "xx/t/s2", "xx/t/s3"};

/* Needs and their reviews, as records of random logs, dates and verdicts. */
typedef struct {
    wm_record_t r;
    Wm__Need need;
    Wm__NeedReview rev;
} nev_t;

#define NEEDS 12

static void gen_need(nev_t *e, unsigned i)
{
    memset(e, 0, sizeof *e);
    wm__record__init(&e->r);
    e->r.epoch = 1, e->r.seq = 100 + i;
    if (i < NEEDS / 2) { /* needs first, by stations */
        wm__need__init(&e->need);
        e->need.title = "n", e->need.date = 20240301 + rnd(28);
        e->r.station = (char *)stations[rnd(3)];
        e->r.body_case = WM__RECORD__BODY_NEED, e->r.need = &e->need;
        return;
    }
    wm__need_review__init(&e->rev); /* then reviews, now and then from the need's own log */
    e->rev.date = 20240301 + rnd(28), e->rev.accept = rnd(2);
    e->rev.need_station = (char *)stations[rnd(3)];
    e->rev.need_epoch = 1, e->rev.need_seq = 100 + rnd(NEEDS / 2);
    e->r.station = (char *)(rnd(4) ? logs[rnd(2)] : e->rev.need_station);
    e->r.body_case = WM__RECORD__BODY_NEED_REVIEW, e->r.need_review = &e->rev;
}

static int in(uint32_t d, uint32_t from, uint32_t to)
{
    return d && d >= from && d <= to;
}

/* The figures of [from, to] at station (NULL: all), from brute() alone. */
static wm_order_figs_t brute_count(const ev_t *ev, size_t n, const nev_t *nv, const char *station,
                                   uint32_t from, uint32_t to)
{
    wm_order_figs_t f = {0};
    for (unsigned l = 0; l < 5; l++)
        for (uint64_t s = 1; s <= STEPS; s++) {
            bf_t b = brute(ev, n, everyone[l], s);
            const char *at = b.station ? b.station : b.to && b.to[0] ? b.to : everyone[l];
            if (!b.state || (station && strcmp(at, station)))
                continue;
            f.orders_dispatched += in(b.date, from, to);
            f.orders_accepted += b.station && in(b.accepted, from, to);
            f.orders_done += b.station && in(b.done, from, to);
            f.orders_overdue += b.date <= to && b.due <= to && !(b.done && b.done <= to) &&
                                !(b.cancelled && b.cancelled <= to);
            if (b.state == WM_ORDER_RATED && in(b.rated, from, to)) {
                f.loops_closed++, f.rating_sum += b.score, f.ratings_satisfied += b.score >= 4;
            }
        }
    for (unsigned i = 0; i < NEEDS / 2; i++) {
        const nev_t *x = &nv[i];
        if (station && strcmp(x->r.station, station))
            continue;
        f.needs_received += in(x->need.date, from, to);
        for (unsigned j = NEEDS / 2; j < NEEDS; j++) { /* the first review from elsewhere */
            const Wm__NeedReview *v = &nv[j].rev;
            if (strcmp(v->need_station, x->r.station) || v->need_seq != x->r.seq ||
                !strcmp(nv[j].r.station, x->r.station))
                continue;
            f.needs_accepted += v->accept && in(v->date, from, to);
            f.needs_rejected += !v->accept && in(v->date, from, to);
            break;
        }
    }
    return f;
}

static void test_counters(void **state)
{
    (void)state;
    static ev_t ev[STEPS];
    static nev_t nv[NEEDS];
    srand(23);
    for (int run = 0; run < RUNS / 3; run++) {
        wm_orders_t o = WM_ORDERS_INIT;
        for (unsigned i = 0; i < NEEDS; i++) {
            gen_need(&nv[i], i);
            assert_int_equal(wm_orders_apply(&o, &nv[i].r), WM_OK);
        }
        for (unsigned i = 0; i < STEPS; i++) {
            gen(&ev[i], i);
            assert_int_equal(wm_orders_apply(&o, &ev[i].r), WM_OK);
        }
        uint32_t from = 20240301 + rnd(28), to = from + rnd(8);
        for (int w = -1; w < 5; w++) {
            const char *who = w < 0 ? NULL : everyone[w];
            wm_order_figs_t got = {0}, want = brute_count(ev, STEPS, nv, who, from, to);
            wm_orders_count(&o, who, from, to, &got);
            assert_memory_equal(&got, &want, sizeof got);
        }
        wm_orders_free(&o);
    }
}

/* The rank of a state on the way to its end: never goes down. */
static int rank(wm_order_state_t s)
{
    return s == WM_ORDER_CANCELLED ? 9 : (int)s;
}

static void test_never_back_one_taker(void **state)
{
    (void)state;
    static ev_t ev[STEPS];
    srand(12);
    for (int run = 0; run < RUNS; run++) {
        wm_orders_t o = WM_ORDERS_INIT;
        int before[STEPS + 1] = {0};
        for (unsigned i = 0; i < STEPS; i++) {
            gen(&ev[i], i);
            assert_int_equal(wm_orders_apply(&o, &ev[i].r), WM_OK);
            for (size_t j = 0; j < o.n; j++) {
                const wm_order_t *x = &o.v[j];
                int *b = &before[x->seq]; /* seqs are unique across the logs here */
                assert_true(rank(x->state) >= *b);
                *b = rank(x->state);
                /* a taker exactly when past dispatched (a cancelled one may have none) */
                if (x->state == WM_ORDER_DISPATCHED)
                    assert_string_equal(x->station, "");
                else if (x->state != WM_ORDER_CANCELLED)
                    assert_true(x->station[0] != 0);
            }
        }
        wm_orders_free(&o);
    }
}

/* Two stations take the same open order offline: the first applied wins,
 * the other's acceptance changes nothing, and the aggregator's word
 * overrides a station's own view. */
static void test_open_order_first_wins(void **state)
{
    (void)state;
    ev_t ev[4];
    memset(ev, 0, sizeof ev);
    for (int i = 0; i < 4; i++)
        wm__record__init(&ev[i].r), ev[i].r.epoch = 1, ev[i].r.seq = (uint64_t)i + 1;
    wm__service_order__init(&ev[0].so);
    ev[0].so.title = "t", ev[0].so.due = 20240331, ev[0].so.to_station = "";
    ev[0].r.station = "xx/t", ev[0].r.body_case = WM__RECORD__BODY_SERVICE_ORDER;
    ev[0].r.service_order = &ev[0].so;
    for (int i = 1; i <= 2; i++) {
        const char *ol = "xx/t";
        uint64_t oseq = 1;
        wm__order_accept__init(&ev[i].acc), SET_REF(ev[i].acc), ev[i].acc.date = 20240305;
        ev[i].r.station = (char *)stations[i - 1];
        ev[i].r.body_case = WM__RECORD__BODY_ORDER_ACCEPT, ev[i].r.order_accept = &ev[i].acc;
    }
    wm_orders_t at_s2 = WM_ORDERS_INIT, at_t = WM_ORDERS_INIT;
    assert_int_equal(wm_orders_apply(&at_t, &ev[0].r), WM_OK);
    assert_int_equal(wm_orders_apply(&at_t, &ev[1].r), WM_OK);
    assert_int_equal(wm_orders_apply(&at_t, &ev[2].r), WM_OK);
    assert_string_equal(at_t.v[0].station, "xx/t/s1");
    /* s2 saw only its own acceptance, then the town's word */
    assert_int_equal(wm_orders_apply(&at_s2, &ev[0].r), WM_OK);
    assert_int_equal(wm_orders_apply(&at_s2, &ev[2].r), WM_OK);
    assert_string_equal(at_s2.v[0].station, "xx/t/s2");
    const char *ol = "xx/t";
    uint64_t oseq = 1;
    wm__order_assigned__init(&ev[3].asg), SET_REF(ev[3].asg), ev[3].asg.date = 20240306;
    ev[3].asg.station = "xx/t/s1", ev[3].asg.accept_seq = 2;
    ev[3].r.station = "xx/t", ev[3].r.body_case = WM__RECORD__BODY_ORDER_ASSIGNED;
    ev[3].r.order_assigned = &ev[3].asg;
    assert_int_equal(wm_orders_apply(&at_s2, &ev[3].r), WM_OK);
    assert_string_equal(at_s2.v[0].station, "xx/t/s1");
    assert_string_equal(wm_order_state(&at_s2.v[0], 20240331), "accepted");
    assert_string_equal(wm_order_state(&at_s2.v[0], 20240401), "overdue");
    /* the loser sees it taken; the taker, the town and a third station not */
    assert_string_equal(wm_order_state_for(&at_s2.v[0], 20240331, "xx/t/s2"), "taken");
    assert_string_equal(wm_order_state_for(&at_s2.v[0], 20240401, "xx/t/s2"), "taken");
    assert_string_equal(wm_order_state_for(&at_s2.v[0], 20240331, "xx/t/s1"), "accepted");
    assert_string_equal(wm_order_state_for(&at_s2.v[0], 20240331, "xx/t"), "accepted");
    /* … nor a station whose need it answers (it rates it) */
    snprintf(at_s2.v[0].need_log[0], sizeof at_s2.v[0].need_log[0], "%s", "xx/t/s2");
    at_s2.v[0].n_needs = 1;
    assert_string_equal(wm_order_state_for(&at_s2.v[0], 20240331, "xx/t/s2"), "accepted");
    at_s2.v[0].state = WM_ORDER_CANCELLED;
    assert_string_equal(wm_order_state_for(&at_s2.v[0], 20240331, "xx/t/s3"), "cancelled");
    /* an aggregator's figures: the orders of its own log only */
    wm_orders_keep_log(&at_s2, "xx/u");
    assert_int_equal((int)at_s2.n, 0);
    wm_orders_keep_log(&at_t, "xx/t");
    assert_int_equal((int)at_t.n, 1);
    wm_orders_free(&at_s2);
    wm_orders_free(&at_t);
}

/* Steps read out of order and dated before the step they follow (done
 * dated the activity's day, accepted later) still apply; a need is
 * settled by the first review from another log. */
static void test_apply_all(void **state)
{
    (void)state;
    ev_t ev[6];
    memset(ev, 0, sizeof ev);
    for (int i = 0; i < 6; i++)
        wm__record__init(&ev[i].r), ev[i].r.epoch = 1, ev[i].r.seq = (uint64_t)i + 1;
    const char *ol = "xx/t";
    uint64_t oseq = 1;
    wm__service_order__init(&ev[0].so);
    ev[0].so.title = "t", ev[0].so.date = 20240301, ev[0].so.due = 20240331;
    ev[0].so.to_station = "xx/t/s1";
    char *answers[] = {"xx/t/s2:1:5"}; /* s2's need: s2 rates it */
    ev[0].so.needs = answers, ev[0].so.n_needs = 1;
    ev[0].r.station = "xx/t", ev[0].r.body_case = WM__RECORD__BODY_SERVICE_ORDER;
    ev[0].r.service_order = &ev[0].so;
    wm__order_accept__init(&ev[1].acc), SET_REF(ev[1].acc), ev[1].acc.date = 20240320;
    ev[1].r.station = "xx/t/s1", ev[1].r.body_case = WM__RECORD__BODY_ORDER_ACCEPT;
    ev[1].r.order_accept = &ev[1].acc;
    wm__order_done__init(&ev[2].done), SET_REF(ev[2].done), ev[2].done.date = 20240310;
    ev[2].done.activity_seq = 1;
    ev[2].r.station = "xx/t/s1", ev[2].r.body_case = WM__RECORD__BODY_ORDER_DONE;
    ev[2].r.order_done = &ev[2].done;
    wm__rating__init(&ev[3].rate), SET_REF(ev[3].rate), ev[3].rate.date = 20240305;
    ev[3].rate.score = WM__SCORE__SCORE_4;
    ev[3].r.station = "xx/t/s2", ev[3].r.body_case = WM__RECORD__BODY_RATING;
    ev[3].r.rating = &ev[3].rate;
    Wm__Need need = WM__NEED__INIT;
    need.title = "n", need.date = 20240302;
    ev[4].r.station = "xx/t/s2", ev[4].r.body_case = WM__RECORD__BODY_NEED, ev[4].r.need = &need;
    Wm__NeedReview rev = WM__NEED_REVIEW__INIT;
    rev.need_station = "xx/t/s2", rev.need_epoch = 1, rev.need_seq = 5, rev.date = 20240301;
    ev[5].r.station = "xx/t", ev[5].r.body_case = WM__RECORD__BODY_NEED_REVIEW;
    ev[5].r.need_review = &rev;
    wm_record_t *v[6];
    for (int i = 0; i < 6; i++)
        v[i] = &ev[5 - i].r; /* read backwards */
    wm_orders_t o = WM_ORDERS_INIT;
    assert_int_equal(wm_orders_apply_all(&o, v, 6), WM_OK);
    assert_int_equal(o.n, 1);
    assert_int_equal(o.v[0].state, WM_ORDER_RATED);
    assert_int_equal(o.v[0].score, 4);
    assert_int_equal(o.n_needs, 1);
    assert_string_equal(wm_need_state(&o.needs[0]), "rejected");
    wm_orders_free(&o);
}

static void test_id(void **state)
{
    (void)state;
    char buf[WM_ORDER_ID_MAX], log[WM_ID_MAX + 1];
    uint32_t e = 0;
    uint64_t s = 0;
    wm_order_id("xx-county/longhua", 2, 18446744073709551615u, buf);
    assert_string_equal(buf, "xx-county/longhua:2:18446744073709551615");
    assert_int_equal(wm_order_id_parse(buf, log, &e, &s), WM_OK);
    assert_string_equal(log, "xx-county/longhua");
    assert_int_equal(e, 2);
    assert_true(s == UINT64_MAX);
    const char *bad[] = {"", "xx:1", "xx:1:0", ":1:2", "XX:1:2", "xx:4294967296:1",
                         "xx:1:18446744073709551616", "xx:1:2x", "xx::2", "a:b:1:2"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (wm_order_id_parse(bad[i], log, &e, &s) == WM_OK)
            fail_msg("accepted the order id \"%s\"", bad[i]);
}

/* A record of log `station` at seq, with body kind k naming order
 * xx/t:1:oseq (service orders: open when to is NULL). */
typedef struct {
    wm_record_t r;
    Wm__ServiceOrder so;
    Wm__OrderAccept acc;
    Wm__OrderDone done;
    Wm__OrderCancel cancel;
    Wm__OrderAssigned asg;
    Wm__OrderCompleted comp;
} rec_t;

static wm_record_t *mk(rec_t *x, const char *station, uint64_t seq, Wm__Record__BodyCase k,
                       uint64_t oseq, const char *who)
{
    memset(x, 0, sizeof *x);
    wm__record__init(&x->r);
    x->r.station = (char *)station, x->r.epoch = 1, x->r.seq = seq, x->r.body_case = k;
    switch (k) {
    case WM__RECORD__BODY_SERVICE_ORDER:
        wm__service_order__init(&x->so);
        x->so.date = 20240301, x->so.due = 20240401, x->so.title = (char *)"o";
        x->so.to_station = (char *)(who ? who : "");
        x->r.service_order = &x->so;
        break;
#define STEP(m, init, f)                                                                       \
    init(&x->m);                                                                               \
    x->m.date = 20240302, x->m.order_station = (char *)"xx/t", x->m.order_epoch = 1,           \
    x->m.order_seq = oseq;                                                                     \
    x->r.f = &x->m;                                                                            \
    break
    case WM__RECORD__BODY_ORDER_ACCEPT: STEP(acc, wm__order_accept__init, order_accept);
    case WM__RECORD__BODY_ORDER_DONE: STEP(done, wm__order_done__init, order_done);
    case WM__RECORD__BODY_ORDER_CANCEL: STEP(cancel, wm__order_cancel__init, order_cancel);
    case WM__RECORD__BODY_ORDER_ASSIGNED: STEP(asg, wm__order_assigned__init, order_assigned);
    default: STEP(comp, wm__order_completed__init, order_completed);
#undef STEP
    }
    x->asg.station = x->comp.station = (char *)who; /* the aggregator's word names it */
    return &x->r;
}

/* The aggregator's word (wm_orders_decide) on each kind of step: the
 * first acceptance of an open order is assigned, every later one is not
 * counted and says why; a completion only from the taker. */
static void test_decide(void **state)
{
    (void)state;
    wm_orders_t o = WM_ORDERS_INIT;
    rec_t x;
    const char *why = NULL;
    const char *s1 = "xx/t/s1", *s2 = "xx/t/s2";
    const Wm__Record__BodyCase ACC = WM__RECORD__BODY_ORDER_ACCEPT,
                               DONE = WM__RECORD__BODY_ORDER_DONE;
    assert_int_equal(wm_orders_apply(&o, mk(&x, "xx/t", 1, WM__RECORD__BODY_SERVICE_ORDER, 0, NULL)), WM_OK);
    assert_int_equal(wm_orders_apply(&o, mk(&x, "xx/t", 2, WM__RECORD__BODY_SERVICE_ORDER, 0, s2)), WM_OK);
    assert_int_equal(wm_orders_apply(&o, mk(&x, "xx/t", 3, WM__RECORD__BODY_SERVICE_ORDER, 0, NULL)), WM_OK);
    assert_int_equal(wm_orders_apply(&o, mk(&x, "xx/t", 4, WM__RECORD__BODY_ORDER_CANCEL, 3, NULL)), WM_OK);
    /* open order 1: s1 first */
    assert_int_equal(wm_orders_decide(&o, "xx/t", mk(&x, s1, 5, DONE, 1, NULL), &why), WM_DECIDE_NONE);
    assert_string_equal(why, "order not accepted by this station");
    assert_int_equal(wm_orders_decide(&o, "xx/t", mk(&x, s1, 6, ACC, 1, NULL), &why), WM_DECIDE_ASSIGN);
    assert_int_equal(wm_orders_apply(&o, mk(&x, "xx/t", 5, WM__RECORD__BODY_ORDER_ASSIGNED, 1, s1)), WM_OK);
    assert_int_equal(wm_orders_decide(&o, "xx/t", mk(&x, s2, 7, ACC, 1, NULL), &why), WM_DECIDE_NONE);
    assert_string_equal(why, "order taken by another station");
    assert_int_equal(wm_orders_decide(&o, "xx/t", mk(&x, s1, 6, ACC, 1, NULL), &why), WM_DECIDE_NONE);
    assert_string_equal(why, ""); /* the word is written: a repeat */
    assert_int_equal(wm_orders_decide(&o, "xx/t", mk(&x, s2, 8, DONE, 1, NULL), &why), WM_DECIDE_NONE);
    assert_string_equal(why, "order not accepted by this station");
    assert_int_equal(wm_orders_decide(&o, "xx/t", mk(&x, s1, 9, DONE, 1, NULL), &why), WM_DECIDE_COMPLETE);
    assert_int_equal(wm_orders_apply(&o, mk(&x, "xx/t", 6, WM__RECORD__BODY_ORDER_COMPLETED, 1, s1)), WM_OK);
    assert_int_equal(wm_orders_decide(&o, "xx/t", mk(&x, s1, 9, DONE, 1, NULL), &why), WM_DECIDE_NONE);
    assert_string_equal(why, "");
    /* order 2 is s2's; order 3 cancelled; 99 and another log's unknown */
    assert_int_equal(wm_orders_decide(&o, "xx/t", mk(&x, s1, 10, ACC, 2, NULL), &why), WM_DECIDE_NONE);
    assert_string_equal(why, "order addressed to another station");
    assert_int_equal(wm_orders_decide(&o, "xx/t", mk(&x, s2, 11, ACC, 2, NULL), &why), WM_DECIDE_ASSIGN);
    assert_int_equal(wm_orders_decide(&o, "xx/t", mk(&x, s1, 12, ACC, 3, NULL), &why), WM_DECIDE_NONE);
    assert_string_equal(why, "order cancelled");
    assert_int_equal(wm_orders_decide(&o, "xx/t", mk(&x, s1, 13, ACC, 99, NULL), &why), WM_DECIDE_NONE);
    assert_string_equal(why, "unknown order");
    assert_int_equal(wm_orders_decide(&o, "xx/u", mk(&x, s1, 14, ACC, 2, NULL), &why), WM_DECIDE_NONE);
    assert_string_equal(why, "unknown order");
    assert_int_equal(wm_orders_decide(&o, "xx/t", mk(&x, s1, 15, WM__RECORD__BODY_RATING, 1, NULL), &why),
                     WM_DECIDE_NONE);
    wm_orders_free(&o);
}

/* Why a step counts nowhere (wm_orders_step_problem), judged against the
 * final book: the first acceptance of an open order counts, a later one
 * is "order_taken"; a completion by the loser "order_not_accepted"; a
 * rating by a station whose need the order does not answer. */
static void test_step_problem(void **state)
{
    (void)state;
    wm_orders_t o = WM_ORDERS_INIT;
    rec_t x[8];
    uint32_t date = 0;
    const char *s1 = "xx/t/s1", *s2 = "xx/t/s2";
    wm_record_t *v[] = {
        mk(&x[0], "xx/t", 1, WM__RECORD__BODY_SERVICE_ORDER, 0, NULL),
        mk(&x[1], s1, 1, WM__RECORD__BODY_ORDER_ACCEPT, 1, NULL),
        mk(&x[2], s2, 1, WM__RECORD__BODY_ORDER_ACCEPT, 1, NULL),
        mk(&x[3], s2, 2, WM__RECORD__BODY_ORDER_DONE, 1, NULL),
        mk(&x[4], s1, 2, WM__RECORD__BODY_ORDER_DONE, 1, NULL),
        mk(&x[5], s1, 3, WM__RECORD__BODY_ORDER_ACCEPT, 7, NULL),
        mk(&x[6], "xx/t", 2, WM__RECORD__BODY_SERVICE_ORDER, 0, s2),
        mk(&x[7], s1, 4, WM__RECORD__BODY_ORDER_ACCEPT, 2, NULL),
    };
    x[2].acc.date = 20240303; /* after s1's: s1 takes the open order */
    for (size_t i = 0; i < 8; i++)
        assert_int_equal(wm_orders_apply(&o, v[i]), WM_OK);
    assert_null(wm_orders_step_problem(&o, v[1], &date));
    assert_int_equal(date, 20240302);
    assert_string_equal(wm_orders_step_problem(&o, v[2], &date), "order_taken");
    assert_string_equal(wm_orders_step_problem(&o, v[3], &date), "order_not_accepted");
    assert_null(wm_orders_step_problem(&o, v[4], &date));
    assert_string_equal(wm_orders_step_problem(&o, v[5], &date), "order_unknown");
    assert_string_equal(wm_orders_step_problem(&o, v[7], &date), "order_not_addressed");
    Wm__Rating rt = WM__RATING__INIT;
    rt.date = 20240305, rt.score = WM__SCORE__SCORE_5, rt.order_station = "xx/t", rt.order_epoch = 1;
    rt.order_seq = 1;
    wm_record_t r = WM__RECORD__INIT;
    r.station = (char *)s2, r.body_case = WM__RECORD__BODY_RATING, r.rating = &rt;
    assert_string_equal(wm_orders_step_problem(&o, &r, &date), "rating_not_theirs");
    r.station = (char *)s1; /* no need answered: the taker rates */
    assert_int_equal(wm_orders_apply(&o, &r), WM_OK);
    assert_null(wm_orders_step_problem(&o, &r, &date));
    rt.date = 20240306;
    assert_string_equal(wm_orders_step_problem(&o, &r, &date), "rating_repeated");
    rt.order_seq = 2;
    assert_string_equal(wm_orders_step_problem(&o, &r, &date), "order_not_done");
    wm_orders_free(&o);
}

/* Each of kinds[0..n) belongs to tier `want`: written at its own tier
 * (aggregator = own), refused at the other naming the field "kind". */
static void one_tier(const Wm__Record__BodyCase *kinds, size_t n, wm_writer_t want, int own)
{
    wm_record_t r = WM__RECORD__INIT;
    wm_reject_t rej;
    for (size_t i = 0; i < n; i++) {
        r.body_case = kinds[i];
        assert_int_equal(wm_validate_writer(kinds[i]), want);
        assert_int_equal(wm_validate_writer_check(&r, own, &rej), WM_OK);
        assert_int_equal(wm_validate_writer_check(&r, !own, &rej), WM_EINVAL);
        assert_string_equal(rej.field, "kind");
        assert_non_null(strstr(rej.why, wm_record_kind(&r)));
    }
}

/* Who may write what: each of the ten kinds belongs to one tier, the
 * refusal names the field "kind"; every other kind is anyone's. */
static void test_writer(void **state)
{
    (void)state;
    static const Wm__Record__BodyCase station[] = {
        WM__RECORD__BODY_NEED, WM__RECORD__BODY_ORDER_ACCEPT, WM__RECORD__BODY_ORDER_DONE,
        WM__RECORD__BODY_RATING};
    static const Wm__Record__BodyCase agg[] = {
        WM__RECORD__BODY_NEED_REVIEW, WM__RECORD__BODY_SERVICE_ORDER,
        WM__RECORD__BODY_ORDER_CANCEL, WM__RECORD__BODY_NOTICE,
        WM__RECORD__BODY_ORDER_ASSIGNED, WM__RECORD__BODY_ORDER_COMPLETED};
    one_tier(station, sizeof station / sizeof station[0], WM_WRITER_STATION, 0);
    one_tier(agg, sizeof agg / sizeof agg[0], WM_WRITER_AGGREGATOR, 1);
    unsigned orders = 0;
    for (int k = 1; k < 64; k++) {
        wm_writer_t w = wm_validate_writer((Wm__Record__BodyCase)k);
        orders += w != WM_WRITER_ANY;
        assert_int_equal(w != WM_WRITER_ANY, k >= WM__RECORD__BODY_NEED &&
                                                 k <= WM__RECORD__BODY_ORDER_COMPLETED);
    }
    assert_int_equal(orders, 10);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fold_equals_recount),
        cmocka_unit_test(test_never_back_one_taker),
        cmocka_unit_test(test_open_order_first_wins),
        cmocka_unit_test(test_apply_all),
        cmocka_unit_test(test_id),
        cmocka_unit_test(test_writer),
        cmocka_unit_test(test_decide),
        cmocka_unit_test(test_counters),
        cmocka_unit_test(test_step_problem),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
