/* SPDX-License-Identifier: MIT */
/* wm_rollupq — a period's rollup for wmctl and wmweb; see wm_rollupq.h. */
#include "wm_rollupq.h"

#include <stdio.h>
#include <time.h>

#include "wm_date.h"
#include "wm_report.h"

wm_err_t wm_rollupq(const wm_config_t *cfg, wm_store_t *s, const char *period,
                    const char *station, json_t **out, char *why, size_t cap)
{
    wm_period_t p;
    *out = NULL;
    why[0] = 0;
    if (!period || wm_period_parse(period, &p) != WM_OK)
        return WM_EINVAL;
    wm_report_opts_t o = {.id = cfg->id,
                          .name = cfg->name,
                          .role = wm_role_name(cfg->role),
                          .aggregator = cfg->listen[0] != 0,
                          .station = station,
                          .cadence_days = cfg->cadence_days,
                          .date_tolerance_days = cfg->blobs_date_days,
                          .photos_from = cfg->blobs_photos_from,
                          .silent_days = cfg->silent_days,
                          .today = wm_date_today(),
                          .now = (int64_t)time(NULL),
                          .why = why,
                          .why_cap = cap};
    wm_txn_t *t = NULL;
    wm_err_t err = wm_txn_begin(s, 0, &t);
    if (err == WM_OK)
        err = wm_report_build_any(t, &p, &o, out);
    wm_txn_abort(&t);
    if (err != WM_OK && err != WM_ENOTFOUND && !why[0])
        snprintf(why, cap, "%s", wm_strerror(err));
    return err;
}
