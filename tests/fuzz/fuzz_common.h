/* SPDX-License-Identifier: MIT */
/*
 * fuzz_common — what the libFuzzer targets share: the fixed key of the
 * golden vectors (seed 0..31), which corpus seeds are signed with so they
 * reach the success paths, and everything a reader does with one record.
 * Header-only: each target builds its own instrumented copy of wm_proto.
 */
#ifndef FUZZ_COMMON_H
#define FUZZ_COMMON_H

#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "wm_recjson.h"
#include "wm_record.h"
#include "wm_validate.h"

static uint8_t fuzz_pub[WM_PUB_BYTES];

static void fuzz_init(void)
{
    static int done;
    uint8_t seed[WM_SEED_BYTES];
    wm_signer_t *s = NULL;
    if (done)
        return;
    if (wm_crypto_init() != WM_OK)
        abort();
    for (int i = 0; i < WM_SEED_BYTES; i++)
        seed[i] = (uint8_t)i;
    if (wm_signer_from_seed(seed, &s) != WM_OK)
        abort();
    memcpy(fuzz_pub, wm_signer_pub(s), WM_PUB_BYTES);
    wm_signer_free(&s);
    done = 1;
}

/* Everything a reader does with decoded record bytes (v: their srec, or
 * NULL for bare bytes). */
static void fuzz_record_bytes(const uint8_t *bytes, size_t len, const wm_srec_t *v)
{
    static const uint8_t zero[WM_HASH_BYTES];
    wm_record_t *r = NULL, *ra = NULL;
    static wm_arena_t arena; /* reused across inputs, as ingest does across a batch */
    /* The arena decoder (ingest) and the malloc one agree on every input. */
    wm_err_t ea = wm_record_decode_in(&arena, bytes, len, &ra);
    if (wm_record_decode(bytes, len, &r) != WM_OK) {
        if (ea == WM_OK)
            abort();
        return;
    }
    if (ea != WM_OK || ra->seq != r->seq || ra->epoch != r->epoch || ra->body_case != r->body_case ||
        strcmp(ra->station, r->station) != 0)
        abort();
    json_t *j = wm_record_json(r, v);
    if (j) {
        char *text = json_dumps(j, JSON_COMPACT);
        free(text);
        json_decref(j);
    }
    wm_reject_t rej;
    (void)wm_validate_body(r, 20240315, &rej);
    (void)wm_record_kind(r);
    (void)wm_record_follows(r, r->station, r->epoch, r->seq - 1,
                            r->prev.len == WM_HASH_BYTES ? r->prev.data : zero);
    wm_record_free(&r);
}

/* Everything ingest does with one srec: view, hash, verify, decode. */
static void fuzz_srec(const uint8_t *data, size_t size)
{
    wm_srec_t v;
    uint8_t h[WM_HASH_BYTES];
    if (wm_srec_view(data, size, &v) != WM_OK)
        return;
    wm_srec_hash(&v, h);
    (void)wm_srec_verify(&v, fuzz_pub);
    fuzz_record_bytes(v.bytes, v.len, &v);
}

#endif
