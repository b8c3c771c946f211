/* SPDX-License-Identifier: MIT */
/*
 * web_evid — an activity's photos and sign-in sheet in the web console
 * (issue 12 item 1), as `wmctl record activity --photo/--attach` does it:
 *
 *   POST /api/v1/attachments?name=FILE   (operator) the file's bytes as the
 *        body, at most WEB_UPLOAD_MAX. Normalised by client/photo.c, the
 *        code wmctl uses (libvips; a PDF kept as it is), then put to the
 *        daemon in chunks over the control socket (control messages are
 *        bounded), which holds it durably before this answers 201
 *        {hash, size, media_type, taken, width, height, original_bytes}.
 *        The session remembers what it uploaded (web_session_upload_add):
 *        a record names an upload by hash, and carries the capture time
 *        and dHash wmweb read, never ones a browser sent.
 *   POST /api/v1/records {"kind": "activity", …, "photo": [HASH…],
 *        "attach": HASH}: web_attachments turns the hashes into the
 *        record's attachments; the daemon refuses a record whose files it
 *        does not hold, so a file is durable before the record naming it.
 *   GET /api/v1/blobs/HASH[?thumb=1]    (viewer) the file from the daemon
 *        (blob_get), checked against its hash, with its media type; at a
 *        station that pruned it, its thumbnail (blob_thumb_get) instead,
 *        with X-WM-Pruned: 1.
 *
 * Thread-safe: libvips runs under w->photo_mu (one photo at a time: a
 * 12-MP decode takes some 100 MB).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "photo.h"
#include "web.h"
#include "wm_blob.h"
#include "wm_blobcall.h"
#include "wm_crypto.h"
#include "wm_validate.h"

size_t web_body_max(const char *method, const char *url, int *raw)
{
    int up = strcmp(method, "POST") == 0 && strcmp(url, "/api/v1/attachments") == 0;
    if (raw)
        *raw = up;
    return up ? WEB_UPLOAD_MAX : WEB_BODY_MAX;
}

/* A daemon's refusal or a failed call as the answer. */
static void blob_failed(web_req_t *q, web_resp_t *r, wm_err_t err, const wm_blobcall_fail_t *f)
{
    if (!f->error[0]) {
        web_failed_call(q, r, err, f->lost);
        return;
    }
    unsigned st = err == WM_ENOTFOUND ? 404 : err == WM_EINVAL ? 400 : err == WM_ENOSPC ? 507
                                                                                          : 500;
    web_error(q, r, st, err == WM_EINVAL ? "invalid" : f->error, f->field[0] ? "file" : NULL,
              "%s", f->why);
}

/* The normalised form of the body (under photo_mu). Nonzero: answered. */
static int prepare(web_req_t *q, web_resp_t *r, const char *name, photo_t *p)
{
    char why[WM_WHY_MAX] = "";
    if (!q->body || q->len == 0) {
        web_error(q, r, 400, "invalid", "file", "the upload is empty: send the file's bytes");
        return 1;
    }
    pthread_mutex_lock(&q->w->photo_mu);
    wm_err_t err = photo_prepare_mem((const uint8_t *)q->body, q->len, name,
                                     (int)q->w->cfg.blobs_max_px, p, why, sizeof why);
    pthread_mutex_unlock(&q->w->photo_mu);
    if (err == WM_EINVAL) {
        web_log(q, "upload of %s refused: %s", name, why);
        web_error(q, r, 415, "invalid", "file",
                  "%s is not a photo this console can read (JPEG, PNG, WebP, HEIF) nor a PDF",
                  name);
        return 1;
    }
    if (err == WM_ETOOBIG) {
        web_error(q, r, 413, "invalid", "file", "%s is too large (%s)", name, why);
        return 1;
    }
    if (err != WM_OK) {
        web_error(q, r, 500, "internal", "file", "cannot read the file: %s", why[0] ? why : wm_strerror(err));
        return 1;
    }
    if (p->len > WM_ATTACH_SIZE_MAX) {
        web_error(q, r, 413, "invalid", "file", "%s is %zu bytes; an attachment may be at most %u",
                  name, p->len, WM_ATTACH_SIZE_MAX);
        photo_free(p);
        return 1;
    }
    return 0;
}

static json_t *upload_json(const web_upload_t *u, const photo_t *p)
{
    char hex[2 * WM_HASH_BYTES + 1], taken[32] = "";
    if (u->taken_at) {
        time_t t = (time_t)u->taken_at;
        struct tm tm;
        gmtime_r(&t, &tm);
        strftime(taken, sizeof taken, "%Y-%m-%dT%H:%M:%SZ", &tm);
    }
    return json_pack("{s:s, s:I, s:s, s:o, s:i, s:i, s:I}", "hash",
                     wm_hex(u->hash, WM_HASH_BYTES, hex), "size", (json_int_t)u->size,
                     "media_type", u->media_type, "taken",
                     taken[0] ? json_string(taken) : json_null(), "width", p->width, "height",
                     p->height, "original_bytes", (json_int_t)p->in_bytes);
}

/* The upload's name for messages and the log: at most 80 bytes, control
 * characters replaced (it comes from the browser). */
static void upload_name(const char *arg, char out[static 81])
{
    snprintf(out, 81, "%s", arg && arg[0] ? arg : "upload");
    for (char *c = out; *c; c++)
        if ((unsigned char)*c < 0x20 || *c == 0x7f)
            *c = '?';
}

void web_upload(web_req_t *q, web_resp_t *r, const char *tail)
{
    (void)tail;
    char name[81];
    photo_t p = {0};
    wm_blobcall_fail_t f;
    web_upload_t u = {0};
    upload_name(web_arg(q, "name"), name);
    if (prepare(q, r, name, &p))
        return;
    wm_hash(p.data, p.len, u.hash);
    /* The commit point of the file is the daemon's: when this returns
     * WM_OK it holds the file durably, and only then may a record name it. */
    wm_blobcall_t bc = {.control = q->w->cfg.control, .net = q->w->net};
    wm_err_t err = wm_blobcall_put(&bc, u.hash, p.data, p.len, &f);
    if (err != WM_OK) {
        web_log(q, "upload of %s NOT stored: %s", name, f.why);
        blob_failed(q, r, err, &f);
        goto out;
    }
    u.size = p.len, u.media_type = p.media_type, u.taken_at = p.taken_at, u.dhash = p.dhash;
    web_session_upload_add(q->w->sessions, q->s.token, &u);
    web_log(q, "uploaded %s: %zu bytes stored as %zu", name, q->len, p.len);
    web_json(r, 201, upload_json(&u, &p));
out:
    photo_free(&p);
}

static const char *media_type_of(const uint8_t *d, size_t n)
{
    if (n >= 3 && d[0] == 0xff && d[1] == 0xd8 && d[2] == 0xff)
        return "image/jpeg";
    if (n >= 5 && memcmp(d, "%PDF-", 5) == 0)
        return "application/pdf";
    return "application/octet-stream";
}

void web_blob(web_req_t *q, web_resp_t *r, const char *tail)
{
    uint8_t h[WM_HASH_BYTES], *data = NULL;
    size_t len = 0;
    wm_blobcall_fail_t f;
    const char *t = web_arg(q, "thumb");
    int thumb = t && strcmp(t, "1") == 0, pruned = 0;
    if (strlen(tail) != 2 * WM_HASH_BYTES || wm_unhex(tail, h, sizeof h) != WM_OK) {
        web_error(q, r, 400, "invalid", "hash", "\"%s\" is not a file's hash (64 hex digits)",
                  tail);
        return;
    }
    wm_blobcall_t bc = {.control = q->w->cfg.control, .net = q->w->net};
    wm_err_t err = wm_blobcall_get(&bc, h, thumb, thumb ? WM_BLOB_THUMB_MAX : WM_ATTACH_SIZE_MAX,
                                   &data, &len, &f);
    if (err == WM_ENOTFOUND && !thumb && strcmp(f.error, "pruned") == 0) {
        wm_blobcall_fail_t f2; /* the town holds the photo; the station shows what it kept */
        pruned = 1;
        err = wm_blobcall_get(&bc, h, 1, WM_BLOB_THUMB_MAX, &data, &len, &f2);
        if (err != WM_ENOTFOUND) /* else: no picture of it (a PDF): say it was pruned */
            f = f2;
    }
    if (err != WM_OK) {
        blob_failed(q, r, err, &f);
        return;
    }
    r->status = 200;
    r->ctype = media_type_of(data, len);
    r->body = (char *)data, r->len = len;
    r->pruned = pruned;
    if (strcmp(r->ctype, "image/jpeg") != 0)
        snprintf(r->disposition, sizeof r->disposition, "attachment; filename=\"%.16s%s\"", tail,
                 strcmp(r->ctype, "application/pdf") == 0 ? ".pdf" : "");
}

/* One hash of the body's "photo" or "attach" into a[*n]. Nonzero: answered. */
static int one_attachment(web_req_t *q, web_resp_t *r, const char *key, json_t *v,
                          Wm__Attachment *a, uint8_t (*h)[32], size_t *n)
{
    const char *s = json_string_value(v);
    web_upload_t u;
    if (!s || strlen(s) != 2 * WM_HASH_BYTES || wm_unhex(s, h[*n], 32) != WM_OK) {
        web_error(q, r, 400, "invalid", key, "%s must list the hashes the uploads answered", key);
        return 1;
    }
    if (!web_session_upload_get(q->w->sessions, q->s.token, h[*n], &u)) {
        web_error(q, r, 400, "invalid", key,
                  "file %.12s… was not uploaded in this session: upload it again", s);
        return 1;
    }
    Wm__Attachment *x = &a[*n];
    wm__attachment__init(x);
    x->hash.data = h[*n], x->hash.len = WM_HASH_BYTES;
    x->size = u.size;
    x->media_type = (char *)u.media_type;
    x->taken_at = u.taken_at;
    x->dhash = u.dhash;
    x->role = strcmp(key, "photo") == 0 ? WM__ATTACHMENT_ROLE__PHOTO
                                        : WM__ATTACHMENT_ROLE__SIGN_IN_SHEET;
    (*n)++;
    return 0;
}

int web_attachments(web_req_t *q, web_resp_t *r, json_t *j, Wm__Attachment *a, uint8_t (*h)[32],
                    size_t *n)
{
    static const char *const keys[] = {"photo", "attach"};
    static const size_t most[] = {WM_PHOTOS_MAX, WM_SHEETS_MAX};
    *n = 0;
    for (size_t k = 0; k < 2; k++) {
        json_t *v = json_object_get(j, keys[k]);
        size_t i;
        json_t *x;
        if (!v || json_is_null(v))
            continue;
        if (json_is_array(v) ? json_array_size(v) > most[k] : 1 > most[k]) {
            web_error(q, r, 400, "invalid", keys[k], k ? "at most %d sign-in sheet allowed"
                                                       : "at most %d photos allowed",
                      (int)most[k]);
            return 1;
        }
        if (!json_is_array(v) && one_attachment(q, r, keys[k], v, a, h, n))
            return 1;
        json_array_foreach(v, i, x) if (one_attachment(q, r, keys[k], x, a, h, n)) return 1;
        json_object_del(j, keys[k]);
    }
    return 0;
}
