/* SPDX-License-Identifier: MIT */
/*
 * blobpack_cli — the blob pack beside a backup or a bundle (FILE.blobs,
 * storage/wm_blobpack.h), as wmctl writes and reads it.
 */
#ifndef BLOBPACK_CLI_H
#define BLOBPACK_CLI_H

#include "wm_blobpack.h"
#include "wmctl.h"

#define BLOBPACK_SUFFIX ".blobs"

/* FILE.blobs into out (cap bytes). */
void blobpack_path(const char *file, char *out, size_t cap);
/* Writes FILE.blobs (mode 0600; refused if it exists, unless force) with
 * the node's blobs hashes[0..n) it holds, or all (hashes NULL). WMCTL_OK,
 * or prints why (the partial file removed) and returns an exit code. */
int blobpack_cli_write(wmctl_t *w, const char *file, const uint8_t (*hashes)[WM_HASH_BYTES],
                       size_t n, int force, wm_blobpack_count_t *count);
/* Reads FILE.blobs, if there is one, into the node's store (allow as
 * wm_blobpack_read). WMCTL_OK (count zero if there is no such file), or
 * prints why and returns an exit code; what was stored before stays. */
int blobpack_cli_read(wmctl_t *w, const char *file, wm_blobpack_allow_fn allow, void *ctx,
                      wm_blobpack_count_t *count);

#endif
