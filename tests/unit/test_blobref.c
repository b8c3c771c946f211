/* SPDX-License-Identifier: MIT */
/*
 * test_blobref — storage/wm_blobref.c, the index of the blobs each log's
 * records name, in a real LMDB store: an activity's attachments indexed
 * once (a second record naming the same blob changes nothing), other
 * kinds ignored, per-node walks from the start and after a hash, the
 * confirmed flag, and a read-only store opened before the index existed.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

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

int main(void)
{
    if (wm_crypto_init() != WM_OK)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_index_walk_mark),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
