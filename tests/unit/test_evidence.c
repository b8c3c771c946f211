/* SPDX-License-Identifier: MIT */
/*
 * test_evidence — daemon/wm_evidence.c against a real store (wm_blob, a
 * temporary directory): a file sent in chunks becomes present only when
 * whole and hashing right; a cut-off put resumes from what is held; a
 * wrong offset is answered with the resume point; bytes that do not hash
 * to the name are discarded (resume from 0); a whole .part left by a put
 * cut off before its rename is completed by the next put; a file present already is answered at once;
 * and the rule of the commit points: a record body naming a file the
 * store does not hold (or holds with another size) is refused, naming
 * --photo or --attach. Also photo_exif_time (client/photo.c): EXIF local
 * time as UTC+8 unless an offset says otherwise; no date, no time.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "photo.h"
#include "wm_crypto.h"
#include "wm_evidence.h"
#include "wm_validate.h"

typedef struct {
    char dir[64];
    wm_blob_t *bs;
    uint8_t data[3 * 1000 + 7];
    uint8_t hash[WM_HASH_BYTES];
} fx_t;

static int setup(void **state)
{
    fx_t *f = calloc(1, sizeof *f);
    assert_non_null(f);
    snprintf(f->dir, sizeof f->dir, "/tmp/test_evidence.XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    assert_int_equal(wm_blob_open(f->dir, &f->bs), WM_OK);
    for (size_t i = 0; i < sizeof f->data; i++)
        f->data[i] = (uint8_t)(i * 7 + 3);
    wm_hash(f->data, sizeof f->data, f->hash);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx_t *f = *state;
    char cmd[128];
    wm_blob_close(&f->bs);
    snprintf(cmd, sizeof cmd, "rm -rf %s", f->dir);
    assert_int_equal(system(cmd), 0);
    free(f);
    return 0;
}

static wm_err_t put(fx_t *f, uint64_t off, size_t len, uint64_t *held, const char **field)
{
    char why[WM_WHY_MAX] = "";
    Wm__BlobPut p = WM__BLOB_PUT__INIT;
    p.hash.data = f->hash, p.hash.len = WM_HASH_BYTES;
    p.size = sizeof f->data;
    p.offset = off;
    p.data.data = f->data + off, p.data.len = len;
    wm_err_t rc = wm_evidence_put(f->bs, &p, held, field, why, sizeof why);
    if (rc != WM_OK)
        assert_true(why[0] != 0);
    return rc;
}

static void body_naming(fx_t *f, Wm__Record *r, Wm__Activity *a, Wm__Attachment *x,
                        Wm__Attachment **px, uint64_t size, int role)
{
    wm__record__init(r);
    wm__activity__init(a);
    wm__attachment__init(x);
    x->hash.data = f->hash, x->hash.len = WM_HASH_BYTES;
    x->size = size;
    x->media_type = "image/jpeg";
    x->role = role;
    px[0] = x;
    a->n_attachments = 1, a->attachments = px;
    r->body_case = WM__RECORD__BODY_ACTIVITY, r->activity = a;
}

static void test_chunks_resume_check(void **state)
{
    fx_t *f = *state;
    uint64_t held = 99;
    const char *field = NULL;
    char why[WM_WHY_MAX];
    Wm__Record r;
    Wm__Activity a;
    Wm__Attachment x, *px[1];
    body_naming(f, &r, &a, &x, px, sizeof f->data, WM__ATTACHMENT_ROLE__PHOTO);
    /* Before the file: a record naming it is refused, naming --photo. */
    assert_int_equal(wm_evidence_check(f->bs, &r, &field, why, sizeof why), WM_EINVAL);
    assert_string_equal(field, "photo");
    x.role = WM__ATTACHMENT_ROLE__SIGN_IN_SHEET;
    assert_int_equal(wm_evidence_check(f->bs, &r, &field, why, sizeof why), WM_EINVAL);
    assert_string_equal(field, "attach");
    /* Two chunks held, then the client is "cut off". */
    assert_int_equal(put(f, 0, 1000, &held, &field), WM_OK);
    assert_int_equal(held, 1000);
    assert_int_equal(put(f, 1000, 1000, &held, &field), WM_OK);
    assert_int_equal(held, 2000);
    assert_int_equal(wm_evidence_check(f->bs, &r, &field, why, sizeof why), WM_EINVAL);
    /* A client starting again from 0 is told where to resume. */
    assert_int_equal(put(f, 0, 1000, &held, &field), WM_ECHAIN);
    assert_int_equal(held, 2000);
    assert_int_equal(put(f, 2000, 1000, &held, &field), WM_OK);
    assert_int_equal(put(f, 3000, 7, &held, &field), WM_OK);
    assert_int_equal(held, sizeof f->data);
    /* Present: the record may name it; with another size it may not. */
    assert_int_equal(wm_evidence_check(f->bs, &r, &field, why, sizeof why), WM_OK);
    x.size = sizeof f->data + 1;
    assert_int_equal(wm_evidence_check(f->bs, &r, &field, why, sizeof why), WM_EINVAL);
    /* Sent again: answered at once, nothing rewritten. */
    assert_int_equal(put(f, 0, 1000, &held, &field), WM_OK);
    assert_int_equal(held, sizeof f->data);
    /* Read back in chunks. */
    Wm__BlobGet g = WM__BLOB_GET__INIT;
    uint8_t *got = NULL;
    size_t n = 0;
    uint64_t size = 0;
    g.hash.data = f->hash, g.hash.len = WM_HASH_BYTES;
    g.offset = 2990, g.max = 100;
    assert_int_equal(wm_evidence_get(f->bs, &g, &got, &n, &size, why, sizeof why), WM_OK);
    assert_int_equal(n, 17);
    assert_int_equal(size, sizeof f->data);
    assert_memory_equal(got, f->data + 2990, 17);
    free(got);
}

static void test_bad_bytes_discarded(void **state)
{
    fx_t *f = *state;
    uint64_t held = 0;
    const char *field = NULL;
    char why[WM_WHY_MAX];
    assert_int_equal(put(f, 0, 2000, &held, &field), WM_OK);
    f->data[2500] ^= 1; /* the rest arrives damaged */
    assert_int_equal(put(f, 2000, sizeof f->data - 2000, &held, &field), WM_ECHAIN);
    assert_string_equal(field, "hash");
    assert_int_equal(held, 0); /* the client starts again from 0 */
    uint64_t size = 0;
    assert_int_equal(wm_blob_has(f->bs, f->hash, &size), WM_ENOTFOUND);
    f->data[2500] ^= 1;
    /* From 0 again, whole: present. */
    assert_int_equal(put(f, 0, sizeof f->data, &held, &field), WM_OK);
    assert_int_equal(wm_blob_has(f->bs, f->hash, &size), WM_OK);
    /* Bad requests name their field. */
    Wm__BlobPut p = WM__BLOB_PUT__INIT;
    p.hash.data = f->hash, p.hash.len = 31, p.size = 10;
    assert_int_equal(wm_evidence_put(f->bs, &p, &held, &field, why, sizeof why), WM_EINVAL);
    assert_string_equal(field, "hash");
    p.hash.len = 32, p.size = WM_ATTACH_SIZE_MAX + 1;
    assert_int_equal(wm_evidence_put(f->bs, &p, &held, &field, why, sizeof why), WM_EINVAL);
    assert_string_equal(field, "size");
    p.size = 10, p.offset = 5, p.data.data = f->data, p.data.len = 6;
    assert_int_equal(wm_evidence_put(f->bs, &p, &held, &field, why, sizeof why), WM_EINVAL);
    Wm__BlobGet g = WM__BLOB_GET__INIT;
    uint8_t other[WM_HASH_BYTES] = {1}, *got = NULL;
    size_t n = 0;
    g.hash.data = other, g.hash.len = WM_HASH_BYTES, g.max = 10;
    assert_int_equal(wm_evidence_get(f->bs, &g, &got, &n, &size, why, sizeof why),
                     WM_ENOTFOUND);
    assert_non_null(strstr(why, "not held"));
}

/* A file the station pruned: blob_get says so (pruned set, the town holds
 * it), blob_thumb_get reads its thumbnail; an empty thumbnail (a PDF)
 * still says pruned but has nothing to read. */
static void test_pruned(void **state)
{
    fx_t *f = *state;
    uint64_t held = 0, size = 0;
    const char *field = NULL;
    char why[WM_WHY_MAX];
    uint8_t *got = NULL, thumb[300];
    size_t n = 0;
    int pruned = 1;
    memset(thumb, 0xab, sizeof thumb);
    assert_int_equal(put(f, 0, sizeof f->data, &held, &field), WM_OK);
    Wm__BlobGet g = WM__BLOB_GET__INIT;
    g.hash.data = f->hash, g.hash.len = WM_HASH_BYTES, g.max = 1000;
    assert_int_equal(wm_evidence_read(f->bs, &g, 1, &got, &n, &size, &pruned, why, sizeof why),
                     WM_ENOTFOUND); /* no thumbnail while the file is held */
    assert_int_equal(pruned, 0);
    assert_int_equal(wm_blob_thumb_put(f->bs, f->hash, thumb, sizeof thumb), WM_OK);
    assert_int_equal(wm_blob_remove(f->bs, f->hash), WM_OK);
    assert_int_equal(wm_evidence_read(f->bs, &g, 0, &got, &n, &size, &pruned, why, sizeof why),
                     WM_ENOTFOUND);
    assert_int_equal(pruned, 1);
    assert_non_null(strstr(why, "pruned"));
    assert_non_null(strstr(why, "town"));
    assert_int_equal(wm_evidence_read(f->bs, &g, 1, &got, &n, &size, &pruned, why, sizeof why),
                     WM_OK);
    assert_int_equal(size, sizeof thumb);
    assert_int_equal(n, sizeof thumb);
    assert_memory_equal(got, thumb, sizeof thumb);
    free(got);
    got = NULL;
    assert_int_equal(wm_blob_thumb_put(f->bs, f->hash, NULL, 0), WM_OK);
    assert_int_equal(wm_evidence_read(f->bs, &g, 1, &got, &n, &size, &pruned, why, sizeof why),
                     WM_ENOTFOUND);
    assert_null(got);
    assert_int_equal(wm_evidence_read(f->bs, &g, 0, &got, &n, &size, &pruned, why, sizeof why),
                     WM_ENOTFOUND);
    assert_int_equal(pruned, 1);
}

/* A put cut off after its last write, before the rename: the .part is
 * whole; the next put of the file (from 0) completes it. */
static void test_whole_part_completed(void **state)
{
    fx_t *f = *state;
    uint64_t held = 0, size = 0;
    const char *field = NULL;
    assert_int_equal(wm_blob_part_write(f->bs, f->hash, sizeof f->data, 0, f->data,
                                        sizeof f->data),
                     WM_OK);
    assert_int_equal(wm_blob_has(f->bs, f->hash, &size), WM_ENOTFOUND);
    assert_int_equal(put(f, 0, 1000, &held, &field), WM_OK);
    assert_int_equal(held, sizeof f->data);
    assert_int_equal(wm_blob_has(f->bs, f->hash, &size), WM_OK);
}

static void test_exif_time(void **state)
{
    (void)state;
    /* 2024-03-05 10:20:30 in China is 02:20:30 UTC */
    assert_int_equal(photo_exif_time("2024:03:05 10:20:30", NULL), 1709605230);
    assert_int_equal(photo_exif_time("2024:03:05 10:20:30 (2024:03:05 10:20:30, ASCII, 20 "
                                     "components, 20 bytes)", NULL),
                     1709605230);
    assert_int_equal(photo_exif_time("2024:03:05 02:20:30", "+00:00"), 1709605230);
    assert_int_equal(photo_exif_time("2024:03:04 21:20:30", "-05:00 (-05:00, ASCII)"),
                     1709605230);
    assert_int_equal(photo_exif_time("2024:03:05 10:20:30", "junk"), 1709605230);
    assert_int_equal(photo_exif_time(NULL, NULL), 0);
    assert_int_equal(photo_exif_time("0000:00:00 00:00:00", NULL), 0);
    assert_int_equal(photo_exif_time("    :  :     :  :  ", NULL), 0);
}

int main(void)
{
    if (wm_crypto_init() != WM_OK)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_chunks_resume_check, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_bytes_discarded, setup, teardown),
        cmocka_unit_test_setup_teardown(test_whole_part_completed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pruned, setup, teardown),
        cmocka_unit_test(test_exif_time),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
