/* SPDX-License-Identifier: MIT */
/*
 * wm_verifier — the aggregator's verifier thread: it checks the signature
 * of every staged record (wm_stage.h), in order, under the key of its
 * epoch, and reports verdicts to the poll loop, which promotes verified
 * records into the log or quarantines the node (wm_agg.c).
 *
 * Threads: one worker thread with its own LMDB read transactions (one per
 * node and pass, never held across passes); it never writes. The poll
 * loop polls wm_verifier_sock() and calls wm_verifier_take() when it is
 * readable; every other function is for the poll loop's thread too.
 * The worker remembers per node how far it has verified, so it does not
 * check a record twice while the loop has not promoted it yet; after a
 * restart it starts over from what is still staged (the log head), which
 * makes the verified frontier survive kill -9 by construction.
 */
#ifndef WM_VERIFIER_H
#define WM_VERIFIER_H

#include <stddef.h>
#include <stdint.h>

#include "wm_net.h"
#include "wm_store.h"

#define WM_VERIFY_CHUNK 1024 /* records per verdict: bounds the loop's promotion step */

/* What the worker found for one node. */
typedef struct {
    uint32_t node;
    uint32_t epoch;      /* verified good up to and including here */
    uint64_t seq;
    uint64_t checked;    /* records verified good for this verdict */
    int bad;             /* the record after (epoch, seq) is not validly signed */
    uint32_t bad_epoch;
    uint64_t bad_seq;
    char why[WM_WHY_MAX];
} wm_verdict_t;

typedef struct wm_verifier wm_verifier_t;

/* Starts the worker on store (which must outlive it). *out is owned by the
 * caller. WM_ENOMEM, WM_EIO (no thread or wake-up line). */
WM_MUST_CHECK wm_err_t wm_verifier_start(wm_store_t *store, wm_net_t *net, wm_verifier_t **out);
/* Stops and joins the worker, frees *v and sets it NULL. Accepts NULL. */
void wm_verifier_stop(wm_verifier_t **v);
/* Readable when verdicts wait. Valid while v lives. */
wm_sock_t *wm_verifier_sock(wm_verifier_t *v);
/* Staged records were committed: look at once. */
void wm_verifier_kick(wm_verifier_t *v);
/* Takes every waiting verdict, in the order found: *out (malloc'd, the
 * caller frees it; NULL when none) and their number. */
size_t wm_verifier_take(wm_verifier_t *v, wm_verdict_t **out);
/* Signatures verified since the start. */
uint64_t wm_verifier_total(wm_verifier_t *v);

#endif
