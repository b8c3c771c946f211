/* SPDX-License-Identifier: MIT */
/*
 * wm_agg — the aggregator role: the register of enrolled children, the ZAP
 * handler that admits only their transport keys, the ROUTER that speaks
 * the sync protocol (PROTOCOL.md) and group commits of ingested batches.
 * Single-threaded: driven from the daemon's poll loop.
 */
#ifndef WM_AGG_H
#define WM_AGG_H

#include <jansson.h>

#include "sync.pb-c.h"
#include "wm_net.h"
#include "wm_node.h"
#include "wm_sync.h" /* the protocol's version, limits and reject reasons */


typedef struct wm_agg wm_agg_t;

/* Loads the register, opens the ZAP handler and listens on endpoint with
 * the node's Curve25519 secret. why explains a failure. */
WM_MUST_CHECK wm_err_t wm_agg_open(wm_node_t *node, wm_net_t *net, const char *endpoint,
                     const uint8_t *curve_secret, wm_agg_t **out, char *why, size_t cap);
void wm_agg_close(wm_agg_t **a);

/* Sockets to poll: [0] ZAP, [1] ROUTER. */
wm_sock_t *wm_agg_zap(wm_agg_t *a);
wm_sock_t *wm_agg_router(wm_agg_t *a);
void wm_agg_on_zap(wm_agg_t *a);
void wm_agg_on_router(wm_agg_t *a);
/* Benchmarks: wm_agg_on_router takes its messages from next instead of
 * the router socket: next fills *m (frames malloc'd, as wm_sock_recv
 * does; the turn frees them) and returns WM_OK, or WM_ETIMEOUT when there
 * is no more this turn; waiting says whether more will come (what a
 * readable router socket says). Answers still go out on the router (to
 * the route in each message's first frame). tests/bench/bench_town feeds
 * a station's pre-encoded messages through it: the very path of a
 * received message. */
typedef wm_err_t (*wm_agg_next_fn)(void *ctx, wm_msg_t *m);
typedef int (*wm_agg_waiting_fn)(void *ctx);
void wm_agg_set_source(wm_agg_t *a, wm_agg_next_fn next, wm_agg_waiting_fn waiting, void *ctx);
/* SIGHUP: re-reads the enrolment register from LMDB, keeping live
 * sessions of peers that remain (revoked ones lose theirs). */
WM_MUST_CHECK wm_err_t wm_agg_reload(wm_agg_t *a);
/* Periodic work: persists peer bookkeeping. */
void wm_agg_tick(wm_agg_t *a);

/* Enrolls (or re-enrolls, keeping history) a child from its identity.
 * WM_EEXIST if another node already uses its transport key. */
WM_MUST_CHECK wm_err_t wm_agg_enroll(wm_agg_t *a, const Wm__Identity *id, char *why, size_t cap);
/* Revokes a child: effective at once, also on a live connection. */
WM_MUST_CHECK wm_err_t wm_agg_revoke(wm_agg_t *a, const char *id, char *why, size_t cap);
/* Revokes a child whose keys were stolen (PROTOCOL.md §6): every signing
 * key enrolled for it (current and prior) is marked compromised beyond one
 * point, so nothing they signed after it is accepted again, by network or
 * bundle (reject `compromised`); its transport key and those signing keys
 * are never enrolled again. The point is *after if after_set (it must not
 * lie below what this aggregator holds of the child: WM_EINVAL), else what
 * it holds (its durable frontier); *after is set to the point used. A key
 * marked before keeps its earlier point. Durable when WM_OK is returned;
 * WM_ENOTFOUND if id is not enrolled. */
WM_MUST_CHECK wm_err_t wm_agg_compromise(wm_agg_t *a, const char *id, int after_set, wm_head_t *after,
                           char *why, size_t cap);
/* Ingests records of a child through the same path as the network (for
 * offline bundles). res.* as in wm_ingest; durable after return. */
WM_MUST_CHECK wm_err_t wm_agg_import(wm_agg_t *a, const char *id, const uint8_t *const *recs,
                       const size_t *lens, size_t n, char *why, size_t cap,
                       uint64_t *accepted, uint64_t *duplicates, wm_head_t *durable);

/* Verification of staged records (wm_stage.h, wm_verifier.h). Poll
 * wm_agg_verifier(a) and call wm_agg_on_verified(a) when it is readable:
 * it moves verified records into the log (and the counters) and
 * quarantines a node whose record is not validly signed (reason
 * bad_signature). verify_status: {"verified": N, "lag_s": {id: seconds
 * its oldest unverified record has waited}} (the caller owns it).
 * unverified: the number of children with records not yet verified,
 * naming them in why ("" if none); -1 if that cannot be read. */
wm_sock_t *wm_agg_verifier(wm_agg_t *a);
void wm_agg_on_verified(wm_agg_t *a);
json_t *wm_agg_verify_status(wm_agg_t *a);
int wm_agg_unverified(wm_agg_t *a, char *why, size_t cap);

/* Each child's link since the daemon started (wm_link.h): {id:
 * {"wire_bytes", …, "zstd"}} for the children seen; the caller owns it. */
json_t *wm_agg_links_status(wm_agg_t *a);

/* Each child's blobs (feature "blobs"): {id: {"blobs_named",
 * "blobs_missing" (named by its verified records, not held whole here),
 * "blob_bytes_held", "blob_bytes_received", "blobs_received"}}; the caller
 * owns it. */
json_t *wm_agg_blobs_status(wm_agg_t *a);

/* The live sessions: {id: milliseconds since its last message} (the
 * caller owns it). A session silent longer than [sync] dead_link_s is
 * dropped, so a child gone without FIN or RST leaves it within that. */
json_t *wm_agg_sessions_status(wm_agg_t *a);

/* Audits: asks child f->via for records of node f->node; the answer goes
 * to ctl_peer on the control socket set with wm_agg_set_ctl, when it comes
 * (or a timeout error after 15 s). WM_OK means "answer pending". */
void wm_agg_set_ctl(wm_agg_t *a, wm_sock_t *ctl);
WM_MUST_CHECK wm_err_t wm_agg_fetch(wm_agg_t *a, const Wm__Fetch *f, const wm_frame_t *ctl_peer, char *why,
                      size_t cap);

/* Audits through the tiers (PROTOCOL.md §2, FETCH `path`): the tier above
 * asked this node for records it does not hold, through its child
 * f->path[0]. wm_agg_relay asks that child (with the rest of the path);
 * its answer, or a timeout (error set, recs NULL), goes to the function
 * set with wm_agg_set_relay, with the tier above's req_id. WM_OK means
 * "answer pending"; otherwise why says why (nothing is pending). */
typedef void (*wm_agg_relay_fn)(void *ctx, uint64_t up_req_id, Wm__Records *recs,
                                const char *error);
void wm_agg_set_relay(wm_agg_t *a, wm_agg_relay_fn fn, void *ctx);
WM_MUST_CHECK wm_err_t wm_agg_relay(wm_agg_t *a, const Wm__Fetch *f, char *why, size_t cap);

/* Blobs on demand (feature "blob-fetch", PROTOCOL.md §7.3): one step of
 * bringing blob f->hash (of f->size bytes as a signed record says; 0: not
 * known) into this node's store from child f->via through f->path ("":
 * the child whose verified record names it here, or the only connected
 * child that offers the feature). The child is asked for the bytes after
 * those held (the blob's .part); its answer is written there and the blob
 * completed at its last byte, present only if it hashes to its name. The
 * control reply goes to ctl_peer (wm_agg_set_ctl) when the child answers
 * or after WM_BLOB_FETCH_TIMEOUT_S: blob_held, blob_size, blob_present,
 * blob_from, or error with the reason slug in `field` (PROTOCOL.md §7.3).
 * Returns WM_OK: answer pending; WM_EEXIST: present here already
 * (*present_size its size; nothing asked); otherwise why (cap bytes) and
 * *slug say why nothing is pending (WM_EINVAL, WM_ENOTFOUND, WM_ESTATE,
 * WM_EIO, WM_ENOMEM). */
WM_MUST_CHECK wm_err_t wm_agg_blob_fetch(wm_agg_t *a, const Wm__BlobFetch *f,
                                         const wm_frame_t *ctl_peer, uint64_t *present_size,
                                         const char **slug, char *why, size_t cap);
/* Relays down the tiers: the tier above asked for a blob through child
 * f->path[0]; its BLOB_DATA (or, after the timeout, one whose error says
 * so) goes to fn, set by wm_agg_set_blob_relay, with the tier above's
 * req_id, unchecked (the asker checks the bytes). WM_OK: answer pending;
 * otherwise why ("slug: sentence") says why not. */
typedef void (*wm_agg_blob_relay_fn)(void *ctx, uint64_t up_req_id, Wm__BlobData *d);
void wm_agg_set_blob_relay(wm_agg_t *a, wm_agg_blob_relay_fn fn, void *ctx);
WM_MUST_CHECK wm_err_t wm_agg_blob_relay(wm_agg_t *a, const Wm__BlobFetch *f, char *why,
                                         size_t cap);

#endif
