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
/* Live state for status: connected, last contact, in flight, last reject. */
json_t *wm_upstream_status(wm_upstream_t *u);

#endif
