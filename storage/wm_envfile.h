/* SPDX-License-Identifier: MIT */
/*
 * wm_envfile — a look at an LMDB data file (data.mdb, or a backup made by
 * wm_store_copy) before anything maps it. LMDB maps the file and trusts
 * its meta page: a file cut short (a backup copied to a stick that filled
 * up) makes the first read past its end a SIGBUS, not an error. So a file
 * that did not come from this node's own running daemon is checked here
 * first: the two meta pages, and that the file holds every page the
 * newer one says is in use.
 *
 * Byte layout read (LMDB 0.9 on a 64-bit host, little-endian; page size P
 * as the meta says, 4096 on Linux/x86):
 *
 *     offset     size  field
 *     0          16    page header (flags at 10: P_META = 0x08)
 *     16         4     mm_magic   0xBEEFC0DE
 *     20         4     mm_version 1
 *     40         4     page size P (md_pad of the free-page database)
 *     136        8     mm_last_pg: the last page in use
 *     144        8     mm_txnid:   the newer meta wins
 *     P + ...          the second meta page, the same layout
 *
 * The file must hold (last_pg + 1) * P bytes of the newer meta.
 * Thread-safe; no state.
 */
#ifndef WM_ENVFILE_H
#define WM_ENVFILE_H

#include <stddef.h>
#include <stdint.h>

#include "wm_err.h"

/* Checks the file at path. Returns WM_OK; WM_EDECODE if it is not an LMDB
 * data file (not a regular file, too short, no valid meta page: magic,
 * version, page size); WM_ETOOBIG if it is cut short (why says
 * "truncated", its size and the size its meta page needs); WM_EIO if it
 * cannot be read. On failure why (cap bytes) says what is wrong as a
 * predicate to put after the file's name ("is truncated: it is ..."). */
WM_MUST_CHECK wm_err_t wm_envfile_check(const char *path, char *why, size_t cap);

#endif
