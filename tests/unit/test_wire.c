/* SPDX-License-Identifier: MIT */
/*
 * test_wire — proto/wm_wire.c, the compressed batch frame of feature
 * "zstd" (PROTOCOL.md §7.1): a realistic month round-trips byte for byte
 * with its prevs elided; every size is checked before decompressing (a
 * bomb, a frame whose declared size lies, one without a declared size);
 * a damaged frame, a second frame, a dictionary, a bad entry are refused
 * with their named reason; a prev restored from a record that was altered
 * on the way fails the signature of the record after it.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <zstd.h>

#include "bench_month.h"
#include "wm_wire.h"

#define MONTH 120

static bench_month_t month;

static int setup(void **state)
{
    (void)state;
    if (wm_crypto_init() != WM_OK)
        return -1;
    return bench_month_make(&month, "xx-county/longhua/xinhe", 7, MONTH) == WM_OK ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    bench_month_free(&month);
    return 0;
}

/* A ZBatch of the month (packed by wm_wire_pack); frees with free(z->zstd.data). */
static void zbatch_of_month(Wm__ZBatch *z)
{
    size_t zlen = 0;
    uint32_t raw = 0;
    uint8_t *data = NULL;
    wm__zbatch__init(z);
    assert_int_equal(wm_wire_pack(month.recs, month.n, &data, &zlen, &raw), WM_OK);
    z->batch_id = 1;
    z->count = (uint32_t)month.n;
    z->raw_bytes = raw;
    z->zstd = (ProtobufCBinaryData){zlen, data};
}

/* The decompressed payload of z, malloc'd. */
static uint8_t *payload_of(const Wm__ZBatch *z)
{
    uint8_t *raw = malloc(z->raw_bytes);
    assert_non_null(raw);
    assert_int_equal(ZSTD_decompress(raw, z->raw_bytes, z->zstd.data, z->zstd.len), z->raw_bytes);
    return raw;
}

/* z's frame replaced by raw[0..len) compressed (content size declared if
 * declare), and raw_bytes set to len. */
static void reframe(Wm__ZBatch *z, const uint8_t *raw, size_t len, int declare)
{
    ZSTD_CCtx *cc = ZSTD_createCCtx();
    size_t cap = ZSTD_compressBound(len);
    uint8_t *out = malloc(cap);
    assert_non_null(out);
    assert_false(ZSTD_isError(ZSTD_CCtx_setParameter(cc, ZSTD_c_contentSizeFlag, declare)));
    size_t got;
    if (declare) {
        got = ZSTD_compress2(cc, out, cap, raw, len);
    } else { /* streaming without a pledged size: the header says nothing */
        ZSTD_inBuffer in = {raw, len, 0};
        ZSTD_outBuffer ob = {out, cap, 0};
        got = ZSTD_compressStream2(cc, &ob, &in, ZSTD_e_end);
        assert_int_equal(got, 0);
        got = ob.pos;
    }
    assert_false(ZSTD_isError(got));
    ZSTD_freeCCtx(cc);
    free(z->zstd.data);
    z->zstd = (ProtobufCBinaryData){got, out};
    z->raw_bytes = (uint32_t)len;
}

/* What each frame test works on: the month as a ZBatch (z), what its
 * last unpack gave (b, why), and a payload the test takes apart (raw).
 * Made before each test, freed after it (frame_setup, frame_teardown). */
typedef struct {
    Wm__ZBatch z;
    wm_wire_batch_t b;
    char why[WM_WHY_MAX];
    uint8_t *raw;
} frame_t;

static int frame_setup(void **state)
{
    frame_t *f = calloc(1, sizeof *f);
    if (!f)
        return -1;
    zbatch_of_month(&f->z);
    *state = f;
    return 0;
}

static int frame_teardown(void **state)
{
    frame_t *f = *state;
    wm_wire_batch_free(&f->b);
    free(f->raw);
    free(f->z.zstd.data);
    free(f);
    return 0;
}

/* Unpacks f->z into f->b (what an earlier unpack left is freed first). */
static wm_sync_reason_t unpack(frame_t *f)
{
    wm_wire_batch_free(&f->b);
    return wm_wire_unpack(&f->z, WM_SYNC_MAX_RECORDS, &f->b, f->why, WM_WHY_MAX);
}

static void test_round_trip(void **state)
{
    frame_t *f = *state;
    size_t srecs = 0;
    for (size_t i = 0; i < month.n; i++)
        srecs += month.recs[i].len;
    /* Every record but the first travels without its 34 prev bytes. */
    assert_true(f->z.raw_bytes < srecs - (month.n - 1) * WM_WIRE_ELIDED + 4 * month.n);
    assert_true(f->z.zstd.len < srecs * 6 / 10);
    assert_int_equal(unpack(f), WM_SYNC_R_OK);
    assert_int_equal(f->b.n, month.n);
    for (size_t i = 0; i < month.n; i++) {
        assert_int_equal(f->b.recs[i].len, month.recs[i].len);
        assert_memory_equal(f->b.recs[i].data, month.recs[i].data, month.recs[i].len);
        wm_srec_t v;
        assert_int_equal(wm_srec_view(f->b.recs[i].data, f->b.recs[i].len, &v), WM_OK);
        assert_int_equal(wm_srec_verify(&v, month.pub), WM_OK);
        uint8_t h[WM_HASH_BYTES]; /* each restored srec's own hash, taken once */
        wm_srec_hash_buf(f->b.recs[i].data, f->b.recs[i].len, h);
        assert_memory_equal(f->b.hashes + i * WM_HASH_BYTES, h, WM_HASH_BYTES);
    }
    assert_int_equal(f->b.bytes, srecs);
}

static void test_bomb(void **state)
{
    frame_t *f = *state;
    /* 64 MiB of zeros make a frame of a few KiB: refused on its size alone. */
    size_t big = 64u << 20;
    uint8_t *zeros = calloc(1, big);
    assert_non_null(zeros);
    reframe(&f->z, zeros, big, 1);
    free(zeros);
    assert_int_equal(unpack(f), WM_SYNC_R_BOMB);
    assert_non_null(strstr(f->why, "above the limit"));
    /* The same frame declaring a small size: the frame's own size differs. */
    f->z.raw_bytes = 1000;
    assert_int_equal(unpack(f), WM_SYNC_R_BOMB);
    assert_non_null(strstr(f->why, "declares"));
    assert_null(f->b.recs);
}

static void test_size_lies(void **state)
{
    frame_t *f = *state;
    f->z.raw_bytes -= 1; /* the ZBatch says one byte less than the frame */
    assert_int_equal(unpack(f), WM_SYNC_R_BOMB);
    Wm__ZBatch told = {.raw_bytes = f->z.raw_bytes + 1, .zstd = f->z.zstd};
    uint8_t *raw = f->raw = payload_of(&told);
    size_t len = f->z.raw_bytes + 1;
    reframe(&f->z, raw, len, 0); /* no content size in the frame header */
    assert_int_equal(unpack(f), WM_SYNC_R_BAD_FRAME);
    assert_non_null(strstr(f->why, "content size"));
}

static void test_damaged(void **state)
{
    frame_t *f = *state;
    f->z.zstd.data[f->z.zstd.len / 2] ^= 0x5a; /* the checksum, if nothing else, fails */
    assert_int_equal(unpack(f), WM_SYNC_R_BAD_FRAME);
    assert_null(f->b.recs);
    f->z.zstd.data[f->z.zstd.len / 2] ^= 0x5a;
    f->z.zstd.data[0] ^= 1; /* not a zstd frame at all */
    assert_int_equal(unpack(f), WM_SYNC_R_BAD_FRAME);
    f->z.zstd.data[0] ^= 1;
    size_t len = f->z.zstd.len;
    f->z.zstd.len = len - 3; /* cut short */
    assert_int_equal(unpack(f), WM_SYNC_R_BAD_FRAME);
    /* Two frames, back to back: zstd would decode both; refused. */
    uint8_t *two = malloc(2 * len);
    memcpy(two, f->z.zstd.data, len);
    memcpy(two + len, f->z.zstd.data, len);
    free(f->z.zstd.data);
    f->z.zstd = (ProtobufCBinaryData){2 * len, two};
    assert_int_equal(unpack(f), WM_SYNC_R_BAD_FRAME);
    f->z.zstd.len = len;
    f->z.dict = 1; /* no dictionary is defined */
    assert_int_equal(unpack(f), WM_SYNC_R_BAD_FRAME);
    f->z.dict = 0;
    f->z.count = MONTH + 1; /* more records said than the frame holds */
    assert_int_equal(unpack(f), WM_SYNC_R_BAD_FRAME);
    f->z.count = MONTH - 1; /* fewer */
    assert_int_equal(unpack(f), WM_SYNC_R_BAD_FRAME);
    f->z.count = WM_SYNC_MAX_RECORDS + 1;
    assert_int_equal(unpack(f), WM_SYNC_R_TOO_BIG);
}

/* The offset of entry 1's `at` in a payload (after its len varint). */
static size_t entry1_at(const uint8_t *raw)
{
    size_t off = 0;
    while (raw[off] & 0x80)
        off++;
    return off + 1;
}

/* Entry 1 of the payload (always whole) given at = 64: there is no
 * record before it to restore from. */
static void test_bad_entry(void **state)
{
    frame_t *f = *state;
    uint8_t *raw = f->raw = payload_of(&f->z);
    size_t at = entry1_at(raw);
    assert_int_equal(raw[at], 0); /* whole */
    raw[at] = 64;
    reframe(&f->z, raw, f->z.raw_bytes, 1);
    assert_int_equal(unpack(f), WM_SYNC_R_BAD_FRAME);
    assert_non_null(strstr(f->why, "entry 1"));
}

/* Record 1 altered inside the frame (a signature byte): record 2's prev
 * is restored from the altered bytes, so record 2 is no longer what its
 * station signed, and its signature says so. */
static void test_wrong_restore(void **state)
{
    frame_t *f = *state;
    uint8_t *raw = f->raw = payload_of(&f->z);
    raw[entry1_at(raw) + 1 + 10] ^= 0x01; /* a byte of record 1's signature */
    reframe(&f->z, raw, f->z.raw_bytes, 1);
    assert_int_equal(unpack(f), WM_SYNC_R_OK);
    wm_srec_t v;
    assert_int_equal(wm_srec_view(f->b.recs[1].data, f->b.recs[1].len, &v), WM_OK);
    assert_int_equal(wm_srec_verify(&v, month.pub), WM_EBADSIG);
    assert_int_equal(f->b.recs[1].len, month.recs[1].len);
    assert_memory_not_equal(f->b.recs[1].data, month.recs[1].data, month.recs[1].len);
}

/* The encoder never sends more than the plain Batch: one record goes
 * whichever way is smaller; a month goes as a ZBatch; with the feature
 * off, always plain. */
static void test_encode_choice(void **state)
{
    (void)state;
    Wm__Batch b = WM__BATCH__INIT;
    uint8_t *buf = NULL;
    size_t len = 0, plain = 0;
    int zipped = -1;
    b.batch_id = 1;
    b.records = month.recs;
    for (size_t n = 1; n <= 3; n++) {
        b.n_records = n;
        assert_int_equal(wm_wire_encode_batch(&b, 0, &buf, &plain, &zipped), WM_OK);
        assert_int_equal(zipped, 0);
        free(buf);
        assert_int_equal(wm_wire_encode_batch(&b, 1, &buf, &len, &zipped), WM_OK);
        assert_true(len <= plain);
        assert_int_equal(zipped, len < plain);
        free(buf);
    }
    b.n_records = month.n;
    assert_int_equal(wm_wire_encode_batch(&b, 0, &buf, &plain, &zipped), WM_OK);
    free(buf);
    assert_int_equal(wm_wire_encode_batch(&b, 1, &buf, &len, &zipped), WM_OK);
    assert_int_equal(zipped, 1);
    assert_true(len * 10 < plain * 6); /* the target: at most 0.6 of plain */
    Wm__SyncMsg *m = NULL;
    assert_int_equal(wm_pb_decode(&wm__sync_msg__descriptor, buf, len, WM_SYNC_MAX_MSG,
                                  (void **)&m), WM_OK);
    assert_int_equal(m->msg_case, WM__SYNC_MSG__MSG_ZBATCH);
    assert_int_equal(m->zbatch->count, month.n);
    wm_pb_free(&m);
    free(buf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_round_trip, frame_setup, frame_teardown),
        cmocka_unit_test_setup_teardown(test_bomb, frame_setup, frame_teardown),
        cmocka_unit_test_setup_teardown(test_size_lies, frame_setup, frame_teardown),
        cmocka_unit_test_setup_teardown(test_damaged, frame_setup, frame_teardown),
        cmocka_unit_test_setup_teardown(test_bad_entry, frame_setup, frame_teardown),
        cmocka_unit_test_setup_teardown(test_wrong_restore, frame_setup, frame_teardown),
        cmocka_unit_test(test_encode_choice),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
