/* SPDX-License-Identifier: MIT */
/*
 * wm_ident — a node's public identity line (PROTOCOL.md §6), read: the
 * line `wmctl keys` prints, or its --json form, as `wmctl enroll` takes it
 * at an aggregator and `wmctl upstream-id` pins it at a child. And the
 * child's pin of its parent: the file DIR/upstream.id (WM_IDENT_PIN_FILE)
 * holding the parent's line, which the daemon reads at each connection to
 * its upstream (feature "down", PROTOCOL.md §8).
 *
 *     wmsync-id 1 ROLE ID SIGN_PUB_HEX CURVE_PUB_HEX [from=N] NAME
 *
 * Thread-safe; no state.
 */
#ifndef WM_IDENT_H
#define WM_IDENT_H

#include <stddef.h>
#include <stdint.h>

#include "wm_config.h"
#include "wm_crypto.h"
#include "wm_err.h"

/* The longest identity line, its end of line included. */
#define WM_IDENT_LINE_MAX 4096
/* The pin file in the node directory: the parent's identity line. */
#define WM_IDENT_PIN_FILE "upstream.id"

/* An identity as the line gives it. Strings are NUL-terminated copies. */
typedef struct {
    char node[WM_IDENT_LINE_MAX];
    char name[WM_IDENT_LINE_MAX];
    char role[32];
    uint8_t sign_pub[WM_PUB_BYTES];
    uint8_t curve_pub[WM_PUB_BYTES];
    uint32_t from_epoch; /* 0: not said */
} wm_ident_t;

/* Parses one identity line, or its JSON form, into out (line may end in
 * LF or CR LF; it is modified). -1 if it is neither (a field missing, a key
 * not 64 hex digits, from= not 1 … 4294967295), else 0. */
int wm_ident_parse(char *line, wm_ident_t *out);

/* Reads the first line of the file PATH ("-": stdin) into out. WM_ENOTFOUND
 * if the file does not exist, WM_EIO if it cannot be read, WM_ETOOBIG for a
 * line of WM_IDENT_LINE_MAX bytes or more, WM_EDECODE if it is no identity
 * line; why (cap bytes) says which, naming PATH. */
WM_MUST_CHECK wm_err_t wm_ident_read(const char *path, wm_ident_t *out, char *why, size_t cap);

/* The pin file of the node of cfg: DIR/WM_IDENT_PIN_FILE. */
WM_MUST_CHECK wm_err_t wm_ident_pin_path(const wm_config_t *cfg, char *out, size_t cap);
/* The parent pinned at the node of cfg: WM_ENOTFOUND if none is pinned,
 * else as wm_ident_read. A pin must be an aggregator's line (role town or
 * above), else WM_EDECODE. */
WM_MUST_CHECK wm_err_t wm_ident_pin_read(const wm_config_t *cfg, wm_ident_t *out, char *why,
                                         size_t cap);
/* Pins id (read with wm_ident_read) at the node directory DIR: checked
 * as wm_ident_pin_read does (WM_EDECODE), then its line written to DIR's
 * pin file through a temporary file and a rename (mode 0644), replacing
 * an earlier pin (WM_EIO if it cannot be). why as above. */
WM_MUST_CHECK wm_err_t wm_ident_pin_write(const char *dir, const wm_ident_t *id, char *why,
                                          size_t cap);

#endif
