/* SPDX-License-Identifier: MIT */
/*
 * wm_rollupq — the rollup of a period as `wmctl rollup` and wmweb's
 * GET /api/v1/rollup ask for it: the JSON object of storage/wm_report.h,
 * built from the node's LMDB environment (read-only) with the report
 * settings of its configuration (wm_report_build_any: one code path for
 * every level).
 * Thread-safe (its own read transaction).
 */
#ifndef WM_ROLLUPQ_H
#define WM_ROLLUPQ_H

#include <jansson.h>

#include "wm_config.h"
#include "wm_err.h"
#include "wm_store.h"

/* The rollup of period (its name, wm_period_parse's forms) for station
 * (NULL: the whole node) into *out (a new reference), from store s.
 * WM_EINVAL if period is not a period; WM_ENOTFOUND with why "" if there
 * is no such station; another error with why saying what failed. */
WM_MUST_CHECK wm_err_t wm_rollupq(const wm_config_t *cfg, wm_store_t *s, const char *period,
                                  const char *station, json_t **out, char *why, size_t cap);

#endif
