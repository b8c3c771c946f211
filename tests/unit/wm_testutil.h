/* SPDX-License-Identifier: MIT */
/*
 * wm_testutil — small helpers shared by the unit tests: scratch
 * directories, deterministic signers, and builders for record structs.
 * Builders fill caller-owned structs (no allocation) so a test can tweak
 * any field before sealing. Not part of any library that ships.
 */
#ifndef WM_TESTUTIL_H
#define WM_TESTUTIL_H

#include <stddef.h>
#include <stdint.h>

#include "wm_crypto.h"
#include "wm_record.h"

/* A fresh private directory under $TMPDIR (or /tmp); malloc'd path. */
char *tu_mkdtemp(void);
/* Removes dir and everything below it. Accepts NULL. */
void tu_rmrf(const char *dir);

/* A signer whose seed is 32 bytes of `fill` (fails the test on error). */
wm_signer_t *tu_signer(uint8_t fill);

/* A record body kept next to its header so one struct holds a whole
 * record. tu_rec_init sets the header; then call one of the body setters. */
typedef struct {
    wm_record_t r;
    uint8_t prev[WM_HASH_BYTES];
    union {
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
    } b;
} tu_rec_t;

/* Header: schema 1, station, epoch, seq, prev (NULL: all zero), a fixed
 * capture time; no body. */
void tu_rec_init(tu_rec_t *t, const char *station, uint32_t epoch, uint64_t seq,
                 const uint8_t *prev);
/* A theme lecture dated 2024-03-15 with the given title. */
void tu_rec_activity(tu_rec_t *t, const char *title);
void tu_rec_team(tu_rec_t *t, const char *team, Wm__TeamAction action, const char *name);
void tu_rec_void(tu_rec_t *t, uint32_t target_epoch, uint64_t target_seq, const char *reason);
void tu_rec_plan(tu_rec_t *t, const char *title, uint32_t due);
void tu_rec_plan_done(tu_rec_t *t, uint32_t plan_epoch, uint64_t plan_seq, uint32_t date);

/* Seals t->r with s into a malloc'd srec (fails the test on error). */
uint8_t *tu_seal(const tu_rec_t *t, const wm_signer_t *s, size_t *len);
/* Hash of the record bytes inside an srec. */
void tu_srec_hash(const uint8_t *srec, size_t len, uint8_t out[static WM_HASH_BYTES]);

#endif
