/* SPDX-License-Identifier: MIT */
/* wm_date — civil-date arithmetic (Howard Hinnant's days_from_civil). */
#include "wm_date.h"

#include <stdio.h>
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
