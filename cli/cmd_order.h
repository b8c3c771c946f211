/* SPDX-License-Identifier: MIT */
/*
 * cmd_order.h — what the files of wmctl need / order / notice share
 * (cmd_order.c writes, cmd_orderstep.c builds the steps on an order,
 * cmd_orderlist.c lists, resident.c keeps the resident table). Internal
 * to wmctl.
 */
#ifndef CMD_ORDER_H
#define CMD_ORDER_H

#include <stdint.h>

#include "wm_orders.h"
#include "wmctl.h"

#define WMCTL_RESIDENT_REF_LEN 32 /* hex digits of a resident's random reference */

/* An order or need, as its id names it. */
typedef struct {
    char log[WM_ID_MAX + 1];
    uint32_t epoch;
    uint64_t seq;
} wmctl_ref_t;

/* The body messages a step may fill (one of them is used). */
typedef struct {
    Wm__OrderAccept accept;
    Wm__OrderDone done;
    Wm__Rating rating;
    Wm__OrderCancel cancel;
} wmctl_step_body_t;

/* A step on an order: "accept", "done", "rate", "cancel". build fills r
 * (its body in b) from the options; WMCTL_OK or WMCTL_USAGE after saying
 * which option is wrong. */
typedef struct {
    const char *name;
    int (*build)(wmctl_opts_t *o, const wmctl_ref_t *id, uint32_t date, Wm__Record *r,
                 wmctl_step_body_t *b);
} wmctl_step_t;

/* The step named, or NULL. */
const wmctl_step_t *wmctl_order_step(const char *name);

/* The listings (argv after "need list" etc.). */
int wmctl_need_list(wmctl_t *w, int argc, char **argv);
int wmctl_order_list(wmctl_t *w, int argc, char **argv);
int wmctl_notice_list(wmctl_t *w, int argc, char **argv);

/* Before `order accept ID` (done 0) or `order done ID` (done 1): when ID
 * is an order of the pinned parent and its log is held here (feature
 * "down"), the order must be in it, not cancelled, addressed to this node
 * or open, not taken by another, and (done) accepted by this node; else it
 * says why (naming --id) and returns WMCTL_USAGE. WMCTL_OK when the step
 * may be taken or there is nothing to check it against. */
int wmctl_order_check(wmctl_t *w, const wmctl_ref_t *id, int done);

/* Keeps a resident's name and phone in the station's local table (the
 * file residents.tsv in the node directory, mode 0600, never replicated)
 * under a new random reference, written into ref (hex, NUL-terminated),
 * durably before the need that names it is recorded. Either may be NULL.
 * WMCTL_OK, or a WMCTL_ code after saying why. */
int wmctl_resident_keep(wmctl_t *w, const char *name, const char *phone, uint32_t date,
                        char ref[WMCTL_RESIDENT_REF_LEN + 1]);

#endif
