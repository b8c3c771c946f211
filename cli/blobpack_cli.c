/* SPDX-License-Identifier: MIT */
/*
 * blobpack_cli — wmctl's side of blob packs (storage/wm_blobpack.h): the
 * file FILE.blobs written beside a backup or a bundle, and read back by
 * restore and bundle import. Shared by cmd_backup.c and cmd_bundle*.c.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "blobpack_cli.h"
#include "wm_i18n.h"

/* The node's blob store (NODE/blobs); NULL (and why printed) on failure. */
static wm_blob_t *store_of(wmctl_t *w)
{
    char dir[PATH_MAX + 16];
    wm_blob_t *bs = NULL;
    snprintf(dir, sizeof dir, "%s/%s", w->cfg.dir, WM_BLOB_DIRNAME);
    wm_err_t err = wm_blob_open(dir, &bs);
    if (err != WM_OK)
        wmctl_err("cannot open the blob store %s: %s", dir, wm_strerror(err));
    return bs;
}

void blobpack_path(const char *file, char *out, size_t cap)
{
    snprintf(out, cap, "%s%s", file, BLOBPACK_SUFFIX);
}

int blobpack_cli_write(wmctl_t *w, const char *file, const uint8_t (*hashes)[WM_HASH_BYTES],
                       size_t n, int force, wm_blobpack_count_t *count)
{
    char path[PATH_MAX + 16];
    memset(count, 0, sizeof *count);
    blobpack_path(file, path, sizeof path);
    wm_blob_t *bs = store_of(w);
    if (!bs)
        return WMCTL_FAIL;
    outfile_t *of = wmctl_out_open(path, 0600, force);
    FILE *f = NULL;
    wm_err_t err = WM_EIO;
    int fd = of ? dup(outfile_fd(of)) : -1;
    if (fd >= 0 && (f = fdopen(fd, "wb")) != NULL)
        err = wm_blobpack_write(bs, f, hashes, n, count);
    else if (fd >= 0)
        close(fd);
    if (f && fclose(f) != 0 && err == WM_OK)
        err = WM_EIO;
    wm_blob_close(&bs);
    if (!of)
        return WMCTL_FAIL;
    if (err != WM_OK)
        wmctl_err("cannot write the blobs to %s: %s", path, wm_strerror(err));
    int rc = wmctl_out_close(&of, err != WM_OK, path);
    return err != WM_OK ? WMCTL_FAIL : rc;
}

int blobpack_cli_read(wmctl_t *w, const char *file, wm_blobpack_allow_fn allow, void *ctx,
                      wm_blobpack_count_t *count)
{
    char path[PATH_MAX + 16], why[WM_WHY_MAX] = "";
    memset(count, 0, sizeof *count);
    blobpack_path(file, path, sizeof path);
    FILE *f = fopen(path, "rb");
    if (!f)
        return errno == ENOENT ? WMCTL_OK : (wmctl_err("cannot read %s: %s", path, strerror(errno)), WMCTL_FAIL);
    wm_blob_t *bs = store_of(w);
    wm_err_t err = bs ? wm_blobpack_read(bs, f, allow, ctx, count, why, sizeof why) : WM_EIO;
    fclose(f);
    wm_blob_close(&bs);
    if (err != WM_OK) {
        wmctl_err("%s: %s (the %" PRIu64 " blob(s) before it are stored, each verified; run "
                  "the same command again to go on)",
                  path, why[0] ? why : wm_strerror(err), count->stored);
        return WMCTL_FAIL;
    }
    return WMCTL_OK;
}
