/* SPDX-License-Identifier: MIT */
/*
 * wm_orderidx — keeps the refs index of needs-and-orders records (refs
 * kind 'o', wm_store.h; read by wm_orderbook) whole for stores written
 * before it existed: the first slice of issue 11 stored needs and orders
 * without it, so their figures and listings would miss them. The meta name
 * "orders_index" (u32 big-endian, WM_ORDERIDX_VERSION) says that the
 * index covers every record of every log:
 *  - a writable open (wm_store_open, the daemon's) of a store without it,
 *    or with an older version, rebuilds the index from the logs and sets
 *    the mark in ONE transaction: durable at its commit, so it runs once,
 *    and a crash before the commit leaves the store as it was, to be
 *    rebuilt at the next open (putting a ref twice changes nothing);
 *  - a new store gets the mark at its first writable open (nothing to
 *    index); wm_log_append keeps the index from then on (wm_index.c);
 *  - a read-only reader of a store not yet rebuilt (wmctl, the daemon not
 *    restarted since the upgrade) reads the logs instead of the index
 *    (wm_orderbook_load), so it never shows figures the index lacks.
 *
 *   meta "orders_index"   u32 version   absent: records may be unindexed
 *
 * Thread-safety: as wm_store.h (a transaction belongs to one thread).
 */
#ifndef WM_ORDERIDX_H
#define WM_ORDERIDX_H

#include <stddef.h>

#include "wm_store.h"

#define WM_ORDERIDX_VERSION 1 /* 1: every needs-and-orders record but notices */
#define WM_META_ORDERIDX "orders_index"

/* Whether r is a record the index holds (record.proto 30–39, notices
 * aside: wm_index_record's 'o' cases). */
int wm_orderidx_kind(const wm_record_t *r);

/* *current = 1 when t's store has the mark at WM_ORDERIDX_VERSION or
 * later, else 0. WM_OK, or the read error (*current is then 0). */
WM_MUST_CHECK wm_err_t wm_orderidx_current(wm_txn_t *t, int *current);

/* Calls fn(ctx, node, epoch, seq) for every record of every log in t
 * that the index holds, found by reading and decoding the logs (never the
 * index), node by node in key order, until fn returns nonzero. WM_OK; the
 * read error that stopped it part-way (WM_ECORRUPT, WM_EIO), or
 * WM_EDECODE for a stored record that does not decode: a partial result,
 * never to be shown as complete. */
WM_MUST_CHECK wm_err_t wm_orderidx_scan_logs(wm_txn_t *t, wm_ref_fn fn, void *ctx);

/* At a writable open of s: when the mark is absent or old, indexes every
 * such record of every log and sets the mark, in one write transaction
 * (run again after growing the map when it is full). *indexed (may be
 * NULL): how many records it indexed, 0 when the index was current.
 * WM_OK; WM_EMAPFULL / WM_ENOSPC / WM_EIO / WM_EDECODE / WM_ECORRUPT
 * with nothing changed (wm_store_detail says what). */
WM_MUST_CHECK wm_err_t wm_orderidx_ensure(wm_store_t *s, size_t *indexed);

/* Removes every 'o' ref and the mark in write transaction t: the store
 * as the first slice of issue 11 left it. For tests. WM_OK or LMDB's
 * error, translated. */
WM_MUST_CHECK wm_err_t wm_orderidx_drop(wm_txn_t *t);

#endif
