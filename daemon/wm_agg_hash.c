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
static void hash_chunks(wm_agg_pending_t *pb)
{
    const Wm__Batch *b = pb->batch;
    for (;;) {
        unsigned c = atomic_fetch_add_explicit(&pb->chunk_next, 1, memory_order_relaxed);
        if (c >= pb->nchunks)
            return;
        size_t from = (size_t)c * HASH_CHUNK;
        size_t to = from + HASH_CHUNK < b->n_records ? from + HASH_CHUNK : b->n_records;
        for (size_t i = from; i < to; i++)
            wm_srec_hash_buf(b->records[i].data, b->records[i].len,
                             pb->hashes + i * WM_HASH_BYTES);
        /* Release: whoever sees all chunks done sees their hashes. */
        atomic_fetch_add_explicit(&pb->chunk_done, 1, memory_order_release);
    }
}

/* Prepares pb whole, on the caller (wm_agg_hasher_ready says what that
 * is), but for its flag: a ZBatch unpacked, a Batch not handed over
 * hashed. Touches only its prepared fields; reads its msg, which nobody
 * changes while it runs. */
static void prepare(wm_agg_pending_t *pb)
{
    if (zipped(pb)) {
        char why[WM_WHY_MAX];
        pb->unz_reason = wm_wire_unpack(pb->msg->zbatch, WM_SYNC_MAX_RECORDS, &pb->unz, why,
                                        sizeof why);
        if (pb->unz_reason != WM_SYNC_R_OK)
            pb->unz_why = strdup(why); /* NULL: the answer names the reason alone */
    } else if (!pb->hashes) {
        pb->hashes = hash_batch(pb->batch);
    }
}

/* The thread's share of pb (h->mu held on entry and return). */
static void work_on(wm_agg_hasher_t *h, wm_agg_pending_t *pb)
{
    int chunked = pb->nchunks > 0;
    if (!chunked)
        pb->claimed = 1;
    h->busy = 1;
    pthread_mutex_unlock(&h->mu);
    if (chunked)
        hash_chunks(pb); /* outside the lock: the loop takes the next message */
    else
        prepare(pb);
    pthread_mutex_lock(&h->mu);
    if (!chunked)
        pb->prepared = 1;
    h->busy = 0;
    /* Whoever waits: for this entry (ready), or for the thread (drain). */
    pthread_cond_broadcast(&h->cv);
}

static void *worker(void *arg)
{
    wm_agg_hasher_t *h = arg;
    pthread_mutex_lock(&h->mu);
    while (!h->stop) {
        /* A ZBatch the loop took itself, or a Batch with nothing to hash. */
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
        if (!zipped(pb) && nrec && (pb->hashes = malloc(nrec * WM_HASH_BYTES)))
            pb->nchunks = (unsigned)((nrec + HASH_CHUNK - 1) / HASH_CHUNK);
    }
    h->n = n;
    pthread_cond_broadcast(&h->cv);
    pthread_mutex_unlock(&h->mu);
}

void wm_agg_hasher_ready(wm_agg_hasher_t *h, wm_agg_pending_t *pb)
{
    if (pb->nchunks) { /* a Batch handed over: its chunks left, then the thread's */
        if (!pb->prepared) {
            hash_chunks(pb);
            pthread_mutex_lock(&h->mu);
            while (atomic_load_explicit(&pb->chunk_done, memory_order_acquire) < pb->nchunks)
                pthread_cond_wait(&h->cv, &h->mu);
            pthread_mutex_unlock(&h->mu);
            pb->prepared = 1;
        }
        return;
    }
    if (h) {
        pthread_mutex_lock(&h->mu);
        /* A ZBatch of this turn the thread has claimed: wait for it. One
         * it has not come to yet (it got no CPU: the machine is busy) the
         * loop unpacks itself, rather than wait. Any other entry is the
         * caller's. */
        uintptr_t at = (uintptr_t)pb, from = (uintptr_t)h->pend;
        int mine = h->pend && at >= from && at < from + h->n * sizeof *h->pend;
        while (mine && pb->claimed && !pb->prepared)
            pthread_cond_wait(&h->cv, &h->mu);
        pb->claimed = 1; /* the loop's, if the thread had not come to it */
        int done = pb->prepared;
        pthread_mutex_unlock(&h->mu);
        if (done)
            return;
    }
    if (!pb->prepared) {
        prepare(pb);
        pb->prepared = 1;
    }
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
