/* SPDX-License-Identifier: MIT */
/*
 * wm_validate — the content rules every record body must meet before a
 * station signs it: dates in range, known categories, kinds and channels,
 * sane counts, valid UTF-8 text, well-formed ids. Context rules (does the
 * team exist, is the void target already voided) need the log and live in
 * the daemon. No I/O; thread-safe.
 */
#ifndef WM_VALIDATE_H
#define WM_VALIDATE_H

#include <stddef.h>
#include <stdint.h>

#include "wm_err.h"
#include "wm_record.h"

#define WM_TEXT_MAX 256        /* bytes in a title, name, place, reason … */
#define WM_ID_MAX 128          /* bytes in a station or team id */
#define WM_COUNT_MAX 10000000u /* largest count in one record */
#define WM_FUTURE_DAYS 1       /* how far past today a dated record may be */

/* Why a record was refused: the field at fault and a sentence for people. */
typedef struct {
    char field[32];
    char why[200];
} wm_reject_t;

/* Checks the body of r against the content rules, with `today` (YYYYMMDD)
 * as the upper bound of past-event dates. WM_OK, or WM_EINVAL with *rej
 * filled in. The header is not checked (the daemon writes it). */
wm_err_t wm_validate_body(const wm_record_t *r, uint32_t today, wm_reject_t *rej);

/* Nonzero if s[0..len) is well-formed UTF-8 with no NUL and no C0 control
 * characters other than tab. */
int wm_utf8_valid(const char *s, size_t len);

/* WM_OK if id is a lowercase slug path: segments of [a-z0-9_-], joined by
 * single '/', 1..WM_ID_MAX bytes, no leading, trailing or double slash. */
wm_err_t wm_validate_id(const char *id);

/* Formats a rejection. Returns WM_EINVAL, for `return wm_reject(...)`. */
wm_err_t wm_reject(wm_reject_t *rej, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
