/* SPDX-License-Identifier: MIT */
/*
 * wm_upstream — the child's side of PROTOCOL.md.
 *
 *   DOWN --connect/Hello--> HELLO_SENT --Welcome--> STREAMING
 *     ^                         |                      |
 *     +---- timeout, fatal reject, no_session ---------+
 *
 * The send cursor always restarts from what the aggregator says it holds
 * durably (Welcome, Ack, Reject), never from our own memory of what we sent.
 *
 * Thin links (design.md §8): every timer is a [sync] setting or follows
 * what the link is measured to do. Connect to Welcome may take
 * handshake_s (or longer if answers were measured slower); a link silent
 * for dead_link_s (or three answer times, if longer) is dead. Answer times
 * are smoothed as TCP does (RFC 6298: SRTT, RTTVAR) from Hello→Welcome,
 * Heartbeat→Heartbeat and Batch→Ack; the delivery rate of acked batches
 * sizes batches and what is in flight to about PACE_WINDOW_MS of the link,
 * so that no answer ever waits behind more than that. Each failure to
 * link up is classified (status: last_error, failing_since, attempts).
 */
#include "wm_upstream.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sync.pb-c.h"
#include "wm_agg.h"
#include "wm_down.h"
#include "wm_blobup.h"
#include "wm_blobserve.h"
#include "wm_ingest.h"
#include "wm_diag.h"
#include "wm_link.h"
#include "wm_nodedir.h"
#include "wm_wire.h"

#define ACKED_SAVE_MS 100 /* store the acked cursor at most this often while streaming */
#define CONNECT_POLL_MS 100 /* while a socket connects: how often to try the Hello */
/* What may be in flight: about this much of the link's measured delivery
 * rate. Two seconds fill a 2G link's pipe (its rate times its round trip
 * is ~3 KB) with room to spare, and keep an answer from queueing behind
 * more than two seconds of batches. */
#define PACE_WINDOW_MS 2000
#define WINDOW_MIN (8u << 10)      /* bytes: never less in flight than this */
#define WINDOW_INITIAL (16u << 10) /* bytes, before any rate is measured */
#define RATE_SAMPLES 8             /* the rate is the best of the last few samples */
#define FLIGHT_MAX 64              /* batches in flight that are tracked */
/* Log lines the aggregator can cause are charged to it (wm_diag_peer). */
#define UP_PEER "the aggregator"

typedef enum { UP_DOWN, UP_HELLO_SENT, UP_STREAMING } up_state_t;

/* A batch sent and not yet answered, for the delivery-rate sample its
 * ack gives (what was acked while it travelled, over how long). */
typedef struct {
    uint64_t batch_id;
    uint32_t bytes;
    int64_t sent_ms;
    uint64_t delivered_at_send;
    int64_t delivered_ms_at_send;
} up_flight_t;

struct wm_upstream {
    wm_node_t *node;
    wm_net_t *net;
    wm_sock_t *sock;
    uint8_t server_pub[WM_PUB_BYTES];
    uint8_t *secret; /* Curve25519, secure memory */
    uint8_t pub[WM_PUB_BYTES];
    up_state_t state;
    long backoff_ms;
    int64_t next_try_ms;    /* DOWN: when to connect again */
    int64_t connect_ms;     /* when the current socket was made */
    int64_t acked_saved_ms; /* when the acked cursor was last stored */
    int acked_dirty;        /* acked differs from what is stored */
    int64_t hello_sent_ms;
    int64_t last_rx_ms;     /* last message from the aggregator */
    int64_t last_hb_ms;
    wm_head_t cursor;       /* last record sent (or durable, after a reset) */
    wm_head_t acked;        /* the aggregator's durable frontier, stored */
    uint32_t credit, max_records, max_bytes;
    uint64_t next_batch_id, batch_floor; /* replies below the floor are stale */
    uint32_t in_flight;
    char last_reject[48];
    char last_reject_detail[WM_WHY_MAX];
    int64_t last_contact;   /* unix seconds */
    int read_failed;        /* the last read of the log failed (logged once) */
    int rollup_bin;         /* the last Welcome agreed "rollup-bin"; -1: none yet */
    wm_upstream_relay_fn relay_fn; /* audits through the tiers (FETCH path) */
    void *relay_ctx;
    wm_link_t link;         /* wire bytes; link.zstd: compressed batches in use */
    int clock_known;        /* a WELCOME told the aggregator's time */
    int64_t clock_offset_ms; /* our wall clock minus the aggregator's, then */
    /* The link as measured (see the top of this file). */
    long srtt_ms, rttvar_ms;  /* smoothed answer time and its variation; 0: no sample */
    int64_t hb_probe_ms;      /* a heartbeat waiting for its answer; 0: none */
    long hb_ms;               /* heartbeat interval: ours, or the aggregator's if shorter */
    uint64_t delivered;       /* bytes of batches acked this session */
    int64_t delivered_ms;     /* when the last was acked (or the idle pipe started) */
    double rate[RATE_SAMPLES]; /* delivery-rate samples, bytes/s */
    unsigned rate_n;
    uint64_t bytes_in_flight;
    up_flight_t flight[FLIGHT_MAX];
    unsigned tcp_refused_seen; /* refusals of the current socket already noted */
    /* Why the link keeps failing, for status. */
    char last_error[96];
    int64_t last_error_at;    /* unix seconds; 0: never */
    int64_t failing_since;    /* unix seconds of the first failure since the link was up; 0: up */
    unsigned attempts;        /* connection attempts since the link was last up */
    /* Feature "down" (wm_down.h): the parent's log, received. */
    wm_down_t *down;
    int down_use;             /* the last WELCOME agreed "down" and a parent is pinned */
    uint64_t down_last_id;    /* the last DOWN_BATCH id of the session */
    wm_blobup_t *blobup;      /* feature "blobs": the files behind the records */
    int blob_fetch;           /* the last WELCOME and our HELLO agreed "blob-fetch" */
    wm_upstream_blob_relay_fn blob_relay_fn; /* BLOB_FETCH with a path (wm_blobserve.h) */
    void *blob_relay_ctx;
};

/* Meta name (storage/wm_store.h): "1" if the upstream's last Welcome
 * agreed "rollup-bin", "0" if not; absent before any Welcome. Kept so that
 * a rollup published while the link is down takes the form the upstream
 * can read. */
#define META_UP_ROLLUP_BIN "up_rollup_bin"

/* Remembers whether the upstream reads binary rollups (on a Welcome). */
static void store_rollup_bin(wm_upstream_t *u, int bin)
{
    if (u->rollup_bin == bin)
        return;
    u->rollup_bin = bin;
    wm_txn_t *t = NULL;
    wm_err_t err = wm_txn_begin(u->node->store, 1, &t);
    if (err == WM_OK)
        err = wm_meta_put(t, META_UP_ROLLUP_BIN, bin ? "1" : "0", 1);
    if (err == WM_OK)
        err = wm_txn_commit(&t);
    wm_txn_abort(&t);
    if (err != WM_OK) /* publication then asks the link again: no harm */
        wm_warn("upstream: cannot store the upstream's rollup form: %s", wm_strerror(err));
}

int wm_upstream_rollup_bin(wm_upstream_t *u)
{
    if (!u)
        return 0;
    if (u->rollup_bin >= 0)
        return u->rollup_bin;
    char v[4];
    size_t len = 0;
    wm_txn_t *t = NULL;
    wm_err_t err = wm_txn_begin(u->node->store, 0, &t);
    if (err == WM_OK)
        err = wm_meta_get(t, META_UP_ROLLUP_BIN, v, sizeof v, &len);
    wm_txn_abort(&t);
    return err == WM_OK && len == 1 && v[0] == '1';
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Sends one encoded SyncMsg and counts it (wm_link). */
static WM_MUST_CHECK wm_err_t send_buf(wm_upstream_t *u, uint8_t *buf, size_t len)
{
    wm_msg_t out = {.n = 1, .f = {{buf, len}}};
    wm_err_t err = wm_sock_send(u->sock, &out);
    if (err == WM_OK)
        wm_link_sent(&u->link, len);
    return err;
}

/* The retransmission timeout of RFC 6298 over answer times: how long an
 * answer may take on this link; 0 before any sample. */
static long rto_ms(const wm_upstream_t *u)
{
    long var = 4 * u->rttvar_ms;
    return u->srtt_ms ? u->srtt_ms + (var > 200 ? var : 200) : 0;
}

/* One answer-time sample (RFC 6298 §2, alpha 1/8, beta 1/4). */
static void rtt_sample(wm_upstream_t *u, int64_t ms)
{
    long r = ms > 0 ? (long)ms : 1;
    if (!u->srtt_ms) {
        u->srtt_ms = r;
        u->rttvar_ms = r / 2;
        return;
    }
    long d = u->srtt_ms > r ? u->srtt_ms - r : r - u->srtt_ms;
    u->rttvar_ms = (3 * u->rttvar_ms + d) / 4;
    u->srtt_ms = (7 * u->srtt_ms + r) / 8;
}

/* A configured bound, raised to k answer times when the link is measured
 * slower than it allows for, but never past 3× the setting. */
static long adapted_ms(const wm_upstream_t *u, unsigned cfg_s, int k)
{
    long base = (long)cfg_s * 1000, r = (long)k * rto_ms(u);
    return r <= base ? base : r < 3 * base ? r : 3 * base;
}

/* Silence after which the link counts as dead. */
static long dead_ms(const wm_upstream_t *u)
{
    return adapted_ms(u, u->node->cfg->dead_link_s, 3);
}

/* Connect to Welcome: the TCP, ZMTP and CURVE handshakes, ZAP, Hello. */
static long handshake_ms(const wm_upstream_t *u)
{
    return adapted_ms(u, u->node->cfg->handshake_s, 6);
}

/* The delivery rate the link has shown lately, bytes/s; 0: unknown. */
static double link_rate(const wm_upstream_t *u)
{
    double best = 0;
    for (unsigned i = 0; i < u->rate_n && i < RATE_SAMPLES; i++)
        if (u->rate[i] > best)
            best = u->rate[i];
    return best;
}

/* Bytes that may be in flight: PACE_WINDOW_MS of the measured rate. */
static uint64_t window_bytes(const wm_upstream_t *u)
{
    double r = link_rate(u);
    uint64_t w = r > 0 ? (uint64_t)(r * PACE_WINDOW_MS / 1000) : WINDOW_INITIAL;
    uint64_t most = (uint64_t)(u->credit + u->in_flight) * u->max_bytes;
    if (w < WINDOW_MIN)
        w = WINDOW_MIN;
    return most && w > most ? most : w;
}

/* Notes why the link is not up (status, and a log line). */
static void note_fail(wm_upstream_t *u, const char *why)
{
    int64_t now = (int64_t)time(NULL);
    if (strcmp(u->last_error, why) != 0 || !u->failing_since)
        wm_info_peer(UP_PEER, "upstream: %s (attempt %u)", why, u->attempts);
    snprintf(u->last_error, sizeof u->last_error, "%s", why);
    u->last_error_at = now;
    if (!u->failing_since)
        u->failing_since = now;
}

static WM_MUST_CHECK wm_err_t send_msg(wm_upstream_t *u, Wm__SyncMsg *m)
{
    uint8_t *buf = NULL;
    size_t len = 0;
    wm_err_t err = wm_pb_encode(&m->base, &buf, &len);
    if (err != WM_OK)
        return err;
    err = send_buf(u, buf, len);
    free(buf);
    return err;
}

/* Writes the acked cursor and the time of last contact. */
static void persist_acked(wm_upstream_t *u)
{
    wm_txn_t *t = NULL;
    int64_t contact = u->last_contact;
    if (wm_txn_begin(u->node->store, 1, &t) == WM_OK && wm_acked_put(t, &u->acked) == WM_OK &&
        wm_meta_put(t, "last_contact", &contact, sizeof contact) == WM_OK &&
        wm_txn_commit(&t) == WM_OK) {
        u->acked_dirty = 0;
        u->acked_saved_ms = now_ms();
    }
    wm_txn_abort(&t);
}

/* Takes the aggregator's durable frontier. It is stored (for status and
 * for --new-epoch; the aggregator's own word at each connect is what the
 * cursor follows) at most every ACKED_SAVE_MS while batches stream. */
static void store_acked(wm_upstream_t *u, const wm_head_t *durable)
{
    u->last_contact = (int64_t)time(NULL);
    if (memcmp(durable, &u->acked, sizeof *durable) == 0)
        return;
    u->acked = *durable;
    u->acked_dirty = 1;
    if (u->in_flight <= 1 || now_ms() - u->acked_saved_ms >= ACKED_SAVE_MS)
        persist_acked(u);
}

static void store_reject(wm_upstream_t *u, const char *reason, const char *detail)
{
    snprintf(u->last_reject, sizeof u->last_reject, "%s", reason);
    snprintf(u->last_reject_detail, sizeof u->last_reject_detail, "%s", detail);
    wm_txn_t *t = NULL;
    char line[400];
    int n = snprintf(line, sizeof line, "%s: %s", reason, detail);
    wm_err_t err = wm_txn_begin(u->node->store, 1, &t);
    if (err == WM_OK)
        err = wm_meta_put(t, "last_reject", line, (size_t)(n > 0 ? n : 0));
    if (err == WM_OK)
        err = wm_txn_commit(&t);
    wm_txn_abort(&t);
    if (err != WM_OK) /* status then shows an older reject; the log has this one */
        wm_error("upstream: cannot store the last reject: %s (%s)", wm_strerror(err),
                 wm_store_detail(u->node->store));
}

/* ms ± 25 %: many stations do not return to a restarted aggregator in
 * lockstep. */
static long jittered(long ms)
{
    long j = ms / 4;
    return ms - j + (j ? (long)wm_random_below((uint32_t)(2 * j)) : 0);
}

/* Doubles the backoff, WM_SYNC_BACKOFF_MIN_MS … WM_SYNC_BACKOFF_MAX_MS, and returns it. */
static long backoff_next(wm_upstream_t *u)
{
    u->backoff_ms = u->backoff_ms ? u->backoff_ms * 2 : WM_SYNC_BACKOFF_MIN_MS;
    if (u->backoff_ms > WM_SYNC_BACKOFF_MAX_MS)
        u->backoff_ms = WM_SYNC_BACKOFF_MAX_MS;
    return u->backoff_ms;
}

static void go_down(wm_upstream_t *u, long delay_ms, const char *why)
{
    wm_sock_close(&u->sock);
    if (u->state != UP_DOWN)
        wm_info("upstream: disconnected (%s); retrying in about %ld ms", why, delay_ms);
    u->state = UP_DOWN;
    u->in_flight = 0;
    u->bytes_in_flight = 0;
    u->hb_probe_ms = 0;
    wm_blobup_session(u->blobup, 0);
    u->next_try_ms = now_ms() + jittered(delay_ms);
}

static void send_hello(wm_upstream_t *u)
{
    Wm__SyncMsg m = WM__SYNC_MSG__INIT;
    Wm__Hello h = WM__HELLO__INIT;
    Wm__Frontier f = wm_frontier_of(&u->node->head);
    h.version = WM_SYNC_VERSION;
    h.node = (char *)u->node->cfg->id;
    h.head = &f;
    char *feats[WM_SYNC_FEATURES_MAX];
    h.features = feats; /* in use: those the Welcome lists too */
    h.n_features = wm_link_features(u->node->cfg->compress, feats);
    if (!wm_down_pinned(u->down)) /* no pin: nothing to verify the parent's log with */
        for (size_t i = 0; i < h.n_features; i++)
            if (strcmp(feats[i], WM_FEATURE_DOWN) == 0)
                feats[i--] = feats[--h.n_features];
    h.time_ms = wm_link_wall_ms(); /* the aggregator shows our clock's offset */
    m.msg_case = WM__SYNC_MSG__MSG_HELLO;
    m.hello = &h;
    if (send_msg(u, &m) == WM_OK) {
        u->state = UP_HELLO_SENT;
        u->hello_sent_ms = now_ms();
    }
}

/* A new socket for each attempt: the upstream's host name is resolved
 * afresh (a town whose address changed is found), and a link that never
 * came up (refused by ZAP before our enrolment) starts clean. */
static void try_connect(wm_upstream_t *u)
{
    const wm_config_t *c = u->node->cfg;
    u->attempts++;
    wm_down_reload(u->down); /* `wmctl upstream-id` may have pinned the parent since */
    if (wm_sync_connect(u->net, c->upstream, u->server_pub, u->secret, u->pub, WM_SYNC_MAX_MSG,
                        &u->sock) != WM_OK) {
        char why[96];
        snprintf(why, sizeof why, "cannot connect: %s", wm_net_detail());
        note_fail(u, why);
        go_down(u, backoff_next(u), "connect failed");
        return;
    }
    u->connect_ms = now_ms();
    u->tcp_refused_seen = 0;
    u->next_try_ms = u->connect_ms;
}

/* Why a socket that did not link up within the handshake time failed. */
static const char *classify(const wm_sync_link_ev_t *ev, int hello_sent)
{
    if (hello_sent)
        return "no answer to hello";
    if (ev->handshake_ok)
        return "hello not sent";
    if (ev->broken)
        return "handshake broken off (a wrong upstream_key, or the link dropped)";
    if (ev->tcp_up)
        return "handshake timeout (TCP is up, CURVE did not finish: a very slow link, or a "
               "wrong upstream_key)";
    return ev->refused ? "refused" : "no answer";
}

/* DOWN with a socket: it is connecting. Its events say whether it failed
 * for good (ZAP refused our key, the handshake broke); the Hello goes out
 * as soon as the handshake is done (ZMQ_IMMEDIATE refuses it before). */
static void connecting(wm_upstream_t *u, int64_t now)
{
    wm_sync_link_ev_t ev;
    wm_sync_link_poll(u->sock, &ev);
    if (ev.auth_refused || ev.proto_failed) {
        note_fail(u, ev.auth_refused ? "auth refused (is this station enrolled?)"
                                     : "handshake refused (not a wmsync aggregator?)");
        go_down(u, backoff_next(u), "handshake refused");
        return;
    }
    if (ev.refused + ev.broken > u->tcp_refused_seen && !ev.handshake_ok) {
        u->tcp_refused_seen = ev.refused + ev.broken; /* libzmq retries; status says why now */
        note_fail(u, classify(&ev, 0));
    }
    if (now - u->connect_ms > handshake_ms(u)) {
        note_fail(u, classify(&ev, 0));
        go_down(u, backoff_next(u), u->last_error);
        return;
    }
    if (now >= u->next_try_ms) {
        send_hello(u);
        if (u->state != UP_HELLO_SENT)
            u->next_try_ms = now + CONNECT_POLL_MS;
    }
}

/* A batch's bytes: half the window (two keep the pipe full), within
 * what the aggregator takes. */
static uint32_t batch_bytes(const wm_upstream_t *u)
{
    uint64_t b = window_bytes(u) / 2;
    return b < u->max_bytes ? (uint32_t)b : u->max_bytes;
}

static void flight_add(wm_upstream_t *u, uint64_t id, size_t bytes)
{
    int64_t now = now_ms();
    if (!u->in_flight)
        u->delivered_ms = now; /* the pipe was idle: the sample starts now */
    up_flight_t *f = &u->flight[id % FLIGHT_MAX];
    *f = (up_flight_t){id, (uint32_t)bytes, now, u->delivered, u->delivered_ms};
    u->bytes_in_flight += bytes;
}

/* The answer to batch id came (ack: acked nonzero): an answer-time sample,
 * and for an ack a delivery-rate sample. */
static void flight_done(wm_upstream_t *u, uint64_t id, int acked)
{
    up_flight_t *f = &u->flight[id % FLIGHT_MAX];
    if (!id || f->batch_id != id)
        return; /* stale (sent before a reset) or unknown */
    int64_t now = now_ms();
    f->batch_id = 0;
    u->bytes_in_flight = u->bytes_in_flight > f->bytes ? u->bytes_in_flight - f->bytes : 0;
    rtt_sample(u, now - f->sent_ms);
    if (!acked)
        return;
    u->delivered += f->bytes;
    u->delivered_ms = now;
    int64_t span = now - f->delivered_ms_at_send;
    if (span > 0)
        u->rate[u->rate_n++ % RATE_SAMPLES] =
            (double)(u->delivered - f->delivered_at_send) * 1000.0 / (double)span;
}

/* Sends batches from the cursor while credit and the window last. */
static void pump_records(wm_upstream_t *u)
{
    const wm_head_t shareable = wm_node_shareable(u->node); /* what the fork guard knows */
    while (u->state == UP_STREAMING && u->credit > 0 && u->in_flight < FLIGHT_MAX &&
           u->bytes_in_flight < window_bytes(u) &&
           (u->cursor.epoch != shareable.epoch || u->cursor.seq < shareable.seq)) {
        Wm__Batch b = WM__BATCH__INIT;
        int sent = 0;
        wm_head_t lasth;
        wm_scan_t end = {0};
        wm_err_t err = wm_node_read_batch(u->node, &u->cursor, u->max_records, batch_bytes(u),
                                          &b, &lasth, &end);
        if (err == WM_ENOMEM)
            return;
        /* A failed read still leaves a valid prefix in the batch: it is
         * sent, and the records after it stay here until they can be read. */
        if (err != WM_OK && !u->read_failed)
            wm_error("upstream: cannot read the log past %" PRIu32 "/%" PRIu64
                     ": %s (%s); records after it are not sent",
                     end.count ? end.epoch : u->cursor.epoch,
                     end.count ? end.seq : u->cursor.seq, wm_strerror(err),
                     wm_store_detail(u->node->store));
        u->read_failed = err != WM_OK;
        if (b.n_records > 0) {
            Wm__Frontier hf = wm_frontier_of(&u->node->head);
            uint8_t *buf = NULL;
            size_t len = 0;
            int zipped = 0;
            b.batch_id = ++u->next_batch_id;
            b.head = &hf;
            /* A ZBatch when "zstd" is in use and it is smaller (wm_wire.h). */
            sent = wm_wire_encode_batch(&b, u->link.zstd, &buf, &len, &zipped) == WM_OK &&
                   send_buf(u, buf, len) == WM_OK; /* if not, the link is busy: next tick */
            free(buf);
            if (sent) {
                wm_link_batch(&u->link, b.n_records, zipped);
                flight_add(u, b.batch_id, len);
                u->cursor = lasth;
                u->credit--;
                u->in_flight++;
                wm_debug("upstream: sent batch %" PRIu64 " of %zu records through %" PRIu32
                         "/%" PRIu64,
                         b.batch_id, b.n_records, lasth.epoch, lasth.seq);
            }
        }
        wm_node_batch_free(&b);
        if (!sent)
            return;
    }
}

/* Records first; blob chunks only when no record waits and none went in
 * this turn (wm_blobup.h): a record appended one at a time, sent as soon
 * as it is, is a flow of records too. */
static void pump(wm_upstream_t *u)
{
    uint64_t last_batch = u->next_batch_id;
    pump_records(u);
    if (u->state != UP_STREAMING)
        return;
    const wm_head_t shareable = wm_node_shareable(u->node);
    int idle = u->cursor.epoch == shareable.epoch && u->cursor.seq >= shareable.seq &&
               u->next_batch_id == last_batch;
    wm_blobup_pump(u->blobup, idle, link_rate(u));
}

/* wm_blobup's sender: one message on the link. */
static wm_err_t blob_send(void *ctx, Wm__SyncMsg *m)
{
    wm_upstream_t *u = ctx;
    return u->sock ? send_msg(u, m) : WM_EDOWN;
}

typedef struct {
    Wm__Records *r;
    uint32_t epoch, max;
    size_t bytes;
    uint64_t upto; /* our own records: only as far as the fork guard knows */
} fetch_ctx_t;

static int fetch_one(void *ctx, uint32_t epoch, uint64_t seq, const wm_srec_t *v)
{
    fetch_ctx_t *fc = ctx;
    size_t len = v->len + WM_SIG_BYTES;
    if (epoch != fc->epoch || seq > fc->upto || !v->bytes || fc->r->n_records >= fc->max ||
        (fc->r->n_records && fc->bytes + len > WM_SYNC_MAX_BYTES))
        return 1;
    uint8_t *copy = malloc(len);
    if (!copy)
        return 1;
    memcpy(copy, v->sig, len);
    fc->r->records[fc->r->n_records++] = (ProtobufCBinaryData){len, copy};
    fc->bytes += len;
    return 0;
}

void wm_upstream_set_relay(wm_upstream_t *u, wm_upstream_relay_fn fn, void *ctx)
{
    u->relay_fn = fn;
    u->relay_ctx = ctx;
}

void wm_upstream_send_records(wm_upstream_t *u, uint64_t up_req_id, Wm__Records *recs,
                              const char *error)
{
    Wm__SyncMsg m = WM__SYNC_MSG__INIT;
    Wm__Records r = WM__RECORDS__INIT;
    if (recs)
        r = *recs;
    r.req_id = up_req_id;
    if (error)
        r.error = (char *)error, r.n_records = 0;
    m.msg_case = WM__SYNC_MSG__MSG_RECORDS;
    m.records = &r;
    if (!u->sock || send_msg(u, &m) != WM_OK) /* the aggregator's audit then times out */
        wm_warn_peer(UP_PEER, "upstream: cannot send a relayed audit answer: %s", wm_net_detail());
}

/* A FETCH with a path: records of a node below one of our children, asked
 * through it. Answered later (wm_upstream_send_records), or now with the
 * reason it cannot be. */
static void relay_fetch(wm_upstream_t *u, const Wm__Fetch *f)
{
    char why[WM_WHY_MAX] = "this node relays no audit (it is not an aggregator)";
    if (u->relay_fn && u->relay_fn(u->relay_ctx, f, why, sizeof why) == WM_OK)
        return;
    Wm__Records r = WM__RECORDS__INIT;
    r.node = f->node ? f->node : "";
    r.epoch = f->epoch;
    wm_upstream_send_records(u, f->req_id, &r, why);
    wm_info_peer(UP_PEER, "upstream: audit fetch of %s through %s not relayed: %s", r.node,
                 f->path[0], why);
}

/* An audit: the aggregator above asks for records we hold of a node (our
 * children's, or our own). They are the node's own signed records, so we
 * cannot alter them unseen. */
static void answer_fetch(wm_upstream_t *u, const Wm__Fetch *f)
{
    if (f->n_path) {
        relay_fetch(u, f);
        return;
    }
    Wm__SyncMsg m = WM__SYNC_MSG__INIT;
    Wm__Records r = WM__RECORDS__INIT;
    uint8_t pub[WM_PUB_BYTES];
    uint32_t node = 0;
    fetch_ctx_t fc = {&r, f->epoch, f->max_records && f->max_records < WM_SYNC_MAX_RECORDS
                                        ? f->max_records : WM_SYNC_MAX_RECORDS, 0, UINT64_MAX};
    wm_scan_t end = {0};
    wm_err_t err = WM_OK;
    r.req_id = f->req_id;
    r.node = f->node ? f->node : "";
    r.epoch = f->epoch;
    r.error = "";
    r.records = calloc(fc.max, sizeof *r.records);
    wm_txn_t *t = NULL;
    if (!r.records || wm_txn_begin(u->node->store, 0, &t) != WM_OK) {
        r.error = "storage";
    } else if (wm_nodeno_lookup(t, r.node, &node) != WM_OK ||
               wm_epoch_key(t, node, f->epoch, pub) != WM_OK) {
        r.error = "unknown node or epoch";
    } else {
        r.sign_pub = (ProtobufCBinaryData){WM_PUB_BYTES, pub};
        if (node == u->node->self) { /* no record leaves before the fork guard knows it */
            wm_head_t g = wm_node_shareable(u->node);
            fc.upto = f->epoch < g.epoch ? UINT64_MAX : f->epoch == g.epoch ? g.seq : 0;
        }
        err = wm_log_scan(t, node, f->epoch, f->from_seq ? f->from_seq : 1, fetch_one, &fc, &end);
    }
    wm_txn_abort(&t);
    if (err != WM_OK) {
        /* A partial answer would read as the end of the epoch: none. */
        wm_error("upstream: audit fetch of %s: cannot read the log past %" PRIu32 "/%" PRIu64
                 ": %s (%s)", r.node, end.epoch, end.seq, wm_strerror(err),
                 wm_store_detail(u->node->store));
        for (size_t i = 0; i < r.n_records; i++)
            free(r.records[i].data);
        r.n_records = 0;
        r.error = "storage";
    }
    m.msg_case = WM__SYNC_MSG__MSG_RECORDS;
    m.records = &r;
    if (send_msg(u, &m) != WM_OK) /* the aggregator's audit then times out */
        wm_warn_peer(UP_PEER, "upstream: cannot send the audit answer for %s: %s", r.node,
                     wm_net_detail());
    wm_info_peer(UP_PEER,
                 "upstream: audit fetch of %s epoch %" PRIu32 " from seq %" PRIu64
                 ": %zu record(s)%s%s",
                 r.node, f->epoch, f->from_seq, r.n_records, r.error[0] ? ": " : "", r.error);
    for (size_t i = 0; i < r.n_records; i++)
        free(r.records[i].data);
    free(r.records);
}

void wm_upstream_set_blob_relay(wm_upstream_t *u, wm_upstream_blob_relay_fn fn, void *ctx)
{
    u->blob_relay_fn = fn;
    u->blob_relay_ctx = ctx;
}

void wm_upstream_send_blob_data(wm_upstream_t *u, uint64_t up_req_id, Wm__BlobData *d)
{
    Wm__SyncMsg m = WM__SYNC_MSG__INIT;
    Wm__BlobData out = *d;
    out.req_id = up_req_id;
    m.msg_case = WM__SYNC_MSG__MSG_BLOB_DATA;
    m.blob_data = &out;
    /* Records first here too: the batches that wait and have credit go
     * ahead of the bytes on the link (the bytes were sized to ~1 s of it
     * by the asker). */
    pump_records(u);
    if (!u->sock || send_msg(u, &m) != WM_OK) /* the asker's fetch then times out */
        wm_warn_peer(UP_PEER, "upstream: cannot send a blob's bytes up: %s", wm_net_detail());
}

/* A BLOB_FETCH (feature "blob-fetch", PROTOCOL.md §7.3): bytes of a blob
 * we keep, or, with a path, relayed to our child path[0]; answered now
 * with the reason when it cannot be. */
static void answer_blob_fetch(wm_upstream_t *u, const Wm__BlobFetch *f)
{
    Wm__BlobData d = WM__BLOB_DATA__INIT;
    char err[WM_WHY_MAX] = "";
    uint8_t *buf = NULL;
    if (!u->blob_fetch) {
        snprintf(err, sizeof err, "not_negotiated: this session did not agree to \"%s\"",
                 WM_FEATURE_BLOB_FETCH);
    } else if (f->n_path) {
        snprintf(err, sizeof err, "unreachable: this node relays no fetch (it is not an "
                                  "aggregator)");
        if (u->blob_relay_fn && u->blob_relay_fn(u->blob_relay_ctx, f, err, sizeof err) == WM_OK)
            return; /* answered when the child answers */
    } else {
        wm_blobserve_answer(u->node, f, &d, &buf, err, sizeof err);
    }
    if (err[0]) {
        d.req_id = f->req_id, d.hash = f->hash, d.offset = f->offset, d.error = err;
        wm_info_peer(UP_PEER, "upstream: blob fetch not answered with bytes: %s", err);
    }
    wm_upstream_send_blob_data(u, f->req_id, &d);
    free(buf);
}

/* Restarts the send cursor at what the aggregator holds. Replies to
 * batches sent before this point are stale. */
static void reset_cursor(wm_upstream_t *u, const wm_head_t *durable)
{
    u->cursor = *durable;
    u->batch_floor = u->next_batch_id + 1;
    u->in_flight = 0;
    u->bytes_in_flight = 0;
    memset(u->flight, 0, sizeof u->flight);
}

/* Reject `compromised`: the aggregator refuses what our old keys signed
 * after the point it was told of. If we hold a later epoch signed by our
 * current key (re-keyed after the theft), the send cursor jumps to its
 * start; the old-key records stay in our log (docs/operations.md §9 says
 * how they are re-issued). Nonzero if it jumped. */
static int skip_compromised(wm_upstream_t *u, const wm_head_t *durable)
{
    wm_txn_t *t = NULL;
    uint32_t first = 0;
    if (wm_txn_begin(u->node->store, 0, &t) != WM_OK)
        return 0;
    for (uint64_t e = (uint64_t)durable->epoch + 1; e <= u->node->head.epoch && !first; e++) {
        uint8_t pub[WM_PUB_BYTES];
        if (wm_epoch_key(t, u->node->self, (uint32_t)e, pub) == WM_OK &&
            memcmp(pub, wm_signer_pub(u->node->signer), WM_PUB_BYTES) == 0)
            first = (uint32_t)e;
    }
    wm_txn_abort(&t);
    if (!first)
        return 0;
    wm_head_t start = {.epoch = first};
    reset_cursor(u, &start);
    wm_warn("upstream: records signed by a compromised key after epoch %" PRIu32 " seq %" PRIu64
            " stay here unsent; sending from epoch %" PRIu32 " (the current key)",
            durable->epoch, durable->seq, first);
    return 1;
}

/* Nonzero for the reasons a ZBatch earns (wm_wire.h): the child falls
 * back to plain batches. */
static int wire_refused(const char *reason)
{
    wm_sync_reason_t r = wm_sync_reason_by_slug(reason);
    return r == WM_SYNC_R_BOMB || r == WM_SYNC_R_BAD_FRAME || r == WM_SYNC_R_NOT_NEGOTIATED;
}

/* Sets the clock error new records carry (wm_node_t.clock_offset_s) and
 * keeps it for the next start (meta "clock_offset"). */
static void store_clock(wm_upstream_t *u, int64_t off_s)
{
    if (u->node->clock_offset_s == off_s)
        return;
    u->node->clock_offset_s = off_s;
    wm_txn_t *t = NULL;
    wm_err_t err = wm_txn_begin(u->node->store, 1, &t);
    if (err == WM_OK)
        err = wm_meta_put(t, "clock_offset", &off_s, sizeof off_s);
    if (err == WM_OK)
        err = wm_txn_commit(&t);
    wm_txn_abort(&t);
    if (err != WM_OK) /* records carry it until the daemon restarts */
        wm_warn("upstream: cannot store the clock offset: %s", wm_strerror(err));
}

/* Feature "down": where we stand in the parent's log, and the credit we
 * grant it (PROTOCOL.md §8). */
static void send_down_hello(wm_upstream_t *u)
{
    Wm__SyncMsg m = WM__SYNC_MSG__INIT;
    Wm__DownHello h = WM__DOWN_HELLO__INIT;
    wm_head_t have = wm_down_have(u->down);
    Wm__Frontier f = wm_frontier_of(&have);
    h.have = &f;
    h.credit = WM_SYNC_DOWN_CREDIT;
    h.pinned = (ProtobufCBinaryData){WM_PUB_BYTES, (uint8_t *)wm_down_pin_key(u->down)};
    m.msg_case = WM__SYNC_MSG__MSG_DOWN_HELLO;
    m.down_hello = &h;
    if (send_msg(u, &m) != WM_OK) /* the parent sends nothing; the next session asks again */
        wm_warn_peer(UP_PEER, "down: cannot ask for the parent's log: %s", wm_net_detail());
}

/* Answers DOWN_BATCH batch_id: an ack of what is now durable here, or
 * the refusal (nothing of the batch stored). Each returns one credit. */
static void answer_down(wm_upstream_t *u, uint64_t batch_id, const wm_down_res_t *res)
{
    Wm__SyncMsg m = WM__SYNC_MSG__INIT;
    Wm__DownAck ack = WM__DOWN_ACK__INIT;
    Wm__DownReject rej = WM__DOWN_REJECT__INIT;
    Wm__Frontier f = wm_frontier_of(&res->have);
    if (res->reason == WM_SYNC_R_OK) {
        ack.batch_id = batch_id;
        ack.have = &f;
        ack.credit = 1;
        m.msg_case = WM__SYNC_MSG__MSG_DOWN_ACK;
        m.down_ack = &ack;
    } else {
        rej.batch_id = batch_id;
        rej.reason = (char *)wm_sync_slug(res->reason);
        rej.detail = (char *)res->detail;
        rej.epoch = res->bad_epoch;
        rej.seq = res->bad_seq;
        rej.have = &f;
        rej.credit = 1;
        m.msg_case = WM__SYNC_MSG__MSG_DOWN_REJECT;
        m.down_reject = &rej;
        wm_down_note_reject(u->down, res);
        wm_warn_peer(UP_PEER, "down: refused a batch of the parent's log: %s: %s",
                     wm_sync_slug(res->reason), res->detail);
    }
    if (send_msg(u, &m) != WM_OK) /* the parent resends from our have next session */
        wm_warn_peer(UP_PEER, "down: cannot answer the parent: %s", wm_net_detail());
}

/* The records of a DOWN_BATCH: its own, or its ZBatch's unpacked into z. */
static wm_sync_reason_t down_records(const wm_upstream_t *u, const Wm__DownBatch *b,
                                     wm_wire_batch_t *z, const ProtobufCBinaryData **recs,
                                     size_t *n, char *why, size_t cap)
{
    *recs = b->records;
    *n = b->n_records;
    if (b->zbatch) {
        if (!u->link.zstd) {
            snprintf(why, cap, "a compressed DOWN_BATCH, but this session did not agree to "
                               "\"%s\"", WM_WIRE_FEATURE);
            return WM_SYNC_R_NOT_NEGOTIATED;
        }
        wm_sync_reason_t r = wm_wire_unpack(b->zbatch, WM_SYNC_MAX_RECORDS, z, why, cap);
        if (r != WM_SYNC_R_OK)
            return r;
        *recs = z->recs;
        *n = z->n;
    }
    size_t bytes = 0;
    for (size_t i = 0; i < *n; i++)
        bytes += (*recs)[i].len;
    if (*n > WM_SYNC_MAX_RECORDS || bytes > WM_SYNC_MAX_BYTES) {
        snprintf(why, cap, "DOWN_BATCH of %zu records / %zu bytes exceeds %u / %u", *n, bytes,
                 WM_SYNC_MAX_RECORDS, WM_SYNC_MAX_BYTES);
        return WM_SYNC_R_TOO_BIG;
    }
    return WM_SYNC_R_OK;
}

/* A DOWN_BATCH: verified against the pinned key and stored (durable)
 * before it is acked; a head-only one (id 0) is noted for status. */
static void on_down_batch(wm_upstream_t *u, const Wm__DownBatch *b)
{
    wm_down_res_t res = {0};
    wm_wire_batch_t z = {0};
    const ProtobufCBinaryData *recs = NULL;
    size_t n = 0;
    res.have = wm_down_have(u->down);
    wm_down_seen(u->down, b->head, &b->sign_pub);
    if (!b->batch_id && !b->n_records && !b->zbatch)
        return;
    if (!u->down_use) {
        res.reason = WM_SYNC_R_NOT_NEGOTIATED;
        snprintf(res.detail, sizeof res.detail, "a DOWN_BATCH, but this session did not agree "
                 "to \"%s\" (or no parent is pinned)", WM_FEATURE_DOWN);
    } else if (!b->batch_id || b->batch_id <= u->down_last_id) {
        res.reason = WM_SYNC_R_MALFORMED;
        snprintf(res.detail, sizeof res.detail, "batch_id %" PRIu64 " is not above the "
                 "session's previous one (%" PRIu64 ")", b->batch_id, u->down_last_id);
    } else {
        u->down_last_id = b->batch_id;
        res.reason = down_records(u, b, &z, &recs, &n, res.detail, sizeof res.detail);
    }
    if (res.reason == WM_SYNC_R_OK) {
        const uint8_t **rp = calloc(n + 1, sizeof *rp);
        size_t *lens = calloc(n + 1, sizeof *lens);
        for (size_t i = 0; rp && lens && i < n; i++)
            rp[i] = recs[i].data, lens[i] = recs[i].len;
        if (rp && lens) {
            const char *parent = wm_down_pinned(u->down) ? wm_down_parent(u->down) : "";
            wm_down_ingest(u->down, parent, rp, lens, n, 1, &res);
        } else {
            res.reason = WM_SYNC_R_STORAGE;
            snprintf(res.detail, sizeof res.detail, "out of memory");
        }
        free(rp);
        free(lens);
    }
    wm_wire_batch_free(&z);
    answer_down(u, b->batch_id, &res);
}

/* A WELCOME: the features in use this session, and how far our wall clock
 * is from the aggregator's (its time when it answered, plus half the round
 * trip of the HELLO). A clock off by more than WM_SYNC_CLOCK_WARN_S is
 * logged for the operator, once a session; records still flow. */
/* Nonzero if our HELLO lists feature name (wm_link_features). */
static int hello_listed(const wm_upstream_t *u, const char *name)
{
    char *feats[WM_SYNC_FEATURES_MAX];
    size_t n = wm_link_features(u->node->cfg->compress, feats);
    for (size_t i = 0; i < n; i++)
        if (strcmp(feats[i], name) == 0)
            return 1;
    return 0;
}

static void on_welcome(wm_upstream_t *u, const Wm__Welcome *w)
{
    u->link.zstd = u->node->cfg->compress &&
                   wm_sync_feature_agreed(WM_WIRE_FEATURE, w->features, w->n_features);
    u->down_use = wm_down_pinned(u->down) &&
                  wm_sync_feature_agreed(WM_FEATURE_DOWN, w->features, w->n_features);
    u->down_last_id = 0;
    if (u->down_use)
        send_down_hello(u);
    wm_blobup_session(u->blobup,
                      wm_sync_feature_agreed(WM_FEATURE_BLOBS, w->features, w->n_features));
    u->blob_fetch = hello_listed(u, WM_FEATURE_BLOB_FETCH) &&
                    wm_sync_feature_agreed(WM_FEATURE_BLOB_FETCH, w->features, w->n_features);
    if (!w->time_ms)
        return; /* an aggregator older than the field */
    int64_t rtt = now_ms() - u->hello_sent_ms;
    u->clock_offset_ms = wm_link_wall_ms() - (w->time_ms + rtt / 2);
    u->clock_known = 1;
    int64_t off_s = u->clock_offset_ms / 1000;
    int far = off_s > WM_SYNC_CLOCK_WARN_S || off_s < -WM_SYNC_CLOCK_WARN_S;
    store_clock(u, far ? off_s : 0);
    if (far)
        wm_warn("upstream: this computer's clock is %" PRId64 " s %s the aggregator's: set "
                "the date and time (records keep syncing; their capture times are flagged)",
                off_s > 0 ? off_s : -off_s, off_s > 0 ? "ahead of" : "behind");
}

void wm_upstream_on_msg(wm_upstream_t *u)
{
    for (int i = 0; i < 64 && u->sock; i++) {
        wm_msg_t m = {0};
        Wm__SyncMsg *sm = NULL;
        if (wm_sock_recv(u->sock, &m) != WM_OK)
            return;
        if (m.n != 1 || wm_pb_decode(&wm__sync_msg__descriptor, m.f[0].data, m.f[0].len,
                                     WM_SYNC_MAX_MSG, (void **)&sm) != WM_OK) {
            wm_warn_peer(UP_PEER, "upstream: dropped a malformed message from the aggregator");
            wm_msg_clear(&m);
            continue;
        }
        wm_link_received(&u->link, m.f[0].len);
        wm_msg_clear(&m);
        u->last_rx_ms = now_ms();
        u->last_contact = (int64_t)time(NULL);
        wm_head_t durable;
        switch (sm->msg_case) {
        case WM__SYNC_MSG__MSG_WELCOME:
            wm_head_from(sm->welcome->durable, &durable);
            if (u->state == UP_HELLO_SENT)
                rtt_sample(u, u->last_rx_ms - u->hello_sent_ms);
            u->state = UP_STREAMING;
            u->backoff_ms = 0;
            u->failing_since = 0;
            u->attempts = 0;
            u->last_hb_ms = u->last_rx_ms;
            u->hb_ms = (long)u->node->cfg->heartbeat_s * 1000;
            if (sm->welcome->heartbeat_s && (long)sm->welcome->heartbeat_s * 1000 < u->hb_ms)
                u->hb_ms = (long)sm->welcome->heartbeat_s * 1000; /* the aggregator's wish */
            u->credit = sm->welcome->credit;
            u->max_records = sm->welcome->max_records ? sm->welcome->max_records : 1;
            if (u->max_records > WM_SYNC_MAX_RECORDS)
                u->max_records = WM_SYNC_MAX_RECORDS;
            u->max_bytes = sm->welcome->max_bytes ? sm->welcome->max_bytes : WM_SYNC_MAX_BYTES;
            reset_cursor(u, &durable);
            store_acked(u, &durable);
            store_rollup_bin(u, wm_sync_feature_agreed(WM_FEATURE_ROLLUP_BIN,
                                                       sm->welcome->features,
                                                       sm->welcome->n_features));
            on_welcome(u, sm->welcome);
            wm_info_peer(UP_PEER,
                         "upstream: connected; aggregator holds epoch %" PRIu32 " seq %" PRIu64
                         ", we have seq %" PRIu64,
                         durable.epoch, durable.seq, u->node->head.seq);
            break;
        case WM__SYNC_MSG__MSG_ACK:
            wm_head_from(sm->ack->durable, &durable);
            store_acked(u, &durable);
            flight_done(u, sm->ack->batch_id, 1);
            u->credit += sm->ack->credit;
            if (u->in_flight)
                u->in_flight--;
            break;
        case WM__SYNC_MSG__MSG_REJECT: {
            Wm__Reject *r = sm->reject;
            const char *reason = r->reason ? r->reason : "";
            wm_head_from(r->durable, &durable);
            flight_done(u, r->batch_id, 0);
            u->credit += r->credit;
            if (r->batch_id && r->batch_id < u->batch_floor)
                break; /* stale: we already restarted from the frontier */
            if (wm_sync_reason_by_slug(reason) == WM_SYNC_R_NO_SESSION) { /* the aggregator restarted */
                wm_info_peer(UP_PEER, "upstream: aggregator has no session for us; saying hello");
                reset_cursor(u, &durable);
                send_hello(u);
                break;
            }
            store_reject(u, reason, r->detail ? r->detail : "");
            if (wm_sync_reason_by_slug(reason) == WM_SYNC_R_BLOB_QUOTA) {
                wm_blobup_pause(u->blobup); /* records go on; blobs next session */
                wm_warn_peer(UP_PEER, "upstream: the aggregator refused our blobs: %s: %s",
                             reason, r->detail ? r->detail : "");
                break;
            }
            if (u->link.zstd && wire_refused(reason)) {
                u->link.zstd = 0; /* plain batches for the rest of the session */
                wm_warn_peer(UP_PEER, "upstream: the aggregator refused a compressed batch; "
                                      "sending plain batches until the next connection");
            }
            if (wm_sync_slug_fatal(reason)) {
                char why[96];
                snprintf(why, sizeof why, "reject %s", reason);
                note_fail(u, why);
            }
            wm_warn_peer(UP_PEER, "upstream: aggregator rejected %s: %s: %s",
                         r->batch_id ? "a batch" : "us", reason, r->detail ? r->detail : "");
            if (wm_sync_reason_by_slug(reason) == WM_SYNC_R_COMPROMISED && skip_compromised(u, &durable)) {
                store_acked(u, &durable);
            } else if (wm_sync_slug_fatal(reason)) {
                /* Remember what the aggregator holds of us even now: after a
                 * re-install, --new-epoch must begin above its newest epoch. */
                if (durable.epoch > u->acked.epoch)
                    store_acked(u, &durable);
                go_down(u, WM_SYNC_FATAL_BACKOFF_MS, reason);
            } else {
                store_acked(u, &durable);
                reset_cursor(u, &durable);
            }
            break;
        }
        case WM__SYNC_MSG__MSG_HEARTBEAT:
            if (u->hb_probe_ms) /* the answer to our oldest unanswered one */
                rtt_sample(u, u->last_rx_ms - u->hb_probe_ms);
            u->hb_probe_ms = 0;
            break;
        case WM__SYNC_MSG__MSG_FETCH:
            answer_fetch(u, sm->fetch);
            break;
        case WM__SYNC_MSG__MSG_BLOB_FETCH:
            answer_blob_fetch(u, sm->blob_fetch);
            break;
        case WM__SYNC_MSG__MSG_DOWN_BATCH:
            on_down_batch(u, sm->down_batch);
            break;
        case WM__SYNC_MSG__MSG_BLOB_WANT:
            wm_blobup_on_want(u->blobup, sm->blob_want);
            break;
        case WM__SYNC_MSG__MSG_BLOB_ACK:
            wm_blobup_on_ack(u->blobup, sm->blob_ack);
            break;
        case WM__SYNC_MSG__MSG__NOT_SET:
            /* A later build's message (PROTOCOL.md §7): ignored. */
            wm_debug("upstream: ignored a message this build does not know");
            break;
        default:
            wm_warn_peer(UP_PEER, "upstream: unexpected message type %d", (int)sm->msg_case);
        }
        wm_pb_free(&sm);
        pump(u);
    }
}

static void send_heartbeat(wm_upstream_t *u, int64_t now)
{
    Wm__SyncMsg m = WM__SYNC_MSG__INIT;
    Wm__Heartbeat hb = WM__HEARTBEAT__INIT;
    Wm__Frontier f = wm_frontier_of(&u->node->head);
    hb.head = &f;
    m.msg_case = WM__SYNC_MSG__MSG_HEARTBEAT;
    m.heartbeat = &hb;
    /* A busy link drops it: the next one follows, and the aggregator
     * waits much longer than a heartbeat for silence. */
    if (send_msg(u, &m) == WM_OK && !u->hb_probe_ms)
        u->hb_probe_ms = now;
    u->last_hb_ms = now;
}

/* STREAMING: the link dies on a lost connection or on silence. */
static void streaming(wm_upstream_t *u, int64_t now)
{
    wm_sync_link_ev_t ev;
    wm_sync_link_poll(u->sock, &ev);
    /* libzmq's own heartbeat may drop a silent link first: a drop after
     * two heartbeats of silence is the dead link too. */
    int silent = now - u->last_rx_ms > dead_ms(u);
    if (silent || ev.disconnects) {
        char why[96];
        if (silent || now - u->last_rx_ms > 2 * u->hb_ms)
            snprintf(why, sizeof why, "dead link: no answer for %ld s",
                     (long)(now - u->last_rx_ms) / 1000);
        else
            snprintf(why, sizeof why, "connection lost");
        note_fail(u, why);
        go_down(u, WM_SYNC_BACKOFF_MIN_MS, why);
        return;
    }
    if (now - u->last_hb_ms >= u->hb_ms)
        send_heartbeat(u, now);
    pump(u);
}

void wm_upstream_tick(wm_upstream_t *u)
{
    int64_t now = now_ms();
    if (u->acked_dirty && now - u->acked_saved_ms >= ACKED_SAVE_MS)
        persist_acked(u);
    switch (u->state) {
    case UP_DOWN:
        if (u->sock)
            connecting(u, now);
        else if (now >= u->next_try_ms)
            try_connect(u);
        break;
    case UP_HELLO_SENT: {
        wm_sync_link_ev_t ev;
        wm_sync_link_poll(u->sock, &ev);
        if (ev.disconnects) {
            note_fail(u, "connection lost");
            go_down(u, backoff_next(u), "connection lost");
        } else if (now - u->connect_ms > handshake_ms(u)) {
            note_fail(u, classify(&ev, 1));
            go_down(u, backoff_next(u), "no answer to hello");
        }
        break;
    }
    case UP_STREAMING:
        streaming(u, now);
        break;
    }
}

long wm_upstream_next_ms(wm_upstream_t *u)
{
    int64_t now = now_ms();
    if (u->state != UP_STREAMING && !u->sock)
        return u->next_try_ms > now ? (long)(u->next_try_ms - now) : 50;
    if (u->state != UP_STREAMING)
        return CONNECT_POLL_MS;
    int64_t due = u->last_hb_ms + u->hb_ms - now;
    long blob = wm_blobup_next_ms(u->blobup); /* a rate-capped chunk, an offer */
    if (blob >= 0 && blob < due)
        due = blob;
    return due < 0 ? 0 : due < 1000 ? (long)due : 1000;
}

wm_sock_t *wm_upstream_sock(wm_upstream_t *u)
{
    return u->sock;
}

wm_err_t wm_upstream_open(wm_node_t *node, wm_net_t *net, wm_upstream_t **out, char *why,
                          size_t cap)
{
    wm_upstream_t *u = calloc(1, sizeof *u);
    if (!u)
        return WM_ENOMEM;
    u->node = node;
    u->net = net;
    u->secret = wm_secure_alloc(32);
    wm_err_t err = u->secret ? WM_OK : WM_ENOMEM;
    if (err == WM_OK)
        err = wm_nodedir_load_curve(node->cfg, u->secret, u->pub, why, cap);
    if (err == WM_OK && (err = wm_unhex(node->cfg->upstream_key, u->server_pub, 32)) != WM_OK)
        snprintf(why, cap, "upstream_key is not 64 hex digits");
    wm_txn_t *t = NULL;
    if (err == WM_OK && (err = wm_txn_begin(node->store, 0, &t)) == WM_OK)
        err = wm_acked_get(t, &u->acked);
    int64_t off = 0;
    size_t len = 0;
    if (err == WM_OK && wm_meta_get(t, "clock_offset", &off, sizeof off, &len) == WM_OK &&
        len == sizeof off)
        node->clock_offset_s = off; /* the error last measured, until a WELCOME says */
    wm_txn_abort(&t);
    if (err == WM_OK && (err = wm_blobup_open(node, blob_send, u, &u->blobup)) != WM_OK)
        snprintf(why, cap, "cannot open the blob store: %s", wm_strerror(err));
    if (err != WM_OK) {
        wm_upstream_close(&u);
        return err;
    }
    u->cursor = u->acked;
    u->rollup_bin = -1;
    if ((err = wm_down_open(node, &u->down)) != WM_OK) {
        wm_upstream_close(&u);
        return err;
    }
    u->state = UP_DOWN;
    *out = u;
    return WM_OK;
}

void wm_upstream_close(wm_upstream_t **up)
{
    wm_upstream_t *u = up ? *up : NULL;
    if (!u)
        return;
    if (u->acked_dirty)
        persist_acked(u);
    wm_sock_close(&u->sock);
    wm_blobup_close(&u->blobup);
    wm_secure_free(u->secret);
    wm_down_close(&u->down);
    free(u);
    *up = NULL;
}

/* The link's measured timing and why it keeps failing, into j. */
static void link_status(wm_upstream_t *u, json_t *j)
{
    json_object_set_new(j, "rtt_ms", json_integer(u->srtt_ms));
    json_object_set_new(j, "rtt_var_ms", json_integer(u->rttvar_ms));
    json_object_set_new(j, "rate_bps", json_integer((json_int_t)link_rate(u)));
    json_object_set_new(j, "window_bytes", json_integer((json_int_t)window_bytes(u)));
    json_object_set_new(j, "dead_link_ms", json_integer(dead_ms(u)));
    json_object_set_new(j, "handshake_ms", json_integer(handshake_ms(u)));
    json_object_set_new(j, "last_error", json_string(u->last_error));
    json_object_set_new(j, "last_error_at", json_integer(u->last_error_at));
    json_object_set_new(j, "failing_since", json_integer(u->failing_since));
    json_object_set_new(j, "attempts", json_integer(u->attempts));
}

uint64_t wm_upstream_progress(wm_upstream_t *u)
{
    return u->acked.seq * 131 + u->next_batch_id;
}

json_t *wm_upstream_status(wm_upstream_t *u)
{
    static const char *const names[] = {"down", "hello_sent", "streaming"};
    int connected = u->state == UP_STREAMING && now_ms() - u->last_rx_ms < dead_ms(u);
    json_t *j = json_pack("{s:s, s:b, s:I, s:I, s:i, s:s, s:s}", "link", names[u->state],
                          "connected", connected, "last_contact", (json_int_t)u->last_contact,
                          "acked_seq", (json_int_t)u->acked.seq, "in_flight", (int)u->in_flight,
                          "last_reject", u->last_reject, "last_reject_detail",
                          u->last_reject_detail);
    json_t *w = wm_link_json(&u->link);
    if (j && w)
        json_object_update(j, w);
    json_decref(w);
    if (j && u->clock_known)
        json_object_set_new(j, "clock_offset_s", json_integer(u->clock_offset_ms / 1000));
    if (j) /* the aggregator above may fetch our blobs on demand (PROTOCOL.md §7.3) */
        json_object_set_new(j, "blob_fetch", json_boolean(u->blob_fetch));
    if (j)
        link_status(u, j);
    if (j)
        json_object_set_new(j, "down", wm_down_status(u->down));
    if (j)
        wm_blobup_status(u->blobup, link_rate(u), j);
    return j;
}

void wm_upstream_down_restart(wm_upstream_t *u)
{
    if (u && u->state == UP_STREAMING && u->down_use)
        send_down_hello(u);
}

wm_down_t *wm_upstream_down(wm_upstream_t *u)
{
    return u ? u->down : NULL;
}
