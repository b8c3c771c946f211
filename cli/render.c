/* SPDX-License-Identifier: MIT */
/*
 * Renderers of the rollup JSON (storage/wm_report.h): one entry per
 * --format. Each writes to the file `out`, or to stdout when out is NULL.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "render.h"
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

static int render_table(const json_t *j, const char *lang, const char *out)
{
    FILE *f = wmctl_open_out(out, "w");
    if (!f)
        return WMCTL_FAIL;
    int bad = render_table_write(j, lang, f);
    int rc = wmctl_close_out(f, out);
    if (bad && rc == WMCTL_OK) {
        wmctl_err("cannot write the table%s%s", out ? " to " : "", out ? out : "");
        rc = WMCTL_FAIL;
    }
    return rc;
}

static int render_csv(const json_t *j, const char *lang, const char *out)
{
    /* "wb": the CRLF line ends are written as they are. */
    FILE *f = wmctl_open_out(out, "wb");
    if (!f)
        return WMCTL_FAIL;
    int bad = render_csv_write(j, lang, f);
    int rc = wmctl_close_out(f, out);
    if (bad && rc == WMCTL_OK) {
        wmctl_err("cannot write the CSV%s%s", out ? " to " : "", out ? out : "");
        rc = WMCTL_FAIL;
    }
    return rc;
}

static int render_xlsx(const json_t *j, const char *lang, const char *out)
{
    char why[512];
    if (!out) {
        fprintf(stderr, "wmctl: rejected: --format xlsx needs --out FILE.xlsx (a workbook is "
                        "binary; it is not written to the terminal)\n");
        return WMCTL_USAGE;
    }
    if (render_xlsx_write(j, lang, out, why, sizeof why)) {
        wmctl_err("%s", why);
        return WMCTL_FAIL;
    }
    return WMCTL_OK;
}

static const wmctl_render_t renderers[] = {
    {"table", render_table},
    {"json", render_json},
    {"csv", render_csv},
    {"xlsx", render_xlsx},
};

const wmctl_render_t *wmctl_renderer(const char *name)
{
    for (size_t i = 0; i < sizeof renderers / sizeof renderers[0]; i++)
        if (strcmp(renderers[i].name, name) == 0)
            return &renderers[i];
    return NULL;
}
