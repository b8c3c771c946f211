/* SPDX-License-Identifier: MIT */
/*
 * Renderers of the rollup JSON (storage/wm_report.h): one entry per
 * --format. Each writes to the file `out`, or to stdout when out is NULL.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wmctl.h"

/* Opens out for writing (stdout if NULL); prints why on failure. */
FILE *wmctl_open_out(const char *out, const char *mode)
{
    if (!out)
        return stdout;
    FILE *f = fopen(out, mode);
    if (!f)
        wmctl_err("cannot write %s", out);
    return f;
}

int wmctl_close_out(FILE *f, const char *out)
{
    if (f == stdout)
        return fflush(f) == 0 ? WMCTL_OK : WMCTL_FAIL;
    if (fclose(f) != 0) {
        wmctl_err("cannot write %s", out);
        return WMCTL_FAIL;
    }
    return WMCTL_OK;
}

static int render_json(const json_t *j, const char *lang, const char *out)
{
    (void)lang;
    FILE *f = wmctl_open_out(out, "w");
    if (!f)
        return WMCTL_FAIL;
    json_dumpf(j, f, JSON_INDENT(2));
    fputc('\n', f);
    return wmctl_close_out(f, out);
}

static const wmctl_render_t renderers[] = {
    {"json", render_json},
};

const wmctl_render_t *wmctl_renderer(const char *name)
{
    for (size_t i = 0; i < sizeof renderers / sizeof renderers[0]; i++)
        if (strcmp(renderers[i].name, name) == 0)
            return &renderers[i];
    return NULL;
}
