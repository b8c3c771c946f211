/* SPDX-License-Identifier: MIT */
/*
 * report_text — the rollup as the prose of a progress report, in the voice
 * of section 一 of a town's progress report (docs/design.md §1: publicity,
 * facilities, volunteers and teams, activities, culture and sports at
 * festivals) followed by its section 二
 * (problems, each naming the stations and teams concerned). Chinese or
 * English, same structure. Every number is read from the rollup JSON;
 * none is written here.
 */
#include <inttypes.h>
#include <string.h>

#include "render.h"

#define ZH(lang) (strcmp((lang), "en") != 0)

typedef struct {
    const json_t *j, *t; /* the report and its totals */
    int zh;
    char b[8][96]; /* number buffers, one per placeholder in a sentence */
} ctx_t;

/* A number of totals.path, formatted (thousands separators in English). */
static const char *n(ctx_t *c, int slot, const char *path)
{
    return render_num(render_int(c->t, path), !c->zh, c->b[slot], sizeof c->b[slot]);
}

static const char *nv(ctx_t *c, int slot, int64_t v)
{
    return render_num(v, !c->zh, c->b[slot], sizeof c->b[slot]);
}

/* "1 site" / "2 sites": the number of totals.path with its noun. */
static const char *ns(ctx_t *c, int slot, int64_t v, const char *one, const char *many)
{
    char num[32];
    render_num(v, !c->zh, num, sizeof num);
    snprintf(c->b[slot], sizeof c->b[slot], "%s %s", num, v == 1 ? one : many);
    return c->b[slot];
}

static const char *np(ctx_t *c, int slot, const char *path, const char *one, const char *many)
{
    return ns(c, slot, render_int(c->t, path), one, many);
}

/* Yuan with two decimals; thousands separators in English. */
static const char *money(ctx_t *c, int slot, double yuan)
{
    int neg = yuan < 0;
    int64_t fen = (int64_t)((neg ? -yuan : yuan) * 100.0 + 0.5);
    char whole[40];
    render_num(fen / 100, !c->zh, whole, sizeof whole);
    snprintf(c->b[slot], sizeof c->b[slot], "%s%s.%02d", neg ? "-" : "", whole, (int)(fen % 100));
    return c->b[slot];
}

/* "（主题宣讲3场次、理论教育2场次）" of the nonzero keys of totals.path. */
static void breakdown(FILE *f, ctx_t *c, const char *path, const char *const *keys)
{
    int any = 0;
    char buf[48];
    for (const char *const *k = keys; *k; k++) {
        char p[128];
        snprintf(p, sizeof p, "%s.%s", path, *k);
        int64_t v = render_int(c->t, p);
        if (!v)
            continue;
        const char *label = render_slug_label(*k, c->zh ? "zh" : "en");
        if (c->zh)
            fprintf(f, "%s%s%s场次", any ? "、" : "（", label, render_num(v, 0, buf, sizeof buf));
        else
            fprintf(f, "%s%s: %s", any ? ", " : " (", label, render_num(v, 1, buf, sizeof buf));
        any = 1;
    }
    if (any)
        fputs(c->zh ? "）" : ")", f);
}

static int has_problem(const json_t *j, const char *station, const char *team)
{
    size_t i;
    json_t *p;
    json_array_foreach(json_object_get(j, "problems"), i, p)
    {
        const char *k = json_string_value(json_object_get(p, "kind"));
        const char *s = json_string_value(json_object_get(p, "station"));
        const char *tm = json_string_value(json_object_get(p, "team"));
        if (!k || !s || !tm || strcmp(s, station) != 0 || strcmp(tm, team) != 0)
            continue;
        if (strcmp(k, "team_never_served") == 0 || strcmp(k, "team_below_cadence") == 0)
            return 1;
    }
    return 0;
}

/* Teams that served in the period and met the cadence: a volunteer
 * service to their name and no team_never_served / team_below_cadence
 * problem. by_team keys are "STATION/TEAM" at town scope, "TEAM" for one
 * station. */
static int64_t teams_on_cadence(const json_t *j)
{
    const json_t *by_team =
        json_object_get(json_object_get(json_object_get(j, "totals"), "volunteer_services"),
                        "by_team");
    int town = json_array_size(json_object_get(j, "stations")) > 0;
    const char *own = json_string_value(json_object_get(j, "id"));
    const char *key;
    json_t *v;
    int64_t ok = 0;
    json_object_foreach((json_t *)by_team, key, v)
    {
        char station[256];
        const char *team = key, *slash = strrchr(key, '/');
        snprintf(station, sizeof station, "%s", own ? own : "");
        if (town && slash) {
            snprintf(station, sizeof station, "%.*s", (int)(slash - key), key);
            team = slash + 1;
        }
        if (json_integer_value(v) > 0 && !has_problem(j, station, team))
            ok++;
    }
    return ok;
}

static const char *cadence_phrase(unsigned days, int zh, char *buf, size_t cap)
{
    if (days == 14)
        return zh ? "每两周" : "every two weeks";
    if (days == 7)
        return zh ? "每周" : "every week";
    snprintf(buf, cap, zh ? "每%u天" : "every %u days", days);
    return buf;
}

/* The satisfaction rate in whole percent, from the integer sums (ratings
 * of 4 or 5 among the closed loops), rounded half up. */
static const char *satisfaction(ctx_t *c, int slot)
{
    int64_t loops = render_int(c->t, "orders.loops_closed");
    int64_t sat = render_int(c->t, "orders.ratings_satisfied");
    return nv(c, slot, loops > 0 ? (sat * 200 + loops) / (2 * loops) : 0);
}

static const char *const categories[] = {"theme_lecture", "theory_education", "party_training",
                                         "civilization_practice", "culture_sports", NULL};
static const char *const service_kinds[] = {"environmental", "science", "legal", "campus_safety",
                                            "traffic", "assistance", "other", NULL};
static const char *const problem_order[] = {
    "team_never_served",  "team_below_cadence", "station_no_grassroots_lecture",
    "station_no_activity", "station_not_synced", "late_entries", "activity_without_photo",
    "photo_undated", "photo_date_mismatch", "photo_reused", "photo_near_duplicate",
    "order_overdue", "need_unreviewed", "order_step_not_counted", NULL};

/* 一 … 十 for 1 … 10. */
static const char *zh_num(int n)
{
    static const char *const zh_no[] = {"一", "二", "三", "四", "五", "六",
                                        "七", "八", "九", "十"};
    return n >= 1 && n <= 10 ? zh_no[n - 1] : "";
}

/* Above a county a report lists only its tiers' own problems and counts
 * the rest (problem_counts): one paragraph for what is counted and not
 * listed, by kind. Returns the paragraph number used last. */
static int counted_below(FILE *f, ctx_t *c, int no)
{
    const json_t *counts = json_object_get(c->j, "problem_counts");
    const char *lang = c->zh ? "zh" : "en", *kind;
    json_t *v;
    char num[32];
    int any = 0;
    json_object_foreach((json_t *)counts, kind, v)
    {
        int64_t listed = 0, extra;
        size_t i;
        json_t *p;
        json_array_foreach(json_object_get(c->j, "problems"), i, p)
        {
            const char *k = json_string_value(json_object_get(p, "kind"));
            listed += k && strcmp(k, kind) == 0;
        }
        extra = json_integer_value(v) - listed;
        if (extra <= 0)
            continue;
        if (!any) {
            no++;
            if (c->zh && no <= 10)
                fprintf(f, "（%s）下级报告中的其他问题：", zh_num(no));
            else if (c->zh)
                fprintf(f, "（%d）下级报告中的其他问题：", no);
            else
                fprintf(f, "(%d) Further problems in the reports below: ", no);
        }
        render_num(extra, !c->zh, num, sizeof num);
        fprintf(f, c->zh ? "%s%s%s个" : "%s%s: %s", any ? (c->zh ? "、" : "; ") : "",
                render_problem_kind(kind, lang), num);
        any = 1;
    }
    if (any)
        fputs(c->zh ? "（详见各下级报告）。\n" : " (see the reports of the tiers below).\n", f);
    return no;
}

static void problems(FILE *f, ctx_t *c)
{
    const json_t *ps = json_object_get(c->j, "problems");
    const char *lang = c->zh ? "zh" : "en";
    char text[512];
    int no = 0;
    fputs(c->zh ? "\n二、存在问题\n" : "\n2. Problems\n", f);
    /* One paragraph per kind: the known kinds in a fixed order, then any
     * kind this build does not know, in the order they appear. */
    const char *seen[64];
    size_t nseen = 0;
    for (const char *const *k = problem_order; *k && nseen < 64; k++)
        seen[nseen++] = *k;
    size_t i;
    json_t *p;
    json_array_foreach(ps, i, p)
    {
        const char *k = json_string_value(json_object_get(p, "kind"));
        int known = 0;
        for (size_t s = 0; k && s < nseen; s++)
            known |= strcmp(seen[s], k) == 0;
        if (k && !known && nseen < 64)
            seen[nseen++] = k;
    }
    for (size_t s = 0; s < nseen; s++) {
        int first = 1;
        json_array_foreach(ps, i, p)
        {
            const char *k = json_string_value(json_object_get(p, "kind"));
            if (!k || strcmp(k, seen[s]) != 0)
                continue;
            if (first) {
                no++;
                if (c->zh && no <= 10)
                    fprintf(f, "（%s）%s。", zh_num(no), render_problem_kind(k, lang));
                else if (c->zh)
                    fprintf(f, "（%d）%s。", no, render_problem_kind(k, lang));
                else
                    fprintf(f, "(%d) %s. ", no, render_problem_kind(k, lang));
            }
            fprintf(f, "%s%s", first ? "" : (c->zh ? "；" : "; "),
                    render_problem_text(c->j, p, lang, text, sizeof text));
            first = 0;
        }
        if (!first)
            fputs(c->zh ? "。\n" : ".\n", f);
    }
    no = counted_below(f, c, no);
    if (!no)
        fputs(c->zh ? "本期未发现问题。\n" : "No problems were found in the period.\n", f);
}

static void report_zh(FILE *f, ctx_t *c, unsigned cadence)
{
    const json_t *j = c->j;
    const char *name = json_string_value(json_object_get(j, "name"));
    const char *period = json_string_value(json_object_get(j, "period"));
    const char *from = json_string_value(json_object_get(j, "from"));
    const char *to = json_string_value(json_object_get(j, "to"));
    char cad[32];
    fprintf(f, "%s新时代文明实践工作情况报告\n（%s：%s至%s）\n\n", name ? name : "",
            period ? period : "", from ? from : "", to ? to : "");
    fputs("一、新时代文明实践所（站）建设工作完成情况。\n", f);

    fprintf(f, "1、在宣传工作方面，通过微信群转发、公众平台发布相关内容累计%s条；",
            n(c, 0, "publicity.wechat"));
    if (render_int(c->t, "publicity.website"))
        fprintf(f, "通过门户网站发布相关内容%s条；", n(c, 0, "publicity.website"));
    fprintf(f, "张贴宣传画%s张；发放相关内容宣传单页%s份。\n", n(c, 0, "publicity.poster"),
            n(c, 1, "publicity.leaflet"));

    fprintf(f, "2、在硬件设施方面，用于新时代文明实践工作建设的资金共计%s元。",
            money(c, 0, render_real(c->t, "funding_yuan")));
    fprintf(f,
            "目前，报送建设情况的站点%s个，其中已挂牌%s个，组织机构和制度已上墙%s个；"
            "已挂牌、制度上墙，并且有必要设备、有专人管理、有台账、有活动计划、有鲜明主题的%s个。"
            "其中新时代文明实践示范站%s个。\n",
            n(c, 0, "sites.reporting"), n(c, 1, "sites.plaque"), n(c, 2, "sites.rules"),
            n(c, 3, "sites.six_haves"), n(c, 4, "sites.model_stations"));

    fprintf(f,
            "3、在志愿者队伍方面，截至%s，有注册志愿者%s人，实名认证%s人，其中本期新注册%s人、"
            "新实名认证%s人。本期志愿服务队通过微信群、微信公众平台招募志愿者发布%s条。\n",
            to ? to : "", n(c, 0, "volunteers.registered_cumulative"),
            n(c, 1, "volunteers.verified_cumulative"), n(c, 2, "volunteers.registered"),
            n(c, 3, "volunteers.verified"), n(c, 4, "recruitment_posts"));

    int64_t act5 = 0;
    for (const char *const *k = categories; *k; k++) {
        char p[64];
        snprintf(p, sizeof p, "activities.%s", *k);
        act5 += render_int(c->t, p);
    }
    fprintf(f, "4、在组织和开展活动方面，开展了主题宣讲、理论教育、党员培训、文明实践、文体文艺等活动共计%s场次",
            nv(c, 0, act5));
    breakdown(f, c, "activities", categories);
    fprintf(f, "，参与群众%s人次；", n(c, 0, "participants"));
    fprintf(f, "开展文明实践志愿服务活动中，%s个志愿服务队进行至少%s一次的志愿服务活动，"
               "广泛开展环保宣传、科普、普法、平安校园、交通引导、帮扶等志愿服务活动共计%s场次",
            nv(c, 0, teams_on_cadence(j)), cadence_phrase(cadence, 1, cad, sizeof cad),
            n(c, 1, "volunteer_services.total"));
    breakdown(f, c, "volunteer_services.by_kind", service_kinds);
    fprintf(f, "，参与志愿者%s人次，志愿服务时长%s小时；开展基层宣讲活动%s场次。\n",
            n(c, 0, "activity_volunteers"), money(c, 1, render_real(c->t, "service_hours")),
            n(c, 2, "grassroots_lectures"));

    fprintf(f, "5、在开展群众文体活动方面，充分利用节日开展文体活动，依托新时代文明实践所、"
               "实践站举办群众喜闻乐见的文体文艺活动累计%s场。\n",
            n(c, 0, "festival_events"));

    fprintf(f, "6、在工作计划方面，本期到期计划%s项，本期完成%s项，逾期未完成%s项。\n",
            n(c, 0, "plans.due"), n(c, 1, "plans.done"), n(c, 2, "plans.overdue"));
    if (render_int(c->t, "orders.needs_received")) {
        fprintf(f, "7、在群众点单方面，群众点单%s个，派单%s个，完成%s个",
                n(c, 0, "orders.needs_received"), n(c, 1, "orders.orders_dispatched"),
                n(c, 2, "orders.orders_done"));
        if (render_int(c->t, "orders.loops_closed"))
            fprintf(f, "，群众满意率%s%%。\n", satisfaction(c, 0));
        else
            fputs("，本期尚无群众评单。\n", f);
    }
    problems(f, c);
}

static void report_en(FILE *f, ctx_t *c, unsigned cadence)
{
    const json_t *j = c->j;
    const char *name = json_string_value(json_object_get(j, "name"));
    const char *period = json_string_value(json_object_get(j, "period"));
    const char *from = json_string_value(json_object_get(j, "from"));
    const char *to = json_string_value(json_object_get(j, "to"));
    char cad[32];
    fprintf(f, "%s: New Era Civilization Practice work report\n%s (%s to %s)\n\n",
            name ? name : "", period ? period : "", from ? from : "", to ? to : "");
    fputs("1. Work completed\n", f);

    fprintf(f, "1) Publicity. %s forwarded in WeChat groups or published on the official account",
            np(c, 0, "publicity.wechat", "item was", "items were"));
    if (render_int(c->t, "publicity.website"))
        fprintf(f, ", and %s on the website", np(c, 0, "publicity.website", "item", "items"));
    fprintf(f, "; %s put up; %s handed out.\n",
            np(c, 0, "publicity.poster", "poster was", "posters were"),
            np(c, 1, "publicity.leaflet", "leaflet was", "leaflets were"));

    fprintf(f, "2) Facilities. Funds of %s yuan went into building New Era Civilization Practice. ",
            money(c, 0, render_real(c->t, "funding_yuan")));
    fprintf(f,
            "Sites that reported their checklist: %s; with the plaque hung: %s; with the rules on "
            "the wall: %s; with both and also the necessary equipment, a named manager, a "
            "ledger, an activity plan and a clear theme: %s. Model stations: %s.\n",
            n(c, 0, "sites.reporting"), n(c, 1, "sites.plaque"), n(c, 2, "sites.rules"),
            n(c, 3, "sites.six_haves"), n(c, 4, "sites.model_stations"));

    fprintf(f,
            "3) Volunteers and teams. As of %s, %s registered and %s real-name verified (%s "
            "registered and %s verified in this period). Volunteer teams published %s in "
            "WeChat groups and on the official account.\n",
            to ? to : "",
            np(c, 0, "volunteers.registered_cumulative", "volunteer is", "volunteers are"),
            n(c, 1, "volunteers.verified_cumulative"), n(c, 2, "volunteers.registered"),
            n(c, 3, "volunteers.verified"),
            np(c, 4, "recruitment_posts", "recruitment post", "recruitment posts"));

    int64_t act5 = 0;
    for (const char *const *k = categories; *k; k++) {
        char p[64];
        snprintf(p, sizeof p, "activities.%s", *k);
        act5 += render_int(c->t, p);
    }
    fprintf(f, "4) Activities. %s of theme lectures, theory education, party-member "
               "training, civilization practice and culture and sports activities were held in "
               "all",
            ns(c, 0, act5, "session", "sessions"));
    breakdown(f, c, "activities", categories);
    fprintf(f, ", with %s. ", np(c, 0, "participants", "participant", "participants"));
    fprintf(f, "%s served at least %s; %s held in all, in environmental publicity, "
               "science, legal education, campus safety, traffic guidance, assistance and more",
            ns(c, 0, teams_on_cadence(j), "volunteer team", "volunteer teams"),
            cadence_phrase(cadence, 0, cad, sizeof cad),
            np(c, 1, "volunteer_services.total", "volunteer service was",
               "volunteer services were"));
    breakdown(f, c, "volunteer_services.by_kind", service_kinds);
    fprintf(f, ", with %s and %s service hours. %s given.\n",
            np(c, 0, "activity_volunteers", "volunteer", "volunteers"),
            money(c, 1, render_real(c->t, "service_hours")),
            np(c, 2, "grassroots_lectures", "grassroots lecture was", "grassroots lectures were"));

    fprintf(f, "5) Culture and sports. %s held at festivals at the practice institute and "
               "stations.\n",
            np(c, 0, "festival_events", "culture and sports event was",
               "culture and sports events were"));

    fprintf(f, "6) Plans. Plans due in the period: %s; completed in the period: %s; overdue: %s.\n",
            n(c, 0, "plans.due"), n(c, 1, "plans.done"), n(c, 2, "plans.overdue"));
    if (render_int(c->t, "orders.needs_received")) {
        fprintf(f, "7) Needs and orders. Residents raised %s; %s dispatched, %s done",
                np(c, 0, "orders.needs_received", "need", "needs"),
                np(c, 1, "orders.orders_dispatched", "order was", "orders were"),
                n(c, 2, "orders.orders_done"));
        if (render_int(c->t, "orders.loops_closed"))
            fprintf(f, "; residents' satisfaction rate %s%%.\n", satisfaction(c, 0));
        else
            fputs("; no rating yet in the period.\n", f);
    }
    problems(f, c);
}

int report_text_write(const json_t *j, const char *lang, unsigned cadence_days, FILE *f)
{
    ctx_t c = {.j = j, .t = json_object_get(j, "totals"), .zh = ZH(lang)};
    if (!json_is_object(c.t))
        return -1;
    if (!cadence_days)
        cadence_days = 14;
    if (c.zh)
        report_zh(f, &c, cadence_days);
    else
        report_en(f, &c, cadence_days);
    return ferror(f) ? -1 : 0;
}
