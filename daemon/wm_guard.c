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

wm_err_t wm_guard_write(const char *path, const wm_guard_t *g)
{
    char tmp[4200], hex[2 * WM_LOG_ID_BYTES + 1], dir[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return WM_EIO;
    char buf[256];
    int len = snprintf(buf, sizeof buf, "log_id=%s\nepoch=%" PRIu32 "\nseq=%" PRIu64 "\n",
                       wm_hex(g->log_id, WM_LOG_ID_BYTES, hex), g->epoch, g->seq);
    int ok = write(fd, buf, (size_t)len) == len && fsync(fd) == 0;
    ok = close(fd) == 0 && ok;
    if (!ok || rename(tmp, path) != 0) {
        unlink(tmp);
        return WM_EIO;
    }
    snprintf(dir, sizeof dir, "%s", path);
    int dfd = open(dirname(dir), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        fsync(dfd);
        close(dfd);
    }
    return WM_OK;
}
