/* SPDX-License-Identifier: MIT */
/*
 * wmctl verify — checks the node's whole log read-only: every record
 * decodes, chains to the one before (seq + 1, prev hash) and carries a
 * valid signature by its epoch's key; then every evidence file the
 * activities name that the node holds hashes to the signed hash (a file
 * not held here, not yet received, is counted, not failed). Exit 0 only
 * if all of it verifies.
 */
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>

#include "evidence.h"
#include "wm_i18n.h"
#include "wmctl.h"

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
    uint64_t held = 0, missing = 0, bad = 0; /* evidence files (evidence.h) */
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
            err = evidence_verify(w, t, node, json, &held, &missing, &bad);
        wm_txn_abort(&t);
    }
    wm_store_close(&s);
    char hex[2 * WM_HASH_BYTES + 1];
    wm_hex(v.head.hash, sizeof v.head.hash, hex);
    if (json) {
        json_t *j = json_pack("{s:b, s:s, s:I, s:I, s:I, s:I, s:s}", "ok", err == WM_OK, "id",
                              id, "records", (json_int_t)v.records, "epochs", (json_int_t)v.epochs,
                              "head_epoch", (json_int_t)v.head.epoch, "head_seq",
                              (json_int_t)v.head.seq, "head_hash", hex);
        json_object_set_new(j, "blobs", json_pack("{s:I, s:I, s:I}", "held", (json_int_t)held,
                                                  "missing", (json_int_t)missing, "bad",
                                                  (json_int_t)bad));
        if (bad)
            json_object_set_new(j, "ok", json_false());
        if (err != WM_OK)
            json_object_set_new(j, "error",
                                json_pack("{s:s, s:I, s:I, s:s}", "reason", wm_errname(err),
                                          "epoch", (json_int_t)v.bad_epoch, "seq",
                                          (json_int_t)v.bad_seq, "why", v.why));
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
    } else {
        printf(_("FAILED: %s: record %" PRIu32 "/%" PRIu64 ": %s (%" PRIu64
               " record(s) before it verify)\n"),
               id, v.bad_epoch, v.bad_seq, v.why[0] ? v.why : wm_strerror(err), v.records);
    }
    return err == WM_OK && !bad ? WMCTL_OK : WMCTL_FAIL;
}
