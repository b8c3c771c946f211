/* SPDX-License-Identifier: MIT */
/*
 * web_msg — every sentence wmweb's API says to people, in Chinese (the
 * default) and English, chosen per request (web_http.c: the session's
 * language, else Accept-Language), never from the process locale, so the
 * console speaks Chinese on a machine with no Chinese locale installed.
 *
 * The table is keyed by the English message as the code that says it
 * formats it: wmweb's own, the record flag table's (client/wm_recargs.c),
 * the content rules' (proto/wm_validate.c) and the daemon's context checks
 * (daemon/wm_node.c), which reach wmweb as formatted English over the
 * control socket. Each conversion (%s, %d, %u, %zu, %llu …) of a key matches
 * any text; the translation puts the values back by number: {1} is the
 * first value as it was, {L1} the first value as a field or role label
 * ("date" → 日期). A message the table lacks is shown in English as it
 * came (never nothing). The keys are the msgids a gettext catalogue of
 * these messages would have, so the table can later be fed from one.
 *
 * Some messages carry the HTTP status they mean (409 for conflicts, 404
 * for a target that does not exist): the API answers with it.
 * No state; thread-safe.
 */
#include <stdio.h>
#include <string.h>

#include "web.h"

typedef struct {
    const char *en;     /* the English message as formatted (the key) */
    const char *zh;     /* its Chinese text, {1}/{L1} for its values */
    const char *en_out; /* the English the API says, when it differs (CLI wording) */
    unsigned status;    /* an HTTP status the message implies, or 0 */
} msg_t;

static const msg_t msgs[] = {
    /* wmweb itself */
    {"please log in", "请先登录", NULL, 0},
    /* web_evid.c: photos and sign-in sheets */
    {"the upload is empty: send the file's bytes", "上传的文件是空的：请选择文件后重试", NULL, 0},
    {"%s is not a photo this console can read (JPEG, PNG, WebP, HEIF) nor a PDF",
     "“{1}”不是可以读取的照片（JPEG、PNG、WebP、HEIF），也不是 PDF", NULL, 0},
    {"%s is too large (%s)", "“{1}”太大（{2}）", NULL, 0},
    {"%s is %zu bytes; an attachment may be at most %u", "“{1}”有 {2} 字节，附件最多 {3} 字节",
     NULL, 0},
    {"%s must list the hashes the uploads answered", "{L1}须填写上传后返回的文件哈希", NULL, 0},
    {"file %.12s… was not uploaded in this session: upload it again",
     "文件 {1}… 不是本次登录上传的：请重新上传", NULL, 0},
    {"only an activity carries photos", "只有活动记录可以附照片", NULL, 0},
    {"the console is receiving other files; try again in a few seconds",
     "控制台正在接收其他文件，请几秒后再试", NULL, 0},
    /* the daemon's answers to blob_get (daemon/wm_evidence.c) */
    {"file %s… is not held at this node", "本节点没有文件 {1}…", NULL, 0},
    {"file %s… was pruned at this node after its town confirmed it holds it: get it from the "
     "town; its thumbnail is kept here (wmctl blob get HASH --thumb)",
     "文件 {1}… 在镇里确认收到后已在本节点清理：原文件请到镇里查看", NULL, 0},
    {"at most %d photos allowed", "最多只能附 {1} 张照片", NULL, 0},
    {"at most %d sign-in sheet allowed", "最多只能附 {1} 份签到表", NULL, 0},
    {"\"%s\" is not a file's hash (64 hex digits)", "“{1}”不是文件哈希（64 位十六进制数字）",
     NULL, 0},
    {"the request lacks this session's X-CSRF-Token; reload the page",
     "请求缺少本次登录的安全令牌，请刷新页面后重试", NULL, 0},
    {"the request body is larger than %d bytes", "提交的内容太大（超过 {1} 字节）", NULL, 0},
    {"the request body must be JSON", "提交的内容须为 JSON", NULL, 0},
    {"the request body is not a JSON object", "提交的内容不是 JSON 对象", NULL, 0},
    {"this account (%s) may not do this", "此账号（{L1}）无权进行此操作", NULL, 0},
    {"only a town or a county has this", "只有镇或县的节点有此功能", NULL, 0},
    {"no such API path", "没有这个接口", NULL, 0},
    {"method %s is not allowed here", "此处不支持 {1} 请求", NULL, 0},
    {"no such file", "没有这个文件", NULL, 0},
    {"not a plain path", "路径不合法", NULL, 0},
    {"wrong account name or password", "账号或密码错误", NULL, 0},
    {"too many failed logins; try again in %u seconds", "登录失败次数过多，请 {1} 秒后再试",
     NULL, 0},
    {"the wmsyncd daemon is not running, so nothing was done; ask the administrator to start it",
     "同步服务（wmsyncd）没有运行，本次操作没有保存任何内容；请联系管理员启动它", NULL, 0},
    {"the wmsyncd daemon stopped meanwhile; it may or may not have been done: check before "
     "trying again",
     "同步服务（wmsyncd）在处理时停止了，本次操作可能已保存也可能没有：请先查看台账再重试", NULL,
     0},
    {"no answer from the wmsyncd daemon (%s); it may or may not have been done",
     "同步服务（wmsyncd）没有应答（{1}），本次操作可能已保存也可能没有", NULL, 0},
    {"wmweb may not use the daemon's control socket %s (see wmweb(8): group wmsync)",
     "网页服务无权连接同步服务的控制接口 {1}（参见 wmweb(8)：wmsync 组）", NULL, 0},
    {"the daemon could not do it: %s", "同步服务未能完成：{1}", NULL, 0},
    {"cannot read the node's data: %s", "无法读取本节点的数据：{1}", NULL, 0},
    {"kind is required", "请选择记录类型", NULL, 0},
    {"unknown record kind \"%s\"", "未知的记录类型“{1}”", NULL, 0},
    {"unknown field \"%s\"", "未知的字段“{1}”", NULL, 0},
    {"%s must be text, a number, true or a list of them", "{L1}的值须为文字、数字、是/否或列表",
     NULL, 0},
    {"too many fields", "字段太多", NULL, 0},
    {"\"%s\" is not a page number", "“{1}”不是页码", NULL, 0},
    {"\"%s\" is not a record kind", "“{1}”不是记录类型", NULL, 0},
    {"\"%s\" is not a period (2024-05, 2024-W19, 2024-BW10, 2024-Q2, 2024-H1, 2024, "
     "2024-03-01..2024-05-31)",
     "“{1}”不是有效的期间（如 2024-05、2024-W19、2024-BW10、2024-Q2、2024-H1、2024、"
     "2024-03-01..2024-05-31）",
     NULL, 0},
    {"no station \"%s\" here", "这里没有站点“{1}”", NULL, 404},
    {"format must be json, csv or xlsx", "格式须为 json、csv 或 xlsx", NULL, 0},
    {"lang must be zh or en", "语言须为 zh 或 en", NULL, 0},
    {"no data yet", "还没有数据", NULL, 0},
    {"cannot build the rollup: %s", "无法生成汇总：{1}", NULL, 0},
    {"a password must have 8 to 1024 bytes", "密码须为 8 至 1024 个字节", NULL, 0},
    {"role must be viewer, operator or admin", "角色须为查看员、录入员或管理员", NULL, 0},
    {"\"%s\" is not an account name (1-%d of a-z 0-9 _ . -, starting with a letter or digit)",
     "“{1}”不是有效的账号名（1 至 {2} 个小写字母、数字或 _ . -，以字母或数字开头）", NULL, 0},
    {"account \"%s\" already exists", "账号“{1}”已存在", NULL, 409},
    {"no account \"%s\"", "没有账号“{1}”", NULL, 404},
    {"the password could not be hashed (out of memory); try again", "密码处理失败（内存不足），请重试",
     NULL, 0},
    {"no record %s in epoch %s", "第 {2} 期没有第 {1} 号记录", NULL, 404},
    {"town is required", "请选择要审核的镇", NULL, 0},
    {"out of memory", "内存不足", NULL, 0},
    /* the record flag table: client/wm_recargs.c */
    {"--%s is required", "请填写{L1}", "%s is required", 0},
    {"\"%s\" is not a date in the form YYYY-MM-DD", "“{1}”不是日期，请按 YYYY-MM-DD 填写", NULL,
     0},
    {"\"%s\" is not a whole number of 0 or more", "“{1}”不是大于或等于 0 的整数", NULL, 0},
    {"\"%s\" is too large", "“{1}”太大了", NULL, 0},
    {"\"%s\" must be a number of 0 or more with at most two decimals",
     "“{1}”须为大于或等于 0 的数，最多两位小数", NULL, 0},
    {"\"%s\" is not one of %s", "“{1}”不是可选的值（可选：{2}）", NULL, 0},
    {"at most 16 festival/theme tags", "节日或主题标签最多 16 个", NULL, 0},
    {"give --registered N, --verified N or both", "请填写新注册人数、新实名认证人数，或两者都填",
     "give registered, verified or both", 0},
    /* the content rules: proto/wm_validate.c */
    {"%s is required", "请填写{L1}", NULL, 0},
    {"%s is %zu bytes; at most %d allowed", "{L1}太长（{2} 字节），最多 {3} 字节", NULL, 0},
    {"%s is not valid UTF-8 text", "{L1}含有无效的文字", NULL, 0},
    {"%s is not a calendar date (YYYY-MM-DD)", "{L1}不是有效的日期（YYYY-MM-DD）", NULL, 0},
    {"%s must be between %s and %s", "{L1}须在 {2} 至 {3} 之间", NULL, 0},
    {"%s is %llu; at most %u allowed", "{L1}为 {2}，最多 {3}", NULL, 0},
    {"%s must be one of %s", "{L1}须为以下之一：{2}", NULL, 0},
    {"team must be a lowercase id of a-z, 0-9, '-' and '_' (got \"%s\")",
     "队伍编号须由小写字母、数字、“-”和“_”组成（填写的是“{1}”）", NULL, 0},
    {"service-kind applies only to category volunteer_service", "只有志愿服务才填写服务类型",
     NULL, 0},
    {"at most %d tags allowed", "标签最多 {1} 个", NULL, 0},
    {"yuan is implausibly large", "金额大得不合常理", NULL, 0},
    {"plan must name the seq of a plan record", "请指明计划记录的序号", NULL, 0},
    {"seq must name an existing record (1 or more)", "请指明一条已有记录的序号（1 或以上）", NULL,
     0},
    {"period is not a valid period", "期间无效", NULL, 0},
    {"this build cannot write records of this kind", "本版本不能写入这种记录", NULL, 0},
    /* the daemon's context checks: daemon/wm_node.c */
    {"no team \"%s\"; record it first with: wmctl record team --team %s --name NAME",
     "没有队伍“{1}”，请先登记这个队伍", "no team \"%s\"; record the team first", 0},
    {"team \"%s\" was disbanded", "队伍“{1}”已解散", NULL, 409},
    {"no active team \"%s\" to disband", "没有可解散的队伍“{1}”", NULL, 404},
    {"team \"%s\" already exists", "队伍“{1}”已存在", NULL, 409},
    {"no active team \"%s\" to rename", "没有可改名的队伍“{1}”", NULL, 404},
    {"no record %s in epoch %s to void", "第 {2} 期没有第 {1} 号记录，无法作废", NULL, 404},
    {"record %s was already voided by record %s", "第 {1} 号记录已被第 {2} 号记录作废", NULL,
     409},
    {"record %s is itself a void and cannot be voided", "第 {1} 号记录本身是作废记录，不能作废",
     NULL, 409},
    {"no record %s to complete", "没有第 {1} 号记录，无法标记完成", NULL, 404},
    {"record %s is not a plan", "第 {1} 号记录不是计划", NULL, 0},
    {"plan %s was already completed by record %s", "计划 {1} 已由第 {2} 号记录标记完成", NULL,
     409},
    {"account \"%s\" is not an account name", "“{1}”不是有效的账号名", NULL, 0},
};

static const struct {
    const char *key, *zh, *en;
} labels[] = {
    {"date", "日期", "date"},
    {"category", "类别", "category"},
    {"service-kind", "服务类型", "service kind"},
    {"service_kind", "服务类型", "service kind"},
    {"title", "标题", "title"},
    {"place", "地点", "place"},
    {"team", "队伍", "team"},
    {"participants", "参与人数", "participants"},
    {"volunteers", "志愿者人数", "volunteers"},
    {"hours", "服务时长", "hours"},
    {"festival", "节日或主题标签", "festival or theme tags"},
    {"tag", "标签", "tags"},
    {"channel", "渠道", "channel"},
    {"count", "数量", "count"},
    {"registered", "新注册人数", "registered"},
    {"verified", "新实名认证人数", "verified"},
    {"name", "名称", "name"},
    {"kind", "类型", "kind"},
    {"trade", "行业", "trade"},
    {"yuan", "金额（元）", "amount (yuan)"},
    {"source", "来源", "source"},
    {"due", "截止日期", "due date"},
    {"plan", "计划", "plan"},
    {"seq", "记录序号", "record number"},
    {"epoch", "期号", "epoch"},
    {"reason", "原因", "reason"},
    {"period", "期间", "period"},
    {"user", "账号", "account"},
    {"password", "密码", "password"},
    {"role", "角色", "role"},
    {"viewer", "查看员", "viewer"},
    {"operator", "录入员", "operator"},
    {"admin", "管理员", "admin"},
    {"photo", "照片", "photos"},
    {"attach", "签到表", "sign-in sheet"},
    {"file", "文件", "file"},
    {"hash", "文件哈希", "file hash"},
};

const char *web_field_label(const char *lang, const char *field)
{
    for (size_t i = 0; i < sizeof labels / sizeof labels[0]; i++)
        if (strcmp(labels[i].key, field) == 0)
            return strcmp(lang, "en") == 0 ? labels[i].en : labels[i].zh;
    return field;
}

#define MSG_VALUES 4

typedef struct {
    const char *p[MSG_VALUES];
    size_t n[MSG_VALUES];
    int count;
} values_t;

/* Length of the printf conversion at f ("%s", "%zu", "%llu" …). */
static size_t conv_len(const char *f)
{
    size_t i = 1;
    while (f[i] && strchr("0123456789.-lhzjt", f[i]))
        i++;
    return f[i] ? i + 1 : i;
}

/* Matches text against format key, capturing each conversion's text. */
static int match(const char *key, const char *text, values_t *v)
{
    v->count = 0;
    while (*key) {
        if (key[0] == '%' && key[1] == '%') {
            if (*text != '%')
                return 0;
            key += 2, text++;
            continue;
        }
        if (key[0] != '%') {
            if (*key++ != *text++)
                return 0;
            continue;
        }
        key += conv_len(key);
        size_t lit = strcspn(key, "%");
        const char *end = lit ? NULL : text + strlen(text);
        if (lit) { /* the value runs to the next occurrence of what follows it */
            for (const char *s = text; *s && !end; s++)
                if (strncmp(s, key, lit) == 0)
                    end = s;
            if (!end)
                return 0;
        }
        if (v->count == MSG_VALUES || end == text)
            return 0;
        v->p[v->count] = text, v->n[v->count++] = (size_t)(end - text);
        text = end;
    }
    return *text == 0;
}

/* Writes template t with v's values into out. */
static void fill(const char *lang, const char *t, const values_t *v, char *out, size_t cap)
{
    size_t o = 0;
    while (*t && o + 1 < cap) {
        int label = t[0] == '{' && t[1] == 'L';
        const char *d = t + 1 + label;
        if (t[0] == '{' && d[0] >= '1' && d[0] <= '0' + MSG_VALUES && d[1] == '}') {
            int k = d[0] - '1';
            char val[256] = "";
            if (k < v->count)
                snprintf(val, sizeof val, "%.*s", (int)v->n[k], v->p[k]);
            const char *s = label ? web_field_label(lang, val) : val;
            o += (size_t)snprintf(out + o, cap - o, "%s", s);
            if (o >= cap)
                o = cap - 1;
            t = d + 2;
            continue;
        }
        out[o++] = *t++;
    }
    out[o < cap ? o : cap - 1] = 0;
}

unsigned web_msg(const char *lang, const char *en, char *out, size_t cap)
{
    values_t v;
    for (size_t i = 0; i < sizeof msgs / sizeof msgs[0]; i++) {
        if (!match(msgs[i].en, en, &v))
            continue;
        if (strcmp(lang, "en") != 0) {
            fill(lang, msgs[i].zh, &v, out, cap);
        } else if (msgs[i].en_out) {
            /* the English form for the console: the key's values, its own words */
            char t[512];
            size_t o = 0;
            int k = 0;
            for (const char *f = msgs[i].en_out; *f && o + 8 < sizeof t; f++) {
                if (f[0] == '%' && f[1] == 's') {
                    o += (size_t)snprintf(t + o, sizeof t - o, "{%d}", ++k);
                    f++;
                } else {
                    t[o++] = *f;
                }
            }
            t[o] = 0;
            fill(lang, t, &v, out, cap);
        } else {
            snprintf(out, cap, "%s", en);
        }
        return msgs[i].status;
    }
    snprintf(out, cap, "%s", en);
    return 0;
}
