/* SPDX-License-Identifier: MIT */
/* wm_quota — per-child storage quotas at an aggregator; see wm_quota.h. */
#include "wm_quota.h"
#include "wm_store_int.h"

#include <inttypes.h>
#include <stdio.h>

#include "wm_date.h"

#define QUOTA_KEY 8 /* node u32 | day u32 */
#define QUOTA_VAL 16 /* bytes u64 | records u64 */

uint32_t wm_quota_day(int64_t captured)
{
    int64_t lo = wm_date_to_days(WM_DATE_MIN), hi = wm_date_to_days(WM_DATE_MAX);
    int64_t days = captured / 86400 - (captured % 86400 < 0); /* floor */
    if (days < lo)
        days = lo;
    if (days > hi)
        days = hi;
    return wm_date_from_days((int32_t)days);
}

/* Reads the counters at (node, day); zero if absent. */
static WM_MUST_CHECK wm_err_t get_use(wm_txn_t *t, uint32_t node, uint32_t day, uint64_t *bytes,
                        uint64_t *records)
{
    uint8_t kb[QUOTA_KEY];
    wm_put_u32(kb, node);
    wm_put_u32(kb + 4, day);
    MDB_val k = {sizeof kb, kb}, v;
    *bytes = *records = 0;
    if (t->s->no_quota)
        return WM_OK;
    int rc = mdb_get(t->txn, t->s->quota, &k, &v);
    if (rc == MDB_NOTFOUND)
        return WM_OK;
    if (rc)
        return wm_mdb_err(t->s, rc, "quota get");
    if (v.mv_size != QUOTA_VAL)
        return WM_EDECODE;
    *bytes = wm_get_u64(v.mv_data);
    *records = wm_get_u64((const uint8_t *)v.mv_data + 8);
    return WM_OK;
}

static WM_MUST_CHECK wm_err_t put_use(wm_txn_t *t, uint32_t node, uint32_t day, uint64_t bytes,
                        uint64_t records)
{
    uint8_t kb[QUOTA_KEY], vb[QUOTA_VAL];
    wm_put_u32(kb, node);
    wm_put_u32(kb + 4, day);
    wm_put_u64(vb, bytes);
    wm_put_u64(vb + 8, records);
    MDB_val k = {sizeof kb, kb}, v = {sizeof vb, vb};
    return wm_mdb_err(t->s, mdb_put(t->txn, t->s->quota, &k, &v, 0), "quota put");
}

wm_err_t wm_quota_charge(wm_txn_t *t, const wm_quota_t *q, uint32_t node, int64_t captured,
                         size_t len, char *why, size_t cap)
{
    wm_quota_acc_t acc = {0};
    wm_err_t err = wm_quota_acc_charge(&acc, t, q, node, captured, len, why, cap);
    return err == WM_OK ? wm_quota_acc_flush(&acc, t) : err;
}

wm_err_t wm_quota_acc_flush(wm_quota_acc_t *acc, wm_txn_t *t)
{
    wm_err_t err = WM_OK;
    for (size_t i = 0; i < acc->n && err == WM_OK; i++)
        err = put_use(t, acc->slot[i].node, acc->slot[i].day, acc->slot[i].bytes,
                      acc->slot[i].records);
    acc->n = 0;
    return err;
}

/* The accumulated counters of (node, day), read from t when first met. */
static WM_MUST_CHECK wm_err_t acc_slot(wm_quota_acc_t *acc, wm_txn_t *t, uint32_t node,
                                       uint32_t day, size_t *out)
{
    for (size_t i = 0; i < acc->n; i++)
        if (acc->slot[i].node == node && acc->slot[i].day == day) {
            *out = i;
            return WM_OK;
        }
    wm_err_t err = acc->n == WM_QUOTA_ACC_SLOTS ? wm_quota_acc_flush(acc, t) : WM_OK;
    if (err != WM_OK)
        return err;
    size_t i = acc->n;
    err = get_use(t, node, day, &acc->slot[i].bytes, &acc->slot[i].records);
    if (err != WM_OK)
        return err;
    acc->slot[i].node = node;
    acc->slot[i].day = day;
    acc->n++;
    *out = i;
    return WM_OK;
}

wm_err_t wm_quota_acc_charge(wm_quota_acc_t *acc, wm_txn_t *t, const wm_quota_t *q, uint32_t node,
                             int64_t captured, size_t len, char *why, size_t cap)
{
    int64_t unix_day = captured / 86400 - (captured % 86400 < 0); /* floor */
    if (!acc->day || unix_day != acc->unix_day) { /* a batch's records share a few days */
        acc->day = wm_quota_day(captured);
        acc->unix_day = unix_day;
    }
    uint32_t day = acc->day;
    size_t d, all;
    char date[11];
    wm_err_t err = acc_slot(acc, t, node, day, &d);
    if (err == WM_OK) /* the day first: a flush to make room keeps both slots valid */
        err = acc_slot(acc, t, node, WM_QUOTA_ALL_DAYS, &all);
    if (err == WM_OK && (d >= acc->n || acc->slot[d].day != day)) /* flushed to make room */
        err = acc_slot(acc, t, node, day, &d);
    if (err != WM_OK)
        return err;
    if (q && q->day_bytes && acc->slot[d].bytes + len > q->day_bytes) {
        snprintf(why, cap,
                 "records captured on %s (UTC) would pass %" PRIu64
                 " bytes, the limit of one capture day ([quota] day_mb at the aggregator); "
                 "%" PRIu64 " bytes of that day are stored",
                 wm_date_format(day, date), q->day_bytes, acc->slot[d].bytes);
        return WM_EQUOTA;
    }
    if (q && q->total_bytes && acc->slot[all].bytes + len > q->total_bytes) {
        snprintf(why, cap,
                 "the station's records would pass %" PRIu64
                 " bytes, its limit in all ([quota] total_mb at the aggregator); the record "
                 "is of %s",
                 q->total_bytes, wm_date_format(day, date));
        return WM_EQUOTA;
    }
    acc->slot[d].bytes += len;
    acc->slot[d].records++;
    acc->slot[all].bytes += len;
    acc->slot[all].records++;
    return WM_OK;
}

/* Takes len bytes and one record off the counters at (node, day). */
static WM_MUST_CHECK wm_err_t take_use(wm_txn_t *t, uint32_t node, uint32_t day, size_t len)
{
    uint64_t bytes = 0, records = 0;
    wm_err_t err = get_use(t, node, day, &bytes, &records);
    if (err != WM_OK || records == 0)
        return err;
    bytes = bytes > len ? bytes - len : 0;
    if (--records)
        return put_use(t, node, day, bytes, records);
    uint8_t kb[QUOTA_KEY];
    wm_put_u32(kb, node);
    wm_put_u32(kb + 4, day);
    MDB_val k = {sizeof kb, kb};
    return wm_mdb_err(t->s, mdb_del(t->txn, t->s->quota, &k, NULL), "quota del");
}

wm_err_t wm_quota_refund(wm_txn_t *t, uint32_t node, int64_t captured, size_t len)
{
    wm_err_t err = take_use(t, node, wm_quota_day(captured), len);
    return err == WM_OK ? take_use(t, node, WM_QUOTA_ALL_DAYS, len) : err;
}

wm_err_t wm_quota_usage(wm_txn_t *t, uint32_t node, wm_quota_use_t *out)
{
    MDB_cursor *c = NULL;
    MDB_val k, v;
    uint8_t kb[QUOTA_KEY];
    memset(out, 0, sizeof *out);
    if (t->s->no_quota)
        return WM_OK;
    wm_put_u32(kb, node);
    wm_put_u32(kb + 4, 0);
    int rc = mdb_cursor_open(t->txn, t->s->quota, &c);
    if (rc)
        return wm_mdb_err(t->s, rc, "quota cursor");
    wm_err_t err = WM_OK;
    k = (MDB_val){sizeof kb, kb};
    for (rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
         rc == 0 && k.mv_size == QUOTA_KEY && wm_get_u32(k.mv_data) == node;
         rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
        if (v.mv_size != QUOTA_VAL) {
            err = WM_EDECODE;
            break;
        }
        uint32_t day = wm_get_u32((const uint8_t *)k.mv_data + 4);
        uint64_t bytes = wm_get_u64(v.mv_data);
        if (day == WM_QUOTA_ALL_DAYS) {
            out->bytes = bytes;
            out->records = wm_get_u64((const uint8_t *)v.mv_data + 8);
            continue;
        }
        out->days++;
        if (bytes > out->max_day_bytes) {
            out->max_day_bytes = bytes;
            out->max_day = day;
        }
    }
    mdb_cursor_close(c);
    if (err == WM_OK && rc != 0 && rc != MDB_NOTFOUND)
        err = wm_mdb_err(t->s, rc, "quota scan");
    return err;
}
