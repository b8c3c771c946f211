/* SPDX-License-Identifier: MIT */
/* wm_err — strings for the project's error codes. */
#include "wm_err.h"

#include <errno.h>

#include "wm_i18n.h"

static const struct {
    const char *name;
    const char *text;
} wm_err_table[WM_ERR_COUNT] = {
    [WM_OK] = {"ok", N_("success")},
    [WM_EINVAL] = {"invalid", N_("invalid input")},
    [WM_ENOMEM] = {"no_memory", N_("out of memory")},
    [WM_EDECODE] = {"malformed", N_("malformed record or message")},
    [WM_ETOOBIG] = {"too_big", N_("too large")},
    [WM_EBADSIG] = {"bad_signature", N_("signature does not verify")},
    [WM_ECHAIN] = {"bad_chain", N_("record does not chain to the previous one")},
    [WM_ENOTFOUND] = {"not_found", N_("not found")},
    [WM_EEXIST] = {"exists", N_("already exists")},
    [WM_EMAPFULL] = {"map_full",
                     N_("the database reached its size limit: raise or remove map_max_mb in the "
                     "config and reload (the map grows by itself below it)")},
    [WM_EIO] = {"io_error", N_("I/O error")},
    [WM_EFORK] = {"fork_guard", N_("fork guard: signing key found without its full log")},
    [WM_EDOWN] = {"daemon_down", N_("the daemon is not running")},
    [WM_ETIMEOUT] = {"timeout", N_("timed out")},
    [WM_EPERM] = {"not_permitted", N_("not permitted")},
    [WM_ESTATE] = {"bad_state", N_("not valid in the current state")},
    [WM_ECONFIG] = {"bad_config", N_("bad configuration")},
    [WM_EFORKED] = {"equivocation", N_("a different record already exists at this seq")},
    [WM_ENOSPC] = {"disk_full",
                   N_("disk full: free space on the file system of the data directory "
                   "(what was stored before is intact)")},
    [WM_EQUOTA] = {"quota", N_("storage quota used up")},
    [WM_ECORRUPT] = {"corrupt",
                     N_("the database is damaged: restore the newest backup (wmctl restore)")},
};

const char *wm_strerror(wm_err_t rc)
{
    if ((unsigned)rc >= WM_ERR_COUNT)
        return _("unknown error");
    return _(wm_err_table[rc].text);
}

const char *wm_errname(wm_err_t rc)
{
    if ((unsigned)rc >= WM_ERR_COUNT)
        return "unknown";
    return wm_err_table[rc].name;
}

wm_err_t wm_err_from_errno(int e)
{
    switch (e) {
    case 0:
        return WM_OK;
    case ENOSPC:
    case EDQUOT:
        return WM_ENOSPC;
    case ENOMEM:
        return WM_ENOMEM;
    case EEXIST:
        return WM_EEXIST;
    case ENOENT:
        return WM_ENOTFOUND;
    case EACCES:
    case EPERM:
        return WM_EPERM;
    default:
        return WM_EIO;
    }
}
