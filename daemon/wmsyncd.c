/* SPDX-License-Identifier: MIT */
/*
 * wmsyncd — the wmsync daemon. One binary for every tier; the config names
 * the role. It is the only writer of the node's log and the only holder of
 * its signing key. It serves wmctl on a local control socket and runs one
 * poll loop with timers; signal handlers only set flags.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <jansson.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include "control.pb-c.h"
#include "wm_config.h"
#include "wm_date.h"
#include "wm_crypto.h"
#include "wm_diag.h"
#include "wm_evidence.h"
#include "wm_i18n.h"
#include "wm_net.h"
#include "wm_agg.h"
#include "wm_node.h"
#include "wm_nodedir.h"
#include "wm_notify.h"
#include "wm_reactor.h"
#include "wm_upstream.h"
#include "wm_down.h"
#include "wm_users.h"

#define CTL_DRAIN_MAX 256 /* control requests taken per loop turn */
#define CTL_VERSION 1
/* The loop wakes at least this often, so that the per-turn work (guard
 * refresh, upstream timers) runs and a signal that came just before the
 * poll is seen. */
#define TURN_MAX_MS 1000
#define AGG_TICK_MS 1000  /* audit timeouts and peer flushes, in seconds */
#define PUBLISH_CHECK_MS (60 * 1000) /* look for a month to publish */
#define PUBLISH_RETRY_MS 1000        /* ... while children's records are verified */

static volatile sig_atomic_t stop_flag;
static volatile sig_atomic_t hup_flag;

static void on_signal(int sig)
{
    if (sig == SIGHUP)
        hup_flag = 1;
    else
        stop_flag = 1;
}

static void install_signals(void)
{
    struct sigaction sa = {.sa_handler = on_signal};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
}

typedef struct {
    wm_config_t cfg;
    wm_node_t *node;
    wm_net_t *net;
    wm_reactor_t *loop;     /* every socket, fd and timer of the daemon */
    wm_sock_t *ctl;
    wm_agg_t *agg;          /* aggregators (listen set) */
    wm_upstream_t *up;      /* nodes with an upstream */
    wm_sock_t *up_sock;     /* the upstream socket registered with loop */
    uint64_t idle_sig;      /* what the node last did (idle_trim) */
    int64_t idle_since_ms;  /* when idle_sig last changed */
    int trimmed;            /* memory given back since then */
} daemon_t;

/* A station idle this long gives memory back (issue 13: a small machine's
 * idle RSS): the map's pages it read, the heap's free tail. */
#define IDLE_TRIM_MS 2000

/* One control request waiting for its reply. */
typedef struct {
    int deferred;           /* answered later (audit fetch) */
    wm_frame_t peer;        /* ROUTER identity, owned */
    Wm__CtlRequest *req;    /* owned */
    Wm__CtlReply reply;
    char *owned;            /* text the reply points to (status JSON, why), owned */
} ctl_pending_t;

/* The control requests taken in one turn. Appends are collected and
 * written in one durable transaction after all are read. */
typedef struct {
    ctl_pending_t *p;       /* CTL_DRAIN_MAX of them */
    size_t np;
    wm_append_t *ap;        /* CTL_DRAIN_MAX */
    size_t ap_req[CTL_DRAIN_MAX]; /* index into p of each ap */
    size_t na;
} ctl_turn_t;

/* One control operation: what CtlRequest.op selects. The handler fills
 * c->reply (or sets c->deferred and answers later); it runs only if the
 * node aggregates when needs_agg is set. */
typedef void (*ctl_fn)(daemon_t *d, ctl_turn_t *t, ctl_pending_t *c);
typedef struct {
    Wm__CtlRequest__OpCase op;
    const char *name;       /* the oneof field's name, for logs */
    int needs_agg;          /* aggregators only ([sync] listen) */
    ctl_fn fn;
    const char *help;
} ctl_op_t;

static void reply_send(daemon_t *d, ctl_pending_t *p)
{
    uint8_t *buf = NULL;
    size_t len = 0;
    if (wm_pb_encode(&p->reply.base, &buf, &len) != WM_OK)
        return;
    wm_msg_t m = {.n = 2, .f = {p->peer, {buf, len}}};
    if (wm_sock_send(d->ctl, &m) != WM_OK)
        wm_debug("control reply dropped: %s", wm_net_detail());
    free(buf);
}

static void set_error(Wm__CtlReply *r, wm_err_t err, const char *field, const char *msg)
{
    r->error = (char *)wm_errname(err);
    r->field = (char *)(field ? field : "");
    r->message = (char *)(msg ? msg : wm_strerror(err));
}

/* Answers c with err; why (NULL or "": wm_strerror's text) is copied. */
static void ctl_fail(ctl_pending_t *c, wm_err_t err, const char *field, const char *why)
{
    free(c->owned);
    c->owned = why && why[0] ? strdup(why) : NULL;
    set_error(&c->reply, err, field, c->owned);
}

static char *live_status_json(daemon_t *d)
{
    json_t *o = json_pack("{s:i, s:I, s:I, s:I}", "pid", (int)getpid(), "started",
                          (json_int_t)d->node->started, "uptime_s",
                          (json_int_t)((wm_reactor_now_ms() - d->node->started_ms) / 1000), "head_seq",
                          (json_int_t)d->node->head.seq);
    if (o && d->up)
        json_object_set_new(o, "upstream", wm_upstream_status(d->up));
    if (o && d->agg)
        json_object_set_new(o, "verifier", wm_agg_verify_status(d->agg));
    if (o && d->agg)
        json_object_set_new(o, "links", wm_agg_links_status(d->agg));
    if (o && d->agg)
        json_object_set_new(o, "sessions", wm_agg_sessions_status(d->agg));
    if (o && d->agg)
        json_object_set_new(o, "blobs", wm_agg_blobs_status(d->agg));
    char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    return s;
}

/* Nonzero (and why) while records of a child are acked but not yet
 * verified one by one: a rollup that leaves the node covers only
 * verified records, so it waits for them. */
static int unverified(daemon_t *d, char *why, size_t cap)
{
    char names[400];
    int n = wm_agg_unverified(d->agg, names, sizeof names);
    if (n == 0)
        return 0;
    int w = n < 0 ? snprintf(why, cap, "%s", names)
                  : snprintf(why, cap,
                             _("not published: records of %d station(s) are still being "
                               "verified: %s; try again in a moment (wmctl status shows the "
                               "verified frontier)"),
                             n, names);
    if (w >= (int)cap && cap > 4)
        memcpy(why + cap - 4, "...", 4); /* long lists are cut, visibly */
    return 1;
}

static void op_append(daemon_t *d, ctl_turn_t *t, ctl_pending_t *c)
{
    if (!c->req->append) {
        ctl_fail(c, WM_EINVAL, "append", _("no record to append"));
        return;
    }
    const char *field = "";
    char why[WM_WHY_MAX] = "";
    /* A record names only files the store holds durably (wm_evidence.h). */
    wm_err_t err = wm_evidence_check(d->node->blobs, c->req->append, &field, why, sizeof why);
    if (err != WM_OK) {
        ctl_fail(c, err, field, why);
        return;
    }
    t->ap[t->na].body = c->req->append;
    t->ap[t->na].lang = c->req->lang;
    t->ap_req[t->na++] = (size_t)(c - t->p);
}

static void op_status(daemon_t *d, ctl_turn_t *t, ctl_pending_t *c)
{
    (void)t;
    c->owned = live_status_json(d);
    c->reply.json = c->owned ? c->owned : "";
}

static void op_ping(daemon_t *d, ctl_turn_t *t, ctl_pending_t *c)
{
    (void)d, (void)t, (void)c; /* the empty reply says "up" */
}

static void op_enroll(daemon_t *d, ctl_turn_t *t, ctl_pending_t *c)
{
    char why[WM_WHY_MAX] = "";
    (void)t;
    wm_err_t err = wm_agg_enroll(d->agg, c->req->enroll, why, sizeof why);
    if (err != WM_OK)
        ctl_fail(c, err, "", why);
}

static void op_revoke(daemon_t *d, ctl_turn_t *t, ctl_pending_t *c)
{
    char why[WM_WHY_MAX] = "";
    (void)t;
    wm_err_t err = wm_agg_revoke(d->agg, c->req->revoke, why, sizeof why);
    if (err != WM_OK)
        ctl_fail(c, err, "", why);
}

static void op_compromise(daemon_t *d, ctl_turn_t *t, ctl_pending_t *c)
{
    char why[WM_WHY_MAX] = "";
    const Wm__Compromise *k = c->req->compromise;
    wm_head_t after = {.epoch = k->after_epoch, .seq = k->after_seq};
    (void)t;
    wm_err_t err = wm_agg_compromise(d->agg, k->node, k->after_set, &after, why, sizeof why);
    c->reply.after_epoch = after.epoch;
    c->reply.after_seq = after.seq;
    if (err != WM_OK)
        ctl_fail(c, err, "", why);
}

static void op_publish(daemon_t *d, ctl_turn_t *t, ctl_pending_t *c)
{
    char why[WM_WHY_MAX] = "";
    (void)t;
    wm_err_t err = unverified(d, why, sizeof why) ? WM_ESTATE : WM_OK;
    if (err == WM_OK)
        err = wm_node_publish(d->node, c->req->publish, 1, wm_upstream_rollup_bin(d->up),
                              &c->reply.epoch, &c->reply.seq,
                              why, sizeof why);
    if (err == WM_OK && d->up)
        wm_upstream_tick(d->up); /* send it up now if the link allows */
    if (err != WM_OK)
        ctl_fail(c, err, "", why);
}

/* A chunk of the pinned parent's bundle (feature "down", wm_down.h):
 * verified against the pinned key and stored as the network would. */
static void import_parent(daemon_t *d, ctl_pending_t *c, const uint8_t *const *recs,
                          const size_t *lens)
{
    Wm__Bundle *b = c->req->import;
    wm_down_res_t res;
    wm_down_ingest(wm_upstream_down(d->up), b->node ? b->node : "", recs, lens, b->n_records, 0,
                   &res);
    if (res.reason != WM_SYNC_R_OK) {
        char why[WM_WHY_MAX + 64]; /* slug and detail: never translated (PROTOCOL.md §7) */
        snprintf(why, sizeof why, "%s: %s", wm_sync_slug(res.reason), res.detail);
        ctl_fail(c, res.reason == WM_SYNC_R_STORAGE ? WM_EIO : WM_EPERM, "", why);
        return;
    }
    c->reply.accepted = res.accepted;
    c->reply.duplicates = res.duplicates;
    c->reply.epoch = res.have.epoch;
    c->reply.seq = res.have.seq;
}

/* Whose bundle: the pinned parent's log goes to wm_down; at an aggregator,
 * anything else is a child's. A station that pinned no parent takes none. */
static int import_is_parent(daemon_t *d, const Wm__Bundle *b)
{
    wm_down_t *down = wm_upstream_down(d->up);
    if (!d->agg)
        return 1; /* wm_down names what is wrong with it */
    return wm_down_pinned(down) && b->node && strcmp(b->node, wm_down_parent(down)) == 0;
}

static void op_import(daemon_t *d, ctl_turn_t *t, ctl_pending_t *c)
{
    char why[WM_WHY_MAX] = "";
    Wm__Bundle *b = c->req->import;
    const uint8_t **recs = calloc(b->n_records + 1, sizeof *recs);
    size_t *lens = calloc(b->n_records + 1, sizeof *lens);
    wm_head_t durable;
    (void)t;
    wm_err_t err = recs && lens ? WM_OK : WM_ENOMEM;
    for (size_t i = 0; err == WM_OK && i < b->n_records; i++)
        recs[i] = b->records[i].data, lens[i] = b->records[i].len;
    if (err == WM_OK && import_is_parent(d, b)) {
        if (d->up)
            import_parent(d, c, recs, lens);
        else
            ctl_fail(c, WM_ESTATE, "", _("this node has no upstream, so no parent whose log it "
                                         "could import, and it does not aggregate"));
        goto out;
    }
    if (err == WM_OK)
        err = wm_agg_import(d->agg, b->node ? b->node : "", recs, lens, b->n_records, why,
                            sizeof why, &c->reply.accepted, &c->reply.duplicates, &durable);
    if (err == WM_OK)
        c->reply.seq = durable.seq, c->reply.epoch = durable.epoch;
    else
        ctl_fail(c, err, "", why);
out:
    free(recs);
    free(lens);
}

static void op_fetch(daemon_t *d, ctl_turn_t *t, ctl_pending_t *c)
{
    char why[WM_WHY_MAX] = "";
    (void)t;
    wm_err_t err = wm_agg_fetch(d->agg, c->req->fetch, &c->peer, why, sizeof why);
    if (err == WM_OK)
        c->deferred = 1; /* wm_agg answers when the child does */
    else
        ctl_fail(c, err, "", why);
}

/* Fork reset at a child (wm_down_reset_fork): the forked copy archived,
 * the parent's log kept to the last common record and asked for anew. */
static void op_down_reset(daemon_t *d, ctl_turn_t *t, ctl_pending_t *c)
{
    char why[WM_WHY_MAX] = "";
    wm_down_reset_t r;
    wm_down_t *down = wm_upstream_down(d->up);
    (void)t;
    wm_err_t err = WM_ENOTFOUND;
    if (down)
        err = wm_down_reset_fork(down, &r, why, sizeof why);
    else
        wm_why(why, sizeof why, "this node has no upstream, so no parent's log");
    if (err != WM_OK) {
        ctl_fail(c, err, "", why);
        return;
    }
    free(c->owned);
    c->owned = strdup(r.archive);
    c->reply.archive = c->owned ? c->owned : "";
    c->reply.epoch = r.kept.epoch;
    c->reply.seq = r.kept.seq;
    wm_upstream_down_restart(d->up);
}

/* Every control operation the daemon serves; an op not here is answered
 * with an "op" error (a newer wmctl than this daemon). */
/* The web console's accounts: the daemon is the only writer of the file
 * ([web] users), so wmweb needs no write access to the node directory. */
static void op_user(daemon_t *d, ctl_turn_t *t, ctl_pending_t *c)
{
    (void)t;
    static const struct {
        const char *name;
        wm_users_op_t op;
    } actions[] = {{"add", WM_USERS_ADD}, {"passwd", WM_USERS_PASSWD}, {"del", WM_USERS_DEL}};
    const Wm__UserChange *u = c->req->user;
    char why[WM_WHY_MAX] = "";
    wm_users_op_t op = 0;
    for (size_t i = 0; u && u->action && i < sizeof actions / sizeof actions[0]; i++)
        if (strcmp(u->action, actions[i].name) == 0)
            op = actions[i].op;
    if (!op) {
        ctl_fail(c, WM_EINVAL, "action", "user: action must be add, passwd or del");
        return;
    }
    wm_err_t err = wm_users_change(d->cfg.web_users, op, u->name, wm_user_role_parse(u->role),
                                   u->hash, why, sizeof why);
    if (err != WM_OK) {
        ctl_fail(c, err, err == WM_EINVAL ? "user" : "", why);
        return;
    }
    wm_info("web account %s: %s%s%s", u->name, u->action, op == WM_USERS_ADD ? " as " : "",
            op == WM_USERS_ADD ? u->role : "");
}

/* A chunk of an evidence file into the store (wm_evidence.h). */
static void op_blob_put(daemon_t *d, ctl_turn_t *t, ctl_pending_t *c)
{
    const char *field = "";
    char why[WM_WHY_MAX] = "";
    (void)t;
    wm_err_t err = wm_evidence_put(d->node->blobs, c->req->blob_put, &c->reply.blob_held, &field, why,
                                   sizeof why);
    if (err != WM_OK)
        ctl_fail(c, err, field, why);
}

/* A chunk of a stored evidence file (wmctl blob get). */
static void op_blob_get(daemon_t *d, ctl_turn_t *t, ctl_pending_t *c)
{
    char why[WM_WHY_MAX] = "";
    uint8_t *data = NULL;
    size_t len = 0;
    int thumb = c->req->op_case == WM__CTL_REQUEST__OP_BLOB_THUMB_GET, pruned = 0;
    (void)t;
    wm_err_t err = wm_evidence_read(d->node->blobs, thumb ? c->req->blob_thumb_get : c->req->blob_get,
                                    thumb, &data, &len, &c->reply.blob_size, &pruned, why,
                                    sizeof why);
    c->reply.blob_pruned = pruned;
    if (err != WM_OK) {
        ctl_fail(c, err, "hash", why);
        return;
    }
    c->owned = (char *)data; /* freed with the reply */
    c->reply.blob_data.data = data, c->reply.blob_data.len = len;
}

/* One chunk of a blob from a child into the store (wmctl blob fetch, audit
 * --with-evidence; wm_agg.h): answered when the child answers, or now if
 * the blob is here already or cannot be asked for. */
static void op_blob_fetch(daemon_t *d, ctl_turn_t *t, ctl_pending_t *c)
{
    char why[WM_WHY_MAX] = "";
    const char *slug = "";
    uint64_t size = 0;
    (void)t;
    wm_err_t err = wm_agg_blob_fetch(d->agg, c->req->blob_fetch, &c->peer, &size, &slug, why,
                                     sizeof why);
    if (err == WM_OK) {
        c->deferred = 1; /* wm_agg answers when the child does */
    } else if (err == WM_EEXIST) {
        c->reply.blob_held = c->reply.blob_size = size;
        c->reply.blob_present = 1;
    } else {
        ctl_fail(c, err, slug, why);
    }
}

static const ctl_op_t ctl_ops[] = {
    {WM__CTL_REQUEST__OP_APPEND, "append", 0, op_append,
     "append a record body: the daemon writes the header and signs"},
    {WM__CTL_REQUEST__OP_STATUS, "status", 0, op_status, "live status as a JSON object"},
    {WM__CTL_REQUEST__OP_PING, "ping", 0, op_ping, "an empty reply: the daemon is up"},
    {WM__CTL_REQUEST__OP_ENROLL, "enroll", 1, op_enroll, "enrol a child from its identity"},
    {WM__CTL_REQUEST__OP_REVOKE, "revoke", 1, op_revoke, "revoke a child by id, at once"},
    {WM__CTL_REQUEST__OP_COMPROMISE, "compromise", 1, op_compromise,
     "revoke a child whose keys were stolen: its keys refused beyond a point"},
    {WM__CTL_REQUEST__OP_IMPORT, "import", 0, op_import,
     "ingest a chunk of a child's bundle, or of the pinned parent's log"},
    {WM__CTL_REQUEST__OP_PUBLISH, "publish", 1, op_publish,
     "append the signed rollup of a period"},
    {WM__CTL_REQUEST__OP_FETCH, "fetch", 1, op_fetch,
     "ask a child for records (audit); answered when it does"},
    {WM__CTL_REQUEST__OP_USER, "user", 0, op_user,
     "add, re-password or delete a web console account"},
    {WM__CTL_REQUEST__OP_BLOB_PUT, "blob_put", 0, op_blob_put,
     "a chunk of an evidence file into the store (wmctl record --photo)"},
    {WM__CTL_REQUEST__OP_BLOB_GET, "blob_get", 0, op_blob_get,
     "a chunk of a stored evidence file (wmctl blob get)"},
    {WM__CTL_REQUEST__OP_BLOB_THUMB_GET, "blob_thumb_get", 0, op_blob_get,
     "a chunk of a pruned photo's thumbnail (wmctl blob get --thumb, wmweb)"},
    {WM__CTL_REQUEST__OP_DOWN_RESET, "down_reset", 0, op_down_reset,
     "reset a fork of the parent's log: archive it, take the log again"},
    {WM__CTL_REQUEST__OP_BLOB_FETCH, "blob_fetch", 1, op_blob_fetch,
     "a chunk of a blob from a child into the store (wmctl blob fetch)"},
};

static const ctl_op_t *ctl_op_find(Wm__CtlRequest__OpCase op)
{
    for (size_t i = 0; i < sizeof ctl_ops / sizeof ctl_ops[0]; i++)
        if (ctl_ops[i].op == op)
            return &ctl_ops[i];
    return NULL;
}

/* Checks a decoded request and runs its operation's handler. */
static void ctl_dispatch(daemon_t *d, ctl_turn_t *t, ctl_pending_t *c)
{
    const ctl_op_t *op = ctl_op_find(c->req->op_case);
    char why[WM_WHY_MAX];
    if (c->req->version != CTL_VERSION) {
        set_error(&c->reply, WM_EINVAL, "version", _("wmctl and wmsyncd versions differ"));
    } else if (!op) {
        wm_why(why, sizeof why, "unknown control operation %d (is wmctl newer than this wmsyncd?)",
               (int)c->req->op_case);
        ctl_fail(c, WM_EINVAL, "op", why);
    } else if (op->needs_agg && !d->agg) {
        set_error(&c->reply, WM_ESTATE, "", _("this node does not aggregate (no [sync] listen)"));
    } else {
        wm_debug("control: %s", op->name);
        op->fn(d, t, c);
    }
}

/* Room the log needs to take records again after a full disk: LMDB's
 * margin (storage reads less than 1 MiB free as full) and the pages of a
 * commit. */
#define DISK_NEED_KIB (1024 + 64)

/* The reply to a record refused on a full disk (issue 13 §4): how much is
 * free, how much to free, that it resumes by itself and lost nothing.
 * Valid until the next call. */
static const char *disk_full_why(daemon_t *d)
{
    static char why[512];
    struct statvfs vf;
    unsigned long long free_kib = 0;
    if (statvfs(d->cfg.data_dir, &vf) == 0)
        free_kib = (unsigned long long)vf.f_bavail * vf.f_frsize / 1024;
    unsigned long long need = free_kib < DISK_NEED_KIB ? DISK_NEED_KIB - free_kib : 64;
    snprintf(why, sizeof why,
             _("disk full: %llu KiB free on the file system of %s; free at least %llu KiB "
               "there (old backups and bundles are the usual culprits) and recording resumes "
               "by itself; nothing stored was lost"),
             free_kib, d->cfg.data_dir, need);
    return why;
}

/* Writes the turn's appends in one durable transaction and fills their
 * replies. */
static void ctl_append_all(daemon_t *d, ctl_turn_t *t)
{
    if (t->na == 0)
        return;
    /* Logged there; each item's err carries its own outcome to its reply. */
    WM_IGNORE(wm_node_append(d->node, t->ap, t->na));
    if (d->up)
        wm_upstream_tick(d->up); /* send the new records now if we may */
    for (size_t i = 0; i < t->na; i++) {
        wm_append_t *a = &t->ap[i];
        Wm__CtlReply *r = &t->p[t->ap_req[i]].reply;
        if (a->err == WM_OK) {
            r->epoch = a->epoch;
            r->seq = a->seq;
            wm_debug("appended %s at epoch %" PRIu32 " seq %" PRIu64, wm_record_kind(a->body),
                     a->epoch, a->seq);
        } else if (a->err == WM_EINVAL) { /* logged in English by wm_node_append */
            set_error(r, WM_EINVAL, a->rej.field, a->rej.why);
        } else {
            set_error(r, a->err, "", a->err == WM_ENOSPC ? disk_full_why(d) : NULL);
        }
    }
}

/* The control socket is readable: takes every waiting request, appends
 * all records among them in one durable transaction, then answers each. */
static void on_ctl(wm_reactor_t *loop, void *ctx)
{
    daemon_t *d = ctx;
    ctl_turn_t t = {.p = calloc(CTL_DRAIN_MAX, sizeof *t.p),
                    .ap = calloc(CTL_DRAIN_MAX, sizeof *t.ap)};
    (void)loop;
    if (!t.p || !t.ap)
        goto out;
    while (t.np < CTL_DRAIN_MAX) {
        wm_msg_t m = {0};
        wm_err_t err = wm_sock_recv(d->ctl, &m);
        if (err == WM_ETIMEOUT)
            break;
        if (err != WM_OK || m.n != 2) {
            wm_warn_peer("control socket", "control: dropped a malformed message (%zu frames)", m.n);
            wm_msg_clear(&m);
            continue;
        }
        ctl_pending_t *c = &t.p[t.np++];
        c->peer = m.f[0];
        wm__ctl_reply__init(&c->reply);
        err = wm_pb_decode(&wm__ctl_request__descriptor, m.f[1].data, m.f[1].len,
                           WM_CTL_MAX_BYTES, (void **)&c->req);
        free(m.f[1].data);
        if (err != WM_OK)
            set_error(&c->reply, err, "", _("control request does not decode"));
        else {
            (void)wm_i18n_use(c->req->lang); /* the reply in the client's language */
            ctl_dispatch(d, &t, c);
            (void)wm_i18n_use(NULL);
        }
    }
    ctl_append_all(d, &t);
    for (size_t i = 0; i < t.np; i++) {
        if (!t.p[i].deferred)
            reply_send(d, &t.p[i]);
        free(t.p[i].peer.data);
        wm_pb_free(&t.p[i].req);
        free(t.p[i].owned);
    }
out:
    free(t.p);
    free(t.ap);
}

/* SIGHUP: the log level, the quotas and map_max_mb from the config file,
 * and the enrolment register from LMDB. Connections stay up; other config
 * changes need a restart. */
static void reload(daemon_t *d)
{
    wm_config_t fresh;
    char why[WM_WHY_MAX];
    if (wm_config_load(d->cfg.path, &fresh, why, sizeof why) != WM_OK) {
        wm_error("SIGHUP: the config file is not valid, nothing reloaded: %s", why);
        return;
    }
    wm_diag_set_level(wm_diag_parse(fresh.log_level));
    wm_diag_peer_limit(fresh.log_peer_lines, fresh.log_peer_window);
    snprintf(d->cfg.log_level, sizeof d->cfg.log_level, "%s", fresh.log_level);
    d->cfg.quota_day_mb = fresh.quota_day_mb;
    d->cfg.quota_total_mb = fresh.quota_total_mb;
    d->cfg.map_max_mb = fresh.map_max_mb;
    wm_store_set_map_max(d->node->store, fresh.map_max_mb);
    int agg_err = d->agg ? wm_agg_reload(d->agg) != WM_OK : 0;
    wm_info("SIGHUP: reloaded log level (%s), quotas, map_max_mb%s", fresh.log_level,
            d->agg ? (agg_err ? "; the enrolment register could NOT be reloaded"
                              : " and the enrolment register")
                   : "");
}

/* At a month's close a town publishes that month's rollup by itself, so
 * the county gets it without anyone remembering to; a month already
 * published (by hand or before a restart) is not published again. A
 * one-shot timer that re-arms itself: every PUBLISH_CHECK_MS, or after
 * PUBLISH_RETRY_MS while children's records are still being verified;
 * armed only on towns that publish at close. */
static void on_publish_check(wm_reactor_t *loop, void *ctx)
{
    daemon_t *d = ctx;
    long next = PUBLISH_CHECK_MS;
    uint32_t today = wm_date_today();
    uint32_t prev = wm_date_from_days(wm_date_to_days(today / 100 * 100 + 1) - 1);
    char month[16], why[WM_WHY_MAX];
    snprintf(month, sizeof month, "%04u-%02u", prev / 10000, prev / 100 % 100);
    uint32_t epoch;
    uint64_t seq;
    wm_txn_t *t = NULL;
    wm_err_t err = wm_txn_begin(d->node->store, 0, &t);
    if (err == WM_OK)
        err = wm_report_at(t, d->node->self, month, &epoch, &seq);
    wm_txn_abort(&t);
    if (err == WM_OK)
        goto out; /* published already */
    if (err != WM_ENOTFOUND) {
        wm_warn("cannot tell whether the rollup of %s was published: %s (%s)", month,
                wm_strerror(err), wm_store_detail(d->node->store));
        goto out;
    }
    if (unverified(d, why, sizeof why)) {
        next = PUBLISH_RETRY_MS; /* soon again: verification catches up */
        wm_debug("the rollup of %s waits: %s", month, why);
        goto out;
    }
    if (wm_node_publish(d->node, month, 1, wm_upstream_rollup_bin(d->up), &epoch, &seq, why,
                        sizeof why) != WM_OK) {
        wm_warn("could not publish the rollup of %s at its close: %s", month, why);
        goto out;
    }
    wm_upstream_tick(d->up);
out:
    if (wm_reactor_add_timer(loop, next, 0, on_publish_check, d, NULL) != WM_OK)
        wm_error("out of memory: the rollup is no longer published at a month's close");
}

static void on_verified(wm_reactor_t *loop, void *ctx)
{
    daemon_t *d = ctx;
    (void)loop;
    wm_agg_on_verified(d->agg);
}

static void on_zap(wm_reactor_t *loop, void *ctx)
{
    daemon_t *d = ctx;
    (void)loop;
    wm_agg_on_zap(d->agg);
}

static void on_router(wm_reactor_t *loop, void *ctx)
{
    daemon_t *d = ctx;
    (void)loop;
    wm_agg_on_router(d->agg);
}

static void on_upstream(wm_reactor_t *loop, void *ctx)
{
    daemon_t *d = ctx;
    (void)loop;
    wm_upstream_on_msg(d->up);
}

static void on_agg_tick(wm_reactor_t *loop, void *ctx)
{
    daemon_t *d = ctx;
    (void)loop;
    wm_agg_tick(d->agg);
}

/* The upstream link replaces its socket when it reconnects (and has none
 * while down): keep the current one registered. */
static void track_upstream(daemon_t *d)
{
    wm_sock_t *s = wm_upstream_sock(d->up);
    if (s == d->up_sock)
        return;
    wm_reactor_remove_sock(d->loop, d->up_sock);
    d->up_sock = NULL;
    if (s && wm_reactor_add_sock(d->loop, s, on_upstream, d) == WM_OK)
        d->up_sock = s; /* else tried again next turn */
}

/* A station (no children) that neither recorded nor synced anything for
 * IDLE_TRIM_MS lets the kernel take back what the work left resident:
 * the LMDB pages it read (they stay in the page cache) and the free heap. */
static void idle_trim(daemon_t *d)
{
    if (d->agg)
        return;
    uint64_t sig = d->node->head.seq * 31 + (d->up ? wm_upstream_progress(d->up) : 0);
    int64_t now = wm_reactor_now_ms();
    if (sig != d->idle_sig || !d->idle_since_ms) {
        d->idle_sig = sig;
        d->idle_since_ms = now;
        d->trimmed = 0;
        return;
    }
    if (d->trimmed || now - d->idle_since_ms < IDLE_TRIM_MS)
        return;
    wm_store_release_pages(d->node->store);
    malloc_trim(0);
    d->trimmed = 1;
}

/* Before each poll: SIGHUP, the work due after every turn (records to
 * send, the fork guard after an append, held-back log summaries) and how
 * long we may sleep (at most TURN_MAX_MS). */
static long on_prepare(wm_reactor_t *loop, void *ctx)
{
    daemon_t *d = ctx;
    (void)loop;
    if (hup_flag) {
        hup_flag = 0;
        reload(d);
    }
    wm_node_tick(d->node);
    wm_diag_tick();
    idle_trim(d);
    if (!d->up)
        return d->trimmed ? -1 : IDLE_TRIM_MS;
    wm_upstream_tick(d->up);
    track_upstream(d);
    return wm_upstream_next_ms(d->up);
}

/* Registers every socket and timer of the daemon with a new reactor. */
static WM_MUST_CHECK wm_err_t daemon_loop_open(daemon_t *d)
{
    wm_err_t err = wm_reactor_new(TURN_MAX_MS, &d->loop);
    if (err == WM_OK && d->agg)
        err = wm_reactor_add_sock(d->loop, wm_agg_zap(d->agg), on_zap, d);
    if (err == WM_OK)
        err = wm_reactor_add_sock(d->loop, d->ctl, on_ctl, d);
    if (err == WM_OK && d->agg)
        err = wm_reactor_add_sock(d->loop, wm_agg_router(d->agg), on_router, d);
    if (err == WM_OK && d->agg)
        err = wm_reactor_add_sock(d->loop, wm_agg_verifier(d->agg), on_verified, d);
    if (err == WM_OK && d->agg)
        err = wm_reactor_add_timer(d->loop, AGG_TICK_MS, AGG_TICK_MS, on_agg_tick, d, NULL);
    if (err == WM_OK && d->agg && d->up && d->cfg.publish_at_close)
        err = wm_reactor_add_timer(d->loop, 0, 0, on_publish_check, d, NULL);
    if (err == WM_OK)
        wm_reactor_set_prepare(d->loop, on_prepare, d);
    return err;
}

static void usage(FILE *f)
{
    fputs(_("usage: wmsyncd -c CONFIG [--new-epoch] [--check-config]\n"
            "  -c, --config FILE   the node's wmsync.conf\n"
            "      --new-epoch     begin a new epoch (after re-keying or losing the log)\n"
            "      --check-config  validate CONFIG and exit\n"
            "  -h, --help          this text\n"),
          f);
}

/* The command line into *conf, *new_epoch and *check_only. -1 to go on,
 * or the exit code (0 after --help, 2 on a usage error). */
static int parse_args(int argc, char **argv, const char **conf, int *new_epoch, int *check_only)
{
    static const struct option opts[] = {{"config", required_argument, NULL, 'c'},
                                         {"new-epoch", no_argument, NULL, 'E'},
                                         {"check-config", no_argument, NULL, 'C'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    int o;
    while ((o = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
        switch (o) {
        case 'c': *conf = optarg; break;
        case 'E': *new_epoch = 1; break;
        case 'C': *check_only = 1; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (!*conf || optind != argc) {
        usage(stderr);
        return 2;
    }
    return -1;
}

/* Opens d's sockets: the control socket, the aggregator's listener (when
 * [sync] listen is set) and the upstream link (when [sync] upstream is).
 * WM_OK, or logs why and returns the error; the caller closes what opened. */
/* Audits through the tiers: a FETCH from the tier above for records of a
 * node below a child goes down through the aggregator side, and the
 * child's answer back up. */
static wm_err_t relay_down(void *ctx, const Wm__Fetch *f, char *why, size_t cap)
{
    daemon_t *d = ctx;
    return wm_agg_relay(d->agg, f, why, cap);
}

static void relay_up(void *ctx, uint64_t up_req_id, Wm__Records *recs, const char *error)
{
    daemon_t *d = ctx;
    wm_upstream_send_records(d->up, up_req_id, recs, error);
}

static wm_err_t blob_relay_down(void *ctx, const Wm__BlobFetch *f, char *why, size_t cap)
{
    daemon_t *d = ctx;
    return wm_agg_blob_relay(d->agg, f, why, cap);
}

static void blob_relay_up(void *ctx, uint64_t up_req_id, Wm__BlobData *data)
{
    daemon_t *d = ctx;
    wm_upstream_send_blob_data(d->up, up_req_id, data);
}

static wm_err_t daemon_open_sockets(daemon_t *d)
{
    char why[WM_WHY_MAX];
    wm_err_t err;
    if ((err = wm_net_new(&d->net)) != WM_OK ||
        (err = wm_ctl_listen(d->net, d->cfg.control, &d->ctl)) != WM_OK) {
        wm_error("cannot listen on control socket %s: %s", d->cfg.control, wm_net_detail());
        return err;
    }
    /* Thin links: ZMTP pings, dead links and keepalive from [sync]. */
    wm_net_link_opts_t lo = {.zmtp_ivl_ms = (int)d->cfg.heartbeat_s * 1000,
                         .dead_ms = (int)d->cfg.dead_link_s * 1000,
                         .handshake_ms = (int)d->cfg.handshake_s * 1000,
                         .keepalive_s = (int)d->cfg.keepalive_s,
                         .monitor = 1};
    wm_net_set_link_opts(d->net, &lo);
    if (d->cfg.listen[0]) {
        uint8_t *sec = wm_secure_alloc(32), pub[32];
        err = sec ? wm_nodedir_load_curve(&d->cfg, sec, pub, why, sizeof why) : WM_ENOMEM;
        if (err == WM_OK)
            err = wm_agg_open(d->node, d->net, d->cfg.listen, sec, &d->agg, why, sizeof why);
        if (err == WM_OK)
            wm_agg_set_ctl(d->agg, d->ctl);
        wm_secure_free(sec);
        if (err != WM_OK) {
            wm_error("%s", why);
            return err;
        }
    }
    if (d->cfg.upstream[0] &&
        (err = wm_upstream_open(d->node, d->net, &d->up, why, sizeof why)) != WM_OK) {
        wm_error("%s", why);
        return err;
    }
    if (d->agg && d->up) { /* an aggregator with an upstream relays audits down */
        wm_upstream_set_relay(d->up, relay_down, d);
        wm_agg_set_relay(d->agg, relay_up, d);
        wm_upstream_set_blob_relay(d->up, blob_relay_down, d); /* blobs too (blob-fetch) */
        wm_agg_set_blob_relay(d->agg, blob_relay_up, d);
    }
    return WM_OK;
}

/* Serves until a signal asks d to stop. 0 after a clean shutdown, 1 if
 * the event loop could not be set up or failed (logged). */
static int daemon_serve(daemon_t *d)
{
    wm_err_t err;
    (void)wm_i18n_use(NULL);
    wm_info("%s %s (%s) serving: epoch %" PRIu32 ", head seq %" PRIu64 ", control %s%s%s%s%s",
            wm_role_name(d->cfg.role), d->cfg.id, d->cfg.name, d->node->head.epoch,
            d->node->head.seq, d->cfg.control, d->agg ? ", listening on " : "",
            d->agg ? d->cfg.listen : "", d->up ? ", upstream " : "", d->up ? d->cfg.upstream : "");
    if ((err = daemon_loop_open(d)) != WM_OK) {
        wm_error("cannot set up the event loop: %s", wm_strerror(err));
        return 1;
    }
    if (wm_notify("READY=1") != WM_OK) /* systemd Type=notify: serving from here on */
        wm_warn("cannot tell the service manager we are ready: %s", strerror(errno));
    if ((err = wm_reactor_run(d->loop, &stop_flag)) != WM_OK) {
        wm_error("the event loop failed: %s", wm_net_detail());
        return 1;
    }
    if (wm_notify("STOPPING=1") != WM_OK)
        wm_warn("cannot tell the service manager we are stopping: %s", strerror(errno));
    wm_diag_peer_flush();
    wm_info("shutting down: head epoch %" PRIu32 " seq %" PRIu64, d->node->head.epoch,
            d->node->head.seq);
    return 0;
}

int main(int argc, char **argv)
{
    const char *conf = NULL;
    int new_epoch = 0, check_only = 0, rc = 1;
    /* The operator's language while starting; the C locale once serving
     * (daemon_serve), so that what goes on the wire stays English. */
    wm_i18n_init(WM_TEXTDOMAIN_DAEMON, 0);
    int args = parse_args(argc, argv, &conf, &new_epoch, &check_only);
    if (args >= 0)
        return args;
    daemon_t d = {0};
    char why[WM_WHY_MAX];
    wm_err_t err = wm_config_load(conf, &d.cfg, why, sizeof why);
    if (err != WM_OK) {
        fprintf(stderr, "wmsyncd: %s\n", why);
        return 2;
    }
    if (check_only) {
        printf(_("%s: ok\n"), d.cfg.path);
        return 0;
    }
    wm_diag_set_level(wm_diag_parse(d.cfg.log_level));
    wm_diag_peer_limit(d.cfg.log_peer_lines, d.cfg.log_peer_window);
    if (wm_crypto_init() != WM_OK) {
        wm_error("libsodium failed to initialise");
        return 1;
    }
    install_signals();
    if ((err = wm_node_open(&d.cfg, new_epoch, &d.node, why, sizeof why)) != WM_OK) {
        wm_error(_("refusing to start: %s"), why);
        return err == WM_EFORK ? 3 : 1;
    }
    if (daemon_open_sockets(&d) != WM_OK)
        goto out;
    rc = daemon_serve(&d);
out:
    wm_reactor_free(&d.loop);
    wm_upstream_close(&d.up);
    wm_agg_close(&d.agg);
    wm_sock_close(&d.ctl);
    unlink(d.cfg.control);
    wm_net_free(&d.net);
    wm_node_close(&d.node);
    return rc;
}
