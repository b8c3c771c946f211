/* SPDX-License-Identifier: MIT */
/*
 * wm_log — the record log: each node's signed records by (node, epoch,
 * seq), and the epoch keys that verify them. Appending checks that a
 * record follows its predecessor and keeps the derived indexes
 * (wm_index.c) in the same transaction; scanning and verifying read the
 * log in key order. Byte layouts are drawn in wm_store.h.
 */
#include "wm_store.h"
#include "wm_store_int.h"

#include <assert.h>
#include <lmdb.h>
#include <stdio.h>
#include <string.h>

void wm_log_key(uint8_t k[KEY_LOG], uint32_t node, uint32_t epoch, uint64_t seq)
{
    wm_put_u32(k, node);
    wm_put_u32(k + 4, epoch);
    wm_put_u64(k + 8, seq);
}

wm_err_t wm_epoch_key(wm_txn_t *t, uint32_t node, uint32_t epoch, uint8_t pub[static WM_PUB_BYTES])
{
    uint8_t kb[KEY_EPOCH];
    wm_put_u32(kb, node);
    wm_put_u32(kb + 4, epoch);
    MDB_val k = {sizeof kb, kb}, v;
    wm_err_t err = wm_mdb_err(t->s, mdb_get(t->txn, t->s->epochs, &k, &v), "epoch key");
    if (err != WM_OK)
        return err;
    if (v.mv_size != WM_PUB_BYTES)
        return WM_EDECODE;
    memcpy(pub, v.mv_data, WM_PUB_BYTES);
    return WM_OK;
}

wm_err_t wm_epoch_set(wm_txn_t *t, uint32_t node, uint32_t epoch, const uint8_t pub[static WM_PUB_BYTES])
{
    uint8_t have[WM_PUB_BYTES];
    wm_err_t err = wm_epoch_key(t, node, epoch, have);
    if (err == WM_OK)
        return memcmp(have, pub, WM_PUB_BYTES) == 0 ? WM_OK : WM_EEXIST;
    if (err != WM_ENOTFOUND)
        return err;
    uint8_t kb[KEY_EPOCH];
    wm_put_u32(kb, node);
    wm_put_u32(kb + 4, epoch);
    MDB_val k = {sizeof kb, kb}, v = {WM_PUB_BYTES, (void *)pub};
    return wm_mdb_err(t->s, mdb_put(t->txn, t->s->epochs, &k, &v, 0), "epoch set");
}

wm_err_t wm_epoch_last(wm_txn_t *t, uint32_t node, uint32_t *epoch)
{
    MDB_cursor *c = NULL;
    MDB_val k, v;
    uint8_t prefix[4];
    wm_put_u32(prefix, node);
    int rc = mdb_cursor_open(t->txn, t->s->epochs, &c);
    if (rc == 0)
        rc = wm_mdb_seek_last(c, prefix, 4, KEY_EPOCH, &k, &v);
    if (rc == 0)
        *epoch = wm_get_u32((const uint8_t *)k.mv_data + 4);
    mdb_cursor_close(c);
    return wm_mdb_err(t->s, rc, "epoch last");
}

wm_err_t wm_epoch_key_last(wm_txn_t *t, uint32_t node, const uint8_t pub[static WM_PUB_BYTES],
                           uint32_t *epoch)
{
    MDB_cursor *c = NULL;
    MDB_val k, v;
    uint8_t prefix[4];
    int found = 0;
    wm_put_u32(prefix, node);
    k = (MDB_val){sizeof prefix, prefix};
    int rc = mdb_cursor_open(t->txn, t->s->epochs, &c);
    if (rc == 0)
        rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
    while (rc == 0 && k.mv_size == KEY_EPOCH && memcmp(k.mv_data, prefix, 4) == 0) {
        if (v.mv_size == WM_PUB_BYTES && memcmp(v.mv_data, pub, WM_PUB_BYTES) == 0) {
            *epoch = wm_get_u32((const uint8_t *)k.mv_data + 4);
            found = 1;
        }
        rc = mdb_cursor_get(c, &k, &v, MDB_NEXT);
    }
    mdb_cursor_close(c);
    if (rc != 0 && rc != MDB_NOTFOUND)
        return wm_mdb_err(t->s, rc, "epoch scan");
    return found ? WM_OK : WM_ENOTFOUND;
}

wm_err_t wm_log_head(wm_txn_t *t, uint32_t node, uint32_t epoch, wm_head_t *out)
{
    if (wm_head_cache_get(&t->log_cache, node, epoch, out))
        return WM_OK;
    wm_err_t err = wm_db_last(t, t->s->log, node, &epoch, out);
    return err == WM_ENOTFOUND ? WM_OK : err;
}

wm_err_t wm_log_get(wm_txn_t *t, uint32_t node, uint32_t epoch, uint64_t seq, wm_srec_t *out)
{
    uint8_t kb[KEY_LOG];
    wm_log_key(kb, node, epoch, seq);
    MDB_val k = {sizeof kb, kb}, v;
    wm_err_t err = wm_mdb_err(t->s, mdb_get(t->txn, t->s->log, &k, &v), "log get");
    if (err != WM_OK)
        return err;
    return wm_srec_view(v.mv_data, v.mv_size, out);
}

wm_err_t wm_log_count(wm_txn_t *t, uint32_t node, uint64_t *count)
{
    return wm_db_count(t, t->s->log, node, count);
}

wm_err_t wm_log_append(wm_txn_t *t, uint32_t node, const wm_record_t *r,
                       const uint8_t *srec, size_t len)
{
    assert(t->write);
    wm_err_t err;
    wm_head_t head;
    const char *station = NULL;
    if ((err = wm_log_head(t, node, r->epoch, &head)) != WM_OK)
        return err;
    if (r->seq <= head.seq) {
        /* Already have a record there: the same one (replay) or a fork. */
        wm_srec_t have;
        if ((err = wm_log_get(t, node, r->epoch, r->seq, &have)) != WM_OK)
            return err == WM_ENOTFOUND ? WM_ECHAIN : err;
        if (wm_srec_same(&have, srec, len))
            return WM_EEXIST;
        return WM_EFORKED;
    }
    if ((err = wm_head_cache_station(t, &t->log_cache, node, &station)) != WM_OK)
        return err;
    if ((err = wm_record_follows(r, station, r->epoch, head.seq, head.hash)) != WM_OK)
        return err;
    uint8_t kb[KEY_LOG];
    wm_log_key(kb, node, r->epoch, r->seq);
    MDB_val k = {sizeof kb, kb}, v = {len, (void *)srec};
    if ((err = wm_mdb_err(t->s, mdb_put(t->txn, t->s->log, &k, &v, MDB_NOOVERWRITE), "log put")))
        return err;
    if ((err = wm_index_record(t, node, r)) != WM_OK)
        return err;
    wm_head_cache_set(&t->log_cache, node, r, srec, len);
    return WM_OK;
}

wm_err_t wm_log_scan(wm_txn_t *t, uint32_t node, uint32_t epoch, uint64_t seq, wm_log_fn fn,
                     void *ctx, wm_scan_t *end)
{
    MDB_cursor *c = NULL;
    MDB_val k, v;
    uint8_t kb[KEY_LOG];
    wm_scan_t e = {0};
    wm_log_key(kb, node, epoch, seq);
    int rc = mdb_cursor_open(t->txn, t->s->log, &c);
    k = (MDB_val){sizeof kb, kb};
    for (rc = rc ? rc : mdb_cursor_get(c, &k, &v, MDB_SET_RANGE); rc == 0;
         rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
        const uint8_t *kp = k.mv_data;
        if (k.mv_size != KEY_LOG || wm_get_u32(kp) != node)
            break; /* the node's log ended */
        wm_srec_t view;
        if (wm_srec_view(v.mv_data, v.mv_size, &view) != WM_OK)
            view = (wm_srec_t){v.mv_data, NULL, 0}; /* let fn see the damage */
        e.epoch = wm_get_u32(kp + 4);
        e.seq = wm_get_u64(kp + 8);
        e.count++;
        if ((e.stop = fn(ctx, e.epoch, e.seq, &view)) != 0)
            break;
    }
    mdb_cursor_close(c);
    if (end)
        *end = e;
    /* MDB_NOTFOUND is the end of the data; anything else stopped the read
     * part-way, and the caller holds only a prefix of what it asked for. */
    return rc == MDB_NOTFOUND ? WM_OK : wm_mdb_err(t->s, rc, "log scan");
}

/* State carried through a verifying scan. */
typedef struct {
    wm_txn_t *t;
    uint32_t node;
    const char *station;
    wm_verify_t *out;
    uint8_t pub[WM_PUB_BYTES];
} verify_ctx_t;

static int verify_fail(verify_ctx_t *vc, uint32_t epoch, uint64_t seq, wm_err_t err,
                       const char *why)
{
    vc->out->error = err;
    vc->out->bad_epoch = epoch;
    vc->out->bad_seq = seq;
    snprintf(vc->out->why, sizeof vc->out->why, "%.*s", (int)sizeof vc->out->why - 1, why);
    return 1;
}

static int verify_one(void *ctx, uint32_t epoch, uint64_t seq, const wm_srec_t *v)
{
    verify_ctx_t *vc = ctx;
    wm_verify_t *o = vc->out;
    wm_record_t *r = NULL;
    if (o->records == 0 || epoch != o->head.epoch) {
        if (wm_epoch_key(vc->t, vc->node, epoch, vc->pub) != WM_OK)
            return verify_fail(vc, epoch, seq, WM_ENOTFOUND, "no signing key is known for this epoch");
        o->epochs++;
        o->head.epoch = epoch;
        o->head.seq = 0;
        memset(o->head.hash, 0, sizeof o->head.hash);
    }
    if (!v->bytes)
        return verify_fail(vc, epoch, seq, WM_EDECODE, "stored record is truncated");
    if (wm_record_decode(v->bytes, v->len, &r) != WM_OK)
        return verify_fail(vc, epoch, seq, WM_EDECODE, "stored record does not decode");
    int bad = 0;
    if (r->seq != seq || r->epoch != epoch)
        bad = verify_fail(vc, epoch, seq, WM_ECHAIN, "record's own epoch/seq differ from its place in the log");
    else if (wm_record_follows(r, vc->station, epoch, o->head.seq, o->head.hash) != WM_OK)
        bad = verify_fail(vc, epoch, seq, WM_ECHAIN,
                          seq != o->head.seq + 1 ? "gap in the sequence"
                                                 : "prev hash does not match the previous record (or wrong station)");
    else if (wm_srec_verify(v, vc->pub) != WM_OK)
        bad = verify_fail(vc, epoch, seq, WM_EBADSIG, "signature does not verify");
    wm_record_free(&r);
    if (bad)
        return 1;
    o->records++;
    o->head.seq = seq;
    wm_srec_hash(v, o->head.hash);
    return 0;
}

wm_err_t wm_log_verify(wm_txn_t *t, uint32_t node, const char *station, wm_verify_t *out)
{
    memset(out, 0, sizeof *out);
    verify_ctx_t vc = {.t = t, .node = node, .station = station, .out = out};
    wm_scan_t end;
    wm_err_t err = wm_log_scan(t, node, 0, 0, verify_one, &vc, &end);
    if (err != WM_OK) {
        /* Not "ok": the records after the last one read were never checked. */
        char why[sizeof out->why + sizeof t->s->detail];
        snprintf(why, sizeof why, "cannot read the log past this record: %s",
                 wm_store_detail(t->s));
        verify_fail(&vc, end.epoch, end.seq, err, why);
    }
    return out->error;
}
