/* SPDX-License-Identifier: MIT */
/*
 * wm_vectors — the fixed records of the golden vectors; see wm_vectors.h.
 * Changing anything here changes records.txt: regenerate it only for a
 * deliberate format change, and say so in the commit.
 */
#include "wm_vectors.h"

#include <stdlib.h>
#include <string.h>

void wmv_seed(uint8_t seed[static WM_SEED_BYTES])
{
    for (int i = 0; i < WM_SEED_BYTES; i++)
        seed[i] = (uint8_t)i;
}

wm_err_t wmv_build(wmv_t out[static WMV_COUNT])
{
    wm_err_t rc = WM_OK;
    wm_signer_t *s = NULL;
    uint8_t seed[WM_SEED_BYTES], prev[WM_HASH_BYTES];
    memset(out, 0, WMV_COUNT * sizeof *out);
    memset(prev, 0, sizeof prev);
    wmv_seed(seed);
    if ((rc = wm_signer_from_seed(seed, &s)) != WM_OK)
        return rc;

    char *tags[] = {"基层宣讲"};
    Wm__Activity lecture = WM__ACTIVITY__INIT;
    lecture.date = 20240315;
    lecture.category = WM__CATEGORY__THEME_LECTURE;
    lecture.title = "主题宣讲：学习二十大精神";
    lecture.place = "新河村新时代文明实践站";
    lecture.participants = 86;
    lecture.n_tags = 1;
    lecture.tags = tags;

    Wm__Activity service = WM__ACTIVITY__INIT;
    service.date = 20240316;
    service.category = WM__CATEGORY__VOLUNTEER_SERVICE;
    service.service_kind = WM__SERVICE_KIND__LEGAL;
    service.title = "普法进村";
    service.team = "legal-branch";
    service.participants = 120;
    service.volunteers = 8;
    service.hours_x100 = 1600;

    Wm__Publicity publicity = WM__PUBLICITY__INIT;
    publicity.date = 20240317;
    publicity.channel = WM__CHANNEL__WECHAT;
    publicity.count = 113;

    Wm__Team team = WM__TEAM__INIT;
    team.team = "legal-branch";
    team.action = WM__TEAM_ACTION__CREATE;
    team.name = "普法志愿服务分队";
    team.kind = WM__TEAM_KIND__BRANCH;
    team.trade = "律师";

    Wm__Funding funding = WM__FUNDING__INIT;
    funding.date = 20240318;
    funding.fen = 5000000;
    funding.source = "县配套资金";

    Wm__Void void_ = WM__VOID__INIT;
    void_.target_epoch = 1;
    void_.target_seq = 3;
    void_.reason = "重复录入";

    static const char *names[WMV_COUNT] = {"activity", "team", "volunteer_service",
                                           "publicity", "funding", "void"};
    for (int i = 0; i < WMV_COUNT; i++) {
        wm_record_t r = WM__RECORD__INIT;
        r.schema = WM_SCHEMA;
        r.station = WMV_STATION;
        r.epoch = 1;
        r.seq = (uint64_t)i + 1;
        r.prev.data = prev;
        r.prev.len = WM_HASH_BYTES;
        r.captured = 1710489600 + 3600 * i; /* 2024-03-15 08:00 UTC+8, then hourly */
        switch (i) {
        case 0: r.body_case = WM__RECORD__BODY_ACTIVITY, r.activity = &lecture; break;
        case 1: r.body_case = WM__RECORD__BODY_TEAM, r.team = &team; break;
        case 2: r.body_case = WM__RECORD__BODY_ACTIVITY, r.activity = &service; break;
        case 3: r.body_case = WM__RECORD__BODY_PUBLICITY, r.publicity = &publicity; break;
        case 4: r.body_case = WM__RECORD__BODY_FUNDING, r.funding = &funding; break;
        default: r.body_case = WM__RECORD__BODY_VOID, r.void_ = &void_; break;
        }
        wmv_t *v = &out[i];
        v->name = names[i];
        memcpy(v->seed, seed, sizeof seed);
        memcpy(v->pub, wm_signer_pub(s), WM_PUB_BYTES);
        if ((rc = wm_record_seal(&r, s, &v->srec, &v->len)) != WM_OK)
            break;
        wm_srec_hash_buf(v->srec, v->len, v->hash);
        memcpy(prev, v->hash, WM_HASH_BYTES);
    }
    wm_signer_free(&s);
    if (rc != WM_OK)
        wmv_free(out);
    return rc;
}

void wmv_free(wmv_t v[static WMV_COUNT])
{
    for (int i = 0; i < WMV_COUNT; i++) {
        free(v[i].srec);
        v[i].srec = NULL;
    }
}
