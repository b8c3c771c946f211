/* SPDX-License-Identifier: MIT */
/*
 * wm_validate — the content rules every record body must meet before a
 * station signs it: dates in range, known categories, kinds and channels,
 * sane counts, valid UTF-8 text, well-formed ids. Context rules (does the
 * team exist, is the void target already voided) need the log and live in
 * the daemon. No I/O; thread-safe.
 */
#ifndef WM_VALIDATE_H
#define WM_VALIDATE_H

#include <stddef.h>
#include <stdint.h>

#include "wm_err.h"
#include "wm_record.h"

#define WM_TEXT_MAX 256        /* bytes in a title, name, place, reason … */
#define WM_ID_MAX 128          /* bytes in a station or team id */
#define WM_COUNT_MAX 10000000u /* largest count in one record */
#define WM_FUTURE_DAYS 1       /* how far past today a dated record may be */
#define WM_NOTICE_MAX 4096     /* bytes in a notice's body (a few paragraphs) */
#define WM_NEEDS_MAX 16        /* needs one service order answers */
#define WM_TAGS_MAX 16         /* festival / theme tags on one activity */
/* How far above its own epoch a key rollover may name the first epoch of
 * the new key: the same bound as a new epoch at ingest (WM_EPOCH_STEP_MAX
 * in storage/wm_ingest.h, which says why). */
#define WM_ROLLOVER_STEP_MAX 64
/* Evidence on one activity (record.proto Attachment): the provincial
 * platforms ask for up to nine photos (the nine-grid of a WeChat post) and
 * one scanned sign-in sheet. */
#define WM_PHOTOS_MAX 9
#define WM_SHEETS_MAX 1
/* Largest stored attachment: a multi-page scanned sign-in sheet (PDFs are
 * kept as they are); a normalised photo is 0.2-0.6 MB. Blobs move in
 * chunks, so this bounds disk and a station's backlog, not a message. */
#define WM_ATTACH_SIZE_MAX (16u * 1024 * 1024)
#define WM_ATTACH_HASH_BYTES 32 /* BLAKE2b-256 of the stored file */
/* Largest funding in one record, in fen: 10^9 yuan, far above any real
 * grant, small enough that sums over a county cannot overflow. */
#define WM_FEN_MAX ((uint64_t)WM_COUNT_MAX * 100 * 100)

/* Why a record was refused: the field at fault and a sentence for people. */
typedef struct {
    char field[32];
    char why[WM_WHY_MAX];
} wm_reject_t;

/* Checks the body of r against the content rules, with `today` (YYYYMMDD)
 * as the upper bound of past-event dates. WM_OK, or WM_EINVAL with *rej
 * filled in. The header is not checked (the daemon writes it). */
WM_MUST_CHECK wm_err_t wm_validate_body(const wm_record_t *r, uint32_t today, wm_reject_t *rej);

/* Nonzero if media_type is one an attachment may have: image/jpeg,
 * image/png, image/webp, application/pdf (a sign-in sheet only). */
int wm_attach_media_ok(const char *media_type, int photo);

/* Nonzero if s[0..len) is well-formed UTF-8 with no NUL and no C0 control
 * characters other than tab. */
int wm_utf8_valid(const char *s, size_t len);

/* WM_OK if id is a lowercase slug path: segments of [a-z0-9_-], joined by
 * single '/', 1..WM_ID_MAX bytes, no leading, trailing or double slash. */
WM_MUST_CHECK wm_err_t wm_validate_id(const char *id);

/* Nonzero if the content rules apply to r: its body is of a kind this
 * build knows. A record with no body, or of a kind added by a later build,
 * is stored and forwarded unchecked (it counts nowhere). */
int wm_validate_applies(const wm_record_t *r);

/* ---- who may write what (PROTOCOL.md §3) ----
 * The needs-and-orders kinds belong to one tier: a station raises needs,
 * takes, completes and rates orders; an aggregator reviews needs, makes,
 * cancels and assigns orders, sends notices. A station's daemon refuses to
 * write an aggregator's kind and an aggregator's daemon a station's; an
 * aggregator's ingest refuses a child's record of the other tier's kind
 * (reject `wrong_tier`). Every other kind (and a kind this build does not
 * know) may be written at any tier, as far as this table says. */
typedef enum {
    WM_WRITER_ANY = 0,     /* any node */
    WM_WRITER_STATION,     /* only a station */
    WM_WRITER_AGGREGATOR,  /* only an aggregator (town and above) */
} wm_writer_t;

/* The tier that may write a record of body kind `kind`. Thread-safe. */
wm_writer_t wm_validate_writer(Wm__Record__BodyCase kind);

/* WM_OK if a node that is an aggregator (nonzero) or a station (0) may
 * write r's kind; else WM_EINVAL with *rej naming the field "kind" and the
 * tier that writes it (translated, wm_i18n.h). */
WM_MUST_CHECK wm_err_t wm_validate_writer_check(const wm_record_t *r, int aggregator,
                                                wm_reject_t *rej);

/* ---- the content rules as data ----
 * One row per field of every kind this build knows: how wm_validate_body
 * checks it. proto/PROTOCOL.md's table of content rules is printed from
 * these rows (gen_rules_md), and tests/unit/test_rules.c checks each row
 * against wm_validate_body with boundary values, so the three agree. */
typedef enum {
    WM_RULE_DATE = 1, /* YYYYMMDD calendar day, WM_DATE_MIN .. tomorrow when a station
                       * records it; .. WM_DATE_MAX at ingest (the station's clock) */
    WM_RULE_DUE,      /* YYYYMMDD calendar day, WM_DATE_MIN .. WM_DATE_MAX */
    WM_RULE_ENUM,     /* a value the enum names (0, unspecified, is no value) */
    WM_RULE_TEXT,     /* UTF-8 text, no NUL or control characters but tab,
                       * at most WM_TEXT_MAX bytes */
    WM_RULE_TAGS,     /* repeated TEXT, each non-empty, at most max items */
    WM_RULE_ID,       /* lowercase id: wm_validate_id */
    WM_RULE_COUNT,    /* integer 0 .. max */
    WM_RULE_SEQ,      /* the seq of a record of the same log: 1 or more */
    WM_RULE_PERIOD,   /* a period name wm_period_parse accepts */
    WM_RULE_PERIOD_DAY, /* the first (from) or last (to) day of the period */
    WM_RULE_JSON,     /* non-empty UTF-8 text; its content is not checked */
    WM_RULE_ANY,      /* any value of its type: not checked */
    WM_RULE_BYTES,    /* bytes, 1 .. max of them */
    WM_RULE_LONGTEXT, /* as TEXT, at most max bytes (a notice's body) */
    WM_RULE_KEY,      /* bytes: exactly WM_PUB_BYTES (an Ed25519 public key) */
    WM_RULE_EPOCH_NEXT, /* an epoch above the record's own, at most
                         * WM_ROLLOVER_STEP_MAX above it */
    WM_RULE_ATTACHMENTS, /* repeated Attachment: at most max photos and
                          * WM_SHEETS_MAX sign-in sheets; each as
                          * wm_validate_attachment says; no hash twice */
} wm_rule_form_t;

typedef enum {
    WM_REQ_NO = 0, /* 0 / empty is valid */
    WM_REQ_YES,    /* 0 / empty is refused */
    WM_REQ_IF,     /* required under the condition in `when` */
} wm_rule_req_t;

typedef struct {
    const char *kind;   /* the body field of Record in record.proto: "activity" */
    const char *field;  /* the field of that kind's message: "hours_x100" */
    const char *name;   /* what a rejection names (wm_reject_t.field): "hours" */
    wm_rule_form_t form;
    const ProtobufCEnumDescriptor *enum_d; /* WM_RULE_ENUM */
    uint64_t max;       /* COUNT: largest value; TAGS: most items; BYTES: most bytes */
    wm_rule_req_t req;
    const char *when;   /* WM_REQ_IF: the condition, for people */
    const char *unit;   /* COUNT: what one unit is, or NULL */
    const char *sample; /* a valid value (decimal, or the text) */
} wm_rule_t;

/* The rows, in record.proto order; *n is set to their number. Static
 * data, valid for the life of the program. */
const wm_rule_t *wm_validate_rules(size_t *n);

/* Formats a rejection, fmt translated (wm_i18n.h: the calling thread's
 * language). Returns WM_EINVAL, for `return wm_reject(...)`. */
WM_MUST_CHECK wm_err_t wm_reject(wm_reject_t *rej, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
