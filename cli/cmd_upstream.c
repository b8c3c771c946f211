/* SPDX-License-Identifier: MIT */
/*
 * wmctl upstream-id FILE — pins the parent at a child that was set up with
 * --upstream-key alone: FILE holds the parent's `wmctl keys` line, whose
 * transport key must be the configured upstream_key (the line names the
 * node this child already syncs with). The line goes to DIR/upstream.id
 * (node/wm_ident.h); the daemon reads it at its next connection to the
 * upstream, and the parent's log then comes down (PROTOCOL.md §8). Pinning
 * again replaces the pin (after the parent re-keyed, say).
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "wm_crypto.h"
#include "wm_i18n.h"
#include "wm_ident.h"
#include "wmctl.h"

int cmd_upstream_id(wmctl_t *w, int argc, char **argv)
{
    static wm_ident_t pin; /* two lines of text: not on the stack */
    char why[512], hex[2 * WM_PUB_BYTES + 1];
    if (argc != 2) {
        wmctl_err("usage: wmctl upstream-id FILE   (FILE holds the parent's `wmctl keys` line; "
                  "- for stdin)");
        return WMCTL_USAGE;
    }
    int rc = wmctl_config(w);
    if (rc)
        return rc;
    if (!w->cfg.upstream[0]) {
        wmctl_err("rejected: %s has no upstream ([sync] upstream), so no parent to pin",
                  w->cfg.id);
        return WMCTL_USAGE;
    }
    if (wm_ident_read(argv[1], &pin, why, sizeof why) != WM_OK) {
        wmctl_err("rejected: %s", why);
        return WMCTL_USAGE;
    }
    wm_hex(pin.curve_pub, WM_PUB_BYTES, hex);
    if (strcasecmp(hex, w->cfg.upstream_key) != 0) {
        wmctl_err("rejected: the transport key of %s in %s is not this node's upstream_key: "
                  "is it the line of the node it syncs with?", pin.node, argv[1]);
        return WMCTL_USAGE;
    }
    wm_err_t err = wm_ident_pin_write(w->cfg.dir, &pin, why, sizeof why);
    if (err == WM_EDECODE) {
        wmctl_err("rejected: %s", why);
        return WMCTL_USAGE;
    }
    if (err != WM_OK) {
        wmctl_err("cannot pin: %s", why);
        return WMCTL_FAIL;
    }
    printf(_("pinned %s (%s) as the parent of %s: its log comes down from the next connection\n"),
           pin.node, pin.role, w->cfg.id);
    return WMCTL_OK;
}
