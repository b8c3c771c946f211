/* SPDX-License-Identifier: MIT */
/*
 * test_blobup — daemon/wm_blobup.c, the child's side of feature "blobs",
 * on a real store and blob directory: what one pump puts on the link
 * (PROTOCOL.md §7.2, records preempt chunks).
 *
 * - nothing while records wait or went in the same turn;
 * - on a fast link with no record flowing, a window of 256 KiB chunks
 *   (up to the aggregator's credit);
 * - one burst of records is no flow: a full window right after it;
 * - records at a cadence (two moments close together) are a flow: one
 *   chunk of at most 64 KiB in flight; the flow lapses after twice its
 *   gap (at least 10 ms) and the window is full again;
 * - a flow is of one session.
 *
 * The flow is measured in time, so two checks let time pass (the
 * condition under test is time itself).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "wm_blobref.h"
#include "wm_blobup.h"
#include "wm_testutil.h"

#define SIZE ((size_t)8 << 20) /* one photo-sized blob, more than a window */
#define FAST 500e6             /* bytes a second: a LAN */

typedef struct {
    char *dir;
    wm_config_t cfg;
    wm_node_t node;
    wm_blobup_t *b;
    uint8_t hash[WM_HASH_BYTES];
    size_t chunks;   /* CHUNKs sent since the last look */
    size_t largest;  /* the largest of them */
    size_t offers;
} fx_t;

static wm_err_t capture(void *ctx, Wm__SyncMsg *m)
{
    fx_t *f = ctx;
    if (m->msg_case == WM__SYNC_MSG__MSG_BLOB_OFFER)
        f->offers++;
    if (m->msg_case == WM__SYNC_MSG__MSG_BLOB_CHUNK) {
        f->chunks++;
        if (m->blob_chunk->data.len > f->largest)
            f->largest = m->blob_chunk->data.len;
    }
    return WM_OK;
}

/* A station "xx/a" whose record 1/1 names one blob it holds. */
static int setup(void **state)
{
    fx_t *f = calloc(1, sizeof *f);
    char sub[4096];
    wm_txn_t *t = NULL;
    assert_non_null(f);
    f->dir = tu_mkdtemp();
    snprintf(sub, sizeof sub, "%s/blobs", f->dir);
    f->node.cfg = &f->cfg; /* blob_rate 0: no cap */
    assert_int_equal(wm_store_open(f->dir, WM_STORE_NOSYNC, 0, &f->node.store), WM_OK);
    assert_int_equal(wm_blob_open(sub, &f->node.blobs), WM_OK);
    uint8_t *bytes = malloc(SIZE);
    assert_non_null(bytes);
    for (size_t i = 0; i < SIZE; i++)
        bytes[i] = (uint8_t)(i * 2654435761u >> 13);
    assert_int_equal(wm_blob_put(f->node.blobs, bytes, SIZE, f->hash), WM_OK);
    free(bytes);
    tu_rec_t r;
    Wm__Attachment a, *pa = &a;
    tu_rec_init(&r, "xx/a", 1, 1, NULL);
    tu_rec_activity(&r, "有照片");
    wm__attachment__init(&a);
    a.hash = (ProtobufCBinaryData){WM_HASH_BYTES, f->hash};
    a.size = SIZE;
    a.media_type = "image/jpeg";
    a.role = WM__ATTACHMENT_ROLE__PHOTO;
    r.b.activity.attachments = &pa;
    r.b.activity.n_attachments = 1;
    assert_int_equal(wm_txn_begin(f->node.store, 1, &t), WM_OK);
    assert_int_equal(wm_nodeno_add(t, "xx/a", &f->node.self), WM_OK);
    assert_int_equal(wm_blobref_index(t, f->node.self, &r.r), WM_OK);
    assert_int_equal(wm_txn_commit(&t), WM_OK);
    assert_int_equal(wm_blobup_open(&f->node, capture, f, &f->b), WM_OK);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx_t *f = *state;
    wm_blobup_close(&f->b);
    wm_blob_close(&f->node.blobs);
    wm_store_close(&f->node.store);
    tu_rmrf(f->dir);
    free(f->dir);
    free(f);
    return 0;
}

/* A new session: offered, and the whole blob wanted from byte 0 with
 * credit 8 (what a town grants a fast link). */
static void session(fx_t *f)
{
    wm_blobup_session(f->b, 1);
    f->offers = 0;
    wm_blobup_pump(f->b, 1, 0);
    assert_int_equal(f->offers, 1);
    Wm__BlobRef ref = WM__BLOB_REF__INIT, *pref = &ref;
    ref.hash = (ProtobufCBinaryData){WM_HASH_BYTES, f->hash};
    ref.size = SIZE;
    Wm__BlobWant w = WM__BLOB_WANT__INIT;
    w.want = &pref;
    w.n_want = 1;
    w.credit = 8;
    wm_blobup_on_want(f->b, &w);
}

/* Pumps once with records idle at rate FAST; the chunks it sent. */
static size_t pump_idle(fx_t *f)
{
    f->chunks = f->largest = 0;
    wm_blobup_pump(f->b, 1, FAST);
    return f->chunks;
}

static void pass_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    assert_int_equal(nanosleep(&ts, NULL), 0);
}

static void test_records_first(void **state)
{
    fx_t *f = *state;
    session(f);
    f->chunks = 0;
    wm_blobup_pump(f->b, 0, FAST); /* a record waits, or went this turn */
    assert_int_equal(f->chunks, 0);
    assert_int_equal(wm_blobup_next_ms(f->b), -1); /* its answer wakes the loop */
}

static void test_idle_link_full_window(void **state)
{
    fx_t *f = *state;
    session(f);
    /* 500 MB/s: a second of it is more than the credit of 8 chunks */
    assert_int_equal(pump_idle(f), 8);
    assert_int_equal(f->largest, 256u << 10);
}

static void test_one_burst_is_no_flow(void **state)
{
    fx_t *f = *state;
    session(f);
    wm_blobup_pump(f->b, 0, FAST); /* a station back on line: its records, once */
    assert_int_equal(pump_idle(f), 8);
}

static void test_cadence_is_a_flow_and_lapses(void **state)
{
    fx_t *f = *state;
    session(f);
    wm_blobup_pump(f->b, 0, FAST);
    wm_blobup_pump(f->b, 0, FAST); /* records again, at once: a flow */
    assert_int_equal(pump_idle(f), 1);
    assert_true(f->largest <= 64u << 10);
    assert_int_equal(pump_idle(f), 0); /* one in flight, not more */
    /* The gap was under a millisecond: the flow lapses after 10 ms. */
    pass_ms(30);
    assert_true(pump_idle(f) >= 6); /* the window again, beside the one in flight */
    assert_int_equal(f->largest, 256u << 10);
}

static void test_flow_is_of_one_session(void **state)
{
    fx_t *f = *state;
    session(f);
    wm_blobup_pump(f->b, 0, FAST);
    wm_blobup_pump(f->b, 0, FAST);
    session(f); /* reconnected: the records before count no more */
    wm_blobup_pump(f->b, 0, FAST); /* the first records of the new session */
    assert_int_equal(pump_idle(f), 8);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_records_first, setup, teardown),
        cmocka_unit_test_setup_teardown(test_idle_link_full_window, setup, teardown),
        cmocka_unit_test_setup_teardown(test_one_burst_is_no_flow, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cadence_is_a_flow_and_lapses, setup, teardown),
        cmocka_unit_test_setup_teardown(test_flow_is_of_one_session, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
