/* SPDX-License-Identifier: MIT */
/*
 * photo — an evidence file made ready to store (issue 12 item 1), the only
 * code of the project that uses libvips: wmctl and wmweb link it (and the
 * bench), so a photo recorded from the console and one recorded with
 * `wmctl record --photo` are the same bytes; the daemon never decodes an
 * image, it only stores bytes under their hash. It also makes the small
 * thumbnail a station keeps of a photo it prunes (photo_thumb).
 *
 * An image (JPEG, PNG, WebP, HEIF, anything the installed libvips loads)
 * is normalised: the EXIF orientation applied, shrunk so that its longest
 * side is at most max_px (never enlarged), alpha flattened on white,
 * written as a baseline JPEG of quality PHOTO_JPEG_Q with every metadata
 * block stripped (EXIF, XMP, IPTC, ICC: the location a phone writes
 * leaves nothing behind). What the record keeps of the original's EXIF is
 * its capture time, as unix seconds UTC: DateTimeOriginal (else
 * DateTime), read as the local time of OffsetTimeOriginal (else
 * OffsetTime) and, without an offset tag, as China Standard Time (UTC+8);
 * 0 when the file carries no date (photos forwarded through WeChat).
 * The dHash is taken from the stored JPEG itself (decoded again), so any
 * node holding the blob can recompute it: a 9×8 greyscale thumbnail
 * (aspect ignored), bit 8·row+col set when pixel (col, row) is brighter
 * than pixel (col+1, row).
 *
 * A PDF (a scanned sign-in sheet; recognised by its "%PDF-" magic) is
 * stored as it is: media type application/pdf, no date, dHash 0.
 *
 * Not thread-safe: libvips is initialised on first use, once per process.
 */
#ifndef PHOTO_H
#define PHOTO_H

#include <stddef.h>
#include <stdint.h>

#include "wm_err.h"

#define PHOTO_JPEG_Q 82       /* JPEG quality of a stored photo */
#define PHOTO_MAX_PX 1600     /* [blobs] max_px default: longest side, pixels */
#define PHOTO_MAX_PX_MIN 64   /* [blobs] max_px range: a dHash needs a picture */
#define PHOTO_MAX_PX_MAX 8192
#define PHOTO_CST_OFFSET_S (8 * 3600) /* EXIF local time without an offset tag */
#define PHOTO_IN_MAX (256u << 20) /* largest input file read (a 12-MP PNG ~36 MB) */
/* Most pixels of an input picture: 200-MP phones exist; a small file that
 * claims far more (a decompression bomb) is refused before it is decoded. */
#define PHOTO_PIXELS_MAX (256ull * 1000 * 1000)
#define PHOTO_THUMB_PX 160    /* longest side of a pruned photo's thumbnail */
#define PHOTO_THUMB_Q 75      /* its JPEG quality: some 5-8 KB */

typedef struct {
    uint8_t *data;          /* the bytes to store, malloc'd: photo_free */
    size_t len;
    const char *media_type; /* static: "image/jpeg" or "application/pdf" */
    int64_t taken_at;       /* unix seconds UTC, 0: undated */
    uint64_t dhash;         /* 0 for a PDF */
    int width, height;      /* of the stored image; 0 for a PDF */
    uint64_t in_bytes;      /* the original file's size */
} photo_t;

/* Reads `path` and makes *out ready to store (see above); max_px is the
 * longest side (PHOTO_MAX_PX_MIN .. PHOTO_MAX_PX_MAX). On failure nothing
 * is allocated and why (cap bytes, English; the caller translates its
 * own sentence around it) says what: WM_EIO (unreadable), WM_EINVAL (not
 * an image libvips loads nor a PDF), WM_ETOOBIG (larger than
 * PHOTO_IN_MAX, or more than PHOTO_PIXELS_MAX pixels), WM_ENOMEM. */
WM_MUST_CHECK wm_err_t photo_prepare(const char *path, int max_px, photo_t *out, char *why,
                                     size_t cap);

/* The same from len bytes in memory (in: the caller's; name says what
 * they are in a message, e.g. the uploaded file's name). */
WM_MUST_CHECK wm_err_t photo_prepare_mem(const uint8_t *in, size_t len, const char *name,
                                         int max_px, photo_t *out, char *why, size_t cap);

/* A JPEG (quality PHOTO_THUMB_Q, no metadata) of the image data (an
 * encoded image, e.g. a stored photo) whose longest side is at most px
 * (never enlarged): *out malloc'd (the caller frees) of *out_len bytes.
 * WM_EINVAL if libvips cannot decode data, WM_ENOMEM. */
WM_MUST_CHECK wm_err_t photo_thumb(const uint8_t *data, size_t len, int px, uint8_t **out,
                                   size_t *out_len);

/* Releases out->data; accepts a zeroed or freed photo_t. */
void photo_free(photo_t *p);

/* The capture time of an EXIF date "YYYY:MM:DD HH:MM:SS" with an offset
 * "+HH:MM" / "-HH:MM" (NULL or unparsable: UTC+8), as unix seconds UTC;
 * 0 if date is NULL or not such a date (or all zeros, as some cameras
 * write). Exposed for the tests. */
int64_t photo_exif_time(const char *date, const char *offset);

/* The dHash of an encoded image (see above). WM_EINVAL if libvips cannot
 * decode it. */
WM_MUST_CHECK wm_err_t photo_dhash(const uint8_t *data, size_t len, uint64_t *out);

#endif
