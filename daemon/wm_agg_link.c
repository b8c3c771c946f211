/* SPDX-License-Identifier: MIT */
/*
 * wm_agg_link — the aggregator's side of thin links (design.md §8): a
 * child's session lives while the child speaks. A child sends a heartbeat
 * at least every heartbeat_s (Welcome tells it ours); one silent for
 * [sync] dead_link_s is gone — a half-open link (the far side vanished
 * with no FIN or RST), a NAT that forgot the flow — and its session is
 * dropped, so status no longer shows it and its next message, if any,
 * gets no_session. libzmq's ZMTP heartbeat (the same timeout, wm_net's
 * link options) closes the TCP connection itself.
 */
#include "wm_agg_int.h"

#include <time.h>

#include "wm_diag.h"

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void wm_agg_link_seen(wm_agg_peer_t *p)
{
    p->rx_ms = mono_ms();
}

void wm_agg_link_reap(wm_agg_t *a)
{
    int64_t now = mono_ms(), dead = (int64_t)a->node->cfg->dead_link_s * 1000;
    for (size_t i = 0; i < a->npeers; i++) {
        wm_agg_peer_t *p = &a->peers[i];
        if (p->session == WM_AGG_S_NONE || !p->rx_ms || now - p->rx_ms <= dead)
            continue;
        wm_info_peer(p->ps->node, "sync: %s silent for %lld s: its session is dropped",
                     p->ps->node, (long long)((now - p->rx_ms) / 1000));
        p->session = WM_AGG_S_NONE;
        p->in_flight = 0;
    }
}

json_t *wm_agg_sessions_status(wm_agg_t *a)
{
    json_t *o = json_object();
    int64_t now = mono_ms();
    for (size_t i = 0; o && i < a->npeers; i++) {
        const wm_agg_peer_t *p = &a->peers[i];
        if (p->session != WM_AGG_S_NONE)
            json_object_set_new(o, p->ps->node, json_integer(now - p->rx_ms));
    }
    return o;
}
