/* SPDX-License-Identifier: MIT */
/*
 * wmctl init — creates a node directory: DIR/wmsync.conf, the Ed25519
 * signing key and the Curve25519 transport key (secrets mode 0600, public
 * halves beside them). Refuses to overwrite anything that exists.
 */
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "wm_crypto.h"
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
               *upkey = wmctl_opt(&o, "upstream-key");
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
    uint8_t tmp[WM_PUB_BYTES];
    if ((up && !upkey) || (upkey && wm_unhex(upkey, tmp, sizeof tmp) != WM_OK)) {
        wmctl_err("init: --upstream needs --upstream-key, the upstream's 64-hex-digit "
                  "transport key (wmctl keys on the upstream node prints it)");
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
    printf(_("initialised %s %s (%s) in %s\n  config: %s\n  start:  wmsyncd -c %s\n"),
           wm_role_name(role), id, name, dir, conf, conf);
    return WMCTL_OK;
}
