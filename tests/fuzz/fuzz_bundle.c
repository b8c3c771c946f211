/* SPDX-License-Identifier: MIT */
/*
 * fuzz_bundle — libFuzzer target for the streaming bundle reader
 * (proto/wm_bundle.c) that `wmctl bundle import` runs on files anyone may
 * carry. The input is what follows the "WMSYNCB1" magic. Besides not
 * crashing, the reader must agree with protobuf-c: whatever it accepts,
 * protobuf-c decodes as a Bundle with the same node id and the same
 * records in the same order. Seeds: tests/fuzz/corpus_sync (bundle.pb).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sync.pb-c.h"
#include "wm_bundle.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static uint8_t rec[WM_BUNDLE_REC_MAX];
    uint8_t *file = malloc(size + WM_BUNDLE_MAGIC_LEN);
    if (!file)
        return 0;
    memcpy(file, WM_BUNDLE_MAGIC, WM_BUNDLE_MAGIC_LEN);
    memcpy(file + WM_BUNDLE_MAGIC_LEN, data, size);
    wm_bundle_mem_t m = {file, size + WM_BUNDLE_MAGIC_LEN, 0};
    wm_bundle_src_t src = wm_bundle_mem_src(&m);
    wm_bundle_t b;
    if (wm_bundle_scan(&b, &src) == WM_OK) {
        Wm__Bundle *pb = NULL;
        if (wm_pb_decode(&wm__bundle__descriptor, data, size, size + 1, (void **)&pb) != WM_OK ||
            !pb->node || strcmp(pb->node, b.node) != 0 || pb->n_records != b.records)
            abort(); /* accepted what protobuf-c reads otherwise */
        size_t len = 0, i = 0;
        while (wm_bundle_next(&b, rec, sizeof rec, &len) == WM_OK) {
            if (i >= pb->n_records || pb->records[i].len != len ||
                (len && memcmp(pb->records[i].data, rec, len) != 0))
                abort();
            i++;
        }
        if (i != pb->n_records)
            abort();
        wm_pb_free(&pb);
    }
    free(file);
    return 0;
}
