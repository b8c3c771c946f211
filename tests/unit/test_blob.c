/* SPDX-License-Identifier: MIT */
/*
 * test_blob — storage/wm_blob.c, the content-addressed blob store, on real
 * files: put (stored once, durable names only), read, the receiving side
 * (resume point, in-order writes, complete verifies the hash, a mismatch
 * discards), the receiver that keeps the hash as chunks arrive (resumes
 * by reading the .part once, notices a .part changed under it), verify of
 * an altered file, list, remove; and crash points:
 * a child process putting and receiving blobs is killed with SIGKILL at
 * random moments, and after each kill nothing but whole, correct blobs is
 * present, temporary files are swept, and the transfer resumes from the
 * bytes held.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "wm_blob.h"
#include "wm_testutil.h"

#define BIG (3u << 20) /* a phone photo's size */

static uint8_t *pattern(size_t len, uint32_t seed)
{
    uint8_t *p = malloc(len);
    assert_non_null(p);
    uint32_t x = seed * 2654435761u + 1;
    for (size_t i = 0; i < len; i++) {
        x ^= x << 13, x ^= x >> 17, x ^= x << 5;
        p[i] = (uint8_t)x;
    }
    return p;
}

static int count_files(const char *dir)
{
    char cmd[PATH_MAX + 64];
    snprintf(cmd, sizeof cmd, "ls -A '%s' | wc -l", dir);
    FILE *f = popen(cmd, "r");
    int n = -1;
    assert_non_null(f);
    assert_int_equal(fscanf(f, "%d", &n), 1);
    pclose(f);
    return n;
}

static int count_cb(const uint8_t hash[static WM_HASH_BYTES], uint64_t size, void *ctx)
{
    (void)hash;
    (void)size;
    (*(int *)ctx)++;
    return 0;
}

/* put: content-addressed, once; read back; has/size; remove. */
static void test_put_read(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp(), sdir[PATH_MAX];
    snprintf(sdir, sizeof sdir, "%s/blobs", dir);
    wm_blob_t *bs = NULL;
    assert_int_equal(wm_blob_open(sdir, &bs), WM_OK);
    uint8_t *data = pattern(BIG, 1), h[WM_HASH_BYTES], h2[WM_HASH_BYTES], want[WM_HASH_BYTES];
    wm_hash(data, BIG, want);
    assert_int_equal(wm_blob_has(bs, want, NULL), WM_ENOTFOUND);
    assert_int_equal(wm_blob_put(bs, data, BIG, h), WM_OK);
    assert_memory_equal(h, want, WM_HASH_BYTES);
    assert_int_equal(wm_blob_put(bs, data, BIG, h2), WM_OK); /* stored once */
    assert_int_equal(count_files(sdir), 1);
    uint64_t size = 0;
    assert_int_equal(wm_blob_has(bs, h, &size), WM_OK);
    assert_int_equal(size, BIG);
    uint8_t buf[1000];
    size_t n = 0;
    assert_int_equal(wm_blob_read(bs, h, BIG - 500, buf, sizeof buf, &n), WM_OK);
    assert_int_equal(n, 500);
    assert_memory_equal(buf, data + BIG - 500, 500);
    int fd = -1;
    assert_int_equal(wm_blob_open_read(bs, h, &fd, &size), WM_OK);
    assert_true(fd >= 0);
    close(fd);
    char why[WM_WHY_MAX];
    assert_int_equal(wm_blob_verify(bs, h, why, sizeof why), WM_OK);
    /* an empty blob is a blob too */
    uint8_t he[WM_HASH_BYTES];
    assert_int_equal(wm_blob_put(bs, (const uint8_t *)"", 0, he), WM_OK);
    assert_int_equal(wm_blob_has(bs, he, &size), WM_OK);
    assert_int_equal(size, 0);
    int count = 0;
    assert_int_equal(wm_blob_list(bs, count_cb, &count), WM_OK);
    assert_int_equal(count, 2);
    assert_int_equal(wm_blob_remove(bs, he), WM_OK);
    assert_int_equal(wm_blob_remove(bs, he), WM_ENOTFOUND);
    assert_int_equal(wm_blob_open_read(bs, he, &fd, &size), WM_ENOTFOUND);
    wm_blob_close(&bs);
    assert_null(bs);
    free(data);
    tu_rmrf(dir);
    free(dir);
}

/* Thumbnails of pruned files: kept beside, durable, never a blob (not
 * listed, not present), read back; empty ones (no picture) allowed; an
 * oversize one refused; pruning the blob leaves the thumbnail. */
static void test_thumbs(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp(), sdir[PATH_MAX];
    snprintf(sdir, sizeof sdir, "%s/blobs", dir);
    wm_blob_t *bs = NULL;
    assert_int_equal(wm_blob_open(sdir, &bs), WM_OK);
    uint8_t *data = pattern(5000, 7), *thumb = pattern(700, 8), h[WM_HASH_BYTES];
    uint8_t h2[WM_HASH_BYTES], buf[1000];
    uint64_t size = 1;
    size_t n = 0;
    assert_int_equal(wm_blob_put(bs, data, 5000, h), WM_OK);
    assert_int_equal(wm_blob_thumb_has(bs, h, &size), WM_ENOTFOUND);
    assert_int_equal(wm_blob_thumb_put(bs, h, thumb, 700), WM_OK);
    assert_int_equal(wm_blob_remove(bs, h), WM_OK); /* pruned */
    assert_int_equal(wm_blob_has(bs, h, NULL), WM_ENOTFOUND);
    assert_int_equal(wm_blob_thumb_has(bs, h, &size), WM_OK);
    assert_int_equal(size, 700);
    assert_int_equal(wm_blob_thumb_read(bs, h, 100, buf, sizeof buf, &n), WM_OK);
    assert_int_equal(n, 600);
    assert_memory_equal(buf, thumb + 100, 600);
    int count = 0;
    assert_int_equal(wm_blob_list(bs, count_cb, &count), WM_OK);
    assert_int_equal(count, 0); /* a thumbnail is never a blob */
    assert_int_equal(wm_blob_thumb_put(bs, h, thumb, WM_BLOB_THUMB_MAX + 1), WM_ETOOBIG);
    wm_hash((const uint8_t *)"pdf", 3, h2);
    assert_int_equal(wm_blob_thumb_put(bs, h2, NULL, 0), WM_OK); /* pruned, no picture */
    assert_int_equal(wm_blob_thumb_has(bs, h2, &size), WM_OK);
    assert_int_equal(size, 0);
    assert_int_equal(count_files(sdir), 2); /* no temporary file left */
    wm_blob_close(&bs);
    free(data);
    free(thumb);
    tu_rmrf(dir);
    free(dir);
}

/* The receiving side: resume point, in-order writes only, bounds, complete
 * verifies; a mismatch discards; an altered file on disk is found. */
static void test_receive(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp(), why[WM_WHY_MAX];
    wm_blob_t *bs = NULL;
    assert_int_equal(wm_blob_open(dir, &bs), WM_OK);
    const size_t len = 200000;
    uint8_t *data = pattern(len, 2), h[WM_HASH_BYTES];
    wm_hash(data, len, h);
    uint64_t held = 99;
    assert_int_equal(wm_blob_part_held(bs, h, len, &held), WM_OK);
    assert_int_equal(held, 0);
    assert_int_equal(wm_blob_part_write(bs, h, len, 0, data, 70000), WM_OK);
    assert_int_equal(wm_blob_part_write(bs, h, len, 0, data, 10), WM_ECHAIN); /* not the resume point */
    assert_int_equal(wm_blob_part_write(bs, h, len, 80000, data, 10), WM_ECHAIN);
    assert_int_equal(wm_blob_part_write(bs, h, len, 70000, data, len), WM_ETOOBIG);
    assert_int_equal(wm_blob_part_write(bs, h, WM_BLOB_MAX + 1, 70000, data, 1), WM_ETOOBIG);
    assert_int_equal(wm_blob_part_held(bs, h, len, &held), WM_OK);
    assert_int_equal(held, 70000);
    assert_int_equal(wm_blob_has(bs, h, NULL), WM_ENOTFOUND); /* a .part is never present */
    int count = 0;
    assert_int_equal(wm_blob_list(bs, count_cb, &count), WM_OK);
    assert_int_equal(count, 0);
    assert_int_equal(wm_blob_part_complete(bs, h, len, why, sizeof why), WM_ESTATE);
    assert_int_equal(wm_blob_part_write(bs, h, len, 70000, data + 70000, len - 70000), WM_OK);
    assert_int_equal(wm_blob_part_complete(bs, h, len, why, sizeof why), WM_OK);
    assert_int_equal(wm_blob_has(bs, h, NULL), WM_OK);
    assert_int_equal(wm_blob_part_held(bs, h, len, &held), WM_OK);
    assert_int_equal(held, len);
    assert_int_equal(wm_blob_part_write(bs, h, len, 0, data, 1), WM_EEXIST);

    /* a tampered transfer: the right length, one byte changed */
    uint8_t *bad = pattern(len, 3), hb[WM_HASH_BYTES];
    wm_hash(bad, len, hb);
    bad[len / 2] ^= 1;
    assert_int_equal(wm_blob_part_write(bs, hb, len, 0, bad, len), WM_OK);
    assert_int_equal(wm_blob_part_complete(bs, hb, len, why, sizeof why), WM_ECORRUPT);
    assert_non_null(strstr(why, "do not hash"));
    assert_int_equal(wm_blob_has(bs, hb, NULL), WM_ENOTFOUND);
    assert_int_equal(wm_blob_part_held(bs, hb, len, &held), WM_OK);
    assert_int_equal(held, 0); /* discarded: the next transfer starts over */

    /* a .part longer than the blob cannot be its: dropped */
    char p[PATH_MAX], hex[WM_BLOB_HEXLEN + 1];
    snprintf(p, sizeof p, "%s/%s.part", dir, wm_hex(hb, WM_HASH_BYTES, hex));
    FILE *f = fopen(p, "w");
    assert_non_null(f);
    assert_int_equal(fwrite(bad, 1, 100, f), 100);
    fclose(f);
    assert_int_equal(wm_blob_part_held(bs, hb, 50, &held), WM_OK);
    assert_int_equal(held, 0);
    assert_int_equal(access(p, F_OK), -1);

    /* an altered file on disk: verify says so */
    snprintf(p, sizeof p, "%s/%s", dir, wm_hex(h, WM_HASH_BYTES, hex));
    f = fopen(p, "r+");
    assert_non_null(f);
    assert_int_equal(fseek(f, 1234, SEEK_SET), 0);
    assert_int_equal(fputc(0x55 ^ data[1234], f), 0x55 ^ data[1234]);
    fclose(f);
    assert_int_equal(wm_blob_verify(bs, h, why, sizeof why), WM_ECORRUPT);
    assert_non_null(strstr(why, "altered"));
    wm_blob_close(&bs);
    free(data);
    free(bad);
    tu_rmrf(dir);
    free(dir);
}

/* A path of dir's .part of h into p. */
static void part_path(char p[static PATH_MAX], const char *dir, const uint8_t *h)
{
    char hex[WM_BLOB_HEXLEN + 1];
    snprintf(p, PATH_MAX, "%s/%s.part", dir, wm_hex(h, WM_HASH_BYTES, hex));
}

/* The receiver: the hash kept as chunks arrive, resumed by reading the
 * .part once; in-order writes only; a .part another writer grew, replaced
 * or removed is noticed (WM_ESTATE), never named with bytes it did not
 * hash; wrong bytes are discarded. */
static void test_receiver(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp(), why[WM_WHY_MAX], p[PATH_MAX];
    wm_blob_t *bs = NULL;
    wm_blob_rx_t *rx = NULL;
    assert_int_equal(wm_blob_open(dir, &bs), WM_OK);
    const size_t len = 300000;
    uint8_t *data = pattern(len, 4), h[WM_HASH_BYTES];
    wm_hash(data, len, h);
    assert_int_equal(wm_blob_rx_open(bs, h, WM_BLOB_MAX + 1, &rx), WM_ETOOBIG);
    assert_int_equal(wm_blob_rx_open(bs, h, len, &rx), WM_OK);
    assert_int_equal(wm_blob_rx_held(rx), 0);
    assert_int_equal(wm_blob_rx_write(rx, 0, data, 70000), WM_OK);
    assert_int_equal(wm_blob_rx_write(rx, 0, data, 10), WM_ECHAIN);
    assert_int_equal(wm_blob_rx_write(rx, 70000, data, len), WM_ETOOBIG);
    wm_blob_rx_close(&rx);
    assert_null(rx);
    /* a new receiver resumes from the bytes held, its hash from the file */
    assert_int_equal(wm_blob_rx_open(bs, h, len, &rx), WM_OK);
    assert_int_equal(wm_blob_rx_held(rx), 70000);
    assert_int_equal(wm_blob_rx_complete(rx, why, sizeof why), WM_ESTATE); /* not all held */
    wm_blob_rx_close(&rx);
    assert_int_equal(wm_blob_rx_open(bs, h, len, &rx), WM_OK);
    for (size_t off = 70000; off < len; off += 65536) {
        size_t n = len - off < 65536 ? len - off : 65536;
        assert_int_equal(wm_blob_rx_write(rx, off, data + off, n), WM_OK);
    }
    assert_int_equal(wm_blob_has(bs, h, NULL), WM_ENOTFOUND); /* not before complete */
    assert_int_equal(wm_blob_rx_complete(rx, why, sizeof why), WM_OK);
    wm_blob_rx_close(&rx);
    assert_int_equal(wm_blob_verify(bs, h, why, sizeof why), WM_OK);
    assert_int_equal(wm_blob_rx_open(bs, h, len, &rx), WM_EEXIST);

    /* wrong bytes of the right length: discarded */
    uint8_t *bad = pattern(len, 5), hb[WM_HASH_BYTES];
    wm_hash(bad, len, hb);
    bad[len - 1] ^= 1;
    assert_int_equal(wm_blob_rx_open(bs, hb, len, &rx), WM_OK);
    assert_int_equal(wm_blob_rx_write(rx, 0, bad, len), WM_OK);
    assert_int_equal(wm_blob_rx_complete(rx, why, sizeof why), WM_ECORRUPT);
    assert_non_null(strstr(why, "do not hash"));
    wm_blob_rx_close(&rx);
    part_path(p, dir, hb);
    assert_int_equal(access(p, F_OK), -1);
    assert_int_equal(wm_blob_has(bs, hb, NULL), WM_ENOTFOUND);

    /* another writer appends to the .part: the receiver notices */
    bad[len - 1] ^= 1; /* the true bytes of hb again */
    assert_int_equal(wm_blob_rx_open(bs, hb, len, &rx), WM_OK);
    assert_int_equal(wm_blob_rx_write(rx, 0, bad, 1000), WM_OK);
    assert_int_equal(wm_blob_part_write(bs, hb, len, 1000, bad + 1000, 1000), WM_OK);
    assert_int_equal(wm_blob_rx_write(rx, 1000, bad + 1000, 1000), WM_ESTATE);
    wm_blob_rx_close(&rx);
    assert_int_equal(wm_blob_rx_open(bs, hb, len, &rx), WM_OK);
    assert_int_equal(wm_blob_rx_held(rx), 2000);
    /* the .part replaced by another file of the same size: noticed */
    assert_int_equal(wm_blob_rx_write(rx, 2000, bad + 2000, len - 2000), WM_OK);
    char tmp[PATH_MAX + 8];
    snprintf(tmp, sizeof tmp, "%s.x", p);
    FILE *f = fopen(tmp, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(bad, 1, len, f), len);
    fclose(f);
    assert_int_equal(rename(tmp, p), 0);
    assert_int_equal(wm_blob_rx_complete(rx, why, sizeof why), WM_ESTATE);
    wm_blob_rx_close(&rx);
    assert_int_equal(wm_blob_has(bs, hb, NULL), WM_ENOTFOUND);
    /* removed under the receiver: noticed */
    assert_int_equal(unlink(p), 0);
    assert_int_equal(wm_blob_rx_open(bs, hb, len, &rx), WM_OK);
    assert_int_equal(wm_blob_rx_write(rx, 0, bad, 1000), WM_OK);
    assert_int_equal(unlink(p), 0);
    assert_int_equal(wm_blob_rx_write(rx, 1000, bad + 1000, 1000), WM_ESTATE);
    wm_blob_rx_close(&rx);
    wm_blob_rx_close(&rx); /* NULL: nothing */
    wm_blob_close(&bs);
    free(data);
    free(bad);
    tu_rmrf(dir);
    free(dir);
}

/* The child of a crash round: receives blob `len` bytes in 1 KiB writes
 * (resuming from what is held; through a receiver if rx, else the .part
 * calls), completes it, then puts blobs of a seed sequence for ever. Exits
 * only by the parent's SIGKILL. */
static void crash_child(const char *dir, const uint8_t *data, size_t len,
                        const uint8_t h[static WM_HASH_BYTES], pid_t parent, int use_rx)
{
    wm_blob_t *bs = NULL;
    wm_blob_rx_t *rx = NULL;
    char why[WM_WHY_MAX];
    uint64_t held = 0;
    if (wm_blob_open(dir, &bs) != WM_OK || wm_blob_part_held(bs, h, len, &held) != WM_OK)
        _exit(2);
    if (use_rx && held < len && wm_blob_rx_open(bs, h, len, &rx) != WM_OK)
        _exit(2);
    while (held < len) {
        size_t n = len - held < 1024 ? len - held : 1024;
        if ((rx ? wm_blob_rx_write(rx, held, data + held, n)
                : wm_blob_part_write(bs, h, len, held, data + held, n)) != WM_OK)
            _exit(3);
        held += n;
    }
    if ((rx ? wm_blob_rx_complete(rx, why, sizeof why)
            : wm_blob_part_complete(bs, h, len, why, sizeof why)) != WM_OK)
        _exit(4);
    wm_blob_rx_close(&rx);
    for (uint32_t s = 100; getppid() == parent; s++) { /* a failed test leaks no child */
        uint8_t *p = pattern(50000 + s % 7 * 1000, s), ph[WM_HASH_BYTES];
        if (wm_blob_put(bs, p, 50000 + s % 7 * 1000, ph) != WM_OK)
            _exit(5);
        free(p);
    }
    _exit(6);
}

static int verify_cb(const uint8_t hash[static WM_HASH_BYTES], uint64_t size, void *ctx)
{
    char why[WM_WHY_MAX];
    (void)size;
    if (wm_blob_verify(ctx, hash, why, sizeof why) != WM_OK)
        fail_msg("after a kill: %s", why);
    return 0;
}

/* Polls (10 s deadline) until the .part of h holds at least target bytes
 * or the blob is present. */
static void wait_for_part(const char *dir, const uint8_t h[static WM_HASH_BYTES], uint64_t target)
{
    char part[PATH_MAX], whole[PATH_MAX], hex[WM_BLOB_HEXLEN + 1];
    struct stat st;
    wm_hex(h, WM_HASH_BYTES, hex);
    snprintf(part, sizeof part, "%s/%s.part", dir, hex);
    snprintf(whole, sizeof whole, "%s/%s", dir, hex);
    for (int i = 0; i < 1000000; i++) {
        if (stat(whole, &st) == 0 || (stat(part, &st) == 0 && (uint64_t)st.st_size >= target))
            return;
        struct timespec ts = {0, 10000};
        nanosleep(&ts, NULL);
    }
    fail_msg("the child wrote nothing in 10 s");
}

/* kill -9 at random moments of receiving and putting: never a present
 * blob with wrong bytes, no temporary file survives the next open, the
 * transfer resumes from the bytes it held and completes. */
static void test_crash_points(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp();
    const size_t len = 4u << 20;
    uint8_t *data = pattern(len, 9), h[WM_HASH_BYTES];
    wm_hash(data, len, h);
    unsigned seed = (unsigned)time(NULL);
    srand(seed);
    uint64_t last_held = 0;
    int resumed = 0;
    for (int round = 0; round < 12; round++) {
        pid_t parent = getpid(), pid = fork();
        assert_true(pid >= 0);
        if (pid == 0)
            crash_child(dir, data, len, h, parent, round % 2);
        /* rounds 0-7 kill when the .part reaches a random size (mid-transfer),
         * the others a moment into the puts that follow */
        wait_for_part(dir, h,
                      round < 8 && last_held < len
                          ? last_held + 1 + (uint64_t)rand() % (len - last_held)
                          : len);
        struct timespec ts = {0, round < 8 ? 0 : (long)(rand() % 5 + 1) * 1000000L};
        nanosleep(&ts, NULL);
        assert_int_equal(kill(pid, SIGKILL), 0);
        int status = 0;
        assert_int_equal(waitpid(pid, &status, 0), pid);
        if (!WIFSIGNALED(status))
            fail_msg("round %d (seed %u): the child exited %d", round, seed, WEXITSTATUS(status));
        wm_blob_t *bs = NULL;
        assert_int_equal(wm_blob_open(dir, &bs), WM_OK);
        assert_int_equal(wm_blob_list(bs, verify_cb, bs), WM_OK);
        uint64_t held = 0;
        assert_int_equal(wm_blob_part_held(bs, h, len, &held), WM_OK);
        assert_true(held >= last_held); /* resumes, never goes back */
        if (held > last_held && held < len)
            resumed++;
        if (wm_blob_has(bs, h, NULL) != WM_OK) {
            /* what the .part holds is a prefix of the blob */
            char p[PATH_MAX], hex[WM_BLOB_HEXLEN + 1];
            snprintf(p, sizeof p, "%s/%s.part", dir, wm_hex(h, WM_HASH_BYTES, hex));
            FILE *f = fopen(p, "rb");
            if (f) {
                uint8_t *got = malloc(held + 1);
                assert_int_equal(fread(got, 1, held, f), held);
                assert_memory_equal(got, data, held);
                free(got);
                fclose(f);
            }
        }
        last_held = held;
        wm_blob_close(&bs);
        char cmd[PATH_MAX + 64];
        snprintf(cmd, sizeof cmd, "ls -A '%s' | grep -c '^\\.tmp-' >/dev/null", dir);
        assert_int_not_equal(system(cmd), 0); /* no .tmp- file left */
    }
    /* the transfer finishes from where the kills left it */
    wm_blob_t *bs = NULL;
    char why[WM_WHY_MAX];
    uint64_t held = 0;
    assert_int_equal(wm_blob_open(dir, &bs), WM_OK);
    assert_int_equal(wm_blob_part_held(bs, h, len, &held), WM_OK);
    if (held < len)
        assert_int_equal(wm_blob_part_write(bs, h, len, held, data + held, len - held), WM_OK);
    assert_int_equal(wm_blob_part_complete(bs, h, len, why, sizeof why), WM_OK);
    assert_int_equal(wm_blob_verify(bs, h, why, sizeof why), WM_OK);
    print_message("crash rounds: 12, resumed mid-transfer in %d (seed %u)\n", resumed, seed);
    wm_blob_close(&bs);
    free(data);
    tu_rmrf(dir);
    free(dir);
}

int main(void)
{
    if (wm_crypto_init() != WM_OK)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_put_read),
        cmocka_unit_test(test_thumbs),
        cmocka_unit_test(test_receive),
        cmocka_unit_test(test_receiver),
        cmocka_unit_test(test_crash_points),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
