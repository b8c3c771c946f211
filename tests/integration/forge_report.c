/* SPDX-License-Identifier: MIT */
/*
 * forge_report — a dishonest town, for it_county.sh.
 *
 *   forge_report NODE PERIOD [DELTA [COVER_EPOCH | bad-first-hash]]
 *
 * NODE is a town's node directory (or its wmsync.conf); its daemon must be
 * stopped (the LMDB environment is opened for writing, and the daemon's
 * flock on the data directory is not taken here). The tool finds the
 * town's latest rollup of PERIOD in its own log (either form), adds DELTA
 * (default 5) to totals.activities.theme_lecture and to
 * totals.activities.total of its JSON, and appends a NEW RollupReport
 * record with the altered JSON at the head of the log, properly chained
 * (with COVER_EPOCH, every "covers" entry names that epoch instead: a town
 * claiming a station head no aggregator stores, for it_epochs.sh; with
 * bad-first-hash, the first "covers" entry names a head hash of zeros: a
 * town whose report does not match the records it sends, for it_county.sh),
 * and signed with the town's own key. To the county this is a perfectly
 * valid record: only an audit against the station records can tell.
 *
 * It also moves the fork-guard file (SIGN_KEY.state, see daemon/wm_guard.h)
 * to the new head, as the daemon would, so the daemon restarts cleanly. The
 * file format is written here rather than through the daemon's module:
 * nothing outside daemon/ includes daemon/.
 *
 * Prints "forged PERIOD as seq S (epoch E): theme_lecture A -> B" on
 * stdout. Exit 0 on success, 1 on failure, 2 on usage.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "wm_config.h"
#include "wm_crypto.h"
#include "wm_date.h"
#include "wm_record.h"
#include "wm_report.h"
#include "wm_store.h"

/* Adds delta to the integer at obj.key; fails if it is not an integer. */
static int bump(json_t *obj, const char *key, json_int_t delta, json_int_t *was)
{
    json_t *v = json_object_get(obj, key);
    if (!json_is_integer(v))
        return -1;
    *was = json_integer_value(v);
    return json_object_set_new(obj, key, json_integer(*was + delta));
}

/* The fork-guard file, as daemon/wm_guard.c writes it: write, fsync, rename. */
static int write_guard(const char *path, const uint8_t log_id[static WM_LOG_ID_BYTES],
                       uint32_t epoch, uint64_t seq)
{
    char tmp[PATH_MAX + 16], hex[2 * WM_LOG_ID_BYTES + 1], buf[256];
    if ((size_t)snprintf(tmp, sizeof tmp, "%s.tmp", path) >= sizeof tmp)
        return -1;
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return -1;
    int len = snprintf(buf, sizeof buf, "log_id=%s\nepoch=%" PRIu32 "\nseq=%" PRIu64 "\n",
                       wm_hex(log_id, WM_LOG_ID_BYTES, hex), epoch, seq);
    int ok = write(fd, buf, (size_t)len) == len && fsync(fd) == 0;
    ok = close(fd) == 0 && ok;
    if (!ok || rename(tmp, path) != 0) {
        unlink(tmp);
        return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 3 || argc > 5) {
        fprintf(stderr, "usage: forge_report NODE_DIR|CONFIG PERIOD "
                        "[DELTA [COVER_EPOCH|bad-first-hash]]\n");
        return 2;
    }
    json_int_t delta = argc >= 4 ? strtoll(argv[3], NULL, 10) : 5;
    char conf[PATH_MAX], why[512];
    struct stat sb;
    if (stat(argv[1], &sb) == 0 && S_ISDIR(sb.st_mode))
        snprintf(conf, sizeof conf, "%s/%s", argv[1], WM_CONF_NAME);
    else
        snprintf(conf, sizeof conf, "%s", argv[1]);
    wm_period_t p;
    if (wm_period_parse(argv[2], &p) != WM_OK) {
        fprintf(stderr, "forge_report: \"%s\" is not a period\n", argv[2]);
        return 2;
    }

    int rc = 1;
    wm_config_t cfg;
    wm_signer_t *signer = NULL;
    wm_store_t *s = NULL;
    wm_txn_t *t = NULL;
    json_t *j = NULL;
    char *text = NULL;
    uint8_t *srec = NULL;
    size_t len = 0;
    wm_err_t err;

    if (wm_crypto_init() != WM_OK) {
        fprintf(stderr, "forge_report: libsodium does not initialise\n");
        return 1;
    }
    if ((err = wm_config_load(conf, &cfg, why, sizeof why)) != WM_OK) {
        fprintf(stderr, "forge_report: %s: %s\n", conf, why);
        return 2;
    }
    if ((err = wm_signer_load(cfg.sign_key, &signer)) != WM_OK) {
        fprintf(stderr, "forge_report: signing key %s: %s\n", cfg.sign_key, wm_strerror(err));
        goto out;
    }
    if ((err = wm_store_open(cfg.data_dir, 0, cfg.map_mb, &s)) != WM_OK) {
        fprintf(stderr, "forge_report: store %s: %s\n", cfg.data_dir, wm_strerror(err));
        goto out;
    }
    if ((err = wm_txn_begin(s, 1, &t)) != WM_OK) {
        fprintf(stderr, "forge_report: write txn: %s\n", wm_strerror(err));
        goto out;
    }

    /* The head of the town's own log and the hash of its srec. */
    uint32_t node = 0, epoch = 0;
    wm_head_t head;
    wm_srec_t hv;
    uint8_t prev[WM_HASH_BYTES];
    if ((err = wm_nodeno_lookup(t, cfg.id, &node)) != WM_OK ||
        (err = wm_epoch_last(t, node, &epoch)) != WM_OK ||
        (err = wm_log_head(t, node, epoch, &head)) != WM_OK) {
        fprintf(stderr, "forge_report: no own log of %s: %s\n", cfg.id, wm_strerror(err));
        goto out;
    }
    if (head.seq == 0 || (err = wm_log_get(t, node, epoch, head.seq, &hv)) != WM_OK) {
        fprintf(stderr, "forge_report: %s has no head record in epoch %" PRIu32 "\n", cfg.id,
                epoch);
        goto out;
    }
    wm_srec_hash(&hv, prev);
    if (memcmp(prev, head.hash, WM_HASH_BYTES) != 0) {
        fprintf(stderr, "forge_report: the head hash of %s does not match its record\n", cfg.id);
        goto out;
    }

    /* The latest honest report of the period, in either form (a town
     * whose county reads the binary form publishes RollupPart records);
     * the forgery is a JSON RollupReport, which every county reads. */
    if ((err = wm_report_find_full(t, cfg.id, &p, &j, NULL)) != WM_OK) {
        fprintf(stderr, "forge_report: %s never published %s: %s\n", cfg.id, p.name,
                wm_strerror(err));
        goto out;
    }
    json_t *acts = json_object_get(json_object_get(j, "totals"), "activities");
    json_int_t was = 0, was_total = 0;
    if (!j || bump(acts, "theme_lecture", delta, &was) != 0 ||
        bump(acts, "total", delta, &was_total) != 0) {
        fprintf(stderr, "forge_report: the report has no totals.activities.theme_lecture\n");
        goto out;
    }
    if (argc == 5 && strcmp(argv[4], "bad-first-hash") == 0) {
        json_t *first = json_array_get(json_object_get(j, "covers"), 0);
        char zeros[2 * WM_HASH_BYTES + 1];
        memset(zeros, '0', sizeof zeros - 1);
        zeros[sizeof zeros - 1] = '\0';
        if (!first || json_object_set_new(first, "hash", json_string(zeros)) != 0) {
            fprintf(stderr, "forge_report: the report covers no station\n");
            goto out;
        }
    } else if (argc == 5) {
        size_t ci;
        json_t *cov;
        json_array_foreach(json_object_get(j, "covers"), ci, cov)
            json_object_set_new(cov, "epoch", json_integer(strtoll(argv[4], NULL, 10)));
    }
    if (!(text = json_dumps(j, JSON_COMPACT))) {
        fprintf(stderr, "forge_report: out of memory\n");
        goto out;
    }

    /* The new record, chained to the head and signed with the town's key. */
    Wm__RollupReport rr = WM__ROLLUP_REPORT__INIT;
    wm_record_t r = WM__RECORD__INIT;
    rr.period = (char *)p.name;
    rr.from = p.from;
    rr.to = p.to;
    rr.json = text;
    r.schema = WM_SCHEMA;
    r.station = cfg.id;
    r.epoch = epoch;
    r.seq = head.seq + 1;
    r.prev = (ProtobufCBinaryData){WM_HASH_BYTES, prev};
    r.captured = (int64_t)time(NULL);
    r.body_case = WM__RECORD__BODY_ROLLUP;
    r.rollup = &rr;
    if ((err = wm_record_seal(&r, signer, &srec, &len)) != WM_OK ||
        (err = wm_log_append(t, node, &r, srec, len)) != WM_OK ||
        (err = wm_txn_commit(&t)) != WM_OK) {
        fprintf(stderr, "forge_report: cannot append: %s (%s)\n", wm_strerror(err),
                wm_store_detail(s));
        goto out;
    }

    /* Durable: now the guard may name the new head. */
    uint8_t log_id[WM_LOG_ID_BYTES];
    char gpath[PATH_MAX + 8];
    snprintf(gpath, sizeof gpath, "%s.state", cfg.sign_key);
    if (wm_store_log_id(s, log_id) != WM_OK || write_guard(gpath, log_id, epoch, r.seq) != 0) {
        fprintf(stderr, "forge_report: cannot write the fork-guard file %s: %s\n", gpath,
                strerror(errno));
        goto out;
    }
    printf("forged %s as seq %" PRIu64 " (epoch %" PRIu32 "): theme_lecture %" JSON_INTEGER_FORMAT
           " -> %" JSON_INTEGER_FORMAT ", total %" JSON_INTEGER_FORMAT " -> %" JSON_INTEGER_FORMAT
           "\n",
           p.name, r.seq, epoch, was, was + delta, was_total, was_total + delta);
    rc = 0;
out:
    wm_txn_abort(&t);
    free(srec);
    free(text);
    json_decref(j);
    wm_store_close(&s);
    wm_signer_free(&signer);
    return rc;
}
