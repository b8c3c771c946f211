/* SPDX-License-Identifier: MIT */
/*
 * wm_testutil — helpers shared by the unit tests; see wm_testutil.h.
 * Failures inside a helper fail the calling test through cmocka.
 */
#include "wm_testutil.h"

#include <ftw.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

char *tu_mkdtemp(void)
{
    const char *base = getenv("TMPDIR");
    char *path = NULL;
    if (!base || !base[0])
        base = "/tmp";
    assert_true(asprintf(&path, "%s/wmtest.XXXXXX", base) > 0);
    assert_non_null(mkdtemp(path));
    return path;
}

static int rm_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    (void)st, (void)type, (void)ftw;
    return remove(path);
}

void tu_rmrf(const char *dir)
{
    if (dir)
        nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

wm_signer_t *tu_signer(uint8_t fill)
{
    uint8_t seed[WM_SEED_BYTES];
    wm_signer_t *s = NULL;
    memset(seed, fill, sizeof seed);
    assert_int_equal(wm_signer_from_seed(seed, &s), WM_OK);
    return s;
}

void tu_rec_init(tu_rec_t *t, const char *station, uint32_t epoch, uint64_t seq,
                 const uint8_t *prev)
{
    memset(t, 0, sizeof *t);
    wm__record__init(&t->r);
    t->r.schema = 1;
    t->r.station = (char *)station;
    t->r.epoch = epoch;
    t->r.seq = seq;
    if (prev)
        memcpy(t->prev, prev, WM_HASH_BYTES);
    t->r.prev.data = t->prev;
    t->r.prev.len = WM_HASH_BYTES;
    t->r.captured = 1710460800; /* 2024-03-15 00:00 UTC */
}

void tu_rec_activity(tu_rec_t *t, const char *title)
{
    wm__activity__init(&t->b.activity);
    t->b.activity.date = 20240315;
    t->b.activity.category = WM__CATEGORY__THEME_LECTURE;
    t->b.activity.title = (char *)title;
    t->b.activity.participants = 40;
    t->r.body_case = WM__RECORD__BODY_ACTIVITY;
    t->r.activity = &t->b.activity;
}

void tu_rec_team(tu_rec_t *t, const char *team, Wm__TeamAction action, const char *name)
{
    wm__team__init(&t->b.team);
    t->b.team.team = (char *)team;
    t->b.team.action = action;
    t->b.team.name = (char *)name;
    t->b.team.kind = WM__TEAM_KIND__BRANCH;
    t->r.body_case = WM__RECORD__BODY_TEAM;
    t->r.team = &t->b.team;
}

void tu_rec_void(tu_rec_t *t, uint32_t target_epoch, uint64_t target_seq, const char *reason)
{
    wm__void__init(&t->b.void_);
    t->b.void_.target_epoch = target_epoch;
    t->b.void_.target_seq = target_seq;
    t->b.void_.reason = (char *)reason;
    t->r.body_case = WM__RECORD__BODY_VOID;
    t->r.void_ = &t->b.void_;
}

void tu_rec_plan(tu_rec_t *t, const char *title, uint32_t due)
{
    wm__plan__init(&t->b.plan);
    t->b.plan.title = (char *)title;
    t->b.plan.due = due;
    t->r.body_case = WM__RECORD__BODY_PLAN;
    t->r.plan = &t->b.plan;
}

void tu_rec_plan_done(tu_rec_t *t, uint32_t plan_epoch, uint64_t plan_seq, uint32_t date)
{
    wm__plan_done__init(&t->b.plan_done);
    t->b.plan_done.plan_epoch = plan_epoch;
    t->b.plan_done.plan_seq = plan_seq;
    t->b.plan_done.date = date;
    t->r.body_case = WM__RECORD__BODY_PLAN_DONE;
    t->r.plan_done = &t->b.plan_done;
}

uint8_t *tu_seal(const tu_rec_t *t, const wm_signer_t *s, size_t *len)
{
    uint8_t *out = NULL;
    assert_int_equal(wm_record_seal(&t->r, s, &out, len), WM_OK);
    assert_non_null(out);
    return out;
}

void tu_srec_hash(const uint8_t *srec, size_t len, uint8_t out[static WM_HASH_BYTES])
{
    assert_true(len > WM_SIG_BYTES);
    wm_srec_hash_buf(srec, len, out);
}
