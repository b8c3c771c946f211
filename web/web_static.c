/* SPDX-License-Identifier: MIT */
/*
 * web_static — the console's files, only from the asset directory ([web]
 * assets, or wmweb --assets): a path is served only if every segment is a
 * plain name (no "..", no ".", no hidden file, no backslash, no empty
 * segment) and the file, resolved with every link followed, still lies
 * inside the asset directory. One exception, by name: /vendor/chart.js is
 * Debian's Chart.js (libjs-chart.js), never fetched from the internet.
 * "/" is index.html; a path naming no file is 404.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "web.h"

/* Where Debian's libjs-chart.js puts its UMD build; WMWEB_CHARTJS overrides
 * it (tests on machines without the package). */
#define WEB_CHARTJS "/usr/share/javascript/chart.js/chart.min.js"
#define WEB_CHARTJS_URL "/vendor/chart.js"

static const struct {
    const char *ext, *type;
} types[] = {
    {".html", "text/html; charset=utf-8"},
    {".css", "text/css; charset=utf-8"},
    {".js", "text/javascript; charset=utf-8"},
    {".mjs", "text/javascript; charset=utf-8"},
    {".json", "application/json; charset=utf-8"},
    {".svg", "image/svg+xml"},
    {".png", "image/png"},
    {".jpg", "image/jpeg"},
    {".ico", "image/x-icon"},
    {".woff2", "font/woff2"},
    {".txt", "text/plain; charset=utf-8"},
};

static const char *type_of(const char *path)
{
    const char *dot = strrchr(path, '.');
    for (size_t i = 0; dot && i < sizeof types / sizeof types[0]; i++)
        if (strcmp(dot, types[i].ext) == 0)
            return types[i].type;
    return "application/octet-stream";
}

/* Nonzero if path is "/" followed by plain segments. */
static int plain_path(const char *path)
{
    if (path[0] != '/' || strlen(path) > 512 || strchr(path, '\\'))
        return 0;
    const char *seg = path + 1;
    if (!*seg)
        return 1;
    for (;;) {
        size_t n = strcspn(seg, "/");
        if (n == 0 || seg[0] == '.')
            return 0;
        for (size_t i = 0; i < n; i++)
            if ((unsigned char)seg[i] < 0x20 || seg[i] == 0x7f)
                return 0;
        if (!seg[n])
            return 1;
        seg += n + 1;
    }
}

/* Opens the regular file at full (resolved inside root unless root is
 * NULL) into r. 0, or -1 if there is none to serve. */
static int open_inside(const char *root, const char *full, web_resp_t *r)
{
    char real[PATH_MAX];
    if (!realpath(full, real))
        return -1;
    size_t rl = root ? strlen(root) : 0;
    if (root && (strncmp(real, root, rl) != 0 || real[rl] != '/'))
        return -1; /* a link out of the asset directory */
    int fd = open(real, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    r->fd = fd;
    r->fd_size = (uint64_t)st.st_size;
    r->status = 200;
    r->ctype = type_of(real);
    return 0;
}

void web_static(web_req_t *q, web_resp_t *r, const char *path)
{
    char full[PATH_MAX + 600];
    if (strcmp(path, WEB_CHARTJS_URL) == 0) {
        const char *cj = getenv("WMWEB_CHARTJS");
        if (open_inside(NULL, cj && cj[0] ? cj : WEB_CHARTJS, r) == 0) {
            r->ctype = "text/javascript; charset=utf-8";
            return;
        }
        web_error(q, r, 404, "not_found", NULL, "no such file");
        return;
    }
    if (!plain_path(path)) {
        web_log(q, "GET %s refused: not a plain path", path);
        web_error(q, r, 400, "bad_path", NULL, "not a plain path");
        return;
    }
    snprintf(full, sizeof full, "%s%s", q->w->assets,
             strcmp(path, "/") == 0 ? "/index.html" : path);
    if (open_inside(q->w->assets, full, r) != 0)
        web_error(q, r, 404, "not_found", NULL, "no such file");
}
