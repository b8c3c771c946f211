/* SPDX-License-Identifier: MIT */
/* wm_log — log lines for journald or a terminal; see wm_log.h. */
#include "wm_log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static wm_log_level_t log_level = WM_LOG_INFO;

wm_log_level_t wm_log_parse(const char *s)
{
    if (strcmp(s, "error") == 0)
        return WM_LOG_ERROR;
    if (strcmp(s, "warn") == 0)
        return WM_LOG_WARN;
    if (strcmp(s, "debug") == 0)
        return WM_LOG_DEBUG;
    return WM_LOG_INFO;
}

void wm_log_set_level(wm_log_level_t level)
{
    log_level = level;
}

void wm_log(wm_log_level_t level, const char *fmt, ...)
{
    if (level > log_level)
        return;
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    const char *name = level == WM_LOG_ERROR  ? "error"
                       : level == WM_LOG_WARN ? "warning"
                       : level == WM_LOG_INFO ? "info"
                                              : "debug";
    if (getenv("JOURNAL_STREAM")) {
        fprintf(stderr, "<%d>%s\n", (int)level, line);
    } else {
        char ts[32];
        time_t now = time(NULL);
        struct tm tm;
        localtime_r(&now, &tm);
        strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%S%z", &tm);
        fprintf(stderr, "%s %s: %s\n", ts, name, line);
    }
}
