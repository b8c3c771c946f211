/* SPDX-License-Identifier: MIT */
/*
 * wm_record — the record codec: encode, decode, hash, sign, verify.
 * No I/O. The only module that calls protobuf-c pack/unpack for records.
 *
 * Wire and storage form of a signed record ("srec"):
 *
 *     offset  size  field
 *     0       64    sig    Ed25519 over WM_CTX_RECORD "\0" || bytes
 *     64      n     bytes  the Record message exactly as signed
 *
 * A record's hash is BLAKE2b-256 of the whole srec (signature and bytes);
 * the next record's `prev` holds it. So the one signature that is verified
 * for a batch, the last one, also pins every signature before it.
 * Records are never re-encoded to verify: the bytes are the record.
 *
 * Decoded records are the generated Wm__Record structs (record.pb-c.h);
 * every other module may read them but only this one packs or unpacks.
 * Thread-safe; no state.
 */
#ifndef WM_RECORD_H
#define WM_RECORD_H

#include <stddef.h>
#include <stdint.h>

#include "record.pb-c.h"
#include "wm_crypto.h"
#include "wm_err.h"

#define WM_SCHEMA 1                 /* schema version this build writes */
#define WM_REC_MAX (64 * 1024)      /* largest record bytes accepted */
#define WM_SREC_MIN (WM_SIG_BYTES + 1)

typedef Wm__Record wm_record_t;

/* A view of a signed record inside someone else's buffer. */
typedef struct {
    const uint8_t *sig;   /* WM_SIG_BYTES */
    const uint8_t *bytes; /* the record bytes */
    size_t len;
} wm_srec_t;

/* Splits buf into signature and bytes; checks lengths only.
 * WM_EDECODE if too short, WM_ETOOBIG if the record exceeds WM_REC_MAX.
 * The view points into buf and is valid as long as buf. */
WM_MUST_CHECK wm_err_t wm_srec_view(const uint8_t *buf, size_t len, wm_srec_t *out);
/* Nonzero if the stored srec v is exactly srec (len bytes): signature and
 * record bytes alike. */
int wm_srec_same(const wm_srec_t *v, const uint8_t *srec, size_t len);

/* Decodes record bytes and checks the header is well-formed (schema >= 1,
 * station id present, epoch >= 1, seq >= 1, prev of 32 bytes).
 * *out is owned by the caller: free with wm_record_free. */
WM_MUST_CHECK wm_err_t wm_record_decode(const uint8_t *bytes, size_t len, wm_record_t **out);
/* Frees *r and sets it NULL. Accepts NULL. Only for decoded records. */
void wm_record_free(wm_record_t **r);

/* An arena for decoding one record at a time without a malloc per field
 * (the aggregator's ingest decodes every record of every batch): a
 * record decoded into it is valid until the next decode into it, or until
 * wm_arena_free, and is never passed to wm_record_free. Start from a
 * zeroed arena; not thread-safe. Fields beyond its buffer fall back to
 * malloc (freed at the next decode), so any record decodes. */
typedef struct wm_arena_block wm_arena_block_t;
typedef struct {
    uint8_t *buf;
    size_t cap, used;
    wm_arena_block_t *extra; /* fallback blocks of the current record */
} wm_arena_t;
#define WM_ARENA_BYTES (128u * 1024) /* a large record's decoded form fits */

/* wm_record_decode into a; WM_ENOMEM if the arena cannot be made. */
WM_MUST_CHECK wm_err_t wm_record_decode_in(wm_arena_t *a, const uint8_t *bytes, size_t len,
                                           wm_record_t **out);
void wm_arena_free(wm_arena_t *a);

/* wm_pb_decode into arena a (zeroed, or emptied by wm_arena_free), its
 * block sized for the message: a message of many fields (a Batch of
 * 2,000 records) costs one malloc instead of one per field. The message
 * is valid until wm_arena_free(a); it is never passed to wm_pb_free, and
 * no part of it is freed alone. On failure a holds what it held (free
 * it). */
WM_MUST_CHECK wm_err_t wm_pb_decode_in(wm_arena_t *a, const ProtobufCMessageDescriptor *d,
                                       const uint8_t *bytes, size_t len, size_t max,
                                       void **out);

/* Encodes r, signs it with s and returns the srec in a malloc'd *out. */
WM_MUST_CHECK wm_err_t wm_record_seal(const wm_record_t *r, const wm_signer_t *s,
                        uint8_t **out, size_t *outlen);

/* WM_OK if v's signature is pub's, else WM_EBADSIG. */
WM_MUST_CHECK wm_err_t wm_srec_verify(const wm_srec_t *v, const uint8_t pub[static WM_PUB_BYTES]);

/* The record hash: BLAKE2b-256 of the srec, sig || bytes. */
void wm_srec_hash(const wm_srec_t *v, uint8_t out[static WM_HASH_BYTES]);
/* The same, of an srec in one buffer. */
void wm_srec_hash_buf(const uint8_t *srec, size_t len, uint8_t out[static WM_HASH_BYTES]);

/* WM_OK if r is the record that must follow (station, epoch, seq, prev):
 * same station and epoch, r->seq == seq + 1 and r->prev == prev.
 * For seq == 0 (empty epoch) prev must be all zeroes. Else WM_ECHAIN. */
WM_MUST_CHECK wm_err_t wm_record_follows(const wm_record_t *r, const char *station,
                           uint32_t epoch, uint64_t seq,
                           const uint8_t prev[static WM_HASH_BYTES]);

/* "activity", "publicity", …, "void"; "unknown" for a kind this build does
 * not know. Static string. */
const char *wm_record_kind(const wm_record_t *r);

/* Looks up an enum value by its slug (lowercase value name, "theme_lecture").
 * Returns WM_OK and sets *value, or WM_ENOTFOUND. The *_UNSPECIFIED value
 * is never matched. */
WM_MUST_CHECK wm_err_t wm_enum_parse(const ProtobufCEnumDescriptor *d, const char *slug, int *value);
/* The slug of value ("theme_lecture"), written to buf; "" if unknown. */
const char *wm_enum_slug(const ProtobufCEnumDescriptor *d, int value, char *buf, size_t cap);
/* Nonzero if value has a slug (wm_enum_slug would not give ""). */
int wm_enum_known(const ProtobufCEnumDescriptor *d, int value);
/* Writes "a|b|c" of all slugs of d into buf, for help and error text. */
const char *wm_enum_list(const ProtobufCEnumDescriptor *d, char *buf, size_t cap);

/* Generic codec for the other messages of wmsync (control, sync): the
 * only place besides the record functions above that packs or unpacks.
 * encode: *out is malloc'd (caller frees), length in *len.
 * decode: WM_ETOOBIG if len > max, WM_EDECODE if malformed; free the
 * result with wm_msg_free, which accepts NULL and sets *m to NULL. */
WM_MUST_CHECK wm_err_t wm_pb_encode(const ProtobufCMessage *m, uint8_t **out, size_t *len);
WM_MUST_CHECK wm_err_t wm_pb_decode(const ProtobufCMessageDescriptor *d, const uint8_t *bytes, size_t len,
                      size_t max, void **out);
void wm_pb_free(void *mp);

#endif
