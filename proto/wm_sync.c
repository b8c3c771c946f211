/* SPDX-License-Identifier: MIT */
/*
 * wm_sync — the sync protocol's vocabulary; see wm_sync.h. The reject
 * table below is PROTOCOL.md §4: tests/unit/test_sync.c fails when the two
 * differ, so change them together.
 */
#include "wm_sync.h"

#include <string.h>

#include "wm_i18n.h"

const char *const wm_sync_features[] = {WM_FEATURE_ROLLUP_BIN, "zstd", WM_FEATURE_DOWN,
                                        WM_FEATURE_BLOBS, WM_FEATURE_BLOB_FETCH, NULL};

size_t wm_sync_feature_count(void)
{
    size_t n = 0;
    while (wm_sync_features[n])
        n++;
    return n;
}

int wm_sync_feature_agreed(const char *name, char *const *theirs, size_t n)
{
    int ours = 0;
    for (const char *const *f = wm_sync_features; *f && !ours; f++)
        ours = strcmp(*f, name) == 0;
    if (n > WM_SYNC_FEATURES_MAX)
        n = WM_SYNC_FEATURES_MAX;
    for (size_t i = 0; ours && i < n; i++)
        if (theirs[i] && strcmp(theirs[i], name) == 0)
            return 1;
    return 0;
}

#define RETRY 0
#define FATAL 1

static const wm_sync_reason_info_t reasons[WM_SYNC_R_COUNT] = {
    [WM_SYNC_R_OK] = {"", RETRY, "", "", ""},
    [WM_SYNC_R_MALFORMED] =
        {"malformed", RETRY,
         "the message is not exactly one frame (8 frames and more too), does not decode as "
         "`SyncMsg`, or carries no message at all; a BATCH's `batch_id` is 0 or not above the "
         "session's previous one; or a record does not decode",
         "resumes from `durable` (a bug: logged)",
         N_("the child's software sent something that does not decode: upgrade it or report the "
         "bug")},
    [WM_SYNC_R_TOO_BIG] =
        {"too_big", RETRY,
         "a batch exceeds `max_records` or `max_bytes`; a record exceeds 64 KiB of record bytes",
         "resumes with smaller batches",
         N_("the child sends batches larger than the aggregator allows: upgrade the child")},
    [WM_SYNC_R_VERSION] =
        {"version", FATAL, "`Hello.version` is not 1", "waits for an upgrade",
         N_("the child speaks another protocol version: install the same wmsync release")},
    [WM_SYNC_R_WRONG_NODE] =
        {"wrong_node", FATAL,
         "the HELLO or a record names another node than the one the transport key is enrolled "
         "for",
         "waits for the node to be re-enrolled",
         N_("the child's id and its enrolled transport key disagree: re-enrol the child with "
         "`wmctl keys` from its own directory")},
    [WM_SYNC_R_REVOKED] =
        {"revoked", FATAL,
         "the node's key was revoked (also on a live connection), or is not enrolled",
         "waits for the node to be enrolled again",
         N_("the child is revoked here: enrol it again if that was a mistake")},
    [WM_SYNC_R_QUARANTINED] =
        {"quarantined", FATAL,
         "the node is quarantined (it equivocated); everything it sends gets this, a HELLO "
         "and a batch alike",
         "waits for an administrator to review the proof",
         N_("the child signed two different records at one place: review the proof "
         "(`wmctl status`), then re-enrol it")},
    [WM_SYNC_R_BEHIND] =
        {"behind", FATAL,
         "HELLO: the child's head in the aggregator's current epoch is below what the "
         "aggregator holds — its log was rolled back (restored from an old backup)",
         "waits for the operator to restore its newest data, or to start a new epoch "
         "(`wmsyncd --new-epoch`)",
         N_("the child's log is older than what the aggregator holds: restore its newest data or "
         "start a new epoch there (`wmsyncd --new-epoch`)")},
    [WM_SYNC_R_DIVERGED] =
        {"diverged", FATAL,
         "HELLO: same seq as the aggregator's head but a different hash; BATCH: a validly "
         "signed record follows another record than the one the aggregator holds before it "
         "(the child's log has forked)",
         "as `behind`",
         N_("the child's log differs from what the aggregator holds: restore its newest data or "
         "start a new epoch there (`wmsyncd --new-epoch`)")},
    [WM_SYNC_R_OLD_EPOCH] =
        {"old_epoch", FATAL,
         "the child speaks from, or sends records of, an epoch older than the aggregator's "
         "newest for it",
         "waits for the operator to start a new epoch (`wmsyncd --new-epoch`)",
         N_("the child runs an epoch the aggregator has moved past: start a new epoch there "
         "(`wmsyncd --new-epoch`)")},
    [WM_SYNC_R_NO_SESSION] =
        {"no_session", RETRY,
         "a BATCH or HEARTBEAT arrived without a HELLO on this connection (e.g. the aggregator "
         "restarted)",
         "sends HELLO", N_("none: the link re-opens its session by itself")},
    [WM_SYNC_R_OVER_CREDIT] =
        {"over_credit", RETRY,
         "a BATCH arrived while `credit` batches of the session were in flight (taken by the "
         "aggregator, not yet answered)",
         "resumes from `durable`, respecting credit",
         N_("the child ignores the credit the aggregator grants: upgrade it")},
    [WM_SYNC_R_UNEXPECTED] =
        {"unexpected", RETRY,
         "a message only an aggregator sends (WELCOME, ACK, REJECT, FETCH), or a RECORDS that "
         "no FETCH of this child waits for (never asked, timed out, or not as asked)",
         "resumes (a bug: logged)",
         N_("the child sent a message only an aggregator sends: upgrade it or report the bug")},
    [WM_SYNC_R_INVALID] =
        {"invalid", FATAL,
         "a signed record breaks a content rule (`detail` names the record and field), is of "
         "a kind its node may not write, or voids a record that does not come before it "
         "(§3, Who may write what); record 1 of an epoch names a predecessor",
         "waits: the station's software wrote the record; it needs fixing before the log can "
         "sync past it",
         N_("the child signed a record that breaks a content rule: upgrade its software, then "
         "report the record named in the detail")},
    [WM_SYNC_R_GAP] =
        {"gap", RETRY, "the first new record is not the aggregator's seq + 1",
         "resumes from `durable`", N_("none if it passes; if it repeats, upgrade the child")},
    [WM_SYNC_R_BAD_CHAIN] =
        {"bad_chain", RETRY, "a record's `prev` is not the hash of the record before it",
         "resumes from `durable`; if it repeats, the child's log is damaged: run `wmctl verify`",
         N_("if it repeats, the child's log is damaged: run `wmctl verify` there")},
    [WM_SYNC_R_BAD_SIGNATURE] =
        {"bad_signature", RETRY, "the signature of the authenticating record is not the enrolled "
                                 "key's",
         "resumes; if it repeats, the keys differ: re-enrol",
         N_("if it repeats, the child signs with another key than the one enrolled: re-enrol it")},
    [WM_SYNC_R_EQUIVOCATION] =
        {"equivocation", FATAL,
         "a different validly signed record exists at a stored (epoch, seq)",
         "waits (the node is now quarantined)",
         N_("the child signed two different records at one place: it is quarantined; review the "
         "proof")},
    [WM_SYNC_R_QUOTA] =
        {"quota", FATAL,
         "a record would pass the child's storage quota at the aggregator: the bytes of its "
         "signed records of one capture day (UTC, the record's own `captured`, not its "
         "arrival), or in all (`detail` names the limit, the day and the record; records of "
         "unknown kinds count too)",
         "waits and retries; it goes on once the aggregator's operator raises the limit",
         N_("the child stores more than its quota at the aggregator allows: check what it "
         "records, or raise [quota] day_mb / total_mb there")},
    [WM_SYNC_R_STORAGE] =
        {"storage", RETRY,
         "the aggregator could not commit (`detail` says \"disk full\", or the map reached its "
         "configured ceiling)",
         "resumes later", N_("the aggregator cannot write: free disk space there")},
    [WM_SYNC_R_COMPROMISED] =
        {"compromised", FATAL,
         "the record is signed by a key the aggregator's operator marked compromised (§6), and "
         "lies beyond the point it was marked at; or it differs from a stored record and is "
         "signed by such a key (no quarantine: a thief can sign it)",
         "waits, unless it holds a later epoch signed by its current key: it then sends from "
         "that epoch's start (§6, Stolen keys)",
         N_("the child's key was marked stolen: re-key it (`wmctl rekey --transport`), enrol the "
         "new identity, and re-issue the records named in docs/operations.md")},
    [WM_SYNC_R_BOMB] =
        {"bomb", RETRY,
         "a ZBATCH declares more than the largest batch's payload (§7.1), its zstd frame "
         "declares another size than the ZBATCH, or it decompresses to more than it declared "
         "(checked before and while decompressing: no more is ever allocated)",
         "sends plain BATCHes for the rest of the session, from `durable`",
         N_("the child's compressed batches lie about their size: upgrade it, or suspect the "
         "child if it repeats")},
    [WM_SYNC_R_BAD_FRAME] =
        {"bad_frame", RETRY,
         "a ZBATCH's data is not exactly one zstd frame with its content size, does not "
         "decompress (damaged, checksum wrong), names a dictionary, or its payload does not "
         "parse (§7.1: an entry cut short, a prev restored at an impossible offset, another "
         "count of records)",
         "sends plain BATCHes for the rest of the session, from `durable`",
         N_("the child's compressed batches are damaged: upgrade it or report the bug")},
    [WM_SYNC_R_NOT_NEGOTIATED] =
        {"not_negotiated", RETRY,
         "a message a feature brings (a ZBATCH: `zstd`) on a session whose HELLO and WELCOME "
         "did not both list that feature",
         "sends plain BATCHes for the rest of the session, from `durable`",
         N_("the child uses a feature it did not agree with this aggregator: upgrade it or "
         "report the bug")},
    [WM_SYNC_R_WRONG_TIER] =
        {"wrong_tier", FATAL,
         "a record of a needs-and-orders kind that the child's tier does not write (§3, Who "
         "may write what): from a child enrolled as a station, a `need_review`, "
         "`service_order`, `order_cancel`, `notice`, `order_assigned` or `order_completed`; "
         "from a child enrolled as an aggregator, a `need`, `order_accept`, `order_done` or "
         "`rating` (`detail` names the record and its kind)",
         "waits: its software wrote a record its own daemon should have refused",
         N_("the child signed a record of a kind only the other tier writes: upgrade its "
         "software, then report the record named in the detail")},
    [WM_SYNC_R_WRONG_PARENT] =
        {"wrong_parent", FATAL,
         "feature `down`, sent by the child: a DOWN_BATCH or a bundle holds records of another "
         "node than the parent the child pinned (`wmctl upstream-id`), or the child pinned no "
         "parent",
         "(the parent) stops sending down on this session; a bundle is refused whole",
         N_("the parent's log comes from another node than the one pinned here: check "
         "`wmctl upstream-id` against the parent's `wmctl keys` line")},
    [WM_SYNC_R_REPLAY] =
        {"replay", RETRY,
         "feature `down`, sent by the child: a DOWN_BATCH does not begin right after the "
         "child's frontier of the parent's log (it resends what the child holds, or skips "
         "ahead)",
         "(the parent) resumes from the child's `have`",
         N_("the parent resent records this node already holds: none if it passes; if it "
         "repeats, upgrade the parent")},
    [WM_SYNC_R_BLOB_QUOTA] =
        {"blob_quota", RETRY,
         "feature `blobs`: a BLOB_OFFER or BLOB_CHUNK would pass the child's blob quota at the "
         "aggregator (`[quota] blob_mb`: the bytes of the blobs it holds of that child; "
         "`detail` names the blob, the bytes held and the limit)",
         "stops sending blobs until its next session (records go on as before)",
         N_("the child's attachments pass its blob quota at the aggregator: check what it "
         "attaches, or raise [quota] blob_mb there")},
    [WM_SYNC_R_BAD_ROLLOVER] =
        {"bad_rollover", FATAL,
         "feature `down`, sent by the child: a key rollover record (§8, Key rollover) in the "
         "parent's log is not signed by the key the child holds for its epoch (the pinned key, "
         "or the one an earlier rollover named)",
         "(the parent) stops sending down on this session",
         N_("a key rollover of the parent's log is not signed by the key pinned here: compare "
         "the parent's `wmctl keys` line with this node's pin (wmctl status)")},
    [WM_SYNC_R_NO_ROLLOVER] =
        {"no_rollover", FATAL,
         "feature `down`, sent by the child: a record begins a new epoch of the parent's log "
         "under another key than the one the child follows, and no key rollover signed by the "
         "key it follows names that key (or it names a later first epoch)",
         "(the parent) stops sending down on this session",
         N_("the parent began signing with a new key that no key rollover in its log names: "
         "if its operator re-keyed on purpose, pin its new `wmctl keys` line here "
         "(wmctl upstream-id FILE)")},
};

const wm_sync_reason_info_t *wm_sync_reason_info(wm_sync_reason_t r)
{
    if ((int)r < 0 || r >= WM_SYNC_R_COUNT)
        r = WM_SYNC_R_OK;
    return &reasons[r];
}

const char *wm_sync_slug(wm_sync_reason_t r)
{
    return wm_sync_reason_info(r)->slug;
}

wm_sync_reason_t wm_sync_reason_by_slug(const char *slug)
{
    if (!slug || !slug[0])
        return WM_SYNC_R_OK;
    for (int r = WM_SYNC_R_OK + 1; r < WM_SYNC_R_COUNT; r++)
        if (strcmp(reasons[r].slug, slug) == 0)
            return (wm_sync_reason_t)r;
    return WM_SYNC_R_COUNT;
}

int wm_sync_slug_fatal(const char *slug)
{
    wm_sync_reason_t r = wm_sync_reason_by_slug(slug);
    return r == WM_SYNC_R_COUNT || reasons[r].fatal;
}

const char *wm_sync_slug_hint(const char *slug)
{
    const char *h = wm_sync_reason_info(wm_sync_reason_by_slug(slug))->hint;
    return h[0] ? _(h) : h; /* _("") would be the catalogue's header */
}

Wm__Frontier wm_frontier_of(const wm_head_t *h)
{
    Wm__Frontier f = WM__FRONTIER__INIT;
    f.epoch = h->epoch;
    f.seq = h->seq;
    f.hash = (ProtobufCBinaryData){WM_HASH_BYTES, (uint8_t *)h->hash};
    return f;
}

void wm_head_from(const Wm__Frontier *f, wm_head_t *h)
{
    memset(h, 0, sizeof *h);
    if (!f)
        return;
    h->epoch = f->epoch;
    h->seq = f->seq;
    if (f->hash.len == WM_HASH_BYTES)
        memcpy(h->hash, f->hash.data, WM_HASH_BYTES);
}
