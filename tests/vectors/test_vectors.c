/* SPDX-License-Identifier: MIT */
/*
 * test_vectors — the golden vectors. Rebuilds the fixed records of
 * wm_vectors.c with the codec and compares encoding, hash, signature and
 * public key byte for byte with the committed records.txt; then checks
 * the committed file on its own terms (hash of the committed bytes,
 * committed signature under the committed key, the chain of prev hashes),
 * so a codec change and a corrupted vector file are both caught.
 * Usage: test_vectors [records.txt]
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "wm_vectors.h"

#ifndef WM_VECTORS_FILE
#define WM_VECTORS_FILE "records.txt"
#endif

#define MAXV 16
#define MAXB 4096

typedef struct {
    char name[64];
    uint8_t seed[WM_SEED_BYTES], pub[WM_PUB_BYTES], hash[WM_HASH_BYTES], sig[WM_SIG_BYTES];
    uint8_t bytes[MAXB];
    size_t len;
    unsigned have; /* bit per key seen */
} golden_t;

static const char *vectors_path = WM_VECTORS_FILE;
static golden_t golden[MAXV];
static int n_golden;

static void parse_hex(const char *key, const char *hex, uint8_t *out, size_t want)
{
    if (wm_unhex(hex, out, want) != WM_OK)
        fail_msg("%s: \"%s\" is not %zu bytes of hex", key, hex, want);
}

/* Reads records.txt into golden[]. */
static int load(void **state)
{
    (void)state;
    FILE *f = fopen(vectors_path, "r");
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    if (!f) {
        fprintf(stderr, "test_vectors: cannot open %s\n", vectors_path);
        return -1;
    }
    n_golden = 0;
    while ((n = getline(&line, &cap, f)) > 0) {
        while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
            line[--n] = 0;
        if (n == 0 || line[0] == '#')
            continue;
        if (n_golden == MAXV)
            break;
        golden_t *g = &golden[n_golden++];
        memset(g, 0, sizeof *g);
        char *save = NULL;
        for (char *tok = strtok_r(line, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
            char *eq = strchr(tok, '=');
            if (!eq)
                continue;
            *eq = 0;
            const char *k = tok, *v = eq + 1;
            if (strcmp(k, "name") == 0) {
                snprintf(g->name, sizeof g->name, "%s", v);
                g->have |= 1;
            } else if (strcmp(k, "seed") == 0) {
                parse_hex(k, v, g->seed, sizeof g->seed);
                g->have |= 2;
            } else if (strcmp(k, "pub") == 0) {
                parse_hex(k, v, g->pub, sizeof g->pub);
                g->have |= 4;
            } else if (strcmp(k, "bytes") == 0) {
                size_t hl = strlen(v);
                if (hl % 2 || hl / 2 > MAXB)
                    return -1;
                g->len = hl / 2;
                parse_hex(k, v, g->bytes, g->len);
                g->have |= 8;
            } else if (strcmp(k, "hash") == 0) {
                parse_hex(k, v, g->hash, sizeof g->hash);
                g->have |= 16;
            } else if (strcmp(k, "sig") == 0) {
                parse_hex(k, v, g->sig, sizeof g->sig);
                g->have |= 32;
            }
        }
    }
    free(line);
    fclose(f);
    return 0;
}

static void test_file_complete(void **state)
{
    (void)state;
    assert_int_equal(n_golden, WMV_COUNT);
    for (int i = 0; i < n_golden; i++) {
        if (golden[i].have != 63)
            fail_msg("line %d of %s lacks a field", i + 1, vectors_path);
        assert_true(golden[i].len > 0);
    }
}

/* The codec of this build reproduces every committed byte. */
static void test_codec_matches_golden(void **state)
{
    (void)state;
    wmv_t v[WMV_COUNT];
    char hex[2 * MAXB + 1];
    assert_int_equal(n_golden, WMV_COUNT);
    assert_int_equal(wmv_build(v), WM_OK);
    for (int i = 0; i < WMV_COUNT; i++) {
        const golden_t *g = &golden[i];
        assert_string_equal(v[i].name, g->name);
        assert_memory_equal(v[i].seed, g->seed, WM_SEED_BYTES);
        assert_memory_equal(v[i].pub, g->pub, WM_PUB_BYTES);
        size_t len = v[i].len - WM_SIG_BYTES;
        if (len != g->len || memcmp(v[i].srec + WM_SIG_BYTES, g->bytes, len) != 0)
            fail_msg("%s: encoding differs from the golden vector: now %s", g->name,
                     wm_hex(v[i].srec + WM_SIG_BYTES, len < MAXB ? len : MAXB, hex));
        assert_memory_equal(v[i].hash, g->hash, WM_HASH_BYTES);
        assert_memory_equal(v[i].srec, g->sig, WM_SIG_BYTES);
    }
    wmv_free(v);
}

/* The committed file is self-consistent, whatever the codec does. */
static void test_golden_self_consistent(void **state)
{
    (void)state;
    uint8_t h[WM_HASH_BYTES], prev[WM_HASH_BYTES];
    uint8_t seed[WM_SEED_BYTES];
    wm_signer_t *s = NULL;
    memset(prev, 0, sizeof prev);
    for (int i = 0; i < WM_SEED_BYTES; i++)
        seed[i] = (uint8_t)i;
    assert_int_equal(wm_signer_from_seed(seed, &s), WM_OK);
    assert_int_equal(n_golden, WMV_COUNT);
    for (int i = 0; i < n_golden; i++) {
        const golden_t *g = &golden[i];
        assert_memory_equal(g->seed, seed, WM_SEED_BYTES);
        assert_memory_equal(g->pub, wm_signer_pub(s), WM_PUB_BYTES);
        /* The hash covers the whole srec: signature, then bytes. */
        wm_hash_state_t hs;
        wm_hash_init(&hs);
        wm_hash_update(&hs, g->sig, WM_SIG_BYTES);
        wm_hash_update(&hs, g->bytes, g->len);
        wm_hash_final(&hs, h);
        assert_memory_equal(h, g->hash, WM_HASH_BYTES);
        assert_int_equal(wm_verify(g->pub, WM_CTX_RECORD, g->bytes, g->len, g->sig), WM_OK);
        assert_int_equal(wm_verify(g->pub, WM_CTX_BUNDLE, g->bytes, g->len, g->sig), WM_EBADSIG);

        /* As an srec: view, verify, decode, and it chains to the previous. */
        uint8_t srec[WM_SIG_BYTES + MAXB];
        wm_srec_t v;
        wm_record_t *r = NULL;
        memcpy(srec, g->sig, WM_SIG_BYTES);
        memcpy(srec + WM_SIG_BYTES, g->bytes, g->len);
        assert_int_equal(wm_srec_view(srec, WM_SIG_BYTES + g->len, &v), WM_OK);
        assert_int_equal(wm_srec_verify(&v, g->pub), WM_OK);
        assert_int_equal(wm_record_decode(v.bytes, v.len, &r), WM_OK);
        assert_string_equal(r->station, WMV_STATION);
        assert_int_equal(r->epoch, 1);
        assert_int_equal(r->seq, (uint64_t)i + 1);
        assert_int_equal(wm_record_follows(r, WMV_STATION, 1, (uint64_t)i, prev), WM_OK);
        if (i == 0) {
            assert_int_equal(r->body_case, WM__RECORD__BODY_ACTIVITY);
            assert_string_equal(r->activity->title, "主题宣讲：学习二十大精神");
        }
        if (strcmp(g->name, "void") == 0)
            assert_int_equal(r->body_case, WM__RECORD__BODY_VOID);
        wm_record_free(&r);
        memcpy(prev, g->hash, WM_HASH_BYTES);
    }
    wm_signer_free(&s);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_file_complete),
        cmocka_unit_test(test_codec_matches_golden),
        cmocka_unit_test(test_golden_self_consistent),
    };
    if (argc > 1)
        vectors_path = argv[1];
    if (wm_crypto_init() != WM_OK)
        return 1;
    return cmocka_run_group_tests(tests, load, NULL);
}
