/* SPDX-License-Identifier: MIT */
/*
 * test_rollbin — the binary form of a published rollup (proto/wm_rollbin):
 * a rollup object survives encode and decode figure for figure (slots,
 * teams, extras, the reals from their integer sums), with its rows,
 * covers, problems and names; stripping the rows keeps the rest; what is
 * not a RollupBin is refused; the needs-and-orders figures travel as
 * extras and their ratios are derived again.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wm_rollbin.h"

static const char *const SAMPLE =
    "{\"schema\":1,\"period\":\"2024-05\",\"from\":\"2024-05-01\",\"to\":\"2024-05-31\","
    "\"scope\":\"town\",\"id\":\"xx/lh\",\"name\":\"龙华镇\",\"generated\":\"2024-06-01T08:00:00+0800\","
    "\"covers\":[{\"station\":\"xx/lh/a\",\"epoch\":1,\"seq\":11,\"hash\":"
    "\"00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\"}],"
    "\"totals\":{\"activities\":{\"theme_lecture\":3,\"total\":4,\"culture_sports\":1},"
    "\"volunteer_services\":{\"by_kind\":{\"legal\":2,\"total\":2},\"by_team\":{\"xx/lh/a/t1\":2,"
    "\"xx/lh/a/idle\":0},\"total\":2},\"participants\":40,\"service_hours\":2.5,"
    "\"service_hours_x100\":250,\"funding_yuan\":100.25,\"funding_fen\":10025,"
    "\"future_figure\":7,\"sites\":{\"reporting\":1,\"plaque\":1}},"
    "\"stations\":[{\"id\":\"xx/lh/a\",\"name\":\"新河村新时代文明实践站\",\"totals\":"
    "{\"activities\":{\"total\":4}}}],"
    "\"problems\":[{\"kind\":\"team_never_served\",\"station\":\"xx/lh/a\",\"team\":\"idle\","
    "\"name\":\"西村文艺志愿服务队\"}],"
    "\"names\":{\"nodes\":{\"xx/lh/a\":\"新河村新时代文明实践站\"},\"teams\":{\"xx/lh/a/idle\":"
    "\"西村文艺志愿服务队\"}}}";

static json_t *at(json_t *j, const char *path)
{
    char key[64];
    while (j && *path) {
        const char *dot = strchr(path, '.');
        size_t n = dot ? (size_t)(dot - path) : strlen(path);
        memcpy(key, path, n);
        key[n] = 0;
        j = json_object_get(j, key);
        path += n + (dot != NULL);
    }
    return j;
}

static void test_roundtrip(void **state)
{
    (void)state;
    json_t *j = json_loads(SAMPLE, 0, NULL), *back = NULL;
    uint8_t *buf = NULL;
    size_t len = 0;
    assert_non_null(j);
    assert_int_equal(wm_rollbin_encode(j, 1, &buf, &len), WM_OK);
    assert_true(len < strlen(SAMPLE)); /* compact */
    const char *seed = getenv("WM_ROLLBIN_SEED"); /* the fuzzer's seed (tests/fuzz) */
    FILE *sf = seed ? fopen(seed, "wb") : NULL;
    if (sf) {
        assert_int_equal(fwrite(buf, 1, len, sf), len);
        assert_int_equal(fclose(sf), 0);
    }
    assert_int_equal(wm_rollbin_decode(buf, len, "xx/lh", &back), WM_OK);
    static const char *const ints[] = {
        "totals.activities.theme_lecture", "totals.activities.total",
        "totals.activities.culture_sports", "totals.volunteer_services.by_kind.legal",
        "totals.volunteer_services.total", "totals.participants", "totals.service_hours_x100",
        "totals.funding_fen", "totals.future_figure", "totals.sites.reporting",
        "totals.sites.plaque", "totals.volunteer_services.by_team.xx/lh/a/t1"};
    for (size_t i = 0; i < sizeof ints / sizeof ints[0]; i++) {
        json_t *a = at(j, ints[i]), *b = at(back, ints[i]);
        if (!json_is_integer(b) || json_integer_value(a) != json_integer_value(b))
            fail_msg("%s: %lld, decoded %lld", ints[i], (long long)json_integer_value(a),
                     (long long)json_integer_value(b));
    }
    /* by_team keys hold slashes: read them directly. */
    json_t *teams = at(back, "totals.volunteer_services.by_team");
    assert_int_equal(json_integer_value(json_object_get(teams, "xx/lh/a/t1")), 2);
    assert_true(json_is_integer(json_object_get(teams, "xx/lh/a/idle")));
    assert_true(json_real_value(at(back, "totals.service_hours")) == 2.5);
    assert_true(json_real_value(at(back, "totals.funding_yuan")) == 100.25);
    assert_int_equal(json_integer_value(at(back, "totals.plans.overdue")), 0); /* every slot */
    assert_string_equal(json_string_value(at(back, "id")), "xx/lh");
    assert_string_equal(json_string_value(at(back, "name")), "龙华镇");
    assert_string_equal(json_string_value(at(back, "from")), "2024-05-01");
    json_t *cov = json_array_get(at(back, "covers"), 0);
    assert_string_equal(json_string_value(json_object_get(cov, "hash")),
                        "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff");
    assert_int_equal(json_integer_value(json_object_get(cov, "seq")), 11);
    json_t *row = json_array_get(at(back, "stations"), 0);
    assert_string_equal(json_string_value(json_object_get(row, "name")), "新河村新时代文明实践站");
    assert_int_equal(json_integer_value(at(row, "totals.activities.total")), 4);
    assert_true(json_equal(at(back, "problems"), at(j, "problems")));
    assert_string_equal(json_string_value(json_object_get(at(back, "names.nodes"), "xx/lh/a")),
                        "新河村新时代文明实践站");
    assert_string_equal(json_string_value(json_object_get(at(back, "names.teams"), "xx/lh/a/idle")),
                        "西村文艺志愿服务队");

    uint8_t *small = NULL;
    size_t slen = 0;
    json_t *norows = NULL;
    assert_int_equal(wm_rollbin_summary(buf, len, &small, &slen), WM_OK);
    assert_true(slen < len);
    assert_int_equal(wm_rollbin_decode(small, slen, "xx/lh", &norows), WM_OK);
    assert_int_equal(json_array_size(at(norows, "stations")), 0);
    assert_true(json_equal(at(norows, "totals"), at(back, "totals")));
    json_decref(norows);
    free(small);
    json_decref(back);
    json_decref(j);
    free(buf);
}

/* The figures of needs and orders travel as extras ("orders.…"); the two
 * ratios are not carried but derived again from the sums on decoding. */
static void test_orders(void **state)
{
    (void)state;
    json_t *j = json_loads(
        "{\"schema\":1,\"period\":\"2024-05\",\"from\":\"2024-05-01\",\"to\":\"2024-05-31\","
        "\"scope\":\"town\",\"id\":\"xx/lh\",\"name\":\"t\",\"generated\":\"x\",\"covers\":[],"
        "\"totals\":{\"orders\":{\"needs_received\":3,\"loops_closed\":4,\"rating_sum\":17,"
        "\"ratings_satisfied\":3,\"rating_avg\":9.5,\"satisfaction_rate\":0.1}},"
        "\"stations\":[],\"problems\":[],\"names\":{\"nodes\":{},\"teams\":{}}}",
        0, NULL);
    json_t *back = NULL;
    uint8_t *buf = NULL;
    size_t len = 0;
    assert_non_null(j);
    assert_int_equal(wm_rollbin_encode(j, 1, &buf, &len), WM_OK);
    assert_int_equal(wm_rollbin_decode(buf, len, "xx/lh", &back), WM_OK);
    assert_int_equal(json_integer_value(at(back, "totals.orders.needs_received")), 3);
    assert_int_equal(json_integer_value(at(back, "totals.orders.rating_sum")), 17);
    /* derived from 17 / 4 and 3 / 4, not the (wrong) reals the JSON said */
    assert_true(json_real_value(at(back, "totals.orders.rating_avg")) == 4.25);
    assert_true(json_real_value(at(back, "totals.orders.satisfaction_rate")) == 0.75);
    json_decref(back);
    json_decref(j);
    free(buf);
}

/* A tier's summary keeps what the tier above lists: its own children's
 * tier problems and their names, the totals without teams, the counts. */
static void test_tier_summary(void **state)
{
    (void)state;
    json_t *j = json_loads(SAMPLE, 0, NULL), *back = NULL;
    uint8_t *buf = NULL, *small = NULL;
    size_t len = 0, slen = 0;
    assert_non_null(j);
    json_object_set_new(j, "scope", json_string("county"));
    json_array_append_new(json_object_get(j, "problems"),
                          json_pack("{s:s, s:s}", "kind", "town_not_reported", "town", "xx/lh"));
    json_object_set_new(json_object_get(json_object_get(j, "names"), "nodes"), "xx/lh",
                        json_string("龙华镇"));
    json_object_set_new(j, "problem_counts", json_pack("{s:i, s:i}", "team_never_served", 7,
                                                       "town_not_reported", 1));
    assert_int_equal(wm_rollbin_encode(j, 1, &buf, &len), WM_OK);
    assert_int_equal(wm_rollbin_summary(buf, len, &small, &slen), WM_OK);
    assert_int_equal(wm_rollbin_decode(small, slen, "xx", &back), WM_OK);
    assert_int_equal(json_array_size(at(back, "covers")), 0);
    assert_int_equal(json_array_size(at(back, "problems")), 1);
    assert_string_equal(json_string_value(at(json_array_get(at(back, "problems"), 0), "kind")),
                        "town_not_reported");
    assert_int_equal(json_object_size(at(back, "totals.volunteer_services.by_team")), 0);
    assert_int_equal(json_object_size(at(back, "names.teams")), 0);
    assert_string_equal(json_string_value(json_object_get(at(back, "names.nodes"), "xx/lh")), "龙华镇");
    assert_null(json_object_get(at(back, "names.nodes"), "xx/lh/a"));
    assert_int_equal(json_integer_value(at(back, "problem_counts.team_never_served")), 7);
    assert_int_equal(json_integer_value(at(back, "totals.activities.theme_lecture")), 3);
    json_decref(back);
    json_decref(j);
    free(buf);
    free(small);
}

static void test_refused(void **state)
{
    (void)state;
    json_t *out = NULL;
    uint8_t junk[] = {0xff, 0xff, 0xff, 0xff, 0x0f};
    assert_int_equal(wm_rollbin_decode(junk, sizeof junk, "x", &out), WM_EDECODE);
    json_t *bad = json_pack("{s:s}", "period", "2024-13");
    uint8_t *buf = NULL;
    size_t len = 0;
    assert_int_equal(wm_rollbin_encode(bad, 1, &buf, &len), WM_EINVAL);
    json_decref(bad);
    assert_int_equal(wm_rollbin_parts(0), 1);
    assert_int_equal(wm_rollbin_parts(WM_ROLLBIN_PART_MAX), 1);
    assert_int_equal(wm_rollbin_parts(WM_ROLLBIN_PART_MAX + 1), 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roundtrip),
        cmocka_unit_test(test_tier_summary),
        cmocka_unit_test(test_refused),
        cmocka_unit_test(test_orders),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
