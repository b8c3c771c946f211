/* SPDX-License-Identifier: MIT */
/*
 * wm_recargs — the one table that turns named values into a record body:
 * `wmctl record KIND --flag value …` and wmweb's POST /api/v1/records
 * (whose JSON keys are these flag names in snake_case) both build their
 * record here, then check it with wm_validate_body, so the console and
 * the CLI accept and refuse exactly the same records, naming the same
 * field with the same sentence.
 *
 * A rejection fills a wm_reject_t: `field` is the flag at fault (without
 * "--"), `why` an English sentence (wmctl prints it; wmweb translates it
 * through its message table, web/web_msg.c).
 *
 * No I/O; thread-safe (the body lives in the caller's wm_recbody_t).
 */
#ifndef WM_RECARGS_H
#define WM_RECARGS_H

#include "wm_err.h"
#include "wm_opts.h"
#include "wm_record.h"
#include "wm_validate.h"

/* A record body and everything it points to, owned by the caller; the
 * strings are borrowed from the wm_opts_t it was built from. */
typedef struct {
    wm_record_t rec; /* body only: the daemon writes the header */
    Wm__Activity activity;
    Wm__Publicity publicity;
    Wm__Volunteers volunteers;
    Wm__Recruitment recruitment;
    Wm__Team team;
    Wm__Funding funding;
    Wm__SiteChecklist site;
    Wm__Plan plan;
    Wm__PlanDone plan_done;
    Wm__Void void_;
    const char *tags[WM_TAGS_MAX];
} wm_recbody_t;

/* One kind as `wmctl record` names it ("plan-done"), its flags for usage
 * lines, and the flags that take no value (NULL-terminated). */
typedef struct {
    const char *kind;
    const char *usage;
    const char *const *bool_flags;
} wm_recargs_kind_t;

/* The kinds, in wmctl's order; *n is set to their number. Static data. */
const wm_recargs_kind_t *wm_recargs_kinds(size_t *n);
/* The kind named name ("plan-done"; "plan_done" too), or NULL. */
const wm_recargs_kind_t *wm_recargs_kind(const char *name);

/* Builds the body of kind k from opts into *b (initialised here). Marks
 * every entry it read as used: an entry left unused is unknown to kind k
 * (wm_opts_unused). WM_OK, or WM_EINVAL with *rej naming the flag. The
 * content rules are not checked here: call wm_validate_body(&b->rec, …)
 * after checking for unused entries, as both callers do. */
WM_MUST_CHECK wm_err_t wm_recargs_build(const wm_recargs_kind_t *k, wm_opts_t *opts,
                                        wm_recbody_t *b, wm_reject_t *rej);

#endif
