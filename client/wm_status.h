/* SPDX-License-Identifier: MIT */
/*
 * wm_status — can this node be trusted to be caught up? The JSON object
 * of `wmctl status --json` and wmweb's GET /api/v1/status, built once for
 * both from the node's LMDB environment (read-only: works with the daemon
 * down) plus what the running daemon reports live.
 *
 *   every node:   "role", "id", "name", "epoch", "head_seq", "head_hash",
 *                 "records", "daemon_running", "daemon" (when running)
 *   with an upstream: "acked_epoch", "acked_seq", "pending", "connected",
 *                 "last_contact", "last_reject", "last_reject_hint" (what
 *                 to do: wm_sync.h); from the running daemon: the link's
 *                 "wire_bytes" … "zstd" (daemon/wm_link.h), "clock_offset_s" and
 *                 "link": {"rtt_ms", "rate_bps", "dead_link_ms", "last_error",
 *                 "last_error_at", "failing_since" (ISO 8601, "" while the link
 *                 is up), "attempts"}
 *   aggregators:  "stations": [{"id", "name", "epoch", "seq", "claimed_seq",
 *                 "lag", "last_seen", "last_seen_unix", "state", "caught_up",
 *                 "last_reject", "last_reject_detail", "flagged", "proofs",
 *                 "verified_epoch", "verified_seq", "unverified",
 *                 "verify_lag_s", "quota": {"bytes", "records", "days",
 *                 "max_day", "max_day_bytes", "day_limit", "total_limit"},
 *                 "clock_offset_s", "clock_at", and from the running daemon
 *                 "wire_bytes" … "zstd", and "session": the child holds a
 *                 live session now}],
 *                 "caught_up" (every child also fully verified); feature "down"
 *                 (PROTOCOL.md §8), per child: "down_epoch", "down_seq" (how far it
 *                 holds this node's own log, as it last said), "down_lag" (our
 *                 records it lacks), "down_at" (when it said so, unix; 0: never),
 *                 "down_reject" (its last refusal, "slug: detail")
 *   with an upstream, feature "down": "down": {"pinned", "parent", "pinned_key",
 *                 "have_epoch", "have_seq" (how far this node holds its parent's
 *                 log), "forked" ("" or the fork found), and from the running
 *                 daemon "parent_key", "pin_ok" (the parent's key as it said,
 *                 against the pin; null: not yet said), "parent_epoch",
 *                 "parent_seq", "caught_up", "received", "last_at",
 *                 "last_reject", "last_reject_detail", "last_reject_at"}
 *
 * Thread-safe (each call its own read transaction).
 */
#ifndef WM_STATUS_H
#define WM_STATUS_H

#include <jansson.h>

#include "wm_config.h"
#include "wm_err.h"
#include "wm_net.h"
#include "wm_store.h"

/* The running daemon's own status object (op status), or NULL when it is
 * not running or does not answer. net as for wm_client_call. The caller
 * owns the reference. */
json_t *wm_status_live(wm_net_t *net, const char *control);

/* Builds the status object of the node cfg describes into *out (a new
 * reference) from store s (NULL: no environment yet, an empty log) and
 * live (wm_status_live's answer, or NULL; borrowed). On a failed read
 * returns the error, *out NULL, and why names the node and LMDB's words. */
WM_MUST_CHECK wm_err_t wm_status_json(const wm_config_t *cfg, wm_store_t *s, json_t *live,
                                      json_t **out, char *why, size_t cap);

#endif
