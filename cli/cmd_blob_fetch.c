/* SPDX-License-Identifier: MIT */
/*
 * wmctl blob fetch HASH [--child ID [--path ID,…]] [--chunk BYTES] [--out FILE
 * [--force]] — at an aggregator: brings a blob its child keeps into this
 * node's store (blob_fetch.h), then, with --out, writes it as `blob get`
 * does. The fetch loop is blob_fetch_run, which `audit --with-evidence`
 * shares.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "blob_fetch.h"
#include "evidence.h"
#include "wm_blob.h"
#include "wm_net.h"
#include "wm_status.h"

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The bytes of h's .part in the node's store (0 if none): where a fetch
 * resumes. Read-only, as every look of wmctl's at the store. */
static uint64_t part_size(const wmctl_t *w, const uint8_t *h)
{
    char hex[WM_BLOB_HEXLEN + 1], path[PATH_MAX + 96];
    struct stat st;
    wm_hex(h, WM_HASH_BYTES, hex);
    snprintf(path, sizeof path, "%s/%s/%s.part", w->cfg.dir, WM_BLOB_DIRNAME, hex);
    return stat(path, &st) == 0 && S_ISREG(st.st_mode) ? (uint64_t)st.st_size : 0;
}

static void res_fail(blob_fetch_res_t *res, const char *slug, const char *why)
{
    snprintf(res->slug, sizeof res->slug, "%s", slug && slug[0] ? slug : "refused");
    snprintf(res->why, sizeof res->why, "%s", why ? why : "");
}

/* One call: asks the daemon for the next chunk of at most max bytes.
 * 1: a reply with no error (*rep the caller's), 0: failed (res says why;
 * *timeout set if the child or the daemon did not answer in time). */
static int ask_chunk(wmctl_t *w, const uint8_t *h, const blob_fetch_opts_t *o, uint32_t max,
                     Wm__CtlReply **rep, blob_fetch_res_t *res, int *timeout)
{
    Wm__CtlRequest req = WM__CTL_REQUEST__INIT;
    Wm__BlobFetch f = WM__BLOB_FETCH__INIT;
    f.hash.data = (uint8_t *)h, f.hash.len = WM_HASH_BYTES;
    f.size = o->size;
    f.max = max;
    f.via = (char *)(o->via ? o->via : "");
    f.path = (char **)o->path;
    f.n_path = o->n_path;
    req.op_case = WM__CTL_REQUEST__OP_BLOB_FETCH;
    req.blob_fetch = &f;
    *timeout = 0;
    wm_err_t err = wmctl_call(w, &req, rep);
    if (err != WM_OK) {
        *timeout = err == WM_ETIMEOUT;
        res_fail(res, err == WM_ETIMEOUT ? "timeout" : "daemon",
                 err == WM_EDOWN ? _("the daemon is not running; start it and try again")
                 : err == WM_EPERM ? _("this user may not use the daemon's control socket")
                                   : wm_strerror(err));
        return 0;
    }
    if ((*rep)->error && (*rep)->error[0]) {
        *timeout = (*rep)->field && strcmp((*rep)->field, "timeout") == 0;
        res_fail(res, (*rep)->field, (*rep)->message);
        if ((*rep)->blob_from && (*rep)->blob_from[0])
            snprintf(res->from, sizeof res->from, "%s", (*rep)->blob_from);
        wm_pb_free(rep);
        return 0;
    }
    return 1;
}

/* The next chunk size: about a second of the link (took_ms for max). */
static uint32_t adapt(uint32_t max, int64_t took_ms)
{
    if (took_ms < 1000 && max <= WM_BLOB_FETCH_MAX / 2)
        return max * 2;
    if (took_ms > 4000 && max >= 2 * BLOB_FETCH_CHUNK_MIN)
        return max / 2;
    return max;
}

/* Timeouts in a row a fetch rides out (halving its chunk each time). */
#define TIMEOUTS_MAX 3
/* Replies in a row that hold no more bytes than before: the child keeps
 * answering nothing new (another fetch of the same blob takes them, at most). */
#define STALLS_MAX 8

int blob_fetch_run(wmctl_t *w, const uint8_t h[static WM_HASH_BYTES], const blob_fetch_opts_t *o,
                   blob_fetch_res_t *res)
{
    uint32_t max = o->chunk ? o->chunk : BLOB_FETCH_CHUNK_FIRST;
    int timeouts = 0, stalls = 0;
    memset(res, 0, sizeof *res);
    res->resumed_at = part_size(w, h);
    uint64_t before = res->resumed_at;
    for (;;) {
        Wm__CtlReply *rep = NULL;
        int timeout = 0;
        int64_t t0 = mono_ms();
        if (!ask_chunk(w, h, o, max, &rep, res, &timeout)) {
            if (!timeout || ++timeouts > TIMEOUTS_MAX)
                return WMCTL_FAIL;
            max = max / 2 >= BLOB_FETCH_CHUNK_MIN ? max / 2 : BLOB_FETCH_CHUNK_MIN;
            continue; /* resumes from what the store holds */
        }
        timeouts = 0;
        res->held = rep->blob_held;
        res->size = rep->blob_size;
        res->present = rep->blob_present;
        if (rep->blob_from && rep->blob_from[0])
            snprintf(res->from, sizeof res->from, "%s", rep->blob_from);
        wm_pb_free(&rep);
        if (res->present)
            break;
        stalls = res->held > before ? 0 : stalls + 1;
        before = res->held;
        if (stalls > STALLS_MAX) {
            res_fail(res, "stalled", _("the child's answers bring no more bytes"));
            return WMCTL_FAIL;
        }
        if (o->progress)
            wmctl_progress("fetching", res->held, res->size);
        if (!o->chunk)
            max = adapt(max, mono_ms() - t0);
    }
    if (o->progress)
        wmctl_progress(NULL, 0, 0);
    return WMCTL_OK;
}

/* --path "a,b": the hops below --child, into path (cap of them). */
static int split_path(char *list, char **path, size_t cap, size_t *n)
{
    *n = 0;
    for (char *save = NULL, *tok = strtok_r(list, ",", &save); tok;
         tok = strtok_r(NULL, ",", &save)) {
        if (*n == cap) {
            wmctl_reject("path", "at most %zu hops below --child", cap);
            return WMCTL_USAGE;
        }
        path[(*n)++] = tok;
    }
    return WMCTL_OK;
}

#define PATH_HOPS_MAX 8

/* No record held here names the blob and more than one child is
 * connected (slug "child"): asks each connected child in turn (the live
 * sessions of status), until one has it; a child whose bytes do not hash
 * to the name (mismatch) does not stop the others. WMCTL_OK with res of
 * the one that had it; else WMCTL_FAIL, res->why listing what each
 * answered, res->slug "mismatch" if any sent wrong bytes. */
static int probe_children(wmctl_t *w, const uint8_t *h, blob_fetch_opts_t *fo,
                          blob_fetch_res_t *res)
{
    json_t *live = wm_status_live(NULL, w->cfg.control);
    json_t *sessions = json_object_get(live, "sessions");
    char tried[WM_WHY_MAX] = "";
    size_t used = 0;
    const char *id;
    json_t *v;
    int rc = WMCTL_FAIL, wrong = 0;
    json_object_foreach(sessions, id, v)
    {
        fo->via = id;
        if (blob_fetch_run(w, h, fo, res) == WMCTL_OK) {
            rc = WMCTL_OK;
            break;
        }
        int k = snprintf(tried + used, sizeof tried - used, "%s%s: %s", used ? "; " : "", id,
                         res->slug);
        if (k > 0 && (size_t)k < sizeof tried - used)
            used += (size_t)k;
        wrong |= !strcmp(res->slug, "mismatch");
        if (!strcmp(res->slug, "daemon"))
            break; /* no daemon to ask: said as it is */
    }
    fo->via = NULL;
    if (rc == WMCTL_OK && wrong)
        fprintf(stderr, _("wmctl: warning: a child sent bytes that are not this file (%s)\n"),
                tried);
    if (rc != WMCTL_OK && used && strcmp(res->slug, "daemon")) {
        snprintf(res->why, sizeof res->why, _("no connected child holds it (%s)"), tried);
        if (wrong)
            snprintf(res->slug, sizeof res->slug, "mismatch");
    }
    json_decref(live);
    return rc;
}

int cmd_blob_fetch(wmctl_t *w, int argc, char **argv)
{
    static const char *const flags[] = {"force", NULL};
    uint8_t h[WM_HASH_BYTES];
    char *path[PATH_HOPS_MAX], *plist = NULL, hex[WM_BLOB_HEXLEN + 1];
    blob_fetch_opts_t fo = {.progress = 1};
    blob_fetch_res_t res;
    wmctl_opts_t o;
    int rc = WMCTL_USAGE;
    if (argc < 3 || strlen(argv[2]) != WM_BLOB_HEXLEN || wm_unhex(argv[2], h, sizeof h) != WM_OK) {
        wmctl_reject("hash", "blob fetch needs a file's hash (64 hex digits, as wmctl log --json "
                             "shows it)");
        return WMCTL_USAGE;
    }
    if ((rc = wmctl_opts_parse(&o, argc - 3, argv + 3, flags)))
        return rc;
    const char *out = wmctl_opt(&o, "out"), *chunk = wmctl_opt(&o, "chunk");
    const char *p = wmctl_opt(&o, "path");
    int force = wmctl_flag(&o, "force");
    fo.via = wmctl_opt(&o, "child");
    if ((rc = wmctl_opts_unused(&o, "blob fetch")))
        return rc;
    if (chunk) {
        char *end = NULL;
        errno = 0;
        unsigned long v = strtoul(chunk, &end, 10);
        if (errno || !end || *end || v < 1 || v > WM_BLOB_FETCH_MAX) {
            wmctl_reject("chunk", "bytes asked at a time: 1 to %u", WM_BLOB_FETCH_MAX);
            return WMCTL_USAGE;
        }
        fo.chunk = (uint32_t)v;
    }
    if (p && !fo.via) {
        wmctl_reject("path", "--path names the hops below --child: give --child too");
        return WMCTL_USAGE;
    }
    if (p && (!(plist = strdup(p)) || (rc = split_path(plist, path, PATH_HOPS_MAX, &fo.n_path)))) {
        free(plist);
        return plist ? rc : WMCTL_FAIL;
    }
    fo.path = path;
    if ((rc = wmctl_config(w))) {
        free(plist);
        return rc;
    }
    rc = blob_fetch_run(w, h, &fo, &res);
    if (rc != WMCTL_OK && !fo.via && !strcmp(res.slug, "child"))
        rc = probe_children(w, h, &fo, &res);
    free(plist);
    wm_hex(h, WM_HASH_BYTES, hex);
    if (rc != WMCTL_OK) {
        wmctl_err("blob fetch: %s (%s)", res.why, res.slug);
        if (res.held && strcmp(res.slug, "mismatch") != 0)
            fprintf(stderr, _("wmctl: %" PRIu64 " of %" PRIu64 " bytes are held here; run the "
                              "same command again to resume\n"),
                    res.held, res.size);
        return strcmp(res.slug, "child") == 0 || strcmp(res.slug, "hash") == 0 ? WMCTL_USAGE
                                                                                : WMCTL_FAIL;
    }
    if (res.resumed_at && res.resumed_at < res.size)
        fprintf(stderr, _("wmctl: resumed at byte %" PRIu64 " (held from an earlier fetch)\n"),
                res.resumed_at);
    if (!out)
        printf(_("blob %s: %" PRIu64 " bytes held here, verified%s%s\n"), hex, res.size,
               res.from[0] ? _(", from ") : "", res.from);
    return out ? evidence_blob_get(w, h, out, force) : WMCTL_OK;
}
