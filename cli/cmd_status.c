/* SPDX-License-Identifier: MIT */
/*
 * wmctl status — can this node be trusted to be caught up? Read from LMDB
 * (works with the daemon down) plus what the running daemon reports live.
 *
 *   every node:   "role", "id", "name", "epoch", "head_seq", "head_hash",
 *                 "records", "daemon_running"
 *   with an upstream: "acked_seq", "pending", "connected", "last_contact",
 *                 "last_reject", "last_reject_hint" (what to do: wm_sync.h);
 *                 from the running daemon: the link's "wire_bytes" … "zstd"
 *                 (daemon/wm_link.h) and "clock_offset_s"
 *   aggregators:  "stations": [{"id", "seq", "state", "lag", "verified_epoch",
 *                 "verified_seq", "unverified", "verify_lag_s", ...,
 *                 "quota": {"bytes", "records", "days", "max_day", "max_day_bytes",
 *                 "day_limit", "total_limit"}, "clock_offset_s", "clock_at",
 *                 and from the running daemon "wire_bytes" … "zstd"}], "caught_up"
 *                 (every child also fully verified)
 */
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "wm_date.h"
#include "wm_ingest.h"
#include "wm_quota.h"
#include "wm_stage.h"
#include "wm_i18n.h"
#include "wmctl.h"

#define SILENT_AFTER_S 86400

typedef struct {
    wm_txn_t *t;
    json_t *arr;
    int all_caught_up;
    time_t now;
    const wm_config_t *cfg;
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
    json_t *quota = quota_json(pc, node);
    if (!quota) {
        json_decref(row);
        return 1;
    }
    json_object_set_new(row, "quota", quota);
    json_array_append_new(pc->arr, row ? row : json_null());
    return 0;
}

/* A child's state (the JSON slug) as the reader reads it. */
static const char *state_text(const char *state, char *buf, size_t cap)
{
    long days;
    if (!state)
        return "";
    if (sscanf(state, "silent %ld days", &days) == 1) {
        snprintf(buf, cap, _("silent %ld days"), days);
        return buf;
    }
    static const char *const known[] = {N_("revoked"), N_("quarantined"), N_("never seen"),
                                        N_("behind"), N_("verifying"), N_("ok")};
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        if (strcmp(state, known[i]) == 0)
            return _(known[i]);
    return state;
}

/* The wire and clock lines of a link (the upstream's, or a child's). */
static void print_link(const char *indent, const json_t *r)
{
    json_t *wb = json_object_get(r, "wire_bytes");
    json_t *off = json_object_get(r, "clock_offset_s");
    if (wb)
        printf(json_is_true(json_object_get(r, "zstd"))
                   ? _("%swire:      %lld bytes, %lld records, %.1f bytes/record (zstd)\n")
                   : _("%swire:      %lld bytes, %lld records, %.1f bytes/record\n"),
               indent, (long long)json_integer_value(wb),
               (long long)json_integer_value(json_object_get(r, "wire_records")),
               json_number_value(json_object_get(r, "bytes_per_record")));
    if (off) {
        long long sec = (long long)json_integer_value(off);
        int wrong = sec > WM_SYNC_CLOCK_WARN_S || sec < -WM_SYNC_CLOCK_WARN_S;
        printf(sec < 0 ? _("%sclock:     %lld s behind the aggregator's%s\n")
                       : _("%sclock:     %lld s ahead of the aggregator's%s\n"),
               indent, sec < 0 ? -sec : sec,
               wrong ? _(": WRONG, set the date and time of that computer") : "");
    }
}

static void print_human(const json_t *j)
{
    json_t *d = json_object_get(j, "daemon");
    printf("%s %s (%s)\n", json_string_value(json_object_get(j, "role")),
           json_string_value(json_object_get(j, "id")), json_string_value(json_object_get(j, "name")));
    printf(_("  head:      epoch %lld seq %lld  %s\n"),
           (long long)json_integer_value(json_object_get(j, "epoch")),
           (long long)json_integer_value(json_object_get(j, "head_seq")),
           json_string_value(json_object_get(j, "head_hash")));
    printf(_("  records:   %lld\n"),
           (long long)json_integer_value(json_object_get(j, "records")));
    if (d)
        printf(_("  daemon:    running (pid %lld, up %lld"
                 " s)\n"),
               (long long)json_integer_value(json_object_get(d, "pid")),
               (long long)json_integer_value(json_object_get(d, "uptime_s")));
    else
        fputs(_("  daemon:    not running\n"), stdout);
    if (json_object_get(j, "acked_seq")) {
        printf(_("  upstream:  %s; acked seq %lld, %lld"
                 " pending; last contact %s\n"),
               json_is_true(json_object_get(j, "connected")) ? _("connected") : _("NOT connected"),
               (long long)json_integer_value(json_object_get(j, "acked_seq")),
               (long long)json_integer_value(json_object_get(j, "pending")),
               json_string_value(json_object_get(j, "last_contact")));
        print_link("  ", j);
        const char *lr = json_string_value(json_object_get(j, "last_reject"));
        if (lr && lr[0])
            printf(_("  last reject: %s\n  what to do:  %s\n"), lr,
                   json_string_value(json_object_get(j, "last_reject_hint")));
    }
    json_t *st = json_object_get(j, "stations");
    if (st) {
        printf(_("  children:  %zu, %s\n"), json_array_size(st),
               json_is_true(json_object_get(j, "caught_up")) ? _("all caught up")
                                                             : _("NOT all caught up"));
        /* TRANSLATORS: the header of the children's table; keep each column
         * as wide as here (id 32, seq, verified and claimed 8, lag 6, state
         * 16, last seen 24; a Chinese character is two columns wide). */
        fputs(_("    id                                    seq verified  claimed    lag  state  "
                "          last seen                last reject\n"),
              stdout);
        size_t i;
        json_t *r;
        json_array_foreach(st, i, r)
        {
            char sb[64], cols[96];
            const char *state = state_text(json_string_value(json_object_get(r, "state")), sb,
                                           sizeof sb);
            printf("    %-32s %8" JSON_INTEGER_FORMAT " %8" JSON_INTEGER_FORMAT
                   " %8" JSON_INTEGER_FORMAT " %6" JSON_INTEGER_FORMAT "  %s %-24s %s\n",
                   json_string_value(json_object_get(r, "id")),
                   json_integer_value(json_object_get(r, "seq")),
                   json_integer_value(json_object_get(r, "verified_seq")),
                   json_integer_value(json_object_get(r, "claimed_seq")),
                   json_integer_value(json_object_get(r, "lag")),
                   wmctl_cols(state, 16, cols, sizeof cols),
                   json_string_value(json_object_get(r, "last_seen")),
                   json_string_value(json_object_get(r, "last_reject")));
            const char *hint = json_string_value(json_object_get(r, "last_reject_hint"));
            if (hint && hint[0])
                printf(_("      what to do: %s\n"), hint);
            print_link("      ", r);
        }
    }
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

/* Reads the node's own state and, on an aggregator, a row per child into
 * pc->arr (a new array, NULL on other nodes) from the log; works with the
 * daemon down, and with no log yet. WMCTL_OK, or prints why and returns
 * the exit code (pc->arr is NULL then). */
static int read_log(wmctl_t *w, own_state_t *o, peers_ctx_t *pc)
{
    wm_store_t *s = NULL;
    int rc = wmctl_open_ro(w, &s, &o->self); /* loads the configuration */
    if (rc)
        return rc;
    pc->arr = w->cfg.listen[0] ? json_array() : NULL;
    if (!s)
        return WMCTL_OK;
    wm_txn_t *t = NULL;
    wm_err_t err = wm_txn_begin(s, 0, &t);
    if (err == WM_OK)
        err = read_own(t, o);
    pc->t = t;
    if (err == WM_OK && pc->arr)
        err = wm_peer_scan(t, peer_row, pc);
    if (err == WM_OK)
        err = pc->err;
    wm_txn_abort(&t);
    if (err != WM_OK) {
        wmctl_err("cannot read the log of %s: %s [%s]", w->cfg.id, wm_strerror(err),
                  wm_store_detail(s));
        json_decref(pc->arr);
        pc->arr = NULL;
        rc = WMCTL_FAIL;
    }
    wm_store_close(&s);
    return rc;
}

/* The running daemon's own status (its JSON), or NULL when it is not
 * running. The caller owns the reference. */
static json_t *ask_daemon(wmctl_t *w)
{
    Wm__CtlRequest req = WM__CTL_REQUEST__INIT;
    Wm__CtlReply *rep = NULL;
    req.op_case = WM__CTL_REQUEST__OP_STATUS;
    req.status = 1;
    json_t *live = NULL;
    if (wmctl_call(w, &req, &rep) == WM_OK && rep->json)
        live = json_loads(rep->json, 0, NULL);
    wm_pb_free(&rep);
    return live;
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
                                            "zbatches", "zstd", "clock_offset_s", NULL};
    for (size_t i = 0; up && live_keys[i]; i++) {
        json_t *v = json_object_get(up, live_keys[i]);
        if (v)
            json_object_set(j, live_keys[i], v);
    }
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
    }
    json_object_set_new(j, "stations", stations);
    json_object_set_new(j, "caught_up", json_boolean(all_caught_up));
}

int cmd_status(wmctl_t *w, int argc, char **argv)
{
    static const char *const flags[] = {"json", NULL};
    wmctl_opts_t o;
    int rc = wmctl_opts_parse(&o, argc - 1, argv + 1, flags);
    if (rc)
        return rc;
    int json = wmctl_flag(&o, "json");
    if ((rc = wmctl_opts_unused(&o, "status")))
        return rc;
    own_state_t own = {0};
    peers_ctx_t pc = {.all_caught_up = 1, .now = time(NULL), .cfg = &w->cfg};
    if ((rc = read_log(w, &own, &pc)))
        return rc;
    json_t *live = ask_daemon(w);

    char hex[2 * WM_HASH_BYTES + 1];
    wm_hex(own.head.hash, sizeof own.head.hash, hex);
    json_t *j = json_pack("{s:s, s:s, s:s, s:I, s:I, s:s, s:I, s:b}", "role",
                          wm_role_name(w->cfg.role), "id", w->cfg.id, "name", w->cfg.name,
                          "epoch", (json_int_t)own.epoch, "head_seq", (json_int_t)own.head.seq,
                          "head_hash", own.head.seq ? hex : "", "records",
                          (json_int_t)own.records, "daemon_running", live != NULL);
    if (live)
        json_object_set(j, "daemon", live);
    if (w->cfg.upstream[0])
        add_upstream(j, &own, live);
    if (pc.arr)
        add_stations(j, pc.arr, live, pc.all_caught_up);
    if (json) {
        char *out = json_dumps(j, JSON_COMPACT);
        puts(out ? out : "{}");
        free(out);
    } else {
        print_human(j);
    }
    json_decref(live);
    json_decref(j);
    return WMCTL_OK;
}
