/* SPDX-License-Identifier: MIT */
/*
 * wm_agg — the aggregator role; see wm_agg.h and proto/PROTOCOL.md.
 *
 * Each turn of the poll loop drains up to AGG_DRAIN messages from the
 * ROUTER. Hellos and heartbeats are answered at once; batches are ingested
 * each in a nested transaction of one turn-wide write transaction, which
 * is committed (one fsync for the whole turn) before any of them is acked.
 */
#include "wm_agg.h"

#include "control.pb-c.h"

#include <assert.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "wm_ingest.h"
#include "wm_log.h"
#include "wm_stage.h"
#include "wm_validate.h"
#include "wm_verifier.h"

#define AGG_DRAIN 256
#define AGG_DRAIN_BYTES (16u << 20) /* bounds the memory one turn holds */
#define PEER_FLUSH_S 2
#define PROMOTE_MAX 8192 /* verified records moved into the log per loop turn */

typedef struct {
    Wm__PeerState *ps;  /* owned; all strings and bytes malloc'd */
    uint32_t node_no;
    wm_frame_t route;   /* ROUTER identity of the current session, owned */
    int session;        /* a Hello was answered on route */
    uint64_t last_batch_id; /* of this session: batch ids strictly increase */
    uint32_t in_flight; /* batches of this session taken and not yet answered */
    int resuming;       /* a batch was refused: until the child resumes from
                         * durable, `gap` answers its stale in-flight batches */
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
} peer_t;

/* An audit fetch waiting for the child's answer. */
typedef struct {
    uint64_t req_id;
    wm_frame_t ctl_peer; /* owned: whom to answer on the control socket */
    time_t deadline;
    const void *child;   /* the peer asked: only its answer counts */
    char node[WM_ID_MAX + 1]; /* what was asked for */
    uint32_t epoch;
} fetch_wait_t;

#define FETCH_WAIT_MAX 16
#define FETCH_TIMEOUT_S 15

struct wm_agg {
    wm_node_t *node;
    wm_sock_t *zap, *router;
    wm_sock_t *ctl; /* borrowed: answers to audit fetches */
    fetch_wait_t waits[FETCH_WAIT_MAX];
    uint64_t next_req_id;
    peer_t *peers;
    size_t npeers, cap;
    time_t flush_due;
    wm_verifier_t *verifier;
};

/* One batch taken this turn, waiting for the group commit. */
typedef struct {
    peer_t *peer;
    wm_frame_t route; /* the connection the batch came on: the answer goes there */
    Wm__SyncMsg *msg; /* owned */
    wm_ingest_t res;
    int stored;
    int numbered;     /* the peer got its node number in this turn */
} pending_t;

/* ---- small helpers for protobuf-c owned strings and frontiers ---- */

static void set_str(char **field, const char *v)
{
    if (*field && *field != protobuf_c_empty_string)
        free(*field);
    *field = strdup(v ? v : "");
}

static void set_bytes(ProtobufCBinaryData *b, const uint8_t *data, size_t len)
{
    free(b->data);
    b->data = malloc(len ? len : 1);
    if (b->data)
        memcpy(b->data, data, len);
    b->len = b->data ? len : 0;
}

/* A Frontier pointing at h (not owned: for messages we send). */
static void set_claimed(peer_t *p, const Wm__Frontier *f)
{
    if (!f)
        return;
    if (!p->ps->claimed) {
        p->ps->claimed = malloc(sizeof *p->ps->claimed);
        if (!p->ps->claimed)
            return;
        wm__frontier__init(p->ps->claimed);
    }
    /* Through wm_head_t: a hash of any other length than 32 (a hostile
     * peer's megabyte, say) is never stored. */
    wm_head_t h;
    wm_head_from(f, &h);
    p->ps->claimed->epoch = h.epoch;
    p->ps->claimed->seq = h.seq;
    set_bytes(&p->ps->claimed->hash, h.hash, WM_HASH_BYTES);
    p->dirty = 1;
}

/* The peer currently enrolled with the transport key of a connection (its
 * ZAP user id, the key in hex); NULL if none is (any more). */
static peer_t *find_peer_by_key(wm_agg_t *a, const char *key_hex)
{
    uint8_t key[WM_PUB_BYTES];
    if (wm_unhex(key_hex, key, sizeof key) != WM_OK)
        return NULL;
    for (size_t i = 0; i < a->npeers; i++)
        if (a->peers[i].ps->curve_pub.len == WM_PUB_BYTES &&
            memcmp(a->peers[i].ps->curve_pub.data, key, WM_PUB_BYTES) == 0)
            return &a->peers[i];
    return NULL;
}

static peer_t *find_peer(wm_agg_t *a, const char *id)
{
    for (size_t i = 0; i < a->npeers; i++)
        if (strcmp(a->peers[i].ps->node, id) == 0)
            return &a->peers[i];
    return NULL;
}

/* ---- sending ---- */

static void send_to(wm_agg_t *a, const wm_frame_t *route, Wm__SyncMsg *m)
{
    uint8_t *buf = NULL;
    size_t len = 0;
    if (wm_pb_encode(&m->base, &buf, &len) != WM_OK)
        return;
    wm_msg_t out = {.n = 2, .f = {*route, {buf, len}}};
    if (wm_sock_send(a->router, &out) != WM_OK)
        wm_debug("sync: reply dropped (%s)", wm_net_detail());
    free(buf);
}

/* Makes s valid UTF-8 in place (bytes of a bad sequence, and control
 * characters, become '?'): details quote what a peer sent, and status
 * output must stay JSON. */
static void make_utf8(char *s)
{
    size_t n = strlen(s);
    for (size_t i = 0; i < n;) {
        unsigned char c = (unsigned char)s[i];
        size_t len = c < 0x80 ? 1 : (c & 0xe0) == 0xc0 ? 2 : (c & 0xf0) == 0xe0 ? 3 : 4;
        if (i + len <= n && wm_utf8_valid(s + i, len)) {
            i += len;
        } else {
            s[i] = '?';
            i++;
        }
    }
}

static void note_reject(peer_t *p, wm_sync_reason_t reason, const char *detail)
{
    if (!p || reason == WM_SYNC_R_NO_SESSION) /* routine after a restart */
        return;
    if (reason == WM_SYNC_R_GAP && p->resuming)
        return; /* a batch sent before the child heard of the reject kept */
    set_str(&p->ps->last_reject, wm_sync_slug(reason));
    set_str(&p->ps->last_reject_detail, detail);
    p->ps->last_reject_at = (int64_t)time(NULL);
    p->dirty = 1;
}

static void reject_durable(wm_agg_t *a, peer_t *p, wm_head_t *h);

/* Answers the message that came on route from p (NULL: no enrolled node)
 * with a REJECT. b is the BATCH it answers, or NULL: then the reject
 * carries batch_id 0 and returns no credit. Every reject names the
 * committed frontier of p (PROTOCOL.md §2), whatever it answers. */
static void send_reject(wm_agg_t *a, const wm_frame_t *route, peer_t *p, const Wm__Batch *b,
                        wm_sync_reason_t reason, uint64_t seq, const char *fmt, ...)
    __attribute__((format(printf, 7, 8)));

static void send_reject(wm_agg_t *a, const wm_frame_t *route, peer_t *p, const Wm__Batch *b,
                        wm_sync_reason_t reason, uint64_t seq, const char *fmt, ...)
{
    char detail[WM_WHY_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(detail, sizeof detail, fmt, ap);
    va_end(ap);
    make_utf8(detail);
    Wm__SyncMsg m = WM__SYNC_MSG__INIT;
    Wm__Reject r = WM__REJECT__INIT;
    wm_head_t durable = {0};
    if (p)
        reject_durable(a, p, &durable);
    Wm__Frontier f = wm_frontier_of(&durable);
    r.batch_id = b ? b->batch_id : 0;
    r.reason = (char *)wm_sync_slug(reason);
    r.detail = detail;
    r.seq = seq;
    r.durable = &f;
    r.credit = b ? 1 : 0;
    m.msg_case = WM__SYNC_MSG__MSG_REJECT;
    m.reject = &r;
    send_to(a, route, &m);
    int stale = p && reason == WM_SYNC_R_GAP && p->resuming;
    note_reject(p, reason, detail);
    if (p && b) /* the child resumes from durable unless the reason stops it */
        p->resuming = !wm_sync_reason_info(reason)->fatal;
    if (stale)
        wm_debug("sync: rejected a stale batch from %s: %s", p->ps->node, detail);
    else
        wm_warn_peer(p ? p->ps->node : NULL, "sync: rejected %s from %s: %s: %s",
                     b ? "a batch" : "a message", p ? p->ps->node : "an unknown peer",
                     wm_sync_slug(reason), detail);
}

/* ---- register ---- */

static int load_one(void *ctx, const Wm__PeerState *ps)
{
    wm_agg_t *a = ctx;
    uint8_t *buf = NULL;
    size_t len = 0;
    if (a->npeers == a->cap) {
        size_t cap = a->cap ? 2 * a->cap : 64;
        peer_t *np = realloc(a->peers, cap * sizeof *np);
        if (!np)
            return 1;
        a->peers = np;
        a->cap = cap;
    }
    /* Copy by re-encoding: the scan frees its own message. */
    peer_t *p = &a->peers[a->npeers];
    memset(p, 0, sizeof *p);
    if (wm_pb_encode(&ps->base, &buf, &len) != WM_OK ||
        wm_pb_decode(&wm__peer_state__descriptor, buf, len, WM_PEER_STATE_MAX, (void **)&p->ps) != WM_OK) {
        free(buf);
        return 1;
    }
    free(buf);
    a->npeers++;
    return 0;
}

static WM_MUST_CHECK wm_err_t load_register(wm_agg_t *a)
{
    wm_txn_t *t = NULL;
    wm_err_t err = wm_txn_begin(a->node->store, 0, &t);
    if (err == WM_OK)
        err = wm_peer_scan(t, load_one, a);
    for (size_t i = 0; err == WM_OK && i < a->npeers; i++) {
        err = wm_node_lookup(t, a->peers[i].ps->node, &a->peers[i].node_no);
        if (err == WM_ENOTFOUND)
            err = WM_OK; /* numbered at enrolment; absent only if never stored */
    }
    wm_txn_abort(&t);
    return err;
}

/* Stores every changed peer in t. They stay marked changed until
 * peers_stored() says the transaction committed. */
static WM_MUST_CHECK wm_err_t flush_peers(wm_agg_t *a, wm_txn_t *t)
{
    for (size_t i = 0; i < a->npeers; i++) {
        if (!a->peers[i].dirty)
            continue;
        wm_err_t err = wm_peer_put(t, a->peers[i].ps);
        if (err != WM_OK)
            return err;
    }
    return WM_OK;
}

/* Commits t holding flush_peers' writes; only then are the peers clean. */
static WM_MUST_CHECK wm_err_t commit_peers(wm_agg_t *a, wm_txn_t **t)
{
    wm_err_t err = wm_txn_commit(t);
    for (size_t i = 0; err == WM_OK && i < a->npeers; i++)
        a->peers[i].dirty = 0;
    return err;
}

wm_err_t wm_agg_open(wm_node_t *node, wm_net_t *net, const char *endpoint,
                     const uint8_t *curve_secret, wm_agg_t **out, char *why, size_t cap)
{
    wm_agg_t *a = calloc(1, sizeof *a);
    if (!a)
        return WM_ENOMEM;
    a->node = node;
    wm_err_t err = load_register(a);
    if (err != WM_OK) {
        snprintf(why, cap, "cannot load the enrolment register: %s", wm_strerror(err));
        goto fail;
    }
    if ((err = wm_verifier_start(node->store, net, &a->verifier)) != WM_OK) {
        snprintf(why, cap, "cannot start the verifier thread: %s", wm_strerror(err));
        goto fail;
    }
    if ((err = wm_zap_open(net, &a->zap)) != WM_OK) {
        snprintf(why, cap, "cannot start the ZAP handler: %s", wm_net_detail());
        goto fail;
    }
    if ((err = wm_sync_listen(net, endpoint, curve_secret, WM_SYNC_MAX_MSG, &a->router)) != WM_OK) {
        snprintf(why, cap, "cannot listen on %s: %s", endpoint, wm_net_detail());
        goto fail;
    }
    *out = a;
    return WM_OK;
fail:
    wm_agg_close(&a);
    return err;
}

void wm_agg_close(wm_agg_t **ap)
{
    wm_agg_t *a = ap ? *ap : NULL;
    if (!a)
        return;
    wm_verifier_stop(&a->verifier); /* no reader left behind; staged records wait */
    wm_txn_t *t = NULL;
    wm_err_t err = wm_txn_begin(a->node->store, 1, &t);
    if (err == WM_OK && (err = flush_peers(a, t)) == WM_OK)
        err = commit_peers(a, &t);
    if (err != WM_OK)
        wm_warn("sync: cannot store the peers' last state at shutdown: %s", wm_strerror(err));
    wm_txn_abort(&t);
    for (size_t i = 0; i < a->npeers; i++) {
        wm_pb_free(&a->peers[i].ps);
        free(a->peers[i].route.data);
    }
    for (int i = 0; i < FETCH_WAIT_MAX; i++)
        free(a->waits[i].ctl_peer.data);
    free(a->peers);
    wm_sock_close(&a->router);
    wm_sock_close(&a->zap);
    free(a);
    *ap = NULL;
}

wm_sock_t *wm_agg_zap(wm_agg_t *a)
{
    return a->zap;
}

wm_sock_t *wm_agg_router(wm_agg_t *a)
{
    return a->router;
}

/* Answers a ZAP request. One that cannot be sent leaves that handshake
 * unanswered, so it is logged (charged to the address). */
static void zap_answer(wm_agg_t *a, wm_zap_req_t *req, int ok, const char *user_id,
                       const char *text)
{
    if (wm_zap_reply(a->zap, req, ok, user_id, text) != WM_OK)
        wm_warn_peer(req->address, "sync: cannot answer the ZAP request from %s: %s",
                     req->address, wm_net_detail());
}

/* ZAP: admit a CURVE client only if its key is enrolled and not revoked;
 * its user id becomes the enrolled node id, so every message it sends is
 * tagged with the only node it may speak for. */
void wm_agg_on_zap(wm_agg_t *a)
{
    for (int i = 0; i < AGG_DRAIN; i++) {
        wm_zap_req_t req;
        wm_err_t err = wm_zap_recv(a->zap, &req);
        if (err == WM_ETIMEOUT)
            return;
        if (err != WM_OK)
            continue;
        if (strcmp(req.domain, "wmsync") != 0) { /* local sockets, not ours to judge */
            zap_answer(a, &req, 1, "", "OK");
            continue;
        }
        if (!req.has_key) {
            wm_warn_peer(req.address, "sync: refused a connection without CURVE from %s",
                         req.address);
            zap_answer(a, &req, 0, "", "CURVE required");
            continue;
        }
        peer_t *p = NULL;
        for (size_t k = 0; k < a->npeers && !p; k++)
            if (a->peers[k].ps->curve_pub.len == WM_PUB_BYTES &&
                memcmp(a->peers[k].ps->curve_pub.data, req.client_key, WM_PUB_BYTES) == 0)
                p = &a->peers[k];
        char hex[65];
        if (!p) {
            /* Charged to the address: a new key costs nothing to make. */
            wm_warn_peer(req.address,
                         "sync: refused a connection from unenrolled transport key %s at %s",
                         wm_hex(req.client_key, 32, hex), req.address);
            zap_answer(a, &req, 0, "", "not enrolled");
        } else if (p->ps->state == WM_PEER_REVOKED) {
            wm_warn_peer(p->ps->node, "sync: refused a connection from revoked %s", p->ps->node);
            zap_answer(a, &req, 0, "", wm_sync_slug(WM_SYNC_R_REVOKED));
        } else {
            wm_debug("sync: admitted %s", p->ps->node);
            /* The user id is the key itself: every message is mapped to
             * the node whose key it is NOW, so a key replaced at
             * re-enrolment loses its live connection too. */
            zap_answer(a, &req, 1, wm_hex(req.client_key, 32, hex), "OK");
        }
    }
}

static WM_MUST_CHECK wm_err_t durable_of(wm_agg_t *a, peer_t *p, wm_head_t *h)
{
    memset(h, 0, sizeof *h);
    if (!p->node_no)
        return WM_OK;
    wm_txn_t *t = NULL;
    wm_err_t err = wm_txn_begin(a->node->store, 0, &t);
    if (err == WM_OK)
        err = wm_ingest_frontier(t, p->node_no, h);
    wm_txn_abort(&t);
    return err;
}

/* The frontier a reject names: 0/0 if it cannot be read (logged; the
 * child then offers from its start, and ingest answers that). */
static void reject_durable(wm_agg_t *a, peer_t *p, wm_head_t *h)
{
    wm_err_t err = durable_of(a, p, h);
    if (err != WM_OK) {
        memset(h, 0, sizeof *h);
        wm_warn_peer(p->ps->node, "sync: cannot read the stored frontier of %s: %s",
                     p->ps->node, wm_strerror(err));
    }
}

static void on_hello(wm_agg_t *a, peer_t *p, const wm_frame_t *route, const Wm__Hello *h)
{
    wm_head_t durable, claimed;
    if (durable_of(a, p, &durable) != WM_OK) {
        send_reject(a, route, p, NULL, WM_SYNC_R_STORAGE, 0, "cannot read the stored frontier");
        return;
    }
    if (h->version != WM_SYNC_VERSION) {
        send_reject(a, route, p, NULL, WM_SYNC_R_VERSION, 0,
                    "protocol version %u is not supported (this aggregator speaks %u)",
                    h->version, WM_SYNC_VERSION);
        return;
    }
    if (!h->node || strcmp(h->node, p->ps->node) != 0) {
        send_reject(a, route, p, NULL, WM_SYNC_R_WRONG_NODE, 0,
                    "this transport key is enrolled for %s, not for \"%s\"", p->ps->node,
                    h->node ? h->node : "");
        return;
    }
    wm_head_from(h->head, &claimed);
    set_claimed(p, h->head);
    p->ps->last_seen = (int64_t)time(NULL);
    p->dirty = 1;
    /* The child must have at least what we hold of its current epoch: less
     * means its log was rolled back, and it would fork if it went on. */
    if (claimed.epoch == durable.epoch && durable.epoch &&
        (claimed.seq < durable.seq ||
         (claimed.seq == durable.seq && memcmp(claimed.hash, durable.hash, WM_HASH_BYTES)))) {
        send_reject(a, route, p, NULL, claimed.seq < durable.seq ? WM_SYNC_R_BEHIND : WM_SYNC_R_DIVERGED, durable.seq,
                    "the station's log (epoch %" PRIu32 " seq %" PRIu64
                    ") is %s what this aggregator already holds (seq %" PRIu64
                    "); restore its newest data or start a new epoch (wmsyncd --new-epoch)",
                    claimed.epoch, claimed.seq,
                    claimed.seq < durable.seq ? "behind" : "different from", durable.seq);
        return;
    }
    if (claimed.epoch < durable.epoch) {
        send_reject(a, route, p, NULL, WM_SYNC_R_OLD_EPOCH, 0,
                    "the station is in epoch %" PRIu32 " but epoch %" PRIu32 " has begun",
                    claimed.epoch, durable.epoch);
        return;
    }
    free(p->route.data);
    p->route.data = malloc(route->len);
    p->route.len = p->route.data ? route->len : 0;
    if (p->route.data)
        memcpy(p->route.data, route->data, route->len);
    p->session = 1;
    p->last_batch_id = 0;
    p->in_flight = 0;
    p->resuming = 0;
    Wm__SyncMsg m = WM__SYNC_MSG__INIT;
    Wm__Welcome w = WM__WELCOME__INIT;
    Wm__Frontier f = wm_frontier_of(&durable);
    w.durable = &f;
    w.credit = WM_SYNC_CREDIT;
    w.max_records = WM_SYNC_MAX_RECORDS;
    w.max_bytes = WM_SYNC_MAX_BYTES;
    w.heartbeat_s = WM_SYNC_HEARTBEAT_S;
    w.features = (char **)wm_sync_features; /* the child uses those it listed too */
    w.n_features = wm_sync_feature_count();
    m.msg_case = WM__SYNC_MSG__MSG_WELCOME;
    m.welcome = &w;
    send_to(a, route, &m);
    wm_info_peer(p->ps->node,
                 "sync: %s connected: it has epoch %" PRIu32 " seq %" PRIu64
                 ", we hold seq %" PRIu64,
                 p->ps->node, claimed.epoch, claimed.seq, durable.seq);
}

/* A quick look at a batch before it joins the turn's commit: its session,
 * its batch id, its size, and the child's credit. */
static int batch_admissible(wm_agg_t *a, peer_t *p, const wm_frame_t *route, const Wm__Batch *b)
{
    if (!p->session || route->len != p->route.len ||
        memcmp(route->data, p->route.data, route->len) != 0) {
        send_reject(a, route, p, b, WM_SYNC_R_NO_SESSION, 0,
                    "send Hello first (the aggregator may have restarted)");
        return 0;
    }
    if (b->batch_id == 0 || b->batch_id <= p->last_batch_id) {
        send_reject(a, route, p, b, WM_SYNC_R_MALFORMED, 0,
                    "batch_id %" PRIu64 " is not above the session's previous one (%" PRIu64
                    "): batch ids start at 1 and strictly increase",
                    b->batch_id, p->last_batch_id);
        return 0;
    }
    p->last_batch_id = b->batch_id;
    size_t bytes = 0;
    for (size_t i = 0; i < b->n_records; i++)
        bytes += b->records[i].len;
    if (b->n_records > WM_SYNC_MAX_RECORDS || bytes > WM_SYNC_MAX_BYTES) {
        send_reject(a, route, p, b, WM_SYNC_R_TOO_BIG, 0,
                    "batch of %zu records / %zu bytes exceeds %u / %u", b->n_records, bytes,
                    WM_SYNC_MAX_RECORDS, WM_SYNC_MAX_BYTES);
        return 0;
    }
    /* Credit: batches taken and not yet answered, counted per batch. */
    if (p->in_flight >= WM_SYNC_CREDIT) {
        send_reject(a, route, p, b, WM_SYNC_R_OVER_CREDIT, 0,
                    "more than %u batches in flight; wait for acks", WM_SYNC_CREDIT);
        return 0;
    }
    p->in_flight++;
    return 1;
}

/* Stores the proof of an equivocation and quarantines the sender. */
static void quarantine(wm_agg_t *a, wm_txn_t *parent, peer_t *p, const wm_ingest_t *res)
{
    wm_txn_t *t = NULL;
    if (wm_txn_begin_child(parent, &t) != WM_OK)
        return;
    if (wm_proof_put(t, p->node_no, res->bad_epoch, res->bad_seq, res->proof, res->proof_len) ==
            WM_OK &&
        wm_txn_commit(&t) == WM_OK) { /* joins the parent: durable with it */
        p->ps->state = WM_PEER_QUARANTINED;
        set_str(&p->ps->state_reason, res->detail);
        p->dirty = 1;
        wm_error("sync: %s QUARANTINED: %s", p->ps->node, res->detail);
    }
    wm_txn_abort(&t);
    (void)a;
}

/* Ingests one pending batch in a child of the turn's transaction. */
static void ingest_pending(wm_agg_t *a, wm_txn_t *parent, pending_t *pb, int64_t now)
{
    peer_t *p = pb->peer;
    Wm__Batch *b = pb->msg->batch;
    wm_txn_t *t = NULL;
    if (!p->node_no) {
        /* First records ever from this node: number it in the parent. */
        if ((pb->res.err = wm_node_add(parent, p->ps->node, &p->node_no)) != WM_OK) {
            pb->res.reason = WM_SYNC_R_STORAGE;
            return;
        }
        pb->numbered = 1;
    }
    if ((pb->res.err = wm_txn_begin_child(parent, &t)) != WM_OK) {
        pb->res.reason = WM_SYNC_R_STORAGE;
        return;
    }
    assert(b->n_records <= WM_SYNC_MAX_RECORDS); /* batch_admissible, wm_agg_import */
    const uint8_t *recs[WM_SYNC_MAX_RECORDS];
    size_t lens[WM_SYNC_MAX_RECORDS];
    for (size_t i = 0; i < b->n_records; i++) {
        recs[i] = b->records[i].data;
        lens[i] = b->records[i].len;
    }
    const wm_config_t *cfg = a->node->cfg;
    wm_quota_t quota = {(uint64_t)cfg->quota_day_mb << 20, (uint64_t)cfg->quota_total_mb << 20};
    wm_sender_t s = {p->ps->node, p->node_no, p->ps->sign_pub.data, 0, p->ps, &quota};
    wm_err_t err = wm_ingest(t, &s, recs, lens, b->n_records, now, &pb->res);
    if (err == WM_OK) {
        err = wm_txn_commit(&t);
        pb->stored = err == WM_OK;
        if (err != WM_OK) {
            pb->res.reason = WM_SYNC_R_STORAGE;
            pb->res.err = err;
        }
    } else {
        wm_txn_abort(&t);
        if (pb->res.equivocation)
            quarantine(a, parent, p, &pb->res);
    }
    wm_txn_abort(&t);
}

static void answer_pending(wm_agg_t *a, pending_t *pb, int committed)
{
    peer_t *p = pb->peer;
    Wm__Batch *b = pb->msg->batch;
    if (p->in_flight)
        p->in_flight--; /* answered now, either way */
    if (pb->stored && committed && pb->res.flagged) {
        p->ps->flagged += pb->res.flagged; /* stored with the next flush */
        p->dirty = 1;
        wm_warn_peer(p->ps->node,
                     "sync: %s: %" PRIu64 " record(s) accepted with a capture time in the future",
                     p->ps->node, pb->res.flagged);
    }
    if (pb->stored && committed) {
        Wm__SyncMsg m = WM__SYNC_MSG__INIT;
        Wm__Ack ack = WM__ACK__INIT;
        Wm__Frontier f = wm_frontier_of(&pb->res.durable);
        ack.batch_id = b->batch_id;
        ack.durable = &f;
        ack.credit = 1;
        ack.flagged = (uint32_t)pb->res.flagged;
        m.msg_case = WM__SYNC_MSG__MSG_ACK;
        m.ack = &ack;
        send_to(a, &pb->route, &m);
        p->resuming = 0; /* the child's batches follow on again */
        return;
    }
    send_reject(a, &pb->route, p, b, pb->res.reason ? pb->res.reason : WM_SYNC_R_STORAGE,
                pb->res.bad_seq, "%s",
                pb->res.detail[0] ? pb->res.detail : "the aggregator could not store the batch");
}

/* Answers a waiting control request: the records, or why there are none. */
static void fetch_reply(wm_agg_t *a, fetch_wait_t *w, Wm__Records *recs, const char *error)
{
    Wm__CtlReply r = WM__CTL_REPLY__INIT;
    uint8_t *buf = NULL;
    size_t len = 0;
    if (error) {
        r.error = (char *)wm_errname(WM_ETIMEOUT);
        r.message = (char *)error;
    }
    r.records = recs;
    if (a->ctl && wm_pb_encode(&r.base, &buf, &len) == WM_OK) {
        wm_msg_t m = {.n = 2, .f = {w->ctl_peer, {buf, len}}};
        if (wm_sock_send(a->ctl, &m) != WM_OK) /* wmctl times out waiting */
            wm_warn("audit: cannot answer the control request: %s", wm_net_detail());
    }
    free(buf);
    free(w->ctl_peer.data);
    memset(w, 0, sizeof *w);
}

/* Hands an audit answer to the control request waiting for it. 0 if no
 * request of `from` with that id waits (never asked, timed out), or the
 * answer is not about what was asked. */
static int fetch_answered(wm_agg_t *a, const peer_t *from, Wm__Records *recs)
{
    for (int i = 0; i < FETCH_WAIT_MAX; i++) {
        fetch_wait_t *w = &a->waits[i];
        if (!w->req_id || w->req_id != recs->req_id)
            continue;
        /* Only the child asked, about what was asked, may answer. */
        if (w->child != from || !recs->node || strcmp(recs->node, w->node) != 0 ||
            recs->epoch != w->epoch) {
            return 0;
        }
        fetch_reply(a, w, recs, NULL);
        return 1;
    }
    return 0;
}

void wm_agg_set_ctl(wm_agg_t *a, wm_sock_t *ctl)
{
    a->ctl = ctl;
}

wm_err_t wm_agg_fetch(wm_agg_t *a, const Wm__Fetch *f, const wm_frame_t *ctl_peer, char *why,
                      size_t cap)
{
    peer_t *p = f->via ? find_peer(a, f->via) : NULL;
    if (!p) {
        snprintf(why, cap, "\"%s\" is not enrolled here", f->via ? f->via : "");
        return WM_ENOTFOUND;
    }
    if (!p->session) {
        snprintf(why, cap, "%s is not connected now; try again when its status says ok",
                 p->ps->node);
        return WM_ESTATE;
    }
    fetch_wait_t *w = NULL;
    for (int i = 0; i < FETCH_WAIT_MAX && !w; i++)
        if (!a->waits[i].req_id)
            w = &a->waits[i];
    if (!w) {
        snprintf(why, cap, "too many audit requests at once");
        return WM_ESTATE;
    }
    w->ctl_peer.data = malloc(ctl_peer->len);
    if (!w->ctl_peer.data)
        return WM_ENOMEM;
    memcpy(w->ctl_peer.data, ctl_peer->data, ctl_peer->len);
    w->ctl_peer.len = ctl_peer->len;
    w->req_id = ++a->next_req_id;
    w->deadline = time(NULL) + FETCH_TIMEOUT_S;
    w->child = p;
    snprintf(w->node, sizeof w->node, "%s", f->node ? f->node : "");
    w->epoch = f->epoch;
    Wm__SyncMsg m = WM__SYNC_MSG__INIT;
    Wm__Fetch out = *f;
    out.req_id = w->req_id;
    out.via = "";
    m.msg_case = WM__SYNC_MSG__MSG_FETCH;
    m.fetch = &out;
    send_to(a, &p->route, &m);
    return WM_OK;
}

/* ---- verification: staged records become log records ---- */

/* Batches of this turn were committed (staged): the verifier looks now. */
static void staged(wm_agg_t *a, const pending_t *pend, size_t n, time_t now)
{
    int any = 0;
    for (size_t i = 0; i < n; i++) {
        if (!pend[i].stored || !pend[i].res.accepted)
            continue;
        any = 1;
        if (!pend[i].peer->unverified_since)
            pend[i].peer->unverified_since = now;
    }
    if (any)
        wm_verifier_kick(a->verifier);
}

static peer_t *find_peer_no(wm_agg_t *a, uint32_t node_no)
{
    for (size_t i = 0; i < a->npeers; i++)
        if (a->peers[i].node_no == node_no)
            return &a->peers[i];
    return NULL;
}

/* A bad inner signature: like equivocation, the node is quarantined with
 * the record kept as proof (wm_stage_discard did that in t). */
static void quarantine_bad_signature(peer_t *p, uint64_t discarded)
{
    char reason[sizeof p->v_why + 128]; /* the verdict and the sentence around it */
    snprintf(reason, sizeof reason,
             "bad_signature: %s; it and the record after it are kept as proof, %" PRIu64
             " unverified record(s) from it on were dropped",
             p->v_why, discarded);
    p->ps->state = WM_PEER_QUARANTINED;
    set_str(&p->ps->state_reason, reason);
    note_reject(p, WM_SYNC_R_BAD_SIGNATURE, reason);
    p->dirty = 1;
    wm_error("sync: %s QUARANTINED: %s", p->ps->node, reason);
}

/* Moves what the verifier vouched for into the log (wm_append: log,
 * indexes, counters together), at most PROMOTE_MAX records per call, and
 * quarantines on a bad signature. One transaction: durable on return. */
static void promote_verified(wm_agg_t *a)
{
    wm_txn_t *t = NULL;
    wm_appender_t *ap = NULL;
    uint64_t budget = PROMOTE_MAX;
    int any = 0;
    for (size_t i = 0; i < a->npeers && !any; i++)
        any = a->peers[i].v_pending;
    if (!any)
        return;
    peer_t **done = calloc(a->npeers, sizeof *done);
    size_t ndone = 0;
    wm_err_t err = done ? wm_txn_begin(a->node->store, 1, &t) : WM_ENOMEM;
    if (err == WM_OK)
        err = wm_append_begin(t, 0, &ap);
    for (size_t i = 0; err == WM_OK && i < a->npeers && budget > 0; i++) {
        peer_t *p = &a->peers[i];
        uint64_t moved = 0, discarded = 0;
        if (!p->v_pending)
            continue;
        err = wm_stage_promote(t, ap, p->node_no, p->v_epoch, p->v_seq, budget, &moved);
        budget -= moved;
        if (err != WM_OK || budget == 0)
            break; /* the rest next turn */
        if (p->v_bad) {
            if ((err = wm_stage_discard(t, p->node_no, p->v_bad_epoch, p->v_bad_seq,
                                        &discarded)) != WM_OK)
                break;
            quarantine_bad_signature(p, discarded);
            err = wm_peer_put(t, p->ps);
        }
        wm_head_t durable, verified;
        if (err == WM_OK && (err = wm_ingest_frontier(t, p->node_no, &durable)) == WM_OK &&
            (err = wm_stage_verified(t, p->node_no, &verified)) == WM_OK &&
            durable.epoch == verified.epoch && durable.seq == verified.seq)
            p->unverified_since = 0; /* nothing waits any more */
        done[ndone++] = p;
    }
    if (err == WM_OK)
        err = wm_append_finish(&ap);
    wm_append_abandon(&ap);
    /* The promoted records are durable (and counted) once this returns. */
    if (err == WM_OK)
        err = wm_txn_commit(&t);
    wm_txn_abort(&t);
    if (err == WM_EMAPFULL && wm_store_grow(a->node->store) == WM_OK) {
        free(done); /* the next call runs it again in the larger map */
        return;
    }
    if (err != WM_OK) {
        wm_error("verifier: cannot move verified records into the log: %s (%s); retrying",
                 wm_strerror(err), wm_store_detail(a->node->store));
    } else {
        for (size_t i = 0; i < ndone; i++) {
            done[i]->v_pending = 0;
            done[i]->v_bad = 0;
        }
    }
    free(done);
}

wm_sock_t *wm_agg_verifier(wm_agg_t *a)
{
    return wm_verifier_sock(a->verifier);
}

void wm_agg_on_verified(wm_agg_t *a)
{
    wm_verdict_t *v = NULL;
    size_t n = wm_verifier_take(a->verifier, &v);
    for (size_t i = 0; i < n; i++) {
        peer_t *p = find_peer_no(a, v[i].node);
        if (!p) {
            wm_warn("verifier: records of node %u are staged but it is not enrolled", v[i].node);
            continue;
        }
        p->v_pending = 1;
        p->v_epoch = v[i].epoch;
        p->v_seq = v[i].seq;
        if (v[i].bad) {
            p->v_bad = 1;
            p->v_bad_epoch = v[i].bad_epoch;
            p->v_bad_seq = v[i].bad_seq;
            snprintf(p->v_why, sizeof p->v_why, "%s", v[i].why);
        }
    }
    free(v);
    promote_verified(a);
}

json_t *wm_agg_verify_status(wm_agg_t *a)
{
    time_t now = time(NULL);
    json_t *lag = json_object();
    for (size_t i = 0; i < a->npeers; i++)
        if (a->peers[i].unverified_since)
            json_object_set_new(lag, a->peers[i].ps->node,
                                json_integer((json_int_t)(now - a->peers[i].unverified_since)));
    return json_pack("{s:I, s:o}", "verified", (json_int_t)wm_verifier_total(a->verifier),
                     "lag_s", lag);
}

int wm_agg_unverified(wm_agg_t *a, char *why, size_t cap)
{
    wm_txn_t *t = NULL;
    int nodes = 0;
    size_t used = 0;
    why[0] = 0;
    if (wm_txn_begin(a->node->store, 0, &t) != WM_OK) {
        snprintf(why, cap, "cannot read what is still unverified");
        return -1;
    }
    uint32_t node = 0;
    wm_err_t err = WM_OK;
    for (uint32_t from = 1; from && (err = wm_stage_next_node(t, from, &node)) == WM_OK;
         from = node + 1) {
        uint64_t count = 0;
        uint32_t e;
        uint64_t s;
        const char *id = "?";
        if ((err = wm_stage_pending(t, node, &count, &e, &s)) != WM_OK)
            break; /* unreadable is not "nothing unverified" */
        if (!count)
            continue;
        if (wm_node_name(t, node, &id) != WM_OK)
            id = "?"; /* the count stands; only the name is missing */
        if (used < cap)
            used += (size_t)snprintf(why + used, cap - used, "%s%s (%" PRIu64 " record(s) from %" PRIu32 "/%" PRIu64 ")",
                                     nodes ? ", " : "", id, count, e, s);
        nodes++;
    }
    wm_txn_abort(&t);
    if (err != WM_OK && err != WM_ENOTFOUND) {
        snprintf(why, cap, "cannot read what is still unverified: %s (%s)", wm_strerror(err),
                 wm_store_detail(a->node->store));
        return -1;
    }
    return nodes;
}

/* One run of a turn's write transaction: every pending batch in a child
 * of it, then the peers' bookkeeping, then the commit. WM_EMAPFULL if any
 * part ran out of map (the caller grows it and runs the turn again); on
 * any failure the node numbers given in this run are forgotten. */
static WM_MUST_CHECK wm_err_t ingest_turn(wm_agg_t *a, pending_t *pend, size_t npend, int64_t now)
{
    wm_txn_t *t = NULL;
    wm_err_t err = wm_txn_begin(a->node->store, 1, &t);
    for (size_t i = 0; i < npend; i++) {
        memset(&pend[i].res, 0, sizeof pend[i].res);
        pend[i].stored = pend[i].numbered = 0;
        if (err == WM_OK) {
            ingest_pending(a, t, &pend[i], now);
            if (pend[i].res.err == WM_EMAPFULL)
                err = WM_EMAPFULL;
            if (pend[i].stored) { /* a sign of life (a refused bundle is none) */
                pend[i].peer->ps->last_seen = now;
                pend[i].peer->dirty = 1;
            }
        }
    }
    if (err == WM_OK)
        err = flush_peers(a, t);
    /* Every stored batch of this turn is durable once this commit
     * returns; only now may any of them be acked. */
    if (err == WM_OK)
        err = commit_peers(a, &t);
    wm_txn_abort(&t);
    for (size_t i = 0; err != WM_OK && i < npend; i++)
        if (pend[i].numbered)
            pend[i].peer->node_no = 0; /* the number was not stored after all */
    return err;
}

void wm_agg_on_router(wm_agg_t *a)
{
    pending_t *pend = calloc(AGG_DRAIN, sizeof *pend);
    size_t npend = 0;
    time_t now = time(NULL);
    if (!pend)
        return;
    size_t taken = 0;
    for (int i = 0; i < AGG_DRAIN && taken < AGG_DRAIN_BYTES; i++) {
        wm_msg_t m = {0};
        wm_err_t err = wm_sock_recv(a->router, &m);
        if (err == WM_ETIMEOUT)
            break;
        if (err != WM_OK)
            continue;
        for (size_t f = 0; f < m.n; f++)
            taken += m.f[f].len;
        peer_t *p = m.user_id[0] ? find_peer_by_key(a, m.user_id) : NULL;
        wm_frame_t *route = &m.f[0];
        Wm__SyncMsg *sm = NULL;
        if (!p || p->ps->state == WM_PEER_REVOKED) {
            /* Revocation acts on live connections too: nothing is read. */
            send_reject(a, route, p, NULL, WM_SYNC_R_REVOKED, 0,
                        "this transport key is not (or no longer) enrolled here");
        } else if (p->ps->state == WM_PEER_QUARANTINED) {
            /* Everything it sends, a Hello, a batch, anything: not read. */
            p->ps->last_seen = (int64_t)now;
            p->dirty = 1;
            send_reject(a, route, p, NULL, WM_SYNC_R_QUARANTINED, 0,
                        "%s is quarantined (%s); an administrator must review the proof",
                        p->ps->node, p->ps->state_reason);
        } else if (m.n != 2 || m.dropped) {
            send_reject(a, route, p, NULL, WM_SYNC_R_MALFORMED, 0,
                        "expected one frame, got %zu", m.n - 1 + m.dropped);
        } else if (wm_pb_decode(&wm__sync_msg__descriptor, m.f[1].data, m.f[1].len,
                                WM_SYNC_MAX_MSG, (void **)&sm) != WM_OK) {
            send_reject(a, route, p, NULL, WM_SYNC_R_MALFORMED, 0, "message does not decode");
        } else {
            p->ps->last_seen = (int64_t)now;
            p->dirty = 1;
            switch (sm->msg_case) {
            case WM__SYNC_MSG__MSG_HELLO:
                on_hello(a, p, route, sm->hello);
                break;
            case WM__SYNC_MSG__MSG_BATCH:
                if (batch_admissible(a, p, route, sm->batch)) {
                    set_claimed(p, sm->batch->head);
                    pend[npend].peer = p;
                    pend[npend].route = *route; /* taken over from m */
                    m.f[0] = (wm_frame_t){0};
                    pend[npend++].msg = sm;
                    sm = NULL;
                }
                break;
            case WM__SYNC_MSG__MSG_HEARTBEAT: {
                set_claimed(p, sm->heartbeat->head);
                if (!p->session || route->len != p->route.len ||
                    memcmp(route->data, p->route.data, route->len) != 0) {
                    /* We restarted under a live link: have it say Hello. */
                    send_reject(a, route, p, NULL, WM_SYNC_R_NO_SESSION, 0,
                                "no session on this connection; send Hello");
                    break;
                }
                Wm__SyncMsg r = WM__SYNC_MSG__INIT;
                Wm__Heartbeat hb = WM__HEARTBEAT__INIT;
                r.msg_case = WM__SYNC_MSG__MSG_HEARTBEAT;
                r.heartbeat = &hb;
                send_to(a, route, &r);
                break;
            }
            case WM__SYNC_MSG__MSG_RECORDS:
                if (!fetch_answered(a, p, sm->records))
                    send_reject(a, route, p, NULL, WM_SYNC_R_UNEXPECTED, 0,
                                "no audit request %" PRIu64 " of this node waits for these "
                                "records (never asked, or timed out after %d s)",
                                sm->records->req_id, FETCH_TIMEOUT_S);
                break;
            case WM__SYNC_MSG__MSG__NOT_SET:
                if (sm->base.n_unknown_fields) {
                    /* A message of a later build (PROTOCOL.md §7): ignored,
                     * unanswered, as every unknown field is. */
                    wm_debug("sync: %s sent a message this build does not know; ignored",
                             p->ps->node);
                    break;
                }
                send_reject(a, route, p, NULL, WM_SYNC_R_MALFORMED, 0,
                            "the message carries no message at all");
                break;
            default:
                send_reject(a, route, p, NULL, WM_SYNC_R_UNEXPECTED, 0,
                            "message type %d is not sent to an aggregator", (int)sm->msg_case);
            }
        }
        wm_pb_free(&sm);
        wm_msg_clear(&m);
    }
    if (npend == 0)
        goto out;
    wm_err_t err;
    int tries = 0;
    do /* a full map grows, and the turn is ingested again */
        err = ingest_turn(a, pend, npend, (int64_t)now);
    while (wm_store_retry(a->node->store, &err, &tries));
    int committed = err == WM_OK;
    if (!committed)
        wm_error("sync: cannot store this turn's batches: %s (%s)", wm_strerror(err),
                 wm_store_detail(a->node->store));
    if (committed)
        staged(a, pend, npend, now);
    for (size_t i = 0; i < npend; i++) {
        if (!committed) {
            pend[i].res.reason = WM_SYNC_R_STORAGE;
            snprintf(pend[i].res.detail, sizeof pend[i].res.detail,
                     "the aggregator could not store the batch: %s", wm_strerror(err));
        }
        answer_pending(a, &pend[i], committed);
        free(pend[i].route.data);
        wm_pb_free(&pend[i].msg);
    }
out:
    free(pend);
}

void wm_agg_tick(wm_agg_t *a)
{
    time_t now = time(NULL);
    promote_verified(a); /* what a failed commit left, or beyond one turn's share */
    for (int i = 0; i < FETCH_WAIT_MAX; i++)
        if (a->waits[i].req_id && now > a->waits[i].deadline)
            fetch_reply(a, &a->waits[i], NULL, "the child did not answer the audit request");
    if (now < a->flush_due)
        return;
    a->flush_due = now + PEER_FLUSH_S;
    int dirty = 0;
    for (size_t i = 0; i < a->npeers; i++)
        dirty |= a->peers[i].dirty;
    if (!dirty)
        return;
    wm_txn_t *t = NULL;
    wm_err_t err = wm_txn_begin(a->node->store, 1, &t);
    if (err == WM_OK && (err = flush_peers(a, t)) == WM_OK)
        err = commit_peers(a, &t);
    if (err != WM_OK) /* the peers stay dirty: the next flush tries again */
        wm_warn("sync: cannot store the peers' state: %s", wm_strerror(err));
    wm_txn_abort(&t);
}

/* Marks key compromised in ps beyond after, unless it already is (the
 * earlier point stands: a key is never trusted further again). */
static WM_MUST_CHECK wm_err_t mark_compromised(Wm__PeerState *ps, const uint8_t *key, const wm_head_t *after)
{
    for (size_t i = 0; i < ps->n_compromised; i++)
        if (ps->compromised[i]->sign_pub.len == WM_PUB_BYTES &&
            memcmp(ps->compromised[i]->sign_pub.data, key, WM_PUB_BYTES) == 0)
            return WM_OK;
    Wm__CompromisedKey **np = realloc(ps->compromised, (ps->n_compromised + 1) * sizeof *np);
    if (!np)
        return WM_ENOMEM;
    ps->compromised = np;
    Wm__CompromisedKey *k = malloc(sizeof *k);
    if (!k)
        return WM_ENOMEM;
    wm__compromised_key__init(k);
    set_bytes(&k->sign_pub, key, WM_PUB_BYTES);
    k->after_epoch = after->epoch;
    k->after_seq = after->seq;
    k->at = (int64_t)time(NULL);
    np[ps->n_compromised++] = k;
    return WM_OK;
}

/* Nonzero if key is one of ps's compromised signing keys (sign) or
 * transport keys (!sign). */
static int key_compromised(const Wm__PeerState *ps, const uint8_t *key, int sign)
{
    size_t n = sign ? ps->n_compromised : ps->n_compromised_curve;
    for (size_t i = 0; i < n; i++) {
        const ProtobufCBinaryData *b = sign ? &ps->compromised[i]->sign_pub
                                            : &ps->compromised_curve[i];
        if (b->len == WM_PUB_BYTES && memcmp(b->data, key, WM_PUB_BYTES) == 0)
            return 1;
    }
    return 0;
}

/* One run of store_peer's transaction. */
static WM_MUST_CHECK wm_err_t store_peer_once(wm_agg_t *a, peer_t *p)
{
    wm_txn_t *t = NULL;
    uint32_t no = p->node_no;
    wm_err_t err = wm_txn_begin(a->node->store, 1, &t);
    if (err == WM_OK && !no)
        err = wm_node_add(t, p->ps->node, &no);
    if (err == WM_OK)
        err = wm_peer_put(t, p->ps);
    if (err == WM_OK)
        err = wm_txn_commit(&t);
    wm_txn_abort(&t);
    if (err == WM_OK)
        p->node_no = no;
    return err;
}

/* Writes one peer now (enrol and revoke are durable before they answer). */
static WM_MUST_CHECK wm_err_t store_peer(wm_agg_t *a, peer_t *p)
{
    wm_err_t err;
    int tries = 0;
    do
        err = store_peer_once(a, p);
    while (wm_store_retry(a->node->store, &err, &tries));
    if (err == WM_OK)
        p->dirty = 0;
    return err;
}

wm_err_t wm_agg_enroll(wm_agg_t *a, const Wm__Identity *id, char *why, size_t cap)
{
    char hex[65];
    if (!id->node || wm_validate_id(id->node) != WM_OK) {
        snprintf(why, cap, "the identity's node id is not a valid id");
        return WM_EINVAL;
    }
    if (id->name && (strlen(id->name) > WM_TEXT_MAX || !wm_utf8_valid(id->name, strlen(id->name)))) {
        snprintf(why, cap, "the identity's name is not UTF-8 text of at most %d bytes",
                 WM_TEXT_MAX);
        return WM_EINVAL;
    }
    if (id->sign_pub.len != WM_PUB_BYTES || id->curve_pub.len != WM_PUB_BYTES) {
        snprintf(why, cap, "the identity needs a 32-byte signing key and transport key");
        return WM_EINVAL;
    }
    if (strcmp(id->node, a->node->cfg->id) == 0) {
        snprintf(why, cap, "a node cannot enrol itself");
        return WM_EINVAL;
    }
    for (size_t i = 0; i < a->npeers; i++) {
        Wm__PeerState *o = a->peers[i].ps;
        if (strcmp(o->node, id->node) != 0 && o->curve_pub.len == WM_PUB_BYTES &&
            memcmp(o->curve_pub.data, id->curve_pub.data, WM_PUB_BYTES) == 0) {
            snprintf(why, cap, "transport key %s is already enrolled for %s",
                     wm_hex(id->curve_pub.data, 32, hex), o->node);
            return WM_EEXIST;
        }
    }
    peer_t *p = find_peer(a, id->node);
    if (p && (key_compromised(p->ps, id->curve_pub.data, 0) ||
              key_compromised(p->ps, id->sign_pub.data, 1))) {
        snprintf(why, cap,
                 "the %s key %s of %s was marked compromised; make new keys at the node "
                 "(wmctl rekey --transport) and enrol its new line",
                 key_compromised(p->ps, id->curve_pub.data, 0) ? "transport" : "signing",
                 wm_hex(key_compromised(p->ps, id->curve_pub.data, 0) ? id->curve_pub.data
                                                                      : id->sign_pub.data,
                        32, hex),
                 id->node);
        return WM_EPERM;
    }
    if (!p) {
        if (a->npeers == a->cap) {
            size_t ncap = a->cap ? 2 * a->cap : 64;
            peer_t *np = realloc(a->peers, ncap * sizeof *np);
            if (!np)
                return WM_ENOMEM;
            a->peers = np;
            a->cap = ncap;
        }
        p = &a->peers[a->npeers];
        memset(p, 0, sizeof *p);
        p->ps = malloc(sizeof *p->ps);
        if (!p->ps)
            return WM_ENOMEM;
        wm__peer_state__init(p->ps);
        set_str(&p->ps->node, id->node);
        p->ps->enrolled = (int64_t)time(NULL);
        a->npeers++;
    } else if (p->ps->sign_pub.len == WM_PUB_BYTES &&
               memcmp(p->ps->sign_pub.data, id->sign_pub.data, WM_PUB_BYTES) != 0) {
        /* A re-key: the old key still signs the epochs before the new
         * one's first, which may not have reached us yet. */
        if (id->from_epoch > 1) {
            Wm__PriorKey **np = realloc(p->ps->prior, (p->ps->n_prior + 1) * sizeof *np);
            Wm__PriorKey *k = malloc(sizeof *k);
            if (!np || !k) {
                free(k);
                if (np)
                    p->ps->prior = np;
                return WM_ENOMEM;
            }
            wm__prior_key__init(k);
            k->sign_pub = (ProtobufCBinaryData){0, NULL};
            set_bytes(&k->sign_pub, p->ps->sign_pub.data, WM_PUB_BYTES);
            k->until_epoch = id->from_epoch - 1;
            np[p->ps->n_prior++] = k;
            p->ps->prior = np;
        }
        wm_info("enrol: %s re-enrolled with a new signing key, from epoch %u%s", id->node,
                id->from_epoch, id->from_epoch > 1 ? "; the previous key keeps the epochs before" : "");
    }
    set_str(&p->ps->name, id->name ? id->name : "");
    set_str(&p->ps->role, id->role ? id->role : "station");
    set_bytes(&p->ps->sign_pub, id->sign_pub.data, WM_PUB_BYTES);
    set_bytes(&p->ps->curve_pub, id->curve_pub.data, WM_PUB_BYTES);
    p->ps->state = WM_PEER_ACTIVE;
    set_str(&p->ps->state_reason, "");
    wm_err_t err = store_peer(a, p);
    if (err != WM_OK) {
        snprintf(why, cap, "cannot store the enrolment: %s", wm_strerror(err));
        p->dirty = 0;
        wm_err_t rerr = wm_agg_reload(a); /* what is in force is what is stored */
        if (rerr != WM_OK)
            wm_error("cannot read the enrolment register back: %s", wm_strerror(rerr));
        return err;
    }
    wm_info("enrolled %s (%s), transport key %s", id->node, id->name ? id->name : "",
            wm_hex(id->curve_pub.data, 32, hex));
    return WM_OK;
}

wm_err_t wm_agg_revoke(wm_agg_t *a, const char *id, char *why, size_t cap)
{
    peer_t *p = id ? find_peer(a, id) : NULL;
    if (!p) {
        snprintf(why, cap, "no enrolled node \"%s\"", id ? id : "");
        return WM_ENOTFOUND;
    }
    p->ps->state = WM_PEER_REVOKED;
    set_str(&p->ps->state_reason, "revoked by the administrator");
    p->session = 0;
    wm_err_t err = store_peer(a, p);
    if (err != WM_OK) {
        /* Not stored, yet refused from now on all the same: a revocation
         * errs on the safe side until the daemon restarts. */
        snprintf(why, cap, "cannot store the revocation (%s); it holds until the daemon restarts",
                 wm_strerror(err));
        return err;
    }
    wm_info("revoked %s: its connection is refused from now on", id);
    return WM_OK;
}

wm_err_t wm_agg_compromise(wm_agg_t *a, const char *id, int after_set, wm_head_t *after,
                           char *why, size_t cap)
{
    char hex[65];
    peer_t *p = id ? find_peer(a, id) : NULL;
    if (!p) {
        snprintf(why, cap, "no enrolled node \"%s\"", id ? id : "");
        return WM_ENOTFOUND;
    }
    wm_head_t held;
    wm_err_t err = durable_of(a, p, &held);
    if (err != WM_OK) {
        snprintf(why, cap, "cannot read what is held of %s: %s", id, wm_strerror(err));
        return err;
    }
    if (after_set && (after->epoch < held.epoch ||
                      (after->epoch == held.epoch && after->seq < held.seq))) {
        snprintf(why, cap,
                 "--after %" PRIu32 ":%" PRIu64 " lies below what this aggregator already holds "
                 "of %s (%" PRIu32 ":%" PRIu64 "); records it holds stay accepted",
                 after->epoch, after->seq, id, held.epoch, held.seq);
        return WM_EINVAL;
    }
    if (!after_set)
        *after = held;
    Wm__PeerState *ps = p->ps;
    if (ps->sign_pub.len == WM_PUB_BYTES)
        err = mark_compromised(ps, ps->sign_pub.data, after);
    for (size_t i = 0; err == WM_OK && i < ps->n_prior; i++)
        if (ps->prior[i]->sign_pub.len == WM_PUB_BYTES)
            err = mark_compromised(ps, ps->prior[i]->sign_pub.data, after);
    if (err == WM_OK && ps->curve_pub.len == WM_PUB_BYTES &&
        !key_compromised(ps, ps->curve_pub.data, 0)) {
        ProtobufCBinaryData *nc =
            realloc(ps->compromised_curve, (ps->n_compromised_curve + 1) * sizeof *nc);
        if (!nc)
            err = WM_ENOMEM;
        else {
            ps->compromised_curve = nc;
            nc[ps->n_compromised_curve] = (ProtobufCBinaryData){0, NULL};
            set_bytes(&nc[ps->n_compromised_curve++], ps->curve_pub.data, WM_PUB_BYTES);
        }
    }
    if (err != WM_OK) {
        snprintf(why, cap, "out of memory");
        return err;
    }
    ps->state = WM_PEER_REVOKED;
    char reason[WM_WHY_MAX];
    snprintf(reason, sizeof reason,
             "keys compromised: nothing they signed after %" PRIu32 ":%" PRIu64 " is accepted",
             after->epoch, after->seq);
    set_str(&ps->state_reason, reason);
    p->session = 0;
    p->dirty = 1;
    if ((err = store_peer(a, p)) != WM_OK) {
        /* Not stored, yet in force all the same until the daemon restarts. */
        snprintf(why, cap, "cannot store the revocation (%s); it holds until the daemon restarts",
                 wm_strerror(err));
        return err;
    }
    wm_warn("revoked %s as COMPROMISED: its signing key %s (and %zu earlier) signs nothing after "
            "%" PRIu32 ":%" PRIu64 " here; its transport key is refused for good",
            id, ps->sign_pub.len == WM_PUB_BYTES ? wm_hex(ps->sign_pub.data, 32, hex) : "?",
            ps->n_prior, after->epoch, after->seq);
    return WM_OK;
}

wm_err_t wm_agg_import(wm_agg_t *a, const char *id, const uint8_t *const *recs,
                       const size_t *lens, size_t n, char *why, size_t cap,
                       uint64_t *accepted, uint64_t *duplicates, wm_head_t *durable)
{
    peer_t *p = find_peer(a, id);
    size_t bytes = 0;
    for (size_t i = 0; i < n; i++)
        bytes += lens[i];
    if (n > WM_SYNC_MAX_RECORDS || bytes > WM_SYNC_MAX_BYTES) {
        snprintf(why, cap, "an import chunk may hold at most %u records and %u bytes",
                 WM_SYNC_MAX_RECORDS, WM_SYNC_MAX_BYTES);
        return WM_ETOOBIG;
    }
    if (!p) {
        snprintf(why, cap, "the bundle is from \"%s\", which is not enrolled here", id);
        return WM_EPERM;
    }
    if (p->ps->state == WM_PEER_REVOKED) {
        snprintf(why, cap, "%s is revoked", id);
        return WM_EPERM;
    }
    if (p->ps->state == WM_PEER_QUARANTINED) {
        snprintf(why, cap, "%s is quarantined (%s)", id, p->ps->state_reason);
        return WM_EPERM;
    }
    pending_t pb = {.peer = p};
    Wm__SyncMsg sm = WM__SYNC_MSG__INIT;
    Wm__Batch b = WM__BATCH__INIT;
    ProtobufCBinaryData *bd = calloc(n + 1, sizeof *bd);
    if (!bd)
        return WM_ENOMEM;
    for (size_t i = 0; i < n; i++)
        bd[i] = (ProtobufCBinaryData){lens[i], (uint8_t *)recs[i]};
    b.records = bd;
    b.n_records = n;
    sm.batch = &b;
    pb.msg = &sm;
    wm_err_t err;
    int tries = 0;
    do { /* a full map grows, and the chunk is ingested again */
        err = ingest_turn(a, &pb, 1, (int64_t)time(NULL));
    } while (wm_store_retry(a->node->store, &err, &tries));
    if (err == WM_OK)
        staged(a, &pb, 1, time(NULL));
    if (err == WM_OK && pb.stored && pb.res.flagged) {
        p->ps->flagged += pb.res.flagged; /* stored with the next flush */
        p->dirty = 1;
    }
    free(bd);
    if (err != WM_OK) {
        snprintf(why, cap, "cannot store: %s", wm_strerror(err));
        return err;
    }
    if (!pb.stored) {
        snprintf(why, cap, "%s: %s", wm_sync_slug(pb.res.reason ? pb.res.reason : WM_SYNC_R_STORAGE),
                 pb.res.detail);
        return pb.res.err != WM_OK ? pb.res.err : WM_EIO;
    }
    *accepted = pb.res.accepted;
    *duplicates = pb.res.duplicates;
    *durable = pb.res.durable;
    return WM_OK;
}

wm_err_t wm_agg_reload(wm_agg_t *a)
{
    /* Re-read the register; sessions (routes) of peers that stay are kept. */
    wm_agg_t fresh = {.node = a->node};
    wm_err_t err = load_register(&fresh);
    if (err != WM_OK) {
        for (size_t i = 0; i < fresh.npeers; i++)
            wm_pb_free(&fresh.peers[i].ps);
        free(fresh.peers);
        return err;
    }
    for (size_t i = 0; i < fresh.npeers; i++) {
        peer_t *old = find_peer(a, fresh.peers[i].ps->node);
        if (old && !old->dirty) {
            fresh.peers[i].route = old->route;
            fresh.peers[i].session = old->session && fresh.peers[i].ps->state != WM_PEER_REVOKED;
            old->route = (wm_frame_t){0};
        } else if (old) { /* our unsaved bookkeeping is newer than the disk */
            wm_pb_free(&fresh.peers[i].ps);
            fresh.peers[i] = *old;
            old->ps = NULL;
            old->route = (wm_frame_t){0};
        }
    }
    for (size_t i = 0; i < a->npeers; i++) {
        wm_pb_free(&a->peers[i].ps);
        free(a->peers[i].route.data);
    }
    free(a->peers);
    a->peers = fresh.peers;
    a->npeers = fresh.npeers;
    a->cap = fresh.cap;
    return WM_OK;
}
