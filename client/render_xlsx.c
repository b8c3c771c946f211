/* SPDX-License-Identifier: MIT */
/*
 * render_xlsx — the rollup as an Excel workbook (libxlsxwriter; only this
 * file includes it). Three sheets:
 *   汇总 / Totals      the CSV rows, numbers as numbers
 *   各站 / Stations    one row per station (the report's own scope when it
 *                      has no stations[])
 *   问题 / Problems    kind, station, team, the main number, the sentence
 * Text is always written as text (never as a formula), so a team name that
 * starts with "=" stays a name.
 */
#include <stdio.h>
#include <string.h>
#include <xlsxwriter.h>

#include "render.h"
#include "wm_i18n.h"

#define ZH(lang) (strcmp((lang), "en") != 0)

/* Writes the header row (bold) and keeps it in view. */
static void header(lxw_worksheet *ws, const char *const *cols, lxw_format *bold)
{
    for (lxw_col_t c = 0; cols[c]; c++)
        worksheet_write_string(ws, 0, c, cols[c], bold);
    worksheet_freeze_panes(ws, 1, 0);
}

static void totals_sheet(lxw_worksheet *ws, const render_rows_t *rows, lxw_format *bold,
                         lxw_format *money, lxw_error *err)
{
    static const char *const cols[] = {"scope", "station", "figure", "dimension", "value", "label",
                                       NULL};
    header(ws, cols, bold);
    worksheet_set_column(ws, 0, 0, 10, NULL);
    worksheet_set_column(ws, 1, 1, 28, NULL);
    worksheet_set_column(ws, 2, 3, 26, NULL);
    worksheet_set_column(ws, 4, 4, 12, NULL);
    worksheet_set_column(ws, 5, 5, 48, NULL);
    for (size_t i = 0; i < rows->n && *err == LXW_NO_ERROR; i++) {
        const render_row_t *r = &rows->v[i];
        lxw_row_t row = (lxw_row_t)(i + 1);
        if (row >= LXW_ROW_MAX) {
            *err = LXW_ERROR_WORKSHEET_INDEX_OUT_OF_RANGE;
            break;
        }
        worksheet_write_string(ws, row, 0, r->scope ? r->scope : "", NULL);
        worksheet_write_string(ws, row, 1, r->station ? r->station : "", NULL);
        worksheet_write_string(ws, row, 2, r->figure, NULL);
        if (r->dimension[0])
            worksheet_write_string(ws, row, 3, r->dimension, NULL);
        if (r->kind == RENDER_INT)
            *err = worksheet_write_number(ws, row, 4, (double)r->i, NULL);
        else if (r->kind == RENDER_REAL)
            *err = worksheet_write_number(ws, row, 4, r->r, money);
        if (*err == LXW_NO_ERROR)
            *err = worksheet_write_string(ws, row, 5, r->label, NULL);
    }
}

static void station_row(lxw_worksheet *ws, lxw_row_t row, const char *id, const char *name,
                        const json_t *t, lxw_format *money)
{
    static const char *const ints[] = {"activities.total",
                                       "volunteer_services.total",
                                       "activities.theme_lecture",
                                       "activities.theory_education",
                                       "activities.party_training",
                                       "activities.civilization_practice",
                                       "activities.culture_sports",
                                       "festival_events",
                                       "grassroots_lectures",
                                       "publicity.total",
                                       "volunteers.registered_cumulative",
                                       "volunteers.verified_cumulative",
                                       "recruitment_posts",
                                       "sites.six_haves",
                                       "sites.model_stations",
                                       "plans.overdue",
                                       NULL};
    worksheet_write_string(ws, row, 0, id ? id : "", NULL);
    worksheet_write_string(ws, row, 1, name ? name : "", NULL);
    lxw_col_t c = 2;
    for (const char *const *k = ints; *k; k++)
        worksheet_write_number(ws, row, c++, (double)render_int(t, *k), NULL);
    worksheet_write_number(ws, row, c, render_real(t, "funding_yuan"), money);
}

static void stations_sheet(lxw_worksheet *ws, const json_t *j, const char *lang, lxw_format *bold,
                           lxw_format *money)
{
    static const char *const zh[] = {"编号", "站点", "活动合计", "志愿服务", "主题宣讲",
                                     "理论教育", "党员培训", "文明实践", "文体文艺", "节日文体",
                                     "基层宣讲", "宣传合计", "累计注册志愿者", "累计实名认证",
                                     "招募信息", "六有齐全", "示范站", "逾期计划", "经费（元）",
                                     NULL};
    static const char *const en[] = {"id", "station", "activities", "volunteer services",
                                     "theme lectures", "theory education", "party training",
                                     "civilization practice", "culture and sports",
                                     "festival events", "grassroots lectures", "publicity",
                                     "registered (cumulative)", "verified (cumulative)",
                                     "recruitment posts", "six haves", "model stations",
                                     "plans overdue", "funding (yuan)", NULL};
    header(ws, ZH(lang) ? zh : en, bold);
    worksheet_set_column(ws, 0, 0, 28, NULL);
    worksheet_set_column(ws, 1, 1, 24, NULL);
    worksheet_set_column(ws, 2, 18, 12, NULL);
    const json_t *ss = json_object_get(j, "stations");
    if (!json_array_size(ss)) {
        station_row(ws, 1, json_string_value(json_object_get(j, "id")),
                    json_string_value(json_object_get(j, "name")), json_object_get(j, "totals"),
                    money);
        return;
    }
    size_t i;
    json_t *s;
    json_array_foreach(ss, i, s)
        station_row(ws, (lxw_row_t)(i + 1), json_string_value(json_object_get(s, "id")),
                    json_string_value(json_object_get(s, "name")), json_object_get(s, "totals"),
                    money);
}

static void problems_sheet(lxw_worksheet *ws, const json_t *j, const char *lang, lxw_format *bold)
{
    static const char *const zh[] = {"类型", "问题", "站点编号", "站点", "队伍编号", "队伍",
                                     "数值", "说明", NULL};
    static const char *const en[] = {"kind", "problem", "station id", "station", "team id",
                                     "team", "value", "details", NULL};
    header(ws, ZH(lang) ? zh : en, bold);
    worksheet_set_column(ws, 0, 0, 26, NULL);
    worksheet_set_column(ws, 1, 1, 22, NULL);
    worksheet_set_column(ws, 2, 2, 28, NULL);
    worksheet_set_column(ws, 3, 5, 20, NULL);
    worksheet_set_column(ws, 7, 7, 60, NULL);
    size_t i;
    json_t *p;
    char text[512];
    json_array_foreach(json_object_get(j, "problems"), i, p)
    {
        lxw_row_t row = (lxw_row_t)(i + 1);
        const char *kind = json_string_value(json_object_get(p, "kind"));
        const char *st = render_problem_station(p);
        const char *team = json_string_value(json_object_get(p, "team"));
        const char *name = json_string_value(json_object_get(p, "name"));
        int64_t v;
        worksheet_write_string(ws, row, 0, kind ? kind : "", NULL);
        worksheet_write_string(ws, row, 1, render_problem_kind(kind ? kind : "", lang), NULL);
        worksheet_write_string(ws, row, 2, st ? st : "", NULL);
        worksheet_write_string(ws, row, 3, render_station_name(j, st), NULL);
        if (team)
            worksheet_write_string(ws, row, 4, team, NULL);
        if (name)
            worksheet_write_string(ws, row, 5, name, NULL);
        if (render_problem_value(p, &v))
            worksheet_write_number(ws, row, 6, (double)v, NULL);
        worksheet_write_string(ws, row, 7, render_problem_text(j, p, lang, text, sizeof text),
                               NULL);
    }
}

int render_xlsx_write(const json_t *j, const char *lang, const char *path, char *why, size_t cap)
{
    render_rows_t rows = {0};
    lxw_workbook *wb = NULL;
    lxw_error err = LXW_NO_ERROR;
    int rc = -1;
    if (render_rows_build(j, lang, &rows)) {
        wm_why(why, cap, "out of memory");
        goto out;
    }
    wb = workbook_new(path);
    if (!wb) {
        wm_why(why, cap, "cannot create the workbook %s", path);
        goto out;
    }
    lxw_format *bold = workbook_add_format(wb), *money = workbook_add_format(wb);
    format_set_bold(bold);
    format_set_num_format(money, "0.00");
    lxw_worksheet *t = workbook_add_worksheet(wb, ZH(lang) ? "汇总" : "Totals");
    lxw_worksheet *s = workbook_add_worksheet(wb, ZH(lang) ? "各站" : "Stations");
    lxw_worksheet *p = workbook_add_worksheet(wb, ZH(lang) ? "问题" : "Problems");
    if (!bold || !money || !t || !s || !p) {
        wm_why(why, cap, "out of memory");
        goto out;
    }
    totals_sheet(t, &rows, bold, money, &err);
    if (err != LXW_NO_ERROR) {
        wm_why(why, cap, "cannot write the Totals sheet: %s", lxw_strerror(err));
        goto out;
    }
    stations_sheet(s, j, lang, bold, money);
    problems_sheet(p, j, lang, bold);
    err = workbook_close(wb);
    wb = NULL;
    if (err != LXW_NO_ERROR) {
        wm_why(why, cap, "cannot write %s: %s", path, lxw_strerror(err));
        remove(path);
        goto out;
    }
    rc = 0;
out:
    if (wb) { /* close frees it; the half-written file is removed below */
        workbook_close(wb);
        remove(path);
    }
    render_rows_free(&rows);
    return rc;
}
