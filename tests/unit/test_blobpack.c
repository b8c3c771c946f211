/* SPDX-License-Identifier: MIT */
/*
 * test_blobpack — storage/wm_blobpack.c on real files: a pack of a store's
 * blobs read into an empty store (every blob back, verified), again
 * (idempotent: all held), with a filter (refused ones skipped); a pack
 * with one byte altered (that blob refused as corrupt, the ones before
 * kept); cut short at every region (header, data, end: reported
 * truncated, whole blobs before the cut kept, a .part resumed by the next
 * read of the whole pack).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "wm_blobpack.h"
#include "wm_testutil.h"

#define NB 4

static wm_blob_t *store(const char *dir, const char *name)
{
    char p[PATH_MAX];
    wm_blob_t *bs = NULL;
    snprintf(p, sizeof p, "%s/%s", dir, name);
    assert_int_equal(wm_blob_open(p, &bs), WM_OK);
    return bs;
}

static uint8_t *file_bytes(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    *len = (size_t)ftell(f);
    rewind(f);
    uint8_t *b = malloc(*len + 1);
    assert_int_equal(fread(b, 1, *len, f), *len);
    fclose(f);
    return b;
}

static wm_err_t read_mem(wm_blob_t *bs, const uint8_t *b, size_t len, wm_blobpack_allow_fn allow,
                         wm_blobpack_count_t *c)
{
    char why[WM_WHY_MAX];
    FILE *f = fmemopen((void *)b, len ? len : 1, "rb");
    assert_non_null(f);
    wm_err_t err = wm_blobpack_read(bs, f, allow, NULL, c, why, sizeof why);
    fclose(f);
    return err;
}

static int no_first(const uint8_t hash[static WM_HASH_BYTES], uint64_t size, void *ctx)
{
    (void)hash;
    (void)ctx;
    return size != 100000; /* the first blob below is 100000 bytes */
}

static void test_roundtrip_and_faults(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp(), pack[PATH_MAX];
    wm_blob_t *src = store(dir, "src");
    uint8_t h[NB][WM_HASH_BYTES];
    for (int i = 0; i < NB; i++) {
        size_t len = 100000 * (size_t)(i + 1);
        uint8_t *d = malloc(len);
        for (size_t k = 0; k < len; k++)
            d[k] = (uint8_t)(k * 7 + (size_t)i);
        assert_int_equal(wm_blob_put(src, d, len, h[i]), WM_OK);
        free(d);
    }
    snprintf(pack, sizeof pack, "%s/p.blobs", dir);
    FILE *f = fopen(pack, "wb");
    wm_blobpack_count_t c;
    assert_int_equal(wm_blobpack_write(src, f, (const uint8_t(*)[WM_HASH_BYTES])h, NB, &c), WM_OK);
    fclose(f);
    assert_int_equal(c.blobs, NB);
    assert_int_equal(c.bytes, 1000000);
    size_t len = 0;
    uint8_t *b = file_bytes(pack, &len);

    wm_blob_t *dst = store(dir, "dst");
    assert_int_equal(read_mem(dst, b, len, NULL, &c), WM_OK);
    assert_int_equal(c.stored, NB);
    char why[WM_WHY_MAX];
    for (int i = 0; i < NB; i++)
        assert_int_equal(wm_blob_verify(dst, h[i], why, sizeof why), WM_OK);
    assert_int_equal(read_mem(dst, b, len, NULL, &c), WM_OK); /* idempotent */
    assert_int_equal(c.held, NB);
    assert_int_equal(c.stored, 0);

    wm_blob_t *flt = store(dir, "flt");
    assert_int_equal(read_mem(flt, b, len, no_first, &c), WM_OK);
    assert_int_equal(c.refused, 1);
    assert_int_equal(wm_blob_has(flt, h[0], NULL), WM_ENOTFOUND);
    assert_int_equal(wm_blob_has(flt, h[1], NULL), WM_OK);

    /* one byte altered inside blob 3 (after blobs 1 and 2 of 100000 and
     * 200000 bytes and three headers) */
    size_t at = 8 + 3 * 41 + 300000 + 5000;
    b[at] ^= 1;
    wm_blob_t *bad = store(dir, "bad");
    assert_int_equal(read_mem(bad, b, len, NULL, &c), WM_ECORRUPT);
    assert_int_equal(c.stored, 2);
    assert_int_equal(wm_blob_has(bad, h[2], NULL), WM_ENOTFOUND);
    b[at] ^= 1;

    /* cut short: inside blob 3's data, then whole again: resumed */
    wm_blob_t *cut = store(dir, "cut");
    assert_int_equal(read_mem(cut, b, at, NULL, &c), WM_EDECODE);
    assert_int_equal(c.stored, 2);
    uint64_t held = 0;
    assert_int_equal(wm_blob_part_held(cut, h[2], 300000, &held), WM_OK);
    assert_true(held > 0 && held < 300000);
    assert_int_equal(read_mem(cut, b, len, NULL, &c), WM_OK);
    assert_int_equal(c.stored, 2);
    assert_int_equal(c.held, 2);
    assert_int_equal(wm_blob_verify(cut, h[2], why, sizeof why), WM_OK);
    /* cut in the last frame, and a pack that is not one */
    assert_int_equal(read_mem(cut, b, len - 3, NULL, &c), WM_EDECODE);
    assert_int_equal(read_mem(cut, (const uint8_t *)"WMBLOBS2", 8, NULL, &c), WM_EDECODE);
    assert_int_equal(read_mem(cut, b, 20, NULL, &c), WM_EDECODE); /* in a header */

    free(b);
    wm_blob_close(&src);
    wm_blob_close(&dst);
    wm_blob_close(&flt);
    wm_blob_close(&bad);
    wm_blob_close(&cut);
    tu_rmrf(dir);
    free(dir);
}

int main(void)
{
    if (wm_crypto_init() != WM_OK)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roundtrip_and_faults),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
