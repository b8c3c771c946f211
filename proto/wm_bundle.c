/* SPDX-License-Identifier: MIT */
/* wm_bundle — a streaming, two-pass reader of bundle files; see
 * wm_bundle.h. */
#include "wm_bundle.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "sync.pb-c.h"

enum { WT_VARINT = 0, WT_I64 = 1, WT_LEN = 2, WT_I32 = 5 };
enum { F_NODE = 1, F_SIGN_PUB = 2, F_FROM = 3, F_RECORDS = 4 };

/* n bytes at b->off (the source is positioned there). */
static WM_MUST_CHECK wm_err_t get(wm_bundle_t *b, uint8_t *buf, size_t n)
{
    if (n > b->src.size - b->off) {
        snprintf(b->why, sizeof b->why, "the file ends at byte %" PRIu64 " inside a field",
                 b->src.size);
        return WM_EDECODE;
    }
    if (n && b->src.read(b->src.ctx, buf, n) != 0) {
        snprintf(b->why, sizeof b->why, "cannot read at byte %" PRIu64, b->off);
        return WM_EIO;
    }
    b->off += n;
    return WM_OK;
}

/* Moves past n bytes (already checked to be in the file). */
static WM_MUST_CHECK wm_err_t skip(wm_bundle_t *b, uint64_t n)
{
    b->off += n;
    if (b->src.seek(b->src.ctx, b->off) != 0) {
        snprintf(b->why, sizeof b->why, "cannot seek to byte %" PRIu64, b->off);
        return WM_EIO;
    }
    return WM_OK;
}

/* Bytes of a field key (number and wire type) and of a length prefix:
 * both are 32-bit varints, and protobuf-c refuses longer encodings. */
#define WM_BUNDLE_KEY_MAX 5

static WM_MUST_CHECK wm_err_t varint(wm_bundle_t *b, uint64_t *v)
{
    uint64_t at = b->off, x = 0;
    for (int i = 0; i < 10; i++) {
        uint8_t c;
        wm_err_t err = get(b, &c, 1);
        if (err != WM_OK)
            return err;
        if (i == 9 && c > 1)
            break;
        x |= (uint64_t)(c & 0x7f) << (7 * i);
        if (!(c & 0x80)) {
            *v = x;
            return WM_OK;
        }
    }
    snprintf(b->why, sizeof b->why, "the varint at byte %" PRIu64 " is too long", at);
    return WM_EDECODE;
}

/* One top-level field at b->off: its number, and the size of its value,
 * which starts at b->off when this returns. The value is checked to fit
 * in the file. */
static WM_MUST_CHECK wm_err_t field(wm_bundle_t *b, uint32_t *no, uint64_t *size, int *wt)
{
    uint64_t at = b->off, key = 0;
    wm_err_t err = varint(b, &key);
    if (err != WM_OK)
        return err;
    if (b->off - at > WM_BUNDLE_KEY_MAX) { /* as protobuf-c: a key is a varint32 */
        snprintf(b->why, sizeof b->why, "byte %" PRIu64 ": a field key of %" PRIu64
                 " bytes; at most %d", at, b->off - at, WM_BUNDLE_KEY_MAX);
        return WM_EDECODE;
    }
    *wt = (int)(key & 7);
    if (key >> 3 == 0 || key >> 3 > 0x1fffffff) {
        snprintf(b->why, sizeof b->why, "byte %" PRIu64 ": field number %" PRIu64
                 " is not a protobuf field number", at, key >> 3);
        return WM_EDECODE;
    }
    *no = (uint32_t)(key >> 3);
    switch (*wt) {
    case WT_VARINT: *size = 0; break; /* read by the caller */
    case WT_I64: *size = 8; break;
    case WT_I32: *size = 4; break;
    case WT_LEN: {
        uint64_t len_at = b->off;
        if ((err = varint(b, size)) != WM_OK)
            return err;
        if (b->off - len_at > WM_BUNDLE_KEY_MAX) { /* as protobuf-c: a 32-bit length */
            snprintf(b->why, sizeof b->why, "byte %" PRIu64 ": a length of %" PRIu64
                     " bytes; at most %d", len_at, b->off - len_at, WM_BUNDLE_KEY_MAX);
            return WM_EDECODE;
        }
        break;
    }
    default:
        snprintf(b->why, sizeof b->why, "byte %" PRIu64 ": field %" PRIu32
                 " has wire type %d, which a Bundle never holds", at, *no, *wt);
        return WM_EDECODE;
    }
    if (*size > b->src.size - b->off) {
        snprintf(b->why, sizeof b->why, "byte %" PRIu64 ": field %" PRIu32 " claims %" PRIu64
                 " bytes but the file ends %" PRIu64 " bytes later (truncated?)",
                 at, *no, *size, b->src.size - b->off);
        return WM_EDECODE;
    }
    return WM_OK;
}

/* Processes the field at b->off. A record is copied into rec (cap bytes)
 * when rec is given, else skipped; either way *got = 1 and *len is its
 * size. The node id is kept when keep_node. */
static WM_MUST_CHECK wm_err_t step(wm_bundle_t *b, int keep_node, uint8_t *rec, size_t cap, size_t *len,
                     int *got)
{
    uint32_t no;
    uint64_t size, at = b->off, v;
    int wt;
    wm_err_t err = field(b, &no, &size, &wt);
    *got = 0;
    if (err != WM_OK)
        return err;
    if (no <= F_RECORDS && wt != WT_LEN) {
        snprintf(b->why, sizeof b->why, "byte %" PRIu64 ": field %" PRIu32
                 " must be length-delimited (wire type 2), not %d", at, no, wt);
        return WM_EDECODE;
    }
    switch (no) {
    case F_RECORDS:
        if (size > WM_BUNDLE_REC_MAX) {
            snprintf(b->why, sizeof b->why, "record %" PRIu64 " of the bundle (at byte %" PRIu64
                     ") is %" PRIu64 " bytes; a record may have at most %u (a %u-byte signature "
                     "and %u bytes of record)",
                     (rec ? b->next : b->records) + 1, at, size, (unsigned)WM_BUNDLE_REC_MAX,
                     (unsigned)WM_SIG_BYTES, (unsigned)WM_REC_MAX);
            return WM_ETOOBIG;
        }
        *len = (size_t)size;
        *got = 1;
        if (!rec)
            return skip(b, size);
        if (size > cap) {
            snprintf(b->why, sizeof b->why, "a record buffer of %zu bytes is too small", cap);
            return WM_ETOOBIG;
        }
        return get(b, rec, (size_t)size);
    case F_NODE:
        if (size > WM_BUNDLE_NODE_MAX) {
            snprintf(b->why, sizeof b->why, "byte %" PRIu64 ": the node id is %" PRIu64
                     " bytes long; at most %d", at, size, WM_BUNDLE_NODE_MAX);
            return WM_EDECODE;
        }
        if (!keep_node)
            return skip(b, size);
        if ((err = get(b, (uint8_t *)b->node, (size_t)size)) != WM_OK)
            return err;
        b->node[size] = 0;
        if (strlen(b->node) != size) {
            snprintf(b->why, sizeof b->why, "byte %" PRIu64 ": the node id holds a NUL byte", at);
            return WM_EDECODE;
        }
        return WM_OK;
    case F_SIGN_PUB:
    case F_FROM: {
        uint8_t small[WM_BUNDLE_SMALL_MAX];
        void *from = NULL;
        if (size > WM_BUNDLE_SMALL_MAX) {
            snprintf(b->why, sizeof b->why, "byte %" PRIu64 ": field %" PRIu32 " is %" PRIu64
                     " bytes; at most %d", at, no, size, WM_BUNDLE_SMALL_MAX);
            return WM_EDECODE;
        }
        if (no == F_SIGN_PUB || rec)
            return skip(b, size);
        /* `from` is a message: malformed there is malformed, as for
         * protobuf-c, though nothing here uses it. */
        if ((err = get(b, small, (size_t)size)) != WM_OK)
            return err;
        if (wm_pb_decode(&wm__frontier__descriptor, small, (size_t)size, sizeof small, &from) !=
            WM_OK) {
            snprintf(b->why, sizeof b->why, "byte %" PRIu64 ": field 3 (from) does not decode",
                     at);
            return WM_EDECODE;
        }
        wm_pb_free(&from);
        return WM_OK;
    }
    default: /* unknown: skipped, as protobuf does */
        return wt == WT_VARINT ? varint(b, &v) : skip(b, size);
    }
}

static WM_MUST_CHECK wm_err_t rewind_to_fields(wm_bundle_t *b)
{
    b->off = WM_BUNDLE_MAGIC_LEN;
    b->next = 0;
    if (b->src.seek(b->src.ctx, b->off) != 0) {
        snprintf(b->why, sizeof b->why, "cannot seek to byte %" PRIu64, b->off);
        return WM_EIO;
    }
    return WM_OK;
}

wm_err_t wm_bundle_scan(wm_bundle_t *b, const wm_bundle_src_t *src)
{
    uint8_t magic[WM_BUNDLE_MAGIC_LEN];
    int got;
    memset(b, 0, sizeof *b);
    b->src = *src;
    if (b->src.size < WM_BUNDLE_MAGIC_LEN) {
        snprintf(b->why, sizeof b->why, "it is %" PRIu64 " bytes, too short for a bundle",
                 b->src.size);
        return WM_EDECODE;
    }
    wm_err_t err = b->src.seek(b->src.ctx, 0) != 0 ? WM_EIO : get(b, magic, sizeof magic);
    if (err == WM_EIO)
        snprintf(b->why, sizeof b->why, "cannot read it");
    if (err != WM_OK)
        return err;
    if (memcmp(magic, WM_BUNDLE_MAGIC, WM_BUNDLE_MAGIC_LEN) != 0) {
        snprintf(b->why, sizeof b->why, "it does not begin with %s", WM_BUNDLE_MAGIC);
        return WM_EDECODE;
    }
    while (b->off < b->src.size) {
        size_t len = 0;
        if ((err = step(b, 1, NULL, 0, &len, &got)) != WM_OK)
            return err;
        b->records += (uint64_t)got;
        b->record_bytes += got ? len : 0;
    }
    if (!b->node[0]) {
        snprintf(b->why, sizeof b->why, "it names no node (field 1)");
        return WM_EDECODE;
    }
    return rewind_to_fields(b);
}

wm_err_t wm_bundle_next(wm_bundle_t *b, uint8_t *buf, size_t cap, size_t *len)
{
    int got = 0;
    while (b->off < b->src.size) {
        wm_err_t err = step(b, 0, buf, cap, len, &got);
        if (err != WM_OK)
            return err;
        if (got) {
            b->next++;
            return WM_OK;
        }
    }
    return WM_ENOTFOUND;
}

static int mem_read(void *ctx, uint8_t *buf, size_t n)
{
    wm_bundle_mem_t *m = ctx;
    if (n > m->size - m->pos)
        return -1;
    memcpy(buf, m->data + m->pos, n);
    m->pos += n;
    return 0;
}

static int mem_seek(void *ctx, uint64_t off)
{
    wm_bundle_mem_t *m = ctx;
    if (off > m->size)
        return -1;
    m->pos = off;
    return 0;
}

wm_bundle_src_t wm_bundle_mem_src(wm_bundle_mem_t *m)
{
    m->pos = 0;
    return (wm_bundle_src_t){mem_read, mem_seek, m, m->size};
}
