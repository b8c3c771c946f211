/* SPDX-License-Identifier: MIT */
/*
 * render — the shapes the rollup JSON of storage/wm_report.h takes for
 * people: a terminal table, CSV and xlsx for spreadsheets, and the prose
 * report in the voice of section 一 of a town's progress report
 * (docs/design.md §1). Every number shown comes from that JSON object;
 * nothing here reads the store.
 *
 * The helpers are pure functions of the JSON (no globals, no locale), so
 * they are safe from any thread; the unit test tests/unit/test_render.c
 * links them through the wmctl_render static library.
 *
 * Languages are "zh" (the default everywhere) and "en"; any other string
 * is treated as "zh".
 */
#ifndef RENDER_H
#define RENDER_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* ---- flat rows: one per figure (CSV and the xlsx Totals sheet) ---------
 *
 * A row names its figure by the JSON path of the object that holds it
 * and the key inside it, so a script can find it back in the JSON:
 *   totals.<figure>.<dimension>   e.g. figure "activities", dimension
 *                                 "theme_lecture"; figure
 *                                 "volunteer_services.by_kind",
 *                                 dimension "environmental"
 *   totals.<figure>               scalars (dimension ""), e.g. "funding_yuan"
 * Rows come first for the report's own scope (scope = the JSON "scope",
 * station = the JSON "id"), then for each stations[] entry (scope
 * "station"), then one row per problem: figure "problem", dimension its
 * kind, value its main number if it has one, label the sentence that
 * names the station and team. */
typedef struct {
    const char *scope, *station; /* borrowed from the JSON */
    char figure[128], dimension[192];
    char label[512];
    int kind; /* RENDER_INT, RENDER_REAL, or RENDER_NONE (no value) */
    int64_t i;
    double r;
} render_row_t;

enum { RENDER_NONE = 0, RENDER_INT, RENDER_REAL };

typedef struct {
    render_row_t *v;
    size_t n, cap;
} render_rows_t;

/* Flattens report j into rows (appended to *out). Strings are borrowed
 * from j: the rows are valid while j is. Returns 0, or -1 out of memory
 * or if j is not a report object. */
int render_rows_build(const json_t *j, const char *lang, render_rows_t *out);
void render_rows_free(render_rows_t *rows);

/* The label of (figure, dimension) in lang, e.g. "活动 · 主题宣讲";
 * unknown slugs show as themselves. Writes at most cap bytes; returns buf. */
const char *render_label(const char *figure, const char *dimension, const char *lang, char *buf,
                         size_t cap);
/* The label of one slug alone (a figure or a dimension), or NULL. */
const char *render_slug_label(const char *slug, const char *lang);
/* The label of a problem kind, e.g. "队伍从未开展志愿服务"; the kind itself
 * when unknown. */
const char *render_problem_kind(const char *kind, const char *lang);
/* One sentence for problem p of report j, naming its station (by name
 * when the report knows it) and its team. Returns buf. */
const char *render_problem_text(const json_t *j, const json_t *p, const char *lang, char *buf,
                                size_t cap);
/* The display name of team (its id) of station as the report carries it
 * (names.teams), else the id itself. Borrowed from j. */
const char *render_team_name(const json_t *j, const char *station, const char *team);
/* The name of station id as the report knows it (stations[] or the
 * report's own id), else id itself. Borrowed from j. */
const char *render_station_name(const json_t *j, const char *id);
/* The station a problem concerns (its "station", else its "town"), or "". */
const char *render_problem_station(const json_t *p);
/* The main number of a problem (count, days, blocks missed, months), and
 * whether it has one. */
int render_problem_value(const json_t *p, int64_t *v);

/* Integer at a dotted path under obj ("totals.activities.total"); 0 if
 * missing or not a number. */
int64_t render_int(const json_t *obj, const char *path);
double render_real(const json_t *obj, const char *path);

/* ---- text --------------------------------------------------------------- */

/* Display width of UTF-8 text on a terminal: East Asian wide and
 * fullwidth characters take 2 columns, combining marks 0, others 1.
 * Invalid bytes count 1 each. */
size_t render_width(const char *s);
/* Writes s padded with spaces to width columns (right-aligned if right). */
void render_pad(FILE *f, const char *s, size_t width, int right);
/* Writes one RFC 4180 field: quoted when it holds a comma, a quote, CR or
 * LF (or starts/ends with a space), with quotes doubled. */
void render_csv_field(FILE *f, const char *s);
/* Formats n with thousands separators when sep (en), plainly otherwise. */
const char *render_num(int64_t n, int sep, char *buf, size_t cap);

/* ---- the renderers ------------------------------------------------------
 * Each returns 0, or -1 if j is not a report or writing failed (ferror);
 * render_xlsx_write also says why in why (cap bytes). */
int render_table_write(const json_t *j, const char *lang, FILE *f);
int render_csv_write(const json_t *j, const char *lang, FILE *f);
/* Writes an xlsx workbook to path: sheets 汇总/Totals (the CSV rows,
 * numbers as numbers), 各站/Stations, 问题/Problems. */
int render_xlsx_write(const json_t *j, const char *lang, const char *path, char *why, size_t cap);
/* The prose report. cadence_days is the team cadence rule of the
 * configuration (it shapes the phrase "at least every two weeks"). */
int report_text_write(const json_t *j, const char *lang, unsigned cadence_days, FILE *f);

#endif
