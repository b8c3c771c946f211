/* SPDX-License-Identifier: MIT */
/*
 * test_date — proto/wm_date.c: the strict YYYY-MM-DD parser, leap years,
 * formatting, and day numbers checked against the C library's timegm()
 * over two and a half centuries (an independent implementation).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "wm_date.h"

static void test_parse_strict(void **state)
{
    (void)state;
    uint32_t d = 0;
    assert_int_equal(wm_date_parse("2024-03-15", &d), WM_OK);
    assert_int_equal(d, 20240315);
    assert_int_equal(wm_date_parse("2000-01-01", &d), WM_OK);
    assert_int_equal(d, 20000101);
    assert_int_equal(wm_date_parse("9999-12-31", &d), WM_OK);
    assert_int_equal(d, 99991231);

    static const char *bad[] = {
        "", "2024", "2024-03", "2024-03-1", "2024-3-15", "24-03-15", "2024-03-15 ",
        " 2024-03-15", "2024-03-150", "2024/03/15", "20240315", "2024-03-1x", "2024-0a-15",
        "2024-13-01", "2024-00-10", "2024-01-00", "2024-01-32", "2024-04-31", "2024-06-31",
        "2024-09-31", "2024-11-31", "0000-01-01", "+024-03-15", "2024--3-15", "2024-03-15\n",
        "２０２４-03-15",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        d = 7;
        if (wm_date_parse(bad[i], &d) != WM_EINVAL)
            fail_msg("accepted \"%s\"", bad[i]);
        assert_int_equal(d, 7); /* untouched on failure */
    }
}

static void test_leap_years(void **state)
{
    (void)state;
    uint32_t d;
    assert_int_equal(wm_date_parse("2024-02-29", &d), WM_OK);
    assert_int_equal(wm_date_parse("2000-02-29", &d), WM_OK); /* divisible by 400 */
    assert_int_equal(wm_date_parse("2400-02-29", &d), WM_OK);
    assert_int_equal(wm_date_parse("2023-02-29", &d), WM_EINVAL);
    assert_int_equal(wm_date_parse("1900-02-29", &d), WM_EINVAL); /* by 100, not 400 */
    assert_int_equal(wm_date_parse("2100-02-29", &d), WM_EINVAL);
    assert_int_equal(wm_date_parse("2024-02-30", &d), WM_EINVAL);
    assert_true(wm_date_valid(20240229));
    assert_false(wm_date_valid(20230229));
    assert_false(wm_date_valid(0));
    assert_false(wm_date_valid(20241301));
    assert_false(wm_date_valid(4294967295u));
    assert_true(wm_date_valid(20231231));
    /* Days in the year from day numbers. */
    assert_int_equal(wm_date_to_days(20250101) - wm_date_to_days(20240101), 366);
    assert_int_equal(wm_date_to_days(20240101) - wm_date_to_days(20230101), 365);
    assert_int_equal(wm_date_to_days(19010101) - wm_date_to_days(19000101), 365);
    assert_int_equal(wm_date_to_days(20010101) - wm_date_to_days(20000101), 366);
}

static void test_known_days(void **state)
{
    (void)state;
    assert_int_equal(wm_date_to_days(19700101), 0);
    assert_int_equal(wm_date_to_days(19691231), -1);
    assert_int_equal(wm_date_to_days(20000229), 11016);
    assert_int_equal(wm_date_to_days(20240315), 19797);
    assert_int_equal(wm_date_to_days(19000301), -25508);
    assert_int_equal(wm_date_from_days(0), 19700101);
    assert_int_equal(wm_date_from_days(19797), 20240315);
    assert_int_equal(wm_date_from_days(-1), 19691231);
}

static void test_days_vs_timegm(void **state)
{
    (void)state;
    /* Every day from 1900-01-01 to 2150-12-31. */
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    tm.tm_year = 0;
    tm.tm_mday = 1;
    tm.tm_hour = 12;
    time_t t0 = timegm(&tm);
    int32_t first = (int32_t)((t0 - 12 * 3600) / 86400);
    uint32_t prev = 0;
    int32_t n = 0;
    for (int32_t days = first;; days++, n++) {
        time_t t = (time_t)days * 86400 + 12 * 3600;
        struct tm g;
        assert_non_null(gmtime_r(&t, &g));
        uint32_t ymd = (uint32_t)((g.tm_year + 1900) * 10000 + (g.tm_mon + 1) * 100 + g.tm_mday);
        if (ymd > 21501231)
            break;
        assert_true(wm_date_valid(ymd));
        assert_int_equal(wm_date_to_days(ymd), days);
        assert_int_equal(wm_date_from_days(days), ymd);
        assert_true(ymd > prev);
        char buf[11], want[11];
        uint32_t back = 0;
        strftime(want, sizeof want, "%Y-%m-%d", &g);
        assert_string_equal(wm_date_format(ymd, buf), want);
        assert_int_equal(wm_date_parse(buf, &back), WM_OK);
        assert_int_equal(back, ymd);
        prev = ymd;
    }
    assert_int_equal(n, 91676); /* 251 years, 61 of them leap */
}

static void test_invalid_days_rejected(void **state)
{
    (void)state;
    /* Every yyyymmdd in a leap and a common year: exactly 366 + 365 valid. */
    int valid = 0;
    for (uint32_t y = 2023; y <= 2024; y++)
        for (uint32_t m = 0; m <= 13; m++)
            for (uint32_t d = 0; d <= 32; d++)
                valid += wm_date_valid(y * 10000 + m * 100 + d) != 0;
    assert_int_equal(valid, 731);
}

static void test_today(void **state)
{
    (void)state;
    uint32_t t = wm_date_today();
    assert_true(wm_date_valid(t));
    assert_true(t >= 20240101 && t <= WM_DATE_MAX);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_strict),
        cmocka_unit_test(test_leap_years),
        cmocka_unit_test(test_known_days),
        cmocka_unit_test(test_days_vs_timegm),
        cmocka_unit_test(test_invalid_days_rejected),
        cmocka_unit_test(test_today),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
