/* SPDX-License-Identifier: MIT */
/*
 * wm_agg_blobfetch — the asking side of feature "blob-fetch" (PROTOCOL.md
 * §7.3): a county fetches a blob its towns keep, on demand. A control
 * request (wmctl blob fetch, audit --with-evidence) asks for one chunk: the
 * aggregator sends the child a BLOB_FETCH from the byte its store holds
 * (the blob's NAME.part, storage/wm_blob.h), and writes the BLOB_DATA that
 * answers it into that .part; the last chunk completes the blob, which is
 * present only if every byte hashes to its name. So the transfer resumes
 * after any crash or disconnect of either side, and a child's bytes are
 * never trusted beyond the hash. A tier in the middle relays a BLOB_FETCH
 * with a path to its own child and the answer back up, unchecked (the
 * asker checks). Waits share the audit's table (wm_agg_audit.c), marked
 * blob. Runs on the poll loop.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "control.pb-c.h"
#include "wm_i18n.h"
#include "wm_agg_int.h"
#include "wm_blob.h"
#include "wm_blobref.h"
#include "wm_diag.h"
#include "wm_reactor.h"

/* What a request asks for when it says nothing (max 0): a quarter MiB. */
#define ASK_DEFAULT (256u << 10)

/* The first 12 hex digits of a hash, for people. */
static const char *short_hex(const uint8_t *h, char out[static 13])
{
    char full[WM_BLOB_HEXLEN + 1];
    wm_hex(h, WM_HASH_BYTES, full);
    memcpy(out, full, 12);
    out[12] = 0;
    return out;
}

void wm_agg_blobfetch_session(wm_agg_t *a, wm_agg_peer_t *p, const Wm__Hello *h,
                              const char *const *offered, size_t n_offered)
{
    p->blob_fetch = 0;
    for (size_t i = 0; i < n_offered; i++)
        p->blob_fetch |= strcmp(offered[i], WM_FEATURE_BLOB_FETCH) == 0 &&
                         wm_sync_feature_agreed(WM_FEATURE_BLOB_FETCH, h->features,
                                                h->n_features);
    /* Fetches asked on the session before are answered on it or never:
     * their askers hear so now rather than at the timeout. */
    for (int i = 0; i < FETCH_WAIT_MAX; i++)
        if (a->waits[i].req_id && a->waits[i].blob && strcmp(a->waits[i].child, p->ps->node) == 0)
            wm_agg_blobfetch_fail(a, &a->waits[i], "timeout",
                                  "the child reconnected before it answered; ask again");
}

/* Answers the control request w waits for: the bytes held now, or why
 * not (slug: the blob-fetch reason, PROTOCOL.md §7.3, in CtlReply.field).
 * Frees w. */
static void ctl_answer(wm_agg_t *a, wm_agg_wait_t *w, uint64_t held, uint64_t size, int present,
                       wm_err_t err, const char *slug, const char *msg)
{
    Wm__CtlReply r = WM__CTL_REPLY__INIT;
    if (err != WM_OK) {
        r.error = (char *)wm_errname(err);
        r.field = (char *)slug;
        r.message = (char *)msg;
    }
    r.blob_held = held;
    r.blob_size = size;
    r.blob_present = present;
    r.blob_from = w->child;
    wm_agg_wait_answer(a, w, &r, "blob fetch");
}

void wm_agg_blobfetch_fail(wm_agg_t *a, wm_agg_wait_t *w, const char *slug, const char *msg)
{
    char error[WM_WHY_MAX];
    if (!w->relay) {
        ctl_answer(a, w, 0, w->size, 0, strcmp(slug, "timeout") ? WM_ESTATE : WM_ETIMEOUT, slug,
                   msg);
        return;
    }
    Wm__BlobData d = WM__BLOB_DATA__INIT;
    snprintf(error, sizeof error, "%s: %s: %s", slug, w->child, msg);
    d.hash = (ProtobufCBinaryData){WM_HASH_BYTES, w->hash};
    d.offset = w->offset;
    d.error = error;
    if (a->blob_relay_fn)
        a->blob_relay_fn(a->blob_relay_ctx, w->up_req_id, &d);
    memset(w, 0, sizeof *w);
}

/* The child whose verified record names blob hash (its signed size into
 * *size when it was 0), else the only child in a session that agreed
 * "blob-fetch". NULL, and why, if neither tells. */
static wm_agg_peer_t *find_holder(wm_agg_t *a, const uint8_t *hash, uint64_t *size, char *why,
                                  size_t cap)
{
    wm_agg_peer_t *named = NULL, *only = NULL;
    size_t n_live = 0, used = 0;
    char h[13], list[256] = "";
    wm_txn_t *t = NULL;
    if (wm_txn_begin(a->node->store, 0, &t) == WM_OK) {
        for (size_t i = 0; i < a->npeers && !named; i++) {
            wm_blobref_t ref;
            if (a->peers[i].node_no &&
                wm_blobref_get(t, a->peers[i].node_no, hash, &ref) == WM_OK) {
                named = &a->peers[i];
                if (!*size)
                    *size = ref.size;
            }
        }
        wm_txn_abort(&t);
    }
    for (size_t i = 0; i < a->npeers && !named; i++) {
        wm_agg_peer_t *p = &a->peers[i];
        if (p->session == WM_AGG_S_NONE || !p->blob_fetch)
            continue;
        only = p, n_live++;
        int k = snprintf(list + used, sizeof list - used, "%s%s", used ? ", " : "", p->ps->node);
        if (k > 0 && (size_t)k < sizeof list - used)
            used += (size_t)k;
    }
    if (named || n_live == 1)
        return named ? named : only;
    wm_why(why, cap, "no record held here names blob %s…: say which child keeps it (--child ID; "
                     "connected children that offer %s: %s)",
           short_hex(hash, h), WM_FEATURE_BLOB_FETCH, used ? list : "none");
    return NULL;
}

/* Sends child p a BLOB_FETCH of f's blob from offset (at most max bytes)
 * with path, and fills a free wait for its answer. *wout is the wait (the
 * caller sets what answers it). why/cap and slug when it cannot. */
static WM_MUST_CHECK wm_err_t ask(wm_agg_t *a, wm_agg_peer_t *p, const Wm__BlobFetch *f,
                                  uint64_t size, uint64_t offset, char **path, size_t n_path,
                                  const wm_frame_t *ctl_peer, wm_agg_wait_t **wout,
                                  const char **slug, char *why, size_t cap)
{
    wm_agg_wait_t *w = NULL;
    *slug = "unreachable";
    if (p->session == WM_AGG_S_NONE) {
        wm_why(why, cap, "%s is not connected now; try again when its status says ok",
               p->ps->node);
        return WM_ESTATE;
    }
    if (!p->blob_fetch) {
        *slug = "no_feature";
        wm_why(why, cap, "%s does not offer %s (a build before it, or the feature turned off); "
                         "upgrade it",
               p->ps->node, WM_FEATURE_BLOB_FETCH);
        return WM_ESTATE;
    }
    wm_err_t err = wm_agg_wait_take(a, p, WM_BLOB_FETCH_TIMEOUT_S, ctl_peer, &w);
    if (err != WM_OK) {
        *slug = "busy";
        wm_why(why, cap, err == WM_ESTATE ? "too many fetches at once; try again" : "out of memory");
        return err;
    }
    uint32_t max = f->max && f->max < WM_BLOB_FETCH_MAX ? f->max : f->max ? WM_BLOB_FETCH_MAX
                                                                         : ASK_DEFAULT;
    if (size && size - offset < max)
        max = (uint32_t)(size - offset);
    w->blob = 1;
    memcpy(w->hash, f->hash.data, WM_HASH_BYTES);
    w->size = size;
    w->offset = offset;
    w->max = max;
    Wm__SyncMsg m = WM__SYNC_MSG__INIT;
    Wm__BlobFetch out = *f;
    out.req_id = w->req_id;
    out.size = size;
    out.offset = offset;
    out.max = max;
    out.via = "";
    out.path = path;
    out.n_path = n_path;
    m.msg_case = WM__SYNC_MSG__MSG_BLOB_FETCH;
    m.blob_fetch = &out;
    wm_agg_send(a, &p->route, &m);
    *wout = w;
    return WM_OK;
}

/* A .part that holds all size bytes (the fetch was cut between its last
 * write and the rename): completed now, nothing asked. WM_EEXIST (present,
 * *present_size), or why: mismatch (the .part is discarded: the next
 * fetch starts from 0), storage. */
static wm_err_t complete_held(wm_agg_t *a, const uint8_t *hash, uint64_t size,
                              uint64_t *present_size, const char **slug, char *why, size_t cap)
{
    wm_err_t err = wm_blob_part_complete(a->node->blobs, hash, size, why, cap);
    if (err == WM_OK) {
        *present_size = size;
        return WM_EEXIST;
    }
    *slug = err == WM_ECORRUPT ? "mismatch" : "storage";
    if (err == WM_ECORRUPT)
        wm_why(why, cap, "the bytes held here do not hash to the blob: discarded; fetch it again");
    return err;
}

wm_err_t wm_agg_blob_fetch(wm_agg_t *a, const Wm__BlobFetch *f, const wm_frame_t *ctl_peer,
                           uint64_t *present_size, const char **slug, char *why, size_t cap)
{
    wm_agg_peer_t *p = NULL;
    wm_agg_wait_t *w = NULL;
    uint64_t size = f->size, held = 0, have = 0;
    *slug = "";
    if (f->hash.len != WM_HASH_BYTES || f->size > WM_ATTACH_SIZE_MAX) {
        *slug = "hash";
        wm_why(why, cap, "blob_fetch: a hash of %d bytes and a size of at most %u", WM_HASH_BYTES,
               WM_ATTACH_SIZE_MAX);
        return WM_EINVAL;
    }
    wm_err_t err = wm_blob_has(a->node->blobs, f->hash.data, &have);
    if (err == WM_OK) { /* held already, verified when it was stored: the bytes that hash to
                         * the name (a record giving another size names no real file) */
        *present_size = have;
        return WM_EEXIST;
    }
    if (f->via && f->via[0] && !(p = wm_agg_peer_find(a, f->via))) {
        *slug = "child";
        wm_why(why, cap, "\"%s\" is not enrolled here", f->via);
        return WM_ENOTFOUND;
    }
    if (!p && !(p = find_holder(a, f->hash.data, &size, why, cap))) {
        *slug = "child";
        return WM_ENOTFOUND;
    }
    err = wm_blob_part_held(a->node->blobs, f->hash.data, size ? size : WM_ATTACH_SIZE_MAX, &held);
    if (err != WM_OK) {
        *slug = "storage";
        wm_why(why, cap, "cannot read the store of evidence files: %s", wm_strerror(err));
        return err;
    }
    if (size && held == size) /* all its bytes arrived before a crash cut the completion */
        return complete_held(a, f->hash.data, size, present_size, slug, why, cap);
    return ask(a, p, f, size, held, f->path, f->n_path, ctl_peer, &w, slug, why, cap);
}

void wm_agg_set_blob_relay(wm_agg_t *a, wm_agg_blob_relay_fn fn, void *ctx)
{
    a->blob_relay_fn = fn;
    a->blob_relay_ctx = ctx;
}

wm_err_t wm_agg_blob_relay(wm_agg_t *a, const Wm__BlobFetch *f, char *why, size_t cap)
{
    wm_agg_wait_t *w = NULL;
    const char *slug = "";
    wm_agg_peer_t *p = f->n_path ? wm_agg_peer_find(a, f->path[0]) : NULL;
    if (f->hash.len != WM_HASH_BYTES || !p) {
        snprintf(why, cap, "unreachable: %s is not a child of this node",
                 f->n_path ? f->path[0] : "(no path)");
        return WM_ENOTFOUND;
    }
    char inner[WM_WHY_MAX];
    wm_err_t err = ask(a, p, f, f->size, f->offset, f->path + 1, f->n_path - 1, NULL, &w, &slug, inner,
                       sizeof inner);
    if (err != WM_OK) {
        snprintf(why, cap, "%s: %s", slug, inner);
        return err;
    }
    w->relay = 1;
    w->up_req_id = f->req_id;
    return WM_OK;
}

/* Writes d (the answer w waits for, from w->child, checked to be as
 * asked) into the blob's .part and answers the control request: held,
 * present, or why the bytes were refused. */
static void take(wm_agg_t *a, wm_agg_wait_t *w, const Wm__BlobData *d)
{
    char why[WM_WHY_MAX], h[13];
    uint64_t size = d->size, held = 0;
    wm_err_t err = wm_blob_has(a->node->blobs, w->hash, NULL);
    if (err == WM_OK) {
        ctl_answer(a, w, size, size, 1, WM_OK, "", "");
        return;
    }
    err = wm_blob_part_held(a->node->blobs, w->hash, size, &held);
    if (err == WM_OK && held != d->offset) { /* another fetch of it moved on: ask from held */
        ctl_answer(a, w, held, size, 0, WM_OK, "", "");
        return;
    }
    if (err == WM_OK && d->data.len)
        err = wm_blob_part_write(a->node->blobs, w->hash, size, d->offset, d->data.data,
                                 d->data.len);
    if (err != WM_OK) {
        wm_error("blob fetch: cannot write blob %s… from %s: %s", short_hex(w->hash, h),
                 w->child, wm_strerror(err));
        wm_why(why, sizeof why, "cannot write the blob here: %s", wm_strerror(err));
        ctl_answer(a, w, held, size, 0, err, "storage", why);
        return;
    }
    held += d->data.len;
    if (held < size) {
        ctl_answer(a, w, held, size, 0, WM_OK, "", "");
        return;
    }
    /* The commit point of the blob: hashed whole, fsync'd, renamed. */
    err = wm_blob_part_complete(a->node->blobs, w->hash, size, why, sizeof why);
    if (err == WM_ECORRUPT) {
        wm_warn_peer(w->child, "blob fetch: blob %s… from %s: its bytes do not hash to its name; "
                               "discarded", short_hex(w->hash, h), w->child);
        wm_why(why, sizeof why, "the %" PRIu64 " bytes %s sent do not hash to blob %s…: discarded, "
                                "nothing stored (its copy is altered or damaged)",
               size, w->child, short_hex(w->hash, h));
        ctl_answer(a, w, 0, size, 0, WM_ECORRUPT, "mismatch", why);
        return;
    }
    if (err != WM_OK) {
        ctl_answer(a, w, held, size, 0, err, "storage", why);
        return;
    }
    wm_info("blob fetch: blob %s… (%" PRIu64 " bytes) from %s verified and stored",
            short_hex(w->hash, h), size, w->child);
    ctl_answer(a, w, size, size, 1, WM_OK, "", "");
}

/* Nonzero (and the wait answered with why) if d is not what w asked. */
static int not_as_asked(wm_agg_t *a, wm_agg_wait_t *w, const Wm__BlobData *d)
{
    char why[WM_WHY_MAX];
    const char *slug = "refused";
    if (w->size && d->size != w->size) {
        slug = "size";
        wm_why(why, sizeof why, "%s holds the blob as %" PRIu64 " bytes, but the signed record "
                                "says %" PRIu64 ": its copy is not the station's file",
               w->child, d->size, w->size);
    } else if (d->size == 0 || d->size > WM_ATTACH_SIZE_MAX) {
        slug = "size";
        wm_why(why, sizeof why, "%s says the blob is %" PRIu64 " bytes: a file is 1 to %u",
               w->child, d->size, WM_ATTACH_SIZE_MAX);
    } else if (d->offset != w->offset || d->data.len > w->max || d->offset > d->size ||
               d->data.len > d->size - d->offset || (!d->data.len && d->offset < d->size)) {
        wm_why(why, sizeof why, "%s answered bytes %" PRIu64 "+%zu of %" PRIu64 ", not the bytes "
                                "%" PRIu64 "+%u asked: refused, nothing stored",
               w->child, d->offset, d->data.len, d->size, w->offset, w->max);
    } else {
        return 0;
    }
    ctl_answer(a, w, w->offset, w->size, 0, WM_ECHAIN, slug, why);
    return 1;
}

void wm_agg_blob_data(wm_agg_t *a, wm_agg_peer_t *p, const wm_frame_t *route,
                      const Wm__BlobData *d)
{
    wm_agg_wait_t *w = NULL;
    if (!wm_agg_in_session(p, route)) {
        wm_agg_reject(a, route, p, WM_SYNC_R_NO_SESSION, "send Hello first");
        return;
    }
    if (!p->blob_fetch) {
        wm_agg_reject(a, route, p, WM_SYNC_R_NOT_NEGOTIATED,
                      "a BLOB_DATA, but this session did not agree to \"%s\"",
                      WM_FEATURE_BLOB_FETCH);
        return;
    }
    for (int i = 0; i < FETCH_WAIT_MAX && !w; i++)
        if (a->waits[i].req_id == d->req_id && d->req_id && a->waits[i].blob &&
            strcmp(a->waits[i].child, p->ps->node) == 0 && d->hash.len == WM_HASH_BYTES &&
            memcmp(a->waits[i].hash, d->hash.data, WM_HASH_BYTES) == 0)
            w = &a->waits[i];
    if (!w) {
        wm_agg_reject(a, route, p, WM_SYNC_R_UNEXPECTED,
                      "no blob fetch %" PRIu64 " of this node waits for this BLOB_DATA (never "
                      "asked, another blob, or timed out after %d s)",
                      d->req_id, WM_BLOB_FETCH_TIMEOUT_S);
        return;
    }
    if (w->relay) { /* the tier above checks the bytes against the hash */
        if (a->blob_relay_fn)
            a->blob_relay_fn(a->blob_relay_ctx, w->up_req_id, (Wm__BlobData *)d);
        memset(w, 0, sizeof *w);
        return;
    }
    if (d->error && d->error[0]) {
        char slug[32] = "", msg[WM_WHY_MAX];
        size_t k = strcspn(d->error, ":");
        snprintf(slug, sizeof slug, "%.*s", (int)(k < sizeof slug - 1 ? k : sizeof slug - 1),
                 d->error);
        snprintf(msg, sizeof msg, "%s: %s", w->child, d->error);
        ctl_answer(a, w, w->offset, w->size, 0,
                   strcmp(slug, "missing") && strcmp(slug, "not_named") &&
                           strcmp(slug, "pruned")
                       ? WM_ESTATE
                       : WM_ENOTFOUND,
                   slug, msg);
        return;
    }
    if (!not_as_asked(a, w, d))
        take(a, w, d);
}
