/* SPDX-License-Identifier: MIT */
/*
 * wm_opts — a list of named values, "--name value" and "--flag" on wmctl's
 * command line or the keys of a JSON object posted to wmweb, read by the
 * code both share (wm_recargs). Names are without the leading "--"; a flag
 * has a NULL value. Each lookup marks what it read, so the caller can name
 * the first entry nobody asked for. The list borrows its strings: they
 * must outlive it. No I/O; a list belongs to one thread.
 */
#ifndef WM_OPTS_H
#define WM_OPTS_H

/* The most entries in one list (wmctl's options, a record's JSON keys). */
#define WM_OPTS_MAX 64

typedef struct {
    const char *name; /* without the leading "--" */
    const char *val;  /* NULL for a flag */
    int used;
} wm_opt_t;

typedef struct {
    wm_opt_t o[WM_OPTS_MAX];
    int n;
} wm_opts_t;

/* Appends an entry; -1 if the list is full, else 0. */
int wm_opts_add(wm_opts_t *opts, const char *name, const char *val);
/* The value of name (marks it used), or NULL; the last one wins. */
const char *wm_opt(wm_opts_t *opts, const char *name);
/* Nonzero if flag name was given (marks it used). */
int wm_flag(wm_opts_t *opts, const char *name);
/* Values of a repeatable entry, in order; returns how many there are
 * (at most cap are stored in out). */
int wm_opt_all(wm_opts_t *opts, const char *name, const char **out, int cap);
/* The first entry nobody used, or NULL. */
const wm_opt_t *wm_opts_unused(const wm_opts_t *opts);

#endif
