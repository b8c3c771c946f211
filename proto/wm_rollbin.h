/* SPDX-License-Identifier: MIT */
/*
 * wm_rollbin — the compact binary form of a published rollup (rollup.proto
 * RollupBin, carried in RollupPart records): to and from the rollup JSON
 * object of docs/rollup-json.md, and the cutting of its bytes into parts.
 *
 * The JSON object stays the one contract: a RollupBin is a lossless
 * encoding of it for what the tiers read (totals, rows, covers, problems,
 * names), integers only (the two reals are derived from their exact
 * integer sums, docs/rollup-json.md rule 3). Figures travel in the fixed
 * slot order of WM_ROLLBIN_SLOTS (wm_rollbin.c): a slot is never renumbered
 * or removed; a figure added later is appended, and one the slot table
 * does not know yet travels by path ("extra"). The figures of "orders"
 * travel as extras ("orders.needs_received" …); its two ratios are derived
 * again on decoding (wm_rollup_derive_orders).
 *
 * No I/O, no state; thread-safe. Objects returned are the caller's.
 */
#ifndef WM_ROLLBIN_H
#define WM_ROLLBIN_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "rollup.pb-c.h"
#include "wm_err.h"

/* Most parts one published rollup may take (64 records of at most
 * WM_ROLLBIN_PART_MAX bytes of data: 3.8 MiB, a town of ~15,000 stations). */
#define WM_ROLLBIN_PARTS_MAX 64
/* Data bytes per part: the 64 KiB record limit less room for the header
 * and the part's other fields. */
#define WM_ROLLBIN_PART_MAX (60 * 1024)
/* Largest joined RollupBin accepted: every part full. */
#define WM_ROLLBIN_MAX ((size_t)WM_ROLLBIN_PARTS_MAX * WM_ROLLBIN_PART_MAX)

/* Encodes rollup object j as RollupBin bytes (*out malloc'd, the caller
 * frees it). rows: 0 leaves out the per-child rows (what a receiver keeps
 * in its index: it makes its own rows). WM_EINVAL if j is not a rollup
 * object (no "period", "totals" …), WM_ENOMEM. */
WM_MUST_CHECK wm_err_t wm_rollbin_encode(const json_t *j, int rows, uint8_t **out, size_t *len);

/* Decodes RollupBin bytes (at most WM_ROLLBIN_MAX) into the rollup object
 * of node id (a new reference in *out). WM_EDECODE if the bytes are not a
 * RollupBin or its problems are not a JSON array, WM_ENOMEM. */
WM_MUST_CHECK wm_err_t wm_rollbin_decode(const uint8_t *buf, size_t len, const char *id, json_t **out);

/* The TOTALS object of f (a new reference; NULL out of memory): every
 * slot's figure (0 if f's list is shorter), by_team, the extras, and the
 * two reals from their integer sums. */
json_t *wm_rollbin_totals_json(const Wm__RollupFigures *f);

/* The derived figures of TOTALS' "orders" object (docs/rollup-json.md):
 * rating_avg = rating_sum / loops_closed and satisfaction_rate =
 * ratings_satisfied / loops_closed, null without a closed loop. Every
 * tier derives them from its own sums, never adds them. No "orders"
 * object: nothing. */
void wm_rollup_derive_orders(json_t *totals);

/* What a receiver indexes of a RollupBin (*out malloc'd): the same bytes
 * without the per-child rows (it makes its own rows). A tier's (scope
 * above town) also loses what the tier above lists only by count
 * (docs/rollup-json.md, "Above a county"): its covers, the teams of
 * by_team and their names, and every problem but a child not reported or
 * invalid (and the names of nodes no remaining problem names).
 * WM_EDECODE if buf is not a RollupBin, WM_ENOMEM. */
WM_MUST_CHECK wm_err_t wm_rollbin_summary(const uint8_t *buf, size_t len, uint8_t **out, size_t *olen);

/* Whether a problem of this kind is a tier's own (a child not reported,
 * or its report invalid): the only kinds listed above a county. */
int wm_rollbin_tier_problem(const char *kind);

/* Whether scope is a tier's (county, city, province): its children are
 * aggregators whose reports it sums. */
int wm_rollbin_tier_scope(const char *scope);

/* How many parts len bytes take (at least 1). */
uint32_t wm_rollbin_parts(size_t len);

#endif
