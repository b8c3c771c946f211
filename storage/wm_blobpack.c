/* SPDX-License-Identifier: MIT */
/* wm_blobpack — blobs in one streaming file; see wm_blobpack.h. */
#include "wm_blobpack.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "wm_i18n.h"

#define BUF ((size_t)256 << 10) /* bytes copied per read */
#define HDR (1 + WM_HASH_BYTES + 8)

static void put_u64(uint8_t *p, uint64_t v)
{
    for (int i = 7; i >= 0; i--, v >>= 8)
        p[i] = (uint8_t)v;
}

static uint64_t get_u64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | p[i];
    return v;
}

static wm_err_t out_err(void)
{
    return errno == ENOSPC || errno == EDQUOT ? WM_ENOSPC : WM_EIO;
}

/* Writes one blob of bs (held: size) as a frame. */
static wm_err_t write_one(const wm_blob_t *bs, FILE *out, const uint8_t *hash, uint8_t *buf,
                          wm_blobpack_count_t *count)
{
    uint64_t size = 0, off = 0;
    int fd = -1;
    wm_err_t err = wm_blob_open_read(bs, hash, &fd, &size);
    if (err == WM_ENOTFOUND)
        return WM_OK; /* not held here: nothing to carry */
    if (err != WM_OK)
        return err;
    uint8_t hdr[HDR] = {'B'};
    memcpy(hdr + 1, hash, WM_HASH_BYTES);
    put_u64(hdr + 1 + WM_HASH_BYTES, size);
    if (fwrite(hdr, 1, HDR, out) != HDR)
        err = out_err();
    while (err == WM_OK && off < size) {
        ssize_t n = pread(fd, buf, size - off < BUF ? (size_t)(size - off) : BUF, (off_t)off);
        if (n <= 0)
            err = n < 0 ? wm_err_from_errno(errno) : WM_EIO; /* the file shrank */
        else if (fwrite(buf, 1, (size_t)n, out) != (size_t)n)
            err = out_err();
        else
            off += (uint64_t)n;
    }
    close(fd);
    if (err == WM_OK) {
        count->blobs++;
        count->bytes += size;
    }
    return err;
}

typedef struct {
    const wm_blob_t *bs;
    FILE *out;
    uint8_t *buf;
    wm_blobpack_count_t *count;
    wm_err_t err;
} all_ctx_t;

static int write_each(const uint8_t hash[static WM_HASH_BYTES], uint64_t size, void *ctx)
{
    all_ctx_t *ac = ctx;
    (void)size;
    ac->err = write_one(ac->bs, ac->out, hash, ac->buf, ac->count);
    return ac->err != WM_OK;
}

wm_err_t wm_blobpack_write(const wm_blob_t *bs, FILE *out, const uint8_t (*hashes)[WM_HASH_BYTES],
                           size_t n, wm_blobpack_count_t *count)
{
    wm_err_t err = WM_OK;
    uint8_t *buf = malloc(BUF), tail[9] = {'E'};
    memset(count, 0, sizeof *count);
    if (!buf)
        return WM_ENOMEM;
    if (fwrite(WM_BLOBPACK_MAGIC, 1, 8, out) != 8)
        err = out_err();
    if (err == WM_OK && hashes) {
        for (size_t i = 0; err == WM_OK && i < n; i++)
            err = write_one(bs, out, hashes[i], buf, count);
    } else if (err == WM_OK) {
        all_ctx_t ac = {bs, out, buf, count, WM_OK};
        err = wm_blob_list(bs, write_each, &ac);
        if (err == WM_OK)
            err = ac.err;
    }
    put_u64(tail + 1, count->blobs);
    if (err == WM_OK && (fwrite(tail, 1, sizeof tail, out) != sizeof tail || fflush(out) != 0))
        err = out_err();
    free(buf);
    return err;
}

/* Skips n bytes of in. */
static int skip(FILE *in, uint64_t n, uint8_t *buf)
{
    while (n > 0) {
        size_t want = n < BUF ? (size_t)n : BUF;
        if (fread(buf, 1, want, in) != want)
            return -1;
        n -= want;
    }
    return 0;
}

/* Reads one blob's bytes (size) from in into bs, from what it holds. */
static wm_err_t read_one(wm_blob_t *bs, FILE *in, const uint8_t *hash, uint64_t size,
                         uint8_t *buf, char *why, size_t cap)
{
    char hex[WM_BLOB_HEXLEN + 1];
    uint64_t held = 0;
    wm_hex(hash, WM_HASH_BYTES, hex);
    wm_err_t err = wm_blob_part_held(bs, hash, size, &held);
    if (err != WM_OK)
        return err;
    if (skip(in, held, buf) != 0)
        goto truncated; /* resumed: those bytes are in the .part already */
    while (held < size) {
        size_t want = size - held < BUF ? (size_t)(size - held) : BUF;
        size_t got = fread(buf, 1, want, in);
        /* What came is kept (a .part): a read of the whole pack resumes. */
        if (got > 0 && (err = wm_blob_part_write(bs, hash, size, held, buf, got)) != WM_OK)
            return err;
        held += got;
        if (got != want)
            goto truncated;
    }
    return wm_blob_part_complete(bs, hash, size, why, cap);
truncated:
    wm_why(why, cap, "the pack ends inside blob %s (%" PRIu64 " bytes)", hex, size);
    return WM_EDECODE;
}

wm_err_t wm_blobpack_read(wm_blob_t *bs, FILE *in, wm_blobpack_allow_fn allow, void *ctx,
                          wm_blobpack_count_t *count, char *why, size_t cap)
{
    wm_err_t err = WM_OK;
    uint8_t magic[8], hdr[HDR], *buf = malloc(BUF);
    memset(count, 0, sizeof *count);
    if (!buf)
        return WM_ENOMEM;
    if (fread(magic, 1, 8, in) != 8 || memcmp(magic, WM_BLOBPACK_MAGIC, 8) != 0) {
        wm_why(why, cap, "not a blob pack (no \"%s\" at its start)", WM_BLOBPACK_MAGIC);
        err = WM_EDECODE;
        goto out;
    }
    for (;;) {
        if (fread(hdr, 1, 1, in) != 1 || (hdr[0] != 'B' && hdr[0] != 'E')) {
            wm_why(why, cap, "the pack is truncated or damaged after %" PRIu64 " blob(s)",
                   count->blobs);
            err = WM_EDECODE;
            goto out;
        }
        if (hdr[0] == 'E')
            break;
        if (fread(hdr + 1, 1, HDR - 1, in) != HDR - 1) {
            wm_why(why, cap, "the pack ends inside the header of blob %" PRIu64,
                   count->blobs + 1);
            err = WM_EDECODE;
            goto out;
        }
        const uint8_t *hash = hdr + 1;
        uint64_t size = get_u64(hdr + 1 + WM_HASH_BYTES), have = 0;
        if (size > WM_BLOB_MAX) {
            wm_why(why, cap, "blob %" PRIu64 " of the pack is %" PRIu64 " bytes (at most %" PRIu64 ")",
                   count->blobs + 1, size, WM_BLOB_MAX);
            err = WM_ETOOBIG;
            goto out;
        }
        count->blobs++;
        count->bytes += size;
        if (allow && !allow(hash, size, ctx)) {
            count->refused++;
            if (skip(in, size, buf) != 0) {
                wm_why(why, cap, "the pack ends inside blob %" PRIu64, count->blobs);
                err = WM_EDECODE;
                goto out;
            }
            continue;
        }
        if (wm_blob_has(bs, hash, &have) == WM_OK && have == size) {
            count->held++;
            if (skip(in, size, buf) == 0)
                continue;
            wm_why(why, cap, "the pack ends inside blob %" PRIu64, count->blobs);
            err = WM_EDECODE;
            goto out;
        }
        if ((err = read_one(bs, in, hash, size, buf, why, cap)) != WM_OK)
            goto out;
        count->stored++;
    }
    uint8_t n[8];
    if (fread(n, 1, 8, in) != 8 || get_u64(n) != count->blobs) {
        wm_why(why, cap, "the pack's end does not count the %" PRIu64 " blob(s) read (truncated?)",
               count->blobs);
        err = WM_EDECODE;
    }
out:
    free(buf);
    return err;
}
