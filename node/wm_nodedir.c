/* SPDX-License-Identifier: MIT */
/* wm_nodedir — the node directory's files, keys, guard and lock; see
 * wm_nodedir.h. */
#include "wm_i18n.h"
#include "wm_nodedir.h"
#include "wm_store.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#define KEY_EXT ".key"
#define PUB_EXT ".pub"
#define GUARD_EXT ".state"      /* beside the signing key */
#define LOCK_NAME "wmsyncd.lock" /* in the data directory */

static WM_MUST_CHECK wm_err_t fmt_path(char *out, size_t cap, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static WM_MUST_CHECK wm_err_t fmt_path(char *out, size_t cap, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(out, cap, fmt, ap);
    va_end(ap);
    return n >= 0 && (size_t)n < cap ? WM_OK : WM_ETOOBIG;
}

wm_err_t wm_nodedir_pub_path(const char *key_path, char *out, size_t cap)
{
    size_t n = strlen(key_path), k = strlen(KEY_EXT);
    if (n > k && strcmp(key_path + n - k, KEY_EXT) == 0)
        return fmt_path(out, cap, "%.*s" PUB_EXT, (int)(n - k), key_path);
    return fmt_path(out, cap, "%s" PUB_EXT, key_path);
}

wm_err_t wm_nodedir_guard_path(const wm_config_t *cfg, char *out, size_t cap)
{
    return fmt_path(out, cap, "%s" GUARD_EXT, cfg->sign_key);
}

wm_err_t wm_nodedir_lock_path(const wm_config_t *cfg, char *out, size_t cap)
{
    return fmt_path(out, cap, "%s/" LOCK_NAME, cfg->data_dir);
}

wm_err_t wm_nodedir_guard_read(const wm_config_t *cfg, wm_guard_t *g)
{
    char path[PATH_MAX];
    wm_err_t err = wm_nodedir_guard_path(cfg, path, sizeof path);
    return err == WM_OK ? wm_guard_read(path, g) : err;
}

wm_err_t wm_nodedir_lock(const wm_config_t *cfg, int *fd, char *why, size_t cap)
{
    char path[PATH_MAX];
    wm_err_t err = WM_OK;
    *fd = -1;
    if (mkdir(cfg->data_dir, WM_STORE_DIR_MODE) != 0 && errno != EEXIST) {
        wm_why(why, cap, "cannot create %s: %s", cfg->data_dir, strerror(errno));
        return WM_EIO;
    }
    if ((err = wm_nodedir_lock_path(cfg, path, sizeof path)) != WM_OK) {
        wm_why(why, cap, "the path of the lock in %s is too long", cfg->data_dir);
        return err;
    }
    *fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (*fd < 0) {
        wm_why(why, cap, "cannot open %s: %s", path, strerror(errno));
        return WM_EIO;
    }
    if (flock(*fd, LOCK_EX | LOCK_NB) != 0) {
        wm_why(why, cap, "another wmsyncd is already running for this node (%s is locked)",
                 path);
        close(*fd);
        *fd = -1;
        return WM_ESTATE;
    }
    return WM_OK;
}

int wm_nodedir_locked(const wm_config_t *cfg)
{
    char path[PATH_MAX];
    if (wm_nodedir_lock_path(cfg, path, sizeof path) != WM_OK)
        return 0;
    int fd = open(path, O_RDWR | O_CLOEXEC);
    if (fd < 0)
        return 0;
    int held = flock(fd, LOCK_EX | LOCK_NB) != 0;
    close(fd);
    return held;
}

wm_err_t wm_nodedir_load_signer(const wm_config_t *cfg, wm_signer_t **out, char *why,
                                size_t cap)
{
    wm_err_t err = wm_signer_load(cfg->sign_key, out);
    if (err != WM_OK)
        wm_why(why, cap, "cannot load signing key %s: %s%s", cfg->sign_key, wm_strerror(err),
                 err == WM_EPERM ? _(" (its mode must be 0600)") : "");
    return err;
}

/* Whether name is a retired key of the key file base (not its .pub). */
static int retired_name(const char *name, const char *base)
{
    size_t b = strlen(base), r = strlen(WM_NODEDIR_RETIRED), n = strlen(name);
    return n > b + r && strncmp(name, base, b) == 0 &&
           strncmp(name + b, WM_NODEDIR_RETIRED, r) == 0 &&
           !(n > strlen(PUB_EXT) && strcmp(name + n - strlen(PUB_EXT), PUB_EXT) == 0);
}

wm_err_t wm_nodedir_retired_signer(const wm_config_t *cfg, const uint8_t pub[static WM_PUB_BYTES],
                                   wm_signer_t **out)
{
    char dir[PATH_MAX], base[PATH_MAX], path[PATH_MAX];
    wm_err_t err = WM_ENOTFOUND;
    *out = NULL;
    if (fmt_path(dir, sizeof dir, "%s", cfg->sign_key) != WM_OK ||
        fmt_path(base, sizeof base, "%s", cfg->sign_key) != WM_OK)
        return WM_EINVAL;
    const char *d = dirname(dir), *b = basename(base);
    DIR *dh = opendir(d);
    if (!dh)
        return WM_EIO;
    struct dirent *e;
    while (err == WM_ENOTFOUND && (e = readdir(dh)) != NULL) {
        wm_signer_t *s = NULL;
        if (!retired_name(e->d_name, b) ||
            fmt_path(path, sizeof path, "%s/%s", d, e->d_name) != WM_OK ||
            wm_signer_load(path, &s) != WM_OK)
            continue;
        if (memcmp(wm_signer_pub(s), pub, WM_PUB_BYTES) == 0) {
            *out = s;
            err = WM_OK;
        } else {
            wm_signer_free(&s);
        }
    }
    closedir(dh);
    return err;
}

wm_err_t wm_nodedir_load_curve(const wm_config_t *cfg, uint8_t *sec,
                               uint8_t pub[static WM_PUB_BYTES], char *why, size_t cap)
{
    wm_err_t err = wm_curve_load(cfg->curve_key, sec, pub);
    if (err != WM_OK)
        wm_why(why, cap, "cannot load transport key %s: %s", cfg->curve_key,
                 wm_strerror(err));
    return err;
}

wm_err_t wm_nodedir_read_pub(const char *key_path, uint8_t pub[static WM_PUB_BYTES])
{
    char path[PATH_MAX], hex[80] = {0};
    wm_err_t err = wm_nodedir_pub_path(key_path, path, sizeof path);
    if (err != WM_OK)
        return err;
    FILE *f = fopen(path, "re");
    if (!f)
        return WM_ENOTFOUND;
    int ok = fscanf(f, "%66s", hex) == 1;
    fclose(f);
    return ok ? wm_unhex(hex, pub, WM_PUB_BYTES) : WM_EDECODE;
}

wm_err_t wm_nodedir_write_pub(const char *key_path, const uint8_t pub[static WM_PUB_BYTES])
{
    char path[PATH_MAX], hex[2 * WM_PUB_BYTES + 1];
    wm_err_t err = wm_nodedir_pub_path(key_path, path, sizeof path);
    if (err != WM_OK)
        return err;
    FILE *f = fopen(path, "wxe");
    if (!f)
        return errno == EEXIST ? WM_EEXIST : WM_EIO;
    int ok = fprintf(f, "%s\n", wm_hex(pub, WM_PUB_BYTES, hex)) > 0;
    return fclose(f) == 0 && ok ? WM_OK : WM_EIO;
}

wm_err_t wm_nodedir_create(const char *dir, wm_role_t role, const char *id, const char *name,
                           const char *listen, const char *upstream, const char *upstream_key,
                           char *conf, size_t cap, char *why, size_t whycap)
{
    char keys[PATH_MAX], sk[PATH_MAX], ck[PATH_MAX];
    wm_signer_t *signer = NULL;
    uint8_t cpk[WM_PUB_BYTES];
    wm_err_t err = fmt_path(conf, cap, "%s/" WM_CONF_NAME, dir);
    if (err == WM_OK)
        err = fmt_path(keys, sizeof keys, "%s/" WM_NODEDIR_KEYS, dir);
    if (err == WM_OK)
        err = fmt_path(sk, sizeof sk, "%s/" WM_NODEDIR_SIGN_KEY, dir);
    if (err == WM_OK)
        err = fmt_path(ck, sizeof ck, "%s/" WM_NODEDIR_CURVE_KEY, dir);
    if (err != WM_OK) {
        wm_why(why, whycap, "the path %s is too long", dir);
        goto out;
    }
    if (access(conf, F_OK) == 0 || access(sk, F_OK) == 0 || access(ck, F_OK) == 0) {
        wm_why(why, whycap, "%s already holds a node; refusing to overwrite its config or keys",
                 dir);
        err = WM_EEXIST;
        goto out;
    }
    if ((mkdir(dir, WM_NODEDIR_MODE) != 0 && errno != EEXIST) ||
        (mkdir(keys, WM_NODEDIR_KEYS_MODE) != 0 && errno != EEXIST)) {
        wm_why(why, whycap, "cannot create %s: %s", keys, strerror(errno));
        err = WM_EIO;
        goto out;
    }
    err = wm_signer_generate(&signer);
    if (err == WM_OK)
        err = wm_signer_save(signer, sk);
    if (err == WM_OK)
        err = wm_nodedir_write_pub(sk, wm_signer_pub(signer));
    if (err == WM_OK)
        err = wm_curve_generate(ck, cpk);
    if (err == WM_OK)
        err = wm_nodedir_write_pub(ck, cpk);
    if (err == WM_OK)
        err = wm_config_write(conf, role, id, name, listen, upstream, upstream_key);
    if (err != WM_OK)
        wm_why(why, whycap, "cannot write the node directory %s: %s", dir, wm_strerror(err));
out:
    wm_signer_free(&signer);
    return err;
}
