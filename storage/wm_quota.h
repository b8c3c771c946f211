/* SPDX-License-Identifier: MIT */
/*
 * wm_quota — how much each child may store at an aggregator, so one
 * enrolled station cannot fill the disk for everyone.
 *
 * Two limits per child, from [quota] in wmsync.conf: the bytes of signed
 * records (signature included) of one capture day, and the bytes of all
 * its records. The day is the record's own capture time (UTC), not its
 * arrival: a station that comes back after weeks offline brings weeks of
 * capture days, each within its limit, and is never refused for catching
 * up. Records of kinds this build does not know count like any other.
 *
 * The usage is kept in the storage sub-db "quota" (layout in wm_store.h),
 * charged in the same transaction as the records, so it is exactly what
 * is stored after any crash. Thread-safety: that of the transaction.
 */
#ifndef WM_QUOTA_H
#define WM_QUOTA_H

#include <stddef.h>
#include <stdint.h>

#include "wm_store.h"

/* Defaults, from real use: a busy station writes a few dozen records of a
 * few hundred bytes a day (photos are never records), some 10-30 KB; a
 * town's rollup records up the tiers are up to 64 KiB each. 4 MiB a day is
 * over a hundred times a busy day; 256 MiB in all is decades of one. */
#define WM_QUOTA_DAY_MB 4
#define WM_QUOTA_TOTAL_MB 256
#define WM_QUOTA_ALL_DAYS 0xffffffffu /* the key of the total */

/* Limits in bytes; 0 means no limit. */
typedef struct {
    uint64_t day_bytes;
    uint64_t total_bytes;
} wm_quota_t;

/* What one child stores. */
typedef struct {
    uint64_t bytes, records; /* in all */
    uint32_t days;           /* capture days with records */
    uint32_t max_day;        /* YYYYMMDD of the fullest capture day, 0 if none */
    uint64_t max_day_bytes;
} wm_quota_use_t;

/* The UTC capture day of a unix time as YYYYMMDD, clamped to the days a
 * record may carry (WM_DATE_MIN .. WM_DATE_MAX). */
uint32_t wm_quota_day(int64_t captured);

/* Charges one new record of node (srec of len bytes, captured at unix
 * time `captured`) in write transaction t, within q (NULL: no limits, the
 * usage is still counted). WM_OK; WM_EQUOTA if it would pass a limit,
 * with a sentence for the child naming the limit and the day in why
 * (nothing is charged then: the caller aborts the batch); a storage error
 * otherwise. */
WM_MUST_CHECK wm_err_t wm_quota_charge(wm_txn_t *t, const wm_quota_t *q, uint32_t node, int64_t captured,
                         size_t len, char *why, size_t cap);

/* The same for many records, charged in memory and written once: the
 * counters a batch moves are read once each and stored by
 * wm_quota_acc_flush (in the same transaction, before it commits), not
 * read and written for every record. Refuses exactly the record
 * wm_quota_charge would. Start from a zeroed accumulator. */
#define WM_QUOTA_ACC_SLOTS 16 /* (node, day) counters held; more are flushed early */
typedef struct {
    struct {
        uint32_t node, day;
        uint64_t bytes, records; /* the stored counters plus what was charged */
    } slot[WM_QUOTA_ACC_SLOTS];
    size_t n;
    int64_t unix_day; /* the last capture time's day number, and its date */
    uint32_t day;
} wm_quota_acc_t;
WM_MUST_CHECK wm_err_t wm_quota_acc_charge(wm_quota_acc_t *acc, wm_txn_t *t, const wm_quota_t *q,
                                           uint32_t node, int64_t captured, size_t len,
                                           char *why, size_t cap);
WM_MUST_CHECK wm_err_t wm_quota_acc_flush(wm_quota_acc_t *acc, wm_txn_t *t);

/* Gives back what wm_quota_charge charged for one record of node (len
 * bytes, captured at `captured`) that is no longer stored, e.g. a staged
 * record dropped after a bad signature (wm_stage_discard), in write
 * transaction t. A counter never goes below 0; a capture day left with no
 * record is removed. WM_OK or a storage error. */
WM_MUST_CHECK wm_err_t wm_quota_refund(wm_txn_t *t, uint32_t node, int64_t captured, size_t len);

/* The usage of node (all zero if it has stored nothing). */
WM_MUST_CHECK wm_err_t wm_quota_usage(wm_txn_t *t, uint32_t node, wm_quota_use_t *out);

#endif
