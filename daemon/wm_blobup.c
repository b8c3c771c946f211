/* SPDX-License-Identifier: MIT */
/* wm_blobup — the child's side of feature "blobs"; see wm_blobup.h. */
#include "wm_blobup.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "wm_blob.h"
#include "wm_blobref.h"
#include "wm_diag.h"

#define OFFER_MAX 64          /* blobs one BLOB_OFFER names */
#define OFFER_EVERY_MS 2000   /* a new offer while blobs are unconfirmed */
/* An offer the aggregator answered only in part (records naming the rest
 * still being verified there): offered again this soon, then twice as
 * late each time, up to OFFER_EVERY_MS. */
#define OFFER_SOON_MS 100
#define QUEUE_MAX 64          /* wanted blobs held for sending */
#define FLIGHT_MAX 64         /* chunks in flight that are tracked */
#define CHUNK_MIN 512u        /* bytes: never a smaller chunk (but a blob's last) */
/* Before any rate is known: one chunk of this at a time (a second of a
 * 4 KB/s link); a fast link's rate is known after 8 of them. */
#define CHUNK_INITIAL (4u << 10)
/* A chunk is at most this (a quarter of the window, so several keep the
 * pipe full) and never more than a message may carry. */
#define CHUNK_MAX (256u << 10)
#define CHUNK_SHARE 4         /* a chunk is 1/CHUNK_SHARE of the window */
/* Records flow while they come at a cadence: a pump found records waiting
 * or sent at most this long after the time before, and the time since is
 * less than twice that gap (at least FLOW_LAPSE_MIN_MS). Then one chunk is
 * in flight, of at most FLOW_CHUNK_MAX: a record batch waits behind one
 * small chunk, not a window. One burst of records (a station back on line)
 * is not a flow, and a flow lapses within two of its own gaps: the blobs
 * behind it then go at the full rate. */
#define RECORDS_RECENT_MS 2000
#define FLOW_LAPSE_MIN_MS 10
#define FLOW_CHUNK_MAX (64u << 10)
#define RATE_SPAN_MS 500      /* the blob delivery rate is measured over this, */
#define RATE_SPAN_CHUNKS 8    /* or over this many chunks acked, */
#define RATE_SPAN_MIN_MS 20   /* if they took this long: a fast link's rate is known at once */

typedef struct {
    uint8_t hash[WM_HASH_BYTES];
    uint64_t size, off; /* off: the next byte to send */
} transfer_t;

struct wm_blobup {
    wm_node_t *node;
    wm_blobup_send_fn send;
    void *ctx;
    int active, paused;
    int64_t offer_ms;         /* when the last offer went; 0: none this session */
    int offered;              /* an offer waits for its BLOB_WANT */
    int again;                /* the last BLOB_WANT wanted blobs, and one of them arrived */
    size_t n_offered;         /* blobs the last offer named */
    unsigned partial;         /* offers answered in part, in a row */
    transfer_t q[QUEUE_MAX];
    unsigned nq;
    uint32_t credit;          /* chunks the aggregator takes unanswered */
    uint32_t flight[FLIGHT_MAX]; /* lengths of the chunks in flight, oldest first */
    unsigned nflight, flight_head;
    uint64_t bytes_in_flight;
    double tokens;            /* [sync] blob_rate's bucket, bytes */
    int64_t tokens_ms;
    double rate;              /* blob bytes acked a second, lately; 0: unknown */
    uint64_t acked_span;
    unsigned span_chunks;
    int64_t span_ms;
    uint64_t bytes_sent;
    uint32_t chunk_len;       /* the size pump last chose */
    int idle;                 /* the last pump found no record waiting or sent */
    int64_t records_ms;       /* when a pump last found records waiting or sent */
    int64_t records_prev_ms;  /* the time before that */
};

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

wm_err_t wm_blobup_open(wm_node_t *node, wm_blobup_send_fn send, void *ctx, wm_blobup_t **out)
{
    wm_blobup_t *b = calloc(1, sizeof *b);
    *out = NULL;
    if (!b)
        return WM_ENOMEM;
    b->node = node;
    b->send = send;
    b->ctx = ctx;
    *out = b;
    return WM_OK;
}

void wm_blobup_close(wm_blobup_t **b)
{
    if (!b || !*b)
        return;
    free(*b);
    *b = NULL;
}

void wm_blobup_session(wm_blobup_t *b, int agreed)
{
    b->active = agreed;
    b->paused = 0;
    b->offer_ms = 0;
    b->offered = 0;
    b->again = 0;
    b->partial = 0;
    b->nq = 0;
    b->credit = 0;
    b->nflight = b->flight_head = 0;
    b->bytes_in_flight = 0;
    b->tokens = 0;
    b->tokens_ms = now_ms();
    b->records_ms = b->records_prev_ms = 0; /* a flow is of one session */
}

void wm_blobup_pause(wm_blobup_t *b)
{
    b->paused = 1;
    b->nq = 0;
}

/* Marks blobs confirmed by the aggregator, in one commit. A failure only
 * means they are offered again (and answered `have` again). */
static void confirm(wm_blobup_t *b, const ProtobufCBinaryData *hashes, size_t n)
{
    wm_txn_t *t = NULL;
    wm_err_t err = wm_txn_begin(b->node->store, 1, &t);
    for (size_t i = 0; err == WM_OK && i < n; i++) {
        const ProtobufCBinaryData *h = &hashes[i];
        if (h->len != WM_HASH_BYTES)
            continue;
        err = wm_blobref_mark(t, b->node->self, h->data, WM_BLOBREF_CONFIRMED);
        if (err == WM_ENOTFOUND)
            err = WM_OK; /* not one our records name: nothing to mark */
    }
    if (err == WM_OK)
        err = wm_txn_commit(&t);
    wm_txn_abort(&t);
    if (err != WM_OK)
        wm_warn("blobs: cannot mark blobs confirmed: %s (they are offered again)",
                wm_strerror(err));
}

/* The queued transfer of hash, or NULL. */
static transfer_t *queued(wm_blobup_t *b, const uint8_t *hash)
{
    for (unsigned i = 0; i < b->nq; i++)
        if (memcmp(b->q[i].hash, hash, WM_HASH_BYTES) == 0)
            return &b->q[i];
    return NULL;
}

/* Queues hash (from byte off) if our records name it with that size and
 * our store holds it; a queued one moves to off. */
static void want_one(wm_blobup_t *b, wm_txn_t *t, const uint8_t *hash, uint64_t size,
                     uint64_t off)
{
    transfer_t *q = queued(b, hash);
    wm_blobref_t ref;
    uint64_t have = 0;
    if (q) {
        q->off = off <= q->size ? off : 0;
        return;
    }
    if (b->nq >= QUEUE_MAX || wm_blobref_get(t, b->node->self, hash, &ref) != WM_OK ||
        ref.size != size || off > size || wm_blob_has(b->node->blobs, hash, &have) != WM_OK ||
        have != size)
        return; /* not ours to send, or not here (the aggregator shows it missing) */
    q = &b->q[b->nq++];
    memcpy(q->hash, hash, WM_HASH_BYTES);
    q->size = size;
    q->off = off;
}

void wm_blobup_on_want(wm_blobup_t *b, const Wm__BlobWant *w)
{
    wm_txn_t *t = NULL;
    if (!b->active)
        return;
    b->offered = 0;
    b->again = 0; /* set by an ACK present: offer again at once, after progress only */
    /* Blobs neither wanted nor held: not known there yet; ask again soon. */
    b->partial = w->n_want + w->n_have < b->n_offered ? b->partial + 1 : 0;
    b->credit = w->credit;
    if (w->n_have)
        confirm(b, w->have, w->n_have);
    if (wm_txn_begin(b->node->store, 0, &t) != WM_OK)
        return;
    for (size_t i = 0; i < w->n_want; i++)
        if (w->want[i] && w->want[i]->hash.len == WM_HASH_BYTES)
            want_one(b, t, w->want[i]->hash.data, w->want[i]->size, w->want[i]->from);
    wm_txn_abort(&t);
}

/* One chunk answered: its bytes leave the flight; a rate sample. */
static void flight_pop(wm_blobup_t *b)
{
    if (!b->nflight)
        return;
    uint32_t len = b->flight[b->flight_head];
    b->flight_head = (b->flight_head + 1) % FLIGHT_MAX;
    b->nflight--;
    b->bytes_in_flight = b->bytes_in_flight > len ? b->bytes_in_flight - len : 0;
    int64_t now = now_ms();
    b->acked_span += len;
    b->span_chunks++;
    if (!b->span_ms)
        b->span_ms = now;
    if (now - b->span_ms >= RATE_SPAN_MS ||
        (b->span_chunks >= RATE_SPAN_CHUNKS && now - b->span_ms >= RATE_SPAN_MIN_MS)) {
        b->rate = (double)b->acked_span * 1000.0 / (double)(now - b->span_ms);
        b->acked_span = 0;
        b->span_chunks = 0;
        b->span_ms = now;
    }
    if (!b->nflight && !b->nq)
        b->span_ms = 0; /* idle: the next span starts with the next chunk */
}

void wm_blobup_on_ack(wm_blobup_t *b, const Wm__BlobAck *a)
{
    if (!b->active)
        return;
    flight_pop(b);
    b->credit += a->credit;
    if (a->hash.len != WM_HASH_BYTES)
        return;
    if (a->present) {
        b->again = 1;
        confirm(b, &a->hash, 1);
        return;
    }
    if (a->error && a->error[0]) {
        /* Not taken: resume from what the aggregator holds (a restart of
         * either side, a chunk refused, a blob discarded on a mismatch). */
        char hex[WM_BLOB_HEXLEN + 1];
        wm_debug("blobs: the aggregator did not take a chunk of %s: %s; resuming at %llu",
                 wm_hex(a->hash.data, WM_HASH_BYTES, hex), a->error,
                 (unsigned long long)a->held);
        transfer_t *q = queued(b, a->hash.data);
        if (q) {
            q->off = a->held <= q->size ? a->held : 0;
        } else {
            wm_txn_t *t = NULL;
            wm_blobref_t ref;
            if (wm_txn_begin(b->node->store, 0, &t) == WM_OK &&
                wm_blobref_get(t, b->node->self, a->hash.data, &ref) == WM_OK)
                want_one(b, t, a->hash.data, ref.size, a->held);
            wm_txn_abort(&t);
        }
    }
}

typedef struct {
    wm_blobup_t *b;
    Wm__BlobRef refs[OFFER_MAX];
    Wm__BlobRef *ptrs[OFFER_MAX];
    uint8_t hashes[OFFER_MAX][WM_HASH_BYTES];
    size_t n;
} offer_ctx_t;

static int offer_one(const wm_blobref_t *ref, void *ctx)
{
    offer_ctx_t *oc = ctx;
    uint64_t have = 0;
    if (ref->flags & WM_BLOBREF_CONFIRMED)
        return 0;
    if (wm_blob_has(oc->b->node->blobs, ref->hash, &have) != WM_OK || have != ref->size)
        return 0; /* not here: nothing to send (the aggregator shows it missing) */
    Wm__BlobRef *r = &oc->refs[oc->n];
    wm__blob_ref__init(r);
    memcpy(oc->hashes[oc->n], ref->hash, WM_HASH_BYTES);
    r->hash = (ProtobufCBinaryData){WM_HASH_BYTES, oc->hashes[oc->n]};
    r->size = ref->size;
    oc->ptrs[oc->n] = r;
    return ++oc->n >= OFFER_MAX;
}

/* How long after the last offer the next one goes, when nothing is in
 * flight: sooner while offers are answered only in part. */
static int64_t offer_gap(const wm_blobup_t *b)
{
    if (!b->partial)
        return OFFER_EVERY_MS;
    int64_t gap = (int64_t)OFFER_SOON_MS << (b->partial < 8 ? b->partial - 1 : 7);
    return gap < OFFER_EVERY_MS ? gap : OFFER_EVERY_MS;
}

/* Offers the unconfirmed blobs we hold (the first OFFER_MAX). */
static void offer(wm_blobup_t *b, int64_t now)
{
    offer_ctx_t *oc = calloc(1, sizeof *oc);
    wm_txn_t *t = NULL;
    b->offer_ms = now;
    b->again = 0;
    if (!oc)
        return;
    oc->b = b;
    wm_err_t err = wm_txn_begin(b->node->store, 0, &t);
    if (err == WM_OK)
        err = wm_blobref_each(t, b->node->self, NULL, offer_one, oc);
    wm_txn_abort(&t);
    if (err == WM_OK && oc->n > 0) {
        Wm__SyncMsg m = WM__SYNC_MSG__INIT;
        Wm__BlobOffer o = WM__BLOB_OFFER__INIT;
        o.blobs = oc->ptrs;
        o.n_blobs = oc->n;
        m.msg_case = WM__SYNC_MSG__MSG_BLOB_OFFER;
        m.blob_offer = &o;
        b->offered = b->send(b->ctx, &m) == WM_OK;
        b->n_offered = oc->n;
    }
    free(oc);
}

/* The next chunk's size: 1/CHUNK_SHARE of the window at the rate known,
 * within the cap. */
static uint32_t chunk_bytes(const wm_blobup_t *b, double rate)
{
    double r = rate > b->rate ? rate : b->rate;
    uint64_t c = r > 0 ? (uint64_t)(r * WM_BLOBUP_WINDOW_MS / 1000 / CHUNK_SHARE) : CHUNK_INITIAL;
    unsigned long cap = b->node->cfg->blob_rate;
    if (cap && c > cap / CHUNK_SHARE)
        c = cap / CHUNK_SHARE;
    if (c < CHUNK_MIN)
        c = CHUNK_MIN;
    return c > CHUNK_MAX ? CHUNK_MAX : (uint32_t)c;
}

/* Refills the blob_rate bucket; nonzero if len bytes may go now. */
static int tokens_allow(wm_blobup_t *b, uint32_t len, int64_t now)
{
    unsigned long cap = b->node->cfg->blob_rate;
    if (!cap)
        return 1;
    b->tokens += (double)cap * (double)(now - b->tokens_ms) / 1000.0;
    b->tokens_ms = now;
    if (b->tokens > (double)len)
        b->tokens = len; /* no burst above one chunk */
    return b->tokens >= (double)len;
}

/* Sends one chunk of q[0]; nonzero if it went. */
static int send_chunk(wm_blobup_t *b, uint32_t len)
{
    transfer_t *q = &b->q[0];
    uint8_t *buf = malloc(len);
    size_t n = 0;
    if (!buf)
        return 0;
    if (wm_blob_read(b->node->blobs, q->hash, q->off, buf, len, &n) != WM_OK || (n == 0 && q->size)) {
        memmove(b->q, b->q + 1, (b->nq - 1) * sizeof *b->q); /* gone from our store */
        b->nq--;
        free(buf);
        return 0;
    }
    Wm__SyncMsg m = WM__SYNC_MSG__INIT;
    Wm__BlobChunk c = WM__BLOB_CHUNK__INIT;
    c.hash = (ProtobufCBinaryData){WM_HASH_BYTES, q->hash};
    c.size = q->size;
    c.offset = q->off;
    c.data = (ProtobufCBinaryData){n, buf};
    m.msg_case = WM__SYNC_MSG__MSG_BLOB_CHUNK;
    m.blob_chunk = &c;
    int sent = b->send(b->ctx, &m) == WM_OK;
    free(buf);
    if (!sent)
        return 0;
    if (b->node->cfg->blob_rate)
        b->tokens -= (double)n;
    b->flight[(b->flight_head + b->nflight) % FLIGHT_MAX] = (uint32_t)n;
    b->nflight++;
    b->bytes_in_flight += n;
    b->bytes_sent += n;
    b->credit--;
    q->off += n;
    if (q->off >= q->size) {
        memmove(b->q, b->q + 1, (b->nq - 1) * sizeof *b->q);
        b->nq--;
    }
    return 1;
}

void wm_blobup_pump(wm_blobup_t *b, int records_idle, double rate_bps)
{
    int64_t now = now_ms();
    b->idle = records_idle;
    if (!records_idle)
        b->records_prev_ms = b->records_ms, b->records_ms = now;
    if (!b->active || b->paused || !records_idle)
        return; /* records first */
    if (!b->nq && !b->nflight) {
        /* At once when the blobs last wanted have all gone and some
         * arrived (more may wait past the OFFER_MAX of that offer). */
        if (!b->offered ? b->again || now - b->offer_ms >= (b->offer_ms ? offer_gap(b) : 0)
                        : now - b->offer_ms >= 4 * OFFER_EVERY_MS) /* an offer lost */
            offer(b, now);
        return;
    }
    uint32_t len = chunk_bytes(b, rate_bps);
    b->chunk_len = len;
    /* About a second of the link in flight: CHUNK_SHARE chunks, or more of
     * them once the chunk is at CHUNK_MAX (within the aggregator's credit). */
    double r = rate_bps > b->rate ? rate_bps : b->rate;
    uint64_t window = (uint64_t)len * CHUNK_SHARE;
    if (len == CHUNK_MAX && r * WM_BLOBUP_WINDOW_MS / 1000 > (double)window)
        window = (uint64_t)(r * WM_BLOBUP_WINDOW_MS / 1000);
    int64_t gap = b->records_ms - b->records_prev_ms;
    int flow = b->records_prev_ms && gap < RECORDS_RECENT_MS &&
               now - b->records_ms < (2 * gap > FLOW_LAPSE_MIN_MS ? 2 * gap : FLOW_LAPSE_MIN_MS);
    unsigned most = flow || r <= 0 ? 1 : FLIGHT_MAX;
    if (flow && len > FLOW_CHUNK_MAX)
        len = FLOW_CHUNK_MAX;
    while (b->nq && b->credit > 0 && b->nflight < most && b->bytes_in_flight < window &&
           tokens_allow(b, len, now))
        if (!send_chunk(b, len) && b->nq)
            break; /* the link is busy: the next turn */
}

long wm_blobup_next_ms(wm_blobup_t *b)
{
    if (!b->active || b->paused || !b->idle)
        return -1; /* records first: their acks wake the loop */
    if (b->nq && b->credit > 0 && b->node->cfg->blob_rate) {
        double need = (double)(b->chunk_len ? b->chunk_len : CHUNK_MIN) - b->tokens;
        return need <= 0 ? 0 : (long)(need * 1000.0 / (double)b->node->cfg->blob_rate) + 1;
    }
    if (!b->nq && !b->nflight) {
        if (b->again && !b->offered)
            return 0;
        int64_t due = b->offer_ms + offer_gap(b) - now_ms();
        return due < 0 ? 0 : (long)due;
    }
    return -1;
}

typedef struct {
    wm_blobup_t *b;
    uint64_t n, bytes, missing;
} pending_ctx_t;

static int pending_one(const wm_blobref_t *ref, void *ctx)
{
    pending_ctx_t *pc = ctx;
    uint64_t have = 0;
    if (ref->flags & WM_BLOBREF_CONFIRMED)
        return 0;
    pc->n++;
    pc->bytes += ref->size;
    if (wm_blob_has(pc->b->node->blobs, ref->hash, &have) != WM_OK || have != ref->size)
        pc->missing++;
    return 0;
}

void wm_blobup_status(wm_blobup_t *b, double rate_bps, json_t *j)
{
    pending_ctx_t pc = {.b = b};
    wm_txn_t *t = NULL;
    wm_err_t err = wm_txn_begin(b->node->store, 0, &t);
    if (err == WM_OK)
        err = wm_blobref_each(t, b->node->self, NULL, pending_one, &pc);
    wm_txn_abort(&t);
    double r = rate_bps > b->rate ? rate_bps : b->rate;
    unsigned long cap = b->node->cfg->blob_rate;
    if (cap && (r <= 0 || r > (double)cap))
        r = (double)cap;
    json_object_set_new(j, "blobs_pending", json_integer((json_int_t)pc.n));
    json_object_set_new(j, "blob_bytes_pending", json_integer((json_int_t)pc.bytes));
    json_object_set_new(j, "blob_eta_s",
                        json_integer(!pc.bytes ? 0 : r > 0 ? (json_int_t)((double)pc.bytes / r + 0.5) : -1));
    json_object_set_new(j, "blobs_missing_local", json_integer((json_int_t)pc.missing));
    json_object_set_new(j, "blob_bytes_sent", json_integer((json_int_t)b->bytes_sent));
    json_object_set_new(j, "blob_rate_cap", json_integer((json_int_t)cap));
    if (err != WM_OK)
        json_object_set_new(j, "blob_error", json_string(wm_strerror(err)));
}
