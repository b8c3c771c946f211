/* SPDX-License-Identifier: MIT */
/*
 * wmctl record KIND — builds a record body from flags (client/wm_recargs.c,
 * the table wmweb shares), checks it with the
 * same content rules the daemon applies (so a mistake is named before the
 * network is involved), and hands it to the daemon, which checks the
 * context (teams, void targets), signs and appends it durably.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "evidence.h"
#include "wm_date.h"
#include "wm_i18n.h"
#include "wm_recargs.h"
#include "wm_record.h"
#include "wm_validate.h"
#include "wmctl.h"

/* A kind as the reader names it ("activity", 活动); the slug itself in
 * JSON and wherever a kind is typed. */
static const char *kind_label(const char *kind)
{
    static const char *const slugs[] = {"activity", "publicity", "volunteers", "recruitment",
                                        "team",     "funding",   "site",       "plan",
                                        "plan-done", "void"};
    const char *labels[] = {C_("record kind", "activity"),  C_("record kind", "publicity"),
                            C_("record kind", "volunteers"), C_("record kind", "recruitment"),
                            C_("record kind", "team"),      C_("record kind", "funding"),
                            C_("record kind", "site"),      C_("record kind", "plan"),
                            C_("record kind", "plan-done"), C_("record kind", "void")};
    for (size_t i = 0; i < sizeof slugs / sizeof slugs[0]; i++)
        if (strcmp(slugs[i], kind) == 0)
            return labels[i];
    return kind;
}

/* Flags that take no value on the command line ("--plan" is a flag for
 * site, a value for plan-done). */
static const char *const flag_names[] = {"disband", "plaque", "rules", "ledger", "equipment",
                                         "manager", "plan",   "theme", "model",  "json",
                                         NULL};

/* A clock before 2020 lost its time (a dead clock battery): the record is
 * kept and syncs, but its capture time is wrong; the operator is told at
 * once, on stderr (PROTOCOL.md §3, Late entries and wrong clocks). */
static void warn_clock(void)
{
    time_t now = time(NULL);
    if (now >= WM_CLOCK_FLOOR)
        return;
    struct tm tm;
    char day[16] = "?";
    if (localtime_r(&now, &tm))
        strftime(day, sizeof day, "%Y-%m-%d", &tm);
    fprintf(stderr, _("wmctl: warning: this computer's clock says %s: set the date and time "
                      "(the record is kept and syncs; the town sees that its capture time is "
                      "wrong)\n"),
            day);
}

int wmctl_append(wmctl_t *w, Wm__Record *body, uint32_t *epoch, uint64_t *seq)
{
    int rc;
    if ((rc = wmctl_config(w)))
        return rc;
    Wm__CtlRequest req = WM__CTL_REQUEST__INIT;
    Wm__CtlReply *rep = NULL;
    req.op_case = WM__CTL_REQUEST__OP_APPEND;
    req.append = body;
    wm_err_t err = wmctl_call(w, &req, &rep);
    if (err == WM_EPERM) /* wmctl_call said why; nothing was sent */
        return WMCTL_FAIL;
    if (err == WM_EDOWN && w->lost) {
        wmctl_err("the wmsyncd daemon for %s stopped while recording; the record may or may "
                  "not have been stored: check with wmctl log before recording it again",
                  w->cfg.id);
        return WMCTL_FAIL;
    }
    if (err == WM_EDOWN) {
        wmctl_err("the wmsyncd daemon for %s is not running, so nothing was recorded. "
                  "Start it (systemctl start wmsyncd, or wmsyncd -c %s) and try again",
                  w->cfg.id, w->cfg.path);
        return WMCTL_FAIL;
    }
    if (err != WM_OK) {
        wmctl_err("no answer from the daemon (%s); the record may or may not have been "
                  "stored: check with wmctl log before recording it again",
                  wm_strerror(err));
        return WMCTL_FAIL;
    }
    if (rep->error && rep->error[0]) {
        int usage = strcmp(rep->error, "invalid") == 0;
        if (usage)
            wmctl_reject(rep->field, "%s", rep->message);
        else
            wmctl_err("the daemon could not record it: %s", rep->message);
        wm_pb_free(&rep);
        return usage ? WMCTL_USAGE : WMCTL_FAIL;
    }
    *epoch = rep->epoch, *seq = rep->seq;
    wm_pb_free(&rep);
    return WMCTL_OK;
}

int cmd_record(wmctl_t *w, int argc, char **argv)
{
    size_t nk = 0;
    const wm_recargs_kind_t *kinds = wm_recargs_kinds(&nk);
    if (argc < 2) {
        fputs(_("usage: wmctl record KIND [options]; kinds:\n"), stderr);
        for (size_t i = 0; i < nk; i++)
            fprintf(stderr, "  %-12s %s\n", kinds[i].kind, kinds[i].usage);
        return WMCTL_USAGE;
    }
    const wm_recargs_kind_t *k = wm_recargs_kind(argv[1]);
    if (!k || strchr(argv[1], '_')) {
        wmctl_err("record: unknown kind \"%s\" (see wmctl record)", argv[1]);
        return WMCTL_USAGE;
    }
    const char *const *flags = strcmp(argv[1], "plan-done") == 0 ? flag_names + 7 : flag_names;
    wmctl_opts_t o;
    int rc = wmctl_opts_parse(&o, argc - 2, argv + 2, flags);
    if (rc)
        return rc;
    int json = wmctl_flag(&o, "json");
    wm_recbody_t b;
    wm_reject_t rej;
    evidence_t ev = {0};
    if (wm_recargs_build(k, &o, &b, &rej) != WM_OK) {
        wmctl_reject(rej.field, "%s", rej.why);
        return WMCTL_USAGE;
    }
    char cmd[64];
    snprintf(cmd, sizeof cmd, "record %s", k->kind);
    /* Photos: an activity's only (elsewhere --photo is an unknown option). */
    if (!strcmp(k->kind, "activity") && (rc = evidence_prepare(w, &o, &b, &ev)))
        goto out;
    if ((rc = wmctl_opts_unused(&o, cmd)))
        goto out;
    Wm__Record body = b.rec;
    if (wm_validate_body(&body, wm_date_today_checked(), &rej) != WM_OK) {
        wmctl_reject(rej.field, "%s", rej.why);
        rc = WMCTL_USAGE;
        goto out;
    }
    /* The files are durable at the daemon before the record that names
     * them is appended (evidence.h). */
    if ((rc = evidence_send(w, &ev)))
        goto out;
    uint32_t epoch = 0;
    uint64_t seq = 0;
    if ((rc = wmctl_append(w, &body, &epoch, &seq)))
        goto out;
    if (json)
        printf("{\"kind\":\"%s\",\"epoch\":%" PRIu32 ",\"seq\":%" PRIu64 "}\n",
               wm_record_kind(&body), epoch, seq);
    else
        printf(_("recorded %s as seq %" PRIu64 " (epoch %" PRIu32 ")\n"), kind_label(k->kind),
               seq, epoch);
    warn_clock();
out:
    evidence_free(&ev);
    return rc;
}
