/* SPDX-License-Identifier: MIT */
/* bench_rec — signed activity records for the benchmarks; see bench_rec.h. */
#include "bench_rec.h"

#include <stdio.h>
#include <string.h>

#include "wm_date.h"
#include "wm_validate.h"

static const char *const TITLES[] = {
    "学习贯彻党的二十大精神主题宣讲",
    "新时代文明实践志愿服务进村入户",
    "“我们的节日·春节”群众文化活动",
    "道德讲堂：孝老爱亲身边好人故事分享",
    "平安校园交通安全普法宣传",
};

static const Wm__Category CATEGORIES[] = {
    WM__CATEGORY__THEME_LECTURE, WM__CATEGORY__THEORY_EDUCATION,
    WM__CATEGORY__PARTY_TRAINING, WM__CATEGORY__CIVILIZATION_PRACTICE,
    WM__CATEGORY__CULTURE_SPORTS,
};

void bench_rec_init(bench_rec_t *b, const char *station, uint32_t epoch)
{
    memset(b, 0, sizeof *b);
    wm__record__init(&b->r);
    wm__activity__init(&b->a);
    b->r.schema = WM_SCHEMA;
    b->r.station = (char *)station;
    b->r.epoch = epoch;
    b->r.prev = (ProtobufCBinaryData){WM_HASH_BYTES, b->prev};
    b->r.body_case = WM__RECORD__BODY_ACTIVITY;
    b->r.activity = &b->a;
    b->a.title = b->title;
    b->a.place = "新河村新时代文明实践站";
    b->tags[0] = "基层宣讲";
    b->a.tags = b->tags;
    b->a.n_tags = 1;
    b->today = wm_date_today();
}

wm_err_t bench_rec_next(bench_rec_t *b, const wm_signer_t *s, int64_t captured, uint8_t **srec,
                        size_t *len)
{
    uint64_t seq = b->seq + 1;
    wm_reject_t rej;
    memcpy(b->prev, b->next, WM_HASH_BYTES);
    b->r.seq = seq;
    b->r.captured = captured;
    b->a.date = 20240301 + (uint32_t)(seq % 28);
    b->a.category = CATEGORIES[seq % 5];
    b->a.participants = 20 + (uint32_t)(seq % 180);
    b->a.volunteers = 3 + (uint32_t)(seq % 12);
    snprintf(b->title, sizeof b->title, "%s（第%llu期）", TITLES[seq % 5],
             (unsigned long long)seq);
    wm_err_t err = wm_validate_body(&b->r, b->today, &rej);
    if (err != WM_OK) {
        fprintf(stderr, "bench_rec: record %llu is invalid: %s: %s\n", (unsigned long long)seq,
                rej.field, rej.why);
        return err;
    }
    if ((err = wm_record_seal(&b->r, s, srec, len)) != WM_OK)
        return err;
    wm_srec_hash_buf(*srec, *len, b->next);
    b->seq = seq;
    return WM_OK;
}
