/* SPDX-License-Identifier: MIT */
/*
 * wm_agg_budget — the aggregator's memory budget ([sync] memory_mb) while
 * children catch up, enforced through credit (PROTOCOL.md §2).
 *
 * What grows with a catch-up is what the children have in flight (each
 * batch granted by credit waits in ZeroMQ's queues until the loop takes
 * it), the turn in hand (its messages and the LMDB pages its transaction
 * dirties) and the pages of the data file the loop and the verifier touch.
 * The budget B is split:
 *   - B/2 for batches in flight: each child's credit costs its recent
 *     batch size (the largest batch, WM_SYNC_MAX_BYTES, until one came).
 *     A WELCOME grants what fits (at least 1); while the sum is over B/2
 *     an ACK returns no credit (a child keeps at least 1 batch in flight,
 *     so none stalls), and while there is room an ACK returns 2 (up to
 *     WM_SYNC_CREDIT). The child counts credit exactly as always: an old
 *     child needs nothing new.
 *   - B/8 for one turn (its messages; at most AGG_DRAIN_BYTES);
 *   - B/4 for the pages of the data file mapped into this process (the
 *     loop's and the verifier's reads): over it they are dropped
 *     (wm_store_trim; they stay in the page cache and come back on the
 *     next read). Looked at after every B/32 bytes stored or promoted.
 * Only children heard from within BUDGET_LIVE_S count: a link that went
 * away without a word holds no budget.
 */
#include "wm_agg_int.h"

#include <stdio.h>
#include <unistd.h>

#include "wm_diag.h"

#define BUDGET_LIVE_S 15 /* 3 heartbeats: a child quiet longer holds no credit */

static uint64_t budget_bytes(const wm_agg_t *a)
{
    return (uint64_t)a->node->cfg->sync_memory_mb << 20;
}

/* What one credit of p is expected to cost. */
static uint64_t credit_cost(const wm_agg_peer_t *p)
{
    return p->batch_bytes ? p->batch_bytes : WM_SYNC_MAX_BYTES;
}

/* The bytes the live sessions but skip may have in flight. */
static uint64_t in_flight_bytes(const wm_agg_t *a, const wm_agg_peer_t *skip, time_t now)
{
    uint64_t sum = 0;
    for (size_t i = 0; i < a->npeers; i++) {
        const wm_agg_peer_t *p = &a->peers[i];
        if (p == skip || p->session == WM_AGG_S_NONE || now - p->ps->last_seen > BUDGET_LIVE_S)
            continue;
        sum += (uint64_t)p->credit * credit_cost(p);
    }
    return sum;
}

uint32_t wm_agg_credit_welcome(wm_agg_t *a, wm_agg_peer_t *p, time_t now)
{
    uint64_t b = budget_bytes(a) / 2, used = in_flight_bytes(a, p, now);
    uint64_t fit = used < b ? (b - used) / credit_cost(p) : 0;
    p->credit = !b || fit >= WM_SYNC_CREDIT ? WM_SYNC_CREDIT : fit ? (uint32_t)fit : 1;
    return p->credit;
}

uint32_t wm_agg_credit_answer(wm_agg_t *a, wm_agg_peer_t *p, size_t batch_bytes, time_t now)
{
    uint64_t b = budget_bytes(a) / 2;
    /* The recent batch size, decaying slowly: a catch-up's batches are
     * alike, and one small batch must not open the gates. */
    uint64_t decayed = p->batch_bytes - p->batch_bytes / 8;
    p->batch_bytes = (uint32_t)(batch_bytes > decayed ? batch_bytes : decayed);
    if (!b || p->credit == 0) { /* no budget, or a session older than credit counting */
        p->credit = WM_SYNC_CREDIT;
        return 1;
    }
    uint64_t used = in_flight_bytes(a, NULL, now);
    if (used > b && p->credit > 1) {
        p->credit--;
        return 0;
    }
    if (used + credit_cost(p) <= b && p->credit < WM_SYNC_CREDIT) {
        p->credit++;
        return 2;
    }
    return 1;
}

size_t wm_agg_turn_bytes(const wm_agg_t *a)
{
    uint64_t b = budget_bytes(a) / 8;
    return !b || b > AGG_DRAIN_BYTES ? AGG_DRAIN_BYTES : b < WM_SYNC_MAX_MSG ? WM_SYNC_MAX_MSG : b;
}

/* Pages of files mapped into this process (statm's third field: RssFile
 * and RssShmem), in bytes; 0 if unknown. */
static uint64_t mapped_resident(void)
{
    unsigned long size = 0, resident = 0, shared = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (!f)
        return 0;
    int n = fscanf(f, "%lu %lu %lu", &size, &resident, &shared);
    fclose(f);
    return n == 3 ? (uint64_t)shared * (uint64_t)sysconf(_SC_PAGESIZE) : 0;
}

void wm_agg_budget_stored(wm_agg_t *a, uint64_t bytes)
{
    uint64_t b = budget_bytes(a) / 4;
    if (!b)
        return;
    a->stored_since_trim += bytes;
    if (a->stored_since_trim < b / 8)
        return; /* look at most every B/32 bytes stored */
    a->stored_since_trim = 0;
    if (mapped_resident() > b)
        wm_store_trim(a->node->store);
}
