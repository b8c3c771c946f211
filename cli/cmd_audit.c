/* SPDX-License-Identifier: MIT */
/*
 * wmctl audit --child ID --period P (--town is its older name) — at any
 * aggregator: checks a child's signed rollup of P. A town's is checked
 * against the station records it covers: they are fetched from the town
 * (through this node's daemon and the live link); they are station-signed
 * and chained, so the town cannot alter them unseen. They are verified and
 * ingested into a scratch LMDB environment through the same ingest as the
 * network, the rollup is recomputed with the same code, and every figure
 * is compared. A tier's (a county's, a city's) is checked against its
 * children's signed reports, fetched from it the same way and summed with
 * the same code; then each of those is audited in turn through it (FETCH
 * `path`, relayed down the tiers), down to the station records.
 *
 * Keys: by default each station's signing key is the one the town holds;
 * --keys FILE pins them from the stations' own `wmctl keys` lines.
 *
 * --with-evidence: the attachments of the audited activities are checked
 * too, against the signed references (audit_evidence.h): fetched from the
 * town that keeps them (feature "blob-fetch"). --json: the text goes to
 * stderr and stdout gets one JSON object (the verdict, the evidence).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "audit_evidence.h"
#include "wm_i18n.h"
#include "wm_crypto.h"
#include "wm_ingest.h"
#include "wm_report.h"
#include "wmctl.h"

#define FETCH_CHUNK 2000
/* A pinned id is read one byte past WM_ID_MAX, so a longer one (no node's)
 * is seen and its line skipped, not cut to another node's id. */
#define PIN_ID_SCAN "%129s"
_Static_assert(WM_ID_MAX + 1 == 129, "PIN_ID_SCAN reads WM_ID_MAX + 1 bytes");

/* How the records a report covers are reached from this node: through
 * the child `via`, then down the tiers through path[0 … n) (PROTOCOL.md
 * §2, FETCH `path`). The last hop (or via) holds them. */
#define AUDIT_DEPTH 8
typedef struct {
    const char *via;
    char *path[AUDIT_DEPTH];
    size_t n;
} route_t;

/* The node that holds the records a route reaches. */
static const char *holder(const route_t *r)
{
    return r->n ? r->path[r->n - 1] : r->via;
}

/* Pinned keys from --keys: "wmsync-id 1 ROLE ID SIGN CURVE NAME" lines. */
typedef struct {
    char id[WM_ID_MAX + 1];
    uint8_t sign[WM_PUB_BYTES];
} pin_t;

static int load_pins(const char *path, pin_t **pins, size_t *n)
{
    FILE *f = fopen(path, "re");
    char line[WMCTL_ID_LINE_MAX];
    *pins = NULL;
    *n = 0;
    if (!f) {
        wmctl_err("audit: cannot open %s", path);
        return WMCTL_USAGE;
    }
    while (fgets(line, sizeof line, f)) {
        char role[32], id[WM_ID_MAX + 2], sh[80], ch[80];
        if (sscanf(line, "wmsync-id 1 %31s " PIN_ID_SCAN " %79s %79s", role, id, sh, ch) != 4 ||
            strlen(id) > WM_ID_MAX)
            continue;
        pin_t *np = realloc(*pins, (*n + 1) * sizeof *np);
        if (!np)
            break;
        *pins = np;
        snprintf(np[*n].id, sizeof np[*n].id, "%s", id);
        if (wm_unhex(sh, np[*n].sign, WM_PUB_BYTES) == WM_OK)
            (*n)++;
    }
    fclose(f);
    return WMCTL_OK;
}

/* Compares report figures with recomputed ones, both ways: a figure the
 * report leaves out, or gives as something else than a number, differs
 * too. Prints each difference; counts matches in *same. */
static int compare(const char *path, const json_t *want, const json_t *got, int *same)
{
    int diffs = 0;
    char sub[512];
    if (json_is_object(want) || json_is_object(got)) {
        const char *k;
        json_t *v;
        if (!json_is_object(want) || !json_is_object(got)) {
            printf(_("  DIFFERS %-60s %s\n"), path,
                   json_is_object(got) ? _("missing in the report") : _("not in the records"));
            return 1;
        }
        json_object_foreach((json_t *)want, k, v)
        {
            snprintf(sub, sizeof sub, "%s.%s", path, k);
            diffs += compare(sub, v, json_object_get(got, k), same);
        }
        json_object_foreach((json_t *)got, k, v)
        {
            if (json_object_get(want, k))
                continue;
            snprintf(sub, sizeof sub, "%s.%s", path, k);
            diffs += compare(sub, NULL, v, same);
        }
        return diffs;
    }
    if (!json_is_number(want) && !json_is_number(got))
        return 0; /* text (names): not a figure */
    if (!json_is_number(want)) {
        printf(_("  DIFFERS %-60s missing in the report, records %.2f\n"), path,
               json_number_value(got));
        return 1;
    }
    double a = json_number_value(want), b = got ? json_number_value(got) : 0;
    if (a > b + 0.005 || a < b - 0.005) {
        printf("  DIFFERS %-60s report %.2f, records %.2f\n", path, a, b);
        return 1;
    }
    (*same)++;
    return 0;
}

/* The row of station id in a report's "stations", or NULL. */
static json_t *row_of(json_t *report, const char *id)
{
    size_t i;
    json_t *row;
    json_array_foreach(json_object_get(report, "stations"), i, row)
    {
        const char *rid = json_string_value(json_object_get(row, "id"));
        if (rid && strcmp(rid, id) == 0)
            return row;
    }
    return NULL;
}

/* Asks the county's daemon for up to FETCH_CHUNK records of station's
 * epoch from seq from, fetched from town over the live link. *rep is the
 * reply (the caller frees it), which may still carry the town's error.
 * WMCTL_OK, or prints why and WMCTL_FAIL. */
static int fetch_chunk(wmctl_t *w, const route_t *route, const char *station, uint32_t epoch,
                       uint64_t from, Wm__CtlReply **rep)
{
    Wm__Fetch f = WM__FETCH__INIT;
    Wm__CtlRequest req = WM__CTL_REQUEST__INIT;
    f.node = (char *)station;
    f.epoch = epoch;
    f.from_seq = from;
    f.max_records = FETCH_CHUNK;
    f.via = (char *)route->via;
    f.path = (char **)route->path;
    f.n_path = route->n;
    req.op_case = WM__CTL_REQUEST__OP_FETCH;
    req.fetch = &f;
    wm_err_t err = wmctl_call(w, &req, rep);
    if (err != WM_OK) {
        if (err == WM_EPERM) /* wmctl_call said why */
            return WMCTL_FAIL;
        wmctl_err("audit: %s", err == WM_EDOWN ? "the county's daemon is not running"
                                               : wm_strerror(err));
        return WMCTL_FAIL;
    }
    return WMCTL_OK;
}

/* Verifies n fetched records of sender s and ingests them into the
 * scratch store, as an aggregator settles a batch. WMCTL_OK, or prints
 * why and WMCTL_FAIL. */
static int ingest_chunk(wm_store_t *scratch, const wm_sender_t *s, const uint8_t *const *recs,
                        const size_t *lens, size_t n)
{
    wm_ingest_t res = {0};
    wm_txn_t *t = NULL;
    wm_err_t err = wm_txn_begin(scratch, 1, &t);
    if (err == WM_OK)
        err = wm_ingest(t, s, recs, lens, n, (int64_t)time(NULL), &res);
    if (err == WM_OK)
        err = wm_txn_commit(&t);
    wm_txn_abort(&t);
    if (err != WM_OK) {
        printf(_("  FAILED %s: the records the town sent do not verify: %s\n"), s->id,
               res.detail[0] ? res.detail : wm_strerror(err));
        return WMCTL_FAIL;
    }
    return WMCTL_OK;
}

/* Fetches one epoch of a station from the town and ingests it: up to seq
 * upto, or (whole) all the town holds of an earlier epoch, which may be
 * nothing at all (epoch numbers can skip, and a station may have started
 * a new epoch before an old one reached the town). */
static int fetch_epoch(wmctl_t *w, wm_store_t *scratch, const route_t *route, const char *station,
                       uint32_t node_no, uint32_t epoch, uint64_t upto, int whole,
                       const pin_t *pin, uint64_t *fetched)
{
    uint64_t from = 1;
    const char *town = holder(route);
    while (whole || from <= upto) {
        Wm__CtlReply *rep = NULL;
        if (fetch_chunk(w, route, station, epoch, from, &rep) != WMCTL_OK)
            return WMCTL_FAIL;
        if (whole && !(rep->error && rep->error[0]) && rep->records &&
            (rep->records->n_records == 0 ||
             (rep->records->error && strcmp(rep->records->error, "unknown node or epoch") == 0))) {
            wm_pb_free(&rep); /* the end of an earlier epoch, or none of it here */
            return WMCTL_OK;
        }
        if ((rep->error && rep->error[0]) || !rep->records || (rep->records->error && rep->records->error[0])) {
            wmctl_err("audit: %s could not send %s epoch %" PRIu32 ": %s", town, station, epoch,
                      rep->records && rep->records->error[0] ? rep->records->error : rep->message);
            wm_pb_free(&rep);
            return WMCTL_FAIL;
        }
        Wm__Records *r = rep->records;
        if (r->n_records == 0 || r->sign_pub.len != WM_PUB_BYTES) {
            wmctl_err("audit: %s holds no records of %s epoch %" PRIu32 " from seq %" PRIu64,
                      town, station, epoch, from);
            wm_pb_free(&rep);
            return WMCTL_FAIL;
        }
        size_t n = 0;
        const uint8_t *recs[FETCH_CHUNK];
        size_t lens[FETCH_CHUNK];
        for (size_t i = 0; i < r->n_records && n < FETCH_CHUNK && (whole || from + n <= upto);
             i++, n++) {
            recs[n] = r->records[i].data;
            lens[n] = r->records[i].len;
        }
        if (pin && memcmp(pin->sign, r->sign_pub.data, WM_PUB_BYTES) != 0)
            printf(_("  NOTE %s: the town holds another signing key than the pinned one; "
                   "verifying with the pinned key\n"), station);
        wm_sender_t s = {station, node_no, pin ? pin->sign : r->sign_pub.data, WM_INGEST_SETTLE,
                         NULL, NULL};
        int rc = ingest_chunk(scratch, &s, recs, lens, n);
        wm_pb_free(&rep);
        if (rc != WMCTL_OK)
            return rc;
        from += n;
        *fetched += n;
        wmctl_progress("fetching", *fetched, 0);
    }
    return WMCTL_OK;
}

/* The head a report's covers entry names: epoch 0 … 2^32-1 and seq >= 0
 * (seq 0: nothing stored in that epoch; epoch 0 only with seq 0). Nonzero
 * if it is not. */
static int cover_head(const json_t *cov, uint32_t *epoch, uint64_t *seq)
{
    const json_t *e = json_object_get(cov, "epoch"), *s = json_object_get(cov, "seq");
    if (!json_is_integer(e) || !json_is_integer(s))
        return -1;
    json_int_t ev = json_integer_value(e), sv = json_integer_value(s);
    if (ev < 0 || ev > (json_int_t)UINT32_MAX || sv < 0 || (ev == 0 && sv != 0))
        return -1;
    *epoch = (uint32_t)ev;
    *seq = (uint64_t)sv;
    return 0;
}

/* Fetches every epoch of a station up to (epoch, upto). Epoch numbers can
 * skip, but an aggregator stores no epoch more than WM_EPOCH_STEP_MAX
 * above the one before it: a longer run of empty epochs means the town
 * holds a log no aggregator accepts, and the walk stops there. */
static int fetch_epochs(wmctl_t *w, wm_store_t *scratch, const route_t *route, const char *station,
                        uint32_t node_no, uint32_t epoch, uint64_t upto, const pin_t *pin,
                        uint64_t *fetched)
{
    uint32_t empty = 0;
    for (uint64_t e = 1; e <= epoch; e++) {
        uint64_t before = *fetched;
        int rc = fetch_epoch(w, scratch, route, station, node_no, (uint32_t)e, upto, e < epoch,
                             pin, fetched);
        if (rc != WMCTL_OK)
            return rc;
        empty = *fetched == before ? empty + 1 : 0;
        if (empty >= WM_EPOCH_STEP_MAX) {
            printf(_("  FAILED %s: the town holds none of epochs %" PRIu64 " to %" PRIu64
                   "; no aggregator stores an epoch more than %d above the one before\n"),
                   station, e + 1 - empty, e, WM_EPOCH_STEP_MAX);
            return WMCTL_FAIL;
        }
    }
    return WMCTL_OK;
}

/* One audit: where the town's station records are fetched into. */
typedef struct {
    wmctl_t *w;
    const char *town;  /* whose report is audited */
    route_t route;     /* how its records are reached */
    pin_t *pins; /* from --keys, or NULL */
    size_t npins;
    wm_store_t *scratch;
    uint64_t fetched; /* station records verified so far */
    audit_evidence_t *ev; /* --with-evidence: the attachments' verdicts; else NULL */
} audit_t;

/* The town's signed rollup of *p as it reached this node, and the head of
 * the record that carries it. WMCTL_OK, or prints why and WMCTL_FAIL. */
static int find_report(wmctl_t *w, const char *town, const wm_period_t *p, json_t **rep,
                       wm_head_t *at)
{
    wm_store_t *s = NULL;
    uint32_t self = 0;
    int rc = wmctl_open_ro(w, &s, &self);
    if (rc)
        return rc;
    wm_txn_t *t = NULL;
    wm_err_t err = s ? wm_txn_begin(s, 0, &t) : WM_ENOTFOUND;
    if (err == WM_OK)
        err = wm_report_find_full(t, town, p, rep, at);
    wm_txn_abort(&t);
    wm_store_close(&s);
    if (err != WM_OK) {
        wmctl_err("audit: no rollup of %s from %s has reached this node", p->name, town);
        return WMCTL_FAIL;
    }
    return WMCTL_OK;
}

/* The key pinned for station id by --keys (the last line naming it), or
 * NULL: then the key the town holds is used. */
static const pin_t *pin_of(const audit_t *a, const char *id)
{
    for (size_t k = a->npins; k > 0; k--)
        if (strcmp(a->pins[k - 1].id, id) == 0)
            return &a->pins[k - 1];
    return NULL;
}

/* Registers station id in the scratch store as an active child, so that
 * ingest takes its records: role "station", or an aggregator's for a
 * child whose published reports are audited. */
static int scratch_node(wm_store_t *scratch, const char *id, const char *role, uint32_t *node_no)
{
    Wm__PeerState ps = WM__PEER_STATE__INIT;
    ps.role = (char *)role;
    uint8_t zero[WM_PUB_BYTES] = {0};
    wm_txn_t *t = NULL;
    ps.node = (char *)id;
    ps.name = (char *)id;
    ps.state = WM_PEER_ACTIVE;
    ps.curve_pub = (ProtobufCBinaryData){WM_PUB_BYTES, zero};
    if (wm_txn_begin(scratch, 1, &t) != WM_OK || wm_nodeno_add(t, id, node_no) != WM_OK ||
        wm_peer_put(t, &ps) != WM_OK || wm_txn_commit(&t) != WM_OK) {
        wm_txn_abort(&t);
        return WMCTL_FAIL;
    }
    return WMCTL_OK;
}

/* The records fetched of station st must end exactly at the head the
 * report covers (epoch, seq, hash). Prints why and WMCTL_FAIL if not. */
static int check_end(const audit_t *a, const char *st, uint32_t node_no, uint32_t epoch,
                     uint64_t seq, const char *hash)
{
    wm_head_t h = {0};
    char hex[65];
    wm_txn_t *t = NULL;
    wm_err_t ferr = wm_txn_begin(a->scratch, 0, &t);
    if (ferr == WM_OK)
        ferr = wm_ingest_frontier(t, node_no, &h);
    wm_txn_abort(&t);
    if (ferr != WM_OK) {
        printf(_("  FAILED %s: cannot read the records fetched: %s\n"), st, wm_strerror(ferr));
        return WMCTL_FAIL;
    }
    if (seq && (h.seq != seq || h.epoch != epoch || strcmp(wm_hex(h.hash, 32, hex), hash))) {
        printf(_("  FAILED %s: the report covers %" PRIu32 "/%" PRIu64
               " but the records the town sent end at %" PRIu32 "/%" PRIu64 " (or differ)\n"),
               st, epoch, seq, h.epoch, h.seq);
        return WMCTL_FAIL;
    }
    return WMCTL_OK;
}

/* Fetches, verifies and ingests into the scratch store the records of
 * every station the report covers, up to the head it names. WMCTL_OK only
 * if every station's records end at the head the report names; any
 * station that fails (printed as FAILED) fails the audit. */
static int fetch_covers(audit_t *a, const json_t *rep)
{
    int rc = WMCTL_OK;
    size_t i;
    json_t *cov;
    json_array_foreach(json_object_get(rep, "covers"), i, cov)
    {
        const char *st = json_string_value(json_object_get(cov, "station"));
        const char *hash = json_string_value(json_object_get(cov, "hash"));
        uint32_t epoch = 0, node_no = 0;
        uint64_t seq = 0;
        if (st && cover_head(cov, &epoch, &seq) != 0) {
            printf(_("  FAILED %s: the report covers an impossible head (epoch and seq must be "
                   "whole numbers, epoch 1 to %" PRIu32 ")\n"),
                   st, UINT32_MAX);
            rc = WMCTL_FAIL;
            break;
        }
        if (!st || !hash)
            continue;
        if (scratch_node(a->scratch, st, "station", &node_no) != WMCTL_OK) {
            rc = WMCTL_FAIL;
            break;
        }
        /* A station's own rc: one that fetches fine must not clear an
         * earlier station's failure. */
        int src = seq ? fetch_epochs(a->w, a->scratch, &a->route, st, node_no, epoch, seq,
                                     pin_of(a, st), &a->fetched)
                      : WMCTL_OK;
        if (src != WMCTL_OK) {
            rc = src;
            break;
        }
        if (check_end(a, st, node_no, epoch, seq, hash) != WMCTL_OK)
            rc = WMCTL_FAIL;
    }
    wmctl_progress(NULL, 0, 0);
    return rc;
}

/* Recomputes the audited node's rollup of *p with the same code it runs:
 * a town's from the station records in the scratch store, a tier's from
 * its children's verified reports there. */
static int recount(const audit_t *a, const wm_period_t *p, const json_t *rep, int tier,
                   json_t **mine)
{
    wm_report_opts_t ro = {.id = a->town,
                           .name = json_string_value(json_object_get(rep, "name")),
                           .role = tier ? json_string_value(json_object_get(rep, "scope")) : "town",
                           .aggregator = 1,
                           .cadence_days = a->w->cfg.cadence_days,
                           .date_tolerance_days = a->w->cfg.blobs_date_days,
                           .photos_from = a->w->cfg.blobs_photos_from,
                           .silent_days = a->w->cfg.silent_days,
                           .review_days = a->w->cfg.review_days,
                           .today = wm_date_today(),
                           .now = (int64_t)time(NULL)};
    wm_txn_t *t = NULL;
    int rc = WMCTL_OK;
    wm_err_t err = wm_txn_begin(a->scratch, 0, &t);
    if (err == WM_OK)
        err = tier ? wm_report_build_tier(t, p, &ro, mine) : wm_report_build(t, p, &ro, mine);
    if (err != WM_OK)
        rc = WMCTL_FAIL;
    wm_txn_abort(&t);
    return rc;
}

/* Compares the station rows of the report and the recount, both ways: a
 * row the town left out differs too (unless the report had to drop every
 * row for size). Returns the number of differences. */
static int compare_rows(json_t *rep, json_t *mine, int *same)
{
    int diffs = 0;
    size_t i;
    json_t *row, *rows = json_object_get(rep, "stations");
    json_array_foreach(rows, i, row)
    {
        const char *id = json_string_value(json_object_get(row, "id"));
        if (!id) {
            printf(_("  DIFFERS a station row of the report has no id\n"));
            diffs++;
            continue;
        }
        json_t *other = row_of(mine, id);
        diffs += compare(id, json_object_get(row, "totals"),
                         other ? json_object_get(other, "totals") : NULL, same);
    }
    json_array_foreach(json_object_get(mine, "stations"), i, row)
    {
        const char *id = json_string_value(json_object_get(row, "id"));
        if (id && json_array_size(rows) && !row_of(rep, id)) {
            printf(_("  DIFFERS %-60s missing in the report\n"), id);
            diffs++;
        }
    }
    return diffs;
}

/* Every figure of the report against the recount; prints the verdict.
 * pinned: the station keys came from --keys. WMCTL_OK when none differs. */
static int judge(const audit_t *a, json_t *rep, json_t *mine, int pinned)
{
    int same = 0, diffs = compare("totals", json_object_get(rep, "totals"),
                                  json_object_get(mine, "totals"), &same);
    diffs += compare_rows(rep, mine, &same);
    printf(_("%" PRIu64 " station record(s) verified and recounted: %d figure(s) confirmed, "
           "%d differ%s\n"),
           a->fetched, same, diffs, pinned ? "" : _(" (station keys as the town holds them)"));
    return diffs ? WMCTL_FAIL : WMCTL_OK;
}

/* ---- a tier: the report sums its children's signed reports ---- */

/* The head of the child's report a tier's row names (row "report"). */
static int row_report(const json_t *row, uint32_t *epoch, uint64_t *seq, const char **hash)
{
    const json_t *at = json_object_get(row, "report");
    *hash = json_string_value(json_object_get(at, "hash"));
    return json_is_object(at) && *hash && cover_head(at, epoch, seq) == 0 && *seq ? 0 : -1;
}

/* Whether rep is a tier's: some row names the child report it came from. */
static int is_tier(const json_t *rep)
{
    size_t i;
    json_t *row;
    json_array_foreach(json_object_get(rep, "stations"), i, row)
    {
        uint32_t e;
        uint64_t q;
        const char *h;
        if (row_report(row, &e, &q, &h) == 0)
            return 1;
    }
    return 0;
}

/* Fetches each child's log up to the report its row names, through the
 * audited node (its children's logs are in its store), verifies it and
 * recounts the tier from those signed reports. */
static int fetch_children(audit_t *a, const json_t *rep)
{
    size_t i;
    json_t *row;
    int rc = WMCTL_OK;
    json_array_foreach(json_object_get(rep, "stations"), i, row)
    {
        const char *id = json_string_value(json_object_get(row, "id")), *hash = NULL;
        uint32_t epoch = 0, node_no = 0;
        uint64_t seq = 0;
        if (!id || row_report(row, &epoch, &seq, &hash) != 0) {
            printf(_("  FAILED %s: a row of the tier names no report of its child\n"), id ? id : "?");
            rc = WMCTL_FAIL;
            continue;
        }
        if (scratch_node(a->scratch, id, "town", &node_no) != WMCTL_OK ||
            fetch_epochs(a->w, a->scratch, &a->route, id, node_no, epoch, seq, NULL,
                         &a->fetched) != WMCTL_OK ||
            check_end(a, id, node_no, epoch, seq, hash) != WMCTL_OK)
            rc = WMCTL_FAIL;
    }
    wmctl_progress(NULL, 0, 0);
    return rc;
}

static int audit_report(const audit_t *up, const char *node, const route_t *route, json_t *rep,
                        const wm_period_t *p, int depth);

/* Audits, one by one, the children's reports the scratch store verified,
 * each down to its own records: through the audited node, one hop more. */
static int audit_children(const audit_t *a, const json_t *rep, const wm_period_t *p, int depth)
{
    int rc = WMCTL_OK;
    size_t i;
    json_t *row;
    json_array_foreach(json_object_get(rep, "stations"), i, row)
    {
        const char *id = json_string_value(json_object_get(row, "id"));
        json_t *crep = NULL;
        wm_txn_t *t = NULL;
        route_t r = a->route;
        if (!id || r.n >= AUDIT_DEPTH)
            continue;
        r.path[r.n++] = (char *)id;
        wm_err_t err = wm_txn_begin(a->scratch, 0, &t);
        if (err == WM_OK)
            err = wm_report_find_full(t, id, p, &crep, NULL);
        wm_txn_abort(&t);
        if (err != WM_OK) {
            printf(_("  FAILED %s: its report of %s does not read: %s\n"), id, p->name,
                   wm_strerror(err));
            rc = WMCTL_FAIL;
            continue;
        }
        if (audit_report(a, id, &r, crep, p, depth + 1) != WMCTL_OK)
            rc = WMCTL_FAIL;
        json_decref(crep);
    }
    return rc;
}

static int judge_tier(const audit_t *a, json_t *rep, json_t *mine)
{
    int same = 0, diffs = compare("totals", json_object_get(rep, "totals"),
                                  json_object_get(mine, "totals"), &same);
    diffs += compare_rows(rep, mine, &same);
    printf(_("%zu report(s) of %s's children verified and summed: %d figure(s) confirmed, "
             "%d differ\n"),
           json_array_size(json_object_get(rep, "stations")), a->town, same, diffs);
    return diffs ? WMCTL_FAIL : WMCTL_OK;
}

/* Audits node's report rep, whose records are reached through route: a
 * town's against its stations' records, a tier's against its children's
 * signed reports and then each of those, down to the station records. */
static int audit_report(const audit_t *up, const char *node, const route_t *route, json_t *rep,
                        const wm_period_t *p, int depth)
{
    audit_t a = {.w = up->w, .town = node, .route = *route, .pins = up->pins, .npins = up->npins,
                 .ev = up->ev};
    json_t *mine = NULL;
    int rc = WMCTL_FAIL, tier = is_tier(rep);
    char dir[] = "/tmp/wmsync-audit.XXXXXX";
    if (depth > AUDIT_DEPTH) {
        printf(_("  FAILED %s: tiers nest deeper than %d\n"), node, AUDIT_DEPTH);
        return WMCTL_FAIL;
    }
    if (!mkdtemp(dir) || wm_store_open(dir, WM_STORE_NOSYNC, 0, &a.scratch) != WM_OK) {
        wmctl_err("audit: cannot make a scratch store");
        return WMCTL_FAIL;
    }
    if (depth)
        printf(_("audit of %s's rollup of %s, through %s\n"), node, p->name, route->via);
    if (tier) {
        rc = fetch_children(&a, rep);
        if (rc == WMCTL_OK)
            rc = recount(&a, p, rep, 1, &mine);
        if (rc == WMCTL_OK)
            rc = judge_tier(&a, rep, mine);
        if (rc == WMCTL_OK)
            rc = audit_children(&a, rep, p, depth);
    } else {
        rc = fetch_covers(&a, rep);
        int fetched = rc == WMCTL_OK;
        if (rc == WMCTL_OK)
            rc = recount(&a, p, rep, 0, &mine);
        if (rc == WMCTL_OK)
            rc = judge(&a, rep, mine, up->pins != NULL);
        if (fetched && a.ev &&
            audit_evidence_check(a.w, a.scratch, json_object_get(rep, "covers"), route->via,
                                 route->path, route->n, p, a.ev) != WMCTL_OK)
            rc = WMCTL_FAIL;
    }
    json_decref(mine);
    wm_store_close(&a.scratch);
    /* A scratch copy in a private temporary directory: if it cannot be
     * removed, the verdict above stands and the system's tmp cleanup takes it. */
    WM_IGNORE(wm_store_remove(dir));
    rmdir(dir);
    return rc;
}

/* --json: the verdict and the evidence as one object on stdout. */
static void print_json(const char *child, const wm_period_t *p, int rc,
                       const audit_evidence_t *ev)
{
    json_t *o = json_pack("{s:s, s:s, s:b}", "child", child, "period", p->name, "ok",
                          rc == WMCTL_OK);
    if (o && ev)
        json_object_set_new(o, "evidence", audit_evidence_json(ev));
    char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
    if (s)
        printf("%s\n", s);
    free(s);
    json_decref(o);
}

/* --json: the audit's text goes to stderr while it runs; *saved keeps
 * stdout. Undone by text_restore. */
static int text_to_stderr(int *saved)
{
    fflush(stdout);
    *saved = dup(STDOUT_FILENO);
    if (*saved < 0 || dup2(STDERR_FILENO, STDOUT_FILENO) < 0) {
        wmctl_err("audit: cannot set stdout aside for --json");
        return WMCTL_FAIL;
    }
    return WMCTL_OK;
}

static void text_restore(int saved)
{
    fflush(stdout);
    if (saved >= 0 && dup2(saved, STDOUT_FILENO) >= 0)
        close(saved);
}

int cmd_audit(wmctl_t *w, int argc, char **argv)
{
    static const char *const flags[] = {"with-evidence", "json", NULL};
    wmctl_opts_t o;
    int rc = wmctl_opts_parse(&o, argc - 1, argv + 1, flags);
    if (rc)
        return rc;
    const char *child = wmctl_opt(&o, "child"), *town = wmctl_opt(&o, "town"),
               *period = wmctl_opt(&o, "period"), *keys = wmctl_opt(&o, "keys");
    int with_ev = wmctl_flag(&o, "with-evidence"), as_json = wmctl_flag(&o, "json");
    if ((rc = wmctl_opts_unused(&o, "audit")) || (rc = wmctl_config(w)))
        return rc;
    wm_period_t p;
    if (child && town && strcmp(child, town) != 0) {
        fprintf(stderr, _("wmctl: rejected: --child and --town name the same thing; give one\n"));
        return WMCTL_USAGE;
    }
    if (!child)
        child = town; /* --town: the name of --child before there were more tiers */
    if (!child || !period || wm_period_parse(period, &p) != WM_OK) {
        fprintf(stderr, _("wmctl: rejected: audit needs --child ID and --period P\n"));
        return WMCTL_USAGE;
    }
    audit_evidence_t ev = {0};
    audit_t top = {.w = w, .ev = with_ev ? &ev : NULL};
    int saved = -1;
    if (keys && (rc = load_pins(keys, &top.pins, &top.npins)))
        return rc;
    if (as_json && (rc = text_to_stderr(&saved))) {
        free(top.pins);
        return rc;
    }
    json_t *rep = NULL;
    wm_head_t at;
    if ((rc = find_report(w, child, &p, &rep, &at)) == WMCTL_OK) {
        printf(_("audit of %s's rollup of %s (its log record %" PRIu32 "/%" PRIu64 ")\n"), child,
               p.name, at.epoch, at.seq);
        route_t route = {.via = child};
        rc = audit_report(&top, child, &route, rep, &p, 0);
    }
    if (as_json) {
        text_restore(saved);
        print_json(child, &p, rc, top.ev);
    }
    json_decref(rep);
    audit_evidence_free(&ev);
    free(top.pins);
    return rc;
}
