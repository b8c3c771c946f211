/* SPDX-License-Identifier: MIT */
/*
 * pg_export — the PostgreSQL side of `wmctl export` (docs/postgres.md):
 * the connection, the schema's creation and migration, the durable export
 * cursor, and loading rows of records. The only module that includes
 * <libpq-fe.h>; it knows nothing of LMDB.
 *
 * Rows travel in COPY text format, built with pgx_row_append. A load is
 * one PostgreSQL transaction: the rows and the cursor of their node move
 * together, so an export stopped anywhere (kill -9, PostgreSQL restarted,
 * the network gone) resumes from the cursor with nothing lost and nothing
 * twice; a row already present (the same node, epoch, seq) is skipped.
 *
 * Threads: a pgx_t belongs to one thread. Every function that can fail
 * writes a sentence into why (PostgreSQL's own words included) and returns
 * WM_EIO for a connection or server failure (the caller may reconnect and
 * retry: nothing of the failed load was committed), WM_ESTATE for a
 * database whose schema is newer than this build knows, WM_ENOMEM.
 */
#ifndef PG_EXPORT_H
#define PG_EXPORT_H

#include <stddef.h>
#include <stdint.h>

#include "wm_err.h"

/* The newest schema version this build creates (pg_schema_N.sql). */
int pgx_schema_version(void);

typedef struct pgx pgx_t;

/* A growing text buffer of COPY rows. */
typedef struct {
    char *p;
    size_t len, cap;
    size_t rows;
} pgx_buf_t;

/* One record as a row of wmsync.records. body_json is the body object
 * (compact JSON, UTF-8). */
typedef struct {
    const char *node;
    uint32_t epoch;
    uint64_t seq;
    const char *kind;
    int64_t captured; /* unix seconds */
    const uint8_t *prev;      /* 32 bytes */
    const uint8_t *hash;      /* 32 bytes */
    const uint8_t *signature; /* 64 bytes */
    const uint8_t *record;
    size_t record_len;
    const char *body_json;
} pgx_row_t;

WM_MUST_CHECK wm_err_t pgx_row_append(pgx_buf_t *b, const pgx_row_t *r);

/* A published rollup in its binary form, joined from its RollupPart
 * records (as the node's log joins it), as a row of wmsync.rollup_joined:
 * keyed by its last part; report_json is the rollup object. */
typedef struct {
    const char *node;
    uint32_t epoch;
    uint64_t seq;
    const char *period;
    uint32_t from, to; /* YYYYMMDD */
    const char *report_json;
} pgx_rollup_t;

WM_MUST_CHECK wm_err_t pgx_rollup_append(pgx_buf_t *b, const pgx_rollup_t *r);
void pgx_buf_reset(pgx_buf_t *b);
void pgx_buf_free(pgx_buf_t *b);

/* Connects with a libpq connection string ("host=/run/postgresql
 * dbname=wm", or a postgresql:// URI). */
WM_MUST_CHECK wm_err_t pgx_connect(const char *conninfo, pgx_t **out, char *why, size_t cap);
void pgx_close(pgx_t **p);

/* Creates the schema or migrates it to pgx_schema_version(), under an
 * advisory lock (several exporters may start at once); *version is the
 * version found before (0: none). */
WM_MUST_CHECK wm_err_t pgx_migrate(pgx_t *p, int *version, char *why, size_t cap);

/* The cursor of node from source: the last exported (epoch, seq), or 0, 0. */
WM_MUST_CHECK wm_err_t pgx_cursor_get(pgx_t *p, const char *source, const char *node,
                                      uint32_t *epoch, uint64_t *seq, char *why, size_t cap);

/* Loads the rows of b (all of node) and of joined (rollups those rows
 * complete; NULL: none) in one transaction and, if move_cursor, moves
 * node's cursor from source to (epoch, seq) in it (never backwards).
 * *inserted: rows of b that were new. */
WM_MUST_CHECK wm_err_t pgx_load(pgx_t *p, const char *source, const char *node,
                                const pgx_buf_t *b, const pgx_buf_t *joined, int move_cursor,
                                uint32_t epoch, uint64_t seq, uint64_t *inserted, char *why,
                                size_t cap);

/* Loads the rows of b with a plain COPY into table (created LIKE
 * wmsync.records if missing): the yardstick of the export benchmark. */
WM_MUST_CHECK wm_err_t pgx_copy_plain(pgx_t *p, const char *table, const pgx_buf_t *b,
                                      char *why, size_t cap);

/* Runs one SQL statement and returns the first column of its first row
 * (malloc'd, the caller frees; "" when none). For tests and benchmarks. */
WM_MUST_CHECK wm_err_t pgx_query1(pgx_t *p, const char *sql, char **out, char *why, size_t cap);

#endif
