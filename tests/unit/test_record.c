/* SPDX-License-Identifier: MIT */
/*
 * test_record — the record codec (proto/wm_record.c): every record kind
 * survives seal → view → verify → decode with every field intact; decode
 * refuses malformed headers and bytes; a record of a kind this build does
 * not know still decodes, verifies and renders as "unknown"; one flipped
 * bit anywhere in a signed record is caught; wm_record_follows accepts
 * exactly the next record of a chain; enum slugs parse and print.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "wm_recjson.h"
#include "wm_record.h"
#include "wm_testutil.h"
#include "wm_validate.h"

#define STATION "xx-county/longhua/xinhe"

/* Seals t, checks the view, signature and hash, and returns the decoded
 * record (caller frees). */
static wm_record_t *round_trip(const tu_rec_t *t, const char *kind)
{
    wm_signer_t *s = tu_signer(7);
    size_t len = 0;
    uint8_t *srec = tu_seal(t, s, &len);
    wm_srec_t v;
    wm_record_t *r = NULL;
    uint8_t h[WM_HASH_BYTES], h2[WM_HASH_BYTES];

    assert_int_equal(wm_srec_view(srec, len, &v), WM_OK);
    assert_ptr_equal(v.sig, srec);
    assert_ptr_equal(v.bytes, srec + WM_SIG_BYTES);
    assert_int_equal(v.len, len - WM_SIG_BYTES);
    assert_int_equal(wm_srec_verify(&v, wm_signer_pub(s)), WM_OK);
    assert_int_equal(wm_verify(wm_signer_pub(s), WM_CTX_RECORD, v.bytes, v.len, v.sig), WM_OK);
    wm_srec_hash(&v, h);
    wm_srec_hash_buf(srec, len, h2);
    assert_memory_equal(h, h2, sizeof h);

    assert_int_equal(wm_record_decode(v.bytes, v.len, &r), WM_OK);
    assert_non_null(r);
    assert_int_equal(r->schema, t->r.schema);
    assert_string_equal(r->station, t->r.station);
    assert_int_equal(r->epoch, t->r.epoch);
    assert_int_equal(r->seq, t->r.seq);
    assert_int_equal(r->prev.len, WM_HASH_BYTES);
    assert_memory_equal(r->prev.data, t->prev, WM_HASH_BYTES);
    assert_int_equal(r->captured, t->r.captured);
    assert_int_equal(r->body_case, t->r.body_case);
    assert_string_equal(wm_record_kind(r), kind);

    json_t *j = wm_record_json(r, &v);
    assert_non_null(j);
    assert_string_equal(json_string_value(json_object_get(j, "kind")), kind);
    assert_string_equal(json_string_value(json_object_get(j, "station")), STATION);
    assert_int_equal(json_integer_value(json_object_get(j, "seq")), (json_int_t)t->r.seq);
    char hex[2 * WM_HASH_BYTES + 1];
    assert_string_equal(json_string_value(json_object_get(j, "hash")), wm_hex(h, sizeof h, hex));
    assert_non_null(json_object_get(j, kind));
    json_decref(j);

    free(srec);
    wm_signer_free(&s);
    assert_null(s);
    return r;
}

static void header(tu_rec_t *t)
{
    uint8_t prev[WM_HASH_BYTES];
    for (int i = 0; i < WM_HASH_BYTES; i++)
        prev[i] = (uint8_t)(0xa0 + i);
    tu_rec_init(t, STATION, 3, 1234567890123ull, prev);
    t->r.captured = -5; /* int64 must survive, sign and all */
}

static void test_roundtrip_activity(void **state)
{
    (void)state;
    tu_rec_t t;
    char *tags[] = {"基层宣讲", "春节"};
    header(&t);
    tu_rec_activity(&t, "主题宣讲：学习二十大精神");
    t.b.activity.category = WM__CATEGORY__VOLUNTEER_SERVICE;
    t.b.activity.service_kind = WM__SERVICE_KIND__TRAFFIC;
    t.b.activity.place = "新河村";
    t.b.activity.team = "traffic-branch";
    t.b.activity.participants = 4000000000u;
    t.b.activity.volunteers = 12;
    t.b.activity.hours_x100 = 350;
    t.b.activity.n_tags = 2;
    t.b.activity.tags = tags;
    wm_record_t *r = round_trip(&t, "activity");
    Wm__Activity *a = r->activity;
    assert_int_equal(a->date, 20240315);
    assert_int_equal(a->category, WM__CATEGORY__VOLUNTEER_SERVICE);
    assert_int_equal(a->service_kind, WM__SERVICE_KIND__TRAFFIC);
    assert_string_equal(a->title, "主题宣讲：学习二十大精神");
    assert_string_equal(a->place, "新河村");
    assert_string_equal(a->team, "traffic-branch");
    assert_int_equal(a->participants, 4000000000u);
    assert_int_equal(a->volunteers, 12);
    assert_int_equal(a->hours_x100, 350);
    assert_int_equal(a->n_tags, 2);
    assert_string_equal(a->tags[0], "基层宣讲");
    assert_string_equal(a->tags[1], "春节");
    wm_record_free(&r);
    assert_null(r);
}

static void test_roundtrip_publicity(void **state)
{
    (void)state;
    tu_rec_t t;
    Wm__Publicity p = WM__PUBLICITY__INIT;
    header(&t);
    p.date = 20240229;
    p.channel = WM__CHANNEL__POSTER;
    p.count = 120;
    t.r.body_case = WM__RECORD__BODY_PUBLICITY;
    t.r.publicity = &p;
    wm_record_t *r = round_trip(&t, "publicity");
    assert_int_equal(r->publicity->date, 20240229);
    assert_int_equal(r->publicity->channel, WM__CHANNEL__POSTER);
    assert_int_equal(r->publicity->count, 120);
    wm_record_free(&r);
}

static void test_roundtrip_volunteers(void **state)
{
    (void)state;
    tu_rec_t t;
    Wm__Volunteers v = WM__VOLUNTEERS__INIT;
    header(&t);
    v.date = 20231231;
    v.registered = 6200;
    v.verified = 4670;
    t.r.body_case = WM__RECORD__BODY_VOLUNTEERS;
    t.r.volunteers = &v;
    wm_record_t *r = round_trip(&t, "volunteers");
    assert_int_equal(r->volunteers->date, 20231231);
    assert_int_equal(r->volunteers->registered, 6200);
    assert_int_equal(r->volunteers->verified, 4670);
    wm_record_free(&r);
}

static void test_roundtrip_recruitment(void **state)
{
    (void)state;
    tu_rec_t t;
    Wm__Recruitment x = WM__RECRUITMENT__INIT;
    header(&t);
    x.date = 20240101;
    x.count = 60;
    t.r.body_case = WM__RECORD__BODY_RECRUITMENT;
    t.r.recruitment = &x;
    wm_record_t *r = round_trip(&t, "recruitment");
    assert_int_equal(r->recruitment->date, 20240101);
    assert_int_equal(r->recruitment->count, 60);
    wm_record_free(&r);
}

static void test_roundtrip_team(void **state)
{
    (void)state;
    tu_rec_t t;
    header(&t);
    tu_rec_team(&t, "legal-branch", WM__TEAM_ACTION__CREATE, "普法志愿服务分队");
    t.b.team.trade = "律师";
    wm_record_t *r = round_trip(&t, "team");
    assert_string_equal(r->team->team, "legal-branch");
    assert_int_equal(r->team->action, WM__TEAM_ACTION__CREATE);
    assert_string_equal(r->team->name, "普法志愿服务分队");
    assert_int_equal(r->team->kind, WM__TEAM_KIND__BRANCH);
    assert_string_equal(r->team->trade, "律师");
    wm_record_free(&r);
}

static void test_roundtrip_funding(void **state)
{
    (void)state;
    tu_rec_t t;
    Wm__Funding f = WM__FUNDING__INIT;
    header(&t);
    f.date = 20240310;
    f.fen = 9000000000123ull;
    f.source = "县配套资金";
    t.r.body_case = WM__RECORD__BODY_FUNDING;
    t.r.funding = &f;
    wm_record_t *r = round_trip(&t, "funding");
    assert_int_equal(r->funding->date, 20240310);
    assert_int_equal(r->funding->fen, 9000000000123ull);
    assert_string_equal(r->funding->source, "县配套资金");
    wm_record_free(&r);
}

static void test_roundtrip_site(void **state)
{
    (void)state;
    tu_rec_t t;
    Wm__SiteChecklist c = WM__SITE_CHECKLIST__INIT;
    header(&t);
    c.date = 20240301;
    c.plaque = 1;
    c.rules = 0;
    c.equipment = 1;
    c.manager = 0;
    c.ledger = 1;
    c.plan = 0;
    c.theme = 1;
    c.model_station = 1;
    t.r.body_case = WM__RECORD__BODY_SITE;
    t.r.site = &c;
    wm_record_t *r = round_trip(&t, "site");
    Wm__SiteChecklist *d = r->site;
    assert_int_equal(d->date, 20240301);
    assert_true(d->plaque && !d->rules && d->equipment && !d->manager);
    assert_true(d->ledger && !d->plan && d->theme && d->model_station);
    wm_record_free(&r);
}

static void test_roundtrip_plan(void **state)
{
    (void)state;
    tu_rec_t t;
    header(&t);
    tu_rec_plan(&t, "五月底前组织外出参观学习", 20240531);
    wm_record_t *r = round_trip(&t, "plan");
    assert_string_equal(r->plan->title, "五月底前组织外出参观学习");
    assert_int_equal(r->plan->due, 20240531);
    wm_record_free(&r);
}

static void test_roundtrip_plan_done(void **state)
{
    (void)state;
    tu_rec_t t;
    header(&t);
    tu_rec_plan_done(&t, 2, 77, 20240520);
    wm_record_t *r = round_trip(&t, "plan_done");
    assert_int_equal(r->plan_done->plan_epoch, 2);
    assert_int_equal(r->plan_done->plan_seq, 77);
    assert_int_equal(r->plan_done->date, 20240520);
    wm_record_free(&r);
}

static void test_roundtrip_void(void **state)
{
    (void)state;
    tu_rec_t t;
    header(&t);
    tu_rec_void(&t, 3, 1234567890122ull, "重复录入");
    wm_record_t *r = round_trip(&t, "void");
    assert_int_equal(r->void_->target_epoch, 3);
    assert_int_equal(r->void_->target_seq, 1234567890122ull);
    assert_string_equal(r->void_->reason, "重复录入");
    wm_record_free(&r);
}

/* Packs t->r (no signature) into a malloc'd buffer. */
static uint8_t *pack(const tu_rec_t *t, size_t *len)
{
    wm_signer_t *s = tu_signer(1);
    size_t n = 0;
    uint8_t *srec = tu_seal(t, s, &n);
    wm_signer_free(&s);
    memmove(srec, srec + WM_SIG_BYTES, n - WM_SIG_BYTES);
    *len = n - WM_SIG_BYTES;
    return srec;
}

static void expect_decode(const tu_rec_t *t, wm_err_t want)
{
    size_t len = 0;
    uint8_t *b = pack(t, &len);
    wm_record_t *r = NULL;
    assert_int_equal(wm_record_decode(b, len, &r), want);
    if (want == WM_OK)
        assert_non_null(r);
    else
        assert_null(r);
    wm_record_free(&r);
    free(b);
}

static void test_decode_bad_header(void **state)
{
    (void)state;
    tu_rec_t t;
    uint8_t prev33[33] = {0};

    tu_rec_init(&t, STATION, 1, 1, NULL);
    tu_rec_activity(&t, "x");
    expect_decode(&t, WM_OK);

    t.r.schema = 0;
    expect_decode(&t, WM_EDECODE);
    t.r.schema = 1;

    t.r.station = "";
    expect_decode(&t, WM_EDECODE);
    t.r.station = STATION;

    t.r.epoch = 0;
    expect_decode(&t, WM_EDECODE);
    t.r.epoch = 1;

    t.r.seq = 0;
    expect_decode(&t, WM_EDECODE);
    t.r.seq = 1;

    t.r.prev.len = 0;
    expect_decode(&t, WM_EDECODE);
    t.r.prev.len = 31;
    expect_decode(&t, WM_EDECODE);
    t.r.prev.data = prev33;
    t.r.prev.len = 33;
    expect_decode(&t, WM_EDECODE);
    t.r.prev.len = 32;
    expect_decode(&t, WM_OK);
}

static void test_decode_bad_bytes(void **state)
{
    (void)state;
    tu_rec_t t;
    size_t len = 0;
    wm_record_t *r = NULL;
    static const uint8_t junk[] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01};
    /* field 2 (station) claims 100 bytes but only 2 follow */
    static const uint8_t short_len[] = {0x08, 0x01, 0x12, 0x64, 'a', 'b'};

    assert_int_equal(wm_record_decode(junk, 0, &r), WM_EDECODE);
    assert_int_equal(wm_record_decode(junk, sizeof junk, &r), WM_EDECODE);
    assert_int_equal(wm_record_decode(short_len, sizeof short_len, &r), WM_EDECODE);
    assert_null(r);

    tu_rec_init(&t, STATION, 1, 1, NULL);
    tu_rec_activity(&t, "一个足够长的标题，好让截断落在字段中间");
    uint8_t *b = pack(&t, &len);
    /* Fields are written in number order: schema, station, epoch, seq,
     * prev, captured, body. A strict prefix decodes only when it ends
     * right after prev or right after captured (the body is optional);
     * every other cut is malformed or lacks a header field. */
    size_t ok = 0;
    for (size_t n = 0; n < len; n++) {
        if (wm_record_decode(b, n, &r) == WM_OK) {
            assert_non_null(r);
            assert_int_equal(r->body_case, WM__RECORD__BODY__NOT_SET);
            ok++;
            wm_record_free(&r);
        }
        assert_null(r);
    }
    assert_int_equal(ok, 2);
    free(b);

    /* Over the size limit. */
    uint8_t *big = calloc(1, WM_REC_MAX + WM_SIG_BYTES + 1);
    assert_non_null(big);
    assert_int_equal(wm_record_decode(big, WM_REC_MAX + 1, &r), WM_ETOOBIG);
    wm_srec_t v;
    assert_int_equal(wm_srec_view(big, WM_REC_MAX + WM_SIG_BYTES + 1, &v), WM_ETOOBIG);
    assert_int_equal(wm_srec_view(big, WM_REC_MAX + WM_SIG_BYTES, &v), WM_OK);
    assert_int_equal(v.len, WM_REC_MAX);
    assert_int_equal(wm_srec_view(big, WM_SREC_MIN, &v), WM_OK);
    assert_int_equal(v.len, 1);
    assert_int_equal(wm_srec_view(big, WM_SIG_BYTES, &v), WM_EDECODE);
    assert_int_equal(wm_srec_view(big, 0, &v), WM_EDECODE);
    assert_int_equal(wm_srec_view(NULL, 100, &v), WM_EDECODE);
    free(big);
}

/* A signed record whose body is of a kind this build does not know: a
 * header-only record with a varint field 99 appended. */
static void test_unknown_kind(void **state)
{
    (void)state;
    tu_rec_t t;
    size_t len = 0;
    wm_signer_t *s = tu_signer(9);
    tu_rec_init(&t, STATION, 1, 5, NULL);
    uint8_t *b = pack(&t, &len);
    uint8_t *srec = malloc(WM_SIG_BYTES + len + 3);
    assert_non_null(srec);
    memcpy(srec + WM_SIG_BYTES, b, len);
    /* tag = 99 << 3 | 0 = 792 = varint 0x98 0x06; value 1 */
    srec[WM_SIG_BYTES + len] = 0x98;
    srec[WM_SIG_BYTES + len + 1] = 0x06;
    srec[WM_SIG_BYTES + len + 2] = 0x01;
    size_t blen = len + 3;
    assert_int_equal(wm_sign(s, WM_CTX_RECORD, srec + WM_SIG_BYTES, blen, srec), WM_OK);

    wm_srec_t v;
    wm_record_t *r = NULL;
    assert_int_equal(wm_srec_view(srec, WM_SIG_BYTES + blen, &v), WM_OK);
    assert_int_equal(wm_srec_verify(&v, wm_signer_pub(s)), WM_OK);
    assert_int_equal(wm_record_decode(v.bytes, v.len, &r), WM_OK);
    assert_string_equal(wm_record_kind(r), "unknown");
    assert_int_equal(r->seq, 5);
    assert_int_equal(r->base.n_unknown_fields, 1);

    json_t *j = wm_record_json(r, &v);
    assert_non_null(j);
    assert_string_equal(json_string_value(json_object_get(j, "kind")), "unknown");
    assert_int_equal(json_integer_value(json_object_get(j, "unknown_fields")), 1);
    assert_non_null(json_object_get(j, "hash"));
    json_decref(j);

    /* Content rules refuse to write it, naming the kind. */
    wm_reject_t rej;
    memset(&rej, 0, sizeof rej);
    assert_int_equal(wm_validate_body(r, 20240315, &rej), WM_EINVAL);
    assert_string_equal(rej.field, "kind");
    wm_record_free(&r);
    free(srec);
    free(b);
    wm_signer_free(&s);
}

/* Flips each bit of a sealed record in turn: the signature check (or the
 * decoder) must catch every single one. */
static void test_tamper_every_bit(void **state)
{
    (void)state;
    tu_rec_t t;
    size_t len = 0;
    char *tags[] = {"三八"};
    wm_signer_t *s = tu_signer(3);
    tu_rec_init(&t, STATION, 1, 9, NULL);
    tu_rec_activity(&t, "文明实践");
    t.b.activity.n_tags = 1;
    t.b.activity.tags = tags;
    uint8_t *srec = tu_seal(&t, s, &len);
    size_t caught_by_sig = 0, caught_by_decode = 0;

    for (size_t bit = 0; bit < len * 8; bit++) {
        srec[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        wm_srec_t v;
        wm_record_t *r = NULL;
        assert_int_equal(wm_srec_view(srec, len, &v), WM_OK);
        int sig_bad = wm_srec_verify(&v, wm_signer_pub(s)) != WM_OK;
        int dec_bad = wm_record_decode(v.bytes, v.len, &r) != WM_OK;
        wm_record_free(&r);
        if (!sig_bad && !dec_bad)
            fail_msg("flipping bit %zu of %zu went unnoticed", bit, len * 8);
        caught_by_sig += sig_bad;
        caught_by_decode += dec_bad;
        srec[bit / 8] ^= (uint8_t)(1u << (bit % 8));
    }
    /* Ed25519 with a context prefix catches every flip on its own. */
    assert_int_equal(caught_by_sig, len * 8);
    assert_true(caught_by_decode < len * 8);

    /* And the untouched record still verifies. */
    wm_srec_t v;
    assert_int_equal(wm_srec_view(srec, len, &v), WM_OK);
    assert_int_equal(wm_srec_verify(&v, wm_signer_pub(s)), WM_OK);
    /* A different key does not. */
    wm_signer_t *other = tu_signer(4);
    assert_int_equal(wm_srec_verify(&v, wm_signer_pub(other)), WM_EBADSIG);
    wm_signer_free(&other);
    free(srec);
    wm_signer_free(&s);
}

static void test_follows(void **state)
{
    (void)state;
    static const uint8_t zero[WM_HASH_BYTES];
    uint8_t h[WM_HASH_BYTES], bad[WM_HASH_BYTES];
    tu_rec_t t;
    for (int i = 0; i < WM_HASH_BYTES; i++)
        h[i] = (uint8_t)(i * 7 + 1);

    /* First record of an epoch: prev must be zero whatever prev is passed. */
    tu_rec_init(&t, STATION, 2, 1, NULL);
    assert_int_equal(wm_record_follows(&t.r, STATION, 2, 0, zero), WM_OK);
    assert_int_equal(wm_record_follows(&t.r, STATION, 2, 0, h), WM_OK);
    tu_rec_init(&t, STATION, 2, 1, h);
    assert_int_equal(wm_record_follows(&t.r, STATION, 2, 0, h), WM_ECHAIN);

    /* The next record. */
    tu_rec_init(&t, STATION, 2, 8, h);
    assert_int_equal(wm_record_follows(&t.r, STATION, 2, 7, h), WM_OK);
    /* Wrong station, epoch, gap, replay, one bit of prev. */
    assert_int_equal(wm_record_follows(&t.r, "xx-county/longhua/other", 2, 7, h), WM_ECHAIN);
    assert_int_equal(wm_record_follows(&t.r, "xx-county/longhua/xinhe/", 2, 7, h), WM_ECHAIN);
    assert_int_equal(wm_record_follows(&t.r, STATION, 1, 7, h), WM_ECHAIN);
    assert_int_equal(wm_record_follows(&t.r, STATION, 3, 7, h), WM_ECHAIN);
    assert_int_equal(wm_record_follows(&t.r, STATION, 2, 6, h), WM_ECHAIN);
    assert_int_equal(wm_record_follows(&t.r, STATION, 2, 8, h), WM_ECHAIN);
    for (int i = 0; i < WM_HASH_BYTES * 8; i++) {
        memcpy(bad, h, sizeof bad);
        bad[i / 8] ^= (uint8_t)(1u << (i % 8));
        assert_int_equal(wm_record_follows(&t.r, STATION, 2, 7, bad), WM_ECHAIN);
    }
    /* A prev of the wrong length never follows. */
    t.r.prev.len = 31;
    assert_int_equal(wm_record_follows(&t.r, STATION, 2, 7, h), WM_ECHAIN);
    t.r.prev.len = 0;
    tu_rec_init(&t, STATION, 2, 1, NULL);
    t.r.prev.len = 0;
    assert_int_equal(wm_record_follows(&t.r, STATION, 2, 0, zero), WM_ECHAIN);
}

static void test_enums(void **state)
{
    (void)state;
    int v = -1;
    char buf[64], list[256];
    assert_int_equal(wm_enum_parse(&wm__category__descriptor, "theme_lecture", &v), WM_OK);
    assert_int_equal(v, WM__CATEGORY__THEME_LECTURE);
    assert_int_equal(wm_enum_parse(&wm__category__descriptor, "volunteer_service", &v), WM_OK);
    assert_int_equal(v, WM__CATEGORY__VOLUNTEER_SERVICE);
    assert_int_equal(wm_enum_parse(&wm__service_kind__descriptor, "campus_safety", &v), WM_OK);
    assert_int_equal(v, WM__SERVICE_KIND__CAMPUS_SAFETY);
    assert_int_equal(wm_enum_parse(&wm__channel__descriptor, "leaflet", &v), WM_OK);
    assert_int_equal(v, WM__CHANNEL__LEAFLET);
    v = -1;
    assert_int_equal(wm_enum_parse(&wm__category__descriptor, "THEME_LECTURE", &v), WM_ENOTFOUND);
    assert_int_equal(wm_enum_parse(&wm__category__descriptor, "category_unspecified", &v),
                     WM_ENOTFOUND);
    assert_int_equal(wm_enum_parse(&wm__category__descriptor, "", &v), WM_ENOTFOUND);
    assert_int_equal(wm_enum_parse(&wm__category__descriptor, "theme", &v), WM_ENOTFOUND);
    assert_int_equal(wm_enum_parse(&wm__category__descriptor, "theme_lecture ", &v), WM_ENOTFOUND);
    assert_int_equal(wm_enum_parse(&wm__category__descriptor, "wechat", &v), WM_ENOTFOUND);
    assert_int_equal(v, -1);

    assert_string_equal(wm_enum_slug(&wm__category__descriptor, 6, buf, sizeof buf),
                        "volunteer_service");
    assert_string_equal(wm_enum_slug(&wm__team_action__descriptor, 3, buf, sizeof buf), "disband");
    assert_string_equal(wm_enum_slug(&wm__category__descriptor, 0, buf, sizeof buf), "");
    assert_string_equal(wm_enum_slug(&wm__category__descriptor, 99, buf, sizeof buf), "");
    assert_string_equal(wm_enum_slug(&wm__category__descriptor, -1, buf, sizeof buf), "");
    assert_string_equal(wm_enum_slug(&wm__category__descriptor, 1, buf, 6), "theme");

    assert_string_equal(wm_enum_list(&wm__channel__descriptor, list, sizeof list),
                        "wechat|website|poster|leaflet");
    assert_string_equal(wm_enum_list(&wm__team_kind__descriptor, list, sizeof list),
                        "general|branch");
    assert_string_equal(wm_enum_list(&wm__service_kind__descriptor, list, sizeof list),
                        "environmental|science|legal|campus_safety|traffic|assistance|other");
    /* Truncates at a whole slug, always terminated. */
    assert_string_equal(wm_enum_list(&wm__channel__descriptor, list, 10), "wechat");
    assert_string_equal(wm_enum_list(&wm__channel__descriptor, list, 15), "wechat|website");
    assert_string_equal(wm_enum_list(&wm__channel__descriptor, list, 3), "");

    /* Every slug a list prints parses back to its value. */
    const ProtobufCEnumDescriptor *ds[] = {&wm__category__descriptor, &wm__service_kind__descriptor,
                                           &wm__channel__descriptor, &wm__team_kind__descriptor,
                                           &wm__team_action__descriptor};
    for (size_t i = 0; i < sizeof ds / sizeof ds[0]; i++) {
        for (unsigned k = 0; k < ds[i]->n_values; k++) {
            int val = ds[i]->values[k].value;
            wm_enum_slug(ds[i], val, buf, sizeof buf);
            if (val == 0) {
                assert_string_equal(buf, "");
                continue;
            }
            assert_int_equal(wm_enum_parse(ds[i], buf, &v), WM_OK);
            assert_int_equal(v, val);
        }
    }
}

static void test_seal_too_big(void **state)
{
    (void)state;
    tu_rec_t t;
    size_t len = 0;
    uint8_t *out = NULL;
    char *title = malloc(WM_REC_MAX + 1);
    assert_non_null(title);
    memset(title, 'a', WM_REC_MAX);
    title[WM_REC_MAX] = 0;
    wm_signer_t *s = tu_signer(5);
    tu_rec_init(&t, STATION, 1, 1, NULL);
    tu_rec_activity(&t, title);
    assert_int_equal(wm_record_seal(&t.r, s, &out, &len), WM_ETOOBIG);
    assert_null(out);
    /* Just under the limit seals, and is larger than the signing stack
     * buffer (exercises the heap path of wm_sign/wm_verify). */
    title[WM_REC_MAX - 200] = 0;
    assert_int_equal(wm_record_seal(&t.r, s, &out, &len), WM_OK);
    wm_srec_t v;
    assert_int_equal(wm_srec_view(out, len, &v), WM_OK);
    assert_int_equal(wm_srec_verify(&v, wm_signer_pub(s)), WM_OK);
    free(out);
    free(title);
    wm_signer_free(&s);
}

/* The generic message codec used for control and sync messages. */
static void test_pb_codec(void **state)
{
    (void)state;
    tu_rec_t t;
    uint8_t *buf = NULL;
    size_t len = 0;
    void *m = NULL;
    tu_rec_init(&t, STATION, 2, 17, NULL);
    tu_rec_void(&t, 2, 16, "重复录入");
    assert_int_equal(wm_pb_encode(&t.r.base, &buf, &len), WM_OK);
    assert_non_null(buf);
    assert_int_equal(wm_pb_decode(&wm__record__descriptor, buf, len, len, &m), WM_OK);
    wm_record_t *r = m;
    assert_int_equal(r->seq, 17);
    assert_int_equal(r->body_case, WM__RECORD__BODY_VOID);
    assert_string_equal(r->void_->reason, "重复录入");
    wm_pb_free(&m);
    assert_null(m);
    wm_pb_free(&m);
    wm_pb_free(NULL);
    assert_int_equal(wm_pb_decode(&wm__record__descriptor, buf, len, len - 1, &m), WM_ETOOBIG);
    assert_null(m);
    assert_int_equal(wm_pb_decode(&wm__record__descriptor, buf, len - 1, len, &m), WM_EDECODE);
    assert_null(m);
    free(buf);

    /* An empty message encodes to nothing and decodes back. */
    Wm__Plan empty = WM__PLAN__INIT;
    assert_int_equal(wm_pb_encode(&empty.base, &buf, &len), WM_OK);
    assert_int_equal(len, 0);
    assert_int_equal(wm_pb_decode(&wm__plan__descriptor, buf, 0, 16, &m), WM_OK);
    assert_non_null(m);
    wm_pb_free(&m);
    free(buf);
}

/* The string at key of o; fails the test if there is none. */
static const char *jstr(const json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    if (!s)
        fail_msg("JSON has no string \"%s\"", key);
    return s;
}

/* Text from the wire need not be UTF-8 (the decoder does not check). The
 * JSON rendering must still show every field, bad bytes replaced by
 * U+FFFD, rather than drop the station id or a title. */
static void test_json_invalid_utf8(void **state)
{
    (void)state;
    tu_rec_t t;
    char *tags[] = {"ok", "\xe6\x98"};
    tu_rec_init(&t, "xx\xff/\xc0\xafx", 1, 1, NULL);
    tu_rec_activity(&t, "讲\xe8\xae\x2e\xed\xa0\x80");
    t.b.activity.n_tags = 2;
    t.b.activity.tags = tags;
    size_t len = 0;
    uint8_t *b = pack(&t, &len);
    wm_record_t *r = NULL;
    assert_int_equal(wm_record_decode(b, len, &r), WM_OK);
    json_t *j = wm_record_json(r, NULL);
    assert_non_null(j);
    assert_string_equal(jstr(j, "station"),
                        "xx\xef\xbf\xbd/\xef\xbf\xbd\xef\xbf\xbdx");
    json_t *a = json_object_get(j, "activity");
    assert_non_null(a);
    assert_string_equal(jstr(a, "title"),
                        "讲\xef\xbf\xbd\xef\xbf\xbd.\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
    json_t *tg = json_object_get(a, "tags");
    assert_int_equal(json_array_size(tg), 2);
    assert_string_equal(json_string_value(json_array_get(tg, 0)), "ok");
    assert_non_null(json_string_value(json_array_get(tg, 1)));
    assert_string_equal(json_string_value(json_array_get(tg, 1)), "\xef\xbf\xbd\xef\xbf\xbd");
    char *text = json_dumps(j, 0);
    assert_non_null(text);
    free(text);
    json_decref(j);
    wm_record_free(&r);
    free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roundtrip_activity),
        cmocka_unit_test(test_roundtrip_publicity),
        cmocka_unit_test(test_roundtrip_volunteers),
        cmocka_unit_test(test_roundtrip_recruitment),
        cmocka_unit_test(test_roundtrip_team),
        cmocka_unit_test(test_roundtrip_funding),
        cmocka_unit_test(test_roundtrip_site),
        cmocka_unit_test(test_roundtrip_plan),
        cmocka_unit_test(test_roundtrip_plan_done),
        cmocka_unit_test(test_roundtrip_void),
        cmocka_unit_test(test_decode_bad_header),
        cmocka_unit_test(test_decode_bad_bytes),
        cmocka_unit_test(test_unknown_kind),
        cmocka_unit_test(test_tamper_every_bit),
        cmocka_unit_test(test_follows),
        cmocka_unit_test(test_enums),
        cmocka_unit_test(test_seal_too_big),
        cmocka_unit_test(test_pb_codec),
        cmocka_unit_test(test_json_invalid_utf8),
    };
    if (wm_crypto_init() != WM_OK)
        return 1;
    return cmocka_run_group_tests(tests, NULL, NULL);
}
