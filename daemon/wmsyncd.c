/* SPDX-License-Identifier: MIT */
/*
 * wmsyncd — the wmsync daemon. One binary for every tier; the config names
 * the role. It is the only writer of the node's log and the only holder of
 * its signing key. It serves wmctl on a local control socket and runs one
 * poll loop with timers; signal handlers only set flags.
 */
#include <getopt.h>
#include <inttypes.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "control.pb-c.h"
#include "wm_config.h"
#include "wm_date.h"
#include "wm_crypto.h"
#include "wm_log.h"
#include "wm_net.h"
#include "wm_agg.h"
#include "wm_node.h"
#include "wm_notify.h"
#include "wm_upstream.h"

#define CTL_DRAIN_MAX 256 /* control requests taken per loop turn */
#define CTL_VERSION 1

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
    wm_sock_t *ctl;
    wm_agg_t *agg;          /* aggregators (listen set) */
    wm_upstream_t *up;      /* nodes with an upstream */
    time_t publish_due;     /* next check for a month to publish */
} daemon_t;

/* One control request waiting for its reply. */
typedef struct {
    int deferred;           /* answered later (audit fetch) */
    wm_frame_t peer;        /* ROUTER identity, owned */
    Wm__CtlRequest *req;    /* owned */
    Wm__CtlReply reply;
    char *json;             /* owned, for status */
} ctl_pending_t;

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

static char *live_status_json(daemon_t *d)
{
    json_t *o = json_pack("{s:i, s:I, s:I, s:I}", "pid", (int)getpid(), "started",
                          (json_int_t)d->node->started, "uptime_s",
                          (json_int_t)(time(NULL) - d->node->started), "head_seq",
                          (json_int_t)d->node->head.seq);
    if (o && d->up)
        json_object_set_new(o, "upstream", wm_upstream_status(d->up));
    if (o && d->agg)
        json_object_set_new(o, "verifier", wm_agg_verify_status(d->agg));
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
                             "not published: records of %d station(s) are still being "
                             "verified: %s; try again in a moment (wmctl status shows the "
                             "verified frontier)",
                             n, names);
    if (w >= (int)cap && cap > 4)
        memcpy(why + cap - 4, "...", 4); /* long lists are cut, visibly */
    return 1;
}

/* Enrol, revoke, import: aggregator operations from wmctl. */
static void handle_admin(daemon_t *d, Wm__CtlRequest *req, Wm__CtlReply *r, char *why,
                         size_t cap)
{
    wm_err_t err;
    why[0] = 0;
    if (!d->agg) {
        set_error(r, WM_ESTATE, "", "this node does not aggregate (no [sync] listen)");
        return;
    }
    switch (req->op_case) {
    case WM__CTL_REQUEST__OP_ENROLL:
        err = wm_agg_enroll(d->agg, req->enroll, why, cap);
        break;
    case WM__CTL_REQUEST__OP_REVOKE:
        err = wm_agg_revoke(d->agg, req->revoke, why, cap);
        break;
    case WM__CTL_REQUEST__OP_PUBLISH:
        if (unverified(d, why, cap)) {
            err = WM_ESTATE;
            break;
        }
        err = wm_node_publish(d->node, req->publish, 1, &r->epoch, &r->seq, why, cap);
        if (err == WM_OK && d->up)
            wm_upstream_tick(d->up); /* send it up now if the link allows */
        break;
    default: {
        Wm__Bundle *b = req->import;
        const uint8_t **recs = calloc(b->n_records + 1, sizeof *recs);
        size_t *lens = calloc(b->n_records + 1, sizeof *lens);
        wm_head_t durable;
        err = recs && lens ? WM_OK : WM_ENOMEM;
        for (size_t i = 0; err == WM_OK && i < b->n_records; i++)
            recs[i] = b->records[i].data, lens[i] = b->records[i].len;
        if (err == WM_OK)
            err = wm_agg_import(d->agg, b->node ? b->node : "", recs, lens, b->n_records, why,
                                cap, &r->accepted, &r->duplicates, &durable);
        if (err == WM_OK)
            r->seq = durable.seq, r->epoch = durable.epoch;
        free(recs);
        free(lens);
    }
    }
    if (err != WM_OK)
        set_error(r, err, "", why[0] ? why : NULL);
}


/* Takes every waiting control request, appends all records among them in
 * one durable transaction, then answers each. */
static void handle_ctl(daemon_t *d)
{
    ctl_pending_t *p = calloc(CTL_DRAIN_MAX, sizeof *p);
    wm_append_t *ap = calloc(CTL_DRAIN_MAX, sizeof *ap);
    size_t np = 0, na = 0;
    size_t idx[CTL_DRAIN_MAX];
    if (!p || !ap)
        goto out;
    while (np < CTL_DRAIN_MAX) {
        wm_msg_t m = {0};
        wm_err_t err = wm_sock_recv(d->ctl, &m);
        if (err == WM_ETIMEOUT)
            break;
        if (err != WM_OK || m.n != 2) {
            wm_warn_peer("control socket", "control: dropped a malformed message (%zu frames)", m.n);
            wm_msg_clear(&m);
            continue;
        }
        ctl_pending_t *c = &p[np++];
        c->peer = m.f[0];
        wm__ctl_reply__init(&c->reply);
        err = wm_pb_decode(&wm__ctl_request__descriptor, m.f[1].data, m.f[1].len,
                           WM_CTL_MAX_BYTES, (void **)&c->req);
        free(m.f[1].data);
        if (err != WM_OK) {
            set_error(&c->reply, err, "", "control request does not decode");
        } else if (c->req->version != CTL_VERSION) {
            set_error(&c->reply, WM_EINVAL, "version", "wmctl and wmsyncd versions differ");
        } else if (c->req->op_case == WM__CTL_REQUEST__OP_APPEND && c->req->append) {
            ap[na].body = c->req->append;
            idx[na++] = np - 1;
        } else if (c->req->op_case == WM__CTL_REQUEST__OP_STATUS) {
            c->json = live_status_json(d);
            c->reply.json = c->json ? c->json : "";
        } else if (c->req->op_case == WM__CTL_REQUEST__OP_PING) {
            /* empty reply */
        } else if (c->req->op_case == WM__CTL_REQUEST__OP_FETCH) {
            char why[256];
            err = d->agg ? wm_agg_fetch(d->agg, c->req->fetch, &c->peer, why, sizeof why)
                         : WM_ESTATE;
            if (err == WM_OK)
                c->deferred = 1;
            else
                c->json = strdup(d->agg ? why : "this node does not aggregate"),
                set_error(&c->reply, err, "", c->json);
        } else if (c->req->op_case == WM__CTL_REQUEST__OP_ENROLL ||
                   c->req->op_case == WM__CTL_REQUEST__OP_REVOKE ||
                   c->req->op_case == WM__CTL_REQUEST__OP_IMPORT ||
                   c->req->op_case == WM__CTL_REQUEST__OP_PUBLISH) {
            c->json = malloc(512);
            if (c->json)
                handle_admin(d, c->req, &c->reply, c->json, 512);
        } else {
            set_error(&c->reply, WM_EINVAL, "op", "unknown control request");
        }
    }
    if (na > 0) {
        wm_node_append(d->node, ap, na);
        if (d->up)
            wm_upstream_tick(d->up); /* send the new records now if we may */
    }
    for (size_t i = 0; i < na; i++) {
        Wm__CtlReply *r = &p[idx[i]].reply;
        if (ap[i].err == WM_OK) {
            r->epoch = ap[i].epoch;
            r->seq = ap[i].seq;
            wm_debug("appended %s at epoch %" PRIu32 " seq %" PRIu64,
                     wm_record_kind(ap[i].body), ap[i].epoch, ap[i].seq);
        } else if (ap[i].err == WM_EINVAL) {
            set_error(r, WM_EINVAL, ap[i].rej.field, ap[i].rej.why);
            wm_info("rejected a %s record: %s: %s", wm_record_kind(ap[i].body), ap[i].rej.field,
                    ap[i].rej.why);
        } else {
            set_error(r, ap[i].err, "", NULL);
        }
    }
    for (size_t i = 0; i < np; i++) {
        if (!p[i].deferred)
            reply_send(d, &p[i]);
        free(p[i].peer.data);
        wm_pb_free(&p[i].req);
        free(p[i].json);
    }
out:
    free(p);
    free(ap);
}

/* SIGHUP: the log level from the config file, and the enrolment register
 * from LMDB. Connections stay up; other config changes need a restart. */
static void reload(daemon_t *d)
{
    wm_config_t fresh;
    char why[1024];
    if (wm_config_load(d->cfg.path, &fresh, why, sizeof why) != WM_OK) {
        wm_error("SIGHUP: the config file is not valid, nothing reloaded: %s", why);
        return;
    }
    wm_log_set_level(wm_log_parse(fresh.log_level));
    wm_log_peer_limit(fresh.log_peer_lines, fresh.log_peer_window);
    snprintf(d->cfg.log_level, sizeof d->cfg.log_level, "%s", fresh.log_level);
    int agg_err = d->agg ? wm_agg_reload(d->agg) != WM_OK : 0;
    wm_info("SIGHUP: reloaded log level (%s)%s", fresh.log_level,
            d->agg ? (agg_err ? "; the enrolment register could NOT be reloaded"
                              : " and the enrolment register")
                   : "");
}

/* At a month's close a town publishes that month's rollup by itself, so
 * the county gets it without anyone remembering to; a month already
 * published (by hand or before a restart) is not published again. Checked
 * once a minute. */
static void auto_publish(daemon_t *d)
{
    static const time_t every = 60;
    if (!d->agg || !d->up || !d->cfg.publish_at_close || time(NULL) < d->publish_due)
        return;
    d->publish_due = time(NULL) + every;
    uint32_t today = wm_date_today();
    uint32_t prev = wm_date_from_days(wm_date_to_days(today / 100 * 100 + 1) - 1);
    char month[16], why[512];
    snprintf(month, sizeof month, "%04u-%02u", prev / 10000, prev / 100 % 100);
    uint32_t epoch;
    uint64_t seq;
    wm_txn_t *t = NULL;
    int done = wm_txn_begin(d->node->store, 0, &t) == WM_OK &&
               wm_report_at(t, d->node->self, month, &epoch, &seq) == WM_OK;
    wm_txn_abort(&t);
    if (done)
        return;
    if (unverified(d, why, sizeof why)) {
        d->publish_due = time(NULL) + 1; /* soon again: verification catches up */
        wm_debug("the rollup of %s waits: %s", month, why);
        return;
    }
    if (wm_node_publish(d->node, month, 1, &epoch, &seq, why, sizeof why) != WM_OK) {
        wm_warn("could not publish the rollup of %s at its close: %s", month, why);
        return;
    }
    wm_upstream_tick(d->up);
}

static void usage(FILE *f)
{
    fprintf(f,
            "usage: wmsyncd -c CONFIG [--new-epoch] [--check-config]\n"
            "  -c, --config FILE   the node's wmsync.conf\n"
            "      --new-epoch     begin a new epoch (after re-keying or losing the log)\n"
            "      --check-config  validate CONFIG and exit\n"
            "  -h, --help          this text\n");
}

int main(int argc, char **argv)
{
    const char *conf = NULL;
    int new_epoch = 0, check_only = 0, rc = 1;
    static const struct option opts[] = {{"config", required_argument, NULL, 'c'},
                                         {"new-epoch", no_argument, NULL, 'E'},
                                         {"check-config", no_argument, NULL, 'C'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    int o;
    while ((o = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
        switch (o) {
        case 'c': conf = optarg; break;
        case 'E': new_epoch = 1; break;
        case 'C': check_only = 1; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (!conf || optind != argc) {
        usage(stderr);
        return 2;
    }
    daemon_t d = {0};
    char why[8192];
    wm_err_t err = wm_config_load(conf, &d.cfg, why, sizeof why);
    if (err != WM_OK) {
        fprintf(stderr, "wmsyncd: %s\n", why);
        return 2;
    }
    if (check_only) {
        printf("%s: ok\n", d.cfg.path);
        return 0;
    }
    wm_log_set_level(wm_log_parse(d.cfg.log_level));
    wm_log_peer_limit(d.cfg.log_peer_lines, d.cfg.log_peer_window);
    if (wm_crypto_init() != WM_OK) {
        wm_error("libsodium failed to initialise");
        return 1;
    }
    install_signals();
    if ((err = wm_node_open(&d.cfg, new_epoch, &d.node, why, sizeof why)) != WM_OK) {
        wm_error("refusing to start: %s", why);
        return err == WM_EFORK ? 3 : 1;
    }
    if ((err = wm_net_new(&d.net)) != WM_OK ||
        (err = wm_ctl_listen(d.net, d.cfg.control, &d.ctl)) != WM_OK) {
        wm_error("cannot listen on control socket %s: %s", d.cfg.control, wm_net_detail());
        goto out;
    }
    if (d.cfg.listen[0]) {
        uint8_t *sec = wm_secure_alloc(32), pub[32];
        err = sec ? wm_curve_load(d.cfg.curve_key, sec, pub) : WM_ENOMEM;
        if (err != WM_OK)
            snprintf(why, sizeof why, "cannot load transport key %s: %s", d.cfg.curve_key,
                     wm_strerror(err));
        else
            err = wm_agg_open(d.node, d.net, d.cfg.listen, sec, &d.agg, why, sizeof why);
        if (err == WM_OK)
            wm_agg_set_ctl(d.agg, d.ctl);
        wm_secure_free(sec);
        if (err != WM_OK) {
            wm_error("%s", why);
            goto out;
        }
    }
    if (d.cfg.upstream[0] &&
        (err = wm_upstream_open(d.node, d.net, &d.up, why, sizeof why)) != WM_OK) {
        wm_error("%s", why);
        goto out;
    }
    wm_info("%s %s (%s) serving: epoch %" PRIu32 ", head seq %" PRIu64 ", control %s%s%s%s%s",
            wm_role_name(d.cfg.role), d.cfg.id, d.cfg.name, d.node->head.epoch,
            d.node->head.seq, d.cfg.control, d.agg ? ", listening on " : "",
            d.agg ? d.cfg.listen : "", d.up ? ", upstream " : "", d.up ? d.cfg.upstream : "");
    wm_notify("READY=1"); /* systemd Type=notify: serving from here on */
    while (!stop_flag) {
        wm_sock_t *socks[5];
        int ready[5] = {0}, n = 0, i_zap = -1, i_router = -1, i_up = -1, i_ver = -1;
        socks[n++] = d.ctl;
        if (d.agg) {
            i_zap = n, socks[n++] = wm_agg_zap(d.agg);
            i_router = n, socks[n++] = wm_agg_router(d.agg);
            i_ver = n, socks[n++] = wm_agg_verifier(d.agg);
        }
        if (d.up && wm_upstream_sock(d.up))
            i_up = n, socks[n++] = wm_upstream_sock(d.up);
        long timeout = d.up ? wm_upstream_next_ms(d.up) : 1000;
        wm_net_poll(socks, n, ready, timeout > 1000 ? 1000 : timeout);
        if (i_zap >= 0 && ready[i_zap])
            wm_agg_on_zap(d.agg);
        if (ready[0])
            handle_ctl(&d);
        if (i_router >= 0 && ready[i_router])
            wm_agg_on_router(d.agg);
        if (i_up >= 0 && ready[i_up])
            wm_upstream_on_msg(d.up);
        if (i_ver >= 0 && ready[i_ver])
            wm_agg_on_verified(d.agg);
        if (hup_flag) {
            hup_flag = 0;
            reload(&d);
        }
        auto_publish(&d);
        if (d.up)
            wm_upstream_tick(d.up);
        if (d.agg)
            wm_agg_tick(d.agg);
        wm_node_tick(d.node);
        wm_log_tick();
    }
    wm_notify("STOPPING=1");
    wm_log_peer_flush();
    wm_info("shutting down: head epoch %" PRIu32 " seq %" PRIu64, d.node->head.epoch,
            d.node->head.seq);
    rc = 0;
out:
    wm_upstream_close(&d.up);
    wm_agg_close(&d.agg);
    wm_sock_close(&d.ctl);
    unlink(d.cfg.control);
    wm_net_free(&d.net);
    wm_node_close(&d.node);
    return rc;
}
