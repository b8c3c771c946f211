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
wm_err_t wm_date_parse(const char *s, uint32_t *out);
/* Nonzero if ymd is a real calendar day. */
int wm_date_valid(uint32_t ymd);
/* "YYYY-MM-DD" into buf (11 bytes); returns buf. */
char *wm_date_format(uint32_t ymd, char buf[static 11]);
/* Days since 1970-01-01 of a valid ymd, and back. */
int32_t wm_date_to_days(uint32_t ymd);
uint32_t wm_date_from_days(int32_t days);
/* Today in the machine's local time zone. */
uint32_t wm_date_today(void);

#endif
