/* SPDX-License-Identifier: MIT */
/*
 * wmctl init — creates a node directory: DIR/wmsync.conf, the Ed25519
 * signing key and the Curve25519 transport key (secrets mode 0600, public
 * halves beside them). Refuses to overwrite anything that exists.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "wm_crypto.h"
#include "wm_validate.h"
#include "wmctl.h"

static int write_pub(const char *path, const uint8_t pub[WM_PUB_BYTES])
{
    char hex[2 * WM_PUB_BYTES + 1];
    FILE *f = fopen(path, "wx");
    if (!f)
        return -1;
    fprintf(f, "%s\n", wm_hex(pub, WM_PUB_BYTES, hex));
    return fclose(f);
}

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
        wmctl_err("init: --role must be station, town or county");
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
        wmctl_err("init: --listen is for town and county nodes");
        return WMCTL_USAGE;
    }
    char conf[4200], keys[4200], sk[4300], spub[4300], ck[4300], cpub[4300];
    snprintf(conf, sizeof conf, "%s/" WM_CONF_NAME, dir);
    snprintf(keys, sizeof keys, "%s/keys", dir);
    snprintf(sk, sizeof sk, "%s/sign.key", keys);
    snprintf(spub, sizeof spub, "%s/sign.pub", keys);
    snprintf(ck, sizeof ck, "%s/curve.key", keys);
    snprintf(cpub, sizeof cpub, "%s/curve.pub", keys);
    if (access(conf, F_OK) == 0 || access(sk, F_OK) == 0 || access(ck, F_OK) == 0) {
        wmctl_err("init: %s already holds a node; refusing to overwrite its config or keys", dir);
        return WMCTL_FAIL;
    }
    if ((mkdir(dir, 0755) != 0 && errno != EEXIST) || (mkdir(keys, 0700) != 0 && errno != EEXIST)) {
        wmctl_err("init: cannot create %s: %s", keys, strerror(errno));
        return WMCTL_FAIL;
    }
    wm_signer_t *signer = NULL;
    uint8_t cpk[WM_PUB_BYTES];
    wm_err_t err = wm_signer_generate(&signer);
    if (err == WM_OK)
        err = wm_signer_save(signer, sk);
    if (err == WM_OK)
        err = write_pub(spub, wm_signer_pub(signer)) == 0 ? WM_OK : WM_EIO;
    if (err == WM_OK)
        err = wm_curve_generate(ck, cpk);
    if (err == WM_OK)
        err = write_pub(cpub, cpk) == 0 ? WM_OK : WM_EIO;
    if (err == WM_OK)
        err = wm_config_write(conf, role, id, name, listen, up, upkey);
    wm_signer_free(&signer);
    if (err != WM_OK) {
        wmctl_err("init: cannot write the node directory %s: %s", dir, wm_strerror(err));
        return WMCTL_FAIL;
    }
    printf("initialised %s %s (%s) in %s\n  config: %s\n  start:  wmsyncd -c %s\n",
           wm_role_name(role), id, name, dir, conf, conf);
    return WMCTL_OK;
}
