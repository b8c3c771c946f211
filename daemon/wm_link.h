/* SPDX-License-Identifier: MIT */
/*
 * wm_link — what one sync link costs on the wire and what it learnt of the
 * far side's clock, kept by both ends: the child for its link to the
 * aggregator (wm_upstream), the aggregator for each child (wm_agg). Shown
 * by `wmctl status` (PROTOCOL.md §7.1, docs/operations.md).
 *
 * Bytes are counted per sync message as sent or received: the encoded
 * SyncMsg plus WM_LINK_MSG_OVERHEAD (CURVE's box and ZMTP's frame header).
 * Not counted: TCP/IP headers, the ZMTP/CURVE handshake of each
 * connection, ZMTP heartbeats. Counters run from the daemon's start.
 * Single-threaded: the daemon's poll loop only.
 */
#ifndef WM_LINK_H
#define WM_LINK_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "wm_sync.h"

/* CURVE's 33 bytes per message (WM_SYNC_CURVE_OVERHEAD) and a ZMTP frame
 * header: 2 bytes below 256 bytes of body, 9 above. */
#define WM_LINK_MSG_OVERHEAD(len) (WM_SYNC_CURVE_OVERHEAD + ((len) + WM_SYNC_CURVE_OVERHEAD < 256 ? 2 : 9))

typedef struct {
    uint64_t bytes_out, bytes_in; /* sync messages, as counted above */
    uint64_t msgs_out, msgs_in;
    uint64_t records;             /* carried in batches (sent, or received) */
    uint64_t zbatches;            /* of the batches, those sent compressed */
    int zstd;                     /* feature "zstd" in use on the current session */
} wm_link_t;

/* Counts one message of len encoded bytes sent (out) or received. */
void wm_link_sent(wm_link_t *l, size_t len);
void wm_link_received(wm_link_t *l, size_t len);
/* Counts a batch of n records (zipped: it travelled as a ZBatch). */
void wm_link_batch(wm_link_t *l, size_t n, int zipped);

/* The features this node lists in its HELLO: wm_sync_features, less
 * "zstd" when compress is 0 ([sync] compress = no), and less those named
 * in the environment variable WMSYNCD_HELLO_FEATURES_OFF (comma
 * separated), with which a test plays a child of an older build (the
 * aggregator's WMSYNCD_FEATURES_OFF is its WELCOME's, wm_agg.c). out
 * holds WM_SYNC_FEATURES_MAX; returns how many. */
size_t wm_link_features(int compress, char **out);

/* The wall clock now, unix milliseconds (CLOCK_REALTIME: for the clocks'
 * offsets only, never for a timer). */
int64_t wm_link_wall_ms(void);

/* {"wire_bytes", "wire_bytes_out", "wire_bytes_in", "wire_messages",
 *  "wire_records", "bytes_per_record" (wire_bytes / wire_records, 0 with
 *  no records), "zbatches", "zstd"}: a new object, NULL if out of memory. */
json_t *wm_link_json(const wm_link_t *l);

#endif
