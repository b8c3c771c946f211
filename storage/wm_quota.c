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
    uint32_t day = wm_quota_day(captured);
    uint64_t db = 0, dr = 0, tb = 0, tr = 0;
    char date[11];
    wm_err_t err = get_use(t, node, day, &db, &dr);
    if (err == WM_OK)
        err = get_use(t, node, WM_QUOTA_ALL_DAYS, &tb, &tr);
    if (err != WM_OK)
        return err;
    if (q && q->day_bytes && db + len > q->day_bytes) {
        snprintf(why, cap,
                 "records captured on %s (UTC) would pass %" PRIu64
                 " bytes, the limit of one capture day ([quota] day_mb at the aggregator); "
                 "%" PRIu64 " bytes of that day are stored",
                 wm_date_format(day, date), q->day_bytes, db);
        return WM_EQUOTA;
    }
    if (q && q->total_bytes && tb + len > q->total_bytes) {
        snprintf(why, cap,
                 "the station's records would pass %" PRIu64
                 " bytes, its limit in all ([quota] total_mb at the aggregator); the record "
                 "is of %s",
                 q->total_bytes, wm_date_format(day, date));
        return WM_EQUOTA;
    }
    err = put_use(t, node, day, db + len, dr + 1);
    if (err == WM_OK)
        err = put_use(t, node, WM_QUOTA_ALL_DAYS, tb + len, tr + 1);
    return err;
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
