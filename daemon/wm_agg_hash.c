/* SPDX-License-Identifier: MIT */
/*
 * wm_agg_hash — a second thread takes the hashes of a turn's plain batches
 * while the loop ingests them (docs/design.md §7).
 *
 * Ingest chains every record to the one before by its BLAKE2b-256 hash,
 * and that check stays on the ack path (PROTOCOL.md §3); on this two-core
 * machine it is 40 % of the loop's work per record. The loop hands the
 * turn's batches over before it ingests the first; the thread hashes them
 * in order, each batch's hashes into its own array, and the loop waits
 * for a batch's hashes only when it comes to that batch. The hashes are
 * this process's own, of exactly the bytes that are then staged
 * (wm_ingest_hashed): nothing a peer sent is trusted more than before. A
 * compressed batch needs none (wm_wire_unpack hashed it). If the thread
 * cannot be started, or an array not allocated, ingest hashes as before.
 */
#include "wm_agg_int.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

struct wm_agg_hasher {
    pthread_t thread;
    pthread_mutex_t mu; /* guards everything below */
    pthread_cond_t cv;
    int stop;
    wm_agg_pending_t *pend; /* the turn's batches, while it lasts */
    size_t n;
    size_t done;            /* pend[0..done) are hashed (or skipped) */
};

/* Hashes one batch into a fresh array; NULL when it needs none or no
 * memory is left (then ingest hashes it itself). */
static uint8_t *hash_batch(const wm_agg_pending_t *pb)
{
    const Wm__Batch *b = pb->batch;
    if (!b || !b->n_records || pb->unz.n)
        return NULL;
    uint8_t *h = malloc(b->n_records * WM_HASH_BYTES);
    for (size_t i = 0; h && i < b->n_records; i++)
        wm_srec_hash_buf(b->records[i].data, b->records[i].len, h + i * WM_HASH_BYTES);
    return h;
}

static void *worker(void *arg)
{
    wm_agg_hasher_t *h = arg;
    pthread_mutex_lock(&h->mu);
    for (;;) {
        while (!h->stop && h->done >= h->n)
            pthread_cond_wait(&h->cv, &h->mu);
        if (h->stop)
            break;
        wm_agg_pending_t *pb = &h->pend[h->done];
        pthread_mutex_unlock(&h->mu);
        uint8_t *hashes = hash_batch(pb); /* outside the lock: the loop runs on */
        pthread_mutex_lock(&h->mu);
        pb->hashes = hashes;
        h->done++;
        pthread_cond_broadcast(&h->cv);
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

void wm_agg_hasher_submit(wm_agg_hasher_t *h, wm_agg_pending_t *pend, size_t n)
{
    if (!h)
        return;
    pthread_mutex_lock(&h->mu);
    h->pend = pend;
    h->n = n;
    h->done = 0;
    pthread_cond_broadcast(&h->cv);
    pthread_mutex_unlock(&h->mu);
}

void wm_agg_hasher_wait(wm_agg_hasher_t *h, const wm_agg_pending_t *pb)
{
    if (!h)
        return;
    pthread_mutex_lock(&h->mu);
    /* Only an entry of the submitted turn waits (wm_agg_import's is not). */
    uintptr_t at = (uintptr_t)pb, from = (uintptr_t)h->pend;
    uintptr_t to = from + h->n * sizeof *h->pend;
    size_t i = h->pend && at >= from && at < to ? (size_t)((at - from) / sizeof *h->pend) : 0;
    while (h->pend && at >= from && at < to && h->done <= i)
        pthread_cond_wait(&h->cv, &h->mu);
    pthread_mutex_unlock(&h->mu);
}

void wm_agg_hasher_drain(wm_agg_hasher_t *h)
{
    if (!h)
        return;
    pthread_mutex_lock(&h->mu);
    while (h->done < h->n)
        pthread_cond_wait(&h->cv, &h->mu);
    h->pend = NULL; /* the turn's memory goes after this */
    h->n = h->done = 0;
    pthread_mutex_unlock(&h->mu);
}
