/* SPDX-License-Identifier: MIT */
/*
 * wm_rollup — incremental counters by day, kept in the same transaction as
 * the ingest that moves them, so a period's figures are a short range scan
 * (days × figures), never a rescan of the logs.
 *
 * Sub-databases (integers big-endian):
 *
 *   name    key                                   value
 *   ------  ------------------------------------  ------------------------------
 *   rollup  scope u32 | day u32                   36 × i64 (two's complement): one
 *                                                 slot per (fig, dim), see slot_map
 *                                                 in wm_rollup.c
 *           scope u32 | day u32 | team u16        i64: WM_FIG_TEAM_SERVICE of a team
 *   plans   node u32 | epoch u32 | seq u64        due u32 | done u32 | voided u8
 *   sites   node u32                              date u32 | flags u16 (bit 0 plaque,
 *                                                 1 rules, 2 equipment, 3 manager,
 *                                                 4 ledger, 5 plan, 6 theme, 7 model)
 *
 *   scope is the node number of a station, or 0 for all stations together
 *   (except WM_FIG_TEAM_SERVICE, whose team numbers are per station);
 *   day is the record's own date (days since 1970-01-01), not its arrival.
 *
 * Figures (fig) and their dimensions (dim):
 */
#ifndef WM_ROLLUP_H
#define WM_ROLLUP_H

#include <stddef.h>
#include <stdint.h>

#include "wm_store.h"

typedef enum {
    WM_FIG_ACTIVITY = 1,   /* dim: category (1..6) — sessions */
    WM_FIG_SERVICE_KIND,   /* dim: service kind (1..7) — volunteer services */
    WM_FIG_TEAM_SERVICE,   /* dim: team number — volunteer services by team */
    WM_FIG_PARTICIPANTS,   /* sum of participants */
    WM_FIG_VOLUNTEERS,     /* sum of volunteers at activities */
    WM_FIG_HOURS_X100,     /* sum of volunteer service hours × 100 */
    WM_FIG_FESTIVAL,       /* culture & sports events tied to a festival / theme tag */
    WM_FIG_GRASSROOTS,     /* grassroots lectures (tag 基层宣讲) */
    WM_FIG_PUBLICITY,      /* dim: channel (1..4) — sum of counts */
    WM_FIG_REGISTERED,     /* volunteers newly registered */
    WM_FIG_VERIFIED,       /* volunteers newly real-name verified */
    WM_FIG_RECRUITMENT,    /* recruitment posts */
    WM_FIG_FUNDING_FEN,    /* funding, fen */
    WM_FIG_PLAN_DUE,       /* plans due that day */
    WM_FIG_PLAN_DONE,      /* plans completed that day */
    WM_FIG_LATE,           /* activities entered more than WM_LATE_DAYS after their date */
    WM_FIG_COUNT
} wm_fig_t;

#define WM_LATE_DAYS 7
#define WM_TAG_GRASSROOTS "基层宣讲"

typedef struct wm_rollup_acc wm_rollup_acc_t;

/* An accumulator of counter deltas for one transaction: records add to it
 * in memory and wm_rollup_flush writes each touched counter once. */
WM_MUST_CHECK wm_err_t wm_rollup_acc_new(wm_rollup_acc_t **out);
void wm_rollup_acc_free(wm_rollup_acc_t **a);

/* Adds what record r (just appended to node's log in t) contributes to the
 * counters, for scope node and scope 0. A void subtracts what its target
 * added (once, and only for the first void of that target). Records of a
 * kind this build does not know count nowhere. Plans and sites are updated
 * in t directly. */
WM_MUST_CHECK wm_err_t wm_rollup_record(wm_rollup_acc_t *a, wm_txn_t *t, uint32_t node, const wm_record_t *r);
/* Writes the accumulated deltas into t and empties a. */
WM_MUST_CHECK wm_err_t wm_rollup_flush(wm_rollup_acc_t *a, wm_txn_t *t);

/* Sums of every (fig, dim) of scope over days [from, to] (YYYYMMDD). */
typedef struct {
    uint16_t fig, dim;
    int64_t value;
} wm_cell_t;

typedef struct {
    wm_cell_t *cells; /* sorted by fig, dim */
    size_t n, cap;
} wm_sums_t;

WM_MUST_CHECK wm_err_t wm_rollup_sum(wm_txn_t *t, uint32_t scope, uint32_t from, uint32_t to, wm_sums_t *out);
/* The value of (fig, dim) in sums; 0 if absent. */
int64_t wm_sums_get(const wm_sums_t *s, wm_fig_t fig, uint16_t dim);
/* Sum over all dims of fig. */
int64_t wm_sums_total(const wm_sums_t *s, wm_fig_t fig);
void wm_sums_free(wm_sums_t *s);

/* Per day sums of one (fig, dim) of scope over [from, to], for cadence
 * checks: calls fn(day YYYYMMDD, value) for each day with a value. */
typedef void (*wm_day_fn)(void *ctx, uint32_t ymd, int64_t value);
WM_MUST_CHECK wm_err_t wm_rollup_days(wm_txn_t *t, uint32_t scope, uint32_t from, uint32_t to, wm_fig_t fig,
                        uint16_t dim, wm_day_fn fn, void *ctx);

/* Plans of node (0: all nodes): due in [from, to], completed in [from, to],
 * and overdue at `asof` (due before it, not done by then, not voided). */
typedef struct {
    int64_t due, done, overdue;
} wm_plans_t;
WM_MUST_CHECK wm_err_t wm_rollup_plans(wm_txn_t *t, uint32_t node, uint32_t from, uint32_t to, uint32_t asof,
                         wm_plans_t *out);

/* The latest site checklist of node (by its date); WM_ENOTFOUND if none.
 * flags as in the sites layout above. */
WM_MUST_CHECK wm_err_t wm_rollup_site(wm_txn_t *t, uint32_t node, uint32_t *date, uint16_t *flags);

#endif
