/* SPDX-License-Identifier: MIT */
/*
 * test_report — storage/wm_report.c at the county: the sums of the towns'
 * published rollups (wm_report_build_tier) against a real LMDB store
 * holding two enrolled towns and their signed RollupReport records. A
 * town's figure that would take a sum beyond int64 is refused by name
 * (town_report_invalid), never added with an overflow.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "wm_report.h"
#include "wm_store.h"
#include "wm_testutil.h"

#define PERIOD "2024-05"

/* Enrols town id and appends its rollup of PERIOD whose totals are
 * `totals` (a JSON object text), as seq 1 of epoch 1. */
static void add_town(wm_txn_t *t, const char *id, uint8_t key, const char *totals)
{
    uint8_t curve[WM_PUB_BYTES];
    memset(curve, key, sizeof curve);
    Wm__PeerState ps = WM__PEER_STATE__INIT;
    ps.node = (char *)id;
    ps.name = (char *)id;
    ps.role = "town";
    ps.state = WM_PEER_ACTIVE;
    ps.curve_pub = (ProtobufCBinaryData){sizeof curve, curve};
    assert_int_equal(wm_peer_put(t, &ps), WM_OK);

    uint32_t node = 0;
    assert_int_equal(wm_nodeno_add(t, id, &node), WM_OK);
    char json[512];
    snprintf(json, sizeof json, "{\"period\":\"" PERIOD "\",\"totals\":%s}", totals);
    Wm__RollupReport rr = WM__ROLLUP_REPORT__INIT;
    rr.period = PERIOD;
    rr.from = 20240501;
    rr.to = 20240531;
    rr.json = json;
    tu_rec_t tr;
    tu_rec_init(&tr, id, 1, 1, NULL);
    tr.r.body_case = WM__RECORD__BODY_ROLLUP;
    tr.r.rollup = &rr;
    wm_signer_t *s = tu_signer(key);
    size_t len = 0;
    uint8_t *srec = tu_seal(&tr, s, &len);
    assert_int_equal(wm_log_append(t, node, &tr.r, srec, len), WM_OK);
    free(srec);
    wm_signer_free(&s);
}

/* The county's report of PERIOD over the two towns' totals. */
static json_t *county_of(const char *a_totals, const char *b_totals, char **dir_out)
{
    char *dir = tu_mkdtemp();
    wm_store_t *s = NULL;
    wm_txn_t *t = NULL;
    json_t *j = NULL;
    wm_period_t p;
    assert_int_equal(wm_store_open(dir, 0, 8, &s), WM_OK);
    assert_int_equal(wm_txn_begin(s, 1, &t), WM_OK);
    add_town(t, "xx-county/a", 0x11, a_totals);
    add_town(t, "xx-county/b", 0x22, b_totals);
    assert_int_equal(wm_txn_commit(&t), WM_OK);
    assert_int_equal(wm_period_parse(PERIOD, &p), WM_OK);
    char why[512] = "";
    wm_report_opts_t o = {.id = "xx-county", .name = "县", .role = "county", .aggregator = 1,
                          .cadence_days = 14, .silent_days = 7, .today = 20240601,
                          .now = 1717200000, .why = why, .why_cap = sizeof why};
    assert_int_equal(wm_txn_begin(s, 0, &t), WM_OK);
    assert_int_equal(wm_report_build_tier(t, &p, &o, &j), WM_OK);
    wm_txn_abort(&t);
    wm_store_close(&s);
    *dir_out = dir;
    return j;
}

/* Frees a report of county_of and removes its store. */
static void county_free(json_t *j, char *dir)
{
    json_decref(j);
    tu_rmrf(dir);
    free(dir);
}

static json_int_t total_activities(const json_t *j)
{
    return json_integer_value(
        json_object_get(json_object_get(json_object_get(j, "totals"), "activities"), "total"));
}

/* The problems of kind `kind`, and the town and field of the last one. */
static int problems_of(const json_t *j, const char *kind, const char **town, const char **field)
{
    size_t i;
    json_t *x;
    int n = 0;
    json_array_foreach(json_object_get(j, "problems"), i, x)
    {
        if (strcmp(json_string_value(json_object_get(x, "kind")), kind) != 0)
            continue;
        n++;
        *town = json_string_value(json_object_get(x, "town"));
        *field = json_string_value(json_object_get(x, "field"));
    }
    return n;
}

static void test_tier_sums(void **state)
{
    (void)state;
    char *dir = NULL;
    const char *town = NULL, *field = NULL;
    json_t *j = county_of("{\"activities\":{\"total\":7}}", "{\"activities\":{\"total\":5}}", &dir);
    assert_int_equal(total_activities(j), 12);
    assert_int_equal(problems_of(j, "town_report_invalid", &town, &field), 0);
    assert_int_equal(json_array_size(json_object_get(j, "stations")), 2);
    county_free(j, dir);
}

static void test_tier_sum_beyond_int64(void **state)
{
    (void)state;
    char *dir = NULL;
    const char *town = NULL, *field = NULL;
    /* Town a: a signed figure just under the largest int64; town b then
     * adds 10. Today's code wrapped the county's total to a negative. */
    json_t *j = county_of("{\"activities\":{\"total\":9223372036854775800}}",
                          "{\"activities\":{\"total\":10}}", &dir);
    assert_int_equal(total_activities(j), INT64_C(9223372036854775800));
    assert_int_equal(problems_of(j, "town_report_invalid", &town, &field), 1);
    assert_string_equal(town, "xx-county/b");
    assert_string_equal(field, "total");
    /* Only the town that could be added is a row. */
    assert_int_equal(json_array_size(json_object_get(j, "stations")), 1);
    county_free(j, dir);

    /* Below the smallest int64 too, and a real that is no longer finite. */
    j = county_of("{\"activities\":{\"total\":-9223372036854775800}}",
                  "{\"activities\":{\"total\":-10}}", &dir);
    assert_int_equal(problems_of(j, "town_report_invalid", &town, &field), 1);
    county_free(j, dir);
    /* An older town's real beyond what hundredths of an int64 hold: each
     * such report is refused by name. */
    j = county_of("{\"service_hours\":1.5e308}", "{\"service_hours\":1.5e308}", &dir);
    assert_int_equal(problems_of(j, "town_report_invalid", &town, &field), 2);
    assert_string_equal(field, "service_hours");
    county_free(j, dir);
}

static double total_real(const json_t *j, const char *key)
{
    return json_real_value(json_object_get(json_object_get(j, "totals"), key));
}

static json_int_t total_int(const json_t *j, const char *key)
{
    return json_integer_value(json_object_get(json_object_get(j, "totals"), key));
}

/* The county adds the towns' integer sums (fen, hours × 100) and computes
 * the reals from them: 0.1 + 0.2 yuan is exactly 0.3 yuan, 30 fen. The old
 * code added the reals and showed 0.30000000000000004. A town of an older
 * build, without the integer keys, counts by its real. */
static void test_tier_sums_exact(void **state)
{
    (void)state;
    char *dir = NULL;
    const char *town = NULL, *field = NULL;
    json_t *j = county_of("{\"funding_yuan\":0.1,\"funding_fen\":10,"
                          "\"service_hours\":0.1,\"service_hours_x100\":10}",
                          "{\"funding_yuan\":0.2,\"funding_fen\":20,"
                          "\"service_hours\":0.2,\"service_hours_x100\":20}",
                          &dir);
    assert_int_equal(problems_of(j, "town_report_invalid", &town, &field), 0);
    assert_int_equal(total_int(j, "funding_fen"), 30);
    assert_int_equal(total_int(j, "service_hours_x100"), 30);
    assert_true(total_real(j, "funding_yuan") == 0.3);
    assert_true(total_real(j, "service_hours") == 0.3);
    county_free(j, dir);

    /* An older town (reals only) beside a new one. */
    j = county_of("{\"funding_yuan\":0.1,\"service_hours\":0.1}",
                  "{\"funding_yuan\":0.2,\"funding_fen\":20}", &dir);
    assert_int_equal(problems_of(j, "town_report_invalid", &town, &field), 0);
    assert_int_equal(total_int(j, "funding_fen"), 30);
    assert_true(total_real(j, "funding_yuan") == 0.3);
    assert_int_equal(total_int(j, "service_hours_x100"), 10);
    assert_true(total_real(j, "service_hours") == 0.1);
    county_free(j, dir);

    /* An integer key that is no integer is refused by name. */
    j = county_of("{\"funding_fen\":0.5}", "{\"funding_fen\":20}", &dir);
    assert_int_equal(problems_of(j, "town_report_invalid", &town, &field), 1);
    assert_string_equal(town, "xx-county/a");
    assert_string_equal(field, "funding_fen");
    assert_int_equal(total_int(j, "funding_fen"), 20);
    county_free(j, dir);
}

/* The figure key of totals.orders: an integer, or (real) a number. */
static double orders_fig(const json_t *j, const char *key)
{
    return json_number_value(json_object_get(json_object_get(json_object_get(j, "totals"), "orders"), key));
}

/* Needs and orders add up the tiers as sums and counts; the average and
 * the rate are derived from the sums, never added: town a closed 3 loops
 * rated 5, 5, 2 (avg 4, 2 of 3 satisfied), town b 1 rated 4; the county's
 * average is 16 / 4 = 4 and its rate 3 / 4, where adding the towns' own
 * (4 + 4, 0.667 + 1) would be wrong. Towns without "orders" (an older
 * build, or no needs) give a county without it. */
static void test_tier_orders(void **state)
{
    (void)state;
    char *dir = NULL;
    json_t *j = county_of("{\"orders\":{\"needs_received\":4,\"loops_closed\":3,\"rating_sum\":12,"
                          "\"ratings_satisfied\":2,\"rating_avg\":4.0,\"satisfaction_rate\":0.6667}}",
                          "{\"orders\":{\"needs_received\":1,\"loops_closed\":1,\"rating_sum\":4,"
                          "\"ratings_satisfied\":1,\"rating_avg\":4.0,\"satisfaction_rate\":1.0}}",
                          &dir);
    assert_int_equal((int)orders_fig(j, "needs_received"), 5);
    assert_int_equal((int)orders_fig(j, "loops_closed"), 4);
    assert_int_equal((int)orders_fig(j, "rating_sum"), 16);
    assert_true(orders_fig(j, "rating_avg") == 4.0);
    assert_true(orders_fig(j, "satisfaction_rate") == 0.75);
    county_free(j, dir);
    j = county_of("{\"activities\":{\"total\":7}}", "{\"activities\":{\"total\":5}}", &dir);
    assert_null(json_object_get(json_object_get(j, "totals"), "orders")); /* none: as before */
    county_free(j, dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tier_sums),
        cmocka_unit_test(test_tier_sum_beyond_int64),
        cmocka_unit_test(test_tier_sums_exact),
        cmocka_unit_test(test_tier_orders),
    };
    if (wm_crypto_init() != WM_OK)
        return 1;
    return cmocka_run_group_tests(tests, NULL, NULL);
}
