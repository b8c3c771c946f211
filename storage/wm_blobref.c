/* SPDX-License-Identifier: MIT */
/* wm_blobref — the blobs each log's records name; see wm_blobref.h for
 * the byte layout. */
#include "wm_blobref.h"

#include <lmdb.h>
#include <string.h>

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
