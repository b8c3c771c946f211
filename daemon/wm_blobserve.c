/* SPDX-License-Identifier: MIT */
/* wm_blobserve — a child answers a BLOB_FETCH; see wm_blobserve.h. */
#include "wm_blobserve.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wm_blob.h"
#include "wm_blobref.h"
#include "wm_sync.h"

/* Node numbers are given out from 1 upwards; a walk stops at the first
 * one missing, and never walks further than this (a town has tens of
 * children, a county's store a few thousand logs). */
#define NODE_WALK_MAX 100000

/* Why a blob not present here cannot be sent: who names it (not_named if
 * no log held here does), and how much of it a .part holds. */
static void why_missing(wm_node_t *node, const uint8_t *hash, char *err, size_t cap)
{
    wm_txn_t *t = NULL;
    wm_blobref_t ref;
    const char *who = NULL;
    uint64_t held = 0;
    if (wm_txn_begin(node->store, 0, &t) != WM_OK) {
        snprintf(err, cap, "storage: this node cannot read its store");
        return;
    }
    for (uint32_t no = 1; no < NODE_WALK_MAX && !who; no++) {
        const char *id = NULL;
        if (wm_nodeno_name(t, no, &id) != WM_OK)
            break;
        if (wm_blobref_get(t, no, hash, &ref) == WM_OK)
            who = id;
    }
    if (!who) {
        snprintf(err, cap, "not_named: no record held here names this blob");
    } else if (wm_blob_thumb_has(node->blobs, hash, NULL) == WM_OK) {
        snprintf(err, cap, "pruned: named by record %" PRIu32 "/%" PRIu64 " of %s; removed here "
                           "by wmctl blob prune (a thumbnail is kept)",
                 ref.epoch, ref.seq, who);
    } else if (wm_blob_part_held(node->blobs, hash, ref.size, &held) == WM_OK && held) {
        snprintf(err, cap, "missing: named by record %" PRIu32 "/%" PRIu64 " of %s; %" PRIu64
                           " of its %" PRIu64 " bytes have arrived here",
                 ref.epoch, ref.seq, who, held, ref.size);
    } else {
        snprintf(err, cap, "missing: named by record %" PRIu32 "/%" PRIu64 " of %s, but not held "
                           "here (never received from it, or removed by wmctl blob prune)",
                 ref.epoch, ref.seq, who);
    }
    wm_txn_abort(&t);
}

void wm_blobserve_answer(wm_node_t *node, const Wm__BlobFetch *f, Wm__BlobData *d,
                         uint8_t **buf, char *err, size_t cap)
{
    uint64_t size = 0;
    size_t n = 0;
    uint32_t max = f->max < WM_BLOB_FETCH_MAX ? f->max : WM_BLOB_FETCH_MAX;
    *buf = NULL;
    err[0] = 0;
    d->req_id = f->req_id;
    d->hash = f->hash;
    d->offset = f->offset;
    if (f->hash.len != WM_HASH_BYTES) {
        snprintf(err, cap, "not_named: a hash is %d bytes", WM_HASH_BYTES);
        goto out;
    }
    wm_err_t rc = wm_blob_has(node->blobs, f->hash.data, &size);
    if (rc == WM_ENOTFOUND) {
        why_missing(node, f->hash.data, err, cap);
        goto out;
    }
    d->size = size;
    if (rc != WM_OK) {
        snprintf(err, cap, "storage: this node cannot read its store of blobs");
    } else if (f->size && f->size != size) {
        snprintf(err, cap, "size: the blob held here is %" PRIu64 " bytes, not %" PRIu64, size,
                 f->size);
    } else if (f->offset > size || max == 0) {
        snprintf(err, cap, "range: the blob is %" PRIu64 " bytes; asked from %" PRIu64
                           " at most %u", size, f->offset, max);
    } else if (size > f->offset && !(*buf = malloc(max))) {
        snprintf(err, cap, "storage: out of memory");
    } else if (*buf && wm_blob_read(node->blobs, f->hash.data, f->offset, *buf, max, &n) !=
                           WM_OK) {
        snprintf(err, cap, "storage: this node cannot read the blob");
    } else {
        d->data = (ProtobufCBinaryData){n, *buf};
    }
out:
    if (err[0])
        d->error = err, d->data = (ProtobufCBinaryData){0, NULL};
}
