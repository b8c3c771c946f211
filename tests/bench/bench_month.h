/* SPDX-License-Identifier: MIT */
/*
 * bench_month — a realistic month of one station's signed records, for
 * the wire benchmarks (bench_wire) and the codec's unit test: about three
 * in four activities (Chinese titles, places, teams, tags, participant
 * and volunteer counts, service hours) and the rest publicity, dated over
 * one month, captured on those days, each sealed by the station's key and
 * chained (prev = hash of the record before) as a station writes them.
 * Deterministic for a seed. Single thread.
 */
#ifndef BENCH_MONTH_H
#define BENCH_MONTH_H

#include <stddef.h>
#include <stdint.h>

#include "wm_record.h"

typedef struct {
    ProtobufCBinaryData *recs; /* n srecs, each malloc'd */
    size_t n;
    uint8_t pub[WM_PUB_BYTES]; /* the station's signing key */
} bench_month_t;

/* Fills *m with n records of station (epoch 1, seq 1 … n), keyed and
 * varied by seed. WM_OK, WM_ENOMEM, or a sealing error. */
WM_MUST_CHECK wm_err_t bench_month_make(bench_month_t *m, const char *station, unsigned seed,
                                        size_t n);
/* Frees what m holds. Accepts an empty m. */
void bench_month_free(bench_month_t *m);

#endif
