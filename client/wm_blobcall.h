/* SPDX-License-Identifier: MIT */
/*
 * wm_blobcall — an evidence file to and from the running daemon over its
 * control socket, in chunks (control messages are bounded: CtlRequest
 * blob_put / blob_get carry at most WM_CTL_BLOB_CHUNK bytes each), for
 * every client of a node: `wmctl record --photo` and `wmctl blob get`,
 * wmweb's uploads and its photos on the activity pages (issue 12 item 1).
 *
 * Thread-safe as wm_client_call: each call makes its own socket.
 */
#ifndef WM_BLOBCALL_H
#define WM_BLOBCALL_H

#include <stddef.h>
#include <stdint.h>

#include "wm_crypto.h"
#include "wm_err.h"
#include "wm_net.h"

/* Where and how to call: the daemon's control socket, a ZeroMQ context
 * (NULL: one per call), the language of its sentences (CtlRequest.lang,
 * NULL: English), the time to wait for each answer (0:
 * WM_CLIENT_TIMEOUT_MS), and a function told the bytes done after each
 * chunk (NULL: none). */
typedef struct {
    const char *control;
    wm_net_t *net;
    const char *lang;
    int timeout_ms;
    void (*progress)(void *ctx, uint64_t done, uint64_t total);
    void *ctx;
} wm_blobcall_t;

/* How a call ended when it was not WM_OK: lost as wm_client_call's (the
 * daemon vanished with a request in flight); error the daemon's slug
 * (wm_errname) when it refused, "" otherwise; field the input it named;
 * why a sentence (English; the daemon's message when it refused). */
typedef struct {
    int lost;
    char error[32];
    char field[32];
    char why[WM_WHY_MAX];
} wm_blobcall_fail_t;

/* Sends the len bytes of data, whose BLAKE2b-256 is hash, to the daemon
 * listening at control, from the byte it already holds (a put cut off
 * earlier resumes); returns when the daemon holds the whole file,
 * durably: only then may a record name it. WM_OK; the errors of
 * wm_client_call (WM_EDOWN, WM_EPERM, WM_ETIMEOUT); when the daemon
 * refused, the error its slug names (WM_EINVAL, WM_ENOSPC, WM_ECHAIN after
 * resuming PUT_RESUMES times …; f says why). */
WM_MUST_CHECK wm_err_t wm_blobcall_put(const wm_blobcall_t *bc,
                                       const uint8_t hash[static WM_HASH_BYTES],
                                       const uint8_t *data, size_t len, wm_blobcall_fail_t *f);

/* Reads the whole file of hash from the daemon (op blob_get, or
 * blob_thumb_get when thumb is set: the thumbnail a station keeps of a
 * photo it pruned) into *out (malloc'd, the caller frees) of *len bytes,
 * at most max bytes (else WM_ETOOBIG). A file's bytes are checked against
 * hash (WM_ECORRUPT if they differ; a thumbnail has no signed hash).
 * WM_ENOTFOUND if the daemon does not hold it (f->why says so, and
 * f->error is "pruned" when it pruned the file; then the town holds it). */
WM_MUST_CHECK wm_err_t wm_blobcall_get(const wm_blobcall_t *bc,
                                       const uint8_t hash[static WM_HASH_BYTES], int thumb,
                                       size_t max, uint8_t **out, size_t *len,
                                       wm_blobcall_fail_t *f);

#endif
