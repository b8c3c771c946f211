/* SPDX-License-Identifier: MIT */
/*
 * test_bundle — proto/wm_bundle.c, the streaming bundle reader, against
 * protobuf-c's own packing: the records come back byte for byte and in
 * order; every prefix of a bundle either fails or reads exactly what
 * protobuf-c reads from it; an oversized record is named by number, size
 * and limit; the node id may come last; unknown fields are skipped; bad
 * magic, groups and field 0 are refused. (fuzz_bundle checks the same
 * agreement on arbitrary input.)
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sync.pb-c.h"
#include "wm_bundle.h"

#define NREC 5

static uint8_t recbuf[WM_BUNDLE_REC_MAX];

/* A bundle packed by protobuf-c: magic + Bundle of NREC records of sizes
 * 100, 200, ... filled with their index. *len is its size; caller frees. */
static uint8_t *packed(size_t *len)
{
    static uint8_t data[NREC][NREC * 100];
    ProtobufCBinaryData recs[NREC];
    for (int i = 0; i < NREC; i++) {
        memset(data[i], 'a' + i, sizeof data[i]);
        recs[i] = (ProtobufCBinaryData){(size_t)(i + 1) * 100, data[i]};
    }
    uint8_t pub[WM_PUB_BYTES] = {7};
    Wm__Bundle b = WM__BUNDLE__INIT;
    Wm__Frontier f = WM__FRONTIER__INIT;
    f.epoch = 1;
    f.seq = 9;
    b.node = (char *)"xx/longhua/xinhe";
    b.sign_pub = (ProtobufCBinaryData){sizeof pub, pub};
    b.from = &f;
    b.records = recs;
    b.n_records = NREC;
    uint8_t *body = NULL, *out = NULL;
    size_t n = 0;
    assert_int_equal(wm_pb_encode(&b.base, &body, &n), WM_OK);
    out = malloc(n + WM_BUNDLE_MAGIC_LEN);
    assert_non_null(out);
    memcpy(out, WM_BUNDLE_MAGIC, WM_BUNDLE_MAGIC_LEN);
    memcpy(out + WM_BUNDLE_MAGIC_LEN, body, n);
    free(body);
    *len = n + WM_BUNDLE_MAGIC_LEN;
    return out;
}

/* Reads file with wm_bundle and checks it against protobuf-c's decode of
 * the same bytes. Returns wm_bundle_scan's result. */
static wm_err_t read_and_compare(const uint8_t *file, size_t len, wm_bundle_t *b)
{
    wm_bundle_mem_t m = {file, len, 0};
    wm_bundle_src_t src = wm_bundle_mem_src(&m);
    wm_err_t err = wm_bundle_scan(b, &src);
    if (err != WM_OK)
        return err;
    Wm__Bundle *pb = NULL;
    assert_true(len >= WM_BUNDLE_MAGIC_LEN);
    assert_int_equal(wm_pb_decode(&wm__bundle__descriptor, file + WM_BUNDLE_MAGIC_LEN,
                                  len - WM_BUNDLE_MAGIC_LEN, len, (void **)&pb),
                     WM_OK);
    assert_string_equal(pb->node, b->node);
    assert_int_equal(pb->n_records, b->records);
    size_t got = 0, i = 0;
    while (wm_bundle_next(b, recbuf, sizeof recbuf, &got) == WM_OK) {
        assert_true(i < pb->n_records);
        assert_int_equal(got, pb->records[i].len);
        assert_memory_equal(recbuf, pb->records[i].data, got);
        i++;
    }
    assert_int_equal(i, pb->n_records);
    wm_pb_free(&pb);
    return WM_OK;
}

static void test_round_trip(void **state)
{
    (void)state;
    size_t len = 0;
    uint8_t *file = packed(&len);
    wm_bundle_t b;
    assert_int_equal(read_and_compare(file, len, &b), WM_OK);
    assert_int_equal(b.records, NREC);
    assert_int_equal(b.record_bytes, 100 + 200 + 300 + 400 + 500);
    assert_string_equal(b.node, "xx/longhua/xinhe");
    free(file);
}

/* Every prefix: refused, or (cut at a field boundary) what protobuf-c
 * reads from it. Never more records than the prefix holds. */
static void test_every_prefix(void **state)
{
    (void)state;
    size_t len = 0;
    uint8_t *file = packed(&len);
    int ok = 0;
    for (size_t cut = 0; cut < len; cut++) {
        wm_bundle_t b;
        wm_err_t err = read_and_compare(file, cut, &b);
        if (err == WM_OK) {
            ok++;
            assert_true(b.records < NREC);
        } else {
            assert_true(err == WM_EDECODE);
            assert_true(b.why[0] != 0);
        }
    }
    assert_int_equal(ok, 7); /* after node, sign_pub, from, records 1 to 4 */
    free(file);
}

static void put_varint(uint8_t **p, uint64_t v)
{
    do {
        *(*p)++ = (uint8_t)((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
        v >>= 7;
    } while (v);
}

static void put_field(uint8_t **p, unsigned no, const void *data, size_t len)
{
    put_varint(p, (uint64_t)no << 3 | 2);
    put_varint(p, len);
    memcpy(*p, data, len);
    *p += len;
}

static void test_hand_made(void **state)
{
    (void)state;
    static uint8_t file[1 << 18], big[WM_BUNDLE_REC_MAX + 1];
    uint8_t *p = file;
    wm_bundle_t b;
    /* records first, an unknown varint and fixed fields, the node last */
    memcpy(p, WM_BUNDLE_MAGIC, WM_BUNDLE_MAGIC_LEN);
    p += WM_BUNDLE_MAGIC_LEN;
    put_field(&p, 4, "one", 3);
    put_varint(&p, 9 << 3 | 0);
    put_varint(&p, 300);
    put_varint(&p, 10 << 3 | 5);
    memcpy(p, "abcd", 4), p += 4;
    put_field(&p, 4, "two", 3);
    put_field(&p, 1, "xx/a", 4);
    assert_int_equal(read_and_compare(file, (size_t)(p - file), &b), WM_OK);
    assert_string_equal(b.node, "xx/a");
    assert_int_equal(b.records, 2);

    /* record 2 over the limit: named, with its size and the limit */
    p = file + WM_BUNDLE_MAGIC_LEN;
    put_field(&p, 1, "xx/a", 4);
    put_field(&p, 4, "one", 3);
    put_field(&p, 4, big, sizeof big);
    assert_int_equal(read_and_compare(file, (size_t)(p - file), &b), WM_ETOOBIG);
    char want[96];
    /* magic 8 + node field 6 + record 1's field 5 */
    snprintf(want, sizeof want, "record 2 of the bundle (at byte %d) is %zu bytes", 19,
             sizeof big);
    assert_non_null(strstr(b.why, want));
    assert_non_null(strstr(b.why, "at most 65600"));

    /* no node; a group; field number 0; a bad magic */
    p = file + WM_BUNDLE_MAGIC_LEN;
    put_field(&p, 4, "one", 3);
    assert_int_equal(read_and_compare(file, (size_t)(p - file), &b), WM_EDECODE);
    assert_non_null(strstr(b.why, "names no node"));
    p = file + WM_BUNDLE_MAGIC_LEN;
    put_varint(&p, 5 << 3 | 3);
    assert_int_equal(read_and_compare(file, (size_t)(p - file), &b), WM_EDECODE);
    p = file + WM_BUNDLE_MAGIC_LEN;
    put_varint(&p, 0 << 3 | 2);
    put_varint(&p, 0);
    assert_int_equal(read_and_compare(file, (size_t)(p - file), &b), WM_EDECODE);
    memcpy(file, "WMSYNCB2", 8);
    assert_int_equal(read_and_compare(file, 8, &b), WM_EDECODE);
    assert_non_null(strstr(b.why, "does not begin with WMSYNCB1"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_every_prefix),
        cmocka_unit_test(test_hand_made),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
