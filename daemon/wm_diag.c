/* SPDX-License-Identifier: MIT */
/* wm_diag — log lines for journald or a terminal, and the per-peer rate
 * limit; see wm_diag.h. */
#include "wm_diag.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static wm_diag_level_t log_level = WM_DIAG_INFO;

/* One peer's window: lines written and lines held back since `start`. */
typedef struct {
    char peer[192];       /* "" = free slot */
    int64_t start;        /* monotonic seconds */
    unsigned lines;
    uint64_t held;
    wm_diag_level_t level; /* the most severe level held back */
} peer_slot_t;

static struct {
    pthread_mutex_t mu;
    unsigned lines, window_s;
    peer_slot_t slot[WM_DIAG_PEER_SLOTS + 1]; /* the last one: WM_DIAG_PEER_OTHERS */
} rate = {.mu = PTHREAD_MUTEX_INITIALIZER,
          .lines = WM_DIAG_PEER_LINES,
          .window_s = WM_DIAG_PEER_WINDOW_S};

wm_diag_level_t wm_diag_parse(const char *s)
{
    if (strcmp(s, "error") == 0)
        return WM_DIAG_ERROR;
    if (strcmp(s, "warn") == 0)
        return WM_DIAG_WARN;
    if (strcmp(s, "debug") == 0)
        return WM_DIAG_DEBUG;
    return WM_DIAG_INFO;
}

void wm_diag_set_level(wm_diag_level_t level)
{
    log_level = level;
}

static void write_line(wm_diag_level_t level, const char *line)
{
    const char *name = level == WM_DIAG_ERROR  ? "error"
                       : level == WM_DIAG_WARN ? "warning"
                       : level == WM_DIAG_INFO ? "info"
                                              : "debug";
    if (getenv("JOURNAL_STREAM")) {
        fprintf(stderr, "<%d>%s\n", (int)level, line);
    } else {
        char ts[32];
        time_t now = time(NULL);
        struct tm tm;
        localtime_r(&now, &tm);
        strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%S%z", &tm);
        fprintf(stderr, "%s %s: %s\n", ts, name, line);
    }
}

static void write_va(wm_diag_level_t level, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

static void write_va(wm_diag_level_t level, const char *fmt, va_list ap)
{
    char line[1024];
    vsnprintf(line, sizeof line, fmt, ap);
    write_line(level, line);
}

void wm_diag(wm_diag_level_t level, const char *fmt, ...)
{
    if (level > log_level)
        return;
    va_list ap;
    va_start(ap, fmt);
    write_va(level, fmt, ap);
    va_end(ap);
}

void wm_diag_peer_limit(unsigned lines, unsigned window_s)
{
    pthread_mutex_lock(&rate.mu);
    rate.lines = lines ? lines : WM_DIAG_PEER_LINES;
    rate.window_s = window_s ? window_s : WM_DIAG_PEER_WINDOW_S;
    pthread_mutex_unlock(&rate.mu);
}

static int64_t mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec;
}

/* "12,345": the count as the summary line shows it. */
static const char *grouped(uint64_t n, char buf[static 32])
{
    char digits[24];
    int len = snprintf(digits, sizeof digits, "%" PRIu64, n), o = 0;
    for (int i = 0; i < len; i++) {
        if (i && (len - i) % 3 == 0)
            buf[o++] = ',';
        buf[o++] = digits[i];
    }
    buf[o] = 0;
    return buf;
}

/* Ends s's window: the summary if lines were held back. Caller holds mu. */
static void end_window(peer_slot_t *s, int64_t now)
{
    if (s->held) {
        char n[32], line[512], span[32];
        if (rate.window_s == 60)
            snprintf(span, sizeof span, "minute");
        else
            snprintf(span, sizeof span, "%u s", rate.window_s);
        snprintf(line, sizeof line, "… and %s more from %s in the last %s", grouped(s->held, n),
                 s->peer, span);
        write_line(s->level, line);
    }
    s->start = now;
    s->lines = 0;
    s->held = 0;
}

static int expired(const peer_slot_t *s, int64_t now)
{
    return now - s->start >= (int64_t)rate.window_s;
}

/* The slot counting `peer`: its own, a free or quiet one, else the shared
 * one. Caller holds mu. */
static peer_slot_t *slot_of(const char *peer, int64_t now)
{
    peer_slot_t *spare = NULL;
    for (int i = 0; i < WM_DIAG_PEER_SLOTS; i++) {
        peer_slot_t *s = &rate.slot[i];
        if (s->peer[0] && strncmp(s->peer, peer, sizeof s->peer - 1) == 0)
            return s;
        if (!spare && (!s->peer[0] || expired(s, now)))
            spare = s;
    }
    if (!spare) {
        spare = &rate.slot[WM_DIAG_PEER_SLOTS];
        if (!spare->peer[0]) {
            snprintf(spare->peer, sizeof spare->peer, "%s", WM_DIAG_PEER_OTHERS);
            spare->start = now;
        }
        return spare;
    }
    if (spare->peer[0])
        end_window(spare, now);
    snprintf(spare->peer, sizeof spare->peer, "%s", peer);
    spare->start = now;
    spare->lines = 0;
    spare->held = 0;
    return spare;
}

int wm_diag_peer(wm_diag_level_t level, const char *peer, const char *fmt, ...)
{
    if (level > log_level)
        return 0;
    if (!peer || !peer[0])
        peer = "an unknown peer";
    int64_t now = mono_s();
    int write = 0;
    pthread_mutex_lock(&rate.mu);
    peer_slot_t *s = slot_of(peer, now);
    if (expired(s, now))
        end_window(s, now);
    if (s->lines < rate.lines) {
        s->lines++;
        write = 1;
    } else {
        if (!s->held || level < s->level)
            s->level = level;
        s->held++;
    }
    if (write) {
        va_list ap;
        va_start(ap, fmt);
        write_va(level, fmt, ap);
        va_end(ap);
    }
    pthread_mutex_unlock(&rate.mu);
    return write;
}

static void sweep(int all)
{
    int64_t now = mono_s();
    pthread_mutex_lock(&rate.mu);
    for (int i = 0; i <= WM_DIAG_PEER_SLOTS; i++) {
        peer_slot_t *s = &rate.slot[i];
        if (!s->peer[0] || (!all && !expired(s, now)))
            continue;
        end_window(s, now);
        s->peer[0] = 0;
    }
    pthread_mutex_unlock(&rate.mu);
}

void wm_diag_tick(void)
{
    sweep(0);
}

void wm_diag_peer_flush(void)
{
    sweep(1);
}
