/* SPDX-License-Identifier: MIT */
/*
 * wmctl backup / restore / rekey — keeping a node's data safe and moving it
 * to a new key.
 *
 * backup:  a consistent, compacted copy of the LMDB environment, taken from
 *          a read transaction while the daemon keeps writing; and the
 *          node's blobs (attachments) in FILE.blobs beside it
 *          (storage/wm_blobpack.h), when it holds any.
 * restore: puts a backup in place of the data directory (daemon stopped),
 *          and the blobs of FILE.blobs, each verified, into NODE/blobs.
 *          Refuses what would fork the chain: a backup older than what the
 *          signing key has already signed, or of another log — unless the
 *          operator chooses --new-epoch, which the daemon then must use too.
 * rekey:   a new signing key; the old one is kept beside it, never used
 *          again. The daemon must then start with --new-epoch. With
 *          --transport also a new transport (CURVE) key, the old one kept
 *          the same way: after a theft of the keys (docs/operations.md §9).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "blobpack_cli.h"
#include "wm_i18n.h"
#include "wm_crypto.h"
#include "wm_envfile.h"
#include "wm_nodedir.h"
#include "wmctl.h"

/* Bytes copied per read when a backup is staged for restore. */
#define COPY_CHUNK (64 * 1024)
/* The most restore appends to data_dir (".restore", ".before-restore-STAMP-N"). */
#define RESTORE_SUFFIX_MAX 64

/* FILE.blobs beside the backup FILE: every blob of the node, if it holds
 * any (its records name them; a backup without them would restore records
 * whose photos are gone). */
static int backup_blobs(wmctl_t *w, const char *out, int force)
{
    char dir[PATH_MAX + 16], path[PATH_MAX + 16];
    wm_blobpack_count_t c;
    snprintf(dir, sizeof dir, "%s/%s", w->cfg.dir, WM_BLOB_DIRNAME);
    if (access(dir, F_OK) != 0)
        return WMCTL_OK; /* no store: nothing to carry */
    int rc = blobpack_cli_write(w, out, NULL, 0, force, &c);
    blobpack_path(out, path, sizeof path);
    if (rc == WMCTL_OK)
        printf(_("backed up %" PRIu64 " blob(s) (%.1f MiB) to %s: keep it beside the backup.\n"),
               c.blobs, (double)c.bytes / (1 << 20), path);
    return rc;
}

int cmd_backup(wmctl_t *w, int argc, char **argv)
{
    static const char *const flags[] = {"force", NULL};
    wmctl_opts_t o;
    int rc = wmctl_opts_parse(&o, argc - 1, argv + 1, flags);
    if (rc)
        return rc;
    const char *out = wmctl_opt(&o, "out");
    int force = wmctl_flag(&o, "force");
    if ((rc = wmctl_opts_unused(&o, "backup")) || (rc = wmctl_config(w)))
        return rc;
    if (!out) {
        wmctl_reject("out", "backup needs --out FILE");
        return WMCTL_USAGE;
    }
    wm_store_t *s = NULL;
    uint32_t self = 0;
    if ((rc = wmctl_open_ro(w, &s, &self)))
        return rc;
    if (!s) {
        wmctl_err("backup: %s holds no data yet", w->cfg.data_dir);
        return WMCTL_FAIL;
    }
    outfile_t *of = wmctl_out_open(out, 0600, force);
    if (!of) {
        wm_store_close(&s);
        return WMCTL_FAIL;
    }
    wmctl_progress(_("backing up (a consistent copy while the daemon runs)"), 0, 0);
    wm_err_t err = wm_store_copy_fd(s, outfile_fd(of));
    wmctl_progress(NULL, 0, 0);
    if (err != WM_OK)
        wmctl_err("backup to %s failed: %s", out, wm_store_detail(s));
    wm_store_close(&s);
    struct stat st = {0};
    if (err == WM_OK)
        fstat(outfile_fd(of), &st);
    if ((rc = wmctl_out_close(&of, err != WM_OK, out)))
        return rc;
    printf(_("backed up %s to %s (%.1f MiB, compacted). Keep it apart from the keys.\n"),
           w->cfg.id, out, (double)st.st_size / (1 << 20));
    return backup_blobs(w, out, force);
}

static int copy_file(const char *from, const char *to)
{
    int in = open(from, O_RDONLY | O_CLOEXEC), out = -1, ok = 0;
    char buf[COPY_CHUNK];
    ssize_t n;
    if (in >= 0)
        out = open(to, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (in >= 0 && out >= 0) {
        ok = 1;
        while ((n = read(in, buf, sizeof buf)) > 0)
            if (write(out, buf, (size_t)n) != n)
                ok = 0;
        ok = ok && n == 0 && fsync(out) == 0;
    }
    if (in >= 0)
        close(in);
    if (out >= 0 && close(out) != 0)
        ok = 0;
    return ok ? 0 : -1;
}

/* Removes a staging directory and the LMDB files in it. */
static void unstage(const char *stage)
{
    /* Best effort: the next restore clears a leftover stage before use. */
    WM_IGNORE(wm_store_remove(stage));
    rmdir(stage);
}

/* What a staged backup holds of this node's own log. */
typedef struct {
    uint8_t log_id[WM_LOG_ID_BYTES];
    uint32_t epoch;
    wm_head_t head; /* seq 0: no own records */
} backup_head_t;

/* Copies the backup file into the data file of stage (DATA_DIR.restore,
 * beside the current data) and checks it before LMDB maps it: a file cut
 * short would be a SIGBUS at the first page past its end. WMCTL_OK, or
 * prints why, removes the stage and returns the exit code. */
static int stage_backup(const char *file, const char *stage)
{
    char data[PATH_MAX + RESTORE_SUFFIX_MAX + sizeof "/" WM_STORE_DATA_FILE], why[WM_WHY_MAX];
    unstage(stage); /* left over from an interrupted restore */
    if (wm_store_data_path(stage, data, sizeof data) != WM_OK || mkdir(stage, 0700) != 0 ||
        copy_file(file, data) != 0) {
        wmctl_err("restore: cannot stage %s in %s: %s", file, stage, strerror(errno));
        unstage(stage);
        return WMCTL_FAIL;
    }
    wm_err_t err = wm_envfile_check(data, why, sizeof why);
    if (err != WM_OK) {
        wmctl_err("restore: %s %s; nothing was replaced", file, why);
        unstage(stage);
        return err == WM_EIO ? WMCTL_FAIL : WMCTL_USAGE;
    }
    return WMCTL_OK;
}

/* Reads the staged backup's log id and this node's head in it, and
 * verifies every record of the node's own log (its chain and its
 * signature) before it becomes the log the key goes on signing. WMCTL_OK,
 * or prints why and returns the exit code. */
static int read_backup(wmctl_t *w, const char *file, const char *stage, backup_head_t *b)
{
    wm_store_t *s = NULL;
    wm_txn_t *t = NULL;
    uint32_t node = 0;
    wm_verify_t v = {0};
    wm_err_t err = wm_store_open(stage, WM_STORE_RDONLY, w->cfg.map_mb, &s);
    if (err == WM_OK)
        err = wm_store_log_id(s, b->log_id);
    if (err == WM_OK && (err = wm_txn_begin(s, 0, &t)) == WM_OK &&
        wm_nodeno_lookup(t, w->cfg.id, &node) == WM_OK && wm_epoch_last(t, node, &b->epoch) == WM_OK)
        err = wm_log_head(t, node, b->epoch, &b->head);
    wm_err_t verr = err == WM_OK && node ? wm_log_verify(t, node, w->cfg.id, &v) : WM_OK;
    wm_txn_abort(&t);
    wm_store_close(&s);
    if (err != WM_OK) {
        wmctl_err("restore: %s is not a wmsync backup (%s)", file, wm_strerror(err));
        return WMCTL_USAGE;
    }
    if (verr != WM_OK) {
        wmctl_err("restore refused: the log in %s does not verify at epoch %" PRIu32
                  " seq %" PRIu64 " (%s); nothing was replaced. Restore another backup",
                  file, v.bad_epoch, v.bad_seq, v.why[0] ? v.why : wm_strerror(verr));
        return WMCTL_FAIL;
    }
    return WMCTL_OK;
}

/* The fork guard, before anything is replaced: the backup must be of the
 * log this node's key signs, and reach as far as the key has signed.
 * WMCTL_OK, or prints the safe path and returns WMCTL_FAIL. */
static int check_fork_guard(wmctl_t *w, const char *file, const backup_head_t *b)
{
    wm_guard_t g = {0};
    if (wm_nodedir_guard_read(&w->cfg, &g) != WM_OK || !g.present)
        return WMCTL_OK;
    if (memcmp(g.log_id, b->log_id, sizeof g.log_id) != 0) {
        wmctl_err("restore refused: %s is a backup of another log than the one this node's "
                  "signing key has signed. Restoring it would fork the chain.\n"
                  "  Safe path: restore the backup that belongs to this node; or, if this is "
                  "what you have, run `wmctl restore %s --new-epoch` and then start the daemon "
                  "once with `wmsyncd --new-epoch`: the records signed since stay valid where "
                  "they were synced, and the station continues in a new epoch",
                  file, file);
        return WMCTL_FAIL;
    }
    if (g.epoch > b->epoch || (g.epoch == b->epoch && g.seq > b->head.seq)) {
        wmctl_err("restore refused: the backup ends at epoch %" PRIu32 " seq %" PRIu64
                  ", but this node's key has already signed up to epoch %" PRIu32 " seq %" PRIu64
                  ". Restoring it and signing again would fork the chain (the daemon would "
                  "refuse to start).\n"
                  "  Safe path: restore a newer backup if there is one; otherwise run "
                  "`wmctl restore %s --new-epoch` and start the daemon once with "
                  "`wmsyncd --new-epoch`. Records after seq %" PRIu64 " that reached the town "
                  "stay there, valid and attributed to the old epoch",
                  b->epoch, b->head.seq, g.epoch, g.seq, file, b->head.seq);
        return WMCTL_FAIL;
    }
    return WMCTL_OK;
}

/* Swap: the staged backup becomes the data directory; the current data
 * (if any) is kept aside in old, never deleted. WMCTL_OK, or prints why
 * and returns WMCTL_FAIL (the previous data back in place if it can be). */
static int swap_in(wmctl_t *w, const char *stage, char *old, size_t cap)
{
    /* A name no earlier restore used: two restores in one second must not
     * collide (rename onto the first one's directory fails). */
    long now = (long)time(NULL);
    snprintf(old, cap, "%s.before-restore-%ld", w->cfg.data_dir, now);
    for (int k = 2; access(old, F_OK) == 0 && k < 1000; k++)
        snprintf(old, cap, "%s.before-restore-%ld-%d", w->cfg.data_dir, now, k);
    if (access(w->cfg.data_dir, F_OK) == 0 && rename(w->cfg.data_dir, old) != 0) {
        wmctl_err("restore: cannot move %s aside: %s", w->cfg.data_dir, strerror(errno));
        unstage(stage);
        return WMCTL_FAIL;
    }
    if (rename(stage, w->cfg.data_dir) != 0) {
        int e = errno;
        rename(old, w->cfg.data_dir); /* the previous data goes back where it was */
        wmctl_err("restore: cannot put the backup in place: %s%s%s", strerror(e),
                  access(old, F_OK) == 0 ? _("; the previous data is in ") : "",
                  access(old, F_OK) == 0 ? old : "");
        return WMCTL_FAIL;
    }
    return WMCTL_OK;
}

int cmd_restore(wmctl_t *w, int argc, char **argv)
{
    static const char *const flags[] = {"new-epoch", NULL};
    if (argc < 2 || argv[1][0] == '-') {
        wmctl_err("usage: wmctl restore FILE [--new-epoch]");
        return WMCTL_USAGE;
    }
    const char *file = argv[1];
    wmctl_opts_t o;
    int rc = wmctl_opts_parse(&o, argc - 2, argv + 2, flags);
    if (rc)
        return rc;
    int new_epoch = wmctl_flag(&o, "new-epoch");
    if ((rc = wmctl_opts_unused(&o, "restore")) || (rc = wmctl_config(w)))
        return rc;
    if (wm_nodedir_locked(&w->cfg)) {
        wmctl_err("restore: the daemon is running; stop it first (systemctl stop, or SIGTERM)");
        return WMCTL_FAIL;
    }
    /* Open the backup where it will go, but beside the current data. */
    char stage[PATH_MAX + RESTORE_SUFFIX_MAX], old[PATH_MAX + RESTORE_SUFFIX_MAX];
    backup_head_t b = {0};
    snprintf(stage, sizeof stage, "%s.restore", w->cfg.data_dir);
    if ((rc = stage_backup(file, stage)))
        return rc;
    if ((rc = read_backup(w, file, stage, &b)) == WMCTL_OK && !new_epoch)
        rc = check_fork_guard(w, file, &b);
    if (rc != WMCTL_OK) {
        unstage(stage);
        return rc;
    }
    if ((rc = swap_in(w, stage, old, sizeof old)))
        return rc;
    /* The guard beside the key stays as it is, also with --new-epoch: it
     * still says how far the key has signed, so a start without
     * --new-epoch is refused (it would sign the backup's next seqs a second
     * time), and the daemon's --new-epoch start begins above every epoch
     * the key has signed in, then rewrites the guard for the restored log. */
    printf(_("restored %s: epoch %" PRIu32 " seq %" PRIu64 "%s%s\n"), file, b.epoch, b.head.seq,
           access(old, F_OK) == 0 ? _("; the previous data is kept in ") : "",
           access(old, F_OK) == 0 ? old : "");
    wm_blobpack_count_t c;
    char path[PATH_MAX + 16];
    blobpack_path(file, path, sizeof path);
    int brc = blobpack_cli_read(w, file, NULL, NULL, &c); /* each blob checked against its hash */
    if (brc == WMCTL_OK && c.blobs)
        printf(_("restored %" PRIu64 " blob(s) from %s (%" PRIu64 " held already)\n"), c.stored,
               path, c.held);
    if (new_epoch)
        printf(_("now start the daemon once with: wmsyncd -c %s --new-epoch\n"), w->cfg.path);
    return brc;
}

/* Makes a new key pair: the secret in the file path, its public key in pub. */
typedef wm_err_t (*key_maker_t)(const char *path, uint8_t pub[static WM_PUB_BYTES]);

static WM_MUST_CHECK wm_err_t make_signing_key(const char *path, uint8_t pub[static WM_PUB_BYTES])
{
    wm_signer_t *sg = NULL;
    wm_err_t err = wm_signer_generate(&sg);
    if (err == WM_OK)
        err = wm_signer_save(sg, path);
    if (err == WM_OK)
        memcpy(pub, wm_signer_pub(sg), WM_PUB_BYTES);
    wm_signer_free(&sg);
    return err;
}

/* Puts a new key (what: "signing key", "transport key") in place of the
 * file key. The new pair is written beside it first (KEY.new and its .pub);
 * only then are the two swapped, so a failure leaves the node with one
 * working key. The old one is kept as KEY.retired-STAMP (its name into
 * old), never used again. Returns WMCTL_OK, or WMCTL_FAIL with nothing
 * changed. */
static int rotate_key(const char *key, const char *what, key_maker_t make, long stamp,
                      char *old, size_t cap)
{
    char fresh[PATH_MAX], pub[PATH_MAX], oldpub[PATH_MAX], freshpub[PATH_MAX];
    uint8_t pk[WM_PUB_BYTES];
    snprintf(old, cap, "%s.retired-%ld", key, stamp);
    snprintf(fresh, sizeof fresh, "%s.new", key);
    wm_err_t err = wm_nodedir_pub_path(key, pub, sizeof pub);
    if (err == WM_OK)
        err = wm_nodedir_pub_path(old, oldpub, sizeof oldpub);
    if (err == WM_OK)
        err = wm_nodedir_pub_path(fresh, freshpub, sizeof freshpub);
    if (err != WM_OK) {
        wmctl_err("rekey: the path %s is too long; nothing was changed", key);
        return WMCTL_FAIL;
    }
    unlink(fresh);
    unlink(freshpub);
    err = make(fresh, pk);
    if (err == WM_OK)
        err = wm_nodedir_write_pub(fresh, pk);
    if (err != WM_OK) {
        wmctl_err("rekey: cannot write the new %s: %s; nothing was changed", what,
                  wm_strerror(err));
        unlink(fresh);
        unlink(freshpub);
        return WMCTL_FAIL;
    }
    if (rename(key, old) != 0) {
        wmctl_err("rekey: cannot retire %s: %s; nothing was changed", key, strerror(errno));
        unlink(fresh);
        unlink(freshpub);
        return WMCTL_FAIL;
    }
    if (rename(fresh, key) != 0) {
        wmctl_err("rekey: cannot put the new %s in place: %s; the old key is back", what,
                  strerror(errno));
        rename(old, key);
        return WMCTL_FAIL;
    }
    rename(pub, oldpub);
    rename(freshpub, pub);
    return WMCTL_OK;
}

int cmd_rekey(wmctl_t *w, int argc, char **argv)
{
    static const char *const flags[] = {"transport", NULL};
    wmctl_opts_t o;
    int rc = wmctl_opts_parse(&o, argc - 1, argv + 1, flags);
    if (rc)
        return rc;
    int transport = wmctl_flag(&o, "transport");
    if ((rc = wmctl_opts_unused(&o, "rekey")) || (rc = wmctl_config(w)))
        return rc;
    if (wm_nodedir_locked(&w->cfg)) {
        wmctl_err("rekey: the daemon is running; stop it first");
        return WMCTL_FAIL;
    }
    /* The fork-guard file stays: --new-epoch then begins above what it says. */
    char old[PATH_MAX];
    long stamp = (long)time(NULL);
    if (transport) {
        if ((rc = rotate_key(w->cfg.curve_key, _("transport key"), wm_curve_generate, stamp, old,
                             sizeof old)) != WMCTL_OK)
            return rc;
        printf(_("new transport key in %s (the old one is kept as %s).\n"), w->cfg.curve_key, old);
    }
    if ((rc = rotate_key(w->cfg.sign_key, _("signing key"), make_signing_key, stamp, old,
                         sizeof old)) != WMCTL_OK)
        return rc;
    printf(_("new signing key in %s (the old one is kept as %s).\n"
           "Next:\n"
           "  1. start the daemon once with: wmsyncd -c %s --new-epoch\n"
           "  2. give the town the new identity: wmctl -c %s keys   (there: wmctl enroll FILE)\n"
           "Records of earlier epochs stay valid under the old key.\n"),
           w->cfg.sign_key, old, w->cfg.path, w->cfg.path);
    if (w->cfg.role != WM_ROLE_STATION) /* children pin aggregators only */
        printf(_("Starting with --new-epoch writes a key rollover into this node's log, signed "
                 "by the old key: the children that pinned this node follow the new key "
                 "without pinning it again (keep the old key until then).\n"));
    return WMCTL_OK;
}
