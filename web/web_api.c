/* SPDX-License-Identifier: MIT */
/*
 * web_api — wmweb's JSON API (docs/openapi.json is its contract): the
 * route table, login and sessions, status, the ledger (GET records), new
 * records and voids (through the daemon, built and checked by the very
 * code of `wmctl record`: client/wm_recargs.c then wm_validate_body), and
 * the accounts. Nothing is written on any error.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "web.h"
#include "wm_client.h"
#include "wm_crypto.h"
#include "wm_date.h"
#include "wm_recargs.h"
#include "wm_recjson.h"
#include "wm_status.h"

#define PASSWORD_MIN 8
#define PASSWORD_MAX 1024

/* ---- shared helpers ---------------------------------------------------- */

int web_store_get(web_req_t *q, web_resp_t *r, wm_store_t **out)
{
    web_t *w = q->w;
    wm_err_t err = WM_OK;
    pthread_mutex_lock(&w->mu);
    if (!w->store) {
        err = wm_store_open(w->cfg.data_dir, WM_STORE_RDONLY, w->cfg.map_mb, &w->store);
        if (err == WM_ENOTFOUND)
            err = WM_OK; /* no data yet: an empty node */
    }
    *out = w->store;
    pthread_mutex_unlock(&w->mu);
    if (err != WM_OK) {
        web_error(q, r, 500, "storage", NULL, "cannot read the node's data: %s", wm_strerror(err));
        return 1;
    }
    return 0;
}

void web_failed_call(web_req_t *q, web_resp_t *r, wm_err_t err, int lost)
{
    if (err == WM_EDOWN && !lost)
        web_error(q, r, 503, "daemon_down", NULL,
                  "the wmsyncd daemon is not running, so nothing was done; ask the "
                  "administrator to start it");
    else if (err == WM_EDOWN)
        web_error(q, r, 503, "daemon_lost", NULL,
                  "the wmsyncd daemon stopped meanwhile; it may or may not have been done: "
                  "check before trying again");
    else if (err == WM_EPERM)
        web_error(q, r, 503, "daemon_denied", NULL,
                  "wmweb may not use the daemon's control socket %s (see wmweb(8): group "
                  "wmsync)",
                  q->w->cfg.control);
    else
        web_error(q, r, 503, "daemon_timeout", NULL,
                  "no answer from the wmsyncd daemon (%s); it may or may not have been done",
                  wm_strerror(err));
}

int web_call(web_req_t *q, web_resp_t *r, Wm__CtlRequest *req, Wm__CtlReply **rep)
{
    int lost = 0;
    wm_err_t err =
        wm_client_call(q->w->net, q->w->cfg.control, req, WM_CLIENT_TIMEOUT_MS, rep, &lost);
    if (err == WM_OK)
        return 0;
    web_failed_call(q, r, err, lost);
    return 1;
}

/* The body as a JSON object (a new reference), or NULL with r answered. */
static json_t *body_object(web_req_t *q, web_resp_t *r)
{
    json_t *j = q->body ? json_loadb(q->body, q->len, JSON_REJECT_DUPLICATES, NULL) : NULL;
    if (!json_is_object(j)) {
        json_decref(j);
        web_error(q, r, 400, "malformed", NULL, "the request body is not a JSON object");
        return NULL;
    }
    return j;
}

/* A daemon's rejection (error, field, message) as the answer: 400 naming
 * the field (409/404 where the message means it), 503/500 otherwise. */
static void daemon_refused(web_req_t *q, web_resp_t *r, const Wm__CtlReply *rep)
{
    char field[64] = "", text[1536];
    snprintf(field, sizeof field, "%s", rep->field ? rep->field : "");
    for (char *c = field; *c; c++)
        *c = *c == '-' ? '_' : *c;
    if (strcmp(field, "kind") == 0) /* only a team's kind is a field named so */
        snprintf(field, sizeof field, "team_kind");
    unsigned st = web_msg(q->lang, rep->message ? rep->message : "", text, sizeof text);
    int invalid = strcmp(rep->error, "invalid") == 0;
    if (!st)
        st = invalid ? 400 : strcmp(rep->error, "exists") == 0 ? 409 : 500;
    json_t *j = json_pack("{s:s, s:s}", "error", text, "code", invalid ? "invalid" : rep->error);
    if (j && field[0])
        json_object_set_new(j, "field", json_string(field));
    web_json(r, st, j);
}

static json_t *node_json(const web_t *w)
{
    return json_pack("{s:s, s:s, s:s, s:b}", "id", w->cfg.id, "name", w->cfg.name, "role",
                     wm_role_name(w->cfg.role), "aggregator", w->cfg.listen[0] != 0);
}

static void session_answer(web_req_t *q, web_resp_t *r, unsigned status, const web_session_t *s)
{
    json_t *j = json_pack("{s:s, s:s, s:s, s:s, s:o}", "user", s->user, "role",
                          wm_user_role_name(s->role), "csrf", s->csrf, "lang",
                          s->lang[0] ? s->lang : q->lang, "node", node_json(q->w));
    web_json(r, status, j);
}

/* The accounts, reloaded when the file changed (under w->mu). Copies the
 * account name into *out: 1 found, 0 not, -1 the file is unreadable. */
static int user_lookup(web_t *w, const char *name, wm_user_t *out)
{
    char why[WM_WHY_MAX];
    int rc = 0;
    pthread_mutex_lock(&w->mu);
    if (wm_users_changed(w->cfg.web_users, &w->users)) {
        wm_users_t fresh;
        if (wm_users_load(w->cfg.web_users, &fresh, why, sizeof why) == WM_OK) {
            wm_users_free(&w->users);
            w->users = fresh;
        } else {
            fprintf(stderr, "wmweb: %s\n", why);
            rc = -1;
        }
    }
    const wm_user_t *u = rc == 0 && name ? wm_users_find(&w->users, name) : NULL;
    if (u) {
        *out = *u;
        rc = 1;
    }
    pthread_mutex_unlock(&w->mu);
    return rc;
}

/* ---- login, logout, session --------------------------------------------- */

/* A hash no password matches in reasonable time, checked for unknown
 * accounts so that they cost what a known one costs. */
static char dummy_hash[WM_PWHASH_STR_MAX];

static int password_ok(web_t *w, const wm_user_t *u, int known, const char *pw)
{
    pthread_mutex_lock(&w->hash_mu); /* one hash at a time: 64 MiB each */
    if (!dummy_hash[0] && wm_pwhash("-", 1, dummy_hash) != WM_OK)
        dummy_hash[0] = 0;
    int ok = wm_pwhash_verify(known ? u->hash : dummy_hash, pw, strlen(pw)) == WM_OK;
    pthread_mutex_unlock(&w->hash_mu);
    return ok && known;
}

static void api_login(web_req_t *q, web_resp_t *r, const char *tail)
{
    (void)tail;
    json_t *j = body_object(q, r);
    if (!j)
        return;
    const char *user = json_string_value(json_object_get(j, "user"));
    const char *pw = json_string_value(json_object_get(j, "password"));
    const char *lang = json_string_value(json_object_get(j, "lang"));
    if (!user || !pw) {
        web_error(q, r, 400, "invalid", !user ? "user" : "password", "%s is required",
                  !user ? "user" : "password");
        goto out;
    }
    if (lang && strcmp(lang, "zh") != 0 && strcmp(lang, "en") != 0)
        lang = NULL;
    unsigned wait = web_throttle_wait(q->w->sessions, user, q->addr);
    if (wait) {
        web_log(q, "login as %.40s refused: throttled for %u s", user, wait);
        snprintf(r->retry_after, sizeof r->retry_after, "%u", wait);
        web_error(q, r, 429, "throttled", NULL, "too many failed logins; try again in %u seconds",
                  wait);
        goto out;
    }
    wm_user_t u = {0};
    int known = wm_user_name_valid(user) && user_lookup(q->w, user, &u) == 1;
    if (!password_ok(q->w, &u, known, pw)) {
        web_throttle_note(q->w->sessions, user, q->addr, 0);
        web_log(q, "login as %.40s FAILED", user);
        web_error(q, r, 401, "bad_login", NULL, "wrong account name or password");
        goto out;
    }
    web_throttle_note(q->w->sessions, user, q->addr, 1);
    web_session_t s;
    if (web_session_open(q->w->sessions, u.name, u.role, lang, &s) != WM_OK) {
        web_error(q, r, 500, "internal", NULL, "out of memory");
        goto out;
    }
    q->has_session = 1, q->s = s;
    web_log(q, "login as %s (%s)", u.name, wm_user_role_name(u.role));
    snprintf(r->cookie, sizeof r->cookie, "%s=%s; Path=/; HttpOnly; SameSite=Strict%s",
             WEB_COOKIE, s.token, q->w->tls ? "; Secure" : "");
    session_answer(q, r, 200, &s);
out:
    memset(&u, 0, sizeof u);
    json_decref(j);
}

static void api_logout(web_req_t *q, web_resp_t *r, const char *tail)
{
    (void)tail;
    web_session_close(q->w->sessions, q->s.token);
    web_log(q, "logout");
    snprintf(r->cookie, sizeof r->cookie, "%s=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict%s",
             WEB_COOKIE, q->w->tls ? "; Secure" : "");
    web_json(r, 200, json_pack("{s:b}", "ok", 1));
}

static void api_session(web_req_t *q, web_resp_t *r, const char *tail)
{
    (void)tail;
    session_answer(q, r, 200, &q->s);
}

static void api_session_set(web_req_t *q, web_resp_t *r, const char *tail)
{
    (void)tail;
    json_t *j = body_object(q, r);
    if (!j)
        return;
    const char *lang = json_string_value(json_object_get(j, "lang"));
    if (!lang || (strcmp(lang, "zh") != 0 && strcmp(lang, "en") != 0)) {
        web_error(q, r, 400, "invalid", "lang", "lang must be zh or en");
    } else {
        web_session_lang(q->w->sessions, q->s.token, lang);
        snprintf(q->s.lang, sizeof q->s.lang, "%s", lang);
        q->lang = strcmp(lang, "en") == 0 ? "en" : "zh";
        session_answer(q, r, 200, &q->s);
    }
    json_decref(j);
}

/* ---- status ---------------------------------------------------------- */

static void api_status(web_req_t *q, web_resp_t *r, const char *tail)
{
    (void)tail;
    wm_store_t *s = NULL;
    char why[WM_WHY_MAX];
    if (web_store_get(q, r, &s))
        return;
    json_t *live = wm_status_live(q->w->net, q->w->cfg.control), *j = NULL;
    if (wm_status_json(&q->w->cfg, s, live, &j, why, sizeof why) != WM_OK)
        web_error(q, r, 500, "storage", NULL, "cannot read the node's data: %s", why);
    else
        web_json(r, 200, j);
    json_decref(live);
}

/* ---- the ledger: GET /api/v1/records ------------------------------------- */

typedef struct {
    wm_txn_t *t;
    uint32_t self;
    const char *kind; /* NULL: every kind */
    char from[11], to[11];
    const char *q;
    json_t *all;      /* the matching records, oldest first */
    int damaged;
} ledger_t;

/* The day a record counts on, "YYYY-MM-DD": its date (a plan: its due
 * day), else the day it was captured. */
static void record_day(const wm_record_t *rec, json_t *o, char day[static 11])
{
    json_t *body = json_object_get(o, wm_record_kind(rec));
    const char *d = json_string_value(json_object_get(body, "date"));
    if (!d)
        d = json_string_value(json_object_get(body, "due"));
    if (d) {
        snprintf(day, 11, "%s", d);
        return;
    }
    time_t c = (time_t)rec->captured;
    struct tm tm;
    localtime_r(&c, &tm);
    strftime(day, 11, "%Y-%m-%d", &tm);
}

/* Nonzero if a text value of the body contains needle (ASCII letters
 * without regard to case). */
static int body_has(json_t *body, const char *needle)
{
    const char *k;
    json_t *v;
    json_object_foreach(body, k, v)
    {
        if (json_is_string(v) && strcasestr(json_string_value(v), needle))
            return 1;
        if (json_is_array(v)) {
            size_t i;
            json_t *x;
            json_array_foreach(v, i, x) if (json_is_string(x) &&
                                            strcasestr(json_string_value(x), needle)) return 1;
        }
    }
    return 0;
}

static int ledger_row(void *ctx, uint32_t epoch, uint64_t seq, const wm_srec_t *v)
{
    ledger_t *lc = ctx;
    wm_record_t *rec = NULL;
    if (!v->bytes || wm_record_decode(v->bytes, v->len, &rec) != WM_OK) {
        lc->damaged = 1;
        return 0;
    }
    json_t *o = wm_record_json(rec, v);
    char day[11];
    record_day(rec, o, day);
    int keep = o && (!lc->kind || strcmp(lc->kind, wm_record_kind(rec)) == 0) &&
               (!lc->from[0] || strcmp(day, lc->from) >= 0) &&
               (!lc->to[0] || strcmp(day, lc->to) <= 0) &&
               (!lc->q || !lc->q[0] || body_has(json_object_get(o, wm_record_kind(rec)), lc->q));
    if (keep) {
        uint32_t by_e = 0;
        uint64_t by_s = 0;
        if (wm_ref_get(lc->t, lc->self, epoch, seq, 'v', &by_e, &by_s) == WM_OK)
            json_object_set_new(o, "voided_by", json_integer((json_int_t)by_s));
        json_object_set_new(o, "day", json_string(day));
        json_array_append_new(lc->all, o);
    } else {
        json_decref(o);
    }
    wm_record_free(&rec);
    return 0;
}

/* Reads the ledger's query parameters into lc; nonzero: answered 400. */
static int ledger_args(web_req_t *q, web_resp_t *r, ledger_t *lc, long *page)
{
    const char *names[2] = {"from", "to"};
    char *outs[2] = {lc->from, lc->to};
    for (int i = 0; i < 2; i++) {
        const char *v = web_arg(q, names[i]);
        uint32_t d;
        if (!v || !v[0])
            continue;
        if (wm_date_parse(v, &d) != WM_OK) {
            web_error(q, r, 400, "invalid", names[i], "\"%s\" is not a date in the form YYYY-MM-DD",
                      v);
            return 1;
        }
        wm_date_format(d, outs[i]);
    }
    lc->kind = web_arg(q, "kind");
    if (lc->kind && !lc->kind[0])
        lc->kind = NULL;
    const wm_recargs_kind_t *k = lc->kind ? wm_recargs_kind(lc->kind) : NULL;
    if (lc->kind && !k && strcmp(lc->kind, "rollup") != 0) {
        web_error(q, r, 400, "invalid", "kind", "\"%s\" is not a record kind", lc->kind);
        return 1;
    }
    if (k && strcmp(k->kind, "plan-done") == 0)
        lc->kind = "plan_done";
    lc->q = web_arg(q, "q");
    const char *pg = web_arg(q, "page");
    char *end = NULL;
    *page = pg ? strtol(pg, &end, 10) : 1;
    if (pg && (!pg[0] || *end || *page < 1 || *page > 1000000)) {
        web_error(q, r, 400, "invalid", "page", "\"%s\" is not a page number", pg);
        return 1;
    }
    return 0;
}

static void api_records(web_req_t *q, web_resp_t *r, const char *tail)
{
    (void)tail;
    ledger_t lc = {0};
    long page = 1;
    wm_store_t *s = NULL;
    if (ledger_args(q, r, &lc, &page) || web_store_get(q, r, &s))
        return;
    lc.all = json_array();
    wm_err_t err = WM_OK;
    wm_scan_t stop = {0};
    if (s && (err = wm_txn_begin(s, 0, &lc.t)) == WM_OK) {
        err = wm_nodeno_lookup(lc.t, q->w->cfg.id, &lc.self);
        if (err == WM_ENOTFOUND)
            err = WM_OK, lc.self = 0;
        if (err == WM_OK && lc.self)
            err = wm_log_scan(lc.t, lc.self, 0, 0, ledger_row, &lc, &stop);
    }
    wm_txn_abort(&lc.t);
    if (err != WM_OK) { /* a partial ledger must never look whole */
        web_error(q, r, 500, "storage", NULL, "cannot read the node's data: %s", wm_strerror(err));
        json_decref(lc.all);
        return;
    }
    /* newest first, WEB_PAGE_SIZE a page */
    size_t n = json_array_size(lc.all), skip = (size_t)(page - 1) * WEB_PAGE_SIZE;
    json_t *rows = json_array();
    for (size_t i = skip; i < n && i < skip + WEB_PAGE_SIZE; i++)
        json_array_append(rows, json_array_get(lc.all, n - 1 - i));
    json_t *next = skip + WEB_PAGE_SIZE < n ? json_integer(page + 1) : json_null();
    json_decref(lc.all);
    web_json(r, 200, json_pack("{s:o, s:o, s:I}", "records", rows, "next_page", next, "total",
                               (json_int_t)n));
}

/* ---- new records and voids: POST /api/v1/records, …/void ----------------- */

/* Strings the wm_opts_t of one request borrows. */
typedef struct {
    char buf[4096];
    size_t used;
} pool_t;

static const char *pool_put(pool_t *p, const char *s, size_t n)
{
    if (p->used + n + 1 > sizeof p->buf)
        return NULL;
    char *d = p->buf + p->used;
    memcpy(d, s, n);
    d[n] = 0;
    p->used += n + 1;
    return d;
}

/* One JSON value as a flag's value: text as it is, a number as written
 * (so 1.234 hours is refused, not rounded), true a flag. */
static int add_value(wm_opts_t *o, pool_t *p, const char *flag, json_t *v)
{
    char num[64];
    if (json_is_string(v))
        return wm_opts_add(o, flag, json_string_value(v));
    if (json_is_true(v))
        return wm_opts_add(o, flag, NULL);
    if (json_is_integer(v) || json_is_real(v)) {
        char *d = json_dumps(v, JSON_ENCODE_ANY);
        snprintf(num, sizeof num, "%s", d ? d : "");
        free(d);
        const char *s = pool_put(p, num, strlen(num));
        return s ? wm_opts_add(o, flag, s) : -1;
    }
    return -2;
}

/* The body's keys (but "kind") as flags: snake_case to the flag's
 * kebab-case; false and null leave a key out; a list repeats it. Nonzero:
 * answered 400. */
static int body_opts(web_req_t *q, web_resp_t *r, json_t *j, wm_opts_t *o, pool_t *p)
{
    const char *k;
    json_t *v;
    json_object_foreach(j, k, v)
    {
        if (strcmp(k, "kind") == 0 || json_is_false(v) || json_is_null(v))
            continue;
        char flag[64];
        /* "kind" is the record's kind, so a team's --kind is "team_kind" */
        snprintf(flag, sizeof flag, "%s", strcmp(k, "team_kind") == 0 ? "kind" : k);
        for (char *c = flag; *c; c++)
            *c = *c == '_' ? '-' : *c;
        const char *f = pool_put(p, flag, strlen(flag));
        int rc = f ? 0 : -1;
        if (rc == 0 && json_is_array(v)) {
            size_t i;
            json_t *x;
            json_array_foreach(v, i, x) if (rc == 0) rc = json_is_array(x) ? -2
                                                                           : add_value(o, p, f, x);
        } else if (rc == 0) {
            rc = add_value(o, p, f, v);
        }
        if (rc == -2) {
            web_error(q, r, 400, "invalid", k, "%s must be text, a number, true or a list of them",
                      k);
            return 1;
        }
        if (rc) {
            web_error(q, r, 400, "invalid", NULL, "too many fields");
            return 1;
        }
    }
    return 0;
}

/* A rejection of the flag table or the content rules: 400 naming the
 * field as the JSON key. */
static void refused(web_req_t *q, web_resp_t *r, const wm_reject_t *rej)
{
    Wm__CtlReply rep = WM__CTL_REPLY__INIT;
    rep.error = (char *)"invalid";
    rep.field = (char *)rej->field;
    rep.message = (char *)rej->why;
    daemon_refused(q, r, &rep);
}

/* Builds the record of kind from o, checks it as wmctl does, and has the
 * daemon sign and append it with the account's name. */
static void append(web_req_t *q, web_resp_t *r, const char *kind, wm_opts_t *o,
                   Wm__Attachment **att, size_t n_att)
{
    const wm_recargs_kind_t *k = wm_recargs_kind(kind);
    wm_recbody_t b;
    wm_reject_t rej;
    if (!k) {
        web_error(q, r, 400, "invalid", "kind", "unknown record kind \"%s\"", kind);
        return;
    }
    if (wm_recargs_build(k, o, &b, &rej) != WM_OK) {
        refused(q, r, &rej);
        return;
    }
    const wm_opt_t *extra = wm_opts_unused(o);
    if (extra) {
        char key[64];
        snprintf(key, sizeof key, "%s", strcmp(extra->name, "kind") == 0 ? "team_kind" : extra->name);
        for (char *c = key; *c; c++)
            *c = *c == '-' ? '_' : *c;
        web_error(q, r, 400, "invalid", key, "unknown field \"%s\"", key);
        return;
    }
    if (n_att && b.rec.body_case != WM__RECORD__BODY_ACTIVITY) {
        web_error(q, r, 400, "invalid", "photo", "only an activity carries photos");
        return;
    }
    if (n_att)
        b.activity.n_attachments = n_att, b.activity.attachments = att;
    if (wm_validate_body(&b.rec, wm_date_today_checked(), &rej) != WM_OK) {
        refused(q, r, &rej);
        return;
    }
    b.rec.account = q->s.user;
    Wm__CtlRequest req = WM__CTL_REQUEST__INIT;
    Wm__CtlReply *rep = NULL;
    req.op_case = WM__CTL_REQUEST__OP_APPEND;
    req.append = &b.rec;
    if (web_call(q, r, &req, &rep)) {
        web_log(q, "record %s NOT written: daemon unavailable", k->kind);
        return;
    }
    if (rep->error && rep->error[0]) {
        web_log(q, "record %s refused: %s: %s", k->kind, rep->field, rep->message);
        daemon_refused(q, r, rep);
    } else {
        web_log(q, "recorded %s as %" PRIu32 "/%" PRIu64 " (%zu file(s))", k->kind, rep->epoch,
                rep->seq, n_att);
        web_json(r, 201, json_pack("{s:s, s:I, s:I}", "kind", wm_record_kind(&b.rec), "epoch",
                                   (json_int_t)rep->epoch, "seq", (json_int_t)rep->seq));
    }
    wm_pb_free(&rep);
}

static void api_record_new(web_req_t *q, web_resp_t *r, const char *tail)
{
    (void)tail;
    json_t *j = body_object(q, r);
    wm_opts_t o = {0};
    pool_t *p = calloc(1, sizeof *p);
    Wm__Attachment att[WM_PHOTOS_MAX + WM_SHEETS_MAX], *pa[WM_PHOTOS_MAX + WM_SHEETS_MAX];
    uint8_t hashes[WM_PHOTOS_MAX + WM_SHEETS_MAX][32];
    size_t n_att = 0;
    if (!j || !p) {
        if (j)
            web_error(q, r, 500, "internal", NULL, "out of memory");
        goto out;
    }
    const char *kind = json_string_value(json_object_get(j, "kind"));
    if (!kind) {
        web_error(q, r, 400, "invalid", "kind", "kind is required");
        goto out;
    }
    if (web_attachments(q, r, j, att, hashes, &n_att)) /* "photo", "attach": web_evid.c */
        goto out;
    for (size_t i = 0; i < n_att; i++)
        pa[i] = &att[i];
    if (body_opts(q, r, j, &o, p) == 0)
        append(q, r, kind, &o, pa, n_att);
out:
    free(p);
    json_decref(j);
}

/* POST /api/v1/records/{epoch}/{seq}/void {"reason": R} */
static void api_void(web_req_t *q, web_resp_t *r, const char *tail)
{
    char es[16], ss[24], rest[8];
    if (sscanf(tail, "%15[0-9]/%23[0-9]/%7s", es, ss, rest) != 3 || strcmp(rest, "void") != 0) {
        web_error(q, r, 404, "not_found", NULL, "no such API path");
        return;
    }
    json_t *j = body_object(q, r);
    if (!j)
        return;
    wm_opts_t o = {0};
    json_t *reason = json_object_get(j, "reason");
    if (json_object_size(j) != 1 || !json_is_string(reason)) {
        const char *k = json_object_iter_key(json_object_iter(j));
        if (!json_is_string(reason))
            web_error(q, r, 400, "invalid", "reason", "--%s is required", "reason");
        else
            web_error(q, r, 400, "invalid", k, "unknown field \"%s\"", k);
        json_decref(j);
        return;
    }
    if (wm_opts_add(&o, "seq", ss) || wm_opts_add(&o, "epoch", es) ||
        wm_opts_add(&o, "reason", json_string_value(reason)))
        web_error(q, r, 500, "internal", NULL, "out of memory");
    else
        append(q, r, "void", &o, NULL, 0);
    json_decref(j);
}

/* ---- accounts (admins) ------------------------------------------------ */

static void api_users(web_req_t *q, web_resp_t *r, const char *tail)
{
    (void)tail;
    web_t *w = q->w;
    wm_user_t dummy;
    if (user_lookup(w, NULL, &dummy) < 0) {
        web_error(q, r, 500, "storage", NULL, "cannot read the node's data: %s", w->cfg.web_users);
        return;
    }
    json_t *arr = json_array();
    pthread_mutex_lock(&w->mu);
    for (size_t i = 0; i < w->users.n; i++)
        json_array_append_new(arr, json_pack("{s:s, s:s}", "name", w->users.v[i].name, "role",
                                             wm_user_role_name(w->users.v[i].role)));
    pthread_mutex_unlock(&w->mu);
    web_json(r, 200, json_pack("{s:o}", "users", arr));
}

/* Has the daemon change the accounts file; hash NULL for del. */
static void user_change(web_req_t *q, web_resp_t *r, const char *action, const char *name,
                        const char *role, const char *hash, unsigned ok_status)
{
    Wm__CtlReply *rep = NULL;
    wm_err_t err = wm_client_user(q->w->net, q->w->cfg.control, action, name, role, hash, &rep);
    if (err != WM_OK) {
        web_failed_call(q, r, err, 0);
        return;
    }
    if (rep->error && rep->error[0]) {
        web_log(q, "account %s %s refused: %s", name, action, rep->message);
        daemon_refused(q, r, rep);
    } else {
        web_log(q, "account %s: %s%s%s", name, action, role ? " as " : "", role ? role : "");
        if (strcmp(action, "add") != 0)
            web_sessions_drop_user(q->w->sessions, name);
        web_json(r, ok_status, json_pack("{s:s, s:s}", "name", name, "action", action));
    }
    wm_pb_free(&rep);
}

/* The password's hash into out; nonzero: answered. */
static int hash_password(web_req_t *q, web_resp_t *r, const char *pw, char *out)
{
    size_t n = pw ? strlen(pw) : 0;
    if (n < PASSWORD_MIN || n > PASSWORD_MAX) {
        web_error(q, r, 400, "invalid", "password", "a password must have 8 to 1024 bytes");
        return 1;
    }
    pthread_mutex_lock(&q->w->hash_mu);
    wm_err_t err = wm_pwhash(pw, n, out);
    pthread_mutex_unlock(&q->w->hash_mu);
    if (err != WM_OK) {
        web_error(q, r, 503, "internal", NULL,
                  "the password could not be hashed (out of memory); try again");
        return 1;
    }
    return 0;
}

static void api_user_add(web_req_t *q, web_resp_t *r, const char *tail)
{
    (void)tail;
    char hash[WM_PWHASH_STR_MAX];
    json_t *j = body_object(q, r);
    if (!j)
        return;
    const char *name = json_string_value(json_object_get(j, "name"));
    const char *role = json_string_value(json_object_get(j, "role"));
    const char *pw = json_string_value(json_object_get(j, "password"));
    if (!name || !wm_user_name_valid(name))
        web_error(q, r, 400, "invalid", "name",
                  "\"%s\" is not an account name (1-%d of a-z 0-9 _ . -, starting with a letter "
                  "or digit)",
                  name ? name : "", WM_USER_NAME_MAX);
    else if (!role || !wm_user_role_parse(role))
        web_error(q, r, 400, "invalid", "role", "role must be viewer, operator or admin");
    else if (hash_password(q, r, pw, hash) == 0)
        user_change(q, r, "add", name, role, hash, 201);
    json_decref(j);
}

/* DELETE /api/v1/users/{name}, POST /api/v1/users/{name}/password */
static void api_user_del(web_req_t *q, web_resp_t *r, const char *tail)
{
    if (!wm_user_name_valid(tail)) {
        web_error(q, r, 404, "not_found", NULL, "no account \"%s\"", tail);
        return;
    }
    user_change(q, r, "del", tail, NULL, NULL, 200);
}

static void api_user_passwd(web_req_t *q, web_resp_t *r, const char *tail)
{
    char name[WM_USER_NAME_MAX + 16], hash[WM_PWHASH_STR_MAX];
    snprintf(name, sizeof name, "%s", tail);
    char *slash = strchr(name, '/');
    if (!slash || strcmp(slash, "/password") != 0 || (*slash = 0, !wm_user_name_valid(name))) {
        web_error(q, r, 404, "not_found", NULL, "no such API path");
        return;
    }
    json_t *j = body_object(q, r);
    if (!j)
        return;
    if (hash_password(q, r, json_string_value(json_object_get(j, "password")), hash) == 0)
        user_change(q, r, "passwd", name, NULL, hash, 200);
    json_decref(j);
}

/* ---- the routes ------------------------------------------------------- */

static const web_route_t routes[] = {
    {"POST", "/api/v1/login", api_login, 0, 0, 0},
    {"POST", "/api/v1/logout", api_logout, 1, WM_ROLE_VIEWER, 0},
    {"GET", "/api/v1/session", api_session, 1, WM_ROLE_VIEWER, 0},
    {"POST", "/api/v1/session", api_session_set, 1, WM_ROLE_VIEWER, 0},
    {"GET", "/api/v1/status", api_status, 1, WM_ROLE_VIEWER, 0},
    {"GET", "/api/v1/records", api_records, 1, WM_ROLE_VIEWER, 0},
    {"POST", "/api/v1/records", api_record_new, 1, WM_ROLE_OPERATOR, 0},
    {"POST", "/api/v1/records/*", api_void, 1, WM_ROLE_OPERATOR, 0},
    {"POST", "/api/v1/attachments", web_upload, 1, WM_ROLE_OPERATOR, 0},
    {"GET", "/api/v1/blobs/*", web_blob, 1, WM_ROLE_VIEWER, 0},
    {"GET", "/api/v1/users", api_users, 1, WM_ROLE_ADMIN, 0},
    {"POST", "/api/v1/users", api_user_add, 1, WM_ROLE_ADMIN, 0},
    {"DELETE", "/api/v1/users/*", api_user_del, 1, WM_ROLE_ADMIN, 0},
    {"POST", "/api/v1/users/*", api_user_passwd, 1, WM_ROLE_ADMIN, 0},
    {"GET", "/api/v1/rollup", web_rollup, 1, WM_ROLE_VIEWER, 0},
    {"GET", "/api/v1/report", web_report, 1, WM_ROLE_VIEWER, 0},
    {"GET", "/api/v1/children", web_children, 1, WM_ROLE_VIEWER, 1},
    {"POST", "/api/v1/publish", web_publish, 1, WM_ROLE_ADMIN, 1},
    {"POST", "/api/v1/audit", web_audit, 1, WM_ROLE_OPERATOR, 1},
};

const web_route_t *web_routes(size_t *n)
{
    *n = sizeof routes / sizeof routes[0];
    return routes;
}
