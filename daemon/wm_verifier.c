/* SPDX-License-Identifier: MIT */
/* wm_verifier — the verifier thread; see wm_verifier.h. */
#include "wm_verifier.h"

#include <errno.h>
#include <pthread.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "wm_diag.h"
#include "wm_stage.h"

#define IDLE_WAIT_S 1 /* a look without a kick: staged records left by a restart */
#define WORKER_NICE 10 /* below the poll loop: ingest keeps its speed, the
                          verifier takes the CPU time ingest leaves */

/* How far the worker has verified a node. */
typedef struct {
    uint32_t node;
    uint32_t epoch;
    uint64_t seq;
    int bad_reported;    /* the bad record at (bad_epoch, bad_seq) was reported */
    uint32_t bad_epoch;
    uint64_t bad_seq;
} cursor_t;

struct wm_verifier {
    wm_store_t *store;
    wm_sock_t *rx, *tx; /* wake-up line: tx belongs to the worker */
    pthread_t thread;
    int started;
    pthread_mutex_t mu;  /* guards everything below */
    pthread_cond_t cv;
    int stop, kicked;
    wm_verdict_t *out;   /* verdicts not yet taken */
    size_t nout, capout;
    uint64_t total;
    /* The worker's own (no lock needed). */
    cursor_t *cur;
    size_t ncur, capcur;
};

static cursor_t *cursor_for(wm_verifier_t *v, uint32_t node)
{
    for (size_t i = 0; i < v->ncur; i++)
        if (v->cur[i].node == node)
            return &v->cur[i];
    if (v->ncur == v->capcur) {
        size_t cap = v->capcur ? 2 * v->capcur : 64;
        cursor_t *nc = realloc(v->cur, cap * sizeof *nc);
        if (!nc)
            return NULL;
        v->cur = nc;
        v->capcur = cap;
    }
    cursor_t *c = &v->cur[v->ncur++];
    memset(c, 0, sizeof *c);
    c->node = node;
    return c;
}

static void post(wm_verifier_t *v, const wm_verdict_t *d)
{
    pthread_mutex_lock(&v->mu);
    if (v->nout == v->capout) {
        size_t cap = v->capout ? 2 * v->capout : 64;
        wm_verdict_t *no = realloc(v->out, cap * sizeof *no);
        if (no) {
            v->out = no;
            v->capout = cap;
        }
    }
    int ok = v->nout < v->capout;
    if (ok)
        v->out[v->nout++] = *d;
    v->total += d->checked;
    pthread_mutex_unlock(&v->mu);
    if (ok)
        wm_wake_send(v->tx);
    /* else: out of memory; the records stay staged and the next restart
     * verifies them again. */
}

/* One chunk of one node. Returns nonzero if it found anything new. */
static int verify_node(wm_verifier_t *v, uint32_t node)
{
    cursor_t *c = cursor_for(v, node);
    wm_txn_t *t = NULL;
    wm_stage_check_t chk;
    if (!c)
        return 0;
    wm_err_t err = wm_txn_begin(v->store, 0, &t);
    if (err == WM_OK)
        err = wm_stage_verify(t, node, c->epoch, c->seq, WM_VERIFY_CHUNK, &chk);
    wm_txn_abort(&t);
    if (err != WM_OK) {
        wm_error("verifier: cannot read the inbox of node %u: %s", node, wm_strerror(err));
        return 0;
    }
    int again = chk.bad && c->bad_reported && chk.bad_epoch == c->bad_epoch &&
                chk.bad_seq == c->bad_seq;
    if (chk.checked == 0 && (!chk.bad || again))
        return 0;
    wm_verdict_t d = {.node = node,
                      .epoch = chk.epoch,
                      .seq = chk.seq,
                      .checked = chk.checked,
                      .bad = chk.bad,
                      .bad_epoch = chk.bad_epoch,
                      .bad_seq = chk.bad_seq};
    memcpy(d.why, chk.why, sizeof d.why);
    c->epoch = chk.epoch;
    c->seq = chk.seq;
    if (chk.bad) {
        c->bad_reported = 1;
        c->bad_epoch = chk.bad_epoch;
        c->bad_seq = chk.bad_seq;
    }
    post(v, &d);
    return 1;
}

/* Every node with staged records, one chunk each. */
static int pass(wm_verifier_t *v)
{
    int worked = 0;
    uint32_t node = 0;
    for (uint32_t from = 1; from != 0; from = node + 1) {
        wm_txn_t *t = NULL;
        wm_err_t err = wm_txn_begin(v->store, 0, &t);
        if (err == WM_OK)
            err = wm_stage_next_node(t, from, &node);
        wm_txn_abort(&t);
        if (err != WM_OK)
            break;
        worked |= verify_node(v, node);
    }
    return worked;
}

static void *run(void *arg)
{
    wm_verifier_t *v = arg;
    /* Linux: a thread's nice value is its own (best effort). */
    if (setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), WORKER_NICE) != 0)
        wm_debug("verifier: cannot lower its priority: %s", strerror(errno));
    pthread_mutex_lock(&v->mu);
    while (!v->stop) {
        if (!v->kicked) {
            struct timespec ts;
            clock_gettime(CLOCK_MONOTONIC, &ts); /* the cond's clock (start) */
            ts.tv_sec += IDLE_WAIT_S;
            pthread_cond_timedwait(&v->cv, &v->mu, &ts);
            if (v->stop)
                break;
        }
        v->kicked = 0;
        pthread_mutex_unlock(&v->mu);
        int worked = pass(v);
        pthread_mutex_lock(&v->mu);
        if (worked)
            v->kicked = 1; /* more may wait: look again at once */
    }
    pthread_mutex_unlock(&v->mu);
    return NULL;
}

wm_err_t wm_verifier_start(wm_store_t *store, wm_net_t *net, wm_verifier_t **out)
{
    wm_verifier_t *v = calloc(1, sizeof *v);
    if (!v)
        return WM_ENOMEM;
    v->store = store;
    pthread_mutex_init(&v->mu, NULL);
    /* The idle wait is timed on the monotonic clock: a wall clock set
     * back must not stretch it. */
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&v->cv, &ca);
    pthread_condattr_destroy(&ca);
    wm_err_t err = wm_wake_open(net, &v->rx, &v->tx);
    if (err == WM_OK && pthread_create(&v->thread, NULL, run, v) != 0)
        err = WM_EIO;
    if (err != WM_OK) {
        wm_verifier_stop(&v);
        return err;
    }
    v->started = 1;
    *out = v;
    return WM_OK;
}

void wm_verifier_stop(wm_verifier_t **vp)
{
    wm_verifier_t *v = vp ? *vp : NULL;
    if (!v)
        return;
    if (v->started) {
        pthread_mutex_lock(&v->mu);
        v->stop = 1;
        pthread_cond_signal(&v->cv);
        pthread_mutex_unlock(&v->mu);
        pthread_join(v->thread, NULL);
    }
    wm_sock_close(&v->rx);
    wm_sock_close(&v->tx);
    pthread_cond_destroy(&v->cv);
    pthread_mutex_destroy(&v->mu);
    free(v->out);
    free(v->cur);
    free(v);
    *vp = NULL;
}

wm_sock_t *wm_verifier_sock(wm_verifier_t *v)
{
    return v->rx;
}

void wm_verifier_kick(wm_verifier_t *v)
{
    pthread_mutex_lock(&v->mu);
    v->kicked = 1;
    pthread_cond_signal(&v->cv);
    pthread_mutex_unlock(&v->mu);
}

size_t wm_verifier_take(wm_verifier_t *v, wm_verdict_t **out)
{
    wm_wake_drain(v->rx);
    pthread_mutex_lock(&v->mu);
    size_t n = v->nout;
    *out = v->out;
    v->out = NULL;
    v->nout = v->capout = 0;
    pthread_mutex_unlock(&v->mu);
    return n;
}

uint64_t wm_verifier_total(wm_verifier_t *v)
{
    pthread_mutex_lock(&v->mu);
    uint64_t n = v->total;
    pthread_mutex_unlock(&v->mu);
    return n;
}
