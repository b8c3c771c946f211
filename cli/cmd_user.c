/* SPDX-License-Identifier: MIT */
/*
 * wmctl user — the web console's accounts (node/wm_users.h):
 *
 *   user add NAME --role viewer|operator|admin [--password-stdin]
 *   user passwd NAME [--password-stdin]
 *   user del NAME
 *   user list [--json]
 *
 * The password is read from the terminal (twice, not echoed) or, with
 * --password-stdin, as the first line of standard input; wmctl hashes it
 * (Argon2id, wm_pwhash) and the daemon, the only writer of the accounts
 * file, stores the hash. list reads the file itself (daemon up or down).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "wm_client.h"
#include "wm_crypto.h"
#include "wm_i18n.h"
#include "wm_users.h"
#include "wmctl.h"

#define PASSWORD_MIN 8
#define PASSWORD_MAX 1024

/* One line from f into buf (the line end dropped); 0, or -1 at EOF. */
static int read_line(FILE *f, char *buf, size_t cap)
{
    if (!fgets(buf, (int)cap, f))
        return -1;
    buf[strcspn(buf, "\r\n")] = 0;
    return 0;
}

/* Reads a password from the terminal without echo. */
static int prompt(const char *what, char *buf, size_t cap)
{
    FILE *tty = fopen("/dev/tty", "r+e");
    struct termios old, quiet;
    if (!tty)
        return -1;
    int fd = fileno(tty), echo_off = tcgetattr(fd, &old) == 0;
    if (echo_off) {
        quiet = old;
        quiet.c_lflag &= ~(tcflag_t)ECHO;
        tcsetattr(fd, TCSAFLUSH, &quiet);
    }
    fprintf(tty, "%s: ", what);
    fflush(tty);
    int rc = read_line(tty, buf, cap);
    if (echo_off)
        tcsetattr(fd, TCSAFLUSH, &old);
    fputc('\n', tty);
    fclose(tty);
    return rc;
}

/* The new password, hashed into hash; prints why and returns the exit
 * code on failure. */
static int get_password(int from_stdin, char hash[static WM_PWHASH_STR_MAX])
{
    char *pw = wm_secure_alloc(PASSWORD_MAX + 2), *again = wm_secure_alloc(PASSWORD_MAX + 2);
    int rc = WMCTL_USAGE;
    if (!pw || !again) {
        rc = WMCTL_FAIL;
        goto out;
    }
    if (from_stdin ? read_line(stdin, pw, PASSWORD_MAX + 2)
                   : prompt("new password", pw, PASSWORD_MAX + 2)) {
        if (from_stdin)
            wmctl_err("no password given on standard input");
        else
            wmctl_err("no password given (no terminal: use --password-stdin)");
        goto out;
    }
    if (!from_stdin && (prompt("again", again, PASSWORD_MAX + 2) || strcmp(pw, again) != 0)) {
        wmctl_err("the two passwords differ; nothing changed");
        goto out;
    }
    size_t n = strlen(pw);
    if (n < PASSWORD_MIN || n > PASSWORD_MAX) {
        wmctl_reject("password", "a password must have %d to %d bytes", PASSWORD_MIN,
                     PASSWORD_MAX);
        goto out;
    }
    rc = wm_pwhash(pw, n, hash) == WM_OK ? WMCTL_OK : WMCTL_FAIL;
    if (rc)
        wmctl_err("cannot hash the password: out of memory");
out:
    wm_secure_free(pw);
    wm_secure_free(again);
    return rc;
}

/* Sends one change to the daemon. */
static int change(wmctl_t *w, const char *action, const char *name, const char *role,
                  const char *hash)
{
    Wm__CtlReply *rep = NULL;
    wm_err_t err = wm_client_user(NULL, w->cfg.control, action, name, role, hash, &rep);
    if (err == WM_EPERM)
        err = wmctl_call_denied(w);
    if (err == WM_EPERM) /* said why */
        return WMCTL_FAIL;
    if (err != WM_OK) {
        wmctl_err("the wmsyncd daemon for %s is not running (%s); accounts change through it: "
                  "start it and try again",
                  w->cfg.id, wm_strerror(err));
        return WMCTL_FAIL;
    }
    int rc = WMCTL_OK;
    if (rep->error && rep->error[0]) {
        int usage = strcmp(rep->error, "invalid") == 0;
        if (usage)
            wmctl_reject("user", "%s", rep->message);
        else
            wmctl_err("%s", rep->message);
        rc = usage ? WMCTL_USAGE : WMCTL_FAIL;
    } else {
        printf(_("account %s: %s done\n"), name, action);
    }
    wm_pb_free(&rep);
    return rc;
}

static int list(wmctl_t *w, int json)
{
    wm_users_t u;
    char why[WM_WHY_MAX];
    if (wm_users_load(w->cfg.web_users, &u, why, sizeof why) != WM_OK) {
        wmctl_err("%s", why);
        return WMCTL_FAIL;
    }
    json_t *arr = json ? json_array() : NULL;
    for (size_t i = 0; i < u.n; i++) {
        if (arr)
            json_array_append_new(arr, json_pack("{s:s, s:s}", "name", u.v[i].name, "role",
                                                 wm_user_role_name(u.v[i].role)));
        else
            printf("%-32s %s\n", u.v[i].name, wm_user_role_name(u.v[i].role));
    }
    if (arr) {
        char *s = json_dumps(arr, JSON_COMPACT);
        puts(s ? s : "[]");
        free(s);
        json_decref(arr);
    } else if (u.n == 0) {
        fputs(_("(no accounts: wmctl user add NAME --role admin)\n"), stdout);
    }
    wm_users_free(&u);
    return WMCTL_OK;
}

int cmd_user(wmctl_t *w, int argc, char **argv)
{
    static const char *const flags[] = {"password-stdin", "json", NULL};
    const char *sub = argc > 1 ? argv[1] : "";
    int is_list = strcmp(sub, "list") == 0, takes_name = !is_list;
    if (!is_list && strcmp(sub, "add") && strcmp(sub, "passwd") && strcmp(sub, "del")) {
        wmctl_err("user: add, passwd, del or list (see wmctl help user)");
        return WMCTL_USAGE;
    }
    if (takes_name && (argc < 3 || argv[2][0] == '-')) {
        wmctl_err("user %s: needs an account NAME", sub);
        return WMCTL_USAGE;
    }
    wmctl_opts_t o;
    int skip = takes_name ? 3 : 2;
    int rc = wmctl_opts_parse(&o, argc - skip, argv + skip, flags);
    if (rc)
        return rc;
    int from_stdin = wmctl_flag(&o, "password-stdin"), json = wmctl_flag(&o, "json");
    const char *role = wmctl_opt(&o, "role"), *name = takes_name ? argv[2] : NULL;
    char cmd[32], hash[WM_PWHASH_STR_MAX];
    snprintf(cmd, sizeof cmd, "user %s", sub);
    if ((rc = wmctl_opts_unused(&o, cmd)) || (rc = wmctl_config(w)))
        return rc;
    if (is_list)
        return list(w, json);
    if (!wm_user_name_valid(name)) {
        wmctl_reject("name", "\"%s\" is not an account name (1-%d of a-z 0-9 _ . -, starting "
                     "with a letter or digit)", name, WM_USER_NAME_MAX);
        return WMCTL_USAGE;
    }
    if (strcmp(sub, "add") == 0 && (!role || !wm_user_role_parse(role))) {
        wmctl_reject("role", "role must be viewer, operator or admin");
        return WMCTL_USAGE;
    }
    if (strcmp(sub, "del") == 0)
        return change(w, "del", name, NULL, NULL);
    if ((rc = get_password(from_stdin, hash)))
        return rc;
    return change(w, sub, name, role, hash);
}
