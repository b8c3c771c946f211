/* SPDX-License-Identifier: MIT */
/* wm_rollidx — binary rollups joined and indexed; see wm_rollidx.h. */
#include "wm_rollidx.h"

#include <stdlib.h>
#include <string.h>

#include "wm_rollbin.h"
#include "wm_store_int.h"

#define PERIOD_MAX 64 /* as the JSON reports' index (wm_index.c) */

/* The joined bytes of the rollup whose last part is node's (epoch, seq),
 * of `parts` parts and period; *buf malloc'd. WM_EDECODE if the parts are
 * not what the last one says they are. */
static WM_MUST_CHECK wm_err_t join(wm_txn_t *t, uint32_t node, uint32_t epoch, uint64_t seq,
                                   const char *period, uint32_t parts, uint8_t **buf, size_t *len)
{
    uint8_t *b = NULL;
    size_t n = 0;
    wm_err_t err = parts && parts <= WM_ROLLBIN_PARTS_MAX && seq >= parts ? WM_OK : WM_EDECODE;
    for (uint32_t k = 0; err == WM_OK && k < parts; k++) {
        wm_srec_t v;
        wm_record_t *r = NULL;
        if ((err = wm_log_get(t, node, epoch, seq - (parts - 1) + k, &v)) == WM_ENOTFOUND)
            err = WM_EDECODE;
        if (err == WM_OK)
            err = wm_record_decode(v.bytes, v.len, &r);
        const Wm__RollupPart *p = err == WM_OK && r->body_case == WM__RECORD__BODY_ROLLUP_PART
                                      ? r->rollup_part : NULL;
        if (err == WM_OK && (!p || p->part != k || p->parts != parts ||
                             strcmp(p->period, period) != 0 || n + p->data.len > WM_ROLLBIN_MAX))
            err = WM_EDECODE;
        if (err == WM_OK && p->data.len) {
            uint8_t *nb = realloc(b, n + p->data.len);
            if (!nb)
                err = WM_ENOMEM;
            else {
                memcpy(nb + n, p->data.data, p->data.len);
                b = nb;
                n += p->data.len;
            }
        }
        wm_record_free(&r);
    }
    if (err != WM_OK) {
        free(b);
        return err;
    }
    *buf = b;
    *len = n;
    return WM_OK;
}

static size_t bin_key(uint8_t *kb, uint32_t node, const char *period)
{
    size_t n = strlen(period);
    wm_put_u32(kb, node);
    kb[4] = '#';
    memcpy(kb + 5, period, n);
    return 5 + n;
}

wm_err_t wm_rollidx_put(wm_txn_t *t, uint32_t node, const wm_record_t *r)
{
    const Wm__RollupPart *p = r->rollup_part;
    size_t pn = p->period ? strlen(p->period) : 0;
    uint8_t *joined = NULL, *summary = NULL, *vb = NULL;
    size_t jlen = 0, slen = 0;
    if (pn == 0 || pn > PERIOD_MAX || p->parts == 0 || p->part + 1 != p->parts)
        return WM_OK; /* not the last part: nothing to index yet */
    wm_err_t err = join(t, node, r->epoch, r->seq, p->period, p->parts, &joined, &jlen);
    if (err == WM_OK)
        err = wm_rollbin_summary(joined, jlen, &summary, &slen);
    if (err == WM_EDECODE) {
        err = WM_OK; /* not a rollup the tier above can read: left out */
        goto out;
    }
    if (err == WM_OK && !(vb = malloc(12 + slen)))
        err = WM_ENOMEM;
    if (err != WM_OK)
        goto out;
    uint8_t kb[5 + PERIOD_MAX];
    wm_put_u32(vb, r->epoch);
    wm_put_u64(vb + 4, r->seq);
    memcpy(vb + 12, summary, slen);
    MDB_val k = {bin_key(kb, node, p->period), kb}, v = {12 + slen, vb};
    err = wm_mdb_err(t->s, mdb_put(t->txn, t->s->reports, &k, &v, 0), "binary report put");
    /* The latest report of the period, either form: this one. */
    MDB_val k2 = {4 + pn, kb + 1}, v2 = {12, vb};
    wm_put_u32(kb + 1, node);
    memcpy(kb + 5, p->period, pn);
    if (err == WM_OK)
        err = wm_mdb_err(t->s, mdb_put(t->txn, t->s->reports, &k2, &v2, 0), "report put");
out:
    free(joined);
    free(summary);
    free(vb);
    return err;
}

wm_err_t wm_rollidx_get(wm_txn_t *t, uint32_t node, const char *node_id, const char *period,
                        uint32_t epoch, uint64_t seq, int rows, json_t **out)
{
    uint8_t kb[5 + PERIOD_MAX];
    size_t pn = strlen(period);
    if (pn == 0 || pn > PERIOD_MAX)
        return WM_ENOTFOUND;
    if (rows) {
        wm_srec_t v;
        wm_record_t *r = NULL;
        uint8_t *joined = NULL;
        size_t jlen = 0;
        uint32_t parts = 0;
        wm_err_t err = wm_log_get(t, node, epoch, seq, &v);
        if (err == WM_OK)
            err = wm_record_decode(v.bytes, v.len, &r);
        if (err == WM_OK)
            parts = r->body_case == WM__RECORD__BODY_ROLLUP_PART ? r->rollup_part->parts : 0;
        wm_record_free(&r);
        if (err == WM_OK)
            err = join(t, node, epoch, seq, period, parts, &joined, &jlen);
        if (err == WM_OK)
            err = wm_rollbin_decode(joined, jlen, node_id, out);
        free(joined);
        return err;
    }
    MDB_val k = {bin_key(kb, node, period), kb}, v;
    wm_err_t err = wm_mdb_err(t->s, mdb_get(t->txn, t->s->reports, &k, &v), "binary report get");
    if (err != WM_OK)
        return err;
    if (v.mv_size < 12 || wm_get_u32(v.mv_data) != epoch ||
        wm_get_u64((const uint8_t *)v.mv_data + 4) != seq)
        return WM_EDECODE;
    return wm_rollbin_decode((const uint8_t *)v.mv_data + 12, v.mv_size - 12, node_id, out);
}
