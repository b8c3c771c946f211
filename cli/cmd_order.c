/* SPDX-License-Identifier: MIT */
/*
 * wmctl need / order / notice — the writing half of needs and orders
 * (群众点单、中心派单、站点接单、群众评单): each subcommand builds one record
 * of record.proto 30–39 from flags, checks it with the content rules, and
 * hands it to the daemon like wmctl record (wmctl_append). The listing
 * half is cmd_orderlist.c; the state machine is storage/wm_orders.
 * An order or need is named by its id "LOG:EPOCH:SEQ" (wm_order_id).
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "wm_date.h"
#include "wm_i18n.h"
#include "wm_orders.h"
#include "wm_validate.h"
#include "wmctl.h"
#include "cmd_order.h"

static const char *const flags[] = {"json", "open", "accept", "reject", NULL};

/* --date D, today when absent. */
static int opt_date(wmctl_opts_t *o, uint32_t *out)
{
    const char *v = wmctl_opt(o, "date");
    if (!v) {
        *out = wm_date_today();
        return WMCTL_OK;
    }
    if (wm_date_parse(v, out) != WM_OK) {
        wmctl_reject("date", _("\"%s\" is not a date in the form YYYY-MM-DD"), v);
        return WMCTL_USAGE;
    }
    return WMCTL_OK;
}

static int opt_kind(wmctl_opts_t *o, Wm__ServiceKind *out)
{
    const char *v = wmctl_opt(o, "service-kind");
    int k = 0;
    char list[256];
    if (!v || wm_enum_parse(&wm__service_kind__descriptor, v, &k) != WM_OK) {
        wmctl_reject("service-kind", _("--service-kind must be one of %s"),
                     wm_enum_list(&wm__service_kind__descriptor, list, sizeof list));
        return WMCTL_USAGE;
    }
    *out = (Wm__ServiceKind)k;
    return WMCTL_OK;
}

/* The ID argument of an order or need step. */
static int arg_id(int argc, char **argv, wmctl_ref_t *ref)
{
    if (argc < 1 || argv[0][0] == '-' ||
        wm_order_id_parse(argv[0], ref->log, &ref->epoch, &ref->seq) != WM_OK) {
        wmctl_reject("id", _("give the id as printed by order list or need list "
                             "(STATION:EPOCH:SEQ), got \"%s\""),
                     argc ? argv[0] : "");
        return WMCTL_USAGE;
    }
    return WMCTL_OK;
}

/* Checks body and hands it to the daemon; prints what was recorded. */
static int submit(wmctl_t *w, wmctl_opts_t *o, const char *cmd, Wm__Record *body)
{
    wm_reject_t rej;
    uint32_t epoch = 0;
    uint64_t seq = 0;
    char id[WM_ORDER_ID_MAX];
    int json = wmctl_flag(o, "json");
    int rc = wmctl_opts_unused(o, cmd);
    if (rc)
        return rc;
    if (wm_validate_body(body, wm_date_today_checked(), &rej) != WM_OK) {
        wmctl_reject(rej.field, "%s", rej.why);
        return WMCTL_USAGE;
    }
    if ((rc = wmctl_append(w, body, &epoch, &seq)))
        return rc;
    wm_order_id(w->cfg.id, epoch, seq, id);
    if (json)
        printf("{\"id\":\"%s\",\"kind\":\"%s\",\"epoch\":%" PRIu32 ",\"seq\":%" PRIu64 "}\n",
               id, wm_record_kind(body), epoch, seq);
    else
        printf(_("recorded %s %s\n"), wm_record_kind(body), id);
    return WMCTL_OK;
}

static int need_add(wmctl_t *w, wmctl_opts_t *o)
{
    Wm__Record r = WM__RECORD__INIT;
    Wm__Need n = WM__NEED__INIT;
    char ref[WMCTL_RESIDENT_REF_LEN + 1] = "";
    int rc;
    if ((rc = opt_date(o, &n.date)) || (rc = opt_kind(o, &n.service_kind)))
        return rc;
    n.title = (char *)wmctl_opt(o, "title");
    n.detail = (char *)wmctl_opt(o, "detail");
    const char *who = wmctl_opt(o, "resident"), *phone = wmctl_opt(o, "phone");
    if ((who || phone) && (rc = wmctl_resident_keep(w, who, phone, n.date, ref)))
        return rc;
    n.resident_ref = ref;
    r.body_case = WM__RECORD__BODY_NEED, r.need = &n;
    return submit(w, o, "need add", &r);
}

static int need_review(wmctl_t *w, wmctl_opts_t *o, const wmctl_ref_t *id)
{
    Wm__Record r = WM__RECORD__INIT;
    Wm__NeedReview v = WM__NEED_REVIEW__INIT;
    int rc, acc = wmctl_flag(o, "accept"), rej = wmctl_flag(o, "reject");
    if (acc == rej) {
        wmctl_reject("accept", _("give one of --accept or --reject --reason R"));
        return WMCTL_USAGE;
    }
    if ((rc = opt_date(o, &v.date)))
        return rc;
    v.need_station = (char *)id->log, v.need_epoch = id->epoch, v.need_seq = id->seq;
    v.accept = acc;
    v.reason = (char *)wmctl_opt(o, "reason");
    r.body_case = WM__RECORD__BODY_NEED_REVIEW, r.need_review = &v;
    return submit(w, o, "need review", &r);
}

int cmd_need(wmctl_t *w, int argc, char **argv)
{
    wmctl_opts_t o;
    wmctl_ref_t id;
    const char *sub = argc > 1 ? argv[1] : "";
    int rc, skip = strcmp(sub, "review") == 0 ? 3 : 2;
    if (!strcmp(sub, "list"))
        return wmctl_need_list(w, argc - 2, argv + 2);
    if (strcmp(sub, "add") && strcmp(sub, "review")) {
        wmctl_err("need: give add, list or review (see wmctl help)");
        return WMCTL_USAGE;
    }
    if (skip == 3 && (rc = arg_id(argc - 2, argv + 2, &id)))
        return rc;
    if ((rc = wmctl_opts_parse(&o, argc - skip, argv + skip, flags)))
        return rc;
    return skip == 2 ? need_add(w, &o) : need_review(w, &o, &id);
}

/* --need ID... of order create, into needs[] (each checked). */
static int opt_needs(wmctl_opts_t *o, Wm__ServiceOrder *s, const char **needs)
{
    int n = wmctl_opt_all(o, "need", needs, WM_NEEDS_MAX + 1);
    wmctl_ref_t ref;
    for (int i = 0; i < n && i <= WM_NEEDS_MAX; i++)
        if (wm_order_id_parse(needs[i], ref.log, &ref.epoch, &ref.seq) != WM_OK) {
            wmctl_reject("need", _("\"%s\" is not a need id (STATION:EPOCH:SEQ)"), needs[i]);
            return WMCTL_USAGE;
        }
    s->n_needs = (size_t)(n > WM_NEEDS_MAX ? WM_NEEDS_MAX + 1 : n); /* refused: too many */
    s->needs = (char **)needs;
    return WMCTL_OK;
}

static int order_create(wmctl_t *w, wmctl_opts_t *o)
{
    Wm__Record r = WM__RECORD__INIT;
    Wm__ServiceOrder s = WM__SERVICE_ORDER__INIT;
    const char *needs[WM_NEEDS_MAX + 1];
    const char *due = wmctl_opt(o, "due"), *to = wmctl_opt(o, "to");
    int rc;
    if (!to == !wmctl_flag(o, "open")) {
        wmctl_reject("to", _("give one of --to STATION_ID or --open"));
        return WMCTL_USAGE;
    }
    if (!due || wm_date_parse(due, &s.due) != WM_OK) {
        wmctl_reject("due", _("--due must be a date in the form YYYY-MM-DD"));
        return WMCTL_USAGE;
    }
    if ((rc = opt_date(o, &s.date)) || (rc = opt_kind(o, &s.service_kind)) ||
        (rc = opt_needs(o, &s, needs)))
        return rc;
    const char *from = wmctl_opt(o, "from-order");
    wmctl_ref_t ref;
    if (from && wm_order_id_parse(from, ref.log, &ref.epoch, &ref.seq) != WM_OK) {
        wmctl_reject("from-order", _("\"%s\" is not an order id (LOG:EPOCH:SEQ, as order list "
                                     "prints the parent's orders)"), from);
        return WMCTL_USAGE;
    }
    s.from_order = (char *)(from ? from : "");
    s.title = (char *)wmctl_opt(o, "title");
    s.to_station = (char *)(to ? to : "");
    s.to_team = (char *)wmctl_opt(o, "team");
    r.body_case = WM__RECORD__BODY_SERVICE_ORDER, r.service_order = &s;
    return submit(w, o, "order create", &r);
}

int cmd_order(wmctl_t *w, int argc, char **argv)
{
    wmctl_opts_t o;
    wmctl_ref_t id;
    const char *sub = argc > 1 ? argv[1] : "";
    int rc;
    if (!strcmp(sub, "list"))
        return wmctl_order_list(w, argc - 2, argv + 2);
    if (!strcmp(sub, "create")) {
        if ((rc = wmctl_opts_parse(&o, argc - 2, argv + 2, flags)))
            return rc;
        return order_create(w, &o);
    }
    const wmctl_step_t *step = wmctl_order_step(sub);
    if (!step) {
        wmctl_err("order: give create, list, accept, done, rate or cancel (see wmctl help)");
        return WMCTL_USAGE;
    }
    if ((rc = arg_id(argc - 2, argv + 2, &id)) ||
        (rc = wmctl_opts_parse(&o, argc - 3, argv + 3, flags)))
        return rc;
    Wm__Record r = WM__RECORD__INIT;
    wmctl_step_body_t b;
    uint32_t date = 0;
    if ((rc = opt_date(&o, &date)) || (rc = step->build(&o, &id, date, &r, &b)))
        return rc;
    int done = !strcmp(sub, "done");
    if ((done || !strcmp(sub, "accept")) && (rc = wmctl_order_check(w, &id, done)))
        return rc;
    char cmd[32];
    snprintf(cmd, sizeof cmd, "order %s", sub);
    return submit(w, &o, cmd, &r);
}

int cmd_notice(wmctl_t *w, int argc, char **argv)
{
    wmctl_opts_t o;
    const char *sub = argc > 1 ? argv[1] : "";
    int rc;
    if (!strcmp(sub, "list"))
        return wmctl_notice_list(w, argc - 2, argv + 2);
    if (strcmp(sub, "send")) {
        wmctl_err("notice: give send or list (see wmctl help)");
        return WMCTL_USAGE;
    }
    if ((rc = wmctl_opts_parse(&o, argc - 2, argv + 2, flags)))
        return rc;
    Wm__Record r = WM__RECORD__INIT;
    Wm__Notice n = WM__NOTICE__INIT;
    if ((rc = opt_date(&o, &n.date)))
        return rc;
    n.title = (char *)wmctl_opt(&o, "title");
    n.body = (char *)wmctl_opt(&o, "body");
    n.audience = (char *)wmctl_opt(&o, "to");
    r.body_case = WM__RECORD__BODY_NOTICE, r.notice = &n;
    return submit(w, &o, "notice send", &r);
}
