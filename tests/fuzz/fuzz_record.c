/* SPDX-License-Identifier: MIT */
/*
 * fuzz_record — libFuzzer target for everything that reads a signed record
 * from the network or a file: wm_srec_view, wm_srec_verify (with the fixed
 * key of the golden vectors, so corpus seeds take the success path),
 * wm_record_decode, wm_record_json, wm_validate_body and
 * wm_record_follows. The input is tried both as an srec and as bare record
 * bytes, so the decoder sees inputs that no signature prefix shifts.
 * Seeds: tests/fuzz/corpus (written by gen_vectors -c).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "wm_recjson.h"
#include "wm_record.h"
#include "wm_validate.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

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
    for (int i = 0; i < WM_PUB_BYTES; i++)
        fuzz_pub[i] = wm_signer_pub(s)[i];
    wm_signer_free(&s);
    done = 1;
}

/* Everything a reader does with a decoded record. */
static void exercise(const uint8_t *bytes, size_t len, const wm_srec_t *v)
{
    static const uint8_t zero[WM_HASH_BYTES];
    wm_record_t *r = NULL;
    if (wm_record_decode(bytes, len, &r) != WM_OK)
        return;
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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    wm_srec_t v;
    fuzz_init();
    if (wm_srec_view(data, size, &v) == WM_OK) {
        uint8_t h[WM_HASH_BYTES];
        (void)wm_srec_verify(&v, fuzz_pub);
        wm_srec_hash(&v, h);
        exercise(v.bytes, v.len, &v);
    }
    exercise(data, size, NULL);
    return 0;
}
