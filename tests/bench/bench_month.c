/* SPDX-License-Identifier: MIT */
/* bench_month — a realistic month of a station's records; see bench_month.h. */
#include "bench_month.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const TITLES[] = {
    "学习贯彻党的二十大精神主题宣讲", "新时代文明实践志愿服务进村入户",
    "“我们的节日·春节”群众文化活动", "道德讲堂：孝老爱亲身边好人故事分享",
    "平安校园交通安全普法宣传", "理论政策宣讲进院坝", "垃圾分类环保知识宣传",
    "关爱留守儿童暑期课堂", "移风易俗倡导文明新风", "农技培训：春耕备耕技术指导",
    "防范电信网络诈骗宣传", "重阳节敬老爱老志愿服务", "红色电影进乡村放映",
    "广场舞展演暨全民健身活动", "党员冬训集中学习", "乡村振兴政策解读会",
    "清明祭英烈主题教育", "义务理发进农户", "科普大篷车进村", "健康义诊进村",
    "文明家庭评选表彰", "村规民约修订座谈会", "读书分享会：乡土中国", "消防安全演练",
};
static const char *const PLACES[] = {
    "村新时代文明实践站", "村委会二楼会议室", "村文化广场", "村小学操场",
    "村卫生室门前", "党群服务中心", "村老年活动中心",
};
static const char *const TEAMS[] = {"xinhe/volunteers", "xinhe/youth", "xinhe/elderly-care"};
static const char *const TAGS[] = {"基层宣讲", "春节", "重阳", "清明", "学雷锋"};

static unsigned next_rand(unsigned *s)
{
    *s = *s * 1103515245u + 12345u;
    return (*s >> 16) & 0x7fff;
}

#define PICK(a, s) ((a)[next_rand(s) % (sizeof(a) / sizeof((a)[0]))])

/* One record's body, into the caller's structures. */
static void body(Wm__Record *r, Wm__Activity *a, Wm__Publicity *p, char **tags, unsigned *s,
                 uint32_t day)
{
    if (next_rand(s) % 4 == 0) {
        wm__publicity__init(p);
        p->date = 20240300 + day;
        p->channel = (Wm__Channel)(1 + next_rand(s) % 4);
        p->count = 1 + next_rand(s) % 300;
        r->body_case = WM__RECORD__BODY_PUBLICITY;
        r->publicity = p;
        return;
    }
    wm__activity__init(a);
    a->date = 20240300 + day;
    a->category = (Wm__Category)(1 + next_rand(s) % 6);
    if (a->category == WM__CATEGORY__VOLUNTEER_SERVICE) {
        a->service_kind = (Wm__ServiceKind)(1 + next_rand(s) % 7);
        a->team = (char *)PICK(TEAMS, s);
        a->hours_x100 = 100 * (1 + next_rand(s) % 40);
    }
    a->title = (char *)PICK(TITLES, s);
    a->place = (char *)PICK(PLACES, s);
    a->participants = 10 + next_rand(s) % 200;
    a->volunteers = next_rand(s) % 20;
    if (next_rand(s) % 3 == 0) {
        tags[0] = (char *)PICK(TAGS, s);
        a->tags = tags;
        a->n_tags = 1;
    }
    r->body_case = WM__RECORD__BODY_ACTIVITY;
    r->activity = a;
}

wm_err_t bench_month_make(bench_month_t *m, const char *station, unsigned seed, size_t n)
{
    uint8_t key[WM_SEED_BYTES] = {0}, prev[WM_HASH_BYTES] = {0};
    wm_signer_t *sig = NULL;
    unsigned s = seed;
    wm_err_t err = WM_ENOMEM;
    memset(m, 0, sizeof *m);
    memcpy(key, &seed, sizeof seed);
    if (!(m->recs = calloc(n ? n : 1, sizeof *m->recs)))
        goto out;
    if ((err = wm_signer_from_seed(key, &sig)) != WM_OK)
        goto out;
    memcpy(m->pub, wm_signer_pub(sig), WM_PUB_BYTES);
    for (size_t i = 0; i < n; i++) {
        Wm__Record r = WM__RECORD__INIT;
        Wm__Activity a;
        Wm__Publicity p;
        char *tags[1];
        uint32_t day = 1 + (uint32_t)(i * 30 / (n ? n : 1));
        r.schema = WM_SCHEMA;
        r.station = (char *)station;
        r.epoch = 1;
        r.seq = i + 1;
        r.prev = (ProtobufCBinaryData){WM_HASH_BYTES, prev};
        r.captured = 1709251200 + (int64_t)(day - 1) * 86400 + 36000 + next_rand(&s) % 30000;
        body(&r, &a, &p, tags, &s, day);
        if ((err = wm_record_seal(&r, sig, &m->recs[i].data, &m->recs[i].len)) != WM_OK)
            goto out;
        m->n = i + 1;
        wm_srec_hash_buf(m->recs[i].data, m->recs[i].len, prev);
    }
    err = WM_OK;
out:
    wm_signer_free(&sig);
    if (err != WM_OK)
        bench_month_free(m);
    return err;
}

void bench_month_free(bench_month_t *m)
{
    for (size_t i = 0; m->recs && i < m->n; i++)
        free(m->recs[i].data);
    free(m->recs);
    memset(m, 0, sizeof *m);
}
