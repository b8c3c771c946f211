/* SPDX-License-Identifier: MIT */
/*
 * wm_bundle — a streaming reader of bundle files (PROTOCOL.md §5): the 8
 * bytes "WMSYNCB1", then one Bundle message (sync.proto) whose top-level
 * fields are read here by hand — key varint, length varint, value — so a
 * bundle of any size is read with memory for one record at a time.
 *
 * Two passes over a seekable source:
 *   wm_bundle_scan  checks the whole file without keeping it: the magic,
 *                   every field's key and length against what is left of
 *                   the file, every record's length against
 *                   WM_BUNDLE_REC_MAX, the node id (which may come anywhere
 *                   in the message; the last one wins, as in protobuf).
 *                   Nothing is handed on from a file that fails here.
 *   wm_bundle_next  then returns the records one by one, in file order.
 * Fields 2 (sign_pub) and 3 (from) are bounded and skipped; unknown fields
 * of wire types 0, 1, 2 and 5 are skipped, as protobuf does; groups, field
 * number 0, a known field with the wrong wire type, a varint over 10 bytes
 * and any length past the end of the file are malformed.
 *
 * Byte layout read (offsets from the start of the file):
 *
 *     0   8   "WMSYNCB1"
 *     8   ..  fields: key = (number << 3 | wire type) as a varint, then
 *             for wire type 2 a varint length and that many bytes
 *             1 node (string)  2 sign_pub (bytes)  3 from (Frontier)
 *             4 records (bytes, one srec each, repeated)
 *
 * Thread-safe per reader; no global state. The source is the caller's.
 */
#ifndef WM_BUNDLE_H
#define WM_BUNDLE_H

#include <stddef.h>
#include <stdint.h>

#include "wm_crypto.h"
#include "wm_err.h"
#include "wm_record.h"

#define WM_BUNDLE_MAGIC "WMSYNCB1"
#define WM_BUNDLE_MAGIC_LEN 8
/* The largest record entry: a signature and the largest record. */
#define WM_BUNDLE_REC_MAX (WM_SIG_BYTES + WM_REC_MAX)
/* Node ids are at most WM_ID_MAX (wm_validate.h) bytes; a little slack so
 * a too-long id is refused by the aggregator by name, not here. */
#define WM_BUNDLE_NODE_MAX 255
/* sign_pub is 32 bytes and a Frontier about 50: anything longer is not a
 * bundle this protocol writes. */
#define WM_BUNDLE_SMALL_MAX 1024

/* Where the bytes come from: the whole file is `size` bytes. read fills
 * buf with exactly n bytes from the current position (0, or -1 on error or
 * short read); seek moves to an absolute offset (0 or -1). */
typedef struct {
    int (*read)(void *ctx, uint8_t *buf, size_t n);
    int (*seek)(void *ctx, uint64_t off);
    void *ctx;
    uint64_t size;
} wm_bundle_src_t;

typedef struct {
    wm_bundle_src_t src;
    uint64_t off;                        /* file offset of the next field */
    char node[WM_BUNDLE_NODE_MAX + 1];   /* after a successful scan */
    uint64_t records;                    /* how many records the file holds */
    uint64_t record_bytes;               /* their total size */
    uint64_t next;                       /* records returned by wm_bundle_next */
    char why[WM_WHY_MAX];                /* what is wrong, after a failure */
} wm_bundle_t;

/* Pass 1: checks the bundle in src and counts its records; leaves b ready
 * for wm_bundle_next. Returns WM_OK; WM_EDECODE if it is not a bundle or is
 * malformed or truncated (why names the byte offset and what is wrong);
 * WM_ETOOBIG if a record is over WM_BUNDLE_REC_MAX (why names the record's
 * number, counted from 1, its offset, its size and the limit); WM_EIO if
 * the source fails. */
WM_MUST_CHECK wm_err_t wm_bundle_scan(wm_bundle_t *b, const wm_bundle_src_t *src);

/* Pass 2: the next record, copied into buf (cap >= WM_BUNDLE_REC_MAX).
 * Returns WM_OK with *len set; WM_ENOTFOUND after the last record; the
 * errors of wm_bundle_scan if the file changed since the scan. */
WM_MUST_CHECK wm_err_t wm_bundle_next(wm_bundle_t *b, uint8_t *buf, size_t cap, size_t *len);

/* A source over a buffer in memory (tests, fuzzing): ctx is a
 * wm_bundle_mem_t that lives as long as the reader. */
typedef struct {
    const uint8_t *data;
    uint64_t size, pos;
} wm_bundle_mem_t;
wm_bundle_src_t wm_bundle_mem_src(wm_bundle_mem_t *m);

#endif
