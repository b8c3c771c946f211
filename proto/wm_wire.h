/* SPDX-License-Identifier: MIT */
/*
 * wm_wire — the compressed batch frame of feature "zstd" (PROTOCOL.md
 * §7.1): the srecs of a batch packed with each record's `prev` elided
 * where the receiver can restore it, then compressed as one zstd frame.
 * The only module that calls libzstd.
 *
 * Payload (what the zstd frame decompresses to), one entry per srec, in
 * batch order, nothing before or after:
 *
 *     varint  len   bytes carried for this srec (its length, less 34 if elided)
 *     varint  at    0: carried whole; else the srec offset (64 … len) where the
 *                   34 bytes 0x2A 0x20 || hash(srec before it in the frame)
 *                   are put back (the Record's `prev` field, tag and length)
 *     len bytes     the srec as carried
 *
 * Varints are protobuf's (LEB128, at most 5 bytes here). The first entry
 * is always whole (at = 0): the frame never depends on what the receiver
 * holds, so a stale or forked batch is judged on the bytes the station
 * signed, exactly as a plain Batch. Restoration inserts bytes only: the
 * restored srec is byte for byte what was signed, or its signature fails.
 *
 * No I/O, no state: thread-safe. The frame is checked before anything is
 * decompressed: the declared payload size against WM_WIRE_RAW_MAX and the
 * zstd frame's own content size, so a decompression bomb costs nothing.
 */
#ifndef WM_WIRE_H
#define WM_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include "sync.pb-c.h"
#include "wm_err.h"
#include "wm_sync.h"

/* The feature name in Hello/Welcome.features. */
#define WM_WIRE_FEATURE "zstd"
/* The elided bytes: the Record's field 5 tag (0x2A), its length (0x20),
 * and the 32-byte hash. */
#define WM_WIRE_ELIDED (2 + WM_HASH_BYTES)
/* The largest payload a ZBatch may declare: every srec of a full batch
 * (WM_SYNC_MAX_BYTES) and two 5-byte varints per record. Elided bytes make
 * the payload smaller than the batch, never larger. */
#define WM_WIRE_RAW_MAX (WM_SYNC_MAX_BYTES + 10u * WM_SYNC_MAX_RECORDS)
/* zstd level of the sender (its choice: any level decodes alike). Level 1:
 * a station's month is 97.8 bytes a record against 96.1 at zstd's default
 * 3 (level 19 gains about 2 bytes more; tests/bench bench_wire prints the
 * figures), and a station catching up spends ~30 % less CPU sending. */
#define WM_WIRE_LEVEL 1

/* The restored srecs of one frame: recs[0..n) point into one block. */
typedef struct {
    ProtobufCBinaryData *recs;
    size_t n;
    size_t bytes;  /* sum of the restored srec lengths */
    uint8_t *mem;  /* owned: the block recs point into */
    uint8_t *hashes; /* owned: n x WM_HASH_BYTES, the hash of each restored srec
                      * (wm_srec_hash_buf of recs[i]), taken once while restoring
                      * (an elided prev is its predecessor's): ingest needs them
                      * for the chain and takes them from here, not again */
} wm_wire_batch_t;

/* Packs recs[0..n) (srecs, consecutive records of one log) into a zstd
 * frame: *z is malloc'd (the caller frees it), *zlen its length, *raw the
 * payload size to declare in ZBatch.raw_bytes. WM_ETOOBIG if n or the
 * payload exceeds the limits above; WM_ENOMEM. */
WM_MUST_CHECK wm_err_t wm_wire_pack(const ProtobufCBinaryData *recs, size_t n, uint8_t **z,
                                    size_t *zlen, uint32_t *raw);

/* Encodes the SyncMsg that carries b: a ZBatch when zstd is nonzero (the
 * feature is in use on the session) and it is smaller, else the plain
 * Batch. *out is malloc'd (the caller frees it); *zipped says which was
 * chosen. WM_OK or WM_ENOMEM. */
WM_MUST_CHECK wm_err_t wm_wire_encode_batch(const Wm__Batch *b, int zstd, uint8_t **out,
                                            size_t *len, int *zipped);

/* The same for a DOWN_BATCH (feature "down", PROTOCOL.md §8): d's records
 * travel as d.zbatch (records left empty) when zstd is nonzero and that
 * is smaller. */
WM_MUST_CHECK wm_err_t wm_wire_encode_down(const Wm__DownBatch *d, int zstd, uint8_t **out,
                                           size_t *len, int *zipped);

/* Unpacks zb into *out (freed with wm_wire_batch_free). Checks, in this
 * order, before any byte is decompressed: count ≤ max_records
 * (WM_SYNC_R_TOO_BIG), dict = 0 (WM_SYNC_R_BAD_FRAME), raw_bytes ≤
 * WM_WIRE_RAW_MAX (WM_SYNC_R_BOMB), exactly one zstd frame
 * (WM_SYNC_R_BAD_FRAME), its declared content size equal to raw_bytes
 * (WM_SYNC_R_BOMB; a frame that does not declare it: WM_SYNC_R_BAD_FRAME).
 * Then it decompresses into exactly raw_bytes (more: WM_SYNC_R_BOMB; a
 * corrupt frame: WM_SYNC_R_BAD_FRAME) and restores each entry (an entry
 * that does not parse, an `at` out of range or on the first entry, a count
 * that differs: WM_SYNC_R_BAD_FRAME; a restored srec above
 * WM_SYNC_SREC_MAX: WM_SYNC_R_TOO_BIG). Returns WM_SYNC_R_OK, or the
 * reason with a sentence in why (nothing allocated then). */
wm_sync_reason_t wm_wire_unpack(const Wm__ZBatch *zb, uint32_t max_records, wm_wire_batch_t *out,
                                char *why, size_t cap);

/* The checks of wm_wire_unpack that come before any byte is decompressed
 * (the first five above), alone: cheap, no allocation. A frame that passes
 * may still fail to unpack. Returns WM_SYNC_R_OK or the reason, with a
 * sentence in why. */
wm_sync_reason_t wm_wire_check(const Wm__ZBatch *zb, uint32_t max_records, char *why, size_t cap);

/* Frees what b holds and empties it. Accepts an empty b. */
void wm_wire_batch_free(wm_wire_batch_t *b);

#endif
