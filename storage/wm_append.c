/* SPDX-License-Identifier: MIT */
/* wm_append — log, indexes and rollup counters together; see wm_append.h. */
#include "wm_append.h"

#include <stdlib.h>

#include "wm_rollup.h"

struct wm_appender {
    wm_txn_t *t;
    wm_rollup_acc_t *acc; /* NULL with WM_APPEND_NO_ROLLUP */
    uint64_t added;
};

wm_err_t wm_append_begin(wm_txn_t *t, unsigned flags, wm_appender_t **out)
{
    wm_appender_t *ap = calloc(1, sizeof *ap);
    if (!ap)
        return WM_ENOMEM;
    ap->t = t;
    if (!(flags & WM_APPEND_NO_ROLLUP) && wm_rollup_acc_new(&ap->acc) != WM_OK) {
        free(ap);
        return WM_ENOMEM;
    }
    *out = ap;
    return WM_OK;
}

wm_err_t wm_append_add(wm_appender_t *ap, uint32_t node, const wm_record_t *r,
                       const uint8_t *srec, size_t len)
{
    wm_err_t err = wm_log_append(ap->t, node, r, srec, len);
    if (err == WM_OK && ap->acc)
        err = wm_rollup_record(ap->acc, ap->t, node, r); /* same transaction */
    if (err == WM_OK)
        ap->added++;
    return err;
}

uint64_t wm_append_count(const wm_appender_t *ap)
{
    return ap->added;
}

wm_err_t wm_append_finish(wm_appender_t **app)
{
    wm_appender_t *ap = *app;
    wm_err_t err = ap->acc ? wm_rollup_flush(ap->acc, ap->t) : WM_OK;
    wm_append_abandon(app);
    return err;
}

void wm_append_abandon(wm_appender_t **app)
{
    if (!app || !*app)
        return;
    wm_rollup_acc_free(&(*app)->acc);
    free(*app);
    *app = NULL;
}
