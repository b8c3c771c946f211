/* SPDX-License-Identifier: MIT */
/*
 * test_sync — proto/wm_sync.c: the reject table against PROTOCOL.md §4
 * (row for row, so the contract and the code cannot drift), slug lookup,
 * the fatal rule for slugs of later builds, feature agreement, and the
 * frontier conversions.
 *
 *   test_sync PROTOCOL.md
 *   test_sync --table       prints the §4 rows as the code has them
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "wm_sync.h"

static const char *protocol_md;

/* The file's text, malloc'd and NUL-terminated. */
static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        fail_msg("cannot open %s", path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    buf[n] = 0;
    fclose(f);
    return buf;
}

/* One §4 row of reason r, as PROTOCOL.md must have it. */
static void doc_row(int r, char *buf, size_t cap)
{
    const wm_sync_reason_info_t *in = wm_sync_reason_info((wm_sync_reason_t)r);
    snprintf(buf, cap, "| `%s` | %s | %s | %s |", in->slug, in->fatal ? "fatal" : "retryable",
             in->when, in->child);
}

/* The §4 table of PROTOCOL.md is exactly the table of wm_sync.c: one row
 * per reason, in enum order, nothing else. */
static void test_doc_table(void **state)
{
    (void)state;
    char *doc = slurp(protocol_md);
    char *sec = strstr(doc, "\n## 4. Reject reasons");
    assert_non_null(sec);
    char *end = strstr(sec + 1, "\n## ");
    if (end)
        *end = 0;
    char *line = sec, *next;
    int r = WM_SYNC_R_OK + 1, rows = 0;
    for (; line && *line; line = next) {
        next = strchr(line, '\n');
        if (next)
            *next++ = 0;
        if (strncmp(line, "| `", 3) != 0)
            continue;
        rows++;
        if (r >= WM_SYNC_R_COUNT)
            fail_msg("PROTOCOL.md §4 has a row wm_sync.c does not: %s", line);
        char want[1024];
        doc_row(r, want, sizeof want);
        if (strcmp(line, want) != 0)
            fail_msg("PROTOCOL.md §4 row %d differs from wm_sync.c\n doc:  %s\n code: %s", rows,
                     line, want);
        r++;
    }
    if (r != WM_SYNC_R_COUNT)
        fail_msg("PROTOCOL.md §4 lacks the row of `%s`", wm_sync_slug((wm_sync_reason_t)r));
    free(doc);
}

static void test_slugs(void **state)
{
    (void)state;
    for (int r = WM_SYNC_R_OK + 1; r < WM_SYNC_R_COUNT; r++) {
        const wm_sync_reason_info_t *in = wm_sync_reason_info((wm_sync_reason_t)r);
        assert_true(in->slug[0] && in->when[0] && in->child[0] && in->hint[0]);
        assert_int_equal(wm_sync_reason_by_slug(in->slug), r);
        assert_int_equal(wm_sync_slug_fatal(in->slug), in->fatal);
        assert_string_equal(wm_sync_slug_hint(in->slug), in->hint);
        for (int o = WM_SYNC_R_OK + 1; o < r; o++) /* one slug, one reason */
            assert_string_not_equal(in->slug, wm_sync_slug((wm_sync_reason_t)o));
    }
    assert_int_equal(wm_sync_reason_by_slug(NULL), WM_SYNC_R_OK);
    assert_int_equal(wm_sync_reason_by_slug(""), WM_SYNC_R_OK);
    assert_string_equal(wm_sync_slug(WM_SYNC_R_OK), "");
    assert_string_equal(wm_sync_slug(WM_SYNC_R_COUNT), "");
    /* A later build's reason is waited out, not retried in a loop. */
    assert_int_equal(wm_sync_reason_by_slug("from_the_future"), WM_SYNC_R_COUNT);
    assert_true(wm_sync_slug_fatal("from_the_future"));
    assert_string_equal(wm_sync_slug_hint("from_the_future"), "");
    assert_false(wm_sync_slug_fatal(""));
    /* The ones the child must retry, and the ones it must not. */
    assert_false(wm_sync_slug_fatal("gap"));
    assert_false(wm_sync_slug_fatal("no_session"));
    assert_false(wm_sync_slug_fatal("storage"));
    assert_true(wm_sync_slug_fatal("revoked"));
    assert_true(wm_sync_slug_fatal("quarantined"));
}

static void test_features(void **state)
{
    (void)state;
    char *theirs[] = {(char *)"zstd-v9", (char *)"", NULL};
    /* Nothing is agreed that we do not list, whatever the peer says. */
    assert_false(wm_sync_feature_agreed("zstd-v9", theirs, 3));
    for (size_t i = 0; i < wm_sync_feature_count(); i++) {
        char *one[] = {(char *)wm_sync_features[i]};
        assert_true(wm_sync_feature_agreed(wm_sync_features[i], one, 1));
        assert_false(wm_sync_feature_agreed(wm_sync_features[i], theirs, 3));
    }
    assert_null(wm_sync_features[wm_sync_feature_count()]);
}

static void test_frontier(void **state)
{
    (void)state;
    wm_head_t h, back;
    /* The whole struct, padding too: it is compared with memcmp below
     * (an initialiser leaves padding bytes unspecified). */
    memset(&h, 0, sizeof h);
    h.epoch = 7;
    h.seq = 42;
    memset(h.hash, 0xab, sizeof h.hash);
    Wm__Frontier f = wm_frontier_of(&h);
    assert_int_equal(f.epoch, 7);
    assert_int_equal(f.seq, 42);
    assert_int_equal(f.hash.len, WM_HASH_BYTES);
    wm_head_from(&f, &back);
    assert_memory_equal(&back, &h, sizeof h);
    /* A hash of another length is never taken. */
    f.hash.len = 31;
    wm_head_from(&f, &back);
    assert_int_equal(back.seq, 42);
    static const uint8_t zero[WM_HASH_BYTES];
    assert_memory_equal(back.hash, zero, WM_HASH_BYTES);
    wm_head_from(NULL, &back);
    assert_int_equal(back.epoch, 0);
    assert_int_equal(back.seq, 0);
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "--table") == 0) {
        char row[1024];
        for (int r = WM_SYNC_R_OK + 1; r < WM_SYNC_R_COUNT; r++) {
            doc_row(r, row, sizeof row);
            puts(row);
        }
        return 0;
    }
    protocol_md = argc > 1 ? argv[1] : "proto/PROTOCOL.md";
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_doc_table),
        cmocka_unit_test(test_slugs),
        cmocka_unit_test(test_features),
        cmocka_unit_test(test_frontier),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
