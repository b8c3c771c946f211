/* SPDX-License-Identifier: MIT */
/*
 * wmctl bundle export | import — moving records by file where there is no
 * network. Export reads the station's log read-only; import hands the
 * records to the aggregator's daemon in chunks that go through the very
 * same verify-and-ingest path as the network. A bundle is
 * self-authenticating: its records are signed and chained by the station.
 *
 * File: "WMSYNCB1" (8 bytes) followed by one Bundle message (sync.proto).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "wm_i18n.h"
#include "sync.pb-c.h"
#include "blobpack_cli.h"
#include "wm_bundle.h"
#include "wm_record.h"
#include "wmctl.h"

/* A chunk is one import request: within the aggregator's batch limits
 * (WM_SYNC_MAX_RECORDS, WM_SYNC_MAX_BYTES) and the control socket's. */
#define CHUNK_RECORDS 2000
#define CHUNK_BYTES (1u << 20)

typedef struct {
    Wm__Bundle *b;
    size_t cap;
    int failed;
} export_ctx_t;

static int add_record(void *ctx, uint32_t epoch, uint64_t seq, const wm_srec_t *v)
{
    export_ctx_t *ec = ctx;
    (void)epoch, (void)seq;
    if (!v->bytes) {
        ec->failed = 1;
        return 1;
    }
    if (ec->b->n_records == ec->cap) {
        size_t cap = ec->cap ? ec->cap * 2 : 1024;
        ProtobufCBinaryData *r = realloc(ec->b->records, cap * sizeof *r);
        if (!r) {
            ec->failed = 1;
            return 1;
        }
        ec->b->records = r;
        ec->cap = cap;
    }
    size_t len = v->len + WM_SIG_BYTES;
    uint8_t *copy = malloc(len);
    if (!copy) {
        ec->failed = 1;
        return 1;
    }
    memcpy(copy, v->sig, len);
    ec->b->records[ec->b->n_records++] = (ProtobufCBinaryData){len, copy};
    wmctl_progress("exporting", ec->b->n_records, 0);
    return 0;
}

static int named_blobs(const ProtobufCBinaryData *recs, size_t n, uint8_t (**hashes)[WM_HASH_BYTES],
                       size_t *nh, size_t *cap);

/* OUT.blobs beside the bundle OUT: the blobs its records name that this
 * node holds (feature "blobs": the town imports them with the records). */
static int export_blobs(wmctl_t *w, const char *out, int force, const Wm__Bundle *b)
{
    uint8_t(*hashes)[WM_HASH_BYTES] = NULL;
    size_t nh = 0, cap = 0;
    wm_blobpack_count_t c;
    char path[PATH_MAX + 16];
    if (named_blobs(b->records, b->n_records, &hashes, &nh, &cap) != 0) {
        wmctl_err("bundle export: out of memory");
        return WMCTL_FAIL;
    }
    int rc = nh ? blobpack_cli_write(w, out, (const uint8_t(*)[WM_HASH_BYTES])hashes, nh, force, &c)
                : WMCTL_OK;
    free(hashes);
    blobpack_path(out, path, sizeof path);
    if (nh && rc == WMCTL_OK)
        printf(_("exported %" PRIu64 " of the %zu blob(s) its records name (%.1f MiB) to %s: "
                 "carry it with the bundle\n"),
               c.blobs, nh, (double)c.bytes / (1 << 20), path);
    return rc;
}

/* Exports the records after (since_epoch, since); 0, 0 for all. */
static int do_export(wmctl_t *w, const char *out, int force, uint32_t since_epoch,
                     uint64_t since, int no_blobs)
{
    wm_store_t *s = NULL;
    uint32_t self = 0;
    /* First the file: a name that is taken is refused before the scan.
     * 0600: the records are the station's, like a backup. */
    outfile_t *of = wmctl_out_open(out, 0600, force);
    if (!of)
        return WMCTL_FAIL;
    int rc = wmctl_open_ro(w, &s, &self);
    if (rc) {
        outfile_abort(&of);
        return rc;
    }
    Wm__Bundle b = WM__BUNDLE__INIT;
    export_ctx_t ec = {.b = &b};
    uint8_t sp[WM_PUB_BYTES] = {0};
    if (s && self) {
        wm_txn_t *t = NULL;
        if (wm_txn_begin(s, 0, &t) != WM_OK) {
            wmctl_err("bundle export: cannot read the log: %s", wm_store_detail(s));
            ec.failed = 1;
        } else {
            uint32_t e = 0;
            wm_scan_t end = {0};
            wm_err_t err = wm_epoch_last(t, self, &e);
            if (err == WM_OK)
                err = wm_epoch_key(t, self, e, sp);
            if (err != WM_OK && err != WM_ENOTFOUND) {
                wmctl_err("bundle export: cannot read the signing key of %s: %s", w->cfg.id,
                          wm_strerror(err));
                ec.failed = 1;
            } else if ((err = wm_log_scan(t, self, since ? since_epoch : 0, since ? since + 1 : 0,
                                          add_record, &ec, &end)) != WM_OK) {
                wmctl_scan_failed(s, w->cfg.id, err, &end); /* no partial bundle */
                ec.failed = 1;
            }
        }
        wm_txn_abort(&t);
    }
    wm_store_close(&s);
    wmctl_progress(NULL, 0, 0);
    b.node = w->cfg.id;
    b.sign_pub = (ProtobufCBinaryData){WM_PUB_BYTES, sp};
    uint8_t *buf = NULL;
    size_t len = 0;
    FILE *f = ec.failed ? NULL : outfile_stream(of);
    int bad = !f || wm_pb_encode(&b.base, &buf, &len) != WM_OK ||
              fwrite(WM_BUNDLE_MAGIC, 1, WM_BUNDLE_MAGIC_LEN, f) != WM_BUNDLE_MAGIC_LEN || fwrite(buf, 1, len, f) != len;
    /* On disk before we say so (the commit fsyncs): the file is about to
     * be carried away. A failed read leaves nothing behind. */
    if (ec.failed)
        outfile_abort(&of);
    else if (wmctl_out_close(&of, bad, out) != WMCTL_OK)
        ec.failed = 1;
    free(buf);
    if (ec.failed) {
        rc = WMCTL_FAIL;
        wmctl_err("bundle export failed");
    } else {
        printf(_("exported %zu record(s) of %s to %s\n"), b.n_records, w->cfg.id, out);
        rc = no_blobs ? WMCTL_OK : export_blobs(w, out, force, &b);
    }
    for (size_t i = 0; i < b.n_records; i++)
        free(b.records[i].data);
    free(b.records);
    return rc;
}

/* The attachment hashes the srecs recs[0..n) name, appended to *hashes
 * (*nh of them, *cap allocated; a hash already listed is not repeated).
 * -1 if out of memory; a record that does not decode names none here
 * (the aggregator's ingest refuses it). */
static int named_blobs(const ProtobufCBinaryData *recs, size_t n, uint8_t (**hashes)[WM_HASH_BYTES],
                       size_t *nh, size_t *cap)
{
    for (size_t i = 0; i < n; i++) {
        wm_record_t *r = NULL;
        if (recs[i].len <= WM_SIG_BYTES ||
            wm_record_decode(recs[i].data + WM_SIG_BYTES, recs[i].len - WM_SIG_BYTES, &r) != WM_OK)
            continue;
        size_t na = r->body_case == WM__RECORD__BODY_ACTIVITY ? r->activity->n_attachments : 0;
        for (size_t k = 0; k < na; k++) {
            const Wm__Attachment *a = r->activity->attachments[k];
            size_t j = 0;
            if (a->hash.len != WM_HASH_BYTES)
                continue;
            while (j < *nh && memcmp((*hashes)[j], a->hash.data, WM_HASH_BYTES) != 0)
                j++;
            if (j < *nh)
                continue;
            if (*nh == *cap) {
                size_t c = *cap ? *cap * 2 : 64;
                void *m = realloc(*hashes, c * WM_HASH_BYTES);
                if (!m) {
                    wm_record_free(&r);
                    return -1;
                }
                *hashes = m;
                *cap = c;
            }
            memcpy((*hashes)[(*nh)++], a->hash.data, WM_HASH_BYTES);
        }
        wm_record_free(&r);
    }
    return 0;
}

static int file_read(void *ctx, uint8_t *buf, size_t n)
{
    return fread(buf, 1, n, ctx) == n ? 0 : -1;
}

static int file_seek(void *ctx, uint64_t off)
{
    return off > INT64_MAX || fseeko(ctx, (off_t)off, SEEK_SET) != 0 ? -1 : 0;
}

/* Sends one chunk of records to the daemon. WMCTL_OK, or prints why and
 * returns the exit status. */
static int send_chunk(wmctl_t *w, const char *node, ProtobufCBinaryData *recs, size_t n,
                      uint64_t *accepted, uint64_t *dups)
{
    Wm__Bundle chunk = WM__BUNDLE__INIT;
    chunk.node = (char *)node;
    chunk.records = recs;
    chunk.n_records = n;
    Wm__CtlRequest req = WM__CTL_REQUEST__INIT;
    Wm__CtlReply *rep = NULL;
    req.op_case = WM__CTL_REQUEST__OP_IMPORT;
    req.import = &chunk;
    wm_err_t err = wmctl_call(w, &req, &rep);
    int rc = WMCTL_FAIL;
    if (err != WM_OK)
        wmctl_progress(NULL, 0, 0);
    if (err == WM_EPERM) /* wmctl_call said why */
        return WMCTL_FAIL;
    if (err == WM_EDOWN) {
        wmctl_err("the wmsyncd daemon for %s is not running; start it and import again "
                  "(importing twice is harmless)",
                  w->cfg.id);
    } else if (err != WM_OK) {
        wmctl_err("bundle import: no answer from the daemon: %s", wm_strerror(err));
    } else if (rep->error && rep->error[0]) {
        wmctl_progress(NULL, 0, 0);
        wmctl_err("bundle import refused: %s", rep->message);
        rc = WMCTL_USAGE;
    } else {
        *accepted += rep->accepted;
        *dups += rep->duplicates;
        rc = WMCTL_OK;
    }
    wm_pb_free(&rep);
    return rc;
}

/* Streams the bundle: one pass to check the whole file (nothing is sent
 * from a file that is malformed, truncated or holds an oversized record),
 * then records one at a time into chunks of at most CHUNK_RECORDS records
 * and CHUNK_BYTES bytes, each sent as soon as it is full. Memory: one
 * chunk, whatever the file's size. */
/* The blobs a bundle's records name: only those are taken from its pack. */
typedef struct {
    uint8_t (*hashes)[WM_HASH_BYTES];
    size_t n, cap;
} named_t;

static int named_allow(const uint8_t hash[static WM_HASH_BYTES], uint64_t size, void *ctx)
{
    const named_t *nm = ctx;
    (void)size; /* the bytes must hash to the name: only the signed size can */
    for (size_t i = 0; i < nm->n; i++)
        if (memcmp(nm->hashes[i], hash, WM_HASH_BYTES) == 0)
            return 1;
    return 0;
}

/* IN.blobs, if the bundle came with one: the blobs its records name,
 * each verified, into this node's store. Idempotent and resumable (run
 * the import again). */
static int import_blobs(wmctl_t *w, const char *in, named_t *named)
{
    wm_blobpack_count_t c;
    char path[PATH_MAX + 16];
    int rc = blobpack_cli_read(w, in, named_allow, named, &c);
    blobpack_path(in, path, sizeof path);
    if (rc == WMCTL_OK && c.blobs)
        printf(_("imported %" PRIu64 " blob(s) from %s (%" PRIu64 " held already, %" PRIu64
                 " named by no record of the bundle: left out)\n"),
               c.stored, path, c.held, c.refused);
    return rc;
}

static int do_import(wmctl_t *w, const char *in)
{
    int rc = WMCTL_FAIL;
    named_t named = {0};
    FILE *f = fopen(in, "re");
    uint8_t *buf = NULL;
    ProtobufCBinaryData *recs = NULL;
    wm_bundle_t b;
    struct stat st;
    if (!f || fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
        wmctl_err("bundle import: cannot open %s: %s", in, f ? "not a regular file" : strerror(errno));
        goto out;
    }
    wm_bundle_src_t src = {file_read, file_seek, f, (uint64_t)st.st_size};
    wm_err_t err = wm_bundle_scan(&b, &src);
    if (err != WM_OK) {
        if (err == WM_ETOOBIG)
            wmctl_err("bundle import: %s: %s; nothing was imported", in, b.why);
        else
            wmctl_err("bundle import: %s is not a wmsync bundle (%s)", in, b.why);
        rc = err == WM_EIO ? WMCTL_FAIL : WMCTL_USAGE;
        goto out;
    }
    /* A chunk, and room for the record that no longer fits in it. */
    buf = malloc(CHUNK_BYTES + WM_BUNDLE_REC_MAX);
    recs = calloc(CHUNK_RECORDS, sizeof *recs);
    if (!buf || !recs) {
        wmctl_err("bundle import: out of memory");
        goto out;
    }
    uint64_t accepted = 0, dups = 0;
    size_t n = 0, used = 0, len = 0;
    for (;;) {
        err = wm_bundle_next(&b, buf + used, WM_BUNDLE_REC_MAX, &len);
        if (err != WM_OK && err != WM_ENOTFOUND) {
            wmctl_progress(NULL, 0, 0);
            wmctl_err("bundle import: %s changed while it was read (%s)", in, b.why);
            goto out;
        }
        int last = err == WM_ENOTFOUND;
        if (n && (last || n == CHUNK_RECORDS || used + len > CHUNK_BYTES)) {
            if ((rc = send_chunk(w, b.node, recs, n, &accepted, &dups)) != WMCTL_OK)
                goto out;
            if (named_blobs(recs, n, &named.hashes, &named.n, &named.cap) != 0) {
                wmctl_err("bundle import: out of memory");
                goto out;
            }
            rc = WMCTL_FAIL;
            if (!last)
                memmove(buf, buf + used, len); /* the record that did not fit */
            n = used = 0;
            wmctl_progress("importing", b.next - (last ? 0 : 1), b.records);
        }
        if (last)
            break;
        recs[n++] = (ProtobufCBinaryData){len, buf + used};
        used += len;
    }
    wmctl_progress(NULL, 0, 0);
    printf(_("imported %s: %" PRIu64 " new record(s), %" PRIu64 " already held\n"), b.node,
           accepted, dups);
    if (accepted) /* PROTOCOL.md §3: durable now, each signature checked next */
        printf(_("the town checks each new record's signature now; `wmctl status` shows %s "
               "ok once all are verified\n"),
               b.node);
    rc = import_blobs(w, in, &named);
out:
    free(named.hashes);
    free(recs);
    free(buf);
    if (f)
        fclose(f);
    return rc;
}

/* A whole number of digits only, at most max. */
static int parse_u64(const char *v, uint64_t max, uint64_t *out)
{
    char *end = NULL;
    if (!v[0] || strspn(v, "0123456789") != strlen(v))
        return 0;
    errno = 0;
    unsigned long long x = strtoull(v, &end, 10);
    if (errno || x > max)
        return 0;
    *out = x;
    return 1;
}

int cmd_bundle(wmctl_t *w, int argc, char **argv)
{
    if (argc < 2 || (strcmp(argv[1], "export") != 0 && strcmp(argv[1], "import") != 0)) {
        wmctl_err("usage: wmctl bundle export --out FILE [--since SEQ [--epoch E]] [--force] | "
                  "bundle import FILE");
        return WMCTL_USAGE;
    }
    int rc = wmctl_config(w);
    if (rc)
        return rc;
    if (strcmp(argv[1], "import") == 0) {
        if (argc != 3) {
            wmctl_err("usage: wmctl bundle import FILE");
            return WMCTL_USAGE;
        }
        return do_import(w, argv[2]);
    }
    static const char *const flags[] = {"force", "no-blobs", NULL};
    wmctl_opts_t o;
    if ((rc = wmctl_opts_parse(&o, argc - 2, argv + 2, flags)))
        return rc;
    const char *out = wmctl_opt(&o, "out"), *since = wmctl_opt(&o, "since"),
               *epoch = wmctl_opt(&o, "epoch");
    int force = wmctl_flag(&o, "force"), no_blobs = wmctl_flag(&o, "no-blobs");
    if ((rc = wmctl_opts_unused(&o, "bundle")))
        return rc;
    uint64_t s = 0, e = 1;
    if (!out) {
        wmctl_reject("out", "bundle export needs --out FILE");
        return WMCTL_USAGE;
    }
    if (since && !parse_u64(since, UINT64_MAX - 1, &s)) {
        wmctl_reject("since", "\"%s\" is not a seq number", since);
        return WMCTL_USAGE;
    }
    if (epoch && (!since || !parse_u64(epoch, UINT32_MAX, &e) || e == 0)) {
        wmctl_reject("epoch", "give an epoch number (1 or more) with --since");
        return WMCTL_USAGE;
    }
    return do_export(w, out, force, (uint32_t)e, s, no_blobs);
}
