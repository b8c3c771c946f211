/* SPDX-License-Identifier: MIT */
/*
 * wm_store — one LMDB environment per node: signed logs of one or more
 * stations, the keys that signed each epoch, derived indexes and the node's
 * small metadata (sync cursors, log identity). The only module that
 * includes <lmdb.h>. No network.
 *
 * Durability: a write transaction is durable when wm_txn_commit() returns
 * WM_OK (LMDB fsyncs the data file and the meta page), unless the store was
 * opened with WM_STORE_NOSYNC (benchmarks only). Every change to a log and
 * its indexes happens in one transaction, so a log is never half-written:
 * after a crash it holds exactly the transactions that committed.
 *
 * Threads: a wm_store_t may be shared; a wm_txn_t belongs to the thread
 * that began it. Several processes may open one environment: one writer
 * (the daemon) and any number of read-only readers (wmctl).
 *
 * Map growth: the LMDB map grows by itself; map_size_mb is only its first
 * size and map_max_mb (wm_store_set_map_max) an optional ceiling. A write
 * transaction begun when the map is more than 3/4 used first doubles it
 * (when no other transaction of this process is open). A write that still
 * does not fit fails with WM_EMAPFULL, from a put or from the commit: the
 * caller then aborts the transaction, calls wm_store_grow() and, if that
 * returns WM_OK, runs the whole transaction again (every write path of
 * wmsync does; see wm_node_append, the aggregator's turn). Readers in
 * other processes adopt the larger map by themselves (MDB_MAP_RESIZED is
 * handled in wm_txn_begin). A full file system is WM_ENOSPC, never WM_EIO.
 *
 * Sub-databases (all integers big-endian, so keys sort numerically):
 *
 *   name    key                                 value
 *   ------  ----------------------------------  ---------------------------------
 *   meta    ASCII name                          see WM_META_* below
 *   nodes   node id (UTF-8 slug, no NUL)        node_no u32
 *   nodeno  node_no u32                         node id (UTF-8, NUL-terminated)
 *   log     node_no u32 | epoch u32 | seq u64   srec: sig[64] | record bytes
 *   epochs  node_no u32 | epoch u32             Ed25519 public key [32]
 *   teams   node_no u32 | team id (UTF-8)       state u8 (1 active, 2 disbanded)
 *                                               | kind u8 | team_no u16
 *                                               | created epoch u32 | created seq u64
 *                                               | name (team_no: 1.. in order of
 *                                               creation; created: its first record)
 *   refs    node_no u32 | epoch u32 | seq u64   by_epoch u32 | by_seq u64
 *           | kind u8 ('v' void, 'd' done)      (the record that refers to it: the
 *                                               first void; the latest completion)
 *           | kind u8 'o' (a needs-and-orders   0 | 0: the key names the record itself
 *             record, notices aside)            (wm_ref_scan_orders finds them)
 *   peers   node id (UTF-8, no NUL)             PeerState message (sync.proto)
 *   curves  Curve25519 public key [32]          node id (UTF-8, no NUL)
 *   proofs  node_no u32 | epoch u32 | seq u64   srec that conflicts with the stored
 *                                               one at that place (equivocation)
 *   reports node_no u32 | period (ASCII)        epoch u32 | seq u64 of the node's latest
 *                                               rollup report of that period
 *   inbox   node_no u32 | epoch u32 | seq u64   srec received from a child, chained and
 *                                               acked but not yet verified one by one
 *                                               (wm_stage.h); moves to log once it is
 *                                               (the log holds only verified records)
 *   quota   node_no u32 | day u32 (YYYYMMDD,    bytes u64 | records u64 a child stored of
 *           UTC capture day; 0xffffffff: all)   that capture day, or in all (wm_quota.h)
 *
 *   meta names:
 *   "format"   u32        storage format version (WM_STORE_FORMAT)
 *   "log_id"   16 bytes   random, set when the environment is created; the
 *                         fork guard ties a signing key to it
 *   "self"     UTF-8      this node's own id
 *   "acked"    epoch u32 | seq u64 | hash[32]   a child's upstream frontier:
 *                         what its aggregator acknowledged as durable
 *   "down_forked" UTF-8   feature "down" at a child: the fork found in the
 *                         parent's log (daemon/wm_down.h); absent or empty: none
 *   "orders_index" u32    the refs 'o' index covers every log at this
 *                         version (wm_orderidx.h; a writable open of a
 *                         store without it rebuilds the index once)
 *   "down_pin" pinned[32] | key[32] | from_epoch u32 | epoch u32 | seq u64
 *                         feature "down" at a child: the parent's key
 *                         rollovers followed (daemon/wm_down.h): the pin
 *                         they began from, the key now followed, the epoch
 *                         it signs from, the place of the last rollover
 *                         (empty: none)
 *   "down_forks" JSON     feature "down" at a child: the forks of the
 *                         parent's log reset (wm_down_reset_fork), an array
 *                         of {parent, archive, fork_epoch, fork_seq,
 *                         kept_epoch, kept_seq, at, forked}
 *   Other names are free for the layers above; their layouts are documented
 *   where they are written.
 *
 * Node numbers are assigned from 1 in order of first appearance; a node's
 * number never changes.
 *
 * Where each part lives: wm_store.c the environment, transactions, map
 * growth, meta (with "acked") and nodes/nodeno; wm_log.c the log and
 * epochs (wm_log_*, wm_epoch_*); wm_index.c teams, refs, reports, peers
 * with curves, and proofs (wm_team_*, wm_ref_get, wm_report_at, wm_peer_*,
 * wm_proof_*).
 */
#ifndef WM_STORE_H
#define WM_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "wm_crypto.h"
#include "wm_err.h"
#include "sync.pb-c.h"
#include "wm_record.h"
#include "wm_sync.h"
#include "wm_validate.h"

#define WM_STORE_FORMAT 1
#define WM_META_DOWN_FORKED "down_forked" /* see the meta names above */
#define WM_META_DOWN_PIN "down_pin"
#define WM_META_DOWN_FORKS "down_forks"
#define WM_LOG_ID_BYTES 16

/* wm_store_open flags */
#define WM_STORE_RDONLY 0x1 /* read-only; the environment must exist */
#define WM_STORE_NOSYNC 0x2 /* no fsync at commit: benchmarks only */

typedef struct wm_store wm_store_t;
typedef struct wm_txn wm_txn_t;

/* wm_head_t, the head of one epoch of one node's log, is the protocol's
 * frontier: see wm_sync.h. */

/* Opens (creating if needed, unless RDONLY) the environment in directory
 * DIR (created with mode 0700 if missing). map_mb is the first map size in
 * MiB (it grows from there; at least the data's size); 0 means the default
 * (1024). WM_ENOTFOUND if RDONLY and no environment exists; WM_ENOSPC if
 * the file system is full; WM_EIO otherwise on failure. *out is owned by
 * the caller. */
WM_MUST_CHECK wm_err_t wm_store_open(const char *dir, unsigned flags, size_t map_mb, wm_store_t **out);
/* Sets the ceiling of map growth in MiB (0, the default: none, the map
 * grows while the disk lasts). */
void wm_store_set_map_max(wm_store_t *s, size_t max_mb);
/* Grows the map one step (it doubles, by 8 GiB at most), after a write
 * transaction failed with WM_EMAPFULL and was aborted. No transaction of
 * this thread may be open; one open in another thread is waited for (5 s
 * at most). WM_OK: run the transaction again. WM_EMAPFULL: the map is at
 * its ceiling (map_max_mb). WM_ETIMEOUT: that other thread's transaction
 * stayed open for 5 s; the map did not grow (try later). Other codes:
 * LMDB's, translated. wm_store_detail says which. */
WM_MUST_CHECK wm_err_t wm_store_grow(wm_store_t *s);
/* The retry loop around a write transaction, for callers:
 *     int tries = 0;
 *     do err = run_it_once(...); while (wm_store_retry(s, &err, &tries));
 * After the transaction failed with *err and was aborted: 1 if *err is
 * WM_EMAPFULL and the map grew (run it again; at most WM_STORE_TRIES
 * runs), else 0 and *err is what to report (wm_store_grow's code when
 * the map could not grow). */
#define WM_STORE_TRIES 16
int wm_store_retry(wm_store_t *s, wm_err_t *err, int *tries);
/* Closes *s (no transaction may be open) and sets it NULL. Accepts NULL. */
void wm_store_close(wm_store_t **s);
/* Lets the kernel take back the pages of the map this process has read
 * (madvise MADV_DONTNEED on the shared read-only map: the data stays in
 * the page cache and on disk, a later read faults it back in). For an
 * idle daemon on a small machine (issue 13: idle RSS). Any thread may be
 * reading meanwhile: nothing it reads changes. */
void wm_store_release_pages(wm_store_t *s);
/* Drops the pages of the data file mapped into this process (its resident
 * memory), keeping nothing but what the next reads map again from the page
 * cache. Safe while other threads read. For the aggregator's memory budget. */
void wm_store_trim(wm_store_t *s);
/* A sentence about the last LMDB failure on s, with LMDB's own code and
 * text, for log lines. Valid until the next call on s. */
const char *wm_store_detail(const wm_store_t *s);
/* The environment's log id (see "log_id" above). */
WM_MUST_CHECK wm_err_t wm_store_log_id(wm_store_t *s, uint8_t id[static WM_LOG_ID_BYTES]);
/* Writes a compacted, consistent copy of the environment to the file
 * PATH (must not exist). Runs beside a live writer. */
WM_MUST_CHECK wm_err_t wm_store_copy(wm_store_t *s, const char *path);
/* The same copy written to fd (a new, empty file the caller owns, makes
 * durable and closes). */
WM_MUST_CHECK wm_err_t wm_store_copy_fd(wm_store_t *s, int fd);

/* The environment's files in a directory (LMDB's names): the data file a
 * backup is a copy of, and the lock file LMDB keeps beside it. */
#define WM_STORE_DATA_FILE "data.mdb"
#define WM_STORE_LOCK_FILE "lock.mdb"
/* Their modes, set on purpose whatever the umask each time a writer opens
 * the environment: the daemon's group (wmsync, which the web console's user
 * joins) reads the directory and the data, and writes the lock file, as
 * every LMDB reader must, even a read-only one; nobody else has access.
 * The keys stay in the node's keys/ directory, 0700 (node/wm_nodedir.h). */
#define WM_STORE_DIR_MODE 0750
#define WM_STORE_DATA_MODE 0640
#define WM_STORE_LOCK_MODE 0660
/* DIR/WM_STORE_DATA_FILE into out; WM_ETOOBIG if it does not fit cap. */
WM_MUST_CHECK wm_err_t wm_store_data_path(const char *dir, char *out, size_t cap);
/* Nonzero if DIR holds an environment (its data file exists). */
int wm_store_exists(const char *dir);
/* Removes an environment's files from DIR (not DIR itself; no store may
 * be open on it): for scratch and staging directories. Missing files are
 * not an error; WM_EIO if one cannot be removed. */
WM_MUST_CHECK wm_err_t wm_store_remove(const char *dir);

/* Begins a transaction; write != 0 for a write transaction (one at a time
 * per environment; others wait). *out is owned by the caller until commit
 * or abort. */
WM_MUST_CHECK wm_err_t wm_txn_begin(wm_store_t *s, int write, wm_txn_t **out);
/* Begins a transaction nested in the write transaction parent: its writes
 * join the parent's when it commits and vanish when it aborts. The parent
 * must not be used until the child ends. */
WM_MUST_CHECK wm_err_t wm_txn_begin_child(wm_txn_t *parent, wm_txn_t **out);
/* Commits and frees *t, setting it NULL. For a write transaction the data
 * is durable when this returns WM_OK. WM_EMAPFULL (grow and run it again,
 * see above), WM_ENOSPC (the disk is full) or WM_EIO on failure, after
 * which nothing of the transaction is stored. */
WM_MUST_CHECK wm_err_t wm_txn_commit(wm_txn_t **t);
/* Discards and frees *t, setting it NULL. Accepts NULL. */
void wm_txn_abort(wm_txn_t **t);

/* Generic metadata. get: copies at most cap bytes into buf and sets *len
 * to the stored length; WM_ENOTFOUND if absent. */
WM_MUST_CHECK wm_err_t wm_meta_get(wm_txn_t *t, const char *name, void *buf, size_t cap, size_t *len);
WM_MUST_CHECK wm_err_t wm_meta_put(wm_txn_t *t, const char *name, const void *buf, size_t len);

/* Node numbers (wm_nodeno_*: a node id's small number in this store; the
 * daemon's node object is wm_node_*). lookup: WM_ENOTFOUND if id is
 * unknown. add: returns the existing number or assigns the next one (write
 * transaction). name: the id of node_no, valid until the transaction ends. */
WM_MUST_CHECK wm_err_t wm_nodeno_lookup(wm_txn_t *t, const char *id, uint32_t *node_no);
WM_MUST_CHECK wm_err_t wm_nodeno_add(wm_txn_t *t, const char *id, uint32_t *node_no);
WM_MUST_CHECK wm_err_t wm_nodeno_name(wm_txn_t *t, uint32_t node_no, const char **id);
/* Gives node_no the id `to` (write transaction), which must be unknown
 * (WM_EEXIST): the node's log, epochs, proofs and indexes stay with the
 * number, and the old id is free for a new number. A child archives a
 * forked copy of its parent's log so (daemon/wm_down.h), under an id
 * that wm_node_archived recognises. */
WM_MUST_CHECK wm_err_t wm_nodeno_rename(wm_txn_t *t, uint32_t node_no, const char *to);
/* The mark in an archived log's id: PARENT~fork-N (never a node id:
 * wm_validate_id refuses '~'). Nonzero if id carries it: listings of
 * orders and notices, and exports, skip such a log. */
#define WM_NODE_ARCHIVE_MARK "~fork-"
int wm_node_archived(const char *id);

/* The key that signs an epoch of a node. WM_ENOTFOUND if none is set;
 * set refuses (WM_EEXIST) to change an epoch's key once set. last: the
 * highest epoch with a key, WM_ENOTFOUND if none. */
WM_MUST_CHECK wm_err_t wm_epoch_key(wm_txn_t *t, uint32_t node, uint32_t epoch, uint8_t pub[static WM_PUB_BYTES]);
WM_MUST_CHECK wm_err_t wm_epoch_set(wm_txn_t *t, uint32_t node, uint32_t epoch, const uint8_t pub[static WM_PUB_BYTES]);
WM_MUST_CHECK wm_err_t wm_epoch_last(wm_txn_t *t, uint32_t node, uint32_t *epoch);
/* The highest epoch of node that pub signs; WM_ENOTFOUND if it signs none.
 * A scan of the node's epochs (few: see WM_EPOCH_STEP_MAX). */
WM_MUST_CHECK wm_err_t wm_epoch_key_last(wm_txn_t *t, uint32_t node,
                                         const uint8_t pub[static WM_PUB_BYTES], uint32_t *epoch);

/* The head of an epoch (seq 0 and a zero hash if it is empty). */
WM_MUST_CHECK wm_err_t wm_log_head(wm_txn_t *t, uint32_t node, uint32_t epoch, wm_head_t *out);
/* The record at (epoch, seq); *out points into the map and is valid until
 * the transaction ends or writes. WM_ENOTFOUND if absent. */
WM_MUST_CHECK wm_err_t wm_log_get(wm_txn_t *t, uint32_t node, uint32_t epoch, uint64_t seq, wm_srec_t *out);
/* Number of records of a node, all epochs. */
WM_MUST_CHECK wm_err_t wm_log_count(wm_txn_t *t, uint32_t node, uint64_t *count);

/* Appends one signed record to node's log (write transaction). r is the
 * decoded form of srec (the caller decoded it, and verified the signature
 * if it came from elsewhere). The record must follow the head of its epoch:
 *   WM_OK        appended, indexes updated;
 *   WM_EEXIST    this exact record is already stored (nothing changes);
 *   WM_EFORKED   a different record is stored at its (epoch, seq);
 *   WM_ECHAIN    it does not follow the head (gap, wrong prev, station);
 *   WM_EMAPFULL (abort, wm_store_grow, run the transaction again), WM_EIO.
 * The caller commits; nothing is durable before that. */
WM_MUST_CHECK wm_err_t wm_log_append(wm_txn_t *t, uint32_t node, const wm_record_t *r,
                       const uint8_t *srec, size_t len);

/* How a scan ended. A scan ends in one of three ways, which callers must
 * tell apart: the data ended (complete), the callback stopped it (stop
 * nonzero), or the read failed part-way (the scan returns an error, and
 * what the callback saw is a partial result that must never be shown as
 * a complete one). */
typedef struct {
    int stop;       /* the callback's nonzero return, or 0 */
    uint64_t count; /* entries handed to the callback */
    uint32_t epoch; /* the last record handed to it (log scans; 0, 0 if none) */
    uint64_t seq;
} wm_scan_t;

/* Calls fn for each record of node from (epoch, seq) on, in order, across
 * epochs, until fn returns nonzero or the log ends. Returns WM_OK in both
 * cases (end->stop tells them apart), or the error that stopped the read
 * mid-scan: WM_ECORRUPT (a damaged page), WM_EIO, with LMDB's code in
 * wm_store_detail(); end then says after which record it stopped. end may
 * be NULL. The srec view is valid during the call only. */
typedef int (*wm_log_fn)(void *ctx, uint32_t epoch, uint64_t seq, const wm_srec_t *v);
WM_MUST_CHECK wm_err_t wm_log_scan(wm_txn_t *t, uint32_t node, uint32_t epoch, uint64_t seq, wm_log_fn fn,
                     void *ctx, wm_scan_t *end);

/* Result of verifying a whole log. */
typedef struct {
    uint64_t records;       /* records checked */
    uint32_t epochs;        /* epochs seen */
    wm_head_t head;         /* last record checked */
    wm_err_t error;         /* WM_OK, or the first failure */
    uint32_t bad_epoch;     /* where it failed */
    uint64_t bad_seq;
    char why[WM_WHY_MAX];
} wm_verify_t;

/* Verifies node's whole log: every record decodes, belongs to station id,
 * chains to its predecessor (seq + 1, prev = hash) from seq 1 of each
 * epoch, and carries a valid signature by its epoch's key. Returns the
 * first failure (also in out->error). */
WM_MUST_CHECK wm_err_t wm_log_verify(wm_txn_t *t, uint32_t node, const char *station, wm_verify_t *out);

/* Where the latest rollup report of `period` is in node's log.
 * WM_ENOTFOUND if the node published none. */
WM_MUST_CHECK wm_err_t wm_report_at(wm_txn_t *t, uint32_t node, const char *period, uint32_t *epoch,
                      uint64_t *seq);

/* Derived indexes, maintained by wm_log_append. */
typedef enum { WM_TEAM_ACTIVE = 1, WM_TEAM_DISBANDED = 2 } wm_team_state_t;
/* State of a team; WM_ENOTFOUND if it was never created. */
WM_MUST_CHECK wm_err_t wm_team_state(wm_txn_t *t, uint32_t node, const char *team, wm_team_state_t *state);
/* A team as the index knows it. */
typedef struct {
    char id[WM_ID_MAX + 1];
    char name[WM_TEXT_MAX + 1];
    wm_team_state_t state;
    int kind;          /* Wm__TeamKind */
    uint16_t no;       /* team number within the node */
    uint32_t created_epoch; /* the record that first created it */
    uint64_t created_seq;
} wm_team_t;
WM_MUST_CHECK wm_err_t wm_team_get(wm_txn_t *t, uint32_t node, const char *team, wm_team_t *out);
typedef int (*wm_team_fn)(void *ctx, const wm_team_t *team);
/* Calls fn for each team of node (in id order) until it returns nonzero.
 * WM_OK when the teams ended or fn stopped; the error of a read that
 * failed part-way (WM_ECORRUPT, WM_EIO) or of an entry that does not
 * decode (WM_EDECODE) otherwise. */
WM_MUST_CHECK wm_err_t wm_team_scan(wm_txn_t *t, uint32_t node, wm_team_fn fn, void *ctx);
/* The record that voided ('v') or completed ('d') the target; WM_ENOTFOUND
 * if there is none. */
WM_MUST_CHECK wm_err_t wm_ref_get(wm_txn_t *t, uint32_t node, uint32_t epoch, uint64_t seq, char kind,
                    uint32_t *by_epoch, uint64_t *by_seq);
/* Calls fn(ctx, node, epoch, seq) for every needs-and-orders record
 * (record.proto 30–39, notices aside) of every log in t, in key order,
 * until fn returns nonzero. WM_OK, or the read error that stopped the scan
 * part-way (a partial result: never show it as complete). */
typedef int (*wm_ref_fn)(void *ctx, uint32_t node, uint32_t epoch, uint64_t seq);
WM_MUST_CHECK wm_err_t wm_ref_scan_orders(wm_txn_t *t, wm_ref_fn fn, void *ctx);

/* The register of enrolled children (aggregators). get: *out is owned by
 * the caller (free with wm_pb_free); WM_ENOTFOUND if not enrolled.
 * put: inserts or replaces by p->node and keeps the curves index. */
typedef enum { WM_PEER_ACTIVE = 1, WM_PEER_QUARANTINED = 2, WM_PEER_REVOKED = 3 } wm_peer_state_t;
/* The largest PeerState decoded: keys, frontiers and reasons take a few KiB;
 * 1 MiB bounds what a damaged entry can make a reader allocate. */
#define WM_PEER_STATE_MAX (1u << 20)
WM_MUST_CHECK wm_err_t wm_peer_get(wm_txn_t *t, const char *id, Wm__PeerState **out);
WM_MUST_CHECK wm_err_t wm_peer_put(wm_txn_t *t, const Wm__PeerState *p);
/* The id enrolled with a Curve25519 key, copied into id (cap bytes). */
WM_MUST_CHECK wm_err_t wm_peer_by_curve(wm_txn_t *t, const uint8_t key[static WM_PUB_BYTES], char *id, size_t cap);
/* Calls fn for each enrolled peer in id order until it returns nonzero.
 * WM_OK when the register ended or fn stopped; WM_EDECODE for an entry
 * that does not decode, WM_ECORRUPT / WM_EIO for a read that failed
 * part-way. */
typedef int (*wm_peer_fn)(void *ctx, const Wm__PeerState *p);
WM_MUST_CHECK wm_err_t wm_peer_scan(wm_txn_t *t, wm_peer_fn fn, void *ctx);

/* Keeps srec as proof that it conflicts with the record stored at its
 * (epoch, seq). The first proof per place is kept. */
WM_MUST_CHECK wm_err_t wm_proof_put(wm_txn_t *t, uint32_t node, uint32_t epoch, uint64_t seq,
                      const uint8_t *srec, size_t len);
/* The first proof kept for node (lowest epoch, seq): its place, and the
 * srec in *out (may be NULL), valid until the transaction ends.
 * WM_ENOTFOUND if none. */
WM_MUST_CHECK wm_err_t wm_proof_first(wm_txn_t *t, uint32_t node, uint32_t *epoch,
                                      uint64_t *seq, wm_srec_t *out);
/* Number of proofs kept for node. */
WM_MUST_CHECK wm_err_t wm_proof_count(wm_txn_t *t, uint32_t node, uint64_t *count);

/* The "acked" cursor (see meta names above). An absent cursor reads as
 * epoch 0, seq 0, zero hash. */
WM_MUST_CHECK wm_err_t wm_acked_get(wm_txn_t *t, wm_head_t *out);
WM_MUST_CHECK wm_err_t wm_acked_put(wm_txn_t *t, const wm_head_t *h);

#endif
