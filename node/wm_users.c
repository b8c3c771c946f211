/* SPDX-License-Identifier: MIT */
/* wm_users — the web console's accounts file; see wm_users.h. */
#include "wm_users.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *const role_names[] = {[WM_ROLE_VIEWER] = "viewer",
                                         [WM_ROLE_OPERATOR] = "operator",
                                         [WM_ROLE_ADMIN] = "admin"};

const char *wm_user_role_name(wm_user_role_t r)
{
    return r >= WM_ROLE_VIEWER && r <= WM_ROLE_ADMIN ? role_names[r] : NULL;
}

wm_user_role_t wm_user_role_parse(const char *s)
{
    for (int r = WM_ROLE_VIEWER; r <= WM_ROLE_ADMIN; r++)
        if (strcmp(s, role_names[r]) == 0)
            return (wm_user_role_t)r;
    return 0;
}

int wm_user_name_valid(const char *name)
{
    size_t n = strlen(name);
    if (n == 0 || n > WM_USER_NAME_MAX || strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789_.-") != n)
        return 0;
    return (name[0] >= 'a' && name[0] <= 'z') || (name[0] >= '0' && name[0] <= '9');
}

void wm_users_free(wm_users_t *u)
{
    if (!u)
        return;
    if (u->v)
        memset(u->v, 0, u->n * sizeof *u->v);
    free(u->v);
    memset(u, 0, sizeof *u);
}

const wm_user_t *wm_users_find(const wm_users_t *u, const char *name)
{
    for (size_t i = 0; i < u->n; i++)
        if (strcmp(u->v[i].name, name) == 0)
            return &u->v[i];
    return NULL;
}

/* One "NAME ROLE HASH" line into *x; 0, or -1 if it is not one. */
static int parse_line(char *line, wm_user_t *x)
{
    char *save = NULL, *name = strtok_r(line, " \t", &save), *role = strtok_r(NULL, " \t", &save),
         *hash = strtok_r(NULL, " \t", &save);
    if (!name || !role || !hash || strtok_r(NULL, " \t", &save) || !wm_user_name_valid(name) ||
        !(x->role = wm_user_role_parse(role)) || !wm_pwhash_valid(hash))
        return -1;
    snprintf(x->name, sizeof x->name, "%s", name);
    snprintf(x->hash, sizeof x->hash, "%s", hash);
    return 0;
}

static wm_err_t read_lines(FILE *f, const char *path, wm_users_t *u, char *why, size_t cap)
{
    char line[512];
    size_t cap_v = 0;
    for (unsigned no = 1; fgets(line, sizeof line, f); no++) {
        line[strcspn(line, "\r\n")] = 0;
        if (!line[0] || line[0] == '#')
            continue;
        if (u->n == cap_v) {
            size_t nc = cap_v ? cap_v * 2 : 16;
            wm_user_t *nv = nc <= WM_USERS_MAX * 2 ? realloc(u->v, nc * sizeof *nv) : NULL;
            if (!nv)
                return WM_ENOMEM;
            u->v = nv, cap_v = nc;
        }
        wm_user_t *x = &u->v[u->n];
        if (parse_line(line, x) != 0 || wm_users_find(u, x->name)) {
            snprintf(why, cap, "%s line %u: not an account line \"NAME viewer|operator|admin "
                               "HASH\" (or a second line for one name)", path, no);
            return WM_EDECODE;
        }
        u->n++;
    }
    if (ferror(f)) {
        snprintf(why, cap, "cannot read %s: %s", path, strerror(errno));
        return WM_EIO;
    }
    return WM_OK;
}

wm_err_t wm_users_load(const char *path, wm_users_t *u, char *why, size_t cap)
{
    memset(u, 0, sizeof *u);
    FILE *f = fopen(path, "re");
    if (!f && errno == ENOENT)
        return WM_OK;
    if (!f) {
        wm_err_t err = errno == EACCES ? WM_EPERM : WM_EIO;
        snprintf(why, cap, "cannot open %s: %s", path, strerror(errno));
        return err;
    }
    struct stat st;
    wm_err_t err = WM_OK;
    if (fstat(fileno(f), &st) != 0) {
        snprintf(why, cap, "cannot stat %s: %s", path, strerror(errno));
        err = WM_EIO;
    }
    if (err == WM_OK)
        err = read_lines(f, path, u, why, cap);
    fclose(f);
    if (err != WM_OK) {
        wm_users_free(u);
        return err;
    }
    u->dev = st.st_dev, u->ino = st.st_ino, u->size = st.st_size, u->mtime = st.st_mtim;
    return WM_OK;
}

int wm_users_changed(const char *path, const wm_users_t *u)
{
    struct stat st;
    if (stat(path, &st) != 0)
        return errno != ENOENT || u->ino != 0;
    return st.st_dev != u->dev || st.st_ino != u->ino || st.st_size != u->size ||
           st.st_mtim.tv_sec != u->mtime.tv_sec || st.st_mtim.tv_nsec != u->mtime.tv_nsec;
}

/* Writes u to path whole: PATH.tmp (0640), fsync, rename, fsync of the
 * directory. */
static wm_err_t save(const char *path, const wm_users_t *u, char *why, size_t cap)
{
    char tmp[4200], dir[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash)
        *(slash == dir ? slash + 1 : slash) = 0;
    else
        snprintf(dir, sizeof dir, ".");
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0640);
    FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
    int bad = !f || fchmod(fd, 0640) != 0;
    if (f && !bad) {
        fprintf(f, "# wmweb accounts: NAME ROLE HASH (written by wmsyncd; use wmctl user)\n");
        for (size_t i = 0; i < u->n; i++)
            fprintf(f, "%s %s %s\n", u->v[i].name, wm_user_role_name(u->v[i].role), u->v[i].hash);
        bad = fflush(f) != 0 || fsync(fd) != 0;
    }
    if (f)
        bad |= fclose(f) != 0;
    else if (fd >= 0)
        close(fd);
    if (!bad)
        bad = rename(tmp, path) != 0;
    if (bad) {
        snprintf(why, cap, "cannot write %s: %s", path, strerror(errno));
        unlink(tmp);
        return errno == ENOSPC || errno == EDQUOT ? WM_ENOSPC : WM_EIO;
    }
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        (void)fsync(dfd); /* the rename is done; a failed directory sync loses nothing named */
        close(dfd);
    }
    return WM_OK;
}

static wm_err_t change(wm_users_t *u, wm_users_op_t op, const char *name, wm_user_role_t role,
                       const char *hash, char *why, size_t cap)
{
    wm_user_t *x = (wm_user_t *)wm_users_find(u, name);
    if (op == WM_USERS_ADD) {
        if (x) {
            snprintf(why, cap, "account \"%s\" already exists", name);
            return WM_EEXIST;
        }
        if (u->n >= WM_USERS_MAX) {
            snprintf(why, cap, "at most %d accounts", WM_USERS_MAX);
            return WM_ETOOBIG;
        }
        wm_user_t *nv = realloc(u->v, (u->n + 1) * sizeof *nv);
        if (!nv)
            return WM_ENOMEM;
        u->v = nv;
        x = &u->v[u->n++];
        snprintf(x->name, sizeof x->name, "%s", name);
        x->role = role;
    } else if (!x) {
        snprintf(why, cap, "no account \"%s\"", name);
        return WM_ENOTFOUND;
    }
    if (op == WM_USERS_DEL)
        *x = u->v[--u->n];
    else
        snprintf(x->hash, sizeof x->hash, "%s", hash);
    return WM_OK;
}

wm_err_t wm_users_change(const char *path, wm_users_op_t op, const char *name,
                         wm_user_role_t role, const char *hash, char *why, size_t cap)
{
    wm_users_t u;
    if (!wm_user_name_valid(name)) {
        snprintf(why, cap, "\"%s\" is not an account name (1-%d of a-z 0-9 _ . -, starting with "
                           "a letter or digit)", name, WM_USER_NAME_MAX);
        return WM_EINVAL;
    }
    if ((op == WM_USERS_ADD && !wm_user_role_name(role)) ||
        (op != WM_USERS_DEL && (!hash || !wm_pwhash_valid(hash)))) {
        snprintf(why, cap, "%s", op == WM_USERS_ADD && !wm_user_role_name(role)
                                     ? "role must be viewer, operator or admin"
                                     : "not a password hash");
        return WM_EINVAL;
    }
    wm_err_t err = wm_users_load(path, &u, why, cap);
    if (err == WM_OK)
        err = change(&u, op, name, role, hash, why, cap);
    if (err == WM_OK)
        err = save(path, &u, why, cap);
    wm_users_free(&u);
    return err;
}
