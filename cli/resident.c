/* SPDX-License-Identifier: MIT */
/*
 * The station's local table of residents who raised needs: the file
 * residents.tsv in the node directory, one line per need,
 *     REF <tab> YYYYMMDD <tab> NAME <tab> PHONE <newline>
 * mode 0600. It never leaves the station: no record, bundle or rollup
 * carries it; the need record carries only REF, 128 random bits in hex,
 * which names nobody. (Backups of the node directory copy it; wmctl
 * backup, which copies only the log, does not.)
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "wm_crypto.h"
#include "wm_i18n.h"
#include "wm_validate.h"
#include "cmd_order.h"

#define RESIDENT_FILE "residents.tsv"

/* A field of the table: UTF-8 text, no tab or line break, at most WM_TEXT_MAX bytes. */
static int field_ok(const char *flag, const char *v)
{
    size_t n = v ? strlen(v) : 0;
    if (v && (n > WM_TEXT_MAX || !wm_utf8_valid(v, n) || strchr(v, '\t'))) {
        wmctl_reject(flag, _("--%s must be text of at most %d bytes without tabs"), flag,
                     WM_TEXT_MAX);
        return 0;
    }
    return 1;
}

int wmctl_resident_keep(wmctl_t *w, const char *name, const char *phone, uint32_t date,
                        char ref[WMCTL_RESIDENT_REF_LEN + 1])
{
    uint8_t rnd[WMCTL_RESIDENT_REF_LEN / 2];
    char path[4096 + 32], line[3 * WM_TEXT_MAX + 64];
    int rc = WMCTL_FAIL, fd = -1;
    if (!field_ok("resident", name) || !field_ok("phone", phone))
        return WMCTL_USAGE;
    if ((rc = wmctl_config(w)))
        return rc;
    rc = WMCTL_FAIL;
    wm_random(rnd, sizeof rnd);
    for (size_t i = 0; i < sizeof rnd; i++)
        snprintf(ref + 2 * i, 3, "%02x", rnd[i]);
    snprintf(path, sizeof path, "%s/%s", w->cfg.dir, RESIDENT_FILE);
    int n = snprintf(line, sizeof line, "%s\t%" PRIu32 "\t%s\t%s\n", ref, date, name ? name : "",
                     phone ? phone : "");
    fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0 || write(fd, line, (size_t)n) != n || fsync(fd) != 0) {
        wmctl_err("cannot keep the resident in %s: %s; nothing was recorded", path,
                  strerror(errno));
        goto out;
    }
    rc = WMCTL_OK; /* durable: the need may now name ref */
out:
    if (fd >= 0 && close(fd) != 0 && rc == WMCTL_OK) {
        wmctl_err("cannot keep the resident in %s: %s; nothing was recorded", path,
                  strerror(errno));
        rc = WMCTL_FAIL;
    }
    return rc;
}
