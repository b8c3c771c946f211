/* SPDX-License-Identifier: MIT */
/*
 * test_reactor — daemon/wm_reactor.c: timers fire earliest first and
 * repeat, the wait is bounded by the earliest timer and the prepare hook,
 * pipes and ZeroMQ sockets are dispatched when readable and only then, and
 * handlers may remove, add and cancel things during dispatch. Real pipes
 * and real sockets; every wait is the reactor's own poll, bounded.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "wm_net.h"
#include "wm_reactor.h"

#define LOG_MAX 32
#define DEADLINE_MS 5000 /* a test gives up after this */

/* What the handlers did, in order. */
typedef struct {
    char log[LOG_MAX];
    int n;
} trail_t;

/* One registered thing: its trail, its tag, and what to do when called. */
typedef struct hit hit_t;
struct hit {
    trail_t *trail;
    char tag;
    int fd;               /* a pipe's read end to drain, or -1 */
    int remove_fd;        /* remove this fd when called (-1: none) */
    unsigned cancel;      /* cancel this timer when called (0: none) */
    hit_t *add;           /* register this fd / timer when called */
    int add_timer;        /* add is a timer of delay 0, not an fd */
    int stop;             /* stop the reactor when called */
};

static void on_hit(wm_reactor_t *r, void *ctx)
{
    hit_t *h = ctx;
    if (h->trail->n < LOG_MAX)
        h->trail->log[h->trail->n++] = h->tag;
    if (h->remove_fd >= 0)
        wm_reactor_remove_fd(r, h->remove_fd);
    if (h->cancel)
        wm_reactor_cancel_timer(r, h->cancel);
    if (h->add && h->add_timer)
        assert_int_equal(wm_reactor_add_timer(r, 0, 0, on_hit, h->add, NULL), WM_OK);
    else if (h->add)
        assert_int_equal(wm_reactor_add_fd(r, h->add->fd, on_hit, h->add), WM_OK);
    if (h->stop)
        wm_reactor_stop(r);
}

static hit_t hit(trail_t *t, char tag)
{
    return (hit_t){.trail = t, .tag = tag, .fd = -1, .remove_fd = -1};
}

/* Turns until the trail holds n entries or the deadline passes. */
static void turn_until(wm_reactor_t *r, trail_t *t, int n)
{
    int64_t end = wm_reactor_now_ms() + DEADLINE_MS;
    while (t->n < n && wm_reactor_now_ms() < end)
        assert_int_equal(wm_reactor_once(r), WM_OK);
    assert_int_equal(t->n, n);
}

static void test_timers_fire_earliest_first(void **state)
{
    (void)state;
    wm_reactor_t *r = NULL;
    trail_t t = {0};
    hit_t c = hit(&t, 'c'), a = hit(&t, 'a'), b1 = hit(&t, 'b'), b2 = hit(&t, 'B');
    assert_int_equal(wm_reactor_new(1000, &r), WM_OK);
    unsigned ids[4] = {0};
    /* Taken before arming: the 60 ms are counted from the arming, and a slow
     * machine (qemu) may spend milliseconds between the arming and here. */
    int64_t t0 = wm_reactor_now_ms();
    assert_int_equal(wm_reactor_add_timer(r, 60, 0, on_hit, &c, &ids[0]), WM_OK);
    assert_int_equal(wm_reactor_add_timer(r, 20, 0, on_hit, &a, &ids[1]), WM_OK);
    assert_int_equal(wm_reactor_add_timer(r, 40, 0, on_hit, &b1, &ids[2]), WM_OK);
    assert_int_equal(wm_reactor_add_timer(r, 40, 0, on_hit, &b2, &ids[3]), WM_OK);
    for (int i = 0; i < 4; i++) {
        assert_int_not_equal(ids[i], 0);
        for (int j = 0; j < i; j++)
            assert_int_not_equal(ids[i], ids[j]);
    }
    /* The wait is bounded by the earliest timer, not by max_wait. */
    assert_true(wm_reactor_next_ms(r) <= 20);
    turn_until(r, &t, 4);
    assert_true(wm_reactor_now_ms() - t0 >= 60);
    assert_memory_equal(t.log, "abBc", 4); /* equal deadlines: in the order armed */
    /* One-shots are gone: nothing more fires, the wait is max_wait again. */
    assert_int_equal(wm_reactor_next_ms(r), 1000);
    wm_reactor_free(&r);
    assert_null(r);
    wm_reactor_free(&r); /* accepts NULL */
}

/* Every overdue timer fires in one turn, earliest first. */
static void test_timers_all_due_in_one_turn(void **state)
{
    (void)state;
    wm_reactor_t *r = NULL;
    trail_t t = {0};
    hit_t late = hit(&t, '3'), mid = hit(&t, '2'), early = hit(&t, '1');
    assert_int_equal(wm_reactor_new(1000, &r), WM_OK);
    assert_int_equal(wm_reactor_add_timer(r, 30, 0, on_hit, &late, NULL), WM_OK);
    assert_int_equal(wm_reactor_add_timer(r, 20, 0, on_hit, &mid, NULL), WM_OK);
    assert_int_equal(wm_reactor_add_timer(r, 10, 0, on_hit, &early, NULL), WM_OK);
    /* Let time pass (the condition under test is time itself): all three
     * are overdue before the turn starts. */
    struct timespec ts = {0, 35 * 1000000};
    assert_int_equal(nanosleep(&ts, NULL), 0);
    assert_int_equal(wm_reactor_next_ms(r), 0);
    assert_int_equal(wm_reactor_once(r), WM_OK);
    assert_int_equal(t.n, 3);
    assert_memory_equal(t.log, "123", 3);
    wm_reactor_free(&r);
}

static void test_timer_repeats_until_cancelled(void **state)
{
    (void)state;
    wm_reactor_t *r = NULL;
    trail_t t = {0};
    hit_t rep = hit(&t, 'r');
    unsigned id = 0;
    assert_int_equal(wm_reactor_new(1000, &r), WM_OK);
    assert_int_equal(wm_reactor_add_timer(r, 0, 50, on_hit, &rep, &id), WM_OK);
    /* Fires once per turn at most: a due repeating timer waits a turn. */
    assert_int_equal(wm_reactor_once(r), WM_OK);
    assert_int_equal(t.n, 1);
    assert_true(wm_reactor_next_ms(r) <= 50);
    turn_until(r, &t, 4);
    wm_reactor_cancel_timer(r, id);
    wm_reactor_cancel_timer(r, id); /* twice: nothing */
    wm_reactor_cancel_timer(r, 0);  /* "no timer": nothing */
    assert_int_equal(wm_reactor_next_ms(r), 1000);
    hit_t stop = hit(&t, 's');
    stop.stop = 1;
    assert_int_equal(wm_reactor_add_timer(r, 30, 0, on_hit, &stop, NULL), WM_OK);
    assert_int_equal(wm_reactor_run(r, NULL), WM_OK);
    assert_int_equal(t.n, 5);
    assert_memory_equal(t.log, "rrrrs", 5);
    wm_reactor_free(&r);
}

/* A timer cancelled by an earlier one in the same turn does not fire; a
 * timer armed by a handler fires at the earliest in the next turn. */
static void test_timer_cancel_and_arm_during_dispatch(void **state)
{
    (void)state;
    wm_reactor_t *r = NULL;
    trail_t t = {0};
    hit_t first = hit(&t, '1'), second = hit(&t, '2'), armed = hit(&t, 'n');
    assert_int_equal(wm_reactor_new(1000, &r), WM_OK);
    assert_int_equal(wm_reactor_add_timer(r, 0, 0, on_hit, &first, NULL), WM_OK);
    assert_int_equal(wm_reactor_add_timer(r, 0, 0, on_hit, &second, &first.cancel), WM_OK);
    first.add = &armed;
    first.add_timer = 1;
    assert_int_equal(wm_reactor_once(r), WM_OK);
    assert_int_equal(t.n, 1);
    assert_int_equal(t.log[0], '1');
    assert_int_equal(wm_reactor_next_ms(r), 0);
    assert_int_equal(wm_reactor_once(r), WM_OK);
    assert_int_equal(t.n, 2);
    assert_int_equal(t.log[1], 'n');
    wm_reactor_free(&r);
}

typedef struct {
    int pipes[3][2];
} pipes_t;

static void pipes_open(pipes_t *p)
{
    for (int i = 0; i < 3; i++)
        assert_int_equal(pipe(p->pipes[i]), 0);
}

static void pipes_close(pipes_t *p)
{
    for (int i = 0; i < 3; i++)
        close(p->pipes[i][0]), close(p->pipes[i][1]);
}

static void poke(int fd)
{
    assert_int_equal(write(fd, "x", 1), 1);
}

static long prepare_zero(wm_reactor_t *r, void *ctx)
{
    (void)r;
    (*(int *)ctx)++;
    return 0;
}

/* Only readable fds are dispatched; the prepare hook runs every turn and
 * bounds the wait (max_wait is a minute here). */
static void test_fd_readiness(void **state)
{
    (void)state;
    wm_reactor_t *r = NULL;
    trail_t t = {0};
    pipes_t p;
    int prepared = 0;
    pipes_open(&p);
    hit_t a = hit(&t, 'a'), b = hit(&t, 'b');
    assert_int_equal(wm_reactor_new(60 * 1000, &r), WM_OK);
    wm_reactor_set_prepare(r, prepare_zero, &prepared);
    assert_int_equal(wm_reactor_add_fd(r, p.pipes[0][0], on_hit, &a), WM_OK);
    assert_int_equal(wm_reactor_add_fd(r, p.pipes[1][0], on_hit, &b), WM_OK);
    int64_t t0 = wm_reactor_now_ms();
    assert_int_equal(wm_reactor_once(r), WM_OK);
    assert_int_equal(t.n, 0); /* nothing readable */
    poke(p.pipes[1][1]);
    assert_int_equal(wm_reactor_once(r), WM_OK);
    assert_int_equal(t.n, 1);
    assert_int_equal(t.log[0], 'b');
    assert_true(wm_reactor_now_ms() - t0 < DEADLINE_MS);
    assert_int_equal(prepared, 2);
    /* Level-triggered: still unread, so dispatched again. */
    assert_int_equal(wm_reactor_once(r), WM_OK);
    assert_int_equal(t.n, 2);
    /* Removed: not dispatched although readable. */
    wm_reactor_remove_fd(r, p.pipes[1][0]);
    wm_reactor_remove_fd(r, 12345); /* not registered: nothing */
    assert_int_equal(wm_reactor_once(r), WM_OK);
    assert_int_equal(t.n, 2);
    /* Without a prepare hook and timers, a readable fd ends the wait. */
    wm_reactor_set_prepare(r, NULL, NULL);
    poke(p.pipes[0][1]);
    assert_int_equal(wm_reactor_once(r), WM_OK);
    assert_int_equal(t.n, 3);
    assert_int_equal(t.log[2], 'a');
    assert_true(wm_reactor_now_ms() - t0 < DEADLINE_MS);
    wm_reactor_free(&r);
    pipes_close(&p);
}

/* Handlers run in registration order; one that removes a later one (or
 * itself) stops it at once; one added during dispatch waits a turn. */
static void test_remove_and_add_during_dispatch(void **state)
{
    (void)state;
    wm_reactor_t *r = NULL;
    trail_t t = {0};
    pipes_t p;
    pipes_open(&p);
    hit_t a = hit(&t, 'a'), b = hit(&t, 'b'), c = hit(&t, 'c');
    c.fd = p.pipes[2][0];
    a.remove_fd = p.pipes[1][0]; /* a removes b */
    a.add = &c;                  /* and adds c */
    assert_int_equal(wm_reactor_new(1000, &r), WM_OK);
    assert_int_equal(wm_reactor_add_fd(r, p.pipes[0][0], on_hit, &a), WM_OK);
    assert_int_equal(wm_reactor_add_fd(r, p.pipes[1][0], on_hit, &b), WM_OK);
    for (int i = 0; i < 3; i++)
        poke(p.pipes[i][1]);
    assert_int_equal(wm_reactor_once(r), WM_OK);
    assert_int_equal(t.n, 1); /* a ran; b was removed; c waits a turn */
    assert_int_equal(t.log[0], 'a');
    /* Next turn: a removes itself, c (readable) runs after it. */
    a.remove_fd = p.pipes[0][0];
    a.add = NULL;
    assert_int_equal(wm_reactor_once(r), WM_OK);
    assert_int_equal(t.n, 3);
    assert_memory_equal(t.log, "aac", 3);
    assert_int_equal(wm_reactor_once(r), WM_OK);
    assert_int_equal(t.n, 4); /* only c is left */
    assert_int_equal(t.log[3], 'c');
    /* A removed fd may be registered again. */
    b.remove_fd = -1;
    assert_int_equal(wm_reactor_add_fd(r, p.pipes[1][0], on_hit, &b), WM_OK);
    wm_reactor_remove_fd(r, p.pipes[2][0]);
    assert_int_equal(wm_reactor_once(r), WM_OK);
    assert_int_equal(t.n, 5);
    assert_int_equal(t.log[4], 'b');
    wm_reactor_free(&r);
    pipes_close(&p);
}

static void on_sock(wm_reactor_t *r, void *ctx)
{
    (void)r;
    wm_sock_t **s = ctx;
    wm_msg_t m = {0};
    assert_int_equal(wm_sock_recv(*s, &m), WM_OK);
    assert_int_equal(m.n, 2); /* ROUTER: [peer][payload] */
    assert_int_equal(m.f[1].len, 5);
    assert_memory_equal(m.f[1].data, "hello", 5);
    wm_msg_clear(&m);
    wm_reactor_stop(r);
}

/* A ZeroMQ socket beside a plain fd: a message wakes the reactor. */
static void test_socket_readiness(void **state)
{
    (void)state;
    char dir[] = "/tmp/test_reactor.XXXXXX", path[128];
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/ctl", dir);
    wm_net_t *net = NULL;
    wm_sock_t *srv = NULL, *cli = NULL;
    wm_reactor_t *r = NULL;
    trail_t t = {0};
    pipes_t p;
    pipes_open(&p);
    hit_t a = hit(&t, 'a');
    assert_int_equal(wm_net_new(&net), WM_OK);
    assert_int_equal(wm_ctl_listen(net, path, &srv), WM_OK);
    assert_int_equal(wm_ctl_connect(net, path, &cli), WM_OK);
    assert_int_equal(wm_reactor_new(1000, &r), WM_OK);
    assert_int_equal(wm_reactor_add_fd(r, p.pipes[0][0], on_hit, &a), WM_OK);
    assert_int_equal(wm_reactor_add_sock(r, srv, on_sock, &srv), WM_OK);
    wm_msg_t m = {0};
    assert_int_equal(wm_msg_add(&m, "hello", 5), WM_OK);
    assert_int_equal(wm_sock_send(cli, &m), WM_OK);
    wm_msg_clear(&m);
    hit_t give_up = hit(&t, 'x');
    give_up.stop = 1;
    assert_int_equal(wm_reactor_add_timer(r, DEADLINE_MS, 0, on_hit, &give_up, NULL), WM_OK);
    assert_int_equal(wm_reactor_run(r, NULL), WM_OK);
    assert_int_equal(t.n, 0); /* the socket stopped it, not the deadline; no pipe */
    /* A stop flag (what a signal handler sets) ends run before a turn. */
    volatile sig_atomic_t stop = 1;
    assert_int_equal(wm_reactor_run(r, &stop), WM_OK);
    assert_int_equal(t.n, 0);
    wm_reactor_remove_sock(r, srv);
    wm_sock_close(&srv); /* closed after removal: never polled again */
    poke(p.pipes[0][1]);
    assert_int_equal(wm_reactor_once(r), WM_OK);
    assert_int_equal(t.n, 1);
    wm_reactor_free(&r);
    wm_sock_close(&cli);
    wm_net_free(&net);
    pipes_close(&p);
    unlink(path);
    rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_timers_fire_earliest_first),
        cmocka_unit_test(test_timers_all_due_in_one_turn),
        cmocka_unit_test(test_timer_repeats_until_cancelled),
        cmocka_unit_test(test_timer_cancel_and_arm_during_dispatch),
        cmocka_unit_test(test_fd_readiness),
        cmocka_unit_test(test_remove_and_add_during_dispatch),
        cmocka_unit_test(test_socket_readiness),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
