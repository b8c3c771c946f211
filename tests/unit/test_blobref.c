/* SPDX-License-Identifier: MIT */
/*
 * test_blobref — storage/wm_blobref.c, the index of the blobs each log's
 * records name, in a real LMDB store: an activity's attachments indexed
 * once (a second record naming the same blob changes nothing), other
 * kinds ignored, per-node walks from the start and after a hash, the
 * confirmed flag, and a read-only store opened before the index existed;
 * each node's total of held blobs (the quota's count) against a walk of its
 * entries after random sequences of records, holds, releases and commits,
 * and rebuilt from a real blob store.
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

#include "wm_blob.h"
#include "wm_blobref.h"
#include "wm_testutil.h"

static void activity_with(tu_rec_t *tr, uint64_t seq, Wm__Attachment **atts, size_t n)
{
    tu_rec_init(tr, "xx/st", 1, seq, NULL);
    tu_rec_activity(tr, "有照片的活动");
    tr->b.activity.attachments = atts;
    tr->b.activity.n_attachments = n;
}

static int collect(const wm_blobref_t *ref, void *ctx)
{
    wm_blobref_t *out = ctx;
    for (; out->size; out++)
        ;
    *out = *ref;
    return 0;
}

static void test_index_walk_mark(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp();
    wm_store_t *s = NULL;
    wm_txn_t *t = NULL;
    assert_int_equal(wm_store_open(dir, WM_STORE_NOSYNC, 1, &s), WM_OK);
    uint8_t h[3][WM_HASH_BYTES];
    Wm__Attachment a[3], *ap[3];
    for (int i = 0; i < 3; i++) {
        memset(h[i], 0x10 * (3 - i), WM_HASH_BYTES); /* hash order: 2, 1, 0 */
        wm__attachment__init(&a[i]);
        a[i].hash = (ProtobufCBinaryData){WM_HASH_BYTES, h[i]};
        a[i].size = 1000u * (uint64_t)(i + 1);
        ap[i] = &a[i];
    }
    tu_rec_t r1, r2, r3;
    activity_with(&r1, 1, ap, 2);     /* blobs 0 and 1 */
    activity_with(&r2, 2, ap + 1, 2); /* 1 again (another size would not count), and 2 */
    a[1].size = 1;                    /* the second naming of blob 1 says another size */
    tu_rec_init(&r3, "xx/st", 1, 3, NULL);
    tu_rec_team(&r3, "t", WM__TEAM_ACTION__CREATE, "队"); /* not an activity */
    assert_int_equal(wm_txn_begin(s, 1, &t), WM_OK);
    a[1].size = 2000;
    assert_int_equal(wm_blobref_index(t, 7, &r1.r), WM_OK);
    a[1].size = 1;
    assert_int_equal(wm_blobref_index(t, 7, &r2.r), WM_OK);
    assert_int_equal(wm_blobref_index(t, 7, &r3.r), WM_OK);
    assert_int_equal(wm_blobref_index(t, 8, &r1.r), WM_OK); /* another node */
    assert_int_equal(wm_txn_commit(&t), WM_OK);

    wm_blobref_t got[5] = {0}, one;
    assert_int_equal(wm_txn_begin(s, 1, &t), WM_OK);
    assert_int_equal(wm_blobref_each(t, 7, NULL, collect, got), WM_OK);
    assert_memory_equal(got[0].hash, h[2], WM_HASH_BYTES);
    assert_memory_equal(got[2].hash, h[0], WM_HASH_BYTES);
    assert_int_equal(got[3].size, 0); /* three of node 7, none of node 8 */
    assert_int_equal(wm_blobref_get(t, 7, h[1], &one), WM_OK);
    assert_int_equal(one.size, 2000); /* the first record's word */
    assert_int_equal(one.seq, 1);
    assert_int_equal(wm_blobref_get(t, 7, h[2], &one), WM_OK);
    assert_int_equal(one.seq, 2);
    memset(got, 0, sizeof got);
    assert_int_equal(wm_blobref_each(t, 7, h[2], collect, got), WM_OK);
    assert_memory_equal(got[0].hash, h[1], WM_HASH_BYTES); /* strictly after */
    assert_int_equal(got[2].size, 0);
    assert_int_equal(wm_blobref_mark(t, 7, h[0], WM_BLOBREF_CONFIRMED), WM_OK);
    assert_int_equal(wm_blobref_mark(t, 9, h[0], WM_BLOBREF_CONFIRMED), WM_ENOTFOUND);
    assert_int_equal(wm_txn_commit(&t), WM_OK);
    assert_int_equal(wm_txn_begin(s, 0, &t), WM_OK);
    assert_int_equal(wm_blobref_get(t, 7, h[0], &one), WM_OK);
    assert_int_equal(one.flags, WM_BLOBREF_CONFIRMED);
    assert_int_equal(wm_blobref_get(t, 8, h[0], &one), WM_OK);
    assert_int_equal(one.flags, 0); /* per node */
    wm_txn_abort(&t);
    wm_store_close(&s);
    tu_rmrf(dir);
    free(dir);
}

typedef struct {
    uint64_t bytes, count;
} walk_t;

static int walk_held(const wm_blobref_t *ref, void *ctx)
{
    walk_t *w = ctx;
    if (ref->flags & WM_BLOBREF_HELD) {
        w->bytes += ref->size;
        w->count++;
    }
    return 0;
}

/* Every node's total equals the walk of its entries. */
static void check_totals(wm_txn_t *t, uint32_t nodes, const char *when, unsigned seed)
{
    for (uint32_t n = 1; n <= nodes; n++) {
        walk_t w = {0};
        wm_blobref_total_t tot;
        assert_int_equal(wm_blobref_each(t, n, NULL, walk_held, &w), WM_OK);
        assert_int_equal(wm_blobref_total(t, n, &tot), WM_OK);
        if (tot.bytes != w.bytes || tot.count != w.count)
            fail_msg("node %u after %s (seed %u): total %llu bytes/%llu, walk %llu/%llu", n, when,
                     seed, (unsigned long long)tot.bytes, (unsigned long long)tot.count,
                     (unsigned long long)w.bytes, (unsigned long long)w.count);
    }
}

#define POOL 24
#define NODES 3

/* An activity of node's, seq, naming k blobs of the pool (sizes by hash). */
static void index_some(wm_txn_t *t, uint8_t pool[POOL][WM_HASH_BYTES], uint32_t node,
                       uint64_t seq)
{
    Wm__Attachment a[3], *ap[3];
    size_t k = 1 + (size_t)rand() % 3;
    for (size_t i = 0; i < k; i++) {
        int j = rand() % POOL;
        wm__attachment__init(&a[i]);
        a[i].hash = (ProtobufCBinaryData){WM_HASH_BYTES, pool[j]};
        a[i].size = 1000u + 37u * (uint64_t)j;
        ap[i] = &a[i];
    }
    tu_rec_t r;
    activity_with(&r, seq, ap, k);
    assert_int_equal(wm_blobref_index(t, node, &r.r), WM_OK);
}

/* The totals equal the walk after random records, holds, releases,
 * commits and aborts. */
static void test_totals_random(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp();
    wm_store_t *s = NULL;
    wm_txn_t *t = NULL;
    uint8_t pool[POOL][WM_HASH_BYTES];
    unsigned seed = (unsigned)time(NULL);
    srand(seed);
    for (int i = 0; i < POOL; i++)
        for (int j = 0; j < WM_HASH_BYTES; j++)
            pool[i][j] = (uint8_t)rand();
    assert_int_equal(wm_store_open(dir, WM_STORE_NOSYNC, 1, &s), WM_OK);
    assert_int_equal(wm_txn_begin(s, 1, &t), WM_OK);
    int holds = 0, releases = 0;
    for (uint64_t step = 1; step <= 3000; step++) {
        uint32_t node = 1 + (uint32_t)rand() % NODES;
        const uint8_t *h = pool[rand() % POOL];
        int op = rand() % 100;
        wm_err_t err = WM_OK;
        if (op < 30) {
            index_some(t, pool, node, step);
        } else if (op < 80) {
            err = wm_blobref_hold(t, node, h, op < 60);
            holds += err == WM_OK;
        } else if (op < 85) {
            err = wm_blobref_release(t, h);
            releases++;
        } else if (op < 95) {
            assert_int_equal(wm_txn_commit(&t), WM_OK);
            assert_int_equal(wm_txn_begin(s, 1, &t), WM_OK);
        } else {
            wm_txn_abort(&t); /* the totals go back with the flags */
            assert_int_equal(wm_txn_begin(s, 1, &t), WM_OK);
        }
        if (err != WM_OK && err != WM_ENOTFOUND)
            fail_msg("step %llu (seed %u): %s", (unsigned long long)step, seed, wm_strerror(err));
        check_totals(t, NODES, "a step", seed);
    }
    wm_txn_abort(&t);
    print_message("totals: 3000 steps, %d holds, %d releases (seed %u)\n", holds, releases, seed);
    wm_store_close(&s);
    tu_rmrf(dir);
    free(dir);
}

/* A store without totals: rebuilt from the blob store, each entry held iff
 * its blob is present with the size its records say; rebuilt again,
 * nothing changes. */
static void test_totals_rebuild(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp(), bdir[4096];
    wm_store_t *s = NULL;
    wm_blob_t *bs = NULL;
    wm_txn_t *t = NULL;
    uint8_t h[4][WM_HASH_BYTES], data[3000];
    Wm__Attachment a[4], *ap[4];
    snprintf(bdir, sizeof bdir, "%s/blobs", dir);
    assert_int_equal(wm_store_open(dir, WM_STORE_NOSYNC, 1, &s), WM_OK);
    assert_int_equal(wm_blob_open(bdir, &bs), WM_OK);
    for (int i = 0; i < 4; i++) {
        memset(data, 'a' + i, sizeof data);
        if (i < 3) /* blobs 0-2 present; 3 named, never received */
            assert_int_equal(wm_blob_put(bs, data, 1000u * (size_t)(i + 1), h[i]), WM_OK);
        else
            memset(h[i], 0x77, WM_HASH_BYTES);
        wm__attachment__init(&a[i]);
        a[i].hash = (ProtobufCBinaryData){WM_HASH_BYTES, h[i]};
        a[i].size = 1000u * (uint64_t)(i + 1);
        ap[i] = &a[i];
    }
    tu_rec_t r1, r2;
    activity_with(&r1, 1, ap, 4);
    activity_with(&r2, 2, ap, 2);
    assert_int_equal(wm_txn_begin(s, 1, &t), WM_OK);
    int kept = 1;
    assert_int_equal(wm_blobref_totals_kept(t, &kept), WM_OK);
    assert_int_equal(kept, 0);
    assert_int_equal(wm_blobref_index(t, 1, &r1.r), WM_OK);
    a[1].size = 5; /* node 2 names blob 1 with a size its bytes do not have */
    assert_int_equal(wm_blobref_index(t, 2, &r2.r), WM_OK);
    assert_int_equal(wm_blobref_hold(t, 1, h[3], 1), WM_OK); /* a flag the store belies */
    uint64_t changed = 0;
    assert_int_equal(wm_blobref_rebuild(t, bs, &changed), WM_OK);
    assert_true(changed >= 2);
    assert_int_equal(wm_blobref_totals_kept(t, &kept), WM_OK);
    assert_int_equal(kept, 1);
    wm_blobref_total_t tot;
    assert_int_equal(wm_blobref_total(t, 1, &tot), WM_OK);
    assert_int_equal(tot.bytes, 6000); /* blobs 0, 1, 2 */
    assert_int_equal(tot.count, 3);
    assert_int_equal(wm_blobref_total(t, 2, &tot), WM_OK);
    assert_int_equal(tot.bytes, 1000); /* blob 0 only: 1 has another size */
    check_totals(t, 2, "a rebuild", 0);
    assert_int_equal(wm_txn_commit(&t), WM_OK);
    assert_int_equal(wm_txn_begin(s, 1, &t), WM_OK);
    assert_int_equal(wm_blobref_rebuild(t, bs, &changed), WM_OK);
    assert_int_equal(changed, 0);
    /* a blob removed: released for every node */
    assert_int_equal(wm_blob_remove(bs, h[0]), WM_OK);
    assert_int_equal(wm_blobref_release(t, h[0]), WM_OK);
    assert_int_equal(wm_blobref_total(t, 2, &tot), WM_OK);
    assert_int_equal(tot.count, 0);
    check_totals(t, 2, "a release", 0);
    assert_int_equal(wm_blobref_rebuild(t, bs, &changed), WM_OK);
    assert_int_equal(changed, 0);
    wm_txn_abort(&t);
    wm_blob_close(&bs);
    wm_store_close(&s);
    tu_rmrf(dir);
    free(dir);
}

int main(void)
{
    if (wm_crypto_init() != WM_OK)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_index_walk_mark),
        cmocka_unit_test(test_totals_random),
        cmocka_unit_test(test_totals_rebuild),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
