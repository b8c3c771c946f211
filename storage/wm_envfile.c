/* SPDX-License-Identifier: MIT */
/* wm_envfile — checks an LMDB data file before it is mapped; see
 * wm_envfile.h. */
#include "wm_envfile.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "wm_i18n.h"

#define META_OFF 16       /* the meta follows the page header */
#define MAGIC 0xBEEFC0DEu
#define VERSION 1u
#define P_META 0x08
#define PAGE_MIN 512u     /* LMDB's page size is the OS page size: a power */
#define PAGE_MAX 65536u   /* of two in this range on every host we run on */

typedef struct {
    uint32_t psize;
    uint64_t last_pg, txnid;
} meta_t;

static uint64_t le(const uint8_t *p, int n)
{
    uint64_t v = 0;
    for (int i = n - 1; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

/* Reads the meta page at off; 0 if it is one, -1 if not, -2 on EIO. */
static int read_meta(int fd, off_t off, meta_t *m)
{
    uint8_t b[META_OFF + 136];
    ssize_t n = pread(fd, b, sizeof b, off);
    if (n < 0)
        return -2;
    if ((size_t)n < sizeof b || !(le(b + 10, 2) & P_META) || le(b + 16, 4) != MAGIC ||
        le(b + 20, 4) != VERSION)
        return -1;
    m->psize = (uint32_t)le(b + 40, 4);
    m->last_pg = le(b + 136, 8);
    m->txnid = le(b + 144, 8);
    if (m->psize < PAGE_MIN || m->psize > PAGE_MAX || (m->psize & (m->psize - 1)) ||
        m->last_pg < 1)
        return -1;
    return 0;
}

wm_err_t wm_envfile_check(const char *path, char *why, size_t cap)
{
    wm_err_t err = WM_OK;
    struct stat st;
    meta_t a, b;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || fstat(fd, &st) != 0) {
        wm_why(why, cap, "cannot be read (%s)", strerror(errno));
        err = WM_EIO;
        goto out;
    }
    if (!S_ISREG(st.st_mode)) {
        wm_why(why, cap, "is not a regular file");
        err = WM_EDECODE;
        goto out;
    }
    int ra = read_meta(fd, 0, &a);
    int rb = ra == 0 ? read_meta(fd, (off_t)a.psize, &b) : -1;
    if (ra == -2 || rb == -2) {
        wm_why(why, cap, "cannot be read (%s)", strerror(errno));
        err = WM_EIO;
        goto out;
    }
    if (ra != 0) {
        wm_why(why, cap, "is not a wmsync backup (no LMDB meta page at its start)");
        err = WM_EDECODE;
        goto out;
    }
    /* LMDB reads both meta pages and opens the newer one. */
    const meta_t *m = rb == 0 && b.psize == a.psize && b.txnid > a.txnid ? &b : &a;
    uint64_t need = (m->last_pg + 1) * (uint64_t)m->psize;
    if (need < 2 * (uint64_t)m->psize)
        need = 2 * (uint64_t)m->psize;
    if (m->last_pg > UINT64_MAX / m->psize - 1 || (uint64_t)st.st_size < need) {
        wm_why(why, cap, "is truncated: it is %" PRIu64 " bytes, but its database needs %" PRIu64
                 " (%" PRIu64 " pages of %" PRIu32 ")",
                 (uint64_t)st.st_size, need, m->last_pg + 1, m->psize);
        err = WM_ETOOBIG;
    }
out:
    if (fd >= 0)
        close(fd);
    return err;
}
