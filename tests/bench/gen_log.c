/* SPDX-License-Identifier: MIT */
/*
 * gen_log — gives a station a large log fast, for the sync benchmarks
 * (or an aggregator its own, for the log sent down to its children:
 * it_down_kill9):
 * appends M signed, chained activity records to the station's own LMDB
 * log through the storage API, as the station daemon would write them
 * (node numbered by wm_nodeno_add, epoch 1 keyed with the station's signing
 * key, schema-1 header, seq from 1, prev = hash of the record before,
 * captured = now, bodies that pass validation), committing every 10,000.
 *
 * Run it while the station daemon is NOT running and BEFORE its first
 * start: the daemon writes the fork-guard file KEY.state only once it
 * serves, and a key without that file accepts the log it finds (the log's
 * epoch 1 key is this key, so the daemon continues the chain at seq M+1).
 * gen_log refuses if the guard file exists or the log already holds
 * records, rather than guess how to continue someone else's chain.
 *
 * Usage: gen_log NODE_DIR M      (NODE_DIR holds wmsync.conf)
 * Prints "gen_log: ID: M records, B bytes, T s (R records/s)".
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench_rec.h"
#include "wm_config.h"
#include "wm_store.h"

#define COMMIT_EVERY 10000

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

int main(int argc, char **argv)
{
    int rc = 1;
    wm_err_t err = WM_OK;
    wm_config_t cfg;
    wm_signer_t *signer = NULL;
    wm_store_t *st = NULL;
    wm_txn_t *t = NULL;
    char why[8192], conf[4200], guard[4200];
    const char *what = "";
    uint32_t node = 0, last = 0; /* last: the highest keyed epoch */
    uint64_t count = 0, bytes = 0;

    if (argc != 3) {
        fprintf(stderr, "usage: gen_log NODE_DIR M\n");
        return 2;
    }
    char *end = NULL;
    unsigned long long m = strtoull(argv[2], &end, 10);
    if (!*argv[2] || *end || m == 0) {
        fprintf(stderr, "gen_log: M must be a positive number\n");
        return 2;
    }
    snprintf(conf, sizeof conf, "%s/" WM_CONF_NAME, argv[1]);
    if (wm_crypto_init() != WM_OK) {
        fprintf(stderr, "gen_log: libsodium failed to initialise\n");
        return 1;
    }
    if ((err = wm_config_load(conf, &cfg, why, sizeof why)) != WM_OK) {
        fprintf(stderr, "gen_log: %s\n", why);
        return 1;
    }
    snprintf(guard, sizeof guard, "%s.state", cfg.sign_key);
    if (access(guard, F_OK) == 0) {
        fprintf(stderr,
                "gen_log: %s exists: the daemon has served this key already; generate "
                "before its first start\n",
                guard);
        return 1;
    }
    what = "load signing key";
    if ((err = wm_signer_load(cfg.sign_key, &signer)) != WM_OK)
        goto out;
    what = "open store";
    if ((err = wm_store_open(cfg.data_dir, 0, cfg.map_mb, &st)) != WM_OK)
        goto out;
    what = "initialise the log";
    if ((err = wm_txn_begin(st, 1, &t)) != WM_OK ||
        (err = wm_nodeno_add(t, cfg.id, &node)) != WM_OK ||
        (err = wm_meta_put(t, "self", cfg.id, strlen(cfg.id))) != WM_OK)
        goto out;
    err = wm_epoch_last(t, node, &last);
    if (err == WM_OK) { /* epoch keyed already: fine only while the log is empty */
        if ((err = wm_log_count(t, node, &count)) != WM_OK)
            goto out;
        if (count) {
            fprintf(stderr, "gen_log: the log of %s already holds %" PRIu64 " records\n", cfg.id,
                    count);
            err = WM_EEXIST;
            what = "";
            goto out;
        }
    } else if (err != WM_ENOTFOUND) {
        goto out;
    }
    if (err == WM_ENOTFOUND && (err = wm_epoch_set(t, node, 1, wm_signer_pub(signer))) != WM_OK)
        goto out;

    bench_rec_t b;
    bench_rec_init(&b, cfg.id, 1);
    double t0 = now_s();
    for (uint64_t i = 0; i < m; i++) {
        uint8_t *srec = NULL;
        size_t len = 0;
        what = "seal";
        if ((err = bench_rec_next(&b, signer, (int64_t)time(NULL), &srec, &len)) != WM_OK)
            goto out;
        what = "append";
        err = wm_log_append(t, node, &b.r, srec, len);
        free(srec);
        bytes += len;
        if (err != WM_OK)
            goto out;
        if ((i + 1) % COMMIT_EVERY == 0 || i + 1 == m) {
            what = "commit";
            if ((err = wm_txn_commit(&t)) != WM_OK)
                goto out;
            if (i + 1 < m && (err = wm_txn_begin(st, 1, &t)) != WM_OK)
                goto out;
        }
    }
    double dt = now_s() - t0;
    printf("gen_log: %s: %llu records, %" PRIu64 " bytes, %.2f s (%.0f records/s)\n", cfg.id, m,
           bytes, dt, (double)m / dt);
    rc = 0;
out:
    if (rc && err != WM_OK && what[0])
        fprintf(stderr, "gen_log: %s: %s (%s)\n", what, wm_strerror(err),
                st ? wm_store_detail(st) : "-");
    wm_txn_abort(&t);
    wm_store_close(&st);
    wm_signer_free(&signer);
    return rc;
}
