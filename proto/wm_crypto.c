/* SPDX-License-Identifier: MIT */
/*
 * wm_crypto — libsodium behind the project's own names. Nothing else in
 * wmsync includes <sodium.h>; see wm_crypto.h for the contract.
 */
#include "wm_crypto.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

_Static_assert(sizeof(wm_hash_state_t) >= sizeof(crypto_generichash_state),
               "wm_hash_state_t too small");

struct wm_signer {
    uint8_t *sk; /* crypto_sign_SECRETKEYBYTES, sodium_malloc */
    uint8_t pub[WM_PUB_BYTES];
};

/* Messages up to this size are signed from a stack buffer. */
#define WM_SIGN_STACK 2048

wm_err_t wm_crypto_init(void)
{
    return sodium_init() < 0 ? WM_EIO : WM_OK;
}

void wm_hash(const uint8_t *data, size_t len, uint8_t out[static WM_HASH_BYTES])
{
    crypto_generichash(out, WM_HASH_BYTES, data, len, NULL, 0);
}

void wm_hash_init(wm_hash_state_t *st)
{
    crypto_generichash_init((crypto_generichash_state *)st, NULL, 0, WM_HASH_BYTES);
}

void wm_hash_update(wm_hash_state_t *st, const uint8_t *data, size_t len)
{
    crypto_generichash_update((crypto_generichash_state *)st, data, len);
}

void wm_hash_final(wm_hash_state_t *st, uint8_t out[static WM_HASH_BYTES])
{
    crypto_generichash_final((crypto_generichash_state *)st, out, WM_HASH_BYTES);
}

static WM_MUST_CHECK wm_err_t signer_new(wm_signer_t **out)
{
    wm_signer_t *s = calloc(1, sizeof *s);
    if (!s)
        return WM_ENOMEM;
    s->sk = sodium_malloc(crypto_sign_SECRETKEYBYTES);
    if (!s->sk) {
        free(s);
        return WM_ENOMEM;
    }
    *out = s;
    return WM_OK;
}

wm_err_t wm_signer_generate(wm_signer_t **out)
{
    wm_signer_t *s = NULL;
    wm_err_t rc = signer_new(&s);
    if (rc != WM_OK)
        return rc;
    crypto_sign_keypair(s->pub, s->sk);
    *out = s;
    return WM_OK;
}

wm_err_t wm_signer_from_seed(const uint8_t seed[static WM_SEED_BYTES], wm_signer_t **out)
{
    wm_signer_t *s = NULL;
    wm_err_t rc = signer_new(&s);
    if (rc != WM_OK)
        return rc;
    crypto_sign_seed_keypair(s->pub, s->sk, seed);
    *out = s;
    return WM_OK;
}

void wm_signer_free(wm_signer_t **s)
{
    if (!s || !*s)
        return;
    sodium_free((*s)->sk); /* wipes */
    free(*s);
    *s = NULL;
}

const uint8_t *wm_signer_pub(const wm_signer_t *s)
{
    return s->pub;
}

/* Reads a file holding 2*len hex digits (and optional trailing newline)
 * into sec. Refuses files that group or others may read. */
static WM_MUST_CHECK wm_err_t read_secret_hex(const char *path, uint8_t *sec, size_t len)
{
    wm_err_t rc = WM_OK;
    char *hex = NULL;
    size_t hexcap = 2 * len + 8;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? WM_ENOTFOUND : WM_EIO;
    struct stat st;
    if (fstat(fd, &st) != 0) {
        rc = WM_EIO;
        goto out;
    }
    if (st.st_mode & 077) {
        rc = WM_EPERM;
        goto out;
    }
    hex = sodium_malloc(hexcap);
    if (!hex) {
        rc = WM_ENOMEM;
        goto out;
    }
    ssize_t n = read(fd, hex, hexcap - 1);
    if (n < 0) {
        rc = WM_EIO;
        goto out;
    }
    while (n > 0 && (hex[n - 1] == '\n' || hex[n - 1] == '\r'))
        n--;
    if ((size_t)n != 2 * len) {
        rc = WM_EDECODE;
        goto out;
    }
    hex[n] = 0;
    rc = wm_unhex(hex, sec, len);
out:
    if (hex)
        sodium_free(hex);
    close(fd);
    return rc;
}

/* Writes hex of sec (len bytes) to a new file with mode 0600. */
static WM_MUST_CHECK wm_err_t write_secret_hex(const char *path, const uint8_t *sec, size_t len)
{
    wm_err_t rc = WM_OK;
    char *hex = sodium_malloc(2 * len + 2);
    if (!hex)
        return WM_ENOMEM;
    sodium_bin2hex(hex, 2 * len + 1, sec, len);
    hex[2 * len] = '\n';
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        rc = errno == EEXIST ? WM_EEXIST : WM_EIO;
        goto out;
    }
    if (write(fd, hex, 2 * len + 1) != (ssize_t)(2 * len + 1) || fsync(fd) != 0)
        rc = WM_EIO;
    if (close(fd) != 0)
        rc = WM_EIO;
    if (rc != WM_OK)
        unlink(path);
out:
    sodium_free(hex);
    return rc;
}

wm_err_t wm_signer_load(const char *path, wm_signer_t **out)
{
    wm_err_t rc;
    uint8_t *seed = sodium_malloc(WM_SEED_BYTES);
    if (!seed)
        return WM_ENOMEM;
    rc = read_secret_hex(path, seed, WM_SEED_BYTES);
    if (rc == WM_OK)
        rc = wm_signer_from_seed(seed, out);
    sodium_free(seed);
    return rc;
}

wm_err_t wm_signer_save(const wm_signer_t *s, const char *path)
{
    wm_err_t rc;
    uint8_t *seed = sodium_malloc(WM_SEED_BYTES);
    if (!seed)
        return WM_ENOMEM;
    crypto_sign_ed25519_sk_to_seed(seed, s->sk);
    rc = write_secret_hex(path, seed, WM_SEED_BYTES);
    sodium_free(seed);
    return rc;
}

/* ctx || NUL || msg in one buffer: the stack one when it fits, else a
 * malloc'd one (free it with msg_free). NULL on ENOMEM. */
static uint8_t *msg_with_ctx(const char *ctx, const uint8_t *msg, size_t len,
                             uint8_t stackbuf[static WM_SIGN_STACK], size_t *total)
{
    size_t clen = strlen(ctx) + 1;
    uint8_t *buf = clen + len <= WM_SIGN_STACK ? stackbuf : malloc(clen + len);
    if (!buf)
        return NULL;
    memcpy(buf, ctx, clen);
    if (len)
        memcpy(buf + clen, msg, len);
    *total = clen + len;
    return buf;
}

static void msg_free(uint8_t *buf, const uint8_t *stackbuf)
{
    if (buf != stackbuf)
        free(buf);
}

wm_err_t wm_sign(const wm_signer_t *s, const char *ctx, const uint8_t *msg, size_t len,
                 uint8_t sig[static WM_SIG_BYTES])
{
    uint8_t stackbuf[WM_SIGN_STACK];
    size_t total = 0;
    uint8_t *buf = msg_with_ctx(ctx, msg, len, stackbuf, &total);
    if (!buf)
        return WM_ENOMEM;
    crypto_sign_detached(sig, NULL, buf, total, s->sk);
    msg_free(buf, stackbuf);
    return WM_OK;
}

wm_err_t wm_verify(const uint8_t pub[static WM_PUB_BYTES], const char *ctx,
                   const uint8_t *msg, size_t len,
                   const uint8_t sig[static WM_SIG_BYTES])
{
    uint8_t stackbuf[WM_SIGN_STACK];
    size_t total = 0;
    uint8_t *buf = msg_with_ctx(ctx, msg, len, stackbuf, &total);
    if (!buf)
        return WM_ENOMEM;
    int bad = crypto_sign_verify_detached(sig, buf, total, pub);
    msg_free(buf, stackbuf);
    return bad ? WM_EBADSIG : WM_OK;
}

wm_err_t wm_curve_generate(const char *secret_path, uint8_t pub[static WM_PUB_BYTES])
{
    wm_err_t rc;
    uint8_t *sec = sodium_malloc(crypto_box_SECRETKEYBYTES);
    if (!sec)
        return WM_ENOMEM;
    crypto_box_keypair(pub, sec);
    rc = write_secret_hex(secret_path, sec, crypto_box_SECRETKEYBYTES);
    sodium_free(sec);
    return rc;
}

wm_err_t wm_curve_load(const char *secret_path, uint8_t *sec,
                       uint8_t pub[static WM_PUB_BYTES])
{
    wm_err_t rc = read_secret_hex(secret_path, sec, crypto_box_SECRETKEYBYTES);
    if (rc == WM_OK)
        crypto_scalarmult_base(pub, sec);
    return rc;
}

void *wm_secure_alloc(size_t len)
{
    return sodium_malloc(len);
}

void wm_secure_free(void *p)
{
    if (p)
        sodium_free(p);
}

int wm_ct_equal(const uint8_t *a, const uint8_t *b, size_t len)
{
    return sodium_memcmp(a, b, len) == 0;
}

char *wm_hex(const uint8_t *bin, size_t len, char *out)
{
    return sodium_bin2hex(out, 2 * len + 1, bin, len);
}

wm_err_t wm_unhex(const char *hex, uint8_t *bin, size_t len)
{
    size_t got = 0;
    const char *end = NULL;
    if (strlen(hex) != 2 * len)
        return WM_EDECODE;
    if (sodium_hex2bin(bin, len, hex, 2 * len, NULL, &got, &end) != 0 || got != len)
        return WM_EDECODE;
    return WM_OK;
}

void wm_random(uint8_t *buf, size_t len)
{
    randombytes_buf(buf, len);
}

uint32_t wm_random_below(uint32_t upper)
{
    return randombytes_uniform(upper);
}

wm_err_t wm_pwhash(const char *pw, size_t len, char out[static WM_PWHASH_STR_MAX])
{
    _Static_assert(WM_PWHASH_STR_MAX == crypto_pwhash_STRBYTES, "hash string size");
    if (crypto_pwhash_str(out, pw, len, crypto_pwhash_OPSLIMIT_INTERACTIVE,
                          crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0)
        return WM_ENOMEM;
    return WM_OK;
}

wm_err_t wm_pwhash_verify(const char *hash, const char *pw, size_t len)
{
    if (!wm_pwhash_valid(hash))
        return WM_EPERM;
    /* -1 means "no match" and also "out of memory"; libsodium does not say
     * which, so a failed check is a refusal either way. */
    return crypto_pwhash_str_verify(hash, pw, len) == 0 ? WM_OK : WM_EPERM;
}

int wm_pwhash_valid(const char *s)
{
    size_t n = strlen(s);
    if (n >= WM_PWHASH_STR_MAX || strncmp(s, "$argon2id$", 10) != 0)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (s[i] <= ' ' || s[i] > '~')
            return 0;
    return 1;
}
