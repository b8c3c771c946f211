/* SPDX-License-Identifier: MIT */
/*
 * wmctl upstream-id FILE — pins the parent at a child that was set up with
 * --upstream-key alone: FILE holds the parent's `wmctl keys` line, whose
 * transport key must be the configured upstream_key (the line names the
 * node this child already syncs with). The line goes to DIR/upstream.id
 * (node/wm_ident.h); the daemon reads it at its next connection to the
 * upstream, and the parent's log then comes down (PROTOCOL.md §8). Pinning
 * again replaces the pin (after the parent re-keyed, say).
 *
 * wmctl upstream-id --reset-fork — after a fork of the parent's log was
 * found (status: "parent's log FORKED") and its operators compared the
 * proof: the daemon archives the forked copy and takes the parent's log
 * again from the last common record (daemon/wm_down.h). Refused when no
 * fork is recorded.
 * wmctl upstream-id --forks [--json] — the forks reset so far, each with
 * its proof and the record it conflicted with (read from the store: works
 * with the daemon down).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "wm_crypto.h"
#include "wm_i18n.h"
#include "wm_ident.h"
#include "wm_recjson.h"
#include "wmctl.h"

#define FORKS_MAX (64 * 1024) /* meta "down_forks": as the daemon writes it */

/* Asks the daemon to reset the fork of the parent's log. */
static int reset_fork(wmctl_t *w)
{
    Wm__CtlRequest req = WM__CTL_REQUEST__INIT;
    Wm__CtlReply *rep = NULL;
    req.op_case = WM__CTL_REQUEST__OP_DOWN_RESET;
    req.down_reset = 1;
    wm_err_t err = wmctl_call(w, &req, &rep);
    int rc = WMCTL_FAIL;
    if (err == WM_EPERM) /* wmctl_call said why */
        return WMCTL_FAIL;
    if (err == WM_EDOWN)
        wmctl_err("the wmsyncd daemon for %s is not running; start it and reset again",
                  w->cfg.id);
    else if (err != WM_OK)
        wmctl_err("upstream-id --reset-fork: no answer from the daemon: %s", wm_strerror(err));
    else if (rep->error && rep->error[0])
        wmctl_err("upstream-id --reset-fork refused: %s", rep->message);
    else {
        printf(_("fork reset: the forked copy of the parent's log is kept as %s (wmctl "
                 "upstream-id --forks shows it); the parent's log is held to epoch %" PRIu32
                 " seq %" PRIu64 " and taken again from there\n"),
               rep->archive, rep->epoch, rep->seq);
        rc = WMCTL_OK;
    }
    if (rc == WMCTL_FAIL && err == WM_OK && rep->error &&
        strcmp(rep->error, wm_errname(WM_ESTATE)) == 0)
        rc = WMCTL_USAGE; /* nothing to reset: a refusal, not a failure */
    wm_pb_free(&rep);
    return rc;
}

/* The record at (epoch, seq) of node no as JSON: the proof (proof 1) or
 * the record held there (proof 0); null if none. */
static json_t *record_at(wm_txn_t *t, uint32_t no, uint32_t epoch, uint64_t seq, int proof)
{
    wm_srec_t v;
    wm_record_t *r = NULL;
    uint32_t e = 0;
    uint64_t s = 0;
    wm_err_t err = proof ? wm_proof_first(t, no, &e, &s, &v) : wm_log_get(t, no, epoch, seq, &v);
    if (err != WM_OK || (proof && (e != epoch || s != seq)) ||
        wm_record_decode(v.bytes, v.len, &r) != WM_OK)
        return json_null();
    json_t *j = wm_record_json(r, &v);
    wm_record_free(&r);
    return j ? j : json_null();
}

/* Adds to each reset fork of a its proof and the record held there. */
static void add_records(wm_store_t *s, json_t *a)
{
    wm_txn_t *t = NULL;
    size_t i;
    json_t *f;
    if (wm_txn_begin(s, 0, &t) != WM_OK)
        return;
    json_array_foreach(a, i, f)
    {
        uint32_t no = 0;
        const char *id = json_string_value(json_object_get(f, "archive"));
        uint32_t e = (uint32_t)json_integer_value(json_object_get(f, "fork_epoch"));
        uint64_t q = (uint64_t)json_integer_value(json_object_get(f, "fork_seq"));
        int held = id && wm_nodeno_lookup(t, id, &no) == WM_OK;
        json_object_set_new(f, "proof", held ? record_at(t, no, e, q, 1) : json_null());
        json_object_set_new(f, "held", held ? record_at(t, no, e, q, 0) : json_null());
    }
    wm_txn_abort(&t);
}

/* Prints the forks reset (meta "down_forks") with their proofs. */
static int show_forks(wmctl_t *w, int json)
{
    static char buf[FORKS_MAX];
    wm_store_t *s = NULL;
    wm_txn_t *t = NULL;
    uint32_t self = 0;
    size_t len = 0, i;
    json_t *a = NULL, *f;
    int rc = wmctl_open_ro(w, &s, &self);
    if (rc)
        return rc;
    wm_err_t err = s ? wm_txn_begin(s, 0, &t) : WM_ENOTFOUND;
    if (err == WM_OK)
        err = wm_meta_get(t, WM_META_DOWN_FORKS, buf, sizeof buf - 1, &len);
    wm_txn_abort(&t);
    if (err == WM_OK) {
        buf[len] = 0;
        a = json_loads(buf, 0, NULL);
    }
    if (err != WM_OK && err != WM_ENOTFOUND) {
        wmctl_err("cannot read the forks reset: %s", wm_strerror(err));
        wm_store_close(&s);
        return WMCTL_FAIL;
    }
    if (!json_is_array(a)) {
        json_decref(a);
        a = json_array();
    }
    if (s)
        add_records(s, a);
    wm_store_close(&s);
    if (json) {
        char *text = json_dumps(a, JSON_COMPACT);
        printf("%s\n", text ? text : "[]");
        free(text);
    } else if (json_array_size(a) == 0) {
        printf(_("no fork of the parent's log was reset here\n"));
    }
    json_array_foreach(json ? NULL : a, i, f)
    {
        char *p = json_dumps(json_object_get(f, "proof"), JSON_COMPACT);
        char *h = json_dumps(json_object_get(f, "held"), JSON_COMPACT);
        printf(_("fork of %s at epoch %lld seq %lld, reset: kept as %s; the log was kept to "
                 "epoch %lld seq %lld\n  why: %s\n  proof: %s\n  held:  %s\n"),
               json_string_value(json_object_get(f, "parent")),
               (long long)json_integer_value(json_object_get(f, "fork_epoch")),
               (long long)json_integer_value(json_object_get(f, "fork_seq")),
               json_string_value(json_object_get(f, "archive")),
               (long long)json_integer_value(json_object_get(f, "kept_epoch")),
               (long long)json_integer_value(json_object_get(f, "kept_seq")),
               json_string_value(json_object_get(f, "forked")), p ? p : "null", h ? h : "null");
        free(p);
        free(h);
    }
    json_decref(a);
    return WMCTL_OK;
}

/* upstream-id --reset-fork | --forks [--json]. */
static int fork_cmd(wmctl_t *w, int argc, char **argv)
{
    static const char *const flags[] = {"reset-fork", "forks", "json", NULL};
    wmctl_opts_t o;
    int rc = wmctl_opts_parse(&o, argc - 1, argv + 1, flags);
    if (rc)
        return rc;
    int reset = wmctl_flag(&o, "reset-fork"), forks = wmctl_flag(&o, "forks");
    int json = wmctl_flag(&o, "json");
    if ((rc = wmctl_opts_unused(&o, "upstream-id")) || (rc = wmctl_config(w)))
        return rc;
    if (reset == forks || (reset && json)) {
        wmctl_err("usage: wmctl upstream-id --reset-fork | --forks [--json]");
        return WMCTL_USAGE;
    }
    return reset ? reset_fork(w) : show_forks(w, json);
}

int cmd_upstream_id(wmctl_t *w, int argc, char **argv)
{
    static wm_ident_t pin; /* two lines of text: not on the stack */
    char why[512], hex[2 * WM_PUB_BYTES + 1];
    if (argc >= 2 && strncmp(argv[1], "--", 2) == 0)
        return fork_cmd(w, argc, argv);
    if (argc != 2) {
        wmctl_err("usage: wmctl upstream-id FILE   (FILE holds the parent's `wmctl keys` line; "
                  "- for stdin)");
        return WMCTL_USAGE;
    }
    int rc = wmctl_config(w);
    if (rc)
        return rc;
    if (!w->cfg.upstream[0]) {
        wmctl_err("rejected: %s has no upstream ([sync] upstream), so no parent to pin",
                  w->cfg.id);
        return WMCTL_USAGE;
    }
    if (wm_ident_read(argv[1], &pin, why, sizeof why) != WM_OK) {
        wmctl_err("rejected: %s", why);
        return WMCTL_USAGE;
    }
    wm_hex(pin.curve_pub, WM_PUB_BYTES, hex);
    if (strcasecmp(hex, w->cfg.upstream_key) != 0) {
        wmctl_err("rejected: the transport key of %s in %s is not this node's upstream_key: "
                  "is it the line of the node it syncs with?", pin.node, argv[1]);
        return WMCTL_USAGE;
    }
    wm_err_t err = wm_ident_pin_write(w->cfg.dir, &pin, why, sizeof why);
    if (err == WM_EDECODE) {
        wmctl_err("rejected: %s", why);
        return WMCTL_USAGE;
    }
    if (err != WM_OK) {
        wmctl_err("cannot pin: %s", why);
        return WMCTL_FAIL;
    }
    printf(_("pinned %s (%s) as the parent of %s: its log comes down from the next connection\n"),
           pin.node, pin.role, w->cfg.id);
    return WMCTL_OK;
}
