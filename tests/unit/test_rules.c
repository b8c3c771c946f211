/* SPDX-License-Identifier: MIT */
/*
 * test_rules — the rule rows of proto/wm_validate.c (from which
 * PROTOCOL.md's table of content rules is generated) against what
 * wm_validate_body and wm_record_decode really do: each row's boundary
 * values are accepted and the values just beyond them refused, naming the
 * field as the row says; every field of every kind has a row; and the
 * header rules of the table (malformed, too_big, accepted unchecked).
 * Records are built through the protobuf-c descriptors, so a row is
 * tested by its field name alone.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "wm_date.h"
#include "wm_record.h"
#include "wm_validate.h"

#define INGEST_TODAY (WM_DATE_MAX - 1) /* as at ingest: dates up to WM_DATE_MAX */
#define STATION_TODAY 20240315u        /* as at a station recording */

static const ProtobufCFieldDescriptor *field_of(const ProtobufCMessageDescriptor *d,
                                                const char *name)
{
    const ProtobufCFieldDescriptor *f = protobuf_c_message_descriptor_get_field_by_name(d, name);
    if (!f)
        fail_msg("%s has no field %s", d->name, name);
    return f;
}

static void set_u(ProtobufCMessage *m, const char *name, uint64_t v)
{
    const ProtobufCFieldDescriptor *f = field_of(m->descriptor, name);
    void *p = (char *)m + f->offset;
    switch (f->type) {
    case PROTOBUF_C_TYPE_UINT32:
        *(uint32_t *)p = (uint32_t)v;
        break;
    case PROTOBUF_C_TYPE_UINT64:
        *(uint64_t *)p = v;
        break;
    case PROTOBUF_C_TYPE_ENUM:
        *(int *)p = (int)v;
        break;
    case PROTOBUF_C_TYPE_BOOL:
        *(protobuf_c_boolean *)p = v != 0;
        break;
    default:
        fail_msg("%s.%s: not a number", m->descriptor->name, name);
    }
}

static void set_s(ProtobufCMessage *m, const char *name, const char *s)
{
    const ProtobufCFieldDescriptor *f = field_of(m->descriptor, name);
    assert_int_equal(f->type, PROTOBUF_C_TYPE_STRING);
    *(const char **)((char *)m + f->offset) = s;
}

static void set_b(ProtobufCMessage *m, const char *name, const uint8_t *b, size_t n)
{
    const ProtobufCFieldDescriptor *f = field_of(m->descriptor, name);
    assert_int_equal(f->type, PROTOBUF_C_TYPE_BYTES);
    *(ProtobufCBinaryData *)((char *)m + f->offset) = (ProtobufCBinaryData){n, (uint8_t *)b};
}

static void set_tags(ProtobufCMessage *m, const char *name, size_t n, char **v)
{
    const ProtobufCFieldDescriptor *f = field_of(m->descriptor, name);
    assert_int_equal(f->label, PROTOBUF_C_LABEL_REPEATED);
    *(size_t *)((char *)m + f->quantifier_offset) = n;
    *(char ***)((char *)m + f->offset) = v;
}

/* A record of `kind` whose every field holds its row's sample. */
typedef struct {
    wm_record_t r;
    ProtobufCMessage *body;
    char *tags[64];
} rec_t;

static void set_sample(rec_t *t, const wm_rule_t *row, const char *value)
{
    switch (row->form) {
    case WM_RULE_TEXT: case WM_RULE_LONGTEXT: case WM_RULE_ID: case WM_RULE_PERIOD: case WM_RULE_JSON:
        set_s(t->body, row->field, value);
        break;
    case WM_RULE_TAGS:
        t->tags[0] = (char *)value;
        set_tags(t->body, row->field, 1, t->tags);
        break;
    case WM_RULE_BYTES:
    case WM_RULE_KEY:
        set_b(t->body, row->field, (const uint8_t *)value, strlen(value));
        break;
    case WM_RULE_ATTACHMENTS: /* the sample is none: optional evidence */
        break;
    default:
        set_u(t->body, row->field, strtoull(value, NULL, 10));
    }
}

static void rec_new(rec_t *t, const char *kind)
{
    static uint8_t prev[WM_HASH_BYTES];
    memset(t, 0, sizeof *t);
    wm__record__init(&t->r);
    t->r.schema = 1;
    t->r.station = "xx/t/s1";
    t->r.epoch = 1;
    t->r.seq = 1;
    t->r.prev.data = prev;
    t->r.prev.len = sizeof prev;
    const ProtobufCFieldDescriptor *f = field_of(&wm__record__descriptor, kind);
    const ProtobufCMessageDescriptor *d = f->descriptor;
    t->body = calloc(1, d->sizeof_message);
    assert_non_null(t->body);
    protobuf_c_message_init(d, t->body);
    *(ProtobufCMessage **)((char *)&t->r + f->offset) = t->body;
    *(uint32_t *)((char *)&t->r + f->quantifier_offset) = f->id;
    size_t n;
    const wm_rule_t *rows = wm_validate_rules(&n);
    for (size_t i = 0; i < n; i++)
        if (!strcmp(rows[i].kind, kind))
            set_sample(t, &rows[i], rows[i].sample);
}

static void rec_free(rec_t *t)
{
    free(t->body);
    t->body = NULL;
}

/* The verdict on t: "" if accepted, else the field the rejection names. */
static const char *verdict(const rec_t *t, uint32_t today)
{
    static wm_reject_t rej;
    memset(&rej, 0, sizeof rej);
    wm_err_t rc = wm_validate_body(&t->r, today, &rej);
    if (rc == WM_OK)
        return "";
    assert_int_equal(rc, WM_EINVAL);
    assert_true(rej.why[0] != 0);
    return rej.field;
}

#define ACCEPTS(t, today, what)                                                                  \
    do {                                                                                         \
        const char *v_ = verdict((t), (today));                                                  \
        if (v_[0])                                                                               \
            fail_msg("%s.%s = %s: refused on %s; the table says it is valid", row->kind,         \
                     row->field, (what), v_);                                                    \
    } while (0)
#define REFUSES(t, today, what)                                                                  \
    do {                                                                                         \
        const char *v_ = verdict((t), (today));                                                  \
        if (strcmp(v_, row->name) != 0)                                                          \
            fail_msg("%s.%s = %s: %s%s; the table says it is refused naming %s", row->kind,      \
                     row->field, (what), v_[0] ? "refused naming " : "accepted", v_, row->name); \
    } while (0)
/* Not refused for this field (another rule may object: e.g. a category
 * other than volunteer_service with a service kind set). */
#define NOT_ON_FIELD(t, today, what)                                                             \
    do {                                                                                         \
        if (!strcmp(verdict((t), (today)), row->name))                                           \
            fail_msg("%s.%s = %s: refused; the table says it is valid", row->kind, row->field,   \
                     (what));                                                                    \
    } while (0)

static void u(rec_t *t, const wm_rule_t *row, uint64_t v)
{
    set_u(t->body, row->field, v);
}

/* A string field: the longest value is accepted, one byte
 * more refused; then the empty value as the row's req says. */
static void check_length(rec_t *t, const wm_rule_t *row, size_t max)
{
    char *s = malloc(max + 2);
    assert_non_null(s);
    memset(s, 'a', max + 1);
    s[max] = 0;
    set_s(t->body, row->field, s);
    ACCEPTS(t, INGEST_TODAY, "the longest value");
    s[max] = 'a', s[max + 1] = 0;
    REFUSES(t, INGEST_TODAY, "one byte more");
    set_s(t->body, row->field, "");
    if (row->req == WM_REQ_NO)
        ACCEPTS(t, INGEST_TODAY, "empty");
    else
        REFUSES(t, INGEST_TODAY, "empty (its condition holds in the sample)");
    free(s);
}

/* Evidence: n attachments of role `role` with distinct hashes, set on
 * the activity in t (storage in a[] and h[]). */
static void set_attach(rec_t *t, Wm__Attachment a[], Wm__Attachment *pa[], uint8_t h[][32],
                       size_t n, int role)
{
    for (size_t i = 0; i < n; i++) {
        wm__attachment__init(&a[i]);
        memset(h[i], (int)i + 1, 32);
        a[i].hash = (ProtobufCBinaryData){32, h[i]};
        a[i].size = 1000;
        a[i].media_type = "image/jpeg";
        a[i].role = role;
        pa[i] = &a[i];
    }
    Wm__Activity *act = (Wm__Activity *)t->body;
    act->n_attachments = n;
    act->attachments = pa;
}

static void check_attachments_row(rec_t *t, const wm_rule_t *row)
{
    enum { N = WM_PHOTOS_MAX + WM_SHEETS_MAX + 2 };
    Wm__Attachment a[N], *pa[N];
    uint8_t h[N][32];
    Wm__Activity *act = (Wm__Activity *)t->body;
    set_attach(t, a, pa, h, row->max, WM__ATTACHMENT_ROLE__PHOTO);
    ACCEPTS(t, INGEST_TODAY, "the most photos");
    set_attach(t, a, pa, h, row->max + 1, WM__ATTACHMENT_ROLE__PHOTO);
    REFUSES(t, INGEST_TODAY, "one photo more");
    set_attach(t, a, pa, h, row->max + WM_SHEETS_MAX, WM__ATTACHMENT_ROLE__PHOTO);
    for (size_t i = row->max; i < row->max + WM_SHEETS_MAX; i++)
        a[i].role = WM__ATTACHMENT_ROLE__SIGN_IN_SHEET, a[i].media_type = "application/pdf";
    ACCEPTS(t, INGEST_TODAY, "the most photos and sheets (a PDF)");
    set_attach(t, a, pa, h, WM_SHEETS_MAX + 1, WM__ATTACHMENT_ROLE__SIGN_IN_SHEET);
    if (strcmp(verdict(t, INGEST_TODAY), "attach"))
        fail_msg("one sign-in sheet more: not refused naming attach");
    set_attach(t, a, pa, h, 2, WM__ATTACHMENT_ROLE__PHOTO);
    a[1].size = WM_ATTACH_SIZE_MAX; ACCEPTS(t, INGEST_TODAY, "the largest size");
    a[1].size = WM_ATTACH_SIZE_MAX + 1; REFUSES(t, INGEST_TODAY, "one byte larger");
    a[1].size = 0; REFUSES(t, INGEST_TODAY, "size 0");
    a[1].size = 1;
    a[1].hash.len = 31; REFUSES(t, INGEST_TODAY, "a 31-byte hash");
    a[1].hash.len = 0; REFUSES(t, INGEST_TODAY, "no hash");
    a[1].hash.len = 32;
    a[1].media_type = "image/png"; ACCEPTS(t, INGEST_TODAY, "image/png");
    a[1].media_type = "image/webp"; ACCEPTS(t, INGEST_TODAY, "image/webp");
    a[1].media_type = "application/pdf"; REFUSES(t, INGEST_TODAY, "a PDF photo");
    a[1].media_type = "image/gif"; REFUSES(t, INGEST_TODAY, "image/gif");
    a[1].media_type = ""; REFUSES(t, INGEST_TODAY, "no media type");
    a[1].media_type = "image/jpeg";
    a[1].role = 0; REFUSES(t, INGEST_TODAY, "role unspecified");
    a[1].role = 3; REFUSES(t, INGEST_TODAY, "an unknown role");
    a[1].role = WM__ATTACHMENT_ROLE__PHOTO;
    a[1].taken_at = INT64_MIN, a[1].dhash = UINT64_MAX;
    ACCEPTS(t, INGEST_TODAY, "any taken_at and dhash");
    memcpy(h[1], h[0], 32); REFUSES(t, INGEST_TODAY, "the same hash twice");
    act->n_attachments = 0;
    ACCEPTS(t, INGEST_TODAY, "none");
    act->attachments = NULL;
}

static void check_row(const wm_rule_t *row)
{
    rec_t t;
    rec_new(&t, row->kind);
    ACCEPTS(&t, INGEST_TODAY, "its sample");
    ACCEPTS(&t, STATION_TODAY, "its sample");
    char big[WM_TEXT_MAX + 2], num[32];
    memset(big, 'a', sizeof big - 1);
    big[sizeof big - 1] = 0;
    switch (row->form) {
    case WM_RULE_DATE:
    case WM_RULE_DUE:
        u(&t, row, WM_DATE_MIN); ACCEPTS(&t, INGEST_TODAY, "the first day");
        u(&t, row, 19991231); REFUSES(&t, INGEST_TODAY, "the day before");
        u(&t, row, WM_DATE_MAX); ACCEPTS(&t, INGEST_TODAY, "the last day (ingest)");
        u(&t, row, 21010101); REFUSES(&t, INGEST_TODAY, "the day after");
        u(&t, row, 20240230); REFUSES(&t, INGEST_TODAY, "20240230");
        u(&t, row, 0); REFUSES(&t, INGEST_TODAY, "0");
        u(&t, row, 20240316); ACCEPTS(&t, STATION_TODAY, "tomorrow at a station");
        u(&t, row, 20240317);
        if (row->form == WM_RULE_DATE)
            REFUSES(&t, STATION_TODAY, "the day after tomorrow at a station");
        else
            ACCEPTS(&t, STATION_TODAY, "a later due day at a station");
        break;
    case WM_RULE_ENUM: {
        int top = 0;
        char slug[64];
        for (unsigned i = 0; i < row->enum_d->n_values; i++) {
            int v = row->enum_d->values[i].value;
            top = v > top ? v : top;
            if (!wm_enum_slug(row->enum_d, v, slug, sizeof slug)[0])
                continue;
            u(&t, row, (uint64_t)v); NOT_ON_FIELD(&t, INGEST_TODAY, slug);
        }
        u(&t, row, (uint64_t)top + 1); REFUSES(&t, INGEST_TODAY, "one past the last value");
        u(&t, row, 0);
        if (row->req == WM_REQ_NO)
            ACCEPTS(&t, INGEST_TODAY, "0");
        else
            REFUSES(&t, INGEST_TODAY, "0 (its condition holds in the sample)");
        break;
    }
    case WM_RULE_TEXT:
        set_s(t.body, row->field, "a\x01"); REFUSES(&t, INGEST_TODAY, "a control character");
        set_s(t.body, row->field, "\xff"); REFUSES(&t, INGEST_TODAY, "bad UTF-8");
        set_s(t.body, row->field, "a\tb 文明"); ACCEPTS(&t, INGEST_TODAY, "tab and CJK");
        check_length(&t, row, WM_TEXT_MAX);
        break;
    case WM_RULE_LONGTEXT:
        set_s(t.body, row->field, "a\x01"); REFUSES(&t, INGEST_TODAY, "a control character");
        set_s(t.body, row->field, "\xff"); REFUSES(&t, INGEST_TODAY, "bad UTF-8");
        check_length(&t, row, (size_t)row->max);
        break;
    case WM_RULE_TAGS:
        for (size_t i = 0; i <= row->max; i++)
            t.tags[i] = "春节";
        set_tags(t.body, row->field, row->max, t.tags); ACCEPTS(&t, INGEST_TODAY, "the most");
        set_tags(t.body, row->field, row->max + 1, t.tags); REFUSES(&t, INGEST_TODAY, "one more");
        t.tags[0] = "";
        set_tags(t.body, row->field, 1, t.tags); REFUSES(&t, INGEST_TODAY, "an empty tag");
        t.tags[0] = big;
        set_tags(t.body, row->field, 1, t.tags); REFUSES(&t, INGEST_TODAY, "a too long tag");
        set_tags(t.body, row->field, 0, t.tags); ACCEPTS(&t, INGEST_TODAY, "none");
        break;
    case WM_RULE_ID:
        set_s(t.body, row->field, "a/b-c_9"); ACCEPTS(&t, INGEST_TODAY, "a/b-c_9");
        set_s(t.body, row->field, "A"); REFUSES(&t, INGEST_TODAY, "an upper-case id");
        set_s(t.body, row->field, "a//b"); REFUSES(&t, INGEST_TODAY, "a double slash");
        check_length(&t, row, WM_ID_MAX);
        break;
    case WM_RULE_COUNT:
        snprintf(num, sizeof num, "%llu", (unsigned long long)row->max);
        u(&t, row, row->max); ACCEPTS(&t, INGEST_TODAY, num);
        u(&t, row, row->max + 1); REFUSES(&t, INGEST_TODAY, "one more than the largest");
        u(&t, row, 0); ACCEPTS(&t, INGEST_TODAY, "0");
        break;
    case WM_RULE_SEQ:
        u(&t, row, 0); REFUSES(&t, INGEST_TODAY, "0");
        u(&t, row, UINT64_MAX); ACCEPTS(&t, INGEST_TODAY, "the largest seq");
        break;
    case WM_RULE_PERIOD:
        set_s(t.body, row->field, "2024-13"); REFUSES(&t, INGEST_TODAY, "2024-13");
        set_s(t.body, row->field, ""); REFUSES(&t, INGEST_TODAY, "empty");
        break;
    case WM_RULE_PERIOD_DAY: {
        uint64_t v = strtoull(row->sample, NULL, 10);
        u(&t, row, wm_date_from_days(wm_date_to_days((uint32_t)v) + 1)); REFUSES(&t, INGEST_TODAY, "a day later");
        u(&t, row, wm_date_from_days(wm_date_to_days((uint32_t)v) - 1)); REFUSES(&t, INGEST_TODAY, "a day earlier");
        break;
    }
    case WM_RULE_JSON:
        set_s(t.body, row->field, ""); REFUSES(&t, INGEST_TODAY, "empty");
        set_s(t.body, row->field, "\xff"); REFUSES(&t, INGEST_TODAY, "bad UTF-8");
        set_s(t.body, row->field, "not json"); ACCEPTS(&t, INGEST_TODAY, "any text");
        break;
    case WM_RULE_ANY:
        u(&t, row, 0); ACCEPTS(&t, INGEST_TODAY, "0");
        u(&t, row, UINT32_MAX); ACCEPTS(&t, INGEST_TODAY, "the largest value");
        break;
    case WM_RULE_BYTES: {
        uint8_t *b = calloc(row->max + 1, 1);
        assert_non_null(b);
        set_b(t.body, row->field, b, row->max); ACCEPTS(&t, INGEST_TODAY, "the most bytes");
        set_b(t.body, row->field, b, row->max + 1); REFUSES(&t, INGEST_TODAY, "one byte more");
        set_b(t.body, row->field, b, 0); REFUSES(&t, INGEST_TODAY, "none");
        free(b);
        break;
    }
    case WM_RULE_KEY: {
        uint8_t b[WM_PUB_BYTES + 1] = {0};
        set_b(t.body, row->field, b, WM_PUB_BYTES); ACCEPTS(&t, INGEST_TODAY, "32 bytes");
        set_b(t.body, row->field, b, WM_PUB_BYTES + 1); REFUSES(&t, INGEST_TODAY, "33 bytes");
        set_b(t.body, row->field, b, WM_PUB_BYTES - 1); REFUSES(&t, INGEST_TODAY, "31 bytes");
        set_b(t.body, row->field, b, 0); REFUSES(&t, INGEST_TODAY, "none");
        break;
    }
    case WM_RULE_EPOCH_NEXT: /* the record is in epoch 1 (rec_new) */
        u(&t, row, 2); ACCEPTS(&t, INGEST_TODAY, "the next epoch");
        u(&t, row, 1 + row->max); ACCEPTS(&t, INGEST_TODAY, "the farthest epoch");
        u(&t, row, 2 + row->max); REFUSES(&t, INGEST_TODAY, "one beyond the farthest");
        u(&t, row, 1); REFUSES(&t, INGEST_TODAY, "the record's own epoch");
        u(&t, row, 0); REFUSES(&t, INGEST_TODAY, "0");
        break;
    case WM_RULE_ATTACHMENTS:
        check_attachments_row(&t, row);
        break;
    }
    rec_free(&t);
}

static void test_each_row(void **state)
{
    (void)state;
    size_t n;
    const wm_rule_t *rows = wm_validate_rules(&n);
    for (size_t i = 0; i < n; i++)
        check_row(&rows[i]);
}

/* Every field of every kind this build knows has exactly one row, and
 * every row names a real field: a field added to record.proto without a
 * rule fails here. */
static void test_every_field_has_a_row(void **state)
{
    (void)state;
    size_t n;
    const wm_rule_t *rows = wm_validate_rules(&n);
    const ProtobufCMessageDescriptor *rd = &wm__record__descriptor;
    for (unsigned i = 0; i < rd->n_fields; i++) {
        const ProtobufCFieldDescriptor *kf = &rd->fields[i];
        if (kf->type != PROTOBUF_C_TYPE_MESSAGE)
            continue; /* the header */
        const ProtobufCMessageDescriptor *d = kf->descriptor;
        for (unsigned j = 0; j < d->n_fields; j++) {
            int found = 0;
            for (size_t k = 0; k < n; k++)
                found += !strcmp(rows[k].kind, kf->name) && !strcmp(rows[k].field, d->fields[j].name);
            if (found != 1)
                fail_msg("%s.%s has %d rule rows; want 1", kf->name, d->fields[j].name, found);
        }
    }
    for (size_t k = 0; k < n; k++) {
        const ProtobufCFieldDescriptor *kf =
            protobuf_c_message_descriptor_get_field_by_name(rd, rows[k].kind);
        if (!kf || !protobuf_c_message_descriptor_get_field_by_name(kf->descriptor, rows[k].field))
            fail_msg("row %s.%s names no field of record.proto", rows[k].kind, rows[k].field);
    }
}

/* ---- the header rows of the table (wm_record_decode) ---- */

static wm_err_t decode(const wm_record_t *r, const uint8_t *extra, size_t extra_len,
                       wm_record_t **out)
{
    size_t n = wm__record__get_packed_size(r);
    uint8_t *buf = malloc(n + extra_len + 1);
    assert_non_null(buf);
    wm__record__pack(r, buf);
    if (extra_len) /* extra may be NULL */
        memcpy(buf + n, extra, extra_len);
    *out = NULL;
    wm_err_t rc = wm_record_decode(buf, n + extra_len, out);
    free(buf);
    return rc;
}

static void expect_decode(const rec_t *t, wm_err_t want, const char *what)
{
    wm_record_t *r = NULL;
    wm_err_t rc = decode(&t->r, NULL, 0, &r);
    if (rc != want)
        fail_msg("%s: decode gave %d, want %d", what, rc, want);
    wm_record_free(&r);
}

static void test_header(void **state)
{
    (void)state;
    rec_t t;
    uint8_t short_prev[WM_HASH_BYTES - 1] = {0};
    rec_new(&t, "activity");
    expect_decode(&t, WM_OK, "the sample");
    t.r.schema = 0, expect_decode(&t, WM_EDECODE, "schema 0");
    t.r.schema = 2, expect_decode(&t, WM_OK, "schema 2 (accepted, not interpreted)");
    t.r.schema = 1;
    t.r.station = "", expect_decode(&t, WM_EDECODE, "no station");
    t.r.station = "xx/t/s1";
    t.r.epoch = 0, expect_decode(&t, WM_EDECODE, "epoch 0");
    t.r.epoch = 1;
    t.r.seq = 0, expect_decode(&t, WM_EDECODE, "seq 0");
    t.r.seq = 1;
    t.r.prev.data = short_prev, t.r.prev.len = sizeof short_prev;
    expect_decode(&t, WM_EDECODE, "a 31-byte prev");
    t.r.prev.len = 0, expect_decode(&t, WM_EDECODE, "no prev");
    rec_free(&t);

    rec_new(&t, "activity");
    t.r.captured = INT64_MIN, expect_decode(&t, WM_OK, "any capture time");
    /* An unknown field (99, varint 1) is ignored; the kind is still checked. */
    static const uint8_t unknown_field[] = {0x98, 0x06, 0x01};
    wm_record_t *r = NULL;
    assert_int_equal(decode(&t.r, unknown_field, sizeof unknown_field, &r), WM_OK);
    assert_true(wm_validate_applies(r));
    wm_record_free(&r);
    rec_free(&t);

    /* No body, or a body of a kind a later build adds (field 127, a
     * message): accepted, and the content rules do not apply. */
    rec_new(&t, "activity");
    t.r.body_case = WM__RECORD__BODY__NOT_SET;
    assert_int_equal(decode(&t.r, NULL, 0, &r), WM_OK);
    assert_false(wm_validate_applies(r));
    wm_record_free(&r);
    static const uint8_t later_kind[] = {0xfa, 0x07, 0x02, 0x08, 0x01};
    assert_int_equal(decode(&t.r, later_kind, sizeof later_kind, &r), WM_OK);
    assert_false(wm_validate_applies(r));
    wm_record_free(&r);
    rec_free(&t);

    /* Size: WM_REC_MAX bytes of record, not counting the signature. */
    uint8_t *big = calloc(1, WM_SIG_BYTES + WM_REC_MAX + 1);
    wm_srec_t v;
    assert_non_null(big);
    assert_int_equal(wm_srec_view(big, WM_SIG_BYTES + WM_REC_MAX, &v), WM_OK);
    assert_int_equal(wm_srec_view(big, WM_SIG_BYTES + WM_REC_MAX + 1, &v), WM_ETOOBIG);
    assert_int_equal(wm_record_decode(big, WM_REC_MAX + 1, &r), WM_ETOOBIG);
    big[0] = 0xff; /* and bytes that are no Record at all */
    assert_int_equal(wm_record_decode(big, 10, &r), WM_EDECODE);
    free(big);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_each_row),
        cmocka_unit_test(test_every_field_has_a_row),
        cmocka_unit_test(test_header),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
