/* SPDX-License-Identifier: MIT */
/*
 * wmctl log — lists the node's own records from LMDB, read-only, so it
 * works with the daemon down. --json prints one JSON object per line with
 * "seq", "epoch", "kind", the body and "voided_by" where a void cancels it.
 */
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wm_i18n.h"
#include "wm_recjson.h"
#include "wmctl.h"

typedef struct {
    wm_txn_t *t;
    uint32_t self;
    uint64_t from;
    uint32_t epoch; /* 0: all */
    int json;
    uint64_t shown;
    int damaged;
} log_ctx_t;

/* "key=value" pairs of a body object, for the one-line human form. */
static void print_pairs(const char *key, json_t *v)
{
    if (json_is_object(v)) {
        const char *k;
        json_t *x;
        json_object_foreach(v, k, x) print_pairs(k, x);
        return;
    }
    char *s = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
    if (!s)
        return;
    if (json_is_string(v))
        printf(" %s=%s", key, json_string_value(v));
    else
        printf(" %s=%s", key, s);
    free(s);
}

static int show(void *ctx, uint32_t epoch, uint64_t seq, const wm_srec_t *v)
{
    log_ctx_t *lc = ctx;
    if ((lc->epoch && epoch != lc->epoch) || seq < lc->from)
        return 0;
    wm_record_t *r = NULL;
    if (!v->bytes || wm_record_decode(v->bytes, v->len, &r) != WM_OK) {
        fprintf(stderr, _("wmctl: record %" PRIu32 "/%" PRIu64 " does not decode (run wmctl verify)\n"),
                epoch, seq);
        lc->damaged = 1;
        return 0;
    }
    json_t *o = wm_record_json(r, v);
    uint32_t by_e = 0;
    uint64_t by_s = 0;
    int voided = wm_ref_get(lc->t, lc->self, epoch, seq, 'v', &by_e, &by_s) == WM_OK;
    if (voided)
        json_object_set_new(o, "voided_by", json_integer((json_int_t)by_s));
    if (lc->json) {
        char *s = json_dumps(o, JSON_COMPACT);
        if (s)
            puts(s);
        free(s);
    } else {
        printf("%" PRIu32 "/%-6" PRIu64 " %-11s", epoch, seq, wm_record_kind(r));
        const char *k;
        json_t *x;
        json_object_foreach(o, k, x)
        {
            if (strcmp(k, wm_record_kind(r)) == 0 ||
                (r->body_case == WM__RECORD__BODY_PLAN_DONE && strcmp(k, "plan_done") == 0) ||
                (r->body_case == WM__RECORD__BODY_SITE && strcmp(k, "site") == 0) ||
                (r->body_case == WM__RECORD__BODY_VOID && strcmp(k, "void") == 0))
                print_pairs(k, x);
        }
        if (voided)
            printf(_("  [voided by %" PRIu64 "]"), by_s);
        putchar('\n');
    }
    json_decref(o);
    wm_record_free(&r);
    lc->shown++;
    return 0;
}

int cmd_log(wmctl_t *w, int argc, char **argv)
{
    static const char *const flags[] = {"json", NULL};
    wmctl_opts_t o;
    int rc = wmctl_opts_parse(&o, argc - 1, argv + 1, flags);
    if (rc)
        return rc;
    log_ctx_t lc = {.json = wmctl_flag(&o, "json")};
    const char *from = wmctl_opt(&o, "from"), *ep = wmctl_opt(&o, "epoch");
    if ((rc = wmctl_opts_unused(&o, "log")))
        return rc;
    char *end = NULL;
    if (from && ((lc.from = strtoull(from, &end, 10)), !end || *end || from[0] == '-')) {
        wmctl_reject("from", "\"%s\" is not a seq number", from);
        return WMCTL_USAGE;
    }
    if (ep && ((lc.epoch = (uint32_t)strtoul(ep, &end, 10)), !end || *end || ep[0] == '-')) {
        wmctl_reject("epoch", "\"%s\" is not an epoch number", ep);
        return WMCTL_USAGE;
    }
    wm_store_t *s = NULL;
    if ((rc = wmctl_open_ro(w, &s, &lc.self)))
        return rc;
    if (!s || !lc.self) {
        if (!lc.json)
            printf(_("(no records yet)\n"));
        wm_store_close(&s);
        return WMCTL_OK;
    }
    wm_scan_t stop = {0};
    wm_err_t err = wm_txn_begin(s, 0, &lc.t);
    if (err != WM_OK)
        wmctl_err("cannot read the log of %s: %s", w->cfg.id, wm_strerror(err));
    else if ((err = wm_log_scan(lc.t, lc.self, lc.epoch, lc.epoch ? lc.from : 0, show, &lc,
                                &stop)) != WM_OK)
        wmctl_scan_failed(s, w->cfg.id, err, &stop); /* after what was shown: a partial list */
    wm_txn_abort(&lc.t);
    wm_store_close(&s);
    if (err != WM_OK)
        return WMCTL_FAIL;
    return lc.damaged ? WMCTL_FAIL : WMCTL_OK;
}
