/* SPDX-License-Identifier: MIT */
/*
 * wm_reactor — the daemon's event loop; see wm_reactor.h.
 *
 * Sockets and fds live in a fixed array that maps one to one onto the
 * poll items of a turn; timers in a growing array, searched linearly (a
 * daemon arms a handful). Removal only marks an entry dead; dead entries
 * are swept at the start of a turn and after its prepare hook, never
 * while handlers run, so indexes stay put during dispatch.
 */
#include "wm_reactor.h"

#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

typedef struct {
    wm_sock_t *sock; /* NULL: a plain fd */
    int fd;
    wm_reactor_fn fn;
    void *ctx;
    int live;
} reader_t;

typedef struct {
    unsigned id;
    int64_t due_ms;   /* monotonic */
    uint64_t serial;  /* order armed: breaks ties, bounds one timer phase */
    long repeat_ms;   /* 0: one-shot */
    wm_reactor_fn fn;
    void *ctx;
    int live;
} timer_slot_t;

struct wm_reactor {
    long max_wait_ms;
    reader_t readers[WM_NET_POLL_MAX];
    int nreaders;
    wm_poll_item_t items[WM_NET_POLL_MAX];
    timer_slot_t *timers;
    size_t ntimers, captimers;
    unsigned last_id;
    uint64_t next_serial;
    wm_reactor_prepare_fn prepare;
    void *prepare_ctx;
    int dispatching; /* handlers running: do not sweep */
    int stopped;
};

int64_t wm_reactor_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sweep(wm_reactor_t *r)
{
    int n = 0;
    for (int i = 0; i < r->nreaders; i++)
        if (r->readers[i].live)
            r->readers[n++] = r->readers[i];
    r->nreaders = n;
    size_t k = 0;
    for (size_t i = 0; i < r->ntimers; i++)
        if (r->timers[i].live)
            r->timers[k++] = r->timers[i];
    r->ntimers = k;
}

wm_err_t wm_reactor_new(long max_wait_ms, wm_reactor_t **out)
{
    assert(max_wait_ms > 0);
    wm_reactor_t *r = calloc(1, sizeof *r);
    if (!r)
        return WM_ENOMEM;
    r->max_wait_ms = max_wait_ms;
    *out = r;
    return WM_OK;
}

void wm_reactor_free(wm_reactor_t **r)
{
    if (!r || !*r)
        return;
    assert(!(*r)->dispatching);
    free((*r)->timers);
    free(*r);
    *r = NULL;
}

static WM_MUST_CHECK wm_err_t add_reader(wm_reactor_t *r, wm_sock_t *s, int fd,
                                         wm_reactor_fn fn, void *ctx)
{
    assert(fn);
    for (int i = 0; i < r->nreaders; i++)
        assert(!r->readers[i].live || (s ? r->readers[i].sock != s
                                         : r->readers[i].sock || r->readers[i].fd != fd));
    if (!r->dispatching)
        sweep(r);
    if (r->nreaders == WM_NET_POLL_MAX)
        return WM_ETOOBIG;
    r->readers[r->nreaders++] = (reader_t){.sock = s, .fd = fd, .fn = fn, .ctx = ctx, .live = 1};
    return WM_OK;
}

wm_err_t wm_reactor_add_sock(wm_reactor_t *r, wm_sock_t *s, wm_reactor_fn fn, void *ctx)
{
    assert(s);
    return add_reader(r, s, -1, fn, ctx);
}

wm_err_t wm_reactor_add_fd(wm_reactor_t *r, int fd, wm_reactor_fn fn, void *ctx)
{
    assert(fd >= 0);
    return add_reader(r, NULL, fd, fn, ctx);
}

void wm_reactor_remove_sock(wm_reactor_t *r, const wm_sock_t *s)
{
    for (int i = 0; s && i < r->nreaders; i++)
        if (r->readers[i].sock == s)
            r->readers[i].live = 0;
}

void wm_reactor_remove_fd(wm_reactor_t *r, int fd)
{
    for (int i = 0; i < r->nreaders; i++)
        if (!r->readers[i].sock && r->readers[i].fd == fd)
            r->readers[i].live = 0;
}

wm_err_t wm_reactor_add_timer(wm_reactor_t *r, long delay_ms, long repeat_ms, wm_reactor_fn fn,
                              void *ctx, unsigned *id)
{
    assert(fn && delay_ms >= 0 && repeat_ms >= 0);
    if (!r->dispatching)
        sweep(r);
    if (r->ntimers == r->captimers) {
        size_t cap = r->captimers ? r->captimers * 2 : 8;
        timer_slot_t *t = realloc(r->timers, cap * sizeof *t);
        if (!t)
            return WM_ENOMEM;
        r->timers = t;
        r->captimers = cap;
    }
    if (++r->last_id == 0)
        r->last_id = 1; /* 0 means "no timer" to callers */
    r->timers[r->ntimers++] = (timer_slot_t){
        .id = r->last_id, .due_ms = wm_reactor_now_ms() + delay_ms,
        .serial = r->next_serial++, .repeat_ms = repeat_ms, .fn = fn, .ctx = ctx, .live = 1};
    if (id)
        *id = r->last_id;
    return WM_OK;
}

void wm_reactor_cancel_timer(wm_reactor_t *r, unsigned id)
{
    for (size_t i = 0; id && i < r->ntimers; i++)
        if (r->timers[i].id == id)
            r->timers[i].live = 0;
}

void wm_reactor_set_prepare(wm_reactor_t *r, wm_reactor_prepare_fn fn, void *ctx)
{
    r->prepare = fn;
    r->prepare_ctx = ctx;
}

long wm_reactor_next_ms(const wm_reactor_t *r)
{
    int64_t now = wm_reactor_now_ms(), wait = r->max_wait_ms;
    for (size_t i = 0; i < r->ntimers; i++)
        if (r->timers[i].live && r->timers[i].due_ms - now < wait)
            wait = r->timers[i].due_ms - now;
    return wait < 0 ? 0 : (long)wait;
}

/* The live timer due by now that was armed before limit and comes first
 * (earliest deadline, then order armed); NULL if none. */
static timer_slot_t *first_due(wm_reactor_t *r, int64_t now, uint64_t limit)
{
    timer_slot_t *best = NULL;
    for (size_t i = 0; i < r->ntimers; i++) {
        timer_slot_t *t = &r->timers[i];
        if (!t->live || t->due_ms > now || t->serial >= limit)
            continue;
        if (!best || t->due_ms < best->due_ms ||
            (t->due_ms == best->due_ms && t->serial < best->serial))
            best = t;
    }
    return best;
}

static void run_timers(wm_reactor_t *r)
{
    int64_t now = wm_reactor_now_ms();
    uint64_t limit = r->next_serial; /* re-armed and new timers wait a turn */
    timer_slot_t *t;
    while ((t = first_due(r, now, limit)) != NULL) {
        wm_reactor_fn fn = t->fn;
        void *ctx = t->ctx;
        if (t->repeat_ms > 0) {
            t->due_ms = wm_reactor_now_ms() + t->repeat_ms;
            t->serial = r->next_serial++;
        } else {
            t->live = 0;
        }
        /* t may move: the handler can arm timers (realloc). */
        fn(r, ctx);
    }
}

wm_err_t wm_reactor_once(wm_reactor_t *r)
{
    assert(!r->dispatching);
    sweep(r);
    long wait = -1;
    if (r->prepare)
        wait = r->prepare(r, r->prepare_ctx);
    sweep(r);
    long next = wm_reactor_next_ms(r);
    if (wait < 0 || wait > next)
        wait = next;
    int n = r->nreaders;
    for (int i = 0; i < n; i++)
        r->items[i] = (wm_poll_item_t){.sock = r->readers[i].sock, .fd = r->readers[i].fd};
    if (wm_net_poll_items(r->items, n, wait) < 0)
        return WM_EIO;
    r->dispatching = 1;
    /* Indexes stay put until the next sweep: items[i] is readers[i]. */
    for (int i = 0; i < n; i++)
        if (r->items[i].ready && r->readers[i].live)
            r->readers[i].fn(r, r->readers[i].ctx);
    run_timers(r);
    r->dispatching = 0;
    return WM_OK;
}

wm_err_t wm_reactor_run(wm_reactor_t *r, const volatile sig_atomic_t *stop)
{
    wm_err_t err = WM_OK;
    r->stopped = 0;
    while (err == WM_OK && !r->stopped && !(stop && *stop))
        err = wm_reactor_once(r);
    return err;
}

void wm_reactor_stop(wm_reactor_t *r)
{
    r->stopped = 1;
}
