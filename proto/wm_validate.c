/* SPDX-License-Identifier: MIT */
/* wm_validate — content rules for record bodies; see wm_validate.h. */
#include "wm_validate.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "wm_date.h"
#include "wm_i18n.h"
#include "wm_rollbin.h"

wm_err_t wm_reject(wm_reject_t *rej, const char *field, const char *fmt, ...)
{
    if (rej) {
        snprintf(rej->field, sizeof rej->field, "%s", field);
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(rej->why, sizeof rej->why, _(fmt), ap);
        va_end(ap);
    }
    return WM_EINVAL;
}

int wm_utf8_valid(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s, *end = p + len;
    while (p < end) {
        unsigned c = *p;
        if (c < 0x80) {
            if (c == 0 || (c < 0x20 && c != '\t') || c == 0x7f)
                return 0;
            p++;
            continue;
        }
        if ((c & 0xf0) == 0xe0 && end - p >= 3 && (p[1] & 0xc0) == 0x80 &&
            (p[2] & 0xc0) == 0x80) {
            /* Three bytes, the common case (Chinese): the same rules as
             * below, without the loop. */
            unsigned cp3 = ((c & 0x0fu) << 12) | ((p[1] & 0x3fu) << 6) | (p[2] & 0x3fu);
            if (cp3 < 0x800 || (cp3 >= 0xd800 && cp3 <= 0xdfff))
                return 0;
            p += 3;
            continue;
        }
        size_t n;
        unsigned cp, min;
        if ((c & 0xe0) == 0xc0) {
            n = 2, cp = c & 0x1f, min = 0x80;
        } else if ((c & 0xf0) == 0xe0) {
            n = 3, cp = c & 0x0f, min = 0x800;
        } else if ((c & 0xf8) == 0xf0) {
            n = 4, cp = c & 0x07, min = 0x10000;
        } else {
            return 0;
        }
        if ((size_t)(end - p) < n)
            return 0;
        for (size_t i = 1; i < n; i++) {
            if ((p[i] & 0xc0) != 0x80)
                return 0;
            cp = (cp << 6) | (p[i] & 0x3f);
        }
        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return 0;
        p += n;
    }
    return 1;
}

wm_err_t wm_validate_id(const char *id)
{
    size_t n = id ? strlen(id) : 0;
    if (n == 0 || n > WM_ID_MAX || id[0] == '/' || id[n - 1] == '/')
        return WM_EINVAL;
    for (size_t i = 0; i < n; i++) {
        char c = id[i];
        if (c == '/') {
            if (id[i + 1] == '/')
                return WM_EINVAL;
            continue;
        }
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_'))
            return WM_EINVAL;
    }
    return WM_OK;
}

/* A text field: valid UTF-8, at most WM_TEXT_MAX bytes, present if required. */
static WM_MUST_CHECK wm_err_t check_text(const char *s, const char *field, int required, wm_reject_t *rej)
{
    size_t n = s ? strlen(s) : 0;
    if (n == 0)
        return required ? wm_reject(rej, field, "%s is required", field) : WM_OK;
    if (n > WM_TEXT_MAX)
        return wm_reject(rej, field, "%s is %zu bytes; at most %d allowed", field, n,
                         WM_TEXT_MAX);
    if (!wm_utf8_valid(s, n))
        return wm_reject(rej, field, "%s is not valid UTF-8 text", field);
    return WM_OK;
}

static WM_MUST_CHECK wm_err_t check_date(uint32_t d, const char *field, uint32_t max, wm_reject_t *rej)
{
    char a[32], b[32];
    if (!wm_date_valid(d))
        return wm_reject(rej, field, "%s is not a calendar date (YYYY-MM-DD)", field);
    if (d < WM_DATE_MIN || d > max) /* the bounds as the reader writes dates */
        return wm_reject(rej, field, "%s must be between %s and %s", field,
                         wm_i18n_date(WM_DATE_MIN, a), wm_i18n_date(max, b));
    return WM_OK;
}

static WM_MUST_CHECK wm_err_t check_count(uint64_t v, const char *field, wm_reject_t *rej)
{
    char a[32], b[32];
    if (v > WM_COUNT_MAX)
        return wm_reject(rej, field, "%s is %s; at most %s allowed", field, wm_i18n_count(v, a),
                         wm_i18n_count(WM_COUNT_MAX, b));
    return WM_OK;
}

static WM_MUST_CHECK wm_err_t check_enum(const ProtobufCEnumDescriptor *d, int v, const char *field,
                           wm_reject_t *rej)
{
    char list[256];
    if (!wm_enum_known(d, v))
        return wm_reject(rej, field, "%s must be one of %s", field,
                         wm_enum_list(d, list, sizeof list));
    return WM_OK;
}

static WM_MUST_CHECK wm_err_t check_team_id(const char *team, wm_reject_t *rej)
{
    if (wm_validate_id(team) != WM_OK)
        return wm_reject(rej, "team",
                         "team must be a lowercase id of a-z, 0-9, '-' and '_' (got \"%s\")",
                         team ? team : "");
    return WM_OK;
}

#define TRY(expr)                                                                             \
    do {                                                                                      \
        wm_err_t rc_ = (expr);                                                                \
        if (rc_ != WM_OK)                                                                     \
            return rc_;                                                                       \
    } while (0)

int wm_attach_media_ok(const char *media_type, int photo)
{
    static const char *const images[] = {"image/jpeg", "image/png", "image/webp"};
    if (!media_type)
        return 0;
    for (size_t i = 0; i < sizeof images / sizeof images[0]; i++)
        if (!strcmp(media_type, images[i]))
            return 1;
    return !photo && !strcmp(media_type, "application/pdf");
}

/* One attachment; `field` is the flag that names it ("photo", "attach"),
 * i its place among the record's attachments (from 1), for people. */
static WM_MUST_CHECK wm_err_t check_attachment(const Wm__Attachment *x, const char *field,
                                               size_t i, wm_reject_t *rej)
{
    int photo = x->role == WM__ATTACHMENT_ROLE__PHOTO;
    if (x->hash.len != WM_ATTACH_HASH_BYTES)
        return wm_reject(rej, field, "attachment %zu: its hash must be %d bytes (BLAKE2b-256)",
                         i, WM_ATTACH_HASH_BYTES);
    if (x->size == 0 || x->size > WM_ATTACH_SIZE_MAX)
        return wm_reject(rej, field, "attachment %zu: its size must be 1 to %u bytes", i,
                         WM_ATTACH_SIZE_MAX);
    if (!wm_attach_media_ok(x->media_type, photo) && photo)
        return wm_reject(rej, field,
                         "attachment %zu: a photo must be image/jpeg, image/png or image/webp", i);
    if (!wm_attach_media_ok(x->media_type, photo))
        return wm_reject(rej, field, "attachment %zu: a sign-in sheet must be image/jpeg, "
                                     "image/png, image/webp or application/pdf", i);
    return WM_OK;
}

/* Evidence on an activity: counts per role, each attachment, no hash twice. */
static WM_MUST_CHECK wm_err_t check_attachments(const Wm__Activity *a, wm_reject_t *rej)
{
    size_t photos = 0, sheets = 0;
    for (size_t i = 0; i < a->n_attachments; i++) {
        const Wm__Attachment *x = a->attachments[i];
        const char *field = x->role == WM__ATTACHMENT_ROLE__SIGN_IN_SHEET ? "attach" : "photo";
        if (x->role == WM__ATTACHMENT_ROLE__PHOTO)
            photos++;
        else if (x->role == WM__ATTACHMENT_ROLE__SIGN_IN_SHEET)
            sheets++;
        else
            return wm_reject(rej, field, "attachment %zu: its role must be photo or "
                                         "sign_in_sheet", i + 1);
        if (photos > WM_PHOTOS_MAX)
            return wm_reject(rej, field, "at most %d photos allowed", WM_PHOTOS_MAX);
        if (sheets > WM_SHEETS_MAX)
            return wm_reject(rej, field, "at most %d sign-in sheet allowed", WM_SHEETS_MAX);
        TRY(check_attachment(x, field, i + 1, rej));
        for (size_t j = 0; j < i; j++)
            if (!memcmp(a->attachments[j]->hash.data, x->hash.data, WM_ATTACH_HASH_BYTES))
                return wm_reject(rej, field, "attachment %zu is the same file as attachment %zu",
                                 i + 1, j + 1);
    }
    return WM_OK;
}

static WM_MUST_CHECK wm_err_t check_activity(const Wm__Activity *a, uint32_t dmax, wm_reject_t *rej)
{
    TRY(check_date(a->date, "date", dmax, rej));
    TRY(check_enum(&wm__category__descriptor, a->category, "category", rej));
    if (a->category == WM__CATEGORY__VOLUNTEER_SERVICE)
        TRY(check_enum(&wm__service_kind__descriptor, a->service_kind, "service-kind", rej));
    else if (a->service_kind != WM__SERVICE_KIND__SERVICE_KIND_UNSPECIFIED)
        return wm_reject(rej, "service-kind",
                         "service-kind applies only to category volunteer_service");
    TRY(check_text(a->title, "title", 1, rej));
    TRY(check_text(a->place, "place", 0, rej));
    if (a->team && a->team[0])
        TRY(check_team_id(a->team, rej));
    TRY(check_count(a->participants, "participants", rej));
    TRY(check_count(a->volunteers, "volunteers", rej));
    TRY(check_count(a->hours_x100, "hours", rej));
    if (a->n_tags > WM_TAGS_MAX)
        return wm_reject(rej, "festival", "at most %d tags allowed", WM_TAGS_MAX);
    for (size_t i = 0; i < a->n_tags; i++)
        TRY(check_text(a->tags[i], "festival", 1, rej));
    TRY(check_attachments(a, rej));
    return WM_OK;
}

static WM_MUST_CHECK wm_err_t check_team(const Wm__Team *t, wm_reject_t *rej)
{
    TRY(check_team_id(t->team, rej));
    /* Unspecified means "create or rename, whichever applies": the daemon
     * settles it against the log before signing. */
    if (t->action != WM__TEAM_ACTION__TEAM_ACTION_UNSPECIFIED)
        TRY(check_enum(&wm__team_action__descriptor, t->action, "action", rej));
    if (t->action != WM__TEAM_ACTION__DISBAND)
        TRY(check_text(t->name, "name", 1, rej));
    if (t->action == WM__TEAM_ACTION__CREATE || t->kind != WM__TEAM_KIND__TEAM_KIND_UNSPECIFIED)
        TRY(check_enum(&wm__team_kind__descriptor, t->kind, "kind", rej));
    TRY(check_text(t->trade, "trade", 0, rej));
    return WM_OK;
}

/* Needs and orders (record.proto 30–39). */
static WM_MUST_CHECK wm_err_t check_id(const char *id, const char *field, int required,
                                       wm_reject_t *rej)
{
    if ((!id || !id[0]) && !required)
        return WM_OK;
    if (wm_validate_id(id) != WM_OK)
        return wm_reject(rej, field,
                         "%s must be a lowercase id of a-z, 0-9, '-', '_' and '/' (got \"%s\")",
                         field, id ? id : "");
    return WM_OK;
}

static WM_MUST_CHECK wm_err_t check_seq(uint64_t seq, const char *field, wm_reject_t *rej)
{
    if (seq == 0)
        return wm_reject(rej, field, "%s must name an existing record (seq 1 or more)", field);
    return WM_OK;
}

static WM_MUST_CHECK wm_err_t check_longtext(const char *s, const char *field, size_t max,
                                             wm_reject_t *rej)
{
    size_t n = s ? strlen(s) : 0;
    if (n == 0)
        return wm_reject(rej, field, "%s is required", field);
    if (n > max)
        return wm_reject(rej, field, "%s is %zu bytes; at most %zu allowed", field, n, max);
    if (!wm_utf8_valid(s, n))
        return wm_reject(rej, field, "%s is not valid UTF-8 text", field);
    return WM_OK;
}

/* The reference to an order every order record after the first carries. */
static WM_MUST_CHECK wm_err_t check_order_ref(const char *station, uint64_t seq, wm_reject_t *rej)
{
    TRY(check_id(station, "order", 1, rej));
    return check_seq(seq, "order", rej);
}

static WM_MUST_CHECK wm_err_t check_need(const Wm__Need *x, uint32_t dmax, wm_reject_t *rej)
{
    TRY(check_date(x->date, "date", dmax, rej));
    TRY(check_text(x->title, "title", 1, rej));
    TRY(check_enum(&wm__service_kind__descriptor, x->service_kind, "service-kind", rej));
    TRY(check_text(x->detail, "detail", 0, rej));
    return check_id(x->resident_ref, "resident", 0, rej);
}

static WM_MUST_CHECK wm_err_t check_need_review(const Wm__NeedReview *x, uint32_t dmax,
                                                wm_reject_t *rej)
{
    TRY(check_date(x->date, "date", dmax, rej));
    TRY(check_id(x->need_station, "need", 1, rej));
    TRY(check_seq(x->need_seq, "need", rej));
    return check_text(x->reason, "reason", !x->accept, rej);
}

static WM_MUST_CHECK wm_err_t check_service_order(const Wm__ServiceOrder *x, uint32_t dmax,
                                                  wm_reject_t *rej)
{
    TRY(check_date(x->date, "date", dmax, rej));
    TRY(check_text(x->title, "title", 1, rej));
    TRY(check_enum(&wm__service_kind__descriptor, x->service_kind, "service-kind", rej));
    TRY(check_date(x->due, "due", WM_DATE_MAX, rej));
    TRY(check_id(x->to_station, "to", 0, rej));
    TRY(check_id(x->to_team, "team", 0, rej));
    if (x->n_needs > WM_NEEDS_MAX)
        return wm_reject(rej, "needs", "at most %d needs allowed", WM_NEEDS_MAX);
    for (size_t i = 0; i < x->n_needs; i++)
        TRY(check_text(x->needs[i], "needs", 1, rej));
    return check_text(x->from_order, "from-order", 0, rej);
}

static WM_MUST_CHECK wm_err_t check_rating(const Wm__Rating *x, uint32_t dmax, wm_reject_t *rej)
{
    TRY(check_date(x->date, "date", dmax, rej));
    TRY(check_order_ref(x->order_station, x->order_seq, rej));
    TRY(check_enum(&wm__score__descriptor, x->score, "score", rej));
    return check_text(x->comment, "comment", 0, rej);
}

static WM_MUST_CHECK wm_err_t check_notice(const Wm__Notice *x, uint32_t dmax, wm_reject_t *rej)
{
    TRY(check_date(x->date, "date", dmax, rej));
    TRY(check_text(x->title, "title", 1, rej));
    TRY(check_longtext(x->body, "body", WM_NOTICE_MAX, rej));
    return check_id(x->audience, "to", 0, rej);
}

/* A key rollover: the day, the new key, and the epoch it signs from,
 * above the record's own (PROTOCOL.md §8, Key rollover). */
static WM_MUST_CHECK wm_err_t check_rollover(const wm_record_t *r, uint32_t dmax,
                                             wm_reject_t *rej)
{
    const Wm__KeyRollover *x = r->key_rollover;
    TRY(check_date(x->date, "date", dmax, rej));
    if (x->new_sign_pub.len != WM_PUB_BYTES)
        return wm_reject(rej, "key", "the new key must be %d bytes (an Ed25519 public key)",
                         WM_PUB_BYTES);
    if (x->from_epoch <= r->epoch || x->from_epoch - r->epoch > WM_ROLLOVER_STEP_MAX)
        return wm_reject(rej, "from_epoch",
                         "from_epoch must lie 1 to %d above the record's own epoch %u",
                         WM_ROLLOVER_STEP_MAX, (unsigned)r->epoch);
    return WM_OK;
}

/* The kinds that refer to an order, beside their own fields. */
static WM_MUST_CHECK wm_err_t check_order_step(const wm_record_t *r, uint32_t dmax,
                                               wm_reject_t *rej)
{
    switch (r->body_case) {
    case WM__RECORD__BODY_ORDER_ACCEPT:
        TRY(check_date(r->order_accept->date, "date", dmax, rej));
        TRY(check_order_ref(r->order_accept->order_station, r->order_accept->order_seq, rej));
        return check_id(r->order_accept->team, "team", 0, rej);
    case WM__RECORD__BODY_ORDER_DONE:
        TRY(check_date(r->order_done->date, "date", dmax, rej));
        TRY(check_order_ref(r->order_done->order_station, r->order_done->order_seq, rej));
        return check_seq(r->order_done->activity_seq, "seq", rej);
    case WM__RECORD__BODY_ORDER_CANCEL:
        TRY(check_date(r->order_cancel->date, "date", dmax, rej));
        TRY(check_order_ref(r->order_cancel->order_station, r->order_cancel->order_seq, rej));
        return check_text(r->order_cancel->reason, "reason", 1, rej);
    case WM__RECORD__BODY_ORDER_ASSIGNED: {
        const Wm__OrderAssigned *x = r->order_assigned;
        TRY(check_date(x->date, "date", dmax, rej));
        TRY(check_order_ref(x->order_station, x->order_seq, rej));
        TRY(check_id(x->station, "station", 1, rej));
        TRY(check_id(x->team, "team", 0, rej));
        return check_seq(x->accept_seq, "accept", rej);
    }
    default: { /* WM__RECORD__BODY_ORDER_COMPLETED */
        const Wm__OrderCompleted *x = r->order_completed;
        TRY(check_date(x->date, "date", dmax, rej));
        TRY(check_order_ref(x->order_station, x->order_seq, rej));
        TRY(check_id(x->station, "station", 1, rej));
        return check_seq(x->done_seq, "done", rej);
    }
    }
}

/* Needs and orders: NULL-free dispatch for wm_validate_body. */
static WM_MUST_CHECK wm_err_t check_orders_kind(const wm_record_t *r, uint32_t dmax,
                                                wm_reject_t *rej)
{
    switch (r->body_case) {
    case WM__RECORD__BODY_NEED:
        return check_need(r->need, dmax, rej);
    case WM__RECORD__BODY_NEED_REVIEW:
        return check_need_review(r->need_review, dmax, rej);
    case WM__RECORD__BODY_SERVICE_ORDER:
        return check_service_order(r->service_order, dmax, rej);
    case WM__RECORD__BODY_RATING:
        return check_rating(r->rating, dmax, rej);
    case WM__RECORD__BODY_NOTICE:
        return check_notice(r->notice, dmax, rej);
    case WM__RECORD__BODY_ORDER_ACCEPT:
    case WM__RECORD__BODY_ORDER_DONE:
    case WM__RECORD__BODY_ORDER_CANCEL:
    case WM__RECORD__BODY_ORDER_ASSIGNED:
    case WM__RECORD__BODY_ORDER_COMPLETED:
        return check_order_step(r, dmax, rej);
    case WM__RECORD__BODY_KEY_ROLLOVER:
        return check_rollover(r, dmax, rej);
    default:
        return wm_reject(rej, "kind", "this build cannot write records of this kind");
    }
}

wm_writer_t wm_validate_writer(Wm__Record__BodyCase kind)
{
    switch (kind) {
    case WM__RECORD__BODY_NEED:
    case WM__RECORD__BODY_ORDER_ACCEPT:
    case WM__RECORD__BODY_ORDER_DONE:
    case WM__RECORD__BODY_RATING:
        return WM_WRITER_STATION;
    case WM__RECORD__BODY_NEED_REVIEW:
    case WM__RECORD__BODY_SERVICE_ORDER:
    case WM__RECORD__BODY_ORDER_CANCEL:
    case WM__RECORD__BODY_NOTICE:
    case WM__RECORD__BODY_ORDER_ASSIGNED:
    case WM__RECORD__BODY_ORDER_COMPLETED:
        return WM_WRITER_AGGREGATOR;
    default:
        return WM_WRITER_ANY;
    }
}

wm_err_t wm_validate_writer_check(const wm_record_t *r, int aggregator, wm_reject_t *rej)
{
    wm_writer_t w = wm_validate_writer(r->body_case);
    if (w == WM_WRITER_AGGREGATOR && !aggregator)
        return wm_reject(rej, "kind",
                         "a station does not write %s records: only its aggregator does",
                         wm_record_kind(r));
    if (w == WM_WRITER_STATION && aggregator)
        return wm_reject(rej, "kind",
                         "an aggregator does not write %s records: only a station does",
                         wm_record_kind(r));
    return WM_OK;
}

int wm_validate_applies(const wm_record_t *r)
{
    /* protobuf-c leaves body_case unset both for no body and for a body
     * field this build does not know (kept among the unknown fields). */
    return r->body_case != WM__RECORD__BODY__NOT_SET;
}

/* The latest date a record may name when it is checked on today: kept
 * for the last today asked (ingest asks the same for every record). */
static uint32_t date_max(uint32_t today)
{
    static _Thread_local uint32_t last_today, last_max;
    if (today != last_today || !last_max) {
        last_max = wm_date_from_days(wm_date_to_days(today) + WM_FUTURE_DAYS);
        last_today = today;
    }
    return last_max;
}

wm_err_t wm_validate_body(const wm_record_t *r, uint32_t today, wm_reject_t *rej)
{
    uint32_t dmax = date_max(today);
    switch (r->body_case) {
    case WM__RECORD__BODY_ACTIVITY:
        return check_activity(r->activity, dmax, rej);
    case WM__RECORD__BODY_PUBLICITY:
        TRY(check_date(r->publicity->date, "date", dmax, rej));
        TRY(check_enum(&wm__channel__descriptor, r->publicity->channel, "channel", rej));
        return check_count(r->publicity->count, "count", rej);
    case WM__RECORD__BODY_VOLUNTEERS:
        TRY(check_date(r->volunteers->date, "date", dmax, rej));
        TRY(check_count(r->volunteers->registered, "registered", rej));
        TRY(check_count(r->volunteers->verified, "verified", rej));
        return WM_OK;
    case WM__RECORD__BODY_RECRUITMENT:
        TRY(check_date(r->recruitment->date, "date", dmax, rej));
        return check_count(r->recruitment->count, "count", rej);
    case WM__RECORD__BODY_TEAM:
        return check_team(r->team, rej);
    case WM__RECORD__BODY_FUNDING:
        TRY(check_date(r->funding->date, "date", dmax, rej));
        if (r->funding->fen > WM_FEN_MAX)
            return wm_reject(rej, "yuan", "yuan is implausibly large");
        return check_text(r->funding->source, "source", 1, rej);
    case WM__RECORD__BODY_SITE:
        return check_date(r->site->date, "date", dmax, rej);
    case WM__RECORD__BODY_PLAN:
        TRY(check_text(r->plan->title, "title", 1, rej));
        return check_date(r->plan->due, "due", WM_DATE_MAX, rej);
    case WM__RECORD__BODY_PLAN_DONE:
        if (r->plan_done->plan_seq == 0)
            return wm_reject(rej, "plan", "plan must name the seq of a plan record");
        return check_date(r->plan_done->date, "date", dmax, rej);
    case WM__RECORD__BODY_VOID:
        if (r->void_->target_seq == 0)
            return wm_reject(rej, "seq", "seq must name an existing record (1 or more)");
        return check_text(r->void_->reason, "reason", 1, rej);
    case WM__RECORD__BODY_ROLLUP: {
        wm_period_t p;
        const Wm__RollupReport *x = r->rollup;
        if (!x->period || wm_period_parse(x->period, &p) != WM_OK || p.from != x->from ||
            p.to != x->to)
            return wm_reject(rej, "period", "period is not a valid period");
        if (!x->json || !x->json[0] || !wm_utf8_valid(x->json, strlen(x->json)))
            return wm_reject(rej, "json", "the rollup is empty or not UTF-8");
        return WM_OK;
    }
    case WM__RECORD__BODY_ROLLUP_PART: {
        wm_period_t p;
        const Wm__RollupPart *x = r->rollup_part;
        if (!x->period || wm_period_parse(x->period, &p) != WM_OK || p.from != x->from ||
            p.to != x->to)
            return wm_reject(rej, "period", "period is not a valid period");
        if (x->part >= WM_ROLLBIN_PARTS_MAX)
            return wm_reject(rej, "part", "part must be 0 to %d", WM_ROLLBIN_PARTS_MAX - 1);
        if (x->parts > WM_ROLLBIN_PARTS_MAX)
            return wm_reject(rej, "parts", "parts must be at most %d", WM_ROLLBIN_PARTS_MAX);
        if (x->data.len == 0 || x->data.len > WM_ROLLBIN_PART_MAX)
            return wm_reject(rej, "data", "a part holds 1 to %d bytes", WM_ROLLBIN_PART_MAX);
        return WM_OK;
    }
    default:
        return check_orders_kind(r, dmax, rej);
    }
}

/* The rules wm_validate_body applies, as data (see wm_validate.h). Keep a
 * row beside each check: test_rules fails when they disagree. */
#define C(k, f, n, max, unit) {k, f, n, WM_RULE_COUNT, NULL, max, WM_REQ_NO, NULL, unit, "1"}
#define E(k, f, n, d, req, when, sample) {k, f, n, WM_RULE_ENUM, d, 0, req, when, NULL, sample}
#define T(k, f, n, req, sample) {k, f, n, WM_RULE_TEXT, NULL, 0, req, NULL, NULL, sample}
#define DATE(k, f) {k, f, f, WM_RULE_DATE, NULL, 0, WM_REQ_YES, NULL, NULL, "20240301"}
#define ANY(k, f) {k, f, f, WM_RULE_ANY, NULL, 0, WM_REQ_NO, NULL, NULL, "1"}
#define ID(k, f, n, req) {k, f, n, WM_RULE_ID, NULL, 0, req, NULL, NULL, "t1"}
#define SEQ(k, f, n) {k, f, n, WM_RULE_SEQ, NULL, 0, WM_REQ_YES, NULL, NULL, "1"}
#define ORDER(k)                                                                              \
    ID(k, "order_station", "order", WM_REQ_YES), ANY(k, "order_epoch"), SEQ(k, "order_seq", "order")
static const wm_rule_t rules[] = {
    DATE("activity", "date"),
    E("activity", "category", "category", &wm__category__descriptor, WM_REQ_YES, NULL, "6"),
    E("activity", "service_kind", "service-kind", &wm__service_kind__descriptor, WM_REQ_IF,
      "if category is volunteer_service; must be 0 otherwise", "1"),
    T("activity", "title", "title", WM_REQ_YES, "x"),
    T("activity", "place", "place", WM_REQ_NO, "x"),
    {"activity", "team", "team", WM_RULE_ID, NULL, 0, WM_REQ_NO, NULL, NULL, "t1"},
    C("activity", "participants", "participants", WM_COUNT_MAX, NULL),
    C("activity", "volunteers", "volunteers", WM_COUNT_MAX, NULL),
    C("activity", "hours_x100", "hours", WM_COUNT_MAX, "1/100 hour"),
    {"activity", "tags", "festival", WM_RULE_TAGS, NULL, WM_TAGS_MAX, WM_REQ_NO, NULL, NULL,
     "x"},
    {"activity", "attachments", "photo", WM_RULE_ATTACHMENTS, &wm__attachment_role__descriptor,
     WM_PHOTOS_MAX, WM_REQ_NO, NULL, NULL, ""},
    DATE("publicity", "date"),
    E("publicity", "channel", "channel", &wm__channel__descriptor, WM_REQ_YES, NULL, "1"),
    C("publicity", "count", "count", WM_COUNT_MAX, NULL),
    DATE("volunteers", "date"),
    C("volunteers", "registered", "registered", WM_COUNT_MAX, NULL),
    C("volunteers", "verified", "verified", WM_COUNT_MAX, NULL),
    DATE("recruitment", "date"),
    C("recruitment", "count", "count", WM_COUNT_MAX, NULL),
    {"team", "team", "team", WM_RULE_ID, NULL, 0, WM_REQ_YES, NULL, NULL, "t1"},
    E("team", "action", "action", &wm__team_action__descriptor, WM_REQ_NO,
      NULL, "1"),
    {"team", "name", "name", WM_RULE_TEXT, NULL, 0, WM_REQ_IF, "unless action is disband",
     NULL, "x"},
    E("team", "kind", "kind", &wm__team_kind__descriptor, WM_REQ_IF,
      "if action is create; otherwise 0 or a known kind", "1"),
    T("team", "trade", "trade", WM_REQ_NO, "x"),
    DATE("funding", "date"),
    C("funding", "fen", "yuan", WM_FEN_MAX, "fen (1/100 yuan)"),
    T("funding", "source", "source", WM_REQ_YES, "x"),
    DATE("site", "date"),
    ANY("site", "plaque"), ANY("site", "rules"), ANY("site", "equipment"),
    ANY("site", "manager"), ANY("site", "ledger"), ANY("site", "plan"), ANY("site", "theme"),
    ANY("site", "model_station"),
    T("plan", "title", "title", WM_REQ_YES, "x"),
    {"plan", "due", "due", WM_RULE_DUE, NULL, 0, WM_REQ_YES, NULL, NULL, "20240531"},
    ANY("plan_done", "plan_epoch"),
    {"plan_done", "plan_seq", "plan", WM_RULE_SEQ, NULL, 0, WM_REQ_YES, NULL, NULL, "1"},
    DATE("plan_done", "date"),
    ANY("void", "target_epoch"),
    {"void", "target_seq", "seq", WM_RULE_SEQ, NULL, 0, WM_REQ_YES, NULL, NULL, "1"},
    T("void", "reason", "reason", WM_REQ_YES, "x"),
    {"rollup", "period", "period", WM_RULE_PERIOD, NULL, 0, WM_REQ_YES, NULL, NULL, "2024-05"},
    {"rollup", "from", "period", WM_RULE_PERIOD_DAY, NULL, 0, WM_REQ_YES, NULL, NULL,
     "20240501"},
    {"rollup", "to", "period", WM_RULE_PERIOD_DAY, NULL, 0, WM_REQ_YES, NULL, NULL, "20240531"},
    {"rollup", "json", "json", WM_RULE_JSON, NULL, 0, WM_REQ_YES, NULL, NULL, "{}"},
    {"rollup_part", "period", "period", WM_RULE_PERIOD, NULL, 0, WM_REQ_YES, NULL, NULL,
     "2024-05"},
    {"rollup_part", "from", "period", WM_RULE_PERIOD_DAY, NULL, 0, WM_REQ_YES, NULL, NULL,
     "20240501"},
    {"rollup_part", "to", "period", WM_RULE_PERIOD_DAY, NULL, 0, WM_REQ_YES, NULL, NULL,
     "20240531"},
    {"rollup_part", "part", "part", WM_RULE_COUNT, NULL, WM_ROLLBIN_PARTS_MAX - 1, WM_REQ_NO, NULL,
     NULL, "0"},
    {"rollup_part", "parts", "parts", WM_RULE_COUNT, NULL, WM_ROLLBIN_PARTS_MAX, WM_REQ_NO, NULL,
     NULL, "1"},
    {"rollup_part", "data", "data", WM_RULE_BYTES, NULL, WM_ROLLBIN_PART_MAX, WM_REQ_YES, NULL, NULL,
     "x"},
    DATE("need", "date"),
    T("need", "title", "title", WM_REQ_YES, "x"),
    E("need", "service_kind", "service-kind", &wm__service_kind__descriptor, WM_REQ_YES, NULL, "6"),
    T("need", "detail", "detail", WM_REQ_NO, "x"),
    ID("need", "resident_ref", "resident", WM_REQ_NO),
    DATE("need_review", "date"),
    ID("need_review", "need_station", "need", WM_REQ_YES),
    ANY("need_review", "need_epoch"),
    SEQ("need_review", "need_seq", "need"),
    {"need_review", "accept", "accept", WM_RULE_ANY, NULL, 0, WM_REQ_NO, NULL, NULL, "0"},
    {"need_review", "reason", "reason", WM_RULE_TEXT, NULL, 0, WM_REQ_IF, "unless accept",
     NULL, "x"},
    DATE("service_order", "date"),
    T("service_order", "title", "title", WM_REQ_YES, "x"),
    E("service_order", "service_kind", "service-kind", &wm__service_kind__descriptor,
      WM_REQ_YES, NULL, "6"),
    {"service_order", "due", "due", WM_RULE_DUE, NULL, 0, WM_REQ_YES, NULL, NULL, "20240531"},
    ID("service_order", "to_station", "to", WM_REQ_NO),
    ID("service_order", "to_team", "team", WM_REQ_NO),
    {"service_order", "needs", "needs", WM_RULE_TAGS, NULL, WM_NEEDS_MAX, WM_REQ_NO, NULL, NULL,
     "xx/t/s1:1:3"},
    T("service_order", "from_order", "from-order", WM_REQ_NO, "xx:1:3"),
    DATE("order_accept", "date"), ORDER("order_accept"),
    ID("order_accept", "team", "team", WM_REQ_NO),
    DATE("order_done", "date"), ORDER("order_done"),
    ANY("order_done", "activity_epoch"),
    SEQ("order_done", "activity_seq", "seq"),
    DATE("rating", "date"), ORDER("rating"),
    E("rating", "score", "score", &wm__score__descriptor, WM_REQ_YES, NULL, "5"),
    T("rating", "comment", "comment", WM_REQ_NO, "x"),
    DATE("order_cancel", "date"), ORDER("order_cancel"),
    T("order_cancel", "reason", "reason", WM_REQ_YES, "x"),
    DATE("notice", "date"),
    T("notice", "title", "title", WM_REQ_YES, "x"),
    {"notice", "body", "body", WM_RULE_LONGTEXT, NULL, WM_NOTICE_MAX, WM_REQ_YES, NULL, NULL,
     "x"},
    ID("notice", "audience", "to", WM_REQ_NO),
    DATE("order_assigned", "date"), ORDER("order_assigned"),
    ID("order_assigned", "station", "station", WM_REQ_YES),
    ID("order_assigned", "team", "team", WM_REQ_NO),
    ANY("order_assigned", "accept_epoch"),
    SEQ("order_assigned", "accept_seq", "accept"),
    DATE("order_completed", "date"), ORDER("order_completed"),
    ID("order_completed", "station", "station", WM_REQ_YES),
    ANY("order_completed", "done_epoch"),
    SEQ("order_completed", "done_seq", "done"),
    DATE("key_rollover", "date"),
    {"key_rollover", "new_sign_pub", "key", WM_RULE_KEY, NULL, WM_PUB_BYTES, WM_REQ_YES, NULL,
     NULL, "0123456789abcdef0123456789abcdef"},
    {"key_rollover", "from_epoch", "from_epoch", WM_RULE_EPOCH_NEXT, NULL, WM_ROLLOVER_STEP_MAX,
     WM_REQ_YES, NULL, NULL, "2"},
};
#undef C
#undef E
#undef T
#undef DATE
#undef ANY
#undef ID
#undef SEQ
#undef ORDER

const wm_rule_t *wm_validate_rules(size_t *n)
{
    *n = sizeof rules / sizeof rules[0];
    return rules;
}
