/* SPDX-License-Identifier: MIT */
/*
 * wm_agg_int — what the aggregator's files share, and nothing outside them
 * includes. The aggregator is one module (wm_agg.h) in four files, one job
 * each:
 *   wm_agg.c         sessions: ZAP, HELLO, batches, the turn's group commit;
 *   wm_agg_peers.c   the register of enrolled children (enrol, revoke,
 *                    compromise, reload, and their durable bookkeeping);
 *   wm_agg_audit.c   the audit relay: FETCH to a child, its RECORDS back to
 *                    the control request that asked;
 *   wm_agg_verify.c  staged records, checked by the verifier thread,
 *                    promoted into the log or quarantined;
 *   wm_agg_orders.c  the aggregator's word on its orders (order_assigned,
 *                    order_completed) after a child's step is promoted;
 *   wm_agg_hash.c    the preparing thread: each batch of a turn hashed,
 *                    or a ZBatch unpacked (decompressed, restored,
 *                    hashed), while the loop takes and ingests the rest;
 *   wm_agg_blobfetch.c  blobs fetched from a child on demand (feature
 *                    "blob-fetch"), or relayed down the tiers.
 * Everything runs on the daemon's poll loop but the hashing thread, which
 * touches only what wm_agg_hash.c says (the prepared fields of a turn's
 * batches, handed over under its lock).
 */
#ifndef WM_AGG_INT_H
#define WM_AGG_INT_H

#include <jansson.h>
#include <stdatomic.h>
#include <stdint.h>
#include <time.h>

#include "control.pb-c.h"
#include "wm_agg.h"
#include "wm_blob.h"
#include "wm_ingest.h"
#include "wm_link.h"
#include "wm_sync.h"
#include "wm_wire.h"
#include "wm_validate.h"
#include "wm_verifier.h"

#define AGG_DRAIN 256
#define AGG_DRAIN_BYTES (16u << 20) /* bounds the memory one turn holds */
#define PEER_FLUSH_S 2
#define PROMOTE_MAX 8192 /* verified records moved into the log per loop turn */
#define WM_AGG_RECORD_BYTES 512 /* a promoted record's bytes, log and counters, for the budget */

/* The aggregator's side of one child's session (PROTOCOL.md §3), bound to
 * the ROUTER identity (route) of the connection whose HELLO was answered:
 *
 *   NONE ── HELLO accepted ──▶ STREAMING ── batch refused (retryable) ──▶ RESUMING
 *    ▲                            ▲  ◀──────── a batch acked ───────────────┘
 *    │                            └── a new HELLO accepted (any state) ──
 *    └── revoked, or the register reloaded with the node revoked
 *
 * In RESUMING the child has been told to resume from durable; batches it
 * sent before it heard that are stale, and the `gap` they earn is not kept
 * as its last reject. A message on any other connection of the node than
 * route is outside the session (no_session). */
typedef enum {
    WM_AGG_S_NONE = 0,
    WM_AGG_S_STREAMING,
    WM_AGG_S_RESUMING,
} wm_agg_session_t;

/* An enrolled child as the aggregator knows it. The register keeps them
 * in one array that enrol and reload may reallocate: hold a pointer only
 * within one call, and refer to a peer by its node id across calls. */
typedef struct {
    Wm__PeerState *ps;  /* owned; all strings and bytes malloc'd */
    uint32_t node_no;
    wm_frame_t route;   /* ROUTER identity of the current session, owned */
    wm_agg_session_t session; /* on route; see the state machine above */
    uint64_t last_batch_id; /* of this session: batch ids strictly increase */
    uint32_t in_flight; /* batches of this session taken and not yet answered */
    int dirty;          /* ps changed since it was last stored */
    /* Verification (wm_verifier): the verifier vouched for its staged
     * records up to v_epoch/v_seq, and found v_bad after that. */
    int v_pending;      /* not all of that is promoted into the log yet */
    uint32_t v_epoch;
    uint64_t v_seq;
    int v_bad;
    uint32_t v_bad_epoch;
    uint64_t v_bad_seq;
    char v_why[WM_WHY_MAX];
    time_t unverified_since; /* when staged records began to wait; 0: none */
    /* The aggregator's word on orders (wm_agg_orders.c): how far this
     * child's steps were decided (loaded from meta when o_loaded is 0),
     * and how many records were read past the saved mark. */
    int o_loaded;
    uint32_t o_epoch;
    uint64_t o_seq;
    uint64_t o_unsaved;
    int relays;         /* this session agreed rollup-bin: FETCH may carry a path */
    wm_link_t link;     /* wire bytes since start; link.zstd: in use on the session */
    int64_t rx_ms;      /* monotonic ms of its last message; 0: none yet */
    /* The memory budget (wm_agg_budget.c): the credit granted to this
     * session (in flight and held by the child) and what one batch of it
     * costs, recently. */
    uint32_t credit;
    uint32_t batch_bytes;
    /* Feature "down" (wm_agg_down.c): our own log, sent to the child. */
    int down;              /* both listed "down" on this session */
    int down_on;           /* the child's DOWN_HELLO came: we send */
    wm_head_t down_cursor; /* the last record sent (the child's `have` after a reset) */
    wm_head_t down_told;   /* our head as last told to the child */
    uint32_t down_credit;  /* DOWN_BATCHes we may still send */
    uint64_t down_next_id; /* the last DOWN_BATCH id of the session */
    uint64_t down_floor;   /* answers to ids below it are stale (sent before a reset) */
    int blobs;          /* this session agreed "blobs" (wm_agg_blob.c) */
    int blob_fetch;     /* this session agreed "blob-fetch" (wm_agg_blobfetch.c) */
} wm_agg_peer_t;

/* An audit fetch waiting for the child's answer. */
typedef struct {
    uint64_t req_id;
    wm_frame_t ctl_peer; /* owned: whom to answer on the control socket */
    int64_t deadline;     /* monotonic seconds (wm_reactor_now_ms) */
    char child[WM_ID_MAX + 1]; /* the child asked (by id): only its answer counts */
    char node[WM_ID_MAX + 1];  /* what was asked for */
    uint32_t epoch;
    int relay;                 /* asked by the tier above: answer it through relay_fn */
    uint64_t up_req_id;        /* relay: the req_id of the tier above's FETCH */
    /* A BLOB_FETCH (wm_agg_blobfetch.c) rather than a FETCH: what was asked. */
    int blob;
    uint8_t hash[WM_HASH_BYTES];
    uint64_t size;             /* as the signed record says; 0: not known */
    uint64_t offset;
    uint32_t max;
} wm_agg_wait_t;

#define FETCH_WAIT_MAX 16
#define FETCH_TIMEOUT_S 15

typedef struct wm_agg_hasher wm_agg_hasher_t;
/* Blobs received at once with their .part open and hash kept (each
 * child sends one blob at a time; the oldest receiver is closed first). */
#define WM_AGG_BLOB_RX 8
/* Changes to the children's blob quota totals waiting for the next
 * commit of wm_agg_blob_tick (one commit a tick, not one a blob). */
#define WM_AGG_BLOB_HOLDS 256

typedef struct {
    uint32_t node;
    uint8_t hash[WM_HASH_BYTES];
    uint64_t size;
    uint8_t was, held; /* WM_BLOBREF_HELD in the store, and to be */
} wm_agg_blob_hold_t;

/* A blob to complete off the loop (wm_agg_blobsync.c), and its outcome. */
#define WM_AGG_ROUTE_MAX 256 /* a ZeroMQ routing id is at most 255 bytes */
typedef struct {
    wm_blob_rx_t *rx;      /* owned by the job; closed by whoever takes it back */
    uint32_t node_no;      /* the child that sent it */
    uint8_t route[WM_AGG_ROUTE_MAX]; /* its connection: the ACK goes there */
    size_t route_len;
    wm_err_t err;          /* wm_blob_rx_complete's, once done */
    char why[WM_WHY_MAX];
} wm_agg_blobjob_t;
typedef struct wm_agg_blobsync wm_agg_blobsync_t;

struct wm_agg {
    wm_node_t *node;
    wm_sock_t *zap, *router;
    wm_sock_t *ctl; /* borrowed: answers to audit fetches */
    wm_agg_wait_t waits[FETCH_WAIT_MAX];
    uint64_t next_req_id;
    wm_agg_relay_fn relay_fn; /* answers of relayed fetches go up through it */
    void *relay_ctx;
    wm_agg_blob_relay_fn blob_relay_fn; /* relayed BLOB_DATA answers go up through it */
    void *blob_relay_ctx;
    wm_agg_peer_t *peers;
    size_t npeers, cap;
    int64_t flush_due;  /* monotonic seconds (wm_reactor_now_ms) */
    wm_verifier_t *verifier;
    uint64_t stored_since_trim; /* bytes stored since the map was trimmed (budget) */
    wm_agg_hasher_t *hasher;       /* NULL: ingest hashes on the loop */
    wm_agg_next_fn src_next;       /* wm_agg_set_source, else the router socket */
    wm_agg_waiting_fn src_waiting;
    void *src_ctx;
    wm_blob_rx_t *blob_rx[WM_AGG_BLOB_RX]; /* blobs being received, latest first (wm_agg_blob.c) */
    int64_t blob_recount_due; /* monotonic seconds: wm_agg_blob_tick */
    wm_agg_blob_hold_t blob_holds[WM_AGG_BLOB_HOLDS]; /* not yet committed */
    size_t nblob_holds;
    wm_agg_blobsync_t *blobsync; /* NULL: the loop completes blobs itself */
};

/* One batch taken this turn, waiting for the group commit. */
typedef struct {
    wm_agg_peer_t *peer;
    wm_frame_t route; /* the connection the batch came on: the answer goes there */
    Wm__SyncMsg *msg; /* owned: decoded into arena (wm_pb_decode_in) */
    wm_arena_t arena; /* owned: msg's memory */
    Wm__Batch *batch; /* what is ingested: msg's Batch, or view */
    Wm__Batch view;   /* a ZBatch's records (unz), as a Batch */
    size_t unz_max;   /* a ZBatch: the most bytes its restored records can take */
    /* Prepared (wm_agg_hash.c) off the loop, read by the loop only after
     * wm_agg_hasher_ready: */
    int prepared;     /* the loop's: wm_agg_hasher_ready returned for it */
    /* Under the thread's lock: a ZBatch claimed for its unpacking (by the
     * thread or the loop), and unpacked by the thread. */
    int claimed, unpacked;
    /* A batch handed over: a Batch's hashes and either's precheck are
     * taken in chunks, by the thread and the loop alike, whoever comes
     * first (a Batch's chunks are known when it is handed over, a ZBatch's
     * once it is unpacked). */
    unsigned nchunks;
    atomic_uint chunk_next; /* chunks claimed */
    atomic_uint chunk_done; /* chunks done */
    wm_wire_batch_t unz; /* owned: a ZBatch's restored records */
    wm_sync_reason_t unz_reason; /* a ZBatch that did not unpack: why */
    char *unz_why;    /* owned: its sentence (malloc'd), or NULL */
    uint8_t *hashes;  /* owned: a Batch's records' hashes, or NULL */
    wm_ingest_pre_t *pre; /* owned: its records as wm_ingest_precheck passed them, or NULL */
    wm_ingest_t res;
    int stored;
    int numbered;     /* the peer got its node number in this turn */
} wm_agg_pending_t;

/* ---- wm_agg_hash.c: a thread prepares a turn's batches ---- */

/* Starts the thread; WM_ENOMEM or WM_EIO if it cannot (then each batch is
 * prepared on the loop, as it comes to it). stop accepts NULL. */
WM_MUST_CHECK wm_err_t wm_agg_hasher_start(wm_agg_hasher_t **out);
void wm_agg_hasher_stop(wm_agg_hasher_t **h);
/* A turn begins: its batches will be pend[0..), handed over with add as
 * they are taken. Every function accepts a NULL hasher. */
void wm_agg_hasher_begin(wm_agg_hasher_t *h, wm_agg_pending_t *pend);
/* pend[0..n) are taken (n only grows within a turn): the thread prepares
 * them in order, while the loop takes the next message. An entry handed
 * over belongs to the thread in its prepared fields (wm_agg_pending_t)
 * until wm_agg_hasher_ready returns for it. A Batch's hashes array is
 * allocated here, on the caller's thread. */
void wm_agg_hasher_add(wm_agg_hasher_t *h, size_t n);
/* Returns once pb is prepared: a ZBatch unpacked (unz, or unz_reason and
 * unz_why), a Batch's hashes taken (hashes, NULL if there was no memory:
 * ingest hashes then), and the records of either checked as far as
 * wm_ingest_precheck passes them (pre; NULL, or any left unchecked:
 * ingest checks those). pb of the turn: waits for the thread; any other
 * (wm_agg_import's, or without a thread): prepared here, on the caller. */
void wm_agg_hasher_ready(wm_agg_hasher_t *h, wm_agg_pending_t *pb);
/* Waits until the thread is done with the turn's entries; then pend may be
 * freed. Call it at the end of every turn that began. */
void wm_agg_hasher_drain(wm_agg_hasher_t *h);

/* ---- wm_agg_link.c: sessions on thin links ---- */

/* Notes a message from p now (it is alive). */
void wm_agg_link_seen(wm_agg_peer_t *p);
/* Drops the sessions of children silent longer than [sync] dead_link_s:
 * their next message gets no_session and they say Hello again. */
void wm_agg_link_reap(wm_agg_t *a);

/* ---- wm_agg.c: sending ---- */

/* Sends m to the connection route (failures are logged at debug level:
 * the child's timers recover). */
void wm_agg_send(wm_agg_t *a, const wm_frame_t *route, Wm__SyncMsg *m);
/* Keeps reason and detail as p's last reject (status), except the routine
 * no_session. p may be NULL. */
void wm_agg_note_reject(wm_agg_peer_t *p, wm_sync_reason_t reason, const char *detail);
/* p's committed frontier: staged records included (0/0 if nothing stored). */
WM_MUST_CHECK wm_err_t wm_agg_durable(wm_agg_t *a, wm_agg_peer_t *p, wm_head_t *h);

/* ---- wm_agg_down.c: our own log down to the children (feature "down") ---- */

/* A new session of p: "down" in use if both listed it (offered: ours). */
void wm_agg_down_session(wm_agg_peer_t *p, const Wm__Hello *h, const char *const *offered,
                         size_t n_offered);
/* A DOWN_HELLO, DOWN_ACK or DOWN_REJECT from p on route (in its session):
 * answered or taken. Nonzero if m is one of them. */
int wm_agg_down_msg(wm_agg_t *a, wm_agg_peer_t *p, const wm_frame_t *route,
                    const Wm__SyncMsg *m);
/* Sends every child in a "down" session what it lacks of our log, within
 * its credit (each turn, and after our own log grew). */
void wm_agg_down_pump(wm_agg_t *a);
/* Rejects p's message on route with reason (no batch: it changes no
 * session state), detail formatted as printf. */
void wm_agg_reject(wm_agg_t *a, const wm_frame_t *route, wm_agg_peer_t *p,
                   wm_sync_reason_t reason, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
/* Nonzero if route is the connection of p's session. */
int wm_agg_in_session(const wm_agg_peer_t *p, const wm_frame_t *route);

/* ---- wm_agg_blob.c: feature "blobs" (PROTOCOL.md §9) ---- */

/* A BLOB_OFFER from p: answered BLOB_WANT (the blobs a verified record of
 * p names that are not here, from the byte held; those here as `have`),
 * or rejected (no_session, not_negotiated, blob_quota). */
void wm_agg_blob_offer(wm_agg_t *a, wm_agg_peer_t *p, const wm_frame_t *route,
                       const Wm__BlobOffer *o);
/* A BLOB_CHUNK from p: written at its offset if that is the byte held,
 * the blob completed (verified, present) at its last byte; answered
 * BLOB_ACK with the bytes held, or rejected as an offer is. */
void wm_agg_blob_chunk(wm_agg_t *a, wm_agg_peer_t *p, const wm_frame_t *route,
                       const Wm__BlobChunk *c);
/* At start: a store whose blob quota totals are not kept yet (written by
 * an older build) gets them, from the blobs present (wm_blobref_rebuild);
 * a failure is logged, and the quota then counts what the totals hold. */
void wm_agg_blob_open(wm_agg_t *a);
/* At each tick (now: monotonic seconds): the quota's counts of the blobs
 * that began or ended since the last, in one commit; every few seconds
 * the totals again if a prune asked (WM_BLOBREF_RECOUNT). */
void wm_agg_blob_tick(wm_agg_t *a, int64_t now);
/* Commits what the quota counts, and closes the receivers of blobs (their
 * .part files stay). */
void wm_agg_blob_close(wm_agg_t *a);

/* ---- wm_agg_blobfetch.c: feature "blob-fetch" (PROTOCOL.md §7.3) ---- */

/* A new session of p: "blob-fetch" in use if both listed it (offered:
 * ours); fetches of p still waiting are answered (they will never be). */
void wm_agg_blobfetch_session(wm_agg_t *a, wm_agg_peer_t *p, const Wm__Hello *h,
                              const char *const *offered, size_t n_offered);
/* A BLOB_DATA from p: the answer to the fetch that waits for it (written
 * into the store, or relayed up), else rejected unexpected (no_session,
 * not_negotiated as the other feature messages). */
void wm_agg_blob_data(wm_agg_t *a, wm_agg_peer_t *p, const wm_frame_t *route,
                      const Wm__BlobData *d);
/* Answers blob wait w with reason slug and msg (a timeout: slug
 * "timeout"), and frees it. */
void wm_agg_blobfetch_fail(wm_agg_t *a, wm_agg_wait_t *w, const char *slug, const char *msg);

/* ---- wm_agg_blobsync.c: blobs completed off the loop ---- */

/* Starts the thread; WM_ENOMEM or WM_EIO if it cannot (then the loop
 * completes blobs itself). stop completes the jobs queued, closes those
 * never taken back, and accepts NULL. */
WM_MUST_CHECK wm_err_t wm_agg_blobsync_start(wm_agg_blobsync_t **out);
void wm_agg_blobsync_stop(wm_agg_blobsync_t **s);
/* Queues job (copied; its rx is the thread's until taken back): nonzero
 * if queued, 0 if the queue is full (the caller completes it itself). */
int wm_agg_blobsync_put(wm_agg_blobsync_t *s, const wm_agg_blobjob_t *job);
/* Takes back up to cap completed jobs, in the order queued, into out;
 * with wait, first waits until every queued job is completed. */
size_t wm_agg_blobsync_take(wm_agg_blobsync_t *s, wm_agg_blobjob_t *out, size_t cap, int wait);
/* Jobs queued and not yet taken back. */
size_t wm_agg_blobsync_pending(wm_agg_blobsync_t *s);

/* ---- wm_agg_budget.c: the memory budget, through credit ---- */

/* The credit of p's new session (its WELCOME), within the budget. */
uint32_t wm_agg_credit_welcome(wm_agg_t *a, wm_agg_peer_t *p, time_t now);
/* The credit an ACK of p's batch of batch_bytes returns: 0 while the
 * budget is used up (p keeps at least 1), 2 while there is room, else 1. */
uint32_t wm_agg_credit_answer(wm_agg_t *a, wm_agg_peer_t *p, size_t batch_bytes, time_t now);
/* The most bytes of messages one turn takes. */
size_t wm_agg_turn_bytes(const wm_agg_t *a);
/* bytes were committed (staged, or promoted): trims the map when its
 * pages pass their share of the budget. */
void wm_agg_budget_stored(wm_agg_t *a, uint64_t bytes);

/* ---- wm_agg_peers.c: the register ---- */

/* Replace a protobuf-c owned string / byte field (malloc'd copies). */
void wm_agg_set_str(char **field, const char *v);
void wm_agg_set_bytes(ProtobufCBinaryData *b, const uint8_t *data, size_t len);
/* Records f as p's claimed head (a hash of any length but 32 is dropped). */
void wm_agg_peer_claimed(wm_agg_peer_t *p, const Wm__Frontier *f);
/* Lookups; NULL if none. by_key: the peer enrolled NOW with the transport
 * key of a connection (by_curve: the key; by_key: the ZAP user id, the key
 * in hex). Valid until the register
 * changes (enrol, reload). */
wm_agg_peer_t *wm_agg_peer_by_curve(wm_agg_t *a, const uint8_t key[static WM_PUB_BYTES]);
wm_agg_peer_t *wm_agg_peer_by_key(wm_agg_t *a, const char *key_hex);
wm_agg_peer_t *wm_agg_peer_find(wm_agg_t *a, const char *id);
wm_agg_peer_t *wm_agg_peer_by_no(wm_agg_t *a, uint32_t node_no);
/* Reads the register from the store into a (empty). */
WM_MUST_CHECK wm_err_t wm_agg_peers_load(wm_agg_t *a);
/* Writes every changed peer in t; they stay marked changed until
 * wm_agg_peers_commit has committed t. */
WM_MUST_CHECK wm_err_t wm_agg_peers_flush(wm_agg_t *a, wm_txn_t *t);
WM_MUST_CHECK wm_err_t wm_agg_peers_commit(wm_agg_t *a, wm_txn_t **t);
/* Frees every peer. */
void wm_agg_peers_free(wm_agg_t *a);

/* ---- wm_agg_audit.c: the audit relay ---- */

/* A child's RECORDS: answers the control request waiting for it. 0 if no
 * request of `from` with that id waits (never asked, timed out), or the
 * answer is not about what was asked. */
int wm_agg_audit_answered(wm_agg_t *a, const wm_agg_peer_t *from, Wm__Records *recs);
/* Answers waits past their deadline (now: monotonic seconds) with a
 * timeout; close frees all waits. */
void wm_agg_audit_tick(wm_agg_t *a, int64_t now);
void wm_agg_audit_close(wm_agg_t *a);
/* Takes a free wait for an answer of child p: its req_id, its deadline
 * timeout_s from now (monotonic) and its child set, and a copy of ctl_peer
 * (the control request to answer; NULL for a relay, answered upward) owned
 * by it. WM_ESTATE when all FETCH_WAIT_MAX are taken, WM_ENOMEM. */
WM_MUST_CHECK wm_err_t wm_agg_wait_take(wm_agg_t *a, const wm_agg_peer_t *p, unsigned timeout_s,
                                        const wm_frame_t *ctl_peer, wm_agg_wait_t **wout);
/* Sends r to the control request w waits for (what: the operation, for
 * the warning if it cannot be sent: wmctl then times out) and frees w. */
void wm_agg_wait_answer(wm_agg_t *a, wm_agg_wait_t *w, const Wm__CtlReply *r, const char *what);

/* ---- wm_agg_verify.c: staged records become log records ---- */

/* Batches of this turn were committed (staged): wake the verifier. */
void wm_agg_staged(wm_agg_t *a, const wm_agg_pending_t *pend, size_t n, time_t now);
/* At open, after wm_agg_peers_load: every peer with records still staged
 * from before the restart waits since its last message (ps->last_seen, the
 * store keeps it with every staged batch, so the lag shown is a lower
 * bound of the true one), else since now. WM_OK or a read error. */
WM_MUST_CHECK wm_err_t wm_agg_lag_restore(wm_agg_t *a, time_t now);
/* Moves what the verifier vouched for into the log; quarantines on a bad
 * signature. Durable on return; what is left waits for the next call. */
void wm_agg_promote(wm_agg_t *a);
/* What one promotion step moved, settled once its transaction ended. */
typedef struct {
    wm_agg_peer_t **done; /* peers whose verdict was carried out */
    size_t ndone;
    uint64_t moved;       /* records moved into the log */
} wm_agg_promotion_t;
/* The step of wm_agg_promote inside t (a write transaction the caller
 * commits: a turn that stores batches promotes in its own commit). *pr
 * is always filled; pass it to wm_agg_promote_settle after the commit
 * (committed nonzero) or the abort: only a committed step clears the
 * verdicts, so an aborted one is carried out again, and only after a
 * committed one are the promoted steps given the aggregator's word on
 * orders (wm_agg_orders_decide). */
WM_MUST_CHECK wm_err_t wm_agg_promote_in(wm_agg_t *a, wm_txn_t *t, wm_agg_promotion_t *pr);
void wm_agg_promote_settle(wm_agg_t *a, wm_agg_promotion_t *pr, int committed);
/* Nonzero if messages wait on the router (a turn is about to run). */
int wm_agg_router_waiting(wm_agg_t *a);

/* ---- wm_agg_orders.c: the aggregator's word on its orders ---- */

/* Writes order_assigned / order_completed for every child's promoted
 * order_accept / order_done that has no word yet (derived from the stored
 * logs: idempotent). Call after each promotion commit and at start-up.
 * Failures are logged; the next call tries again. */
void wm_agg_orders_decide(wm_agg_t *a);

#endif
