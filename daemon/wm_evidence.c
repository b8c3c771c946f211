/* SPDX-License-Identifier: MIT */
/* wm_evidence — evidence files over the control socket; see wm_evidence.h. */
#include "wm_evidence.h"

#include <stdlib.h>
#include <string.h>

#include "wm_crypto.h"
#include "wm_i18n.h"
#include "wm_validate.h"

/* The first 12 hex digits of a hash, for people. */
static const char *short_hex(const uint8_t *h, char out[static 13])
{
    char full[2 * WM_HASH_BYTES + 1];
    wm_hex(h, WM_HASH_BYTES, full);
    memcpy(out, full, 12);
    out[12] = 0;
    return out;
}

wm_err_t wm_evidence_put(wm_blob_t *bs, const Wm__BlobPut *p, uint64_t *held, const char **field,
                         char *why, size_t cap)
{
    wm_err_t rc;
    uint64_t have = 0;
    char cwhy[WM_WHY_MAX] = "";
    *field = "";
    if (p->hash.len != WM_HASH_BYTES) {
        *field = "hash";
        wm_why(why, cap, "blob_put: hash must be %d bytes", WM_HASH_BYTES);
        return WM_EINVAL;
    }
    if (p->size == 0 || p->size > WM_ATTACH_SIZE_MAX || p->data.len > WM_EVIDENCE_CHUNK ||
        p->offset > p->size || p->data.len > p->size - p->offset) {
        *field = "size";
        wm_why(why, cap, "blob_put: a file is 1 to %u bytes, sent in chunks of at most %u",
               WM_ATTACH_SIZE_MAX, WM_EVIDENCE_CHUNK);
        return WM_EINVAL;
    }
    rc = wm_blob_has(bs, p->hash.data, &have);
    if (rc == WM_OK && have == p->size) {
        *held = p->size; /* identical files are stored once */
        return WM_OK;
    }
    if (rc == WM_OK) {
        *field = "size";
        wm_why(why, cap, "blob_put: the file stored under this hash is %llu bytes, not %llu",
               (unsigned long long)have, (unsigned long long)p->size);
        return WM_EINVAL;
    }
    if (rc != WM_ENOTFOUND || (rc = wm_blob_part_held(bs, p->hash.data, p->size, &have)) != WM_OK) {
        wm_why(why, cap, "blob_put: cannot read the store: %s", wm_strerror(rc));
        return rc;
    }
    *held = have;
    if (have == p->size)
        goto complete; /* whole already: a put cut off before its rename */
    if (p->offset != have) {
        wm_why(why, cap, "blob_put: %llu bytes are held; send from there",
               (unsigned long long)have);
        return WM_ECHAIN;
    }
    if (p->data.len &&
        (rc = wm_blob_part_write(bs, p->hash.data, p->size, p->offset, p->data.data,
                                 p->data.len)) != WM_OK) {
        wm_why(why, cap, "blob_put: cannot write the file: %s", wm_strerror(rc));
        return rc;
    }
    *held = have + p->data.len;
    if (*held < p->size)
        return WM_OK;
complete:
    /* The commit point of the file: hashed, fsync'd, renamed, the
     * directory fsync'd. Only from here may a record name it. */
    rc = wm_blob_part_complete(bs, p->hash.data, p->size, cwhy, sizeof cwhy);
    if (rc == WM_ECORRUPT) { /* sent wrong, or a crash garbled the tail of a .part */
        *held = 0, *field = "hash";
        wm_why(why, cap, "blob_put: the bytes held do not hash to the file's hash; discarded: "
                         "send the file again from the start");
        return WM_ECHAIN;
    }
    if (rc != WM_OK)
        wm_why(why, cap, "blob_put: cannot store the file: %s", cwhy[0] ? cwhy : wm_strerror(rc));
    return rc;
}

/* Why a file is not here: never held, or pruned (a thumbnail is kept). */
static void not_held(const wm_blob_t *bs, const uint8_t *hash, int thumb, int *pruned, char *why,
                     size_t cap)
{
    char h[13];
    *pruned = !thumb && wm_blob_thumb_has(bs, hash, NULL) == WM_OK;
    if (*pruned)
        wm_why(why, cap,
               "file %s… was pruned at this node after its town confirmed it holds it: get it "
               "from the town; its thumbnail is kept here (wmctl blob get HASH --thumb)",
               short_hex(hash, h));
    else if (thumb)
        wm_why(why, cap, "no thumbnail of file %s… is kept at this node (only the photos it "
                         "pruned have one)",
               short_hex(hash, h));
    else
        wm_why(why, cap, "file %s… is not held at this node", short_hex(hash, h));
}

static wm_err_t get_named(const wm_blob_t *bs, const Wm__BlobGet *g, int thumb, uint8_t **data,
                          size_t *len, uint64_t *size, int *pruned, char *why, size_t cap)
{
    wm_err_t rc;
    uint8_t *buf = NULL;
    size_t n = 0;
    char h[13];
    *pruned = 0;
    if (g->hash.len != WM_HASH_BYTES || g->max == 0 || g->max > WM_EVIDENCE_CHUNK) {
        wm_why(why, cap, "blob_get: hash must be %d bytes and max 1 to %u", WM_HASH_BYTES,
               WM_EVIDENCE_CHUNK);
        return WM_EINVAL;
    }
    rc = thumb ? wm_blob_thumb_has(bs, g->hash.data, size) : wm_blob_has(bs, g->hash.data, size);
    if (rc == WM_OK && thumb && *size == 0)
        rc = WM_ENOTFOUND; /* pruned, but no picture could be made of it (a PDF) */
    if (rc != WM_OK) {
        if (rc == WM_ENOTFOUND)
            not_held(bs, g->hash.data, thumb, pruned, why, cap);
        else
            wm_why(why, cap, "cannot read the store: %s", wm_strerror(rc));
        return rc;
    }
    if (!(buf = malloc(g->max)))
        return WM_ENOMEM;
    rc = thumb ? wm_blob_thumb_read(bs, g->hash.data, g->offset, buf, g->max, &n)
               : wm_blob_read(bs, g->hash.data, g->offset, buf, g->max, &n);
    if (rc != WM_OK) {
        wm_why(why, cap, "cannot read file %s…: %s", short_hex(g->hash.data, h), wm_strerror(rc));
        free(buf);
        return rc;
    }
    *data = buf, *len = n;
    return WM_OK;
}

wm_err_t wm_evidence_get(const wm_blob_t *bs, const Wm__BlobGet *g, uint8_t **data, size_t *len,
                         uint64_t *size, char *why, size_t cap)
{
    int pruned = 0;
    return get_named(bs, g, 0, data, len, size, &pruned, why, cap);
}

wm_err_t wm_evidence_read(const wm_blob_t *bs, const Wm__BlobGet *g, int thumb, uint8_t **data,
                          size_t *len, uint64_t *size, int *pruned, char *why, size_t cap)
{
    return get_named(bs, g, thumb, data, len, size, pruned, why, cap);
}

wm_err_t wm_evidence_check(const wm_blob_t *bs, const wm_record_t *body, const char **field,
                           char *why, size_t cap)
{
    if (body->body_case != WM__RECORD__BODY_ACTIVITY || !body->activity)
        return WM_OK;
    const Wm__Activity *a = body->activity;
    char h[13];
    for (size_t i = 0; i < a->n_attachments; i++) {
        const Wm__Attachment *x = a->attachments[i];
        uint64_t size = 0;
        *field = x->role == WM__ATTACHMENT_ROLE__SIGN_IN_SHEET ? "attach" : "photo";
        if (x->hash.len != WM_HASH_BYTES)
            continue; /* the content rules name it */
        wm_err_t rc = wm_blob_has(bs, x->hash.data, &size);
        if (rc == WM_ENOTFOUND || (rc == WM_OK && size != x->size)) {
            wm_why(why, cap,
                   "attachment %zu (file %s…) is not stored at this node: send the file "
                   "before the record that names it (wmctl record does)",
                   i + 1, short_hex(x->hash.data, h));
            return WM_EINVAL;
        }
        if (rc != WM_OK) {
            wm_why(why, cap, "cannot read the store of evidence files: %s", wm_strerror(rc));
            return rc;
        }
    }
    *field = "";
    return WM_OK;
}
