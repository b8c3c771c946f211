/* SPDX-License-Identifier: MIT */
/*
 * wmctl blob prune — keeps a node's blob store (NODE/blobs, attachments)
 * in bounds (issue 12 item 6).
 *
 * At a station: removes the blobs its aggregator has confirmed it holds,
 * verified (storage/wm_blobref.h, WM_BLOBREF_CONFIRMED), whose file is
 * older than [blobs] keep_days (or --days N), keeping of each a thumbnail
 * (at most PHOTO_THUMB_PX, client/photo.h), written durably beside it
 * (wm_blob.h, NAME.thumb) before the file goes: the pages still show the
 * evidence, `wmctl blob get` says the town holds the file, `wmctl verify`
 * counts it pruned, not missing. The thumbnail is made here, by wmctl,
 * because libvips stays out of the daemon; a file of which no thumbnail
 * can be made (a PDF this libvips cannot render) keeps an empty one, which
 * only says it was pruned. A blob not yet confirmed is never removed: it
 * is the only copy. At an aggregator nothing is ever
 * removed by itself: this command, with --days N given explicitly, removes
 * the blobs older than N days (a county then fetches them from nowhere:
 * the operator's choice), and leaves WM_BLOBREF_RECOUNT in the store so
 * that the daemon counts each child's blobs for its quota again. The
 * records that name a pruned blob stay as they are; its figures count.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "photo.h"
#include "wm_blob.h"
#include "wm_blobref.h"
#include "wm_i18n.h"
#include "wmctl.h"

typedef struct {
    wm_blob_t *bs;
    wm_txn_t *t;      /* NULL at an aggregator: no confirmation needed */
    uint32_t self;
    time_t before;    /* files last written before this go */
    uint64_t n, bytes, kept_unconfirmed, no_thumb;
    wm_err_t err;
} prune_ctx_t;

/* The blob's thumbnail, stored durably (empty, *none set, if none can be
 * made: not a picture libvips renders). WM_OK or the store's error. */
static wm_err_t keep_thumb(wm_blob_t *bs, const uint8_t hash[static WM_HASH_BYTES], uint64_t size,
                           int *none)
{
    uint8_t *data = NULL, *t = NULL;
    size_t n = 0, tl = 0;
    wm_err_t err = size > WM_BLOB_MAX ? WM_ETOOBIG : WM_OK;
    if (err == WM_OK && !(data = malloc(size ? size : 1)))
        err = WM_ENOMEM;
    if (err == WM_OK)
        err = wm_blob_read(bs, hash, 0, data, size, &n);
    if (err == WM_OK && n != size)
        err = WM_EIO;
    if (err == WM_OK && (photo_thumb(data, n, PHOTO_THUMB_PX, &t, &tl) != WM_OK ||
                         tl > WM_BLOB_THUMB_MAX)) {
        *none = 1; /* not a picture libvips renders: an empty one says "pruned" */
        tl = 0;
    }
    if (err == WM_OK)
        err = wm_blob_thumb_put(bs, hash, t, tl);
    free(t);
    free(data);
    return err;
}

static int prune_one(const uint8_t hash[static WM_HASH_BYTES], uint64_t size, void *ctx)
{
    prune_ctx_t *pc = ctx;
    char name[PATH_MAX + 80], hex[WM_BLOB_HEXLEN + 1];
    struct stat st;
    snprintf(name, sizeof name, "%s/%s", wm_blob_dir(pc->bs), wm_hex(hash, WM_HASH_BYTES, hex));
    if (stat(name, &st) != 0 || st.st_mtime >= pc->before)
        return 0;
    if (pc->t) {
        wm_blobref_t ref;
        wm_err_t err = wm_blobref_get(pc->t, pc->self, hash, &ref);
        if (err != WM_OK || !(ref.flags & WM_BLOBREF_CONFIRMED)) {
            pc->kept_unconfirmed++; /* the only copy, or not ours */
            return 0;
        }
    }
    if (pc->t) { /* a station: the thumbnail first, durably, then the file */
        int none = 0;
        if ((pc->err = keep_thumb(pc->bs, hash, size, &none)) != WM_OK)
            return 1;
        pc->no_thumb += (uint64_t)none;
    }
    if ((pc->err = wm_blob_remove(pc->bs, hash)) != WM_OK)
        return 1;
    pc->n++;
    pc->bytes += size;
    return 0;
}

int cmd_blob_prune(wmctl_t *w, int argc, char **argv)
{
    wmctl_opts_t o;
    int rc = wmctl_opts_parse(&o, argc - 2, argv + 2, NULL);
    if (rc)
        return rc;
    const char *days_s = wmctl_opt(&o, "days");
    if ((rc = wmctl_opts_unused(&o, "blob prune")) || (rc = wmctl_config(w)))
        return rc;
    int agg = w->cfg.listen[0] != 0;
    char *end = NULL;
    unsigned long days = days_s ? strtoul(days_s, &end, 10) : w->cfg.blobs_keep_days;
    if ((days_s && (!days_s[0] || *end || days > WM_CONFIG_KEEP_DAYS_MAX)) || (agg && !days_s)) {
        wmctl_reject("days", agg ? "an aggregator prunes only when told how old: give --days N"
                                 : "\"%s\" is not a number of days", days_s ? days_s : "");
        return WMCTL_USAGE;
    }
    if (days == 0) {
        printf(_("nothing pruned: [blobs] keep_days is 0 (keep every blob)\n"));
        return WMCTL_OK;
    }
    char dir[PATH_MAX + 16];
    snprintf(dir, sizeof dir, "%s/%s", w->cfg.dir, WM_BLOB_DIRNAME);
    prune_ctx_t pc = {.before = time(NULL) - (time_t)days * 86400};
    wm_store_t *s = NULL;
    if (!agg && (rc = wmctl_open_ro(w, &s, &pc.self)))
        return rc;
    wm_err_t err = wm_blob_open(dir, &pc.bs);
    if (err == WM_OK && s)
        err = wm_txn_begin(s, 0, &pc.t);
    if (err == WM_OK && (agg || pc.t))
        err = wm_blob_list(pc.bs, prune_one, &pc);
    if (err == WM_OK)
        err = pc.err;
    wm_txn_abort(&pc.t);
    wm_store_close(&s);
    if (agg && pc.n && pc.bs) {
        /* The daemon counts its children's blobs again (their quota). */
        char mark[PATH_MAX + 32];
        snprintf(mark, sizeof mark, "%s/%s", dir, WM_BLOBREF_RECOUNT);
        FILE *f = fopen(mark, "w");
        if (!f || fclose(f) != 0)
            wmctl_err("blob prune: cannot ask the daemon to count the blobs held again (%s)", mark);
    }
    wm_blob_close(&pc.bs);
    if (err != WM_OK) {
        wmctl_err("blob prune: %s (%" PRIu64 " blob(s) removed before it)", wm_strerror(err), pc.n);
        return WMCTL_FAIL;
    }
    printf(_("pruned %" PRIu64 " blob(s) older than %lu day(s), %.1f MiB freed; %" PRIu64
             " kept: not yet confirmed by the aggregator\n"),
           pc.n, days, (double)pc.bytes / (1 << 20), pc.kept_unconfirmed);
    if (!agg && pc.n)
        printf(_("a thumbnail of each pruned photo is kept (wmctl blob get HASH --thumb); %" PRIu64
                 " pruned file(s) have none (not pictures)\n"),
               pc.no_thumb);
    return WMCTL_OK;
}
