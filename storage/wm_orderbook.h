/* SPDX-License-Identifier: MIT */
/*
 * wm_orderbook — the book of needs and orders (wm_orders.h) of every log a
 * store holds, read through the refs index of needs-and-orders records
 * (wm_store.h, refs kind 'o'), never by a scan of every log (but in a
 * store that predates the index and was not yet opened for writing since,
 * wm_orderidx.h, whose logs are read instead): the figures
 * of a rollup (wm_report) and the listings read it. The same records give
 * the same book at every node and on any day (wm_orders_apply_all).
 */
#ifndef WM_ORDERBOOK_H
#define WM_ORDERBOOK_H

#include "wm_orders.h"
#include "wm_store.h"

/* Applies every needs-and-orders record of t's logs to *book (which the
 * caller initialised with WM_ORDERS_INIT and frees with wm_orders_free).
 * WM_OK; WM_ENOMEM; a read error (WM_ECORRUPT, WM_EIO); WM_EDECODE if an
 * indexed record does not decode. On failure *book is partly applied:
 * free it, never show it. */
WM_MUST_CHECK wm_err_t wm_orderbook_load(wm_txn_t *t, wm_orders_t *book);

/* The same, and the records applied (*recs, *n: the caller frees them
 * with wm_orderbook_recs_free), sorted as applied. */
WM_MUST_CHECK wm_err_t wm_orderbook_load_keep(wm_txn_t *t, wm_orders_t *book, wm_record_t ***recs,
                                              size_t *n);
void wm_orderbook_recs_free(wm_record_t ***recs, size_t *n);

#endif
