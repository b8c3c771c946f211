/* SPDX-License-Identifier: MIT */
/*
 * wm_blobpack — blobs (storage/wm_blob.h) in one file that streams: what
 * `wmctl backup` writes beside a backup (FILE.blobs) and `wmctl restore`
 * puts back, and what carries a bundle's photos (FILE.wmb.blobs). A pack
 * of hundreds of megabytes is never in memory: it is written and read one
 * buffer at a time. Its byte layout (integers big-endian), version 1:
 *
 *     offset  size  field
 *     0       8     magic "WMBLOBS1" (the version is its last byte)
 *     then, per blob:
 *             1     'B'
 *             32    hash: BLAKE2b-256 of the blob's bytes
 *             8     size (at most WM_BLOB_MAX)
 *             size  the blob's bytes
 *     last:   1     'E'
 *             8     how many blobs came before
 *
 * A reader checks every blob's bytes against its hash before it is stored
 * (through the receiving side of wm_blob: a .part, then complete), so a
 * pack may be carried by anyone. Reading is idempotent (a blob held
 * already is skipped) and resumable (a .part left by a read that stopped
 * is continued, its bytes skipped in the pack). A pack that ends without
 * 'E', or whose count differs, is reported truncated: the blobs before
 * the cut are kept (each whole and verified), nothing after.
 * Not thread-safe per pack; no state between calls.
 */
#ifndef WM_BLOBPACK_H
#define WM_BLOBPACK_H

#include <stdint.h>
#include <stdio.h>

#include "wm_blob.h"

#define WM_BLOBPACK_MAGIC "WMBLOBS1"

typedef struct {
    uint64_t blobs, bytes;  /* in the pack (written, or read) */
    uint64_t stored;        /* read: blobs newly stored */
    uint64_t held;          /* read: blobs held already (skipped) */
    uint64_t refused;       /* read: blobs the filter did not allow */
} wm_blobpack_count_t;

/* Whether a blob of the pack may be stored (e.g. a record names it):
 * nonzero to store it. */
typedef int (*wm_blobpack_allow_fn)(const uint8_t hash[static WM_HASH_BYTES], uint64_t size,
                                    void *ctx);

/* Writes a pack to out of the blobs hashes[0..n) of bs that it holds (a
 * hash it does not hold is skipped), or of every blob of bs if hashes is
 * NULL. WM_OK, or WM_EIO/WM_ENOSPC writing, or a read error of the store
 * (the pack is then incomplete: the caller removes it). */
WM_MUST_CHECK wm_err_t wm_blobpack_write(const wm_blob_t *bs, FILE *out,
                                         const uint8_t (*hashes)[WM_HASH_BYTES], size_t n,
                                         wm_blobpack_count_t *count);

/* Reads the pack in `in` into bs: each blob allow (may be NULL: all)
 * permits is stored, verified against its hash. WM_OK; WM_EDECODE (not a
 * pack, a bad frame, truncated: why says which blob and where);
 * WM_ECORRUPT (a blob's bytes do not hash to its name: why names it; the
 * blobs before it are kept); WM_ETOOBIG (a size over WM_BLOB_MAX); or a
 * store error. why has cap bytes. */
WM_MUST_CHECK wm_err_t wm_blobpack_read(wm_blob_t *bs, FILE *in, wm_blobpack_allow_fn allow,
                                        void *ctx, wm_blobpack_count_t *count, char *why,
                                        size_t cap);

#endif
