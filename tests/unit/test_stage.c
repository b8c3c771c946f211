/* SPDX-License-Identifier: MIT */
/*
 * test_stage — a property test of the aggregator's staging and verifier
 * steps (storage/wm_stage, storage/wm_ingest), no daemon: random chains
 * of one station, split into random batches, where one record inside the
 * chain is signed by a foreign key and every record after it chains over
 * it, as only a holder of the station key could make. Batches go through
 * wm_ingest (staged, acked on the batch tail), and between them the
 * verifier's steps run as the daemon runs them (wm_stage_verify in a read
 * transaction, in chunks of random size; then wm_stage_promote, and
 * wm_stage_discard on a bad record, in a write transaction).
 *
 * Properties, every round: the log always verifies (wm_log_verify); the
 * bad record never reaches it; if it was acked (staged), the node ends
 * flagged with the record kept as proof; nothing is left staged; the
 * rollup counts exactly the records in the log, and the station's quota
 * usage exactly their bytes (what was discarded is refunded). Half the
 * batches go through wm_ingest_hashed with hashes taken here, as a
 * compressed batch's come from wm_wire_unpack, and a third with a prefix
 * of their records prechecked (wm_ingest_precheck, as the aggregator's
 * preparing thread does). Also: WM_INGEST_SETTLE refuses such a batch
 * whole; a record altered on the way is refused with the same verdict by
 * every path; so is one that breaks a rule the precheck applies.
 *
 * Deterministic: the seed is printed; WM_SEED=<n> replays a run and
 * WM_ROUNDS=<n> sets the number of rounds (default 60).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "wm_ingest.h"
#include "wm_quota.h"
#include "wm_rollup.h"
#include "wm_stage.h"
#include "wm_testutil.h"

#define MAX_N 80
#define STATION "xx/longhua/prop"

static uint64_t seed_state;
static unsigned rounds = 60;

static uint64_t rnd(void)
{
    /* splitmix64 */
    uint64_t z = (seed_state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static size_t rnd_in(size_t lo, size_t hi)
{
    return lo + (size_t)(rnd() % (hi - lo + 1));
}

typedef struct {
    uint8_t *srec[MAX_N];
    size_t len[MAX_N];
    size_t n;
    size_t bad; /* index of the record signed by the foreign key */
} chain_t;

/* n records of STATION, maybe switching to epoch 2 on the way; record
 * `bad` signed by foreign, all the others by own. */
static void make_chain(chain_t *c, const wm_signer_t *own, const wm_signer_t *foreign)
{
    uint8_t prev[WM_HASH_BYTES] = {0};
    uint32_t epoch = 1;
    uint64_t seq = 0;
    c->n = rnd_in(2, MAX_N);
    c->bad = rnd_in(0, c->n - 1);
    size_t switch_at = rnd() % 3 == 0 ? rnd_in(1, c->n - 1) : c->n;
    for (size_t i = 0; i < c->n; i++) {
        tu_rec_t t;
        char title[32];
        if (i == switch_at) {
            epoch = 2;
            seq = 0;
            memset(prev, 0, sizeof prev);
        }
        tu_rec_init(&t, STATION, epoch, ++seq, prev);
        snprintf(title, sizeof title, "prop %zu", i);
        tu_rec_activity(&t, title);
        c->srec[i] = tu_seal(&t, i == c->bad ? foreign : own, &c->len[i]);
        tu_srec_hash(c->srec[i], c->len[i], prev);
    }
}

static void free_chain(chain_t *c)
{
    for (size_t i = 0; i < c->n; i++)
        free(c->srec[i]);
}

/* The verifier's in-memory position, and whether it flagged the node. */
typedef struct {
    uint32_t epoch;
    uint64_t seq;
    int flagged;
} vstate_t;

/* One step of the verifier as the daemon runs it: verify a chunk in a read
 * transaction, then promote (and discard on a bad record) in a write
 * transaction. Returns nonzero if it made progress. */
static int verifier_step(wm_store_t *s, uint32_t node, vstate_t *v, size_t chunk)
{
    wm_txn_t *t = NULL;
    wm_stage_check_t chk;
    assert_int_equal(wm_txn_begin(s, 0, &t), WM_OK);
    assert_int_equal(wm_stage_verify(t, node, v->epoch, v->seq, chunk, &chk), WM_OK);
    wm_txn_abort(&t);
    if (!chk.checked && !chk.bad)
        return 0;
    wm_appender_t *ap = NULL;
    uint64_t moved = 0, dropped = 0;
    assert_int_equal(wm_txn_begin(s, 1, &t), WM_OK);
    assert_int_equal(wm_append_begin(t, 0, &ap), WM_OK);
    assert_int_equal(wm_stage_promote(t, ap, node, chk.epoch, chk.seq, SIZE_MAX, &moved), WM_OK);
    assert_int_equal(moved, chk.checked);
    if (chk.bad) {
        assert_int_equal(wm_stage_discard(t, node, chk.bad_epoch, chk.bad_seq, &dropped), WM_OK);
        assert_true(dropped >= 1);
        v->flagged = 1;
    }
    assert_int_equal(wm_append_finish(&ap), WM_OK);
    assert_int_equal(wm_txn_commit(&t), WM_OK);
    v->epoch = chk.epoch;
    v->seq = chk.seq;
    return 1;
}

static void one_round(unsigned round)
{
    char *dir = tu_mkdtemp();
    wm_store_t *s = NULL;
    wm_txn_t *t = NULL;
    uint32_t node = 0;
    wm_signer_t *own = tu_signer(1), *foreign = tu_signer(2);
    chain_t c;
    make_chain(&c, own, foreign);
    assert_int_equal(wm_store_open(dir, WM_STORE_NOSYNC, 64, &s), WM_OK);
    assert_int_equal(wm_txn_begin(s, 1, &t), WM_OK);
    assert_int_equal(wm_nodeno_add(t, STATION, &node), WM_OK);
    assert_int_equal(wm_txn_commit(&t), WM_OK);

    wm_quota_t unlimited = {0, 0}; /* charged, never refused */
    wm_sender_t snd = {STATION, node, wm_signer_pub(own), 0, NULL, &unlimited};
    vstate_t v = {0};
    size_t pos = 0;
    int bad_acked = 0, bad_refused = 0;
    while (pos < c.n && !v.flagged && !bad_refused) {
        size_t k = rnd_in(1, 12);
        if (pos + k > c.n)
            k = c.n - pos;
        wm_ingest_t res;
        uint8_t hashes[MAX_N * WM_HASH_BYTES];
        for (size_t i = 0; i < k; i++)
            tu_srec_hash(c.srec[pos + i], c.len[pos + i], hashes + i * WM_HASH_BYTES);
        /* A third of the batches prechecked, as the aggregator's preparing
         * thread does, for a random prefix of them (the rest unchecked). */
        wm_ingest_pre_t pre[MAX_N];
        memset(pre, 0, sizeof pre);
        int prechecked = rnd() % 3 == 0;
        for (size_t i = 0, m = rnd_in(0, k); prechecked && i < m; i++) {
            wm_arena_t ar = {0};
            assert_int_equal(wm_ingest_precheck(&snd, c.srec[pos + i], c.len[pos + i], i, &ar,
                                                &pre[i], &res),
                             WM_OK);
            wm_arena_free(&ar);
        }
        assert_int_equal(wm_txn_begin(s, 1, &t), WM_OK);
        wm_err_t err = wm_ingest_prechecked(t, &snd, (const uint8_t *const *)c.srec + pos,
                                            c.len + pos, rnd() % 2 ? hashes : NULL,
                                            prechecked ? pre : NULL, k, (int64_t)time(NULL),
                                            &res);
        if (err != WM_OK) {
            /* Only the bad record as the tail of its epoch run is refused
             * at once; the station then cannot get past it. */
            wm_txn_abort(&t);
            assert_int_equal(res.reason, WM_SYNC_R_BAD_SIGNATURE);
            assert_true(c.bad >= pos && c.bad < pos + k);
            bad_refused = 1;
            break;
        }
        assert_int_equal(wm_txn_commit(&t), WM_OK);
        if (c.bad >= pos && c.bad < pos + k)
            bad_acked = 1;
        pos += k;
        if (rnd() % 2)
            verifier_step(s, node, &v, rnd_in(1, 10));
    }
    while (verifier_step(s, node, &v, rnd_in(1, 10)))
        ;

    /* The properties. */
    wm_verify_t ver;
    uint64_t count = 0, proofs = 0, staged = 0, sq = 0;
    uint32_t se = 0;
    wm_sums_t sums = {0};
    assert_int_equal(wm_txn_begin(s, 0, &t), WM_OK);
    assert_int_equal(wm_log_count(t, node, &count), WM_OK);
    if (count)
        assert_int_equal(wm_log_verify(t, node, STATION, &ver), WM_OK);
    assert_int_equal(wm_proof_count(t, node, &proofs), WM_OK);
    assert_int_equal(wm_stage_pending(t, node, &staged, &se, &sq), WM_OK);
    assert_int_equal(wm_rollup_sum(t, node, 20240301, 20240331, &sums), WM_OK);
    wm_quota_use_t use;
    assert_int_equal(wm_quota_usage(t, node, &use), WM_OK);
    int64_t counted = wm_sums_total(&sums, WM_FIG_ACTIVITY);
    wm_sums_free(&sums);
    wm_txn_abort(&t);
    if (bad_acked) {
        assert_true(v.flagged);
        assert_true(proofs >= 1);
        assert_int_equal(count, c.bad); /* everything before it, nothing after */
    } else {
        assert_false(v.flagged);
        assert_int_equal(proofs, 0);
        assert_int_equal(count, pos);
        assert_true(count <= c.bad);
    }
    assert_int_equal(staged, 0);
    assert_int_equal(counted, (int64_t)count);
    uint64_t bytes = 0;
    for (uint64_t i = 0; i < count; i++)
        bytes += c.len[i];
    assert_int_equal(use.records, count);
    assert_int_equal(use.bytes, bytes);
    (void)round;

    free_chain(&c);
    wm_signer_free(&own);
    wm_signer_free(&foreign);
    wm_store_close(&s);
    tu_rmrf(dir);
    free(dir);
}

static void test_random_batches(void **state)
{
    (void)state;
    for (unsigned r = 0; r < rounds; r++)
        one_round(r);
}

/* WM_INGEST_SETTLE checks every signature now: such a batch is refused
 * whole, naming the bad record, and nothing is stored. */
static void test_settle_refuses(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp();
    wm_store_t *s = NULL;
    wm_txn_t *t = NULL;
    uint32_t node = 0;
    wm_signer_t *own = tu_signer(1), *foreign = tu_signer(2);
    chain_t c;
    uint8_t prev[WM_HASH_BYTES] = {0};
    c.n = 5;
    c.bad = 2;
    for (size_t i = 0; i < c.n; i++) {
        tu_rec_t r;
        tu_rec_init(&r, STATION, 1, i + 1, prev);
        tu_rec_activity(&r, "settle");
        c.srec[i] = tu_seal(&r, i == c.bad ? foreign : own, &c.len[i]);
        tu_srec_hash(c.srec[i], c.len[i], prev);
    }
    assert_int_equal(wm_store_open(dir, WM_STORE_NOSYNC, 64, &s), WM_OK);
    assert_int_equal(wm_txn_begin(s, 1, &t), WM_OK);
    assert_int_equal(wm_nodeno_add(t, STATION, &node), WM_OK);
    wm_sender_t snd = {STATION, node, wm_signer_pub(own), WM_INGEST_SETTLE, NULL, NULL};
    wm_ingest_t res;
    assert_int_equal(wm_ingest(t, &snd, (const uint8_t *const *)c.srec, c.len, c.n, 0, &res),
                     WM_EBADSIG);
    assert_int_equal(res.reason, WM_SYNC_R_BAD_SIGNATURE);
    assert_int_equal(res.bad_seq, 3);
    wm_txn_abort(&t);
    free_chain(&c);
    wm_signer_free(&own);
    wm_signer_free(&foreign);
    wm_store_close(&s);
    tu_rmrf(dir);
    free(dir);
}

/* A record altered on the way (one byte of its title; its signature and
 * the next record's prev no longer match it): wm_ingest and
 * wm_ingest_hashed, with the hashes of the bytes as they arrived, refuse
 * the batch alike, naming the altered record. */
static void test_hashed_altered(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp();
    wm_store_t *s = NULL;
    wm_txn_t *t = NULL;
    uint32_t node = 0;
    wm_signer_t *own = tu_signer(1);
    chain_t c;
    uint8_t prev[WM_HASH_BYTES] = {0}, hashes[8 * WM_HASH_BYTES];
    c.n = 8;
    for (size_t i = 0; i < c.n; i++) {
        tu_rec_t r;
        tu_rec_init(&r, STATION, 1, i + 1, prev);
        tu_rec_activity(&r, "altered");
        c.srec[i] = tu_seal(&r, own, &c.len[i]);
        tu_srec_hash(c.srec[i], c.len[i], prev);
    }
    uint8_t *hit = memmem(c.srec[4], c.len[4], "altered", 7);
    assert_non_null(hit);
    hit[0] = 'A';
    for (size_t i = 0; i < c.n; i++)
        tu_srec_hash(c.srec[i], c.len[i], hashes + i * WM_HASH_BYTES);
    assert_int_equal(wm_store_open(dir, WM_STORE_NOSYNC, 64, &s), WM_OK);
    assert_int_equal(wm_txn_begin(s, 1, &t), WM_OK);
    assert_int_equal(wm_nodeno_add(t, STATION, &node), WM_OK);
    assert_int_equal(wm_txn_commit(&t), WM_OK);
    wm_sender_t snd = {STATION, node, wm_signer_pub(own), 0, NULL, NULL};
    wm_ingest_pre_t pre[8] = {0};
    wm_arena_t ar = {0};
    wm_ingest_t pres;
    for (size_t i = 0; i < c.n; i++) /* the content holds: only the chain breaks */
        assert_int_equal(wm_ingest_precheck(&snd, c.srec[i], c.len[i], i, &ar, &pre[i], &pres),
                         WM_OK);
    wm_arena_free(&ar);
    for (int hashed = 0; hashed < 3; hashed++) {
        wm_ingest_t res;
        assert_int_equal(wm_txn_begin(s, 1, &t), WM_OK);
        assert_int_equal(wm_ingest_prechecked(t, &snd, (const uint8_t *const *)c.srec, c.len,
                                              hashed ? hashes : NULL, hashed == 2 ? pre : NULL,
                                              c.n, 0, &res),
                         WM_ECHAIN);
        assert_int_equal(res.reason, WM_SYNC_R_BAD_CHAIN);
        assert_int_equal(res.bad_seq, 5);
        assert_non_null(strstr(res.detail, "was altered"));
        wm_txn_abort(&t);
    }
    free_chain(&c);
    wm_signer_free(&own);
    wm_store_close(&s);
    tu_rmrf(dir);
    free(dir);
}

/* A record that breaks a rule ingest checks before the store (record 4
 * names another node; record 6 breaks a content rule): wm_ingest_precheck
 * refuses it as wm_ingest does, passes the ones before, and
 * wm_ingest_prechecked with what it passed refuses the batch with the
 * very same verdict as wm_ingest. */
static void test_precheck_refuses(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp();
    wm_store_t *s = NULL;
    wm_txn_t *t = NULL;
    uint32_t node = 0;
    wm_signer_t *own = tu_signer(1);
    assert_int_equal(wm_store_open(dir, WM_STORE_NOSYNC, 64, &s), WM_OK);
    assert_int_equal(wm_txn_begin(s, 1, &t), WM_OK);
    assert_int_equal(wm_nodeno_add(t, STATION, &node), WM_OK);
    assert_int_equal(wm_txn_commit(&t), WM_OK);
    wm_sender_t snd = {STATION, node, wm_signer_pub(own), 0, NULL, NULL};
    for (int bad = 4; bad <= 6; bad += 2) {
        chain_t c;
        uint8_t prev[WM_HASH_BYTES] = {0};
        c.n = 8;
        for (size_t i = 0; i < c.n; i++) {
            tu_rec_t r;
            tu_rec_init(&r, i + 1 == 4 && bad == 4 ? "xx/longhua/other" : STATION, 1, i + 1,
                        prev);
            tu_rec_activity(&r, "precheck");
            if (i + 1 == 6 && bad == 6)
                r.b.activity.participants = 4000000000u; /* a content rule: a count */
            c.srec[i] = tu_seal(&r, own, &c.len[i]);
            tu_srec_hash(c.srec[i], c.len[i], prev);
        }
        wm_ingest_pre_t pre[8] = {0};
        wm_arena_t ar = {0};
        wm_ingest_t pres, res[2];
        size_t i = 0;
        while (i < c.n &&
               wm_ingest_precheck(&snd, c.srec[i], c.len[i], i, &ar, &pre[i], &pres) == WM_OK)
            i++;
        wm_arena_free(&ar);
        assert_int_equal(i, (size_t)bad - 1);
        assert_false(pre[bad - 1].checked);
        for (int with = 0; with < 2; with++) {
            assert_int_equal(wm_txn_begin(s, 1, &t), WM_OK);
            assert_int_not_equal(wm_ingest_prechecked(t, &snd, (const uint8_t *const *)c.srec,
                                                      c.len, NULL, with ? pre : NULL, c.n, 0,
                                                      &res[with]),
                                 WM_OK);
            wm_txn_abort(&t);
        }
        assert_int_equal(res[1].reason, bad == 4 ? WM_SYNC_R_WRONG_NODE : WM_SYNC_R_INVALID);
        assert_int_equal(res[1].reason, res[0].reason);
        assert_int_equal(res[1].err, res[0].err);
        assert_int_equal(res[1].bad_seq, (uint64_t)bad);
        assert_int_equal(res[1].bad_seq, res[0].bad_seq);
        assert_string_equal(res[1].detail, res[0].detail);
        assert_string_equal(res[1].detail, pres.detail);
        free_chain(&c);
    }
    wm_signer_free(&own);
    wm_store_close(&s);
    tu_rmrf(dir);
    free(dir);
}

int main(void)
{
    if (wm_crypto_init() != WM_OK)
        return 1;
    const char *e = getenv("WM_SEED");
    seed_state = e ? strtoull(e, NULL, 10) : (uint64_t)time(NULL);
    printf("test_stage: WM_SEED=%llu\n", (unsigned long long)seed_state);
    if ((e = getenv("WM_ROUNDS")))
        rounds = (unsigned)strtoul(e, NULL, 10);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_random_batches),
        cmocka_unit_test(test_settle_refuses),
        cmocka_unit_test(test_hashed_altered),
        cmocka_unit_test(test_precheck_refuses),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
