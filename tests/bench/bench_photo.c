/* SPDX-License-Identifier: MIT */
/*
 * bench_photo — what `wmctl record activity --photo` costs per phone photo
 * (client/photo.c): a 12-MP (4000×3000) JPEG of quality 92 with the fine
 * noise of a real sensor (3–5 MB, as phones write them) and an EXIF
 * orientation, normalised to [blobs] max_px 1600. Prints, per photo:
 * the time to normalise (decode with shrink-on-load, rotate, encode,
 * dHash) beside the limit measured in the same run, libvips decoding the
 * original in full once (what any viewer of it pays); and the bytes stored
 * (and sent) beside the original's.
 *
 * Usage: bench_photo [RUNS]   (default 5)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <vips/vips.h>

#include "photo.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A 12-MP photo-like JPEG at path: noise, softened like a lens, Q 92. */
static int make_photo(const char *path)
{
    VipsImage *b[3] = {NULL}, *rgb = NULL, *soft = NULL, *u = NULL;
    int rc = -1;
    for (int i = 0; i < 3; i++)
        if (vips_gaussnoise(&b[i], 4000, 3000, "sigma", 30.0, "mean", 120.0 + 10 * i, NULL))
            goto out;
    if (vips_bandjoin(b, &rgb, 3, NULL) || vips_gaussblur(rgb, &soft, 1.2, NULL) ||
        vips_cast_uchar(soft, &u, NULL))
        goto out;
    u->Type = VIPS_INTERPRETATION_sRGB;
    vips_image_set_int(u, "orientation", 6);
    vips_image_set_string(u, "exif-ifd2-DateTimeOriginal", "2024:03:05 10:20:30");
    rc = vips_jpegsave(u, path, "Q", 92, NULL);
out:
    for (int i = 0; i < 3; i++)
        VIPS_UNREF(b[i]);
    VIPS_UNREF(rgb);
    VIPS_UNREF(soft);
    VIPS_UNREF(u);
    return rc;
}

/* The limit: decoding the whole original once. */
static double full_decode_s(const char *path)
{
    double t0 = now_s(), avg = 0;
    VipsImage *im = vips_image_new_from_file(path, "access", VIPS_ACCESS_SEQUENTIAL, NULL);
    if (!im || vips_avg(im, &avg, NULL))
        return -1;
    g_object_unref(im);
    return now_s() - t0;
}

int main(int argc, char **argv)
{
    int runs = argc > 1 ? atoi(argv[1]) : 5;
    char path[] = "/tmp/bench_photo.XXXXXX.jpg";
    char why[256];
    int fd = mkstemps(path, 4);
    if (VIPS_INIT(argv[0]) || fd < 0 || runs < 1)
        return 1;
    if (make_photo(path)) {
        fprintf(stderr, "bench_photo: cannot make the photo: %s\n", vips_error_buffer());
        unlink(path);
        return 1;
    }
    double norm = 0, dec = 0;
    photo_t p = {0};
    for (int i = 0; i < runs; i++) {
        dec += full_decode_s(path);
        photo_free(&p);
        double t0 = now_s();
        if (photo_prepare(path, PHOTO_MAX_PX, &p, why, sizeof why) != WM_OK) {
            fprintf(stderr, "bench_photo: %s\n", why);
            unlink(path);
            return 1;
        }
        norm += now_s() - t0;
    }
    norm /= runs, dec /= runs;
    printf("photo normalisation (wmctl record --photo), a 12-MP JPEG, %d runs:\n", runs);
    printf("  normalise to %d px:        %7.1f ms/photo\n", PHOTO_MAX_PX, norm * 1e3);
    printf("  limit, decode it in full:   %7.1f ms/photo   ratio %.2f\n", dec * 1e3, norm / dec);
    printf("  bytes per photo: %llu original, %zu normalised (%dx%d, Q %d)   ratio %.3f\n",
           (unsigned long long)p.in_bytes, p.len, p.width, p.height, PHOTO_JPEG_Q,
           (double)p.len / (double)p.in_bytes);
    photo_free(&p);
    unlink(path);
    return 0;
}
