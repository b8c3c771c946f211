/* SPDX-License-Identifier: MIT */
/*
 * wm_evidcheck — the evidence checks of a period's problems (issue 12
 * item 5): what a county inspector looks for in activity photos, found in
 * the signed attachments of the stations' activities (record.proto
 * Attachment), never in the files themselves, so an aggregator finds them
 * before (or without) receiving a photo's bytes.
 *
 * Unlike the figures, these come from the logs, not the rollup counters:
 * a photo's hash, dHash and capture time are not sums. Each activity
 * record of the stations is read once (a town of 40 stations holds some
 * 10^4 of them: milliseconds); voided activities do not count.
 *
 * The problems (docs/rollup-json.md), for activities dated in the period:
 *   activity_without_photo  {station, count, from}: activities without a
 *                           photo dated on or after `from`, the date
 *                           photos are required from: [blobs]
 *                           photos_required_from if set, else the date of the
 *                           station's first (not voided) activity with a
 *                           photo, whenever it was recorded — so the history
 *                           of a station from before it had photos is never
 *                           flagged, and a station that never sent one has
 *                           no such finding; derived from the signed records
 *                           alone, the same at any node holding the log
 *   photo_undated           {station, count}: photos without a capture date
 *                           (a finding of its own, never a mismatch)
 *   photo_date_mismatch     {station, epoch, seq, date, taken, days_off, hash}: a photo
 *                           taken more than tol_days from its activity's date
 *                           (dates in China Standard Time)
 *   photo_reused            {station, hash, activities, across}: one file on
 *                           more than one activity (the others may be of any
 *                           date up to the period's end, and of any station);
 *                           station and activities[0]: its earliest use
 *   photo_near_duplicate    {station, hash, other, distance, activities,
 *                           across}: two files whose dHashes differ in at
 *                           most WM_EVID_NEAR bits, on different activities
 * `activities` lists {station, epoch, seq, date}; `across` is true when
 * they are of more than one station. Sign-in sheets are not photos: they
 * count in none of these.
 *
 * Thread-safety: as the transaction.
 */
#ifndef WM_EVIDCHECK_H
#define WM_EVIDCHECK_H

#include <jansson.h>
#include <stdint.h>

#include "wm_date.h"
#include "wm_store.h"

#define WM_EVID_NEAR 6 /* most differing dHash bits of near-identical photos */
#define WM_EVID_CST_S (8 * 3600) /* a capture time's day is its day in China */

typedef struct {
    uint32_t node; /* the station's log (0: nothing stored: skipped) */
    const char *id;
} wm_evid_station_t;

/* Appends to problems the findings above over stations v[0..n) for period
 * p, with tol_days the capture-date tolerance ([blobs]
 * date_tolerance_days) and photos_from the date photos are required from
 * (YYYYMMDD, [blobs] photos_required_from; 0: each station's first). WM_OK, or the error of a read that failed (the
 * caller reports none: a report is complete or there is none); *bad_id
 * then names the station whose log could not be read. */
WM_MUST_CHECK wm_err_t wm_evid_problems(wm_txn_t *t, const wm_evid_station_t *v, size_t n,
                                        const wm_period_t *p, unsigned tol_days,
                                        uint32_t photos_from, json_t *problems,
                                        const char **bad_id);

#endif
