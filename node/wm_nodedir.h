/* SPDX-License-Identifier: MIT */
/*
 * wm_nodedir — the node directory, one module for the daemon and wmctl:
 * where each file of a node lives, how its keys are loaded, its fork-guard
 * state and the one-daemon lock. Every file name of a node is written here
 * (or, for the configuration file, in wm_config.h; for the LMDB files, in
 * storage's wm_store.h) and nowhere else.
 *
 * Layout, as `wmctl init` creates it (the config may move each path):
 *
 *     DIR/wmsync.conf              the configuration (WM_CONF_NAME)
 *     DIR/                         mode 0750: the daemon's group (wmsync) reads
 *     DIR/keys/                    mode 0700: the daemon's user alone
 *     DIR/keys/sign.key            Ed25519 seed, hex, mode 0600 (sign_key)
 *     DIR/keys/sign.pub            its public key, hex (KEY less ".key" + ".pub")
 *     DIR/keys/sign.key.state      the fork guard (sign_key + ".state", wm_guard.h)
 *     DIR/keys/curve.key           Curve25519 secret, hex, mode 0600 (curve_key)
 *     DIR/keys/curve.pub           its public key, hex
 *     DIR/data/                    the LMDB environment (data_dir), mode 0750;
 *                                  data.mdb 0640, lock.mdb 0660 (wm_store.h)
 *     DIR/data/wmsyncd.lock        flock'ed by the running daemon
 *     DIR/control.sock             the daemon's control socket (control), 0660:
 *                                  its group may talk to the daemon (net/wm_net.h)
 *     DIR/web-users                wmweb's accounts, mode 0640 (wm_users.h)
 *
 * Thread-safe; no state. Paths that do not fit PATH_MAX are WM_ETOOBIG.
 */
#ifndef WM_NODEDIR_H
#define WM_NODEDIR_H

#include <stddef.h>
#include <stdint.h>

#include "wm_config.h"
#include "wm_crypto.h"
#include "wm_err.h"
#include "wm_guard.h"

/* Default paths, relative to the node directory (wm_config's defaults
 * and what wm_config_write and `wmctl init` write). */
#define WM_NODEDIR_DATA "data"
#define WM_NODEDIR_KEYS "keys"
#define WM_NODEDIR_SIGN_KEY WM_NODEDIR_KEYS "/sign.key"
#define WM_NODEDIR_CURVE_KEY WM_NODEDIR_KEYS "/curve.key"
#define WM_NODEDIR_CONTROL "control.sock"
#define WM_NODEDIR_USERS "web-users" /* the web console's accounts (wm_users.h) */
/* The modes `wmctl init` creates: the node directory for the daemon's
 * group to read (the web console runs in it), the keys for nobody else. */
#define WM_NODEDIR_MODE 0750
#define WM_NODEDIR_KEYS_MODE 0700

/* KEY.pub beside KEY: "X.key" gives "X.pub", any other name "NAME.pub". */
WM_MUST_CHECK wm_err_t wm_nodedir_pub_path(const char *key_path, char *out, size_t cap);
/* The fork-guard state file beside the signing key. */
WM_MUST_CHECK wm_err_t wm_nodedir_guard_path(const wm_config_t *cfg, char *out, size_t cap);
/* The daemon's lock file in the data directory. */
WM_MUST_CHECK wm_err_t wm_nodedir_lock_path(const wm_config_t *cfg, char *out, size_t cap);

/* Reads the fork guard of cfg's signing key (g->present = 0 if there is
 * none); WM_EDECODE if it is damaged, WM_EIO if unreadable. */
WM_MUST_CHECK wm_err_t wm_nodedir_guard_read(const wm_config_t *cfg, wm_guard_t *g);

/* Takes the node's lock for the daemon: creates the data directory (0700)
 * if needed, opens the lock file and flocks it. *fd is the lock (close it,
 * or exit, to release), -1 on failure. WM_ESTATE if another daemon holds
 * it; WM_EIO otherwise; why names the file. */
WM_MUST_CHECK wm_err_t wm_nodedir_lock(const wm_config_t *cfg, int *fd, char *why,
                                       size_t cap);
/* Nonzero if a daemon holds the node's lock now (wmctl refuses offline
 * operations then). */
int wm_nodedir_locked(const wm_config_t *cfg);

/* Loads the signing key (*out freed with wm_signer_free). why explains a
 * failure, naming the file (and its mode, if that is the fault). */
WM_MUST_CHECK wm_err_t wm_nodedir_load_signer(const wm_config_t *cfg, wm_signer_t **out,
                                              char *why, size_t cap);
/* The name `wmctl rekey` gives a retired key beside KEY: KEY.retired-STAMP
 * (STAMP: unix seconds), its public key in KEY.retired-STAMP.pub. */
#define WM_NODEDIR_RETIRED ".retired-"

/* Loads the retired signing key (WM_NODEDIR_RETIRED, beside cfg's signing
 * key) whose public key is pub: the key a re-keyed node's daemon signs its
 * key rollover with (daemon/wm_node.h). *out freed with wm_signer_free.
 * WM_ENOTFOUND if no retired key is that one, WM_EIO if the folder cannot
 * be read. */
WM_MUST_CHECK wm_err_t wm_nodedir_retired_signer(const wm_config_t *cfg,
                                                 const uint8_t pub[static WM_PUB_BYTES],
                                                 wm_signer_t **out);
/* Loads the transport key: secret into sec (WM_PUB_BYTES of the caller's
 * secure memory), its public key into pub. why as above. */
WM_MUST_CHECK wm_err_t wm_nodedir_load_curve(const wm_config_t *cfg, uint8_t *sec,
                                             uint8_t pub[static WM_PUB_BYTES], char *why,
                                             size_t cap);

/* The public key beside the secret key file key_path (wm_nodedir_pub_path).
 * WM_ENOTFOUND if the file is missing, WM_EDECODE if it is not 64 hex
 * digits. */
WM_MUST_CHECK wm_err_t wm_nodedir_read_pub(const char *key_path,
                                           uint8_t pub[static WM_PUB_BYTES]);
/* Writes pub as hex to the public key file beside key_path (name.pub),
 * which must not exist: WM_EEXIST, else WM_EIO on failure. */
WM_MUST_CHECK wm_err_t wm_nodedir_write_pub(const char *key_path,
                                            const uint8_t pub[static WM_PUB_BYTES]);

/* Creates a new node directory DIR: the keys folder, both key pairs and the
 * configuration (wm_config_write's arguments). Refuses (WM_EEXIST) if DIR
 * already holds a configuration or a key; conf (cap bytes) gets the
 * configuration's path. why explains a failure. */
WM_MUST_CHECK wm_err_t wm_nodedir_create(const char *dir, wm_role_t role, const char *id,
                                         const char *name, const char *listen,
                                         const char *upstream, const char *upstream_key,
                                         char *conf, size_t cap, char *why, size_t whycap);

#endif
