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
 *
 * size is what the first record naming the blob says; (epoch, seq) is
 * that record. flags: WM_BLOBREF_CONFIRMED — the upstream told this node
 * it holds the blob, verified (a station may then prune it). Another
 * record naming the same blob changes nothing. A record that names the
 * hash with another size is indexed under the first size only (the blob's
 * bytes decide: only one size can hash to it).
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

/* Sets flags (WM_BLOBREF_ ones, or'ed in) on node's entry for hash (t a
 * write transaction). WM_ENOTFOUND if there is none. */
WM_MUST_CHECK wm_err_t wm_blobref_mark(wm_txn_t *t, uint32_t node,
                                       const uint8_t hash[static WM_HASH_BYTES], uint8_t flags);

#endif
