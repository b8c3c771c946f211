/* SPDX-License-Identifier: MIT */
/* wm_recjson — descriptor-driven JSON rendering of records. */
#include "wm_recjson.h"

#include <stdlib.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "wm_date.h"
#include "wm_validate.h"

static json_t *message_json(const ProtobufCMessage *m);

/* A JSON string of s. The decoder does not check that text is UTF-8 and
 * jansson refuses what is not, which would silently drop the field (the
 * station id, a title) from the output: show bad bytes as U+FFFD instead. */
static json_t *text_json(const char *s)
{
    json_t *j = json_string(s);
    if (j)
        return j;
    size_t n = strlen(s);
    char *out = malloc(3 * n + 1), *o = out;
    if (!out)
        return NULL;
    for (const char *p = s; *p;) {
        size_t k = (unsigned char)*p < 0x80 ? 1 : 0;
        for (size_t len = 2; !k && len <= 4 && p[len - 1]; len++)
            if (wm_utf8_valid(p, len))
                k = len;
        if (k) {
            memcpy(o, p, k);
            o += k, p += k;
        } else {
            memcpy(o, "\xef\xbf\xbd", 3);
            o += 3, p++;
        }
    }
    *o = 0;
    j = json_string(out);
    free(out);
    return j;
}

static int is_date_field(const char *name)
{
    return strcmp(name, "date") == 0 || strcmp(name, "due") == 0;
}

/* One value of field f found at p (a pointer to the C member). */
static json_t *value_json(const ProtobufCFieldDescriptor *f, const void *p)
{
    char buf[2 * WM_REC_MAX / 64 + 80];
    switch (f->type) {
    case PROTOBUF_C_TYPE_UINT32:
        if (is_date_field(f->name))
            return json_string(wm_date_format(*(const uint32_t *)p, buf));
        if (strcmp(f->name, "hours_x100") == 0)
            return json_real(*(const uint32_t *)p / 100.0);
        return json_integer(*(const uint32_t *)p);
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
        return json_integer(*(const int32_t *)p);
    case PROTOBUF_C_TYPE_UINT64:
        if (strcmp(f->name, "fen") == 0)
            return json_real((double)*(const uint64_t *)p / 100.0);
        return json_integer((json_int_t) * (const uint64_t *)p);
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
        return json_integer(*(const int64_t *)p);
    case PROTOBUF_C_TYPE_FIXED64: /* a bit pattern (Attachment.dhash): 16 hex digits, as a
                                   * JSON number would lose bits above 2^53 */
        snprintf(buf, sizeof buf, "%016" PRIx64, *(const uint64_t *)p);
        return json_string(buf);
    case PROTOBUF_C_TYPE_BOOL:
        return json_boolean(*(const protobuf_c_boolean *)p);
    case PROTOBUF_C_TYPE_ENUM:
        return json_string(wm_enum_slug(f->descriptor, *(const int *)p, buf, sizeof buf));
    case PROTOBUF_C_TYPE_STRING:
        return text_json(*(char *const *)p ? *(char *const *)p : "");
    case PROTOBUF_C_TYPE_BYTES: {
        const ProtobufCBinaryData *b = p;
        if (b->len * 2 + 1 > sizeof buf)
            return json_string("(too long)");
        return json_string(wm_hex(b->data, b->len, buf));
    }
    case PROTOBUF_C_TYPE_MESSAGE:
        return *(ProtobufCMessage *const *)p ? message_json(*(ProtobufCMessage *const *)p)
                                             : json_null();
    default:
        return json_null();
    }
}

static size_t type_size(ProtobufCType t)
{
    switch (t) {
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_FIXED64:
    case PROTOBUF_C_TYPE_SFIXED64:
    case PROTOBUF_C_TYPE_DOUBLE:
        return 8;
    case PROTOBUF_C_TYPE_BOOL:
        return sizeof(protobuf_c_boolean);
    case PROTOBUF_C_TYPE_STRING:
    case PROTOBUF_C_TYPE_MESSAGE:
        return sizeof(void *);
    case PROTOBUF_C_TYPE_BYTES:
        return sizeof(ProtobufCBinaryData);
    default:
        return 4;
    }
}

/* Nonzero if a proto3 singular field holds a non-default value. */
static int has_value(const ProtobufCFieldDescriptor *f, const void *p)
{
    switch (f->type) {
    case PROTOBUF_C_TYPE_STRING:
        return *(char *const *)p && (*(char *const *)p)[0];
    case PROTOBUF_C_TYPE_BYTES:
        return ((const ProtobufCBinaryData *)p)->len > 0;
    case PROTOBUF_C_TYPE_MESSAGE:
        return *(void *const *)p != NULL;
    default: {
        static const uint8_t zero[8];
        return memcmp(p, zero, type_size(f->type)) != 0;
    }
    }
}

static const char *json_name(const ProtobufCFieldDescriptor *f)
{
    if (strcmp(f->name, "hours_x100") == 0)
        return "hours";
    if (strcmp(f->name, "fen") == 0)
        return "yuan";
    return f->name;
}

static json_t *message_json(const ProtobufCMessage *m)
{
    const ProtobufCMessageDescriptor *d = m->descriptor;
    json_t *o = json_object();
    if (!o)
        return NULL;
    for (unsigned i = 0; i < d->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &d->fields[i];
        const char *base = (const char *)m;
        const void *p = base + f->offset;
        json_t *v = NULL;
        if (f->label == PROTOBUF_C_LABEL_REPEATED) {
            size_t n = *(const size_t *)(base + f->quantifier_offset);
            if (n == 0)
                continue;
            v = json_array();
            const char *arr = *(const char *const *)p;
            for (size_t k = 0; k < n; k++)
                json_array_append_new(v, value_json(f, arr + k * type_size(f->type)));
        } else {
            if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
                if (*(const uint32_t *)(base + f->quantifier_offset) != f->id)
                    continue;
            } else if (!has_value(f, p)) {
                continue;
            }
            v = value_json(f, p);
        }
        json_object_set_new(o, json_name(f), v);
    }
    return o;
}

json_t *wm_record_json(const wm_record_t *r, const wm_srec_t *v)
{
    json_t *o = message_json(&r->base);
    if (!o)
        return NULL;
    /* Header fields always appear, even when zero. */
    json_object_set_new(o, "seq", json_integer((json_int_t)r->seq));
    json_object_set_new(o, "epoch", json_integer(r->epoch));
    json_object_set_new(o, "kind", json_string(wm_record_kind(r)));
    if (r->body_case == WM__RECORD__BODY__NOT_SET)
        json_object_set_new(o, "unknown_fields", json_integer((json_int_t)r->base.n_unknown_fields));
    if (v) {
        uint8_t h[WM_HASH_BYTES];
        char hex[2 * WM_HASH_BYTES + 1];
        wm_srec_hash(v, h);
        json_object_set_new(o, "hash", json_string(wm_hex(h, sizeof h, hex)));
    }
    return o;
}
