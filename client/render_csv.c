/* SPDX-License-Identifier: MIT */
/*
 * render_csv — the rollup as CSV for spreadsheets: one row per figure
 * (render.h's flat rows). UTF-8 with a byte-order mark and CRLF line ends,
 * fields quoted per RFC 4180, because that is what Excel and WPS need to
 * open Chinese text without an import dialog. The header stays in English
 * slugs in both languages, so scripts can rely on it; the label column is
 * in the chosen language.
 */
#include <inttypes.h>

#include "render.h"

int render_csv_write(const json_t *j, const char *lang, FILE *f)
{
    render_rows_t rows = {0};
    if (render_rows_build(j, lang, &rows)) {
        render_rows_free(&rows);
        return -1;
    }
    fputs("\xef\xbb\xbf" "scope,station,figure,dimension,value,label\r\n", f);
    for (size_t i = 0; i < rows.n; i++) {
        const render_row_t *r = &rows.v[i];
        const char *fields[] = {r->scope, r->station, r->figure, r->dimension};
        for (size_t k = 0; k < sizeof fields / sizeof fields[0]; k++) {
            render_csv_field(f, fields[k] ? fields[k] : "");
            fputc(',', f);
        }
        if (r->kind == RENDER_INT)
            fprintf(f, "%" PRId64, r->i);
        else if (r->kind == RENDER_REAL)
            fprintf(f, "%.2f", r->r);
        fputc(',', f);
        render_csv_field(f, r->label);
        fputs("\r\n", f);
    }
    render_rows_free(&rows);
    return ferror(f) ? -1 : 0;
}
