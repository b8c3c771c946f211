/* SPDX-License-Identifier: MIT */
/*
 * wm_date — calendar days as YYYYMMDD integers (20240315): parse, check,
 * format, convert to day numbers. Proleptic Gregorian. Thread-safe.
 */
#ifndef WM_DATE_H
#define WM_DATE_H

#include <stdint.h>

#include "wm_err.h"

#define WM_DATE_MIN 20000101u /* earliest date any record may carry */
#define WM_DATE_MAX 21001231u /* latest (plan due dates) */

/* Parses exactly "YYYY-MM-DD" of a real calendar day into *out.
 * WM_EINVAL otherwise. Range is not checked here. */
WM_MUST_CHECK wm_err_t wm_date_parse(const char *s, uint32_t *out);
/* Nonzero if ymd is a real calendar day. */
int wm_date_valid(uint32_t ymd);
/* "YYYY-MM-DD" into buf (11 bytes); returns buf. */
char *wm_date_format(uint32_t ymd, char buf[static 11]);
/* Days since 1970-01-01 of a valid ymd, and back. */
int32_t wm_date_to_days(uint32_t ymd);
uint32_t wm_date_from_days(int32_t days);
/* Today in the machine's local time zone. */
uint32_t wm_date_today(void);

/* No wall clock before 2020-01-01 00:00 UTC is plausible: a PC that says
 * so lost its time (a dead clock battery starts in 1970 or 2009). */
#define WM_CLOCK_FLOOR 1577836800
/* The day a station judges "after tomorrow" by when it records: today by
 * the wall clock, or WM_DATE_MAX when that clock reads before
 * WM_CLOCK_FLOOR (a lost clock cannot tell what lies in the future, and
 * the station must go on recording). */
uint32_t wm_date_today_checked(void);

/* A reporting period: a closed range of days, with its canonical name. */
typedef struct {
    uint32_t from, to; /* YYYYMMDD, inclusive */
    char name[32];     /* as given, canonical: "2024-05", "2024-W19", … */
} wm_period_t;

/* Parses a period: "2024" (year), "2024-H1" (half), "2024-Q2" (quarter),
 * "2024-05" (month), "2024-W19" (ISO week), "2024-BW10" (bi-week: ISO weeks
 * 19 and 20), "2024-05-07" (day) or "2024-03-01..2024-05-31" (range).
 * WM_EINVAL if malformed or out of WM_DATE_MIN..WM_DATE_MAX. */
WM_MUST_CHECK wm_err_t wm_period_parse(const char *s, wm_period_t *out);
/* ISO 8601 week of a date: *iso_year and week 1..53. */
void wm_date_iso_week(uint32_t ymd, int *iso_year, int *week);
/* Monday of ISO week `week` of iso_year, as YYYYMMDD. */
uint32_t wm_date_iso_monday(int iso_year, int week);

#endif
