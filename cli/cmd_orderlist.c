/* SPDX-License-Identifier: MIT */
/*
 * wmctl need list / order list / notice list — read-only listings from
 * LMDB (they work with the daemon down). The needs-and-orders records of
 * every log the node holds are read and applied through storage/wm_orders
 * (wm_orders_apply_all: sorted by date and step, to a fixed point, the
 * same at every node): its own, and at a child the whole log of its
 * parent (feature "down"), filtered here. A node lists the orders of its
 * own log, and those addressed to it, open, taken by it, or answering
 * one of its needs (so that it can rate them); every need; the notices to
 * it or from it. wmctl_order_check checks an order against the
 * parent's log before a station accepts or completes it. --json prints one
 * object per line with "id" as order create printed it.
 */
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wm_date.h"
#include "wm_i18n.h"
#include "cmd_order.h"
#include "wm_ident.h"

typedef struct {
    wm_orders_t book;
    wm_record_t **recs; /* the needs-and-orders records read, applied once all are read */
    size_t n_recs, cap_recs;
    const char *self;
    int json;
    int (*each)(void *ctx, const wm_record_t *r); /* notices: every record, or NULL */
    void *each_ctx;
    int damaged;
    wm_err_t err;
    wmctl_ref_t *mine; /* orders that answer a need of this node (it may rate them) */
    size_t n_mine, cap_mine;
    const char *probe; /* load_book: is this node's log held? (probe_held) */
    int probe_held;
} load_t;

/* Notes r if it is an order answering one of this node's needs (its
 * needs name "SELF:EPOCH:SEQ"). 0, or 1 when out of memory. */
static int note_mine(load_t *l, const wm_record_t *r)
{
    size_t n = strlen(l->self);
    const Wm__ServiceOrder *o = r->body_case == WM__RECORD__BODY_SERVICE_ORDER ? r->service_order
                                                                             : NULL;
    for (size_t i = 0; o && i < o->n_needs; i++) {
        if (strncmp(o->needs[i], l->self, n) != 0 || o->needs[i][n] != ':')
            continue;
        if (l->n_mine == l->cap_mine) {
            size_t cap = l->cap_mine ? 2 * l->cap_mine : 16;
            wmctl_ref_t *grown = realloc(l->mine, cap * sizeof *grown);
            if (!grown)
                return 1;
            l->mine = grown, l->cap_mine = cap;
        }
        wmctl_ref_t *m = &l->mine[l->n_mine++];
        snprintf(m->log, sizeof m->log, "%s", r->station);
        m->epoch = r->epoch, m->seq = r->seq;
        return 0;
    }
    return 0;
}

static int load_one(void *ctx, uint32_t epoch, uint64_t seq, const wm_srec_t *v)
{
    load_t *l = ctx;
    wm_record_t *r = NULL;
    if (!v->bytes || wm_record_decode(v->bytes, v->len, &r) != WM_OK) {
        fprintf(stderr, _("wmctl: record %" PRIu32 "/%" PRIu64 " does not decode (run wmctl verify)\n"),
                epoch, seq);
        l->damaged = 1;
        return 0;
    }
    if (l->each)
        l->each(l->each_ctx, r);
    if (!wm_orders_kind(r) || r->body_case == WM__RECORD__BODY_NOTICE) {
        wm_record_free(&r);
        return 0;
    }
    if (note_mine(l, r)) {
        wm_record_free(&r);
        l->err = WM_ENOMEM;
        return 1;
    }
    if (l->n_recs == l->cap_recs) {
        size_t cap = l->cap_recs ? 2 * l->cap_recs : 64;
        wm_record_t **grown = realloc(l->recs, cap * sizeof *grown);
        if (!grown) {
            wm_record_free(&r);
            l->err = WM_ENOMEM;
            return 1;
        }
        l->recs = grown, l->cap_recs = cap;
    }
    l->recs[l->n_recs++] = r;
    return 0;
}

/* Applies what load_one kept (wm_orders_apply_all) and frees it. */
static wm_err_t apply_all(load_t *l)
{
    wm_err_t err = l->err;
    if (err == WM_OK)
        err = wm_orders_apply_all(&l->book, l->recs, l->n_recs);
    for (size_t i = 0; i < l->n_recs; i++)
        wm_record_free(&l->recs[i]);
    free(l->recs);
    l->recs = NULL, l->n_recs = l->cap_recs = 0;
    return err;
}

/* Every log: the node's own first, then the others by node number. */
static wm_err_t load_logs(wm_txn_t *t, uint32_t self, load_t *l, wm_store_t *s)
{
    wm_scan_t stop = {0};
    const char *id = NULL;
    wm_err_t err = wm_log_scan(t, self, 0, 0, load_one, l, &stop);
    for (uint32_t n = 1; err == WM_OK && l->err == WM_OK; n++) {
        if (n == self)
            continue;
        if ((err = wm_nodeno_name(t, n, &id)) == WM_ENOTFOUND)
            return WM_OK;
        if (err == WM_OK && !wm_node_archived(id)) /* an archived fork: not the parent's word */
            err = wm_log_scan(t, n, 0, 0, load_one, l, &stop);
    }
    if (err != WM_OK)
        wmctl_scan_failed(s, l->self, err, &stop);
    return err != WM_OK ? err : l->err;
}

/* Loads the book of every log the node holds; WMCTL_ codes. With
 * l->probe set, l->probe_held says whether the log of that node is held. */
static int load_book(wmctl_t *w, load_t *l)
{
    wm_store_t *s = NULL;
    wm_txn_t *t = NULL;
    uint32_t self = 0, no = 0;
    int rc = wmctl_open_ro(w, &s, &self);
    if (rc)
        return rc;
    l->self = w->cfg.id;
    if (!s || !self)
        goto out; /* nothing recorded yet: empty lists */
    wm_err_t err = wm_txn_begin(s, 0, &t);
    if (err == WM_OK && l->probe)
        l->probe_held = wm_nodeno_lookup(t, l->probe, &no) == WM_OK;
    if (err == WM_OK)
        err = load_logs(t, self, l, s);
    wm_err_t aerr = apply_all(l);
    err = err != WM_OK ? err : aerr;
    if (err != WM_OK) {
        wmctl_err("cannot read the logs of %s: %s", w->cfg.id, wm_strerror(err));
        rc = WMCTL_FAIL;
    }
out:
    wm_txn_abort(&t);
    wm_store_close(&s);
    return rc ? rc : l->damaged ? WMCTL_FAIL : WMCTL_OK;
}

/* Parses the options of a listing and loads the book; WMCTL_ codes. */
static int load(wmctl_t *w, int argc, char **argv, const char *cmd, load_t *l)
{
    static const char *const flags[] = {"json", NULL};
    wmctl_opts_t o;
    int rc = wmctl_opts_parse(&o, argc, argv, flags);
    if (rc)
        return rc;
    l->json = wmctl_flag(&o, "json");
    if ((rc = wmctl_opts_unused(&o, cmd)))
        return rc;
    return load_book(w, l);
}

/* Why the pinned parent's log held here does not let this node take a
 * step on order x (NULL: it may): cancelled, addressed to another, taken
 * by another, or (a completion) not accepted here first. */
static const char *step_refusal(const wm_order_t *x, const char *self, int done, char *buf,
                                size_t cap)
{
    if (x->state == WM_ORDER_CANCELLED)
        return _("it was cancelled");
    if (x->to[0] && strcmp(x->to, self)) {
        snprintf(buf, cap, _("it is addressed to %s"), x->to);
        return buf;
    }
    if (x->station[0] && strcmp(x->station, self)) {
        snprintf(buf, cap, _("it was taken by %s"), x->station);
        return buf;
    }
    if (done && x->state == WM_ORDER_DISPATCHED)
        return _("this station has not accepted it (wmctl order accept ID first)");
    return NULL;
}

int wmctl_order_check(wmctl_t *w, const wmctl_ref_t *id, int done)
{
    wm_ident_t *pin = malloc(sizeof *pin); /* two lines of text: not on the stack */
    char why[WM_WHY_MAX], idtext[WM_ORDER_ID_MAX];
    load_t l = {.book = WM_ORDERS_INIT};
    int rc = pin ? WMCTL_OK : WMCTL_FAIL;
    if (rc || (rc = wmctl_config(w)) ||
        wm_ident_pin_read(&w->cfg, pin, why, sizeof why) != WM_OK || strcmp(pin->node, id->log))
        goto out; /* no parent pinned, or another log's order: nothing to check it against */
    l.probe = pin->node;
    if ((rc = load_book(w, &l)) || !l.probe_held)
        goto out; /* the parent's log is not held (yet): the parent decides */
    const wm_order_t *x = wm_orders_find(&l.book, id->log, id->epoch, id->seq);
    const char *no = x ? step_refusal(x, w->cfg.id, done, why, sizeof why) : NULL;
    wm_order_id(id->log, id->epoch, id->seq, idtext);
    if (!x)
        wmctl_reject("id", _("the log of %s held here has no order %s (wmctl order list shows "
                             "the orders of this node)"), pin->node, idtext);
    else if (no && done)
        wmctl_reject("id", _("order %s cannot be completed here: %s"), idtext, no);
    else if (no)
        wmctl_reject("id", _("order %s cannot be accepted here: %s"), idtext, no);
    rc = !x || no ? WMCTL_USAGE : WMCTL_OK;
out:
    wm_orders_free(&l.book);
    free(l.mine);
    free(pin);
    return rc;
}

static void put_line(json_t *o)
{
    char *s = json_dumps(o, JSON_COMPACT);
    if (s)
        puts(s);
    free(s);
    json_decref(o);
}

/* What a node lists (the whole logs it holds are filtered here): the
 * orders of its own log; at a child, from its parent's log, those
 * addressed to it, open, taken by it, or answering one of its needs. */
static int shown(const load_t *l, const wm_order_t *x)
{
    const char *self = l->self;
    int mine = 0;
    for (size_t i = 0; i < l->n_mine && !mine; i++)
        mine = !strcmp(l->mine[i].log, x->log) && l->mine[i].epoch == x->epoch &&
               l->mine[i].seq == x->seq;
    return mine || !strcmp(x->log, self) || !strcmp(x->to, self) || !x->to[0] ||
           !strcmp(x->station, self);
}

static void print_order(const load_t *l, const wm_order_t *x, uint32_t today)
{
    char id[WM_ORDER_ID_MAX], due[11], cols[256];
    wm_order_id(x->log, x->epoch, x->seq, id);
    wm_date_format(x->due, due);
    const char *state = wm_order_state_for(x, today, l->self);
    if (l->json) {
        put_line(json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "id", id, "title", x->title,
                           "state", state, "due", due, "to", x->to, "station", x->station,
                           "from_order", x->from));
        return;
    }
    printf("%-24s %-10s %s  %s %s%s%s\n", id, state, due,
           wmctl_cols(x->title, 24, cols, sizeof cols),
           x->station[0] ? x->station : x->to[0] ? x->to : _("(open)"), x->from[0] ? " <- " : "",
           x->from);
}

int wmctl_order_list(wmctl_t *w, int argc, char **argv)
{
    load_t l = {.book = WM_ORDERS_INIT};
    int rc = load(w, argc, argv, "order list", &l);
    uint32_t today = wm_date_today();
    for (size_t i = 0; rc == WMCTL_OK && i < l.book.n; i++)
        if (shown(&l, &l.book.v[i]))
            print_order(&l, &l.book.v[i], today);
    wm_orders_free(&l.book);
    free(l.mine);
    return rc;
}

int wmctl_need_list(wmctl_t *w, int argc, char **argv)
{
    load_t l = {.book = WM_ORDERS_INIT};
    int rc = load(w, argc, argv, "need list", &l);
    for (size_t i = 0; rc == WMCTL_OK && i < l.book.n_needs; i++) {
        const wm_need_t *x = &l.book.needs[i];
        char id[WM_ORDER_ID_MAX], day[11], cols[256];
        wm_order_id(x->log, x->epoch, x->seq, id);
        wm_date_format(x->date, day);
        if (l.json)
            put_line(json_pack("{s:s, s:s, s:s, s:s, s:s}", "id", id, "station", x->log, "title",
                               x->title, "state", wm_need_state(x), "date", day));
        else
            printf("%-24s %-9s %s  %s\n", id, wm_need_state(x), day,
                   wmctl_cols(x->title, 24, cols, sizeof cols));
    }
    wm_orders_free(&l.book);
    free(l.mine);
    return rc;
}

static int each_notice(void *ctx, const wm_record_t *r)
{
    const load_t *l = ctx;
    if (r->body_case != WM__RECORD__BODY_NOTICE)
        return 0;
    const Wm__Notice *n = r->notice;
    const char *to = n->audience ? n->audience : "";
    if (to[0] && strcmp(to, l->self) && strcmp(r->station, l->self))
        return 0; /* to another child */
    char id[WM_ORDER_ID_MAX], day[11];
    wm_order_id(r->station, r->epoch, r->seq, id);
    wm_date_format(n->date, day);
    if (l->json)
        put_line(json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "id", id, "from", r->station,
                           "date", day, "title", n->title ? n->title : "", "body",
                           n->body ? n->body : "", "to", to));
    else
        printf("%s  %s  %s\n  %s\n", day, r->station, n->title ? n->title : "",
               n->body ? n->body : "");
    return 0;
}

int wmctl_notice_list(wmctl_t *w, int argc, char **argv)
{
    load_t l = {.book = WM_ORDERS_INIT, .each = each_notice};
    l.each_ctx = &l;
    int rc = load(w, argc, argv, "notice list", &l);
    wm_orders_free(&l.book);
    free(l.mine);
    return rc;
}
