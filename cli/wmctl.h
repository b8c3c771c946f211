/* SPDX-License-Identifier: MIT */
/*
 * wmctl — shared pieces of the admin CLI: the command table, the loaded
 * configuration, read-only access to the node's LMDB environment and calls
 * to the daemon's control socket. Exit codes: 0 success, 1 operational
 * failure (daemon down, verify failed, I/O), 2 rejected input or usage.
 */
#ifndef WMCTL_H
#define WMCTL_H

#include <jansson.h>
#include <stdint.h>
#include <stdio.h>

#include "control.pb-c.h"
#include "outfile.h"
#include "wm_opts.h"
#include "wm_config.h"
#include "wm_store.h"

/* The longest identity line read (wmctl keys, audit --keys): keys, id and
 * a WM_TEXT_MAX name fit. */
#define WMCTL_ID_LINE_MAX 4096

#define WMCTL_OK 0
#define WMCTL_FAIL 1
#define WMCTL_USAGE 2
#define WMCTL_CTL_VERSION 1
#define WMCTL_TIMEOUT_MS 15000

typedef struct {
    const char *conf_path; /* -c, $WMSYNC_CONF or the default */
    wm_config_t cfg;
    int cfg_loaded;
    int lost; /* the daemon vanished while a request was in flight */
} wmctl_t;

typedef struct {
    const char *name;
    int (*fn)(wmctl_t *w, int argc, char **argv); /* argv[0] is the command name */
    const char *usage;
    const char *help;
} wmctl_cmd_t;

int cmd_init(wmctl_t *w, int argc, char **argv);
int cmd_record(wmctl_t *w, int argc, char **argv);
int cmd_log(wmctl_t *w, int argc, char **argv);
int cmd_verify(wmctl_t *w, int argc, char **argv);
int cmd_status(wmctl_t *w, int argc, char **argv);
int cmd_keys(wmctl_t *w, int argc, char **argv);
int cmd_enroll(wmctl_t *w, int argc, char **argv);
int cmd_upstream_id(wmctl_t *w, int argc, char **argv);
int cmd_revoke(wmctl_t *w, int argc, char **argv);
int cmd_bundle(wmctl_t *w, int argc, char **argv);
int cmd_rollup(wmctl_t *w, int argc, char **argv);
int cmd_report(wmctl_t *w, int argc, char **argv);
int cmd_publish(wmctl_t *w, int argc, char **argv);
int cmd_audit(wmctl_t *w, int argc, char **argv);
int cmd_backup(wmctl_t *w, int argc, char **argv);
int cmd_restore(wmctl_t *w, int argc, char **argv);
int cmd_rekey(wmctl_t *w, int argc, char **argv);
int cmd_export(wmctl_t *w, int argc, char **argv);
int cmd_user(wmctl_t *w, int argc, char **argv);
int cmd_need(wmctl_t *w, int argc, char **argv);
int cmd_order(wmctl_t *w, int argc, char **argv);
int cmd_notice(wmctl_t *w, int argc, char **argv);
int cmd_blob(wmctl_t *w, int argc, char **argv);
/* wmctl blob prune [--days N] (cmd_blob_prune.c), from cmd_blob. */
int cmd_blob_prune(wmctl_t *w, int argc, char **argv);
/* wmctl blob fetch HASH … (cmd_blob_fetch.c), from cmd_blob. */
int cmd_blob_fetch(wmctl_t *w, int argc, char **argv);

/* Hands body (checked already) to the daemon, which signs and appends it
 * durably; *epoch and *seq are set to its place in the node's log.
 * WMCTL_OK, or a WMCTL_ code after printing why (nothing, or perhaps
 * something, recorded: the message says which). */
int wmctl_append(wmctl_t *w, Wm__Record *body, uint32_t *epoch, uint64_t *seq);
int cmd_webcert(wmctl_t *w, int argc, char **argv);

/* The rollup of a period as the JSON object of wm_report.h (*out is a new
 * reference). Prints why and returns WMCTL_USAGE / WMCTL_FAIL on failure. */
int wmctl_report_json(wmctl_t *w, const char *period, const char *station, json_t **out);

/* A renderer of that JSON: writes to the file out (replacing an existing
 * one only if force), or stdout if NULL. */
typedef struct {
    const char *name;
    int (*render)(const json_t *j, const char *lang, const char *out, int force);
} wmctl_render_t;
const wmctl_render_t *wmctl_renderer(const char *name);

/* Every file wmctl writes is created through outfile.h. wmctl_out_open
 * begins the file out (stdout if NULL) with mode (less the umask),
 * replacing an existing one only if force; prints why and returns NULL on
 * failure. wmctl_out_close puts it in place (durable) and returns WMCTL_OK,
 * or, if bad (the writer failed) or the commit fails, removes it, prints
 * "cannot write WHAT" or why, and returns WMCTL_FAIL. */
outfile_t *wmctl_out_open(const char *out, mode_t mode, int force);
int wmctl_out_close(outfile_t **o, int bad, const char *what);

/* A progress bar on stderr, only when it is a terminal. what NULL clears
 * the line; total 0 shows a running count. */
void wmctl_progress(const char *what, uint64_t done, uint64_t total);

/* Loads the configuration once; prints why and returns WMCTL_USAGE on
 * failure, WMCTL_OK otherwise. */
int wmctl_config(wmctl_t *w);
/* Opens the node's environment read-only (works with the daemon down) and
 * finds this node's own log. *self is 0 if the log has no records yet.
 * Returns WMCTL_OK, or prints why and returns WMCTL_FAIL. A missing
 * environment is not an error: *store is then NULL. */
int wmctl_open_ro(wmctl_t *w, wm_store_t **store, uint32_t *self);
/* Sends req to the daemon and waits for its reply (*reply freed with
 * wm_pb_free). WM_EDOWN if the daemon is not running. WM_EPERM if this
 * user may not use the control socket: wmctl_call has then printed why
 * (the socket's owner and mode), nothing was sent, and the caller only
 * fails. */
WM_MUST_CHECK wm_err_t wmctl_call(wmctl_t *w, Wm__CtlRequest *req, Wm__CtlReply **reply);
/* After a call refused WM_EPERM: prints why (the socket's owner and mode)
 * and returns WM_EPERM. */
wm_err_t wmctl_call_denied(wmctl_t *w);
/* Prints "wmctl: " + message to stderr, fmt translated (wm_i18n.h). */
void wmctl_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Prints "wmctl: rejected: --FIELD: " + message to stderr, both translated:
 * the form of every rejected input (tests grep for "--FIELD"). */
void wmctl_reject(const char *field, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Prints why a scan of node's log stopped part-way (err from wm_log_scan,
 * end as it filled it): after which record, how many were read, and
 * LMDB's own words from s. What the command printed before is partial. */
void wmctl_scan_failed(wm_store_t *s, const char *node, wm_err_t err, const wm_scan_t *end);

/* s padded with spaces to width display columns (a Chinese character
 * takes two, in any locale: render_width), into buf; s itself if it is
 * wider. */
const char *wmctl_cols(const char *s, int width, char *buf, size_t cap);

/* Simple "--name value" / "--flag" option lists used by the commands
 * (client/wm_opts.h, shared with wmweb). */
typedef wm_opts_t wmctl_opts_t;

/* Parses argv (after the command words) into opts. Names in `flags` take
 * no value. Prints why and returns WMCTL_USAGE on a bad list. */
int wmctl_opts_parse(wmctl_opts_t *opts, int argc, char **argv, const char *const *flags);
/* The value of --name (marks it used), or NULL. */
#define wmctl_opt wm_opt
/* Nonzero if flag --name was given (marks it used). */
#define wmctl_flag wm_flag
/* Values of a repeatable option, in order; returns how many (max cap). */
#define wmctl_opt_all wm_opt_all
/* Prints an error naming the first option nobody used; WMCTL_USAGE, or
 * WMCTL_OK if all were used. */
int wmctl_opts_unused(const wmctl_opts_t *opts, const char *cmd);

#endif
