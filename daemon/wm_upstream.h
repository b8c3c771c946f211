/* SPDX-License-Identifier: MIT */
/*
 * wm_upstream — the child side of the sync protocol: a DEALER to the
 * aggregator above, over CURVE. Sends Hello, streams batches from the
 * aggregator's durable frontier under its credit, stores each ack, sends
 * heartbeats, reconnects with backoff and jitter. Local writes never wait
 * on it: it only reads the log, in short read transactions, from the
 * daemon's poll loop.
 */
#ifndef WM_UPSTREAM_H
#define WM_UPSTREAM_H

#include <jansson.h>

#include "sync.pb-c.h"
#include "wm_net.h"
#include "wm_node.h"

typedef struct wm_upstream wm_upstream_t;

WM_MUST_CHECK wm_err_t wm_upstream_open(wm_node_t *node, wm_net_t *net, wm_upstream_t **out, char *why,
                          size_t cap);
void wm_upstream_close(wm_upstream_t **u);
/* The socket to poll, or NULL while disconnected. */
wm_sock_t *wm_upstream_sock(wm_upstream_t *u);
void wm_upstream_on_msg(wm_upstream_t *u);
/* Timers: connect, retry, heartbeat, timeouts; also sends new records. */
void wm_upstream_tick(wm_upstream_t *u);
/* Milliseconds until the next timer is due (for the poll timeout). */
long wm_upstream_next_ms(wm_upstream_t *u);
/* 1 if the upstream reads rollups in the binary form: its last Welcome
 * (this run, else as stored before) agreed the feature "rollup-bin";
 * 0 if not, or if it never welcomed us (an upstream of an older build
 * then still reads the JSON form). 0 for NULL. */
int wm_upstream_rollup_bin(wm_upstream_t *u);
/* Audits through the tiers: a FETCH from above with a `path` is handed to
 * fn (set by the daemon; it asks the aggregator side to relay it), which
 * returns WM_OK when an answer is pending and why otherwise (then the
 * tier above gets RECORDS with that error). The pending answer is sent
 * with wm_upstream_send_records: recs as the child sent them (req_id
 * replaced by up_req_id), or error set and recs NULL. */
typedef wm_err_t (*wm_upstream_relay_fn)(void *ctx, const Wm__Fetch *f, char *why, size_t cap);
void wm_upstream_set_relay(wm_upstream_t *u, wm_upstream_relay_fn fn, void *ctx);
void wm_upstream_send_records(wm_upstream_t *u, uint64_t up_req_id, Wm__Records *recs,
                              const char *error);
/* Blobs on demand through the tiers (feature "blob-fetch", PROTOCOL.md
 * §7.3): a BLOB_FETCH from above with a path is handed to fn (set by the
 * daemon: wm_agg_blob_relay), which returns WM_OK when an answer is
 * pending, else why ("slug: sentence", then sent up as the answer's
 * error). The pending answer goes up with wm_upstream_send_blob_data: d
 * as the child sent it, its req_id replaced by up_req_id. */
typedef wm_err_t (*wm_upstream_blob_relay_fn)(void *ctx, const Wm__BlobFetch *f, char *why,
                                              size_t cap);
void wm_upstream_set_blob_relay(wm_upstream_t *u, wm_upstream_blob_relay_fn fn, void *ctx);
void wm_upstream_send_blob_data(wm_upstream_t *u, uint64_t up_req_id, Wm__BlobData *d);
/* A number that changes whenever the link moves records (acks, batches
 * sent): the daemon's idle detection. */
uint64_t wm_upstream_progress(wm_upstream_t *u);
/* Live state for status: connected, last contact, in flight, last reject. */
json_t *wm_upstream_status(wm_upstream_t *u);
/* The child's side of feature "down" (the parent's log held here, for
 * `bundle import` of the parent's bundle); NULL for u NULL. */
struct wm_down *wm_upstream_down(wm_upstream_t *u);
/* Asks the parent for its log anew from what is held now (a DOWN_HELLO on
 * a session that agreed "down"; else the next session asks): after a fork
 * reset (wm_down_reset_fork). Accepts NULL. */
void wm_upstream_down_restart(wm_upstream_t *u);

#endif
