/* SPDX-License-Identifier: MIT */
/*
 * test_quota — storage/wm_quota.c against a real LMDB environment: the
 * limit of one capture day and the limit in all, a 60-day backlog that is
 * never refused, nothing charged by an aborted transaction, refunds, the
 * usage report, a batch's accumulated charges (the same as one by one),
 * and capture days at the edges of time.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "wm_date.h"
#include "wm_quota.h"
#include "wm_testutil.h"

#define DAY0 1710460800 /* 2024-03-15 00:00 UTC */

typedef struct {
    char *dir;
    wm_store_t *s;
} fx_t;

static int setup(void **state)
{
    fx_t *f = calloc(1, sizeof *f);
    f->dir = tu_mkdtemp();
    assert_int_equal(wm_store_open(f->dir, WM_STORE_NOSYNC, 1, &f->s), WM_OK);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx_t *f = *state;
    wm_store_close(&f->s);
    tu_rmrf(f->dir);
    free(f->dir);
    free(f);
    return 0;
}

/* Charges n records of len bytes captured at `at`, each in its own
 * committed transaction; returns how many were charged before a refusal
 * (why holds it). */
static int charge_n(wm_store_t *s, const wm_quota_t *q, uint32_t node, int64_t at, size_t len,
                    int n, char *why, size_t cap)
{
    for (int i = 0; i < n; i++) {
        wm_txn_t *t = NULL;
        assert_int_equal(wm_txn_begin(s, 1, &t), WM_OK);
        wm_err_t err = wm_quota_charge(t, q, node, at + i, len, why, cap);
        if (err != WM_OK) {
            assert_int_equal(err, WM_EQUOTA);
            wm_txn_abort(&t);
            return i;
        }
        assert_int_equal(wm_txn_commit(&t), WM_OK);
    }
    return n;
}

static void use_of(wm_store_t *s, uint32_t node, wm_quota_use_t *u)
{
    wm_txn_t *t = NULL;
    assert_int_equal(wm_txn_begin(s, 0, &t), WM_OK);
    assert_int_equal(wm_quota_usage(t, node, u), WM_OK);
    wm_txn_abort(&t);
}

static void test_day_limit(void **state)
{
    fx_t *f = *state;
    wm_quota_t q = {5000, 0};
    char why[256] = "";
    /* Five records of 1000 bytes fill the day; the sixth is refused,
     * naming the day and the key that sets the limit. */
    assert_int_equal(charge_n(f->s, &q, 1, DAY0 + 3600, 1000, 10, why, sizeof why), 5);
    assert_non_null(strstr(why, "2024-03-15"));
    assert_non_null(strstr(why, "day_mb"));
    assert_non_null(strstr(why, "5000"));
    /* The next capture day has its own room; another node is untouched. */
    assert_int_equal(charge_n(f->s, &q, 1, DAY0 + 86400, 1000, 5, why, sizeof why), 5);
    assert_int_equal(charge_n(f->s, &q, 2, DAY0 + 3600, 1000, 5, why, sizeof why), 5);
    wm_quota_use_t u;
    use_of(f->s, 1, &u);
    assert_int_equal(u.bytes, 10000);
    assert_int_equal(u.records, 10);
    assert_int_equal(u.days, 2);
    assert_int_equal(u.max_day_bytes, 5000);
    assert_int_equal(u.max_day, 20240315);
    use_of(f->s, 3, &u);
    assert_int_equal(u.bytes, 0);
    assert_int_equal(u.max_day, 0);
}

/* Sixty days offline, each a busy day, arriving at once: all charged. */
static void test_backlog_by_capture_day(void **state)
{
    fx_t *f = *state;
    wm_quota_t q = {(uint64_t)WM_QUOTA_DAY_MB << 20, (uint64_t)WM_QUOTA_TOTAL_MB << 20};
    char why[256] = "";
    wm_txn_t *t = NULL;
    assert_int_equal(wm_txn_begin(f->s, 1, &t), WM_OK);
    for (int d = 0; d < 60; d++)
        for (int r = 0; r < 40; r++) /* 40 records of 600 bytes a day */
            assert_int_equal(wm_quota_charge(t, &q, 7, DAY0 + d * 86400 + r * 60, 600, why,
                                             sizeof why),
                             WM_OK);
    assert_int_equal(wm_txn_commit(&t), WM_OK);
    wm_quota_use_t u;
    use_of(f->s, 7, &u);
    assert_int_equal(u.days, 60);
    assert_int_equal(u.records, 2400);
    assert_int_equal(u.bytes, 2400 * 600);
}

static void test_total_limit_and_abort(void **state)
{
    fx_t *f = *state;
    wm_quota_t q = {0, 10000};
    char why[256] = "";
    /* Spread over many days (a station choosing its capture times) the
     * total still binds. */
    for (int d = 0; d < 9; d++)
        assert_int_equal(charge_n(f->s, &q, 1, DAY0 + d * 86400, 1000, 1, why, sizeof why), 1);
    assert_int_equal(charge_n(f->s, &q, 1, DAY0 + 20 * 86400, 1000, 3, why, sizeof why), 1);
    assert_non_null(strstr(why, "total_mb"));
    /* What an aborted transaction charged is not counted. */
    wm_txn_t *t = NULL;
    wm_quota_t none = {0, 0};
    assert_int_equal(wm_txn_begin(f->s, 1, &t), WM_OK);
    assert_int_equal(wm_quota_charge(t, &none, 1, DAY0, 123456, why, sizeof why), WM_OK);
    wm_txn_abort(&t);
    wm_quota_use_t u;
    use_of(f->s, 1, &u);
    assert_int_equal(u.bytes, 10000);
    assert_int_equal(u.records, 10);
}

/* Refunds n records of len bytes captured at `at` in one transaction. */
static void refund_n(wm_store_t *s, uint32_t node, int64_t at, size_t len, int n)
{
    wm_txn_t *t = NULL;
    assert_int_equal(wm_txn_begin(s, 1, &t), WM_OK);
    for (int i = 0; i < n; i++)
        assert_int_equal(wm_quota_refund(t, node, at + i, len), WM_OK);
    assert_int_equal(wm_txn_commit(&t), WM_OK);
}

static void test_refund(void **state)
{
    fx_t *f = *state;
    wm_quota_t q = {5000, 0};
    char why[256] = "";
    wm_quota_use_t u;
    assert_int_equal(charge_n(f->s, &q, 1, DAY0, 1000, 5, why, sizeof why), 5);
    assert_int_equal(charge_n(f->s, &q, 1, DAY0 + 86400, 1000, 1, why, sizeof why), 1);
    /* Two of the full day and the other day's one given back: the day
     * takes two again, the emptied day is gone. */
    refund_n(f->s, 1, DAY0, 1000, 2);
    refund_n(f->s, 1, DAY0 + 86400, 1000, 1);
    use_of(f->s, 1, &u);
    assert_int_equal(u.bytes, 3000);
    assert_int_equal(u.records, 3);
    assert_int_equal(u.days, 1);
    assert_int_equal(charge_n(f->s, &q, 1, DAY0, 1000, 3, why, sizeof why), 2);
    /* Nothing charged, nothing to give back: no counter below 0. */
    refund_n(f->s, 2, DAY0, 1000, 1);
    use_of(f->s, 2, &u);
    assert_int_equal(u.bytes, 0);
    assert_int_equal(u.records, 0);
    assert_int_equal(u.days, 0);
}

/* The accumulator of a batch (wm_quota_acc_*) against one charge per
 * record: the same counters after 40 capture days (more than its slots,
 * so it flushes early), and the refusal at the same record with the same
 * words, after records of this batch filled the day. */
static void test_accumulated(void **state)
{
    fx_t *f = *state;
    wm_quota_t q = {30000, 0};
    char why1[256] = "", why2[256] = "";
    wm_txn_t *t = NULL;
    wm_quota_acc_t acc = {0};
    assert_int_equal(wm_txn_begin(f->s, 1, &t), WM_OK);
    for (int d = 0; d < 40; d++)
        for (int r = 0; r < 3; r++) {
            assert_int_equal(wm_quota_charge(t, &q, 1, DAY0 + d * 86400 + r, 700 + d, why1,
                                             sizeof why1), WM_OK);
            assert_int_equal(wm_quota_acc_charge(&acc, t, &q, 2, DAY0 + d * 86400 + r, 700 + d,
                                                 why2, sizeof why2), WM_OK);
        }
    assert_int_equal(wm_quota_acc_flush(&acc, t), WM_OK);
    assert_int_equal(wm_txn_commit(&t), WM_OK);
    wm_quota_use_t u1, u2;
    use_of(f->s, 1, &u1);
    use_of(f->s, 2, &u2);
    assert_memory_equal(&u1, &u2, sizeof u1);
    assert_int_equal(u2.days, 40);
    assert_int_equal(u2.records, 120);
    /* A day holding 2100 bytes: 39 more of 700 fit (29400), the 40th not. */
    int i1 = 0, i2 = 0;
    assert_int_equal(wm_txn_begin(f->s, 1, &t), WM_OK);
    while (wm_quota_charge(t, &q, 1, DAY0 + 1000 + i1, 700, why1, sizeof why1) == WM_OK)
        i1++;
    memset(&acc, 0, sizeof acc);
    while (wm_quota_acc_charge(&acc, t, &q, 2, DAY0 + 1000 + i2, 700, why2, sizeof why2) == WM_OK)
        i2++;
    wm_txn_abort(&t);
    assert_int_equal(i1, 39);
    assert_int_equal(i2, 39);
    assert_string_equal(why1, why2);
}

static void test_capture_day(void **state)
{
    (void)state;
    assert_int_equal(wm_quota_day(DAY0), 20240315);
    assert_int_equal(wm_quota_day(DAY0 + 86399), 20240315);
    assert_int_equal(wm_quota_day(DAY0 - 1), 20240314);
    assert_int_equal(wm_quota_day(-5), WM_DATE_MIN);
    assert_int_equal(wm_quota_day(0), WM_DATE_MIN);
    assert_int_equal(wm_quota_day(INT64_MAX), WM_DATE_MAX);
    assert_int_equal(wm_quota_day(INT64_MIN), WM_DATE_MIN);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_day_limit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_backlog_by_capture_day, setup, teardown),
        cmocka_unit_test_setup_teardown(test_total_limit_and_abort, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refund, setup, teardown),
        cmocka_unit_test_setup_teardown(test_accumulated, setup, teardown),
        cmocka_unit_test(test_capture_day),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
