/* SPDX-License-Identifier: MIT */
/*
 * wm_net — the transport layer: the only module that includes <zmq.h>.
 *
 * Sockets are ZeroMQ sockets behind an opaque wm_sock_t; messages are
 * lists of frames copied into malloc'd buffers that the caller owns
 * (wm_msg_clear frees them). One wm_net_t (a ZeroMQ context) per process;
 * a socket belongs to the thread that made it.
 *
 * Local control channel: the daemon binds a ROUTER at ipc://PATH with the
 * socket file mode 0660 (WM_CTL_MODE: the daemon's user and group, wmsync,
 * which the web console's user joins); wmctl connects a DEALER. A request is one frame;
 * the ROUTER sees [peer-id][request] and answers [peer-id][reply].
 */
#ifndef WM_NET_H
#define WM_NET_H

#include <stddef.h>
#include <stdint.h>

#include "wm_err.h"

#define WM_MSG_MAX_FRAMES 8
#define WM_CTL_MAX_BYTES (4u << 20) /* largest control message */
/* Most bytes of an evidence file in one control message (CtlRequest
 * blob_put, CtlReply blob_data): a quarter of the largest message. */
#define WM_CTL_BLOB_CHUNK (1u << 20)
#define WM_CTL_MODE 0660            /* the control socket: its owner and group */

typedef struct wm_net wm_net_t;
typedef struct wm_sock wm_sock_t;

typedef struct {
    uint8_t *data;
    size_t len;
} wm_frame_t;

/* Room for a ZAP user id, NUL included: wmsync's ZAP handler sets the
 * sender's transport key in hex (64 digits); a longer one is cut. */
#define WM_NET_USER_ID_MAX 160

typedef struct {
    size_t n;
    wm_frame_t f[WM_MSG_MAX_FRAMES];
    size_t dropped; /* frames received beyond WM_MSG_MAX_FRAMES, not kept */
    char user_id[WM_NET_USER_ID_MAX]; /* ZAP user id of the sender (sync sockets), else "" */
} wm_msg_t;

WM_MUST_CHECK wm_err_t wm_net_new(wm_net_t **out);
/* Closes the context; every socket must be closed first. Accepts NULL. */
void wm_net_free(wm_net_t **n);

/* Binds the control ROUTER at PATH (stale socket file removed first: call
 * only while holding the node's lock) and makes the file mode WM_CTL_MODE. */
WM_MUST_CHECK wm_err_t wm_ctl_listen(wm_net_t *n, const char *path, wm_sock_t **out);
/* Connects to the control socket at PATH. WM_EDOWN at once if no process
 * is listening there (missing or stale socket file); WM_EPERM at once if
 * this user may not connect to it (the file's mode, or a directory's). */
WM_MUST_CHECK wm_err_t wm_ctl_connect(wm_net_t *n, const char *path, wm_sock_t **out);
/* Sends req and waits up to timeout_ms for one reply frame (malloc'd into
 * *reply, caller frees). WM_ETIMEOUT if none came; WM_EDOWN as soon as
 * nobody listens on the socket any more (the daemon died meanwhile). */
WM_MUST_CHECK wm_err_t wm_ctl_call(wm_sock_t *s, const uint8_t *req, size_t len, uint8_t **reply,
                     size_t *rlen, int timeout_ms);

/* A wake-up line between two threads of the process (inproc PAIR): *rx
 * is polled by the thread that made it; *tx is handed to one other thread
 * (creating that thread is the memory barrier ZeroMQ asks for) and used
 * only there. Both are closed with wm_sock_close. */
WM_MUST_CHECK wm_err_t wm_wake_open(wm_net_t *n, wm_sock_t **rx, wm_sock_t **tx);
/* Makes rx readable; never blocks (a wake-up already waiting is enough). */
void wm_wake_send(wm_sock_t *tx);
/* Takes every waiting wake-up from rx. */
void wm_wake_drain(wm_sock_t *rx);

/* Closes *s (pending outgoing messages are dropped) and sets it NULL. */
void wm_sock_close(wm_sock_t **s);

/* Receives one whole message without blocking. WM_ETIMEOUT if none is
 * waiting. A message of more than WM_MSG_MAX_FRAMES frames is consumed
 * whole and returned with its first WM_MSG_MAX_FRAMES frames (the ROUTER's
 * identity among them, so the sender can be answered) and m->dropped set
 * to how many more it had: no caller expects that many, so each refuses it
 * as it refuses any message of the wrong shape. */
WM_MUST_CHECK wm_err_t wm_sock_recv(wm_sock_t *s, wm_msg_t *m);
/* Sends the frames of m (not freed). WM_EIO if the socket refuses. */
WM_MUST_CHECK wm_err_t wm_sock_send(wm_sock_t *s, const wm_msg_t *m);
/* Frees the frames of m and empties it. */
void wm_msg_clear(wm_msg_t *m);
/* Appends a copy of data as a new frame; WM_ENOMEM / WM_ETOOBIG. */
WM_MUST_CHECK wm_err_t wm_msg_add(wm_msg_t *m, const void *data, size_t len);

/* Waits up to timeout_ms (-1: forever) until one of socks is readable;
 * sets ready[i] nonzero for each readable one. Returns the number ready,
 * 0 on timeout or interruption by a signal. At most WM_NET_POLL_MAX socks. */
int wm_net_poll(wm_sock_t *const *socks, int n, int *ready, long timeout_ms);

/* One thing to wait on in wm_net_poll_items: a socket, or (sock NULL) a
 * plain file descriptor (a pipe, an eventfd) that another thread writes
 * to wake this one. ready is set by the call. */
typedef struct {
    wm_sock_t *sock; /* borrowed; NULL: wait on fd instead */
    int fd;
    int ready;       /* out: nonzero when readable */
} wm_poll_item_t;

#define WM_NET_POLL_MAX 64 /* items per call: a daemon polls a handful */

/* Waits up to timeout_ms (-1: forever) until one of the n items (at most
 * WM_NET_POLL_MAX) is readable and sets each item's ready. Returns the
 * number ready, 0 on timeout or when a signal interrupted the wait (the
 * caller checks its signal flags), WM_NET_POLL_ERR (< 0) when an item is
 * not pollable (a closed fd): wm_net_detail() says why. */
#define WM_NET_POLL_ERR (-1)
int wm_net_poll_items(wm_poll_item_t *items, int n, long timeout_ms);

/* Sync links. Keys are raw 32-byte Curve25519 keys; secrets stay in the
 * caller's secure memory and are copied only into libzmq.
 *
 * wm_sync_listen: a ROUTER at endpoint, CURVE server, ZAP domain "wmsync",
 * messages over max_bytes (the plaintext; libzmq is given max_bytes +
 * WM_SYNC_CURVE_OVERHEAD, since it measures the encrypted frame) refused by
 * libzmq (the peer is disconnected),
 * ZMTP heartbeats. A ZAP handler (wm_zap_open) must exist first.
 * wm_sync_connect: a DEALER to endpoint as CURVE client of server_pub,
 * with ZMTP heartbeats and libzmq's own reconnect (ivl..ivl_max ms), and a
 * monitor (wm_sync_link_poll). Both take the link options of n
 * (wm_net_set_link_opts), and accept IPv6 endpoints (tcp://[::1]:7450) as
 * well as IPv4 ones; a host name is resolved when the socket connects. */
WM_MUST_CHECK wm_err_t wm_sync_listen(wm_net_t *n, const char *endpoint, const uint8_t *secret,
                        size_t max_bytes, wm_sock_t **out);
WM_MUST_CHECK wm_err_t wm_sync_connect(wm_net_t *n, const char *endpoint, const uint8_t server_pub[32],
                         const uint8_t *secret, const uint8_t pub[32], size_t max_bytes,
                         wm_sock_t **out);

/* How sync links made after wm_net_set_link_opts behave on a thin link
 * (wmsync.conf [sync]; design.md §8 "Thin links"). Zero fields keep the
 * built-in defaults (WM_SYNC_ZMTP_IVL_MS, WM_SYNC_ZMTP_TIMEOUT_MS, no TCP
 * keepalive, libzmq's 30 s handshake).
 *   zmtp_ivl_ms    ZMTP PING interval (ZMQ_HEARTBEAT_IVL)
 *   dead_ms        a connection that carried nothing this long is dropped
 *                  (ZMQ_HEARTBEAT_TIMEOUT and _TTL)
 *   handshake_ms   a connection whose ZMTP/CURVE handshake is not done by
 *                  then is dropped (ZMQ_HANDSHAKE_IVL)
 *   keepalive_s    TCP keepalive: first probe after this idle time, then
 *                  every keepalive_s / 3 (at least 1 s), 3 probes; 0: off
 *   monitor        wm_sync_connect sockets get a monitor (wm_sync_link_poll);
 *                  it costs two more sockets (file descriptors) each, so a
 *                  process of a thousand links (a simulator) leaves it off */
typedef struct {
    int zmtp_ivl_ms, dead_ms, handshake_ms, keepalive_s;
    int monitor;
} wm_net_link_opts_t;
void wm_net_set_link_opts(wm_net_t *n, const wm_net_link_opts_t *o);

/* What libzmq reported of a connecting sync socket (wm_sync_connect)
 * since it was made: wm_sync_link_poll drains the socket's monitor and
 * returns the accumulated state. Counters only grow; all 0 for a socket
 * made without a monitor (wm_net_link_opts_t.monitor). */
typedef struct {
    unsigned tcp_up;        /* TCP connections made */
    unsigned refused;       /* attempts the network refused (RST, unreachable) */
    unsigned handshake_ok;  /* ZMTP/CURVE handshakes completed */
    unsigned auth_refused;  /* the server's ZAP handler refused our key */
    unsigned proto_failed;  /* the peer broke the handshake's protocol (not ZMTP, bad CURVE) */
    unsigned broken;        /* connections closed during the handshake (a wrong server key,
                               a reset) */
    unsigned disconnects;   /* established connections lost */
    int up;                 /* a handshaken connection is up now */
} wm_sync_link_ev_t;
void wm_sync_link_poll(wm_sock_t *s, wm_sync_link_ev_t *out);

/* ZAP (RFC 27): the authentication handler the ROUTER consults at every
 * handshake. wm_zap_open binds it (one per context, before any listen). */
typedef struct {
    char request_id[64];
    size_t request_id_len;
    char domain[64];
    char address[64];       /* the client's IP address, as ZeroMQ gives it */
    char mechanism[16];
    uint8_t client_key[32]; /* for CURVE */
    int has_key;
    wm_msg_t raw;           /* the request, kept for the reply */
} wm_zap_req_t;

WM_MUST_CHECK wm_err_t wm_zap_open(wm_net_t *n, wm_sock_t **out);
/* Reads one ZAP request (non-blocking). WM_EDECODE if malformed (it is
 * answered 400 already). */
WM_MUST_CHECK wm_err_t wm_zap_recv(wm_sock_t *zap, wm_zap_req_t *req);
/* Answers req: status 200 with user_id, or 400 with text. Frees req. */
WM_MUST_CHECK wm_err_t wm_zap_reply(wm_sock_t *zap, wm_zap_req_t *req, int ok, const char *user_id,
                      const char *text);

/* The last transport error as text (zmq_strerror of errno). */
const char *wm_net_detail(void);

#endif
