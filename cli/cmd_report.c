/* SPDX-License-Identifier: MIT */
/*
 * wmctl report — a period's rollup as the prose of a progress report
 * (cli/report_text.c), in Chinese or English. Reads the same JSON as
 * `wmctl rollup` (storage/wm_report.h), so every number it states is a
 * figure of that rollup; works with the daemon down.
 */
#include <stdio.h>
#include <string.h>

#include "render.h"
#include "wmctl.h"

int cmd_report(wmctl_t *w, int argc, char **argv)
{
    wmctl_opts_t o;
    int rc = wmctl_opts_parse(&o, argc - 1, argv + 1, NULL);
    if (rc)
        return rc;
    const char *period = wmctl_opt(&o, "period"), *station = wmctl_opt(&o, "station"),
               *out = wmctl_opt(&o, "out"), *lang = wmctl_opt(&o, "lang");
    if ((rc = wmctl_opts_unused(&o, "report")) || (rc = wmctl_config(w)))
        return rc;
    if (!lang)
        lang = "zh";
    if (strcmp(lang, "zh") != 0 && strcmp(lang, "en") != 0) {
        fprintf(stderr, "wmctl: rejected: --lang: must be zh or en\n");
        return WMCTL_USAGE;
    }
    json_t *j = NULL;
    if ((rc = wmctl_report_json(w, period, station, &j)))
        return rc;
    FILE *f = wmctl_open_out(out, "w");
    if (!f) {
        json_decref(j);
        return WMCTL_FAIL;
    }
    int bad = report_text_write(j, lang, w->cfg.cadence_days, f);
    rc = wmctl_close_out(f, out);
    json_decref(j);
    if (bad && rc == WMCTL_OK) {
        wmctl_err("cannot write the report%s%s", out ? " to " : "", out ? out : "");
        rc = WMCTL_FAIL;
    }
    return rc;
}
