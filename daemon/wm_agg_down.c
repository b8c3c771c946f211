/* SPDX-License-Identifier: MIT */
/*
 * wm_agg_down — the parent's side of feature "down" (PROTOCOL.md §8):
 * each child in a session that agreed to "down" receives this node's own
 * log (its orders, reviews, notices, plans, published rollups), whole,
 * from where the child says it stands (DOWN_HELLO), in DOWN_BATCHes
 * within the credit the child grants. The child verifies, stores and acks
 * (DOWN_ACK, after its commit) or refuses (DOWN_REJECT); what it last
 * acked is kept in its PeerState (down_have) for status.
 *
 *   per child:  OFF ── HELLO with "down" both ways ──▶ AGREED
 *               AGREED ── DOWN_HELLO ──▶ SENDING (cursor = the child's have)
 *               SENDING ── DOWN_ACK ──▶ SENDING (credit back)
 *               SENDING ── DOWN_REJECT retryable ──▶ SENDING (cursor = have)
 *               SENDING ── DOWN_REJECT fatal ──▶ AGREED (nothing more sent)
 *
 * Batches are read with wm_node_read_batch (the upward link's reader: no
 * record leaves before the fork guard knows it) and encoded with
 * wm_wire_encode_down (zstd when that is in use on the session too).
 * Single-threaded, on the daemon's poll loop.
 */
#include "wm_agg_int.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "wm_diag.h"

/* Records per DOWN_BATCH: a parent's log is small (tens of records a
 * month), so a batch is a catch-up of weeks; it keeps one child's commit
 * short at a station PC. */
#define DOWN_BATCH_RECORDS 500
#define DOWN_BATCH_BYTES (256u << 10)

void wm_agg_down_session(wm_agg_peer_t *p, const Wm__Hello *h, const char *const *offered,
                         size_t n_offered)
{
    p->down = 0;
    for (size_t i = 0; i < n_offered; i++)
        p->down |= strcmp(offered[i], WM_FEATURE_DOWN) == 0 &&
                   wm_sync_feature_agreed(WM_FEATURE_DOWN, h->features, h->n_features);
    p->down_on = 0;
    p->down_credit = 0;
    memset(&p->down_cursor, 0, sizeof p->down_cursor);
    memset(&p->down_told, 0, sizeof p->down_told);
    p->down_floor = p->down_next_id + 1;
}

/* Keeps what the child said it holds of our log (status: down_have). */
static void note_have(wm_agg_peer_t *p, const Wm__Frontier *have)
{
    wm_head_t h;
    wm_head_from(have, &h);
    Wm__Frontier *f = p->ps->down_have;
    if (!f) {
        f = calloc(1, sizeof *f);
        if (!f)
            return;
        wm__frontier__init(f);
        p->ps->down_have = f;
    }
    f->epoch = h.epoch;
    f->seq = h.seq;
    wm_agg_set_bytes(&f->hash, h.hash, WM_HASH_BYTES);
    p->ps->down_at = (int64_t)time(NULL);
    p->dirty = 1;
}

static void on_down_hello(wm_agg_peer_t *p, const Wm__DownHello *h)
{
    wm_head_from(h->have, &p->down_cursor);
    note_have(p, h->have);
    p->down_on = 1;
    p->down_credit = h->credit < 1 ? 1 : h->credit > WM_SYNC_CREDIT ? WM_SYNC_CREDIT : h->credit;
    p->down_floor = p->down_next_id + 1;
    memset(&p->down_told, 0, sizeof p->down_told);
    p->down_told.epoch = UINT32_MAX; /* tell the head at once */
}

static void on_down_reject(wm_agg_peer_t *p, const Wm__DownReject *r)
{
    const char *reason = r->reason ? r->reason : "";
    char line[400];
    p->down_credit += r->credit;
    if (r->batch_id && r->batch_id < p->down_floor)
        return; /* stale: we already resumed from the child's have */
    snprintf(line, sizeof line, "%s: %s", reason, r->detail ? r->detail : "");
    wm_agg_set_str(&p->ps->down_reject, line);
    p->dirty = 1;
    wm_warn_peer(p->ps->node, "down: %s refused our log: %s", p->ps->node, line);
    if (wm_sync_slug_fatal(reason)) {
        p->down_on = 0; /* nothing more this session: its operator must act */
        return;
    }
    wm_head_from(r->have, &p->down_cursor);
    note_have(p, r->have);
    p->down_floor = p->down_next_id + 1;
}

int wm_agg_down_msg(wm_agg_t *a, wm_agg_peer_t *p, const wm_frame_t *route,
                    const Wm__SyncMsg *m)
{
    (void)route;
    switch (m->msg_case) {
    case WM__SYNC_MSG__MSG_DOWN_HELLO:
        on_down_hello(p, m->down_hello);
        break;
    case WM__SYNC_MSG__MSG_DOWN_ACK:
        p->down_credit += m->down_ack->credit;
        if (m->down_ack->batch_id >= p->down_floor)
            note_have(p, m->down_ack->have);
        break;
    case WM__SYNC_MSG__MSG_DOWN_REJECT:
        on_down_reject(p, m->down_reject);
        break;
    default:
        return 0;
    }
    wm_agg_down_pump(a);
    return 1;
}

/* Sends one DOWN_BATCH of b's records (none: a head-only one, id 0). */
static int send_down(wm_agg_t *a, wm_agg_peer_t *p, Wm__Batch *b)
{
    Wm__DownBatch d = WM__DOWN_BATCH__INIT;
    Wm__Frontier hf = wm_frontier_of(&a->node->head);
    uint8_t *buf = NULL;
    size_t len = 0;
    int zipped = 0;
    d.batch_id = b->n_records ? ++p->down_next_id : 0;
    d.records = b->records;
    d.n_records = b->n_records;
    d.head = &hf;
    d.sign_pub = (ProtobufCBinaryData){WM_PUB_BYTES, (uint8_t *)wm_signer_pub(a->node->signer)};
    if (wm_wire_encode_down(&d, p->link.zstd, &buf, &len, &zipped) != WM_OK)
        return 0;
    wm_msg_t out = {.n = 2, .f = {p->route, {buf, len}}};
    int sent = wm_sock_send(a->router, &out) == WM_OK;
    if (sent) {
        wm_link_sent(&p->link, len);
        wm_link_batch(&p->link, b->n_records, zipped);
    }
    free(buf);
    return sent;
}

/* One child: batches while it has credit and lacks records; then our
 * head, once, whenever it changed. */
static void pump_one(wm_agg_t *a, wm_agg_peer_t *p)
{
    wm_head_t share = wm_node_shareable(a->node);
    while (p->down_credit > 0 &&
           (p->down_cursor.epoch != share.epoch || p->down_cursor.seq < share.seq)) {
        Wm__Batch b;
        wm_head_t last;
        wm_err_t err = wm_node_read_batch(a->node, &p->down_cursor, DOWN_BATCH_RECORDS,
                                          DOWN_BATCH_BYTES, &b, &last, NULL);
        int sent = b.n_records && send_down(a, p, &b);
        if (err != WM_OK)
            wm_warn("down: cannot read our log for %s: %s", p->ps->node, wm_strerror(err));
        wm_node_batch_free(&b);
        if (!sent)
            return; /* a busy link, or nothing read: the next turn tries again */
        p->down_cursor = last;
        p->down_credit--;
    }
    const wm_head_t *h = &a->node->head;
    if (p->down_told.epoch != h->epoch || p->down_told.seq != h->seq ||
        memcmp(p->down_told.hash, h->hash, WM_HASH_BYTES) != 0) {
        Wm__Batch none = WM__BATCH__INIT;
        if (send_down(a, p, &none))
            p->down_told = a->node->head;
    }
}

void wm_agg_down_pump(wm_agg_t *a)
{
    for (size_t i = 0; i < a->npeers; i++) {
        wm_agg_peer_t *p = &a->peers[i];
        if (p->down && p->down_on && p->session != WM_AGG_S_NONE && p->route.len)
            pump_one(a, p);
    }
}
