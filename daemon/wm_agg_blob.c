/* SPDX-License-Identifier: MIT */
/*
 * wm_agg_blob — the aggregator's side of feature "blobs" (PROTOCOL.md §9):
 * a child offers the blobs its records name, the aggregator wants those
 * it lacks from the byte it holds, and takes chunks into NODE/blobs
 * (storage/wm_blob.h), each in order, until the whole blob hashes to its
 * name: only then is it present. A blob is wanted or taken only when a
 * verified record of that child names it with that size (wm_blobref, kept
 * at promotion), so nothing unauthenticated is stored beyond a .part, and
 * the child's blob quota ([quota] blob_mb) bounds what it may make us
 * hold (reject blob_quota; its records go on). The quota counts the
 * child's blobs held here whole or being received from it, each by the
 * size its record says, as a total kept in the index (wm_blobref_hold:
 * WM_BLOBREF_HELD) and read as one key: a blob is counted when its first
 * chunk from the child is taken or when it is found here already, and no
 * longer when its bytes are discarded. Each blob being received keeps its
 * .part open and its hash so far (wm_blob_rx), so completing it reads
 * nothing again. Runs on the poll loop.
 */
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "wm_agg_int.h"
#include "wm_blob.h"
#include "wm_blobref.h"
#include "wm_diag.h"

#define WANT_MAX 64      /* blobs one BLOB_WANT names (as an offer) */
/* Chunks a child may have in flight: with chunks of a quarter of a
 * second of its link (wm_blobup.h), a second's worth on a thin link; on a
 * fast one the chunk stops growing at 256 KiB and more of them keep the
 * pipe full (a child of this build sends up to a second of its link within
 * this; an older one 4). At most 2 MiB of a child's chunks wait here. */
#define CHUNK_CREDIT 8
#define RECOUNT_EVERY_S 5 /* how often a prune's WM_BLOBREF_RECOUNT is looked for */

static void completed(wm_agg_t *a, int wait);
static wm_err_t rx_get(wm_agg_t *a, const uint8_t *hash, uint64_t size, wm_blob_rx_t **out);
static wm_blob_rx_t *rx_take(wm_agg_t *a, const uint8_t *hash);

typedef struct {
    wm_agg_t *a;
    uint64_t bytes, missing, n;
} used_ctx_t;

static int used_one(const wm_blobref_t *ref, void *ctx)
{
    used_ctx_t *uc = ctx;
    uint64_t have = 0, held = 0;
    uc->n++;
    if (wm_blob_has(uc->a->node->blobs, ref->hash, &have) == WM_OK) {
        uc->bytes += have;
        return 0;
    }
    uc->missing++;
    if (wm_blob_part_held(uc->a->node->blobs, ref->hash, ref->size, &held) == WM_OK)
        uc->bytes += held;
    return 0;
}

/* The bytes of p's blobs held here (present, and of .part files), and how
 * many its verified records name that are not present. */
static wm_err_t blob_usage(wm_agg_t *a, wm_agg_peer_t *p, wm_txn_t *t, used_ctx_t *uc)
{
    *uc = (used_ctx_t){.a = a};
    return wm_blobref_each(t, p->node_no, NULL, used_one, uc);
}

/* The pending change of node's count of hash, or NULL. */
static wm_agg_blob_hold_t *hold_pending(wm_agg_t *a, uint32_t node, const uint8_t *hash)
{
    for (size_t i = 0; i < a->nblob_holds; i++)
        if (a->blob_holds[i].node == node &&
            memcmp(a->blob_holds[i].hash, hash, WM_HASH_BYTES) == 0)
            return &a->blob_holds[i];
    return NULL;
}

/* Nonzero if ref counts in node's quota, the changes not yet committed
 * included. */
static int counted(wm_agg_t *a, uint32_t node, const wm_blobref_t *ref)
{
    const wm_agg_blob_hold_t *h = hold_pending(a, node, ref->hash);
    return h ? h->held : (ref->flags & WM_BLOBREF_HELD) != 0;
}

/* Commits the pending changes of the counts (wm_blobref_hold), in one
 * transaction. A failure is logged and forgets them: a blob is counted
 * again when next offered or sent, and a prune's recount redoes all. */
static void holds_commit(wm_agg_t *a)
{
    wm_txn_t *t = NULL;
    wm_err_t err = a->nblob_holds ? wm_txn_begin(a->node->store, 1, &t) : WM_OK;
    for (size_t i = 0; err == WM_OK && i < a->nblob_holds; i++) {
        const wm_agg_blob_hold_t *h = &a->blob_holds[i];
        if ((err = wm_blobref_hold(t, h->node, h->hash, h->held)) == WM_ENOTFOUND)
            err = WM_OK;
    }
    if (err == WM_OK && a->nblob_holds)
        err = wm_txn_commit(&t);
    wm_txn_abort(&t);
    if (err != WM_OK)
        wm_warn("blobs: cannot store what %zu blob(s) count in the children's quota: %s (%s)",
                a->nblob_holds, wm_strerror(err), wm_store_detail(a->node->store));
    a->nblob_holds = 0;
}

/* Counts ref in p's quota (held) or no longer, from now on; stored at the
 * next tick (holds_commit). */
static void hold(wm_agg_t *a, wm_agg_peer_t *p, const wm_blobref_t *ref, int held)
{
    wm_agg_blob_hold_t *h = hold_pending(a, p->node_no, ref->hash);
    if (!h && !(ref->flags & WM_BLOBREF_HELD) == !held)
        return; /* so already */
    if (!h) {
        if (a->nblob_holds == WM_AGG_BLOB_HOLDS)
            holds_commit(a);
        h = &a->blob_holds[a->nblob_holds++];
        h->node = p->node_no;
        memcpy(h->hash, ref->hash, WM_HASH_BYTES);
        h->size = ref->size;
        h->was = (ref->flags & WM_BLOBREF_HELD) != 0;
    }
    h->held = held != 0;
}

/* node's total (wm_blobref_total) with the changes not yet stored. */
static wm_err_t total_now(wm_agg_t *a, wm_txn_t *t, uint32_t node, wm_blobref_total_t *tot)
{
    wm_err_t err = wm_blobref_total(t, node, tot);
    for (size_t i = 0; err == WM_OK && i < a->nblob_holds; i++) {
        const wm_agg_blob_hold_t *h = &a->blob_holds[i];
        if (h->node != node || h->held == h->was)
            continue;
        tot->bytes = h->held ? tot->bytes + h->size : tot->bytes > h->size ? tot->bytes - h->size : 0;
        tot->count = h->held ? tot->count + 1 : tot->count ? tot->count - 1 : 0;
    }
    return err;
}

/* Nonzero (and p rejected blob_quota) if counting p's blob ref (not
 * counted yet) would pass [quota] blob_mb: one key read, the total of p's
 * blobs counted (wm_blobref_total), with the changes not yet stored. */
static int over_quota(wm_agg_t *a, wm_agg_peer_t *p, const wm_frame_t *route, wm_txn_t *t,
                      const wm_blobref_t *ref)
{
    uint64_t limit = (uint64_t)a->node->cfg->quota_blob_mb << 20;
    wm_blobref_total_t tot;
    char hex[WM_BLOB_HEXLEN + 1];
    if (!limit || counted(a, p->node_no, ref))
        return 0;
    if (total_now(a, t, p->node_no, &tot) != WM_OK)
        return 0; /* an unreadable index refuses nothing: the chunks check again */
    if (tot.bytes + ref->size <= limit)
        return 0;
    wm_agg_reject(a, route, p, WM_SYNC_R_BLOB_QUOTA,
                  "blob %s (%" PRIu64 " bytes) would pass the blob quota of %s: %" PRIu64
                  " bytes held, [quota] blob_mb = %u",
                  wm_hex(ref->hash, WM_HASH_BYTES, hex), ref->size, p->ps->node, tot.bytes,
                  a->node->cfg->quota_blob_mb);
    return 1;
}

/* Rebuilds the quota's totals if the store has none yet or a prune asked
 * for it (WM_BLOBREF_RECOUNT, removed first: a prune meanwhile asks again). */
static void recount(wm_agg_t *a)
{
    wm_txn_t *t = NULL;
    int kept = 0, asked;
    uint64_t changed = 0;
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/%s", wm_blob_dir(a->node->blobs), WM_BLOBREF_RECOUNT);
    asked = access(path, F_OK) == 0 && unlink(path) == 0;
    if (asked)
        holds_commit(a); /* the rebuild sets every count from the store */
    wm_err_t err = wm_txn_begin(a->node->store, 1, &t);
    if (err == WM_OK)
        err = wm_blobref_totals_kept(t, &kept);
    if (err == WM_OK && (!kept || asked) &&
        (err = wm_blobref_rebuild(t, a->node->blobs, &changed)) == WM_OK)
        err = wm_txn_commit(&t);
    wm_txn_abort(&t);
    if (err != WM_OK)
        wm_warn("blobs: cannot count the blobs held for each child's quota: %s (%s)",
                wm_strerror(err), wm_store_detail(a->node->store));
    else if (!kept || asked)
        wm_info("blobs: the blob quota's totals %s (%" PRIu64 " entries counted anew)",
                kept ? "counted again after a prune" : "are kept from now on", changed);
}

void wm_agg_blob_open(wm_agg_t *a)
{
    recount(a);
    if (wm_agg_blobsync_start(&a->blobsync) != WM_OK)
        wm_warn("blobs: cannot start the thread that completes blobs; the loop does it");
}

void wm_agg_blob_tick(wm_agg_t *a, int64_t now)
{
    completed(a, 0);
    holds_commit(a);
    if (now < a->blob_recount_due)
        return;
    a->blob_recount_due = now + RECOUNT_EVERY_S;
    recount(a);
}

/* Nonzero if p may send blob messages on route; else it is answered. */
static int blob_session(wm_agg_t *a, wm_agg_peer_t *p, const wm_frame_t *route)
{
    if (!wm_agg_in_session(p, route)) {
        wm_agg_reject(a, route, p, WM_SYNC_R_NO_SESSION, "send Hello first");
        return 0;
    }
    if (!p->blobs) {
        wm_agg_reject(a, route, p, WM_SYNC_R_NOT_NEGOTIATED,
                      "a blob message, but this session did not agree to \"%s\"",
                      WM_FEATURE_BLOBS);
        return 0;
    }
    return 1;
}

/* A .part holding all of a blob's bytes, never named (the daemon stopped
 * between its last byte and the rename, or the completion failed): read
 * once, hashed and completed now; nonzero if the blob is present (and
 * counted for p). The child would otherwise resume from the last byte and
 * have nothing left to send. */
static int whole_part(wm_agg_t *a, wm_agg_peer_t *p, const wm_blobref_t *ref)
{
    wm_blob_rx_t *rx = NULL;
    char why[WM_WHY_MAX];
    wm_err_t err = rx_get(a, ref->hash, ref->size, &rx);
    if (err == WM_OK) {
        rx = rx_take(a, ref->hash);
        err = wm_blob_rx_complete(rx, why, sizeof why);
        wm_blob_rx_close(&rx);
        if (err != WM_OK)
            wm_warn_peer(p->ps->node, "blobs: a whole .part from %s: %s", p->ps->node, why);
    }
    if (err == WM_OK || err == WM_EEXIST)
        hold(a, p, ref, 1);
    return err == WM_OK || err == WM_EEXIST;
}

void wm_agg_blob_offer(wm_agg_t *a, wm_agg_peer_t *p, const wm_frame_t *route,
                       const Wm__BlobOffer *o)
{
    Wm__BlobRef refs[WANT_MAX], *want[WANT_MAX];
    ProtobufCBinaryData have[WANT_MAX];
    size_t nw = 0, nh = 0;
    wm_txn_t *t = NULL;
    completed(a, 1); /* what is wanted depends on what is present */
    if (!blob_session(a, p, route))
        return;
    if (wm_txn_begin(a->node->store, 0, &t) != WM_OK)
        return; /* the child offers again */
    for (size_t i = 0; i < o->n_blobs && i < WANT_MAX; i++) {
        const Wm__BlobRef *r = o->blobs[i];
        wm_blobref_t ref;
        uint64_t held = 0;
        if (!r || r->hash.len != WM_HASH_BYTES ||
            wm_blobref_get(t, p->node_no, r->hash.data, &ref) != WM_OK || ref.size != r->size)
            continue; /* no verified record of p names it (yet): not wanted now */
        if (wm_blob_has(a->node->blobs, r->hash.data, NULL) == WM_OK) {
            have[nh++] = r->hash;
            hold(a, p, &ref, 1); /* here: counts (if it did not yet) */
            continue;
        }
        if (wm_blob_part_held(a->node->blobs, r->hash.data, r->size, &held) != WM_OK)
            continue;
        if (held == r->size && whole_part(a, p, &ref)) {
            have[nh++] = r->hash; /* completed now */
            continue;
        }
        if (held == r->size)
            held = 0; /* its bytes were wrong: discarded */
        if (held == 0 && counted(a, p->node_no, &ref))
            hold(a, p, &ref, 0); /* nothing of it here: counted again from its first chunk */
        else if (over_quota(a, p, route, t, &ref))
            break;
        wm__blob_ref__init(&refs[nw]);
        refs[nw].hash = r->hash;
        refs[nw].size = r->size;
        refs[nw].from = held;
        want[nw] = &refs[nw];
        nw++;
    }
    wm_txn_abort(&t);
    Wm__SyncMsg m = WM__SYNC_MSG__INIT;
    Wm__BlobWant w = WM__BLOB_WANT__INIT;
    w.want = want;
    w.n_want = nw;
    w.have = have;
    w.n_have = nh;
    w.credit = CHUNK_CREDIT;
    m.msg_case = WM__SYNC_MSG__MSG_BLOB_WANT;
    m.blob_want = &w;
    wm_agg_send(a, route, &m);
}

static void send_ack(wm_agg_t *a, const wm_frame_t *route, const Wm__BlobChunk *c, uint64_t held,
                     int present, const char *error)
{
    Wm__SyncMsg m = WM__SYNC_MSG__INIT;
    Wm__BlobAck ack = WM__BLOB_ACK__INIT;
    ack.hash = c->hash;
    ack.held = held;
    ack.present = present;
    ack.credit = 1;
    ack.error = (char *)error;
    m.msg_case = WM__SYNC_MSG__MSG_BLOB_ACK;
    m.blob_ack = &ack;
    wm_agg_send(a, route, &m);
}

/* The receiver of hash in a->blob_rx, or NULL; *at its index. */
static wm_blob_rx_t *rx_find(wm_agg_t *a, const uint8_t *hash, size_t *at)
{
    for (*at = 0; *at < WM_AGG_BLOB_RX && a->blob_rx[*at]; (*at)++)
        if (memcmp(wm_blob_rx_hash(a->blob_rx[*at]), hash, WM_HASH_BYTES) == 0)
            return a->blob_rx[*at];
    return NULL;
}

/* Takes the receiver of hash out of a->blob_rx: the caller's, or NULL. */
static wm_blob_rx_t *rx_take(wm_agg_t *a, const uint8_t *hash)
{
    size_t i;
    wm_blob_rx_t *rx = rx_find(a, hash, &i);
    if (!rx)
        return NULL;
    memmove(&a->blob_rx[i], &a->blob_rx[i + 1], (WM_AGG_BLOB_RX - 1 - i) * sizeof rx);
    a->blob_rx[WM_AGG_BLOB_RX - 1] = NULL;
    return rx;
}

/* Closes the receiver of hash, if any (its .part stays). */
static void rx_drop(wm_agg_t *a, const uint8_t *hash)
{
    wm_blob_rx_t *rx = rx_take(a, hash);
    wm_blob_rx_close(&rx);
}

/* The receiver of the blob (hash, size), opened on what its .part holds
 * if there is none (closing the least recently used one past
 * WM_AGG_BLOB_RX); moved to the front. WM_EEXIST: the blob is present. */
static wm_err_t rx_get(wm_agg_t *a, const uint8_t *hash, uint64_t size, wm_blob_rx_t **out)
{
    size_t i;
    wm_blob_rx_t *rx = rx_find(a, hash, &i);
    wm_err_t err = WM_OK;
    if (rx && wm_blob_rx_size(rx) != size) {
        rx_drop(a, hash); /* another child's record says another size */
        rx = rx_find(a, hash, &i);
    }
    if (!rx) {
        if (i == WM_AGG_BLOB_RX)
            wm_blob_rx_close(&a->blob_rx[--i]);
        if ((err = wm_blob_rx_open(a->node->blobs, hash, size, &rx)) != WM_OK)
            return err;
    }
    memmove(&a->blob_rx[1], &a->blob_rx[0], i * sizeof rx);
    a->blob_rx[0] = rx;
    *out = rx;
    return WM_OK;
}

void wm_agg_blob_close(wm_agg_t *a)
{
    completed(a, 1); /* their ACKs go, if the router still does */
    wm_agg_blobsync_stop(&a->blobsync);
    holds_commit(a);
    for (size_t i = 0; i < WM_AGG_BLOB_RX; i++)
        wm_blob_rx_close(&a->blob_rx[i]);
}

/* A completed blob's outcome (job, its receiver closed here): the child
 * told (ACK present, or why not) and counted, if it is still enrolled. */
static void finish(wm_agg_t *a, wm_agg_blobjob_t *job)
{
    wm_agg_peer_t *p = wm_agg_peer_by_no(a, job->node_no);
    const wm_frame_t route = {job->route, job->route_len};
    Wm__BlobChunk c = WM__BLOB_CHUNK__INIT;
    uint8_t hash[WM_HASH_BYTES];
    memcpy(hash, wm_blob_rx_hash(job->rx), WM_HASH_BYTES);
    c.hash = (ProtobufCBinaryData){WM_HASH_BYTES, hash};
    c.size = wm_blob_rx_size(job->rx);
    wm_blob_rx_close(&job->rx);
    if (!p)
        return;
    if (job->err == WM_OK) {
        p->ps->blob_bytes_received += c.size;
        p->ps->blobs_received++;
        p->dirty = 1;
        send_ack(a, &route, &c, c.size, 1, "");
        return;
    }
    if (job->err == WM_ECORRUPT) {
        wm_warn_peer(p->ps->node, "blobs: from %s: %s", p->ps->node, job->why);
        wm_txn_t *t = NULL;
        wm_blobref_t ref;
        if (wm_txn_begin(a->node->store, 0, &t) == WM_OK &&
            wm_blobref_get(t, p->node_no, hash, &ref) == WM_OK)
            hold(a, p, &ref, 0); /* discarded: counted again from its first chunk */
        wm_txn_abort(&t);
    } else {
        wm_error("blobs: cannot complete a blob of %s: %s", p->ps->node, job->why);
    }
    send_ack(a, &route, &c, 0, 0, job->err == WM_ECORRUPT
                                      ? "mismatch: the bytes do not hash to the blob"
                                      : "storage: the aggregator cannot write it");
}

/* Finishes the blobs the thread has completed; with wait, every one
 * handed to it (wm_agg_blobsync_take). */
static void completed(wm_agg_t *a, int wait)
{
    wm_agg_blobjob_t done[4];
    size_t n;
    if (!a->blobsync)
        return;
    while ((n = wm_agg_blobsync_take(a->blobsync, done, 4, wait)) > 0)
        for (size_t i = 0; i < n; i++)
            finish(a, &done[i]);
}

/* The chunk's blob is whole: its hash, kept as the chunks came (rx),
 * checked against its name, then present (wm_blob_rx_complete) — by the
 * thread (wm_agg_blobsync.c) while the loop goes on, or here. */
static void complete(wm_agg_t *a, wm_agg_peer_t *p, const wm_frame_t *route,
                     const Wm__BlobChunk *c)
{
    wm_agg_blobjob_t job = {.rx = rx_take(a, c->hash.data), .node_no = p->node_no};
    if (!job.rx)
        return; /* cannot be: the chunk was just written through it */
    job.route_len = route->len < WM_AGG_ROUTE_MAX ? route->len : WM_AGG_ROUTE_MAX;
    memcpy(job.route, route->data, job.route_len);
    if (a->blobsync && wm_agg_blobsync_put(a->blobsync, &job))
        return;
    job.err = wm_blob_rx_complete(job.rx, job.why, sizeof job.why);
    finish(a, &job);
}

/* Nonzero if p may send the chunk's bytes: its verified records name the
 * blob with that size, and a chunk that starts the blob keeps p within
 * its quota; else p is answered (ACK present, not_named, or a reject). */
static int chunk_allowed(wm_agg_t *a, wm_agg_peer_t *p, const wm_frame_t *route,
                         const Wm__BlobChunk *c)
{
    wm_txn_t *t = NULL;
    wm_blobref_t ref;
    int ok = 0, present = 0;
    wm_err_t err = wm_txn_begin(a->node->store, 0, &t);
    if (err == WM_OK)
        err = wm_blobref_get(t, p->node_no, c->hash.data, &ref);
    if (err != WM_OK || ref.size != c->size) {
        wm_txn_abort(&t);
        send_ack(a, route, c, 0, 0, "not_named: no verified record of this node names it with that size");
        return 0;
    }
    present = wm_blob_has(a->node->blobs, c->hash.data, NULL) == WM_OK;
    ok = present || !over_quota(a, p, route, t, &ref); /* else rejected blob_quota */
    wm_txn_abort(&t);
    if (ok)
        hold(a, p, &ref, 1); /* counted from its first chunk on */
    if (ok && present)
        send_ack(a, route, c, c->size, 1, "");
    return ok && !present;
}

void wm_agg_blob_chunk(wm_agg_t *a, wm_agg_peer_t *p, const wm_frame_t *route,
                       const Wm__BlobChunk *c)
{
    wm_blob_rx_t *rx = NULL;
    uint64_t held = 0;
    completed(a, 0);
    if (!blob_session(a, p, route))
        return;
    if (c->hash.len != WM_HASH_BYTES) {
        wm_agg_reject(a, route, p, WM_SYNC_R_MALFORMED, "a BLOB_CHUNK's hash is not 32 bytes");
        return;
    }
    if (!chunk_allowed(a, p, route, c))
        return;
    wm_err_t err = rx_get(a, c->hash.data, c->size, &rx);
    if (err == WM_EEXIST) {
        send_ack(a, route, c, c->size, 1, "");
        return;
    }
    if (err == WM_OK && c->offset != (held = wm_blob_rx_held(rx))) {
        send_ack(a, route, c, held, 0, "offset: send from the bytes held");
        return;
    }
    if (err == WM_OK)
        err = wm_blob_rx_write(rx, c->offset, c->data.data, c->data.len);
    if (err == WM_ESTATE) {
        /* The .part changed under the receiver: a new one reads it again. */
        rx_drop(a, c->hash.data);
        err = wm_blob_part_held(a->node->blobs, c->hash.data, c->size, &held);
        send_ack(a, route, c, held, 0, "offset: send from the bytes held");
        return;
    }
    if (err != WM_OK) {
        rx_drop(a, c->hash.data);
        send_ack(a, route, c, held, 0, err == WM_ETOOBIG ? "too_big: past the blob's size"
                                                          : "storage: the aggregator cannot write it");
        if (err != WM_ETOOBIG)
            wm_error("blobs: cannot write a chunk of %s: %s", p->ps->node, wm_strerror(err));
        return;
    }
    if (wm_blob_rx_held(rx) != c->size) {
        send_ack(a, route, c, wm_blob_rx_held(rx), 0, "");
        return;
    }
    complete(a, p, route, c);
    /* Nothing else to do meanwhile: wait for it (and the ACK goes now). */
    if (a->blobsync && !wm_agg_router_waiting(a))
        completed(a, 1);
}

json_t *wm_agg_blobs_status(wm_agg_t *a)
{
    json_t *o = json_object();
    wm_txn_t *t = NULL;
    if (!o || wm_txn_begin(a->node->store, 0, &t) != WM_OK)
        return o;
    for (size_t i = 0; i < a->npeers; i++) {
        wm_agg_peer_t *p = &a->peers[i];
        used_ctx_t uc;
        wm_blobref_total_t tot;
        if (!p->node_no || blob_usage(a, p, t, &uc) != WM_OK ||
            total_now(a, t, p->node_no, &tot) != WM_OK)
            continue;
        json_object_set_new(o, p->ps->node,
                            json_pack("{s:I, s:I, s:I, s:I, s:I, s:I}", "blobs_named",
                                      (json_int_t)uc.n, "blobs_missing", (json_int_t)uc.missing,
                                      "blob_bytes_held", (json_int_t)uc.bytes,
                                      "blob_bytes_received", (json_int_t)p->ps->blob_bytes_received,
                                      "blobs_received", (json_int_t)p->ps->blobs_received,
                                      "blob_bytes_counted", (json_int_t)tot.bytes));
    }
    wm_txn_abort(&t);
    return o;
}
