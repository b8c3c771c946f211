/* SPDX-License-Identifier: MIT */
/*
 * wm_status — the node's status object for wmctl status and wmweb; see
 * wm_status.h.
 */
#include "wm_status.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "wm_client.h"
#include "wm_date.h"
#include "wm_i18n.h"
#include "wm_ident.h"
#include "wm_ingest.h"
#include "wm_quota.h"
#include "wm_stage.h"

/* A child not heard from in this long is "silent N days". */
#define SILENT_AFTER_S 86400

typedef struct {
    wm_txn_t *t;
    json_t *arr;
    int all_caught_up;
    time_t now;
    const wm_config_t *cfg;
    wm_head_t own;  /* this node's own head: what its children may hold of it */
    wm_err_t err; /* a failed read stops the scan */
} peers_ctx_t;

static int count_one(void *ctx, uint32_t e, uint64_t s, const wm_srec_t *v)
{
    (void)e, (void)s, (void)v;
    (*(uint64_t *)ctx)++;
    return 0;
}

static void iso_time(int64_t t, char *buf, size_t cap)
{
    struct tm tm;
    time_t tt = (time_t)t;
    if (!t) {
        snprintf(buf, cap, "never");
        return;
    }
    localtime_r(&tt, &tm);
    strftime(buf, cap, "%Y-%m-%dT%H:%M:%S%z", &tm);
}

/* What a child stores here against its quota ([quota] in wmsync.conf). */
static json_t *quota_json(peers_ctx_t *pc, uint32_t node)
{
    wm_quota_use_t u = {0};
    char day[11] = "";
    if (node && (pc->err = wm_quota_usage(pc->t, node, &u)) != WM_OK)
        return NULL;
    if (u.max_day)
        wm_date_format(u.max_day, day);
    return json_pack("{s:I, s:I, s:I, s:s, s:I, s:I, s:I}", "bytes", (json_int_t)u.bytes,
                     "records", (json_int_t)u.records, "days", (json_int_t)u.days, "max_day",
                     day, "max_day_bytes", (json_int_t)u.max_day_bytes, "day_limit",
                     (json_int_t)pc->cfg->quota_day_mb << 20, "total_limit",
                     (json_int_t)pc->cfg->quota_total_mb << 20);
}

/* Feature "down": how far the child holds our own log (PeerState 26–28). */
static void down_row(json_t *row, const Wm__PeerState *p, const wm_head_t *own)
{
    uint32_t e = p->down_have ? p->down_have->epoch : 0;
    uint64_t s = p->down_have ? p->down_have->seq : 0;
    int64_t lag = e == own->epoch ? (int64_t)own->seq - (int64_t)s : (int64_t)own->seq;
    json_object_set_new(row, "down_epoch", json_integer(e));
    json_object_set_new(row, "down_seq", json_integer((json_int_t)s));
    json_object_set_new(row, "down_lag", json_integer(lag > 0 ? lag : 0));
    json_object_set_new(row, "down_at", json_integer(p->down_at));
    json_object_set_new(row, "down_reject", json_string(p->down_reject ? p->down_reject : ""));
}

static int peer_row(void *ctx, const Wm__PeerState *p)
{
    peers_ctx_t *pc = ctx;
    uint32_t node = 0, ue = 0;
    wm_head_t h = {0}, vh = {0};
    uint64_t proofs = 0, unverified = 0, us = 0;
    wm_err_t err = wm_nodeno_lookup(pc->t, p->node, &node);
    if (err == WM_ENOTFOUND) {
        err = WM_OK; /* enrolled, nothing stored yet */
    } else if (err == WM_OK) {
        /* seq: durable (acked); verified: in the log, each signature checked */
        if ((err = wm_ingest_frontier(pc->t, node, &h)) == WM_OK &&
            (err = wm_stage_verified(pc->t, node, &vh)) == WM_OK &&
            (err = wm_stage_pending(pc->t, node, &unverified, &ue, &us)) == WM_OK)
            err = wm_proof_count(pc->t, node, &proofs);
    }
    if (err != WM_OK) {
        pc->err = err; /* a row missing a figure is no row: status fails */
        return 1;
    }
    uint64_t claimed = p->claimed ? p->claimed->seq : 0;
    uint32_t cepoch = p->claimed ? p->claimed->epoch : 0;
    int64_t lag = (cepoch == h.epoch || !h.epoch) ? (int64_t)claimed - (int64_t)h.seq : 0;
    if (cepoch > h.epoch)
        lag = (int64_t)claimed; /* a new epoch we hold nothing of yet */
    if (lag < 0)
        lag = 0;
    char state[48], seen[40];
    int64_t silent = p->last_seen ? (int64_t)pc->now - p->last_seen : -1;
    if (p->state == WM_PEER_REVOKED)
        snprintf(state, sizeof state, "revoked");
    else if (p->state == WM_PEER_QUARANTINED)
        snprintf(state, sizeof state, "quarantined");
    else if (silent < 0)
        snprintf(state, sizeof state, "never seen");
    else if (silent > SILENT_AFTER_S)
        snprintf(state, sizeof state, "silent %" PRId64 " days", silent / 86400);
    else if (lag > 0)
        snprintf(state, sizeof state, "behind");
    else if (unverified > 0)
        snprintf(state, sizeof state, "verifying");
    else
        snprintf(state, sizeof state, "ok");
    int caught_up = strcmp(state, "ok") == 0;
    if (p->state != WM_PEER_REVOKED && !caught_up)
        pc->all_caught_up = 0;
    iso_time(p->last_seen, seen, sizeof seen);
    json_t *row = json_pack(
        "{s:s, s:s, s:I, s:I, s:I, s:I, s:s, s:I, s:s, s:b, s:s, s:s, s:I, s:I}", "id", p->node,
        "name", p->name, "epoch", (json_int_t)h.epoch, "seq", (json_int_t)h.seq, "claimed_seq",
        (json_int_t)claimed, "lag", (json_int_t)lag, "last_seen", seen, "last_seen_unix",
        (json_int_t)p->last_seen, "state", state, "caught_up", caught_up, "last_reject",
        p->last_reject, "last_reject_detail", p->last_reject_detail, "flagged",
        (json_int_t)p->flagged, "proofs", (json_int_t)proofs);
    if (!row) /* text that is not UTF-8 must not hide the station */
        row = json_pack("{s:s, s:I, s:s, s:b}", "id", p->node, "seq", (json_int_t)h.seq,
                        "state", state, "caught_up", caught_up);
    if (row && p->last_reject && p->last_reject[0])
        json_object_set_new(row, "last_reject_hint",
                            json_string(wm_sync_slug_hint(p->last_reject)));
    if (row && p->state_reason && p->state_reason[0])
        json_object_set_new(row, "state_reason", json_string(p->state_reason));
    if (row && p->clock_at) { /* its wall clock minus ours, at its last HELLO */
        json_object_set_new(row, "clock_offset_s", json_integer(p->clock_offset_ms / 1000));
        json_object_set_new(row, "clock_at", json_integer(p->clock_at));
    }
    if (row) {
        json_object_set_new(row, "verified_epoch", json_integer(vh.epoch));
        json_object_set_new(row, "verified_seq", json_integer((json_int_t)vh.seq));
        json_object_set_new(row, "unverified", json_integer((json_int_t)unverified));
    }
    if (row)
        down_row(row, p, &pc->own);
    json_t *quota = quota_json(pc, node);
    if (!quota) {
        json_decref(row);
        return 1;
    }
    json_object_set_new(row, "quota", quota);
    json_array_append_new(pc->arr, row ? row : json_null());
    return 0;
}

/* What this node's own log says about itself. */
typedef struct {
    uint32_t self, epoch;
    wm_head_t head, acked;
    uint64_t records, pending; /* pending: appended, not yet acked upstream */
    int64_t contact;           /* last contact with the upstream, 0: never */
    char last_reject[400];     /* the upstream's last reject, "" if none */
} own_state_t;

/* Reads *o from the log in t (o->self set). A failed read answers nothing
 * after it; the last contact and reject are left empty then. */
static WM_MUST_CHECK wm_err_t read_own(wm_txn_t *t, own_state_t *o)
{
    wm_err_t err = WM_OK;
    if (o->self && wm_epoch_last(t, o->self, &o->epoch) == WM_OK)
        err = wm_log_head(t, o->self, o->epoch, &o->head);
    if (err == WM_OK && o->self)
        err = wm_log_count(t, o->self, &o->records);
    if (err == WM_OK)
        err = wm_acked_get(t, &o->acked);
    if (err == WM_OK && o->self)
        err = wm_log_scan(t, o->self, o->acked.epoch, o->acked.seq + 1, count_one, &o->pending,
                          NULL);
    size_t len = 0;
    if (err != WM_OK ||
        wm_meta_get(t, "last_contact", &o->contact, sizeof o->contact, &len) != WM_OK)
        o->contact = 0;
    if (err == WM_OK && wm_meta_get(t, "last_reject", o->last_reject,
                                    sizeof o->last_reject - 1, &len) == WM_OK)
        o->last_reject[len < sizeof o->last_reject ? len : sizeof o->last_reject - 1] = 0;
    return err;
}

/* The link's measured timing and why it keeps failing (the daemon's
 * live view), as j's "link". */
static void add_link(json_t *j, json_t *up)
{
    char since[40] = "", at[40] = "";
    json_int_t fs = json_integer_value(json_object_get(up, "failing_since"));
    json_int_t la = json_integer_value(json_object_get(up, "last_error_at"));
    if (fs)
        iso_time(fs, since, sizeof since);
    if (la)
        iso_time(la, at, sizeof at);
    const char *le = json_string_value(json_object_get(up, "last_error"));
    json_object_set_new(j, "link", json_pack("{s:O?, s:O?, s:O?, s:s, s:s, s:s, s:O?}",
        "rtt_ms", json_object_get(up, "rtt_ms"), "rate_bps", json_object_get(up, "rate_bps"),
        "dead_link_ms", json_object_get(up, "dead_link_ms"), "last_error", le ? le : "",
        "last_error_at", at, "failing_since", since, "attempts", json_object_get(up, "attempts")));
}

/* The upstream fields of j: what is acked and pending, the link. */
static void add_upstream(json_t *j, const own_state_t *o, json_t *live)
{
    char when[40];
    json_t *up = live ? json_object_get(live, "upstream") : NULL;
    iso_time(o->contact, when, sizeof when);
    json_object_set_new(j, "acked_epoch", json_integer(o->acked.epoch));
    json_object_set_new(j, "acked_seq", json_integer((json_int_t)o->acked.seq));
    json_object_set_new(j, "pending", json_integer((json_int_t)o->pending));
    json_object_set_new(j, "connected", json_boolean(up && json_is_true(json_object_get(up, "connected"))));
    json_object_set_new(j, "last_contact", json_string(when));
    json_object_set_new(j, "last_reject", json_string(o->last_reject));
    char slug[48]; /* the meta value is "slug: detail" */
    snprintf(slug, sizeof slug, "%.*s", (int)strcspn(o->last_reject, ":"), o->last_reject);
    json_object_set_new(j, "last_reject_hint", json_string(wm_sync_slug_hint(slug)));
    static const char *const live_keys[] = {"wire_bytes", "wire_bytes_out", "wire_bytes_in",
                                            "wire_messages", "wire_records", "bytes_per_record",
                                            "zbatches", "zstd", "clock_offset_s",
                                            "blobs_pending", "blob_bytes_pending", "blob_eta_s",
                                            "blobs_missing_local", "blob_bytes_sent",
                                            "blob_fetch", NULL};
    for (size_t i = 0; up && live_keys[i]; i++) {
        json_t *v = json_object_get(up, live_keys[i]);
        if (v)
            json_object_set(j, live_keys[i], v);
    }
    if (up)
        add_link(j, up);
}

/* Feature "down": the parent pinned here and how far its log is held:
 * the running daemon's view, else the pin file and the store's. */
static void add_down(json_t *j, const wm_config_t *cfg, wm_store_t *s, json_t *live)
{
    json_t *d = json_object_get(json_object_get(live, "upstream"), "down");
    if (d) {
        json_object_set(j, "down", d);
        return;
    }
    wm_ident_t *pin = malloc(sizeof *pin); /* two lines of text: not on the stack */
    char why[WM_WHY_MAX], pk[2 * WM_PUB_BYTES + 1], forked[WM_WHY_MAX] = "";
    wm_head_t have = {0};
    if (!pin || wm_ident_pin_read(cfg, pin, why, sizeof why) != WM_OK) {
        json_object_set_new(j, "down", json_pack("{s:b}", "pinned", 0));
        free(pin);
        return;
    }
    wm_txn_t *t = NULL;
    uint32_t no = 0;
    size_t len = 0;
    if (s && wm_txn_begin(s, 0, &t) == WM_OK) {
        if (wm_nodeno_lookup(t, pin->node, &no) == WM_OK &&
            wm_ingest_frontier(t, no, &have) != WM_OK)
            memset(&have, 0, sizeof have);
        if (wm_meta_get(t, WM_META_DOWN_FORKED, forked, sizeof forked - 1, &len) == WM_OK)
            forked[len < sizeof forked ? len : sizeof forked - 1] = 0;
    }
    wm_txn_abort(&t);
    json_object_set_new(j, "down", json_pack("{s:b, s:s, s:s, s:I, s:I, s:s}", "pinned", 1,
                                             "parent", pin->node, "pinned_key",
                                             wm_hex(pin->sign_pub, WM_PUB_BYTES, pk), "have_epoch",
                                             (json_int_t)have.epoch, "have_seq",
                                             (json_int_t)have.seq, "forked", forked));
    free(pin);
}

/* Moves the child rows into j as "stations", each with how long its
 * unverified records have waited (only the live daemon knows). */
static void add_stations(json_t *j, json_t *stations, json_t *live, int all_caught_up)
{
    json_t *lag = json_object_get(json_object_get(live, "verifier"), "lag_s");
    json_t *links = json_object_get(live, "links");
    size_t i;
    json_t *r;
    json_array_foreach(stations, i, r)
    {
        const char *id = json_string_value(json_object_get(r, "id"));
        json_t *l = id ? json_object_get(lag, id) : NULL;
        if (json_is_object(r))
            json_object_set_new(r, "verify_lag_s", json_integer(l ? json_integer_value(l) : 0));
        json_t *wire = id ? json_object_get(links, id) : NULL;
        if (json_is_object(r) && wire) /* wire_bytes … zstd: since the daemon started */
            json_object_update(r, wire);
        json_t *bl = id ? json_object_get(json_object_get(live, "blobs"), id) : NULL;
        if (json_is_object(r) && bl) /* blobs_missing, blob_bytes_received … (feature blobs) */
            json_object_update(r, bl);
        json_t *ss = json_object_get(live, "sessions");
        if (json_is_object(r) && ss && id)
            json_object_set_new(r, "session", json_boolean(json_object_get(ss, id) != NULL));
    }
    json_object_set_new(j, "stations", stations);
    json_object_set_new(j, "caught_up", json_boolean(all_caught_up));
}


json_t *wm_status_live(wm_net_t *net, const char *control)
{
    Wm__CtlRequest req = WM__CTL_REQUEST__INIT;
    Wm__CtlReply *rep = NULL;
    req.op_case = WM__CTL_REQUEST__OP_STATUS;
    req.status = 1;
    json_t *live = NULL;
    if (wm_client_call(net, control, &req, WM_CLIENT_TIMEOUT_MS, &rep, NULL) == WM_OK &&
        rep->json)
        live = json_loads(rep->json, 0, NULL);
    wm_pb_free(&rep);
    return live;
}

/* Reads the node's own state into *o and, on an aggregator, a row per
 * child into pc->arr, in one read transaction of s. */
static WM_MUST_CHECK wm_err_t read_log(wm_store_t *s, own_state_t *o, peers_ctx_t *pc)
{
    wm_txn_t *t = NULL;
    wm_err_t err = wm_txn_begin(s, 0, &t);
    if (err == WM_OK) {
        err = wm_nodeno_lookup(t, pc->cfg->id, &o->self);
        if (err == WM_ENOTFOUND)
            err = WM_OK, o->self = 0;
    }
    if (err == WM_OK)
        err = read_own(t, o);
    pc->t = t;
    pc->own = o->head;
    if (err == WM_OK && pc->arr)
        err = wm_peer_scan(t, peer_row, pc);
    if (err == WM_OK)
        err = pc->err;
    wm_txn_abort(&t);
    return err;
}

wm_err_t wm_status_json(const wm_config_t *cfg, wm_store_t *s, json_t *live, json_t **out,
                        char *why, size_t cap)
{
    own_state_t own = {0};
    peers_ctx_t pc = {.all_caught_up = 1, .now = time(NULL), .cfg = cfg};
    wm_err_t err = WM_OK;
    *out = NULL;
    pc.arr = cfg->listen[0] ? json_array() : NULL;
    if (s && (err = read_log(s, &own, &pc)) != WM_OK) {
        wm_why(why, cap, "cannot read the log of %s: %s [%s]", cfg->id, wm_strerror(err),
               wm_store_detail(s));
        json_decref(pc.arr);
        return err;
    }
    char hex[2 * WM_HASH_BYTES + 1];
    wm_hex(own.head.hash, sizeof own.head.hash, hex);
    json_t *j = json_pack("{s:s, s:s, s:s, s:I, s:I, s:s, s:I, s:b}", "role",
                          wm_role_name(cfg->role), "id", cfg->id, "name", cfg->name, "epoch",
                          (json_int_t)own.epoch, "head_seq", (json_int_t)own.head.seq,
                          "head_hash", own.head.seq ? hex : "", "records",
                          (json_int_t)own.records, "daemon_running", live != NULL);
    if (!j) {
        snprintf(why, cap, "out of memory");
        json_decref(pc.arr);
        return WM_ENOMEM;
    }
    if (live)
        json_object_set(j, "daemon", live);
    if (cfg->upstream[0])
        add_upstream(j, &own, live);
    if (cfg->upstream[0])
        add_down(j, cfg, s, live);
    if (pc.arr)
        add_stations(j, pc.arr, live, pc.all_caught_up);
    *out = j;
    return WM_OK;
}
