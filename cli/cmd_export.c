/* SPDX-License-Identifier: MIT */
/*
 * wmctl export — the node's verified records into PostgreSQL
 * (docs/postgres.md). Reads the LMDB log read-only, like every reading
 * command, so it never slows the daemon: the log never waits for the
 * database, the export lags behind it. Each node's log is exported in
 * chunks from the durable cursor kept in PostgreSQL, each chunk and the
 * cursor in one PostgreSQL transaction (pg_export.h). Only the log is
 * read, never the inbox: every exported record is fully verified.
 *
 *   export [--postgres CONNINFO] [--since YYYY-MM-DD] [--follow]
 *
 * Without --postgres the connection string is [export] postgres of the
 * configuration. --follow keeps exporting what arrives (the companion
 * process of the daemon: a PostgreSQL that is down or restarted is waited
 * for, reconnecting with backoff) until SIGTERM or SIGINT. --since loads
 * only records captured on or after that day (local time) and leaves the
 * cursor where it is.
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pg_export.h"
#include "wm_date.h"
#include "wm_i18n.h"
#include "wm_recjson.h"
#include "wm_rollidx.h"
#include "wmctl.h"

#define EXPORT_CHUNK 5000        /* records per PostgreSQL transaction */
#define EXPORT_POLL_MS 500       /* --follow: how often the log is looked at when idle */
#define EXPORT_BACKOFF_MIN_MS 200
#define EXPORT_BACKOFF_MAX_MS 30000

static volatile sig_atomic_t stop_flag;

static void on_signal(int sig)
{
    (void)sig;
    stop_flag = 1;
}

/* A chunk of one node's log copied out of LMDB, so no read transaction
 * stays open while PostgreSQL works. */
typedef struct {
    uint8_t **srec;
    size_t *len;
    uint32_t *epoch;
    uint64_t *seq;
    size_t n;
} chunk_t;

typedef struct {
    uint32_t epoch;
    uint64_t seq;
    int known; /* read from PostgreSQL on this connection */
} cursor_t;

typedef struct {
    wmctl_t *w;
    wm_store_t *s;
    pgx_t *pg;
    const char *conninfo;
    int64_t since;   /* unix seconds, or -1 */
    int follow;
    uint64_t rows, skipped, logs;
    pgx_buf_t buf;    /* rows of wmsync.records */
    pgx_buf_t joined; /* rows of wmsync.rollup_joined */
    cursor_t *cur;    /* by node number */
    size_t ncur;
    char why[1024];
} export_t;

static void chunk_clear(chunk_t *c)
{
    for (size_t i = 0; i < c->n; i++)
        free(c->srec[i]);
    c->n = 0;
}

static void chunk_free(chunk_t *c)
{
    chunk_clear(c);
    free(c->srec);
    free(c->len);
    free(c->epoch);
    free(c->seq);
}

static int take(void *ctx, uint32_t epoch, uint64_t seq, const wm_srec_t *v)
{
    chunk_t *c = ctx;
    size_t len = WM_SIG_BYTES + v->len;
    uint8_t *b = malloc(len);
    if (!b)
        return -1;
    memcpy(b, v->sig, WM_SIG_BYTES);
    memcpy(b + WM_SIG_BYTES, v->bytes, v->len);
    c->srec[c->n] = b;
    c->len[c->n] = len;
    c->epoch[c->n] = epoch;
    c->seq[c->n++] = seq;
    return c->n == EXPORT_CHUNK;
}

/* The id of node number node (copied into id); WM_ENOTFOUND past the last. */
static WM_MUST_CHECK wm_err_t node_id(export_t *x, uint32_t node, char *id, size_t cap)
{
    wm_txn_t *t = NULL;
    const char *name = NULL;
    wm_err_t err = wm_txn_begin(x->s, 0, &t);
    if (err == WM_OK && (err = wm_nodeno_name(t, node, &name)) == WM_OK)
        snprintf(id, cap, "%s", name);
    wm_txn_abort(&t);
    return err;
}

/* Reads up to EXPORT_CHUNK records of node (id) after (epoch, seq) into c. */
static WM_MUST_CHECK wm_err_t read_chunk(export_t *x, uint32_t node, const char *id,
                                         uint32_t epoch, uint64_t seq, chunk_t *c)
{
    wm_txn_t *t = NULL;
    wm_scan_t end = {0};
    chunk_clear(c);
    wm_err_t err = wm_txn_begin(x->s, 0, &t);
    if (err == WM_OK) {
        err = wm_log_scan(t, node, epoch, epoch ? seq + 1 : 0, take, c, &end);
        if (err != WM_OK)
            wmctl_scan_failed(x->s, id, err, &end);
        else if (end.stop < 0)
            err = WM_ENOMEM;
    }
    wm_txn_abort(&t);
    return err;
}

/* The body of r as compact JSON (the object under its kind), malloc'd. */
static char *body_json(const wm_record_t *r)
{
    json_t *o = wm_record_json(r, NULL);
    json_t *b = o ? json_object_get(o, wm_record_kind(r)) : NULL;
    char *s = json_dumps(b ? b : json_object(), JSON_COMPACT | JSON_ENCODE_ANY);
    json_decref(o);
    return s;
}

/* r, record (epoch, seq) of node (id), is the last part of a rollup in its
 * binary form: the rollup as the log joined it (with its rows) into
 * x->joined. Parts that did not join are not indexed: nothing then. */
static WM_MUST_CHECK wm_err_t join_rollup(export_t *x, uint32_t node, const char *id,
                                          const wm_record_t *r, uint32_t epoch, uint64_t seq)
{
    const Wm__RollupPart *rp = r->rollup_part;
    wm_txn_t *t = NULL;
    json_t *j = NULL;
    char *text = NULL;
    wm_err_t err = wm_txn_begin(x->s, 0, &t);
    if (err == WM_OK)
        err = wm_rollidx_get(t, node, id, rp->period, epoch, seq, 1, &j);
    wm_txn_abort(&t);
    if (err == WM_ENOTFOUND || err == WM_EDECODE)
        return WM_OK;
    if (err == WM_OK && !(text = json_dumps(j, JSON_COMPACT)))
        err = WM_ENOMEM;
    if (err == WM_OK) {
        pgx_rollup_t row = {id, epoch, seq, rp->period, rp->from, rp->to, text};
        err = pgx_rollup_append(&x->joined, &row);
    }
    free(text);
    json_decref(j);
    return err;
}

/* The rows of chunk c (records of node, id) into x->buf, and the rollups
 * they complete into x->joined. */
static WM_MUST_CHECK wm_err_t build_rows(export_t *x, uint32_t node, const char *id,
                                         const chunk_t *c)
{
    pgx_buf_reset(&x->buf);
    pgx_buf_reset(&x->joined);
    for (size_t i = 0; i < c->n; i++) {
        wm_srec_t v;
        wm_record_t *r = NULL;
        uint8_t h[WM_HASH_BYTES];
        wm_err_t err = wm_srec_view(c->srec[i], c->len[i], &v);
        if (err == WM_OK)
            err = wm_record_decode(v.bytes, v.len, &r);
        if (err != WM_OK) {
            wmctl_err("%s: record %" PRIu32 "/%" PRIu64 " does not decode (run wmctl verify)",
                      id, c->epoch[i], c->seq[i]);
            return err;
        }
        if (x->since >= 0 && r->captured < x->since) {
            x->skipped++;
            wm_record_free(&r);
            continue;
        }
        char *body = body_json(r);
        wm_srec_hash(&v, h);
        pgx_row_t row = {id, c->epoch[i], c->seq[i], wm_record_kind(r), r->captured,
                         r->prev.data, h, v.sig, v.bytes, v.len, body ? body : "{}"};
        err = body ? pgx_row_append(&x->buf, &row) : WM_ENOMEM;
        free(body);
        if (err == WM_OK && r->body_case == WM__RECORD__BODY_ROLLUP_PART &&
            r->rollup_part->part + 1 == r->rollup_part->parts)
            err = join_rollup(x, node, id, r, c->epoch[i], c->seq[i]);
        wm_record_free(&r);
        if (err != WM_OK)
            return err;
    }
    return WM_OK;
}

/* Where node's export stands: from PostgreSQL once per connection, then
 * as this process moved it (x->cur). */
static WM_MUST_CHECK wm_err_t cursor_of(export_t *x, uint32_t node, const char *id,
                                        cursor_t **out)
{
    if (node >= x->ncur) {
        size_t n = node + 64;
        cursor_t *nc = realloc(x->cur, n * sizeof *nc);
        if (!nc)
            return WM_ENOMEM;
        memset(nc + x->ncur, 0, (n - x->ncur) * sizeof *nc);
        x->cur = nc;
        x->ncur = n;
    }
    cursor_t *c = &x->cur[node];
    *out = c;
    if (c->known || x->since >= 0)
        return WM_OK;
    wm_err_t err = pgx_cursor_get(x->pg, x->w->cfg.id, id, &c->epoch, &c->seq, x->why,
                                  sizeof x->why);
    c->known = err == WM_OK;
    return err;
}

/* Exports node's log from its cursor to its end (as it is now). WM_EIO:
 * PostgreSQL failed (x->why says how); WM_ENOTFOUND: no such node; other
 * errors: the log. */
static WM_MUST_CHECK wm_err_t export_node(export_t *x, uint32_t node, chunk_t *c)
{
    char id[WM_ID_MAX + 1] = "";
    cursor_t *cur = NULL;
    wm_err_t err = node_id(x, node, id, sizeof id);
    if (err == WM_OK && wm_node_archived(id))
        return WM_OK; /* a forked copy of the parent's log, archived: not exported */
    if (err != WM_OK || (err = cursor_of(x, node, id, &cur)) != WM_OK)
        return err;
    x->logs++;
    while (!stop_flag) {
        if ((err = read_chunk(x, node, id, cur->epoch, cur->seq, c)) != WM_OK || c->n == 0)
            return err;
        if ((err = build_rows(x, node, id, c)) != WM_OK)
            return err == WM_ENOMEM ? err : WM_EDECODE;
        uint64_t inserted = 0;
        uint32_t epoch = c->epoch[c->n - 1];
        uint64_t seq = c->seq[c->n - 1];
        if ((err = pgx_load(x->pg, x->w->cfg.id, id, &x->buf, &x->joined, x->since < 0, epoch,
                            seq, &inserted, x->why, sizeof x->why)) != WM_OK)
            return err;
        cur->epoch = epoch; /* committed with the rows */
        cur->seq = seq;
        x->rows += inserted;
    }
    return WM_OK;
}

/* One pass over every log of the environment. */
static WM_MUST_CHECK wm_err_t export_pass(export_t *x, uint64_t *moved)
{
    chunk_t c = {0};
    uint64_t before = x->rows;
    wm_err_t err = WM_ENOMEM;
    c.srec = calloc(EXPORT_CHUNK, sizeof *c.srec);
    c.len = calloc(EXPORT_CHUNK, sizeof *c.len);
    c.epoch = calloc(EXPORT_CHUNK, sizeof *c.epoch);
    c.seq = calloc(EXPORT_CHUNK, sizeof *c.seq);
    if (!c.srec || !c.len || !c.epoch || !c.seq)
        goto out;
    x->logs = 0;
    err = WM_OK;
    for (uint32_t node = 1; err == WM_OK && !stop_flag; node++) {
        err = export_node(x, node, &c);
        if (err == WM_ENOTFOUND) { /* node numbers run from 1 without gaps */
            err = WM_OK;
            break;
        }
    }
out:
    chunk_free(&c);
    *moved = x->rows - before;
    return err;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (!stop_flag && nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

/* Connects and brings the schema up to date. */
static WM_MUST_CHECK wm_err_t connect_pg(export_t *x)
{
    int was = 0;
    wm_err_t err = pgx_connect(x->conninfo, &x->pg, x->why, sizeof x->why);
    if (err == WM_OK && (err = pgx_migrate(x->pg, &was, x->why, sizeof x->why)) == WM_OK &&
        was != pgx_schema_version())
        fprintf(stderr,
                was ? _("wmctl: export: PostgreSQL schema wmsync migrated to version %d\n")
                    : _("wmctl: export: PostgreSQL schema wmsync created at version %d\n"),
                pgx_schema_version());
    if (err != WM_OK)
        pgx_close(&x->pg);
    return err;
}

/* --follow: passes until stopped; PostgreSQL failures wait and retry. */
static int follow(export_t *x)
{
    long backoff = EXPORT_BACKOFF_MIN_MS;
    while (!stop_flag) {
        uint64_t moved = 0;
        wm_err_t err = x->pg ? WM_OK : connect_pg(x);
        if (err == WM_OK)
            err = export_pass(x, &moved);
        if (err == WM_EIO) { /* PostgreSQL: nothing of the failed load was committed */
            fprintf(stderr, _("wmctl: export: %s; retrying in %.1f s\n"), x->why,
                    backoff / 1000.0);
            pgx_close(&x->pg);
            if (x->cur) /* read them again */
                memset(x->cur, 0, x->ncur * sizeof *x->cur);
            sleep_ms(backoff);
            backoff = backoff * 2 > EXPORT_BACKOFF_MAX_MS ? EXPORT_BACKOFF_MAX_MS : backoff * 2;
            continue;
        }
        if (err != WM_OK) {
            wmctl_err("export stopped: %s", err == WM_ESTATE ? x->why : wm_strerror(err));
            return WMCTL_FAIL;
        }
        backoff = EXPORT_BACKOFF_MIN_MS;
        if (moved)
            fprintf(stderr, _("wmctl: export: %" PRIu64 " records exported (%" PRIu64 " in all)\n"),
                    moved, x->rows);
        else
            sleep_ms(EXPORT_POLL_MS);
    }
    return WMCTL_OK;
}

static int parse_since(const char *since, int64_t *out)
{
    uint32_t ymd = 0;
    if (wm_date_parse(since, &ymd) != WM_OK) {
        wmctl_reject("since", "\"%s\" is not a day (YYYY-MM-DD)", since);
        return WMCTL_USAGE;
    }
    struct tm tm = {.tm_year = (int)(ymd / 10000) - 1900, .tm_mon = (int)(ymd / 100 % 100) - 1,
                    .tm_mday = (int)(ymd % 100), .tm_isdst = -1};
    *out = (int64_t)mktime(&tm);
    return WMCTL_OK;
}

int cmd_export(wmctl_t *w, int argc, char **argv)
{
    static const char *const flags[] = {"follow", NULL};
    wmctl_opts_t o;
    export_t x = {.w = w, .since = -1};
    int rc = wmctl_opts_parse(&o, argc - 1, argv + 1, flags);
    if (rc)
        return rc;
    const char *pg = wmctl_opt(&o, "postgres"), *since = wmctl_opt(&o, "since");
    x.follow = wmctl_flag(&o, "follow");
    if ((rc = wmctl_opts_unused(&o, "export")) || (since && (rc = parse_since(since, &x.since))))
        return rc;
    if (x.follow && since) {
        wmctl_reject("since", "is for a one-shot load, not with --follow%s", "");
        return WMCTL_USAGE;
    }
    uint32_t self = 0;
    if ((rc = wmctl_open_ro(w, &x.s, &self)))
        return rc;
    x.conninfo = pg ? pg : w->cfg.export_postgres;
    if (!x.conninfo[0]) {
        wmctl_reject("postgres", "no connection string given, and no [export] postgres in %s",
                     w->cfg.path);
        wm_store_close(&x.s);
        return WMCTL_USAGE;
    }
    signal(SIGTERM, on_signal);
    signal(SIGINT, on_signal);
    if (x.follow && !x.s) {
        wmctl_err("no data yet in %s: start the daemon first", w->cfg.data_dir);
        rc = WMCTL_FAIL;
    } else if (x.follow) {
        rc = follow(&x);
    } else {
        uint64_t moved = 0;
        wm_err_t err = connect_pg(&x);
        if (err == WM_OK && x.s)
            err = export_pass(&x, &moved);
        if (err != WM_OK)
            wmctl_err("export failed: %s",
                      err == WM_EIO || err == WM_ESTATE ? x.why : wm_strerror(err));
        else
            printf(x.skipped ? _("exported %" PRIu64 " records of %" PRIu64
                                 " logs to PostgreSQL (older records skipped: --since)\n")
                             : _("exported %" PRIu64 " records of %" PRIu64 " logs to PostgreSQL\n"),
                   x.rows, x.logs);
        rc = err == WM_OK ? WMCTL_OK : WMCTL_FAIL;
    }
    pgx_close(&x.pg);
    pgx_buf_free(&x.buf);
    pgx_buf_free(&x.joined);
    free(x.cur);
    wm_store_close(&x.s);
    return rc;
}
