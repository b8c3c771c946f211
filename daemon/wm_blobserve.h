/* SPDX-License-Identifier: MIT */
/*
 * wm_blobserve — the answering side of feature "blob-fetch" (PROTOCOL.md
 * §7.3): the aggregator above asks this node (a town, for its county) for
 * bytes of a blob it keeps; the answer comes from the node's store
 * (storage/wm_blob.h) as it is. The asker checks every byte against the
 * blob's hash, so nothing here is trusted, and nothing here is written: a
 * fetch never changes the answering node. Called from the daemon's poll
 * loop (wm_upstream.c); a fetch with a path is relayed instead
 * (wm_agg_blob_relay), not answered here.
 */
#ifndef WM_BLOBSERVE_H
#define WM_BLOBSERVE_H

#include <stddef.h>
#include <stdint.h>

#include "sync.pb-c.h"
#include "wm_node.h"

/* The answer to f from node's store, into d (the caller's, initialised
 * with WM__BLOB_DATA__INIT): req_id, hash, offset as asked; size the blob
 * as held; data at most min(f->max, WM_BLOB_FETCH_MAX) bytes from
 * f->offset, in *buf (malloc'd; the caller frees it, also on error). When
 * no bytes can be sent, d->error points to err (cap bytes), "slug:
 * sentence": not_named (no record held here names it), pruned (named,
 * removed by wmctl blob prune: its thumbnail is kept), missing (named, not
 * held whole here: the sentence says whose record and how much of it
 * arrived), size (held under another size than f->size), range (offset
 * past its end, or max 0), storage (the store cannot be read). */
void wm_blobserve_answer(wm_node_t *node, const Wm__BlobFetch *f, Wm__BlobData *d,
                         uint8_t **buf, char *err, size_t cap);

#endif
