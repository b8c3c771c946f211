/* SPDX-License-Identifier: MIT */
/*
 * wm_append — the one way a record enters a log: the log itself, its
 * derived indexes (teams, refs, reports: wm_log_append) and the rollup
 * counters (wm_rollup), all in the caller's write transaction. The
 * station's own appends (daemon wm_node_append) and the aggregator's
 * promotion of verified records (wm_stage_promote) both go through it, so
 * no caller has to remember the rollup code.
 *
 *   wm_append_begin(t, flags, &ap);
 *   for each record: wm_append_add(ap, node, r, srec, len);
 *   wm_append_finish(&ap);      then the caller commits t
 *
 * Records are the caller's to authenticate: add stores what it is given
 * (after the chain checks of wm_log_append). An appender belongs to one
 * transaction and one thread; it holds counter deltas in memory until
 * finish writes them, so nothing is counted unless finish succeeds and t
 * commits.
 */
#ifndef WM_APPEND_H
#define WM_APPEND_H

#include <stddef.h>
#include <stdint.h>

#include "wm_store.h"

#define WM_APPEND_NO_ROLLUP 0x1 /* benchmarks: logs and indexes only */

typedef struct wm_appender wm_appender_t;

/* Starts appending in write transaction t (which must outlive the
 * appender). *out is owned by the caller: end it with finish or abandon.
 * WM_ENOMEM. */
WM_MUST_CHECK wm_err_t wm_append_begin(wm_txn_t *t, unsigned flags, wm_appender_t **out);
/* Appends srec (decoded as r) to node's log with its indexes and counts
 * it. Codes as wm_log_append: WM_OK, WM_EEXIST (already stored, nothing
 * counted), WM_EFORKED, WM_ECHAIN, storage errors. After a storage error
 * the transaction must be aborted. */
WM_MUST_CHECK wm_err_t wm_append_add(wm_appender_t *ap, uint32_t node, const wm_record_t *r,
                       const uint8_t *srec, size_t len);
/* Number of records appended (WM_OK from add) so far. */
uint64_t wm_append_count(const wm_appender_t *ap);
/* Writes the counter deltas into the transaction and frees *ap (set
 * NULL), also on failure; then the caller commits (or, on failure,
 * aborts) the transaction. */
WM_MUST_CHECK wm_err_t wm_append_finish(wm_appender_t **ap);
/* Frees *ap without writing its deltas (the caller aborts the
 * transaction). Accepts NULL. */
void wm_append_abandon(wm_appender_t **ap);

#endif
