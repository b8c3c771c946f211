/* SPDX-License-Identifier: MIT */
/*
 * test_validate — proto/wm_validate.c: every content rule a record body
 * must meet, for every kind, checked by the field the rejection names;
 * plus the UTF-8 and id checkers on their own. "Today" is fixed at
 * 2024-03-15 so the future-date rule does not depend on the clock.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "wm_testutil.h"
#include "wm_date.h"
#include "wm_validate.h"

#define TODAY 20240315u
#define STATION "xx-county/longhua/xinhe"

static void expect_ok_at(const tu_rec_t *t, uint32_t today, int line)
{
    wm_reject_t rej;
    memset(&rej, 0, sizeof rej);
    wm_err_t rc = wm_validate_body(&t->r, today, &rej);
    if (rc != WM_OK)
        fail_msg("line %d: refused: %s: %s", line, rej.field, rej.why);
}

static void expect_reject_at(const tu_rec_t *t, uint32_t today, const char *field, int line)
{
    wm_reject_t rej;
    memset(&rej, 0, sizeof rej);
    wm_err_t rc = wm_validate_body(&t->r, today, &rej);
    if (rc != WM_EINVAL)
        fail_msg("line %d: expected a rejection on %s, got %d", line, field, rc);
    if (strcmp(rej.field, field) != 0)
        fail_msg("line %d: rejection names \"%s\" (%s), expected \"%s\"", line, rej.field,
                 rej.why, field);
    if (!rej.why[0])
        fail_msg("line %d: rejection on %s has no sentence", line, field);
    /* A NULL reject is allowed and gives the same answer. */
    assert_int_equal(wm_validate_body(&t->r, today, NULL), WM_EINVAL);
}

#define OK(t) expect_ok_at((t), TODAY, __LINE__)
#define REJECT(t, field) expect_reject_at((t), TODAY, (field), __LINE__)

static void activity(tu_rec_t *t)
{
    tu_rec_init(t, STATION, 1, 1, NULL);
    tu_rec_activity(t, "主题宣讲：学习二十大精神");
}

static void test_activity_dates(void **state)
{
    (void)state;
    tu_rec_t t;
    activity(&t);
    OK(&t);
    t.b.activity.date = 0;
    REJECT(&t, "date");
    t.b.activity.date = 20230229; /* not a calendar day */
    REJECT(&t, "date");
    t.b.activity.date = 20241301;
    REJECT(&t, "date");
    t.b.activity.date = 19991231; /* before WM_DATE_MIN */
    REJECT(&t, "date");
    t.b.activity.date = WM_DATE_MIN;
    OK(&t);
    t.b.activity.date = TODAY;
    OK(&t);
    t.b.activity.date = 20240316; /* tomorrow: allowed (time zones, late entry) */
    OK(&t);
    t.b.activity.date = 20240317; /* the day after: future */
    REJECT(&t, "date");
    t.b.activity.date = 20990101;
    REJECT(&t, "date");
    /* The one-day allowance crosses month and year ends. */
    t.b.activity.date = 20240301;
    expect_ok_at(&t, 20240229, __LINE__);
    t.b.activity.date = 20240302;
    expect_reject_at(&t, 20240229, "date", __LINE__);
    t.b.activity.date = 20250101;
    expect_ok_at(&t, 20241231, __LINE__);
    t.b.activity.date = 20250102;
    expect_reject_at(&t, 20241231, "date", __LINE__);
}

static void test_activity_category(void **state)
{
    (void)state;
    tu_rec_t t;
    activity(&t);
    t.b.activity.category = WM__CATEGORY__CATEGORY_UNSPECIFIED;
    REJECT(&t, "category");
    t.b.activity.category = 7; /* unknown value */
    REJECT(&t, "category");
    t.b.activity.category = -1;
    REJECT(&t, "category");
    for (int c = 1; c <= 5; c++) {
        t.b.activity.category = c;
        OK(&t);
        /* A service kind only belongs to volunteer service. */
        t.b.activity.service_kind = WM__SERVICE_KIND__LEGAL;
        REJECT(&t, "service-kind");
        t.b.activity.service_kind = 0;
    }
    t.b.activity.category = WM__CATEGORY__VOLUNTEER_SERVICE;
    REJECT(&t, "service-kind"); /* required for volunteer service */
    for (int k = 1; k <= 7; k++) {
        t.b.activity.service_kind = k;
        OK(&t);
    }
    t.b.activity.service_kind = 8;
    REJECT(&t, "service-kind");
}

static void test_activity_text(void **state)
{
    (void)state;
    tu_rec_t t;
    char buf[WM_TEXT_MAX + 8];
    activity(&t);
    t.b.activity.title = "";
    REJECT(&t, "title");
    t.b.activity.title = NULL;
    REJECT(&t, "title");
    t.b.activity.title = "bad \xff utf-8";
    REJECT(&t, "title");
    t.b.activity.title = "overlong \xc0\xaf slash";
    REJECT(&t, "title");
    t.b.activity.title = "surrogate \xed\xa0\x80";
    REJECT(&t, "title");
    t.b.activity.title = "truncated \xe4\xb8";
    REJECT(&t, "title");
    t.b.activity.title = "line\nbreak";
    REJECT(&t, "title");
    t.b.activity.title = "tab\tis fine";
    OK(&t);
    t.b.activity.title = "道德讲堂 · 元旦 🎉";
    OK(&t);

    /* Length limit in bytes: 85 CJK characters (255 bytes) fit, 86 do not. */
    buf[0] = 0;
    for (int i = 0; i < 85; i++)
        strcat(buf, "讲");
    t.b.activity.title = buf;
    OK(&t);
    strcat(buf, "讲");
    REJECT(&t, "title");
    memset(buf, 'a', WM_TEXT_MAX);
    buf[WM_TEXT_MAX] = 0;
    OK(&t);
    buf[WM_TEXT_MAX] = 'a';
    buf[WM_TEXT_MAX + 1] = 0;
    REJECT(&t, "title");
    t.b.activity.title = "x";

    t.b.activity.place = "";
    OK(&t); /* place is optional */
    t.b.activity.place = "新河村\x01";
    REJECT(&t, "place");
    t.b.activity.place = "新河村文明实践站";
    OK(&t);
}

static void test_activity_team_counts_tags(void **state)
{
    (void)state;
    tu_rec_t t;
    char *tags[17];
    activity(&t);
    t.b.activity.team = "";
    OK(&t); /* no team */
    t.b.activity.team = "legal-branch_2";
    OK(&t);
    t.b.activity.team = "Legal";
    REJECT(&t, "team");
    t.b.activity.team = "法律";
    REJECT(&t, "team");
    t.b.activity.team = "a b";
    REJECT(&t, "team");
    t.b.activity.team = "/x";
    REJECT(&t, "team");
    t.b.activity.team = "general/legal";
    OK(&t);
    t.b.activity.team = NULL;

    t.b.activity.participants = WM_COUNT_MAX;
    OK(&t);
    t.b.activity.participants = WM_COUNT_MAX + 1;
    REJECT(&t, "participants");
    t.b.activity.participants = 86;
    t.b.activity.volunteers = WM_COUNT_MAX + 1;
    REJECT(&t, "volunteers");
    t.b.activity.volunteers = 10;
    t.b.activity.hours_x100 = 4000000000u;
    REJECT(&t, "hours");
    t.b.activity.hours_x100 = 250;
    OK(&t);

    for (int i = 0; i < 17; i++)
        tags[i] = "春节";
    t.b.activity.tags = tags;
    t.b.activity.n_tags = 16;
    OK(&t);
    t.b.activity.n_tags = 17;
    REJECT(&t, "festival");
    t.b.activity.n_tags = 3;
    tags[1] = "";
    REJECT(&t, "festival");
    tags[1] = "\xe6\x98";
    REJECT(&t, "festival");
    tags[1] = "基层宣讲";
    OK(&t);
}

static void test_publicity_volunteers_recruitment(void **state)
{
    (void)state;
    tu_rec_t t;
    Wm__Publicity p = WM__PUBLICITY__INIT;
    tu_rec_init(&t, STATION, 1, 1, NULL);
    t.r.body_case = WM__RECORD__BODY_PUBLICITY;
    t.r.publicity = &p;
    p.date = TODAY;
    p.channel = WM__CHANNEL__WECHAT;
    p.count = 113;
    OK(&t);
    p.channel = 0;
    REJECT(&t, "channel");
    p.channel = 5;
    REJECT(&t, "channel");
    p.channel = WM__CHANNEL__LEAFLET;
    p.count = WM_COUNT_MAX + 1;
    REJECT(&t, "count");
    p.count = 6000;
    p.date = 20240230;
    REJECT(&t, "date");
    p.date = 20240401;
    REJECT(&t, "date");

    Wm__Volunteers v = WM__VOLUNTEERS__INIT;
    tu_rec_init(&t, STATION, 1, 1, NULL);
    t.r.body_case = WM__RECORD__BODY_VOLUNTEERS;
    t.r.volunteers = &v;
    v.date = 20231231;
    v.registered = 6200;
    v.verified = 4670;
    OK(&t);
    v.registered = WM_COUNT_MAX + 1;
    REJECT(&t, "registered");
    v.registered = 0;
    v.verified = WM_COUNT_MAX + 1;
    REJECT(&t, "verified");
    v.verified = 0;
    v.date = 0;
    REJECT(&t, "date");

    Wm__Recruitment x = WM__RECRUITMENT__INIT;
    tu_rec_init(&t, STATION, 1, 1, NULL);
    t.r.body_case = WM__RECORD__BODY_RECRUITMENT;
    t.r.recruitment = &x;
    x.date = 20240101;
    x.count = 60;
    OK(&t);
    x.count = WM_COUNT_MAX + 1;
    REJECT(&t, "count");
    x.count = 1;
    x.date = 30000101;
    REJECT(&t, "date");
}

static void test_team(void **state)
{
    (void)state;
    tu_rec_t t;
    char id[WM_ID_MAX + 2];
    tu_rec_init(&t, STATION, 1, 1, NULL);
    tu_rec_team(&t, "legal-branch", WM__TEAM_ACTION__CREATE, "普法志愿服务分队");
    OK(&t);
    t.b.team.team = "";
    REJECT(&t, "team");
    t.b.team.team = NULL;
    REJECT(&t, "team");
    t.b.team.team = "Legal";
    REJECT(&t, "team");
    memset(id, 'a', WM_ID_MAX);
    id[WM_ID_MAX] = 0;
    t.b.team.team = id;
    OK(&t);
    id[WM_ID_MAX] = 'a';
    id[WM_ID_MAX + 1] = 0;
    REJECT(&t, "team");
    t.b.team.team = "legal-branch";

    /* Unspecified action means "create or rename, whichever applies":
     * the daemon settles it against the log; a name is still required. */
    t.b.team.action = 0;
    OK(&t);
    t.b.team.name = "";
    REJECT(&t, "name");
    t.b.team.name = "普法志愿服务分队";
    t.b.team.kind = 3;
    REJECT(&t, "kind");
    t.b.team.kind = WM__TEAM_KIND__BRANCH;
    t.b.team.action = 4;
    REJECT(&t, "action");
    t.b.team.action = WM__TEAM_ACTION__CREATE;
    t.b.team.kind = 0;
    REJECT(&t, "kind"); /* create needs a kind */
    t.b.team.kind = 3;
    REJECT(&t, "kind");
    t.b.team.kind = WM__TEAM_KIND__GENERAL;
    OK(&t);
    t.b.team.name = "";
    REJECT(&t, "name");
    t.b.team.action = WM__TEAM_ACTION__RENAME;
    REJECT(&t, "name");
    t.b.team.kind = 0;
    t.b.team.name = "新名字";
    OK(&t); /* rename needs no kind */
    t.b.team.kind = 3;
    REJECT(&t, "kind"); /* but a kind given must be a known one */
    t.b.team.kind = 0;
    t.b.team.action = WM__TEAM_ACTION__DISBAND;
    t.b.team.name = "";
    OK(&t); /* disband needs no name */
    t.b.team.trade = "\xc3";
    REJECT(&t, "trade");
    t.b.team.trade = "教师";
    OK(&t);
}

static void test_funding_site_plan(void **state)
{
    (void)state;
    tu_rec_t t;
    Wm__Funding f = WM__FUNDING__INIT;
    tu_rec_init(&t, STATION, 1, 1, NULL);
    t.r.body_case = WM__RECORD__BODY_FUNDING;
    t.r.funding = &f;
    f.date = 20240310;
    f.fen = 5000000; /* 50,000 yuan */
    f.source = "县配套资金";
    OK(&t);
    f.fen = (uint64_t)WM_COUNT_MAX * 100 * 100;
    OK(&t);
    f.fen++;
    REJECT(&t, "yuan");
    f.fen = 1;
    f.source = "";
    REJECT(&t, "source");
    f.source = "\x7f";
    REJECT(&t, "source");
    f.source = "镇";
    f.date = 20240318;
    REJECT(&t, "date");

    Wm__SiteChecklist c = WM__SITE_CHECKLIST__INIT;
    tu_rec_init(&t, STATION, 1, 1, NULL);
    t.r.body_case = WM__RECORD__BODY_SITE;
    t.r.site = &c;
    c.date = TODAY;
    OK(&t);
    c.date = 20240231;
    REJECT(&t, "date");

    tu_rec_init(&t, STATION, 1, 1, NULL);
    tu_rec_plan(&t, "五月底前组织外出参观学习", 20240531);
    OK(&t); /* a due date may be in the future */
    t.b.plan.due = WM_DATE_MAX;
    OK(&t);
    t.b.plan.due = 21010101;
    REJECT(&t, "due");
    t.b.plan.due = 20240532;
    REJECT(&t, "due");
    t.b.plan.due = 19990101;
    REJECT(&t, "due");
    t.b.plan.due = 20240531;
    t.b.plan.title = "";
    REJECT(&t, "title");

    tu_rec_init(&t, STATION, 1, 1, NULL);
    tu_rec_plan_done(&t, 1, 4, TODAY);
    OK(&t);
    t.b.plan_done.plan_epoch = 0; /* the record's own epoch */
    OK(&t);
    t.b.plan_done.plan_seq = 0;
    REJECT(&t, "plan");
    t.b.plan_done.plan_seq = 4;
    t.b.plan_done.date = 20240320;
    REJECT(&t, "date");
}

static void test_void(void **state)
{
    (void)state;
    tu_rec_t t;
    tu_rec_init(&t, STATION, 1, 5, NULL);
    tu_rec_void(&t, 1, 2, "重复录入");
    OK(&t);
    t.b.void_.target_seq = 0;
    REJECT(&t, "seq");
    t.b.void_.target_seq = 2;
    t.b.void_.reason = "";
    REJECT(&t, "reason");
    t.b.void_.reason = NULL;
    REJECT(&t, "reason");
    t.b.void_.reason = "\xf4\x90\x80\x80"; /* above U+10FFFF */
    REJECT(&t, "reason");
}

static void test_no_body(void **state)
{
    (void)state;
    tu_rec_t t;
    tu_rec_init(&t, STATION, 1, 1, NULL);
    REJECT(&t, "kind");
}

static void test_utf8(void **state)
{
    (void)state;
    static const struct {
        const char *s;
        int ok;
    } cases[] = {
        {"", 1},
        {"plain ascii", 1},
        {"主题宣讲：学习二十大精神", 1},
        {"\xc2\x80", 1},              /* U+0080, smallest 2-byte */
        {"\xdf\xbf", 1},              /* U+07FF */
        {"\xe0\xa0\x80", 1},          /* U+0800 */
        {"\xef\xbf\xbf", 1},          /* U+FFFF */
        {"\xf0\x90\x80\x80", 1},      /* U+10000 */
        {"\xf4\x8f\xbf\xbf", 1},      /* U+10FFFF */
        {"\xc1\xbf", 0},              /* overlong */
        {"\xe0\x9f\xbf", 0},          /* overlong 3-byte */
        {"\xf0\x8f\xbf\xbf", 0},      /* overlong 4-byte */
        {"\xed\xbf\xbf", 0},          /* surrogate */
        {"\xf4\x90\x80\x80", 0},      /* > U+10FFFF */
        {"\xf8\x88\x80\x80\x80", 0},  /* 5-byte form */
        {"\x80", 0},                  /* lone continuation */
        {"\xe4\xb8", 0},              /* truncated */
        {"\xe4\x28\xad", 0},          /* bad continuation */
        {"\x1b[31m", 0},              /* escape */
        {"a\rb", 0},
        {"\x7f", 0},
        {"a\tb", 1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        if ((wm_utf8_valid(cases[i].s, strlen(cases[i].s)) != 0) != cases[i].ok)
            fail_msg("case %zu: expected %s", i, cases[i].ok ? "valid" : "invalid");
    /* Embedded NUL. */
    assert_false(wm_utf8_valid("a\0b", 3));
    /* Length is honoured: a valid prefix of an invalid string. */
    assert_true(wm_utf8_valid("ab\xff", 2));
}

static void test_ids(void **state)
{
    (void)state;
    char id[WM_ID_MAX + 2];
    assert_int_equal(wm_validate_id("xinhe"), WM_OK);
    assert_int_equal(wm_validate_id("xx-county/longhua/xinhe"), WM_OK);
    assert_int_equal(wm_validate_id("a_b-c/0/9"), WM_OK);
    assert_int_equal(wm_validate_id(""), WM_EINVAL);
    assert_int_equal(wm_validate_id(NULL), WM_EINVAL);
    assert_int_equal(wm_validate_id("/a"), WM_EINVAL);
    assert_int_equal(wm_validate_id("a/"), WM_EINVAL);
    assert_int_equal(wm_validate_id("/"), WM_EINVAL);
    assert_int_equal(wm_validate_id("a//b"), WM_EINVAL);
    assert_int_equal(wm_validate_id("A"), WM_EINVAL);
    assert_int_equal(wm_validate_id("a.b"), WM_EINVAL);
    assert_int_equal(wm_validate_id("a b"), WM_EINVAL);
    assert_int_equal(wm_validate_id("新河"), WM_EINVAL);
    assert_int_equal(wm_validate_id("a\\b"), WM_EINVAL);
    memset(id, 'x', WM_ID_MAX);
    id[WM_ID_MAX] = 0;
    assert_int_equal(wm_validate_id(id), WM_OK);
    id[WM_ID_MAX] = 'x';
    id[WM_ID_MAX + 1] = 0;
    assert_int_equal(wm_validate_id(id), WM_EINVAL);
}

static void test_reject_format(void **state)
{
    (void)state;
    wm_reject_t rej;
    char longfield[64];
    memset(longfield, 'f', sizeof longfield - 1);
    longfield[63] = 0;
    assert_int_equal(wm_reject(&rej, "date", "%s is %d", "x", 5), WM_EINVAL);
    assert_string_equal(rej.field, "date");
    assert_string_equal(rej.why, "x is 5");
    /* Over-long inputs are truncated, still terminated. */
    assert_int_equal(wm_reject(&rej, longfield, "%s", "y"), WM_EINVAL);
    assert_int_equal(strlen(rej.field), sizeof rej.field - 1);
    assert_int_equal(wm_reject(NULL, "date", "z"), WM_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_activity_dates),
        cmocka_unit_test(test_activity_category),
        cmocka_unit_test(test_activity_text),
        cmocka_unit_test(test_activity_team_counts_tags),
        cmocka_unit_test(test_publicity_volunteers_recruitment),
        cmocka_unit_test(test_team),
        cmocka_unit_test(test_funding_site_plan),
        cmocka_unit_test(test_void),
        cmocka_unit_test(test_no_body),
        cmocka_unit_test(test_utf8),
        cmocka_unit_test(test_ids),
        cmocka_unit_test(test_reject_format),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
