/* SPDX-License-Identifier: MIT */
/*
 * wm_agg — the aggregator role; see wm_agg.h and proto/PROTOCOL.md.
 *
 * Each turn of the poll loop drains up to AGG_DRAIN messages from the
 * ROUTER. Hellos and heartbeats are answered at once; batches are ingested
 * each in a nested transaction of one turn-wide write transaction, which
 * is committed (one fsync for the whole turn) before any of them is acked.
 */
#include "wm_i18n.h"
#include "wm_agg_int.h"

#include "control.pb-c.h"

#include <assert.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "wm_ingest.h"
#include "wm_diag.h"
#include "wm_reactor.h"
#include "wm_stage.h"
#include "wm_validate.h"
#include "wm_verifier.h"

/* ---- sending ---- */

void wm_agg_send(wm_agg_t *a, const wm_frame_t *route, Wm__SyncMsg *m)
{
    uint8_t *buf = NULL;
    size_t len = 0;
    if (wm_pb_encode(&m->base, &buf, &len) != WM_OK)
        return;
    wm_msg_t out = {.n = 2, .f = {*route, {buf, len}}};
    if (wm_sock_send(a->router, &out) != WM_OK) {
        wm_debug("sync: reply dropped (%s)", wm_net_detail());
    } else {
        /* Counted for the child whose session is on route (wm_link). */
        for (size_t i = 0; i < a->npeers; i++)
            if (a->peers[i].route.len == route->len && route->len &&
                memcmp(a->peers[i].route.data, route->data, route->len) == 0) {
                wm_link_sent(&a->peers[i].link, len);
                break;
            }
    }
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

void wm_agg_note_reject(wm_agg_peer_t *p, wm_sync_reason_t reason, const char *detail)
{
    if (!p || reason == WM_SYNC_R_NO_SESSION) /* routine after a restart */
        return;
    if (reason == WM_SYNC_R_GAP && p->session == WM_AGG_S_RESUMING)
        return; /* a batch sent before the child heard of the reject kept */
    wm_agg_set_str(&p->ps->last_reject, wm_sync_slug(reason));
    wm_agg_set_str(&p->ps->last_reject_detail, detail);
    p->ps->last_reject_at = (int64_t)time(NULL);
    p->dirty = 1;
}

static void reject_durable(wm_agg_t *a, wm_agg_peer_t *p, wm_head_t *h);

/* Answers the message that came on route from p (NULL: no enrolled node)
 * with a REJECT. b is the BATCH it answers, or NULL: then the reject
 * carries batch_id 0 and returns no credit. Every reject names the
 * committed frontier of p (PROTOCOL.md §2), whatever it answers. */
static void send_reject(wm_agg_t *a, const wm_frame_t *route, wm_agg_peer_t *p, const Wm__Batch *b,
                        wm_sync_reason_t reason, uint64_t seq, const char *fmt, ...)
    __attribute__((format(printf, 7, 8)));

static void send_reject(wm_agg_t *a, const wm_frame_t *route, wm_agg_peer_t *p, const Wm__Batch *b,
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
    wm_agg_send(a, route, &m);
    int stale = p && reason == WM_SYNC_R_GAP && p->session == WM_AGG_S_RESUMING;
    wm_agg_note_reject(p, reason, detail);
    if (p && b && p->session != WM_AGG_S_NONE) /* it resumes from durable, unless told to stop */
        p->session = wm_sync_reason_info(reason)->fatal ? WM_AGG_S_STREAMING : WM_AGG_S_RESUMING;
    if (stale)
        wm_debug("sync: rejected a stale batch from %s: %s", p->ps->node, detail);
    else
        wm_warn_peer(p ? p->ps->node : NULL, "sync: rejected %s from %s: %s: %s",
                     b ? "a batch" : "a message", p ? p->ps->node : "an unknown peer",
                     wm_sync_slug(reason), detail);
}

wm_err_t wm_agg_open(wm_node_t *node, wm_net_t *net, const char *endpoint,
                     const uint8_t *curve_secret, wm_agg_t **out, char *why, size_t cap)
{
    wm_agg_t *a = calloc(1, sizeof *a);
    if (!a)
        return WM_ENOMEM;
    a->node = node;
    wm_err_t err = wm_agg_peers_load(a);
    if (err != WM_OK) {
        wm_why(why, cap, "cannot load the enrolment register: %s", wm_strerror(err));
        goto fail;
    }
    if ((err = wm_agg_lag_restore(a, time(NULL))) != WM_OK) {
        wm_why(why, cap, "cannot read what is still unverified: %s", wm_strerror(err));
        goto fail;
    }
    wm_agg_orders_decide(a); /* steps promoted before a crash get their word now */
    wm_agg_blob_open(a); /* the blob quota's totals, once for an older store */
    if (wm_agg_hasher_start(&a->hasher) != WM_OK) /* then the loop hashes */
        wm_warn("sync: cannot start the hashing thread; batches are hashed on the loop");
    if ((err = wm_verifier_start(node->store, net, &a->verifier)) != WM_OK) {
        wm_why(why, cap, "cannot start the verifier thread: %s", wm_strerror(err));
        goto fail;
    }
    if ((err = wm_zap_open(net, &a->zap)) != WM_OK) {
        wm_why(why, cap, "cannot start the ZAP handler: %s", wm_net_detail());
        goto fail;
    }
    if ((err = wm_sync_listen(net, endpoint, curve_secret, WM_SYNC_MAX_MSG, &a->router)) != WM_OK) {
        wm_why(why, cap, "cannot listen on %s: %s", endpoint, wm_net_detail());
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
    wm_agg_hasher_stop(&a->hasher);
    wm_txn_t *t = NULL;
    wm_err_t err = wm_txn_begin(a->node->store, 1, &t);
    if (err == WM_OK && (err = wm_agg_peers_flush(a, t)) == WM_OK)
        err = wm_agg_peers_commit(a, &t);
    if (err != WM_OK)
        wm_warn("sync: cannot store the peers' last state at shutdown: %s", wm_strerror(err));
    wm_txn_abort(&t);
    wm_agg_peers_free(a);
    wm_agg_audit_close(a);
    wm_agg_blob_close(a);
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
        wm_agg_peer_t *p = wm_agg_peer_by_curve(a, req.client_key);
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

WM_MUST_CHECK wm_err_t wm_agg_durable(wm_agg_t *a, wm_agg_peer_t *p, wm_head_t *h)
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


/* The features this aggregator offers in a Welcome: the build's, less
 * those named in the environment variable WMSYNCD_FEATURES_OFF (comma
 * separated), with which a test plays an aggregator of an older build,
 * and less "zstd" unless compress ([sync] compress). Returns how many; out
 * holds at most WM_SYNC_FEATURES_MAX. */
static size_t offered_features(const char **out, int compress)
{
    const char *off = getenv("WMSYNCD_FEATURES_OFF");
    size_t n = 0;
    for (const char *const *f = wm_sync_features; *f && n < WM_SYNC_FEATURES_MAX; f++) {
        size_t len = strlen(*f);
        const char *hit = off ? strstr(off, *f) : NULL;
        while (hit && !((hit == off || hit[-1] == ',') && (hit[len] == 0 || hit[len] == ',')))
            hit = strstr(hit + 1, *f);
        if (!hit && (compress || strcmp(*f, WM_WIRE_FEATURE) != 0))
            out[n++] = *f;
    }
    return n;
}

/* The frontier a reject names: 0/0 if it cannot be read (logged; the
 * child then offers from its start, and ingest answers that). */
static void reject_durable(wm_agg_t *a, wm_agg_peer_t *p, wm_head_t *h)
{
    wm_err_t err = wm_agg_durable(a, p, h);
    if (err != WM_OK) {
        memset(h, 0, sizeof *h);
        wm_warn_peer(p->ps->node, "sync: cannot read the stored frontier of %s: %s",
                     p->ps->node, wm_strerror(err));
    }
}

/* The child's wall clock minus ours, from the time its HELLO carries (a
 * build older than the field sends none: nothing is noted). The HELLO's
 * one-way delay is not corrected: a second or so on a slow link. */
static void note_clock(wm_agg_peer_t *p, const Wm__Hello *h)
{
    if (!h->time_ms)
        return;
    int64_t now = wm_link_wall_ms();
    p->ps->clock_offset_ms = h->time_ms - now;
    p->ps->clock_at = now / 1000;
    p->dirty = 1;
    int64_t off_s = p->ps->clock_offset_ms / 1000;
    if (off_s > WM_SYNC_CLOCK_WARN_S || off_s < -WM_SYNC_CLOCK_WARN_S)
        wm_warn_peer(p->ps->node, "sync: the clock of %s is %" PRId64 " s %s ours", p->ps->node,
                     off_s > 0 ? off_s : -off_s, off_s > 0 ? "ahead of" : "behind");
}

static void on_hello(wm_agg_t *a, wm_agg_peer_t *p, const wm_frame_t *route, const Wm__Hello *h)
{
    wm_head_t durable, claimed;
    if (wm_agg_durable(a, p, &durable) != WM_OK) {
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
    wm_agg_peer_claimed(p, h->head);
    note_clock(p, h);
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
    p->session = WM_AGG_S_STREAMING;
    p->last_batch_id = 0;
    p->in_flight = 0;
    Wm__SyncMsg m = WM__SYNC_MSG__INIT;
    Wm__Welcome w = WM__WELCOME__INIT;
    const char *offered[WM_SYNC_FEATURES_MAX];
    size_t n_offered = offered_features(offered, a->node->cfg->compress);
    p->link.zstd = 0; /* both listed zstd: the child may send ZBatches */
    for (size_t i = 0; i < n_offered; i++)
        p->link.zstd |= strcmp(offered[i], WM_WIRE_FEATURE) == 0 &&
                        wm_sync_feature_agreed(WM_WIRE_FEATURE, h->features, h->n_features);
    wm_agg_down_session(p, h, offered, n_offered); /* both listed "down": our log goes down */
    p->relays = 0; /* both listed rollup-bin: the child relays audit fetches down */
    for (size_t i = 0; i < n_offered; i++)
        p->relays |= strcmp(offered[i], WM_FEATURE_ROLLUP_BIN) == 0 &&
                     wm_sync_feature_agreed(WM_FEATURE_ROLLUP_BIN, h->features, h->n_features);
    p->blobs = 0; /* both listed blobs: it offers and sends them (wm_agg_blob.c) */
    for (size_t i = 0; i < n_offered; i++)
        p->blobs |= strcmp(offered[i], WM_FEATURE_BLOBS) == 0 &&
                    wm_sync_feature_agreed(WM_FEATURE_BLOBS, h->features, h->n_features);
    wm_agg_blobfetch_session(a, p, h, offered, n_offered); /* blobs on demand */
    Wm__Frontier f = wm_frontier_of(&durable);
    w.durable = &f;
    w.credit = wm_agg_credit_welcome(a, p, time(NULL));
    w.max_records = WM_SYNC_MAX_RECORDS;
    w.max_bytes = WM_SYNC_MAX_BYTES;
    w.heartbeat_s = a->node->cfg->heartbeat_s; /* [sync] heartbeat_s: how often we want one */
    w.features = (char **)offered; /* the child uses those it listed too */
    w.n_features = n_offered;
    w.time_ms = wm_link_wall_ms(); /* the child warns its operator of a wrong clock */
    m.msg_case = WM__SYNC_MSG__MSG_WELCOME;
    m.welcome = &w;
    wm_agg_send(a, route, &m);
    wm_info_peer(p->ps->node,
                 "sync: %s connected: it has epoch %" PRIu32 " seq %" PRIu64
                 ", we hold seq %" PRIu64,
                 p->ps->node, claimed.epoch, claimed.seq, durable.seq);
}

/* Nonzero if route is the connection of p's session. */
static int in_session(const wm_agg_peer_t *p, const wm_frame_t *route)
{
    return p->session != WM_AGG_S_NONE && route->len == p->route.len &&
           memcmp(route->data, p->route.data, route->len) == 0;
}

int wm_agg_in_session(const wm_agg_peer_t *p, const wm_frame_t *route)
{
    return in_session(p, route);
}

void wm_agg_reject(wm_agg_t *a, const wm_frame_t *route, wm_agg_peer_t *p,
                   wm_sync_reason_t reason, const char *fmt, ...)
{
    char detail[WM_WHY_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(detail, sizeof detail, fmt, ap);
    va_end(ap);
    send_reject(a, route, p, NULL, reason, 0, "%s", detail);
}

/* Nonzero if b holds more records or bytes than a batch may (the sentence
 * in why). */
static int too_big(const Wm__Batch *b, char *why, size_t cap)
{
    size_t bytes = 0;
    for (size_t i = 0; i < b->n_records; i++)
        bytes += b->records[i].len;
    if (b->n_records <= WM_SYNC_MAX_RECORDS && bytes <= WM_SYNC_MAX_BYTES)
        return 0;
    snprintf(why, cap, "batch of %zu records / %zu bytes exceeds %u / %u", b->n_records, bytes,
             WM_SYNC_MAX_RECORDS, WM_SYNC_MAX_BYTES);
    return 1;
}

/* A quick look at a batch before it joins the turn's commit: its session,
 * its batch id, its size, and the child's credit. */
static int batch_admissible(wm_agg_t *a, wm_agg_peer_t *p, const wm_frame_t *route, const Wm__Batch *b)
{
    if (!in_session(p, route)) {
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
    char why[WM_WHY_MAX];
    if (too_big(b, why, sizeof why)) {
        send_reject(a, route, p, b, WM_SYNC_R_TOO_BIG, 0, "%s", why);
        return 0;
    }
    /* Credit: batches taken and not yet answered, counted per batch,
     * against what this session was granted (wm_agg_budget.c). */
    uint32_t credit = p->credit ? p->credit : WM_SYNC_CREDIT;
    if (p->in_flight >= credit) {
        send_reject(a, route, p, b, WM_SYNC_R_OVER_CREDIT, 0,
                    "more than %u batches in flight; wait for acks", credit);
        return 0;
    }
    p->in_flight++;
    return 1;
}

/* Stores the proof of an equivocation and quarantines the sender. */
static void quarantine(wm_agg_t *a, wm_txn_t *parent, wm_agg_peer_t *p, const wm_ingest_t *res)
{
    wm_txn_t *t = NULL;
    if (wm_txn_begin_child(parent, &t) != WM_OK)
        return;
    if (wm_proof_put(t, p->node_no, res->bad_epoch, res->bad_seq, res->proof, res->proof_len) ==
            WM_OK &&
        wm_txn_commit(&t) == WM_OK) { /* joins the parent: durable with it */
        p->ps->state = WM_PEER_QUARANTINED;
        wm_agg_set_str(&p->ps->state_reason, res->detail);
        p->dirty = 1;
        wm_error("sync: %s QUARANTINED: %s", p->ps->node, res->detail);
    }
    wm_txn_abort(&t);
    (void)a;
}

/* A ZBatch's records, once prepared, become its view's; one that did not
 * unpack, or restored to more than a batch may hold, gets its refusal as
 * its result (0). A Batch: 1. */
static int zbatch_restored(wm_agg_pending_t *pb)
{
    if (pb->batch != &pb->view)
        return 1;
    if (pb->unz_reason != WM_SYNC_R_OK) {
        pb->res.reason = pb->unz_reason;
        snprintf(pb->res.detail, sizeof pb->res.detail, "%s",
                 pb->unz_why ? pb->unz_why : wm_sync_slug(pb->unz_reason));
        return 0;
    }
    pb->view.records = pb->unz.recs;
    pb->view.n_records = pb->unz.n;
    if (too_big(&pb->view, pb->res.detail, sizeof pb->res.detail)) {
        pb->res.reason = WM_SYNC_R_TOO_BIG;
        return 0;
    }
    return 1;
}

/* Ingests one pending batch in a child of the turn's transaction. */
static void ingest_pending(wm_agg_t *a, wm_txn_t *parent, wm_agg_pending_t *pb, int64_t now)
{
    wm_agg_peer_t *p = pb->peer;
    Wm__Batch *b = pb->batch;
    wm_txn_t *t = NULL;
    wm_agg_hasher_ready(a->hasher, pb); /* hashed, or unpacked, by now */
    if (!zbatch_restored(pb))
        return;
    if (!p->node_no) {
        /* First records ever from this node: number it in the parent. */
        if ((pb->res.err = wm_nodeno_add(parent, p->ps->node, &p->node_no)) != WM_OK) {
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
    /* A ZBatch's records were hashed once as they were restored; a
     * Batch's by the preparing thread while the batches before it were
     * taken and ingested (NULL if there was no memory: wm_ingest hashes
     * them); and both decoded and checked there as far as they pass
     * (pre: ingest checks the rest, and refuses the first that fails). */
    const uint8_t *hashes = b->n_records && pb->unz.n == b->n_records ? pb->unz.hashes
                                                                       : pb->hashes;
    wm_err_t err = wm_ingest_prechecked(t, &s, recs, lens, hashes, pb->pre, b->n_records, now,
                                        &pb->res);
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

static void answer_pending(wm_agg_t *a, wm_agg_pending_t *pb, int committed)
{
    wm_agg_peer_t *p = pb->peer;
    Wm__Batch *b = pb->batch;
    if (p->in_flight)
        p->in_flight--; /* answered now, either way */
    if (pb->stored && committed && pb->res.flagged) {
        p->ps->flagged += pb->res.flagged; /* stored with the next flush */
        p->dirty = 1;
        wm_warn_peer(p->ps->node,
                     "sync: %s: %" PRIu64 " record(s) accepted with an implausible capture time "
                     "(its clock?)",
                     p->ps->node, pb->res.flagged);
    }
    if (pb->stored && committed) {
        Wm__SyncMsg m = WM__SYNC_MSG__INIT;
        Wm__Ack ack = WM__ACK__INIT;
        Wm__Frontier f = wm_frontier_of(&pb->res.durable);
        ack.batch_id = b->batch_id;
        ack.durable = &f;
        size_t bytes = 0;
        for (size_t i = 0; i < b->n_records; i++)
            bytes += b->records[i].len;
        ack.credit = wm_agg_credit_answer(a, p, bytes, time(NULL));
        ack.flagged = (uint32_t)pb->res.flagged;
        m.msg_case = WM__SYNC_MSG__MSG_ACK;
        m.ack = &ack;
        wm_agg_send(a, &pb->route, &m);
        if (p->session == WM_AGG_S_RESUMING)
            p->session = WM_AGG_S_STREAMING; /* the child's batches follow on again */
        return;
    }
    send_reject(a, &pb->route, p, b, pb->res.reason ? pb->res.reason : WM_SYNC_R_STORAGE,
                pb->res.bad_seq, "%s",
                pb->res.detail[0] ? pb->res.detail : "the aggregator could not store the batch");
}

/* What the verifier vouched for goes into the log in the turn's commit
 * (one fsync for both), in a child of t: if it fails, the turn's batches
 * are stored all the same, and wm_agg_promote tries again on its own.
 * Not with a bad signature pending: wm_agg_on_verified deals with that at
 * once. */
static void promote_in_turn(wm_agg_t *a, wm_txn_t *t, wm_agg_promotion_t *pr)
{
    wm_txn_t *c = NULL;
    int any = 0;
    for (size_t i = 0; i < a->npeers; i++) {
        if (a->peers[i].v_pending && a->peers[i].v_bad)
            return;
        any |= a->peers[i].v_pending;
    }
    if (!any || wm_txn_begin_child(t, &c) != WM_OK)
        return;
    wm_err_t err = wm_agg_promote_in(a, c, pr);
    if (err == WM_OK)
        err = wm_txn_commit(&c);
    wm_txn_abort(&c);
    if (err != WM_OK)
        wm_agg_promote_settle(a, pr, 0); /* nothing of it stays in t */
}

/* One run of a turn's write transaction: every pending batch in a child
 * of it, then the peers' bookkeeping, then the commit. WM_EMAPFULL if any
 * part ran out of map (the caller grows it and runs the turn again); on
 * any failure the node numbers given in this run are forgotten. */
static WM_MUST_CHECK wm_err_t ingest_turn(wm_agg_t *a, wm_agg_pending_t *pend, size_t npend,
                                          int64_t now, wm_agg_promotion_t *pr)
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
    if (err == WM_OK && pr)
        promote_in_turn(a, t, pr);
    if (err == WM_OK)
        err = wm_agg_peers_flush(a, t);
    /* Every stored batch of this turn is durable once this commit
     * returns; only now may any of them be acked. */
    if (err == WM_OK)
        err = wm_agg_peers_commit(a, &t);
    wm_txn_abort(&t);
    for (size_t i = 0; err != WM_OK && i < npend; i++)
        if (pend[i].numbered)
            pend[i].peer->node_no = 0; /* the number was not stored after all */
    return err;
}

/* A Heartbeat from p: its claimed head noted and answered in kind; on a
 * connection without a session, a no_session reject instead. */
static void on_heartbeat(wm_agg_t *a, wm_agg_peer_t *p, const wm_frame_t *route,
                         const Wm__Heartbeat *in)
{
    wm_agg_peer_claimed(p, in->head);
    if (!in_session(p, route)) {
        /* We restarted under a live link: have it say Hello. */
        send_reject(a, route, p, NULL, WM_SYNC_R_NO_SESSION, 0,
                    "no session on this connection; send Hello");
        return;
    }
    Wm__SyncMsg r = WM__SYNC_MSG__INIT;
    Wm__Heartbeat hb = WM__HEARTBEAT__INIT;
    r.msg_case = WM__SYNC_MSG__MSG_HEARTBEAT;
    r.heartbeat = &hb;
    wm_agg_send(a, route, &r);
}

/* A ZBATCH (feature "zstd", PROTOCOL.md §7.1): only on a session that
 * agreed to it; its frame checked (every size, before anything is
 * decompressed), then taken as a Batch whose records the preparing thread
 * restores (wm_agg_hash.c; one that does not unpack is refused when the
 * turn comes to it, zbatch_restored). */
static void on_zbatch(wm_agg_t *a, wm_agg_peer_t *p, wm_msg_t *m, Wm__SyncMsg **sm,
                      wm_agg_pending_t *pend, size_t *npend)
{
    const Wm__ZBatch *zb = (*sm)->zbatch;
    wm_agg_pending_t *pb = &pend[*npend];
    Wm__Batch *v = &pb->view;
    char why[WM_WHY_MAX];
    wm__batch__init(v);
    v->batch_id = zb->batch_id;
    v->head = zb->head;
    if (in_session(p, &m->f[0]) && !p->link.zstd) {
        send_reject(a, &m->f[0], p, v, WM_SYNC_R_NOT_NEGOTIATED, 0,
                    "a compressed batch, but this session did not agree to \"%s\"",
                    WM_WIRE_FEATURE);
        return;
    }
    wm_sync_reason_t r = in_session(p, &m->f[0])
                             ? wm_wire_check(zb, WM_SYNC_MAX_RECORDS, why, sizeof why)
                             : WM_SYNC_R_OK;
    if (r != WM_SYNC_R_OK) {
        send_reject(a, &m->f[0], p, v, r, 0, "%s", why);
        return;
    }
    if (!batch_admissible(a, p, &m->f[0], v)) /* its size: once restored */
        return;
    wm_agg_peer_claimed(p, zb->head);
    wm_link_batch(&p->link, zb->count, 1);
    pb->unz_max = (size_t)zb->raw_bytes + (size_t)zb->count * (WM_WIRE_ELIDED + sizeof *v->records);
    pb->peer = p;
    pb->route = m->f[0]; /* taken over from m */
    m->f[0] = (wm_frame_t){0};
    pb->batch = v;
    pb->msg = *sm;
    *sm = NULL;
    (*npend)++;
}

/* One decoded message *sm of the active peer p, arrived as m. An
 * admissible batch joins pend (which takes over *sm and m's route frame,
 * leaving NULL and an empty frame behind); everything else is answered
 * now. */
static void on_sync_msg(wm_agg_t *a, wm_agg_peer_t *p, wm_msg_t *m, Wm__SyncMsg **sm,
                        wm_agg_pending_t *pend, size_t *npend)
{
    wm_frame_t *route = &m->f[0];
    Wm__SyncMsg *s = *sm;
    switch (s->msg_case) {
    case WM__SYNC_MSG__MSG_HELLO: on_hello(a, p, route, s->hello); break;
    case WM__SYNC_MSG__MSG_BATCH:
        if (batch_admissible(a, p, route, s->batch)) {
            wm_agg_peer_claimed(p, s->batch->head);
            wm_link_batch(&p->link, s->batch->n_records, 0);
            pend[*npend].peer = p;
            pend[*npend].route = *route; /* taken over from m */
            m->f[0] = (wm_frame_t){0};
            pend[*npend].batch = s->batch;
            pend[(*npend)++].msg = s;
            *sm = NULL;
        }
        break;
    case WM__SYNC_MSG__MSG_ZBATCH: on_zbatch(a, p, m, sm, pend, npend); break;
    case WM__SYNC_MSG__MSG_HEARTBEAT: on_heartbeat(a, p, route, s->heartbeat); break;
    case WM__SYNC_MSG__MSG_DOWN_HELLO:
    case WM__SYNC_MSG__MSG_DOWN_ACK:
    case WM__SYNC_MSG__MSG_DOWN_REJECT:
        if (!in_session(p, route))
            send_reject(a, route, p, NULL, WM_SYNC_R_NO_SESSION, 0,
                        "no session on this connection; send Hello");
        else if (!p->down)
            send_reject(a, route, p, NULL, WM_SYNC_R_NOT_NEGOTIATED, 0,
                        "a message of feature \"%s\", but this session did not agree to it",
                        WM_FEATURE_DOWN);
        else
            (void)wm_agg_down_msg(a, p, route, s);
        break;
    case WM__SYNC_MSG__MSG_BLOB_OFFER: wm_agg_blob_offer(a, p, route, s->blob_offer); break;
    case WM__SYNC_MSG__MSG_BLOB_CHUNK: wm_agg_blob_chunk(a, p, route, s->blob_chunk); break;
    case WM__SYNC_MSG__MSG_BLOB_DATA: wm_agg_blob_data(a, p, route, s->blob_data); break;
    case WM__SYNC_MSG__MSG_RECORDS:
        if (!wm_agg_audit_answered(a, p, s->records))
            send_reject(a, route, p, NULL, WM_SYNC_R_UNEXPECTED, 0,
                        "no audit request %" PRIu64 " of this node waits for these "
                        "records (never asked, or timed out after %d s)",
                        s->records->req_id, FETCH_TIMEOUT_S);
        break;
    case WM__SYNC_MSG__MSG__NOT_SET:
        if (s->base.n_unknown_fields) {
            /* A message of a later build (PROTOCOL.md §7): ignored,
             * unanswered, as every unknown field is. */
            wm_debug("sync: %s sent a message this build does not know; ignored", p->ps->node);
            break;
        }
        send_reject(a, route, p, NULL, WM_SYNC_R_MALFORMED, 0,
                    "the message carries no message at all");
        break;
    default:
        send_reject(a, route, p, NULL, WM_SYNC_R_UNEXPECTED, 0,
                    "message type %d is not sent to an aggregator", (int)s->msg_case);
    }
}

/* One message m off the router: from a revoked, unknown or quarantined
 * key it is rejected unread; a malformed one is rejected; anything else
 * goes to on_sync_msg (batches into pend). m stays the caller's. */
static void on_router_msg(wm_agg_t *a, wm_msg_t *m, time_t now, wm_agg_pending_t *pend,
                          size_t *npend)
{
    wm_agg_peer_t *p = m->user_id[0] ? wm_agg_peer_by_key(a, m->user_id) : NULL;
    wm_frame_t *route = &m->f[0];
    Wm__SyncMsg *sm = NULL;
    wm_arena_t ar = {0}; /* sm's memory: one block, not a malloc per record */
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
    } else if (m->n != 2 || m->dropped) {
        send_reject(a, route, p, NULL, WM_SYNC_R_MALFORMED, 0, "expected one frame, got %zu",
                    m->n - 1 + m->dropped);
    } else if (wm_pb_decode_in(&ar, &wm__sync_msg__descriptor, m->f[1].data, m->f[1].len,
                               WM_SYNC_MAX_MSG, (void **)&sm) != WM_OK) {
        sm = NULL;
        send_reject(a, route, p, NULL, WM_SYNC_R_MALFORMED, 0, "message does not decode");
    } else {
        p->ps->last_seen = (int64_t)now;
        p->dirty = 1;
        wm_link_received(&p->link, m->f[1].len);
        wm_agg_link_seen(p);
        on_sync_msg(a, p, m, &sm, pend, npend);
        if (!sm) { /* a batch took it: its memory goes with it */
            pend[*npend - 1].arena = ar;
            return;
        }
    }
    wm_arena_free(&ar);
}

/* Stores the turn's admissible batches pend[0..npend) in one commit (a
 * full map grows and the turn is ingested again), then answers each: its
 * verdict if committed, a storage reject if not. Frees each entry. */
static void store_and_answer(wm_agg_t *a, wm_agg_pending_t *pend, size_t npend, time_t now)
{
    wm_err_t err;
    int tries = 0;
    wm_agg_promotion_t pr = {0}; /* verified records promoted in the same commit */
    do { /* a full map grows, and the turn is ingested again */
        wm_agg_promote_settle(a, &pr, 0); /* the attempt before was not committed */
        err = ingest_turn(a, pend, npend, (int64_t)now, &pr);
    } while (wm_store_retry(a->node->store, &err, &tries));
    wm_agg_hasher_drain(a->hasher); /* done with pend before anything is freed */
    int committed = err == WM_OK;
    wm_agg_promote_settle(a, &pr, committed);
    if (!committed)
        wm_error("sync: cannot store this turn's batches: %s (%s)", wm_strerror(err),
                 wm_store_detail(a->node->store));
    if (committed) {
        uint64_t bytes = 0;
        for (size_t i = 0; i < npend; i++)
            for (size_t r = 0; pend[i].stored && r < pend[i].batch->n_records; r++)
                bytes += pend[i].batch->records[r].len;
        wm_agg_staged(a, pend, npend, now);
        wm_agg_budget_stored(a, bytes);
    }
    for (size_t i = 0; i < npend; i++) {
        if (!committed) {
            pend[i].res.reason = WM_SYNC_R_STORAGE;
            snprintf(pend[i].res.detail, sizeof pend[i].res.detail,
                     "the aggregator could not store the batch: %s", wm_strerror(err));
        }
        answer_pending(a, &pend[i], committed);
        free(pend[i].route.data);
        pend[i].msg = NULL; /* it lives in the arena */
        wm_arena_free(&pend[i].arena);
        free(pend[i].hashes);
        free(pend[i].pre);
        free(pend[i].unz_why);
        wm_wire_batch_free(&pend[i].unz);
    }
}

/* One turn of the loop: messages from next(ctx) up to the turn's share,
 * the batches among them stored in one commit, everything answered. */
static void agg_turn(wm_agg_t *a, wm_agg_next_fn next, void *ctx)
{
    wm_agg_pending_t *pend = calloc(AGG_DRAIN, sizeof *pend);
    size_t npend = 0;
    time_t now = time(NULL);
    if (!pend)
        return;
    wm_agg_hasher_begin(a->hasher, pend);
    size_t taken = 0;
    size_t turn_bytes = wm_agg_turn_bytes(a);
    for (int i = 0; i < AGG_DRAIN && taken < turn_bytes; i++) {
        wm_msg_t m = {0};
        wm_err_t err = next(ctx, &m);
        if (err == WM_ETIMEOUT)
            break;
        if (err != WM_OK)
            continue;
        for (size_t f = 0; f < m.n; f++)
            taken += m.f[f].len;
        size_t before = npend;
        on_router_msg(a, &m, now, pend, &npend);
        /* A ZBatch will hold its restored records too: they count as taken. */
        for (size_t k = before; k < npend; k++)
            taken += pend[k].unz_max;
        wm_msg_clear(&m);
        if (npend > before) /* prepared while the next message is taken */
            wm_agg_hasher_add(a->hasher, npend);
    }
    if (npend)
        store_and_answer(a, pend, npend, now);
    else
        wm_agg_promote(a); /* verdicts left for a turn that stored nothing */
    wm_agg_hasher_drain(a->hasher);
    free(pend);
}

static wm_err_t router_next(void *ctx, wm_msg_t *m)
{
    return wm_sock_recv(((wm_agg_t *)ctx)->router, m);
}

void wm_agg_set_source(wm_agg_t *a, wm_agg_next_fn next, wm_agg_waiting_fn waiting, void *ctx)
{
    a->src_next = next;
    a->src_waiting = waiting;
    a->src_ctx = ctx;
}

int wm_agg_router_waiting(wm_agg_t *a)
{
    if (a->src_next)
        return a->src_waiting && a->src_waiting(a->src_ctx);
    wm_sock_t *s = a->router;
    int ready = 0;
    return wm_net_poll(&s, 1, &ready, 0) > 0 && ready;
}

void wm_agg_on_router(wm_agg_t *a)
{
    if (a->src_next)
        agg_turn(a, a->src_next, a->src_ctx);
    else
        agg_turn(a, router_next, a);
}

void wm_agg_tick(wm_agg_t *a)
{
    /* Timers run on the monotonic clock: a wall clock set back a year
     * must not stop the peers' flush for a year. */
    int64_t now = wm_reactor_now_ms() / 1000;
    wm_agg_promote(a); /* what a failed commit left, or beyond one turn's share */
    wm_agg_link_reap(a);
    wm_agg_audit_tick(a, now);
    wm_agg_down_pump(a); /* our own log may have grown */
    wm_agg_blob_tick(a, now); /* a prune asks for the quota's totals again */
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
    if (err == WM_OK && (err = wm_agg_peers_flush(a, t)) == WM_OK)
        err = wm_agg_peers_commit(a, &t);
    if (err != WM_OK) /* the peers stay dirty: the next flush tries again */
        wm_warn("sync: cannot store the peers' state: %s", wm_strerror(err));
    wm_txn_abort(&t);
}

wm_err_t wm_agg_import(wm_agg_t *a, const char *id, const uint8_t *const *recs,
                       const size_t *lens, size_t n, char *why, size_t cap,
                       uint64_t *accepted, uint64_t *duplicates, wm_head_t *durable)
{
    wm_agg_peer_t *p = wm_agg_peer_find(a, id);
    size_t bytes = 0;
    for (size_t i = 0; i < n; i++)
        bytes += lens[i];
    if (n > WM_SYNC_MAX_RECORDS || bytes > WM_SYNC_MAX_BYTES) {
        wm_why(why, cap, "an import chunk may hold at most %u records and %u bytes",
                 WM_SYNC_MAX_RECORDS, WM_SYNC_MAX_BYTES);
        return WM_ETOOBIG;
    }
    if (!p) {
        wm_why(why, cap, "the bundle is from \"%s\", which is not enrolled here", id);
        return WM_EPERM;
    }
    if (p->ps->state == WM_PEER_REVOKED) {
        wm_why(why, cap, "%s is revoked", id);
        return WM_EPERM;
    }
    if (p->ps->state == WM_PEER_QUARANTINED) {
        wm_why(why, cap, "%s is quarantined (%s)", id, p->ps->state_reason);
        return WM_EPERM;
    }
    wm_agg_pending_t pb = {.peer = p};
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
    pb.batch = &b;
    wm_err_t err;
    int tries = 0;
    do { /* a full map grows, and the chunk is ingested again */
        err = ingest_turn(a, &pb, 1, (int64_t)time(NULL), NULL);
    } while (wm_store_retry(a->node->store, &err, &tries));
    if (err == WM_OK)
        wm_agg_staged(a, &pb, 1, time(NULL));
    if (err == WM_OK && pb.stored && pb.res.flagged) {
        p->ps->flagged += pb.res.flagged; /* stored with the next flush */
        p->dirty = 1;
    }
    free(bd);
    if (err != WM_OK) {
        wm_why(why, cap, "cannot store: %s", wm_strerror(err));
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

json_t *wm_agg_links_status(wm_agg_t *a)
{
    json_t *o = json_object();
    for (size_t i = 0; o && i < a->npeers; i++)
        if (a->peers[i].link.msgs_in)
            json_object_set_new(o, a->peers[i].ps->node, wm_link_json(&a->peers[i].link));
    return o;
}
