/* SPDX-License-Identifier: MIT */
/*
 * wmctl report — a period's rollup as the prose of a progress report
 * (client/report_text.c), in Chinese or English. Reads the same JSON as
 * `wmctl rollup` (storage/wm_report.h), so every number it states is a
 * figure of that rollup; works with the daemon down.
 */
#include <stdio.h>
#include <string.h>

#include "render.h"
#include "wmctl.h"

int cmd_report(wmctl_t *w, int argc, char **argv)
{
    static const char *const flags[] = {"force", NULL};
    wmctl_opts_t o;
    int rc = wmctl_opts_parse(&o, argc - 1, argv + 1, flags);
    if (rc)
        return rc;
    const char *period = wmctl_opt(&o, "period"), *station = wmctl_opt(&o, "station"),
               *out = wmctl_opt(&o, "out"), *lang = wmctl_opt(&o, "lang");
    int force = wmctl_flag(&o, "force");
    if ((rc = wmctl_opts_unused(&o, "report")) || (rc = wmctl_config(w)))
        return rc;
    if (!lang)
        lang = "zh";
    if (strcmp(lang, "zh") != 0 && strcmp(lang, "en") != 0) {
        wmctl_reject("lang", "must be zh or en");
        return WMCTL_USAGE;
    }
    json_t *j = NULL;
    if ((rc = wmctl_report_json(w, period, station, &j)))
        return rc;
    outfile_t *of = wmctl_out_open(out, 0644, force);
    if (!of) {
        json_decref(j);
        return WMCTL_FAIL;
    }
    FILE *f = outfile_stream(of);
    int bad = !f || report_text_write(j, lang, w->cfg.cadence_days, f);
    rc = wmctl_out_close(&of, bad, out ? out : "the report");
    json_decref(j);
    return rc;
}
