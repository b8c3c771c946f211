/* SPDX-License-Identifier: MIT */
/* wm_blob — the content-addressed blob store (NODE/blobs/); see wm_blob.h
 * for the files and the durability contract. Everything goes through the
 * directory's fd (openat, renameat, unlinkat), so a store keeps working on
 * its directory whatever the process's working directory is. */
#include "wm_blob.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "wm_i18n.h"

#define PART_SUFFIX ".part"
#define THUMB_SUFFIX ".thumb"
#define TMP_PREFIX ".tmp-"
#define NAME_MAX_LEN (WM_BLOB_HEXLEN + 32) /* a blob's, a .part's or a temp name */
#define IO_CHUNK ((size_t)64 << 10)        /* read size when hashing a file */

struct wm_blob {
    int dfd;
    char *dir;
};

static void blob_name(const uint8_t hash[static WM_HASH_BYTES], const char *suffix,
                      char out[static NAME_MAX_LEN])
{
    char hex[WM_BLOB_HEXLEN + 1];
    snprintf(out, NAME_MAX_LEN, "%s%s", wm_hex(hash, WM_HASH_BYTES, hex), suffix);
}

/* The directory entry is durable once this returns WM_OK. */
static wm_err_t sync_dir(const wm_blob_t *bs)
{
    return fsync(bs->dfd) == 0 ? WM_OK : wm_err_from_errno(errno);
}

static wm_err_t write_all(int fd, const uint8_t *p, size_t len, off_t off)
{
    while (len > 0) {
        ssize_t n = pwrite(fd, p, len, off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return n < 0 ? wm_err_from_errno(errno) : WM_EIO;
        p += n;
        len -= (size_t)n;
        off += n;
    }
    return WM_OK;
}

/* Feeds the first size bytes of fd to st; WM_ESTATE if it holds fewer. */
static wm_err_t hash_into(int fd, uint64_t size, wm_hash_state_t *st)
{
    wm_err_t err = WM_OK;
    uint8_t *buf = malloc(IO_CHUNK);
    uint64_t off = 0;
    if (!buf)
        return WM_ENOMEM;
    while (off < size) {
        size_t want = size - off < IO_CHUNK ? (size_t)(size - off) : IO_CHUNK;
        ssize_t n = pread(fd, buf, want, (off_t)off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            err = wm_err_from_errno(errno);
            goto out;
        }
        if (n == 0) {
            err = WM_ESTATE;
            goto out;
        }
        wm_hash_update(st, buf, (size_t)n);
        off += (uint64_t)n;
    }
out:
    free(buf);
    return err;
}

/* Hashes the first size bytes of fd; WM_ESTATE if it holds fewer. */
static wm_err_t hash_fd(int fd, uint64_t size, uint8_t out[static WM_HASH_BYTES])
{
    wm_hash_state_t st;
    wm_hash_init(&st);
    wm_err_t err = hash_into(fd, size, &st);
    if (err == WM_OK)
        wm_hash_final(&st, out);
    return err;
}

/* A walk over the store's directory from its start (its own fd, so walks
 * may run at once); NULL with errno set on failure. */
static DIR *walk_open(const wm_blob_t *bs)
{
    int fd = dup(bs->dfd);
    DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
    if (!d) {
        int e = errno;
        if (fd >= 0)
            close(fd);
        errno = e;
        return NULL;
    }
    rewinddir(d);
    return d;
}

/* Removes the .tmp- files a crashed put left behind. */
static wm_err_t sweep_tmp(wm_blob_t *bs)
{
    wm_err_t err = WM_OK;
    DIR *d = walk_open(bs);
    if (!d)
        return wm_err_from_errno(errno);
    struct dirent *e;
    errno = 0;
    while ((e = readdir(d)) != NULL) {
        if (strncmp(e->d_name, TMP_PREFIX, strlen(TMP_PREFIX)) == 0 &&
            unlinkat(bs->dfd, e->d_name, 0) != 0 && errno != ENOENT) {
            err = wm_err_from_errno(errno);
            goto out;
        }
        errno = 0;
    }
    if (errno != 0)
        err = wm_err_from_errno(errno);
out:
    closedir(d);
    return err;
}

wm_err_t wm_blob_open(const char *dir, wm_blob_t **out)
{
    wm_err_t err = WM_OK;
    wm_blob_t *bs = calloc(1, sizeof *bs);
    *out = NULL;
    if (!bs || !(bs->dir = strdup(dir))) {
        err = WM_ENOMEM;
        goto out;
    }
    bs->dfd = -1;
    if (mkdir(dir, WM_BLOB_DIR_MODE) != 0 && errno != EEXIST) {
        err = wm_err_from_errno(errno);
        goto out;
    }
    bs->dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (bs->dfd < 0) {
        err = wm_err_from_errno(errno);
        goto out;
    }
    if ((err = sweep_tmp(bs)) != WM_OK)
        goto out;
    *out = bs;
    bs = NULL;
out:
    wm_blob_close(&bs);
    return err;
}

void wm_blob_close(wm_blob_t **bs)
{
    if (!bs || !*bs)
        return;
    if ((*bs)->dfd >= 0)
        close((*bs)->dfd);
    free((*bs)->dir);
    free(*bs);
    *bs = NULL;
}

const char *wm_blob_dir(const wm_blob_t *bs)
{
    return bs->dir;
}

/* The file of hash with suffix: WM_OK and its size, or WM_ENOTFOUND. */
static wm_err_t has_named(const wm_blob_t *bs, const uint8_t hash[static WM_HASH_BYTES],
                          const char *suffix, uint64_t *size)
{
    char name[NAME_MAX_LEN];
    struct stat st;
    blob_name(hash, suffix, name);
    if (fstatat(bs->dfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0)
        return errno == ENOENT ? WM_ENOTFOUND : wm_err_from_errno(errno);
    if (!S_ISREG(st.st_mode))
        return WM_ENOTFOUND;
    if (size)
        *size = (uint64_t)st.st_size;
    return WM_OK;
}

wm_err_t wm_blob_has(const wm_blob_t *bs, const uint8_t hash[static WM_HASH_BYTES],
                     uint64_t *size)
{
    return has_named(bs, hash, "", size);
}

/* Writes len bytes as the file of hash with suffix, durably: a temporary
 * file written whole and fsync'd, renamed, the directory fsync'd. */
static wm_err_t put_named(wm_blob_t *bs, const uint8_t hash[static WM_HASH_BYTES],
                          const char *suffix, const uint8_t *data, size_t len)
{
    wm_err_t err = WM_OK;
    char name[NAME_MAX_LEN], tmp[NAME_MAX_LEN + 16];
    int fd = -1;
    bool linked = false;
    blob_name(hash, suffix, name);
    memcpy(tmp, TMP_PREFIX, strlen(TMP_PREFIX));
    memcpy(tmp + strlen(TMP_PREFIX), name, WM_BLOB_HEXLEN);
    memcpy(tmp + strlen(TMP_PREFIX) + WM_BLOB_HEXLEN, "-XXXXXX", 8);
    /* mkostemp needs a path; the directory's own path is used only here,
     * where the name is random and O_EXCL. */
    char path[PATH_MAX];
    if (snprintf(path, sizeof path, "%s/%s", bs->dir, tmp) >= (int)sizeof path)
        return WM_ETOOBIG;
    fd = mkostemp(path, O_CLOEXEC);
    if (fd < 0)
        return wm_err_from_errno(errno);
    linked = true;
    memcpy(tmp, path + strlen(bs->dir) + 1, strlen(tmp) + 1);
    if (fchmod(fd, WM_BLOB_FILE_MODE) != 0 || (err = write_all(fd, data, len, 0)) != WM_OK ||
        fsync(fd) != 0) {
        if (err == WM_OK)
            err = wm_err_from_errno(errno);
        goto out;
    }
    /* The file holds exactly the blob's bytes, durably: only now may it
     * take the blob's name. */
    if (renameat(bs->dfd, tmp, bs->dfd, name) != 0) {
        err = wm_err_from_errno(errno);
        goto out;
    }
    linked = false;
    err = sync_dir(bs); /* the blob is present, durably, from here */
out:
    if (fd >= 0)
        close(fd);
    if (linked)
        unlinkat(bs->dfd, tmp, 0);
    return err;
}

wm_err_t wm_blob_put(wm_blob_t *bs, const uint8_t *data, size_t len,
                     uint8_t hash[static WM_HASH_BYTES])
{
    wm_err_t err;
    if ((uint64_t)len > WM_BLOB_MAX)
        return WM_ETOOBIG;
    wm_hash(data, len, hash);
    if ((err = wm_blob_has(bs, hash, NULL)) != WM_ENOTFOUND)
        return err; /* WM_OK: stored once already */
    return put_named(bs, hash, "", data, len);
}

wm_err_t wm_blob_thumb_put(wm_blob_t *bs, const uint8_t hash[static WM_HASH_BYTES],
                           const uint8_t *data, size_t len)
{
    if (len > WM_BLOB_THUMB_MAX)
        return WM_ETOOBIG;
    return put_named(bs, hash, THUMB_SUFFIX, data, len);
}

wm_err_t wm_blob_thumb_has(const wm_blob_t *bs, const uint8_t hash[static WM_HASH_BYTES],
                           uint64_t *size)
{
    return has_named(bs, hash, THUMB_SUFFIX, size);
}

static wm_err_t open_named(const wm_blob_t *bs, const uint8_t hash[static WM_HASH_BYTES],
                           const char *suffix, int *fd, uint64_t *size)
{
    char name[NAME_MAX_LEN];
    struct stat st;
    blob_name(hash, suffix, name);
    *fd = openat(bs->dfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (*fd < 0)
        return errno == ENOENT || errno == ELOOP ? WM_ENOTFOUND : wm_err_from_errno(errno);
    if (fstat(*fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        wm_err_t err = S_ISREG(st.st_mode) ? wm_err_from_errno(errno) : WM_ENOTFOUND;
        close(*fd);
        *fd = -1;
        return err;
    }
    *size = (uint64_t)st.st_size;
    return WM_OK;
}

wm_err_t wm_blob_open_read(const wm_blob_t *bs, const uint8_t hash[static WM_HASH_BYTES],
                           int *fd, uint64_t *size)
{
    return open_named(bs, hash, "", fd, size);
}

/* Up to cap bytes from off of the file of hash with suffix. */
static wm_err_t read_named(const wm_blob_t *bs, const uint8_t hash[static WM_HASH_BYTES],
                           const char *suffix, uint64_t off, uint8_t *buf, size_t cap, size_t *n)
{
    int fd = -1;
    uint64_t size = 0;
    wm_err_t err = open_named(bs, hash, suffix, &fd, &size);
    *n = 0;
    if (err != WM_OK)
        return err;
    while (*n < cap && off + *n < size) {
        ssize_t r = pread(fd, buf + *n, cap - *n, (off_t)(off + *n));
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            err = r < 0 ? wm_err_from_errno(errno) : WM_EIO;
            break;
        }
        *n += (size_t)r;
    }
    close(fd);
    return err;
}

wm_err_t wm_blob_read(const wm_blob_t *bs, const uint8_t hash[static WM_HASH_BYTES],
                      uint64_t off, uint8_t *buf, size_t cap, size_t *n)
{
    return read_named(bs, hash, "", off, buf, cap, n);
}

wm_err_t wm_blob_thumb_read(const wm_blob_t *bs, const uint8_t hash[static WM_HASH_BYTES],
                            uint64_t off, uint8_t *buf, size_t cap, size_t *n)
{
    return read_named(bs, hash, THUMB_SUFFIX, off, buf, cap, n);
}

wm_err_t wm_blob_part_held(const wm_blob_t *bs, const uint8_t hash[static WM_HASH_BYTES],
                           uint64_t size, uint64_t *held)
{
    char name[NAME_MAX_LEN];
    struct stat st;
    uint64_t have = 0;
    wm_err_t err = wm_blob_has(bs, hash, &have);
    *held = 0;
    if (err == WM_OK) {
        *held = have;
        return WM_OK;
    }
    if (err != WM_ENOTFOUND)
        return err;
    blob_name(hash, PART_SUFFIX, name);
    if (fstatat(bs->dfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0)
        return errno == ENOENT ? WM_OK : wm_err_from_errno(errno);
    if (!S_ISREG(st.st_mode) || (uint64_t)st.st_size > size) {
        /* Not this blob's bytes (or not a file): start again from 0. */
        if (unlinkat(bs->dfd, name, 0) != 0 && errno != ENOENT)
            return wm_err_from_errno(errno);
        return WM_OK;
    }
    *held = (uint64_t)st.st_size;
    return WM_OK;
}

wm_err_t wm_blob_part_write(wm_blob_t *bs, const uint8_t hash[static WM_HASH_BYTES],
                            uint64_t size, uint64_t off, const uint8_t *data, size_t len)
{
    wm_err_t err = WM_OK;
    char name[NAME_MAX_LEN];
    uint64_t held = 0;
    int fd = -1;
    if (size > WM_BLOB_MAX || off > size || (uint64_t)len > size - off)
        return WM_ETOOBIG;
    if (wm_blob_has(bs, hash, NULL) == WM_OK)
        return WM_EEXIST;
    if ((err = wm_blob_part_held(bs, hash, size, &held)) != WM_OK)
        return err;
    if (held != off)
        return WM_ECHAIN;
    blob_name(hash, PART_SUFFIX, name);
    fd = openat(bs->dfd, name, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, WM_BLOB_FILE_MODE);
    if (fd < 0)
        return wm_err_from_errno(errno);
    err = write_all(fd, data, len, (off_t)off);
    if (err != WM_OK && ftruncate(fd, (off_t)off) != 0)
        err = WM_EIO; /* cannot even take the short write back */
#ifdef SYNC_FILE_RANGE_WRITE
    /* Start writing the chunk back now, without waiting for it: the fsync
     * of wm_blob_part_complete then finds little left to write, and does
     * not hold the caller's loop for the whole blob. */
    if (err == WM_OK && len > 0)
        (void)sync_file_range(fd, (off_t)off, (off_t)len, SYNC_FILE_RANGE_WRITE);
#endif
    close(fd);
    return err;
}

wm_err_t wm_blob_part_discard(wm_blob_t *bs, const uint8_t hash[static WM_HASH_BYTES])
{
    char name[NAME_MAX_LEN];
    blob_name(hash, PART_SUFFIX, name);
    if (unlinkat(bs->dfd, name, 0) != 0 && errno != ENOENT)
        return wm_err_from_errno(errno);
    return WM_OK;
}

wm_err_t wm_blob_part_complete(wm_blob_t *bs, const uint8_t hash[static WM_HASH_BYTES],
                               uint64_t size, char *why, size_t cap)
{
    wm_err_t err = WM_OK;
    char name[NAME_MAX_LEN], part[NAME_MAX_LEN], hex[WM_BLOB_HEXLEN + 1];
    uint8_t got[WM_HASH_BYTES];
    struct stat st;
    int fd = -1;
    if (wm_blob_has(bs, hash, NULL) == WM_OK)
        return WM_OK;
    blob_name(hash, "", name);
    blob_name(hash, PART_SUFFIX, part);
    wm_hex(hash, WM_HASH_BYTES, hex);
    fd = openat(bs->dfd, part, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0 || fstat(fd, &st) != 0) {
        err = errno == ENOENT ? WM_ESTATE : wm_err_from_errno(errno);
        wm_why(why, cap, "blob %s: nothing received yet", hex);
        goto out;
    }
    if ((uint64_t)st.st_size != size) {
        err = (uint64_t)st.st_size < size ? WM_ESTATE : WM_ECORRUPT;
        wm_why(why, cap, "blob %s: %llu of %llu bytes received", hex,
               (unsigned long long)st.st_size, (unsigned long long)size);
        goto discard_if_corrupt;
    }
    if ((err = hash_fd(fd, size, got)) != WM_OK)
        goto out;
    if (!wm_ct_equal(got, hash, WM_HASH_BYTES)) {
        err = WM_ECORRUPT;
        wm_why(why, cap, "blob %s: the bytes received do not hash to it; discarded", hex);
        goto discard_if_corrupt;
    }
    /* The .part holds exactly the blob's bytes; durable before it is named. */
    if (fsync(fd) != 0 || renameat(bs->dfd, part, bs->dfd, name) != 0) {
        err = wm_err_from_errno(errno);
        goto out;
    }
    err = sync_dir(bs); /* present, durably, from here */
    goto out;
discard_if_corrupt:
    if (err == WM_ECORRUPT && unlinkat(bs->dfd, part, 0) != 0 && errno != ENOENT)
        err = wm_err_from_errno(errno);
out:
    if (fd >= 0)
        close(fd);
    return err;
}

wm_err_t wm_blob_verify(const wm_blob_t *bs, const uint8_t hash[static WM_HASH_BYTES],
                        char *why, size_t cap)
{
    char hex[WM_BLOB_HEXLEN + 1];
    uint8_t got[WM_HASH_BYTES];
    uint64_t size = 0;
    int fd = -1;
    wm_err_t err = wm_blob_open_read(bs, hash, &fd, &size);
    wm_hex(hash, WM_HASH_BYTES, hex);
    if (err != WM_OK) {
        wm_why(why, cap, "blob %s: %s", hex, wm_strerror(err));
        return err;
    }
    err = hash_fd(fd, size, got);
    close(fd);
    if (err == WM_OK && !wm_ct_equal(got, hash, WM_HASH_BYTES)) {
        err = WM_ECORRUPT;
        wm_why(why, cap, "blob %s: its file's bytes do not hash to its name (altered or damaged)",
               hex);
    } else if (err != WM_OK) {
        wm_why(why, cap, "blob %s: %s", hex, wm_strerror(err));
    }
    return err;
}

/* The hash a directory entry names, if it is a blob's name; 0 if so. */
static int parse_name(const char *n, uint8_t hash[static WM_HASH_BYTES])
{
    if (strlen(n) != WM_BLOB_HEXLEN)
        return -1;
    for (const char *p = n; *p; p++)
        if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
            return -1; /* wm_hex writes lowercase only */
    return wm_unhex(n, hash, WM_HASH_BYTES) == WM_OK ? 0 : -1;
}

wm_err_t wm_blob_list(const wm_blob_t *bs, wm_blob_each_fn fn, void *ctx)
{
    wm_err_t err = WM_OK;
    uint8_t hash[WM_HASH_BYTES];
    struct stat st;
    DIR *d = walk_open(bs);
    if (!d)
        return wm_err_from_errno(errno);
    for (;;) {
        errno = 0;
        struct dirent *e = readdir(d);
        if (!e) {
            if (errno != 0)
                err = wm_err_from_errno(errno);
            break;
        }
        if (parse_name(e->d_name, hash) != 0)
            continue;
        if (fstatat(bs->dfd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
            if (errno == ENOENT)
                continue; /* removed while we walked */
            err = wm_err_from_errno(errno);
            break;
        }
        if (S_ISREG(st.st_mode) && fn(hash, (uint64_t)st.st_size, ctx) != 0)
            break;
    }
    closedir(d);
    return err;
}

wm_err_t wm_blob_remove(wm_blob_t *bs, const uint8_t hash[static WM_HASH_BYTES])
{
    char name[NAME_MAX_LEN];
    blob_name(hash, "", name);
    if (unlinkat(bs->dfd, name, 0) != 0)
        return errno == ENOENT ? WM_ENOTFOUND : wm_err_from_errno(errno);
    return sync_dir(bs);
}

struct wm_blob_rx {
    wm_blob_t *bs;
    uint8_t hash[WM_HASH_BYTES];
    uint64_t size, held;
    int fd;
    bool spent;
    struct stat seen; /* the .part as the receiver last left it */
    wm_hash_state_t st;
};

/* Notes the .part as this receiver leaves it (after opening, a write). */
static wm_err_t rx_note(wm_blob_rx_t *rx)
{
    if (fstat(rx->fd, &rx->seen) != 0)
        return wm_err_from_errno(errno);
    return (uint64_t)rx->seen.st_size == rx->held ? WM_OK : WM_ESTATE;
}

/* WM_OK if the .part is still the file, the size and the bytes this
 * receiver last left (nothing else wrote, cut or replaced it). */
static wm_err_t rx_unchanged(const wm_blob_rx_t *rx)
{
    char part[NAME_MAX_LEN];
    struct stat now, named;
    blob_name(rx->hash, PART_SUFFIX, part);
    if (fstat(rx->fd, &now) != 0)
        return wm_err_from_errno(errno);
    if (fstatat(rx->bs->dfd, part, &named, AT_SYMLINK_NOFOLLOW) != 0)
        return errno == ENOENT ? WM_ESTATE : wm_err_from_errno(errno);
    if (named.st_ino != now.st_ino || named.st_dev != now.st_dev ||
        now.st_ino != rx->seen.st_ino || now.st_size != rx->seen.st_size ||
        now.st_mtim.tv_sec != rx->seen.st_mtim.tv_sec ||
        now.st_mtim.tv_nsec != rx->seen.st_mtim.tv_nsec)
        return WM_ESTATE;
    return WM_OK;
}

wm_err_t wm_blob_rx_open(wm_blob_t *bs, const uint8_t hash[static WM_HASH_BYTES], uint64_t size,
                         wm_blob_rx_t **out)
{
    wm_err_t err = WM_OK;
    char part[NAME_MAX_LEN];
    uint64_t held = 0;
    wm_blob_rx_t *rx = NULL;
    *out = NULL;
    if (size > WM_BLOB_MAX)
        return WM_ETOOBIG;
    if ((err = wm_blob_has(bs, hash, NULL)) != WM_ENOTFOUND)
        return err == WM_OK ? WM_EEXIST : err;
    /* Removes a .part larger than size (not this blob's bytes). */
    if ((err = wm_blob_part_held(bs, hash, size, &held)) != WM_OK)
        return err;
    if (!(rx = calloc(1, sizeof *rx)))
        return WM_ENOMEM;
    rx->bs = bs;
    memcpy(rx->hash, hash, WM_HASH_BYTES);
    rx->size = size;
    blob_name(hash, PART_SUFFIX, part);
    rx->fd = openat(bs->dfd, part, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, WM_BLOB_FILE_MODE);
    if (rx->fd < 0 || fstat(rx->fd, &rx->seen) != 0) {
        err = wm_err_from_errno(errno);
        goto out;
    }
    rx->held = (uint64_t)rx->seen.st_size;
    if (rx->held > size) {
        err = WM_ESTATE; /* grown since wm_blob_part_held looked: try again */
        goto out;
    }
    /* What an earlier receiver left is read once, into the hash. */
    wm_hash_init(&rx->st);
    if ((err = hash_into(rx->fd, rx->held, &rx->st)) != WM_OK || (err = rx_note(rx)) != WM_OK)
        goto out;
    *out = rx;
    rx = NULL;
out:
    wm_blob_rx_close(&rx);
    return err;
}

uint64_t wm_blob_rx_held(const wm_blob_rx_t *rx)
{
    return rx->held;
}

const uint8_t *wm_blob_rx_hash(const wm_blob_rx_t *rx)
{
    return rx->hash;
}

uint64_t wm_blob_rx_size(const wm_blob_rx_t *rx)
{
    return rx->size;
}

wm_err_t wm_blob_rx_write(wm_blob_rx_t *rx, uint64_t off, const uint8_t *data, size_t len)
{
    wm_err_t err = WM_OK;
    if (rx->spent)
        return WM_ESTATE;
    if ((uint64_t)len > rx->size - rx->held)
        return WM_ETOOBIG;
    if (off != rx->held)
        return WM_ECHAIN;
    if ((err = rx_unchanged(rx)) != WM_OK)
        return err;
    err = write_all(rx->fd, data, len, (off_t)off);
    if (err != WM_OK) {
        if (ftruncate(rx->fd, (off_t)off) != 0)
            err = WM_EIO; /* cannot even take the short write back */
        rx->spent = true; /* its notes no longer hold: a new receiver reads the file */
        return err;
    }
#ifdef SYNC_FILE_RANGE_WRITE
    /* As wm_blob_part_write: write-back starts now, so the fsync at
     * completion finds little left to write. */
    if (len > 0)
        (void)sync_file_range(rx->fd, (off_t)off, (off_t)len, SYNC_FILE_RANGE_WRITE);
#endif
    wm_hash_update(&rx->st, data, len);
    rx->held += len;
    if ((err = rx_note(rx)) != WM_OK)
        rx->spent = true;
    return err;
}

wm_err_t wm_blob_rx_complete(wm_blob_rx_t *rx, char *why, size_t cap)
{
    wm_err_t err = WM_OK;
    char name[NAME_MAX_LEN], part[NAME_MAX_LEN], hex[WM_BLOB_HEXLEN + 1];
    uint8_t got[WM_HASH_BYTES];
    wm_hex(rx->hash, WM_HASH_BYTES, hex);
    blob_name(rx->hash, "", name);
    blob_name(rx->hash, PART_SUFFIX, part);
    if (rx->spent || rx->held != rx->size || (err = rx_unchanged(rx)) != WM_OK) {
        err = err != WM_OK && err != WM_ESTATE ? err : WM_ESTATE;
        wm_why(why, cap, "blob %s: %llu of %llu bytes received, or its .part changed", hex,
               (unsigned long long)rx->held, (unsigned long long)rx->size);
        goto out;
    }
    rx->spent = true;
    wm_hash_final(&rx->st, got);
    if (!wm_ct_equal(got, rx->hash, WM_HASH_BYTES)) {
        err = WM_ECORRUPT;
        wm_why(why, cap, "blob %s: the bytes received do not hash to it; discarded", hex);
        if (unlinkat(rx->bs->dfd, part, 0) != 0 && errno != ENOENT)
            err = wm_err_from_errno(errno);
        goto out;
    }
    /* Every byte of the .part went through the hash, and it is the blob:
     * durable before it is named. */
    if (fdatasync(rx->fd) != 0 || renameat(rx->bs->dfd, part, rx->bs->dfd, name) != 0) {
        err = wm_err_from_errno(errno);
        wm_why(why, cap, "blob %s: %s", hex, wm_strerror(err));
        goto out;
    }
    err = sync_dir(rx->bs); /* present, durably, from here */
    if (err != WM_OK)
        wm_why(why, cap, "blob %s: %s", hex, wm_strerror(err));
out:
    rx->spent = true;
    return err;
}

void wm_blob_rx_close(wm_blob_rx_t **rx)
{
    if (!rx || !*rx)
        return;
    if ((*rx)->fd >= 0)
        close((*rx)->fd);
    free(*rx);
    *rx = NULL;
}
