/* SPDX-License-Identifier: MIT */
/*
 * evidence — wmctl's side of an activity's photos and sign-in sheet
 * (issue 12 item 1): `record activity --photo FILE… --attach FILE` turns
 * each file into a stored form (photo.h), names it in the record body
 * (record.proto Attachment) and sends it to the daemon over the control
 * socket in chunks (CtlRequest blob_put) BEFORE the record is appended;
 * the daemon refuses a record whose files it does not hold, so a crash
 * between the two leaves at most a file no record names. `wmctl blob get`
 * reads a file back through the daemon; `wmctl verify` checks the files on
 * disk against the hashes the signed records carry.
 *
 * Not thread-safe (wmctl is one thread).
 */
#ifndef EVIDENCE_H
#define EVIDENCE_H

#include <stdint.h>

#include "photo.h"
#include "wm_recargs.h"
#include "wm_validate.h"
#include "wmctl.h"

#define EVIDENCE_MAX (WM_PHOTOS_MAX + WM_SHEETS_MAX)

/* The files of one record, owned by the caller (evidence_free). */
typedef struct {
    photo_t ph[EVIDENCE_MAX];
    Wm__Attachment a[EVIDENCE_MAX];
    Wm__Attachment *pa[EVIDENCE_MAX];
    uint8_t hash[EVIDENCE_MAX][32];
    const char *path[EVIDENCE_MAX];
    size_t n;
} evidence_t;

/* Reads the --photo (repeatable) and --attach values of o (marking them
 * used), prepares each file at [blobs] max_px and names them on b's
 * activity. WMCTL_OK (also with no files), or WMCTL_USAGE / WMCTL_FAIL
 * after printing why, naming the flag and the file. */
int evidence_prepare(wmctl_t *w, wmctl_opts_t *o, wm_recbody_t *b, evidence_t *ev);

/* Sends every file of ev to the daemon, resuming where it holds part of
 * one; returns when each is present there, durably. WMCTL_OK, or a WMCTL_
 * code after printing why (nothing was recorded). */
int evidence_send(wmctl_t *w, const evidence_t *ev);

void evidence_free(evidence_t *ev);

/* `wmctl verify`'s check of the files: each attachment of each activity
 * of node's log in t against the file of that hash in the node's store.
 * Counts into *held (present, hash and size right), *missing (not held
 * here: not yet received, or never sent), *bad (altered or damaged:
 * printed, one line each, unless quiet) and *pruned (not held here, a
 * thumbnail kept: the station pruned it once its town confirmed it; not
 * missing). WM_OK unless the scan failed. */
WM_MUST_CHECK wm_err_t evidence_verify(wmctl_t *w, wm_txn_t *t, uint32_t node, int quiet,
                                       uint64_t *held, uint64_t *missing, uint64_t *bad,
                                       uint64_t *pruned);

/* The file of hash h in the store directory dir: WM_OK if it holds size
 * bytes hashing to h, WM_ENOTFOUND if there is none, WM_ECORRUPT if it
 * differs, WM_EIO. Read-only: wmctl never writes the daemon's store. */
WM_MUST_CHECK wm_err_t evidence_check_file(const char *dir, const uint8_t *h, uint64_t size);

/* `wmctl blob get`: writes the file h that the node's store holds to out
 * (stdout if NULL; an existing file only if force), read through the
 * daemon in chunks and checked against h before it is put in place.
 * WMCTL_OK, or a WMCTL_ code after printing why. */
int evidence_blob_get(wmctl_t *w, const uint8_t h[static WM_HASH_BYTES], const char *out,
                      int force);

#endif
