/* SPDX-License-Identifier: MIT */
/*
 * test_diag — daemon/wm_diag.c's per-peer rate limit: a flood from one peer
 * costs at most the configured lines plus one summary that counts every
 * line held back, other peers keep their own budget, more peers than the
 * table holds share one budget, and lines below the log level are not
 * counted. The log goes to stderr; each test points stderr at a file.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "wm_diag.h"

static char captured[1 << 16];

/* Runs fn with stderr in a temporary file; its text lands in captured. */
static void capture(void (*fn)(void))
{
    fflush(stderr);
    FILE *tmp = tmpfile();
    assert_non_null(tmp);
    int saved = dup(2);
    assert_true(saved >= 0);
    assert_true(dup2(fileno(tmp), 2) >= 0);
    fn();
    fflush(stderr);
    assert_true(dup2(saved, 2) >= 0);
    close(saved);
    rewind(tmp);
    size_t n = fread(captured, 1, sizeof captured - 1, tmp);
    captured[n] = 0;
    fclose(tmp);
}

static size_t count(const char *needle)
{
    size_t n = 0;
    for (const char *p = captured; (p = strstr(p, needle)); p += strlen(needle))
        n++;
    return n;
}

static void flood(void)
{
    wm_diag_peer_limit(5, 3600);
    for (int i = 0; i < 12350; i++)
        wm_warn_peer("xx/evil", "rejected frame %d from xx/evil", i);
    for (int i = 0; i < 3; i++)
        wm_warn_peer("xx/good", "rejected frame %d from xx/good", i);
    wm_diag_peer_flush();
}

static void test_flood_bounded(void **state)
{
    (void)state;
    capture(flood);
    assert_int_equal(count("from xx/evil\n"), 5);
    assert_int_equal(count("from xx/good\n"), 3);
    /* 12,350 sent, 5 written: the summary counts the rest, grouped. */
    assert_non_null(strstr(captured, "… and 12,345 more from xx/evil in the last 3600 s\n"));
    assert_null(strstr(captured, "more from xx/good"));
}

static void many_peers(void)
{
    char peer[32];
    wm_diag_peer_limit(2, 3600);
    for (int round = 0; round < 10; round++)
        for (int i = 0; i < 3 * WM_DIAG_PEER_SLOTS; i++) {
            snprintf(peer, sizeof peer, "key%d", i);
            wm_warn_peer(peer, "refused %s", peer);
        }
    wm_diag_peer_flush();
}

static void test_many_peers_share(void **state)
{
    (void)state;
    capture(many_peers);
    /* Each tracked peer writes 2 lines; everyone else shares 2 more. */
    assert_int_equal(count("refused key"), 2 * WM_DIAG_PEER_SLOTS + 2);
    assert_non_null(strstr(captured, "more from " WM_DIAG_PEER_OTHERS " in the last"));
}

static void below_level(void)
{
    wm_diag_peer_limit(1, 3600);
    wm_diag_set_level(WM_DIAG_WARN);
    for (int i = 0; i < 100; i++)
        wm_info_peer("quiet", "chatter %d", i);
    wm_warn_peer("quiet", "the one that counts");
    wm_diag_set_level(WM_DIAG_INFO);
    wm_diag_peer_flush();
}

static void test_below_level_not_counted(void **state)
{
    (void)state;
    capture(below_level);
    assert_int_equal(count("chatter"), 0);
    assert_int_equal(count("the one that counts"), 1);
    assert_null(strstr(captured, "more from quiet"));
}

/* A window that ends: the tick writes the summary without the peer
 * sending again, and the next window has a full budget. Polls the tick
 * with a deadline (the window is one second). */
static void window_ends(void)
{
    wm_diag_peer_limit(2, 1);
    for (int i = 0; i < 10; i++)
        wm_warn_peer("xx/late", "line %d from xx/late", i);
    int64_t deadline = (int64_t)time(NULL) + 5;
    while ((int64_t)time(NULL) < deadline) {
        wm_diag_tick();
        fflush(stderr);
        if (lseek(2, 0, SEEK_CUR) > 0) {
            char buf[4096] = {0};
            ssize_t n = pread(2, buf, sizeof buf - 1, 0);
            if (n > 0 && strstr(buf, "more from xx/late"))
                break;
        }
        struct timespec ts = {0, 20 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    for (int i = 10; i < 12; i++)
        wm_warn_peer("xx/late", "line %d from xx/late", i);
    wm_diag_peer_flush();
}

static void test_window_ends(void **state)
{
    (void)state;
    capture(window_ends);
    assert_non_null(strstr(captured, "… and 8 more from xx/late in the last 1 s\n"));
    assert_non_null(strstr(captured, "line 10 from xx/late"));
    assert_non_null(strstr(captured, "line 11 from xx/late"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_flood_bounded),
        cmocka_unit_test(test_many_peers_share),
        cmocka_unit_test(test_below_level_not_counted),
        cmocka_unit_test(test_window_ends),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
