/* SPDX-License-Identifier: MIT */
/*
 * wm_wire — the compressed batch frame; see wm_wire.h and PROTOCOL.md
 * §7.1. Packing elides each prev the receiver can restore, then
 * compresses; unpacking checks every declared size before decompressing,
 * then restores the srecs exactly as signed.
 */
#include "wm_wire.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>
#include <zstd_errors.h>

#include "wm_record.h"

#define VARINT_MAX 5 /* uint32 */

/* Appends v as a protobuf varint at p; returns the bytes written. */
static size_t put_varint(uint8_t *p, uint32_t v)
{
    size_t n = 0;
    while (v >= 0x80) {
        p[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    p[n++] = (uint8_t)v;
    return n;
}

/* Reads a varint of at most VARINT_MAX bytes from p[*off..end); -1 if it
 * is cut short, longer, or above UINT32_MAX. */
static int get_varint(const uint8_t *p, size_t end, size_t *off, uint32_t *v)
{
    uint64_t x = 0;
    for (size_t i = 0; i < VARINT_MAX && *off < end; i++) {
        uint8_t b = p[(*off)++];
        x |= (uint64_t)(b & 0x7f) << (7 * i);
        if (!(b & 0x80)) {
            if (x > UINT32_MAX)
                return -1;
            *v = (uint32_t)x;
            return 0;
        }
    }
    return -1;
}

/* The srec offset (≥ WM_SIG_BYTES) of the 34 bytes 0x2A 0x20 || prev in
 * s, or 0 when they are not in it. */
static size_t find_prev(const uint8_t *s, size_t len, const uint8_t prev[static WM_HASH_BYTES])
{
    for (size_t i = WM_SIG_BYTES; i + WM_WIRE_ELIDED <= len; i++)
        if (s[i] == 0x2A && s[i + 1] == WM_HASH_BYTES &&
            memcmp(s + i + 2, prev, WM_HASH_BYTES) == 0)
            return i;
    return 0;
}

/* Writes the payload of recs[0..n) into buf (room for it checked by the
 * caller); returns its length. */
static size_t payload(const ProtobufCBinaryData *recs, size_t n, uint8_t *buf)
{
    size_t off = 0;
    uint8_t prev[WM_HASH_BYTES];
    for (size_t i = 0; i < n; i++) {
        const uint8_t *s = recs[i].data;
        size_t len = recs[i].len;
        size_t at = i ? find_prev(s, len, prev) : 0;
        off += put_varint(buf + off, (uint32_t)(at ? len - WM_WIRE_ELIDED : len));
        off += put_varint(buf + off, (uint32_t)at);
        if (at) {
            memcpy(buf + off, s, at);
            memcpy(buf + off + at, s + at + WM_WIRE_ELIDED, len - at - WM_WIRE_ELIDED);
            off += len - WM_WIRE_ELIDED;
        } else {
            memcpy(buf + off, s, len);
            off += len;
        }
        wm_srec_hash_buf(s, len, prev);
    }
    return off;
}

/* The calling thread's zstd contexts, made once and kept until the thread
 * ends: a new compression context for every batch allocated and cleared
 * ~1 MB of working memory each time (a decompression one less, but at
 * every ZBatch the town takes). ZSTD_compress2 and ZSTD_decompressDCtx
 * start every frame afresh: nothing of one batch reaches the next. */
static pthread_key_t cctx_key, dctx_key;
static pthread_once_t ctx_once = PTHREAD_ONCE_INIT;
static int ctx_keys_ok;

static void free_cctx(void *p) { ZSTD_freeCCtx(p); }
static void free_dctx(void *p) { ZSTD_freeDCtx(p); }
static void make_keys(void)
{
    ctx_keys_ok = pthread_key_create(&cctx_key, free_cctx) == 0 &&
                  pthread_key_create(&dctx_key, free_dctx) == 0;
}

/* NULL if it cannot be made. */
static ZSTD_CCtx *wire_cctx(void)
{
    pthread_once(&ctx_once, make_keys);
    ZSTD_CCtx *cc = ctx_keys_ok ? pthread_getspecific(cctx_key) : NULL;
    if (cc || !ctx_keys_ok || !(cc = ZSTD_createCCtx()))
        return cc;
    /* The content size is declared (the receiver checks it before it
     * decompresses) and a checksum names a damaged frame as such. */
    if (ZSTD_isError(ZSTD_CCtx_setParameter(cc, ZSTD_c_compressionLevel, WM_WIRE_LEVEL)) ||
        ZSTD_isError(ZSTD_CCtx_setParameter(cc, ZSTD_c_contentSizeFlag, 1)) ||
        ZSTD_isError(ZSTD_CCtx_setParameter(cc, ZSTD_c_checksumFlag, 1)) ||
        ZSTD_isError(ZSTD_CCtx_setParameter(cc, ZSTD_c_dictIDFlag, 0)) ||
        pthread_setspecific(cctx_key, cc) != 0) {
        ZSTD_freeCCtx(cc);
        return NULL;
    }
    return cc;
}

static ZSTD_DCtx *wire_dctx(void)
{
    pthread_once(&ctx_once, make_keys);
    ZSTD_DCtx *dc = ctx_keys_ok ? pthread_getspecific(dctx_key) : NULL;
    if (dc || !ctx_keys_ok || !(dc = ZSTD_createDCtx()))
        return dc;
    if (pthread_setspecific(dctx_key, dc) != 0) {
        ZSTD_freeDCtx(dc);
        return NULL;
    }
    return dc;
}

wm_err_t wm_wire_pack(const ProtobufCBinaryData *recs, size_t n, uint8_t **z, size_t *zlen,
                      uint32_t *raw)
{
    size_t cap = 0;
    uint8_t *buf = NULL, *out = NULL;
    ZSTD_CCtx *cc = NULL;
    wm_err_t err = WM_ETOOBIG;
    for (size_t i = 0; i < n; i++)
        cap += recs[i].len + 2 * VARINT_MAX;
    if (n > WM_SYNC_MAX_RECORDS)
        goto out;
    err = WM_ENOMEM;
    if (!(buf = malloc(cap ? cap : 1)))
        goto out;
    size_t len = payload(recs, n, buf);
    err = WM_ETOOBIG;
    if (len > WM_WIRE_RAW_MAX)
        goto out;
    err = WM_ENOMEM;
    size_t bound = ZSTD_compressBound(len);
    if (!(out = malloc(bound)) || !(cc = wire_cctx()))
        goto out;
    size_t got = ZSTD_compress2(cc, out, bound, buf, len);
    if (ZSTD_isError(got))
        goto out;
    *z = out;
    out = NULL;
    *zlen = got;
    *raw = (uint32_t)len;
    err = WM_OK;
out:
    free(out);
    free(buf);
    return err;
}

/* zb as the compressed form of recs[0..n) (its zstd field points to *z,
 * which the caller frees). 0 if they cannot be packed (too big: the
 * receiver then names what is wrong with the plain form). */
static int zpack(const ProtobufCBinaryData *recs, size_t n, uint64_t id, Wm__Frontier *head,
                 Wm__ZBatch *zb, uint8_t **z)
{
    size_t zlen = 0;
    uint32_t raw = 0;
    if (!n || wm_wire_pack(recs, n, z, &zlen, &raw) != WM_OK)
        return 0;
    zb->batch_id = id;
    zb->head = head;
    zb->count = (uint32_t)n;
    zb->raw_bytes = raw;
    zb->zstd = (ProtobufCBinaryData){zlen, *z};
    return 1;
}

/* Encodes m, or z instead when z is set and smaller (*zipped says which). */
static WM_MUST_CHECK wm_err_t encode_smaller(const Wm__SyncMsg *m, const Wm__SyncMsg *z,
                                             uint8_t **out, size_t *len, int *zipped)
{
    *zipped = z && protobuf_c_message_get_packed_size(&z->base) <
                       protobuf_c_message_get_packed_size(&m->base);
    return wm_pb_encode(&(*zipped ? z : m)->base, out, len);
}

wm_err_t wm_wire_encode_batch(const Wm__Batch *b, int zstd, uint8_t **out, size_t *len,
                              int *zipped)
{
    Wm__SyncMsg m = WM__SYNC_MSG__INIT, zm = WM__SYNC_MSG__INIT;
    Wm__ZBatch zb = WM__ZBATCH__INIT;
    uint8_t *z = NULL;
    m.msg_case = WM__SYNC_MSG__MSG_BATCH;
    m.batch = (Wm__Batch *)b;
    int packed = zstd && zpack(b->records, b->n_records, b->batch_id, b->head, &zb, &z);
    zm.msg_case = WM__SYNC_MSG__MSG_ZBATCH;
    zm.zbatch = &zb;
    wm_err_t err = encode_smaller(&m, packed ? &zm : NULL, out, len, zipped);
    free(z);
    return err;
}

wm_err_t wm_wire_encode_down(const Wm__DownBatch *d, int zstd, uint8_t **out, size_t *len,
                             int *zipped)
{
    Wm__SyncMsg m = WM__SYNC_MSG__INIT, zm = WM__SYNC_MSG__INIT;
    Wm__DownBatch zd = *d;
    Wm__ZBatch zb = WM__ZBATCH__INIT;
    uint8_t *z = NULL;
    m.msg_case = WM__SYNC_MSG__MSG_DOWN_BATCH;
    m.down_batch = (Wm__DownBatch *)d;
    int packed = zstd && zpack(d->records, d->n_records, d->batch_id, d->head, &zb, &z);
    zd.records = NULL;
    zd.n_records = 0;
    zd.zbatch = &zb;
    zm.msg_case = WM__SYNC_MSG__MSG_DOWN_BATCH;
    zm.down_batch = &zd;
    wm_err_t err = encode_smaller(&m, packed ? &zm : NULL, out, len, zipped);
    free(z);
    return err;
}

static wm_sync_reason_t fail(wm_sync_reason_t r, char *why, size_t cap, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static wm_sync_reason_t fail(wm_sync_reason_t r, char *why, size_t cap, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, cap, fmt, ap);
    va_end(ap);
    return r;
}

/* The checks of the frame that need no decompression (wm_wire.h). */
static wm_sync_reason_t check_frame(const Wm__ZBatch *zb, uint32_t max_records, char *why,
                                   size_t cap)
{
    const uint8_t *z = zb->zstd.data;
    size_t zlen = zb->zstd.len;
    if (zb->count > max_records)
        return fail(WM_SYNC_R_TOO_BIG, why, cap, "compressed batch of %u records exceeds %u",
                    zb->count, max_records);
    if (zb->dict)
        return fail(WM_SYNC_R_BAD_FRAME, why, cap, "dictionary %u is not defined", zb->dict);
    if (zb->raw_bytes > WM_WIRE_RAW_MAX)
        return fail(WM_SYNC_R_BOMB, why, cap,
                    "compressed batch declares %u bytes, above the limit of %u", zb->raw_bytes,
                    (unsigned)WM_WIRE_RAW_MAX);
    if (zlen < 4 || z[0] != 0x28 || z[1] != 0xB5 || z[2] != 0x2F || z[3] != 0xFD)
        return fail(WM_SYNC_R_BAD_FRAME, why, cap, "the compressed data is not a zstd frame");
    size_t fsize = ZSTD_findFrameCompressedSize(z, zlen);
    if (ZSTD_isError(fsize) || fsize != zlen)
        return fail(WM_SYNC_R_BAD_FRAME, why, cap,
                    "the compressed data is not exactly one whole zstd frame");
    unsigned long long content = ZSTD_getFrameContentSize(z, zlen);
    if (content == ZSTD_CONTENTSIZE_UNKNOWN || content == ZSTD_CONTENTSIZE_ERROR)
        return fail(WM_SYNC_R_BAD_FRAME, why, cap,
                    "the zstd frame does not declare its content size");
    if (content != zb->raw_bytes)
        return fail(WM_SYNC_R_BOMB, why, cap,
                    "the zstd frame declares %llu bytes, the batch %u", content, zb->raw_bytes);
    if (ZSTD_getDictID_fromFrame(z, zlen) != 0)
        return fail(WM_SYNC_R_BAD_FRAME, why, cap, "the zstd frame names a dictionary");
    return WM_SYNC_R_OK;
}

/* Restores the entries of raw[0..len) into out (n, recs, mem allocated
 * for count srecs). */
static wm_sync_reason_t restore(const uint8_t *raw, size_t len, uint32_t count,
                                wm_wire_batch_t *out, char *why, size_t cap)
{
    size_t off = 0, used = 0;
    for (uint32_t i = 0; i < count; i++) {
        uint32_t n = 0, at = 0;
        if (get_varint(raw, len, &off, &n) || get_varint(raw, len, &off, &at) ||
            n > len - off || n < WM_SIG_BYTES)
            return fail(WM_SYNC_R_BAD_FRAME, why, cap,
                        "entry %u of the compressed batch does not parse", i + 1);
        if (at && (i == 0 || at < WM_SIG_BYTES || at > n))
            return fail(WM_SYNC_R_BAD_FRAME, why, cap,
                        "entry %u of the compressed batch restores its prev at offset %u "
                        "(%s)", i + 1, at, i == 0 ? "the first entry is always whole"
                                                  : "outside the record");
        size_t full = n + (at ? WM_WIRE_ELIDED : 0);
        if (full > WM_SYNC_SREC_MAX)
            return fail(WM_SYNC_R_TOO_BIG, why, cap,
                        "record %u of the batch is %zu bytes, above %u", i + 1, full,
                        (unsigned)WM_SYNC_SREC_MAX);
        uint8_t *s = out->mem + used;
        if (i > 0) { /* the srec before is complete: its hash, once */
            const ProtobufCBinaryData *before = &out->recs[i - 1];
            wm_srec_hash_buf(before->data, before->len, out->hashes + (size_t)(i - 1) * WM_HASH_BYTES);
        }
        if (at) {
            memcpy(s, raw + off, at);
            s[at] = 0x2A;
            s[at + 1] = WM_HASH_BYTES;
            memcpy(s + at + 2, out->hashes + (size_t)(i - 1) * WM_HASH_BYTES, WM_HASH_BYTES);
            memcpy(s + at + WM_WIRE_ELIDED, raw + off + at, n - at);
        } else {
            memcpy(s, raw + off, n);
        }
        out->recs[i] = (ProtobufCBinaryData){full, s};
        off += n;
        used += full;
    }
    if (off != len)
        return fail(WM_SYNC_R_BAD_FRAME, why, cap,
                    "the compressed batch holds more than its %u records", count);
    if (count) /* the last one's hash: the chain's head after the batch */
        wm_srec_hash_buf(out->recs[count - 1].data, out->recs[count - 1].len,
                         out->hashes + (size_t)(count - 1) * WM_HASH_BYTES);
    out->n = count;
    out->bytes = used;
    return WM_SYNC_R_OK;
}

wm_sync_reason_t wm_wire_unpack(const Wm__ZBatch *zb, uint32_t max_records, wm_wire_batch_t *out,
                                char *why, size_t cap)
{
    memset(out, 0, sizeof *out);
    wm_sync_reason_t r = check_frame(zb, max_records, why, cap);
    uint8_t *raw = NULL;
    ZSTD_DCtx *dc = NULL;
    if (r != WM_SYNC_R_OK)
        return r;
    /* Decompressed into exactly the declared size: a frame that would
     * write more fails inside zstd, before any byte lands outside. */
    raw = malloc(zb->raw_bytes ? zb->raw_bytes : 1);
    out->recs = calloc(zb->count ? zb->count : 1, sizeof *out->recs);
    out->mem = malloc((size_t)zb->raw_bytes + (size_t)zb->count * WM_WIRE_ELIDED + 1);
    out->hashes = malloc(((size_t)zb->count ? zb->count : 1) * WM_HASH_BYTES);
    if (!raw || !out->recs || !out->mem || !out->hashes ||
        !(dc = wire_dctx())) {
        r = fail(WM_SYNC_R_STORAGE, why, cap, "out of memory for a compressed batch");
        goto out;
    }
    size_t got = ZSTD_decompressDCtx(dc, raw, zb->raw_bytes, zb->zstd.data, zb->zstd.len);
    if (ZSTD_isError(got)) {
        r = ZSTD_getErrorCode(got) == ZSTD_error_dstSize_tooSmall
                ? fail(WM_SYNC_R_BOMB, why, cap,
                       "the zstd frame decompresses to more than its declared %u bytes",
                       zb->raw_bytes)
                : fail(WM_SYNC_R_BAD_FRAME, why, cap, "the zstd frame does not decompress: %s",
                       ZSTD_getErrorName(got));
        goto out;
    }
    if (got != zb->raw_bytes) {
        r = fail(WM_SYNC_R_BAD_FRAME, why, cap,
                 "the zstd frame decompresses to %zu bytes, not the declared %u", got,
                 zb->raw_bytes);
        goto out;
    }
    r = restore(raw, got, zb->count, out, why, cap);
out:
    free(raw);
    if (r != WM_SYNC_R_OK)
        wm_wire_batch_free(out);
    return r;
}

wm_sync_reason_t wm_wire_check(const Wm__ZBatch *zb, uint32_t max_records, char *why, size_t cap)
{
    return check_frame(zb, max_records, why, cap);
}

void wm_wire_batch_free(wm_wire_batch_t *b)
{
    free(b->recs);
    free(b->mem);
    free(b->hashes);
    memset(b, 0, sizeof *b);
}
