/* SPDX-License-Identifier: MIT */
/*
 * bench_ctl — the daemon's durable append round trip without process
 * start-up: connects once to a running station daemon's control socket
 * (wm_ctl_connect(cfg.control)) and sends append requests (CtlRequest
 * version 1, op append of an activity body, encoded with wm_pb_encode, as
 * wmctl sends them) one at a time, timing each round trip. The daemon
 * signs, commits with fsync and only then replies, so each figure is a
 * durable append. Then K client processes do the same at once (N/K each),
 * which shows the daemon's group commit: it drains every waiting request
 * and commits them in one transaction.
 *
 * Usage: bench_ctl CONF N K [RAW_MEAN_US RAW_P50_US RAW_P99_US]
 *   RAW_*: the raw fsynced LMDB put (bench_store --raw-fsync), printed
 *   beside the figures as the limit. Target: p99 <= 5 ms.
 * Prints a table, then "ctl_appended TOTAL" (for bench_daemon.sh's check
 * of the log head). A benchmark, not a test: it fails only if it cannot
 * connect or an append is refused.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "control.pb-c.h"
#include "wm_config.h"
#include "wm_crypto.h"
#include "wm_net.h"
#include "wm_record.h"

#define CTL_VERSION 1
#define TIMEOUT_MS 15000
#define WARMUP 20
#define MAX_CLIENTS 64
#define TARGET_P99_MS 5.0

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void die(const char *what, const char *why)
{
    fprintf(stderr, "bench_ctl: %s: %s\n", what, why);
    exit(1);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double pct(double *v, size_t n, double p)
{
    qsort(v, n, sizeof *v, cmp_double);
    return v[(size_t)((double)(n - 1) * p)];
}

/* One durable append of a theme lecture through s; dies if refused. */
static void append_one(wm_sock_t *s, unsigned client, uint64_t i)
{
    Wm__CtlRequest req = WM__CTL_REQUEST__INIT;
    Wm__Record body = WM__RECORD__INIT;
    Wm__Activity a = WM__ACTIVITY__INIT;
    char title[160];
    snprintf(title, sizeof title, "学习贯彻党的二十大精神主题宣讲（客户%u 第%" PRIu64 "期）",
             client, i);
    a.date = 20240305;
    a.category = WM__CATEGORY__THEME_LECTURE;
    a.title = title;
    a.place = "新河村新时代文明实践站";
    a.participants = 40;
    a.volunteers = 5;
    body.body_case = WM__RECORD__BODY_ACTIVITY;
    body.activity = &a;
    req.version = CTL_VERSION;
    req.op_case = WM__CTL_REQUEST__OP_APPEND;
    req.append = &body;
    uint8_t *buf = NULL, *rbuf = NULL;
    size_t len = 0, rlen = 0;
    Wm__CtlReply *rep = NULL;
    wm_err_t err = wm_pb_encode(&req.base, &buf, &len);
    if (err == WM_OK)
        err = wm_ctl_call(s, buf, len, &rbuf, &rlen, TIMEOUT_MS);
    if (err == WM_OK)
        err = wm_pb_decode(&wm__ctl_reply__descriptor, rbuf, rlen, WM_CTL_MAX_BYTES,
                           (void **)&rep);
    free(buf);
    free(rbuf);
    if (err != WM_OK)
        die("append", wm_strerror(err));
    if (rep->error && rep->error[0]) {
        fprintf(stderr, "bench_ctl: append refused: %s: %s\n", rep->error, rep->message);
        exit(1);
    }
    wm_pb_free(&rep);
}

/* Connects, waits for `go` to close (if >= 0), then appends n records,
 * writing each round trip (seconds) to lat. */
static void client(const char *path, unsigned id, size_t n, double *lat, int go)
{
    wm_net_t *net = NULL;
    wm_sock_t *s = NULL;
    if (wm_net_new(&net) != WM_OK || wm_ctl_connect(net, path, &s) != WM_OK)
        die(path, "cannot connect to the daemon's control socket");
    append_one(s, id, 0); /* the connection is up before the clock starts */
    if (go >= 0) {
        char c;
        while (read(go, &c, 1) > 0)
            ;
        close(go);
    }
    for (size_t i = 0; i < n; i++) {
        double t0 = now_s();
        append_one(s, id, i + 1);
        lat[i] = now_s() - t0;
    }
    wm_sock_close(&s);
    wm_net_free(&net);
}

typedef struct {
    double per_s, p50, p99, mean;
} fig_t;

static fig_t figures(double *lat, size_t n, double wall)
{
    double sum = 0;
    for (size_t i = 0; i < n; i++)
        sum += lat[i];
    fig_t f = {(double)n / wall, pct(lat, n, 0.5) * 1e3, pct(lat, n, 0.99) * 1e3,
               sum / (double)n * 1e3};
    return f;
}

int main(int argc, char **argv)
{
    if (argc != 4 && argc != 7) {
        fprintf(stderr, "usage: bench_ctl CONF N K [RAW_MEAN_US RAW_P50_US RAW_P99_US]\n");
        return 2;
    }
    size_t n = strtoul(argv[2], NULL, 10);
    unsigned k = (unsigned)strtoul(argv[3], NULL, 10);
    if (n == 0 || k == 0 || k > MAX_CLIENTS || n % k)
        die("usage", "N > 0, 1 <= K <= 64, and K must divide N");
    int raw = argc == 7;
    double raw_mean = raw ? atof(argv[4]) / 1e3 : 0, raw_p50 = raw ? atof(argv[5]) / 1e3 : 0,
           raw_p99 = raw ? atof(argv[6]) / 1e3 : 0;
    if (wm_crypto_init() != WM_OK)
        die("wm_crypto_init", "libsodium failed to initialise");
    wm_config_t cfg;
    char why[8192];
    if (wm_config_load(argv[1], &cfg, why, sizeof why) != WM_OK)
        die(argv[1], why);

    /* Latencies live in shared memory so the client processes can fill it. */
    double *lat = mmap(NULL, (n + WARMUP) * sizeof *lat, PROT_READ | PROT_WRITE,
                       MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (lat == MAP_FAILED)
        die("mmap", "failed");

    /* One client, one request in flight. The context is gone before fork. */
    client(cfg.control, 0, WARMUP, lat, -1);
    double t0 = now_s();
    client(cfg.control, 0, n, lat, -1);
    fig_t one = figures(lat, n, now_s() - t0);

    /* K clients at once, N/K each, started together. */
    int go[2];
    if (pipe(go) != 0)
        die("pipe", "failed");
    pid_t pids[MAX_CLIENTS];
    for (unsigned c = 0; c < k; c++) {
        pids[c] = fork();
        if (pids[c] < 0)
            die("fork", "failed");
        if (pids[c] == 0) {
            close(go[1]);
            client(cfg.control, c + 1, n / k, lat + (size_t)c * (n / k), go[0]);
            _exit(0);
        }
    }
    close(go[0]);
    usleep(200000); /* let every client connect; not part of the timing */
    t0 = now_s();
    close(go[1]);
    int failed = 0;
    for (unsigned c = 0; c < k; c++) {
        int status = 0;
        waitpid(pids[c], &status, 0);
        failed |= !WIFEXITED(status) || WEXITSTATUS(status) != 0;
    }
    double wall = now_s() - t0;
    if (failed)
        die("clients", "a client process failed");
    fig_t many = figures(lat, n, wall);

    char what[64];
    printf("%-40s | %12s | %9s | %9s | %9s | %s\n", "what", "appends/s", "p50 ms", "p99 ms",
           "mean ms", "target p99 <= 5 ms");
    printf("%-40s-+-%12s-+-%9s-+-%9s-+-%9s-+-%s\n", "----------------------------------------",
           "------------", "---------", "---------", "---------", "------------------");
    snprintf(what, sizeof what, "control socket, 1 client (N=%zu)", n);
    printf("%-40s | %12.0f | %9.2f | %9.2f | %9.2f | %s\n", what, one.per_s, one.p50, one.p99,
           one.mean, one.p99 <= TARGET_P99_MS ? "met" : "MISSED");
    snprintf(what, sizeof what, "control socket, %u clients (N=%zu)", k, n);
    printf("%-40s | %12.0f | %9.2f | %9.2f | %9.2f | %s\n", what, many.per_s, many.p50, many.p99,
           many.mean, many.p99 <= TARGET_P99_MS ? "met" : "MISSED");
    if (raw) {
        printf("%-40s | %12.0f | %9.2f | %9.2f | %9.2f |\n", "limit: raw fsynced LMDB put",
               1e3 / raw_mean, raw_p50, raw_p99, raw_mean);
        printf("ratios to the raw fsynced put: 1 client %.0f%% of its rate, p50 x%.2f, p99 "
               "x%.2f; %u clients %.0f%% of its rate (group commit: x%.2f the 1-client rate)\n",
               100 * one.per_s / (1e3 / raw_mean), one.p50 / raw_p50, one.p99 / raw_p99, k,
               100 * many.per_s / (1e3 / raw_mean), many.per_s / one.per_s);
    } else {
        printf("group commit: %u clients append x%.2f the 1-client rate\n", k,
               many.per_s / one.per_s);
    }
    /* untimed: WARMUP + one per connection (2 + k); timed: 2 n */
    printf("ctl_appended %zu\n", (size_t)WARMUP + 2 + 2 * n + k);
    munmap(lat, (n + WARMUP) * sizeof *lat);
    return 0;
}
