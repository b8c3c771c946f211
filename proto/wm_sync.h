/* SPDX-License-Identifier: MIT */
/*
 * wm_sync — the vocabulary of the sync protocol (PROTOCOL.md), in one
 * place: its version, its limits and timers, the feature names a peer may
 * list, every reject reason (slug, fatal or retryable, what the child does,
 * a hint for the operator), and the conversions between a log head and the
 * wire's Frontier. The aggregator, the child, `wmctl status` and the test
 * that checks PROTOCOL.md §4 all read this table; nothing else spells a
 * reject slug.
 *
 * No I/O, no state: every function is thread-safe. Returned strings are
 * static and live for the whole program.
 */
#ifndef WM_SYNC_H
#define WM_SYNC_H

#include <stddef.h>
#include <stdint.h>

#include "sync.pb-c.h"
#include "wm_crypto.h"
#include "wm_record.h"

/* ---- version and limits ---- */

/* Hello.version. Stays 1: what is new travels as features (below), so a
 * peer of any later build keeps syncing with one of this build. */
#define WM_SYNC_VERSION 1

/* Batches a child may have sent and not yet had answered (ACK or REJECT).
 * 8 keeps a link busy over a 300 ms round trip at 2,000-record batches
 * while bounding what one child makes the aggregator hold. */
#define WM_SYNC_CREDIT 8
/* Records per batch: one batch is one nested transaction of the
 * aggregator's group commit; 2,000 keeps that under a few ms. */
#define WM_SYNC_MAX_RECORDS 2000
/* Bytes of srecs per batch (signatures included): bounds the memory a
 * batch holds at either end. */
#define WM_SYNC_MAX_BYTES (1u << 20)
/* The largest srec: the signature plus at most WM_REC_MAX record bytes. A
 * record's bytes may be WM_REC_MAX (64 KiB); the signature comes on top. */
#define WM_SYNC_SREC_MAX (WM_SIG_BYTES + WM_REC_MAX)
/* The largest encoded SyncMsg a peer may send (plaintext, before CURVE):
 * a batch of WM_SYNC_MAX_BYTES plus room for the protobuf framing of up
 * to WM_SYNC_MAX_RECORDS records (≤ 4 bytes each) and the header fields. */
#define WM_SYNC_MAX_MSG (WM_SYNC_MAX_BYTES + 65536)
/* What CURVE adds to each frame on the wire: libzmq applies its
 * ZMQ_MAXMSGSIZE to the encrypted frame, which is this much longer
 * (the 16-byte "MESSAGE" command name and nonce, 1 flags byte, the 16-byte
 * Poly1305 tag). The transport sets its limit to WM_SYNC_MAX_MSG plus this,
 * so that WM_SYNC_MAX_MSG is exactly the plaintext limit PROTOCOL.md
 * states. */
#define WM_SYNC_CURVE_OVERHEAD 33
/* The child sends a Heartbeat at least this often while connected; the
 * aggregator answers each one. */
#define WM_SYNC_HEARTBEAT_S 5
/* ZMTP heartbeats (below the protocol): ping every 2 s, drop a link that
 * answered nothing for 6 s, so a dead TCP path is noticed within a
 * protocol heartbeat or so. */
#define WM_SYNC_ZMTP_IVL_MS 2000
#define WM_SYNC_ZMTP_TIMEOUT_MS 6000
/* Child: a Hello unanswered this long means the link is not really up. */
#define WM_SYNC_HELLO_TIMEOUT_MS 5000
/* Child: three heartbeat periods without any message: reconnect. */
#define WM_SYNC_SILENCE_TIMEOUT_MS (3 * WM_SYNC_HEARTBEAT_S * 1000)
/* Child: reconnect backoff, doubled per failure, ±25 % jitter, so that
 * many stations do not return to a restarted aggregator in lockstep. */
#define WM_SYNC_BACKOFF_MIN_MS 200
#define WM_SYNC_BACKOFF_MAX_MS 30000
/* Child: after a fatal reject, wait this long before trying again (the
 * operator has to act; a retry every minute shows when they have). */
#define WM_SYNC_FATAL_BACKOFF_MS 60000
/* Clocks (PROTOCOL.md §2): a child whose wall clock is this far from its
 * aggregator's at WELCOME warns its operator, and its new records carry
 * the error (Record.clock_offset_s). */
#define WM_SYNC_CLOCK_WARN_S 600
/* Longest feature name, and how many of a peer's features are looked at
 * (the rest are ignored, as unknown features are). */
#define WM_SYNC_FEATURE_MAX 64
#define WM_SYNC_FEATURES_MAX 32

/* ---- features ----
 * A feature is a name in Hello.features and Welcome.features. A peer uses
 * a feature only when both sides listed it; unknown names are ignored.
 * PROTOCOL.md §7 lists them ("zstd": compressed batches, wm_wire.h,
 * PROTOCOL.md §7.1). */
extern const char *const wm_sync_features[]; /* NULL-terminated */
/* The child publishes its rollups in the binary form (RollupPart records)
 * and relays audit fetches down its own tiers (PROTOCOL.md §4). */
#define WM_FEATURE_ROLLUP_BIN "rollup-bin"
/* The parent replicates its own log down to the child (SyncMsg 13–16,
 * PROTOCOL.md §8); a child lists it only when it pinned its parent's key. */
#define WM_FEATURE_DOWN "down"
/* DOWN_BATCHes a child lets its parent have in flight (DownHello.credit). */
#define WM_SYNC_DOWN_CREDIT 4
/* The child sends the files its records name behind the records
 * (PROTOCOL.md §9; daemon/wm_blobup.c, wm_agg_blob.c). */
#define WM_FEATURE_BLOBS "blobs"
/* The parent fetches a blob from the child on demand (BLOB_FETCH,
 * BLOB_DATA: SyncMsg 23–24, PROTOCOL.md §7.3): the child answers from its
 * store, or relays down its tiers (daemon/wm_blobserve.c,
 * wm_agg_blobfetch.c). */
#define WM_FEATURE_BLOB_FETCH "blob-fetch"
/* The most bytes one BLOB_DATA carries: with its other fields well under
 * WM_SYNC_MAX_MSG. The asker sizes its requests to its link below this. */
#define WM_BLOB_FETCH_MAX (1u << 20)
/* How long an aggregator waits for a BLOB_DATA (and a middle tier for
 * its child's): below wmctl's control timeout (15 s), so the operator
 * always hears why. */
#define WM_BLOB_FETCH_TIMEOUT_S 10
/* How many names wm_sync_features lists. */
size_t wm_sync_feature_count(void);

/* 1 if name is listed in ours and in theirs[0..n) (both sides listed it),
 * else 0. */
int wm_sync_feature_agreed(const char *name, char *const *theirs, size_t n);

/* ---- reject reasons ---- */

typedef enum {
    WM_SYNC_R_OK = 0, /* no reject */
    WM_SYNC_R_MALFORMED,
    WM_SYNC_R_TOO_BIG,
    WM_SYNC_R_VERSION,
    WM_SYNC_R_WRONG_NODE,
    WM_SYNC_R_REVOKED,
    WM_SYNC_R_QUARANTINED,
    WM_SYNC_R_BEHIND,
    WM_SYNC_R_DIVERGED,
    WM_SYNC_R_OLD_EPOCH,
    WM_SYNC_R_NO_SESSION,
    WM_SYNC_R_OVER_CREDIT,
    WM_SYNC_R_UNEXPECTED,
    WM_SYNC_R_INVALID,
    WM_SYNC_R_GAP,
    WM_SYNC_R_BAD_CHAIN,
    WM_SYNC_R_BAD_SIGNATURE,
    WM_SYNC_R_EQUIVOCATION,
    WM_SYNC_R_QUOTA,
    WM_SYNC_R_STORAGE,
    WM_SYNC_R_COMPROMISED,
    WM_SYNC_R_BOMB,           /* feature "zstd" (wm_wire.h) */
    WM_SYNC_R_BAD_FRAME,
    WM_SYNC_R_NOT_NEGOTIATED, /* a feature's message on a session without it */
    WM_SYNC_R_WRONG_TIER,     /* a needs-and-orders kind of the other tier */
    WM_SYNC_R_WRONG_PARENT,   /* feature "down": records of another node than the pinned parent */
    WM_SYNC_R_REPLAY,         /* feature "down": a DOWN_BATCH that does not follow `have` */
    WM_SYNC_R_BLOB_QUOTA,     /* feature "blobs": the child's blob quota is used up */
    WM_SYNC_R_BAD_ROLLOVER,   /* feature "down": a key rollover not signed by the pinned key */
    WM_SYNC_R_NO_ROLLOVER,    /* feature "down": a new epoch under another key, no rollover */
    WM_SYNC_R_COUNT /* count; also "a slug this build does not know" */
} wm_sync_reason_t;

typedef struct {
    const char *slug;  /* on the wire: Reject.reason */
    int fatal;         /* 1: the child stops and waits (WM_SYNC_FATAL_BACKOFF_MS);
                        * 0: it resumes from `durable` */
    const char *when;  /* PROTOCOL.md §4 "sent when" */
    const char *child; /* PROTOCOL.md §4 "the child does" */
    const char *hint;  /* for the operator (status, logs): what to do */
} wm_sync_reason_info_t;

/* The table entry of r; r out of range (or WM_SYNC_R_OK) gives an entry with
 * slug "" and empty texts. Never NULL. */
const wm_sync_reason_info_t *wm_sync_reason_info(wm_sync_reason_t r);
/* r's slug ("" for WM_SYNC_R_OK). */
const char *wm_sync_slug(wm_sync_reason_t r);
/* The reason whose slug is slug; WM_SYNC_R_OK for NULL or "";
 * WM_SYNC_R_COUNT for a slug this build does not know (a newer peer's). */
wm_sync_reason_t wm_sync_reason_by_slug(const char *slug);
/* Whether a child stops on this slug. An unknown slug counts as fatal: a
 * newer aggregator's reason is waited out, never retried in a tight loop. */
int wm_sync_slug_fatal(const char *slug);
/* The operator hint for slug, translated (wm_i18n.h); "" for none or an
 * unknown slug. */
const char *wm_sync_slug_hint(const char *slug);

/* ---- frontiers ---- */

/* The head of one epoch of one node's log. An empty epoch has seq 0 and an
 * all-zero hash. The hash is BLAKE2b-256 of the srec (sig || bytes). */
typedef struct {
    uint32_t epoch;
    uint64_t seq;
    uint8_t hash[WM_HASH_BYTES];
} wm_head_t;

/* h as a wire Frontier; the hash is borrowed from h (valid while h is). */
Wm__Frontier wm_frontier_of(const wm_head_t *h);
/* f as a head; a missing Frontier, or a hash of any length but 32, reads
 * as the empty head's fields (epoch and seq kept, hash all zero). */
void wm_head_from(const Wm__Frontier *f, wm_head_t *h);

#endif
