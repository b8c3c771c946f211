/* SPDX-License-Identifier: MIT */
/*
 * wm_log — the daemon's log lines on stderr. Under systemd (JOURNAL_STREAM
 * set) each line starts with a syslog priority prefix ("<6>") that
 * journald turns into the entry's priority; elsewhere it starts with an
 * ISO 8601 time and the level. One line per event, no trailing period.
 * The level is the only mutable global; set it before the poll loop.
 */
#ifndef WM_LOG_H
#define WM_LOG_H

typedef enum { WM_LOG_ERROR = 3, WM_LOG_WARN = 4, WM_LOG_INFO = 6, WM_LOG_DEBUG = 7 } wm_log_level_t;

/* Parses "error", "warn", "info", "debug"; info for anything else. */
wm_log_level_t wm_log_parse(const char *s);
void wm_log_set_level(wm_log_level_t level);
void wm_log(wm_log_level_t level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define wm_error(...) wm_log(WM_LOG_ERROR, __VA_ARGS__)
#define wm_warn(...) wm_log(WM_LOG_WARN, __VA_ARGS__)
#define wm_info(...) wm_log(WM_LOG_INFO, __VA_ARGS__)
#define wm_debug(...) wm_log(WM_LOG_DEBUG, __VA_ARGS__)

#endif
