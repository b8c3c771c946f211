/* SPDX-License-Identifier: MIT */
/*
 * bench_lmdb — the raw LMDB batched put (see bench_lmdb.h).
 */
#include "bench_lmdb.h"

#include <errno.h>
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double clock_s(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void check_mdb(int rc, const char *what)
{
    if (rc) {
        fprintf(stderr, "bench_lmdb: %s: %s\n", what, mdb_strerror(rc));
        exit(1);
    }
}

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb, (void)flag, (void)ftw;
    return remove(path);
}

double bench_lmdb_batch(char *dir_template, size_t n, bench_lmdb_val_fn val, void *ctx,
                        double *cpu_us)
{
    return bench_lmdb_windows(dir_template, n, n, val, ctx, cpu_us);
}

double bench_lmdb_windows(char *dir_template, size_t n, size_t per_commit,
                          bench_lmdb_val_fn val, void *ctx, double *cpu_us)
{
    if (!mkdtemp(dir_template)) {
        fprintf(stderr, "bench_lmdb: mkdtemp %s: %s\n", dir_template, strerror(errno));
        exit(1);
    }
    MDB_env *env = NULL;
    MDB_txn *txn = NULL;
    MDB_dbi dbi;
    uint8_t kb[16] = {0};
    check_mdb(mdb_env_create(&env), "env create");
    check_mdb(mdb_env_set_mapsize(env, (size_t)1024 << 20), "mapsize");
    check_mdb(mdb_env_open(env, dir_template, MDB_NOTLS, 0600), "env open");
    check_mdb(mdb_txn_begin(env, NULL, 0, &txn), "begin");
    check_mdb(mdb_dbi_open(txn, NULL, 0, &dbi), "dbi");
    check_mdb(mdb_txn_commit(txn), "commit");
    double t0 = clock_s(CLOCK_MONOTONIC), c0 = clock_s(CLOCK_PROCESS_CPUTIME_ID);
    for (size_t i = 0; i < n;) {
        check_mdb(mdb_txn_begin(env, NULL, 0, &txn), "begin");
        for (size_t end = per_commit && n - i > per_commit ? i + per_commit : n; i < end; i++) {
            uint64_t k = i + 1;
            for (int b = 0; b < 8; b++)
                kb[15 - b] = (uint8_t)(k >> (8 * b));
            MDB_val key = {sizeof kb, kb}, v = val(i, ctx);
            check_mdb(mdb_put(txn, dbi, &key, &v, 0), "put");
        }
        check_mdb(mdb_txn_commit(txn), "commit");
    }
    double rate = (double)n / (clock_s(CLOCK_MONOTONIC) - t0);
    if (cpu_us)
        *cpu_us = 1e6 * (clock_s(CLOCK_PROCESS_CPUTIME_ID) - c0) / (double)n;
    mdb_env_close(env);
    nftw(dir_template, rm_one, 16, FTW_DEPTH | FTW_PHYS);
    return rate;
}
