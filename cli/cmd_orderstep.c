/* SPDX-License-Identifier: MIT */
/*
 * wmctl order accept / done / rate / cancel — the steps on an existing
 * order, each one record naming the order by its id (cmd_order.h).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "wm_i18n.h"
#include "cmd_order.h"

#define REF(m) (m).order_station = (char *)id->log, (m).order_epoch = id->epoch, (m).order_seq = id->seq

static int step_accept(wmctl_opts_t *o, const wmctl_ref_t *id, uint32_t date, Wm__Record *r,
                       wmctl_step_body_t *b)
{
    wm__order_accept__init(&b->accept);
    REF(b->accept), b->accept.date = date;
    b->accept.team = (char *)wmctl_opt(o, "team");
    r->body_case = WM__RECORD__BODY_ORDER_ACCEPT, r->order_accept = &b->accept;
    return WMCTL_OK;
}

/* A whole number 1 .. max of option name. */
static int opt_number(wmctl_opts_t *o, const char *name, uint64_t max, uint64_t *out)
{
    const char *v = wmctl_opt(o, name);
    char *end = NULL;
    errno = 0;
    unsigned long long x = v && v[0] >= '0' && v[0] <= '9' ? strtoull(v, &end, 10) : 0;
    if (!v || !end || *end || errno || x < 1 || x > max) {
        wmctl_reject(name, _("--%s must be a whole number from 1 to %llu"), name,
                     (unsigned long long)max);
        return WMCTL_USAGE;
    }
    *out = x;
    return WMCTL_OK;
}

static int step_done(wmctl_opts_t *o, const wmctl_ref_t *id, uint32_t date, Wm__Record *r,
                     wmctl_step_body_t *b)
{
    uint64_t seq = 0, epoch = 0;
    int rc = opt_number(o, "seq", UINT64_MAX, &seq);
    if (rc == WMCTL_OK && wmctl_opt(o, "epoch"))
        rc = opt_number(o, "epoch", UINT32_MAX, &epoch);
    if (rc)
        return rc;
    wm__order_done__init(&b->done);
    REF(b->done), b->done.date = date;
    b->done.activity_seq = seq, b->done.activity_epoch = (uint32_t)epoch;
    r->body_case = WM__RECORD__BODY_ORDER_DONE, r->order_done = &b->done;
    return WMCTL_OK;
}

static int step_rate(wmctl_opts_t *o, const wmctl_ref_t *id, uint32_t date, Wm__Record *r,
                     wmctl_step_body_t *b)
{
    uint64_t score = 0;
    int rc = opt_number(o, "score", 5, &score);
    if (rc)
        return rc;
    wm__rating__init(&b->rating);
    REF(b->rating), b->rating.date = date;
    b->rating.score = (Wm__Score)score;
    b->rating.comment = (char *)wmctl_opt(o, "comment");
    r->body_case = WM__RECORD__BODY_RATING, r->rating = &b->rating;
    return WMCTL_OK;
}

static int step_cancel(wmctl_opts_t *o, const wmctl_ref_t *id, uint32_t date, Wm__Record *r,
                       wmctl_step_body_t *b)
{
    wm__order_cancel__init(&b->cancel);
    REF(b->cancel), b->cancel.date = date;
    b->cancel.reason = (char *)wmctl_opt(o, "reason");
    r->body_case = WM__RECORD__BODY_ORDER_CANCEL, r->order_cancel = &b->cancel;
    return WMCTL_OK;
}

const wmctl_step_t *wmctl_order_step(const char *name)
{
    static const wmctl_step_t steps[] = {
        {"accept", step_accept}, {"done", step_done}, {"rate", step_rate}, {"cancel", step_cancel}};
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++)
        if (!strcmp(steps[i].name, name))
            return &steps[i];
    return NULL;
}
