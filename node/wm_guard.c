/* SPDX-License-Identifier: MIT */
/* wm_guard — the fork guard's state file; see wm_guard.h. */
#include "wm_guard.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

wm_err_t wm_guard_read(const char *path, wm_guard_t *g)
{
    memset(g, 0, sizeof *g);
    FILE *f = fopen(path, "re");
    if (!f)
        return errno == ENOENT ? WM_OK : WM_EIO;
    char hex[2 * WM_LOG_ID_BYTES + 2] = {0};
    unsigned long long seq = 0;
    unsigned epoch = 0;
    int n = fscanf(f, "log_id=%33s epoch=%u seq=%llu", hex, &epoch, &seq);
    fclose(f);
    if (n != 3 || wm_unhex(hex, g->log_id, WM_LOG_ID_BYTES) != WM_OK)
        return WM_EDECODE;
    g->present = 1;
    g->epoch = epoch;
    g->seq = seq;
    return WM_OK;
}

/* Overwrites the existing file PATH with buf (WM_GUARD_FILE_BYTES) in
 * place: no new blocks are needed, so it works on a full disk. A crash
 * mid-write can leave a damaged file, which the daemon then refuses to
 * start with (it never signs past it): only the fallback does this. */
static int overwrite_in_place(const char *path, const char *buf)
{
    int fd = open(path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return 0;
    int ok = pwrite(fd, buf, WM_GUARD_FILE_BYTES, 0) == WM_GUARD_FILE_BYTES && fsync(fd) == 0;
    int saved = errno;
    ok = close(fd) == 0 && ok;
    errno = saved;
    return ok;
}

wm_err_t wm_guard_write(const char *path, const wm_guard_t *g)
{
    char tmp[PATH_MAX + sizeof ".tmp"], hex[2 * WM_LOG_ID_BYTES + 1], dir[PATH_MAX];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    char buf[WM_GUARD_FILE_BYTES];
    int len = snprintf(buf, sizeof buf, "log_id=%s\nepoch=%" PRIu32 "\nseq=%" PRIu64 "\n",
                       wm_hex(g->log_id, WM_LOG_ID_BYTES, hex), g->epoch, g->seq);
    if (len < 0 || len >= (int)sizeof buf)
        return WM_EINVAL;
    memset(buf + len, '\n', sizeof buf - (size_t)len); /* every version the same size */
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    int ok = fd >= 0 && write(fd, buf, sizeof buf) == (ssize_t)sizeof buf && fsync(fd) == 0;
    int saved = errno;
    if (fd >= 0)
        ok = close(fd) == 0 && ok;
    if (!ok || rename(tmp, path) != 0) {
        if (ok)
            saved = errno;
        unlink(tmp);
        if (overwrite_in_place(path, buf))
            return WM_OK; /* durable in place: fsync returned */
        if (errno == ENOENT)
            errno = saved; /* no file yet to overwrite: the first failure says why */
        return errno == ENOSPC || errno == EDQUOT ? WM_ENOSPC : WM_EIO;
    }
    snprintf(dir, sizeof dir, "%s", path);
    int dfd = open(dirname(dir), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        fsync(dfd);
        close(dfd);
    }
    return WM_OK;
}
