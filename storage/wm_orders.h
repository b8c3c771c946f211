/* SPDX-License-Identifier: MIT */
/*
 * wm_orders — the service-order state machine (群众点单、中心派单、站点接单、
 * 群众评单), computed from records alone: a fold over the needs-and-orders
 * records (record.proto 30–39) of the logs a node holds, applied in log
 * order. No I/O, no LMDB: the caller reads the records and feeds them; the
 * same records in the same order give the same states at every node and on
 * any day (PROTOCOL.md §5, "Needs and orders").
 *
 *   dispatched --accept--> accepted --done--> done --rating--> rated
 *        \________cancel______\____> cancelled
 *   overdue: dispatched or accepted, and the due day is before the day
 *            asked about (a view, never stored: wm_order_state).
 *   taken:   at a station, an order another station took (a view:
 *            wm_order_state_for).
 *
 * An order is named by the record that created it: the log it is in (the
 * aggregator's id), epoch and seq; printed "STATION:EPOCH:SEQ". Steps:
 *  - order_accept (any station S): dispatched -> accepted by S when the
 *    order is open or addressed to S; otherwise ignored (the order was
 *    taken, or is not S's). For an open order the first one applied wins.
 *  - order_assigned (only in the order's own log): the aggregator's word
 *    on who took it; dispatched or accepted -> accepted by the station it
 *    names, overriding a station's own accept it did not choose.
 *  - order_done (station S): accepted by S -> done.
 *  - order_completed (only in the order's own log): dispatched or accepted
 *    -> done by the station it names.
 *  - rating (station S): done -> rated, when the order answers a need S
 *    raised (or, answering none, S took it); the first such rating wins.
 *    Any other rating is stored and changes nothing.
 *  - order_cancel (only in the order's own log): dispatched or accepted ->
 *    cancelled.
 * Every other step, a step for an order not (yet) known, and a record
 * applied twice change nothing: applying is idempotent.
 *
 * Not thread-safe per wm_orders_t; distinct sets are independent.
 */
#ifndef WM_ORDERS_H
#define WM_ORDERS_H

#include <stddef.h>
#include <stdint.h>

#include "wm_err.h"
#include "wm_record.h"
#include "wm_validate.h"

#define WM_ORDER_ID_MAX (WM_ID_MAX + 32) /* "STATION:EPOCH:SEQ" with its NUL */

typedef enum {
    WM_ORDER_DISPATCHED = 1,
    WM_ORDER_ACCEPTED,
    WM_ORDER_DONE,
    WM_ORDER_RATED,
    WM_ORDER_CANCELLED,
} wm_order_state_t;

typedef struct {
    char log[WM_ID_MAX + 1];     /* the aggregator whose log holds the order */
    uint32_t epoch;
    uint64_t seq;
    char title[WM_TEXT_MAX + 1];
    uint32_t date, due;           /* of the service_order record */
    char to[WM_ID_MAX + 1];       /* the station addressed; "" open (or a team) */
    char from[WM_ORDER_ID_MAX];   /* the parent's order it dispatches again (层层派单); "" */
    char station[WM_ID_MAX + 1];  /* who took it; "" while dispatched */
    wm_order_state_t state;
    uint32_t accepted, done, rated; /* the dates of those steps, 0 before them */
    uint32_t cancelled;             /* the date of the cancellation, 0 before it */
    uint32_t score;                 /* 1..5 once rated */
    uint32_t n_needs;               /* the needs it answers: the logs that raised them */
    char need_log[WM_NEEDS_MAX][WM_ID_MAX + 1];
} wm_order_t;

/* A resident's need and its review: pending until the first need_review
 * from another log than the need's own (its aggregator's) settles it. */
typedef enum { WM_NEED_PENDING = 1, WM_NEED_ACCEPTED, WM_NEED_REJECTED } wm_need_state_t;

typedef struct {
    char log[WM_ID_MAX + 1]; /* the station that raised it */
    uint32_t epoch;
    uint64_t seq;
    char title[WM_TEXT_MAX + 1];
    uint32_t date, reviewed; /* of the need, of its review (0 before) */
    wm_need_state_t state;
} wm_need_t;

typedef struct {
    wm_order_t *v; /* in the order they were created (applied) */
    size_t n, cap;
    wm_need_t *needs; /* likewise */
    size_t n_needs, cap_needs;
    uint64_t changes; /* counts every state change applied */
} wm_orders_t;

#define WM_ORDERS_INIT {NULL, 0, 0, NULL, 0, 0, 0}

/* Applies one record of the log r->station. Records of other kinds are
 * ignored. WM_OK, or WM_ENOMEM (nothing changed). */
WM_MUST_CHECK wm_err_t wm_orders_apply(wm_orders_t *o, const wm_record_t *r);

/* Whether r is a record of needs and orders (record.proto 30–39). */
int wm_orders_kind(const wm_record_t *r);

/* Sorts records of several logs into the order a node first applies them in,
 * the same at every node whatever order it received them in: by the
 * record's own date, then creations (need, service_order) before
 * reviews, the aggregator's assignments, acceptances, completions,
 * ratings and last cancellations, then by log id, epoch and seq. So a
 * step is applied after the record it answers when it is dated the same
 * day or later; a step dated before it changes nothing. */
void wm_orders_sort(wm_record_t **v, size_t n);

/* Applies the records v[0..n) of several logs as a node does: sorted
 * (wm_orders_sort), then again in that order while a pass changes
 * anything, so that a step entered with a date before the step it follows
 * (an order done dated the activity's day, accepted later) still applies:
 * applying is idempotent, so the result is the causal closure of the
 * records, the same at every node. v is reordered. WM_OK or WM_ENOMEM. */
WM_MUST_CHECK wm_err_t wm_orders_apply_all(wm_orders_t *o, wm_record_t **v, size_t n);

/* The order named, or NULL; valid until the next wm_orders_apply. */
wm_order_t *wm_orders_find(const wm_orders_t *o, const char *log, uint32_t epoch, uint64_t seq);

/* The need named, or NULL; valid until the next wm_orders_apply. */
wm_need_t *wm_needs_find(const wm_orders_t *o, const char *log, uint32_t epoch, uint64_t seq);

/* "pending", "accepted" or "rejected". Static string. */
const char *wm_need_state(const wm_need_t *need);

/* The state's slug as of the day asof (YYYYMMDD): "dispatched",
 * "accepted", "done", "rated", "cancelled", or "overdue" for a dispatched
 * or accepted order whose due day is before asof. Static string. */
const char *wm_order_state(const wm_order_t *ord, uint32_t asof);

/* The state as node viewer sees it (wmctl order list, the web console):
 * wm_order_state, except "taken" for an order another station took
 * (accepted, done or rated by it) when viewer is neither the order's own
 * log, nor its taker, nor a node whose need it answers (which follows it
 * to rate it): the loser of an open order sees it so once its parent's
 * word (order_assigned) has come down. Static string. */
const char *wm_order_state_for(const wm_order_t *ord, uint32_t asof, const char *viewer);

/* Writes "LOG:EPOCH:SEQ" into buf[WM_ORDER_ID_MAX]; returns buf. */
char *wm_order_id(const char *log, uint32_t epoch, uint64_t seq, char *buf);

/* Parses an id as wm_order_id writes it (the log id may hold '/', never
 * ':'). WM_OK, or WM_EINVAL naming nothing (the caller names the field). */
WM_MUST_CHECK wm_err_t wm_order_id_parse(const char *id, char log[WM_ID_MAX + 1],
                                         uint32_t *epoch, uint64_t *seq);

/* ---- the aggregator's word (PROTOCOL.md §3, "The aggregator's word") ----
 * When an aggregator promotes a child's verified order_accept or
 * order_done, it decides whether to write order_assigned / order_completed
 * in its own log. The decision depends only on o, the book of the
 * aggregator's own log (its service orders, cancellations, assignments and
 * completions, applied with wm_orders_apply_all), and on the step. */
typedef enum {
    WM_DECIDE_NONE = 0, /* nothing to write (see *why: "" when nothing is wrong) */
    WM_DECIDE_ASSIGN,   /* write order_assigned naming the step's station */
    WM_DECIDE_COMPLETE, /* write order_completed naming the step's station */
} wm_decide_t;

/* The decision for step r (an order_accept or order_done of a child's log
 * r->station) at the aggregator self: ASSIGN for an acceptance of an order
 * of self's log that is dispatched and open or addressed to r->station;
 * COMPLETE for a completion by the station the order is assigned to while
 * it is accepted. Otherwise NONE, and *why (static English) names what is
 * wrong, "" when the step is merely a repeat (the order is already that
 * station's, or done by it) or is not a step: "unknown order" (not an
 * order of self's log), "order cancelled", "order addressed to another
 * station", "order taken by another station", "order not accepted by this
 * station", "order already done". Thread-safe for distinct books. */
wm_decide_t wm_orders_decide(const wm_orders_t *o, const char *self, const wm_record_t *r,
                             const char **why);

/* ---- figures (issue 11 §4; docs/rollup-json.md "orders") ----
 * Sums and counts only: averages and rates are derived by the reader. */
typedef struct {
    int64_t needs_received;   /* needs dated in the period, at the station that raised them */
    int64_t needs_accepted;   /* needs whose review (accepted) is dated in the period */
    int64_t needs_rejected;   /* … rejected */
    int64_t orders_dispatched; /* orders dated (created) in the period */
    int64_t orders_accepted;  /* orders whose acceptance is dated in the period */
    int64_t orders_done;      /* … whose completion */
    int64_t orders_overdue;   /* due by the period's last day, neither done nor cancelled
                               * by then (judged at the period's end: a stock, not a flow) */
    int64_t loops_closed;     /* orders whose (counted) rating is dated in the period */
    int64_t rating_sum;       /* the sum of those ratings' scores */
    int64_t ratings_satisfied; /* those of score 4 or 5 */
} wm_order_figs_t;

/* Adds to *f the figures of book o for days [from, to] (YYYYMMDD) at
 * station (NULL: every station and the aggregator's own). A need counts
 * at the log that raised it; an order at the station that took it, or,
 * not taken, at the station it is addressed to, or (open) at its own log
 * (the aggregator). *f is added to, not cleared. */
void wm_orders_count(const wm_orders_t *o, const char *station, uint32_t from, uint32_t to,
                     wm_order_figs_t *f);

/* Drops from o every order not made in log `log` (needs stay): at an
 * aggregator, the orders of its parent's log, held to be sent down to its
 * children (feature "down"), are the parent's figures, never its own (a
 * town does not take orders: each town would count its county's orders,
 * dispatched and overdue, and the county would add them up again). */
void wm_orders_keep_log(wm_orders_t *o, const char *log);

/* Whether x is overdue as of the end of day `to` (YYYYMMDD): made by
 * then, due by then, and neither done nor cancelled by then. */
int wm_order_overdue_at(const wm_order_t *x, uint32_t to);

/* Whether need n was still unreviewed at the end of day `to`. */
int wm_need_pending_at(const wm_need_t *n, uint32_t to);

/* Why a station's step r (order_accept, order_done, rating) counts in no
 * figure of the book o, whose records include it: NULL when it counts (or
 * is no such step); else a static slug: "order_unknown" (no such order),
 * "order_not_addressed" (an acceptance of an order addressed to another
 * station), "order_cancelled" (cancelled before this station took it),
 * "order_taken" (another station took it), "order_not_accepted" (a
 * completion by a station that did not take it), "order_not_done" (a
 * rating of an order not done), "rating_not_theirs" (a rating by a
 * station whose need the order does not answer), "rating_repeated" (the
 * order was rated before). *date: the step's own date. */
const char *wm_orders_step_problem(const wm_orders_t *o, const wm_record_t *r, uint32_t *date);

/* The order a step names (every step kind keeps it in the same three
 * fields): 1 with *log (valid while r is), *epoch, *seq set, or 0 for a
 * record that names no order. */
int wm_orders_step_ref(const wm_record_t *r, const char **log, uint32_t *epoch, uint64_t *seq);

/* The station an order counts at (see wm_orders_count). Valid while x is. */
const char *wm_order_counted_at(const wm_order_t *x);

void wm_orders_free(wm_orders_t *o);

#endif
