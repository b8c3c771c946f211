/* SPDX-License-Identifier: MIT */
/* evidence — wmctl's photos and sign-in sheets; see evidence.h. */
#include "evidence.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "wm_blob.h"
#include "wm_blobcall.h"
#include "wm_crypto.h"
#include "wm_net.h"
#include "wm_i18n.h"
#include "wm_record.h"

static int prepare_one(wmctl_t *w, evidence_t *ev, const char *flag, const char *path, int role)
{
    char why[WM_WHY_MAX] = "";
    size_t i = ev->n;
    photo_t *p = &ev->ph[i];
    wm_err_t err = photo_prepare(path, (int)w->cfg.blobs_max_px, p, why, sizeof why);
    if (err != WM_OK) {
        wmctl_reject(flag, "%s: %s", path, why);
        return err == WM_EINVAL || err == WM_ETOOBIG ? WMCTL_USAGE : WMCTL_FAIL;
    }
    if (p->len > WM_ATTACH_SIZE_MAX) {
        wmctl_reject(flag, "%s is %zu bytes; an attachment may be at most %u", path, p->len,
                     WM_ATTACH_SIZE_MAX);
        photo_free(p);
        return WMCTL_USAGE;
    }
    wm_hash(p->data, p->len, ev->hash[i]);
    Wm__Attachment *a = &ev->a[i];
    wm__attachment__init(a);
    a->hash.data = ev->hash[i], a->hash.len = WM_HASH_BYTES;
    a->size = p->len;
    a->media_type = (char *)p->media_type;
    a->taken_at = p->taken_at;
    a->dhash = p->dhash;
    a->role = role;
    ev->pa[i] = a;
    ev->path[i] = path;
    ev->n++;
    return WMCTL_OK;
}

int evidence_prepare(wmctl_t *w, wmctl_opts_t *o, wm_recbody_t *b, evidence_t *ev)
{
    const char *photos[WM_PHOTOS_MAX + 1], *sheets[WM_SHEETS_MAX + 1];
    int np = wmctl_opt_all(o, "photo", photos, WM_PHOTOS_MAX + 1);
    int ns = wmctl_opt_all(o, "attach", sheets, WM_SHEETS_MAX + 1);
    int rc;
    memset(ev, 0, sizeof *ev);
    if (np > WM_PHOTOS_MAX) {
        wmctl_reject("photo", "at most %d photos allowed", WM_PHOTOS_MAX);
        return WMCTL_USAGE;
    }
    if (ns > WM_SHEETS_MAX) {
        wmctl_reject("attach", "at most %d sign-in sheet allowed", WM_SHEETS_MAX);
        return WMCTL_USAGE;
    }
    if (np + ns == 0)
        return WMCTL_OK;
    if ((rc = wmctl_config(w)))
        return rc;
    for (int i = 0; i < np; i++)
        if ((rc = prepare_one(w, ev, "photo", photos[i], WM__ATTACHMENT_ROLE__PHOTO)))
            return rc;
    for (int i = 0; i < ns; i++)
        if ((rc = prepare_one(w, ev, "attach", sheets[i], WM__ATTACHMENT_ROLE__SIGN_IN_SHEET)))
            return rc;
    b->activity.n_attachments = ev->n;
    b->activity.attachments = ev->pa;
    return WMCTL_OK;
}

/* wm_blobcall's progress: wmctl's progress line for flag. */
static void progress(void *ctx, uint64_t done, uint64_t total)
{
    wmctl_progress(ctx, done, total);
}

static wm_blobcall_t blobcall(wmctl_t *w, const char *what)
{
    return (wm_blobcall_t){.control = w->cfg.control, .lang = wm_i18n_lang(),
                           .timeout_ms = WMCTL_TIMEOUT_MS, .progress = progress,
                           .ctx = (void *)what};
}

/* A file to the daemon, resuming where it holds part of it
 * (client/wm_blobcall.c, the code wmweb's uploads use too). */
static int send_one(wmctl_t *w, const evidence_t *ev, size_t i)
{
    const photo_t *p = &ev->ph[i];
    const char *flag = ev->a[i].role == WM__ATTACHMENT_ROLE__PHOTO ? "photo" : "attach";
    wm_blobcall_t bc = blobcall(w, flag);
    wm_blobcall_fail_t f;
    wm_err_t err = wm_blobcall_put(&bc, ev->hash[i], p->data, p->len, &f);
    w->lost = f.lost;
    if (err == WM_OK)
        return WMCTL_OK; /* present at the daemon, durably */
    if (err == WM_EDOWN && !f.error[0]) {
        wmctl_err("the wmsyncd daemon for %s is not running, so nothing was recorded. "
                  "Start it (systemctl start wmsyncd, or wmsyncd -c %s) and try again",
                  w->cfg.id, w->cfg.path);
        return WMCTL_FAIL;
    }
    if (err == WM_EPERM && !f.error[0]) {
        WM_IGNORE(wmctl_call_denied(w)); /* says why; the error is the one above */
        return WMCTL_FAIL;
    }
    wmctl_err("%s: the daemon could not store the file, so nothing was recorded: %s",
              ev->path[i], f.why[0] ? f.why : wm_strerror(err));
    return err == WM_EINVAL ? WMCTL_USAGE : WMCTL_FAIL;
}

int evidence_send(wmctl_t *w, const evidence_t *ev)
{
    int rc = WMCTL_OK;
    for (size_t i = 0; i < ev->n && rc == WMCTL_OK; i++)
        rc = send_one(w, ev, i);
    wmctl_progress(NULL, 0, 0);
    return rc;
}

void evidence_free(evidence_t *ev)
{
    for (size_t i = 0; i < ev->n; i++)
        photo_free(&ev->ph[i]);
    ev->n = 0;
}

/* ---- wmctl verify: the files on disk against the signed hashes ---- */

typedef struct {
    wmctl_t *w;
    int quiet;
    uint64_t held, missing, bad, pruned;
} vctx_t;

/* 1 if the store keeps a thumbnail of hash: the station pruned the file
 * after its aggregator confirmed it (cmd_blob_prune.c). */
static int was_pruned(const char *dir, const uint8_t *h)
{
    char hex[2 * WM_HASH_BYTES + 1], path[PATH_MAX + 96];
    wm_hex(h, WM_HASH_BYTES, hex);
    snprintf(path, sizeof path, "%s/%s.thumb", dir, hex);
    return access(path, F_OK) == 0;
}

wm_err_t evidence_check_file(const char *dir, const uint8_t *h, uint64_t size)
{
    char hex[2 * WM_HASH_BYTES + 1], path[PATH_MAX + 80];
    uint8_t buf[65536], got[WM_HASH_BYTES];
    uint64_t total = 0;
    wm_hash_state_t st;
    wm_hex(h, WM_HASH_BYTES, hex);
    snprintf(path, sizeof path, "%s/%s", dir, hex);
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return errno == ENOENT ? WM_ENOTFOUND : WM_EIO;
    wm_hash_init(&st);
    for (;;) {
        ssize_t n = read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            close(fd);
            return WM_EIO;
        }
        if (n == 0)
            break;
        wm_hash_update(&st, buf, (size_t)n);
        total += (uint64_t)n;
    }
    close(fd);
    wm_hash_final(&st, got);
    return total == size && memcmp(got, h, WM_HASH_BYTES) == 0 ? WM_OK : WM_ECORRUPT;
}

static int verify_one(void *ctx, uint32_t epoch, uint64_t seq, const wm_srec_t *v)
{
    vctx_t *c = ctx;
    wm_record_t *r = NULL;
    char dir[PATH_MAX + 16], hex[2 * WM_HASH_BYTES + 1];
    if (wm_record_decode(v->bytes, v->len, &r) != WM_OK)
        return 0; /* the log's own verification names it */
    if (r->body_case != WM__RECORD__BODY_ACTIVITY || !r->activity)
        goto out;
    snprintf(dir, sizeof dir, "%s/blobs", c->w->cfg.dir);
    for (size_t i = 0; i < r->activity->n_attachments; i++) {
        const Wm__Attachment *a = r->activity->attachments[i];
        if (a->hash.len != WM_HASH_BYTES)
            continue;
        wm_err_t err = evidence_check_file(dir, a->hash.data, a->size);
        if (err == WM_OK)
            c->held++;
        else if (err == WM_ENOTFOUND && was_pruned(dir, a->hash.data))
            c->pruned++; /* the town holds it: not missing */
        else if (err == WM_ENOTFOUND)
            c->missing++;
        else {
            c->bad++;
            if (!c->quiet)
                printf(_("FAILED: record %" PRIu32 "/%" PRIu64 ": attachment %zu (%s): the file "
                         "on disk does not match the signed hash and size (%s)\n"),
                       epoch, seq, i + 1, wm_hex(a->hash.data, WM_HASH_BYTES, hex),
                       err == WM_EIO ? _("unreadable") : _("altered or damaged"));
        }
    }
out:
    wm_record_free(&r);
    return 0;
}

wm_err_t evidence_verify(wmctl_t *w, wm_txn_t *t, uint32_t node, int quiet, uint64_t *held,
                         uint64_t *missing, uint64_t *bad, uint64_t *pruned)
{
    vctx_t c = {.w = w, .quiet = quiet};
    wm_err_t err = wm_log_scan(t, node, 0, 0, verify_one, &c, NULL);
    *held = c.held, *missing = c.missing, *bad = c.bad, *pruned = c.pruned;
    return err;
}

/* ---- wmctl blob get HASH --out FILE ---- */

static int blob_get(wmctl_t *w, const uint8_t h[static WM_HASH_BYTES], const char *out,
                    int force, int thumb)
{
    int rc = WMCTL_FAIL, bad = 1;
    uint8_t *data = NULL;
    size_t len = 0;
    char hex[2 * WM_HASH_BYTES + 1];
    outfile_t *f = NULL;
    wm_blobcall_t bc = blobcall(w, "blob");
    wm_blobcall_fail_t why;
    wm_err_t err = wm_blobcall_get(&bc, h, thumb, (size_t)WM_BLOB_MAX, &data, &len, &why);
    wmctl_progress(NULL, 0, 0);
    if (err == WM_EDOWN && !why.error[0])
        wmctl_err("the wmsyncd daemon for %s is not running; start it and try again", w->cfg.id);
    else if (err == WM_EPERM && !why.error[0])
        WM_IGNORE(wmctl_call_denied(w)); /* says why */
    else if (err == WM_ECORRUPT)
        wmctl_err("blob get: the bytes received do not hash to %s; nothing written",
                  wm_hex(h, WM_HASH_BYTES, hex));
    else if (err != WM_OK && (why.error[0] || err == WM_EDECODE || err == WM_ETOOBIG))
        wmctl_err("blob get: %s", why.why);
    else if (err != WM_OK)
        wmctl_err("no answer from the daemon (%s)", wm_strerror(err));
    if (err == WM_ENOTFOUND && why.error[0])
        rc = WMCTL_USAGE;
    if (err != WM_OK || !(f = wmctl_out_open(out, 0644, force)))
        goto out;
    if (fwrite(data, 1, len, outfile_stream(f)) != len)
        goto out;
    bad = 0;
    rc = WMCTL_OK;
out:
    free(data);
    if (f && wmctl_out_close(&f, bad, out ? out : "-") != WMCTL_OK)
        rc = WMCTL_FAIL;
    return rc;
}

int evidence_blob_get(wmctl_t *w, const uint8_t h[static WM_HASH_BYTES], const char *out,
                      int force)
{
    return blob_get(w, h, out, force, 0);
}

int cmd_blob(wmctl_t *w, int argc, char **argv)
{
    static const char *const flags[] = {"force", "thumb", NULL};
    uint8_t h[WM_HASH_BYTES];
    wmctl_opts_t o;
    if (argc >= 2 && strcmp(argv[1], "prune") == 0)
        return cmd_blob_prune(w, argc, argv); /* cmd_blob_prune.c */
    if (argc >= 2 && strcmp(argv[1], "fetch") == 0)
        return cmd_blob_fetch(w, argc, argv); /* cmd_blob_fetch.c */
    if (argc < 3 || strcmp(argv[1], "get") != 0) {
        wmctl_err("usage: wmctl blob get HASH --out FILE [--thumb] [--force] | blob fetch HASH "
                  "[--child ID] [--out FILE] | blob prune [--days N]");
        return WMCTL_USAGE;
    }
    if (strlen(argv[2]) != 2 * WM_HASH_BYTES || wm_unhex(argv[2], h, sizeof h) != WM_OK) {
        wmctl_reject("hash", "\"%s\" is not a file's hash (64 hex digits, as wmctl log --json "
                             "shows it)", argv[2]);
        return WMCTL_USAGE;
    }
    int rc = wmctl_opts_parse(&o, argc - 3, argv + 3, flags);
    if (rc)
        return rc;
    const char *out = wmctl_opt(&o, "out");
    int force = wmctl_flag(&o, "force"), thumb = wmctl_flag(&o, "thumb");
    if ((rc = wmctl_opts_unused(&o, "blob get")))
        return rc;
    if ((rc = wmctl_config(w)))
        return rc;
    return blob_get(w, h, out, force, thumb);
}
