/* SPDX-License-Identifier: MIT */
/*
 * test_render — client/render_*.c and client/report_text.c against hand-written
 * rollup JSON (storage/wm_report.h): display width of CJK text, RFC 4180
 * quoting, thousands separators, the flat figure rows (every JSON leaf
 * once, problems last), town scope (stations[], "STATION/TEAM" team keys,
 * teams on cadence), a county's town_not_reported, and the table's
 * alignment. The station-daemon path is tests/integration/it_report.sh.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "render.h"

/* Runs fn into a memory stream and returns the text (caller frees). */
#define CAPTURE(call, text)                                                                        \
    do {                                                                                           \
        size_t len_ = 0;                                                                           \
        FILE *f_ = open_memstream(&(text), &len_);                                                 \
        assert_non_null(f_);                                                                       \
        assert_int_equal((call), 0);                                                               \
        fclose(f_);                                                                                \
    } while (0)

static char *csv_of(const char *s)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    render_csv_field(f, s);
    fclose(f);
    return text;
}

static void test_width(void **state)
{
    (void)state;
    assert_int_equal(render_width(""), 0);
    assert_int_equal(render_width("abc"), 3);
    assert_int_equal(render_width("中文"), 4);
    assert_int_equal(render_width("a中b"), 4);
    assert_int_equal(render_width("（）"), 4);           /* fullwidth forms */
    assert_int_equal(render_width("“一队”"), 6);         /* curly quotes: narrow */
    assert_int_equal(render_width("e\xcc\x81"), 1);       /* e + combining acute */
    assert_int_equal(render_width("\xf0\x9f\xa7\xa7"), 2); /* red envelope emoji */
    assert_int_equal(render_width("한국"), 4);
    assert_int_equal(render_width("\xff" "a"), 2); /* invalid byte counts 1 */
    assert_int_equal(render_width("\xe4\xb8"), 2); /* truncated sequence: 1 per byte */
}

static void test_csv_field(void **state)
{
    (void)state;
    static const char *const cases[][2] = {
        {"plain", "plain"},
        {"", ""},
        {"中文", "中文"},
        {"a,b", "\"a,b\""},
        {"say \"hi\"", "\"say \"\"hi\"\"\""},
        {"x\ny", "\"x\ny\""},
        {"x\r\ny", "\"x\r\ny\""},
        {" lead", "\" lead\""},
        {"医疗志愿服务分队, \"白衣\" 队", "\"医疗志愿服务分队, \"\"白衣\"\" 队\""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *got = csv_of(cases[i][0]);
        assert_string_equal(got, cases[i][1]);
        free(got);
    }
}

static void test_num(void **state)
{
    (void)state;
    char b[32];
    assert_string_equal(render_num(6200, 1, b, sizeof b), "6,200");
    assert_string_equal(render_num(6200, 0, b, sizeof b), "6200");
    assert_string_equal(render_num(999, 1, b, sizeof b), "999");
    assert_string_equal(render_num(1000, 1, b, sizeof b), "1,000");
    assert_string_equal(render_num(6000000, 1, b, sizeof b), "6,000,000");
    assert_string_equal(render_num(-1234, 1, b, sizeof b), "-1,234");
    assert_string_equal(render_num(0, 1, b, sizeof b), "0");
}

/* A town of two stations: 甲村站 with teams t1 (3 services, on cadence)
 * and t2 (1, below cadence); 乙村站 with t1 (never served), no lecture in
 * May, never synced. */
static const char *TOWN =
    "{\"period\":\"2024-05\",\"from\":\"2024-05-01\",\"to\":\"2024-05-31\","
    "\"scope\":\"town\",\"id\":\"xx/town\",\"name\":\"龙华镇\",\"generated\":\"g\","
    "\"covers\":[],"
    "\"totals\":{\"activities\":{\"theme_lecture\":5,\"culture_sports\":2,\"volunteer_service\":4,"
    "\"total\":11},"
    "\"volunteer_services\":{\"by_kind\":{\"environmental\":3,\"legal\":1,\"total\":4},\"total\":4,"
    "\"by_team\":{\"xx/a/t1\":3,\"xx/a/t2\":1,\"xx/b/t1\":0}},"
    "\"festival_events\":2,\"funding_yuan\":1234.5,"
    "\"publicity\":{\"wechat\":7,\"total\":7},"
    "\"volunteers\":{\"registered\":10,\"verified\":8,\"registered_cumulative\":6200,"
    "\"verified_cumulative\":4670}},"
    "\"stations\":["
    "{\"id\":\"xx/a\",\"name\":\"甲村站\",\"totals\":{\"activities\":{\"theme_lecture\":5,"
    "\"total\":9},\"funding_yuan\":1234.5}},"
    "{\"id\":\"xx/b\",\"name\":\"乙村站\",\"totals\":{\"activities\":{\"culture_sports\":2,"
    "\"total\":2}}}],"
    "\"problems\":["
    "{\"kind\":\"team_below_cadence\",\"station\":\"xx/a\",\"team\":\"t2\",\"name\":\"二队\","
    "\"blocks\":2,\"blocks_missed\":1,\"cadence_days\":14},"
    "{\"kind\":\"team_never_served\",\"station\":\"xx/b\",\"team\":\"t1\","
    "\"name\":\"卫生队, \\\"白衣\\\"\"},"
    "{\"kind\":\"station_no_grassroots_lecture\",\"station\":\"xx/b\",\"months\":[\"2024-05\"]},"
    "{\"kind\":\"station_not_synced\",\"station\":\"xx/b\",\"days\":-1}]}";

static json_t *load(const char *s)
{
    json_error_t e;
    json_t *j = json_loads(s, 0, &e);
    if (!j)
        fail_msg("fixture: %s at %d", e.text, e.position);
    return j;
}

static const render_row_t *find_row(const render_rows_t *r, const char *station, const char *fig,
                                    const char *dim)
{
    for (size_t i = 0; i < r->n; i++)
        if (strcmp(r->v[i].station, station) == 0 && strcmp(r->v[i].figure, fig) == 0 &&
            strcmp(r->v[i].dimension, dim) == 0)
            return &r->v[i];
    return NULL;
}

static void test_rows_town(void **state)
{
    (void)state;
    json_t *j = load(TOWN);
    render_rows_t r = {0};
    assert_int_equal(render_rows_build(j, "zh", &r), 0);
    /* totals: 4 + 3 + 1 + 3 (by_team) + 2 scalars + 2 + 4 = 19; stations 2+1, 2; problems 4 */
    assert_int_equal(r.n, 19 + 3 + 2 + 4);
    const render_row_t *x = find_row(&r, "xx/town", "volunteer_services.by_team", "xx/a/t1");
    assert_non_null(x);
    assert_string_equal(x->scope, "town");
    assert_int_equal(x->kind, RENDER_INT);
    assert_int_equal(x->i, 3);
    /* team ids are never translated, even one that looks like a slug */
    assert_string_equal(x->label, "志愿服务（按队伍） · xx/a/t1");
    x = find_row(&r, "xx/town", "funding_yuan", "");
    assert_non_null(x);
    assert_int_equal(x->kind, RENDER_REAL);
    assert_true(x->r > 1234.49 && x->r < 1234.51);
    assert_string_equal(x->label, "经费（元）");
    x = find_row(&r, "xx/a", "activities", "theme_lecture");
    assert_non_null(x);
    assert_string_equal(x->scope, "station");
    assert_string_equal(x->label, "活动 · 主题宣讲");
    /* problems come last, in the JSON's order, with their main number */
    const render_row_t *p = &r.v[r.n - 4];
    assert_string_equal(p->figure, "problem");
    assert_string_equal(p->dimension, "team_below_cadence");
    assert_string_equal(p->station, "xx/a");
    assert_int_equal(p->kind, RENDER_INT);
    assert_int_equal(p->i, 1);
    assert_non_null(strstr(p->label, "甲村站的志愿服务队“二队”"));
    assert_int_equal(r.v[r.n - 3].kind, RENDER_NONE); /* never served: no number */
    assert_non_null(strstr(r.v[r.n - 3].label, "乙村站的志愿服务队“卫生队, \"白衣\"”"));
    assert_int_equal(r.v[r.n - 2].i, 1); /* one month without a lecture */
    assert_non_null(strstr(r.v[r.n - 2].label, "乙村站在2024-05没有开展每月基层宣讲"));
    assert_int_equal(r.v[r.n - 1].i, -1);
    assert_non_null(strstr(r.v[r.n - 1].label, "乙村站从未同步数据"));
    render_rows_free(&r);

    assert_int_equal(render_rows_build(j, "en", &r), 0);
    x = find_row(&r, "xx/town", "publicity", "wechat");
    assert_non_null(x);
    assert_string_equal(x->label, "Publicity · WeChat groups / official account");
    render_rows_free(&r);
    json_decref(j);

    /* not a report */
    j = load("{\"totals\":7}");
    assert_int_equal(render_rows_build(j, "zh", &r), -1);
    render_rows_free(&r);
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    assert_int_equal(report_text_write(j, "zh", 14, f), -1);
    assert_int_equal(render_table_write(j, "zh", f), -1);
    fclose(f);
    free(text);
    json_decref(j);
}

static void test_csv_town(void **state)
{
    (void)state;
    json_t *j = load(TOWN);
    char *text = NULL;
    CAPTURE(render_csv_write(j, "zh", f_), text);
    assert_memory_equal(text, "\xef\xbb\xbfscope,station,figure,dimension,value,label\r\n", 47);
    assert_non_null(strstr(text, "\r\ntown,xx/town,funding_yuan,,1234.50,经费（元）\r\n"));
    assert_non_null(strstr(text, "\r\ntown,xx/b,problem,team_never_served,,\""
                                 "乙村站的志愿服务队“卫生队, \"\"白衣\"\"”"));
    /* every line ends in CRLF; no bare LF */
    for (char *p = strchr(text, '\n'); p; p = strchr(p + 1, '\n'))
        assert_true(p > text && p[-1] == '\r');
    free(text);
    json_decref(j);
}

static void test_report_town(void **state)
{
    (void)state;
    json_t *j = load(TOWN);
    char *zh = NULL, *en = NULL;
    CAPTURE(report_text_write(j, "zh", 14, f_), zh);
    CAPTURE(report_text_write(j, "en", 14, f_), en);
    /* only xx/a/t1 served and met the cadence */
    assert_non_null(strstr(zh, "1个志愿服务队进行至少每两周一次的志愿服务活动"));
    assert_non_null(strstr(zh, "开展了主题宣讲、理论教育、党员培训、文明实践、文体文艺等活动共计7场次"
                               "（主题宣讲5场次、文体文艺2场次）"));
    assert_non_null(strstr(zh, "志愿服务活动共计4场次（环保宣传3场次、普法1场次）"));
    assert_non_null(strstr(zh, "有注册志愿者6200人，实名认证4670人"));
    assert_non_null(strstr(zh, "资金共计1234.50元"));
    assert_non_null(strstr(zh, "（一）志愿服务队从未开展志愿服务。乙村站的志愿服务队“卫生队, \"白衣\"”"));
    assert_non_null(strstr(zh, "（二）志愿服务未达到规定频次。甲村站的志愿服务队“二队”"));
    assert_non_null(strstr(zh, "（三）未按月开展基层宣讲。乙村站在2024-05"));
    assert_non_null(strstr(zh, "（四）未及时同步。乙村站从未同步数据。"));
    assert_non_null(strstr(en, "1 volunteer team served at least every two weeks"));
    assert_non_null(strstr(en, "6,200 volunteers are registered and 4,670 real-name verified"));
    assert_non_null(strstr(en, "Funds of 1,234.50 yuan"));
    assert_non_null(strstr(en, "(4) Not synced. 乙村站: never synced."));
    free(zh);
    free(en);

    /* another cadence rule changes the phrase, not the count */
    CAPTURE(report_text_write(j, "zh", 7, f_), zh);
    assert_non_null(strstr(zh, "1个志愿服务队进行至少每周一次"));
    free(zh);
    json_decref(j);
}

/* Each line of a table block (header, rows) ends at the same display
 * column: numbers right-aligned under CJK labels. */
static void check_block(const char *text, const char *title)
{
    const char *p = strstr(text, title);
    assert_non_null(p);
    p += strlen(title);
    if (p[-1] != '\n')
        p = strchr(p, '\n') + 1;
    size_t want = 0;
    int lines = 0;
    while (*p && *p != '\n') {
        const char *e = strchr(p, '\n');
        char line[512];
        snprintf(line, sizeof line, "%.*s", (int)(e - p), p);
        size_t w = render_width(line);
        if (!want)
            want = w;
        if (w != want)
            fail_msg("%s: line \"%s\" is %zu columns, not %zu", title, line, w, want);
        lines++;
        p = e + 1;
    }
    assert_true(lines >= 3);
}

static void test_table_town(void **state)
{
    (void)state;
    json_t *j = load(TOWN);
    char *zh = NULL, *en = NULL;
    CAPTURE(render_table_write(j, "zh", f_), zh);
    CAPTURE(render_table_write(j, "en", f_), en);
    check_block(zh, "【活动】");
    check_block(zh, "【宣传】");
    check_block(zh, "【志愿服务（按类型）】");
    check_block(en, "\nActivities\n");
    /* the stations table, names not ids */
    assert_non_null(strstr(zh, "【各站情况】"));
    assert_non_null(strstr(zh, "  甲村站  "));
    assert_non_null(strstr(zh, "  乙村站  "));
    /* the teams table at town scope names the station and the status */
    const char *t = strstr(zh, "志愿服务队：");
    assert_non_null(t);
    assert_non_null(strstr(t, "甲村站  t2"));
    assert_non_null(strstr(t, "未达到规定频次"));
    assert_non_null(strstr(t, "从未开展志愿服务"));
    assert_non_null(strstr(zh, "【存在问题】\n  1. 志愿服务未达到规定频次：甲村站的志愿服务队“二队”"));
    assert_non_null(strstr(en, "Problems\n  1. Team below the service cadence: 甲村站: "));
    free(zh);
    free(en);
    json_decref(j);
}

/* A county: towns are the stations; a town that has not reported its
 * rollup carries "town", not "station"; towns' problems carry both. */
static void test_county(void **state)
{
    (void)state;
    json_t *j = load("{\"period\":\"2024-05\",\"from\":\"2024-05-01\",\"to\":\"2024-05-31\","
                     "\"scope\":\"county\",\"id\":\"xx\",\"name\":\"某县\",\"covers\":[],"
                     "\"totals\":{\"activities\":{\"total\":3}},"
                     "\"stations\":[{\"id\":\"xx/t1\",\"name\":\"龙华镇\",\"totals\":"
                     "{\"activities\":{\"total\":3}},\"report\":{\"epoch\":1,\"seq\":9,"
                     "\"hash\":\"ab\"}}],"
                     "\"problems\":[{\"kind\":\"town_not_reported\",\"town\":\"xx/t2\"},"
                     "{\"kind\":\"station_no_activity\",\"station\":\"xx/t1/s\","
                     "\"town\":\"xx/t1\"}]}");
    render_rows_t r = {0};
    assert_int_equal(render_rows_build(j, "zh", &r), 0);
    assert_int_equal(r.n, 4); /* county total, one town total, two problems */
    assert_string_equal(r.v[2].station, "xx/t2");
    assert_string_equal(r.v[2].label, "xx/t2未上报本期汇总");
    assert_string_equal(r.v[3].label, "xx/t1/s本期没有开展活动（龙华镇）");
    render_rows_free(&r);
    char *en = NULL;
    CAPTURE(report_text_write(j, "en", 14, f_), en);
    assert_non_null(strstr(en, "xx/t2: no rollup of the period reported"));
    assert_non_null(strstr(en, "xx/t1/s: no activity in the period (龙华镇)"));
    free(en);
    json_decref(j);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_width),       cmocka_unit_test(test_csv_field),
        cmocka_unit_test(test_num),         cmocka_unit_test(test_rows_town),
        cmocka_unit_test(test_csv_town),    cmocka_unit_test(test_report_town),
        cmocka_unit_test(test_table_town),  cmocka_unit_test(test_county),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
