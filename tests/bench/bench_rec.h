/* SPDX-License-Identifier: MIT */
/*
 * bench_rec — realistic signed activity records for the sync benchmarks
 * (gen_log, bench_swarm): the header a station daemon writes (schema 1,
 * station, epoch, seq, prev = hash of the record before, captured), a body
 * that passes wm_validate_body, sealed by the station's own signer.
 *
 * A bench_rec_t is a chain cursor: each bench_rec_next seals the record
 * after the last one and remembers its hash as the next prev. It borrows
 * the station id (must outlive it). Single thread.
 */
#ifndef BENCH_REC_H
#define BENCH_REC_H

#include <stddef.h>
#include <stdint.h>

#include "wm_crypto.h"
#include "wm_record.h"

typedef struct {
    Wm__Record r;
    Wm__Activity a;
    uint8_t prev[WM_HASH_BYTES]; /* prev of the last sealed record (b->r.prev) */
    uint8_t next[WM_HASH_BYTES]; /* hash of the last sealed record; zero at first */
    uint64_t seq;                /* seq of the last sealed record; 0 at first */
    uint32_t today;              /* upper bound for validation */
    char title[160];
    char *tags[1];
} bench_rec_t;

/* Starts a chain of station's epoch at seq 1 (prev all zero). */
void bench_rec_init(bench_rec_t *b, const char *station, uint32_t epoch);

/* Validates and seals the next record (seq + 1) with capture time
 * captured; *srec (sig || bytes) is malloc'd, the caller frees it. Until
 * the next call, b->r is the decoded form of *srec (for wm_log_append).
 * WM_EINVAL if the body would not pass wm_validate_body (a bug here). */
wm_err_t bench_rec_next(bench_rec_t *b, const wm_signer_t *s, int64_t captured, uint8_t **srec,
                        size_t *len);

#endif
