/* SPDX-License-Identifier: MIT */
/*
 * wm_agg_orders — the aggregator's word on its orders (PROTOCOL.md §3, "The
 * aggregator's word"): when a child's order_accept or order_done has been
 * promoted into the child's log here, the aggregator writes order_assigned
 * or order_completed in its own log, so that every child learns who took
 * an order and that it was done. For an open order the first acceptance
 * promoted wins; a later one is stored and changes nothing.
 *
 * Crash-safe and idempotent by construction: what is pending is derived
 * from the stored logs, never kept apart. Each child's log is read from a
 * mark (how far its steps were decided), and each step is decided against
 * the book of the aggregator's own log, which already holds every word
 * written. So a kill -9 after a promotion and before the word leaves the
 * step pending, found again at start-up (the mark was not moved), and a
 * kill -9 after the word and before the mark moved finds the word in the
 * book: nothing is written twice. The marks are kept in memory and in
 * meta ("orders_mark:NODE_NO", epoch u32 + seq u64, big-endian), saved
 * when a word was written or WM_AGG_MARK_EVERY records were read past
 * them, so start-up re-reads at most that many records of a child.
 * Single-threaded: the daemon's poll loop.
 */
#include "wm_agg_int.h"

#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wm_date.h"
#include "wm_diag.h"
#include "wm_orders.h"

#define WM_AGG_STEPS_MAX 256     /* steps decided in one round (one append) */
#define WM_AGG_MARK_EVERY 4096   /* records read past a saved mark before it is saved */

/* A child's step, decoded, and where it is in the child's log. */
typedef struct {
    wm_record_t **v;
    size_t n;
    uint64_t read;       /* records read past the mark */
    uint32_t epoch;      /* the last record read */
    uint64_t seq;
    int full;            /* stopped at WM_AGG_STEPS_MAX */
    wm_err_t err;
} steps_t;

/* The environment's crash point for the kill -9 tests (it_orders_race):
 * "orders-pending" kills the daemon after a promotion, before the word is
 * written; "orders-written" after the word, before the marks are saved. */
static void crash_at(const char *point)
{
    const char *at = getenv("WMSYNCD_CRASH_AT");
    if (at && strcmp(at, point) == 0) {
        wm_warn("orders: WMSYNCD_CRASH_AT=%s: killing the daemon (a test)", point);
        raise(SIGKILL);
    }
}

static void mark_name(char *buf, size_t cap, uint32_t node_no)
{
    snprintf(buf, cap, "orders_mark:%" PRIu32, node_no);
}

/* p's mark, from meta the first time (0, 0 when none). */
static WM_MUST_CHECK wm_err_t mark_load(wm_txn_t *t, wm_agg_peer_t *p)
{
    char name[40];
    uint8_t b[12];
    size_t len = 0;
    if (p->o_loaded)
        return WM_OK;
    mark_name(name, sizeof name, p->node_no);
    wm_err_t err = wm_meta_get(t, name, b, sizeof b, &len);
    p->o_epoch = 0, p->o_seq = 0, p->o_unsaved = 0;
    if (err == WM_ENOTFOUND)
        err = WM_OK;
    else if (err == WM_OK && len == sizeof b) {
        for (int i = 0; i < 4; i++)
            p->o_epoch = p->o_epoch << 8 | b[i];
        for (int i = 4; i < 12; i++)
            p->o_seq = p->o_seq << 8 | b[i];
    }
    p->o_loaded = err == WM_OK;
    return err;
}

static int keep_own(void *ctx, uint32_t epoch, uint64_t seq, const wm_srec_t *v)
{
    steps_t *st = ctx;
    wm_record_t *r = NULL;
    (void)epoch, (void)seq;
    if (!v->bytes || wm_record_decode(v->bytes, v->len, &r) != WM_OK)
        return 0; /* wmctl verify names a damaged record; it has no word here */
    int kept = r->body_case == WM__RECORD__BODY_SERVICE_ORDER ||
               r->body_case == WM__RECORD__BODY_ORDER_CANCEL ||
               r->body_case == WM__RECORD__BODY_ORDER_ASSIGNED ||
               r->body_case == WM__RECORD__BODY_ORDER_COMPLETED;
    wm_record_t **grown = kept ? realloc(st->v, (st->n + 1) * sizeof *grown) : NULL;
    if (kept && !grown) {
        wm_record_free(&r);
        st->err = WM_ENOMEM;
        return 1;
    }
    if (!kept) {
        wm_record_free(&r);
        return 0;
    }
    st->v = grown;
    st->v[st->n++] = r;
    return 0;
}

static int keep_step(void *ctx, uint32_t epoch, uint64_t seq, const wm_srec_t *v)
{
    steps_t *st = ctx;
    wm_record_t *r = NULL;
    if (st->n == WM_AGG_STEPS_MAX)
        return st->full = 1;
    st->epoch = epoch, st->seq = seq, st->read++;
    if (!v->bytes || wm_record_decode(v->bytes, v->len, &r) != WM_OK)
        return 0;
    if (r->body_case != WM__RECORD__BODY_ORDER_ACCEPT &&
        r->body_case != WM__RECORD__BODY_ORDER_DONE) {
        wm_record_free(&r);
        return 0;
    }
    st->v[st->n++] = r;
    return 0;
}

static void steps_free(steps_t *st)
{
    for (size_t i = 0; i < st->n; i++)
        wm_record_free(&st->v[i]);
    free(st->v);
    st->v = NULL, st->n = 0;
}

/* The book of the aggregator's own log (its orders and its word on them). */
static WM_MUST_CHECK wm_err_t load_book(wm_agg_t *a, wm_txn_t *t, wm_orders_t *book)
{
    steps_t own = {0};
    wm_err_t err = wm_log_scan(t, a->node->self, 0, 0, keep_own, &own, NULL);
    if (err == WM_OK)
        err = own.err;
    if (err == WM_OK)
        err = wm_orders_apply_all(book, own.v, own.n);
    steps_free(&own);
    return err;
}

/* One word, its body beside it. */
typedef struct {
    wm_record_t body;
    Wm__OrderAssigned asg;
    Wm__OrderCompleted comp;
} word_t;

/* The word on step r of decision d, dated the step's day (not after
 * today: the station's clock is its own). */
static void word_of(word_t *w, const wm_record_t *r, wm_decide_t d, uint32_t today)
{
    wm__record__init(&w->body);
    if (d == WM_DECIDE_ASSIGN) {
        const Wm__OrderAccept *x = r->order_accept;
        wm__order_assigned__init(&w->asg);
        w->asg.date = x->date < today ? x->date : today;
        w->asg.order_station = x->order_station;
        w->asg.order_epoch = x->order_epoch, w->asg.order_seq = x->order_seq;
        w->asg.station = r->station, w->asg.team = x->team;
        w->asg.accept_epoch = r->epoch, w->asg.accept_seq = r->seq;
        w->body.body_case = WM__RECORD__BODY_ORDER_ASSIGNED;
        w->body.order_assigned = &w->asg;
    } else {
        const Wm__OrderDone *x = r->order_done;
        wm__order_completed__init(&w->comp);
        w->comp.date = x->date < today ? x->date : today;
        w->comp.order_station = x->order_station;
        w->comp.order_epoch = x->order_epoch, w->comp.order_seq = x->order_seq;
        w->comp.station = r->station;
        w->comp.done_epoch = r->epoch, w->comp.done_seq = r->seq;
        w->body.body_case = WM__RECORD__BODY_ORDER_COMPLETED;
        w->body.order_completed = &w->comp;
    }
}

/* Decides steps st against book and writes the words in one append.
 * *wrote: how many. The book learns each word as it is decided, so a
 * second acceptance of one open order in the same round loses. */
static WM_MUST_CHECK wm_err_t decide(wm_agg_t *a, wm_orders_t *book, const steps_t *st,
                                     size_t *wrote)
{
    word_t *w = calloc(st->n ? st->n : 1, sizeof *w);
    wm_append_t *items = calloc(st->n ? st->n : 1, sizeof *items);
    uint32_t today = wm_date_today_checked();
    size_t n = 0;
    wm_err_t err = w && items ? WM_OK : WM_ENOMEM;
    for (size_t i = 0; err == WM_OK && i < st->n; i++) {
        const char *why = "";
        const wm_record_t *r = st->v[i];
        wm_decide_t d = wm_orders_decide(book, a->node->cfg->id, r, &why);
        if (d == WM_DECIDE_NONE) {
            if (why[0])
                (void)wm_diag_peer(WM_DIAG_INFO, r->station,
                                   "orders: %s's %s %" PRIu32 "/%" PRIu64
                                   " is stored, not counted: %s",
                                   r->station, wm_record_kind(r), r->epoch, r->seq, why);
            continue;
        }
        word_of(&w[n], r, d, today);
        w[n].body.station = (char *)a->node->cfg->id; /* the book applies it as ours */
        err = wm_orders_apply(book, &w[n].body);
        items[n].body = &w[n].body;
        n++;
    }
    if (err == WM_OK && n)
        err = wm_node_append(a->node, items, n);
    for (size_t i = 0; err == WM_OK && i < n; i++)
        if (items[i].err != WM_OK) { /* cannot happen: the word keeps the rules */
            wm_error("orders: an %s record was refused: %s: %s", wm_record_kind(&w[i].body),
                     items[i].rej.field, items[i].rej.why);
            err = items[i].err;
        }
    *wrote = err == WM_OK ? n : 0;
    free(items);
    free(w);
    return err;
}

/* Saves p's mark in its own transaction. */
static WM_MUST_CHECK wm_err_t mark_save(wm_agg_t *a, wm_agg_peer_t *p)
{
    char name[40];
    uint8_t b[12];
    wm_txn_t *t = NULL;
    mark_name(name, sizeof name, p->node_no);
    for (int i = 0; i < 4; i++)
        b[i] = (uint8_t)(p->o_epoch >> (24 - 8 * i));
    for (int i = 0; i < 8; i++)
        b[4 + i] = (uint8_t)(p->o_seq >> (56 - 8 * i));
    wm_err_t err = wm_txn_begin(a->node->store, 1, &t);
    if (err == WM_OK)
        err = wm_meta_put(t, name, b, sizeof b);
    if (err == WM_OK)
        err = wm_txn_commit(&t);
    wm_txn_abort(&t);
    if (err == WM_OK)
        p->o_unsaved = 0;
    return err;
}

/* One round for child p: reads its steps past the mark, decides, writes
 * the words, moves the mark. *more: the round stopped at the steps'
 * limit. */
static WM_MUST_CHECK wm_err_t child_round(wm_agg_t *a, wm_agg_peer_t *p, int *more)
{
    wm_txn_t *t = NULL;
    wm_orders_t book = WM_ORDERS_INIT;
    steps_t st = {0};
    size_t wrote = 0;
    *more = 0;
    st.v = calloc(WM_AGG_STEPS_MAX, sizeof *st.v);
    wm_err_t err = st.v ? wm_txn_begin(a->node->store, 0, &t) : WM_ENOMEM;
    if (err == WM_OK)
        err = mark_load(t, p);
    st.epoch = p->o_epoch, st.seq = p->o_seq;
    if (err == WM_OK)
        err = wm_log_scan(t, p->node_no, p->o_epoch, p->o_seq + 1, keep_step, &st, NULL);
    if (err == WM_OK && st.n)
        err = load_book(a, t, &book);
    wm_txn_abort(&t); /* the steps and the book are copies */
    if (err != WM_OK || st.read == 0)
        goto out;
    if (st.n)
        crash_at("orders-pending");
    if ((err = decide(a, &book, &st, &wrote)) != WM_OK)
        goto out;
    if (wrote)
        crash_at("orders-written");
    /* The words are durable: only now may the mark pass their steps. */
    p->o_epoch = st.epoch, p->o_seq = st.seq;
    p->o_unsaved += st.read;
    if (wrote || p->o_unsaved >= WM_AGG_MARK_EVERY)
        err = mark_save(a, p);
    *more = st.full;
out:
    steps_free(&st);
    wm_orders_free(&book);
    return err;
}

void wm_agg_orders_decide(wm_agg_t *a)
{
    if (a->node->cfg->role == WM_ROLE_STATION)
        return;
    for (size_t i = 0; i < a->npeers; i++) {
        int more = 1;
        wm_err_t err = WM_OK;
        if (!a->peers[i].node_no)
            continue; /* nothing received from it yet */
        for (int round = 0; more && err == WM_OK && round < 64; round++)
            err = child_round(a, &a->peers[i], &more);
        if (err != WM_OK)
            wm_error("orders: cannot decide the order steps of %s: %s (%s); next promotion "
                     "tries again",
                     a->peers[i].ps->node, wm_strerror(err), wm_store_detail(a->node->store));
    }
}
