/* SPDX-License-Identifier: MIT */
/*
 * test_blobserve — daemon/wm_blobserve.c, a child's answer to a
 * BLOB_FETCH (feature "blob-fetch"), on a real store and blob directory:
 * the bytes asked, cut at the blob's end and at WM_BLOB_FETCH_MAX; and
 * each reason no bytes are sent (not_named, missing with the bytes of a
 * .part, pruned, size, range), named by its slug.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "wm_blobref.h"
#include "wm_blobserve.h"
#include "wm_sync.h"
#include "wm_testutil.h"

#define BIG ((size_t)WM_BLOB_FETCH_MAX + 300000) /* over one answer's limit */

typedef struct {
    char *dir;
    wm_node_t node;
    uint8_t *bytes;  /* the blob held: BIG bytes */
    uint8_t held[WM_HASH_BYTES], named[WM_HASH_BYTES], stray[WM_HASH_BYTES];
} fx_t;

static void fill(uint8_t *p, size_t len, uint32_t seed)
{
    uint32_t x = seed * 2654435761u + 1;
    for (size_t i = 0; i < len; i++) {
        x ^= x << 13, x ^= x >> 17, x ^= x << 5;
        p[i] = (uint8_t)x;
    }
}

/* A store whose station "xx/a" has record 1/1 naming blobs held and named
 * (5000 bytes, not held); blob held is in the store, stray is held by no
 * record and not stored. */
static int setup(void **state)
{
    fx_t *f = calloc(1, sizeof *f);
    char sub[4096];
    uint32_t no = 0;
    wm_txn_t *t = NULL;
    assert_non_null(f);
    f->dir = tu_mkdtemp();
    snprintf(sub, sizeof sub, "%s/blobs", f->dir);
    assert_int_equal(wm_store_open(f->dir, WM_STORE_NOSYNC, 0, &f->node.store), WM_OK);
    assert_int_equal(wm_blob_open(sub, &f->node.blobs), WM_OK);
    f->bytes = malloc(BIG);
    assert_non_null(f->bytes);
    fill(f->bytes, BIG, 7);
    assert_int_equal(wm_blob_put(f->node.blobs, f->bytes, BIG, f->held), WM_OK);
    fill(f->named, sizeof f->named, 8);
    fill(f->stray, sizeof f->stray, 9);
    tu_rec_t r;
    Wm__Attachment a[2], *pa[2] = {&a[0], &a[1]};
    tu_rec_init(&r, "xx/a", 1, 1, NULL);
    tu_rec_activity(&r, "有照片");
    for (int i = 0; i < 2; i++) {
        wm__attachment__init(&a[i]);
        a[i].hash = (ProtobufCBinaryData){WM_HASH_BYTES, i ? f->named : f->held};
        a[i].size = i ? 5000 : BIG;
        a[i].media_type = "image/jpeg";
        a[i].role = WM__ATTACHMENT_ROLE__PHOTO;
    }
    r.b.activity.attachments = pa;
    r.b.activity.n_attachments = 2;
    assert_int_equal(wm_txn_begin(f->node.store, 1, &t), WM_OK);
    assert_int_equal(wm_nodeno_add(t, "xx/a", &no), WM_OK);
    assert_int_equal(wm_blobref_index(t, no, &r.r), WM_OK);
    assert_int_equal(wm_txn_commit(&t), WM_OK);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx_t *f = *state;
    wm_blob_close(&f->node.blobs);
    wm_store_close(&f->node.store);
    tu_rmrf(f->dir);
    free(f->dir);
    free(f->bytes);
    free(f);
    return 0;
}

/* The answer to a fetch of hash from offset, max bytes, size as given. */
static void ask(fx_t *f, const uint8_t *hash, uint64_t size, uint64_t offset, uint32_t max,
                Wm__BlobData *d, uint8_t **buf, char *err, size_t cap)
{
    Wm__BlobFetch q = WM__BLOB_FETCH__INIT;
    q.req_id = 42;
    q.hash = (ProtobufCBinaryData){WM_HASH_BYTES, (uint8_t *)hash};
    q.size = size;
    q.offset = offset;
    q.max = max;
    wm__blob_data__init(d);
    wm_blobserve_answer(&f->node, &q, d, buf, err, cap);
    assert_int_equal(d->req_id, 42);
    assert_int_equal(d->offset, offset);
}

static void test_bytes(void **state)
{
    fx_t *f = *state;
    Wm__BlobData d;
    uint8_t *buf = NULL;
    char err[256];
    ask(f, f->held, BIG, 1000, 4096, &d, &buf, err, sizeof err);
    assert_string_equal(d.error, "");
    assert_int_equal(d.size, BIG);
    assert_int_equal(d.data.len, 4096);
    assert_memory_equal(d.data.data, f->bytes + 1000, 4096);
    free(buf);
    /* at the end: fewer bytes; at the very end: none, and no error */
    ask(f, f->held, 0, BIG - 10, 4096, &d, &buf, err, sizeof err);
    assert_string_equal(d.error, "");
    assert_int_equal(d.data.len, 10);
    assert_memory_equal(d.data.data, f->bytes + BIG - 10, 10);
    free(buf);
    ask(f, f->held, 0, BIG, 4096, &d, &buf, err, sizeof err);
    assert_string_equal(d.error, "");
    assert_int_equal(d.data.len, 0);
    free(buf);
    /* more than one answer may carry: cut at WM_BLOB_FETCH_MAX */
    ask(f, f->held, 0, 0, UINT32_MAX, &d, &buf, err, sizeof err);
    assert_int_equal(d.data.len, WM_BLOB_FETCH_MAX);
    assert_memory_equal(d.data.data, f->bytes, WM_BLOB_FETCH_MAX);
    free(buf);
}

/* d carries no bytes and an error that begins with slug. */
static void no_bytes(const Wm__BlobData *d, const char *slug)
{
    assert_int_equal(d->data.len, 0);
    assert_non_null(d->error);
    if (strncmp(d->error, slug, strlen(slug)) != 0 || d->error[strlen(slug)] != ':')
        fail_msg("error \"%s\" is not %s", d->error, slug);
}

static void test_reasons(void **state)
{
    fx_t *f = *state;
    Wm__BlobData d;
    uint8_t *buf = NULL;
    char err[256];
    ask(f, f->stray, 0, 0, 4096, &d, &buf, err, sizeof err);
    no_bytes(&d, "not_named");
    ask(f, f->held, BIG + 1, 0, 4096, &d, &buf, err, sizeof err);
    no_bytes(&d, "size");
    ask(f, f->held, BIG, BIG + 1, 4096, &d, &buf, err, sizeof err);
    no_bytes(&d, "range");
    ask(f, f->held, BIG, 0, 0, &d, &buf, err, sizeof err);
    no_bytes(&d, "range");
    /* named, never received: says whose record */
    ask(f, f->named, 5000, 0, 4096, &d, &buf, err, sizeof err);
    no_bytes(&d, "missing");
    assert_non_null(strstr(d.error, "record 1/1 of xx/a"));
    /* part of it arrived: says how much */
    uint8_t part[1234] = {0};
    assert_int_equal(wm_blob_part_write(f->node.blobs, f->named, 5000, 0, part, sizeof part),
                     WM_OK);
    ask(f, f->named, 5000, 0, 4096, &d, &buf, err, sizeof err);
    no_bytes(&d, "missing");
    assert_non_null(strstr(d.error, "1234 of its 5000 bytes"));
    /* pruned here, its thumbnail kept */
    assert_int_equal(wm_blob_part_discard(f->node.blobs, f->named), WM_OK);
    assert_int_equal(wm_blob_thumb_put(f->node.blobs, f->named, part, 10), WM_OK);
    ask(f, f->named, 5000, 0, 4096, &d, &buf, err, sizeof err);
    no_bytes(&d, "pruned");
    assert_null(buf);
}

int main(void)
{
    if (wm_crypto_init() != WM_OK)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_bytes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reasons, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
