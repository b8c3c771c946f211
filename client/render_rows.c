/* SPDX-License-Identifier: MIT */
/*
 * render_rows — what every renderer shares: labels of the JSON slugs in
 * Chinese and English, the sentence of each problem, the flat figure rows
 * of CSV and xlsx, and text helpers (display width, CSV quoting). See
 * render.h.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "render.h"

#define ZH(lang) (!(lang) || strcmp((lang), "en") != 0)

typedef struct {
    const char *slug, *zh, *en;
} label_t;

/* Figures (JSON paths under totals) and dimensions (keys) alike. */
static const label_t labels[] = {
    {"activities", "活动", "Activities"},
    {"volunteer_services", "志愿服务", "Volunteer services"},
    {"volunteer_services.by_kind", "志愿服务（按类型）", "Volunteer services by kind"},
    {"volunteer_services.by_team", "志愿服务（按队伍）", "Volunteer services by team"},
    {"participants", "参与群众（人次）", "Participants"},
    {"activity_volunteers", "参与志愿者（人次）", "Volunteers at activities"},
    {"service_hours", "志愿服务时长（小时）", "Volunteer service hours"},
    {"festival_events", "节日文体活动", "Festival culture and sports events"},
    {"grassroots_lectures", "基层宣讲", "Grassroots lectures"},
    {"late_entries", "补录活动（超过7天录入）", "Late entries (entered over 7 days late)"},
    {"recruitment_posts", "志愿者招募信息（条）", "Recruitment posts"},
    {"funding_yuan", "经费（元）", "Funding (yuan)"},
    {"service_hours_x100", "志愿服务时长（0.01小时）", "Volunteer service hours × 100"},
    {"funding_fen", "经费（分）", "Funding (fen)"},
    {"publicity", "宣传", "Publicity"},
    {"volunteers", "志愿者", "Volunteers"},
    {"sites", "设施（六有）", "Sites (six haves)"},
    {"plans", "计划", "Plans"},
    {"problem", "存在问题", "Problems"},
    /* categories */
    {"theme_lecture", "主题宣讲", "Theme lectures"},
    {"theory_education", "理论教育", "Theory education"},
    {"party_training", "党员培训", "Party-member training"},
    {"civilization_practice", "文明实践", "Civilization practice"},
    {"culture_sports", "文体文艺", "Culture and sports"},
    {"volunteer_service", "志愿服务", "Volunteer service"},
    {"total", "合计", "Total"},
    /* service kinds */
    {"environmental", "环保宣传", "Environmental publicity"},
    {"science", "科普", "Science"},
    {"legal", "普法", "Legal education"},
    {"campus_safety", "平安校园", "Campus safety"},
    {"traffic", "交通引导", "Traffic guidance"},
    {"assistance", "帮扶", "Assistance"},
    {"other", "其他", "Other"},
    /* channels */
    {"wechat", "微信群/公众平台", "WeChat groups / official account"},
    {"website", "门户网站", "Website"},
    {"poster", "宣传画", "Posters"},
    {"leaflet", "宣传单", "Leaflets"},
    /* volunteers */
    {"registered", "本期注册", "Registered in the period"},
    {"verified", "本期实名认证", "Verified in the period"},
    {"registered_cumulative", "累计注册", "Registered, cumulative"},
    {"verified_cumulative", "累计实名认证", "Verified, cumulative"},
    /* sites */
    {"reporting", "报送站点", "Sites reporting"},
    {"plaque", "已挂牌", "Plaque hung"},
    {"rules", "制度上墙", "Rules on the wall"},
    {"equipment", "有必要设备", "Equipment"},
    {"manager", "有专人管理", "Named manager"},
    {"ledger", "有台账", "Ledger"},
    {"plan", "有活动计划", "Activity plan"},
    {"theme", "有鲜明主题", "Clear theme"},
    {"six_haves", "六有齐全", "All six haves"},
    {"model_stations", "示范站", "Model stations"},
    /* plans */
    {"due", "到期", "Due"},
    {"done", "完成", "Done"},
    {"overdue", "逾期", "Overdue"},
};

static const label_t kinds[] = {
    {"team_never_served", "志愿服务队从未开展志愿服务", "Team never served"},
    {"team_below_cadence", "志愿服务未达到规定频次", "Team below the service cadence"},
    {"station_no_grassroots_lecture", "未按月开展基层宣讲", "No monthly grassroots lecture"},
    {"station_no_activity", "本期未开展活动", "No activity in the period"},
    {"station_not_synced", "未及时同步", "Not synced"},
    {"late_entries", "活动补录", "Late entries"},
    {"town_not_reported", "镇未上报本期汇总", "Town has not reported"},
    {"town_report_invalid", "镇上报的汇总数据无法合计", "Town's report cannot be added up"},
    {"activity_without_photo", "活动没有照片", "Activities without a photo"},
    {"photo_undated", "照片没有拍摄日期", "Photos without a date"},
    {"photo_date_mismatch", "照片拍摄日期与活动日期不符", "Photo taken far from the activity date"},
    {"photo_reused", "同一张照片用于多场活动", "The same photo on several activities"},
    {"photo_near_duplicate", "近似照片用于多场活动", "Near-identical photos on several activities"},
    {"order_overdue", "服务订单逾期未完成", "Service order overdue"},
    {"need_unreviewed", "群众需求未及时审核", "Need left unreviewed"},
    {"order_step_not_counted", "站点的接单、完成或评单未计入", "Order step not counted"},
};

/* Why a step was not counted (wm_orders_step_problem's slugs). */
static const label_t step_reasons[] = {
    {"order_unknown", "没有这个订单", "no such order"},
    {"order_not_addressed", "订单派给了别的站点", "the order is addressed to another station"},
    {"order_cancelled", "订单已撤销", "the order was cancelled"},
    {"order_taken", "订单已被其他站点接走", "order taken by another station"},
    {"order_not_accepted", "该站点没有接这个订单", "the station did not take the order"},
    {"order_not_done", "订单尚未完成", "the order is not done"},
    {"rating_not_theirs", "订单不是回应该站点群众的需求", "the order answers no need of the station"},
    {"rating_repeated", "订单已经评过", "the order was rated before"},
};

static const char *step_reason(const char *slug, int zh)
{
    for (size_t i = 0; i < sizeof step_reasons / sizeof step_reasons[0]; i++)
        if (strcmp(step_reasons[i].slug, slug) == 0)
            return zh ? step_reasons[i].zh : step_reasons[i].en;
    return slug;
}

const char *render_slug_label(const char *slug, const char *lang)
{
    for (size_t i = 0; i < sizeof labels / sizeof labels[0]; i++)
        if (strcmp(labels[i].slug, slug) == 0)
            return ZH(lang) ? labels[i].zh : labels[i].en;
    return NULL;
}

const char *render_label(const char *figure, const char *dimension, const char *lang, char *buf,
                         size_t cap)
{
    const char *f = render_slug_label(figure, lang);
    const char *d = NULL;
    if (!f)
        f = figure;
    if (!dimension || !dimension[0]) {
        snprintf(buf, cap, "%s", f);
        return buf;
    }
    /* Team ids are the operator's own words: never translate them. */
    size_t fl = strlen(figure);
    if (!(fl >= 7 && strcmp(figure + fl - 7, "by_team") == 0))
        d = render_slug_label(dimension, lang);
    if (strcmp(figure, "problem") == 0)
        d = render_problem_kind(dimension, lang);
    snprintf(buf, cap, "%s · %s", f, d ? d : dimension);
    return buf;
}

const char *render_problem_kind(const char *kind, const char *lang)
{
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
        if (strcmp(kinds[i].slug, kind) == 0)
            return ZH(lang) ? kinds[i].zh : kinds[i].en;
    return kind;
}

const char *render_station_name(const json_t *j, const char *id)
{
    size_t i;
    json_t *s;
    if (!id)
        return "";
    /* The names the tiers below carried up with their reports. */
    const char *known = json_string_value(json_object_get(json_object_get(json_object_get(j, "names"), "nodes"), id));
    if (known && known[0])
        return known;
    json_array_foreach(json_object_get(j, "stations"), i, s)
    {
        const char *sid = json_string_value(json_object_get(s, "id"));
        const char *name = json_string_value(json_object_get(s, "name"));
        if (sid && strcmp(sid, id) == 0 && name && name[0])
            return name;
    }
    const char *own = json_string_value(json_object_get(j, "id"));
    const char *name = json_string_value(json_object_get(j, "name"));
    if (own && strcmp(own, id) == 0 && name && name[0])
        return name;
    return id;
}

const char *render_team_name(const json_t *j, const char *station, const char *team)
{
    char key[400];
    snprintf(key, sizeof key, "%s/%s", station ? station : "", team ? team : "");
    const char *name = json_string_value(
        json_object_get(json_object_get(json_object_get(j, "names"), "teams"), key));
    return name && name[0] ? name : (team ? team : "");
}

static const char *str(const json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s ? s : "";
}

static int64_t num(const json_t *o, const char *key)
{
    return (int64_t)json_integer_value(json_object_get(o, key));
}

const char *render_problem_station(const json_t *p)
{
    const char *s = json_string_value(json_object_get(p, "station"));
    if (!s)
        s = json_string_value(json_object_get(p, "town"));
    return s ? s : "";
}

int render_problem_value(const json_t *p, int64_t *v)
{
    const char *k = str(p, "kind");
    if (strcmp(k, "team_below_cadence") == 0)
        *v = num(p, "blocks_missed");
    else if (strcmp(k, "station_no_grassroots_lecture") == 0)
        *v = (int64_t)json_array_size(json_object_get(p, "months"));
    else if (strcmp(k, "station_not_synced") == 0)
        *v = num(p, "days");
    else if (strcmp(k, "late_entries") == 0 || strcmp(k, "activity_without_photo") == 0 ||
             strcmp(k, "photo_undated") == 0)
        *v = num(p, "count");
    else if (strcmp(k, "photo_date_mismatch") == 0)
        *v = num(p, "days_off");
    else if (strcmp(k, "photo_reused") == 0)
        *v = (int64_t)json_array_size(json_object_get(p, "activities"));
    else if (strcmp(k, "photo_near_duplicate") == 0)
        *v = num(p, "distance");
    else
        return 0;
    return 1;
}

/* Appends to buf at *len, never past cap. */
static void add(char *buf, size_t cap, size_t *len, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void add(char *buf, size_t cap, size_t *len, const char *fmt, ...)
{
    if (*len >= cap)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf + *len, cap - *len, fmt, ap);
    va_end(ap);
    if (n > 0)
        *len = *len + (size_t)n < cap ? *len + (size_t)n : cap - 1;
}

/* How many days a photo's capture date lies from its activity's. */
static int64_t days_abs(const json_t *p)
{
    int64_t d = num(p, "days_off");
    return d < 0 ? -d : d;
}

/* The activities a photo problem lists: "STATION seq N (DATE), …". */
static void photo_acts(const json_t *j, const json_t *p, int zh, char *buf, size_t cap,
                       size_t *len)
{
    size_t i;
    json_t *a;
    json_array_foreach(json_object_get(p, "activities"), i, a)
        add(buf, cap, len, zh ? "%s%s第%" PRId64 "号记录（%s）" : "%s%s seq %" PRId64 " (%s)",
            i ? (zh ? "、" : ", ") : "", render_station_name(j, str(a, "station")),
            num(a, "seq"), str(a, "date"));
}

/* The evidence problems (wm_evidcheck.h). Hashes are cut to 12 digits. */
static void photo_text(const json_t *j, const json_t *p, const char *k, const char *st, int zh,
                       char *buf, size_t cap, size_t *len)
{
    const char *h = str(p, "hash");
    int across = json_is_true(json_object_get(p, "across"));
    if (strcmp(k, "activity_without_photo") == 0 && str(p, "from")[0] && zh)
        add(buf, cap, len, "%s有%" PRId64 "场活动没有照片（自%s起要求照片）", st, num(p, "count"),
            str(p, "from"));
    else if (strcmp(k, "activity_without_photo") == 0 && str(p, "from")[0])
        add(buf, cap, len, "%s: %" PRId64 " activities without a photo (photos required from %s)",
            st, num(p, "count"), str(p, "from"));
    else if (strcmp(k, "activity_without_photo") == 0) /* a town of an older build */
        add(buf, cap, len, zh ? "%s有%" PRId64 "场活动没有照片"
                              : "%s: %" PRId64 " activities without a photo",
            st, num(p, "count"));
    else if (strcmp(k, "photo_undated") == 0)
        add(buf, cap, len, zh ? "%s有%" PRId64 "张活动照片没有拍摄日期（无法核对）"
                              : "%s: %" PRId64 " photos without a capture date (cannot be checked)",
            st, num(p, "count"));
    else if (strcmp(k, "photo_date_mismatch") == 0 && zh)
        add(buf, cap, len, "%s第%" PRId64 "号记录（%s）的照片%.12s拍摄于%s，相差%" PRId64 "天", st,
            num(p, "seq"), str(p, "date"), h, str(p, "taken"), days_abs(p));
    else if (strcmp(k, "photo_date_mismatch") == 0)
        add(buf, cap, len,
            "%s: the photo %.12s of seq %" PRId64 " (%s) was taken on %s, %" PRId64 " days apart",
            st, h, num(p, "seq"), str(p, "date"), str(p, "taken"), days_abs(p));
    else if (strcmp(k, "photo_reused") == 0) {
        add(buf, cap, len, zh ? "同一张照片%.12s用于%s多场活动：" : "the same photo %.12s on %sseveral activities: ", h,
            across ? (zh ? "不同站点的" : "different stations' ") : "");
        photo_acts(j, p, zh, buf, cap, len);
    } else {
        add(buf, cap, len, zh ? "近似照片%.12s与%.12s（差%" PRId64 "位）用于%s不同活动："
                              : "near-identical photos %.12s and %.12s (%" PRId64 " bits apart) on %sdifferent activities: ",
            h, str(p, "other"), num(p, "distance"),
            across ? (zh ? "不同站点的" : "different stations' ") : "");
        photo_acts(j, p, zh, buf, cap, len);
    }
}

const char *render_problem_text(const json_t *j, const json_t *p, const char *lang, char *buf,
                                size_t cap)
{
    const char *k = str(p, "kind"), *st = render_station_name(j, render_problem_station(p));
    const char *team = str(p, "team"), *name = str(p, "name");
    char tkey[400];
    if (!name[0] && team[0]) { /* the name a tier below carried up, else the id */
        snprintf(tkey, sizeof tkey, "%s/%s", render_problem_station(p), team);
        name = json_string_value(json_object_get(json_object_get(json_object_get(j, "names"), "teams"), tkey));
        if (!name || !name[0])
            name = team;
    }
    int zh = ZH(lang);
    size_t len = 0;
    buf[0] = 0;
    if (!cap)
        return buf;
    if (strcmp(k, "team_never_served") == 0) {
        if (zh)
            add(buf, cap, &len, "%s的志愿服务队“%s”至今没有开展过一次志愿服务活动", st, name);
        else
            add(buf, cap, &len, "%s: volunteer team \"%s\" has never served", st, name);
    } else if (strcmp(k, "team_below_cadence") == 0) {
        int64_t days = num(p, "cadence_days"), blocks = num(p, "blocks"),
                missed = num(p, "blocks_missed");
        if (zh)
            add(buf, cap, &len,
                "%s的志愿服务队“%s”未做到每%" PRId64 "天至少一次志愿服务：%" PRId64
                "个周期中有%" PRId64 "个没有开展",
                st, name, days, blocks, missed);
        else
            add(buf, cap, &len,
                "%s: volunteer team \"%s\" did not serve at least every %" PRId64
                " days: no service in %" PRId64 " of %" PRId64 " blocks",
                st, name, days, missed, blocks);
    } else if (strcmp(k, "station_no_grassroots_lecture") == 0) {
        size_t i;
        json_t *m;
        add(buf, cap, &len, zh ? "%s在" : "%s: no grassroots lecture in ", st);
        json_array_foreach(json_object_get(p, "months"), i, m)
            add(buf, cap, &len, "%s%s", i ? (zh ? "、" : ", ") : "", json_string_value(m));
        if (zh)
            add(buf, cap, &len, "没有开展每月基层宣讲");
    } else if (strcmp(k, "station_no_activity") == 0) {
        add(buf, cap, &len, zh ? "%s本期没有开展活动" : "%s: no activity in the period", st);
    } else if (strcmp(k, "station_not_synced") == 0) {
        int64_t days = num(p, "days");
        if (days < 0)
            add(buf, cap, &len, zh ? "%s从未同步数据" : "%s: never synced", st);
        else if (zh)
            add(buf, cap, &len, "%s已%" PRId64 "天未同步数据", st, days);
        else
            add(buf, cap, &len, "%s: not synced for %" PRId64 " days", st, days);
    } else if (strcmp(k, "late_entries") == 0) {
        if (zh)
            add(buf, cap, &len, "%s有%" PRId64 "场活动在活动日期%" PRId64 "天之后才录入", st,
                num(p, "count"), num(p, "late_days"));
        else
            add(buf, cap, &len,
                "%s: %" PRId64 " activities entered more than %" PRId64 " days after their date",
                st, num(p, "count"), num(p, "late_days"));
    } else if (!strncmp(k, "photo_", 6) || strcmp(k, "activity_without_photo") == 0) {
        photo_text(j, p, k, st, zh, buf, cap, &len);
    } else if (strcmp(k, "order_overdue") == 0) {
        if (zh)
            add(buf, cap, &len, "%s的服务订单“%s”（%s）截止日期%s已过，仍未完成", st, name,
                str(p, "order"), str(p, "due"));
        else
            add(buf, cap, &len, "%s: service order \"%s\" (%s) was due %s and is not done", st,
                name, str(p, "order"), str(p, "due"));
    } else if (strcmp(k, "need_unreviewed") == 0) {
        if (zh)
            add(buf, cap, &len, "%s提出的群众需求“%s”（%s）已%" PRId64 "天未审核", st, name,
                str(p, "need"), num(p, "days"));
        else
            add(buf, cap, &len, "%s: the need \"%s\" (%s) has waited %" PRId64 " days for review",
                st, name, str(p, "need"), num(p, "days"));
    } else if (strcmp(k, "order_step_not_counted") == 0) {
        const char *step = str(p, "step");
        int acc = strcmp(step, "order_accept") == 0, done = strcmp(step, "order_done") == 0;
        if (zh)
            add(buf, cap, &len, "%s对订单%s的%s未计入：%s", st, str(p, "order"),
                acc ? "接单" : done ? "完成" : "评单", step_reason(str(p, "reason"), 1));
        else
            add(buf, cap, &len, "%s: its %s of order %s is not counted: %s", st,
                acc ? "acceptance" : done ? "completion" : "rating", str(p, "order"),
                step_reason(str(p, "reason"), 0));
    } else if (strcmp(k, "town_not_reported") == 0) {
        add(buf, cap, &len, zh ? "%s未上报本期汇总" : "%s: no rollup of the period reported", st);
    } else if (strcmp(k, "town_report_invalid") == 0) {
        add(buf, cap, &len,
            zh ? "%s上报的汇总中“%s”超出可合计的范围，未计入合计"
               : "%s: its report's \"%s\" is beyond what can be added up; left out of the sums",
            st, str(p, "field"));
    } else {
        add(buf, cap, &len, "%s: %s", st, k);
        if (team[0])
            add(buf, cap, &len, " (%s)", team);
    }
    /* At a county, a town's problems carry the town they came from. */
    const char *town = str(p, "town");
    if (town[0] && strcmp(k, "town_not_reported") != 0 && strcmp(k, "town_report_invalid") != 0)
        add(buf, cap, &len, zh ? "（%s）" : " (%s)", render_station_name(j, town));
    return buf;
}

static const json_t *at(const json_t *obj, const char *path)
{
    char key[128];
    while (obj && *path) {
        const char *dot = strchr(path, '.');
        size_t n = dot ? (size_t)(dot - path) : strlen(path);
        if (n >= sizeof key)
            return NULL;
        memcpy(key, path, n);
        key[n] = 0;
        obj = json_object_get(obj, key);
        path += n + (dot != NULL);
    }
    return obj;
}

int64_t render_int(const json_t *obj, const char *path)
{
    const json_t *v = at(obj, path);
    if (json_is_integer(v))
        return (int64_t)json_integer_value(v);
    return json_is_real(v) ? (int64_t)json_real_value(v) : 0;
}

double render_real(const json_t *obj, const char *path)
{
    const json_t *v = at(obj, path);
    return json_is_number(v) ? json_number_value(v) : 0.0;
}

static render_row_t *push(render_rows_t *rows)
{
    if (rows->n == rows->cap) {
        size_t cap = rows->cap ? 2 * rows->cap : 128;
        render_row_t *v = realloc(rows->v, cap * sizeof *v);
        if (!v)
            return NULL;
        rows->v = v;
        rows->cap = cap;
    }
    render_row_t *r = &rows->v[rows->n++];
    memset(r, 0, sizeof *r);
    return r;
}

/* Every numeric leaf of obj, in the JSON's own order. */
static int walk(const json_t *obj, const char *path, const char *scope, const char *station,
                const char *lang, render_rows_t *rows)
{
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)obj, key, v)
    {
        if (json_is_object(v)) {
            char sub[128];
            snprintf(sub, sizeof sub, "%s%s%s", path, path[0] ? "." : "", key);
            if (walk(v, sub, scope, station, lang, rows))
                return -1;
            continue;
        }
        if (!json_is_number(v))
            continue;
        render_row_t *r = push(rows);
        if (!r)
            return -1;
        r->scope = scope;
        r->station = station;
        snprintf(r->figure, sizeof r->figure, "%s", path[0] ? path : key);
        snprintf(r->dimension, sizeof r->dimension, "%s", path[0] ? key : "");
        render_label(r->figure, r->dimension, lang, r->label, sizeof r->label);
        if (json_is_integer(v)) {
            r->kind = RENDER_INT;
            r->i = (int64_t)json_integer_value(v);
        } else {
            r->kind = RENDER_REAL;
            r->r = json_real_value(v);
        }
    }
    return 0;
}

int render_rows_build(const json_t *j, const char *lang, render_rows_t *out)
{
    const json_t *totals = json_object_get(j, "totals");
    if (!json_is_object(totals))
        return -1;
    const char *scope = str(j, "scope"), *id = str(j, "id");
    if (walk(totals, "", scope, id, lang, out))
        return -1;
    size_t i;
    json_t *s;
    json_array_foreach(json_object_get(j, "stations"), i, s)
    {
        const json_t *t = json_object_get(s, "totals");
        if (json_is_object(t) && walk(t, "", "station", str(s, "id"), lang, out))
            return -1;
    }
    json_array_foreach(json_object_get(j, "problems"), i, s)
    {
        render_row_t *r = push(out);
        if (!r)
            return -1;
        r->scope = scope;
        r->station = render_problem_station(s);
        snprintf(r->figure, sizeof r->figure, "problem");
        snprintf(r->dimension, sizeof r->dimension, "%s", str(s, "kind"));
        render_problem_text(j, s, lang, r->label, sizeof r->label);
        r->kind = render_problem_value(s, &r->i) ? RENDER_INT : RENDER_NONE;
    }
    return 0;
}

void render_rows_free(render_rows_t *rows)
{
    if (!rows)
        return;
    free(rows->v);
    rows->v = NULL;
    rows->n = rows->cap = 0;
}

/* ---- text ------------------------------------------------------------- */

/* Decodes one UTF-8 sequence at s; *len its byte length. -1 if invalid. */
static int32_t utf8_next(const unsigned char *s, size_t *len)
{
    int32_t c = s[0];
    size_t n;
    if (c < 0x80)
        n = 1;
    else if ((c & 0xe0) == 0xc0)
        n = 2, c &= 0x1f;
    else if ((c & 0xf0) == 0xe0)
        n = 3, c &= 0x0f;
    else if ((c & 0xf8) == 0xf0)
        n = 4, c &= 0x07;
    else {
        *len = 1;
        return -1;
    }
    for (size_t k = 1; k < n; k++) {
        if ((s[k] & 0xc0) != 0x80) {
            *len = 1;
            return -1;
        }
        c = (c << 6) | (s[k] & 0x3f);
    }
    *len = n;
    return c;
}

/* East Asian Wide (W) and Fullwidth (F) ranges, Unicode 15, coarsely
 * merged: CJK, kana, hangul, fullwidth forms, CJK punctuation, emoji. */
static const int32_t wide[][2] = {
    {0x1100, 0x115f},   {0x231a, 0x231b},   {0x2329, 0x232a},   {0x23e9, 0x23ec},
    {0x23f0, 0x23f0},   {0x23f3, 0x23f3},   {0x25fd, 0x25fe},   {0x2614, 0x2615},
    {0x2648, 0x2653},   {0x267f, 0x267f},   {0x2693, 0x2693},   {0x26a1, 0x26a1},
    {0x26aa, 0x26ab},   {0x26bd, 0x26be},   {0x26c4, 0x26c5},   {0x26ce, 0x26ce},
    {0x26d4, 0x26d4},   {0x26ea, 0x26ea},   {0x26f2, 0x26f3},   {0x26f5, 0x26f5},
    {0x26fa, 0x26fa},   {0x26fd, 0x26fd},   {0x2705, 0x2705},   {0x270a, 0x270b},
    {0x2728, 0x2728},   {0x274c, 0x274c},   {0x274e, 0x274e},   {0x2753, 0x2755},
    {0x2757, 0x2757},   {0x2795, 0x2797},   {0x27b0, 0x27b0},   {0x27bf, 0x27bf},
    {0x2b1b, 0x2b1c},   {0x2b50, 0x2b50},   {0x2b55, 0x2b55},   {0x2e80, 0x303e},
    {0x3041, 0x33ff},   {0x3400, 0x4dbf},   {0x4e00, 0x9fff},   {0xa000, 0xa4cf},
    {0xa960, 0xa97f},   {0xac00, 0xd7a3},   {0xf900, 0xfaff},   {0xfe10, 0xfe19},
    {0xfe30, 0xfe6f},   {0xff00, 0xff60},   {0xffe0, 0xffe6},   {0x16fe0, 0x18cff},
    {0x1b000, 0x1b2ff}, {0x1f004, 0x1f004}, {0x1f0cf, 0x1f0cf}, {0x1f18e, 0x1f18e},
    {0x1f191, 0x1f19a}, {0x1f200, 0x1f251}, {0x1f300, 0x1f64f}, {0x1f680, 0x1f6ff},
    {0x1f7e0, 0x1f7eb}, {0x1f90c, 0x1f9ff}, {0x1fa70, 0x1faff}, {0x20000, 0x3fffd},
};

static const int32_t zero[][2] = {
    {0x0300, 0x036f}, {0x0483, 0x0489}, {0x0591, 0x05bd}, {0x0610, 0x061a},
    {0x064b, 0x065f}, {0x200b, 0x200f}, {0x202a, 0x202e}, {0x2060, 0x2064},
    {0x20d0, 0x20ff}, {0x302a, 0x302d}, {0x3099, 0x309a}, {0xfe00, 0xfe0f},
    {0xfe20, 0xfe2f}, {0xfeff, 0xfeff}, {0xe0100, 0xe01ef},
};

static int in(int32_t c, const int32_t (*r)[2], size_t n)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (c < r[mid][0])
            hi = mid;
        else if (c > r[mid][1])
            lo = mid + 1;
        else
            return 1;
    }
    return 0;
}

size_t render_width(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t w = 0;
    while (*p) {
        size_t len;
        int32_t c = utf8_next(p, &len);
        if (c < 0)
            w += 1;
        else if (c < 0x20 || (c >= 0x7f && c < 0xa0))
            ; /* controls take no column */
        else if (in(c, zero, sizeof zero / sizeof zero[0]))
            ;
        else
            w += in(c, wide, sizeof wide / sizeof wide[0]) ? 2 : 1;
        p += len;
    }
    return w;
}

void render_pad(FILE *f, const char *s, size_t width, int right)
{
    size_t w = render_width(s);
    if (right)
        for (size_t i = w; i < width; i++)
            fputc(' ', f);
    fputs(s, f);
    if (!right)
        for (size_t i = w; i < width; i++)
            fputc(' ', f);
}

void render_csv_field(FILE *f, const char *s)
{
    size_t n = strlen(s);
    /* A text cell that Excel or WPS would take as a formula (a station or
     * team named "=…") is written with a leading apostrophe, which they
     * show as text. Numbers, negative ones too, stay numbers. */
    char *end = NULL;
    int formula = n && strchr("=+@\t\r", s[0]) != NULL;
    if (n && s[0] == '-') {
        strtod(s, &end);
        formula = !end || *end != 0;
    }
    int quote = formula || strpbrk(s, ",\"\r\n") != NULL || (n && (s[0] == ' ' || s[n - 1] == ' '));
    if (!quote) {
        fputs(s, f);
        return;
    }
    fputc('"', f);
    if (formula)
        fputc('\'', f);
    for (; *s; s++) {
        if (*s == '"')
            fputc('"', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

const char *render_num(int64_t n, int sep, char *buf, size_t cap)
{
    char raw[32];
    snprintf(raw, sizeof raw, "%" PRId64, n);
    if (!sep) {
        snprintf(buf, cap, "%s", raw);
        return buf;
    }
    const char *d = raw[0] == '-' ? raw + 1 : raw;
    size_t nd = strlen(d), k = 0;
    char out[48];
    if (raw[0] == '-')
        out[k++] = '-';
    for (size_t i = 0; i < nd; i++) {
        if (i && (nd - i) % 3 == 0)
            out[k++] = ',';
        out[k++] = d[i];
    }
    out[k] = 0;
    snprintf(buf, cap, "%s", out);
    return buf;
}
