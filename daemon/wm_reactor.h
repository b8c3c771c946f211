/* SPDX-License-Identifier: MIT */
/*
 * wm_reactor — the daemon's event loop: sockets, plain file descriptors
 * and timers registered in one place, one poll call per turn, each ready
 * thing handed to its handler. CZMQ's zloop and Redis's ae are the models.
 *
 * A turn: the prepare hook runs (work due after every turn, and how long
 * it may sleep), then one wm_net_poll_items over every registered socket
 * and fd, waiting at most until the earliest timer, the prepare hook's
 * limit and the reactor's max_wait_ms; then the handlers of the readable
 * ones in registration order; then the timers that are due, earliest
 * deadline first.
 *
 * Single-threaded: every call from the thread that runs the reactor.
 * Another thread wakes it by writing to an fd registered here (a pipe or
 * an eventfd); the handler drains it. Handlers may add and remove sockets,
 * fds and timers, also their own and also during dispatch: a removed item
 * is not called again, even later in the same turn; an item added during
 * a turn is first polled in the next one; a timer armed during the timer
 * phase fires at the earliest in the next turn. The reactor never
 * dereferences a registered socket outside its poll call, so a handler
 * may close another item's socket as long as it removes it before the
 * next poll.
 */
#ifndef WM_REACTOR_H
#define WM_REACTOR_H

#include <signal.h>
#include <stdint.h>

#include "wm_err.h"
#include "wm_net.h"

typedef struct wm_reactor wm_reactor_t;

/* A socket or fd is readable, or a timer is due. ctx as registered. */
typedef void (*wm_reactor_fn)(wm_reactor_t *r, void *ctx);
/* Runs before each poll. Returns the longest it may sleep in ms (-1: no
 * limit of its own). */
typedef long (*wm_reactor_prepare_fn)(wm_reactor_t *r, void *ctx);

/* A new reactor that sleeps at most max_wait_ms per turn (> 0), so that
 * the prepare hook and the caller's stop flag are checked that often.
 * WM_ENOMEM. */
WM_MUST_CHECK wm_err_t wm_reactor_new(long max_wait_ms, wm_reactor_t **out);
/* Frees the reactor, not the registered sockets or fds. Accepts NULL;
 * sets *r NULL. Not from a handler. */
void wm_reactor_free(wm_reactor_t **r);

/* Registers a socket (borrowed: the caller closes it, after removing it)
 * or a plain fd: fn(r, ctx) when it is readable. A socket or fd is
 * registered at most once (asserted). WM_ETOOBIG beyond WM_NET_POLL_MAX
 * items; WM_ENOMEM. */
WM_MUST_CHECK wm_err_t wm_reactor_add_sock(wm_reactor_t *r, wm_sock_t *s, wm_reactor_fn fn,
                                           void *ctx);
WM_MUST_CHECK wm_err_t wm_reactor_add_fd(wm_reactor_t *r, int fd, wm_reactor_fn fn, void *ctx);
/* Stops watching s / fd; nothing if it is not registered. s is compared,
 * never dereferenced, so it may already be closed. */
void wm_reactor_remove_sock(wm_reactor_t *r, const wm_sock_t *s);
void wm_reactor_remove_fd(wm_reactor_t *r, int fd);

/* Arms a timer: fn(r, ctx) after delay_ms (>= 0), then, if repeat_ms > 0,
 * every repeat_ms after each call (no catch-up bursts after a long
 * handler). Timers due in the same turn fire earliest deadline first,
 * equal deadlines in the order armed. *id (if not NULL) gets the timer's
 * id, never 0. WM_ENOMEM. */
WM_MUST_CHECK wm_err_t wm_reactor_add_timer(wm_reactor_t *r, long delay_ms, long repeat_ms,
                                            wm_reactor_fn fn, void *ctx, unsigned *id);
/* Disarms a timer; nothing if id is 0, fired (one-shot) or unknown. */
void wm_reactor_cancel_timer(wm_reactor_t *r, unsigned id);

/* Sets the hook that runs before each poll (NULL: none). */
void wm_reactor_set_prepare(wm_reactor_t *r, wm_reactor_prepare_fn fn, void *ctx);

/* Milliseconds until the earliest timer is due (0 if overdue), at most
 * max_wait_ms; max_wait_ms with no timer armed. */
long wm_reactor_next_ms(const wm_reactor_t *r);

/* The reactor's clock: monotonic milliseconds (CLOCK_MONOTONIC), for
 * handlers that keep their own deadlines. Thread-safe. */
int64_t wm_reactor_now_ms(void);

/* One turn (see the top). WM_OK, also after a signal interrupted the
 * poll; WM_EIO when the poll fails (a registered fd was closed). */
WM_MUST_CHECK wm_err_t wm_reactor_once(wm_reactor_t *r);
/* Turns until *stop becomes nonzero (a signal handler's flag; NULL: none)
 * or a handler calls wm_reactor_stop. WM_OK, or WM_EIO as wm_reactor_once. */
WM_MUST_CHECK wm_err_t wm_reactor_run(wm_reactor_t *r, const volatile sig_atomic_t *stop);
/* Ends wm_reactor_run after the current turn. */
void wm_reactor_stop(wm_reactor_t *r);

#endif
