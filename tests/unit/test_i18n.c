/* SPDX-License-Identifier: MIT */
/*
 * test_i18n — wm_i18n: dates and counts as the reader writes them, the
 * per-thread language (wmsyncd answers each client in its own), and the
 * content rules' messages in Chinese with those dates and counts. Uses the
 * build tree's catalogue (WMSYNC_LOCALEDIR, set by CMake) and skips (77)
 * where the zh_CN.UTF-8 locale is not installed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "wm_i18n.h"
#include "wm_validate.h"

#define ZH "zh_CN.UTF-8"

static void test_english(void **state)
{
    char b[32];
    (void)state;
    assert_int_equal(wm_i18n_use(NULL), 0);
    assert_string_equal(wm_i18n_date(20240503, b), "2024-05-03");
    assert_string_equal(wm_i18n_count(10000000, b), "10000000");
    assert_string_equal(wm_i18n_count(12345, b), "12345");
}

static void test_chinese(void **state)
{
    char b[32];
    (void)state;
    assert_int_equal(wm_i18n_use(ZH), 0);
    assert_string_equal(wm_i18n_date(20240503, b), "2024年5月3日");
    assert_string_equal(wm_i18n_date(20001231, b), "2000年12月31日");
    assert_string_equal(wm_i18n_count(10000000, b), "1000万");
    assert_string_equal(wm_i18n_count(200000000, b), "2亿");
    assert_string_equal(wm_i18n_count(12345, b), "12345"); /* not a whole 万: digits */
    assert_string_equal(wm_i18n_count(0, b), "0");
    assert_int_equal(wm_i18n_use(NULL), 0);
    assert_string_equal(wm_i18n_count(10000000, b), "10000000");
}

/* A record over the count limit and one before WM_DATE_MIN: the reasons
 * in Chinese with 1000万 and 2000年1月1日, in English with digits. */
static void test_rules_words(void **state)
{
    Wm__Record r = WM__RECORD__INIT;
    Wm__Activity a = WM__ACTIVITY__INIT;
    wm_reject_t rej;
    (void)state;
    r.body_case = WM__RECORD__BODY_ACTIVITY;
    r.activity = &a;
    a.date = 20240301;
    a.category = WM__CATEGORY__THEME_LECTURE;
    a.title = "宣讲";
    a.participants = 10000001;
    assert_int_equal(wm_i18n_use(ZH), 0);
    assert_int_equal(wm_validate_body(&r, 20240310, &rej), WM_EINVAL);
    assert_string_equal(rej.field, "participants");
    assert_non_null(strstr(rej.why, "最多允许1000万"));
    a.participants = 1;
    a.date = 19991231;
    assert_int_equal(wm_validate_body(&r, 20240310, &rej), WM_EINVAL);
    assert_non_null(strstr(rej.why, "2000年1月1日至2024年3月11日"));
    assert_int_equal(wm_i18n_use(NULL), 0);
    assert_int_equal(wm_validate_body(&r, 20240310, &rej), WM_EINVAL);
    assert_non_null(strstr(rej.why, "between 2000-01-01 and 2024-03-11"));
    a.date = 20240301;
    a.participants = 10000001;
    assert_int_equal(wm_validate_body(&r, 20240310, &rej), WM_EINVAL);
    assert_non_null(strstr(rej.why, "at most 10000000 allowed"));
}

/* Names that could reach newlocale as a path, or are too long, are
 * refused; the thread is then in the C locale. */
static void test_lang_names(void **state)
{
    char b[32];
    (void)state;
    assert_int_equal(wm_i18n_use("../../tmp/x"), -1);
    assert_int_equal(wm_i18n_use("zh_CN/UTF-8"), -1);
    assert_int_equal(wm_i18n_use("xx_NOWHERE.UTF-8"), -1);
    char longname[WM_LANG_MAX + 2];
    memset(longname, 'a', sizeof longname - 1);
    longname[sizeof longname - 1] = 0;
    assert_int_equal(wm_i18n_use(longname), -1);
    assert_string_equal(wm_i18n_date(20240503, b), "2024-05-03");
    assert_int_equal(wm_i18n_use("C"), 0);
}

int main(void)
{
    locale_t zh = newlocale(LC_MESSAGES_MASK, ZH, (locale_t)0);
    if (zh == (locale_t)0) {
        printf("SKIP: the %s locale is not installed (packaging/deps.sh makes it)\n", ZH);
        return 77;
    }
    freelocale(zh);
    setenv(WM_LOCALEDIR_ENV, WM_TEST_LOCALEDIR, 0); /* ctest sets it too */
    wm_i18n_init(WM_TEXTDOMAIN, 0);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_english),
        cmocka_unit_test(test_chinese),
        cmocka_unit_test(test_rules_words),
        cmocka_unit_test(test_lang_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
