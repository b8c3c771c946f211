/* SPDX-License-Identifier: MIT */
/*
 * wm_evidence — the daemon's side of attachments entered at this node
 * (issue 12 item 1): evidence files arriving over the control socket in
 * chunks (CtlRequest blob_put), read back in chunks (blob_get: wmctl blob
 * get, at any node holding the file), and the rule that makes a crash
 * harmless: a record may name a file only once the file is present in the
 * node's store (wm_blob.h), durably. A put that stops half-way leaves a
 * .part that the next put resumes; a file stored but never named by a
 * record is an orphan that costs disk, never a record without its file.
 *
 * The store is the node's wm_blob_t, owned by the caller. Called from the
 * daemon's one thread.
 */
#ifndef WM_EVIDENCE_H
#define WM_EVIDENCE_H

#include <stddef.h>
#include <stdint.h>

#include "control.pb-c.h"
#include "wm_blob.h"
#include "wm_err.h"
#include "wm_net.h"
#include "wm_record.h"

#define WM_EVIDENCE_CHUNK WM_CTL_BLOB_CHUNK /* most bytes in one blob_put or blob_get */

/* One chunk of a file into the store (CtlRequest.blob_put). *held is set
 * to the bytes held after it (the size once the file is present). A file
 * present already: WM_OK, *held = size, nothing written. An offset other
 * than what is held: WM_ECHAIN with *held the resume point. Bad hash,
 * size (1 .. WM_ATTACH_SIZE_MAX) or chunk: WM_EINVAL, *field names it. The
 * last chunk hashes the file: bytes that do not hash to `hash` (sent
 * wrong, or the tail of a .part a crash garbled) are discarded: WM_ECHAIN,
 * *held 0, *field "hash". A .part already whole (a put cut off before its
 * rename) is completed by any put of the file. WM_ENOSPC, WM_EIO from the file system.
 * why (cap bytes) says what, in the calling thread's language. */
WM_MUST_CHECK wm_err_t wm_evidence_put(wm_blob_t *bs, const Wm__BlobPut *p, uint64_t *held,
                                       const char **field, char *why, size_t cap);

/* Up to g->max (≤ WM_EVIDENCE_CHUNK) bytes of a present file from
 * g->offset: *data (malloc'd, the caller frees) of *len bytes, *size the
 * file's size. WM_ENOTFOUND if the file is not held here; WM_EINVAL for a
 * bad hash or max. why as above. */
WM_MUST_CHECK wm_err_t wm_evidence_get(const wm_blob_t *bs, const Wm__BlobGet *g, uint8_t **data,
                                       size_t *len, uint64_t *size, char *why, size_t cap);

/* wm_evidence_get, or with thumb set the same of the file's thumbnail (a
 * station keeps one of each photo it pruned: wm_blob.h). *pruned is set
 * when the answer is WM_ENOTFOUND because this node pruned the file (why
 * then says the town holds it and the thumbnail is kept); else 0.
 * (CtlRequest blob_get and blob_thumb_get.) */
WM_MUST_CHECK wm_err_t wm_evidence_read(const wm_blob_t *bs, const Wm__BlobGet *g, int thumb,
                                        uint8_t **data, size_t *len, uint64_t *size, int *pruned,
                                        char *why, size_t cap);

/* WM_OK if every attachment a record body names is present in the store
 * with the size the body says (bodies of other kinds: WM_OK). Else
 * WM_EINVAL, *field the flag that names it ("photo", "attach") and why
 * which attachment; WM_EIO if the store cannot be read. Called before an
 * append: the commit point of the record comes after the file's. */
WM_MUST_CHECK wm_err_t wm_evidence_check(const wm_blob_t *bs, const wm_record_t *body,
                                         const char **field, char *why, size_t cap);

#endif
