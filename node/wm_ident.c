/* SPDX-License-Identifier: MIT */
/* wm_ident — identity lines and the child's pin of its parent; see wm_ident.h. */
#include "wm_ident.h"

#include "wm_i18n.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define ID_MAGIC "wmsync-id"
#define ID_FROM "from="

/* The decimal epoch in text, 1 … UINT32_MAX, nothing else. */
static int parse_epoch(const char *text, uint32_t *out)
{
    char *end = NULL;
    if (text[0] < '0' || text[0] > '9')
        return -1;
    errno = 0;
    unsigned long long v = strtoull(text, &end, 10);
    if (errno || *end || v < 1 || v > UINT32_MAX)
        return -1;
    *out = (uint32_t)v;
    return 0;
}

/* The next space-separated field of the line at *p (one space ends it);
 * NULL at the end of the line. */
static char *next_field(char **p)
{
    char *f = *p;
    if (!f || !*f)
        return NULL;
    char *sp = strchr(f, ' ');
    if (sp) {
        *sp = 0;
        *p = sp + 1;
    } else {
        *p = f + strlen(f);
    }
    return f;
}

static int copy(char *dst, size_t cap, const char *src)
{
    size_t n = strlen(src);
    if (n >= cap)
        return -1;
    memcpy(dst, src, n + 1);
    return 0;
}

/* The JSON form: id, sign_pub and curve_pub required; name, role (default
 * station) and from_epoch optional. */
static int parse_json(const char *line, wm_ident_t *out)
{
    json_t *j = json_loads(line, 0, NULL);
    const char *a = NULL, *b = NULL, *c = NULL, *d = NULL, *e = NULL;
    json_int_t from = 0;
    int rc = -1;
    if (!j || json_unpack(j, "{s:s, s?s, s?s, s:s, s:s, s?I}", "id", &a, "name", &b, "role", &c,
                          "sign_pub", &d, "curve_pub", &e, "from_epoch", &from) != 0 ||
        from < 0 || from > (json_int_t)UINT32_MAX)
        goto out;
    if (copy(out->node, sizeof out->node, a) || copy(out->name, sizeof out->name, b ? b : "") ||
        copy(out->role, sizeof out->role, c ? c : "station") ||
        wm_unhex(d, out->sign_pub, WM_PUB_BYTES) != WM_OK ||
        wm_unhex(e, out->curve_pub, WM_PUB_BYTES) != WM_OK)
        goto out;
    out->from_epoch = (uint32_t)from;
    rc = 0;
out:
    json_decref(j);
    return rc;
}

int wm_ident_parse(char *line, wm_ident_t *out)
{
    memset(out, 0, sizeof *out);
    while (*line == ' ' || *line == '\t')
        line++;
    line[strcspn(line, "\r\n")] = 0;
    if (line[0] == '{')
        return parse_json(line, out);
    char *p = line;
    char *magic = next_field(&p), *ver = next_field(&p), *role = next_field(&p),
         *node = next_field(&p), *sh = next_field(&p), *ch = next_field(&p);
    if (!magic || strcmp(magic, ID_MAGIC) != 0 || !ver || strcmp(ver, "1") != 0 || !ch)
        return -1;
    if (strncmp(p, ID_FROM, strlen(ID_FROM)) == 0) {
        char *tok = next_field(&p);
        if (parse_epoch(tok + strlen(ID_FROM), &out->from_epoch) != 0)
            return -1;
    }
    if (copy(out->role, sizeof out->role, role) || copy(out->node, sizeof out->node, node) ||
        copy(out->name, sizeof out->name, p) ||
        wm_unhex(sh, out->sign_pub, WM_PUB_BYTES) != WM_OK ||
        wm_unhex(ch, out->curve_pub, WM_PUB_BYTES) != WM_OK)
        return -1;
    return 0;
}

wm_err_t wm_ident_read(const char *path, wm_ident_t *out, char *why, size_t cap)
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "re");
    char *line = NULL;
    wm_err_t err = WM_OK;
    if (!f) {
        err = errno == ENOENT ? WM_ENOTFOUND : WM_EIO;
        wm_why(why, cap, "cannot open %s: %s", path, strerror(errno));
        goto out;
    }
    if (!(line = malloc(WM_IDENT_LINE_MAX))) {
        err = WM_ENOMEM;
        goto out;
    }
    if (!fgets(line, WM_IDENT_LINE_MAX, f)) {
        err = WM_EDECODE;
        wm_why(why, cap, "%s is empty", path);
    } else if (!strchr(line, '\n') && strlen(line) == WM_IDENT_LINE_MAX - 1) {
        err = WM_ETOOBIG;
        wm_why(why, cap, "the identity line in %s is longer than %d bytes", path,
               WM_IDENT_LINE_MAX - 1);
    } else if (wm_ident_parse(line, out) != 0) {
        err = WM_EDECODE;
        wm_why(why, cap, "%s does not hold an identity line (wmsync-id 1 ROLE ID SIGN_PUB "
                         "CURVE_PUB NAME) or its --json form", path);
    }
out:
    if (f && f != stdin)
        fclose(f);
    free(line);
    return err;
}

wm_err_t wm_ident_pin_path(const wm_config_t *cfg, char *out, size_t cap)
{
    int n = snprintf(out, cap, "%s/%s", cfg->dir, WM_IDENT_PIN_FILE);
    return n < 0 || (size_t)n >= cap ? WM_ETOOBIG : WM_OK;
}

/* A pin names an aggregator: a station has no log to send down. */
static WM_MUST_CHECK wm_err_t check_pin(const wm_ident_t *id, const char *path, char *why,
                                        size_t cap)
{
    wm_role_t role = wm_role_parse(id->role);
    if (!role || role == WM_ROLE_STATION || wm_validate_id(id->node) != WM_OK) {
        wm_why(why, cap, "%s: the parent pinned must be an aggregator (town, county, city or "
                         "province) with a valid id, not %s \"%s\"", path, id->role, id->node);
        return WM_EDECODE;
    }
    return WM_OK;
}

wm_err_t wm_ident_pin_read(const wm_config_t *cfg, wm_ident_t *out, char *why, size_t cap)
{
    char path[PATH_MAX];
    wm_err_t err = wm_ident_pin_path(cfg, path, sizeof path);
    if (err == WM_OK)
        err = wm_ident_read(path, out, why, cap);
    if (err == WM_OK)
        err = check_pin(out, path, why, cap);
    return err;
}

/* Writes the identity's line to fd. */
static int write_line(int fd, const wm_ident_t *id)
{
    char sh[2 * WM_PUB_BYTES + 1], ch[2 * WM_PUB_BYTES + 1], from[24] = "";
    if (id->from_epoch > 1 || strncmp(id->name, ID_FROM, strlen(ID_FROM)) == 0)
        snprintf(from, sizeof from, ID_FROM "%u ", id->from_epoch ? id->from_epoch : 1u);
    return dprintf(fd, ID_MAGIC " 1 %s %s %s %s %s%s\n", id->role, id->node,
                   wm_hex(id->sign_pub, WM_PUB_BYTES, sh), wm_hex(id->curve_pub, WM_PUB_BYTES, ch),
                   from, id->name) > 0 ? 0 : -1;
}

wm_err_t wm_ident_pin_write(const char *dir, const wm_ident_t *out, char *why, size_t cap)
{
    char path[PATH_MAX], tmp[PATH_MAX + 8];
    int fd = -1;
    wm_err_t err = check_pin(out, "the identity line", why, cap);
    if (err != WM_OK)
        return err;
    int n = snprintf(path, sizeof path, "%s/%s", dir, WM_IDENT_PIN_FILE);
    if (n < 0 || (size_t)n >= sizeof path || snprintf(tmp, sizeof tmp, "%s.tmp", path) < 0)
        return WM_ETOOBIG;
    (void)unlink(tmp); /* a leftover of an interrupted pin */
    fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644);
    int ok = fd >= 0 && write_line(fd, out) == 0 && fsync(fd) == 0;
    int saved = errno;
    if (fd >= 0 && close(fd) != 0 && ok)
        ok = 0, saved = errno;
    if (ok && rename(tmp, path) != 0)
        ok = 0, saved = errno;
    if (!ok) {
        wm_why(why, cap, "cannot write %s: %s", path, strerror(saved));
        if (fd >= 0)
            (void)unlink(tmp);
        return WM_EIO;
    }
    return WM_OK;
}
