/* SPDX-License-Identifier: MIT */
/* photo — evidence files normalised through libvips; see photo.h. */
#include "photo.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <vips/vips.h>

#define PDF_MAGIC "%PDF-"

static int vips_ready(void)
{
    static int state; /* 0 not yet, 1 ready, -1 failed */
    if (state == 0) {
        state = VIPS_INIT("wmctl") == 0 ? 1 : -1;
        if (state == 1) {
            vips_cache_set_max(0); /* one-shot use: nothing to reuse */
            vips_leak_set(FALSE);
        }
    }
    return state == 1;
}

static void vips_why(char *why, size_t cap, const char *what)
{
    const char *e = vips_error_buffer();
    size_t n = strcspn(e, "\n");
    snprintf(why, cap, "%s%s%.*s", what, n ? ": " : "", (int)(n > 200 ? 200 : n), e);
    vips_error_clear();
}

/* The whole file, at most PHOTO_IN_MAX bytes. */
static wm_err_t slurp(const char *path, uint8_t **out, size_t *len, char *why, size_t cap)
{
    wm_err_t rc = WM_EIO;
    uint8_t *buf = NULL;
    struct stat st;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        snprintf(why, cap, "cannot read %s: %s", path,
                 fd < 0 || errno ? strerror(errno) : "not a regular file");
        goto out;
    }
    if ((uint64_t)st.st_size > PHOTO_IN_MAX) {
        snprintf(why, cap, "%s is %lld bytes; at most %u are read", path, (long long)st.st_size,
                 PHOTO_IN_MAX);
        rc = WM_ETOOBIG;
        goto out;
    }
    if (!(buf = malloc((size_t)st.st_size + 1))) {
        rc = WM_ENOMEM;
        goto out;
    }
    size_t got = 0;
    while (got < (size_t)st.st_size) {
        ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            snprintf(why, cap, "cannot read %s: %s", path, n ? strerror(errno) : "truncated");
            goto out;
        }
        got += (size_t)n;
    }
    *out = buf, *len = got, buf = NULL;
    rc = WM_OK;
out:
    free(buf);
    if (fd >= 0)
        close(fd);
    return rc;
}

int64_t photo_exif_time(const char *date, const char *offset)
{
    struct tm tm = {0};
    int y, mo, d, h, mi, s, oh = 8, om = 0, sign = 1;
    if (!date || sscanf(date, "%4d:%2d:%2d %2d:%2d:%2d", &y, &mo, &d, &h, &mi, &s) != 6)
        return 0;
    if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60 ||
        h < 0 || mi < 0 || s < 0)
        return 0; /* "0000:00:00 00:00:00": a camera without a clock */
    if (offset && (offset[0] == '+' || offset[0] == '-') &&
        sscanf(offset + 1, "%2d:%2d", &oh, &om) == 2 && oh <= 14 && om < 60 && oh >= 0 && om >= 0)
        sign = offset[0] == '-' ? -1 : 1;
    else
        oh = 8, om = 0;
    tm.tm_year = y - 1900, tm.tm_mon = mo - 1, tm.tm_mday = d;
    tm.tm_hour = h, tm.tm_min = mi, tm.tm_sec = s;
    return (int64_t)timegm(&tm) - sign * (int64_t)(oh * 3600 + om * 60);
}

/* An EXIF string field as libvips shows it, "VALUE (VALUE, ASCII, …)",
 * or NULL when the image has none. */
static const char *exif_str(VipsImage *im, const char *name)
{
    const char *v = NULL;
    if (vips_image_get_typeof(im, name) == 0 || vips_image_get_string(im, name, &v) != 0)
        return NULL;
    return v;
}

static int64_t capture_time(VipsImage *im)
{
    const char *date = exif_str(im, "exif-ifd2-DateTimeOriginal");
    const char *off = exif_str(im, "exif-ifd2-OffsetTimeOriginal");
    if (!date)
        date = exif_str(im, "exif-ifd0-DateTime"), off = NULL;
    if (!off)
        off = exif_str(im, "exif-ifd2-OffsetTime");
    return photo_exif_time(date, off);
}

wm_err_t photo_dhash(const uint8_t *data, size_t len, uint64_t *out)
{
    wm_err_t rc = WM_EINVAL;
    VipsImage *im = NULL, *t = NULL, *g = NULL, *b = NULL, *u = NULL;
    uint8_t *px = NULL;
    size_t n = 0;
    if (!vips_ready() || !(im = vips_image_new_from_buffer(data, len, "", NULL)))
        goto out;
    if (vips_thumbnail_image(im, &t, 9, "height", 8, "size", VIPS_SIZE_FORCE, NULL) ||
        vips_colourspace(t, &g, VIPS_INTERPRETATION_B_W, NULL) ||
        vips_extract_band(g, &b, 0, NULL) || vips_cast_uchar(b, &u, NULL))
        goto out;
    if (vips_image_get_width(u) != 9 || vips_image_get_height(u) != 8 ||
        !(px = vips_image_write_to_memory(u, &n)) || n != 72)
        goto out;
    uint64_t h = 0;
    for (int row = 0; row < 8; row++)
        for (int col = 0; col < 8; col++)
            if (px[row * 9 + col] > px[row * 9 + col + 1])
                h |= (uint64_t)1 << (8 * row + col);
    *out = h;
    rc = WM_OK;
out:
    vips_error_clear();
    g_free(px);
    VIPS_UNREF(u);
    VIPS_UNREF(b);
    VIPS_UNREF(g);
    VIPS_UNREF(t);
    VIPS_UNREF(im);
    return rc;
}

/* Decode, rotate, shrink, flatten, encode: the stored JPEG. */
static wm_err_t normalise(const uint8_t *in, size_t in_len, int max_px, photo_t *p, char *why,
                          size_t cap)
{
    wm_err_t rc = WM_EINVAL;
    VipsImage *im = NULL, *t = NULL, *f = NULL;
    void *buf = NULL;
    size_t len = 0;
    if (!(im = vips_image_new_from_buffer(in, in_len, "", NULL))) {
        vips_why(why, cap, "not an image this build can read (JPEG, PNG, WebP, HEIF) nor a PDF");
        goto out;
    }
    if ((uint64_t)vips_image_get_width(im) * (uint64_t)vips_image_get_height(im) >
        PHOTO_PIXELS_MAX) {
        snprintf(why, cap, "a picture of %dx%d pixels is too large (at most %llu megapixels)",
                 vips_image_get_width(im), vips_image_get_height(im),
                 PHOTO_PIXELS_MAX / 1000000);
        rc = WM_ETOOBIG;
        goto out;
    }
    p->taken_at = capture_time(im);
    /* thumbnail applies the EXIF orientation and converts to sRGB */
    if (vips_thumbnail_buffer((void *)in, in_len, &t, max_px, "height", max_px, "size",
                              VIPS_SIZE_DOWN, NULL)) {
        vips_why(why, cap, "cannot decode the image");
        goto out;
    }
    if (vips_image_hasalpha(t)) {
        VipsArrayDouble *white = vips_array_double_newv(1, 255.0);
        int bad = vips_flatten(t, &f, "background", white, NULL);
        vips_area_unref(VIPS_AREA(white));
        if (bad) {
            vips_why(why, cap, "cannot flatten the image");
            goto out;
        }
    } else {
        f = t;
        g_object_ref(f);
    }
    if (vips_jpegsave_buffer(f, &buf, &len, "Q", PHOTO_JPEG_Q, "strip", TRUE, "optimize_coding",
                             TRUE, NULL)) {
        vips_why(why, cap, "cannot write the JPEG");
        goto out;
    }
    if (!(p->data = malloc(len))) {
        rc = WM_ENOMEM;
        goto out;
    }
    memcpy(p->data, buf, len);
    p->len = len;
    p->width = vips_image_get_width(f), p->height = vips_image_get_height(f);
    p->media_type = "image/jpeg";
    rc = WM_OK;
out:
    g_free(buf);
    VIPS_UNREF(f);
    VIPS_UNREF(t);
    VIPS_UNREF(im);
    return rc;
}

wm_err_t photo_prepare_mem(const uint8_t *in, size_t in_len, const char *name, int max_px,
                           photo_t *out, char *why, size_t cap)
{
    wm_err_t rc = WM_OK;
    photo_t p = {.in_bytes = in_len};
    if (in_len > PHOTO_IN_MAX) {
        snprintf(why, cap, "%s is %zu bytes; at most %u are read", name, in_len, PHOTO_IN_MAX);
        rc = WM_ETOOBIG;
    } else if (in_len >= strlen(PDF_MAGIC) && !memcmp(in, PDF_MAGIC, strlen(PDF_MAGIC))) {
        if ((p.data = malloc(in_len)) != NULL) {
            memcpy(p.data, in, in_len);
            p.len = in_len;
            p.media_type = "application/pdf";
        } else {
            rc = WM_ENOMEM;
        }
    } else if (!vips_ready()) {
        vips_why(why, cap, "libvips could not start");
        rc = WM_EIO;
    } else if ((rc = normalise(in, in_len, max_px, &p, why, cap)) == WM_OK &&
               (rc = photo_dhash(p.data, p.len, &p.dhash)) != WM_OK) {
        snprintf(why, cap, "cannot read back the normalised image of %s", name);
        photo_free(&p);
    }
    if (rc == WM_OK)
        *out = p;
    return rc;
}

wm_err_t photo_prepare(const char *path, int max_px, photo_t *out, char *why, size_t cap)
{
    wm_err_t rc;
    uint8_t *in = NULL;
    size_t in_len = 0;
    if ((rc = slurp(path, &in, &in_len, why, cap)) == WM_OK)
        rc = photo_prepare_mem(in, in_len, path, max_px, out, why, cap);
    free(in);
    return rc;
}

wm_err_t photo_thumb(const uint8_t *data, size_t len, int px, uint8_t **out, size_t *out_len)
{
    wm_err_t rc = WM_EINVAL;
    VipsImage *t = NULL;
    void *buf = NULL;
    size_t n = 0;
    if (!vips_ready() || px < 1 ||
        vips_thumbnail_buffer((void *)data, len, &t, px, "height", px, "size", VIPS_SIZE_DOWN,
                              NULL) ||
        vips_jpegsave_buffer(t, &buf, &n, "Q", PHOTO_THUMB_Q, "strip", TRUE, NULL))
        goto out;
    if (!(*out = malloc(n))) {
        rc = WM_ENOMEM;
        goto out;
    }
    memcpy(*out, buf, n);
    *out_len = n;
    rc = WM_OK;
out:
    vips_error_clear();
    g_free(buf);
    VIPS_UNREF(t);
    return rc;
}

void photo_free(photo_t *p)
{
    free(p->data);
    p->data = NULL;
    p->len = 0;
}
