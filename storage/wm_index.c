/* SPDX-License-Identifier: MIT */
/*
 * wm_index — the indexes derived from the log and the registers beside
 * it: voids and plan completions (refs), teams, the latest rollup report
 * of each period, the peers register with its curve-key lookup, and the
 * proofs a node keeps of records it forwarded. Byte layouts are drawn in
 * wm_store.h.
 */
#include "wm_store.h"
#include "wm_rollidx.h"
#include "wm_blobref.h"
#include "wm_store_int.h"

#include <lmdb.h>
#include <stdlib.h>
#include <string.h>

static WM_MUST_CHECK wm_err_t ref_put(wm_txn_t *t, uint32_t node, uint32_t epoch, uint64_t seq, char kind,
                        uint32_t by_epoch, uint64_t by_seq)
{
    uint8_t kb[KEY_REF], vb[12];
    wm_log_key(kb, node, epoch, seq);
    kb[16] = (uint8_t)kind;
    wm_put_u32(vb, by_epoch);
    wm_put_u64(vb + 4, by_seq);
    MDB_val k = {sizeof kb, kb}, v = {sizeof vb, vb};
    /* The first void of a record stands; the latest completion of a plan
     * does (an earlier one may have been voided). */
    int rc = mdb_put(t->txn, t->s->refs, &k, &v, kind == 'v' ? MDB_NOOVERWRITE : 0);
    return rc == MDB_KEYEXIST ? WM_OK : wm_mdb_err(t->s, rc, "ref put");
}

wm_err_t wm_ref_put_order(wm_txn_t *t, uint32_t node, uint32_t epoch, uint64_t seq)
{
    return ref_put(t, node, epoch, seq, 'o', 0, 0);
}

wm_err_t wm_ref_get(wm_txn_t *t, uint32_t node, uint32_t epoch, uint64_t seq, char kind,
                    uint32_t *by_epoch, uint64_t *by_seq)
{
    uint8_t kb[KEY_REF];
    wm_log_key(kb, node, epoch, seq);
    kb[16] = (uint8_t)kind;
    MDB_val k = {sizeof kb, kb}, v;
    wm_err_t err = wm_mdb_err(t->s, mdb_get(t->txn, t->s->refs, &k, &v), "ref get");
    if (err != WM_OK)
        return err;
    if (v.mv_size != 12)
        return WM_EDECODE;
    *by_epoch = wm_get_u32(v.mv_data);
    *by_seq = wm_get_u64((const uint8_t *)v.mv_data + 4);
    return WM_OK;
}

wm_err_t wm_ref_scan_orders(wm_txn_t *t, wm_ref_fn fn, void *ctx)
{
    MDB_cursor *c = NULL;
    MDB_val k, v;
    int rc = mdb_cursor_open(t->txn, t->s->refs, &c);
    for (rc = rc ? rc : mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0;
         rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
        const uint8_t *kp = k.mv_data;
        if (k.mv_size != KEY_REF || kp[16] != 'o')
            continue;
        if (fn(ctx, wm_get_u32(kp), wm_get_u32(kp + 4), wm_get_u64(kp + 8)))
            break;
    }
    mdb_cursor_close(c);
    return rc == 0 || rc == MDB_NOTFOUND ? WM_OK : wm_mdb_err(t->s, rc, "ref scan");
}

static int team_key(uint8_t *kb, size_t cap, uint32_t node, const char *team)
{
    size_t n = strlen(team);
    if (4 + n > cap)
        return -1;
    wm_put_u32(kb, node);
    memcpy(kb + 4, team, n);
    return (int)(4 + n);
}

/* The stored value of node's team (v valid until the transaction ends or
 * writes); WM_ENOTFOUND if it was never created. */
static WM_MUST_CHECK wm_err_t team_value(wm_txn_t *t, uint32_t node, const char *team, MDB_val *v)
{
    uint8_t kb[4 + 512];
    int kl = team_key(kb, sizeof kb, node, team);
    if (kl < 0)
        return WM_ENOTFOUND;
    MDB_val k = {(size_t)kl, kb};
    return wm_mdb_err(t->s, mdb_get(t->txn, t->s->teams, &k, v), "team get");
}

wm_err_t wm_team_state(wm_txn_t *t, uint32_t node, const char *team, wm_team_state_t *state)
{
    MDB_val v;
    wm_err_t err = team_value(t, node, team, &v);
    if (err != WM_OK)
        return err;
    if (v.mv_size < 2)
        return WM_EDECODE;
    *state = ((const uint8_t *)v.mv_data)[0];
    return WM_OK;
}

static int count_team(void *ctx, const wm_team_t *team)
{
    (void)team;
    (*(uint16_t *)ctx)++;
    return 0;
}

/* Number of teams a node has ever created (team numbers are 1..n). */
static WM_MUST_CHECK wm_err_t team_count(wm_txn_t *t, uint32_t node, uint16_t *n)
{
    *n = 0;
    return wm_team_scan(t, node, count_team, n);
}

/* teams value: state u8 | kind u8 | team_no u16 | created epoch u32 |
 * created seq u64 | name (see wm_store.h). */
#define TEAM_HDR 16

/* Keeps the teams index in step with team record r. */
static WM_MUST_CHECK wm_err_t team_apply(wm_txn_t *t, uint32_t node, const wm_record_t *r)
{
    const Wm__Team *tm = r->team;
    uint8_t kb[4 + 512], vb[TEAM_HDR + 512];
    int kl = team_key(kb, sizeof kb, node, tm->team ? tm->team : "");
    if (kl < 0)
        return WM_OK; /* an over-long id names no team; nothing to index */
    MDB_val k = {(size_t)kl, kb}, v;
    uint8_t state = WM_TEAM_ACTIVE, kind = (uint8_t)tm->kind;
    uint16_t no = 0;
    uint32_t c_epoch = r->epoch;
    uint64_t c_seq = r->seq;
    int rc = mdb_get(t->txn, t->s->teams, &k, &v);
    if (rc == 0 && v.mv_size >= TEAM_HDR) {
        const uint8_t *p = v.mv_data;
        state = p[0];
        if (tm->action != WM__TEAM_ACTION__CREATE)
            kind = p[1];
        no = (uint16_t)(p[2] << 8 | p[3]);
        c_epoch = wm_get_u32(p + 4); /* a team is numbered and dated once */
        c_seq = wm_get_u64(p + 8);
    } else if (rc == MDB_NOTFOUND) {
        wm_err_t err = team_count(t, node, &no);
        if (err != WM_OK)
            return err;
        no++;
    } else {
        return wm_mdb_err(t->s, rc, "team get");
    }
    if (tm->action == WM__TEAM_ACTION__DISBAND)
        state = WM_TEAM_DISBANDED;
    else if (tm->action == WM__TEAM_ACTION__CREATE)
        state = WM_TEAM_ACTIVE;
    size_t nl = tm->name ? strlen(tm->name) : 0;
    if (nl > 512)
        nl = 512;
    if (nl == 0 && rc == 0 && v.mv_size > TEAM_HDR) { /* disband keeps the name */
        nl = v.mv_size - TEAM_HDR < 512 ? v.mv_size - TEAM_HDR : 512;
        memcpy(vb + TEAM_HDR, (const uint8_t *)v.mv_data + TEAM_HDR, nl);
    } else if (nl) {
        memcpy(vb + TEAM_HDR, tm->name, nl);
    }
    vb[0] = state;
    vb[1] = kind;
    vb[2] = (uint8_t)(no >> 8);
    vb[3] = (uint8_t)no;
    wm_put_u32(vb + 4, c_epoch);
    wm_put_u64(vb + 8, c_seq);
    v = (MDB_val){TEAM_HDR + nl, vb};
    return wm_mdb_err(t->s, mdb_put(t->txn, t->s->teams, &k, &v, 0), "team put");
}

/* A stored teams value as a wm_team_t; WM_EDECODE if it is too short. */
static WM_MUST_CHECK wm_err_t team_decode(const char *id, size_t idlen, const MDB_val *v, wm_team_t *out)
{
    const uint8_t *p = v->mv_data;
    if (v->mv_size < TEAM_HDR || idlen >= sizeof out->id)
        return WM_EDECODE;
    memset(out, 0, sizeof *out);
    memcpy(out->id, id, idlen);
    out->state = p[0];
    out->kind = p[1];
    out->no = (uint16_t)(p[2] << 8 | p[3]);
    out->created_epoch = wm_get_u32(p + 4);
    out->created_seq = wm_get_u64(p + 8);
    size_t nl = v->mv_size - TEAM_HDR;
    if (nl > sizeof out->name - 1)
        nl = sizeof out->name - 1;
    memcpy(out->name, p + TEAM_HDR, nl);
    return WM_OK;
}

wm_err_t wm_team_get(wm_txn_t *t, uint32_t node, const char *team, wm_team_t *out)
{
    MDB_val v;
    wm_err_t err = team_value(t, node, team, &v);
    if (err != WM_OK)
        return err;
    return team_decode(team, strlen(team), &v, out);
}

wm_err_t wm_team_scan(wm_txn_t *t, uint32_t node, wm_team_fn fn, void *ctx)
{
    MDB_cursor *c = NULL;
    MDB_val k, v;
    uint8_t kb[4];
    wm_put_u32(kb, node);
    int rc = mdb_cursor_open(t->txn, t->s->teams, &c);
    if (rc)
        return wm_mdb_err(t->s, rc, "team cursor");
    k = (MDB_val){4, kb};
    wm_err_t err = WM_OK;
    for (rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
         rc == 0 && k.mv_size >= 4 && wm_get_u32(k.mv_data) == node;
         rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
        wm_team_t tm;
        if ((err = team_decode((const char *)k.mv_data + 4, k.mv_size - 4, &v, &tm)) != WM_OK ||
            fn(ctx, &tm))
            break;
    }
    mdb_cursor_close(c);
    if (err == WM_OK && rc != 0 && rc != MDB_NOTFOUND)
        err = wm_mdb_err(t->s, rc, "team scan"); /* stopped part-way */
    return err;
}

/* Maintains the derived indexes for one appended record. Records of kinds
 * this build does not know touch no index. */
static WM_MUST_CHECK wm_err_t report_put(wm_txn_t *t, uint32_t node, const wm_record_t *r);

wm_err_t wm_index_record(wm_txn_t *t, uint32_t node, const wm_record_t *r)
{
    switch (r->body_case) {
    case WM__RECORD__BODY_TEAM:
        return team_apply(t, node, r);
    case WM__RECORD__BODY_VOID:
        return ref_put(t, node, r->void_->target_epoch ? r->void_->target_epoch : r->epoch,
                       r->void_->target_seq, 'v', r->epoch, r->seq);
    case WM__RECORD__BODY_PLAN_DONE:
        return ref_put(t, node, r->plan_done->plan_epoch ? r->plan_done->plan_epoch : r->epoch,
                       r->plan_done->plan_seq, 'd', r->epoch, r->seq);
    case WM__RECORD__BODY_NEED:
    case WM__RECORD__BODY_NEED_REVIEW:
    case WM__RECORD__BODY_SERVICE_ORDER:
    case WM__RECORD__BODY_ORDER_ACCEPT:
    case WM__RECORD__BODY_ORDER_DONE:
    case WM__RECORD__BODY_RATING:
    case WM__RECORD__BODY_ORDER_CANCEL:
    case WM__RECORD__BODY_ORDER_ASSIGNED:
    case WM__RECORD__BODY_ORDER_COMPLETED:
        /* the orders' figures read these without a scan of every log
         * (wm_orderidx.h: stores older than this index are rebuilt once) */
        return wm_ref_put_order(t, node, r->epoch, r->seq);
    case WM__RECORD__BODY_ROLLUP:
        return report_put(t, node, r);
    case WM__RECORD__BODY_ROLLUP_PART:
        return wm_rollidx_put(t, node, r);
    case WM__RECORD__BODY_ACTIVITY:
        return wm_blobref_index(t, node, r);
    default:
        return WM_OK;
    }
}

/* The latest rollup report of each period, so the tier above finds it
 * without reading the log. */
static WM_MUST_CHECK wm_err_t report_put(wm_txn_t *t, uint32_t node, const wm_record_t *r)
{
    uint8_t kb[4 + 64], vb[12];
    size_t n = r->rollup->period ? strlen(r->rollup->period) : 0;
    if (n == 0 || n > 64)
        return WM_OK;
    wm_put_u32(kb, node);
    memcpy(kb + 4, r->rollup->period, n);
    wm_put_u32(vb, r->epoch);
    wm_put_u64(vb + 4, r->seq);
    MDB_val k = {4 + n, kb}, v = {sizeof vb, vb};
    return wm_mdb_err(t->s, mdb_put(t->txn, t->s->reports, &k, &v, 0), "report put");
}

wm_err_t wm_report_at(wm_txn_t *t, uint32_t node, const char *period, uint32_t *epoch,
                      uint64_t *seq)
{
    uint8_t kb[4 + 64];
    size_t n = strlen(period);
    if (n == 0 || n > 64)
        return WM_ENOTFOUND;
    wm_put_u32(kb, node);
    memcpy(kb + 4, period, n);
    MDB_val k = {4 + n, kb}, v;
    wm_err_t err = wm_mdb_err(t->s, mdb_get(t->txn, t->s->reports, &k, &v), "report get");
    if (err != WM_OK)
        return err;
    if (v.mv_size != 12)
        return WM_EDECODE;
    *epoch = wm_get_u32(v.mv_data);
    *seq = wm_get_u64((const uint8_t *)v.mv_data + 4);
    return WM_OK;
}

wm_err_t wm_peer_get(wm_txn_t *t, const char *id, Wm__PeerState **out)
{
    MDB_val k = {strlen(id), (void *)id}, v;
    wm_err_t err = wm_mdb_err(t->s, mdb_get(t->txn, t->s->peers, &k, &v), "peer get");
    if (err != WM_OK)
        return err;
    return wm_pb_decode(&wm__peer_state__descriptor, v.mv_data, v.mv_size, WM_PEER_STATE_MAX,
                        (void **)out);
}

wm_err_t wm_peer_put(wm_txn_t *t, const Wm__PeerState *p)
{
    uint8_t *buf = NULL;
    size_t len = 0;
    if (p->curve_pub.len != WM_PUB_BYTES)
        return WM_EINVAL;
    wm_err_t err = wm_pb_encode(&p->base, &buf, &len);
    if (err != WM_OK)
        return err;
    MDB_val k = {strlen(p->node), p->node}, v = {len, buf};
    err = wm_mdb_err(t->s, mdb_put(t->txn, t->s->peers, &k, &v, 0), "peer put");
    free(buf);
    if (err != WM_OK)
        return err;
    MDB_val ck = {WM_PUB_BYTES, p->curve_pub.data}, cv = {strlen(p->node), p->node};
    return wm_mdb_err(t->s, mdb_put(t->txn, t->s->curves, &ck, &cv, 0), "curve put");
}

wm_err_t wm_peer_by_curve(wm_txn_t *t, const uint8_t key[static WM_PUB_BYTES], char *id, size_t cap)
{
    MDB_val k = {WM_PUB_BYTES, (void *)key}, v;
    wm_err_t err = wm_mdb_err(t->s, mdb_get(t->txn, t->s->curves, &k, &v), "curve get");
    if (err != WM_OK)
        return err;
    if (v.mv_size >= cap)
        return WM_ETOOBIG;
    memcpy(id, v.mv_data, v.mv_size);
    id[v.mv_size] = 0;
    return WM_OK;
}

wm_err_t wm_peer_scan(wm_txn_t *t, wm_peer_fn fn, void *ctx)
{
    MDB_cursor *c = NULL;
    MDB_val k, v;
    int rc = mdb_cursor_open(t->txn, t->s->peers, &c);
    if (rc)
        return wm_mdb_err(t->s, rc, "peer cursor");
    wm_err_t err = WM_OK;
    for (rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0;
         rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
        Wm__PeerState *p = NULL;
        if ((err = wm_pb_decode(&wm__peer_state__descriptor, v.mv_data, v.mv_size, WM_PEER_STATE_MAX,
                                (void **)&p)) != WM_OK)
            break;
        int stop = fn(ctx, p);
        wm_pb_free(&p);
        if (stop)
            break;
    }
    mdb_cursor_close(c);
    if (err == WM_OK && rc != 0 && rc != MDB_NOTFOUND)
        err = wm_mdb_err(t->s, rc, "peer scan"); /* stopped part-way */
    return err;
}

wm_err_t wm_proof_put(wm_txn_t *t, uint32_t node, uint32_t epoch, uint64_t seq,
                      const uint8_t *srec, size_t len)
{
    uint8_t kb[KEY_LOG];
    wm_log_key(kb, node, epoch, seq);
    MDB_val k = {sizeof kb, kb}, v = {len, (void *)srec};
    int rc = mdb_put(t->txn, t->s->proofs, &k, &v, MDB_NOOVERWRITE);
    return rc == MDB_KEYEXIST ? WM_OK : wm_mdb_err(t->s, rc, "proof put");
}

wm_err_t wm_proof_first(wm_txn_t *t, uint32_t node, uint32_t *epoch, uint64_t *seq,
                        wm_srec_t *out)
{
    MDB_cursor *c = NULL;
    uint8_t kb[KEY_LOG];
    wm_log_key(kb, node, 0, 0);
    MDB_val k = {sizeof kb, kb}, v;
    int rc = mdb_cursor_open(t->txn, t->s->proofs, &c);
    if (rc)
        return wm_mdb_err(t->s, rc, "proof cursor");
    rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
    mdb_cursor_close(c);
    if (rc == 0 && (k.mv_size != KEY_LOG || wm_get_u32(k.mv_data) != node))
        rc = MDB_NOTFOUND;
    if (rc)
        return wm_mdb_err(t->s, rc, "proof first");
    *epoch = wm_get_u32((const uint8_t *)k.mv_data + 4);
    *seq = wm_get_u64((const uint8_t *)k.mv_data + 8);
    return out ? wm_srec_view(v.mv_data, v.mv_size, out) : WM_OK;
}

wm_err_t wm_proof_count(wm_txn_t *t, uint32_t node, uint64_t *count)
{
    return wm_db_count(t, t->s->proofs, node, count);
}

