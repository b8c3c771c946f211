/* SPDX-License-Identifier: MIT */
/* audit_evidence — the evidence of audited records; see audit_evidence.h. */
#include "audit_evidence.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "blob_fetch.h"
#include "evidence.h"
#include "wm_blob.h"
#include "wm_i18n.h"
#include "wm_record.h"

/* One attachment of a verified activity record. */
typedef struct {
    const char *station; /* the covers entry's string: valid for the check */
    uint32_t epoch;
    uint64_t seq;
    size_t index;        /* 1-based, as `wmctl log` numbers them */
    uint8_t hash[WM_HASH_BYTES];
    uint64_t size;
} att_t;

typedef struct {
    const char *station;
    const wm_period_t *p;
    wm_txn_t *t;
    uint32_t no;    /* the station's node number in the scratch store */
    att_t *a;
    size_t n, cap;
    int oom;
    wm_err_t err;   /* a void could not be looked up */
} collect_t;

static int collect_one(void *ctx, uint32_t epoch, uint64_t seq, const wm_srec_t *v)
{
    collect_t *c = ctx;
    wm_record_t *r = NULL;
    if (wm_record_decode(v->bytes, v->len, &r) != WM_OK)
        return 0; /* verified records decode; an unknown kind has no attachment */
    const Wm__Activity *act = r->body_case == WM__RECORD__BODY_ACTIVITY ? r->activity : NULL;
    uint32_t be;
    uint64_t bs;
    /* A voided activity counts in no figure: its evidence is not audited
     * (and not fetched over a thin link). */
    wm_err_t verr = act ? wm_ref_get(c->t, c->no, epoch, seq, 'v', &be, &bs) : WM_ENOTFOUND;
    if (verr != WM_ENOTFOUND) {
        if (verr != WM_OK)
            c->err = verr;
        wm_record_free(&r);
        return verr != WM_OK;
    }
    for (size_t i = 0; act && act->date >= c->p->from && act->date <= c->p->to &&
                       i < act->n_attachments;
         i++) {
        const Wm__Attachment *x = act->attachments[i];
        if (x->hash.len != WM_HASH_BYTES)
            continue; /* the content rules refuse it: never verified */
        if (c->n == c->cap) {
            att_t *na = realloc(c->a, (c->cap ? 2 * c->cap : 16) * sizeof *na);
            if (!na) {
                c->oom = 1;
                break;
            }
            c->a = na, c->cap = c->cap ? 2 * c->cap : 16;
        }
        att_t *o = &c->a[c->n++];
        *o = (att_t){c->station, epoch, seq, i + 1, {0}, x->size};
        memcpy(o->hash, x->hash.data, WM_HASH_BYTES);
    }
    wm_record_free(&r);
    return c->oom;
}

/* Every attachment of the covered stations' activities dated within c->p. */
static int collect(wm_store_t *scratch, const json_t *covers, collect_t *c)
{
    size_t i;
    json_t *cov;
    wm_err_t err = wm_txn_begin(scratch, 0, &c->t);
    json_array_foreach(covers, i, cov)
    {
        c->station = json_string_value(json_object_get(cov, "station"));
        if (err != WM_OK || !c->station || wm_nodeno_lookup(c->t, c->station, &c->no) != WM_OK)
            continue; /* a station of no record: nothing to check */
        err = wm_log_scan(c->t, c->no, 0, 0, collect_one, c, NULL);
        if (err == WM_OK)
            err = c->err;
    }
    wm_txn_abort(&c->t);
    if (err != WM_OK || c->oom) {
        printf(_("  FAILED evidence: the verified records cannot be read: %s\n"),
               c->oom ? wm_strerror(WM_ENOMEM) : wm_strerror(err));
        return WMCTL_FAIL;
    }
    return WMCTL_OK;
}

/* The verdict on one attachment: a status of audit_evidence.h and why. */
static const char *judge_one(wmctl_t *w, const att_t *x, const blob_fetch_opts_t *fo,
                             char *why, size_t cap)
{
    blob_fetch_res_t res;
    char dir[PATH_MAX + 16];
    why[0] = 0;
    if (blob_fetch_run(w, x->hash, fo, &res) != WMCTL_OK) {
        snprintf(why, cap, "%s", res.why);
        if (!strcmp(res.slug, "mismatch") || !strcmp(res.slug, "size"))
            return "mismatch";
        return !strcmp(res.slug, "missing") || !strcmp(res.slug, "not_named") ||
                       !strcmp(res.slug, "pruned")
                   ? "missing"
                   : "unchecked";
    }
    /* Held here: its bytes against the signed hash and size, as stored. */
    snprintf(dir, sizeof dir, "%s/%s", w->cfg.dir, WM_BLOB_DIRNAME);
    wm_err_t err = evidence_check_file(dir, x->hash, x->size);
    if (err == WM_OK)
        return "verified";
    snprintf(why, cap, "%s", err == WM_ECORRUPT ? _("the copy held here is not the signed file "
                                                    "(altered or damaged at this node)")
                                                : wm_strerror(err));
    return err == WM_ECORRUPT ? "mismatch" : "unchecked";
}

static void note(audit_evidence_t *ev, const att_t *x, const char *status, const char *why)
{
    char hex[WM_BLOB_HEXLEN + 1];
    wm_hex(x->hash, WM_HASH_BYTES, hex);
    if (!strcmp(status, "verified"))
        ev->verified++;
    else if (!strcmp(status, "missing"))
        ev->missing++;
    else if (!strcmp(status, "mismatch"))
        ev->mismatch++;
    else
        ev->unchecked++;
    if (strcmp(status, "verified") != 0)
        printf(_("  %s %s record %" PRIu32 "/%" PRIu64 " attachment %zu (%.12s…, %" PRIu64
                 " bytes): %s\n"),
               !strcmp(status, "mismatch") ? _("MISMATCH") : !strcmp(status, "missing")
                                                                ? _("MISSING")
                                                                : _("UNCHECKED"),
               x->station, x->epoch, x->seq, x->index, hex, x->size, why);
    if (!ev->items)
        ev->items = json_array();
    json_array_append_new(ev->items,
                          json_pack("{s:s, s:I, s:I, s:I, s:s, s:I, s:s, s:s}", "station",
                                    x->station, "epoch", (json_int_t)x->epoch, "seq",
                                    (json_int_t)x->seq, "attachment", (json_int_t)x->index,
                                    "hash", hex, "size", (json_int_t)x->size, "status", status,
                                    "detail", why));
}

int audit_evidence_check(wmctl_t *w, wm_store_t *scratch, const json_t *covers, const char *via,
                         char *const *path, size_t n_path, const wm_period_t *p,
                         audit_evidence_t *ev)
{
    collect_t c = {.p = p};
    blob_fetch_opts_t fo = {.via = via, .path = path, .n_path = n_path};
    audit_evidence_t mine = {0};
    char why[WM_WHY_MAX];
    if (collect(scratch, covers, &c) != WMCTL_OK) {
        free(c.a);
        return WMCTL_FAIL;
    }
    for (size_t i = 0; i < c.n; i++) {
        fo.size = c.a[i].size; /* the signed size: a town's copy of another size is refused */
        const char *status = judge_one(w, &c.a[i], &fo, why, sizeof why);
        note(&mine, &c.a[i], status, why);
        wmctl_progress("evidence", i + 1, c.n);
    }
    wmctl_progress(NULL, 0, 0);
    printf(_("%zu attachment(s) of the audited activities: %" PRIu64 " verified, %" PRIu64
             " missing at %s, %" PRIu64 " mismatch (tampered), %" PRIu64 " unchecked\n"),
           c.n, mine.verified, mine.missing, n_path ? path[n_path - 1] : via, mine.mismatch,
           mine.unchecked);
    free(c.a);
    ev->verified += mine.verified, ev->missing += mine.missing;
    ev->mismatch += mine.mismatch, ev->unchecked += mine.unchecked;
    if (mine.items && !ev->items)
        ev->items = json_array();
    if (mine.items)
        json_array_extend(ev->items, mine.items);
    json_decref(mine.items);
    return mine.mismatch ? WMCTL_FAIL : WMCTL_OK;
}

json_t *audit_evidence_json(const audit_evidence_t *ev)
{
    return json_pack("{s:I, s:I, s:I, s:I, s:o}", "verified", (json_int_t)ev->verified,
                     "missing", (json_int_t)ev->missing, "mismatch", (json_int_t)ev->mismatch,
                     "unchecked", (json_int_t)ev->unchecked, "items",
                     ev->items ? json_incref(ev->items) : json_array());
}

void audit_evidence_free(audit_evidence_t *ev)
{
    json_decref(ev->items);
    ev->items = NULL;
}
