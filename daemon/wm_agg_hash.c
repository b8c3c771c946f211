/* SPDX-License-Identifier: MIT */
/*
 * wm_agg_hash — a second thread prepares a turn's batches while the loop
 * takes and ingests them (docs/design.md §7).
 *
 * Ingest chains every record to the one before by its BLAKE2b-256 hash,
 * and that check stays on the ack path (PROTOCOL.md §3); on a two-core
 * machine it was 40 % of the loop's work per record, and a ZBatch's
 * decompression and restore (which hashes too) as much again. The loop
 * hands each batch over as soon as it has taken it (wm_agg_hasher_add),
 * before it decodes the next message; the thread prepares them in order —
 * a Batch's hashes into their own array, a ZBatch unpacked with
 * wm_wire_unpack (decompressed, its elided prev restored, each record
 * hashed once) — and the loop waits for a batch only when it comes to
 * ingest it. The hashes are this process's own, of exactly the bytes then
 * staged (wm_ingest_hashed), and a ZBatch is judged by wm_wire_unpack as
 * before, only later in the turn (its refusal is the batch's answer):
 * nothing a peer sent is trusted more than before. If the thread cannot be
 * started, each batch is prepared on the loop as it comes to it.
 */
#include "wm_agg_int.h"

#include <assert.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

/* Records a Batch's hashes are taken by at a time: the loop, coming to a
 * batch whose chunks are not all claimed, hashes the rest itself, and
 * waits at most for the chunk the thread is on (~50 us of hashing). */
#define HASH_CHUNK 128

struct wm_agg_hasher {
    pthread_t thread;
    pthread_mutex_t mu; /* guards everything below */
    pthread_cond_t cv;
    int stop;
    wm_agg_pending_t *pend; /* the turn's batches, while it lasts */
    size_t n;               /* pend[0..n) are handed over */
    size_t next;            /* where the thread looks for an entry to prepare */
    int busy;               /* the thread prepares an entry */
    wm_arena_t arena;       /* the thread's, for wm_ingest_precheck */
    wm_arena_t loop_arena;  /* the loop's (wm_agg_hasher_ready) */
};

static int zipped(const wm_agg_pending_t *pb)
{
    return pb->msg && pb->msg->msg_case == WM__SYNC_MSG__MSG_ZBATCH;
}

/* Hashes a Batch's records into a fresh array; NULL when it has none or
 * no memory is left (then ingest hashes them itself). */
static uint8_t *hash_batch(const Wm__Batch *b)
{
    if (!b || !b->n_records)
        return NULL;
    uint8_t *h = malloc(b->n_records * WM_HASH_BYTES);
    for (size_t i = 0; h && i < b->n_records; i++)
        wm_srec_hash_buf(b->records[i].data, b->records[i].len, h + i * WM_HASH_BYTES);
    return h;
}

/* Hashes chunks of a handed-over Batch until none is left to claim. */
/* Checks records [from, to) of pb (recs) as ingest will
 * (wm_ingest_precheck), into pb->pre, until the first that does not pass:
 * ingest checks that one again itself, and refuses it. */
static void precheck(const wm_agg_pending_t *pb, const ProtobufCBinaryData *recs, size_t from,
                     size_t to, wm_arena_t *arena)
{
    wm_sender_t s = {.id = pb->peer->ps->node, .peer = pb->peer->ps};
    wm_ingest_t res; /* a refusal's words: ingest makes them again */
    for (size_t i = from; pb->pre && i < to; i++)
        if (wm_ingest_precheck(&s, recs[i].data, recs[i].len, i, arena, &pb->pre[i], &res) !=
            WM_OK)
            break;
}

/* Takes chunks of a handed-over batch until none is left to claim: a
 * Batch's records hashed, and either's prechecked. */
static void chunk_work(wm_agg_pending_t *pb, wm_arena_t *arena)
{
    int z = zipped(pb);
    const ProtobufCBinaryData *recs = z ? pb->unz.recs : pb->batch->records;
    size_t n = z ? pb->unz.n : pb->batch->n_records;
    for (;;) {
        unsigned c = atomic_fetch_add_explicit(&pb->chunk_next, 1, memory_order_relaxed);
        if (c >= pb->nchunks)
            return;
        size_t from = (size_t)c * HASH_CHUNK;
        size_t to = from + HASH_CHUNK < n ? from + HASH_CHUNK : n;
        for (size_t i = from; !z && i < to; i++) /* a ZBatch's were taken as it was restored */
            wm_srec_hash_buf(recs[i].data, recs[i].len, pb->hashes + i * WM_HASH_BYTES);
        precheck(pb, recs, from, to, arena);
        /* Release: whoever sees all chunks done sees what they wrote. */
        atomic_fetch_add_explicit(&pb->chunk_done, 1, memory_order_release);
    }
}

static unsigned chunks_of(size_t n)
{
    return (unsigned)((n + HASH_CHUNK - 1) / HASH_CHUNK);
}

/* Prepares pb on the caller, but for its chunks and its flag: a ZBatch
 * unpacked (with room for its records' precheck when arena is given: the
 * chunks' work then), a Batch that was not handed over hashed. Touches
 * only its prepared fields; reads its msg, which nobody changes while it
 * runs. */
static void prepare(wm_agg_pending_t *pb, const wm_arena_t *arena)
{
    if (zipped(pb)) {
        char why[WM_WHY_MAX];
        pb->unz_reason = wm_wire_unpack(pb->msg->zbatch, WM_SYNC_MAX_RECORDS, &pb->unz, why,
                                        sizeof why);
        if (pb->unz_reason != WM_SYNC_R_OK)
            pb->unz_why = strdup(why); /* NULL: the answer names the reason alone */
        else if (arena && pb->unz.n)
            pb->pre = calloc(pb->unz.n, sizeof *pb->pre); /* NULL: ingest checks them all */
    } else if (!pb->hashes) {
        pb->hashes = hash_batch(pb->batch);
    }
}

/* The thread's share of pb (h->mu held on entry and return): a ZBatch it
 * unpacks (the loop may then take chunks of its precheck), and chunks. */
static void work_on(wm_agg_hasher_t *h, wm_agg_pending_t *pb)
{
    int z = zipped(pb);
    h->busy = 1;
    if (z) {
        pb->claimed = 1;
        pthread_mutex_unlock(&h->mu);
        prepare(pb, &h->arena); /* outside the lock: the loop takes the next message */
        pthread_mutex_lock(&h->mu);
        pb->nchunks = pb->pre ? chunks_of(pb->unz.n) : 0;
        pb->unpacked = 1;
        pthread_cond_broadcast(&h->cv);
    }
    pthread_mutex_unlock(&h->mu);
    chunk_work(pb, &h->arena);
    pthread_mutex_lock(&h->mu);
    h->busy = 0;
    /* Whoever waits: for this entry (ready), or for the thread (drain). */
    pthread_cond_broadcast(&h->cv);
}

static void *worker(void *arg)
{
    wm_agg_hasher_t *h = arg;
    pthread_mutex_lock(&h->mu);
    while (!h->stop) {
        /* A ZBatch the loop unpacks itself, or a Batch with nothing to hash. */
        while (h->next < h->n && (h->pend[h->next].claimed ||
                                  (!zipped(&h->pend[h->next]) && !h->pend[h->next].nchunks)))
            h->next++;
        if (h->next >= h->n)
            pthread_cond_wait(&h->cv, &h->mu);
        else
            work_on(h, &h->pend[h->next++]);
    }
    pthread_mutex_unlock(&h->mu);
    return NULL;
}

wm_err_t wm_agg_hasher_start(wm_agg_hasher_t **out)
{
    wm_agg_hasher_t *h = calloc(1, sizeof *h);
    *out = NULL;
    if (!h)
        return WM_ENOMEM;
    pthread_mutex_init(&h->mu, NULL);
    pthread_cond_init(&h->cv, NULL);
    if (pthread_create(&h->thread, NULL, worker, h) != 0) {
        pthread_cond_destroy(&h->cv);
        pthread_mutex_destroy(&h->mu);
        free(h);
        return WM_EIO;
    }
    *out = h;
    return WM_OK;
}

void wm_agg_hasher_stop(wm_agg_hasher_t **hp)
{
    wm_agg_hasher_t *h = hp ? *hp : NULL;
    if (!h)
        return;
    pthread_mutex_lock(&h->mu);
    h->stop = 1;
    pthread_cond_broadcast(&h->cv);
    pthread_mutex_unlock(&h->mu);
    pthread_join(h->thread, NULL);
    pthread_cond_destroy(&h->cv);
    pthread_mutex_destroy(&h->mu);
    wm_arena_free(&h->arena);
    wm_arena_free(&h->loop_arena);
    free(h);
    *hp = NULL;
}

void wm_agg_hasher_begin(wm_agg_hasher_t *h, wm_agg_pending_t *pend)
{
    if (!h)
        return;
    pthread_mutex_lock(&h->mu);
    assert(!h->busy && !h->pend); /* the turn before was drained */
    h->pend = pend;
    h->n = h->next = 0;
    pthread_mutex_unlock(&h->mu);
}

void wm_agg_hasher_add(wm_agg_hasher_t *h, size_t n)
{
    if (!h)
        return;
    pthread_mutex_lock(&h->mu);
    assert(h->pend && n >= h->n);
    for (size_t i = h->n; i < n; i++) {
        wm_agg_pending_t *pb = &h->pend[i];
        size_t nrec = pb->batch ? pb->batch->n_records : 0;
        atomic_init(&pb->chunk_next, 0);
        atomic_init(&pb->chunk_done, 0);
        if (!zipped(pb) && nrec && (pb->hashes = malloc(nrec * WM_HASH_BYTES))) {
            pb->nchunks = chunks_of(nrec);
            pb->pre = calloc(nrec, sizeof *pb->pre); /* NULL: ingest checks them all */
        }
    }
    h->n = n;
    pthread_cond_broadcast(&h->cv);
    pthread_mutex_unlock(&h->mu);
}

/* Nonzero if pb was handed over in h's turn (else it is the caller's). */
static int handed_over(const wm_agg_hasher_t *h, const wm_agg_pending_t *pb)
{
    uintptr_t at = (uintptr_t)pb, from = (uintptr_t)h->pend;
    return h->pend && at >= from && at < from + h->n * sizeof *h->pend;
}

/* The loop, waiting for the thread to unpack pb: it unpacks the next
 * ZBatch after pb that nobody has claimed yet (h->mu held on entry and
 * return; released while it works). Zero if there was none. */
static int unpack_ahead(wm_agg_hasher_t *h, const wm_agg_pending_t *pb)
{
    wm_agg_pending_t *q = NULL;
    for (size_t i = (size_t)(pb - h->pend) + 1; !q && i < h->n; i++)
        if (zipped(&h->pend[i]) && !h->pend[i].claimed)
            q = &h->pend[i];
    if (!q)
        return 0;
    q->claimed = 1; /* the loop's: the thread passes it by */
    pthread_mutex_unlock(&h->mu);
    prepare(q, &h->loop_arena);
    q->nchunks = q->pre ? chunks_of(q->unz.n) : 0;
    pthread_mutex_lock(&h->mu);
    q->unpacked = 1;
    return 1;
}

void wm_agg_hasher_ready(wm_agg_hasher_t *h, wm_agg_pending_t *pb)
{
    if (pb->prepared) /* the loop's own flag: a turn ingested again */
        return;
    int mine = 0;
    if (h) {
        pthread_mutex_lock(&h->mu);
        mine = handed_over(h, pb);
        /* A ZBatch the thread is unpacking: wait for it, unpacking the
         * next ones nobody has claimed meanwhile. One the thread has not
         * come to yet (it got no CPU: the machine is busy) the loop
         * unpacks itself. */
        int z = mine && zipped(pb), unpack = z && !pb->claimed;
        while (z && pb->claimed && !pb->unpacked)
            if (!unpack_ahead(h, pb)) /* rather than wait, the next one */
                pthread_cond_wait(&h->cv, &h->mu);
        if (unpack)
            pb->claimed = 1; /* the loop's: the thread passes it by */
        pthread_mutex_unlock(&h->mu);
        if (unpack && !pb->unpacked) { /* else unpacked ahead, by the loop */
            prepare(pb, &h->loop_arena);
            pb->nchunks = pb->pre ? chunks_of(pb->unz.n) : 0;
        }
    }
    if (mine) { /* the chunks left, then those the thread is on */
        chunk_work(pb, &h->loop_arena);
        pthread_mutex_lock(&h->mu);
        while (atomic_load_explicit(&pb->chunk_done, memory_order_acquire) < pb->nchunks)
            pthread_cond_wait(&h->cv, &h->mu);
        pthread_mutex_unlock(&h->mu);
    }
    if (!mine || (!zipped(pb) && !pb->hashes)) /* or no memory for the thread's hashes */
        prepare(pb, NULL);
    pb->prepared = 1;
}

void wm_agg_hasher_drain(wm_agg_hasher_t *h)
{
    if (!h)
        return;
    pthread_mutex_lock(&h->mu);
    while (h->busy)
        pthread_cond_wait(&h->cv, &h->mu);
    h->pend = NULL; /* the turn's memory goes after this; what was not */
    h->n = h->next = 0; /* claimed stays unprepared (never ingested) */
    pthread_mutex_unlock(&h->mu);
}
