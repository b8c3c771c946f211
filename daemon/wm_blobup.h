/* SPDX-License-Identifier: MIT */
/*
 * wm_blobup — the child's side of feature "blobs" (PROTOCOL.md §9): the
 * files its records name (attachments, storage/wm_blob.h) follow the
 * records to the aggregator. Owned by wm_upstream, which hands it the
 * session's messages and calls wm_blobup_pump when the link may carry
 * chunks:
 *
 *   IDLE --records sent, blobs unconfirmed--> OFFERED --BLOB_WANT--> SENDING
 *     ^                                          |                     |
 *     +---------- nothing wanted ----------------+--- all acked -------+
 *
 * Records preempt chunks: chunks go only while the record cursor has
 * nothing to send, and what is in flight is kept to about a second of the
 * link's measured rate (WM_BLOBUP_WINDOW_MS), so a record batch never
 * waits behind more than that. [sync] blob_rate caps the bytes a second.
 * A blob is confirmed (durably, wm_blobref) when the aggregator says it
 * holds it verified: a BLOB_WANT's `have`, or a BLOB_ACK's `present`.
 * Single-threaded: the daemon's poll loop only.
 */
#ifndef WM_BLOBUP_H
#define WM_BLOBUP_H

#include <jansson.h>
#include <stdint.h>

#include "sync.pb-c.h"
#include "wm_node.h"

/* What all chunks in flight may hold: this much of the link's rate. */
#define WM_BLOBUP_WINDOW_MS 1000

typedef struct wm_blobup wm_blobup_t;
/* Sends one message on the upstream link (wm_upstream's sender). */
typedef wm_err_t (*wm_blobup_send_fn)(void *ctx, Wm__SyncMsg *m);

/* Opens the child's side over node->blobs (NODE/blobs, opened by wm_node_open). */
WM_MUST_CHECK wm_err_t wm_blobup_open(wm_node_t *node, wm_blobup_send_fn send, void *ctx,
                                      wm_blobup_t **out);
void wm_blobup_close(wm_blobup_t **b);
/* A session began (agreed: both listed "blobs") or ended (agreed 0):
 * everything in flight is forgotten; the next offer starts afresh. */
void wm_blobup_session(wm_blobup_t *b, int agreed);
/* The aggregator refused blobs for this session (reject blob_quota). */
void wm_blobup_pause(wm_blobup_t *b);
void wm_blobup_on_want(wm_blobup_t *b, const Wm__BlobWant *w);
void wm_blobup_on_ack(wm_blobup_t *b, const Wm__BlobAck *a);
/* Sends an offer or chunks if the link may carry them: records_idle
 * nonzero when no record waits to be sent and none was sent in this turn
 * (records first); rate_bps the link's measured
 * delivery rate (0: unknown). */
void wm_blobup_pump(wm_blobup_t *b, int records_idle, double rate_bps);
/* Milliseconds until pump has something to do (a rate-capped chunk, the
 * next offer); -1: nothing waits for time (or records were waiting at the
 * last pump: the answers to their batches wake the loop). */
long wm_blobup_next_ms(wm_blobup_t *b);
/* Into j: "blobs_pending", "blob_bytes_pending" (named by our records,
 * not confirmed by the aggregator), "blob_eta_s" (at rate_bps; -1 if
 * unknown), "blobs_missing_local" (named, but not in our store),
 * "blob_bytes_sent", "blob_rate_cap". */
void wm_blobup_status(wm_blobup_t *b, double rate_bps, json_t *j);

#endif
