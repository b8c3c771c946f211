/* SPDX-License-Identifier: MIT */
/*
 * wm_report — a period's figures and problems as one JSON object, built
 * from the rollup counters (never from the logs). It is the single source
 * of every output: the table, CSV, xlsx, the prose report, and the signed
 * rollup report a town publishes to its county.
 *
 * {
 *   "period": "2024-05", "from": "2024-05-01", "to": "2024-05-31",
 *   "scope": "town" | "station", "id": ID, "name": NAME, "generated": ISO-8601,
 *   "covers": [{"station", "epoch", "seq", "hash"}],   log heads the figures cover
 *   "totals": TOTALS,
 *   "stations": [{"id", "name", "totals": TOTALS}],    per station
 *   "problems": [{"kind", "station", ...}]
 * }
 * TOTALS = {
 *   "activities": {"theme_lecture": n, … every category slug …, "total": n},
 *   "volunteer_services": {"by_kind": {"environmental": n, …}, "by_team": {"TEAM": n},
 *                          "total": n},
 *   "participants", "activity_volunteers", "service_hours", "festival_events",
 *   "grassroots_lectures", "late_entries", "recruitment_posts", "funding_yuan",
 *   "publicity": {"wechat": n, "website": n, "poster": n, "leaflet": n, "total": n},
 *   "volunteers": {"registered", "verified", "registered_cumulative", "verified_cumulative"},
 *   "sites": {"reporting", "plaque", "rules", "equipment", "manager", "ledger", "plan",
 *             "theme", "six_haves", "model_stations"},
 *   "plans": {"due", "done", "overdue"}
 * }
 * problem kinds: team_never_served {station, team, name}; team_below_cadence {station,
 * team, name, blocks, blocks_missed, cadence_days}; station_no_activity {station};
 * station_no_grassroots_lecture {station, months}; station_not_synced {station, days};
 * late_entries {station, count, late_days}.
 */
#ifndef WM_REPORT_H
#define WM_REPORT_H

#include <jansson.h>

#include "wm_date.h"
#include "wm_store.h"

typedef struct {
    const char *id, *name, *role; /* this node */
    int aggregator;               /* children are the enrolled peers, else only itself */
    const char *station;          /* restrict to one station, or NULL */
    unsigned cadence_days;        /* team cadence, default 14 */
    unsigned silent_days;         /* "not synced" after this many days, default 7 */
    uint32_t today;               /* YYYYMMDD */
    int64_t now;                  /* unix seconds */
} wm_report_opts_t;

/* Builds the report of period p. *out is a new reference. WM_ENOTFOUND if
 * o->station is not a known station. */
wm_err_t wm_report_build(wm_txn_t *t, const wm_period_t *p, const wm_report_opts_t *o,
                         json_t **out);

/* The same object for a county (or any tier above towns): the sums of the
 * children's latest signed rollups of exactly period p, found in their
 * logs; "stations" lists the towns with their totals and the report record
 * each came from; a town without one is a problem "town_not_reported". */
wm_err_t wm_report_build_tier(wm_txn_t *t, const wm_period_t *p, const wm_report_opts_t *o,
                              json_t **out);

/* The latest rollup of period p in node_id's log: *report (new reference)
 * and where it is (at). WM_ENOTFOUND if there is none. */
wm_err_t wm_report_find(wm_txn_t *t, const char *node_id, const wm_period_t *p, json_t **report,
                        wm_head_t *at);

#endif
