/* SPDX-License-Identifier: MIT */
/*
 * render_table — the rollup JSON as terminal tables, one section per group
 * of figures in the order of section 一 of a town's progress report
 * (docs/design.md §1: publicity, sites, volunteers and teams, activities,
 * services by kind, festival events, grassroots lectures, funding, plans,
 * late entries), then the stations of a town, then the problems. Columns line up by display width, so Chinese
 * labels (two columns a character) align with numbers.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "render.h"

#define ZH(lang) (strcmp((lang), "en") != 0)
#define MAXCOL 10

typedef struct {
    int ncol;
    int right[MAXCOL]; /* right-align this column (numbers) */
    char **cell;       /* nrow × ncol, row 0 is the header */
    size_t nrow, cap;
    int oom;
} tbl_t;

static void tbl_init(tbl_t *t, int ncol)
{
    memset(t, 0, sizeof *t);
    t->ncol = ncol;
}

/* Appends a row of t->ncol strings (copied). */
static void tbl_row(tbl_t *t, ...)
{
    if (t->oom)
        return;
    if (t->nrow == t->cap) {
        size_t cap = t->cap ? 2 * t->cap : 16;
        char **c = realloc(t->cell, cap * (size_t)t->ncol * sizeof *c);
        if (!c) {
            t->oom = 1;
            return;
        }
        t->cell = c;
        t->cap = cap;
    }
    va_list ap;
    va_start(ap, t);
    for (int i = 0; i < t->ncol; i++) {
        const char *s = va_arg(ap, const char *);
        char *d = strdup(s ? s : "");
        if (!d)
            t->oom = 1;
        t->cell[t->nrow * (size_t)t->ncol + (size_t)i] = d;
    }
    va_end(ap);
    t->nrow++;
}

static void tbl_print(FILE *f, const tbl_t *t)
{
    size_t w[MAXCOL] = {0};
    for (size_t r = 0; r < t->nrow; r++)
        for (int c = 0; c < t->ncol; c++) {
            const char *s = t->cell[r * (size_t)t->ncol + (size_t)c];
            size_t x = s ? render_width(s) : 0;
            if (x > w[c])
                w[c] = x;
        }
    for (size_t r = 0; r < t->nrow; r++) {
        fputs("  ", f);
        for (int c = 0; c < t->ncol; c++) {
            const char *s = t->cell[r * (size_t)t->ncol + (size_t)c];
            int last = c == t->ncol - 1;
            if (last && !t->right[c])
                fputs(s ? s : "", f); /* no trailing blanks */
            else
                render_pad(f, s ? s : "", w[c], t->right[c]);
            if (!last)
                fputs("  ", f);
        }
        fputc('\n', f);
        if (r == 0) {
            fputs("  ", f);
            for (int c = 0; c < t->ncol; c++) {
                for (size_t k = 0; k < w[c]; k++)
                    fputc('-', f);
                if (c < t->ncol - 1)
                    fputs("  ", f);
            }
            fputc('\n', f);
        }
    }
}

static void tbl_free(tbl_t *t)
{
    for (size_t i = 0; i < t->nrow * (size_t)t->ncol; i++)
        free(t->cell[i]);
    free(t->cell);
    t->cell = NULL;
    t->nrow = t->cap = 0;
}

static const char *fmt_int(int64_t v, char *buf, size_t cap)
{
    snprintf(buf, cap, "%" PRId64, v);
    return buf;
}

static const char *fmt_real(double v, char *buf, size_t cap)
{
    snprintf(buf, cap, "%.2f", v);
    return buf;
}

static const char *fmt_value(const json_t *v, char *buf, size_t cap)
{
    if (json_is_integer(v))
        return fmt_int((int64_t)json_integer_value(v), buf, cap);
    if (json_is_real(v))
        return fmt_real(json_real_value(v), buf, cap);
    return "";
}

static void section(FILE *f, const char *zh, const char *en, const char *lang)
{
    fprintf(f, ZH(lang) ? "\n【%s】\n" : "\n%s\n", ZH(lang) ? zh : en);
}

/* A two-column section of every numeric key of totals.<path>. */
static void object_rows(tbl_t *t, const json_t *obj, const char *lang)
{
    const char *key;
    json_t *v;
    char buf[64];
    json_object_foreach((json_t *)obj, key, v)
    {
        if (!json_is_number(v))
            continue;
        const char *l = render_slug_label(key, lang);
        tbl_row(t, l ? l : key, fmt_value(v, buf, sizeof buf));
    }
}

/* A two-column section: every number of the object totals.<path> (if
 * path), then the scalar figures keys (NULL-terminated, or NULL). */
static void kv_section(FILE *f, const json_t *totals, const char *path, const char *const *keys,
                       const char *zh, const char *en, const char *lang)
{
    tbl_t t;
    char buf[64];
    section(f, zh, en, lang);
    tbl_init(&t, 2);
    t.right[1] = 1;
    tbl_row(&t, ZH(lang) ? "项目" : "Item", ZH(lang) ? "数值" : "Value");
    if (path)
        object_rows(&t, json_object_get(totals, path), lang);
    for (; keys && *keys; keys++) {
        const char *l = render_slug_label(*keys, lang);
        tbl_row(&t, l ? l : *keys, fmt_value(json_object_get(totals, *keys), buf, sizeof buf));
    }
    tbl_print(f, &t);
    tbl_free(&t);
}

/* The problem of kind that names (station, team), if any. */
static const json_t *team_problem(const json_t *j, const char *station, const char *team,
                                  const char *kind)
{
    size_t i;
    json_t *p;
    json_array_foreach(json_object_get(j, "problems"), i, p)
    {
        const char *k = json_string_value(json_object_get(p, "kind"));
        const char *s = json_string_value(json_object_get(p, "station"));
        const char *tm = json_string_value(json_object_get(p, "team"));
        if (k && s && tm && strcmp(k, kind) == 0 && strcmp(s, station) == 0 &&
            strcmp(tm, team) == 0)
            return p;
    }
    return NULL;
}

static void teams_section(FILE *f, const json_t *j, const char *lang)
{
    const json_t *by_team = json_object_get(json_object_get(json_object_get(j, "totals"),
                                                            "volunteer_services"),
                                            "by_team");
    int town = json_array_size(json_object_get(j, "stations")) > 0;
    const char *own = json_string_value(json_object_get(j, "id"));
    tbl_t t;
    tbl_init(&t, town ? 4 : 3);
    t.right[town ? 2 : 1] = 1;
    if (town)
        tbl_row(&t, ZH(lang) ? "站点" : "Station", ZH(lang) ? "队伍" : "Team",
                ZH(lang) ? "志愿服务（场次）" : "Services", ZH(lang) ? "情况" : "Status");
    else
        tbl_row(&t, ZH(lang) ? "队伍" : "Team", ZH(lang) ? "志愿服务（场次）" : "Services",
                ZH(lang) ? "情况" : "Status");
    const char *key;
    json_t *v;
    char buf[64], station[256];
    json_object_foreach((json_t *)by_team, key, v)
    {
        const char *team = key;
        snprintf(station, sizeof station, "%s", own ? own : "");
        const char *slash = strrchr(key, '/');
        if (town && slash) {
            snprintf(station, sizeof station, "%.*s", (int)(slash - key), key);
            team = slash + 1;
        }
        const char *status = ZH(lang) ? "正常" : "ok";
        if (team_problem(j, station, team, "team_never_served"))
            status = ZH(lang) ? "从未开展志愿服务" : "never served";
        else if (team_problem(j, station, team, "team_below_cadence"))
            status = ZH(lang) ? "未达到规定频次" : "below cadence";
        if (town)
            tbl_row(&t, render_station_name(j, station), render_team_name(j, station, team),
                    fmt_value(v, buf, sizeof buf), status);
        else
            tbl_row(&t, render_team_name(j, station, team), fmt_value(v, buf, sizeof buf), status);
    }
    if (t.nrow > 1) {
        fputs(ZH(lang) ? "  志愿服务队：\n" : "  Volunteer teams:\n", f);
        tbl_print(f, &t);
    }
    tbl_free(&t);
}

static void stations_section(FILE *f, const json_t *j, const char *lang)
{
    const json_t *ss = json_object_get(j, "stations");
    if (!json_array_size(ss))
        return;
    section(f, "各站情况", "Stations", lang);
    tbl_t t;
    tbl_init(&t, 10);
    for (int c = 1; c < 10; c++)
        t.right[c] = 1;
    if (ZH(lang))
        tbl_row(&t, "站点", "活动", "志愿服务", "宣传", "累计注册", "累计认证", "基层宣讲",
                "节日文体", "经费（元）", "六有");
    else
        tbl_row(&t, "Station", "Activities", "Services", "Publicity", "Registered", "Verified",
                "Lectures", "Festival", "Funding", "Six haves");
    size_t i;
    json_t *s;
    char b[9][64];
    json_array_foreach(ss, i, s)
    {
        const json_t *tt = json_object_get(s, "totals");
        const char *name = json_string_value(json_object_get(s, "name"));
        const char *id = json_string_value(json_object_get(s, "id"));
        tbl_row(&t, name && name[0] ? name : (id ? id : ""),
                fmt_int(render_int(tt, "activities.total"), b[0], 64),
                fmt_int(render_int(tt, "volunteer_services.total"), b[1], 64),
                fmt_int(render_int(tt, "publicity.total"), b[2], 64),
                fmt_int(render_int(tt, "volunteers.registered_cumulative"), b[3], 64),
                fmt_int(render_int(tt, "volunteers.verified_cumulative"), b[4], 64),
                fmt_int(render_int(tt, "grassroots_lectures"), b[5], 64),
                fmt_int(render_int(tt, "festival_events"), b[6], 64),
                fmt_real(render_real(tt, "funding_yuan"), b[7], 64),
                render_int(tt, "sites.six_haves") ? (ZH(lang) ? "是" : "yes")
                                                  : (ZH(lang) ? "否" : "no"));
    }
    tbl_print(f, &t);
    tbl_free(&t);
}

static void problems_section(FILE *f, const json_t *j, const char *lang)
{
    const json_t *ps = json_object_get(j, "problems");
    section(f, "存在问题", "Problems", lang);
    if (!json_array_size(ps)) {
        fputs(ZH(lang) ? "  无\n" : "  none\n", f);
        return;
    }
    size_t i;
    json_t *p;
    char text[512];
    json_array_foreach(ps, i, p)
    {
        const char *kind = json_string_value(json_object_get(p, "kind"));
        fprintf(f, ZH(lang) ? "  %zu. %s：%s\n" : "  %zu. %s: %s\n", i + 1,
                render_problem_kind(kind ? kind : "", lang),
                render_problem_text(j, p, lang, text, sizeof text));
    }
}

int render_table_write(const json_t *j, const char *lang, FILE *f)
{
    const json_t *totals = json_object_get(j, "totals");
    if (!json_is_object(totals))
        return -1;
    const char *name = json_string_value(json_object_get(j, "name"));
    const char *id = json_string_value(json_object_get(j, "id"));
    const char *period = json_string_value(json_object_get(j, "period"));
    const char *from = json_string_value(json_object_get(j, "from"));
    const char *to = json_string_value(json_object_get(j, "to"));
    const char *scope = json_string_value(json_object_get(j, "scope"));
    const char *gen = json_string_value(json_object_get(j, "generated"));
    if (ZH(lang))
        fprintf(f, "%s（%s）  %s（%s 至 %s）\n范围：%s  生成时间：%s\n", name ? name : "",
                id ? id : "", period ? period : "", from ? from : "", to ? to : "",
                scope && strcmp(scope, "station") == 0 ? "站"
                : scope && strcmp(scope, "town") == 0  ? "镇"
                : scope && strcmp(scope, "county") == 0 ? "县"
                                                        : (scope ? scope : ""),
                gen ? gen : "");
    else
        fprintf(f, "%s (%s)  %s (%s to %s)\nScope: %s  Generated: %s\n", name ? name : "",
                id ? id : "", period ? period : "", from ? from : "", to ? to : "",
                scope ? scope : "", gen ? gen : "");

    static const char *const vol[] = {"recruitment_posts", NULL};
    static const char *const act[] = {"participants", "activity_volunteers", "service_hours", NULL};
    static const char *const fest[] = {"festival_events", NULL};
    static const char *const lect[] = {"grassroots_lectures", NULL};
    static const char *const fund[] = {"funding_yuan", NULL};
    static const char *const late[] = {"late_entries", NULL};
    kv_section(f, totals, "publicity", NULL, "宣传", "Publicity", lang);
    kv_section(f, totals, "sites", NULL, "设施（六有）", "Sites (six haves)", lang);
    kv_section(f, totals, "volunteers", vol, "志愿者与队伍", "Volunteers and teams", lang);
    teams_section(f, j, lang);
    kv_section(f, totals, "activities", act, "活动", "Activities", lang);
    kv_section(f, json_object_get(totals, "volunteer_services"), "by_kind", NULL,
               "志愿服务（按类型）", "Volunteer services by kind", lang);
    kv_section(f, totals, NULL, fest, "文体活动（节日）", "Culture and sports at festivals", lang);
    kv_section(f, totals, NULL, lect, "基层宣讲", "Grassroots lectures", lang);
    kv_section(f, totals, NULL, fund, "经费", "Funding", lang);
    kv_section(f, totals, "plans", NULL, "计划", "Plans", lang);
    kv_section(f, totals, NULL, late, "补录", "Late entries", lang);
    stations_section(f, j, lang);
    problems_section(f, j, lang);
    return ferror(f) ? -1 : 0;
}
