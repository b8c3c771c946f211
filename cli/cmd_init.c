/* SPDX-License-Identifier: MIT */
/*
 * wmctl init — creates a node directory: DIR/wmsync.conf, the Ed25519
 * signing key and the Curve25519 transport key (secrets mode 0600, public
 * halves beside them). Refuses to overwrite anything that exists.
 * --upstream-id FILE (the parent's `wmctl keys` line) gives the upstream's
 * transport key and pins its signing key (DIR/upstream.id, wm_ident.h):
 * the parent's log then comes down to this node (PROTOCOL.md §8).
 */
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "wm_crypto.h"
#include "wm_ident.h"
#include "wm_nodedir.h"
#include "wm_validate.h"
#include "wm_i18n.h"
#include "wmctl.h"

int cmd_init(wmctl_t *w, int argc, char **argv)
{
    (void)w;
    wmctl_opts_t o;
    int rc = wmctl_opts_parse(&o, argc - 1, argv + 1, NULL);
    if (rc)
        return rc;
    const char *role_s = wmctl_opt(&o, "role"), *id = wmctl_opt(&o, "id"),
               *name = wmctl_opt(&o, "name"), *dir = wmctl_opt(&o, "dir"),
               *listen = wmctl_opt(&o, "listen"), *up = wmctl_opt(&o, "upstream"),
               *upkey = wmctl_opt(&o, "upstream-key"), *upid = wmctl_opt(&o, "upstream-id");
    if ((rc = wmctl_opts_unused(&o, "init")))
        return rc;
    wm_role_t role = role_s ? wm_role_parse(role_s) : 0;
    if (!role) {
        wmctl_err("init: --role must be station, town, county, city or province");
        return WMCTL_USAGE;
    }
    if (!id || wm_validate_id(id) != WM_OK) {
        wmctl_err("init: --id must be a lowercase slug path like xx-county/longhua/xinhe");
        return WMCTL_USAGE;
    }
    if (!name || !name[0] || strlen(name) > WM_TEXT_MAX || !wm_utf8_valid(name, strlen(name))) {
        wmctl_err("init: --name must be a display name of valid UTF-8 text");
        return WMCTL_USAGE;
    }
    if (!dir) {
        wmctl_err("init: --dir is required");
        return WMCTL_USAGE;
    }
    static wm_ident_t pin; /* two lines of text: not on the stack */
    char hexkey[2 * WM_PUB_BYTES + 1], pinwhy[512];
    if (upid) { /* the parent's identity: its transport key, and its signing key to pin */
        if (wm_ident_read(upid, &pin, pinwhy, sizeof pinwhy) != WM_OK) {
            wmctl_err("init: --upstream-id: %s", pinwhy);
            return WMCTL_USAGE;
        }
        wm_hex(pin.curve_pub, WM_PUB_BYTES, hexkey);
        if (upkey && strcasecmp(upkey, hexkey) != 0) {
            wmctl_err("init: --upstream-key differs from the transport key in %s; give one of "
                      "them", upid);
            return WMCTL_USAGE;
        }
        upkey = hexkey;
    }
    uint8_t tmp[WM_PUB_BYTES];
    if ((upid && !up) || (up && !upkey) || (upkey && wm_unhex(upkey, tmp, sizeof tmp) != WM_OK)) {
        wmctl_err("init: --upstream needs --upstream-key, the upstream's 64-hex-digit "
                  "transport key, or --upstream-id, the upstream's `wmctl keys` line (wmctl "
                  "keys on the upstream node prints both)");
        return WMCTL_USAGE;
    }
    if (role == WM_ROLE_STATION && listen) {
        wmctl_err("init: --listen is for aggregators (town, county, city, province)");
        return WMCTL_USAGE;
    }
    char conf[PATH_MAX], why[PATH_MAX + 256];
    wm_err_t err = wm_nodedir_create(dir, role, id, name, listen, up, upkey, conf, sizeof conf,
                                     why, sizeof why);
    if (err != WM_OK) {
        wmctl_err("init: %s", why);
        return WMCTL_FAIL;
    }
    if (upid && wm_ident_pin_write(dir, &pin, pinwhy, sizeof pinwhy) != WM_OK) {
        wmctl_err("init: %s (the node directory is made: pin the parent with "
                  "`wmctl upstream-id FILE`)", pinwhy);
        return WMCTL_FAIL;
    }
    printf(_("initialised %s %s (%s) in %s\n  config: %s\n  start:  wmsyncd -c %s\n"),
           wm_role_name(role), id, name, dir, conf, conf);
    if (upid)
        printf(_("  parent: %s pinned (its log is received and verified here)\n"), pin.node);
    return WMCTL_OK;
}
