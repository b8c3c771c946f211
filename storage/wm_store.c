/* SPDX-License-Identifier: MIT */
/*
 * wm_store — LMDB behind the project's names: the environment (open,
 * close, copy, its files), transactions, map growth and the retry after
 * MDB_MAP_FULL, metadata, node numbers, and the translation of LMDB's codes
 * at its edge (the original code goes into wm_store_detail() for the log
 * line). The record log is in wm_log.c, the derived indexes and registers
 * in wm_index.c; byte layouts are drawn in wm_store.h.
 */
#include "wm_store.h"
#include "wm_store_int.h"
#include "wm_orderidx.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <lmdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#define WM_DEFAULT_MAP_MB 1024

/* Map growth. LMDB refuses writes beyond its map (MDB_MAP_FULL), and
 * operators never tune its size: map_size_mb is only the first size. Before
 * each write transaction the map grows when more than MAP_GROW_NUM /
 * MAP_GROW_DEN of it is in use; a transaction that hits MDB_MAP_FULL all
 * the same is aborted by its caller, which calls wm_store_grow() and runs
 * it again. A larger map costs no disk (LMDB's file grows with the data,
 * not with the map); it costs address space only. */
#define MAP_GROW_NUM 3
#define MAP_GROW_DEN 4
#define MAP_STEP_MAX ((size_t)8 << 30) /* each step doubles the map, by 8 GiB at most */
#define MAP_ALIGN ((size_t)1 << 20)
#define RESIZE_WAIT_S 5 /* how long a resize waits for other threads' transactions */

/* LMDB reports a write cut short as EIO, and a file system that fills up
 * cuts the write short rather than failing it with ENOSPC: an EIO while
 * less than this is free is a full disk. */
#define DISK_FULL_MARGIN ((uint64_t)1 << 20)

static int disk_full(const wm_store_t *s)
{
    struct statvfs vf;
    return s->dir[0] && statvfs(s->dir, &vf) == 0 &&
           (uint64_t)vf.f_bavail * vf.f_frsize < DISK_FULL_MARGIN;
}

/* Translates an LMDB return code, remembering the original for the log. */
wm_err_t wm_mdb_err(wm_store_t *s, int rc, const char *what)
{
    if (rc == 0)
        return WM_OK;
    if (rc == MDB_NOTFOUND)
        return WM_ENOTFOUND;
    if (rc == EIO && disk_full(s))
        rc = ENOSPC;
    snprintf(s->detail, sizeof s->detail, "%s: %s (LMDB code %d)", what, mdb_strerror(rc), rc);
    if (rc == MDB_MAP_FULL)
        return WM_EMAPFULL;
    if (rc == ENOSPC || rc == EDQUOT) /* LMDB returns the errno of a failed write */
        return WM_ENOSPC;
    if (rc == MDB_CORRUPTED || rc == MDB_PAGE_NOTFOUND || rc == MDB_INVALID)
        return WM_ECORRUPT;
    if (rc == ENOMEM)
        return WM_ENOMEM;
    return WM_EIO;
}

/* Bytes of the map in use (up to the last page of the last commit) and
 * the map's size. An LMDB code on failure. */
static int map_usage(wm_store_t *s, size_t *used, size_t *size)
{
    MDB_envinfo info;
    MDB_stat st;
    int rc = mdb_env_info(s->env, &info);
    if (rc == 0)
        rc = mdb_env_stat(s->env, &st);
    if (rc)
        return rc;
    *used = ((size_t)info.me_last_pgno + 1) * st.ms_psize;
    *size = info.me_mapsize;
    return 0;
}

/* Takes s->resize for writing (no transaction of this process is open
 * then): at once if !wait, else within RESIZE_WAIT_S. 0 when taken. */
static int resize_lock(wm_store_t *s, int wait)
{
    if (!wait)
        return pthread_rwlock_trywrlock(&s->resize);
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += RESIZE_WAIT_S;
    return pthread_rwlock_timedwrlock(&s->resize, &ts);
}

/* Grows the map one step (doubling, MAP_STEP_MAX at most, map_max at
 * most): always if force, else only when it is more than 3/4 used. The
 * caller holds s->resize for writing. WM_EMAPFULL at map_max. */
static WM_MUST_CHECK wm_err_t grow_locked(wm_store_t *s, int force)
{
    size_t used = 0, size = 0;
    int rc = map_usage(s, &used, &size);
    if (rc)
        return wm_mdb_err(s, rc, "read the map size");
    if (!force && used <= size / MAP_GROW_DEN * MAP_GROW_NUM)
        return WM_OK;
    size_t want = (used > size ? used : size);
    want += want < MAP_STEP_MAX ? want : MAP_STEP_MAX;
    want = (want + MAP_ALIGN - 1) / MAP_ALIGN * MAP_ALIGN;
    if (s->map_max && want > s->map_max)
        want = s->map_max;
    if (want <= size) {
        snprintf(s->detail, sizeof s->detail,
                 "the map is %zu MiB, the limit set by map_max_mb (LMDB code %d)",
                 size >> 20, MDB_MAP_FULL);
        return WM_EMAPFULL;
    }
    if ((rc = mdb_env_set_mapsize(s->env, want)))
        return wm_mdb_err(s, rc, "grow the map");
    return WM_OK;
}

wm_err_t wm_store_grow(wm_store_t *s)
{
    /* Not the map's limit: a transaction of another thread (a reader at
     * low priority, starved under load) held the map for RESIZE_WAIT_S.
     * Said as what it is, and retryable; map_max_mb has nothing to do with it. */
    if (resize_lock(s, 1) != 0) {
        snprintf(s->detail, sizeof s->detail,
                 "the map is full and could not grow: a transaction of another thread "
                 "stayed open for %d s (the system is overloaded?); try again",
                 RESIZE_WAIT_S);
        return WM_ETIMEOUT;
    }
    wm_err_t err = grow_locked(s, 1);
    pthread_rwlock_unlock(&s->resize);
    return err;
}

int wm_store_retry(wm_store_t *s, wm_err_t *err, int *tries)
{
    if (*err != WM_EMAPFULL || ++*tries >= WM_STORE_TRIES)
        return 0;
    wm_err_t grown = wm_store_grow(s);
    if (grown != WM_OK) /* why it could not grow is what to report */
        *err = grown;
    return grown == WM_OK;
}

void wm_store_set_map_max(wm_store_t *s, size_t max_mb)
{
    s->map_max = max_mb << 20;
}

/* Another process grew the map beyond ours (MDB_MAP_RESIZED): adopt its
 * size. The caller holds no transaction of s. */
static int adopt_map_size(wm_store_t *s)
{
    if (resize_lock(s, 1) != 0)
        return MDB_MAP_RESIZED;
    int rc = mdb_env_set_mapsize(s->env, 0);
    pthread_rwlock_unlock(&s->resize);
    return rc;
}

/* mdb_txn_begin, adopting the map size another process grew to: it may
 * grow again between the adoption and the next try (a reader that loses
 * the CPU meanwhile, under load), so each MDB_MAP_RESIZED adopts the new
 * size and tries again. The map only grows, and each adoption takes all of
 * it: WM_STORE_TRIES tries are many doublings. The caller holds s->resize
 * for reading and no transaction of s; it holds it again on return. */
static int begin_adopting(wm_store_t *s, unsigned flags, MDB_txn **txn)
{
    int rc = mdb_txn_begin(s->env, NULL, flags, txn);
    for (int tries = 1; rc == MDB_MAP_RESIZED && tries < WM_STORE_TRIES; tries++) {
        pthread_rwlock_unlock(&s->resize);
        rc = adopt_map_size(s);
        pthread_rwlock_rdlock(&s->resize);
        if (rc == 0)
            rc = mdb_txn_begin(s->env, NULL, flags, txn);
    }
    return rc;
}

const char *wm_store_detail(const wm_store_t *s)
{
    return s->detail[0] ? s->detail : "no detail";
}

/* Opens every sub-database; creates them (and the meta entries set once
 * per environment) unless read-only. */
static WM_MUST_CHECK wm_err_t open_dbis(wm_store_t *s)
{
    MDB_txn *txn = NULL;
    int ro = s->flags & WM_STORE_RDONLY;
    unsigned cf = ro ? 0 : MDB_CREATE;
    /* Between mdb_env_open and here a writer may have grown the map. */
    pthread_rwlock_rdlock(&s->resize);
    int rc = begin_adopting(s, ro ? MDB_RDONLY : 0, &txn);
    pthread_rwlock_unlock(&s->resize);
    if (rc)
        return wm_mdb_err(s, rc, "begin");
    struct {
        const char *name;
        MDB_dbi *dbi;
    } dbs[] = {{"meta", &s->meta},     {"nodes", &s->nodes},   {"nodeno", &s->nodeno},
               {"log", &s->log},       {"epochs", &s->epochs}, {"teams", &s->teams},
               {"refs", &s->refs},     {"peers", &s->peers},   {"curves", &s->curves},
               {"proofs", &s->proofs}, {"rollup", &s->rollup}, {"plans", &s->plans},
               {"sites", &s->sites},   {"reports", &s->reports},
               {"inbox", &s->inbox}};
    for (size_t i = 0; i < sizeof dbs / sizeof dbs[0]; i++) {
        rc = mdb_dbi_open(txn, dbs[i].name, cf, dbs[i].dbi);
        if (rc)
            goto out;
    }
    /* Newer than the others: an environment that no daemon with quotas
     * has opened yet lacks it, and reads of it then find nothing. */
    rc = mdb_dbi_open(txn, "quota", cf, &s->quota);
    if (rc == MDB_NOTFOUND && ro) {
        s->no_quota = 1;
        rc = 0;
    }
    if (rc)
        goto out;
    rc = mdb_dbi_open(txn, "blobrefs", cf, &s->blobrefs); /* newer still (wm_blobref.h) */
    if (rc == MDB_NOTFOUND && ro) {
        s->no_blobrefs = 1;
        rc = 0;
    }
    if (rc)
        goto out;
    if (!ro) {
        MDB_val k = {6, "log_id"}, v;
        if (mdb_get(txn, s->meta, &k, &v) == MDB_NOTFOUND) {
            uint8_t id[WM_LOG_ID_BYTES], fmt[4];
            wm_random(id, sizeof id);
            wm_put_u32(fmt, WM_STORE_FORMAT);
            v = (MDB_val){sizeof id, id};
            if ((rc = mdb_put(txn, s->meta, &k, &v, 0)))
                goto out;
            k = (MDB_val){6, "format"};
            v = (MDB_val){4, fmt};
            if ((rc = mdb_put(txn, s->meta, &k, &v, 0)))
                goto out;
        }
    }
    rc = mdb_txn_commit(txn);
    txn = NULL;
out:
    if (txn)
        mdb_txn_abort(txn);
    return wm_mdb_err(s, rc, "open databases");
}

/* The modes of wm_store.h on the directory and both files (a writer owns
 * them; a restore or an older build may have left others). */
static wm_err_t set_modes(wm_store_t *s)
{
    static const struct {
        const char *name;
        mode_t mode;
    } files[] = {{"", WM_STORE_DIR_MODE},
                 {"/" WM_STORE_DATA_FILE, WM_STORE_DATA_MODE},
                 {"/" WM_STORE_LOCK_FILE, WM_STORE_LOCK_MODE}};
    char path[PATH_MAX + 16];
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        snprintf(path, sizeof path, "%s%s", s->dir, files[i].name);
        if (chmod(path, files[i].mode) != 0) {
            snprintf(s->detail, sizeof s->detail, "chmod %04o %s: %s", (unsigned)files[i].mode,
                     path, strerror(errno));
            return wm_err_from_errno(errno);
        }
    }
    return WM_OK;
}

/* A store written before the needs-and-orders index gets it now, once
 * (wm_orderidx.h); says so on stderr (the daemon's log). */
static WM_MUST_CHECK wm_err_t orders_index(wm_store_t *s)
{
    size_t n = 0;
    wm_err_t err = wm_orderidx_ensure(s, &n);
    if (err == WM_OK && n > 0)
        fprintf(stderr, "wm_store: %s: indexed %zu needs-and-orders records stored before "
                        "their index (once)\n", s->dir, n);
    return err;
}

wm_err_t wm_store_open(const char *dir, unsigned flags, size_t map_mb, wm_store_t **out)
{
    wm_err_t err = WM_OK;
    wm_store_t *s = calloc(1, sizeof *s);
    if (!s)
        return WM_ENOMEM;
    /* A waiting resize goes before new transactions (the verifier thread
     * reads in a loop), and gives up after RESIZE_WAIT_S. */
    pthread_rwlockattr_t ra;
    int lrc = pthread_rwlockattr_init(&ra);
    if (lrc == 0)
        lrc = pthread_rwlockattr_setkind_np(&ra, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
    if (lrc == 0)
        lrc = pthread_rwlock_init(&s->resize, &ra);
    pthread_rwlockattr_destroy(&ra);
    if (lrc != 0) {
        free(s);
        return WM_ENOMEM;
    }
    s->flags = flags;
    snprintf(s->dir, sizeof s->dir, "%s", dir);
    struct stat st;
    if (stat(dir, &st) != 0) {
        if (flags & WM_STORE_RDONLY) {
            err = WM_ENOTFOUND;
            goto out;
        }
        if (mkdir(dir, WM_STORE_DIR_MODE) != 0) {
            snprintf(s->detail, sizeof s->detail, "mkdir %s: %s", dir, strerror(errno));
            err = WM_EIO;
            goto out;
        }
    }
    int rc = mdb_env_create(&s->env);
    if (rc == 0)
        rc = mdb_env_set_maxdbs(s->env, 24);
    if (rc == 0)
        rc = mdb_env_set_mapsize(s->env, (map_mb ? map_mb : WM_DEFAULT_MAP_MB) << 20);
    if (rc == 0) {
        unsigned ef = MDB_NOTLS;
        if (flags & WM_STORE_RDONLY)
            ef |= MDB_RDONLY;
        if (flags & WM_STORE_NOSYNC)
            ef |= MDB_NOSYNC;
        rc = mdb_env_open(s->env, dir, ef, WM_STORE_DATA_MODE);
        if (rc == ENOENT && (flags & WM_STORE_RDONLY)) {
            err = WM_ENOTFOUND;
            goto out;
        }
    }
    if ((err = wm_mdb_err(s, rc, "open environment")) != WM_OK)
        goto out;
    if ((err = open_dbis(s)) != WM_OK) {
        if (err == WM_ENOTFOUND) /* read-only and never initialised */
            err = WM_ENOTFOUND;
        goto out;
    }
    /* A map_size_mb below the data: room at once. Best effort: a map that
     * cannot grow (map_max_mb) is named by the write that finds it full. */
    if (!(flags & WM_STORE_RDONLY))
        WM_IGNORE(grow_locked(s, 0));
    if (!(flags & WM_STORE_RDONLY) && (err = set_modes(s)) != WM_OK)
        goto out;
    if (!(flags & WM_STORE_RDONLY) && (err = orders_index(s)) != WM_OK)
        goto out;
    *out = s;
    return WM_OK;
out:
    if (err != WM_OK && s->detail[0])
        fprintf(stderr, "wm_store: %s\n", s->detail);
    if (s->env)
        mdb_env_close(s->env);
    pthread_rwlock_destroy(&s->resize);
    free(s);
    return err;
}

void wm_store_trim(wm_store_t *s)
{
    mdb_filehandle_t fd;
    struct stat st;
    char line[512];
    if (!s || mdb_env_get_fd(s->env, &fd) != 0 || fstat(fd, &st) != 0)
        return;
    /* LMDB does not say where it mapped the file (me_mapaddr is only the
     * MDB_FIXEDMAP address): find the data file's mappings by inode. */
    FILE *f = fopen("/proc/self/maps", "r");
    if (!f)
        return;
    while (fgets(line, sizeof line, f)) {
        unsigned long lo, hi, off, ino;
        unsigned maj, mnr;
        char perms[8];
        if (sscanf(line, "%lx-%lx %7s %lx %x:%x %lu", &lo, &hi, perms, &off, &maj, &mnr, &ino) != 7 ||
            ino != (unsigned long)st.st_ino || makedev(maj, mnr) != st.st_dev)
            continue;
        /* LMDB maps the file shared and read-only (no MDB_WRITEMAP), and
         * writes with pwrite: dropping the mapping's pages loses nothing,
         * and a read (any thread's) maps them again from the page cache. */
        (void)madvise((void *)lo, hi - lo, MADV_DONTNEED);
    }
    fclose(f);
}

void wm_store_close(wm_store_t **s)
{
    if (!s || !*s)
        return;
    mdb_env_close((*s)->env);
    pthread_rwlock_destroy(&(*s)->resize);
    free(*s);
    *s = NULL;
}

wm_err_t wm_store_copy_fd(wm_store_t *s, int fd)
{
    pthread_rwlock_rdlock(&s->resize); /* the copy reads in a transaction of its own */
    int rc = mdb_env_copyfd2(s->env, fd, MDB_CP_COMPACT);
    pthread_rwlock_unlock(&s->resize);
    if (rc == MDB_MAP_RESIZED && (rc = adopt_map_size(s)) == 0) {
        /* another process grew the map: again, from the start */
        if (ftruncate(fd, 0) != 0 || lseek(fd, 0, SEEK_SET) != 0)
            return wm_err_from_errno(errno);
        pthread_rwlock_rdlock(&s->resize);
        rc = mdb_env_copyfd2(s->env, fd, MDB_CP_COMPACT);
        pthread_rwlock_unlock(&s->resize);
    }
    return wm_mdb_err(s, rc, "copy");
}

wm_err_t wm_store_copy(wm_store_t *s, const char *path)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0)
        return wm_err_from_errno(errno);
    wm_err_t err = wm_store_copy_fd(s, fd);
    if (err == WM_OK && fsync(fd) != 0)
        err = wm_err_from_errno(errno);
    if (close(fd) != 0 && err == WM_OK)
        err = wm_err_from_errno(errno);
    if (err != WM_OK)
        unlink(path);
    return err;
}

wm_err_t wm_txn_begin(wm_store_t *s, int write, wm_txn_t **out)
{
    assert(!(write && (s->flags & WM_STORE_RDONLY)));
    wm_txn_t *t = calloc(1, sizeof *t);
    if (!t)
        return WM_ENOMEM;
    /* Room before it is needed, if no other transaction is open here
     * (else the next write grows it, or MDB_MAP_FULL calls for a retry).
     * Best effort: a map that cannot grow is named by the write that fills it. */
    if (write && resize_lock(s, 0) == 0) {
        WM_IGNORE(grow_locked(s, 0));
        pthread_rwlock_unlock(&s->resize);
    }
    pthread_rwlock_rdlock(&s->resize);
    int rc = begin_adopting(s, write ? 0 : MDB_RDONLY, &t->txn);
    if (rc) {
        pthread_rwlock_unlock(&s->resize);
        free(t);
        return wm_mdb_err(s, rc, "begin transaction");
    }
    t->locked = 1;
    t->s = s;
    t->write = write;
    *out = t;
    return WM_OK;
}

wm_err_t wm_txn_begin_child(wm_txn_t *parent, wm_txn_t **out)
{
    assert(parent->write);
    wm_txn_t *t = calloc(1, sizeof *t);
    if (!t)
        return WM_ENOMEM;
    int rc = mdb_txn_begin(parent->s->env, parent->txn, 0, &t->txn);
    if (rc) {
        free(t);
        return wm_mdb_err(parent->s, rc, "begin nested transaction");
    }
    t->s = parent->s;
    t->write = 1;
    parent->log_cache.valid = 0; /* the child may move heads the parent cached */
    parent->stage_cache.valid = 0;
    *out = t;
    return WM_OK;
}

wm_err_t wm_txn_commit(wm_txn_t **t)
{
    wm_txn_t *x = *t;
    /* For a write transaction, LMDB has fsynced the data and the new meta
     * page when this returns 0: the commit point of every write in wmsync. */
    wm_err_t err = wm_mdb_err(x->s, mdb_txn_commit(x->txn), "commit");
    if (x->locked)
        pthread_rwlock_unlock(&x->s->resize);
    free(x);
    *t = NULL;
    return err;
}

void wm_txn_abort(wm_txn_t **t)
{
    if (!t || !*t)
        return;
    mdb_txn_abort((*t)->txn);
    if ((*t)->locked)
        pthread_rwlock_unlock(&(*t)->s->resize);
    free(*t);
    *t = NULL;
}

wm_err_t wm_store_log_id(wm_store_t *s, uint8_t id[static WM_LOG_ID_BYTES])
{
    wm_txn_t *t = NULL;
    size_t len = 0;
    wm_err_t err = wm_txn_begin(s, 0, &t);
    if (err == WM_OK)
        err = wm_meta_get(t, "log_id", id, WM_LOG_ID_BYTES, &len);
    wm_txn_abort(&t);
    if (err == WM_OK && len != WM_LOG_ID_BYTES)
        err = WM_EDECODE;
    return err;
}

wm_err_t wm_meta_get(wm_txn_t *t, const char *name, void *buf, size_t cap, size_t *len)
{
    MDB_val k = {strlen(name), (void *)name}, v;
    wm_err_t err = wm_mdb_err(t->s, mdb_get(t->txn, t->s->meta, &k, &v), "meta get");
    if (err != WM_OK)
        return err;
    memcpy(buf, v.mv_data, v.mv_size < cap ? v.mv_size : cap);
    *len = v.mv_size;
    return WM_OK;
}

wm_err_t wm_meta_put(wm_txn_t *t, const char *name, const void *buf, size_t len)
{
    MDB_val k = {strlen(name), (void *)name}, v = {len, (void *)buf};
    return wm_mdb_err(t->s, mdb_put(t->txn, t->s->meta, &k, &v, 0), "meta put");
}

wm_err_t wm_nodeno_lookup(wm_txn_t *t, const char *id, uint32_t *node_no)
{
    MDB_val k = {strlen(id), (void *)id}, v;
    wm_err_t err = wm_mdb_err(t->s, mdb_get(t->txn, t->s->nodes, &k, &v), "node lookup");
    if (err != WM_OK)
        return err;
    if (v.mv_size != 4)
        return WM_EDECODE;
    *node_no = wm_get_u32(v.mv_data);
    return WM_OK;
}

wm_err_t wm_nodeno_add(wm_txn_t *t, const char *id, uint32_t *node_no)
{
    wm_err_t err = wm_nodeno_lookup(t, id, node_no);
    if (err != WM_ENOTFOUND)
        return err;
    /* Next number: one past the highest assigned. */
    MDB_cursor *c = NULL;
    MDB_val k, v;
    uint32_t next = 1;
    int rc = mdb_cursor_open(t->txn, t->s->nodeno, &c);
    if (rc)
        return wm_mdb_err(t->s, rc, "node cursor");
    rc = mdb_cursor_get(c, &k, &v, MDB_LAST);
    mdb_cursor_close(c);
    if (rc == 0 && k.mv_size == 4)
        next = wm_get_u32(k.mv_data) + 1;
    else if (rc != MDB_NOTFOUND)
        return wm_mdb_err(t->s, rc, "node last");
    uint8_t nk[4];
    wm_put_u32(nk, next);
    k = (MDB_val){strlen(id), (void *)id};
    v = (MDB_val){4, nk};
    if ((rc = mdb_put(t->txn, t->s->nodes, &k, &v, MDB_NOOVERWRITE)))
        return wm_mdb_err(t->s, rc, "node add");
    MDB_val k2 = {4, nk}, v2 = {strlen(id) + 1, (void *)id};
    if ((rc = mdb_put(t->txn, t->s->nodeno, &k2, &v2, MDB_NOOVERWRITE)))
        return wm_mdb_err(t->s, rc, "node add");
    *node_no = next;
    return WM_OK;
}

wm_err_t wm_nodeno_rename(wm_txn_t *t, uint32_t node_no, const char *to)
{
    char from[WM_ID_MAX + 64];
    const char *id = NULL;
    uint32_t other = 0;
    uint8_t nk[4];
    wm_err_t err = wm_nodeno_name(t, node_no, &id);
    if (err != WM_OK)
        return err;
    if (strlen(id) >= sizeof from)
        return WM_EDECODE;
    snprintf(from, sizeof from, "%s", id);
    if ((err = wm_nodeno_lookup(t, to, &other)) != WM_ENOTFOUND)
        return err == WM_OK ? WM_EEXIST : err;
    wm_put_u32(nk, node_no);
    MDB_val k = {strlen(from), from}, k2 = {strlen(to), (void *)to}, v = {4, nk};
    MDB_val kn = {4, nk}, vn = {strlen(to) + 1, (void *)to};
    int rc = mdb_del(t->txn, t->s->nodes, &k, NULL);
    if (!rc)
        rc = mdb_put(t->txn, t->s->nodes, &k2, &v, MDB_NOOVERWRITE);
    if (!rc)
        rc = mdb_put(t->txn, t->s->nodeno, &kn, &vn, 0);
    return wm_mdb_err(t->s, rc, "node rename");
}

int wm_node_archived(const char *id)
{
    return id && strstr(id, WM_NODE_ARCHIVE_MARK) != NULL;
}

wm_err_t wm_nodeno_name(wm_txn_t *t, uint32_t node_no, const char **id)
{
    uint8_t nk[4];
    wm_put_u32(nk, node_no);
    MDB_val k = {4, nk}, v;
    wm_err_t err = wm_mdb_err(t->s, mdb_get(t->txn, t->s->nodeno, &k, &v), "node name");
    if (err != WM_OK)
        return err;
    if (v.mv_size == 0 || ((const char *)v.mv_data)[v.mv_size - 1] != 0)
        return WM_EDECODE;
    *id = v.mv_data; /* stored NUL-terminated: usable in place */
    return WM_OK;
}

/* Positions c on the last entry whose key starts with prefix (plen bytes)
 * and is <= the prefix padded with 0xff. MDB_NOTFOUND if there is none. */
int wm_mdb_seek_last(MDB_cursor *c, const uint8_t *prefix, size_t plen, size_t klen, MDB_val *k,
                     MDB_val *v)
{
    uint8_t probe[KEY_LOG];
    assert(klen <= sizeof probe && plen <= klen);
    memcpy(probe, prefix, plen);
    memset(probe + plen, 0xff, klen - plen);
    *k = (MDB_val){klen, probe};
    int rc = mdb_cursor_get(c, k, v, MDB_SET_RANGE);
    if (rc == 0 && (k->mv_size != klen || memcmp(k->mv_data, probe, klen) != 0))
        rc = mdb_cursor_get(c, k, v, MDB_PREV);
    else if (rc == MDB_NOTFOUND)
        rc = mdb_cursor_get(c, k, v, MDB_LAST);
    if (rc)
        return rc;
    if (k->mv_size < plen || memcmp(k->mv_data, prefix, plen) != 0)
        return MDB_NOTFOUND;
    return 0;
}

wm_err_t wm_db_last(wm_txn_t *t, MDB_dbi dbi, uint32_t node, const uint32_t *epoch,
                    wm_head_t *out)
{
    MDB_cursor *c = NULL;
    MDB_val k, v;
    uint8_t prefix[8];
    size_t plen = epoch ? 8 : 4;
    wm_put_u32(prefix, node);
    if (epoch)
        wm_put_u32(prefix + 4, *epoch);
    memset(out, 0, sizeof *out);
    out->epoch = epoch ? *epoch : 0;
    int rc = mdb_cursor_open(t->txn, dbi, &c);
    if (rc)
        return wm_mdb_err(t->s, rc, "cursor");
    rc = wm_mdb_seek_last(c, prefix, plen, KEY_LOG, &k, &v);
    wm_err_t err = wm_mdb_err(t->s, rc, "last record");
    if (rc == 0) {
        wm_srec_t view;
        out->epoch = wm_get_u32((const uint8_t *)k.mv_data + 4);
        out->seq = wm_get_u64((const uint8_t *)k.mv_data + 8);
        if ((err = wm_srec_view(v.mv_data, v.mv_size, &view)) == WM_OK)
            wm_srec_hash(&view, out->hash);
        else
            err = WM_EDECODE;
    }
    mdb_cursor_close(c);
    return err;
}

/* Number of entries of dbi whose key starts with node (u32). */
wm_err_t wm_db_count(wm_txn_t *t, MDB_dbi dbi, uint32_t node, uint64_t *count)
{
    MDB_cursor *c = NULL;
    MDB_val k, v;
    uint8_t kb[KEY_LOG];
    wm_log_key(kb, node, 0, 0);
    *count = 0;
    int rc = mdb_cursor_open(t->txn, dbi, &c);
    if (rc)
        return wm_mdb_err(t->s, rc, "cursor");
    k = (MDB_val){sizeof kb, kb};
    for (rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
         rc == 0 && k.mv_size >= 4 && wm_get_u32(k.mv_data) == node;
         rc = mdb_cursor_get(c, &k, &v, MDB_NEXT))
        (*count)++;
    mdb_cursor_close(c);
    return rc == 0 || rc == MDB_NOTFOUND ? WM_OK : wm_mdb_err(t->s, rc, "count");
}

wm_err_t wm_acked_get(wm_txn_t *t, wm_head_t *out)
{
    uint8_t b[12 + WM_HASH_BYTES];
    size_t len = 0;
    memset(out, 0, sizeof *out);
    wm_err_t err = wm_meta_get(t, "acked", b, sizeof b, &len);
    if (err == WM_ENOTFOUND)
        return WM_OK;
    if (err != WM_OK)
        return err;
    if (len != sizeof b)
        return WM_EDECODE;
    out->epoch = wm_get_u32(b);
    out->seq = wm_get_u64(b + 4);
    memcpy(out->hash, b + 12, WM_HASH_BYTES);
    return WM_OK;
}

wm_err_t wm_acked_put(wm_txn_t *t, const wm_head_t *h)
{
    uint8_t b[12 + WM_HASH_BYTES];
    wm_put_u32(b, h->epoch);
    wm_put_u64(b + 4, h->seq);
    memcpy(b + 12, h->hash, WM_HASH_BYTES);
    return wm_meta_put(t, "acked", b, sizeof b);
}

static WM_MUST_CHECK wm_err_t file_path(const char *dir, const char *name, char *out, size_t cap)
{
    int n = snprintf(out, cap, "%s/%s", dir, name);
    return n >= 0 && (size_t)n < cap ? WM_OK : WM_ETOOBIG;
}

wm_err_t wm_store_data_path(const char *dir, char *out, size_t cap)
{
    return file_path(dir, WM_STORE_DATA_FILE, out, cap);
}

int wm_store_exists(const char *dir)
{
    char path[PATH_MAX];
    return wm_store_data_path(dir, path, sizeof path) == WM_OK && access(path, F_OK) == 0;
}

wm_err_t wm_store_remove(const char *dir)
{
    static const char *const files[] = {WM_STORE_DATA_FILE, WM_STORE_LOCK_FILE};
    char path[PATH_MAX];
    wm_err_t err = WM_OK;
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        if (file_path(dir, files[i], path, sizeof path) != WM_OK)
            err = WM_ETOOBIG;
        else if (unlink(path) != 0 && errno != ENOENT)
            err = WM_EIO;
    }
    return err;
}

int wm_head_cache_get(const wm_head_cache_t *c, uint32_t node, uint32_t epoch, wm_head_t *out)
{
    if (!c->valid || c->node != node || c->head.epoch != epoch)
        return 0;
    *out = c->head;
    return 1;
}

wm_err_t wm_head_cache_station(wm_txn_t *t, wm_head_cache_t *c, uint32_t node,
                               const char **station)
{
    if (!c->valid || c->node != node) {
        const char *id = NULL;
        wm_err_t err = wm_nodeno_name(t, node, &id);
        if (err != WM_OK)
            return err;
        if (strlen(id) >= sizeof c->station)
            return WM_ECHAIN;
        c->valid = 0;
        snprintf(c->station, sizeof c->station, "%s", id);
    }
    *station = c->station;
    return WM_OK;
}

void wm_head_cache_set(wm_head_cache_t *c, uint32_t node, const wm_record_t *r,
                       const uint8_t *srec, size_t len)
{
    uint8_t h[WM_HASH_BYTES];
    wm_srec_hash_buf(srec, len, h);
    wm_head_cache_set_hash(c, node, r, h);
}

void wm_head_cache_set_hash(wm_head_cache_t *c, uint32_t node, const wm_record_t *r,
                            const uint8_t hash[static WM_HASH_BYTES])
{
    c->valid = 1;
    c->node = node;
    c->head.epoch = r->epoch;
    c->head.seq = r->seq;
    memcpy(c->head.hash, hash, WM_HASH_BYTES);
}

void wm_store_release_pages(wm_store_t *s)
{
    /* LMDB's me_mapaddr is only the MDB_FIXEDMAP address (NULL here):
     * wm_store_trim finds the map by the data file's inode. */
    wm_store_trim(s);
}
