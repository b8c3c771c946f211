/* SPDX-License-Identifier: MIT */
/*
 * outfile — how wmctl creates every file it is asked to write (rollup and
 * report --out, xlsx workbooks, bundles, backups): never through a link
 * somebody planted, never over an existing file unless the operator said
 * --force, and never half-written under the final name.
 *
 * The bytes go to a new temporary file beside the target (same directory,
 * so the final rename is atomic; created with O_EXCL, so no link is
 * followed). outfile_commit flushes and fsyncs it, then renames it to the
 * target — without --force only if the target still does not exist
 * (renameat2 RENAME_NOREPLACE, or link() where the file system lacks it) —
 * and fsyncs the directory. A target that is a symbolic link is replaced
 * by the new file (with --force); the file it pointed to is never opened.
 *
 * Not thread-safe (it reads the umask); one outfile_t per output, owned by
 * the caller from outfile_open until outfile_commit or outfile_abort.
 */
#ifndef OUTFILE_H
#define OUTFILE_H

#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>

#include "wm_err.h"

#define OUTFILE_FORCE 0x1 /* replace an existing file (or link) at the path */

typedef struct outfile outfile_t;

/* Begins writing `path` with permission bits `mode` (less the umask; 0600
 * for bundles and backups, 0644 for reports). path NULL means standard
 * output: the stream is stdout and commit only flushes it.
 * Returns WM_OK with *out set; WM_EEXIST if path exists (as anything:
 * file, link, even a dangling link) and flags lacks OUTFILE_FORCE, or if
 * it is a directory; WM_EIO if the temporary file cannot be created;
 * WM_ENOMEM. On failure why says what, naming the path and the option
 * (--force) that would help. */
WM_MUST_CHECK wm_err_t outfile_open(const char *path, mode_t mode, unsigned flags, outfile_t **out, char *why,
                      size_t cap);

/* The stream to write to (opened on first use); NULL if fdopen fails.
 * Valid until commit or abort, which close it. */
FILE *outfile_stream(outfile_t *o);
/* The temporary file's descriptor, for writers that take one (LMDB's copy).
 * -1 for standard output. Do not close it. */
int outfile_fd(outfile_t *o);
/* The temporary file's path, for libraries that write to a file by name
 * (libxlsxwriter): they truncate and rewrite that new file, which only we
 * created. NULL for standard output. */
const char *outfile_tmp_path(const outfile_t *o);

/* Puts the file in place: flush, fsync, rename to the target, fsync of the
 * directory. Frees *o and sets it NULL; on failure the temporary file is
 * removed and nothing is at the target that was not there before.
 * Returns WM_OK; WM_EEXIST if, without OUTFILE_FORCE, the target appeared
 * meanwhile; WM_EIO on a write or sync failure (why says which). */
WM_MUST_CHECK wm_err_t outfile_commit(outfile_t **o, char *why, size_t cap);

/* Drops the output: removes the temporary file. Frees *o and sets it NULL.
 * Accepts NULL. */
void outfile_abort(outfile_t **o);

#endif
