/* SPDX-License-Identifier: MIT */
/*
 * Renderers of the rollup JSON (storage/wm_report.h): one entry per
 * --format. Each writes to the file `out` (created by outfile.h: never
 * through a link, never over a file without --force), or to stdout when
 * out is NULL.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wm_i18n.h"
#include "render.h"
#include "wmctl.h"

outfile_t *wmctl_out_open(const char *out, mode_t mode, int force)
{
    outfile_t *o = NULL;
    char why[WM_WHY_MAX];
    if (outfile_open(out, mode, force ? OUTFILE_FORCE : 0, &o, why, sizeof why) != WM_OK)
        wmctl_err("%s", why);
    return o;
}

int wmctl_out_close(outfile_t **o, int bad, const char *what)
{
    char why[WM_WHY_MAX];
    if (bad) {
        wmctl_err("cannot write %s", what);
        outfile_abort(o);
        return WMCTL_FAIL;
    }
    if (outfile_commit(o, why, sizeof why) != WM_OK) {
        wmctl_err("%s", why);
        return WMCTL_FAIL;
    }
    return WMCTL_OK;
}

static int json_write(const json_t *j, const char *lang, FILE *f)
{
    (void)lang;
    return json_dumpf(j, f, JSON_INDENT(2)) != 0 || fputc('\n', f) == EOF;
}

/* A renderer that writes a stream: to the file out (created safely) or
 * stdout. CSV is written as bytes: its CRLF line ends stay as they are. */
static int render_stream(const json_t *j, const char *lang, const char *out, int force,
                         int (*write)(const json_t *, const char *, FILE *), const char *what)
{
    outfile_t *o = wmctl_out_open(out, 0644, force);
    if (!o)
        return WMCTL_FAIL;
    FILE *f = outfile_stream(o);
    char name[PATH_MAX + 64];
    snprintf(name, sizeof name, "the %s%s%s", what, out ? " to " : "", out ? out : "");
    return wmctl_out_close(&o, !f || write(j, lang, f), name);
}

static int render_json(const json_t *j, const char *lang, const char *out, int force)
{
    return render_stream(j, lang, out, force, json_write, "JSON");
}

static int render_table(const json_t *j, const char *lang, const char *out, int force)
{
    return render_stream(j, lang, out, force, render_table_write, "table");
}

static int render_csv(const json_t *j, const char *lang, const char *out, int force)
{
    return render_stream(j, lang, out, force, render_csv_write, "CSV");
}

static int render_xlsx(const json_t *j, const char *lang, const char *out, int force)
{
    char why[WM_WHY_MAX];
    if (!out) {
        fprintf(stderr, _("wmctl: rejected: --format xlsx needs --out FILE.xlsx (a workbook is "
                        "binary; it is not written to the terminal)\n"));
        return WMCTL_USAGE;
    }
    outfile_t *o = wmctl_out_open(out, 0644, force);
    if (!o)
        return WMCTL_FAIL;
    /* libxlsxwriter writes by name: it rewrites our new temporary file. */
    if (render_xlsx_write(j, lang, outfile_tmp_path(o), why, sizeof why)) {
        wmctl_err("%s", why);
        outfile_abort(&o);
        return WMCTL_FAIL;
    }
    return wmctl_out_close(&o, 0, out);
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
