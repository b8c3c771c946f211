/* SPDX-License-Identifier: MIT */
/*
 * bench_wire — bytes on the wire per record of a batch, plain and
 * compressed (feature "zstd", proto/wm_wire.c), for a realistic month of
 * one station: 120 records, about three in four activities with Chinese
 * titles, places, teams and tags, the rest publicity, each signed and
 * chained as a station writes them. Prints per record: the plain Batch,
 * the ZBatch (prev elided, zstd), zstd without the elision, other levels,
 * and what a zstd dictionary trained on 40 other stations' months would
 * give, for the month in one batch and for records sent one at a time
 * (a live station). The ratio ZBatch / Batch is printed beside its
 * target (≤ 0.60); the dictionary figures say whether one would pay.
 *
 * Usage: bench_wire [--check]   (--check: exit 1 if the ratio is above 0.60)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zdict.h>
#include <zstd.h>

#include "bench_month.h"
#include "sync.pb-c.h"
#include "wm_record.h"
#include "wm_wire.h"

#define MONTH 120
#define TRAIN_STATIONS 40
#define TARGET 0.60
#define CURVE_MSG 35 /* per message: CURVE's 33 bytes and a short ZMTP frame header */

static uint8_t head_hash[WM_HASH_BYTES] = {1};

/* The head a batch carries (the child's frontier). */
static Wm__Frontier head(void)
{
    Wm__Frontier f = WM__FRONTIER__INIT;
    f.epoch = 1;
    f.seq = 120;
    f.hash = (ProtobufCBinaryData){WM_HASH_BYTES, head_hash};
    return f;
}

/* Encoded size of a SyncMsg carrying recs[0..n) as a plain Batch. */
static size_t plain_size(const ProtobufCBinaryData *recs, size_t n)
{
    Wm__SyncMsg m = WM__SYNC_MSG__INIT;
    Wm__Batch b = WM__BATCH__INIT;
    Wm__Frontier f = head();
    b.batch_id = 7;
    b.records = (ProtobufCBinaryData *)recs;
    b.n_records = n;
    b.head = &f;
    m.msg_case = WM__SYNC_MSG__MSG_BATCH;
    m.batch = &b;
    return protobuf_c_message_get_packed_size(&m.base) + CURVE_MSG;
}

/* Encoded size of a SyncMsg carrying a ZBatch of zlen compressed bytes. */
static size_t zbatch_size(size_t n, size_t zlen, uint32_t raw)
{
    Wm__SyncMsg m = WM__SYNC_MSG__INIT;
    Wm__ZBatch z = WM__ZBATCH__INIT;
    Wm__Frontier f = head();
    z.batch_id = 7;
    z.head = &f;
    z.count = (uint32_t)n;
    z.raw_bytes = raw;
    z.zstd = (ProtobufCBinaryData){zlen, NULL};
    m.msg_case = WM__SYNC_MSG__MSG_ZBATCH;
    m.zbatch = &z;
    return protobuf_c_message_get_packed_size(&m.base) + CURVE_MSG;
}

/* zstd of buf at level, with dict (NULL: none). */
static size_t zsize(const void *buf, size_t len, int level, const ZSTD_CDict *dict)
{
    size_t cap = ZSTD_compressBound(len);
    void *out = malloc(cap);
    ZSTD_CCtx *cc = ZSTD_createCCtx();
    size_t r = 0;
    if (out && cc) {
        ZSTD_CCtx_setParameter(cc, ZSTD_c_compressionLevel, level);
        ZSTD_CCtx_setParameter(cc, ZSTD_c_checksumFlag, 1);
        if (dict)
            ZSTD_CCtx_refCDict(cc, dict);
        r = ZSTD_compress2(cc, out, cap, buf, len);
        if (ZSTD_isError(r))
            r = 0;
    }
    ZSTD_freeCCtx(cc);
    free(out);
    return r;
}

/* The records concatenated (what zstd would see without the elision and
 * the entry varints: a fair "compressed, prev kept" figure). */
static size_t concat(const ProtobufCBinaryData *recs, size_t n, uint8_t **out)
{
    size_t len = 0, off = 0;
    for (size_t i = 0; i < n; i++)
        len += recs[i].len;
    *out = malloc(len ? len : 1);
    for (size_t i = 0; *out && i < n; i++) {
        memcpy(*out + off, recs[i].data, recs[i].len);
        off += recs[i].len;
    }
    return len;
}

int main(int argc, char **argv)
{
    int check = argc > 1 && strcmp(argv[1], "--check") == 0;
    bench_month_t month = {0}, train[TRAIN_STATIONS];
    uint8_t *z = NULL, *cat = NULL;
    size_t zlen = 0;
    uint32_t raw = 0;
    int rc = 1;
    memset(train, 0, sizeof train);
    if (wm_crypto_init() != WM_OK ||
        bench_month_make(&month, "xx-county/longhua/xinhe", 1, MONTH) != WM_OK ||
        wm_wire_pack(month.recs, month.n, &z, &zlen, &raw) != WM_OK) {
        fprintf(stderr, "bench_wire: cannot make or pack the month\n");
        goto out;
    }
    size_t plain = plain_size(month.recs, month.n);
    size_t packed = zbatch_size(month.n, zlen, raw);
    size_t catlen = concat(month.recs, month.n, &cat);
    double ratio = (double)packed / (double)plain;
    printf("month of one station: %zu records, %zu bytes of srecs (%.1f a record)\n", month.n,
           catlen, (double)catlen / (double)month.n);
    printf("  plain Batch:                 %7.1f bytes/record\n", (double)plain / MONTH);
    printf("  ZBatch (zstd %d, prev elided): %6.1f bytes/record\n", WM_WIRE_LEVEL,
           (double)packed / MONTH);
    printf("  ratio ZBatch / Batch:        %7.2f   (target <= %.2f) %s\n", ratio, TARGET,
           ratio <= TARGET ? "ok" : "ABOVE TARGET");
    int levels[] = {1, 3, 19};
    for (size_t i = 0; i < sizeof levels / sizeof levels[0]; i++) {
        printf("  zstd %2d, prev kept:           %6.1f bytes/record\n", levels[i],
               (double)(zsize(cat, catlen, levels[i], NULL) + CURVE_MSG + 60) / MONTH);
    }

    /* A dictionary, trained on 40 other stations' months. */
    size_t nsamples = 0, total = 0;
    for (int s = 0; s < TRAIN_STATIONS; s++) {
        char id[64];
        snprintf(id, sizeof id, "xx-county/town%d/village%d", s % 7, s);
        if (bench_month_make(&train[s], id, (unsigned)(100 + s), MONTH) != WM_OK)
            goto out;
        nsamples += train[s].n;
        for (size_t i = 0; i < train[s].n; i++)
            total += train[s].recs[i].len;
    }
    uint8_t *samples = malloc(total);
    size_t *sizes = malloc(nsamples * sizeof *sizes), off = 0, k = 0;
    for (int s = 0; samples && sizes && s < TRAIN_STATIONS; s++)
        for (size_t i = 0; i < train[s].n; i++) {
            memcpy(samples + off, train[s].recs[i].data, train[s].recs[i].len);
            off += train[s].recs[i].len;
            sizes[k++] = train[s].recs[i].len;
        }
    /* The payload of the month's ZBatch (prev elided), as the receiver
     * sees it once decompressed. */
    uint8_t *payload = malloc(raw ? raw : 1);
    if (!payload || ZSTD_decompress(payload, raw, z, zlen) != raw)
        goto out;
    size_t dsizes[] = {4096, 16384};
    for (size_t d = 0; samples && sizes && d < 2; d++) {
        uint8_t *dict = malloc(dsizes[d]);
        size_t dl = ZDICT_trainFromBuffer(dict, dsizes[d], samples, sizes, (unsigned)nsamples);
        if (ZDICT_isError(dl)) {
            printf("  dictionary of %zu bytes: training failed (%s)\n", dsizes[d],
                   ZDICT_getErrorName(dl));
            free(dict);
            continue;
        }
        ZSTD_CDict *cd = ZSTD_createCDict(dict, dl, WM_WIRE_LEVEL);
        size_t one_plain = 0, one_z = 0, one_d = 0;
        for (size_t i = 0; i < month.n; i++) {
            one_plain += plain_size(&month.recs[i], 1);
            one_z += zbatch_size(1, zsize(month.recs[i].data, month.recs[i].len,
                                          WM_WIRE_LEVEL, NULL), 0);
            one_d += zbatch_size(1, zsize(month.recs[i].data, month.recs[i].len,
                                          WM_WIRE_LEVEL, cd), 0);
        }
        printf("  dictionary of %zu bytes:\n", dl);
        printf("    the month in one batch:    %6.1f bytes/record with it, %.1f without\n",
               (double)zbatch_size(MONTH, zsize(payload, raw, WM_WIRE_LEVEL, cd), raw) / MONTH,
               (double)packed / MONTH);
        printf("    one record a batch:        %6.1f bytes/record with it, %.1f zstd alone, "
               "%.1f plain\n",
               (double)one_d / MONTH, (double)one_z / MONTH, (double)one_plain / MONTH);
        ZSTD_freeCDict(cd);
        free(dict);
    }
    free(samples);
    free(sizes);
    free(payload);
    rc = check && ratio > TARGET ? 1 : 0;
out:
    for (int s = 0; s < TRAIN_STATIONS; s++)
        bench_month_free(&train[s]);
    bench_month_free(&month);
    free(z);
    free(cat);
    return rc;
}
