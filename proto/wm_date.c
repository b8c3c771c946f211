/* SPDX-License-Identifier: MIT */
/* wm_date — civil-date arithmetic (Howard Hinnant's days_from_civil). */
#include "wm_date.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

static int is_leap(unsigned y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static unsigned days_in_month(unsigned y, unsigned m)
{
    static const unsigned char dm[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && is_leap(y) ? 29 : dm[m - 1];
}

int wm_date_valid(uint32_t ymd)
{
    unsigned y = ymd / 10000, m = ymd / 100 % 100, d = ymd % 100;
    return y >= 1 && y <= 9999 && m >= 1 && m <= 12 && d >= 1 && d <= days_in_month(y, m);
}

wm_err_t wm_date_parse(const char *s, uint32_t *out)
{
    uint32_t v = 0;
    for (int i = 0; i < 10; i++) {
        char c = s[i];
        if (i == 4 || i == 7) {
            if (c != '-')
                return WM_EINVAL;
            continue;
        }
        if (c < '0' || c > '9')
            return WM_EINVAL;
        v = v * 10 + (uint32_t)(c - '0');
    }
    if (s[10] != 0 || !wm_date_valid(v))
        return WM_EINVAL;
    *out = v;
    return WM_OK;
}

char *wm_date_format(uint32_t ymd, char buf[static 11])
{
    snprintf(buf, 11, "%04u-%02u-%02u", (unsigned)(ymd / 10000) % 10000,
             (unsigned)(ymd / 100 % 100), (unsigned)(ymd % 100));
    return buf;
}

int32_t wm_date_to_days(uint32_t ymd)
{
    int y = (int)(ymd / 10000), m = (int)(ymd / 100 % 100), d = (int)(ymd % 100);
    y -= m <= 2;
    int era = (y >= 0 ? y : y - 399) / 400;
    int yoe = y - era * 400;
    int doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

uint32_t wm_date_from_days(int32_t z)
{
    z += 719468;
    int era = (z >= 0 ? z : z - 146096) / 146097;
    int doe = z - era * 146097;
    int yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int y = yoe + era * 400;
    int doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int mp = (5 * doy + 2) / 153;
    int d = doy - (153 * mp + 2) / 5 + 1;
    int m = mp + (mp < 10 ? 3 : -9);
    y += m <= 2;
    return (uint32_t)(y * 10000 + m * 100 + d);
}

uint32_t wm_date_today(void)
{
    time_t now = time(NULL);
    struct tm tm;
    localtime_r(&now, &tm);
    return (uint32_t)((tm.tm_year + 1900) * 10000 + (tm.tm_mon + 1) * 100 + tm.tm_mday);
}

uint32_t wm_date_today_checked(void)
{
    return time(NULL) < WM_CLOCK_FLOOR ? WM_DATE_MAX : wm_date_today();
}

/* 0 = Monday … 6 = Sunday. */
static int weekday(uint32_t ymd)
{
    int32_t d = wm_date_to_days(ymd); /* 1970-01-01 was a Thursday */
    return (int)(((d % 7) + 7 + 3) % 7);
}

uint32_t wm_date_iso_monday(int iso_year, int week)
{
    uint32_t jan4 = (uint32_t)iso_year * 10000 + 104;
    int32_t monday1 = wm_date_to_days(jan4) - weekday(jan4);
    return wm_date_from_days(monday1 + (week - 1) * 7);
}

void wm_date_iso_week(uint32_t ymd, int *iso_year, int *week)
{
    int y = (int)(ymd / 10000);
    int32_t d = wm_date_to_days(ymd);
    /* The ISO year is the year of this week's Thursday. */
    uint32_t thursday = wm_date_from_days(d - weekday(ymd) + 3);
    y = (int)(thursday / 10000);
    *iso_year = y;
    *week = (int)((d - wm_date_to_days(wm_date_iso_monday(y, 1))) / 7) + 1;
}

static int weeks_in_iso_year(int y)
{
    int iy, w;
    wm_date_iso_week((uint32_t)y * 10000 + 1228, &iy, &w); /* Dec 28 is always in the last week */
    return w;
}

/* Parses exactly n digits at s into *v. */
static int digits(const char *s, int n, int *v)
{
    *v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return 0;
        *v = *v * 10 + (s[i] - '0');
    }
    return 1;
}

static uint32_t last_of_month(int y, int m)
{
    return (uint32_t)(y * 10000 + m * 100) + days_in_month((unsigned)y, (unsigned)m);
}

wm_err_t wm_period_parse(const char *s, wm_period_t *out)
{
    int y = 0, n = 0;
    size_t len = strlen(s);
    memset(out, 0, sizeof *out);
    if (len >= sizeof out->name)
        return WM_EINVAL;
    const char *dots = strstr(s, "..");
    if (dots) {
        char a[16] = {0}, b[16] = {0};
        if ((size_t)(dots - s) >= sizeof a || strlen(dots + 2) >= sizeof b)
            return WM_EINVAL;
        memcpy(a, s, (size_t)(dots - s));
        strcpy(b, dots + 2);
        if (wm_date_parse(a, &out->from) != WM_OK || wm_date_parse(b, &out->to) != WM_OK ||
            out->from > out->to)
            return WM_EINVAL;
    } else if (len == 10 && wm_date_parse(s, &out->from) == WM_OK) {
        out->to = out->from;
    } else if (!digits(s, 4, &y)) {
        return WM_EINVAL;
    } else if (len == 4) {
        out->from = (uint32_t)y * 10000 + 101;
        out->to = (uint32_t)y * 10000 + 1231;
    } else if (s[4] != '-') {
        return WM_EINVAL;
    } else if (len == 7 && s[5] == 'H' && digits(s + 6, 1, &n) && n >= 1 && n <= 2) {
        out->from = (uint32_t)y * 10000 + (n == 1 ? 101 : 701);
        out->to = (uint32_t)y * 10000 + (n == 1 ? 630 : 1231);
    } else if (len == 7 && s[5] == 'Q' && digits(s + 6, 1, &n) && n >= 1 && n <= 4) {
        out->from = (uint32_t)(y * 10000 + (3 * n - 2) * 100 + 1);
        out->to = last_of_month(y, 3 * n);
    } else if (len == 7 && digits(s + 5, 2, &n) && n >= 1 && n <= 12) {
        out->from = (uint32_t)(y * 10000 + n * 100 + 1);
        out->to = last_of_month(y, n);
    } else if (len == 8 && s[5] == 'W' && digits(s + 6, 2, &n) && n >= 1 &&
               n <= weeks_in_iso_year(y)) {
        out->from = wm_date_iso_monday(y, n);
        out->to = wm_date_from_days(wm_date_to_days(out->from) + 6);
    } else if (len == 9 && s[5] == 'B' && s[6] == 'W' && digits(s + 7, 2, &n) && n >= 1 &&
               2 * n - 1 <= weeks_in_iso_year(y)) {
        out->from = wm_date_iso_monday(y, 2 * n - 1);
        int last_week = 2 * n <= weeks_in_iso_year(y) ? 2 * n : 2 * n - 1;
        out->to = wm_date_from_days(wm_date_to_days(wm_date_iso_monday(y, last_week)) + 6);
    } else {
        return WM_EINVAL;
    }
    if (out->from < WM_DATE_MIN || out->to > WM_DATE_MAX)
        return WM_EINVAL;
    memcpy(out->name, s, len + 1);
    return WM_OK;
}
