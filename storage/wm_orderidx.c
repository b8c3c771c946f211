/* SPDX-License-Identifier: MIT */
/* wm_orderidx — the needs-and-orders index rebuilt once for older stores; see wm_orderidx.h. */
#include "wm_orderidx.h"

#include <inttypes.h>
#include <stdio.h>

#include "wm_orders.h"
#include "wm_store_int.h"

int wm_orderidx_kind(const wm_record_t *r)
{
    return wm_orders_kind(r) && r->body_case != WM__RECORD__BODY_NOTICE;
}

wm_err_t wm_orderidx_current(wm_txn_t *t, int *current)
{
    uint8_t v[4];
    size_t len = 0;
    wm_err_t err = wm_meta_get(t, WM_META_ORDERIDX, v, sizeof v, &len);
    *current = err == WM_OK && len == sizeof v && wm_get_u32(v) >= WM_ORDERIDX_VERSION;
    return err == WM_ENOTFOUND ? WM_OK : err;
}

typedef struct {
    uint32_t node;
    wm_ref_fn fn;
    void *ctx;
    int stopped;
    wm_err_t err;
} scan_t;

static int scan_one(void *ctx, uint32_t epoch, uint64_t seq, const wm_srec_t *v)
{
    scan_t *sc = ctx;
    wm_record_t *r = NULL;
    if (!v->bytes || (sc->err = wm_record_decode(v->bytes, v->len, &r)) != WM_OK) {
        sc->err = WM_EDECODE;
        return 1;
    }
    int want = wm_orderidx_kind(r);
    wm_record_free(&r);
    if (want && sc->fn(sc->ctx, sc->node, epoch, seq))
        sc->stopped = 1;
    return sc->stopped;
}

wm_err_t wm_orderidx_scan_logs(wm_txn_t *t, wm_ref_fn fn, void *ctx)
{
    scan_t sc = {0, fn, ctx, 0, WM_OK};
    wm_scan_t end = {0};
    const char *id = NULL;
    wm_err_t err = WM_OK;
    for (sc.node = 1; err == WM_OK && !sc.stopped; sc.node++) {
        if ((err = wm_nodeno_name(t, sc.node, &id)) == WM_ENOTFOUND)
            return WM_OK; /* node numbers are dense from 1 */
        if (err == WM_OK)
            err = wm_log_scan(t, sc.node, 0, 0, scan_one, &sc, &end);
        if (err == WM_OK)
            err = sc.err;
        if (err == WM_EDECODE)
            snprintf(t->s->detail, sizeof t->s->detail,
                     "orders index: record %s:%" PRIu32 ":%" PRIu64 " does not decode "
                     "(run wmctl verify)", id ? id : "?", end.epoch, end.seq);
    }
    return err;
}

typedef struct {
    wm_txn_t *t;
    size_t n;
    wm_err_t err;
} put_t;

static int put_one(void *ctx, uint32_t node, uint32_t epoch, uint64_t seq)
{
    put_t *p = ctx;
    p->err = wm_ref_put_order(p->t, node, epoch, seq);
    p->n += p->err == WM_OK;
    return p->err != WM_OK;
}

/* One run of the rebuild: WM_OK with the index whole and marked
 * (committed: durable here), or an error with nothing changed. */
static WM_MUST_CHECK wm_err_t rebuild_once(wm_store_t *s, size_t *indexed)
{
    wm_txn_t *t = NULL;
    put_t p = {NULL, 0, WM_OK};
    uint8_t mark[4];
    int current = 0;
    wm_err_t err = wm_txn_begin(s, 1, &t);
    if (err == WM_OK)
        err = wm_orderidx_current(t, &current);
    if (err != WM_OK || current)
        goto out;
    p.t = t;
    err = wm_orderidx_scan_logs(t, put_one, &p);
    if (err == WM_OK)
        err = p.err;
    wm_put_u32(mark, WM_ORDERIDX_VERSION);
    if (err == WM_OK)
        err = wm_meta_put(t, WM_META_ORDERIDX, mark, sizeof mark);
    if (err == WM_OK)
        err = wm_txn_commit(&t); /* the index and its mark are durable together here */
    if (err == WM_OK)
        *indexed = p.n;
out:
    wm_txn_abort(&t);
    return err;
}

wm_err_t wm_orderidx_ensure(wm_store_t *s, size_t *indexed)
{
    size_t n = 0;
    int tries = 0;
    wm_err_t err;
    do
        err = rebuild_once(s, &n);
    while (wm_store_retry(s, &err, &tries));
    if (indexed)
        *indexed = err == WM_OK ? n : 0;
    return err;
}

wm_err_t wm_orderidx_drop(wm_txn_t *t)
{
    MDB_cursor *c = NULL;
    MDB_val k, v;
    MDB_val mk = {sizeof WM_META_ORDERIDX - 1, WM_META_ORDERIDX};
    int rc = mdb_cursor_open(t->txn, t->s->refs, &c);
    for (rc = rc ? rc : mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0;
         rc = mdb_cursor_get(c, &k, &v, MDB_NEXT))
        if (k.mv_size == KEY_REF && ((const uint8_t *)k.mv_data)[16] == 'o' &&
            (rc = mdb_cursor_del(c, 0)) != 0)
            break;
    mdb_cursor_close(c);
    if (rc == MDB_NOTFOUND)
        rc = mdb_del(t->txn, t->s->meta, &mk, NULL);
    return rc == 0 || rc == MDB_NOTFOUND ? WM_OK : wm_mdb_err(t->s, rc, "orders index drop");
}
