/* SPDX-License-Identifier: MIT */
/*
 * test_agg_hash — the aggregator's preparing thread (daemon/wm_agg_hash.c)
 * with real signed chains, no store and no network. A turn's batches are
 * handed over one by one as the loop takes them, and each must come out
 * of wm_agg_hasher_ready prepared exactly once, whoever prepared it:
 *   a Batch: each record's hash, byte for byte wm_srec_hash_buf's;
 *   a ZBatch: its records restored as the station signed them, with their
 *   hashes; a corrupt one: bad_frame and a sentence, nothing restored;
 *   either's records checked as ingest checks them before the store
 *   (wm_ingest_precheck: their places), none of them when they name
 *   another node than the peer's;
 *   the loop coming to a batch the thread has not claimed prepares it
 *   itself, a Batch's hashes chunk by chunk beside the thread (a whole
 *   turn readied as fast as it is handed over, many times: ASan/LSan
 *   would see a batch prepared twice as a leak);
 *   a drain with batches never readied (a turn that failed early) leaves
 *   them untouched; without a thread, and for an entry of no turn
 *   (wm_agg_import's), the caller prepares.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "wm_agg_int.h"
#include "wm_testutil.h"

#define NREC 2400 /* records of the chain */
#define PER 300 /* records per batch: more than one chunk */
#define NB (NREC / PER)

typedef struct {
    uint8_t *srec[NREC];
    size_t len[NREC];
    uint8_t hash[NREC][WM_HASH_BYTES];
    /* Each batch both ways: a Batch message and a ZBatch message. */
    ProtobufCBinaryData bd[NREC];
    Wm__Batch batch[NB];
    Wm__SyncMsg plain[NB];
    Wm__ZBatch zb[NB];
    Wm__SyncMsg zmsg[NB];
} chain_t;

static chain_t *make_chain(void)
{
    chain_t *c = calloc(1, sizeof *c);
    wm_signer_t *s = tu_signer(7);
    assert_non_null(c);
    for (size_t i = 0; i < NREC; i++) {
        tu_rec_t t;
        tu_rec_init(&t, "xx/t/s", 1, i + 1, i ? c->hash[i - 1] : NULL);
        tu_rec_activity(&t, "主题宣讲");
        c->srec[i] = tu_seal(&t, s, &c->len[i]);
        wm_srec_hash_buf(c->srec[i], c->len[i], c->hash[i]);
        c->bd[i] = (ProtobufCBinaryData){c->len[i], c->srec[i]};
    }
    for (size_t b = 0; b < NB; b++) {
        wm__batch__init(&c->batch[b]);
        c->batch[b].batch_id = b + 1;
        c->batch[b].records = &c->bd[b * PER];
        c->batch[b].n_records = PER;
        wm__sync_msg__init(&c->plain[b]);
        c->plain[b].msg_case = WM__SYNC_MSG__MSG_BATCH;
        c->plain[b].batch = &c->batch[b];
        wm__zbatch__init(&c->zb[b]);
        uint8_t *z = NULL;
        size_t zlen = 0;
        uint32_t raw = 0;
        assert_int_equal(wm_wire_pack(&c->bd[b * PER], PER, &z, &zlen, &raw), WM_OK);
        c->zb[b].batch_id = b + 1;
        c->zb[b].count = PER;
        c->zb[b].raw_bytes = raw;
        c->zb[b].zstd = (ProtobufCBinaryData){zlen, z};
        wm__sync_msg__init(&c->zmsg[b]);
        c->zmsg[b].msg_case = WM__SYNC_MSG__MSG_ZBATCH;
        c->zmsg[b].zbatch = &c->zb[b];
    }
    wm_signer_free(&s);
    return c;
}

static void free_chain(chain_t *c)
{
    for (size_t i = 0; i < NREC; i++)
        free(c->srec[i]);
    for (size_t b = 0; b < NB; b++)
        free(c->zb[b].zstd.data);
    free(c);
}

/* The station the chains are of, as the register knows it. */
static Wm__PeerState peer_ps;
static wm_agg_peer_t peer = {.ps = &peer_ps};

/* pend[b]: batch b of c as the loop takes it (zipped: its ZBatch). */
static void take(wm_agg_pending_t *pb, chain_t *c, size_t b, int zipped)
{
    memset(pb, 0, sizeof *pb);
    pb->peer = &peer;
    if (zipped) {
        wm__batch__init(&pb->view);
        pb->batch = &pb->view;
        pb->msg = &c->zmsg[b];
    } else {
        pb->batch = &c->batch[b];
        pb->msg = &c->plain[b];
    }
}

/* pb, readied, holds batch b of c prepared: its records checked, as far
 * as they pass (expect: how many do), with their places. */
static void check_checked(const wm_agg_pending_t *pb, size_t b, size_t expect)
{
    if (!pb->pre) /* no thread: ingest checks them */
        return;
    for (size_t i = 0; i < PER; i++) {
        assert_int_equal(pb->pre[i].checked, i < expect);
        if (i < expect) {
            assert_int_equal(pb->pre[i].epoch, 1);
            assert_int_equal(pb->pre[i].seq, b * PER + i + 1);
            assert_true(pb->pre[i].prev_ok);
        }
    }
}

/* pb, readied, holds batch b of c prepared. */
static void check_prepared(const wm_agg_pending_t *pb, const chain_t *c, size_t b)
{
    assert_true(pb->prepared);
    check_checked(pb, b, peer_ps.node && strcmp(peer_ps.node, "xx/t/s") == 0 ? PER : 0);
    if (pb->msg->msg_case == WM__SYNC_MSG__MSG_ZBATCH) {
        assert_int_equal(pb->unz_reason, WM_SYNC_R_OK);
        assert_int_equal(pb->unz.n, PER);
        for (size_t i = 0; i < PER; i++) {
            size_t r = b * PER + i;
            assert_int_equal(pb->unz.recs[i].len, c->len[r]);
            assert_memory_equal(pb->unz.recs[i].data, c->srec[r], c->len[r]);
            assert_memory_equal(pb->unz.hashes + i * WM_HASH_BYTES, c->hash[r], WM_HASH_BYTES);
        }
        assert_null(pb->hashes);
    } else {
        assert_non_null(pb->hashes);
        assert_memory_equal(pb->hashes, c->hash[b * PER], PER * WM_HASH_BYTES);
        assert_int_equal(pb->unz.n, 0);
    }
}

static void release(wm_agg_pending_t *pend, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(pend[i].hashes);
        free(pend[i].pre);
        free(pend[i].unz_why);
        wm_wire_batch_free(&pend[i].unz);
    }
}

/* One turn: every batch, alternately plain and zipped, handed over one by
 * one and readied at once (the loop races the thread for each). */
static void one_turn(wm_agg_hasher_t *h, chain_t *c, int first_zipped)
{
    wm_agg_pending_t pend[NB];
    wm_agg_hasher_begin(h, pend);
    for (size_t b = 0; b < NB; b++) {
        take(&pend[b], c, b, (int)((b + (size_t)first_zipped) % 2));
        wm_agg_hasher_add(h, b + 1);
    }
    for (size_t b = 0; b < NB; b++) {
        wm_agg_hasher_ready(h, &pend[b]);
        check_prepared(&pend[b], c, b);
    }
    wm_agg_hasher_drain(h);
    release(pend, NB);
}

static void test_turns(void **state)
{
    (void)state;
    chain_t *c = make_chain();
    wm_agg_hasher_t *h = NULL;
    assert_int_equal(wm_agg_hasher_start(&h), WM_OK);
    for (int i = 0; i < 200; i++)
        one_turn(h, c, i % 2);
    /* Handed over all at once, readied later: the thread does most. */
    wm_agg_pending_t pend[NB];
    wm_agg_hasher_begin(h, pend);
    for (size_t b = 0; b < NB; b++)
        take(&pend[b], c, b, (int)(b % 2));
    wm_agg_hasher_add(h, NB);
    for (size_t b = 0; b < NB; b++) {
        wm_agg_hasher_ready(h, &pend[b]);
        check_prepared(&pend[b], c, b);
    }
    wm_agg_hasher_drain(h);
    release(pend, NB);
    wm_agg_hasher_stop(&h);
    assert_null(h);
    wm_agg_hasher_stop(&h); /* NULL is fine */
    free_chain(c);
}

static void test_corrupt_zbatch(void **state)
{
    (void)state;
    chain_t *c = make_chain();
    wm_agg_hasher_t *h = NULL;
    assert_int_equal(wm_agg_hasher_start(&h), WM_OK);
    c->zb[1].zstd.data[c->zb[1].zstd.len / 2] ^= 0x5a;
    wm_agg_pending_t pend[3];
    wm_agg_hasher_begin(h, pend);
    for (size_t b = 0; b < 3; b++) {
        take(&pend[b], c, b, 1);
        wm_agg_hasher_add(h, b + 1);
    }
    for (size_t b = 0; b < 3; b++)
        wm_agg_hasher_ready(h, &pend[b]);
    check_prepared(&pend[0], c, 0);
    check_prepared(&pend[2], c, 2);
    assert_true(pend[1].prepared);
    assert_int_equal(pend[1].unz_reason, WM_SYNC_R_BAD_FRAME);
    assert_non_null(pend[1].unz_why);
    assert_int_equal(pend[1].unz.n, 0);
    assert_null(pend[1].unz.recs);
    wm_agg_hasher_drain(h);
    release(pend, 3);
    wm_agg_hasher_stop(&h);
    free_chain(c);
}

static void test_drain_unreadied(void **state)
{
    (void)state;
    chain_t *c = make_chain();
    wm_agg_hasher_t *h = NULL;
    assert_int_equal(wm_agg_hasher_start(&h), WM_OK);
    for (int round = 0; round < 50; round++) {
        wm_agg_pending_t pend[NB];
        wm_agg_hasher_begin(h, pend);
        for (size_t b = 0; b < NB; b++)
            take(&pend[b], c, b, (int)(b % 2));
        wm_agg_hasher_add(h, NB);
        wm_agg_hasher_ready(h, &pend[0]);
        check_prepared(&pend[0], c, 0);
        wm_agg_hasher_drain(h); /* the rest: the thread's or nobody's */
        for (size_t b = 1; b < NB; b++) { /* partly prepared, perhaps, by the thread */
            assert_false(pend[b].prepared);
            for (size_t i = 0; i < pend[b].unz.n; i++)
                assert_memory_equal(pend[b].unz.recs[i].data, c->srec[b * PER + i],
                                    c->len[b * PER + i]);
        }
        release(pend, NB);
    }
    wm_agg_hasher_stop(&h);
    free_chain(c);
}

static void test_caller_prepares(void **state)
{
    (void)state;
    chain_t *c = make_chain();
    wm_agg_pending_t pend[2];
    /* No thread: each prepared when readied. */
    wm_agg_hasher_begin(NULL, pend);
    take(&pend[0], c, 0, 0);
    take(&pend[1], c, 1, 1);
    wm_agg_hasher_add(NULL, 2);
    wm_agg_hasher_ready(NULL, &pend[0]);
    wm_agg_hasher_ready(NULL, &pend[1]);
    wm_agg_hasher_ready(NULL, &pend[1]); /* once only */
    check_prepared(&pend[0], c, 0);
    check_prepared(&pend[1], c, 1);
    wm_agg_hasher_drain(NULL);
    release(pend, 2);
    /* A thread, and an entry of no turn (an import's). */
    wm_agg_hasher_t *h = NULL;
    assert_int_equal(wm_agg_hasher_start(&h), WM_OK);
    wm_agg_pending_t solo;
    take(&solo, c, 3, 1);
    wm_agg_hasher_ready(h, &solo);
    check_prepared(&solo, c, 3);
    release(&solo, 1);
    wm_agg_hasher_stop(&h);
    free_chain(c);
}

/* The chain's records name another node than the peer: none passes the
 * precheck (ingest then refuses the first, wrong_node); hashes and
 * restored records are there all the same. */
static void test_precheck_stops(void **state)
{
    (void)state;
    chain_t *c = make_chain();
    wm_agg_hasher_t *h = NULL;
    peer_ps.node = "xx/t/other";
    assert_int_equal(wm_agg_hasher_start(&h), WM_OK);
    one_turn(h, c, 0);
    one_turn(h, c, 1);
    wm_agg_hasher_stop(&h);
    peer_ps.node = "xx/t/s";
    free_chain(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_turns),
        cmocka_unit_test(test_corrupt_zbatch),
        cmocka_unit_test(test_drain_unreadied),
        cmocka_unit_test(test_caller_prepares),
        cmocka_unit_test(test_precheck_stops),
    };
    wm__peer_state__init(&peer_ps);
    peer_ps.node = "xx/t/s";
    peer_ps.role = "station";
    if (wm_crypto_init() != WM_OK)
        return 1;
    return cmocka_run_group_tests(tests, NULL, NULL);
}
