/* SPDX-License-Identifier: MIT */
/*
 * wmctl record KIND — builds a record body from flags, checks it with the
 * same content rules the daemon applies (so a mistake is named before the
 * network is involved), and hands it to the daemon, which checks the
 * context (teams, void targets), signs and appends it durably.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wm_date.h"
#include "wm_i18n.h"
#include "wm_record.h"
#include "wm_validate.h"
#include "wmctl.h"

/* A rejected flag: names it, exit code 2. fmt (translated by the caller)
 * takes val as its one %s. */
static int bad(const char *flag, const char *fmt, const char *val)
{
    fputs("wmctl: ", stderr);
    fprintf(stderr, _("rejected: --%s: "), flag);
    fprintf(stderr, fmt, val ? val : "");
    fputc('\n', stderr);
    return WMCTL_USAGE;
}

static int need(wmctl_opts_t *o, const char *flag, const char **out)
{
    *out = wmctl_opt(o, flag);
    if (!*out)
        return bad(flag, _("--%s is required"), flag);
    return WMCTL_OK;
}

static int get_date(wmctl_opts_t *o, const char *flag, uint32_t *out)
{
    const char *v;
    int rc = need(o, flag, &v);
    if (rc)
        return rc;
    if (wm_date_parse(v, out) != WM_OK)
        return bad(flag, _("\"%s\" is not a date in the form YYYY-MM-DD"), v);
    return WMCTL_OK;
}

/* A whole number >= 0: digits only, no sign, no fraction. */
static int parse_count(const char *flag, const char *v, uint64_t max, uint64_t *out)
{
    char *end = NULL;
    if (!v[0] || strspn(v, "0123456789") != strlen(v))
        return bad(flag, _("\"%s\" is not a whole number of 0 or more"), v);
    errno = 0;
    unsigned long long x = strtoull(v, &end, 10);
    if (errno || x > max)
        return bad(flag, _("\"%s\" is too large"), v);
    *out = x;
    return WMCTL_OK;
}

static int get_count(wmctl_opts_t *o, const char *flag, int required, uint32_t *out)
{
    const char *v = wmctl_opt(o, flag);
    uint64_t x = 0;
    if (!v)
        return required ? bad(flag, _("--%s is required"), flag) : WMCTL_OK;
    int rc = parse_count(flag, v, WM_COUNT_MAX, &x);
    *out = (uint32_t)x;
    return rc;
}

/* A decimal with at most two places, as hundredths (hours, yuan). */
static int get_hundredths(wmctl_opts_t *o, const char *flag, int required, uint64_t max,
                          uint64_t *out)
{
    const char *v = wmctl_opt(o, flag);
    if (!v)
        return required ? bad(flag, _("--%s is required"), flag) : WMCTL_OK;
    const char *dot = strchr(v, '.');
    size_t ip = dot ? (size_t)(dot - v) : strlen(v), fp = dot ? strlen(dot + 1) : 0;
    if (ip == 0 || ip > 12 || strspn(v, "0123456789") != ip ||
        (dot && (fp == 0 || fp > 2 || strspn(dot + 1, "0123456789") != fp)))
        return bad(flag, _("\"%s\" must be a number of 0 or more with at most two decimals"), v);
    uint64_t x = strtoull(v, NULL, 10) * 100;
    if (dot)
        x += strtoull(dot + 1, NULL, 10) * (fp == 1 ? 10 : 1);
    if (x > max)
        return bad(flag, _("\"%s\" is too large"), v);
    *out = x;
    return WMCTL_OK;
}

static int get_enum(wmctl_opts_t *o, const char *flag, int required,
                    const ProtobufCEnumDescriptor *d, int *out)
{
    const char *v = wmctl_opt(o, flag);
    char list[256];
    if (!v)
        return required ? bad(flag, _("--%s is required"), flag) : WMCTL_OK;
    if (wm_enum_parse(d, v, out) != WM_OK) {
        wmctl_reject(flag, "\"%s\" is not one of %s", v, wm_enum_list(d, list, sizeof list));
        return WMCTL_USAGE;
    }
    return WMCTL_OK;
}

static int get_text(wmctl_opts_t *o, const char *flag, int required, char **out)
{
    const char *v = wmctl_opt(o, flag);
    if (!v)
        return required ? bad(flag, _("--%s is required"), flag) : WMCTL_OK;
    *out = (char *)v;
    return WMCTL_OK;
}

#define TRY(x)                                                                                \
    do {                                                                                      \
        int rc_ = (x);                                                                        \
        if (rc_)                                                                              \
            return rc_;                                                                       \
    } while (0)

static int build_activity(wmctl_opts_t *o, Wm__Record *r)
{
    static Wm__Activity a = WM__ACTIVITY__INIT;
    static const char *tags[16];
    int cat = 0, sk = 0;
    uint64_t hours = 0;
    r->body_case = WM__RECORD__BODY_ACTIVITY;
    r->activity = &a;
    TRY(get_date(o, "date", &a.date));
    TRY(get_enum(o, "category", 1, &wm__category__descriptor, &cat));
    TRY(get_enum(o, "service-kind", 0, &wm__service_kind__descriptor, &sk));
    a.category = cat;
    a.service_kind = sk;
    TRY(get_text(o, "title", 1, &a.title));
    TRY(get_text(o, "place", 0, &a.place));
    TRY(get_text(o, "team", 0, &a.team));
    TRY(get_count(o, "participants", 0, &a.participants));
    TRY(get_count(o, "volunteers", 0, &a.volunteers));
    TRY(get_hundredths(o, "hours", 0, (uint64_t)WM_COUNT_MAX, &hours));
    a.hours_x100 = (uint32_t)hours;
    int nf = wmctl_opt_all(o, "festival", tags, 16);
    int nt = wmctl_opt_all(o, "tag", nf < 16 ? tags + nf : tags, 16 - (nf < 16 ? nf : 16));
    if (nf + nt > 16)
        return bad("festival", _("at most 16 festival/theme tags%s"), "");
    a.n_tags = (size_t)(nf + nt);
    a.tags = (char **)tags;
    return WMCTL_OK;
}

static int build_publicity(wmctl_opts_t *o, Wm__Record *r)
{
    static Wm__Publicity p = WM__PUBLICITY__INIT;
    int ch = 0;
    r->body_case = WM__RECORD__BODY_PUBLICITY;
    r->publicity = &p;
    TRY(get_date(o, "date", &p.date));
    TRY(get_enum(o, "channel", 1, &wm__channel__descriptor, &ch));
    p.channel = ch;
    return get_count(o, "count", 1, &p.count);
}

static int build_volunteers(wmctl_opts_t *o, Wm__Record *r)
{
    static Wm__Volunteers v = WM__VOLUNTEERS__INIT;
    r->body_case = WM__RECORD__BODY_VOLUNTEERS;
    r->volunteers = &v;
    TRY(get_date(o, "date", &v.date));
    TRY(get_count(o, "registered", 0, &v.registered));
    TRY(get_count(o, "verified", 0, &v.verified));
    if (!wmctl_opt(o, "registered") && !wmctl_opt(o, "verified"))
        return bad("registered", _("give --registered N, --verified N or both%s"), "");
    return WMCTL_OK;
}

static int build_recruitment(wmctl_opts_t *o, Wm__Record *r)
{
    static Wm__Recruitment v = WM__RECRUITMENT__INIT;
    r->body_case = WM__RECORD__BODY_RECRUITMENT;
    r->recruitment = &v;
    TRY(get_date(o, "date", &v.date));
    return get_count(o, "count", 1, &v.count);
}

static int build_team(wmctl_opts_t *o, Wm__Record *r)
{
    static Wm__Team t = WM__TEAM__INIT;
    int kind = 0;
    r->body_case = WM__RECORD__BODY_TEAM;
    r->team = &t;
    TRY(get_text(o, "team", 1, &t.team));
    if (wmctl_flag(o, "disband")) {
        t.action = WM__TEAM_ACTION__DISBAND;
        return get_text(o, "name", 0, &t.name);
    }
    /* create or rename: the daemon knows whether the team exists */
    TRY(get_text(o, "name", 1, &t.name));
    TRY(get_enum(o, "kind", 0, &wm__team_kind__descriptor, &kind));
    t.kind = kind;
    return get_text(o, "trade", 0, &t.trade);
}

static int build_funding(wmctl_opts_t *o, Wm__Record *r)
{
    static Wm__Funding f = WM__FUNDING__INIT;
    r->body_case = WM__RECORD__BODY_FUNDING;
    r->funding = &f;
    TRY(get_date(o, "date", &f.date));
    TRY(get_hundredths(o, "yuan", 1, (uint64_t)WM_COUNT_MAX * 100 * 100, &f.fen));
    return get_text(o, "source", 1, &f.source);
}

static int build_site(wmctl_opts_t *o, Wm__Record *r)
{
    static Wm__SiteChecklist s = WM__SITE_CHECKLIST__INIT;
    r->body_case = WM__RECORD__BODY_SITE;
    r->site = &s;
    TRY(get_date(o, "date", &s.date));
    s.plaque = wmctl_flag(o, "plaque");
    s.rules = wmctl_flag(o, "rules");
    s.equipment = wmctl_flag(o, "equipment");
    s.manager = wmctl_flag(o, "manager");
    s.ledger = wmctl_flag(o, "ledger");
    s.plan = wmctl_flag(o, "plan");
    s.theme = wmctl_flag(o, "theme");
    s.model_station = wmctl_flag(o, "model");
    return WMCTL_OK;
}

static int build_plan(wmctl_opts_t *o, Wm__Record *r)
{
    static Wm__Plan p = WM__PLAN__INIT;
    r->body_case = WM__RECORD__BODY_PLAN;
    r->plan = &p;
    TRY(get_text(o, "title", 1, &p.title));
    return get_date(o, "due", &p.due);
}

static int get_seq(wmctl_opts_t *o, const char *flag, uint64_t *seq, uint32_t *epoch)
{
    const char *v;
    uint64_t e = 0;
    TRY(need(o, flag, &v));
    TRY(parse_count(flag, v, UINT64_MAX / 2, seq));
    const char *ev = wmctl_opt(o, "epoch");
    if (ev)
        TRY(parse_count("epoch", ev, UINT32_MAX, &e));
    *epoch = (uint32_t)e;
    return WMCTL_OK;
}

static int build_plan_done(wmctl_opts_t *o, Wm__Record *r)
{
    static Wm__PlanDone d = WM__PLAN_DONE__INIT;
    r->body_case = WM__RECORD__BODY_PLAN_DONE;
    r->plan_done = &d;
    TRY(get_seq(o, "plan", &d.plan_seq, &d.plan_epoch));
    return get_date(o, "date", &d.date);
}

static int build_void(wmctl_opts_t *o, Wm__Record *r)
{
    static Wm__Void v = WM__VOID__INIT;
    r->body_case = WM__RECORD__BODY_VOID;
    r->void_ = &v;
    TRY(get_seq(o, "seq", &v.target_seq, &v.target_epoch));
    return get_text(o, "reason", 1, &v.reason);
}

static const struct {
    const char *kind;
    int (*build)(wmctl_opts_t *o, Wm__Record *r);
    const char *flags;
} kinds[] = {
    {"activity", build_activity,
     "--date D --category CAT --title T [--service-kind K] [--team TEAM] [--participants N] "
     "[--volunteers N] [--hours H] [--place P] [--festival F]..."},
    {"publicity", build_publicity, "--date D --channel wechat|website|poster|leaflet --count N"},
    {"volunteers", build_volunteers, "--date D --registered N --verified N"},
    {"recruitment", build_recruitment, "--date D --count N"},
    {"team", build_team, "--team TEAM --name NAME [--kind general|branch] [--trade T] [--disband]"},
    {"funding", build_funding, "--date D --yuan AMOUNT --source S"},
    {"site", build_site,
     "--date D [--plaque] [--rules] [--equipment] [--manager] [--ledger] [--plan] [--theme] [--model]"},
    {"plan", build_plan, "--title T --due D"},
    {"plan-done", build_plan_done, "--plan SEQ [--epoch E] --date D"},
    {"void", build_void, "--seq N [--epoch E] --reason R"},
};

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

static const char *const flag_names[] = {"disband", "plaque", "rules", "ledger", "equipment",
                                         "manager", "plan",   "theme", "model",  "json",
                                         NULL};

int cmd_record(wmctl_t *w, int argc, char **argv)
{
    if (argc < 2) {
        fputs(_("usage: wmctl record KIND [options]; kinds:\n"), stderr);
        for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
            fprintf(stderr, "  %-12s %s\n", kinds[i].kind, kinds[i].flags);
        return WMCTL_USAGE;
    }
    size_t k = 0;
    while (k < sizeof kinds / sizeof kinds[0] && strcmp(kinds[k].kind, argv[1]) != 0)
        k++;
    if (k == sizeof kinds / sizeof kinds[0]) {
        wmctl_err("record: unknown kind \"%s\" (see wmctl record)", argv[1]);
        return WMCTL_USAGE;
    }
    /* "--plan" is a flag for site, a value for plan-done. */
    const char *const *flags = strcmp(argv[1], "plan-done") == 0 ? flag_names + 7 : flag_names;
    wmctl_opts_t o;
    int rc = wmctl_opts_parse(&o, argc - 2, argv + 2, flags);
    if (rc)
        return rc;
    int json = wmctl_flag(&o, "json");
    Wm__Record body = WM__RECORD__INIT;
    if ((rc = kinds[k].build(&o, &body)))
        return rc;
    char cmd[64];
    snprintf(cmd, sizeof cmd, "record %s", kinds[k].kind);
    if ((rc = wmctl_opts_unused(&o, cmd)))
        return rc;
    wm_reject_t rej;
    if (wm_validate_body(&body, wm_date_today_checked(), &rej) != WM_OK) {
        wmctl_reject(rej.field, "%s", rej.why);
        return WMCTL_USAGE;
    }
    if ((rc = wmctl_config(w)))
        return rc;
    Wm__CtlRequest req = WM__CTL_REQUEST__INIT;
    Wm__CtlReply *rep = NULL;
    req.op_case = WM__CTL_REQUEST__OP_APPEND;
    req.append = &body;
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
    if (json)
        printf("{\"kind\":\"%s\",\"epoch\":%" PRIu32 ",\"seq\":%" PRIu64 "}\n",
               wm_record_kind(&body), rep->epoch, rep->seq);
    else
        printf(_("recorded %s as seq %" PRIu64 " (epoch %" PRIu32 ")\n"), kind_label(kinds[k].kind),
               rep->seq, rep->epoch);
    wm_pb_free(&rep);
    return WMCTL_OK;
}
