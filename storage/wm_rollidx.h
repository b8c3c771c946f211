/* SPDX-License-Identifier: MIT */
/*
 * wm_rollidx — published rollups in their binary form (RollupPart records,
 * proto/wm_rollbin.h) at the receiver: joined when the last part of a
 * period is in the log, and indexed so that a tier reads a child's figures
 * with one lookup, never parsing or rebuilding the child's JSON.
 *
 * Index entries live in the "reports" sub-database beside the JSON ones
 * (storage/wm_store.h):
 *
 *   key                               value
 *   --------------------------------  --------------------------------------
 *   node u32 | period (ASCII)         epoch u32 | seq u64 of the latest
 *                                     report of the period, either form
 *                                     (for a binary one: its last part)
 *   node u32 | '#' | period (ASCII)   epoch u32 | seq u64 (last part) |
 *                                     the joined RollupBin without rows
 *
 * '#' never begins a period, so the two kinds of key never meet.
 * Functions run inside the caller's transaction; pointers they return are
 * the caller's.
 */
#ifndef WM_ROLLIDX_H
#define WM_ROLLIDX_H

#include <jansson.h>

#include "wm_date.h"
#include "wm_store.h"

/* Indexes part r (just appended to node's log in t, write transaction) if
 * it is the last part of its rollup: the parts before it must be the
 * node's records at the seqs just below, of the same period and count,
 * numbered 0 … parts-1. A rollup whose parts do not join (a gap, another
 * period, bytes that are not a RollupBin) is left unindexed: WM_OK, and
 * the tier above sees no report of that period from the node. Storage
 * errors are returned. */
WM_MUST_CHECK wm_err_t wm_rollidx_put(wm_txn_t *t, uint32_t node, const wm_record_t *r);

/* The rollup object of the binary report whose last part is node's record
 * (epoch, seq), node_id its id: rows: 0 from the index (fast, no rows),
 * 1 joined from the log's parts (with the rows, for an audit).
 * WM_ENOTFOUND if it is not indexed, WM_EDECODE if it does not decode. */
WM_MUST_CHECK wm_err_t wm_rollidx_get(wm_txn_t *t, uint32_t node, const char *node_id, const char *period,
                                      uint32_t epoch, uint64_t seq, int rows, json_t **out);

#endif
