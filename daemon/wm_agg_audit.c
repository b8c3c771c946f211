/* SPDX-License-Identifier: MIT */
/*
 * wm_agg_audit — the audit relay: a control request (wmctl audit) asks a
 * child for records with FETCH; the child's RECORDS answer goes back to
 * that request, or a timeout does. Waits refer to the child by node id.
 */
#include "wm_i18n.h"
#include "wm_agg_int.h"

#include "control.pb-c.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wm_diag.h"
#include "wm_reactor.h"

/* Answers a waiting control request, or the tier above for a relayed
 * fetch: the records, or why there are none. */
static void fetch_reply(wm_agg_t *a, wm_agg_wait_t *w, Wm__Records *recs, const char *error)
{
    Wm__CtlReply r = WM__CTL_REPLY__INIT;
    if (w->relay) {
        Wm__Records none = WM__RECORDS__INIT; /* a timeout: what was asked, and why not */
        none.node = w->node;
        none.epoch = w->epoch;
        if (a->relay_fn)
            a->relay_fn(a->relay_ctx, w->up_req_id, recs ? recs : &none, error);
        memset(w, 0, sizeof *w);
        return;
    }
    if (error) {
        r.error = (char *)wm_errname(WM_ETIMEOUT);
        r.message = (char *)error;
    }
    r.records = recs;
    wm_agg_wait_answer(a, w, &r, "audit");
}

/* Hands an audit answer to the control request waiting for it. 0 if no
 * request of `from` with that id waits (never asked, timed out), or the
 * answer is not about what was asked. */
int wm_agg_audit_answered(wm_agg_t *a, const wm_agg_peer_t *from, Wm__Records *recs)
{
    for (int i = 0; i < FETCH_WAIT_MAX; i++) {
        wm_agg_wait_t *w = &a->waits[i];
        if (!w->req_id || w->req_id != recs->req_id || w->blob)
            continue;
        /* Only the child asked, about what was asked, may answer. */
        if (strcmp(w->child, from->ps->node) != 0 || !recs->node || strcmp(recs->node, w->node) != 0 ||
            recs->epoch != w->epoch) {
            return 0;
        }
        fetch_reply(a, w, recs, NULL);
        return 1;
    }
    return 0;
}

void wm_agg_set_ctl(wm_agg_t *a, wm_sock_t *ctl)
{
    a->ctl = ctl;
}

/* Sends child (by id) a FETCH of f's records with the given path, and
 * records what waits for its answer (w, filled by the caller but for the
 * fields set here). */
static WM_MUST_CHECK wm_err_t ask_child(wm_agg_t *a, const char *child, const Wm__Fetch *f,
                                        char **path, size_t n_path,
                                        const wm_frame_t *ctl_peer, wm_agg_wait_t **wout,
                                        char *why, size_t cap)
{
    wm_agg_peer_t *p = child ? wm_agg_peer_find(a, child) : NULL;
    if (!p) {
        wm_why(why, cap, "\"%s\" is not enrolled here", child ? child : "");
        return WM_ENOTFOUND;
    }
    if (p->session == WM_AGG_S_NONE) {
        wm_why(why, cap, "%s is not connected now; try again when its status says ok",
                 p->ps->node);
        return WM_ESTATE;
    }
    if (n_path && !p->relays) {
        snprintf(why, cap, "%s runs a build that does not relay audits down its tiers (no "
                 "feature " WM_FEATURE_ROLLUP_BIN "): audit it at its own node", p->ps->node);
        return WM_ESTATE;
    }
    wm_agg_wait_t *w = NULL;
    wm_err_t err = wm_agg_wait_take(a, p, FETCH_TIMEOUT_S, ctl_peer, &w);
    if (err != WM_OK) {
        wm_why(why, cap, err == WM_ESTATE ? "too many audit requests at once" : "out of memory");
        return err;
    }
    snprintf(w->node, sizeof w->node, "%s", f->node ? f->node : "");
    w->epoch = f->epoch;
    Wm__SyncMsg m = WM__SYNC_MSG__INIT;
    Wm__Fetch out = *f;
    out.req_id = w->req_id;
    out.via = "";
    out.path = path;
    out.n_path = n_path;
    m.msg_case = WM__SYNC_MSG__MSG_FETCH;
    m.fetch = &out;
    wm_agg_send(a, &p->route, &m);
    *wout = w;
    return WM_OK;
}

wm_err_t wm_agg_fetch(wm_agg_t *a, const Wm__Fetch *f, const wm_frame_t *ctl_peer, char *why,
                      size_t cap)
{
    wm_agg_wait_t *w = NULL;
    return ask_child(a, f->via, f, f->path, f->n_path, ctl_peer, &w, why, cap);
}

void wm_agg_set_relay(wm_agg_t *a, wm_agg_relay_fn fn, void *ctx)
{
    a->relay_fn = fn;
    a->relay_ctx = ctx;
}

wm_err_t wm_agg_relay(wm_agg_t *a, const Wm__Fetch *f, char *why, size_t cap)
{
    wm_agg_wait_t *w = NULL;
    if (f->n_path == 0) {
        snprintf(why, cap, "nothing to relay");
        return WM_EINVAL;
    }
    wm_err_t err = ask_child(a, f->path[0], f, f->path + 1, f->n_path - 1, NULL, &w, why, cap);
    if (err != WM_OK)
        return err;
    w->relay = 1;
    w->up_req_id = f->req_id;
    return WM_OK;
}

void wm_agg_audit_tick(wm_agg_t *a, int64_t now)
{
    for (int i = 0; i < FETCH_WAIT_MAX; i++)
        if (a->waits[i].req_id && now > a->waits[i].deadline && a->waits[i].blob)
            wm_agg_blobfetch_fail(a, &a->waits[i], "timeout", "the child did not answer in time");
        else if (a->waits[i].req_id && now > a->waits[i].deadline)
            fetch_reply(a, &a->waits[i], NULL, "the child did not answer the audit request");
}

wm_err_t wm_agg_wait_take(wm_agg_t *a, const wm_agg_peer_t *p, unsigned timeout_s,
                          const wm_frame_t *ctl_peer, wm_agg_wait_t **wout)
{
    wm_agg_wait_t *w = NULL;
    for (int i = 0; i < FETCH_WAIT_MAX && !w; i++)
        if (!a->waits[i].req_id)
            w = &a->waits[i];
    if (!w)
        return WM_ESTATE;
    if (ctl_peer) {
        w->ctl_peer.data = malloc(ctl_peer->len ? ctl_peer->len : 1);
        if (!w->ctl_peer.data)
            return WM_ENOMEM;
        memcpy(w->ctl_peer.data, ctl_peer->data, ctl_peer->len);
        w->ctl_peer.len = ctl_peer->len;
    }
    w->req_id = ++a->next_req_id;
    w->deadline = wm_reactor_now_ms() / 1000 + timeout_s; /* never the wall clock */
    snprintf(w->child, sizeof w->child, "%s", p->ps->node);
    *wout = w;
    return WM_OK;
}

void wm_agg_wait_answer(wm_agg_t *a, wm_agg_wait_t *w, const Wm__CtlReply *r, const char *what)
{
    uint8_t *buf = NULL;
    size_t len = 0;
    if (a->ctl && wm_pb_encode(&r->base, &buf, &len) == WM_OK) {
        wm_msg_t m = {.n = 2, .f = {w->ctl_peer, {buf, len}}};
        if (wm_sock_send(a->ctl, &m) != WM_OK) /* wmctl times out waiting */
            wm_warn("%s: cannot answer the control request: %s", what, wm_net_detail());
    }
    free(buf);
    free(w->ctl_peer.data);
    memset(w, 0, sizeof *w);
}

void wm_agg_audit_close(wm_agg_t *a)
{
    for (int i = 0; i < FETCH_WAIT_MAX; i++)
        free(a->waits[i].ctl_peer.data);
}
