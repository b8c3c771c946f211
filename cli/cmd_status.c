/* SPDX-License-Identifier: MIT */
/*
 * wmctl status — can this node be trusted to be caught up? The object is
 * built by client/wm_status.c (shared with wmweb's GET /api/v1/status) from
 * LMDB (works with the daemon down) plus what the running daemon reports
 * live; this file prints it. The fields are listed in client/wm_status.h.
 */
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wm_i18n.h"
#include "wm_status.h"
#include "wm_sync.h"
#include "wmctl.h"

/* A child's state (the JSON slug) as the reader reads it. */
static const char *state_text(const char *state, char *buf, size_t cap)
{
    long days;
    if (!state)
        return "";
    if (sscanf(state, "silent %ld days", &days) == 1) {
        snprintf(buf, cap, _("silent %ld days"), days);
        return buf;
    }
    static const char *const known[] = {N_("revoked"), N_("quarantined"), N_("never seen"),
                                        N_("behind"), N_("verifying"), N_("ok")};
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        if (strcmp(state, known[i]) == 0)
            return _(known[i]);
    return state;
}

/* The wire and clock lines of a link (the upstream's, or a child's). */
static void print_link(const char *indent, const json_t *r)
{
    json_t *wb = json_object_get(r, "wire_bytes");
    json_t *off = json_object_get(r, "clock_offset_s");
    if (wb)
        printf(json_is_true(json_object_get(r, "zstd"))
                   ? _("%swire:      %lld bytes, %lld records, %.1f bytes/record (zstd)\n")
                   : _("%swire:      %lld bytes, %lld records, %.1f bytes/record\n"),
               indent, (long long)json_integer_value(wb),
               (long long)json_integer_value(json_object_get(r, "wire_records")),
               json_number_value(json_object_get(r, "bytes_per_record")));
    if (off) {
        long long sec = (long long)json_integer_value(off);
        int wrong = sec > WM_SYNC_CLOCK_WARN_S || sec < -WM_SYNC_CLOCK_WARN_S;
        printf(sec < 0 ? _("%sclock:     %lld s behind the aggregator's%s\n")
                       : _("%sclock:     %lld s ahead of the aggregator's%s\n"),
               indent, sec < 0 ? -sec : sec,
               wrong ? _(": WRONG, set the date and time of that computer") : "");
    }
}

/* The blobs line (feature "blobs"): a station's attachments not yet
 * confirmed by its aggregator, or a child's missing at this aggregator. */
static void print_blobs(const char *indent, const json_t *r)
{
    json_t *pend = json_object_get(r, "blobs_pending");
    json_t *miss = json_object_get(r, "blobs_missing");
    if (pend) {
        long long eta = (long long)json_integer_value(json_object_get(r, "blob_eta_s"));
        long long n = (long long)json_integer_value(pend), missing = (long long)json_integer_value(
                                                                json_object_get(r, "blobs_missing_local"));
        long long bytes = (long long)json_integer_value(json_object_get(r, "blob_bytes_pending"));
        if (eta >= 0)
            printf(_("%sblobs:     %lld pending (%lld bytes), about %lld s at the measured rate; "
                     "%lld not in this node's store\n"),
                   indent, n, bytes, eta, missing);
        else
            printf(_("%sblobs:     %lld pending (%lld bytes), no rate measured yet; %lld not in "
                     "this node's store\n"),
                   indent, n, bytes, missing);
    }
    if (miss)
        printf(_("%sblobs:     %lld missing of %lld named; %lld bytes received\n"), indent,
               (long long)json_integer_value(miss),
               (long long)json_integer_value(json_object_get(r, "blobs_named")),
               (long long)json_integer_value(json_object_get(r, "blob_bytes_received")));
}

/* The link line: why it keeps failing, or how it measures. */
static void print_link_state(const json_t *l)
{
    if (!l)
        return;
    const char *since = json_string_value(json_object_get(l, "failing_since"));
    const char *err = json_string_value(json_object_get(l, "last_error"));
    if (since && since[0])
        printf("  link:      failing since %s (%" JSON_INTEGER_FORMAT " attempts): %s\n", since,
               json_integer_value(json_object_get(l, "attempts")), err ? err : "");
    else
        printf("  link:      round trip %" JSON_INTEGER_FORMAT " ms, %" JSON_INTEGER_FORMAT
               " bytes/s measured; dead after %" JSON_INTEGER_FORMAT " s of silence%s%s\n",
               json_integer_value(json_object_get(l, "rtt_ms")),
               json_integer_value(json_object_get(l, "rate_bps")),
               json_integer_value(json_object_get(l, "dead_link_ms")) / 1000,
               err && err[0] ? "; last error: " : "", err ? err : "");
}

/* Feature "down" at a child: how far the parent's log is held here. */
static void print_down(const json_t *d)
{
    if (!d || !json_is_true(json_object_get(d, "pinned")))
        return;
    json_t *ps = json_object_get(d, "parent_seq"), *ok = json_object_get(d, "pin_ok");
    const char *forked = json_string_value(json_object_get(d, "forked"));
    const char *lr = json_string_value(json_object_get(d, "last_reject_detail"));
    printf(_("  parent:    %s's log held to epoch %lld seq %lld"),
           json_string_value(json_object_get(d, "parent")),
           (long long)json_integer_value(json_object_get(d, "have_epoch")),
           (long long)json_integer_value(json_object_get(d, "have_seq")));
    if (ps)
        printf(_(" of seq %lld%s"), (long long)json_integer_value(ps),
               json_is_true(json_object_get(d, "caught_up")) ? _(" (caught up)") : "");
    fputs(json_is_true(ok)    ? _("; pinned key matches\n")
          : json_is_false(ok) ? _("; pinned key DIFFERS from the parent's: re-pin with "
                                  "`wmctl upstream-id` after checking its `wmctl keys` line\n")
                              : "\n",
          stdout);
    json_t *fo = json_object_get(d, "followed");
    if (json_is_object(fo))
        printf(_("  parent's key: pin followed its key rollover at epoch %lld seq %lld: "
                 "now %.16s... (signs from epoch %lld)\n"),
               (long long)json_integer_value(json_object_get(fo, "rollover_epoch")),
               (long long)json_integer_value(json_object_get(fo, "rollover_seq")),
               json_string_value(json_object_get(fo, "key")),
               (long long)json_integer_value(json_object_get(fo, "from_epoch")));
    if (forked && forked[0])
        printf(_("  parent's log FORKED (proof kept): %s\n"), forked);
    json_t *fr = json_object_get(d, "forks_reset");
    json_t *last = json_array_get(fr, json_array_size(fr) - 1);
    if (last)
        printf(_("  parent's log: %zu fork(s) reset, the last at epoch %lld seq %lld, its copy "
                 "kept as %s (wmctl upstream-id --forks)\n"),
               json_array_size(fr),
               (long long)json_integer_value(json_object_get(last, "fork_epoch")),
               (long long)json_integer_value(json_object_get(last, "fork_seq")),
               json_string_value(json_object_get(last, "archive")));
    if (lr && lr[0])
        printf(_("  parent's log last refused: %s: %s\n"),
               json_string_value(json_object_get(d, "last_reject")), lr);
}

static void print_human(const json_t *j)
{
    json_t *d = json_object_get(j, "daemon");
    printf("%s %s (%s)\n", json_string_value(json_object_get(j, "role")),
           json_string_value(json_object_get(j, "id")), json_string_value(json_object_get(j, "name")));
    printf(_("  head:      epoch %lld seq %lld  %s\n"),
           (long long)json_integer_value(json_object_get(j, "epoch")),
           (long long)json_integer_value(json_object_get(j, "head_seq")),
           json_string_value(json_object_get(j, "head_hash")));
    printf(_("  records:   %lld\n"),
           (long long)json_integer_value(json_object_get(j, "records")));
    if (d)
        printf(_("  daemon:    running (pid %lld, up %lld"
                 " s)\n"),
               (long long)json_integer_value(json_object_get(d, "pid")),
               (long long)json_integer_value(json_object_get(d, "uptime_s")));
    else
        fputs(_("  daemon:    not running\n"), stdout);
    if (json_object_get(j, "acked_seq")) {
        printf(_("  upstream:  %s; acked seq %lld, %lld"
                 " pending; last contact %s\n"),
               json_is_true(json_object_get(j, "connected")) ? _("connected") : _("NOT connected"),
               (long long)json_integer_value(json_object_get(j, "acked_seq")),
               (long long)json_integer_value(json_object_get(j, "pending")),
               json_string_value(json_object_get(j, "last_contact")));
        print_link("  ", j);
        print_blobs("  ", j);
        print_link_state(json_object_get(j, "link"));
        const char *lr = json_string_value(json_object_get(j, "last_reject"));
        if (lr && lr[0])
            printf(_("  last reject: %s\n  what to do:  %s\n"), lr,
                   json_string_value(json_object_get(j, "last_reject_hint")));
        print_down(json_object_get(j, "down"));
    }
    json_t *st = json_object_get(j, "stations");
    if (st) {
        printf(_("  children:  %zu, %s\n"), json_array_size(st),
               json_is_true(json_object_get(j, "caught_up")) ? _("all caught up")
                                                             : _("NOT all caught up"));
        /* TRANSLATORS: the header of the children's table; keep each column
         * as wide as here (id 32, seq, verified and claimed 8, lag 6, state
         * 16, last seen 24; a Chinese character is two columns wide). */
        fputs(_("    id                                    seq verified  claimed    lag  state  "
                "          last seen                last reject\n"),
              stdout);
        size_t i;
        json_t *r;
        json_array_foreach(st, i, r)
        {
            char sb[64], cols[96];
            const char *state = state_text(json_string_value(json_object_get(r, "state")), sb,
                                           sizeof sb);
            printf("    %-32s %8" JSON_INTEGER_FORMAT " %8" JSON_INTEGER_FORMAT
                   " %8" JSON_INTEGER_FORMAT " %6" JSON_INTEGER_FORMAT "  %s %-24s %s\n",
                   json_string_value(json_object_get(r, "id")),
                   json_integer_value(json_object_get(r, "seq")),
                   json_integer_value(json_object_get(r, "verified_seq")),
                   json_integer_value(json_object_get(r, "claimed_seq")),
                   json_integer_value(json_object_get(r, "lag")),
                   wmctl_cols(state, 16, cols, sizeof cols),
                   json_string_value(json_object_get(r, "last_seen")),
                   json_string_value(json_object_get(r, "last_reject")));
            const char *hint = json_string_value(json_object_get(r, "last_reject_hint"));
            if (hint && hint[0])
                printf(_("      what to do: %s\n"), hint);
            print_link("      ", r);
            if (json_integer_value(json_object_get(r, "down_at")))
                printf(_("      down:      holds our log to epoch %lld seq %lld (%lld behind)\n"),
                       (long long)json_integer_value(json_object_get(r, "down_epoch")),
                       (long long)json_integer_value(json_object_get(r, "down_seq")),
                       (long long)json_integer_value(json_object_get(r, "down_lag")));
            const char *dr = json_string_value(json_object_get(r, "down_reject"));
            if (dr && dr[0])
                printf(_("      down:      last refused: %s\n"), dr);
            print_blobs("      ", r);
        }
    }
}

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
    uint32_t self = 0;
    char why[WM_WHY_MAX];
    if ((rc = wmctl_open_ro(w, &s, &self))) /* loads the configuration */
        return rc;
    json_t *live = wm_status_live(NULL, w->cfg.control), *j = NULL;
    wm_err_t err = wm_status_json(&w->cfg, s, live, &j, why, sizeof why);
    wm_store_close(&s);
    if (err != WM_OK) {
        wmctl_err("%s", why);
        json_decref(live);
        return WMCTL_FAIL;
    }
    if (json) {
        char *out = json_dumps(j, JSON_COMPACT);
        puts(out ? out : "{}");
        free(out);
    } else {
        print_human(j);
    }
    json_decref(live);
    json_decref(j);
    return WMCTL_OK;
}
