/* SPDX-License-Identifier: MIT */
/* wm_blobref — the blobs each log's records name, and each node's total of
 * those held for its quota; see wm_blobref.h for the byte layout. */
#include "wm_blobref.h"

#include <assert.h>
#include <lmdb.h>
#include <stdlib.h>
#include <string.h>

#include "wm_blob.h"
#include "wm_store_int.h"

#define KEY_BLOB (4 + WM_HASH_BYTES)
#define VAL_BLOB 21

static void key_of(uint8_t k[KEY_BLOB], uint32_t node, const uint8_t *hash)
{
    wm_put_u32(k, node);
    memcpy(k + 4, hash, WM_HASH_BYTES);
}

static void val_of(uint8_t v[VAL_BLOB], const wm_blobref_t *r)
{
    wm_put_u64(v, r->size);
    v[8] = r->flags;
    wm_put_u32(v + 9, r->epoch);
    wm_put_u64(v + 13, r->seq);
}

/* The entry at k/v into out; WM_ECORRUPT if the value is not one. */
static wm_err_t ref_of(const MDB_val *k, const MDB_val *v, wm_blobref_t *out)
{
    const uint8_t *p = v->mv_data;
    if (k->mv_size != KEY_BLOB || v->mv_size != VAL_BLOB)
        return WM_ECORRUPT;
    memcpy(out->hash, (const uint8_t *)k->mv_data + 4, WM_HASH_BYTES);
    out->size = wm_get_u64(p);
    out->flags = p[8];
    out->epoch = wm_get_u32(p + 9);
    out->seq = wm_get_u64(p + 13);
    return WM_OK;
}

wm_err_t wm_blobref_index(wm_txn_t *t, uint32_t node, const wm_record_t *r)
{
    wm_err_t err = WM_OK;
    if (r->body_case != WM__RECORD__BODY_ACTIVITY || !r->activity)
        return WM_OK;
    for (size_t i = 0; err == WM_OK && i < r->activity->n_attachments; i++) {
        const Wm__Attachment *a = r->activity->attachments[i];
        if (!a || a->hash.len != WM_HASH_BYTES)
            continue; /* the content rules refuse it at a station; unknown elsewhere */
        wm_blobref_t ref = {.size = a->size, .epoch = r->epoch, .seq = r->seq};
        uint8_t kb[KEY_BLOB], vb[VAL_BLOB];
        key_of(kb, node, a->hash.data);
        val_of(vb, &ref);
        MDB_val k = {sizeof kb, kb}, v = {sizeof vb, vb};
        int rc = mdb_put(t->txn, t->s->blobrefs, &k, &v, MDB_NOOVERWRITE);
        err = rc == MDB_KEYEXIST ? WM_OK : wm_mdb_err(t->s, rc, "blobref put");
    }
    return err;
}

wm_err_t wm_blobref_get(wm_txn_t *t, uint32_t node, const uint8_t hash[static WM_HASH_BYTES],
                        wm_blobref_t *out)
{
    uint8_t kb[KEY_BLOB];
    if (t->s->no_blobrefs)
        return WM_ENOTFOUND;
    key_of(kb, node, hash);
    MDB_val k = {sizeof kb, kb}, v;
    int rc = mdb_get(t->txn, t->s->blobrefs, &k, &v);
    if (rc == MDB_NOTFOUND)
        return WM_ENOTFOUND;
    if (rc)
        return wm_mdb_err(t->s, rc, "blobref get");
    return ref_of(&k, &v, out);
}

wm_err_t wm_blobref_each(wm_txn_t *t, uint32_t node, const uint8_t *after, wm_blobref_fn fn,
                         void *ctx)
{
    wm_err_t err = WM_OK;
    MDB_cursor *c = NULL;
    uint8_t kb[KEY_BLOB];
    if (t->s->no_blobrefs)
        return WM_OK;
    static const uint8_t zero[WM_HASH_BYTES];
    key_of(kb, node, after ? after : zero);
    MDB_val k = {sizeof kb, kb}, v;
    int rc = mdb_cursor_open(t->txn, t->s->blobrefs, &c);
    if (rc)
        return wm_mdb_err(t->s, rc, "blobref cursor");
    rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
    if (rc == 0 && after && k.mv_size == KEY_BLOB && memcmp(k.mv_data, kb, KEY_BLOB) == 0)
        rc = mdb_cursor_get(c, &k, &v, MDB_NEXT); /* strictly above `after` */
    for (; rc == 0; rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
        wm_blobref_t ref;
        if (k.mv_size < 4 || wm_get_u32(k.mv_data) != node)
            break;
        if ((err = ref_of(&k, &v, &ref)) != WM_OK || fn(&ref, ctx))
            goto out;
    }
    if (rc && rc != MDB_NOTFOUND)
        err = wm_mdb_err(t->s, rc, "blobref next");
out:
    mdb_cursor_close(c);
    return err;
}

wm_err_t wm_blobref_mark(wm_txn_t *t, uint32_t node, const uint8_t hash[static WM_HASH_BYTES],
                         uint8_t flags)
{
    wm_blobref_t ref;
    assert(!(flags & WM_BLOBREF_HELD)); /* wm_blobref_hold keeps the totals */
    wm_err_t err = wm_blobref_get(t, node, hash, &ref);
    if (err != WM_OK || (ref.flags & flags) == flags)
        return err;
    ref.flags |= flags;
    uint8_t kb[KEY_BLOB], vb[VAL_BLOB];
    key_of(kb, node, hash);
    val_of(vb, &ref);
    MDB_val k = {sizeof kb, kb}, v = {sizeof vb, vb};
    return wm_mdb_err(t->s, mdb_put(t->txn, t->s->blobrefs, &k, &v, 0), "blobref mark");
}

/* ---- the totals of WM_BLOBREF_HELD entries, one 4-byte key a node ---- */

#define KEY_TOTAL 4
#define VAL_TOTAL 16

static wm_err_t total_put(wm_txn_t *t, uint32_t node, const wm_blobref_total_t *tot)
{
    uint8_t kb[KEY_TOTAL], vb[VAL_TOTAL];
    wm_put_u32(kb, node);
    wm_put_u64(vb, tot->bytes);
    wm_put_u64(vb + 8, tot->count);
    MDB_val k = {sizeof kb, kb}, v = {sizeof vb, vb};
    return wm_mdb_err(t->s, mdb_put(t->txn, t->s->blobrefs, &k, &v, 0), "blobref total put");
}

/* The total at v into out; WM_ECORRUPT if v is not one. */
static wm_err_t total_of(const MDB_val *v, wm_blobref_total_t *out)
{
    if (v->mv_size != VAL_TOTAL)
        return WM_ECORRUPT;
    out->bytes = wm_get_u64(v->mv_data);
    out->count = wm_get_u64((const uint8_t *)v->mv_data + 8);
    return WM_OK;
}

wm_err_t wm_blobref_total(wm_txn_t *t, uint32_t node, wm_blobref_total_t *out)
{
    uint8_t kb[KEY_TOTAL];
    *out = (wm_blobref_total_t){0};
    if (t->s->no_blobrefs)
        return WM_OK;
    wm_put_u32(kb, node);
    MDB_val k = {sizeof kb, kb}, v;
    int rc = mdb_get(t->txn, t->s->blobrefs, &k, &v);
    if (rc == MDB_NOTFOUND)
        return WM_OK;
    if (rc)
        return wm_mdb_err(t->s, rc, "blobref total get");
    return total_of(&v, out);
}

wm_err_t wm_blobref_hold(wm_txn_t *t, uint32_t node, const uint8_t hash[static WM_HASH_BYTES],
                         int held)
{
    wm_blobref_t ref;
    wm_blobref_total_t tot;
    wm_err_t err = wm_blobref_get(t, node, hash, &ref);
    if (err != WM_OK || !(ref.flags & WM_BLOBREF_HELD) == !held)
        return err;
    if ((err = wm_blobref_total(t, node, &tot)) != WM_OK)
        return err;
    if (held) {
        tot.bytes += ref.size;
        tot.count++;
    } else if (tot.bytes < ref.size || !tot.count) {
        return WM_ECORRUPT; /* the total lost count of this entry: rebuild */
    } else {
        tot.bytes -= ref.size;
        tot.count--;
    }
    ref.flags ^= WM_BLOBREF_HELD;
    uint8_t kb[KEY_BLOB], vb[VAL_BLOB];
    key_of(kb, node, hash);
    val_of(vb, &ref);
    MDB_val k = {sizeof kb, kb}, v = {sizeof vb, vb};
    err = wm_mdb_err(t->s, mdb_put(t->txn, t->s->blobrefs, &k, &v, 0), "blobref hold");
    return err == WM_OK ? total_put(t, node, &tot) : err;
}

wm_err_t wm_blobref_release(wm_txn_t *t, const uint8_t hash[static WM_HASH_BYTES])
{
    wm_err_t err = WM_OK;
    MDB_cursor *c = NULL;
    uint32_t *nodes = NULL;
    size_t n = 0, cap = 0;
    MDB_val k, v;
    if (t->s->no_blobrefs)
        return WM_OK;
    int rc = mdb_cursor_open(t->txn, t->s->blobrefs, &c);
    for (rc = rc ? rc : mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0;
         rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
        if (k.mv_size != KEY_BLOB || v.mv_size != VAL_BLOB ||
            memcmp((const uint8_t *)k.mv_data + 4, hash, WM_HASH_BYTES) != 0 ||
            !(((const uint8_t *)v.mv_data)[8] & WM_BLOBREF_HELD))
            continue;
        if (n == cap) {
            uint32_t *more = realloc(nodes, (cap = cap ? 2 * cap : 8) * sizeof *nodes);
            if (!more) {
                err = WM_ENOMEM;
                goto out;
            }
            nodes = more;
        }
        nodes[n++] = wm_get_u32(k.mv_data);
    }
    if (rc != MDB_NOTFOUND) {
        err = wm_mdb_err(t->s, rc, "blobref release walk");
        goto out;
    }
    mdb_cursor_close(c);
    c = NULL;
    for (size_t i = 0; err == WM_OK && i < n; i++)
        err = wm_blobref_hold(t, nodes[i], hash, 0);
out:
    mdb_cursor_close(c);
    free(nodes);
    return err;
}

typedef struct {
    uint32_t node;
    wm_blobref_total_t now, was;
} rebuild_node_t;

typedef struct {
    rebuild_node_t *v;
    size_t n, cap;
} rebuild_t;

/* The slot of node (the last one, as the walk goes in node order). */
static rebuild_node_t *rebuild_slot(rebuild_t *rb, uint32_t node)
{
    if (rb->n && rb->v[rb->n - 1].node == node)
        return &rb->v[rb->n - 1];
    if (rb->n == rb->cap) {
        rebuild_node_t *more = realloc(rb->v, (rb->cap = rb->cap ? 2 * rb->cap : 16) * sizeof *more);
        if (!more)
            return NULL;
        rb->v = more;
    }
    rb->v[rb->n] = (rebuild_node_t){.node = node};
    return &rb->v[rb->n++];
}

/* One key of the rebuild's walk: a total noted, an entry's flag set from
 * the store (rewritten in place if it changed) and counted. */
static wm_err_t rebuild_one(wm_txn_t *t, MDB_cursor *c, const MDB_val *k, const MDB_val *v,
                            const struct wm_blob *bs, rebuild_t *rb, uint64_t *changed)
{
    wm_blobref_t ref;
    uint64_t have = 0;
    wm_err_t err = WM_OK;
    rebuild_node_t *slot = k->mv_size >= 4 ? rebuild_slot(rb, wm_get_u32(k->mv_data)) : NULL;
    if (!slot)
        return k->mv_size >= 4 ? WM_ENOMEM : WM_ECORRUPT;
    if (k->mv_size == KEY_TOTAL)
        return total_of(v, &slot->was);
    if ((err = ref_of(k, v, &ref)) != WM_OK)
        return err;
    err = wm_blob_has(bs, ref.hash, &have);
    if (err != WM_OK && err != WM_ENOTFOUND)
        return err;
    int held = err == WM_OK && have == ref.size;
    if (held) {
        slot->now.bytes += ref.size;
        slot->now.count++;
    }
    if (!(ref.flags & WM_BLOBREF_HELD) == !held)
        return WM_OK;
    (*changed)++;
    ref.flags ^= WM_BLOBREF_HELD;
    uint8_t vb[VAL_BLOB];
    val_of(vb, &ref);
    MDB_val nv = {sizeof vb, vb};
    MDB_val ck = *k;
    return wm_mdb_err(t->s, mdb_cursor_put(c, &ck, &nv, MDB_CURRENT), "blobref rebuild put");
}

wm_err_t wm_blobref_rebuild(wm_txn_t *t, const struct wm_blob *bs, uint64_t *changed)
{
    wm_err_t err = WM_OK;
    MDB_cursor *c = NULL;
    rebuild_t rb = {0};
    uint64_t nchanged = 0;
    MDB_val k, v;
    static const uint8_t one = 1;
    if (t->s->no_blobrefs)
        return WM_ESTATE; /* a read-only store from before the index */
    int rc = mdb_cursor_open(t->txn, t->s->blobrefs, &c);
    for (rc = rc ? rc : mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0 && err == WM_OK;
         rc = mdb_cursor_get(c, &k, &v, MDB_NEXT))
        err = rebuild_one(t, c, &k, &v, bs, &rb, &nchanged);
    if (err == WM_OK && rc != MDB_NOTFOUND)
        err = wm_mdb_err(t->s, rc, "blobref rebuild walk");
    mdb_cursor_close(c);
    for (size_t i = 0; err == WM_OK && i < rb.n; i++) {
        if (rb.v[i].now.bytes != rb.v[i].was.bytes || rb.v[i].now.count != rb.v[i].was.count)
            nchanged++;
        err = total_put(t, rb.v[i].node, &rb.v[i].now);
    }
    if (err == WM_OK)
        err = wm_meta_put(t, WM_BLOBREF_META_TOTALS, &one, 1);
    if (err == WM_OK && changed)
        *changed = nchanged;
    free(rb.v);
    return err;
}

wm_err_t wm_blobref_totals_kept(wm_txn_t *t, int *kept)
{
    uint8_t b = 0;
    size_t len = 0;
    wm_err_t err = wm_meta_get(t, WM_BLOBREF_META_TOTALS, &b, 1, &len);
    *kept = err == WM_OK && len == 1 && b == 1;
    return err == WM_ENOTFOUND ? WM_OK : err;
}
