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
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_init();
    fuzz_srec(data, size);
    fuzz_record_bytes(data, size, NULL);
    return 0;
}
