/* SPDX-License-Identifier: MIT */
/* outfile — output files created beside their target and renamed into
 * place; see outfile.h. */
#include "wm_i18n.h"
#include "outfile.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct outfile {
    char path[PATH_MAX]; /* the target */
    char tmp[PATH_MAX];  /* the temporary file beside it */
    char dir[PATH_MAX];  /* their directory */
    int fd;              /* of tmp; -1 for standard output */
    FILE *f;
    unsigned flags;
};

/* Splits path into its directory ("." if none) and writes the temporary
 * name ".BASE.XXXXXX" there. 0, or -1 if a name is too long. */
static int tmp_name(outfile_t *o)
{
    const char *slash = strrchr(o->path, '/');
    const char *base = slash ? slash + 1 : o->path;
    int n;
    if (!slash)
        n = snprintf(o->dir, sizeof o->dir, ".");
    else if (slash == o->path)
        n = snprintf(o->dir, sizeof o->dir, "/");
    else
        n = snprintf(o->dir, sizeof o->dir, "%.*s", (int)(slash - o->path), o->path);
    if (n < 0 || (size_t)n >= sizeof o->dir || !base[0])
        return -1;
    n = snprintf(o->tmp, sizeof o->tmp, "%s/.%s.XXXXXX", o->dir, base);
    return n < 0 || (size_t)n >= sizeof o->tmp ? -1 : 0;
}

wm_err_t outfile_open(const char *path, mode_t mode, unsigned flags, outfile_t **out, char *why,
                      size_t cap)
{
    wm_err_t err = WM_OK;
    struct stat st;
    outfile_t *o = calloc(1, sizeof *o);
    *out = NULL;
    if (!o) {
        wm_why(why, cap, "out of memory");
        return WM_ENOMEM;
    }
    o->fd = -1;
    o->flags = flags;
    if (!path) {
        o->f = stdout;
        *out = o;
        return WM_OK;
    }
    if (snprintf(o->path, sizeof o->path, "%s", path) >= (int)sizeof o->path || tmp_name(o)) {
        wm_why(why, cap, "%s: the name is too long", path);
        err = WM_EIO;
        goto out;
    }
    /* lstat: a link is judged as itself, never by what it points to. */
    if (lstat(path, &st) == 0) {
        if (S_ISDIR(st.st_mode)) {
            wm_why(why, cap, "%s is a directory; give a file name", path);
            err = WM_EEXIST;
        } else if (!(flags & OUTFILE_FORCE)) {
            wm_why(why, cap, "%s exists%s; nothing was written (add --force to replace it)",
                     path, S_ISLNK(st.st_mode) ? " (a symbolic link)" : "");
            err = WM_EEXIST;
        }
    } else if (errno != ENOENT) {
        wm_why(why, cap, "cannot write %s: %s", path, strerror(errno));
        err = WM_EIO;
    }
    if (err != WM_OK)
        goto out;
    /* mkostemp creates with O_EXCL: a fresh file of ours, never a link. */
    o->fd = mkostemp(o->tmp, O_CLOEXEC);
    if (o->fd < 0) {
        wm_why(why, cap, "cannot create a file in %s: %s", o->dir, strerror(errno));
        err = WM_EIO;
        goto out;
    }
    mode_t um = umask(0);
    umask(um);
    if (fchmod(o->fd, mode & ~um & 0777) != 0) {
        wm_why(why, cap, "cannot set the mode of %s: %s", o->tmp, strerror(errno));
        err = WM_EIO;
        goto out;
    }
    *out = o;
    o = NULL;
out:
    outfile_abort(&o);
    return err;
}

FILE *outfile_stream(outfile_t *o)
{
    if (!o->f)
        o->f = fdopen(o->fd, "wb");
    return o->f;
}

int outfile_fd(outfile_t *o)
{
    return o->fd;
}

const char *outfile_tmp_path(const outfile_t *o)
{
    return o->fd >= 0 ? o->tmp : NULL;
}

/* Moves tmp to path unless path exists. 0, or -1 with errno. */
static int place_new(const outfile_t *o)
{
    if (renameat2(AT_FDCWD, o->tmp, AT_FDCWD, o->path, RENAME_NOREPLACE) == 0)
        return 0;
    if (errno != EINVAL && errno != ENOSYS)
        return -1;
    /* A file system without RENAME_NOREPLACE: a hard link never replaces. */
    if (link(o->tmp, o->path) == 0)
        return unlink(o->tmp) == 0 ? 0 : -1;
    if (errno != EPERM && errno != EOPNOTSUPP)
        return -1;
    /* Nor hard links (FAT on a USB stick): check, then rename. */
    struct stat st;
    if (lstat(o->path, &st) == 0) {
        errno = EEXIST;
        return -1;
    }
    return rename(o->tmp, o->path);
}

wm_err_t outfile_commit(outfile_t **op, char *why, size_t cap)
{
    outfile_t *o = *op;
    wm_err_t err = WM_OK;
    if (o->fd < 0) { /* standard output */
        if (fflush(o->f) != 0) {
            wm_why(why, cap, "cannot write to standard output: %s", strerror(errno));
            err = WM_EIO;
        }
        goto out;
    }
    /* On disk before it gets its name: the file may be carried away next. */
    int bad = o->f ? fflush(o->f) != 0 || ferror(o->f) : 0;
    if (bad || fsync(o->fd) != 0) {
        wm_why(why, cap, "cannot write %s: %s", o->path, strerror(errno));
        err = WM_EIO;
        goto out;
    }
    int rc = o->flags & OUTFILE_FORCE ? rename(o->tmp, o->path) : place_new(o);
    if (rc != 0) {
        err = errno == EEXIST ? WM_EEXIST : WM_EIO;
        if (err == WM_EEXIST)
            wm_why(why, cap, "%s appeared while it was written; nothing replaced (add --force "
                               "to replace it)",
                     o->path);
        else
            wm_why(why, cap, "cannot put %s in place: %s", o->path, strerror(errno));
        goto out;
    }
    o->tmp[0] = 0; /* it is the target now: nothing to remove */
    int dfd = open(o->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        /* The name is durable too; a file system that cannot sync a
         * directory (EINVAL) has nothing more to do. */
        if (fsync(dfd) != 0 && errno != EINVAL) {
            wm_why(why, cap, "cannot sync the directory %s: %s", o->dir, strerror(errno));
            err = WM_EIO;
        }
        close(dfd);
    }
out:
    outfile_abort(op);
    return err;
}

void outfile_abort(outfile_t **op)
{
    outfile_t *o = op ? *op : NULL;
    if (!o)
        return;
    if (o->f && o->f != stdout)
        fclose(o->f); /* closes fd too */
    else if (o->fd >= 0)
        close(o->fd);
    if (o->fd >= 0 && o->tmp[0])
        unlink(o->tmp);
    free(o);
    *op = NULL;
}
