/* SPDX-License-Identifier: MIT */
/*
 * test_crypto — proto/wm_crypto.c: BLAKE2b-256 against published vectors,
 * Ed25519 key derivation against RFC 8032, signatures bound to their
 * context string, key files (0600, refused when group/other readable,
 * never overwritten), Curve25519 key files, hex, constant-time compare.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "wm_crypto.h"
#include "wm_testutil.h"

static void unhex_ok(const char *hex, uint8_t *bin, size_t len)
{
    assert_int_equal(wm_unhex(hex, bin, len), WM_OK);
}

static void test_hash_vectors(void **state)
{
    (void)state;
    uint8_t h[WM_HASH_BYTES], want[WM_HASH_BYTES];
    /* BLAKE2b with a 32-byte digest (e.g. Python hashlib.blake2b(digest_size=32)). */
    wm_hash((const uint8_t *)"", 0, h);
    unhex_ok("0e5751c026e543b2e8ab2eb06099daa1d1e5df47778f7787faab45cdf12fe3a8", want, 32);
    assert_memory_equal(h, want, 32);
    wm_hash((const uint8_t *)"abc", 3, h);
    unhex_ok("bddd813c634239723171ef3fee98579b94964e3bb1cb3e427262c8c068d52319", want, 32);
    assert_memory_equal(h, want, 32);

    /* Incremental hashing over uneven pieces equals the one-shot hash. */
    uint8_t data[1000];
    for (size_t i = 0; i < sizeof data; i++)
        data[i] = (uint8_t)(i * 31 + 7);
    wm_hash(data, sizeof data, want);
    wm_hash_state_t st;
    wm_hash_init(&st);
    wm_hash_update(&st, data, 1);
    wm_hash_update(&st, data + 1, 0);
    wm_hash_update(&st, data + 1, 127);
    wm_hash_update(&st, data + 128, sizeof data - 128);
    wm_hash_final(&st, h);
    assert_memory_equal(h, want, 32);
    data[999] ^= 1;
    wm_hash(data, sizeof data, h);
    assert_memory_not_equal(h, want, 32);
}

static void test_seed_rfc8032(void **state)
{
    (void)state;
    uint8_t seed[32], pub[32];
    wm_signer_t *s = NULL;
    /* RFC 8032 section 7.1, TEST 1. */
    unhex_ok("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60", seed, 32);
    unhex_ok("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a", pub, 32);
    assert_int_equal(wm_signer_from_seed(seed, &s), WM_OK);
    assert_memory_equal(wm_signer_pub(s), pub, 32);
    wm_signer_free(&s);
    assert_null(s);
    wm_signer_free(&s); /* NULL is fine */
    wm_signer_free(NULL);
}

static void test_sign_contexts(void **state)
{
    (void)state;
    wm_signer_t *s = NULL, *g = NULL;
    uint8_t sig[WM_SIG_BYTES], sig2[WM_SIG_BYTES];
    static const uint8_t msg[] = "新时代文明实践";
    size_t n = sizeof msg - 1;

    assert_int_equal(wm_signer_generate(&s), WM_OK);
    assert_int_equal(wm_signer_generate(&g), WM_OK);
    assert_memory_not_equal(wm_signer_pub(s), wm_signer_pub(g), WM_PUB_BYTES);

    assert_int_equal(wm_sign(s, WM_CTX_BUNDLE, msg, n, sig), WM_OK);
    assert_int_equal(wm_verify(wm_signer_pub(s), WM_CTX_BUNDLE, msg, n, sig), WM_OK);
    /* Same key, same bytes, other purpose: refused. */
    assert_int_equal(wm_verify(wm_signer_pub(s), WM_CTX_RECORD, msg, n, sig), WM_EBADSIG);
    assert_int_equal(wm_sign(s, WM_CTX_RECORD, msg, n, sig2), WM_OK);
    assert_memory_not_equal(sig, sig2, WM_SIG_BYTES);
    assert_int_equal(wm_verify(wm_signer_pub(s), WM_CTX_RECORD, msg, n, sig2), WM_OK);
    assert_int_equal(wm_verify(wm_signer_pub(s), WM_CTX_BUNDLE, msg, n, sig2), WM_EBADSIG);
    /* Other key, other message, shorter message. */
    assert_int_equal(wm_verify(wm_signer_pub(g), WM_CTX_RECORD, msg, n, sig2), WM_EBADSIG);
    assert_int_equal(wm_verify(wm_signer_pub(s), WM_CTX_RECORD, msg, n - 1, sig2), WM_EBADSIG);

    /* The context NUL is part of the signed message: moving the message's
     * first byte into the context must not verify. */
    uint8_t buf[64];
    memcpy(buf, "/x", 2);
    assert_int_equal(wm_sign(s, "wmsync/record/v1", buf, 2, sig), WM_OK);
    assert_int_equal(wm_verify(wm_signer_pub(s), "wmsync/record/v1/", buf + 1, 1, sig), WM_EBADSIG);

    /* Ed25519 is deterministic: same key and message, same signature. */
    assert_int_equal(wm_sign(s, WM_CTX_RECORD, msg, n, sig), WM_OK);
    assert_memory_equal(sig, sig2, WM_SIG_BYTES);

    /* Empty and large (heap path) messages. */
    assert_int_equal(wm_sign(s, WM_CTX_RECORD, NULL, 0, sig), WM_OK);
    assert_int_equal(wm_verify(wm_signer_pub(s), WM_CTX_RECORD, NULL, 0, sig), WM_OK);
    size_t big = 10000;
    uint8_t *m = malloc(big);
    assert_non_null(m);
    memset(m, 0x5a, big);
    assert_int_equal(wm_sign(s, WM_CTX_RECORD, m, big, sig), WM_OK);
    assert_int_equal(wm_verify(wm_signer_pub(s), WM_CTX_RECORD, m, big, sig), WM_OK);
    m[big - 1] ^= 0x80;
    assert_int_equal(wm_verify(wm_signer_pub(s), WM_CTX_RECORD, m, big, sig), WM_EBADSIG);
    free(m);

    wm_signer_free(&s);
    wm_signer_free(&g);
}

static void test_key_files(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp();
    char path[512], path2[512], path3[512];
    snprintf(path, sizeof path, "%s/station.key", dir);
    snprintf(path2, sizeof path2, "%s/open.key", dir);
    snprintf(path3, sizeof path3, "%s/bad.key", dir);
    wm_signer_t *s = tu_signer(0x42), *l = NULL, *o = tu_signer(0x43);
    struct stat st;

    assert_int_equal(wm_signer_load(path, &l), WM_ENOTFOUND);
    assert_int_equal(wm_signer_save(s, path), WM_OK);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal(st.st_size, 65); /* 64 hex digits and a newline */

    /* The file is the hex seed. */
    char text[80] = {0};
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    assert_non_null(fgets(text, sizeof text, f));
    fclose(f);
    char want[80];
    memset(want, 0, sizeof want);
    for (int i = 0; i < 32; i++)
        memcpy(want + 2 * i, "42", 2);
    want[64] = '\n';
    assert_string_equal(text, want);

    assert_int_equal(wm_signer_load(path, &l), WM_OK);
    assert_memory_equal(wm_signer_pub(l), wm_signer_pub(s), WM_PUB_BYTES);
    wm_signer_free(&l);

    /* Never overwrite a key, not even with another one; the file is kept. */
    assert_int_equal(wm_signer_save(o, path), WM_EEXIST);
    assert_int_equal(wm_signer_load(path, &l), WM_OK);
    assert_memory_equal(wm_signer_pub(l), wm_signer_pub(s), WM_PUB_BYTES);
    wm_signer_free(&l);

    /* Group- or world-readable keys are refused. */
    assert_int_equal(wm_signer_save(s, path2), WM_OK);
    assert_int_equal(chmod(path2, 0644), 0);
    assert_int_equal(wm_signer_load(path2, &l), WM_EPERM);
    assert_null(l);
    assert_int_equal(chmod(path2, 0640), 0);
    assert_int_equal(wm_signer_load(path2, &l), WM_EPERM);
    assert_int_equal(chmod(path2, 0604), 0);
    assert_int_equal(wm_signer_load(path2, &l), WM_EPERM);
    assert_int_equal(chmod(path2, 0400), 0);
    assert_int_equal(wm_signer_load(path2, &l), WM_OK);
    wm_signer_free(&l);

    /* Malformed contents. */
    static const char *bad[] = {
        "",
        "42",
        "zz42424242424242424242424242424242424242424242424242424242424242\n",
        "4242424242424242424242424242424242424242424242424242424242424242 \n",
        "424242424242424242424242424242424242424242424242424242424242424242\n",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        unlink(path3);
        FILE *w = fopen(path3, "w");
        assert_non_null(w);
        fputs(bad[i], w);
        fclose(w);
        assert_int_equal(chmod(path3, 0600), 0);
        assert_int_equal(wm_signer_load(path3, &l), WM_EDECODE);
        assert_null(l);
    }
    /* Uppercase hex and CRLF are accepted. */
    unlink(path3);
    f = fopen(path3, "w");
    assert_non_null(f);
    fputs("4242424242424242424242424242424242424242424242424242424242424242\r\n", f);
    fclose(f);
    assert_int_equal(chmod(path3, 0600), 0);
    assert_int_equal(wm_signer_load(path3, &l), WM_OK);
    assert_memory_equal(wm_signer_pub(l), wm_signer_pub(s), WM_PUB_BYTES);
    wm_signer_free(&l);

    wm_signer_free(&s);
    wm_signer_free(&o);
    tu_rmrf(dir);
    free(dir);
}

static void test_curve(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp();
    char path[512], path2[512];
    snprintf(path, sizeof path, "%s/curve.key", dir);
    snprintf(path2, sizeof path2, "%s/curve2.key", dir);
    uint8_t pub[WM_PUB_BYTES], pub2[WM_PUB_BYTES], pub3[WM_PUB_BYTES];
    uint8_t *sec = wm_secure_alloc(WM_PUB_BYTES);
    struct stat st;
    assert_non_null(sec);

    assert_int_equal(wm_curve_load(path, sec, pub2), WM_ENOTFOUND);
    assert_int_equal(wm_curve_generate(path, pub), WM_OK);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal(wm_curve_load(path, sec, pub2), WM_OK);
    assert_memory_equal(pub, pub2, WM_PUB_BYTES);
    assert_int_equal(wm_curve_generate(path, pub3), WM_EEXIST);
    assert_int_equal(wm_curve_load(path, sec, pub2), WM_OK);
    assert_memory_equal(pub, pub2, WM_PUB_BYTES);

    assert_int_equal(wm_curve_generate(path2, pub3), WM_OK);
    assert_memory_not_equal(pub, pub3, WM_PUB_BYTES);
    assert_int_equal(chmod(path2, 0644), 0);
    assert_int_equal(wm_curve_load(path2, sec, pub2), WM_EPERM);

    /* RFC 7748 section 6.1: Alice's private key and public key. */
    FILE *f = fopen(path2, "w");
    assert_non_null(f);
    fputs("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a\n", f);
    fclose(f);
    assert_int_equal(chmod(path2, 0600), 0);
    assert_int_equal(wm_curve_load(path2, sec, pub2), WM_OK);
    assert_int_equal(wm_unhex("8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a",
                              pub3, WM_PUB_BYTES), WM_OK);
    assert_memory_equal(pub2, pub3, WM_PUB_BYTES);

    wm_secure_free(sec);
    wm_secure_free(NULL);
    tu_rmrf(dir);
    free(dir);
}

static void test_hex(void **state)
{
    (void)state;
    uint8_t bin[4] = {0x00, 0xab, 0x7f, 0xff}, back[4];
    char hex[9];
    assert_string_equal(wm_hex(bin, 4, hex), "00ab7fff");
    assert_string_equal(wm_hex(bin, 0, hex), "");
    assert_int_equal(wm_unhex("00ab7fff", back, 4), WM_OK);
    assert_memory_equal(bin, back, 4);
    assert_int_equal(wm_unhex("00AB7FFF", back, 4), WM_OK);
    assert_memory_equal(bin, back, 4);
    assert_int_equal(wm_unhex("00ab7ff", back, 4), WM_EDECODE);   /* odd */
    assert_int_equal(wm_unhex("00ab7fff00", back, 4), WM_EDECODE); /* too long */
    assert_int_equal(wm_unhex("00ab7f", back, 4), WM_EDECODE);     /* too short */
    assert_int_equal(wm_unhex("00ab7fgf", back, 4), WM_EDECODE);   /* not hex */
    assert_int_equal(wm_unhex("00ab 7ff", back, 4), WM_EDECODE);
    assert_int_equal(wm_unhex("", back, 0), WM_OK);
}

static void test_ct_equal_random(void **state)
{
    (void)state;
    uint8_t a[32], b[32];
    wm_random(a, sizeof a);
    memcpy(b, a, sizeof b);
    assert_true(wm_ct_equal(a, b, sizeof a));
    b[31] ^= 1;
    assert_false(wm_ct_equal(a, b, sizeof a));
    assert_true(wm_ct_equal(a, b, 31));
    /* Two random draws of 32 bytes are different. */
    wm_random(b, sizeof b);
    assert_memory_not_equal(a, b, sizeof a);
    for (int i = 0; i < 1000; i++)
        assert_true(wm_random_below(7) < 7);
    assert_int_equal(wm_random_below(1), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hash_vectors),
        cmocka_unit_test(test_seed_rfc8032),
        cmocka_unit_test(test_sign_contexts),
        cmocka_unit_test(test_key_files),
        cmocka_unit_test(test_curve),
        cmocka_unit_test(test_hex),
        cmocka_unit_test(test_ct_equal_random),
    };
    if (wm_crypto_init() != WM_OK)
        return 1;
    return cmocka_run_group_tests(tests, NULL, NULL);
}
