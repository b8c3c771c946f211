/* SPDX-License-Identifier: MIT */
/*
 * wm_ingest — the one verify-and-store path for records of another node,
 * used by network sync and by offline bundles alike.
 *
 * Authenticity: every record must decode, name the sender's node, and
 * chain from the durable head of its epoch (seq + 1, prev = hash of the
 * record before). The signature of the last new record of each epoch in a
 * batch is then verified with the sender's enrolled key: by the chain it
 * authenticates every record's bytes back to the durable head, which was
 * authenticated the same way (docs/design.md §4.6). That is what an ack
 * promises. A batch is all or nothing.
 *
 * Accepted records are staged (wm_stage.h), not yet in the log: each
 * one's own signature is checked after, off the ingest path, and only then
 * is it promoted into the log and counted. WM_INGEST_SETTLE does both now
 * (audits, tests).
 */
#ifndef WM_INGEST_H
#define WM_INGEST_H

#include <stddef.h>
#include <stdint.h>

#include "wm_quota.h"
#include "wm_store.h"

#define WM_FUTURE_CAPTURE_S (24 * 3600) /* capture time this far ahead is flagged */
#define WM_FAR_CLOCK_S (24 * 3600)  /* a child's clock this far off: its records flagged */

#define WM_INGEST_NO_ROLLUP 0x1 /* benchmarks: settle without rollup maintenance */
#define WM_INGEST_SETTLE 0x2    /* verify every staged record of the sender now and
                                   promote it into the log; a bad one refuses all */
#define WM_INGEST_ROLLOVER 0x4  /* follow the sender's key rollovers (a child taking
                                   its parent's log, PROTOCOL.md §8): wm_ingest_follow */

/* The most a node's new epoch may lie above the highest epoch stored for it
 * (0 for a node with nothing stored). An epoch begins only by an operator's
 * deliberate act at the node (--new-epoch after a restore, a re-key, a
 * re-install), one above the highest it knows; 64 such acts between two
 * syncs is beyond any honest history. The bound keeps epochs far from the
 * end of their 32 bits (a node there could never begin another) and keeps
 * every walk over a log's epochs (audit) short: no run of more than
 * WM_EPOCH_STEP_MAX - 1 empty epoch numbers lies between two stored ones.
 * Above it a record is refused as `invalid`. */
#define WM_EPOCH_STEP_MAX 64

/* A key rollover of the sender (record.proto KeyRollover): the record's
 * place, and the key it hands over to from from_epoch on. epoch 0: none. */
typedef struct {
    uint32_t epoch;
    uint64_t seq;
    uint32_t from_epoch;
    uint8_t key[WM_PUB_BYTES];
} wm_rollover_t;

/* The sender as the aggregator knows it. */
typedef struct {
    const char *id;
    uint32_t node_no;
    const uint8_t *sign_pub; /* enrolled Ed25519 key */
    unsigned flags;          /* WM_INGEST_* */
    const Wm__PeerState *peer; /* its prior keys, or NULL */
    const wm_quota_t *quota;   /* its storage limits (wm_quota.h), or NULL: none */
} wm_sender_t;

typedef struct {
    wm_err_t err;            /* WM_OK if the batch is stored (in t) */
    wm_sync_reason_t reason; /* the reject reason, WM_SYNC_R_OK when ok */
    char detail[WM_WHY_MAX];
    uint64_t bad_seq;        /* the record at fault */
    uint32_t bad_epoch;
    uint64_t accepted;       /* new records */
    uint64_t duplicates;     /* already stored, identical */
    uint64_t flagged;        /* accepted with an implausible capture time: in the
                              * future, before WM_CLOCK_FLOOR, or from a child whose
                              * clock was far off at its last HELLO */
    wm_head_t durable;       /* the sender's head in t after the batch */
    int equivocation;        /* a signed conflicting record: proof kept, see below */
    const uint8_t *proof;    /* the conflicting srec (points into records) */
    size_t proof_len;
    wm_rollover_t rolled;    /* WM_INGEST_ROLLOVER: the last rollover this batch
                              * stored (epoch 0: none); the caller keeps it */
} wm_ingest_t;

/* Checks and stages records[0..n) (srecs) for sender inside t, which
 * must be a write transaction of its own (nested in the caller's batch
 * transaction): on failure the caller aborts it. On equivocation (a
 * different record with a valid signature at a stored place) res says so
 * and points at the proof; the caller stores it and quarantines. */
WM_MUST_CHECK wm_err_t wm_ingest(wm_txn_t *t, const wm_sender_t *sender, const uint8_t *const *records,
                   const size_t *lens, size_t n, int64_t now, wm_ingest_t *res);
/* The same, with hashes (n x WM_HASH_BYTES, or NULL) the hash of each
 * record as this process already took it (wm_wire_batch_t.hashes: a
 * compressed batch is hashed once, while it is restored): records are
 * then not hashed again. Never hashes that came from the peer. */
WM_MUST_CHECK wm_err_t wm_ingest_hashed(wm_txn_t *t, const wm_sender_t *sender,
                                        const uint8_t *const *records, const size_t *lens,
                                        const uint8_t *hashes, size_t n, int64_t now,
                                        wm_ingest_t *res);

/* wm_ingest for a child taking its parent's log (feature "down"): the
 * flags WM_INGEST_SETTLE and WM_INGEST_ROLLOVER are added to s's. s's
 * sign_pub is the key that signs the sender's new epochs (the pinned one,
 * or the one the last rollover held names), roll that rollover (NULL if
 * none is held). Beyond wm_ingest's checks:
 *   - a key rollover record is verified at once by the key of its epoch
 *     (else `bad_rollover`); the key it names signs the epochs from its
 *     from_epoch on, also later in the same batch (res->rolled);
 *   - the first record of a new epoch must be signed by the key followed
 *     and lie at or above the rollover's from_epoch (else `no_rollover`:
 *     the sender changed keys without a rollover signed by the old one);
 *   - a record after a rollover in the rollover's epoch, validly signed by
 *     the retired key (a second rollover among them), is `equivocation`
 *     with that record as proof: the key named its successor already. */
WM_MUST_CHECK wm_err_t wm_ingest_follow(wm_txn_t *t, const wm_sender_t *s,
                                        const wm_rollover_t *roll, const uint8_t *const *records,
                                        const size_t *lens, size_t n, int64_t now,
                                        wm_ingest_t *res);

/* What a record says of itself, once wm_ingest_precheck passed it: its
 * place, its capture time and its prev (what the chain and the quota need
 * of it inside the transaction). */
typedef struct {
    uint32_t epoch;
    uint64_t seq;
    int64_t captured;
    uint8_t prev_ok; /* prev is WM_HASH_BYTES long (else it chains to nothing) */
    uint8_t checked; /* wm_ingest_precheck passed it */
    uint8_t prev[WM_HASH_BYTES];
} wm_ingest_pre_t;

/* Checks record rec/len (record i, 0-based, of a batch) of sender s with
 * no transaction: what wm_ingest checks of a record before it reads the
 * store — it decodes, names s, keeps the content rules, and is a kind s
 * may write. WM_OK and *pre filled (checked set), or the refusal in res
 * as wm_ingest would make it. Reads s->id and s->peer's role only;
 * decodes into arena (the caller's, reused record after record, freed with
 * wm_arena_free). Thread-safe for distinct arenas, pre and res. */
WM_MUST_CHECK wm_err_t wm_ingest_precheck(const wm_sender_t *s, const uint8_t *rec, size_t len,
                                          size_t i, wm_arena_t *arena, wm_ingest_pre_t *pre,
                                          wm_ingest_t *res);
/* wm_ingest_hashed, with pre (or NULL): records whose pre[i].checked is
 * set were passed by wm_ingest_precheck for this sender and are not
 * decoded or checked again; every other is, as by wm_ingest. The result
 * is the same as wm_ingest_hashed's for the same records. */
WM_MUST_CHECK wm_err_t wm_ingest_prechecked(wm_txn_t *t, const wm_sender_t *sender,
                                            const uint8_t *const *records, const size_t *lens,
                                            const uint8_t *hashes, const wm_ingest_pre_t *pre,
                                            size_t n, int64_t now, wm_ingest_t *res);
/* The sender's durable frontier: the head of its highest stored epoch,
 * staged records included (epoch 0, seq 0 when nothing is stored). The
 * verified frontier is wm_stage_verified. */
WM_MUST_CHECK wm_err_t wm_ingest_frontier(wm_txn_t *t, uint32_t node_no, wm_head_t *out);

#endif
