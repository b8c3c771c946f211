/* SPDX-License-Identifier: MIT */
/*
 * wm_report — a period's figures and problems as one JSON object, built
 * from the rollup counters (never from the logs). It is the single source
 * of every output: the table, CSV, xlsx, the prose report, and the signed
 * rollup report a town publishes to its county.
 *
 * The object is a published interface (county scripts read it): its keys,
 * types and meaning are documented in docs/rollup-json.md and checked by
 * docs/rollup.schema.json. Add keys, never rename or remove documented
 * ones; the object carries sums and counts only (they add up the tiers):
 * ratios are derived by the reader, never carried or summed.
 */
#ifndef WM_REPORT_H
#define WM_REPORT_H

#include <jansson.h>

#include "wm_date.h"
#include "wm_store.h"

/* The "schema" member of every rollup object. Adding keys keeps it; a new
 * number would mean an incompatible object, which the rules forbid. */
#define WM_REPORT_SCHEMA 1

/* A need left unreviewed longer than this many days is a problem
 * (wm_report_opts_t.review_days 0; config [orders] review_days). */
#define WM_REVIEW_DAYS 7

typedef struct {
    const char *id, *name, *role; /* this node */
    int aggregator;               /* children are the enrolled peers, else only itself */
    const char *station;          /* restrict to one station, or NULL */
    unsigned cadence_days;        /* team cadence, default 14 */
    unsigned silent_days;         /* "not synced" after this many days, default 7 */
    unsigned date_tolerance_days; /* [blobs]: a photo's capture date this far from its
                                   * activity's is a problem (wm_evidcheck.h), default 3 */
    uint32_t photos_from;         /* [blobs] photos_required_from, YYYYMMDD; 0: each
                                   * station's first photo (wm_evidcheck.h) */
    unsigned review_days;         /* a need unreviewed longer is a problem; 0: 7 */
    uint32_t today;               /* YYYYMMDD */
    int64_t now;                  /* unix seconds */
    char *why;                    /* if not NULL: on failure, a sentence naming the
                                   * node whose data could not be read and where */
    size_t why_cap;
} wm_report_opts_t;

/* Builds the report of period p. *out is a new reference. WM_ENOTFOUND if
 * o->station is not a known station. Any read that fails (WM_ECORRUPT,
 * WM_EIO, WM_EDECODE …) fails the whole build: a report is complete or
 * there is none, never one with figures left out. */
WM_MUST_CHECK wm_err_t wm_report_build(wm_txn_t *t, const wm_period_t *p, const wm_report_opts_t *o,
                         json_t **out);

/* The same object for a tier (a county, city or province, or any
 * aggregator with an aggregator among its children): the sums, child by
 * child, of each aggregator child's latest signed rollup of exactly period
 * p (found in its log), and of each station child's own figures from the
 * counters; "stations" lists the children with their totals (and, for a
 * published one, the report record it came from); an aggregator child
 * without one is a problem "town_not_reported". "names" gathers the
 * display names the children carried up. The tier's own records count
 * nowhere here (an aggregator child's are in its published figures). */
WM_MUST_CHECK wm_err_t wm_report_build_tier(wm_txn_t *t, const wm_period_t *p, const wm_report_opts_t *o,
                              json_t **out);

/* The report of the node as the tier above sees it: wm_report_build for a
 * station or a town of stations, wm_report_build_tier for anything above
 * (o->role county, city or province, or any enrolled child not a station).
 * Every caller that computes a node's figures (rollup, publish, audit) goes
 * through here: one code path for every level. */
WM_MUST_CHECK wm_err_t wm_report_build_any(wm_txn_t *t, const wm_period_t *p, const wm_report_opts_t *o,
                             json_t **out);

/* The latest rollup of period p in node_id's log, in either form (a JSON
 * RollupReport, or RollupPart records of the binary form): *report (new
 * reference) and where it is (at: the record, or a binary report's last
 * part). A binary report comes from the receiver's index, without the
 * per-child rows ("stations" is empty): what a tier sums. WM_ENOTFOUND if
 * there is none. */
WM_MUST_CHECK wm_err_t wm_report_find(wm_txn_t *t, const char *node_id, const wm_period_t *p, json_t **report,
                        wm_head_t *at);
/* The same, but a binary report is joined from its parts in the log with
 * its rows, as the node signed it: what an audit checks. */
WM_MUST_CHECK wm_err_t wm_report_find_full(wm_txn_t *t, const char *node_id, const wm_period_t *p,
                                           json_t **report, wm_head_t *at);

#endif
