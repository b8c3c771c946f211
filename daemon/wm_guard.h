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
 * File format (text, mode 0600), one "name=value" per line:
 *     log_id=<32 hex digits>
 *     epoch=<decimal>
 *     seq=<decimal>
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
wm_err_t wm_guard_read(const char *path, wm_guard_t *g);
/* Replaces PATH atomically (write, fsync, rename, fsync the directory). */
wm_err_t wm_guard_write(const char *path, const wm_guard_t *g);

#endif
