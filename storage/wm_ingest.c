/* SPDX-License-Identifier: MIT */
/* wm_ingest — verify and store another node's records; see wm_ingest.h. */
#include "wm_ingest.h"

#include "wm_append.h"
#include "wm_date.h"
#include "wm_stage.h"
#include "wm_validate.h"

#include <inttypes.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static WM_MUST_CHECK wm_err_t refuse(wm_ingest_t *res, wm_err_t err, wm_sync_reason_t reason, uint32_t epoch,
                       uint64_t seq, const char *fmt, ...) __attribute__((format(printf, 6, 7)));

static WM_MUST_CHECK wm_err_t refuse(wm_ingest_t *res, wm_err_t err, wm_sync_reason_t reason, uint32_t epoch,
                       uint64_t seq, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(res->detail, sizeof res->detail, fmt, ap);
    va_end(ap);
    res->err = err;
    res->reason = reason;
    res->bad_epoch = epoch;
    res->bad_seq = seq;
    return err;
}

/* The key that signs a node's epoch seen for the first time: the enrolled
 * one, unless a re-key declared it starts later (a prior key then covers
 * the epochs that were never synced before the re-key). */
static const uint8_t *key_for_epoch(const wm_sender_t *s, uint32_t epoch)
{
    const uint8_t *key = s->sign_pub;
    uint32_t best = UINT32_MAX;
    for (size_t i = 0; s->peer && i < s->peer->n_prior; i++) {
        const Wm__PriorKey *k = s->peer->prior[i];
        if (k->sign_pub.len == WM_PUB_BYTES && k->until_epoch >= epoch && k->until_epoch < best) {
            best = k->until_epoch;
            key = k->sign_pub.data;
        }
    }
    return key;
}

/* A record that begins epoch `epoch` above the highest stored one `last`
 * must stay within WM_EPOCH_STEP_MAX of it (see wm_ingest.h). */
static WM_MUST_CHECK wm_err_t check_epoch_step(uint32_t last, uint32_t epoch, uint64_t seq, wm_ingest_t *res)
{
    if ((uint64_t)epoch <= (uint64_t)last + WM_EPOCH_STEP_MAX)
        return WM_OK;
    return refuse(res, WM_EINVAL, WM_SYNC_R_INVALID, epoch, seq,
                  "record %" PRIu32 "/%" PRIu64 " begins epoch %" PRIu32
                  ", more than %d above the highest epoch stored (%" PRIu32 ")",
                  epoch, seq, epoch, WM_EPOCH_STEP_MAX, last);
}

/* The entry that marks key compromised for this sender, or NULL. */
static const Wm__CompromisedKey *compromised_entry(const wm_sender_t *s, const uint8_t *key)
{
    for (size_t i = 0; s->peer && i < s->peer->n_compromised; i++) {
        const Wm__CompromisedKey *c = s->peer->compromised[i];
        if (c->sign_pub.len == WM_PUB_BYTES && memcmp(c->sign_pub.data, key, WM_PUB_BYTES) == 0)
            return c;
    }
    return NULL;
}

/* A new record at (epoch, seq) of an epoch signed by key: refused if the
 * operator marked key compromised at a point before it (wm_agg.h). A
 * record that conflicts with a stored one (any_place) is refused at any
 * place: whoever holds a stolen key can sign such a record, so it proves
 * nothing against the station and must not quarantine it. */
static WM_MUST_CHECK wm_err_t check_not_compromised(const wm_sender_t *s, const uint8_t *key, uint32_t epoch,
                                      uint64_t seq, int any_place, wm_ingest_t *res)
{
    const Wm__CompromisedKey *c = compromised_entry(s, key);
    if (!c || (!any_place && (epoch < c->after_epoch ||
                              (epoch == c->after_epoch && seq <= c->after_seq))))
        return WM_OK;
    return refuse(res, WM_EPERM, WM_SYNC_R_COMPROMISED, epoch, seq,
                  "record %" PRIu32 "/%" PRIu64 " is signed by a key of %s marked compromised "
                  "after %" PRIu32 "/%" PRIu64 "; nothing it signed beyond is accepted",
                  epoch, seq, s->id, c->after_epoch, c->after_seq);
}

wm_err_t wm_ingest_frontier(wm_txn_t *t, uint32_t node_no, wm_head_t *out)
{
    uint32_t epoch = 0;
    memset(out, 0, sizeof *out);
    wm_err_t err = wm_epoch_last(t, node_no, &epoch);
    if (err == WM_ENOTFOUND)
        return WM_OK;
    if (err != WM_OK)
        return err;
    if ((err = wm_stage_head(t, node_no, epoch, out)) != WM_OK || out->seq)
        return err;
    /* An epoch whose staged records were all discarded (a bad signature)
     * holds nothing: the frontier is the last record kept. */
    return wm_stage_last(t, node_no, out);
}

/* Verifies the signature of the last new record of the current epoch run
 * with the key that signs that epoch (set from the enrolled key when the
 * epoch first arrived: a re-enrolled key signs new epochs only). */
static WM_MUST_CHECK wm_err_t check_run_signature(wm_txn_t *t, const wm_sender_t *s, const wm_srec_t *last,
                                    uint32_t epoch, uint64_t seq, wm_ingest_t *res)
{
    uint8_t pub[WM_PUB_BYTES];
    if (!last)
        return WM_OK;
    if (wm_epoch_key(t, s->node_no, epoch, pub) != WM_OK)
        memcpy(pub, s->sign_pub, WM_PUB_BYTES);
    if (wm_srec_verify(last, pub) != WM_OK)
        return refuse(res, WM_EBADSIG, WM_SYNC_R_BAD_SIGNATURE, epoch, seq,
                      "record %" PRIu32 "/%" PRIu64 " is not signed by %s's enrolled key",
                      epoch, seq, s->id);
    return WM_OK;
}

/* The needs-and-orders kinds belong to one tier (wm_validate_writer): a
 * child enrolled as a station may not bring in an aggregator's word on
 * orders (a service order, an assignment, a completion, a review), nor a
 * child enrolled as an aggregator a station's need, acceptance or rating. */
static WM_MUST_CHECK wm_err_t check_writer(const wm_sender_t *s, const wm_record_t *r,
                                           wm_ingest_t *res)
{
    const char *role = s->peer && s->peer->role ? s->peer->role : "";
    int station = strcmp(role, "station") == 0;
    wm_writer_t w = wm_validate_writer(r->body_case);
    if (w == WM_WRITER_AGGREGATOR && station)
        return refuse(res, WM_EINVAL, WM_SYNC_R_WRONG_TIER, r->epoch, r->seq,
                      "record %" PRIu32 "/%" PRIu64 " is a %s record, and %s is enrolled as a "
                      "station: only an aggregator writes one",
                      r->epoch, r->seq, wm_record_kind(r), s->id);
    if (w == WM_WRITER_STATION && role[0] && !station)
        return refuse(res, WM_EINVAL, WM_SYNC_R_WRONG_TIER, r->epoch, r->seq,
                      "record %" PRIu32 "/%" PRIu64 " is a %s record, and %s is enrolled as a "
                      "%s: only a station writes one",
                      r->epoch, r->seq, wm_record_kind(r), s->id, role);
    return WM_OK;
}

/* What a record may be depends on who wrote it (PROTOCOL.md §3, "Who may
 * write what"): only an aggregator publishes a rollup report, and
 * only its own; a void names a record before it in the same log. So a
 * child can never bring in figures that its aggregator would show as its
 * own, or as another node's. */
static WM_MUST_CHECK wm_err_t check_tier(const wm_sender_t *s, const wm_record_t *r,
                                         wm_ingest_t *res)
{
    wm_err_t err = check_writer(s, r, res);
    if (err != WM_OK)
        return err;
    int part = r->body_case == WM__RECORD__BODY_ROLLUP_PART;
    if (part || r->body_case == WM__RECORD__BODY_ROLLUP) {
        const char *role = s->peer && s->peer->role ? s->peer->role : "";
        if (strcmp(role, "station") == 0)
            return refuse(res, WM_EINVAL, WM_SYNC_R_INVALID, r->epoch, r->seq,
                          "record %" PRIu32 "/%" PRIu64 " is %s rollup report, and %s is enrolled "
                          "as a station: only an aggregator publishes one",
                          r->epoch, r->seq, part ? "a part of a" : "a", s->id);
    }
    if (r->body_case == WM__RECORD__BODY_ROLLUP) {
        /* The binary form names no node: it is the record's own (the
         * sender's, checked as for every record); the JSON names one. */
        json_t *j = json_loads(r->rollup->json, 0, NULL);
        const char *id = json_string_value(json_object_get(j, "id"));
        int own = id && strcmp(id, s->id) == 0;
        json_decref(j);
        if (!own)
            return refuse(res, WM_EINVAL, WM_SYNC_R_INVALID, r->epoch, r->seq,
                          "record %" PRIu32 "/%" PRIu64 " is a rollup report whose \"id\" is not "
                          "%s: a node publishes its own figures only",
                          r->epoch, r->seq, s->id);
    }
    if (r->body_case == WM__RECORD__BODY_VOID) {
        const Wm__Void *v = r->void_;
        if (v->target_epoch > r->epoch || (v->target_epoch == r->epoch && v->target_seq >= r->seq))
            return refuse(res, WM_EINVAL, WM_SYNC_R_INVALID, r->epoch, r->seq,
                          "record %" PRIu32 "/%" PRIu64 " voids record %" PRIu32 "/%" PRIu64
                          ", which does not come before it: a void names an earlier record",
                          r->epoch, r->seq, v->target_epoch, v->target_seq);
    }
    return WM_OK;
}

/* The key that signs epoch of sender s: the one registered when the epoch
 * first arrived (a re-enrolled key signs new epochs only), else the
 * enrolled key. */
static void epoch_key(wm_txn_t *t, const wm_sender_t *s, uint32_t epoch,
                      uint8_t pub[static WM_PUB_BYTES])
{
    if (wm_epoch_key(t, s->node_no, epoch, pub) != WM_OK)
        memcpy(pub, s->sign_pub, WM_PUB_BYTES);
}

/* Whether v is validly signed by the key of its epoch (put in pub). */
static int epoch_signed(wm_txn_t *t, const wm_sender_t *s, const wm_srec_t *v, uint32_t epoch,
                        uint8_t pub[static WM_PUB_BYTES])
{
    epoch_key(t, s, epoch, pub);
    return wm_srec_verify(v, pub) == WM_OK;
}

/* Where a batch is: the run of records of one epoch being ingested. The
 * signature of a run's last new record is verified when the run ends. */
typedef struct {
    uint32_t last_epoch; /* the sender's highest epoch stored */
    uint32_t epoch;      /* of the run */
    uint64_t seq;        /* of the run's last new record */
    int have;            /* the run has a new record (last) */
    wm_srec_t last;
    uint8_t pub[WM_PUB_BYTES]; /* the run's key, when keys are compromised */
    wm_quota_acc_t quota; /* the batch's charges, written once at its end */
    wm_arena_t arena;     /* the record in hand, decoded without a malloc per field */
    wm_rollover_t roll;   /* WM_INGEST_ROLLOVER: the last rollover held or stored */
} run_t;

/* WM_INGEST_ROLLOVER: the key that signs the sender's next new epoch. */
static const uint8_t *follow_key(const wm_sender_t *s, const run_t *run)
{
    return run->roll.epoch ? run->roll.key : s->sign_pub;
}

/* What needs no log: the record is the sender's own, keeps the content
 * rules the station applied before signing (dates up to WM_DATE_MAX: the
 * station's clock is its own), and is a kind the sender may write. Kinds
 * this build does not know are stored and forwarded unchecked. */
static WM_MUST_CHECK wm_err_t check_record(const wm_sender_t *s, const wm_record_t *r,
                                           wm_ingest_t *res)
{
    wm_reject_t rej;
    if (strcmp(r->station, s->id) != 0)
        return refuse(res, WM_EPERM, WM_SYNC_R_WRONG_NODE, r->epoch, r->seq,
                      "record %" PRIu32 "/%" PRIu64 " names node \"%s\", but the sender is %s",
                      r->epoch, r->seq, r->station, s->id);
    if (wm_validate_applies(r) && wm_validate_body(r, WM_DATE_MAX - 1, &rej) != WM_OK)
        return refuse(res, WM_EINVAL, WM_SYNC_R_INVALID, r->epoch, r->seq,
                      "record %" PRIu32 "/%" PRIu64 " breaks a content rule: %s: %s", r->epoch,
                      r->seq, rej.field, rej.why);
    return check_tier(s, r, res);
}

/* A record of epoch/seq enters the run: an epoch older than one stored is
 * refused; a new run closes the previous one and registers the enrolled
 * key for an epoch seen for the first time; what a compromised key signed
 * beyond its point is refused. */
static WM_MUST_CHECK wm_err_t enter_run(wm_txn_t *t, const wm_sender_t *s, run_t *run,
                                        uint32_t epoch, uint64_t seq, wm_ingest_t *res)
{
    wm_err_t err;
    if (epoch < run->last_epoch)
        return refuse(res, WM_ECHAIN, WM_SYNC_R_OLD_EPOCH, epoch, seq,
                      "record is in epoch %" PRIu32 " but epoch %" PRIu32 " has begun", epoch,
                      run->last_epoch);
    if (epoch != run->epoch) {
        if ((err = check_run_signature(t, s, run->have ? &run->last : NULL, run->epoch, run->seq,
                                       res)) != WM_OK)
            return err;
        run->have = 0;
        run->epoch = epoch;
        if (epoch > run->last_epoch) {
            if ((err = check_epoch_step(run->last_epoch, epoch, seq, res)) != WM_OK)
                return err;
            const uint8_t *key = s->flags & WM_INGEST_ROLLOVER ? follow_key(s, run)
                                                               : key_for_epoch(s, epoch);
            if ((err = wm_epoch_set(t, s->node_no, epoch, key)) != WM_OK)
                return refuse(res, err, WM_SYNC_R_STORAGE, epoch, seq, "cannot record epoch key");
            run->last_epoch = epoch;
        }
        if (s->peer && s->peer->n_compromised)
            epoch_key(t, s, epoch, run->pub);
    }
    if (s->peer && s->peer->n_compromised)
        return check_not_compromised(s, run->pub, epoch, seq, 0, res);
    return WM_OK;
}

/* The staged record epoch/seq differs from v: equivocation only if the
 * station really signed both. WM_OK (a duplicate, counted) or the refusal. */
static WM_MUST_CHECK wm_err_t fork_verdict(wm_txn_t *t, const wm_sender_t *s, const wm_srec_t *v,
                                           uint32_t epoch, uint64_t seq, const uint8_t *rec,
                                           size_t len, wm_ingest_t *res)
{
    uint8_t pub[WM_PUB_BYTES];
    wm_err_t err;
    if (!epoch_signed(t, s, v, epoch, pub))
        return refuse(res, WM_EBADSIG, WM_SYNC_R_BAD_SIGNATURE, epoch, seq,
                      "record %" PRIu32 "/%" PRIu64
                      " differs from the stored one and is not validly signed",
                      epoch, seq);
    /* Same bytes under another valid signature (Ed25519 signatures are
     * deterministic, so a second one means a second signer implementation)
     * is no fork of the content: keep ours. */
    wm_srec_t have;
    if (wm_stage_get(t, s->node_no, epoch, seq, &have) == WM_OK && have.len == v->len &&
        memcmp(have.bytes, v->bytes, v->len) == 0) {
        res->duplicates++;
        return WM_OK;
    }
    if ((err = check_not_compromised(s, pub, epoch, seq, 1, res)) != WM_OK)
        return err;
    res->equivocation = 1;
    res->proof = rec;
    res->proof_len = len;
    return refuse(res, WM_EFORKED, WM_SYNC_R_EQUIVOCATION, epoch, seq,
                  "%s signed two different records at %" PRIu32 "/%" PRIu64
                  "; both are kept as proof and the station is quarantined",
                  s->id, epoch, seq);
}

/* Record v (epoch/seq) does not chain to the stored head: the refusal,
 * blaming the record at fault. */
static WM_MUST_CHECK wm_err_t chain_verdict(wm_txn_t *t, const wm_sender_t *s, const run_t *run,
                                            const wm_srec_t *v, uint32_t epoch, uint64_t seq,
                                            wm_ingest_t *res)
{
    wm_head_t h;
    uint8_t pub[WM_PUB_BYTES];
    wm_err_t err;
    if ((err = wm_stage_head(t, s->node_no, epoch, &h)) != WM_OK)
        return refuse(res, err, WM_SYNC_R_STORAGE, epoch, seq, "cannot read the head");
    if (seq > h.seq + 1)
        return refuse(res, WM_ECHAIN, WM_SYNC_R_GAP, epoch, seq,
                      "record %" PRIu32 "/%" PRIu64 " leaves a gap: stored head is %" PRIu64,
                      epoch, seq, h.seq);
    /* Which record is at fault? One that is not validly signed is itself.
     * One that is names the true hash of its predecessor: then the
     * predecessor changed — in this batch, it was altered on the way;
     * already held here (verified), the child's log has forked from what
     * it sent before. */
    if (!epoch_signed(t, s, v, epoch, pub))
        return refuse(res, WM_ECHAIN, WM_SYNC_R_BAD_CHAIN, epoch, seq,
                      "record %" PRIu32 "/%" PRIu64
                      " does not chain to the record before it and is not validly signed",
                      epoch, seq);
    if (seq == 1)
        return refuse(res, WM_EINVAL, WM_SYNC_R_INVALID, epoch, seq,
                      "record %" PRIu32 "/1 begins its epoch, so its prev must be 32 zero "
                      "bytes; it names a predecessor",
                      epoch);
    if (run->have && run->epoch == epoch && run->seq == seq - 1)
        return refuse(res, WM_ECHAIN, WM_SYNC_R_BAD_CHAIN, epoch, seq - 1,
                      "record %" PRIu32 "/%" PRIu64
                      " of this batch was altered: record %" PRIu64
                      ", validly signed, names a different hash for it",
                      epoch, seq - 1, seq);
    return refuse(res, WM_ECHAIN, WM_SYNC_R_DIVERGED, epoch, seq - 1,
                  "record %" PRIu32 "/%" PRIu64 ", validly signed, follows a record %" PRIu32
                  "/%" PRIu64 " other than the one this aggregator holds: the child's log "
                  "has forked from what it sent before; restore its newest data or start "
                  "a new epoch (wmsyncd --new-epoch)",
                  epoch, seq, epoch, seq - 1);
}

/* Whether a capture time is flagged (accepted, counted in `flagged`):
 * more than WM_FUTURE_CAPTURE_S ahead of now, before WM_CLOCK_FLOOR, or
 * sent by a child whose clock was more than WM_FAR_CLOCK_S off ours
 * at its last HELLO (PeerState.clock_offset_ms). */
static int implausible_capture(const wm_sender_t *s, int64_t captured, int64_t now)
{
    int64_t off = s->peer && s->peer->clock_at ? s->peer->clock_offset_ms / 1000 : 0;
    return captured > now + WM_FUTURE_CAPTURE_S || captured < WM_CLOCK_FLOOR ||
           off > WM_FAR_CLOCK_S || off < -WM_FAR_CLOCK_S;
}

/* WM_INGEST_ROLLOVER, before record v (r) enters its run: a record after
 * the rollover of its epoch is refused (a fork if the retired key signed
 * it), and the first record of a new epoch must be signed by the key
 * followed, at or above the rollover's from_epoch (wm_ingest_follow). The
 * first epoch of all keeps the ordinary checks (bad_signature). */
static WM_MUST_CHECK wm_err_t follow_check(wm_txn_t *t, const wm_sender_t *s, const run_t *run,
                                           const wm_srec_t *v, const wm_record_t *r,
                                           const uint8_t *rec, size_t len, wm_ingest_t *res)
{
    uint8_t pub[WM_PUB_BYTES];
    char hex[2 * WM_PUB_BYTES + 1];
    const wm_rollover_t *ro = &run->roll;
    uint32_t epoch = r->epoch;
    uint64_t seq = r->seq;
    if (ro->epoch && epoch == ro->epoch && seq > ro->seq) {
        if (!epoch_signed(t, s, v, epoch, pub))
            return refuse(res, WM_EBADSIG, WM_SYNC_R_BAD_SIGNATURE, epoch, seq,
                          "record %" PRIu32 "/%" PRIu64 " follows the key rollover at %" PRIu32
                          "/%" PRIu64 " and is not validly signed",
                          epoch, seq, ro->epoch, ro->seq);
        res->equivocation = 1;
        res->proof = rec;
        res->proof_len = len;
        return refuse(res, WM_EFORKED, WM_SYNC_R_EQUIVOCATION, epoch, seq,
                      "%s's retired key signed %s at %" PRIu32 "/%" PRIu64 " after its key "
                      "rollover at %" PRIu32 "/%" PRIu64 ", which named its successor already",
                      s->id,
                      r->body_case == WM__RECORD__BODY_KEY_ROLLOVER ? "a second key rollover"
                                                                    : "a record",
                      epoch, seq, ro->epoch, ro->seq);
    }
    if (epoch <= run->last_epoch || run->last_epoch == 0)
        return WM_OK;
    if (ro->epoch && epoch < ro->from_epoch)
        return refuse(res, WM_EBADSIG, WM_SYNC_R_NO_ROLLOVER, epoch, seq,
                      "record %" PRIu32 "/%" PRIu64 " begins epoch %" PRIu32 ", but the key "
                      "rollover at %" PRIu32 "/%" PRIu64 " hands %s's log over from epoch %" PRIu32,
                      epoch, seq, epoch, ro->epoch, ro->seq, s->id, ro->from_epoch);
    const uint8_t *key = follow_key(s, run);
    if (wm_srec_verify(v, key) == WM_OK)
        return WM_OK;
    wm_hex(key, WM_PUB_BYTES, hex);
    return refuse(res, WM_EBADSIG, WM_SYNC_R_NO_ROLLOVER, epoch, seq,
                  "record %" PRIu32 "/%" PRIu64 " begins epoch %" PRIu32 " of %s and is not "
                  "signed by the key followed here (%.16s...), and no key rollover signed by "
                  "that key names another",
                  epoch, seq, epoch, s->id, hex);
}

/* WM_INGEST_ROLLOVER: a key rollover just staged is verified now by the key
 * of its epoch, and the key it names signs the epochs from its from_epoch
 * on (res->rolled tells the caller, who keeps it). */
static WM_MUST_CHECK wm_err_t follow_rollover(wm_txn_t *t, const wm_sender_t *s, run_t *run,
                                              const wm_srec_t *v, const wm_record_t *r,
                                              wm_ingest_t *res)
{
    uint8_t pub[WM_PUB_BYTES];
    char hex[2 * WM_PUB_BYTES + 1];
    if (!epoch_signed(t, s, v, r->epoch, pub)) {
        wm_hex(pub, WM_PUB_BYTES, hex);
        return refuse(res, WM_EBADSIG, WM_SYNC_R_BAD_ROLLOVER, r->epoch, r->seq,
                      "record %" PRIu32 "/%" PRIu64 " is a key rollover of %s that is not "
                      "signed by the key of epoch %" PRIu32 " (%.16s...)",
                      r->epoch, r->seq, s->id, r->epoch, hex);
    }
    const Wm__KeyRollover *k = r->key_rollover; /* its content rules held (check_record) */
    run->roll.epoch = r->epoch;
    run->roll.seq = r->seq;
    run->roll.from_epoch = k->from_epoch;
    memcpy(run->roll.key, k->new_sign_pub.data, WM_PUB_BYTES);
    res->rolled = run->roll;
    return WM_OK;
}

/* Record i (0-based) of the batch, rec/len: viewed and decoded (in
 * arena) into *v and *r. WM_OK or the refusal. */
static WM_MUST_CHECK wm_err_t decode_one(const uint8_t *rec, size_t len, size_t i,
                                         wm_arena_t *arena, wm_srec_t *v, wm_record_t **r,
                                         wm_ingest_t *res)
{
    wm_err_t err;
    if ((err = wm_srec_view(rec, len, v)) != WM_OK ||
        (err = wm_record_decode_in(arena, v->bytes, v->len, r)) != WM_OK) {
        if (err == WM_ENOMEM)
            return refuse(res, err, WM_SYNC_R_STORAGE, 0, 0, "out of memory");
        return refuse(res, WM_EDECODE, err == WM_ETOOBIG ? WM_SYNC_R_TOO_BIG : WM_SYNC_R_MALFORMED, 0, 0,
                      "record %zu of the batch does not decode", i + 1);
    }
    return WM_OK;
}

wm_err_t wm_ingest_precheck(const wm_sender_t *s, const uint8_t *rec, size_t len, size_t i,
                            wm_arena_t *arena, wm_ingest_pre_t *pre, wm_ingest_t *res)
{
    wm_srec_t v;
    wm_record_t *r = NULL;
    wm_err_t err = decode_one(rec, len, i, arena, &v, &r, res);
    if (err == WM_OK)
        err = check_record(s, r, res);
    if (err != WM_OK)
        return err;
    pre->epoch = r->epoch;
    pre->seq = r->seq;
    pre->captured = r->captured;
    pre->prev_ok = r->prev.len == WM_HASH_BYTES;
    if (pre->prev_ok)
        memcpy(pre->prev, r->prev.data, WM_HASH_BYTES);
    pre->checked = 1;
    return WM_OK;
}

/* Record i (0-based) of the batch, rec/len: checked (unless pre says it
 * was: then what the chain needs of it comes from pre), staged and
 * charged to the sender's quota. WM_OK when it is new or a duplicate. */
static WM_MUST_CHECK wm_err_t ingest_one(wm_txn_t *t, const wm_sender_t *s, run_t *run,
                                         const uint8_t *rec, size_t len, const uint8_t *hash,
                                         const wm_ingest_pre_t *pre, size_t i, int64_t now,
                                         wm_ingest_t *res)
{
    wm_srec_t v;
    wm_record_t *r = NULL, head = WM__RECORD__INIT;
    wm_err_t err;
    int follow = (s->flags & WM_INGEST_ROLLOVER) != 0;
    if (pre && pre->checked && !follow) {
        if ((err = wm_srec_view(rec, len, &v)) != WM_OK) /* it did view (precheck) */
            return refuse(res, WM_EDECODE, WM_SYNC_R_MALFORMED, 0, 0,
                          "record %zu of the batch does not decode", i + 1);
        head.station = (char *)s->id; /* it names the sender (check_record) */
        head.epoch = pre->epoch;
        head.seq = pre->seq;
        head.captured = pre->captured;
        head.prev = (ProtobufCBinaryData){pre->prev_ok ? WM_HASH_BYTES : 0, (uint8_t *)pre->prev};
        r = &head;
    } else if ((err = decode_one(rec, len, i, &run->arena, &v, &r, res)) != WM_OK ||
               (err = check_record(s, r, res)) != WM_OK) {
        return err;
    }
    uint32_t epoch = r->epoch;
    uint64_t seq = r->seq;
    int64_t captured = r->captured;
    if ((follow && (err = follow_check(t, s, run, &v, r, rec, len, res)) != WM_OK) ||
        (err = enter_run(t, s, run, epoch, seq, res)) != WM_OK)
        return err; /* r lives in run->arena, or is head */
    /* Staged, not yet in the log: only its chain is checked so far
     * (wm_stage.h); counters move when it is promoted. */
    err = wm_stage_append_hashed(t, s->node_no, r, rec, len, hash);
    char qwhy[WM_WHY_MAX];
    if (err == WM_OK && s->quota &&
        (err = wm_quota_acc_charge(&run->quota, t, s->quota, s->node_no, captured, len, qwhy,
                                   sizeof qwhy)) ==
            WM_EQUOTA)
        return refuse(res, err, WM_SYNC_R_QUOTA, epoch, seq, "record %" PRIu32 "/%" PRIu64 ": %s",
                      epoch, seq, qwhy);
    if (err == WM_EEXIST) {
        res->duplicates++;
        return WM_OK;
    }
    if (err == WM_EFORKED)
        return fork_verdict(t, s, &v, epoch, seq, rec, len, res);
    if (err == WM_ECHAIN)
        return chain_verdict(t, s, run, &v, epoch, seq, res);
    if (err != WM_OK)
        return refuse(res, err, WM_SYNC_R_STORAGE, epoch, seq, "cannot store: %s", wm_strerror(err));
    if (follow && r->body_case == WM__RECORD__BODY_KEY_ROLLOVER &&
        (err = follow_rollover(t, s, run, &v, r, res)) != WM_OK)
        return err;
    res->accepted++;
    if (implausible_capture(s, captured, now))
        res->flagged++;
    run->last = v;
    run->seq = seq;
    run->have = 1;
    return WM_OK;
}

static WM_MUST_CHECK wm_err_t ingest_records(wm_txn_t *t, const wm_sender_t *s,
                                             const wm_rollover_t *roll,
                                             const uint8_t *const *records, const size_t *lens,
                                             const uint8_t *hashes, const wm_ingest_pre_t *pre,
                                             size_t n, int64_t now, wm_ingest_t *res)
{
    memset(res, 0, sizeof *res);
    run_t run = {0};
    if (roll)
        run.roll = *roll;
    wm_err_t err = wm_epoch_last(t, s->node_no, &run.last_epoch);
    if (err != WM_OK && err != WM_ENOTFOUND) {
        err = refuse(res, err, WM_SYNC_R_STORAGE, 0, 0, "cannot read epochs: %s", wm_strerror(err));
        goto out;
    }
    for (size_t i = 0; i < n; i++)
        if ((err = ingest_one(t, s, &run, records[i], lens[i],
                              hashes ? hashes + i * WM_HASH_BYTES : NULL, pre ? pre + i : NULL, i,
                              now, res)) != WM_OK)
            goto out;
    if ((err = wm_quota_acc_flush(&run.quota, t)) != WM_OK) {
        err = refuse(res, err, WM_SYNC_R_STORAGE, 0, 0, "cannot store the quota: %s",
                     wm_strerror(err));
        goto out;
    }
    if ((err = check_run_signature(t, s, run.have ? &run.last : NULL, run.epoch, run.seq, res)) !=
        WM_OK)
        goto out;
    if ((err = wm_ingest_frontier(t, s->node_no, &res->durable)) != WM_OK)
        err = refuse(res, err, WM_SYNC_R_STORAGE, 0, 0, "cannot read the head");
out:
    wm_arena_free(&run.arena);
    return err;
}

/* WM_INGEST_SETTLE: every staged record of the sender is verified now and
 * promoted; a bad one refuses the whole call (the caller aborts t). */
static WM_MUST_CHECK wm_err_t settle(wm_txn_t *t, const wm_sender_t *s, wm_ingest_t *res)
{
    wm_stage_check_t chk;
    wm_appender_t *ap = NULL;
    uint64_t moved = 0;
    wm_err_t err = wm_stage_verify(t, s->node_no, 0, 0, SIZE_MAX, &chk);
    if (err != WM_OK)
        return refuse(res, err, WM_SYNC_R_STORAGE, 0, 0, "cannot read the inbox: %s", wm_strerror(err));
    if (chk.bad)
        return refuse(res, WM_EBADSIG, WM_SYNC_R_BAD_SIGNATURE, chk.bad_epoch, chk.bad_seq, "%s",
                      chk.why);
    if ((err = wm_append_begin(t, s->flags & WM_INGEST_NO_ROLLUP ? WM_APPEND_NO_ROLLUP : 0,
                               &ap)) == WM_OK &&
        (err = wm_stage_promote(t, ap, s->node_no, chk.epoch, chk.seq, SIZE_MAX, &moved)) ==
            WM_OK)
        err = wm_append_finish(&ap);
    wm_append_abandon(&ap);
    if (err != WM_OK)
        return refuse(res, err, WM_SYNC_R_STORAGE, 0, 0, "cannot store: %s", wm_strerror(err));
    return WM_OK;
}

wm_err_t wm_ingest(wm_txn_t *t, const wm_sender_t *s, const uint8_t *const *records,
                   const size_t *lens, size_t n, int64_t now, wm_ingest_t *res)
{
    return wm_ingest_hashed(t, s, records, lens, NULL, n, now, res);
}

wm_err_t wm_ingest_hashed(wm_txn_t *t, const wm_sender_t *s, const uint8_t *const *records,
                          const size_t *lens, const uint8_t *hashes, size_t n, int64_t now,
                          wm_ingest_t *res)
{
    return wm_ingest_prechecked(t, s, records, lens, hashes, NULL, n, now, res);
}

wm_err_t wm_ingest_prechecked(wm_txn_t *t, const wm_sender_t *s, const uint8_t *const *records,
                              const size_t *lens, const uint8_t *hashes,
                              const wm_ingest_pre_t *pre, size_t n, int64_t now,
                              wm_ingest_t *res)
{
    wm_err_t err = ingest_records(t, s, NULL, records, lens, hashes, pre, n, now, res);
    if (err == WM_OK && (s->flags & WM_INGEST_SETTLE))
        err = settle(t, s, res);
    return err;
}

wm_err_t wm_ingest_follow(wm_txn_t *t, const wm_sender_t *s, const wm_rollover_t *roll,
                          const uint8_t *const *records, const size_t *lens, size_t n,
                          int64_t now, wm_ingest_t *res)
{
    wm_sender_t f = *s;
    f.flags |= WM_INGEST_SETTLE | WM_INGEST_ROLLOVER;
    wm_err_t err = ingest_records(t, &f, roll, records, lens, NULL, NULL, n, now, res);
    if (err == WM_OK)
        err = settle(t, &f, res);
    return err;
}
