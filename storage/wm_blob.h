/* SPDX-License-Identifier: MIT */
/*
 * wm_blob — the content-addressed store of a node's attachments (photos,
 * scanned sign-in sheets): NODE/blobs/. A blob is named by the BLAKE2b-256
 * of its bytes, the hash a signed record carries (record.proto,
 * Attachment.hash), so a blob is as trustworthy as the record that names
 * it, wherever its bytes came from.
 *
 * Files in the store directory (mode 0750; files 0640):
 *
 *     name                    what                         counts as present
 *     <64 hex>                a whole blob, its bytes hash  yes
 *                             to its name
 *     <64 hex>.part           a blob being received: the    never
 *                             bytes 0 … size-1 held so far
 *                             (the resume point is its size)
 *     <64 hex>.thumb          the thumbnail a station keeps never
 *                             of a file it pruned (a JPEG,
 *                             wmctl blob prune; 0 bytes if
 *                             none could be made; not covered
 *                             by any signed hash: shown,
 *                             never replicated nor listed)
 *     .tmp-<64 hex>-XXXXXX    a put in progress             never
 *     anything else           ignored (left alone)          never
 *
 * Durability. A blob becomes present only by rename(2) of a file that was
 * written whole and fsync'd, followed by an fsync of the directory: after
 * a crash at any point a name of 64 hex digits holds exactly the bytes
 * that hash to it, or does not exist. A put writes a temporary file; a
 * received blob grows as NAME.part (writes are not fsync'd one by one: a
 * crash may lose or garble its tail, and wm_blob_part_complete checks the
 * whole file against the hash before it renames, so garbled bytes are
 * discarded, never stored as present). Temporary files of a crashed put
 * are removed by wm_blob_open.
 *
 * Thread-safety: a wm_blob_t holds only the directory's path and fd; its
 * functions may be called from several threads, but two writers of the
 * same .part file must not run at once (the daemon has one receiver per
 * blob). Nothing here is signed or trusted beyond the hash.
 */
#ifndef WM_BLOB_H
#define WM_BLOB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wm_crypto.h"
#include "wm_err.h"

/* The largest blob a node stores or accepts: a normalised photo is a few
 * hundred KB, a phone original 3–5 MB, a scanned multi-page sign-in sheet
 * as a PDF some MB more; 64 MiB leaves room and bounds what one announced
 * size may make a receiver write. */
#define WM_BLOB_MAX ((uint64_t)64 << 20)
/* The store's subdirectory of the node directory. */
#define WM_BLOB_DIRNAME "blobs"
#define WM_BLOB_DIR_MODE 0750
#define WM_BLOB_FILE_MODE 0640
/* Length of a blob's file name (hex of the hash), without NUL. */
#define WM_BLOB_HEXLEN (2 * WM_HASH_BYTES)

typedef struct wm_blob wm_blob_t;

/* Opens (creating it, mode 0750, if missing) the store in dir and removes
 * the temporary files of puts a crash interrupted. *out is the caller's;
 * free with wm_blob_close. WM_EIO/WM_EPERM/WM_ENOSPC from the file system. */
WM_MUST_CHECK wm_err_t wm_blob_open(const char *dir, wm_blob_t **out);
/* Closes *bs and sets it to NULL. Accepts NULL and *bs NULL. */
void wm_blob_close(wm_blob_t **bs);
/* The store's directory; valid as long as bs. */
const char *wm_blob_dir(const wm_blob_t *bs);

/* Stores len bytes of data (len ≤ WM_BLOB_MAX, else WM_ETOOBIG) under
 * their hash, written into hash. Returns when the blob is durable (the
 * file and the directory fsync'd). Identical content is stored once: if
 * the blob is present already, nothing is written and WM_OK is returned.
 * WM_ENOSPC when the disk is full (nothing is left behind). */
WM_MUST_CHECK wm_err_t wm_blob_put(wm_blob_t *bs, const uint8_t *data, size_t len,
                                   uint8_t hash[static WM_HASH_BYTES]);

/* WM_OK if the blob is present (its size into *size, may be NULL),
 * WM_ENOTFOUND if not (a .part file is not present), WM_EIO. */
WM_MUST_CHECK wm_err_t wm_blob_has(const wm_blob_t *bs, const uint8_t hash[static WM_HASH_BYTES],
                                   uint64_t *size);

/* Opens a present blob for reading: *fd (O_RDONLY, O_CLOEXEC; the
 * caller's to close) and its *size. WM_ENOTFOUND if it is not present. */
WM_MUST_CHECK wm_err_t wm_blob_open_read(const wm_blob_t *bs,
                                         const uint8_t hash[static WM_HASH_BYTES], int *fd,
                                         uint64_t *size);

/* Reads up to cap bytes of a present blob from offset off into buf; *n is
 * how many (0 at or past the end). WM_ENOTFOUND, WM_EIO. */
WM_MUST_CHECK wm_err_t wm_blob_read(const wm_blob_t *bs, const uint8_t hash[static WM_HASH_BYTES],
                                    uint64_t off, uint8_t *buf, size_t cap, size_t *n);

/* The receiving side. A blob of size bytes (as its signed record says) is
 * received in order into NAME.part.
 *
 * wm_blob_part_held: how many bytes are held (*held): the size of the
 * .part file (0 if there is none); the blob's size if it is present (the
 * transfer is done). A .part larger than size (it cannot be this blob's)
 * is removed and 0 returned. */
WM_MUST_CHECK wm_err_t wm_blob_part_held(const wm_blob_t *bs,
                                         const uint8_t hash[static WM_HASH_BYTES], uint64_t size,
                                         uint64_t *held);
/* Writes len bytes at offset off of the blob (size bytes in all) into its
 * .part file, creating it at off 0. off must be exactly what
 * wm_blob_part_held says (WM_ECHAIN otherwise: the sender and receiver
 * disagree on the resume point; nothing is written). off + len > size or
 * size > WM_BLOB_MAX: WM_ETOOBIG. A present blob: WM_EEXIST (nothing to
 * do). WM_ENOSPC when the disk is full (the .part keeps what it held). */
WM_MUST_CHECK wm_err_t wm_blob_part_write(wm_blob_t *bs, const uint8_t hash[static WM_HASH_BYTES],
                                          uint64_t size, uint64_t off, const uint8_t *data,
                                          size_t len);
/* Completes a .part that holds size bytes: hashes it, and only if the
 * hash is the blob's name fsyncs it, renames it to the name and fsyncs the
 * directory (the blob is present, durably, on WM_OK). A mismatch removes
 * the .part (the next transfer starts from 0) and returns WM_ECORRUPT with
 * why (cap bytes) saying so; a .part shorter than size: WM_ESTATE. A blob
 * present already: WM_OK. */
WM_MUST_CHECK wm_err_t wm_blob_part_complete(wm_blob_t *bs,
                                             const uint8_t hash[static WM_HASH_BYTES],
                                             uint64_t size, char *why, size_t cap);
/* A receiver: the same .part protocol as wm_blob_part_held/_write/
 * _complete, for one blob received chunk after chunk, that keeps the .part
 * open and the hash of the bytes written so far, so that completing a
 * blob costs no second read of it (only the fsync and the rename). Opening
 * a receiver on a .part left by an earlier one (a restart, a crash, an
 * evicted receiver) reads that .part once to rebuild the hash. A receiver
 * notices a .part that something else wrote to, truncated or replaced
 * since its own last write (size, inode and modification time are checked
 * before each write and at completion): it then answers WM_ESTATE and the
 * caller closes it and opens a new one, which reads the file again. So a
 * blob is named only after every byte of its file went through the hash,
 * as with wm_blob_part_complete.
 *
 * A receiver is not thread-safe; one per blob at a time (the daemon keeps
 * them by hash, wm_agg_blob.c). */
typedef struct wm_blob_rx wm_blob_rx_t;

/* Opens a receiver for the blob (size bytes, ≤ WM_BLOB_MAX else
 * WM_ETOOBIG), creating its .part if missing and removing one larger than
 * size (as wm_blob_part_held). WM_EEXIST if the blob is present (nothing
 * to receive). *out is the caller's; close with wm_blob_rx_close. */
WM_MUST_CHECK wm_err_t wm_blob_rx_open(wm_blob_t *bs, const uint8_t hash[static WM_HASH_BYTES],
                                       uint64_t size, wm_blob_rx_t **out);
/* The bytes held: the next write's offset. */
uint64_t wm_blob_rx_held(const wm_blob_rx_t *rx);
/* The blob's hash (valid as long as rx) and size. */
const uint8_t *wm_blob_rx_hash(const wm_blob_rx_t *rx);
uint64_t wm_blob_rx_size(const wm_blob_rx_t *rx);
/* Appends len bytes at off (which must be wm_blob_rx_held: else WM_ECHAIN,
 * nothing written). WM_ETOOBIG past the blob's size; WM_ESTATE if the
 * .part changed under the receiver (close it, open again); WM_ENOSPC,
 * WM_EIO (the .part is cut back to what it held). */
WM_MUST_CHECK wm_err_t wm_blob_rx_write(wm_blob_rx_t *rx, uint64_t off, const uint8_t *data,
                                        size_t len);
/* Completes a receiver that holds the whole blob: as wm_blob_part_complete
 * (WM_OK: present, durably; WM_ECORRUPT: the bytes do not hash to the
 * name, the .part is removed; WM_ESTATE: not all held, or the .part
 * changed under the receiver), without reading the file again. The
 * receiver is spent either way: close it. */
WM_MUST_CHECK wm_err_t wm_blob_rx_complete(wm_blob_rx_t *rx, char *why, size_t cap);
/* Closes *rx (the .part stays) and sets it to NULL. Accepts NULL. */
void wm_blob_rx_close(wm_blob_rx_t **rx);

/* Removes a blob's .part file, if any. */
WM_MUST_CHECK wm_err_t wm_blob_part_discard(wm_blob_t *bs,
                                            const uint8_t hash[static WM_HASH_BYTES]);

/* Re-reads a present blob and checks its bytes against its name: WM_OK,
 * WM_ECORRUPT (why says so: the file on disk was altered or damaged; it
 * is left in place for the operator), WM_ENOTFOUND, WM_EIO. */
WM_MUST_CHECK wm_err_t wm_blob_verify(const wm_blob_t *bs,
                                      const uint8_t hash[static WM_HASH_BYTES], char *why,
                                      size_t cap);

/* Calls fn for each present blob (in no particular order) with its hash
 * and size; fn returning non-zero stops the walk (the call then returns
 * WM_OK). .part and temporary files are not listed. WM_EIO if the
 * directory cannot be read to its end (a partial walk is never WM_OK). */
typedef int (*wm_blob_each_fn)(const uint8_t hash[static WM_HASH_BYTES], uint64_t size,
                               void *ctx);
WM_MUST_CHECK wm_err_t wm_blob_list(const wm_blob_t *bs, wm_blob_each_fn fn, void *ctx);

/* Thumbnails (<64 hex>.thumb, above): the small picture a station keeps
 * of a photo it prunes, so its pages still show the evidence; 0 bytes
 * when none could be made (a PDF): then it only says the file was
 * pruned. The store only keeps the bytes (libvips, which makes them,
 * stays out of the daemon). At most WM_BLOB_THUMB_MAX bytes (else
 * WM_ETOOBIG); put is durable as wm_blob_put's and replaces an older one;
 * has and read as wm_blob_has and wm_blob_read. */
#define WM_BLOB_THUMB_MAX ((size_t)256 << 10)
WM_MUST_CHECK wm_err_t wm_blob_thumb_put(wm_blob_t *bs, const uint8_t hash[static WM_HASH_BYTES],
                                         const uint8_t *data, size_t len);
WM_MUST_CHECK wm_err_t wm_blob_thumb_has(const wm_blob_t *bs,
                                         const uint8_t hash[static WM_HASH_BYTES],
                                         uint64_t *size);
WM_MUST_CHECK wm_err_t wm_blob_thumb_read(const wm_blob_t *bs,
                                          const uint8_t hash[static WM_HASH_BYTES], uint64_t off,
                                          uint8_t *buf, size_t cap, size_t *n);

/* Removes a present blob (durably: the directory is fsync'd).
 * WM_ENOTFOUND if it is not present. */
WM_MUST_CHECK wm_err_t wm_blob_remove(wm_blob_t *bs, const uint8_t hash[static WM_HASH_BYTES]);

#endif
