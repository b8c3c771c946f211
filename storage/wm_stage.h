/* SPDX-License-Identifier: MIT */
/*
 * wm_stage — the aggregator's inbox: records of children that are durable
 * and acknowledged but whose own signatures are not yet checked one by one.
 *
 * Why: an ack needs only the batch's last signature (wm_ingest.h: by the
 * hash chain it authenticates every record's bytes back to the stored
 * head), so ingest runs far above the Ed25519 verify rate. But a record
 * must also be showable alone with its own valid signature, and a holder
 * of the station key could chain over a record it did not sign. So ingest
 * stages records here (sub-database "inbox", the log's key layout, see
 * wm_store.h), a verifier checks each signature in order (wm_stage_verify,
 * read-only: it may run in its own thread with its own read
 * transactions), and only verified records are promoted into the log with
 * wm_append (log, indexes, rollup counters together). The log therefore
 * holds only verified records: its head is the node's **verified
 * frontier**, durable by construction; the staged head (inbox, else log)
 * is its **durable frontier**, what the protocol acknowledges.
 *
 * A bad inner signature: wm_stage_discard keeps the record and the one
 * after it (which, validly signed, names its hash: the key holder chained
 * over it) as proofs and drops every staged record of the node; the caller
 * quarantines the node.
 *
 * All functions work in the caller's transaction (read or write as
 * stated); views point into the map and are valid until the transaction
 * ends or writes.
 */
#ifndef WM_STAGE_H
#define WM_STAGE_H

#include <stddef.h>
#include <stdint.h>

#include "wm_append.h"
#include "wm_store.h"

/* The durable head of an epoch of node: its last staged record, else the
 * log's head (seq 0 and a zero hash if both are empty). */
WM_MUST_CHECK wm_err_t wm_stage_head(wm_txn_t *t, uint32_t node, uint32_t epoch, wm_head_t *out);
/* The verified frontier of node: the last record of its log, across
 * epochs (epoch 0, seq 0, zero hash if the log is empty). */
WM_MUST_CHECK wm_err_t wm_stage_verified(wm_txn_t *t, uint32_t node, wm_head_t *out);
/* The last record of node, staged or in the log, across epochs (epoch 0,
 * seq 0, zero hash if there is none). */
WM_MUST_CHECK wm_err_t wm_stage_last(wm_txn_t *t, uint32_t node, wm_head_t *out);
/* The record at (epoch, seq), staged or in the log. WM_ENOTFOUND if absent. */
WM_MUST_CHECK wm_err_t wm_stage_get(wm_txn_t *t, uint32_t node, uint32_t epoch, uint64_t seq, wm_srec_t *out);
/* Stages srec (decoded as r) after the durable head of its epoch (write
 * transaction). Codes as wm_log_append: WM_OK, WM_EEXIST (the same record
 * is staged or stored), WM_EFORKED (another record is, at its place),
 * WM_ECHAIN (does not follow the durable head), storage errors. Nothing
 * is counted or indexed here. */
WM_MUST_CHECK wm_err_t wm_stage_append(wm_txn_t *t, uint32_t node, const wm_record_t *r, const uint8_t *srec,
                         size_t len);
/* The same, with hash the srec's own hash (wm_srec_hash_buf) as this
 * process already took it (wm_wire_unpack), or NULL: taken here. The next
 * record's chain is checked against it, so it must be the hash of exactly
 * srec[0..len), never one that came from the peer. */
WM_MUST_CHECK wm_err_t wm_stage_append_hashed(wm_txn_t *t, uint32_t node, const wm_record_t *r,
                                              const uint8_t *srec, size_t len,
                                              const uint8_t *hash);
/* Number of staged records of node, and (if any) the first one's place;
 * *epoch and *seq are 0 when there is none. */
WM_MUST_CHECK wm_err_t wm_stage_pending(wm_txn_t *t, uint32_t node, uint64_t *count, uint32_t *epoch,
                          uint64_t *seq);
/* The lowest node number >= from with staged records. WM_ENOTFOUND if
 * none. For walking every node with work. */
WM_MUST_CHECK wm_err_t wm_stage_next_node(wm_txn_t *t, uint32_t from, uint32_t *node);

/* What one verification pass found. */
typedef struct {
    uint32_t epoch;        /* the last record verified good (in): 0/0 if none */
    uint64_t seq;
    uint64_t checked;      /* signatures verified good in this pass */
    int bad;               /* the record after (epoch, seq) failed */
    uint32_t bad_epoch;
    uint64_t bad_seq;
    char why[WM_WHY_MAX];
} wm_stage_check_t;

/* Verifies node's staged records strictly after (epoch, seq), in order,
 * at most max of them: each must decode as a signed record and carry a
 * valid signature by the key of its epoch (wm_epoch_key). Stops at the
 * first bad one (out->bad, why). Reads only; any transaction. WM_OK also
 * when a bad record was found; other codes are read failures. */
WM_MUST_CHECK wm_err_t wm_stage_verify(wm_txn_t *t, uint32_t node, uint32_t epoch, uint64_t seq, size_t max,
                         wm_stage_check_t *out);

/* Moves node's staged records, in order, up to and including (epoch,
 * seq), at most max, into the log through ap (write transaction, the
 * appender's). The caller has verified them (wm_stage_verify). *moved
 * counts the records moved. */
WM_MUST_CHECK wm_err_t wm_stage_promote(wm_txn_t *t, wm_appender_t *ap, uint32_t node, uint32_t epoch,
                          uint64_t seq, size_t max, uint64_t *moved);

/* A bad signature at (epoch, seq): keeps that staged record and the
 * staged record after it as proofs (wm_proof_put) and removes every
 * staged record of node, giving back the quota each was charged at
 * staging (wm_quota_refund), in write transaction t. *discarded counts
 * them. */
WM_MUST_CHECK wm_err_t wm_stage_discard(wm_txn_t *t, uint32_t node, uint32_t epoch, uint64_t seq,
                          uint64_t *discarded);

#endif
