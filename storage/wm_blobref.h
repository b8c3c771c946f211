/* SPDX-License-Identifier: MIT */
/*
 * wm_blobref — which blobs (attachments, storage/wm_blob.h) each log's
 * records name: the index the sync of blobs works from (feature "blobs",
 * PROTOCOL.md §9). Kept by wm_index_record for every activity appended to
 * a log: at a station for its own records, at an aggregator for a child's
 * records when they are verified and promoted (so a blob is wanted only
 * once a verified record names it: nothing unauthenticated is asked for).
 *
 * Sub-database "blobrefs" (created by a read-write open; an environment
 * that no build with it has opened reads as empty):
 *
 *     key (36 bytes)                 value (21 bytes)
 *     node u32 BE | hash[32]         size u64 BE | flags u8 | epoch u32 BE | seq u64 BE
 *     key (4 bytes): a node's total  value (16 bytes)
 *     node u32 BE                    bytes u64 BE | count u64 BE
 *
 * size is what the first record naming the blob says; (epoch, seq) is
 * that record. flags: WM_BLOBREF_CONFIRMED — the upstream told this node
 * it holds the blob, verified (a station may then prune it). Another
 * record naming the same blob changes nothing. A record that names the
 * hash with another size is indexed under the first size only (the blob's
 * bytes decide: only one size can hash to it).
 * WM_BLOBREF_HELD — at an aggregator: the blob counts in the node's blob
 * quota (its whole size: held here whole, or being received from that
 * node). A node's total (a 4-byte key, which sorts before the node's
 * entries) is the sum of the sizes and the number of its entries with
 * WM_BLOBREF_HELD, changed only by wm_blobref_hold in the transaction that
 * changes the flag, so the quota check reads one key instead of walking
 * every blob of the node. Stores written before the totals existed are
 * brought up to date once by wm_blobref_rebuild (meta "blobref_totals").
 *
 * All functions take a transaction of wm_store.h and follow its rules.
 */
#ifndef WM_BLOBREF_H
#define WM_BLOBREF_H

#include <stdint.h>

#include "wm_crypto.h"
#include "wm_record.h"
#include "wm_store.h"

#define WM_BLOBREF_CONFIRMED 0x01
#define WM_BLOBREF_HELD 0x02
/* Meta name (wm_store.h): present, 1 byte = 1, once the totals are kept. */
#define WM_BLOBREF_META_TOTALS "blobref_totals"
/* A file of this name in the blob store (storage/wm_blob.h ignores it)
 * asks the aggregator to rebuild the totals: `wmctl blob prune` at an
 * aggregator removes blobs without opening the store for writing, and
 * leaves it behind. */
#define WM_BLOBREF_RECOUNT ".recount"

struct wm_blob; /* storage/wm_blob.h */

typedef struct {
    uint64_t bytes, count; /* of the node's entries with WM_BLOBREF_HELD */
} wm_blobref_total_t;

typedef struct {
    uint8_t hash[WM_HASH_BYTES];
    uint64_t size;
    uint8_t flags;
    uint32_t epoch; /* the first record that names it */
    uint64_t seq;
} wm_blobref_t;

/* Indexes the attachments of r (an activity just appended to node's log
 * in t; any other kind is ignored). WM_OK, or a store error. */
WM_MUST_CHECK wm_err_t wm_blobref_index(wm_txn_t *t, uint32_t node, const wm_record_t *r);

/* node's entry for hash into *out; WM_ENOTFOUND if no record of node
 * names it. */
WM_MUST_CHECK wm_err_t wm_blobref_get(wm_txn_t *t, uint32_t node,
                                      const uint8_t hash[static WM_HASH_BYTES], wm_blobref_t *out);

/* Calls fn for each blob node's records name, in hash order, from the
 * first hash above `after` (NULL: from the start); fn returning nonzero
 * stops the walk (WM_OK). A read that fails mid-walk returns its error:
 * a partial walk is never WM_OK. */
typedef int (*wm_blobref_fn)(const wm_blobref_t *ref, void *ctx);
WM_MUST_CHECK wm_err_t wm_blobref_each(wm_txn_t *t, uint32_t node, const uint8_t *after,
                                       wm_blobref_fn fn, void *ctx);

/* Sets flags (WM_BLOBREF_ ones, or'ed in; not WM_BLOBREF_HELD, which only
 * wm_blobref_hold changes) on node's entry for hash (t a write
 * transaction). WM_ENOTFOUND if there is none. */
WM_MUST_CHECK wm_err_t wm_blobref_mark(wm_txn_t *t, uint32_t node,
                                       const uint8_t hash[static WM_HASH_BYTES], uint8_t flags);

/* node's total into *out (zeros if it has none). */
WM_MUST_CHECK wm_err_t wm_blobref_total(wm_txn_t *t, uint32_t node, wm_blobref_total_t *out);

/* Sets (held nonzero) or clears WM_BLOBREF_HELD on node's entry for hash
 * and adds its size to node's total or takes it away, in t (a write
 * transaction). Nothing changes if the flag is so already. WM_ENOTFOUND
 * if node's records do not name hash. */
WM_MUST_CHECK wm_err_t wm_blobref_hold(wm_txn_t *t, uint32_t node,
                                       const uint8_t hash[static WM_HASH_BYTES], int held);

/* Clears WM_BLOBREF_HELD of every node's entry for hash (the blob was
 * removed from the store), with their totals: a walk of the whole index,
 * for operator commands only. */
WM_MUST_CHECK wm_err_t wm_blobref_release(wm_txn_t *t, const uint8_t hash[static WM_HASH_BYTES]);

/* Sets every entry's WM_BLOBREF_HELD from the store bs (held iff the blob
 * is present there), writes every node's total again and sets meta
 * WM_BLOBREF_META_TOTALS: for a store the totals were not kept in yet, or
 * to check them. *changed (may be NULL): the entries whose flag changed
 * plus the totals that were not what the walk found. t a write
 * transaction. */
WM_MUST_CHECK wm_err_t wm_blobref_rebuild(wm_txn_t *t, const struct wm_blob *bs,
                                          uint64_t *changed);

/* *kept nonzero if this store's totals are kept (wm_blobref_rebuild ran
 * on it once). */
WM_MUST_CHECK wm_err_t wm_blobref_totals_kept(wm_txn_t *t, int *kept);

#endif
