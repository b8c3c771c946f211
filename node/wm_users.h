/* SPDX-License-Identifier: MIT */
/*
 * wm_users — the accounts of a node's web console (wmweb): the file
 * DIR/web-users ([web] users in wmsync.conf), one account per line:
 *
 *     NAME ROLE HASH
 *
 * NAME 1–32 bytes of [a-z0-9_.-], starting with a letter or digit; ROLE
 * viewer | operator | admin; HASH the Argon2id string of wm_pwhash (the
 * password itself is never stored or sent to the daemon). Lines starting
 * with '#' and empty lines are ignored.
 *
 * Who writes it: only the daemon, on a control request (`wmctl user …`, or
 * wmweb for an admin), replacing it whole (a temporary file, fsync,
 * rename), mode 0640, so the daemon's group (wmsync, which the web user
 * belongs to) reads it and nobody else. Readers load it whole and reload
 * it when its identity (inode, size, mtime) changes.
 *
 * Roles: a viewer reads; an operator also records and voids; an admin
 * also manages accounts and publishes (docs/operations.md).
 *
 * No state; thread-safe on distinct wm_users_t.
 */
#ifndef WM_USERS_H
#define WM_USERS_H

#include <stddef.h>
#include <sys/types.h>
#include <time.h>

#include "wm_crypto.h"
#include "wm_err.h"

#define WM_USER_NAME_MAX 32       /* bytes in an account name */
#define WM_USERS_MAX 1000         /* accounts of one node: far above a town's staff */

typedef enum { WM_ROLE_VIEWER = 1, WM_ROLE_OPERATOR, WM_ROLE_ADMIN } wm_user_role_t;

typedef struct {
    char name[WM_USER_NAME_MAX + 1];
    wm_user_role_t role;
    char hash[WM_PWHASH_STR_MAX];
} wm_user_t;

typedef struct {
    wm_user_t *v;
    size_t n;
    /* the file's identity when it was read (all 0: there was no file) */
    dev_t dev;
    ino_t ino;
    off_t size;
    struct timespec mtime;
} wm_users_t;

/* "viewer", "operator", "admin"; NULL for anything else. */
const char *wm_user_role_name(wm_user_role_t r);
/* A role by name; 0 if unknown. */
wm_user_role_t wm_user_role_parse(const char *s);
/* Nonzero if name is a well-formed account name. */
int wm_user_name_valid(const char *name);

/* Reads path into *u (freed with wm_users_free). A missing file is no
 * accounts (WM_OK). WM_EDECODE names the line at fault in why; WM_EIO
 * (or WM_EPERM) if it cannot be read. */
WM_MUST_CHECK wm_err_t wm_users_load(const char *path, wm_users_t *u, char *why, size_t cap);
/* Nonzero if the file at path is not the one u was read from (or cannot
 * be looked at). */
int wm_users_changed(const char *path, const wm_users_t *u);
void wm_users_free(wm_users_t *u);
/* The account named name, or NULL. Valid until u changes. */
const wm_user_t *wm_users_find(const wm_users_t *u, const char *name);

typedef enum { WM_USERS_ADD = 1, WM_USERS_PASSWD, WM_USERS_DEL } wm_users_op_t;

/* Changes the file at path (the daemon's job): adds name with role and
 * hash (WM_EEXIST if it exists), sets its hash (PASSWD; role ignored), or
 * deletes it (DEL); WM_ENOTFOUND if there is no such account to change.
 * Bad name, role or hash: WM_EINVAL; WM_ETOOBIG past WM_USERS_MAX; WM_EIO
 * if the file cannot be written (nothing changed then). why says what, for
 * people. */
WM_MUST_CHECK wm_err_t wm_users_change(const char *path, wm_users_op_t op, const char *name,
                                       wm_user_role_t role, const char *hash, char *why,
                                       size_t cap);

#endif
