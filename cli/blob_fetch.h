/* SPDX-License-Identifier: MIT */
/*
 * blob_fetch — wmctl's side of fetching a blob (an evidence file) from a
 * child on demand (feature "blob-fetch", PROTOCOL.md §7.3; issue 12 item
 * 2): `wmctl blob fetch HASH` and `wmctl audit --with-evidence`. Each
 * control call (CtlRequest blob_fetch) makes the aggregator's daemon ask
 * the child for the next chunk after what its store holds and write it
 * there; the call is repeated until the blob is present, which the daemon
 * makes it only once all its bytes hash to its name. The chunk adapts to
 * the link (about a second of it, 4 KiB … 1 MiB) unless fixed. Nothing is
 * kept here between calls: a fetch cut off anywhere (wmctl, the daemon, the
 * child, the link) resumes from the bytes the store holds.
 *
 * Not thread-safe (wmctl is one thread).
 */
#ifndef BLOB_FETCH_H
#define BLOB_FETCH_H

#include <stddef.h>
#include <stdint.h>

#include "wm_crypto.h"
#include "wm_i18n.h"
#include "wmctl.h"

/* The smallest and first chunk asked when it adapts. */
#define BLOB_FETCH_CHUNK_MIN (4u << 10)
#define BLOB_FETCH_CHUNK_FIRST (64u << 10)

typedef struct {
    const char *via;        /* the child to ask; NULL or "": the daemon finds it */
    char *const *path;      /* the hops below via (PROTOCOL.md §7.3), n_path of them */
    size_t n_path;
    uint64_t size;          /* the size a signed record gives; 0: not known */
    uint32_t chunk;         /* bytes a call asks for; 0: adapt to the link */
    int progress;           /* show a progress bar (a terminal only) */
} blob_fetch_opts_t;

typedef struct {
    int present;            /* held whole here, verified against its hash */
    uint64_t held, size;    /* bytes held here now, of size */
    uint64_t resumed_at;    /* bytes a .part held before this fetch began */
    char from[WM_ID_MAX + 1]; /* the child asked */
    char slug[32];          /* why not present: a reason of PROTOCOL.md §7.3
                             * (mismatch, size, missing, not_named, no_feature,
                             * timeout, unreachable, child, storage …), or
                             * "daemon" when the daemon could not be asked */
    char why[WM_WHY_MAX];   /* a sentence saying so */
} blob_fetch_res_t;

/* Brings blob h into this node's store through its daemon. WMCTL_OK when
 * it is present (fetched now, or held already); WMCTL_FAIL otherwise, with
 * res->slug and res->why (nothing printed: the caller words it). */
int blob_fetch_run(wmctl_t *w, const uint8_t h[static WM_HASH_BYTES], const blob_fetch_opts_t *o,
                   blob_fetch_res_t *res);

#endif
