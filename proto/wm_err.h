/* SPDX-License-Identifier: MIT */
/*
 * wm_err — the one error enum of wmsync.
 *
 * Every module returns wm_err_t. Modules translate LMDB, ZeroMQ and
 * libsodium codes at their edge and keep the original code for the log
 * line (see wm_store_last_mdb_rc() and friends). Thread-safe; no state.
 */
#ifndef WM_ERR_H
#define WM_ERR_H

#include <limits.h> /* PATH_MAX, for WM_WHY_MAX */

/* On a function whose result must not be ignored: the compiler warns (an
 * error with WM_WERROR) where a caller drops it. Every storage function
 * returning wm_err_t carries it: a failed read dropped on the floor turns
 * a partial result into a complete-looking one. */
#if defined(__GNUC__) || defined(__clang__)
#define WM_MUST_CHECK __attribute__((warn_unused_result))
#else
#define WM_MUST_CHECK
#endif

/* The one size of a "why" buffer: a sentence for people on why something
 * failed or was refused, naming the file, node, record or field at fault
 * (a reject's detail, a verifier's verdict, an operator's error). Room for
 * the longest path (PATH_MAX) and a sentence around it; anything longer is
 * cut (snprintf), never overrun. */
#define WM_WHY_MAX (PATH_MAX + 256)

/* Drops a WM_MUST_CHECK result on purpose (GCC does not take a (void) cast
 * for that). Every use says beside it why nothing is lost by ignoring it. */
#define WM_IGNORE(expr)                     \
    do {                                    \
        wm_err_t wm_ignored_ = (expr);      \
        (void)wm_ignored_;                  \
    } while (0)

typedef enum {
    WM_OK = 0,
    WM_EINVAL,      /* bad input: a field failed validation */
    WM_ENOMEM,      /* allocation failed */
    WM_EDECODE,     /* bytes are not a well-formed record / message */
    WM_ETOOBIG,     /* a length exceeds its limit */
    WM_EBADSIG,     /* Ed25519 signature does not verify */
    WM_ECHAIN,      /* linkage broken: wrong prev hash, seq, epoch or station */
    WM_ENOTFOUND,   /* no such record / key / entry */
    WM_EEXIST,      /* already exists (refusing to overwrite) */
    WM_EMAPFULL,    /* the LMDB map reached map_max_mb (it grows by itself until then) */
    WM_EIO,         /* I/O error from the OS or LMDB */
    WM_EFORK,       /* fork guard: key without its log, or a log rolled back */
    WM_EDOWN,       /* the daemon is not running */
    WM_ETIMEOUT,    /* no answer in time */
    WM_EPERM,       /* not allowed */
    WM_ESTATE,      /* operation not valid in the current state */
    WM_ECONFIG,     /* configuration file is bad */
    WM_EFORKED,     /* equivocation: a different record at an existing seq */
    WM_ENOSPC,      /* the file system is full (ENOSPC) or over its disk quota (EDQUOT) */
    WM_EQUOTA,      /* a child's storage quota ([quota] in wmsync.conf) is used up */
    WM_ECORRUPT,    /* stored data is damaged (LMDB found a bad or missing page) */
    WM_ERR_COUNT
} wm_err_t;

/* Returns a static, human-readable string for rc. Never NULL. */
const char *wm_strerror(wm_err_t rc);

/* Returns a short stable slug for rc ("bad_signature"), for JSON and logs. */
const char *wm_errname(wm_err_t rc);

/* The code for a failed system call's errno: ENOSPC and EDQUOT are
 * WM_ENOSPC, ENOMEM WM_ENOMEM, EEXIST WM_EEXIST, ENOENT WM_ENOTFOUND,
 * EACCES and EPERM WM_EPERM, anything else WM_EIO. */
WM_MUST_CHECK wm_err_t wm_err_from_errno(int e);

#endif
