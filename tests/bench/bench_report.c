/* SPDX-License-Identifier: MIT */
/*
 * bench_report — how long a node takes to answer a report: the rollup
 * object of a period built (storage/wm_report.h, wm_report_build_any, the
 * one path `wmctl rollup` takes at every level) and serialized, read-only
 * from the node's LMDB environment while its daemon runs, N times.
 *
 * Usage: bench_report NODE_DIR PERIOD N
 * Prints "report_ms ID ROLE PERIOD p50 p99 mean" and the size of the JSON.
 * Exit 1 if the report cannot be built.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "wm_config.h"
#include "wm_report.h"

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec * 1e-6;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    char conf[4200], why[8192] = "";
    wm_config_t cfg;
    wm_period_t p;
    wm_store_t *s = NULL;
    if (argc != 4 || atoi(argv[3]) < 1) {
        fprintf(stderr, "usage: bench_report NODE_DIR PERIOD N\n");
        return 2;
    }
    int n = atoi(argv[3]);
    snprintf(conf, sizeof conf, "%s/" WM_CONF_NAME, argv[1]);
    if (wm_config_load(conf, &cfg, why, sizeof why) != WM_OK || wm_period_parse(argv[2], &p) != WM_OK ||
        wm_store_open(cfg.data_dir, WM_STORE_RDONLY, cfg.map_mb, &s) != WM_OK) {
        fprintf(stderr, "bench_report: %s: %s\n", argv[1], why[0] ? why : "cannot open");
        return 1;
    }
    wm_report_opts_t o = {.id = cfg.id, .name = cfg.name, .role = wm_role_name(cfg.role),
                          .aggregator = cfg.listen[0] != 0, .cadence_days = cfg.cadence_days,
                          .date_tolerance_days = cfg.blobs_date_days,
                          .photos_from = cfg.blobs_photos_from,
                          .silent_days = cfg.silent_days, .today = wm_date_today(),
                          .now = (int64_t)time(NULL), .why = why, .why_cap = sizeof why};
    double *ms = calloc((size_t)n, sizeof *ms);
    size_t bytes = 0;
    int rc = 0;
    for (int i = 0; ms && i < n && rc == 0; i++) {
        wm_txn_t *t = NULL;
        json_t *j = NULL;
        double t0 = now_ms();
        wm_err_t err = wm_txn_begin(s, 0, &t);
        if (err == WM_OK)
            err = wm_report_build_any(t, &p, &o, &j);
        char *text = err == WM_OK ? json_dumps(j, JSON_COMPACT) : NULL;
        wm_txn_abort(&t);
        ms[i] = now_ms() - t0;
        if (!text) {
            fprintf(stderr, "bench_report: %s: %s\n", cfg.id, why[0] ? why : wm_strerror(err));
            rc = 1;
        }
        bytes = text ? strlen(text) : 0;
        free(text);
        json_decref(j);
    }
    if (ms && rc == 0) {
        double sum = 0;
        for (int i = 0; i < n; i++)
            sum += ms[i];
        qsort(ms, (size_t)n, sizeof *ms, cmp);
        printf("report_ms %s %s %s p50 %.2f p99 %.2f mean %.2f json_bytes %zu\n", cfg.id,
               wm_role_name(cfg.role), p.name, ms[n / 2], ms[(n * 99) / 100], sum / n, bytes);
    }
    free(ms);
    wm_store_close(&s);
    return ms ? rc : 1;
}
