/* SPDX-License-Identifier: MIT */
/*
 * test_mapresize — storage/wm_store.c where another process grows the map
 * at the worst moments, and where the map cannot grow for a reason other
 * than its limit.
 *
 * A reader (wmctl status, a new process each time) that loses the CPU
 * between two LMDB calls meets a map that a writer grew meanwhile: LMDB
 * says MDB_MAP_RESIZED, and the reader must adopt the new size, as often
 * as it is grown. The windows are made certain here by wrapping two LMDB
 * calls of this executable (mdb_env_open, and mdb_env_set_mapsize with
 * size 0, the adoption): when armed, the wrapper lets a writer process
 * grow the data past the reader's map right after the real call. The
 * writer is a forked child with its own environment.
 *
 * Last, a write whose map must grow while another thread holds a read
 * transaction for longer than the resize wait: the error says that, not
 * map_max_mb.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dlfcn.h>
#include <pthread.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "wm_store.h"
#include "wm_testutil.h"

/* LMDB's own declarations, without lmdb.h (only storage/ includes it). */
typedef struct MDB_env MDB_env;
int mdb_env_open(MDB_env *env, const char *path, unsigned int flags, mode_t mode);
int mdb_env_set_mapsize(MDB_env *env, size_t size);

#define PAD_BYTES (64 << 10)

/* The data size (bytes of data.mdb) the next armed wrapper grows to; 0:
 * disarmed. Each wrapper grows once, then disarms itself. */
static size_t grow_on_open, grow_on_adopt;
static const char *grow_dir;
static int grown; /* how many times a writer grew the data */

/* Puts n 64 KiB meta values (names PREFIX-0 …) in one transaction, run
 * again while the map grows (as wmsync's writers do); the write's code,
 * its runs in *tries. */
static wm_err_t put_pads(wm_store_t *s, const char *prefix, int n, int *tries)
{
    static uint8_t pad[PAD_BYTES];
    wm_err_t err;
    *tries = 0;
    do {
        wm_txn_t *t = NULL;
        err = wm_txn_begin(s, 1, &t);
        for (int i = 0; err == WM_OK && i < n; i++) {
            char name[48];
            snprintf(name, sizeof name, "%s-%d", prefix, i);
            memset(pad, i, sizeof pad);
            err = wm_meta_put(t, name, pad, sizeof pad);
        }
        if (err == WM_OK)
            err = wm_txn_commit(&t);
        wm_txn_abort(&t);
    } while (wm_store_retry(s, &err, tries));
    return err;
}

/* In a child: a writer that puts 64 KiB values until data.mdb holds more
 * than `bytes`. Exits 0 when it did. */
static void writer_child(const char *dir, size_t bytes)
{
    wm_store_t *s = NULL;
    char path[4096], prefix[32];
    struct stat st;
    int tries = 0;
    int bad = wm_store_open(dir, WM_STORE_NOSYNC, 1, &s) != WM_OK;
    snprintf(path, sizeof path, "%s/data.mdb", dir);
    for (int i = 0; !bad && stat(path, &st) == 0 && (size_t)st.st_size <= bytes; i++) {
        snprintf(prefix, sizeof prefix, "pad-%d-%d", (int)getpid(), i);
        bad = put_pads(s, prefix, 4, &tries) != WM_OK;
    }
    wm_store_close(&s);
    _exit(bad);
}

/* Grows the data in dir past `bytes` from another process, now. */
static void grow_from_outside(const char *dir, size_t bytes)
{
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        grow_on_open = grow_on_adopt = 0;
        writer_child(dir, bytes);
    }
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    grown++;
}

int mdb_env_open(MDB_env *env, const char *path, unsigned int flags, mode_t mode)
{
    int (*real)(MDB_env *, const char *, unsigned int, mode_t) =
        (int (*)(MDB_env *, const char *, unsigned int, mode_t))dlsym(RTLD_NEXT, "mdb_env_open");
    assert_non_null(real);
    int rc = real(env, path, flags, mode);
    if (rc == 0 && grow_on_open) {
        size_t bytes = grow_on_open;
        grow_on_open = 0;
        grow_from_outside(grow_dir, bytes);
    }
    return rc;
}

int mdb_env_set_mapsize(MDB_env *env, size_t size)
{
    int (*real)(MDB_env *, size_t) =
        (int (*)(MDB_env *, size_t))dlsym(RTLD_NEXT, "mdb_env_set_mapsize");
    assert_non_null(real);
    int rc = real(env, size);
    if (rc == 0 && size == 0 && grow_on_adopt) { /* size 0: adopting another's growth */
        size_t bytes = grow_on_adopt;
        grow_on_adopt = 0;
        grow_from_outside(grow_dir, bytes);
    }
    return rc;
}

/* A read transaction sees what the writers put. */
static void expect_readable(wm_store_t *s)
{
    wm_txn_t *t = NULL;
    assert_int_equal(wm_txn_begin(s, 0, &t), WM_OK);
    uint8_t fmt[4];
    size_t len = 0;
    assert_int_equal(wm_meta_get(t, "format", fmt, sizeof fmt, &len), WM_OK);
    assert_int_equal(len, 4);
    wm_txn_abort(&t);
}

/* A new store in a new directory, 1 MiB map, a little data. */
static char *new_store(void)
{
    char *dir = tu_mkdtemp();
    wm_store_t *s = NULL;
    assert_int_equal(wm_store_open(dir, WM_STORE_NOSYNC, 1, &s), WM_OK);
    wm_store_close(&s);
    grow_dir = dir;
    return dir;
}

/* The map grows between the reader's mdb_env_open and its first
 * transaction (inside wm_store_open): the open still succeeds. */
static void test_grown_during_open(void **state)
{
    (void)state;
    char *dir = new_store();
    wm_store_t *s = NULL;
    grown = 0;
    grow_on_open = 4 << 20;
    assert_int_equal(wm_store_open(dir, WM_STORE_RDONLY, 1, &s), WM_OK);
    assert_int_equal(grown, 1);
    expect_readable(s);
    wm_store_close(&s);
    tu_rmrf(dir);
    free(dir);
}

/* The map grows past the reader's, and again while the reader adopts the
 * first growth: the transaction still begins. */
static void test_grown_while_adopting(void **state)
{
    (void)state;
    char *dir = new_store();
    wm_store_t *s = NULL;
    grown = 0;
    assert_int_equal(wm_store_open(dir, WM_STORE_RDONLY, 1, &s), WM_OK);
    grow_from_outside(dir, 4 << 20);
    grow_on_adopt = 16 << 20; /* beyond what the first adoption maps */
    expect_readable(s);
    assert_int_equal(grown, 2);
    assert_int_equal(grow_on_adopt, 0);
    wm_store_close(&s);
    tu_rmrf(dir);
    free(dir);
}

/* A thread holding a read transaction until told to end it. */
typedef struct {
    wm_store_t *s;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int begun, stop;
} holder_t;

static void *hold_read(void *arg)
{
    holder_t *h = arg;
    wm_txn_t *t = NULL;
    wm_err_t err = wm_txn_begin(h->s, 0, &t);
    pthread_mutex_lock(&h->mu);
    h->begun = err == WM_OK ? 1 : -1;
    pthread_cond_broadcast(&h->cv);
    while (!h->stop)
        pthread_cond_wait(&h->cv, &h->mu);
    pthread_mutex_unlock(&h->mu);
    wm_txn_abort(&t);
    return NULL;
}

/* The map is full and another thread's read transaction stays open past
 * the resize wait: the write fails as timed out, and the detail names the
 * open transaction, not the map's limit. Takes the wait (5 s). */
static void test_grow_waits_too_long(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp();
    wm_store_t *s = NULL;
    holder_t h = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};
    pthread_t th;
    assert_int_equal(wm_store_open(dir, WM_STORE_NOSYNC, 1, &s), WM_OK);
    h.s = s;
    assert_int_equal(pthread_create(&th, NULL, hold_read, &h), 0);
    pthread_mutex_lock(&h.mu);
    while (!h.begun)
        pthread_cond_wait(&h.cv, &h.mu);
    pthread_mutex_unlock(&h.mu);
    assert_int_equal(h.begun, 1);

    /* 2 MiB in one transaction: more than the 1 MiB map holds. */
    int tries = 0;
    wm_err_t err = put_pads(s, "pad", 32, &tries);
    assert_int_equal(tries, 1);
    assert_string_equal(wm_errname(err), "timeout");
    assert_non_null(strstr(wm_store_detail(s), "stayed open"));
    assert_null(strstr(wm_store_detail(s), "map_max_mb"));

    pthread_mutex_lock(&h.mu);
    h.stop = 1;
    pthread_cond_broadcast(&h.cv);
    pthread_mutex_unlock(&h.mu);
    assert_int_equal(pthread_join(th, NULL), 0);

    /* With the reader gone, the same write grows the map and commits. */
    err = put_pads(s, "pad", 32, &tries);
    assert_int_equal(err, WM_OK);
    wm_store_close(&s);
    tu_rmrf(dir);
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_grown_during_open),
        cmocka_unit_test(test_grown_while_adopting),
        cmocka_unit_test(test_grow_waits_too_long),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
