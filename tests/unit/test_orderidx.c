/* SPDX-License-Identifier: MIT */
/*
 * test_orderidx — the needs-and-orders index (storage/wm_orderidx) in a
 * store written before it existed: a real LMDB store holding a town's
 * orders and a station's need and acceptance among activities, whose 'o'
 * refs and mark are then removed (wm_orderidx_drop: the store as the
 * first slice of issue 11 left it). Through the index alone the book is
 * empty and the figures wrong; a read-only reader reads the logs instead
 * and shows them right; the next writable open rebuilds the index once,
 * durably, and the figures read through it are right; opening again
 * rebuilds nothing.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "wm_orderbook.h"
#include "wm_orderidx.h"
#include "wm_testutil.h"

#define TOWN "xx/t"
#define STATION "xx/t/s1"

/* One log being written: its node number, key, and head. */
typedef struct {
    const char *id;
    uint32_t node;
    wm_signer_t *signer;
    uint64_t seq;
    uint8_t head[WM_HASH_BYTES];
} chain_t;

/* The bodies a record of this test may carry. */
typedef struct {
    tu_rec_t t;
    Wm__ServiceOrder so;
    Wm__Need need;
    Wm__OrderAccept acc;
} rec_t;

static void next(chain_t *c, rec_t *x)
{
    memset(x, 0, sizeof *x);
    tu_rec_init(&x->t, c->id, 1, c->seq + 1, c->seq ? c->head : NULL);
}

/* Seals x with c's key and appends it in t. */
static void append(wm_txn_t *t, chain_t *c, rec_t *x)
{
    size_t len = 0;
    uint8_t *srec = tu_seal(&x->t, c->signer, &len);
    wm_record_t *r = NULL;
    assert_int_equal(wm_record_decode(srec + WM_SIG_BYTES, len - WM_SIG_BYTES, &r), WM_OK);
    assert_int_equal(wm_log_append(t, c->node, r, srec, len), WM_OK);
    wm_record_free(&r);
    tu_srec_hash(srec, len, c->head);
    c->seq++;
    free(srec);
}

static void order(wm_txn_t *t, chain_t *c, uint32_t date, uint32_t due, const char *to)
{
    rec_t x;
    next(c, &x);
    wm__service_order__init(&x.so);
    x.so.title = "上门理发", x.so.date = date, x.so.due = due, x.so.to_station = (char *)to;
    x.so.service_kind = WM__SERVICE_KIND__ASSISTANCE;
    x.t.r.body_case = WM__RECORD__BODY_SERVICE_ORDER, x.t.r.service_order = &x.so;
    append(t, c, &x);
}

static void need(wm_txn_t *t, chain_t *c, uint32_t date)
{
    rec_t x;
    next(c, &x);
    wm__need__init(&x.need);
    x.need.title = "独居老人需要理发", x.need.date = date;
    x.need.service_kind = WM__SERVICE_KIND__ASSISTANCE;
    x.t.r.body_case = WM__RECORD__BODY_NEED, x.t.r.need = &x.need;
    append(t, c, &x);
}

static void accept_order(wm_txn_t *t, chain_t *c, uint64_t order_seq, uint32_t date)
{
    rec_t x;
    next(c, &x);
    wm__order_accept__init(&x.acc);
    x.acc.order_station = TOWN, x.acc.order_epoch = 1, x.acc.order_seq = order_seq;
    x.acc.date = date;
    x.t.r.body_case = WM__RECORD__BODY_ORDER_ACCEPT, x.t.r.order_accept = &x.acc;
    append(t, c, &x);
}

static void activity(wm_txn_t *t, chain_t *c)
{
    rec_t x;
    next(c, &x);
    tu_rec_activity(&x.t, "主题宣讲");
    append(t, c, &x);
}

/* The store of the test: the town's two orders (one open, overdue by the
 * end of March; one to the station, accepted), the station's need, among
 * activities: 4 needs-and-orders records. */
static void fill(wm_store_t *s)
{
    chain_t town = {TOWN, 0, tu_signer(7), 0, {0}}, st = {STATION, 0, tu_signer(8), 0, {0}};
    wm_txn_t *t = NULL;
    assert_int_equal(wm_txn_begin(s, 1, &t), WM_OK);
    assert_int_equal(wm_nodeno_add(t, TOWN, &town.node), WM_OK);
    assert_int_equal(wm_nodeno_add(t, STATION, &st.node), WM_OK);
    assert_int_equal(wm_epoch_set(t, town.node, 1, wm_signer_pub(town.signer)), WM_OK);
    assert_int_equal(wm_epoch_set(t, st.node, 1, wm_signer_pub(st.signer)), WM_OK);
    activity(t, &town);
    order(t, &town, 20240305, 20240310, "");      /* seq 2: open, never taken */
    order(t, &town, 20240306, 20240415, STATION); /* seq 3 */
    activity(t, &st);
    need(t, &st, 20240304);
    accept_order(t, &st, 3, 20240307);
    activity(t, &st);
    assert_int_equal(wm_txn_commit(&t), WM_OK);
    wm_signer_free(&town.signer);
    wm_signer_free(&st.signer);
}

static int count_one(void *ctx, uint32_t node, uint32_t epoch, uint64_t seq)
{
    (void)node, (void)epoch, (void)seq;
    ++*(int *)ctx;
    return 0;
}

/* What the index holds (refs 'o'), and whether it is marked current. */
static int indexed(wm_store_t *s, int *current)
{
    wm_txn_t *t = NULL;
    int n = 0;
    assert_int_equal(wm_txn_begin(s, 0, &t), WM_OK);
    assert_int_equal(wm_ref_scan_orders(t, count_one, &n), WM_OK);
    assert_int_equal(wm_orderidx_current(t, current), WM_OK);
    wm_txn_abort(&t);
    return n;
}

/* March's figures of the whole store, as a rollup reads them. */
static wm_order_figs_t march(wm_store_t *s)
{
    wm_txn_t *t = NULL;
    wm_orders_t book = WM_ORDERS_INIT;
    wm_order_figs_t f;
    memset(&f, 0, sizeof f);
    assert_int_equal(wm_txn_begin(s, 0, &t), WM_OK);
    assert_int_equal(wm_orderbook_load(t, &book), WM_OK);
    wm_txn_abort(&t);
    wm_orders_count(&book, NULL, 20240301, 20240331, &f);
    wm_orders_free(&book);
    return f;
}

static void assert_march(wm_store_t *s)
{
    wm_order_figs_t f = march(s);
    assert_int_equal(f.needs_received, 1);
    assert_int_equal(f.orders_dispatched, 2);
    assert_int_equal(f.orders_accepted, 1);
    assert_int_equal(f.orders_overdue, 1);
}

static void test_rebuilt_once(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp();
    wm_store_t *s = NULL;
    wm_txn_t *t = NULL;
    int current = 0;
    size_t n = 99;
    assert_int_equal(wm_store_open(dir, 0, 0, &s), WM_OK);
    assert_int_equal(indexed(s, &current), 0);
    assert_true(current); /* a new store is marked at once */
    fill(s);
    assert_int_equal(indexed(s, &current), 4); /* kept by wm_log_append */
    assert_march(s);

    /* the store as the first slice wrote it: no index, no mark */
    assert_int_equal(wm_txn_begin(s, 1, &t), WM_OK);
    assert_int_equal(wm_orderidx_drop(t), WM_OK);
    assert_int_equal(wm_txn_commit(&t), WM_OK);
    wm_store_close(&s);

    /* a reader before the rebuild: the index is empty (figures read through
     * it would be wrong), so the book is read from the logs */
    assert_int_equal(wm_store_open(dir, WM_STORE_RDONLY, 0, &s), WM_OK);
    assert_int_equal(indexed(s, &current), 0);
    assert_false(current);
    assert_march(s);
    wm_store_close(&s);

    /* the daemon's open rebuilds it, durably */
    assert_int_equal(wm_store_open(dir, 0, 0, &s), WM_OK);
    wm_store_close(&s);
    assert_int_equal(wm_store_open(dir, WM_STORE_RDONLY, 0, &s), WM_OK);
    assert_int_equal(indexed(s, &current), 4);
    assert_true(current);
    assert_march(s);
    wm_store_close(&s);

    /* once: a later open indexes nothing */
    assert_int_equal(wm_store_open(dir, 0, 0, &s), WM_OK);
    assert_int_equal(wm_orderidx_ensure(s, &n), WM_OK);
    assert_int_equal((int)n, 0);
    assert_int_equal(indexed(s, &current), 4);
    wm_store_close(&s);
    tu_rmrf(dir);
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rebuilt_once),
    };
    if (wm_crypto_init() != WM_OK)
        return 1;
    return cmocka_run_group_tests(tests, NULL, NULL);
}
