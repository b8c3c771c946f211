/* SPDX-License-Identifier: MIT */
/*
 * mkphoto — real test images made with libvips for it_photos and the
 * photo bench, and what a test needs to know of an image afterwards.
 *
 *   mkphoto make OUT W H [--seed N] [--orientation N] [--date "Y:M:D h:m:s"]
 *                        [--offset +HH:MM] [--alpha]
 *       writes a W×H picture (format from OUT's suffix: .jpg .png .webp
 *       .heic) whose left half is dark and right half bright, with blocks
 *       that depend on the seed (so two seeds differ in dHash), and the
 *       EXIF tags asked for. Exit 77 if this libvips cannot write the
 *       format (no HEIF encoder), 1 on other failures.
 *   mkphoto info FILE
 *       prints "W H TOP BOTTOM LEFT RIGHT EXIF": size, the mean brightness
 *       of the top, bottom, left and right halves (0-255), and 1 if the
 *       file carries any EXIF/XMP/IPTC/ICC block, else 0.
 *   mkphoto dhash FILE
 *       prints the dHash of FILE (photo.h) as 16 hex digits.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vips/vips.h>

#include "photo.h"

static VipsImage *picture(int w, int h, unsigned seed, int alpha)
{
    int bands = alpha ? 4 : 3;
    unsigned char *px = malloc((size_t)w * h * bands);
    if (!px)
        return NULL;
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            unsigned char *p = px + ((size_t)y * w + x) * bands;
            int base = x < w / 2 ? 70 : 180;
            /* a coarse 12×10 grid of blocks whose brightness the seed picks:
             * what a dHash sees; two seeds differ in about half its bits */
            unsigned cell = (unsigned)(x * 12 / w) * 31u + (unsigned)(y * 10 / h) * 17u;
            unsigned r = (cell + 1) * 2654435761u ^ (seed + 1) * 40503u;
            r ^= r >> 13, r *= 2246822519u, r ^= r >> 16;
            int v = base + (int)(r % 101) - 50;
            p[0] = (unsigned char)v;
            p[1] = (unsigned char)(v + (int)(seed % 11));
            p[2] = (unsigned char)(v - (int)(seed % 13));
            if (alpha)
                p[3] = 255;
        }
    VipsImage *im = vips_image_new_from_memory_copy(px, (size_t)w * h * bands, w, h, bands,
                                                    VIPS_FORMAT_UCHAR);
    free(px);
    if (im)
        im->Type = VIPS_INTERPRETATION_sRGB;
    return im;
}

static int make(int argc, char **argv)
{
    if (argc < 5)
        return 2;
    const char *out = argv[2], *date = NULL, *offset = NULL;
    int w = atoi(argv[3]), h = atoi(argv[4]), orient = 0, alpha = 0;
    unsigned seed = 1;
    for (int i = 5; i < argc; i++) {
        if (!strcmp(argv[i], "--seed") && i + 1 < argc)
            seed = (unsigned)strtoul(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--orientation") && i + 1 < argc)
            orient = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--date") && i + 1 < argc)
            date = argv[++i];
        else if (!strcmp(argv[i], "--offset") && i + 1 < argc)
            offset = argv[++i];
        else if (!strcmp(argv[i], "--alpha"))
            alpha = 1;
        else
            return 2;
    }
    VipsImage *im = picture(w, h, seed, alpha);
    if (!im)
        return 1;
    if (orient)
        vips_image_set_int(im, "orientation", orient);
    if (date)
        vips_image_set_string(im, "exif-ifd2-DateTimeOriginal", date);
    if (offset)
        vips_image_set_string(im, "exif-ifd2-OffsetTimeOriginal", offset);
    const char *dot = strrchr(out, '.');
    int heif = dot && (!strcmp(dot, ".heic") || !strcmp(dot, ".heif"));
    int rc = vips_image_write_to_file(im, out, NULL) ? (heif ? 77 : 1) : 0;
    if (rc)
        fprintf(stderr, "mkphoto: cannot write %s: %s\n", out, vips_error_buffer());
    g_object_unref(im);
    return rc;
}

static double mean_of(VipsImage *im, int left, int top, int width, int height)
{
    VipsImage *c = NULL;
    double m = -1;
    if (!vips_crop(im, &c, left, top, width, height, NULL))
        vips_avg(c, &m, NULL);
    if (c)
        g_object_unref(c);
    return m;
}

static int info(const char *path)
{
    VipsImage *im = vips_image_new_from_file(path, NULL);
    if (!im) {
        fprintf(stderr, "mkphoto: %s\n", vips_error_buffer());
        return 1;
    }
    int w = vips_image_get_width(im), h = vips_image_get_height(im);
    int meta = vips_image_get_typeof(im, VIPS_META_EXIF_NAME) ||
               vips_image_get_typeof(im, VIPS_META_XMP_NAME) ||
               vips_image_get_typeof(im, VIPS_META_IPTC_NAME) ||
               vips_image_get_typeof(im, VIPS_META_ICC_NAME);
    printf("%d %d %.0f %.0f %.0f %.0f %d\n", w, h, mean_of(im, 0, 0, w, h / 2),
           mean_of(im, 0, h / 2, w, h - h / 2), mean_of(im, 0, 0, w / 2, h),
           mean_of(im, w / 2, 0, w - w / 2, h), meta ? 1 : 0);
    g_object_unref(im);
    return 0;
}

static int dhash(const char *path)
{
    gchar *buf = NULL;
    gsize len = 0;
    uint64_t h = 0;
    if (!g_file_get_contents(path, &buf, &len, NULL))
        return 1;
    int rc = photo_dhash((const uint8_t *)buf, len, &h) == WM_OK ? 0 : 1;
    g_free(buf);
    if (rc == 0)
        printf("%016" PRIx64 "\n", h);
    return rc;
}

int main(int argc, char **argv)
{
    if (VIPS_INIT(argv[0]))
        return 1;
    int rc = 2;
    if (argc >= 2 && !strcmp(argv[1], "make"))
        rc = make(argc, argv);
    else if (argc == 3 && !strcmp(argv[1], "info"))
        rc = info(argv[2]);
    else if (argc == 3 && !strcmp(argv[1], "dhash"))
        rc = dhash(argv[2]);
    if (rc == 2)
        fprintf(stderr, "usage: mkphoto make OUT W H [--seed N] [--orientation N] [--date D] "
                        "[--offset +HH:MM] [--alpha] | info FILE | dhash FILE\n");
    return rc;
}
