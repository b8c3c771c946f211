/* SPDX-License-Identifier: MIT */
/*
 * bench_lmdb — the raw LMDB limit the ingest benchmarks compare against:
 * n values put under 16-byte big-endian keys 1..n in one transaction of a
 * fresh environment (mapped as wm_store_open maps one), plus its fsynced
 * commit (or, beside it, one fsynced commit every so many puts). It includes <lmdb.h> directly: the limit must not go through the
 * layers it is the limit of. Single thread.
 */
#ifndef BENCH_LMDB_H
#define BENCH_LMDB_H

#include <lmdb.h>
#include <stddef.h>

/* The value of record i (0-based); ctx is the caller's. */
typedef MDB_val (*bench_lmdb_val_fn)(size_t i, void *ctx);

/* Runs the limit in a new directory made from dir_template (mkdtemp: it
 * must end in XXXXXX and is modified), removed afterwards. Returns records
 * per second of wall time; *cpu_us, when not NULL, gets the process's CPU
 * microseconds per record. Exits with a message if LMDB fails. */
double bench_lmdb_batch(char *dir_template, size_t n, bench_lmdb_val_fn val, void *ctx,
                        double *cpu_us);
/* The same, committed (fsynced) every per_commit puts: the commit pattern
 * a protocol that acks only durable batches imposes (bench_town: one
 * station's credit window). bench_lmdb_batch is per_commit = n. */
double bench_lmdb_windows(char *dir_template, size_t n, size_t per_commit,
                          bench_lmdb_val_fn val, void *ctx, double *cpu_us);

#endif
