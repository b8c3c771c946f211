/* SPDX-License-Identifier: MIT */
/*
 * wm_down — the child's side of feature "down" (PROTOCOL.md §8): the
 * parent's own log (its orders, notices, plans, published rollups),
 * received over the upstream link (wm_upstream) or from a bundle
 * (`wmctl bundle import`), verified against the parent's signing key that
 * the operator pinned (DIR/upstream.id, node/wm_ident.h), and kept in this
 * node's store as the parent's log, beside its own.
 *
 * Verification is storage's ingest (wm_ingest.h) with WM_INGEST_SETTLE:
 * the same checks as an aggregator makes of its children — every record
 * decodes and names the parent, keeps the content rules, chains from the
 * stored head, each one's own signature by the pinned key of its epoch —
 * and a batch is stored whole, in one transaction, or not at all. A fork
 * (a different record validly signed at a stored place) keeps the record
 * as proof and stops the parent's log here for good (meta "down_forked")
 * until an operator pins the parent again.
 *
 * Key rollover (PROTOCOL.md §8): when the parent re-keys, its daemon
 * writes a KeyRollover record, signed by the old key and naming the new,
 * as the last record of its old epoch. Verified by the key followed, it
 * moves the child's pin to the new key in the transaction that stores it
 * (meta "down_pin"; the pin file keeps the key the operator pinned), and
 * the new key then signs the parent's epochs from the one it names. A
 * new epoch under another key without one is refused `no_rollover`, a
 * rollover signed by another key `bad_rollover`, and anything the retired
 * key signs after its rollover (a second rollover) is a fork.
 *
 * Single-threaded: the daemon's poll loop.
 */
#ifndef WM_DOWN_H
#define WM_DOWN_H

#include <jansson.h>
#include <stdint.h>

#include "wm_node.h"
#include "wm_sync.h"

typedef struct wm_down wm_down_t;

/* Opens the child's side for node; reads the pin (none: nothing is
 * received, wm_down_pinned is 0). *out is the caller's (wm_down_close).
 * WM_ENOMEM, or a store read error; a damaged pin file is logged and
 * reads as no pin. */
WM_MUST_CHECK wm_err_t wm_down_open(wm_node_t *node, wm_down_t **out);
void wm_down_close(wm_down_t **d);
/* Reads the pin file again (the operator may have run `wmctl upstream-id`
 * since): called at each new connection to the upstream. */
void wm_down_reload(wm_down_t *d);
/* Nonzero if a parent is pinned (the child then lists feature "down"). */
int wm_down_pinned(const wm_down_t *d);
/* The pinned parent's id, or "" if none. */
const char *wm_down_parent(const wm_down_t *d);
/* The parent key followed (32 bytes): the pinned one, or the one its last
 * key rollover named; NULL if none is pinned. Valid until the next
 * wm_down_ingest or wm_down_reload. */
const uint8_t *wm_down_pin_key(const wm_down_t *d);
/* The child's frontier of the parent's log (0/0/zero if it holds none). */
wm_head_t wm_down_have(const wm_down_t *d);

/* What one ingest did. */
typedef struct {
    wm_sync_reason_t reason; /* WM_SYNC_R_OK: stored (durable) */
    char detail[WM_WHY_MAX];
    uint32_t bad_epoch;      /* the record at fault, 0/0 if none */
    uint64_t bad_seq;
    uint64_t accepted, duplicates;
    wm_head_t have;          /* the frontier after it */
    int rolled;              /* a key rollover was followed: the pin moved */
} wm_down_res_t;

/* Verifies and stores recs[0..n) (srecs of the log of `node`) in one
 * transaction: durable when it returns with res->reason WM_SYNC_R_OK, and
 * nothing stored otherwise (but a fork's proof). follow: the records must
 * begin right after the frontier held (a network DOWN_BATCH; else
 * WM_SYNC_R_REPLAY); a bundle may begin anywhere at or below it. */
void wm_down_ingest(wm_down_t *d, const char *node, const uint8_t *const *recs,
                    const size_t *lens, size_t n, int follow, wm_down_res_t *res);
/* What wm_down_reset_fork did. */
typedef struct {
    char archive[WM_ID_MAX + 32]; /* the id the forked copy is kept under */
    uint32_t fork_epoch;          /* the first place of the fork (its first proof) */
    uint64_t fork_seq;
    wm_head_t kept;               /* the parent's log kept: to the last record before it */
} wm_down_reset_t;

/* Fork reset (`wmctl upstream-id --reset-fork`, PROTOCOL.md §8), after the
 * operators compared the proof with the parent's: in one transaction the
 * copy of the parent's log held here, with its proofs and the records
 * after the fork, is archived under the id PARENT~fork-N (storage's
 * wm_nodeno_rename: still readable, `wmctl upstream-id --forks`; skipped by
 * the listings); its records before the first proof, the last common
 * record, are copied into the parent's log anew (the key rollovers among
 * them followed again), the fork mark is cleared and the reset noted in
 * meta "down_forks". The parent's log is then taken again from there: the
 * caller asks the parent anew (wm_upstream_down_restart). WM_ESTATE (why
 * says so) if no fork is recorded, WM_ENOTFOUND if no parent is pinned, or
 * a storage error; nothing changed but on WM_OK. */
WM_MUST_CHECK wm_err_t wm_down_reset_fork(wm_down_t *d, wm_down_reset_t *out, char *why,
                                          size_t cap);

/* Notes what the parent said of itself in a DOWN_BATCH: its head and its
 * current signing key (status: how far behind, whether the pin matches). */
void wm_down_seen(wm_down_t *d, const Wm__Frontier *head, const ProtobufCBinaryData *key);
/* Notes a refusal sent to the parent (status). */
void wm_down_note_reject(wm_down_t *d, const wm_down_res_t *res);
/* The down side's status (PROTOCOL.md §8, `wmctl status` "down"). */
json_t *wm_down_status(wm_down_t *d);

#endif
