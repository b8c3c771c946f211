/* SPDX-License-Identifier: MIT */
/*
 * fuzz_rollbin — libFuzzer target for the binary form of a published
 * rollup (proto/wm_rollbin.c), which a tier joins from a child's RollupPart
 * records: wm_rollbin_decode and wm_rollbin_summary on any bytes, and a
 * decoded object encoded and decoded again must give the same totals
 * (empty objects aside: they hold no figure).
 * Seeds: tests/fuzz/corpus_rollbin (test_rollbin's sample, WM_ROLLBIN_SEED).
 */
#include <stdlib.h>

#include "wm_rollbin.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Drops empty objects under o, recursively: an object that holds no figure
 * (a hostile path such as {"t": {}}) carries nothing to compare, and the
 * binary form has no way to write one. */
static void prune_empty(json_t *o)
{
    const char *k;
    json_t *v, *tmp;
    json_object_foreach_safe(o, tmp, k, v) {
        if (!json_is_object(v))
            continue;
        prune_empty(v);
        if (json_object_size(v) == 0)
            json_object_del(o, k);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_t *j = NULL, *again = NULL;
    uint8_t *buf = NULL, *small = NULL;
    size_t len = 0, slen = 0;
    if (wm_rollbin_summary(data, size, &small, &slen) == WM_OK)
        free(small);
    if (wm_rollbin_decode(data, size, "xx/fuzz", &j) != WM_OK)
        return 0;
    if (wm_rollbin_encode(j, 1, &buf, &len) == WM_OK &&
        wm_rollbin_decode(buf, len, "xx/fuzz", &again) == WM_OK &&
        (prune_empty(json_object_get(j, "totals")), prune_empty(json_object_get(again, "totals")), 1) &&
        !json_equal(json_object_get(j, "totals"), json_object_get(again, "totals")))
        abort(); /* the figures must survive a round trip */
    json_decref(again);
    json_decref(j);
    free(buf);
    return 0;
}
