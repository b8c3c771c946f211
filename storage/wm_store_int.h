/* SPDX-License-Identifier: MIT */
/*
 * wm_store_int — internals shared by the files of the storage module
 * (wm_store.c: the environment, transactions, map growth, metadata and
 * LMDB's codes; wm_log.c: the record log and epoch keys; wm_index.c: the
 * derived indexes and registers; wm_rollup.c, wm_report.c, wm_stage.c,
 * wm_quota.c). Not for use outside storage/.
 */
#ifndef WM_STORE_INT_H
#define WM_STORE_INT_H

#include <lmdb.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>

#include "wm_store.h"

#define KEY_LOG 16   /* node u32 | epoch u32 | seq u64 */
#define KEY_EPOCH 8  /* node u32 | epoch u32 */
#define KEY_REF 17   /* node u32 | epoch u32 | seq u64 | kind u8 */

struct wm_store {
    MDB_env *env;
    MDB_dbi meta, nodes, nodeno, log, epochs, teams, refs, peers, curves, proofs, rollup, plans,
        sites, reports, inbox, quota, blobrefs;
    int no_quota; /* read-only, and no daemon with quotas has opened it yet */
    int no_blobrefs; /* read-only, and no daemon with blobs has opened it yet */
    unsigned flags;
    char detail[WM_WHY_MAX];
    /* The map grows by itself (wm_store.c, "map growth"). LMDB may resize
     * it only while no transaction of this process is open: every
     * transaction holds `resize` for reading, a resize takes it for
     * writing. */
    pthread_rwlock_t resize;
    size_t map_max; /* bytes; 0: grow while the disk lasts */
    char dir[PATH_MAX]; /* the environment's directory, to tell a full disk */
};

/* The head of the epoch last appended to in a transaction, for one
 * sub-database, so a batch of appends neither seeks nor re-hashes its
 * predecessor each time. */
typedef struct {
    int valid;
    uint32_t node;
    wm_head_t head;
    char station[WM_ID_MAX + 1]; /* id of node: a copy, the map may move */
} wm_head_cache_t;

struct wm_txn {
    wm_store_t *s;
    MDB_txn *txn;
    int write;
    int locked; /* holds s->resize for reading (top-level transactions) */
    wm_head_cache_t log_cache;   /* the log (wm_log.c) */
    wm_head_cache_t stage_cache; /* the staged head: inbox, else log (wm_stage.c) */
};

/* Big-endian integers in keys and values (keys sort numerically). Inline:
 * rollup scans read dozens per stored day. */
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
#define WM_BE32(v) (v)
#define WM_BE64(v) (v)
#else
#define WM_BE32(v) __builtin_bswap32(v)
#define WM_BE64(v) __builtin_bswap64(v)
#endif
static inline void wm_put_u32(uint8_t *p, uint32_t v)
{
    v = WM_BE32(v);
    memcpy(p, &v, 4);
}

static inline void wm_put_u64(uint8_t *p, uint64_t v)
{
    v = WM_BE64(v);
    memcpy(p, &v, 8);
}

static inline uint32_t wm_get_u32(const uint8_t *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return WM_BE32(v);
}

static inline uint64_t wm_get_u64(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return WM_BE64(v);
}
/* The log key of (node, epoch, seq) (wm_log.c). */
void wm_log_key(uint8_t k[KEY_LOG], uint32_t node, uint32_t epoch, uint64_t seq);
/* Positions c on the last entry whose key starts with prefix (plen bytes)
 * among keys of klen bytes; MDB_NOTFOUND if there is none. */
/* The last record of node in dbi (a log-keyed sub-database), of one
 * epoch if epoch is not NULL, as a head. WM_ENOTFOUND (out: seq 0, zero
 * hash) if there is none. */
WM_MUST_CHECK wm_err_t wm_db_last(wm_txn_t *t, MDB_dbi dbi, uint32_t node, const uint32_t *epoch,
                    wm_head_t *out);
int wm_mdb_seek_last(MDB_cursor *c, const uint8_t *prefix, size_t plen, size_t klen, MDB_val *k,
                     MDB_val *v);
/* Number of entries of dbi whose key starts with node (u32). */
WM_MUST_CHECK wm_err_t wm_db_count(wm_txn_t *t, MDB_dbi dbi, uint32_t node, uint64_t *count);
/* Maintains the derived indexes (wm_index.c) for one record just appended
 * to node's log in t. Records of kinds this build does not know touch no
 * index. */
WM_MUST_CHECK wm_err_t wm_index_record(wm_txn_t *t, uint32_t node, const wm_record_t *r);
/* Puts the refs entry 'o' naming record (node, epoch, seq) itself (a
 * needs-and-orders record; wm_orderidx.h). Putting it twice changes nothing. */
WM_MUST_CHECK wm_err_t wm_ref_put_order(wm_txn_t *t, uint32_t node, uint32_t epoch, uint64_t seq);
/* Translates an LMDB return code, remembering the original for the log. */
WM_MUST_CHECK wm_err_t wm_mdb_err(wm_store_t *s, int rc, const char *what);

/* Head caches (wm_store.c). get: nonzero, with *out, if c holds node's
 * head of epoch. station: node's id, from c or the store (c is reset if
 * it held another node); WM_ECHAIN if the id is too long. set: r (srec,
 * len) was just appended for node. */
int wm_head_cache_get(const wm_head_cache_t *c, uint32_t node, uint32_t epoch, wm_head_t *out);
WM_MUST_CHECK wm_err_t wm_head_cache_station(wm_txn_t *t, wm_head_cache_t *c, uint32_t node,
                                             const char **station);
void wm_head_cache_set(wm_head_cache_t *c, uint32_t node, const wm_record_t *r,
                       const uint8_t *srec, size_t len);
/* The same with the srec's hash already taken (wm_srec_hash_buf). */
void wm_head_cache_set_hash(wm_head_cache_t *c, uint32_t node, const wm_record_t *r,
                            const uint8_t hash[static WM_HASH_BYTES]);

#endif
