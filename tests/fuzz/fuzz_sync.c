/* SPDX-License-Identifier: MIT */
/*
 * fuzz_sync — libFuzzer target for what an aggregator and a child read off
 * the sync link and out of bundle files: wm_pb_decode of a SyncMsg, then a
 * walk of the decoded message the way wm_agg and wm_upstream walk it (every
 * record of a Batch through wm_srec_view, wm_srec_hash, wm_srec_verify and
 * wm_record_decode; a ZBatch unpacked by wm_wire_unpack, then its records
 * likewise; frontier hash lengths of Hello, Welcome, Ack, Reject,
 * Heartbeat); the same input is also decoded as a Bundle and an Identity.
 * The SyncMsg is decoded twice, with malloc and into an arena as the
 * aggregator does (wm_pb_decode_in): both must agree (the same verdict,
 * the same message packed again); a ZBatch's hashes must be its records'.
 * Records are verified with the fixed key of the golden vectors (seed
 * 0..31), the key `hostile --dump` signs the seeds with, so seeds reach the
 * success paths. Seeds: tests/fuzz/corpus_sync (hostile --dump DIR).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sync.pb-c.h"
#include "wm_sync.h"
#include "wm_wire.h"
#include "fuzz_common.h"

#define FUZZ_MAX_MSG WM_SYNC_MAX_MSG /* what the aggregator decodes */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Reads a frontier as head_of() does: a hash is used only at 32 bytes. */
static unsigned frontier(const Wm__Frontier *f)
{
    uint8_t h[WM_HASH_BYTES] = {0};
    if (!f)
        return 0;
    if (f->hash.len == WM_HASH_BYTES)
        memcpy(h, f->hash.data, WM_HASH_BYTES);
    return (unsigned)(f->epoch ^ (uint32_t)f->seq ^ h[0] ^ h[WM_HASH_BYTES - 1]);
}

static size_t text(const char *s)
{
    return s ? strlen(s) : 0;
}

static void walk_sync(const Wm__SyncMsg *m)
{
    volatile unsigned sink = 0;
    switch (m->msg_case) {
    case WM__SYNC_MSG__MSG_HELLO:
        sink += m->hello->version + (unsigned)text(m->hello->node) + frontier(m->hello->head);
        break;
    case WM__SYNC_MSG__MSG_WELCOME:
        sink += frontier(m->welcome->durable) + m->welcome->credit + m->welcome->max_records +
                m->welcome->max_bytes + m->welcome->heartbeat_s;
        break;
    case WM__SYNC_MSG__MSG_BATCH: {
        size_t bytes = 0;
        for (size_t i = 0; i < m->batch->n_records; i++)
            bytes += m->batch->records[i].len;
        sink += (unsigned)bytes + frontier(m->batch->head);
        for (size_t i = 0; i < m->batch->n_records; i++)
            fuzz_srec(m->batch->records[i].data, m->batch->records[i].len);
        break;
    }
    case WM__SYNC_MSG__MSG_ZBATCH: { /* as wm_agg unpacks it (wm_wire.h) */
        wm_wire_batch_t b;
        char why[WM_WHY_MAX];
        sink += frontier(m->zbatch->head);
        if (wm_wire_unpack(m->zbatch, WM_SYNC_MAX_RECORDS, &b, why, sizeof why) ==
            WM_SYNC_R_OK) {
            for (size_t i = 0; i < b.n; i++) {
                uint8_t h[WM_HASH_BYTES];
                fuzz_srec(b.recs[i].data, b.recs[i].len);
                wm_srec_hash_buf(b.recs[i].data, b.recs[i].len, h);
                if (memcmp(h, b.hashes + i * WM_HASH_BYTES, WM_HASH_BYTES) != 0)
                    abort(); /* ingest chains with these: they must be the records' */
            }
            wm_wire_batch_free(&b);
        }
        break;
    }
    case WM__SYNC_MSG__MSG_ACK:
        sink += frontier(m->ack->durable) + m->ack->credit + m->ack->flagged;
        break;
    case WM__SYNC_MSG__MSG_REJECT:
        sink += (unsigned)(text(m->reject->reason) + text(m->reject->detail)) +
                frontier(m->reject->durable) + m->reject->credit;
        break;
    case WM__SYNC_MSG__MSG_HEARTBEAT:
        sink += frontier(m->heartbeat->head);
        break;
    default:
        break;
    }
    (void)sink;
}

/* The aggregator's decode (wm_pb_decode_in) against the malloc one (m, or
 * NULL if it refused the input): the same verdict, the same message. */
static void same_in_arena(const Wm__SyncMsg *m, const uint8_t *data, size_t size)
{
    wm_arena_t ar = {0};
    Wm__SyncMsg *am = NULL;
    int ok = wm_pb_decode_in(&ar, &wm__sync_msg__descriptor, data, size, FUZZ_MAX_MSG,
                             (void **)&am) == WM_OK;
    if (ok != (m != NULL))
        abort();
    if (ok) {
        uint8_t *a = NULL, *b = NULL;
        size_t alen = 0, blen = 0;
        if (wm_pb_encode(&m->base, &a, &alen) != WM_OK ||
            wm_pb_encode(&am->base, &b, &blen) != WM_OK || alen != blen ||
            memcmp(a, b, alen) != 0)
            abort();
        free(a);
        free(b);
    }
    wm_arena_free(&ar);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    Wm__SyncMsg *sm = NULL;
    Wm__Bundle *bu = NULL;
    Wm__Identity *id = NULL;
    fuzz_init();
    if (wm_pb_decode(&wm__sync_msg__descriptor, data, size, FUZZ_MAX_MSG, (void **)&sm) ==
        WM_OK)
        walk_sync(sm);
    same_in_arena(sm, data, size);
    wm_pb_free(&sm);
    if (wm_pb_decode(&wm__bundle__descriptor, data, size, FUZZ_MAX_MSG, (void **)&bu) == WM_OK) {
        (void)frontier(bu->from);
        (void)(bu->sign_pub.len == WM_PUB_BYTES);
        for (size_t i = 0; i < bu->n_records; i++)
            fuzz_srec(bu->records[i].data, bu->records[i].len);
    }
    wm_pb_free(&bu);
    if (wm_pb_decode(&wm__identity__descriptor, data, size, 4096, (void **)&id) == WM_OK) {
        volatile size_t n = text(id->node) + text(id->name) + text(id->role);
        (void)n;
        (void)(id->sign_pub.len == WM_PUB_BYTES && id->curve_pub.len == WM_PUB_BYTES);
    }
    wm_pb_free(&id);
    return 0;
}
