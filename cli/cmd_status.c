/* SPDX-License-Identifier: MIT */
/*
 * wmctl status — the node's identity, head and record count read from
 * LMDB (works with the daemon down), plus what the running daemon reports
 * live. --json includes "role", "id", "head_seq".
 */
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wmctl.h"

int cmd_status(wmctl_t *w, int argc, char **argv)
{
    static const char *const flags[] = {"json", NULL};
    wmctl_opts_t o;
    int rc = wmctl_opts_parse(&o, argc - 1, argv + 1, flags);
    if (rc)
        return rc;
    int json = wmctl_flag(&o, "json");
    if ((rc = wmctl_opts_unused(&o, "status")))
        return rc;
    wm_store_t *s = NULL;
    uint32_t self = 0, epoch = 0;
    wm_head_t head = {0};
    uint64_t records = 0;
    if ((rc = wmctl_open_ro(w, &s, &self)))
        return rc;
    if (s && self) {
        wm_txn_t *t = NULL;
        wm_err_t err = wm_txn_begin(s, 0, &t);
        if (err == WM_OK && wm_epoch_last(t, self, &epoch) == WM_OK)
            err = wm_log_head(t, self, epoch, &head);
        if (err == WM_OK)
            err = wm_log_count(t, self, &records);
        wm_txn_abort(&t);
        if (err != WM_OK) {
            wmctl_err("cannot read the log: %s", wm_strerror(err));
            wm_store_close(&s);
            return WMCTL_FAIL;
        }
    }
    wm_store_close(&s);

    Wm__CtlRequest req = WM__CTL_REQUEST__INIT;
    Wm__CtlReply *rep = NULL;
    req.op_case = WM__CTL_REQUEST__OP_STATUS;
    req.status = 1;
    wm_err_t derr = wmctl_call(w, &req, &rep);
    json_t *live = NULL;
    if (derr == WM_OK && rep->json)
        live = json_loads(rep->json, 0, NULL);
    wm_pb_free(&rep);

    char hex[2 * WM_HASH_BYTES + 1];
    wm_hex(head.hash, sizeof head.hash, hex);
    json_t *j = json_pack("{s:s, s:s, s:s, s:i, s:I, s:s, s:I, s:b}", "role",
                          wm_role_name(w->cfg.role), "id", w->cfg.id, "name", w->cfg.name,
                          "epoch", (int)epoch, "head_seq", (json_int_t)head.seq, "head_hash",
                          hex, "records", (json_int_t)records, "daemon_running", live != NULL);
    if (live)
        json_object_set(j, "daemon", live);
    if (json) {
        char *out = json_dumps(j, JSON_COMPACT);
        puts(out ? out : "{}");
        free(out);
    } else {
        printf("%s %s (%s)\n", wm_role_name(w->cfg.role), w->cfg.id, w->cfg.name);
        printf("  head:    epoch %" PRIu32 " seq %" PRIu64 "  %s\n", epoch, head.seq,
               head.seq ? hex : "(empty)");
        printf("  records: %" PRIu64 "\n", records);
        if (live)
            printf("  daemon:  running (pid %" JSON_INTEGER_FORMAT ", up %" JSON_INTEGER_FORMAT
                   " s)\n",
                   json_integer_value(json_object_get(live, "pid")),
                   json_integer_value(json_object_get(live, "uptime_s")));
        else
            printf("  daemon:  not running%s\n",
                   derr == WM_EDOWN ? "" : " (no answer on the control socket)");
    }
    json_decref(live);
    json_decref(j);
    return WMCTL_OK;
}
