/* SPDX-License-Identifier: MIT */
/*
 * wm_vectors — the fixed records behind the golden vectors. The generator
 * (gen_vectors) and the test (test_vectors) both build them here, from
 * one fixed seed, so the committed records.txt pins the codec's exact
 * bytes, hashes and signatures: any change to encoding, hashing or signing
 * shows up as a diff against that file.
 */
#ifndef WM_VECTORS_H
#define WM_VECTORS_H

#include <stddef.h>
#include <stdint.h>

#include "wm_crypto.h"
#include "wm_record.h"

#define WMV_COUNT 6
#define WMV_STATION "xx-county/longhua/xinhe"

typedef struct {
    const char *name;
    uint8_t seed[WM_SEED_BYTES];
    uint8_t pub[WM_PUB_BYTES];
    uint8_t *srec; /* malloc'd: sig[64] || bytes */
    size_t len;
    uint8_t hash[WM_HASH_BYTES];
} wmv_t;

/* The seed of every vector: bytes 0x00, 0x01, …, 0x1f. */
void wmv_seed(uint8_t seed[static WM_SEED_BYTES]);

/* Builds and seals the WMV_COUNT records, chained in order (seq 1..N of
 * epoch 1), with the signer of wmv_seed(). wm_crypto_init() first. */
wm_err_t wmv_build(wmv_t out[static WMV_COUNT]);
/* Frees what wmv_build allocated. */
void wmv_free(wmv_t v[static WMV_COUNT]);

#endif
