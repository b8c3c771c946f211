/* SPDX-License-Identifier: MIT */
/*
 * wm_recargs — a record body from named values: the flag table of
 * `wmctl record` and of wmweb's record form (see wm_recargs.h).
 */
#include "wm_recargs.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wm_date.h"
#include "wm_i18n.h"

/* A rejected flag: names it. fmt (translated by the caller: wmctl's
 * language; wmweb stays in the C locale and translates per request with
 * its own table) takes val as its one %s. Always WM_EINVAL. */
static wm_err_t bad(wm_reject_t *rej, const char *flag, const char *fmt, const char *val)
{
    snprintf(rej->field, sizeof rej->field, "%s", flag);
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
    snprintf(rej->why, sizeof rej->why, fmt, val ? val : "");
#pragma GCC diagnostic pop
    return WM_EINVAL;
}

static wm_err_t need(wm_opts_t *o, const char *flag, const char **out, wm_reject_t *rej)
{
    *out = wm_opt(o, flag);
    if (!*out)
        return bad(rej, flag, _("--%s is required"), flag);
    return WM_OK;
}

static wm_err_t get_date(wm_opts_t *o, const char *flag, uint32_t *out, wm_reject_t *rej)
{
    const char *v;
    wm_err_t err = need(o, flag, &v, rej);
    if (err)
        return err;
    if (wm_date_parse(v, out) != WM_OK)
        return bad(rej, flag, _("\"%s\" is not a date in the form YYYY-MM-DD"), v);
    return WM_OK;
}

/* A whole number >= 0: digits only, no sign, no fraction. */
static wm_err_t parse_count(const char *flag, const char *v, uint64_t max, uint64_t *out,
                            wm_reject_t *rej)
{
    char *end = NULL;
    if (!v[0] || strspn(v, "0123456789") != strlen(v))
        return bad(rej, flag, _("\"%s\" is not a whole number of 0 or more"), v);
    errno = 0;
    unsigned long long x = strtoull(v, &end, 10);
    if (errno || x > max)
        return bad(rej, flag, _("\"%s\" is too large"), v);
    *out = x;
    return WM_OK;
}

static wm_err_t get_count(wm_opts_t *o, const char *flag, int required, uint32_t *out,
                          wm_reject_t *rej)
{
    const char *v = wm_opt(o, flag);
    uint64_t x = 0;
    if (!v)
        return required ? bad(rej, flag, _("--%s is required"), flag) : WM_OK;
    wm_err_t err = parse_count(flag, v, WM_COUNT_MAX, &x, rej);
    *out = (uint32_t)x;
    return err;
}

/* A decimal with at most two places, as hundredths (hours, yuan). */
static wm_err_t get_hundredths(wm_opts_t *o, const char *flag, int required, uint64_t max,
                               uint64_t *out, wm_reject_t *rej)
{
    const char *v = wm_opt(o, flag);
    if (!v)
        return required ? bad(rej, flag, _("--%s is required"), flag) : WM_OK;
    const char *dot = strchr(v, '.');
    size_t ip = dot ? (size_t)(dot - v) : strlen(v), fp = dot ? strlen(dot + 1) : 0;
    if (ip == 0 || ip > 12 || strspn(v, "0123456789") != ip ||
        (dot && (fp == 0 || fp > 2 || strspn(dot + 1, "0123456789") != fp)))
        return bad(rej, flag, _("\"%s\" must be a number of 0 or more with at most two decimals"),
                   v);
    uint64_t x = strtoull(v, NULL, 10) * 100;
    if (dot)
        x += strtoull(dot + 1, NULL, 10) * (fp == 1 ? 10 : 1);
    if (x > max)
        return bad(rej, flag, _("\"%s\" is too large"), v);
    *out = x;
    return WM_OK;
}

static wm_err_t get_enum(wm_opts_t *o, const char *flag, int required,
                         const ProtobufCEnumDescriptor *d, int *out, wm_reject_t *rej)
{
    const char *v = wm_opt(o, flag);
    char list[256];
    if (!v)
        return required ? bad(rej, flag, _("--%s is required"), flag) : WM_OK;
    if (wm_enum_parse(d, v, out) != WM_OK) {
        snprintf(rej->field, sizeof rej->field, "%s", flag);
        snprintf(rej->why, sizeof rej->why, _("\"%s\" is not one of %s"), v,
                 wm_enum_list(d, list, sizeof list));
        return WM_EINVAL;
    }
    return WM_OK;
}

static wm_err_t get_text(wm_opts_t *o, const char *flag, int required, char **out,
                         wm_reject_t *rej)
{
    const char *v = wm_opt(o, flag);
    if (!v)
        return required ? bad(rej, flag, _("--%s is required"), flag) : WM_OK;
    *out = (char *)v;
    return WM_OK;
}

#define TRY(x)                                                                                \
    do {                                                                                      \
        wm_err_t err_ = (x);                                                                  \
        if (err_)                                                                             \
            return err_;                                                                      \
    } while (0)

static wm_err_t build_activity(wm_opts_t *o, wm_recbody_t *b, wm_reject_t *rej)
{
    Wm__Activity *a = &b->activity;
    int cat = 0, sk = 0;
    uint64_t hours = 0;
    wm__activity__init(a);
    b->rec.body_case = WM__RECORD__BODY_ACTIVITY;
    b->rec.activity = a;
    TRY(get_date(o, "date", &a->date, rej));
    TRY(get_enum(o, "category", 1, &wm__category__descriptor, &cat, rej));
    TRY(get_enum(o, "service-kind", 0, &wm__service_kind__descriptor, &sk, rej));
    a->category = cat;
    a->service_kind = sk;
    TRY(get_text(o, "title", 1, &a->title, rej));
    TRY(get_text(o, "place", 0, &a->place, rej));
    TRY(get_text(o, "team", 0, &a->team, rej));
    TRY(get_count(o, "participants", 0, &a->participants, rej));
    TRY(get_count(o, "volunteers", 0, &a->volunteers, rej));
    TRY(get_hundredths(o, "hours", 0, (uint64_t)WM_COUNT_MAX, &hours, rej));
    a->hours_x100 = (uint32_t)hours;
    int nf = wm_opt_all(o, "festival", b->tags, WM_TAGS_MAX);
    int room = nf < WM_TAGS_MAX ? WM_TAGS_MAX - nf : 0;
    int nt = wm_opt_all(o, "tag", b->tags + (WM_TAGS_MAX - room), room);
    if (nf + nt > WM_TAGS_MAX)
        return bad(rej, "festival", _("at most 16 festival/theme tags%s"), "");
    a->n_tags = (size_t)(nf + nt);
    a->tags = (char **)b->tags;
    return WM_OK;
}

static wm_err_t build_publicity(wm_opts_t *o, wm_recbody_t *b, wm_reject_t *rej)
{
    Wm__Publicity *p = &b->publicity;
    int ch = 0;
    wm__publicity__init(p);
    b->rec.body_case = WM__RECORD__BODY_PUBLICITY;
    b->rec.publicity = p;
    TRY(get_date(o, "date", &p->date, rej));
    TRY(get_enum(o, "channel", 1, &wm__channel__descriptor, &ch, rej));
    p->channel = ch;
    return get_count(o, "count", 1, &p->count, rej);
}

static wm_err_t build_volunteers(wm_opts_t *o, wm_recbody_t *b, wm_reject_t *rej)
{
    Wm__Volunteers *v = &b->volunteers;
    wm__volunteers__init(v);
    b->rec.body_case = WM__RECORD__BODY_VOLUNTEERS;
    b->rec.volunteers = v;
    TRY(get_date(o, "date", &v->date, rej));
    TRY(get_count(o, "registered", 0, &v->registered, rej));
    TRY(get_count(o, "verified", 0, &v->verified, rej));
    if (!wm_opt(o, "registered") && !wm_opt(o, "verified"))
        return bad(rej, "registered", _("give --registered N, --verified N or both%s"), "");
    return WM_OK;
}

static wm_err_t build_recruitment(wm_opts_t *o, wm_recbody_t *b, wm_reject_t *rej)
{
    Wm__Recruitment *v = &b->recruitment;
    wm__recruitment__init(v);
    b->rec.body_case = WM__RECORD__BODY_RECRUITMENT;
    b->rec.recruitment = v;
    TRY(get_date(o, "date", &v->date, rej));
    return get_count(o, "count", 1, &v->count, rej);
}

static wm_err_t build_team(wm_opts_t *o, wm_recbody_t *b, wm_reject_t *rej)
{
    Wm__Team *t = &b->team;
    int kind = 0;
    wm__team__init(t);
    b->rec.body_case = WM__RECORD__BODY_TEAM;
    b->rec.team = t;
    TRY(get_text(o, "team", 1, &t->team, rej));
    if (wm_flag(o, "disband")) {
        t->action = WM__TEAM_ACTION__DISBAND;
        return get_text(o, "name", 0, &t->name, rej);
    }
    /* create or rename: the daemon knows whether the team exists */
    TRY(get_text(o, "name", 1, &t->name, rej));
    TRY(get_enum(o, "kind", 0, &wm__team_kind__descriptor, &kind, rej));
    t->kind = kind;
    return get_text(o, "trade", 0, &t->trade, rej);
}

static wm_err_t build_funding(wm_opts_t *o, wm_recbody_t *b, wm_reject_t *rej)
{
    Wm__Funding *f = &b->funding;
    wm__funding__init(f);
    b->rec.body_case = WM__RECORD__BODY_FUNDING;
    b->rec.funding = f;
    TRY(get_date(o, "date", &f->date, rej));
    TRY(get_hundredths(o, "yuan", 1, (uint64_t)WM_COUNT_MAX * 100 * 100, &f->fen, rej));
    return get_text(o, "source", 1, &f->source, rej);
}

static wm_err_t build_site(wm_opts_t *o, wm_recbody_t *b, wm_reject_t *rej)
{
    Wm__SiteChecklist *s = &b->site;
    wm__site_checklist__init(s);
    b->rec.body_case = WM__RECORD__BODY_SITE;
    b->rec.site = s;
    TRY(get_date(o, "date", &s->date, rej));
    s->plaque = wm_flag(o, "plaque");
    s->rules = wm_flag(o, "rules");
    s->equipment = wm_flag(o, "equipment");
    s->manager = wm_flag(o, "manager");
    s->ledger = wm_flag(o, "ledger");
    s->plan = wm_flag(o, "plan");
    s->theme = wm_flag(o, "theme");
    s->model_station = wm_flag(o, "model");
    return WM_OK;
}

static wm_err_t build_plan(wm_opts_t *o, wm_recbody_t *b, wm_reject_t *rej)
{
    Wm__Plan *p = &b->plan;
    wm__plan__init(p);
    b->rec.body_case = WM__RECORD__BODY_PLAN;
    b->rec.plan = p;
    TRY(get_text(o, "title", 1, &p->title, rej));
    return get_date(o, "due", &p->due, rej);
}

static wm_err_t get_seq(wm_opts_t *o, const char *flag, uint64_t *seq, uint32_t *epoch,
                        wm_reject_t *rej)
{
    const char *v;
    uint64_t e = 0;
    TRY(need(o, flag, &v, rej));
    TRY(parse_count(flag, v, UINT64_MAX / 2, seq, rej));
    const char *ev = wm_opt(o, "epoch");
    if (ev)
        TRY(parse_count("epoch", ev, UINT32_MAX, &e, rej));
    *epoch = (uint32_t)e;
    return WM_OK;
}

static wm_err_t build_plan_done(wm_opts_t *o, wm_recbody_t *b, wm_reject_t *rej)
{
    Wm__PlanDone *d = &b->plan_done;
    wm__plan_done__init(d);
    b->rec.body_case = WM__RECORD__BODY_PLAN_DONE;
    b->rec.plan_done = d;
    TRY(get_seq(o, "plan", &d->plan_seq, &d->plan_epoch, rej));
    return get_date(o, "date", &d->date, rej);
}

static wm_err_t build_void(wm_opts_t *o, wm_recbody_t *b, wm_reject_t *rej)
{
    Wm__Void *v = &b->void_;
    wm__void__init(v);
    b->rec.body_case = WM__RECORD__BODY_VOID;
    b->rec.void_ = v;
    TRY(get_seq(o, "seq", &v->target_seq, &v->target_epoch, rej));
    return get_text(o, "reason", 1, &v->reason, rej);
}

typedef wm_err_t (*build_fn)(wm_opts_t *o, wm_recbody_t *b, wm_reject_t *rej);

static const char *const no_bools[] = {NULL};
static const char *const team_bools[] = {"disband", NULL};
static const char *const site_bools[] = {"plaque", "rules", "ledger", "equipment", "manager",
                                         "plan",   "theme", "model",  NULL};

static const wm_recargs_kind_t kinds[] = {
    {"activity",
     "--date D --category CAT --title T [--service-kind K] [--team TEAM] [--participants N] "
     "[--volunteers N] [--hours H] [--place P] [--festival F]... [--photo FILE]... "
     "[--attach FILE]",
     no_bools},
    {"publicity", "--date D --channel wechat|website|poster|leaflet --count N", no_bools},
    {"volunteers", "--date D --registered N --verified N", no_bools},
    {"recruitment", "--date D --count N", no_bools},
    {"team", "--team TEAM --name NAME [--kind general|branch] [--trade T] [--disband]",
     team_bools},
    {"funding", "--date D --yuan AMOUNT --source S", no_bools},
    {"site",
     "--date D [--plaque] [--rules] [--equipment] [--manager] [--ledger] [--plan] [--theme] "
     "[--model]",
     site_bools},
    {"plan", "--title T --due D", no_bools},
    {"plan-done", "--plan SEQ [--epoch E] --date D", no_bools},
    {"void", "--seq N [--epoch E] --reason R", no_bools},
};

static const build_fn builders[] = {build_activity, build_publicity, build_volunteers,
                                    build_recruitment, build_team,   build_funding,
                                    build_site,     build_plan,      build_plan_done,
                                    build_void};

const wm_recargs_kind_t *wm_recargs_kinds(size_t *n)
{
    *n = sizeof kinds / sizeof kinds[0];
    return kinds;
}

const wm_recargs_kind_t *wm_recargs_kind(const char *name)
{
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
        const char *k = kinds[i].kind;
        size_t j = 0;
        while (k[j] && (name[j] == k[j] || (k[j] == '-' && name[j] == '_')))
            j++;
        if (!k[j] && !name[j])
            return &kinds[i];
    }
    return NULL;
}

wm_err_t wm_recargs_build(const wm_recargs_kind_t *k, wm_opts_t *opts, wm_recbody_t *b,
                          wm_reject_t *rej)
{
    _Static_assert(sizeof builders / sizeof builders[0] == sizeof kinds / sizeof kinds[0],
                   "one builder per kind");
    size_t i = (size_t)(k - kinds);
    if (i >= sizeof kinds / sizeof kinds[0])
        return WM_EINVAL;
    memset(b, 0, sizeof *b);
    wm__record__init(&b->rec);
    return builders[i](opts, b, rej);
}
