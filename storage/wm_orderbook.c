/* SPDX-License-Identifier: MIT */
/* wm_orderbook — the book of needs and orders from the refs index; see wm_orderbook.h. */
#include "wm_orderbook.h"

#include <stdlib.h>

#include "wm_orderidx.h"

typedef struct {
    wm_txn_t *t;
    wm_record_t **v;
    size_t n, cap;
    wm_err_t err;
    uint32_t node; /* the node last asked about, and whether it is archived */
    int archived;
} load_t;

static int load_one(void *ctx, uint32_t node, uint32_t epoch, uint64_t seq)
{
    load_t *l = ctx;
    wm_srec_t v;
    wm_record_t *r = NULL;
    const char *id = NULL;
    if (node != l->node) { /* refs come in node order: one look-up a log */
        l->node = node;
        l->archived = wm_nodeno_name(l->t, node, &id) == WM_OK && wm_node_archived(id);
    }
    if (l->archived)
        return 0; /* a forked copy of a parent's log, archived (wm_store.h): not its word */
    if ((l->err = wm_log_get(l->t, node, epoch, seq, &v)) != WM_OK)
        return 1;
    if ((l->err = wm_record_decode(v.bytes, v.len, &r)) != WM_OK)
        return 1;
    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 64;
        wm_record_t **grown = realloc(l->v, cap * sizeof *grown);
        if (!grown) {
            wm_record_free(&r);
            l->err = WM_ENOMEM;
            return 1;
        }
        l->v = grown, l->cap = cap;
    }
    l->v[l->n++] = r;
    return 0;
}

void wm_orderbook_recs_free(wm_record_t ***recs, size_t *n)
{
    for (size_t i = 0; *recs && i < *n; i++)
        wm_record_free(&(*recs)[i]);
    free(*recs);
    *recs = NULL, *n = 0;
}

wm_err_t wm_orderbook_load_keep(wm_txn_t *t, wm_orders_t *book, wm_record_t ***recs, size_t *n)
{
    load_t l = {t, NULL, 0, 0, WM_OK, 0, 0};
    int indexed = 0;
    wm_err_t err = wm_orderidx_current(t, &indexed);
    if (err == WM_OK) /* a store not yet rebuilt (wm_orderidx.h): its logs */
        err = indexed ? wm_ref_scan_orders(t, load_one, &l)
                      : wm_orderidx_scan_logs(t, load_one, &l);
    if (err == WM_OK)
        err = l.err;
    if (err == WM_OK)
        err = wm_orders_apply_all(book, l.v, l.n);
    *recs = l.v, *n = l.n;
    if (err != WM_OK)
        wm_orderbook_recs_free(recs, n);
    return err;
}

wm_err_t wm_orderbook_load(wm_txn_t *t, wm_orders_t *book)
{
    wm_record_t **v = NULL;
    size_t n = 0;
    wm_err_t err = wm_orderbook_load_keep(t, book, &v, &n);
    wm_orderbook_recs_free(&v, &n);
    return err;
}
