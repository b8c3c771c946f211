/* SPDX-License-Identifier: MIT */
/*
 * wmctl verify — checks the node's whole log read-only: every record
 * decodes, chains to the one before (seq + 1, prev hash) and carries a
 * valid signature by its epoch's key; then every evidence file the
 * activities name that the node holds hashes to the signed hash (a file
 * not held here, not yet received, is counted, not failed). Exit 0 only
 * if all of it verifies. Every file of the node's blob store (NODE/blobs,
 * feature "blobs") must also hash to its name, whatever names it.
 */
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "evidence.h"
#include "wm_blob.h"
#include "wm_i18n.h"
#include "wmctl.h"

typedef struct {
    const wm_blob_t *bs;
    uint64_t n, bad;
    json_t *bad_list; /* hex of each altered blob */
} blobs_ctx_t;

static int verify_one(const uint8_t hash[static WM_HASH_BYTES], uint64_t size, void *ctx)
{
    blobs_ctx_t *bc = ctx;
    char why[WM_WHY_MAX], hex[WM_BLOB_HEXLEN + 1];
    (void)size;
    bc->n++;
    if (wm_blob_verify(bc->bs, hash, why, sizeof why) == WM_OK)
        return 0;
    bc->bad++;
    json_array_append_new(bc->bad_list, json_string(wm_hex(hash, WM_HASH_BYTES, hex)));
    fprintf(stderr, "wmctl: %s\n", why);
    return 0;
}

/* Checks every blob of the node's store (none: nothing to check). WM_OK,
 * WM_ECORRUPT if one does not hash to its name, or the walk's error. */
static wm_err_t verify_blobs(wmctl_t *w, blobs_ctx_t *bc)
{
    char dir[PATH_MAX + 16];
    wm_blob_t *bs = NULL;
    snprintf(dir, sizeof dir, "%s/%s", w->cfg.dir, WM_BLOB_DIRNAME);
    if (access(dir, F_OK) != 0)
        return WM_OK;
    wm_err_t err = wm_blob_open(dir, &bs);
    bc->bs = bs;
    if (err == WM_OK)
        err = wm_blob_list(bs, verify_one, bc);
    wm_blob_close(&bs);
    return err == WM_OK && bc->bad ? WM_ECORRUPT : err;
}

int cmd_verify(wmctl_t *w, int argc, char **argv)
{
    static const char *const flags[] = {"json", NULL};
    wmctl_opts_t o;
    int rc = wmctl_opts_parse(&o, argc - 1, argv + 1, flags);
    if (rc)
        return rc;
    int json = wmctl_flag(&o, "json");
    const char *station = wmctl_opt(&o, "station");
    if ((rc = wmctl_opts_unused(&o, "verify")))
        return rc;
    wm_store_t *s = NULL;
    uint32_t self = 0;
    if ((rc = wmctl_open_ro(w, &s, &self)))
        return rc;
    wm_verify_t v = {0};
    wm_err_t err = WM_OK;
    uint64_t held = 0, missing = 0, bad = 0, pruned = 0; /* evidence files (evidence.h) */
    /* An aggregator can verify a child's log as it holds it (--station),
     * each epoch with the key it was accepted under. */
    const char *id = station ? station : w->cfg.id;
    uint32_t node = self;
    if (s) {
        wm_txn_t *t = NULL;
        err = wm_txn_begin(s, 0, &t);
        if (err == WM_OK && station && wm_nodeno_lookup(t, station, &node) != WM_OK) {
            wm_txn_abort(&t);
            wm_store_close(&s);
            wmctl_reject("station", "no records of \"%s\" here", station);
            return WMCTL_USAGE;
        }
        if (err == WM_OK && node)
            err = wm_log_verify(t, node, id, &v);
        if (err == WM_OK && node)
            err = evidence_verify(w, t, node, json, &held, &missing, &bad, &pruned);
        wm_txn_abort(&t);
    }
    wm_store_close(&s);
    blobs_ctx_t bc = {.bad_list = json_array()};
    wm_err_t berr = station ? WM_OK : verify_blobs(w, &bc);
    char hex[2 * WM_HASH_BYTES + 1];
    wm_hex(v.head.hash, sizeof v.head.hash, hex);
    if (json) {
        json_t *j = json_pack("{s:b, s:s, s:I, s:I, s:I, s:I, s:s}", "ok", err == WM_OK, "id",
                              id, "records", (json_int_t)v.records, "epochs", (json_int_t)v.epochs,
                              "head_epoch", (json_int_t)v.head.epoch, "head_seq",
                              (json_int_t)v.head.seq, "head_hash", hex);
        json_object_set_new(j, "blobs", json_pack("{s:I, s:I, s:I, s:I}", "held",
                                                  (json_int_t)held, "missing",
                                                  (json_int_t)missing, "bad", (json_int_t)bad,
                                                  "pruned", (json_int_t)pruned));
        if (bad)
            json_object_set_new(j, "ok", json_false());
        if (err != WM_OK)
            json_object_set_new(j, "error",
                                json_pack("{s:s, s:I, s:I, s:s}", "reason", wm_errname(err),
                                          "epoch", (json_int_t)v.bad_epoch, "seq",
                                          (json_int_t)v.bad_seq, "why", v.why));
        json_object_set_new(j, "store_blobs", json_integer((json_int_t)bc.n));
        json_object_set(j, "store_blobs_bad", bc.bad_list);
        if (berr != WM_OK)
            json_object_set_new(j, "ok", json_false());
        char *out = json_dumps(j, JSON_COMPACT);
        puts(out ? out : "{}");
        free(out);
        json_decref(j);
    } else if (err == WM_OK) {
        printf(_("ok: %s: %" PRIu64 " record(s) in %" PRIu32 " epoch(s) verify; head epoch %" PRIu32
               " seq %" PRIu64 " hash %s\n"),
               id, v.records, v.epochs, v.head.epoch, v.head.seq, hex);
        if (held + missing + bad)
            printf(_("%s: evidence files: %" PRIu64 " match their signed hashes, %" PRIu64
                     " altered or damaged, %" PRIu64 " not held here\n"),
                   bad ? _("FAILED") : _("ok"), held, bad, missing);
        if (pruned)
            printf(_("ok: %" PRIu64 " evidence file(s) pruned here after the town confirmed them "
                     "(thumbnails kept; wmctl blob get HASH --thumb)\n"),
                   pruned);
    } else {
        printf(_("FAILED: %s: record %" PRIu32 "/%" PRIu64 ": %s (%" PRIu64
               " record(s) before it verify)\n"),
               id, v.bad_epoch, v.bad_seq, v.why[0] ? v.why : wm_strerror(err), v.records);
    }
    if (!json && !station && berr == WM_OK && err == WM_OK && bc.n) /* never "ok" on a bad log */
        printf(_("ok: %" PRIu64 " blob(s) hash to their names\n"), bc.n);
    else if (!json && berr != WM_OK)
        printf(_("FAILED: %" PRIu64 " of %" PRIu64 " blob(s) do not hash to their names "
                 "(altered or damaged on disk)%s%s\n"),
               bc.bad, bc.n, berr == WM_ECORRUPT ? "" : ": ",
               berr == WM_ECORRUPT ? "" : wm_strerror(berr));
    json_decref(bc.bad_list);
    return err == WM_OK && !bad && berr == WM_OK ? WMCTL_OK : WMCTL_FAIL;
}
