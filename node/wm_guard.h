/* SPDX-License-Identifier: MIT */
/*
 * wm_guard — the fork guard. Beside the signing key the daemon keeps a
 * small state file (KEY.state) that records which log the key signs (the
 * LMDB log id) and the highest (epoch, seq) it has durably written. It is
 * written only after the records it names are committed, so it is a lower
 * bound of the real head. At start the daemon refuses to sign again if the
 * log is missing, is another log, or is shorter than the file says: a key
 * restored without its log would otherwise restart the chain and fork it.
 *
 * File format (text, mode 0600), one "name=value" per line, padded with
 * newlines to WM_GUARD_FILE_BYTES so that every version has the same size:
 *     log_id=<32 hex digits>
 *     epoch=<decimal>
 *     seq=<decimal>
 *
 * The guard must never lag what left the node, also when the disk is full:
 * an LMDB commit can succeed on a full disk (it reuses its own free pages)
 * where a new file cannot be written. So when the atomic replacement fails,
 * the file is overwritten in place: same size, blocks already allocated.
 */
#ifndef WM_GUARD_H
#define WM_GUARD_H

#include <stdint.h>

#include "wm_err.h"
#include "wm_store.h"

typedef struct {
    int present;
    uint8_t log_id[WM_LOG_ID_BYTES];
    uint32_t epoch;
    uint64_t seq;
} wm_guard_t;

/* Reads PATH; g->present = 0 if the file does not exist. WM_EDECODE if it
 * exists but is malformed. */
WM_MUST_CHECK wm_err_t wm_guard_read(const char *path, wm_guard_t *g);
/* Bytes of every guard file written: room for the longest content. */
#define WM_GUARD_FILE_BYTES 128

/* Writes PATH durably: atomically (write a temporary file, fsync, rename,
 * fsync the directory), or if that fails (a full disk) by overwriting the
 * existing file in place and fsyncing it. WM_ENOSPC if neither works for
 * lack of space, WM_EIO otherwise (errno says why). */
WM_MUST_CHECK wm_err_t wm_guard_write(const char *path, const wm_guard_t *g);

#endif
