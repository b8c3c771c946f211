/* SPDX-License-Identifier: MIT */
/* wm_blobcall — evidence files to and from the daemon; see wm_blobcall.h. */
#include "wm_blobcall.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wm_client.h"
#include "wm_record.h"

#define PUT_RESUMES 3 /* a put told to resume elsewhere this often gives up */

/* The error of a slug the daemon answered (WM_EIO for one unknown here). */
static wm_err_t err_of(const char *slug)
{
    for (int e = 1; e < WM_ERR_COUNT; e++)
        if (strcmp(wm_errname((wm_err_t)e), slug) == 0)
            return (wm_err_t)e;
    return WM_EIO;
}

/* Copies a refusal of the daemon into f; its error. */
static wm_err_t refused(const Wm__CtlReply *rep, wm_blobcall_fail_t *f)
{
    snprintf(f->error, sizeof f->error, "%s", rep->error);
    snprintf(f->field, sizeof f->field, "%s", rep->field ? rep->field : "");
    snprintf(f->why, sizeof f->why, "%s", rep->message && rep->message[0] ? rep->message
                                                                          : rep->error);
    return err_of(rep->error);
}

static wm_err_t call(const wm_blobcall_t *bc, Wm__CtlRequest *req, Wm__CtlReply **rep,
                     wm_blobcall_fail_t *f)
{
    req->lang = (char *)(bc->lang ? bc->lang : "");
    wm_err_t err = wm_client_call(bc->net, bc->control, req,
                                  bc->timeout_ms ? bc->timeout_ms : WM_CLIENT_TIMEOUT_MS, rep,
                                  &f->lost);
    if (err != WM_OK)
        snprintf(f->why, sizeof f->why, "%s", wm_strerror(err));
    return err;
}

wm_err_t wm_blobcall_put(const wm_blobcall_t *bc, const uint8_t hash[static WM_HASH_BYTES],
                         const uint8_t *data, size_t len, wm_blobcall_fail_t *f)
{
    wm_err_t err = WM_OK;
    uint64_t off = 0;
    int resumes = 0;
    memset(f, 0, sizeof *f);
    for (;;) {
        Wm__CtlRequest req = WM__CTL_REQUEST__INIT;
        Wm__BlobPut put = WM__BLOB_PUT__INIT;
        Wm__CtlReply *rep = NULL;
        size_t n = len - off < WM_CTL_BLOB_CHUNK ? (size_t)(len - off) : WM_CTL_BLOB_CHUNK;
        put.hash.data = (uint8_t *)hash, put.hash.len = WM_HASH_BYTES;
        put.size = len, put.offset = off;
        put.data.data = (uint8_t *)data + off, put.data.len = n;
        req.op_case = WM__CTL_REQUEST__OP_BLOB_PUT;
        req.blob_put = &put;
        if ((err = call(bc, &req, &rep, f)) != WM_OK)
            break;
        uint64_t held = rep->blob_held;
        if (rep->error && rep->error[0])
            err = refused(rep, f);
        wm_pb_free(&rep);
        if (err == WM_ECHAIN && resumes++ < PUT_RESUMES && held < len) {
            off = held, err = WM_OK; /* a put cut off earlier left this much */
            continue;
        }
        if (err != WM_OK || held >= len)
            break; /* held == len: present at the daemon, durably */
        off = held;
        if (bc->progress)
            bc->progress(bc->ctx, off, len);
    }
    return err;
}

/* One chunk from off: appended to *buf (grown to the file's size). */
static wm_err_t get_chunk(const wm_blobcall_t *bc, const uint8_t *hash, int thumb, size_t max,
                          uint8_t **buf, uint64_t *off, uint64_t *size, wm_blobcall_fail_t *f)
{
    Wm__CtlRequest req = WM__CTL_REQUEST__INIT;
    Wm__BlobGet g = WM__BLOB_GET__INIT;
    Wm__CtlReply *rep = NULL;
    g.hash.data = (uint8_t *)hash, g.hash.len = WM_HASH_BYTES;
    g.offset = *off, g.max = WM_CTL_BLOB_CHUNK;
    req.op_case = thumb ? WM__CTL_REQUEST__OP_BLOB_THUMB_GET : WM__CTL_REQUEST__OP_BLOB_GET;
    if (thumb)
        req.blob_thumb_get = &g;
    else
        req.blob_get = &g;
    wm_err_t err = call(bc, &req, &rep, f);
    if (err != WM_OK)
        return err;
    if (rep->error && rep->error[0]) {
        err = refused(rep, f);
        if (rep->blob_pruned)
            snprintf(f->error, sizeof f->error, "pruned");
    } else if (rep->blob_size > max || (*buf && rep->blob_size != *size) ||
               rep->blob_data.len > rep->blob_size - *off ||
               (rep->blob_data.len == 0 && *off < rep->blob_size)) {
        err = rep->blob_size > max ? WM_ETOOBIG : WM_EDECODE;
        snprintf(f->why, sizeof f->why, "the daemon's answer does not fit the file (%llu bytes)",
                 (unsigned long long)rep->blob_size);
    } else if (!*buf && !(*buf = malloc(rep->blob_size ? rep->blob_size : 1))) {
        err = WM_ENOMEM;
    } else {
        *size = rep->blob_size;
        memcpy(*buf + *off, rep->blob_data.data, rep->blob_data.len);
        *off += rep->blob_data.len;
    }
    wm_pb_free(&rep);
    return err;
}

wm_err_t wm_blobcall_get(const wm_blobcall_t *bc, const uint8_t hash[static WM_HASH_BYTES],
                         int thumb, size_t max, uint8_t **out, size_t *len,
                         wm_blobcall_fail_t *f)
{
    wm_err_t err = WM_OK;
    uint8_t *buf = NULL, got[WM_HASH_BYTES];
    uint64_t off = 0, size = 0;
    memset(f, 0, sizeof *f);
    do {
        err = get_chunk(bc, hash, thumb, max, &buf, &off, &size, f);
        if (err == WM_OK && off < size && bc->progress)
            bc->progress(bc->ctx, off, size);
    } while (err == WM_OK && off < size);
    if (err == WM_OK && !thumb) {
        wm_hash(buf, (size_t)size, got);
        if (memcmp(got, hash, WM_HASH_BYTES) != 0) {
            err = WM_ECORRUPT;
            snprintf(f->why, sizeof f->why, "the bytes received do not hash to the file's hash");
        }
    }
    if (err == WM_OK)
        *out = buf, *len = (size_t)size, buf = NULL;
    free(buf);
    return err;
}
