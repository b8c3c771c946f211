/* SPDX-License-Identifier: MIT */
/*
 * wm_client — what every client of a node shares (wmctl, wmweb): one call
 * to the running daemon over its control socket. The daemon is the only
 * writer of the node's log; clients read LMDB read-only themselves.
 *
 * Thread-safe when each thread passes its own reply pointer: the socket
 * is made and closed inside the call; net (one ZeroMQ context) may be
 * shared by every thread of the process.
 */
#ifndef WM_CLIENT_H
#define WM_CLIENT_H

#include "control.pb-c.h"
#include "wm_err.h"
#include "wm_net.h"

#define WM_CLIENT_CTL_VERSION 1
#define WM_CLIENT_TIMEOUT_MS 15000

/* Sends req (its version set here) to the daemon listening at the control
 * socket path control and waits for its reply (*reply freed with
 * wm_pb_free). net: a context to use, or NULL for one made for this call.
 * WM_EDOWN if no daemon is running (*lost 0) or it vanished while the
 * request was in flight (*lost 1: it may or may not have acted); WM_EPERM
 * if this user may not use the socket (nothing was sent); WM_ETIMEOUT if
 * no answer came in timeout_ms. lost may be NULL. */
WM_MUST_CHECK wm_err_t wm_client_call(wm_net_t *net, const char *control, Wm__CtlRequest *req,
                                      int timeout_ms, Wm__CtlReply **reply, int *lost);

/* A change of the web console's accounts (control op user): action "add"
 * (role, hash), "passwd" (hash) or "del"; role and hash may be NULL where
 * unused. As wm_client_call; the daemon's refusal is in (*reply)->error. */
WM_MUST_CHECK wm_err_t wm_client_user(wm_net_t *net, const char *control, const char *action,
                                      const char *name, const char *role, const char *hash,
                                      Wm__CtlReply **reply);

#endif
