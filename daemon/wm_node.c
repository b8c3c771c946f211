/* SPDX-License-Identifier: MIT */
/* wm_node — the node's own log and its single write path; see wm_node.h. */
#include "wm_node.h"

#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "wm_append.h"
#include "wm_reactor.h"
#include "wm_date.h"
#include "wm_diag.h"
#include "wm_i18n.h"
#include "wm_nodedir.h"
#include "wm_report.h"
#include "wm_rollbin.h"
#include "wm_users.h"

#define GUARD_EVERY_S 5

static WM_MUST_CHECK wm_err_t why_fail(wm_err_t err, char *why, size_t cap, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static WM_MUST_CHECK wm_err_t why_fail(wm_err_t err, char *why, size_t cap, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, cap, _(fmt), ap); /* the reader's language (wm_i18n.h) */
    va_end(ap);
    return err;
}

/* Brings the fork-guard file up to the head. WM_OK, or the error of the
 * write (logged): the records after the guard's seq then stay here. */
static WM_MUST_CHECK wm_err_t guard_refresh(wm_node_t *n)
{
    if (n->guard.present && n->guard.epoch == n->head.epoch && n->guard.seq == n->head.seq)
        return WM_OK;
    wm_guard_t g = n->guard;
    g.present = 1;
    g.epoch = n->head.epoch;
    g.seq = n->head.seq;
    wm_err_t err = wm_guard_write(n->guard_path, &g);
    if (err == WM_OK)
        n->guard = g;
    else
        wm_error("cannot write fork-guard file %s (%s): records after seq %" PRIu64
                 " are kept here, not acknowledged and not sent until it can be written",
                 n->guard_path, strerror(errno), n->guard.seq);
    return err;
}

wm_head_t wm_node_shareable(const wm_node_t *n)
{
    wm_head_t h = {0};
    h.epoch = n->guard.epoch;
    h.seq = n->guard.seq;
    return h;
}

static WM_MUST_CHECK wm_err_t refuse_no_log(const wm_node_t *n, char *why, size_t cap)
{
    return why_fail(WM_EFORK, why, cap,
                    "signing key %s has signed a log up to epoch %" PRIu32 " seq %" PRIu64
                    ", but %s holds no log. Signing again would fork the chain. Restore the "
                    "data directory that belongs to this key, or start with --new-epoch to "
                    "begin a new epoch deliberately",
                    n->cfg->sign_key, n->guard.epoch, n->guard.seq, n->cfg->data_dir);
}

/* Signs the key rollover r with old and appends it to the log in t. */
static WM_MUST_CHECK wm_err_t append_rollover(wm_node_t *n, wm_txn_t *t, wm_record_t *r,
                                              const wm_signer_t *old)
{
    wm_appender_t *ap = NULL;
    uint8_t *srec = NULL;
    size_t len = 0;
    wm_err_t err = wm_record_seal(r, old, &srec, &len);
    if (err == WM_OK)
        err = wm_append_begin(t, 0, &ap);
    if (err == WM_OK)
        err = wm_append_add(ap, n->self, r, srec, len);
    if (err == WM_OK)
        err = wm_append_finish(&ap);
    wm_append_abandon(&ap);
    free(srec);
    return err;
}

/* The key rollover (record.proto KeyRollover, PROTOCOL.md §8): the node,
 * an aggregator, begins epoch `epoch` under a new signing key. The key of epoch `last`
 * (old_pub, kept by `wmctl rekey` as a retired key) signs, as the last
 * record of that epoch, the new key and the epoch it signs from, in t: the
 * transaction that begins the new epoch. So no record of the new epoch can
 * exist without the rollover before it; a kill -9 leaves both or neither.
 * Skipped (logged; children that pinned this node then pin the new key by
 * hand) when behind (the log ends before what the old key signed, or
 * before what the aggregator above holds: a record there would fork the
 * old epoch), or when the old key is not at hand. */
static WM_MUST_CHECK wm_err_t write_rollover(wm_node_t *n, wm_txn_t *t, uint32_t last,
                                             const uint8_t old_pub[static WM_PUB_BYTES],
                                             uint32_t epoch, int behind)
{
    char hex[2 * WM_PUB_BYTES + 1];
    wm_signer_t *old = NULL;
    wm_reject_t rej;
    wm_hex(old_pub, WM_PUB_BYTES, hex);
    if (behind) {
        wm_warn("no key rollover written: the log ends at %" PRIu32 "/%" PRIu64 ", before what "
                "the key of epoch %" PRIu32 " signed or its aggregator holds; children that "
                "pinned this node must pin its new key by hand (wmctl upstream-id)",
                last, n->head.seq, last);
        return WM_OK;
    }
    if (wm_nodedir_retired_signer(n->cfg, old_pub, &old) != WM_OK) {
        wm_warn("no key rollover written: the key of epoch %" PRIu32 " (%.16s...) is not among "
                "the retired keys beside %s; children that pinned this node must pin its new "
                "key by hand (wmctl upstream-id)",
                last, hex, n->cfg->sign_key);
        return WM_OK;
    }
    Wm__KeyRollover k = WM__KEY_ROLLOVER__INIT;
    k.date = wm_date_today_checked();
    k.new_sign_pub = (ProtobufCBinaryData){WM_PUB_BYTES, (uint8_t *)wm_signer_pub(n->signer)};
    k.from_epoch = epoch;
    wm_record_t r = WM__RECORD__INIT;
    r.schema = WM_SCHEMA;
    r.station = (char *)n->cfg->id;
    r.epoch = last;
    r.seq = n->head.seq + 1;
    r.prev = (ProtobufCBinaryData){WM_HASH_BYTES, n->head.hash};
    r.captured = (int64_t)time(NULL);
    r.body_case = WM__RECORD__BODY_KEY_ROLLOVER;
    r.key_rollover = &k;
    wm_err_t err = WM_OK;
    if (wm_validate_body(&r, k.date, &rej) != WM_OK)
        wm_warn("no key rollover written: %s: %s; children that pinned this node must pin "
                "its new key by hand (wmctl upstream-id)", rej.field, rej.why);
    else if ((err = append_rollover(n, t, &r, old)) == WM_OK)
        wm_info("key rollover written at %" PRIu32 "/%" PRIu64 ": the key of epoch %" PRIu32
                " (%.16s...) hands this log to the new key from epoch %" PRIu32,
                last, r.seq, last, hex, epoch);
    wm_signer_free(&old);
    return err;
}

/* Whether the log in t ends before what its last key signed (the guard,
 * of this log) or what the aggregator above acknowledged (up). */
static int log_behind(const wm_node_t *n, const uint8_t log_id[static WM_LOG_ID_BYTES],
                      uint32_t last, const wm_head_t *up)
{
    const wm_guard_t *g = &n->guard;
    if (g->present && memcmp(g->log_id, log_id, WM_LOG_ID_BYTES) != 0)
        return 1; /* the guard speaks of another log: nothing can be said */
    if (g->present && (g->epoch > last || (g->epoch == last && g->seq > n->head.seq)))
        return 1;
    return up->epoch > last || (up->epoch == last && up->seq > n->head.seq);
}

/* The fork guard: decides the epoch to write in, or refuses. Runs inside
 * the opening write transaction. */
static WM_MUST_CHECK wm_err_t choose_epoch(wm_node_t *n, wm_txn_t *t, int new_epoch, int had_log,
                             char *why, size_t cap)
{
    wm_err_t err;
    uint8_t log_id[WM_LOG_ID_BYTES], have_pub[WM_PUB_BYTES];
    uint32_t last = 0;
    const wm_guard_t *g = &n->guard;
    const char *key = n->cfg->sign_key;
    size_t idlen = 0;
    if ((err = wm_meta_get(t, "log_id", log_id, sizeof log_id, &idlen)) != WM_OK ||
        idlen != sizeof log_id)
        return why_fail(WM_EIO, why, cap, "cannot read the log id of %s", n->cfg->data_dir);
    err = wm_epoch_last(t, n->self, &last);
    if (err != WM_OK && err != WM_ENOTFOUND)
        return why_fail(err, why, cap, "cannot read epochs: %s", wm_strerror(err));

    if (!new_epoch && g->present) {
        if (had_log && memcmp(g->log_id, log_id, WM_LOG_ID_BYTES) != 0)
            return why_fail(WM_EFORK, why, cap,
                            "signing key %s belongs to another log than the one in %s; "
                            "signing again would fork the chain. Restore the matching data "
                            "directory, or start with --new-epoch",
                            key, n->cfg->data_dir);
        if (!had_log || last == 0)
            return refuse_no_log(n, why, cap);
        if (memcmp(g->log_id, log_id, WM_LOG_ID_BYTES) != 0)
            return why_fail(WM_EFORK, why, cap,
                            "signing key %s belongs to another log than the one in %s. Restore "
                            "the matching data directory, or start with --new-epoch",
                            key, n->cfg->data_dir);
    }
    if (last != 0) {
        if ((err = wm_epoch_key(t, n->self, last, have_pub)) != WM_OK)
            return why_fail(err, why, cap, "no key recorded for epoch %" PRIu32, last);
        if ((err = wm_log_head(t, n->self, last, &n->head)) != WM_OK)
            return why_fail(err, why, cap, "cannot read the head: %s", wm_strerror(err));
        if (!new_epoch && memcmp(have_pub, wm_signer_pub(n->signer), WM_PUB_BYTES) != 0)
            return why_fail(WM_EFORK, why, cap,
                            "signing key %s is not the key of epoch %" PRIu32
                            " of this log. If the key was rotated on purpose, start with "
                            "--new-epoch",
                            key, last);
        if (!new_epoch && g->present && g->epoch == last && n->head.seq < g->seq)
            return why_fail(WM_EFORK, why, cap,
                            "the log is shorter than what this key last recorded: it ends at "
                            "epoch %" PRIu32 " seq %" PRIu64 " but the key signed up to seq %" PRIu64
                            ". Was an old backup restored? Restore the newest data, or start "
                            "with --new-epoch to continue in a new epoch",
                            last, n->head.seq, g->seq);
        if (!new_epoch && g->present && g->epoch > last)
            return why_fail(WM_EFORK, why, cap,
                            "the log ends in epoch %" PRIu32 " but this key already signed in "
                            "epoch %" PRIu32 ". Restore the newest data, or start with "
                            "--new-epoch",
                            last, g->epoch);
        if (!new_epoch)
            return WM_OK;
    }
    /* A new epoch begins above every epoch this key, this log or the
     * aggregator above (its last word, kept as "acked") has seen. */
    wm_head_t up = {0};
    if ((err = wm_acked_get(t, &up)) != WM_OK)
        return why_fail(err, why, cap, "cannot read what the aggregator acknowledged: %s",
                        wm_strerror(err));
    uint32_t epoch = last > g->epoch ? last : g->epoch;
    if (up.epoch > epoch)
        epoch = up.epoch;
    epoch++;
    /* A new key at an aggregator (children pin only aggregators): the old
     * key hands the log over first, in this txn. */
    if (last != 0 && n->cfg->role != WM_ROLE_STATION &&
        memcmp(have_pub, wm_signer_pub(n->signer), WM_PUB_BYTES) != 0 &&
        (err = write_rollover(n, t, last, have_pub, epoch, log_behind(n, log_id, last, &up))) !=
            WM_OK)
        return why_fail(err, why, cap, "cannot write the key rollover: %s", wm_strerror(err));
    if ((err = wm_epoch_set(t, n->self, epoch, wm_signer_pub(n->signer))) != WM_OK)
        return why_fail(err, why, cap, "cannot record the key of epoch %" PRIu32, epoch);
    memset(&n->head, 0, sizeof n->head);
    n->head.epoch = epoch;
    if (epoch > 1)
        wm_info("beginning epoch %" PRIu32, epoch);
    return WM_OK;
}

wm_err_t wm_node_open(const wm_config_t *cfg, int new_epoch, wm_node_t **out, char *why,
                      size_t cap)
{
    wm_err_t err;
    wm_txn_t *t = NULL;
    wm_node_t *n = calloc(1, sizeof *n);
    if (!n)
        return WM_ENOMEM;
    n->cfg = cfg;
    n->lock_fd = -1;
    n->started = time(NULL);
    n->started_ms = wm_reactor_now_ms();
    if ((err = wm_nodedir_guard_path(cfg, n->guard_path, sizeof n->guard_path)) != WM_OK) {
        err = why_fail(err, why, cap, "the path of the signing key %s is too long",
                       cfg->sign_key);
        goto out;
    }
    if ((err = wm_nodedir_load_signer(cfg, &n->signer, why, cap)) != WM_OK)
        goto out;
    if ((err = wm_guard_read(n->guard_path, &n->guard)) != WM_OK) {
        err = why_fail(err, why, cap, "fork-guard file %s is unreadable or damaged", n->guard_path);
        goto out;
    }
    /* One daemon per node. */
    if ((err = wm_nodedir_lock(cfg, &n->lock_fd, why, cap)) != WM_OK)
        goto out;
    int had_log = wm_store_exists(cfg->data_dir);
    if (!had_log && n->guard.present && !new_epoch) {
        /* Refuse before creating anything: an empty new log would only
         * make the next attempt's message less clear. */
        err = refuse_no_log(n, why, cap);
        goto out;
    }
    if ((err = wm_store_open(cfg->data_dir, 0, cfg->map_mb, &n->store)) != WM_OK) {
        err = why_fail(err, why, cap, "cannot open the log in %s: %s", cfg->data_dir, wm_strerror(err));
        goto out;
    }
    wm_store_set_map_max(n->store, cfg->map_max_mb);
    char blobdir[PATH_MAX + 16];
    snprintf(blobdir, sizeof blobdir, "%s/%s", cfg->dir, WM_BLOB_DIRNAME);
    if ((err = wm_blob_open(blobdir, &n->blobs)) != WM_OK) {
        err = why_fail(err, why, cap, "cannot open the store of evidence files %s: %s", blobdir,
                       wm_strerror(err));
        goto out;
    }
    if ((err = wm_txn_begin(n->store, 1, &t)) != WM_OK ||
        (err = wm_nodeno_add(t, cfg->id, &n->self)) != WM_OK ||
        (err = wm_meta_put(t, "self", cfg->id, strlen(cfg->id))) != WM_OK) {
        err = why_fail(err, why, cap, "cannot initialise the log: %s", wm_strerror(err));
        goto out;
    }
    if ((err = choose_epoch(n, t, new_epoch, had_log, why, cap)) != WM_OK)
        goto out;
    if ((err = wm_txn_commit(&t)) != WM_OK) {
        err = why_fail(err, why, cap, "cannot initialise the log: %s", wm_strerror(err));
        goto out;
    }
    if ((err = wm_store_log_id(n->store, n->guard.log_id)) != WM_OK) {
        err = why_fail(err, why, cap, "cannot read the log id: %s", wm_strerror(err));
        goto out;
    }
    n->guard.present = 0; /* force a write: the log id or epoch may be new */
    n->serving = 1;
    WM_IGNORE(guard_refresh(n)); /* logged; the records wait until it can be written */
    *out = n;
    return WM_OK;
out:
    wm_txn_abort(&t);
    wm_node_close(&n); /* not serving: the guard file stays as it was */
    return err;
}

void wm_node_close(wm_node_t **np)
{
    wm_node_t *n = np ? *np : NULL;
    if (!n)
        return;
    if (n->serving) /* logged; the next start brings it up to the log */
        WM_IGNORE(guard_refresh(n));
    wm_blob_close(&n->blobs);
    wm_store_close(&n->store);
    wm_signer_free(&n->signer);
    if (n->lock_fd >= 0)
        close(n->lock_fd);
    free(n);
    *np = NULL;
}

void wm_node_tick(wm_node_t *n)
{
    int64_t now = wm_reactor_now_ms() / 1000; /* a timer: never the wall clock */
    int stale = n->guard.epoch != n->head.epoch || n->guard.seq != n->head.seq;
    if (now < n->guard_due && !stale)
        return;
    n->guard_due = now + GUARD_EVERY_S;
    WM_IGNORE(guard_refresh(n)); /* logged; tried again at the next tick */
}

/* An activity's team, if it names one, exists and is active. */
static WM_MUST_CHECK wm_err_t check_activity_team(wm_node_t *n, wm_txn_t *t,
                                                  const Wm__Activity *a, wm_reject_t *rej)
{
    wm_team_state_t ts;
    if (!a->team || !a->team[0])
        return WM_OK;
    wm_err_t err = wm_team_state(t, n->self, a->team, &ts);
    if (err == WM_ENOTFOUND)
        return wm_reject(rej, "team", "no team \"%s\"; record it first with: wmctl record team --team %s --name NAME",
                         a->team, a->team);
    if (err != WM_OK)
        return err;
    if (ts != WM_TEAM_ACTIVE)
        return wm_reject(rej, "team", "team \"%s\" was disbanded", a->team);
    return WM_OK;
}

/* A team record's action fits the team's state; an unspecified action is
 * settled (create, or rename an active team), and so is a new team's kind. */
static WM_MUST_CHECK wm_err_t settle_team(wm_node_t *n, wm_txn_t *t, Wm__Team *tm,
                                          wm_reject_t *rej)
{
    wm_team_state_t ts;
    wm_err_t err = wm_team_state(t, n->self, tm->team, &ts);
    if (err != WM_OK && err != WM_ENOTFOUND)
        return err;
    int active = err == WM_OK && ts == WM_TEAM_ACTIVE;
    if (tm->action == WM__TEAM_ACTION__DISBAND) {
        if (!active)
            return wm_reject(rej, "team", "no active team \"%s\" to disband", tm->team);
    } else if (tm->action == WM__TEAM_ACTION__TEAM_ACTION_UNSPECIFIED) {
        tm->action = active ? WM__TEAM_ACTION__RENAME : WM__TEAM_ACTION__CREATE;
    } else if (tm->action == WM__TEAM_ACTION__CREATE && active) {
        return wm_reject(rej, "team", "team \"%s\" already exists", tm->team);
    } else if (tm->action == WM__TEAM_ACTION__RENAME && !active) {
        return wm_reject(rej, "team", "no active team \"%s\" to rename", tm->team);
    }
    if (tm->action == WM__TEAM_ACTION__CREATE &&
        tm->kind == WM__TEAM_KIND__TEAM_KIND_UNSPECIFIED)
        tm->kind = WM__TEAM_KIND__BRANCH;
    return WM_OK;
}

/* The kind of body a stored record carries. */
static WM_MUST_CHECK wm_err_t stored_kind(const wm_srec_t *v, Wm__Record__BodyCase *kind)
{
    wm_record_t *old = NULL;
    wm_err_t err = wm_record_decode(v->bytes, v->len, &old);
    if (err != WM_OK)
        return err;
    *kind = old->body_case;
    wm_record_free(&old);
    return WM_OK;
}

/* A void names an own record (in the void's epoch unless it says) that
 * exists, is not voided already and is not itself a void. */
static WM_MUST_CHECK wm_err_t check_void(wm_node_t *n, wm_txn_t *t, wm_record_t *r,
                                         wm_reject_t *rej)
{
    Wm__Void *v = r->void_;
    wm_srec_t tgt;
    uint32_t by_e;
    uint64_t by_s;
    Wm__Record__BodyCase kind;
    if (!v->target_epoch)
        v->target_epoch = r->epoch;
    wm_err_t err = wm_log_get(t, n->self, v->target_epoch, v->target_seq, &tgt);
    if (err == WM_ENOTFOUND)
        return wm_reject(rej, "seq", "no record %" PRIu64 " in epoch %" PRIu32 " to void",
                         v->target_seq, v->target_epoch);
    if (err != WM_OK)
        return err;
    if (wm_ref_get(t, n->self, v->target_epoch, v->target_seq, 'v', &by_e, &by_s) == WM_OK)
        return wm_reject(rej, "seq", "record %" PRIu64 " was already voided by record %" PRIu64,
                         v->target_seq, by_s);
    if ((err = stored_kind(&tgt, &kind)) != WM_OK)
        return err;
    if (kind == WM__RECORD__BODY_VOID)
        return wm_reject(rej, "seq", "record %" PRIu64 " is itself a void and cannot be voided",
                         v->target_seq);
    return WM_OK;
}

/* A plan completion names an own plan (in its own epoch unless it says)
 * that is not done yet: done once is done, unless that completion was
 * voided. */
static WM_MUST_CHECK wm_err_t check_plan_done(wm_node_t *n, wm_txn_t *t, wm_record_t *r,
                                              wm_reject_t *rej)
{
    Wm__PlanDone *d = r->plan_done;
    wm_srec_t tgt;
    uint32_t by_e, ve;
    uint64_t by_s, vs;
    Wm__Record__BodyCase kind;
    if (!d->plan_epoch)
        d->plan_epoch = r->epoch;
    wm_err_t err = wm_log_get(t, n->self, d->plan_epoch, d->plan_seq, &tgt);
    if (err == WM_ENOTFOUND)
        return wm_reject(rej, "plan", "no record %" PRIu64 " to complete", d->plan_seq);
    if (err != WM_OK)
        return err;
    if ((err = stored_kind(&tgt, &kind)) != WM_OK)
        return err;
    if (kind != WM__RECORD__BODY_PLAN)
        return wm_reject(rej, "plan", "record %" PRIu64 " is not a plan", d->plan_seq);
    if (wm_ref_get(t, n->self, d->plan_epoch, d->plan_seq, 'd', &by_e, &by_s) == WM_OK &&
        wm_ref_get(t, n->self, by_e, by_s, 'v', &ve, &vs) != WM_OK)
        return wm_reject(rej, "plan", "plan %" PRIu64 " was already completed by record %" PRIu64,
                         d->plan_seq, by_s);
    return WM_OK;
}

/* Context rules that need the log: the team of an activity exists and is
 * active; a void names an existing record that is not voided and is not
 * itself a void; a plan completion names a plan not yet done. Also settles
 * the team action (create or rename) and the target epochs. */
static WM_MUST_CHECK wm_err_t check_context(wm_node_t *n, wm_txn_t *t, wm_record_t *r, wm_reject_t *rej)
{
    switch (r->body_case) {
    case WM__RECORD__BODY_ACTIVITY:
        return check_activity_team(n, t, r->activity, rej);
    case WM__RECORD__BODY_TEAM:
        return settle_team(n, t, r->team, rej);
    case WM__RECORD__BODY_VOID:
        return check_void(n, t, r, rej);
    case WM__RECORD__BODY_PLAN_DONE:
        return check_plan_done(n, t, r, rej);
    default:
        return WM_OK;
    }
}

/* One run of wm_node_append's transaction. */
/* One attempt at appending items. *stored is set when the records were
 * committed (though the result may still be an error: the guard's). */
/* The tier that writes the kind, the content rules and the account name
 * (web, PROTOCOL.md), then the
 * context (which settles a team's action), then the content rules again
 * on the settled record. */
static WM_MUST_CHECK wm_err_t check_all(wm_node_t *n, wm_txn_t *t, wm_record_t *r,
                                        uint32_t today, wm_reject_t *rej)
{
    /* Only the daemon writes a key rollover, when it begins an epoch under
     * a new key: children follow the key it names. */
    if (r->body_case == WM__RECORD__BODY_KEY_ROLLOVER)
        return wm_reject(rej, "kind",
                         "a key rollover is written by the daemon itself when it begins a new "
                         "epoch with a new key (wmctl rekey, then wmsyncd --new-epoch)");
    /* Who may write what (PROTOCOL.md §3): a station's kinds at a station,
     * an aggregator's at an aggregator. */
    wm_err_t err = wm_validate_writer_check(r, n->cfg->role != WM_ROLE_STATION, rej);
    if (err == WM_OK)
        err = wm_validate_body(r, today, rej);
    if (err == WM_OK && r->account && r->account[0] && !wm_user_name_valid(r->account))
        err = wm_reject(rej, "account", "account \"%s\" is not an account name", r->account);
    if (err == WM_OK)
        err = check_context(n, t, r, rej);
    if (err == WM_OK)
        err = wm_validate_body(r, today, rej);
    return err;
}

/* Logs a refused append in English whatever the client's language (log
 * lines never change with a locale: wm_i18n.h): it->rej as it is when the
 * client asked in English, else the same checks again in the C locale. */
static void log_reject(wm_node_t *n, wm_txn_t *t, wm_record_t *r, uint32_t today,
                       const wm_append_t *it)
{
    wm_reject_t en = it->rej;
    if (it->lang && it->lang[0] && strcmp(it->lang, "C") != 0 &&
        check_all(n, t, r, today, &en) != WM_EINVAL)
        en = it->rej; /* cannot happen: the same checks on the same record */
    wm_info("rejected a %s record: %s: %s", wm_record_kind(r), en.field, en.why);
}

static WM_MUST_CHECK wm_err_t append_once(wm_node_t *n, wm_append_t *items, size_t count, int *stored)
{
    wm_txn_t *t = NULL;
    wm_head_t head = n->head;
    uint32_t today = wm_date_today_checked(); /* a lost clock still records */
    size_t appended = 0;
    wm_appender_t *ap = NULL;
    wm_err_t err = wm_txn_begin(n->store, 1, &t);
    if (err == WM_OK)
        err = wm_append_begin(t, 0, &ap);
    if (err != WM_OK)
        goto out;
    for (size_t i = 0; i < count && err == WM_OK; i++) {
        wm_append_t *it = &items[i];
        /* The client sends only a body; the header is ours to write. The
         * body stays owned by the request: r borrows it. */
        wm_record_t r = WM__RECORD__INIT;
        r.schema = WM_SCHEMA;
        r.station = (char *)n->cfg->id;
        r.epoch = head.epoch;
        r.seq = head.seq + 1;
        r.prev = (ProtobufCBinaryData){WM_HASH_BYTES, head.hash};
        r.captured = (int64_t)time(NULL);
        r.clock_offset_s = n->clock_offset_s; /* the clock's known error, if large */
        r.account = it->body->account; /* wmweb's account, "" from wmctl */
        r.body_case = it->body->body_case;
        r.activity = it->body->activity; /* the oneof shares one pointer */
        (void)wm_i18n_use(it->lang); /* rej.why in the client's language */
        it->err = check_all(n, t, &r, today, &it->rej);
        (void)wm_i18n_use(NULL);
        if (it->err == WM_EINVAL)
            log_reject(n, t, &r, today, it);
        if (it->err != WM_OK) {
            if (it->err != WM_EINVAL)
                err = it->err;
            continue;
        }
        uint8_t *srec = NULL;
        size_t len = 0;
        if ((err = wm_record_seal(&r, n->signer, &srec, &len)) == WM_OK)
            err = wm_append_add(ap, n->self, &r, srec, len); /* log, indexes, figures */
        if (err == WM_OK) {
            head.seq = r.seq;
            wm_srec_hash_buf(srec, len, head.hash);
            it->epoch = r.epoch;
            it->seq = r.seq;
            appended++;
        }
        free(srec);
    }
    if (err != WM_OK)
        goto out;
    if (appended == 0) {
        wm_append_abandon(&ap);
        wm_txn_abort(&t);
        return WM_OK;
    }
    if ((err = wm_append_finish(&ap)) != WM_OK)
        goto out;
    /* The batch is durable once this commit returns; only now may the
     * clients be told their records were accepted. */
    err = wm_txn_commit(&t);
    if (err == WM_OK) {
        n->head = head;
        *stored = 1;
        /* Before any of these records leaves the process (reply, sync), the
         * guard must know them: a backup restored after a crash then cannot
         * sign the same seqs again. Not known to it, they are not
         * acknowledged either (the guard never lags an ack). */
        err = guard_refresh(n);
    }
out:
    wm_append_abandon(&ap);
    wm_txn_abort(&t);
    return err;
}

wm_err_t wm_node_append(wm_node_t *n, wm_append_t *items, size_t count)
{
    wm_err_t err;
    int tries = 0, stored = 0;
    do /* a full map grows, and the records are signed and written again */
        err = append_once(n, items, count, &stored);
    while (!stored && wm_store_retry(n->store, &err, &tries));
    if (err != WM_OK) {
        if (stored) /* guard_refresh said why */
            wm_error("%zu record(s) are stored through seq %" PRIu64 " but not acknowledged: "
                     "the fork guard does not know them yet",
                     count, n->head.seq);
        else
            wm_error("append of %zu record(s) failed: %s (%s)", count, wm_strerror(err),
                     wm_store_detail(n->store));
        for (size_t i = 0; i < count; i++)
            if (items[i].err == WM_OK || items[i].err != WM_EINVAL)
                items[i].err = err, items[i].seq = 0;
    }
    return err;
}

/* The bodies of a publication, and what they point to. */
typedef struct {
    Wm__Record body;
    Wm__RollupReport rr;
    Wm__RollupPart part;
    char *owned; /* JSON text, or the whole RollupBin (parts point into it) */
} publish_body_t;

static void publish_items_free(wm_append_t *items, size_t count)
{
    if (!items)
        return;
    publish_body_t *b = (publish_body_t *)items[0].body; /* one array: see alloc_items */
    free(b[0].owned);
    free(b);
    free(items);
    (void)count;
}

static wm_err_t alloc_items(size_t count, wm_append_t **items, publish_body_t **bodies)
{
    *items = calloc(count, sizeof **items);
    *bodies = calloc(count, sizeof **bodies);
    if (*items && *bodies)
        return WM_OK;
    free(*items);
    free(*bodies);
    *items = NULL;
    return WM_ENOMEM;
}

/* The JSON form: one RollupReport. Too big for one record, the per-station
 * rows go; the totals, covers and problems stay. */
static wm_err_t json_item(json_t *j, const wm_period_t *p, wm_append_t **items, size_t *count)
{
    publish_body_t *b = NULL;
    char *text = json_dumps(j, JSON_COMPACT);
    if (text && strlen(text) > WM_REC_MAX - 1024) {
        free(text);
        json_object_set_new(j, "stations", json_array());
        text = json_dumps(j, JSON_COMPACT);
    }
    if (!text || alloc_items(1, items, &b) != WM_OK) {
        free(text);
        return WM_ENOMEM;
    }
    b->owned = text;
    wm__rollup_report__init(&b->rr);
    wm__record__init(&b->body);
    b->rr.period = (char *)p->name;
    b->rr.from = p->from;
    b->rr.to = p->to;
    b->rr.json = text;
    b->body.body_case = WM__RECORD__BODY_ROLLUP;
    b->body.rollup = &b->rr;
    (*items)[0].body = &b->body;
    *count = 1;
    return WM_OK;
}

/* The binary form: the RollupBin of j cut into RollupPart records. */
static wm_err_t binary_items(json_t *j, const wm_period_t *p, wm_append_t **items, size_t *count,
                             char *why, size_t cap)
{
    uint8_t *bin = NULL;
    size_t len = 0;
    publish_body_t *b = NULL;
    wm_err_t err = wm_rollbin_encode(j, 1, &bin, &len);
    if (err != WM_OK)
        return err;
    uint32_t parts = wm_rollbin_parts(len);
    if (parts > WM_ROLLBIN_PARTS_MAX) {
        snprintf(why, cap, "the rollup takes %zu bytes, more than the %u parts of %u bytes a "
                 "published rollup may take", len, WM_ROLLBIN_PARTS_MAX, WM_ROLLBIN_PART_MAX);
        free(bin);
        return WM_ETOOBIG;
    }
    if (alloc_items(parts, items, &b) != WM_OK) {
        free(bin);
        return WM_ENOMEM;
    }
    b[0].owned = (char *)bin;
    for (uint32_t k = 0; k < parts; k++) {
        size_t off = (size_t)k * WM_ROLLBIN_PART_MAX;
        size_t n = len - off < WM_ROLLBIN_PART_MAX ? len - off : WM_ROLLBIN_PART_MAX;
        wm__rollup_part__init(&b[k].part);
        wm__record__init(&b[k].body);
        b[k].part.period = (char *)p->name;
        b[k].part.from = p->from;
        b[k].part.to = p->to;
        b[k].part.part = k;
        b[k].part.parts = parts;
        b[k].part.data = (ProtobufCBinaryData){n, bin + off};
        b[k].body.body_case = WM__RECORD__BODY_ROLLUP_PART;
        b[k].body.rollup_part = &b[k].part;
        (*items)[k].body = &b[k].body;
    }
    *count = parts;
    return WM_OK;
}

wm_err_t wm_node_publish(wm_node_t *n, const char *period, int aggregator, int binary,
                         uint32_t *epoch, uint64_t *seq, char *why, size_t cap)
{
    wm_period_t p;
    if (wm_period_parse(period, &p) != WM_OK) {
        wm_why(why, cap, "\"%s\" is not a period", period);
        return WM_EINVAL;
    }
    wm_report_opts_t o = {.id = n->cfg->id,
                          .name = n->cfg->name,
                          .role = wm_role_name(n->cfg->role),
                          .aggregator = aggregator,
                          .cadence_days = n->cfg->cadence_days,
                          .date_tolerance_days = n->cfg->blobs_date_days,
                          .photos_from = n->cfg->blobs_photos_from,
                          .silent_days = n->cfg->silent_days,
                          .review_days = n->cfg->review_days,
                          .today = wm_date_today(),
                          .now = (int64_t)time(NULL),
                          .why = why,
                          .why_cap = cap};
    json_t *j = NULL;
    wm_txn_t *t = NULL;
    why[0] = 0;
    wm_err_t err = wm_txn_begin(n->store, 0, &t);
    if (err == WM_OK)
        err = wm_report_build_any(t, &p, &o, &j);
    wm_txn_abort(&t); /* closed before the write below */
    if (err != WM_OK) {
        /* Nothing is signed: figures from a failed read are no figures. */
        if (!why[0])
            wm_why(why, cap, "cannot build the rollup: %s", wm_strerror(err));
        wm_error("refusing to publish %s: %s", p.name, why);
        return err;
    }
    wm_append_t *items = NULL;
    size_t count = 0;
    err = binary ? binary_items(j, &p, &items, &count, why, cap) : json_item(j, &p, &items, &count);
    json_decref(j);
    if (err == WM_OK)
        err = wm_node_append(n, items, count);
    for (size_t i = 0; err == WM_OK && i < count; i++)
        if (items[i].err != WM_OK) {
            err = items[i].err;
            snprintf(why, cap, "%s", err == WM_EINVAL ? items[i].rej.why : wm_strerror(err));
        }
    if (err == WM_OK) {
        *epoch = items[count - 1].epoch;
        *seq = items[count - 1].seq;
        wm_info("published the rollup of %s as seq %" PRIu64 "%s", p.name, *seq,
                binary ? " (binary)" : "");
    } else if (!why[0]) {
        snprintf(why, cap, "%s", wm_strerror(err));
    }
    publish_items_free(items, count);
    return err;
}

/* Filling a batch from the log (wm_node_read_batch). */
typedef struct {
    Wm__Batch *b;
    size_t bytes;
    uint32_t max_records, max_bytes;
    wm_head_t last;
    wm_head_t upto; /* send nothing beyond this */
} fill_ctx_t;

static int fill_one(void *ctx, uint32_t epoch, uint64_t seq, const wm_srec_t *v)
{
    fill_ctx_t *fc = ctx;
    size_t len = v->len + WM_SIG_BYTES;
    if (!v->bytes)
        return 1;
    if (fc->b->n_records >= fc->max_records ||
        (fc->b->n_records > 0 && fc->bytes + len > fc->max_bytes))
        return 1;
    if (epoch > fc->upto.epoch || (epoch == fc->upto.epoch && seq > fc->upto.seq))
        return 1; /* not yet known to the fork guard: stays here */
    uint8_t *copy = malloc(len);
    if (!copy)
        return 1;
    memcpy(copy, v->sig, len); /* sig and bytes are contiguous in the srec */
    fc->b->records[fc->b->n_records++] = (ProtobufCBinaryData){len, copy};
    fc->bytes += len;
    fc->last.epoch = epoch;
    fc->last.seq = seq; /* its hash is taken once the batch is full */
    return 0;
}

wm_err_t wm_node_read_batch(wm_node_t *n, const wm_head_t *after, uint32_t max_records,
                            uint32_t max_bytes, Wm__Batch *b, wm_head_t *last, wm_scan_t *end)
{
    fill_ctx_t fc = {.b = b, .max_records = max_records ? max_records : 1,
                     .max_bytes = max_bytes, .upto = wm_node_shareable(n)};
    wm__batch__init(b);
    memset(last, 0, sizeof *last);
    b->records = calloc(fc.max_records, sizeof *b->records);
    if (!b->records)
        return WM_ENOMEM;
    wm_txn_t *t = NULL;
    wm_err_t err = wm_txn_begin(n->store, 0, &t);
    /* From the record after `after`; an empty one means the very
     * beginning; a finished epoch rolls into the next. */
    if (err == WM_OK)
        err = wm_log_scan(t, n->self, after->epoch, after->seq + 1, fill_one, &fc, end);
    wm_txn_abort(&t); /* no transaction outlives this call */
    if (b->n_records > 0) {
        const ProtobufCBinaryData *l = &b->records[b->n_records - 1];
        wm_srec_hash_buf(l->data, l->len, fc.last.hash);
        *last = fc.last;
    }
    return err;
}

void wm_node_batch_free(Wm__Batch *b)
{
    for (size_t i = 0; b->records && i < b->n_records; i++)
        free(b->records[i].data);
    free(b->records);
    b->records = NULL;
    b->n_records = 0;
}
