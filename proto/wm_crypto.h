/* SPDX-License-Identifier: MIT */
/*
 * wm_crypto — the only module that includes <sodium.h>.
 *
 * BLAKE2b-256 hashing, Ed25519 signing with a context prefix, Curve25519
 * transport keys, key files, hex. Secret keys live in sodium_malloc memory
 * (guarded, mlocked, wiped on free). wm_crypto_init() must be called once in
 * main() before anything else here. After that every function is thread-safe;
 * a wm_signer_t may be used by one thread at a time.
 */
#ifndef WM_CRYPTO_H
#define WM_CRYPTO_H

#include <stddef.h>
#include <stdint.h>

#include "wm_err.h"

#define WM_HASH_BYTES 32
#define WM_SIG_BYTES 64
#define WM_PUB_BYTES 32  /* Ed25519 and Curve25519 public keys alike */
#define WM_SEED_BYTES 32

/* Domain-separation prefixes: a signature made for one purpose never
 * verifies for another. The terminating NUL is part of the prefix. */
#define WM_CTX_RECORD "wmsync/record/v1"
#define WM_CTX_BUNDLE "wmsync/bundle/v1"

typedef struct wm_signer wm_signer_t;

/* sodium_init(); returns WM_EIO if libsodium cannot initialise. */
WM_MUST_CHECK wm_err_t wm_crypto_init(void);

/* out = BLAKE2b-256(data). */
void wm_hash(const uint8_t *data, size_t len, uint8_t out[static WM_HASH_BYTES]);

/* Incremental BLAKE2b-256, for files and bundles. */
typedef struct { uint8_t opaque[384] __attribute__((aligned(64))); } wm_hash_state_t;
void wm_hash_init(wm_hash_state_t *st);
void wm_hash_update(wm_hash_state_t *st, const uint8_t *data, size_t len);
void wm_hash_final(wm_hash_state_t *st, uint8_t out[static WM_HASH_BYTES]);

/* A new random Ed25519 signer. *out is owned by the caller. */
WM_MUST_CHECK wm_err_t wm_signer_generate(wm_signer_t **out);
/* A signer from a 32-byte seed (deterministic: golden vectors, tests). */
WM_MUST_CHECK wm_err_t wm_signer_from_seed(const uint8_t seed[static WM_SEED_BYTES], wm_signer_t **out);
/* Loads the hex seed in PATH. WM_EPERM if the file is readable by group or
 * others, WM_ENOTFOUND if missing, WM_EDECODE if malformed. */
WM_MUST_CHECK wm_err_t wm_signer_load(const char *path, wm_signer_t **out);
/* Writes the hex seed to PATH with mode 0600; WM_EEXIST if PATH exists. */
WM_MUST_CHECK wm_err_t wm_signer_save(const wm_signer_t *s, const char *path);
/* Wipes and frees *s, sets it to NULL. Accepts NULL. */
void wm_signer_free(wm_signer_t **s);
/* The public key; valid as long as s. */
const uint8_t *wm_signer_pub(const wm_signer_t *s);

/* sig = Ed25519(ctx || NUL || msg). ctx is one of the WM_CTX_ strings. */
WM_MUST_CHECK wm_err_t wm_sign(const wm_signer_t *s, const char *ctx, const uint8_t *msg,
                 size_t len, uint8_t sig[static WM_SIG_BYTES]);
/* WM_OK if sig is pub's signature of ctx || NUL || msg, else WM_EBADSIG. */
WM_MUST_CHECK wm_err_t wm_verify(const uint8_t pub[static WM_PUB_BYTES], const char *ctx,
                   const uint8_t *msg, size_t len,
                   const uint8_t sig[static WM_SIG_BYTES]);

/* A Curve25519 keypair for ZeroMQ CURVE. The secret half is written to
 * SECRET_PATH (hex, 0600) and the public half returned; WM_EEXIST if the
 * file exists. */
WM_MUST_CHECK wm_err_t wm_curve_generate(const char *secret_path, uint8_t pub[static WM_PUB_BYTES]);
/* Reads a Curve25519 secret key file; sec must be WM_PUB_BYTES of
 * wm_secure_alloc() memory. Also derives the public key. */
WM_MUST_CHECK wm_err_t wm_curve_load(const char *secret_path, uint8_t *sec,
                       uint8_t pub[static WM_PUB_BYTES]);

/* Guarded memory for secrets; wm_secure_free wipes. Accepts NULL. */
void *wm_secure_alloc(size_t len);
void wm_secure_free(void *p);

/* Constant-time equality of two buffers of length len. */
int wm_ct_equal(const uint8_t *a, const uint8_t *b, size_t len);

/* Lowercase hex of bin into out (2*len+1 bytes). Returns out. */
char *wm_hex(const uint8_t *bin, size_t len, char *out);
/* Parses exactly 2*len hex digits into bin; WM_EDECODE otherwise. */
WM_MUST_CHECK wm_err_t wm_unhex(const char *hex, uint8_t *bin, size_t len);

/* Fills buf with random bytes. */
void wm_random(uint8_t *buf, size_t len);
/* A uniform random number in [0, upper). */
uint32_t wm_random_below(uint32_t upper);

/* Password hashes for wmweb's accounts: Argon2id through libsodium's
 * crypto_pwhash_str with the interactive limits (64 MiB, 2 passes), in
 * its self-describing string form ("$argon2id$v=19$m=65536,t=2,p=1$…").
 * Each call needs that memory for ~0.1 s: callers run one at a time. */
#define WM_PWHASH_STR_MAX 128 /* crypto_pwhash_STRBYTES, NUL included */
/* Hashes the password pw (len bytes) into out. WM_ENOMEM if the memory
 * cannot be had. */
WM_MUST_CHECK wm_err_t wm_pwhash(const char *pw, size_t len, char out[static WM_PWHASH_STR_MAX]);
/* WM_OK if pw matches hash; WM_EPERM if it does not, if hash is not such
 * a string, or if the memory could not be had (libsodium does not tell the
 * last apart: a check that could not run refuses). */
WM_MUST_CHECK wm_err_t wm_pwhash_verify(const char *hash, const char *pw, size_t len);
/* Nonzero if s has the form of an Argon2id hash string wm_pwhash makes
 * (the prefix "$argon2id$", printable ASCII, no space, shorter than
 * WM_PWHASH_STR_MAX). */
int wm_pwhash_valid(const char *s);

#endif
