/* SPDX-License-Identifier: MIT */
/*
 * wmctl rollup — a period's figures and problems, from the rollup counters
 * in LMDB (read-only: works with the daemon down). The JSON object of
 * storage/wm_report.h is the one source; --format chooses how it is shown.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wm_i18n.h"
#include "wm_date.h"
#include "wm_rollupq.h"
#include "wmctl.h"

int wmctl_report_json(wmctl_t *w, const char *period, const char *station, json_t **out)
{
    wm_store_t *s = NULL;
    uint32_t self = 0;
    char why[WM_WHY_MAX] = "";
    wm_period_t p;
    if (!period || wm_period_parse(period, &p) != WM_OK) {
        wmctl_reject("period",
                     "\"%s\" is not a period (2024-05, 2024-W19, 2024-BW10, 2024-Q2, 2024-H1, "
                     "2024, 2024-03-01..2024-05-31)",
                     period ? period : "");
        return WMCTL_USAGE;
    }
    int rc = wmctl_open_ro(w, &s, &self);
    if (rc)
        return rc;
    if (!s) {
        wmctl_err("no data yet in %s", w->cfg.data_dir);
        return WMCTL_FAIL;
    }
    wm_err_t err = wm_rollupq(&w->cfg, s, period, station, out, why, sizeof why);
    wm_store_close(&s);
    if (err == WM_ENOTFOUND && !why[0]) {
        wmctl_reject("station", "no station \"%s\" here", station);
        return WMCTL_USAGE;
    }
    if (err != WM_OK) {
        wmctl_err("cannot build the rollup: %s", why);
        return WMCTL_FAIL;
    }
    return WMCTL_OK;
}

int cmd_rollup(wmctl_t *w, int argc, char **argv)
{
    static const char *const flags[] = {"force", NULL};
    wmctl_opts_t o;
    int rc = wmctl_opts_parse(&o, argc - 1, argv + 1, flags);
    if (rc)
        return rc;
    const char *period = wmctl_opt(&o, "period"), *station = wmctl_opt(&o, "station"),
               *format = wmctl_opt(&o, "format"), *out = wmctl_opt(&o, "out"),
               *lang = wmctl_opt(&o, "lang");
    int force = wmctl_flag(&o, "force");
    if ((rc = wmctl_opts_unused(&o, "rollup")) || (rc = wmctl_config(w)))
        return rc;
    if (!format)
        format = "table";
    if (!lang)
        lang = "zh";
    if (strcmp(lang, "zh") != 0 && strcmp(lang, "en") != 0) {
        wmctl_reject("lang", "must be zh or en");
        return WMCTL_USAGE;
    }
    const wmctl_render_t *r = wmctl_renderer(format);
    if (!r) {
        wmctl_reject("format", "must be table, json, csv or xlsx");
        return WMCTL_USAGE;
    }
    json_t *j = NULL;
    if ((rc = wmctl_report_json(w, period, station, &j)))
        return rc;
    rc = r->render(j, lang, out, force);
    json_decref(j);
    return rc;
}

/* wmctl publish --period P: the daemon appends its signed rollup of P to
 * its own log, which replicates to the tier above. */
int cmd_publish(wmctl_t *w, int argc, char **argv)
{
    wmctl_opts_t o;
    int rc = wmctl_opts_parse(&o, argc - 1, argv + 1, NULL);
    if (rc)
        return rc;
    const char *period = wmctl_opt(&o, "period");
    if ((rc = wmctl_opts_unused(&o, "publish")) || (rc = wmctl_config(w)))
        return rc;
    wm_period_t p;
    if (!period || wm_period_parse(period, &p) != WM_OK) {
        wmctl_reject("period", "\"%s\" is not a period", period ? period : "");
        return WMCTL_USAGE;
    }
    Wm__CtlRequest req = WM__CTL_REQUEST__INIT;
    Wm__CtlReply *rep = NULL;
    req.op_case = WM__CTL_REQUEST__OP_PUBLISH;
    req.publish = (char *)period;
    wm_err_t err = wmctl_call(w, &req, &rep);
    if (err == WM_EPERM) /* wmctl_call said why */
        return WMCTL_FAIL;
    if (err == WM_EDOWN) {
        wmctl_err("the wmsyncd daemon for %s is not running; start it and publish again", w->cfg.id);
        return WMCTL_FAIL;
    }
    if (err != WM_OK) {
        wmctl_err("no answer from the daemon: %s", wm_strerror(err));
        return WMCTL_FAIL;
    }
    rc = WMCTL_OK;
    if (rep->error && rep->error[0]) {
        wmctl_err("cannot publish: %s", rep->message);
        rc = WMCTL_FAIL;
    } else {
        printf(_("published the rollup of %s as seq %" PRIu64 " (epoch %" PRIu32 ")\n"), period,
               rep->seq, rep->epoch);
    }
    wm_pb_free(&rep);
    return rc;
}
