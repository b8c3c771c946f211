/* SPDX-License-Identifier: MIT */
/*
 * wm_agg_blobsync — a thread completes received blobs while the loop goes
 * on with the next chunks (docs/design.md §7).
 *
 * Completing a blob (wm_blob_rx_complete: its hash checked against its
 * name, fdatasync, rename, fsync of the directory) is mostly waiting for
 * the disk: ~20 % of the town's loop over a transfer of photos when the
 * loop did it. The loop hands the receiver over (wm_agg_blob.c complete)
 * and goes on with the chunks already waiting; the blob's ACK (present, or
 * why not) is sent by the loop when it takes the finished job back, and
 * only then: the ACK still follows the rename and the directory's fsync.
 * The thread touches no LMDB and no socket, only the receiver it was
 * given (one blob's .part, through the store's directory fd). If it
 * cannot be started, or its queue is full, the loop completes the blob
 * itself as before.
 */
#include "wm_agg_int.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define JOBS 16 /* blobs waiting for the thread or for the loop */

struct wm_agg_blobsync {
    pthread_t thread;
    pthread_mutex_t mu; /* guards everything below */
    pthread_cond_t cv;  /* a job queued, done, or stop */
    int stop;
    wm_agg_blobjob_t jobs[JOBS];
    size_t head, n;     /* jobs[head .. head+n) in order, mod JOBS */
    size_t done;        /* the first `done` of them are completed */
};

static void *worker(void *arg)
{
    wm_agg_blobsync_t *s = arg;
    pthread_mutex_lock(&s->mu);
    for (;;) {
        while (!s->stop && s->done >= s->n)
            pthread_cond_wait(&s->cv, &s->mu);
        if (s->done >= s->n)
            break; /* stopped with nothing left to complete */
        wm_agg_blobjob_t *j = &s->jobs[(s->head + s->done) % JOBS];
        pthread_mutex_unlock(&s->mu);
        /* Outside the lock: the loop queues and takes meanwhile; this slot
         * is not touched by it until `done` passes it. */
        j->err = wm_blob_rx_complete(j->rx, j->why, sizeof j->why);
        pthread_mutex_lock(&s->mu);
        s->done++;
        pthread_cond_broadcast(&s->cv);
    }
    pthread_mutex_unlock(&s->mu);
    return NULL;
}

wm_err_t wm_agg_blobsync_start(wm_agg_blobsync_t **out)
{
    wm_agg_blobsync_t *s = calloc(1, sizeof *s);
    *out = NULL;
    if (!s)
        return WM_ENOMEM;
    if (pthread_mutex_init(&s->mu, NULL) != 0) {
        free(s);
        return WM_EIO;
    }
    if (pthread_cond_init(&s->cv, NULL) != 0) {
        pthread_mutex_destroy(&s->mu);
        free(s);
        return WM_EIO;
    }
    if (pthread_create(&s->thread, NULL, worker, s) != 0) {
        pthread_cond_destroy(&s->cv);
        pthread_mutex_destroy(&s->mu);
        free(s);
        return WM_EIO;
    }
    *out = s;
    return WM_OK;
}

void wm_agg_blobsync_stop(wm_agg_blobsync_t **sp)
{
    wm_agg_blobsync_t *s = sp ? *sp : NULL;
    if (!s)
        return;
    pthread_mutex_lock(&s->mu);
    s->stop = 1; /* the jobs queued are completed first */
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
    pthread_join(s->thread, NULL);
    for (size_t i = 0; i < s->n; i++) /* done, never taken: the loop is gone */
        wm_blob_rx_close(&s->jobs[(s->head + i) % JOBS].rx);
    pthread_cond_destroy(&s->cv);
    pthread_mutex_destroy(&s->mu);
    free(s);
    *sp = NULL;
}

int wm_agg_blobsync_put(wm_agg_blobsync_t *s, const wm_agg_blobjob_t *job)
{
    int queued = 0;
    pthread_mutex_lock(&s->mu);
    if (!s->stop && s->n < JOBS) {
        s->jobs[(s->head + s->n) % JOBS] = *job;
        s->n++;
        queued = 1;
        pthread_cond_broadcast(&s->cv);
    }
    pthread_mutex_unlock(&s->mu);
    return queued;
}

size_t wm_agg_blobsync_take(wm_agg_blobsync_t *s, wm_agg_blobjob_t *out, size_t cap, int wait)
{
    size_t got = 0;
    pthread_mutex_lock(&s->mu);
    while (wait && s->done < s->n)
        pthread_cond_wait(&s->cv, &s->mu);
    while (got < cap && s->done > 0) {
        out[got++] = s->jobs[s->head];
        s->head = (s->head + 1) % JOBS;
        s->n--;
        s->done--;
    }
    pthread_mutex_unlock(&s->mu);
    return got;
}

size_t wm_agg_blobsync_pending(wm_agg_blobsync_t *s)
{
    pthread_mutex_lock(&s->mu);
    size_t n = s->n;
    pthread_mutex_unlock(&s->mu);
    return n;
}
