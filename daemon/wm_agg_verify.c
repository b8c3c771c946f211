/* SPDX-License-Identifier: MIT */
/*
 * wm_agg_verify — staged records of children (wm_stage.h) are checked by
 * the verifier thread (wm_verifier.h); verified ones are promoted into the
 * log with their indexes and counters (wm_append.h), and a record that is
 * not validly signed quarantines its node with the proof kept.
 */
#include "wm_i18n.h"
#include "wm_agg_int.h"

#include "control.pb-c.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wm_diag.h"
#include "wm_stage.h"

/* ---- verification: staged records become log records ---- */

/* Batches of this turn were committed (staged): the verifier looks now. */
void wm_agg_staged(wm_agg_t *a, const wm_agg_pending_t *pend, size_t n, time_t now)
{
    int any = 0;
    for (size_t i = 0; i < n; i++) {
        if (!pend[i].stored || !pend[i].res.accepted)
            continue;
        any = 1;
        if (!pend[i].peer->unverified_since)
            pend[i].peer->unverified_since = now;
    }
    if (any)
        wm_verifier_kick(a->verifier);
}

wm_err_t wm_agg_lag_restore(wm_agg_t *a, time_t now)
{
    wm_txn_t *t = NULL;
    wm_err_t err = wm_txn_begin(a->node->store, 0, &t);
    for (size_t i = 0; err == WM_OK && i < a->npeers; i++) {
        wm_agg_peer_t *p = &a->peers[i];
        uint64_t count = 0, s;
        uint32_t e;
        if (!p->node_no || (err = wm_stage_pending(t, p->node_no, &count, &e, &s)) != WM_OK ||
            !count)
            continue;
        int64_t seen = p->ps->last_seen;
        p->unverified_since = seen > 0 && seen <= (int64_t)now ? (time_t)seen : now;
    }
    wm_txn_abort(&t);
    return err;
}

/* A bad inner signature: like equivocation, the node is quarantined with
 * the record kept as proof (wm_stage_discard did that in t). */
static void quarantine_bad_signature(wm_agg_peer_t *p, uint64_t discarded)
{
    char reason[sizeof p->v_why + 128]; /* the verdict and the sentence around it */
    snprintf(reason, sizeof reason,
             "bad_signature: %s; it and the record after it are kept as proof, %" PRIu64
             " unverified record(s) from it on were dropped",
             p->v_why, discarded);
    p->ps->state = WM_PEER_QUARANTINED;
    wm_agg_set_str(&p->ps->state_reason, reason);
    wm_agg_note_reject(p, WM_SYNC_R_BAD_SIGNATURE, reason);
    p->dirty = 1;
    wm_error("sync: %s QUARANTINED: %s", p->ps->node, reason);
}

static int promotion_pending(const wm_agg_t *a, int *bad)
{
    int any = 0;
    *bad = 0;
    for (size_t i = 0; i < a->npeers; i++) {
        any |= a->peers[i].v_pending;
        *bad |= a->peers[i].v_pending && a->peers[i].v_bad;
    }
    return any;
}

wm_err_t wm_agg_promote_in(wm_agg_t *a, wm_txn_t *t, wm_agg_promotion_t *pr)
{
    wm_appender_t *ap = NULL;
    uint64_t budget = PROMOTE_MAX;
    memset(pr, 0, sizeof *pr);
    if (!(pr->done = calloc(a->npeers ? a->npeers : 1, sizeof *pr->done)))
        return WM_ENOMEM;
    wm_err_t err = wm_append_begin(t, 0, &ap);
    for (size_t i = 0; err == WM_OK && i < a->npeers && budget > 0; i++) {
        wm_agg_peer_t *p = &a->peers[i];
        uint64_t moved = 0, discarded = 0;
        if (!p->v_pending)
            continue;
        err = wm_stage_promote(t, ap, p->node_no, p->v_epoch, p->v_seq, budget, &moved);
        budget -= moved;
        if (err != WM_OK || budget == 0)
            break; /* the rest next turn */
        if (p->v_bad) {
            if ((err = wm_stage_discard(t, p->node_no, p->v_bad_epoch, p->v_bad_seq,
                                        &discarded)) != WM_OK)
                break;
            quarantine_bad_signature(p, discarded);
            err = wm_peer_put(t, p->ps);
        }
        wm_head_t durable, verified;
        if (err == WM_OK && (err = wm_ingest_frontier(t, p->node_no, &durable)) == WM_OK &&
            (err = wm_stage_verified(t, p->node_no, &verified)) == WM_OK &&
            durable.epoch == verified.epoch && durable.seq == verified.seq)
            p->unverified_since = 0; /* nothing waits any more */
        pr->done[pr->ndone++] = p;
    }
    if (err == WM_OK)
        err = wm_append_finish(&ap);
    wm_append_abandon(&ap);
    pr->moved = PROMOTE_MAX - budget;
    return err;
}

void wm_agg_promote_settle(wm_agg_t *a, wm_agg_promotion_t *pr, int committed)
{
    for (size_t i = 0; committed && i < pr->ndone; i++) {
        pr->done[i]->v_pending = 0;
        pr->done[i]->v_bad = 0;
    }
    if (committed)
        wm_agg_budget_stored(a, pr->moved * WM_AGG_RECORD_BYTES);
    int decide = committed && pr->ndone;
    free(pr->done);
    memset(pr, 0, sizeof *pr);
    if (decide)
        wm_agg_orders_decide(a); /* the promoted steps get the aggregator's word */
}

/* Moves what the verifier vouched for into the log (wm_append: log,
 * indexes, counters together), at most PROMOTE_MAX records per call, and
 * quarantines on a bad signature. One transaction: durable on return. */
void wm_agg_promote(wm_agg_t *a)
{
    wm_txn_t *t = NULL;
    wm_agg_promotion_t pr = {0};
    int bad;
    if (!promotion_pending(a, &bad))
        return;
    wm_err_t err = wm_txn_begin(a->node->store, 1, &t);
    if (err == WM_OK)
        err = wm_agg_promote_in(a, t, &pr);
    /* The promoted records are durable (and counted) once this returns. */
    if (err == WM_OK)
        err = wm_txn_commit(&t);
    wm_txn_abort(&t);
    wm_agg_promote_settle(a, &pr, err == WM_OK);
    if (err == WM_EMAPFULL && wm_store_grow(a->node->store) == WM_OK)
        return; /* the next call runs it again in the larger map */
    if (err != WM_OK)
        wm_error("verifier: cannot move verified records into the log: %s (%s); retrying",
                 wm_strerror(err), wm_store_detail(a->node->store));
}

wm_sock_t *wm_agg_verifier(wm_agg_t *a)
{
    return wm_verifier_sock(a->verifier);
}

void wm_agg_on_verified(wm_agg_t *a)
{
    wm_verdict_t *v = NULL;
    size_t n = wm_verifier_take(a->verifier, &v);
    for (size_t i = 0; i < n; i++) {
        wm_agg_peer_t *p = wm_agg_peer_by_no(a, v[i].node);
        if (!p) {
            wm_warn("verifier: records of node %u are staged but it is not enrolled", v[i].node);
            continue;
        }
        p->v_pending = 1;
        p->v_epoch = v[i].epoch;
        p->v_seq = v[i].seq;
        if (v[i].bad) {
            p->v_bad = 1;
            p->v_bad_epoch = v[i].bad_epoch;
            p->v_bad_seq = v[i].bad_seq;
            snprintf(p->v_why, sizeof p->v_why, "%s", v[i].why);
        }
    }
    free(v);
    int bad;
    /* Batches waiting on the router: the turn that stores them promotes
     * these too, in its own commit (one fsync less). A bad signature is
     * dealt with at once, before any more of that node is acked. */
    if (promotion_pending(a, &bad) && !bad && wm_agg_router_waiting(a))
        return;
    wm_agg_promote(a);
}

json_t *wm_agg_verify_status(wm_agg_t *a)
{
    time_t now = time(NULL);
    json_t *lag = json_object();
    for (size_t i = 0; i < a->npeers; i++)
        if (a->peers[i].unverified_since)
            json_object_set_new(lag, a->peers[i].ps->node,
                                json_integer((json_int_t)(now - a->peers[i].unverified_since)));
    return json_pack("{s:I, s:o}", "verified", (json_int_t)wm_verifier_total(a->verifier),
                     "lag_s", lag);
}

int wm_agg_unverified(wm_agg_t *a, char *why, size_t cap)
{
    wm_txn_t *t = NULL;
    int nodes = 0;
    size_t used = 0;
    why[0] = 0;
    if (wm_txn_begin(a->node->store, 0, &t) != WM_OK) {
        wm_why(why, cap, "cannot read what is still unverified");
        return -1;
    }
    uint32_t node = 0;
    wm_err_t err = WM_OK;
    for (uint32_t from = 1; from && (err = wm_stage_next_node(t, from, &node)) == WM_OK;
         from = node + 1) {
        uint64_t count = 0;
        uint32_t e;
        uint64_t s;
        const char *id = "?";
        if ((err = wm_stage_pending(t, node, &count, &e, &s)) != WM_OK)
            break; /* unreadable is not "nothing unverified" */
        if (!count)
            continue;
        if (wm_nodeno_name(t, node, &id) != WM_OK)
            id = "?"; /* the count stands; only the name is missing */
        if (used < cap)
            used += (size_t)snprintf(why + used, cap - used, "%s%s (%" PRIu64 " record(s) from %" PRIu32 "/%" PRIu64 ")",
                                     nodes ? ", " : "", id, count, e, s);
        nodes++;
    }
    wm_txn_abort(&t);
    if (err != WM_OK && err != WM_ENOTFOUND) {
        wm_why(why, cap, "cannot read what is still unverified: %s (%s)", wm_strerror(err),
                 wm_store_detail(a->node->store));
        return -1;
    }
    return nodes;
}
