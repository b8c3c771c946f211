/* SPDX-License-Identifier: MIT */
/*
 * wm_node — this node's own log: the signer, the head, the fork guard and
 * the one write path for local records. The daemon is the only writer of
 * the log and the only holder of the secret key; both live here.
 * Single-threaded: used from the daemon's poll loop only.
 */
#ifndef WM_NODE_H
#define WM_NODE_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "sync.pb-c.h"
#include "wm_config.h"
#include "wm_guard.h"
#include "wm_record.h"
#include "wm_store.h"
#include "wm_blob.h"
#include "wm_validate.h"

typedef struct {
    const wm_config_t *cfg;  /* borrowed; outlives the node */
    wm_store_t *store;
    wm_blob_t *blobs;        /* the node's evidence files (NODE/blobs, wm_blob.h) */
    wm_signer_t *signer;
    uint32_t self;           /* node number of this node's own log */
    wm_head_t head;          /* head of the current epoch */
    char guard_path[PATH_MAX];
    wm_guard_t guard;        /* what the guard file says now */
    int64_t guard_due;       /* when to refresh the guard file next (monotonic s) */
    int lock_fd;             /* flock on the data directory */
    time_t started;          /* wall clock at open (shown as "started") */
    int64_t started_ms;      /* monotonic ms at open: uptime never runs backwards */
    int serving;             /* opened past the fork guard */
    int64_t clock_offset_s;  /* this node's wall clock minus its aggregator's, as
                              * wm_upstream last measured it, when beyond
                              * WM_SYNC_CLOCK_WARN_S; else 0. New records carry it
                              * (Record.clock_offset_s) */
} wm_node_t;

/* One record to append: the body comes from the client; the node writes
 * the header, checks, signs. Results are filled in per item. */
typedef struct {
    const wm_record_t *body; /* borrowed: only its body (oneof) is used */
    const char *lang;        /* borrowed: the language of rej.why (wm_i18n_use), NULL: C */
    wm_err_t err;            /* WM_OK, WM_EINVAL (see rej), or the batch's error */
    wm_reject_t rej;
    uint32_t epoch;
    uint64_t seq;
} wm_append_t;

/* Opens the node: takes the data directory lock, loads the signing key,
 * opens the store and applies the fork guard (new_epoch: begin a new epoch
 * instead of refusing). On refusal returns WM_EFORK (or another code) and
 * explains in why. */
WM_MUST_CHECK wm_err_t wm_node_open(const wm_config_t *cfg, int new_epoch, wm_node_t **out, char *why,
                      size_t cap);
/* Writes the guard file and closes everything. Accepts NULL. */
void wm_node_close(wm_node_t **n);

/* Appends the valid items in one transaction and commits it (durable on
 * return). Items that fail validation get WM_EINVAL and are skipped; if the
 * commit fails every other item gets the commit's error and nothing is
 * stored. Returns the commit's result. */
WM_MUST_CHECK wm_err_t wm_node_append(wm_node_t *n, wm_append_t *items, size_t count);

/* Appends this node's signed rollup of period (the wm_report.h object)
 * to its own log, so that it replicates to the tier above: binary 0 as one
 * RollupReport record (JSON; without the per-child rows if they would not
 * fit a record), 1 as RollupPart records (proto/wm_rollbin.h, all rows
 * kept), appended together in one transaction. *epoch and *seq name the
 * record (a binary report's last part). */
WM_MUST_CHECK wm_err_t wm_node_publish(wm_node_t *n, const char *period, int aggregator, int binary,
                                       uint32_t *epoch, uint64_t *seq, char *why, size_t cap);

/* How far records may leave this process (sync, audits): as far as the
 * fork-guard file knows them. Equal to the head unless writing it failed. */
wm_head_t wm_node_shareable(const wm_node_t *n);

/* Reads into b (its records malloc'd: free with wm_node_batch_free, also
 * on failure) the records of the node's own log right after `after`
 * (0/0: from the start; a finished epoch rolls into the next), at most
 * max_records and max_bytes of srecs (always one, if there is one), none
 * beyond wm_node_shareable. *last is the last record read, with its hash
 * (0/0 if none). The read runs in its own read transaction. WM_OK, or the
 * error of a read that failed part-way (the records before it are valid:
 * end says where; end may be NULL), or WM_ENOMEM. For the upward link and
 * for the log sent down to children alike. */
WM_MUST_CHECK wm_err_t wm_node_read_batch(wm_node_t *n, const wm_head_t *after,
                                          uint32_t max_records, uint32_t max_bytes,
                                          Wm__Batch *b, wm_head_t *last, wm_scan_t *end);
void wm_node_batch_free(Wm__Batch *b);

/* Periodic work (refreshing the guard file). Call from the poll loop. */
void wm_node_tick(wm_node_t *n);

#endif
