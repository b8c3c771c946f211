/* SPDX-License-Identifier: MIT */
/* wm_stage — the aggregator's inbox of unverified records; see wm_stage.h. */
#include "wm_stage.h"
#include "wm_quota.h"
#include "wm_store_int.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* (e1, s1) <= (e2, s2) in log order. */
static int at_or_before(uint32_t e1, uint64_t s1, uint32_t e2, uint64_t s2)
{
    return e1 < e2 || (e1 == e2 && s1 <= s2);
}

wm_err_t wm_stage_head(wm_txn_t *t, uint32_t node, uint32_t epoch, wm_head_t *out)
{
    if (wm_head_cache_get(&t->stage_cache, node, epoch, out))
        return WM_OK;
    wm_err_t err = wm_db_last(t, t->s->inbox, node, &epoch, out);
    return err == WM_ENOTFOUND ? wm_log_head(t, node, epoch, out) : err;
}

wm_err_t wm_stage_verified(wm_txn_t *t, uint32_t node, wm_head_t *out)
{
    wm_err_t err = wm_db_last(t, t->s->log, node, NULL, out);
    return err == WM_ENOTFOUND ? WM_OK : err;
}

wm_err_t wm_stage_last(wm_txn_t *t, uint32_t node, wm_head_t *out)
{
    wm_err_t err = wm_db_last(t, t->s->inbox, node, NULL, out);
    return err == WM_ENOTFOUND ? wm_stage_verified(t, node, out) : err;
}

wm_err_t wm_stage_get(wm_txn_t *t, uint32_t node, uint32_t epoch, uint64_t seq, wm_srec_t *out)
{
    uint8_t kb[KEY_LOG];
    wm_log_key(kb, node, epoch, seq);
    MDB_val k = {sizeof kb, kb}, v;
    wm_err_t err = wm_mdb_err(t->s, mdb_get(t->txn, t->s->inbox, &k, &v), "inbox get");
    if (err == WM_ENOTFOUND)
        return wm_log_get(t, node, epoch, seq, out);
    if (err != WM_OK)
        return err;
    return wm_srec_view(v.mv_data, v.mv_size, out);
}

wm_err_t wm_stage_append(wm_txn_t *t, uint32_t node, const wm_record_t *r, const uint8_t *srec,
                         size_t len)
{
    return wm_stage_append_hashed(t, node, r, srec, len, NULL);
}

wm_err_t wm_stage_append_hashed(wm_txn_t *t, uint32_t node, const wm_record_t *r,
                                const uint8_t *srec, size_t len, const uint8_t *hash)
{
    wm_head_t head;
    wm_err_t err = wm_stage_head(t, node, r->epoch, &head);
    if (err != WM_OK)
        return err;
    if (r->seq <= head.seq) {
        /* Something is at its place already: this record again, or a fork. */
        wm_srec_t have;
        if ((err = wm_stage_get(t, node, r->epoch, r->seq, &have)) != WM_OK)
            return err == WM_ENOTFOUND ? WM_ECHAIN : err;
        if (wm_srec_same(&have, srec, len))
            return WM_EEXIST;
        return WM_EFORKED;
    }
    const char *station = NULL;
    if ((err = wm_head_cache_station(t, &t->stage_cache, node, &station)) != WM_OK)
        return err;
    if ((err = wm_record_follows(r, station, r->epoch, head.seq, head.hash)) != WM_OK)
        return err;
    uint8_t kb[KEY_LOG];
    wm_log_key(kb, node, r->epoch, r->seq);
    MDB_val k = {sizeof kb, kb}, v = {len, (void *)srec};
    int rc = mdb_put(t->txn, t->s->inbox, &k, &v, MDB_NOOVERWRITE | MDB_APPEND);
    if (rc == MDB_KEYEXIST)
        rc = mdb_put(t->txn, t->s->inbox, &k, &v, MDB_NOOVERWRITE);
    err = wm_mdb_err(t->s, rc, "inbox put");
    if (err != WM_OK)
        return err;
    if (hash)
        wm_head_cache_set_hash(&t->stage_cache, node, r, hash);
    else
        wm_head_cache_set(&t->stage_cache, node, r, srec, len);
    return WM_OK;
}

/* Positions c on node's first staged record; MDB_NOTFOUND if none. */
static int seek_first(MDB_cursor *c, uint32_t node, MDB_val *k, MDB_val *v)
{
    uint8_t kb[KEY_LOG];
    wm_log_key(kb, node, 0, 0);
    *k = (MDB_val){sizeof kb, kb};
    int rc = mdb_cursor_get(c, k, v, MDB_SET_RANGE);
    if (rc == 0 && (k->mv_size != KEY_LOG || wm_get_u32(k->mv_data) != node))
        rc = MDB_NOTFOUND;
    return rc;
}

wm_err_t wm_stage_pending(wm_txn_t *t, uint32_t node, uint64_t *count, uint32_t *epoch,
                          uint64_t *seq)
{
    MDB_cursor *c = NULL;
    MDB_val k, v;
    *count = 0;
    *epoch = 0;
    *seq = 0;
    int rc = mdb_cursor_open(t->txn, t->s->inbox, &c);
    if (rc)
        return wm_mdb_err(t->s, rc, "inbox cursor");
    for (rc = seek_first(c, node, &k, &v); rc == 0; rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
        if (k.mv_size != KEY_LOG || wm_get_u32(k.mv_data) != node)
            break;
        if ((*count)++ == 0) {
            *epoch = wm_get_u32((const uint8_t *)k.mv_data + 4);
            *seq = wm_get_u64((const uint8_t *)k.mv_data + 8);
        }
    }
    mdb_cursor_close(c);
    return rc == 0 || rc == MDB_NOTFOUND ? WM_OK : wm_mdb_err(t->s, rc, "inbox count");
}

wm_err_t wm_stage_next_node(wm_txn_t *t, uint32_t from, uint32_t *node)
{
    MDB_cursor *c = NULL;
    uint8_t kb[KEY_LOG];
    wm_log_key(kb, from, 0, 0);
    MDB_val k = {sizeof kb, kb}, v;
    int rc = mdb_cursor_open(t->txn, t->s->inbox, &c);
    if (rc)
        return wm_mdb_err(t->s, rc, "inbox cursor");
    rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
    if (rc == 0 && k.mv_size >= 4)
        *node = wm_get_u32(k.mv_data);
    mdb_cursor_close(c);
    return wm_mdb_err(t->s, rc, "inbox next node");
}

static void check_bad(wm_stage_check_t *out, uint32_t epoch, uint64_t seq, const char *why)
{
    out->bad = 1;
    out->bad_epoch = epoch;
    out->bad_seq = seq;
    snprintf(out->why, sizeof out->why, "record %" PRIu32 "/%" PRIu64 " %s", epoch, seq, why);
}

wm_err_t wm_stage_verify(wm_txn_t *t, uint32_t node, uint32_t epoch, uint64_t seq, size_t max,
                         wm_stage_check_t *out)
{
    MDB_cursor *c = NULL;
    MDB_val k, v;
    uint8_t kb[KEY_LOG], pub[WM_PUB_BYTES];
    uint32_t key_epoch = 0;
    int have_key = 0;
    memset(out, 0, sizeof *out);
    out->epoch = epoch;
    out->seq = seq;
    wm_log_key(kb, node, epoch, seq + 1);
    k = (MDB_val){sizeof kb, kb};
    int rc = mdb_cursor_open(t->txn, t->s->inbox, &c);
    if (rc)
        return wm_mdb_err(t->s, rc, "inbox cursor");
    for (rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE); rc == 0 && out->checked < max;
         rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
        if (k.mv_size != KEY_LOG || wm_get_u32(k.mv_data) != node)
            break;
        uint32_t e = wm_get_u32((const uint8_t *)k.mv_data + 4);
        uint64_t s = wm_get_u64((const uint8_t *)k.mv_data + 8);
        if (!have_key || e != key_epoch) {
            wm_err_t err = wm_epoch_key(t, node, e, pub);
            if (err == WM_ENOTFOUND) {
                check_bad(out, e, s, "is in an epoch with no known signing key");
                break;
            }
            if (err != WM_OK) {
                mdb_cursor_close(c);
                return err;
            }
            have_key = 1;
            key_epoch = e;
        }
        wm_srec_t view;
        if (wm_srec_view(v.mv_data, v.mv_size, &view) != WM_OK) {
            check_bad(out, e, s, "is truncated");
            break;
        }
        if (wm_srec_verify(&view, pub) != WM_OK) {
            check_bad(out, e, s, "is not signed by the key of its epoch");
            break;
        }
        out->epoch = e;
        out->seq = s;
        out->checked++;
    }
    mdb_cursor_close(c);
    return rc == 0 || rc == MDB_NOTFOUND ? WM_OK : wm_mdb_err(t->s, rc, "inbox verify");
}

wm_err_t wm_stage_promote(wm_txn_t *t, wm_appender_t *ap, uint32_t node, uint32_t epoch,
                          uint64_t seq, size_t max, uint64_t *moved)
{
    MDB_cursor *c = NULL;
    MDB_val k, v;
    uint8_t *buf = NULL;
    size_t cap = 0;
    wm_err_t err = WM_OK;
    *moved = 0;
    t->stage_cache.valid = 0;
    int rc = mdb_cursor_open(t->txn, t->s->inbox, &c);
    if (rc)
        return wm_mdb_err(t->s, rc, "inbox cursor");
    while (*moved < max) {
        /* Promoted records leave the inbox, so the first one left is next. */
        if ((rc = seek_first(c, node, &k, &v)) != 0)
            break;
        uint8_t kb[KEY_LOG];
        memcpy(kb, k.mv_data, KEY_LOG);
        if (!at_or_before(wm_get_u32(kb + 4), wm_get_u64(kb + 8), epoch, seq))
            break;
        if (v.mv_size > cap) { /* copied: the value moves with the writes below */
            uint8_t *nb = realloc(buf, v.mv_size);
            if (!nb) {
                err = WM_ENOMEM;
                goto out;
            }
            buf = nb;
            cap = v.mv_size;
        }
        size_t len = v.mv_size;
        memcpy(buf, v.mv_data, len);
        MDB_val dk = {KEY_LOG, kb};
        if ((err = wm_mdb_err(t->s, mdb_del(t->txn, t->s->inbox, &dk, NULL), "inbox del")) != WM_OK)
            goto out;
        wm_srec_t view;
        wm_record_t *r = NULL;
        if ((err = wm_srec_view(buf, len, &view)) != WM_OK ||
            (err = wm_record_decode(view.bytes, view.len, &r)) != WM_OK)
            goto out;
        err = wm_append_add(ap, node, r, buf, len);
        wm_record_free(&r);
        if (err == WM_EEXIST)
            err = WM_OK;
        if (err != WM_OK)
            goto out;
        (*moved)++;
    }
    if (rc != 0 && rc != MDB_NOTFOUND)
        err = wm_mdb_err(t->s, rc, "inbox promote");
out:
    mdb_cursor_close(c);
    free(buf);
    return err;
}

/* A copy of a staged srec, kept as proof. */
typedef struct {
    uint32_t epoch;
    uint64_t seq;
    uint8_t *srec;
    size_t len;
} proof_copy_t;

wm_err_t wm_stage_discard(wm_txn_t *t, uint32_t node, uint32_t epoch, uint64_t seq,
                          uint64_t *discarded)
{
    MDB_cursor *c = NULL;
    MDB_val k, v;
    proof_copy_t pc[2] = {{0}};
    int np = 0;
    wm_err_t err = WM_OK;
    *discarded = 0;
    t->stage_cache.valid = 0;
    int rc = mdb_cursor_open(t->txn, t->s->inbox, &c);
    if (rc)
        return wm_mdb_err(t->s, rc, "inbox cursor");
    /* First the proofs: the bad record and the one after it. */
    uint8_t kb[KEY_LOG];
    wm_log_key(kb, node, epoch, seq);
    k = (MDB_val){sizeof kb, kb};
    for (rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE); rc == 0 && np < 2;
         rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
        if (k.mv_size != KEY_LOG || wm_get_u32(k.mv_data) != node)
            break;
        pc[np].epoch = wm_get_u32((const uint8_t *)k.mv_data + 4);
        pc[np].seq = wm_get_u64((const uint8_t *)k.mv_data + 8);
        if (!(pc[np].srec = malloc(v.mv_size ? v.mv_size : 1))) {
            err = WM_ENOMEM;
            goto out;
        }
        memcpy(pc[np].srec, v.mv_data, v.mv_size);
        pc[np++].len = v.mv_size;
    }
    if (rc != 0 && rc != MDB_NOTFOUND) {
        err = wm_mdb_err(t->s, rc, "inbox discard");
        goto out;
    }
    for (int i = 0; i < np; i++)
        if ((err = wm_proof_put(t, node, pc[i].epoch, pc[i].seq, pc[i].srec, pc[i].len)) != WM_OK)
            goto out;
    /* Then every staged record of the node goes, and its quota charge
     * with it (one that does not decode was never charged: ingest decodes
     * before it stages). */
    while ((rc = seek_first(c, node, &k, &v)) == 0) {
        wm_srec_t view;
        wm_record_t *r = NULL;
        int64_t captured = 0;
        size_t len = v.mv_size;
        int charged = wm_srec_view(v.mv_data, len, &view) == WM_OK &&
                      wm_record_decode(view.bytes, view.len, &r) == WM_OK;
        if (charged)
            captured = r->captured;
        wm_record_free(&r);
        if ((rc = mdb_cursor_del(c, 0)) != 0)
            break;
        if (charged && (err = wm_quota_refund(t, node, captured, len)) != WM_OK)
            goto out;
        (*discarded)++;
    }
    if (rc != MDB_NOTFOUND)
        err = wm_mdb_err(t->s, rc, "inbox discard");
out:
    mdb_cursor_close(c);
    for (int i = 0; i < np; i++)
        free(pc[i].srec);
    return err;
}
