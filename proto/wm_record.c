/* SPDX-License-Identifier: MIT */
/* wm_record — the record codec; see wm_record.h for the byte layout. */
#include "wm_record.h"

#include <assert.h>
#include <ctype.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

static const uint8_t zero_hash[WM_HASH_BYTES];

wm_err_t wm_srec_view(const uint8_t *buf, size_t len, wm_srec_t *out)
{
    if (!buf || len < WM_SREC_MIN)
        return WM_EDECODE;
    if (len - WM_SIG_BYTES > WM_REC_MAX)
        return WM_ETOOBIG;
    out->sig = buf;
    out->bytes = buf + WM_SIG_BYTES;
    out->len = len - WM_SIG_BYTES;
    return WM_OK;
}

int wm_srec_same(const wm_srec_t *v, const uint8_t *srec, size_t len)
{
    return v->len + WM_SIG_BYTES == len && memcmp(v->sig, srec, WM_SIG_BYTES) == 0 &&
           memcmp(v->bytes, srec + WM_SIG_BYTES, v->len) == 0;
}

wm_err_t wm_record_decode(const uint8_t *bytes, size_t len, wm_record_t **out)
{
    if (len == 0 || len > WM_REC_MAX)
        return len ? WM_ETOOBIG : WM_EDECODE;
    wm_record_t *r = wm__record__unpack(NULL, len, bytes);
    if (!r)
        return WM_EDECODE;
    if (r->schema < 1 || !r->station || !r->station[0] || r->epoch < 1 || r->seq < 1 ||
        r->prev.len != WM_HASH_BYTES) {
        wm__record__free_unpacked(r, NULL);
        return WM_EDECODE;
    }
    *out = r;
    return WM_OK;
}

void wm_record_free(wm_record_t **r)
{
    if (!r || !*r)
        return;
    wm__record__free_unpacked(*r, NULL);
    *r = NULL;
}

struct wm_arena_block {
    wm_arena_block_t *next;
    max_align_t data[];
};

static void *arena_alloc(void *ctx, size_t size)
{
    wm_arena_t *a = ctx;
    size = (size + 15) & ~(size_t)15;
    if (size <= a->cap - a->used) {
        void *p = a->buf + a->used;
        a->used += size;
        return p;
    }
    wm_arena_block_t *b = malloc(sizeof *b + size);
    if (!b)
        return NULL;
    b->next = a->extra;
    a->extra = b;
    return b->data;
}

static void arena_free_one(void *ctx, void *p)
{
    (void)ctx; /* everything goes at the next reset */
    (void)p;
}

static void arena_reset(wm_arena_t *a)
{
    while (a->extra) {
        wm_arena_block_t *b = a->extra;
        a->extra = b->next;
        free(b);
    }
    a->used = 0;
}

wm_err_t wm_record_decode_in(wm_arena_t *a, const uint8_t *bytes, size_t len, wm_record_t **out)
{
    if (len == 0 || len > WM_REC_MAX)
        return len ? WM_ETOOBIG : WM_EDECODE;
    if (!a->buf && !(a->buf = malloc(WM_ARENA_BYTES)))
        return WM_ENOMEM;
    a->cap = WM_ARENA_BYTES;
    arena_reset(a);
    ProtobufCAllocator al = {arena_alloc, arena_free_one, a};
    wm_record_t *r = wm__record__unpack(&al, len, bytes);
    if (!r)
        return WM_EDECODE;
    if (r->schema < 1 || !r->station || !r->station[0] || r->epoch < 1 || r->seq < 1 ||
        r->prev.len != WM_HASH_BYTES)
        return WM_EDECODE;
    *out = r;
    return WM_OK;
}

wm_err_t wm_pb_decode_in(wm_arena_t *a, const ProtobufCMessageDescriptor *d,
                         const uint8_t *bytes, size_t len, size_t max, void **out)
{
    if (len > max)
        return WM_ETOOBIG;
    /* The decoded form of a message is its bytes fields (copied, each
     * rounded up to 16), arrays of 16-byte entries and the structs: a
     * quarter more than its length, and a page, hold a Batch; anything
     * beyond falls back to malloc'd blocks. */
    size_t cap = len + len / 4 + 4096;
    if (!a->buf || a->cap < cap) {
        free(a->buf);
        a->cap = 0;
        if (!(a->buf = malloc(cap)))
            return WM_ENOMEM;
        a->cap = cap;
    }
    arena_reset(a);
    ProtobufCAllocator al = {arena_alloc, arena_free_one, a};
    ProtobufCMessage *m = protobuf_c_message_unpack(d, &al, len, bytes);
    if (!m)
        return WM_EDECODE;
    *out = m;
    return WM_OK;
}

void wm_arena_free(wm_arena_t *a)
{
    arena_reset(a);
    free(a->buf);
    memset(a, 0, sizeof *a);
}

wm_err_t wm_record_seal(const wm_record_t *r, const wm_signer_t *s,
                        uint8_t **out, size_t *outlen)
{
    size_t n = wm__record__get_packed_size(r);
    if (n > WM_REC_MAX)
        return WM_ETOOBIG;
    uint8_t *buf = malloc(WM_SIG_BYTES + n);
    if (!buf)
        return WM_ENOMEM;
    wm__record__pack(r, buf + WM_SIG_BYTES);
    wm_err_t rc = wm_sign(s, WM_CTX_RECORD, buf + WM_SIG_BYTES, n, buf);
    if (rc != WM_OK) {
        free(buf);
        return rc;
    }
    *out = buf;
    *outlen = WM_SIG_BYTES + n;
    return WM_OK;
}

wm_err_t wm_srec_verify(const wm_srec_t *v, const uint8_t pub[static WM_PUB_BYTES])
{
    return wm_verify(pub, WM_CTX_RECORD, v->bytes, v->len, v->sig);
}

void wm_srec_hash(const wm_srec_t *v, uint8_t out[static WM_HASH_BYTES])
{
    assert(v->bytes == v->sig + WM_SIG_BYTES); /* views are of one srec buffer */
    wm_hash(v->sig, WM_SIG_BYTES + v->len, out);
}

void wm_srec_hash_buf(const uint8_t *srec, size_t len, uint8_t out[static WM_HASH_BYTES])
{
    wm_hash(srec, len, out);
}

wm_err_t wm_record_follows(const wm_record_t *r, const char *station,
                           uint32_t epoch, uint64_t seq,
                           const uint8_t prev[static WM_HASH_BYTES])
{
    if (strcmp(r->station, station) != 0 || r->epoch != epoch || r->seq != seq + 1)
        return WM_ECHAIN;
    if (r->prev.len != WM_HASH_BYTES)
        return WM_ECHAIN;
    const uint8_t *want = seq == 0 ? zero_hash : prev;
    if (memcmp(r->prev.data, want, WM_HASH_BYTES) != 0)
        return WM_ECHAIN;
    return WM_OK;
}

const char *wm_record_kind(const wm_record_t *r)
{
    switch (r->body_case) {
    case WM__RECORD__BODY_ACTIVITY: return "activity";
    case WM__RECORD__BODY_PUBLICITY: return "publicity";
    case WM__RECORD__BODY_VOLUNTEERS: return "volunteers";
    case WM__RECORD__BODY_RECRUITMENT: return "recruitment";
    case WM__RECORD__BODY_TEAM: return "team";
    case WM__RECORD__BODY_FUNDING: return "funding";
    case WM__RECORD__BODY_SITE: return "site";
    case WM__RECORD__BODY_PLAN: return "plan";
    case WM__RECORD__BODY_PLAN_DONE: return "plan_done";
    case WM__RECORD__BODY_VOID: return "void";
    case WM__RECORD__BODY_ROLLUP: return "rollup";
    case WM__RECORD__BODY_NEED: return "need";
    case WM__RECORD__BODY_NEED_REVIEW: return "need_review";
    case WM__RECORD__BODY_SERVICE_ORDER: return "service_order";
    case WM__RECORD__BODY_ORDER_ACCEPT: return "order_accept";
    case WM__RECORD__BODY_ORDER_DONE: return "order_done";
    case WM__RECORD__BODY_RATING: return "rating";
    case WM__RECORD__BODY_ORDER_CANCEL: return "order_cancel";
    case WM__RECORD__BODY_NOTICE: return "notice";
    case WM__RECORD__BODY_ORDER_ASSIGNED: return "order_assigned";
    case WM__RECORD__BODY_ORDER_COMPLETED: return "order_completed";
    case WM__RECORD__BODY_KEY_ROLLOVER: return "key_rollover";
    case WM__RECORD__BODY_ROLLUP_PART: return "rollup_part";
    default: return "unknown";
    }
}

/* Lowercase copy of an enum value name: THEME_LECTURE -> theme_lecture. */
static void lower_into(const char *s, char *buf, size_t cap)
{
    size_t i = 0;
    for (; s[i] && i + 1 < cap; i++)
        buf[i] = (char)tolower((unsigned char)s[i]);
    buf[i] = 0;
}

static int is_unspecified(const char *name)
{
    size_t n = strlen(name);
    return n >= 11 && strcmp(name + n - 11, "UNSPECIFIED") == 0;
}

wm_err_t wm_enum_parse(const ProtobufCEnumDescriptor *d, const char *slug, int *value)
{
    char buf[64];
    for (unsigned i = 0; i < d->n_values; i++) {
        if (is_unspecified(d->values[i].name))
            continue;
        lower_into(d->values[i].name, buf, sizeof buf);
        if (strcmp(buf, slug) == 0) {
            *value = d->values[i].value;
            return WM_OK;
        }
    }
    return WM_ENOTFOUND;
}

const char *wm_enum_slug(const ProtobufCEnumDescriptor *d, int value, char *buf, size_t cap)
{
    const ProtobufCEnumValue *v = protobuf_c_enum_descriptor_get_value(d, value);
    if (!v || is_unspecified(v->name)) {
        buf[0] = 0;
        return buf;
    }
    lower_into(v->name, buf, cap);
    return buf;
}

int wm_enum_known(const ProtobufCEnumDescriptor *d, int value)
{
    const ProtobufCEnumValue *v = protobuf_c_enum_descriptor_get_value(d, value);
    return v && !is_unspecified(v->name);
}

const char *wm_enum_list(const ProtobufCEnumDescriptor *d, char *buf, size_t cap)
{
    size_t used = 0;
    char slug[64];
    buf[0] = 0;
    for (unsigned i = 0; i < d->n_values; i++) {
        if (is_unspecified(d->values[i].name))
            continue;
        lower_into(d->values[i].name, slug, sizeof slug);
        size_t need = strlen(slug) + (used ? 1 : 0);
        if (used + need + 1 > cap)
            break;
        if (used)
            buf[used++] = '|';
        memcpy(buf + used, slug, strlen(slug) + 1);
        used += strlen(slug);
    }
    return buf;
}

wm_err_t wm_pb_encode(const ProtobufCMessage *m, uint8_t **out, size_t *len)
{
    size_t n = protobuf_c_message_get_packed_size(m);
    uint8_t *buf = malloc(n ? n : 1);
    if (!buf)
        return WM_ENOMEM;
    protobuf_c_message_pack(m, buf);
    *out = buf;
    *len = n;
    return WM_OK;
}

wm_err_t wm_pb_decode(const ProtobufCMessageDescriptor *d, const uint8_t *bytes, size_t len,
                      size_t max, void **out)
{
    if (len > max)
        return WM_ETOOBIG;
    ProtobufCMessage *m = protobuf_c_message_unpack(d, NULL, len, bytes);
    if (!m)
        return WM_EDECODE;
    *out = m;
    return WM_OK;
}

void wm_pb_free(void *mp)
{
    ProtobufCMessage **m = mp;
    if (!m || !*m)
        return;
    protobuf_c_message_free_unpacked(*m, NULL);
    *m = NULL;
}
