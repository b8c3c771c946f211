/* SPDX-License-Identifier: MIT */
/*
 * bench_reclat — a record's latency from the station to its town: appends
 * N activities one at a time through the station daemon's control socket
 * and, after each, polls the daemon's live status until its upstream's
 * acked frontier (what the town holds durably) reaches that record. Prints
 * "reclat_ms p50 P50 p99 P99 max MAX n COUNT append_p50 A50 append_p99 A99"
 * (append_*: the part of it until the station's own commit answered: the
 * rest is the way to the town and back), and with "backlog"
 * "blob_bytes_pending FIRST to LAST" (the blob bytes still to cross when
 * the first and the last record measured were appended: what moved
 * meanwhile). bench_blobs.sh runs it with
 * and without a blob backlog behind the records. With "backlog" it counts
 * only the records appended while the station had blob bytes pending
 * (status blob_bytes_pending > 0), and stops when none are left (or after
 * N): the latency under the backlog, not after it drained. If
 * BENCH_RECLAT_SAMPLES names a file, each latency (ms) is appended to it,
 * one a line, so that runs can be pooled.
 *
 *   bench_reclat CONF N [backlog]
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "wm_client.h"
#include "wm_config.h"

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* The upstream's acked seq from the daemon's live status; -1 if unknown.
 * *pending (may be NULL): the blob bytes not yet confirmed. */
static long long acked(wm_net_t *net, const char *control, long long *pending)
{
    Wm__CtlRequest req = WM__CTL_REQUEST__INIT;
    Wm__CtlReply *rep = NULL;
    long long v = -1;
    req.op_case = WM__CTL_REQUEST__OP_STATUS;
    req.status = 1;
    if (wm_client_call(net, control, &req, WM_CLIENT_TIMEOUT_MS, &rep, NULL) == WM_OK &&
        rep->json) {
        json_t *j = json_loads(rep->json, 0, NULL);
        json_t *a = json_object_get(json_object_get(j, "upstream"), "acked_seq");
        if (a)
            v = (long long)json_integer_value(a);
        json_t *b = json_object_get(json_object_get(j, "upstream"), "blob_bytes_pending");
        if (pending)
            *pending = b ? (long long)json_integer_value(b) : -1;
        json_decref(j);
    }
    wm_pb_free(&rep);
    return v;
}

int main(int argc, char **argv)
{
    wm_config_t cfg;
    char why[WM_WHY_MAX];
    wm_net_t *net = NULL;
    if (argc < 3 || argc > 4 || (argc == 4 && strcmp(argv[3], "backlog") != 0) ||
        wm_config_load(argv[1], &cfg, why, sizeof why) != WM_OK || wm_net_new(&net) != WM_OK) {
        fprintf(stderr, "usage: bench_reclat CONF N [backlog]\n");
        return 2;
    }
    int n = atoi(argv[2]), backlog = argc == 4, got = 0;
    long long first_pending = -1, last_pending = -1;
    double *lat = calloc((size_t)(n > 0 ? n : 1), sizeof *lat);
    double *app = calloc((size_t)(n > 0 ? n : 1), sizeof *app);
    for (int i = 0; i < n; i++) {
        long long pending = 0;
        if (backlog && (acked(net, cfg.control, &pending) < 0 || pending <= 0))
            break; /* the backlog has drained (or there was none) */
        if (backlog && first_pending < 0)
            first_pending = pending;
        last_pending = pending;
        Wm__CtlRequest req = WM__CTL_REQUEST__INIT;
        Wm__CtlReply *rep = NULL;
        Wm__Record body = WM__RECORD__INIT;
        Wm__Activity a = WM__ACTIVITY__INIT;
        a.date = 20240305;
        a.category = WM__CATEGORY__THEME_LECTURE;
        a.title = "理论政策宣讲进院坝";
        a.participants = 25;
        body.body_case = WM__RECORD__BODY_ACTIVITY;
        body.activity = &a;
        req.op_case = WM__CTL_REQUEST__OP_APPEND;
        req.append = &body;
        double t0 = now_ms();
        if (wm_client_call(net, cfg.control, &req, WM_CLIENT_TIMEOUT_MS, &rep, NULL) != WM_OK ||
            (rep->error && rep->error[0])) {
            fprintf(stderr, "bench_reclat: append refused\n");
            return 1;
        }
        long long seq = (long long)rep->seq;
        wm_pb_free(&rep);
        app[got] = now_ms() - t0;
        while (acked(net, cfg.control, NULL) < seq) {
            if (now_ms() - t0 > 30000) {
                fprintf(stderr, "bench_reclat: record %lld not acked in 30 s\n", seq);
                return 1;
            }
        }
        lat[got++] = now_ms() - t0;
    }
    if (!got) {
        fprintf(stderr, "bench_reclat: no record measured (no blob backlog?)\n");
        return 1;
    }
    const char *dump = getenv("BENCH_RECLAT_SAMPLES");
    FILE *f = dump && *dump ? fopen(dump, "a") : NULL;
    for (int i = 0; f && i < got; i++)
        fprintf(f, "%.3f\n", lat[i]);
    if (f && fclose(f) != 0)
        fprintf(stderr, "bench_reclat: cannot write %s\n", dump);
    qsort(lat, (size_t)got, sizeof *lat, cmp);
    qsort(app, (size_t)got, sizeof *app, cmp);
    size_t p99 = (size_t)((got - 1) * 0.99);
    printf("reclat_ms p50 %.2f p99 %.2f max %.2f n %d append_p50 %.2f append_p99 %.2f",
           lat[got / 2], lat[p99], lat[got - 1], got, app[got / 2], app[p99]);
    if (backlog)
        printf(" blob_bytes_pending %lld to %lld", first_pending, last_pending);
    printf("\n");
    free(lat);
    free(app);
    wm_net_free(&net);
    return 0;
}
