/* SPDX-License-Identifier: MIT */
/* wm_config — INI configuration through libinih; see wm_config.h. */
#include "wm_config.h"

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <ini.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "wm_date.h"
#include "wm_i18n.h"
#include "wm_nodedir.h"
#include "wm_quota.h"
#include "wm_validate.h"

/* The largest map_size_mb, map_max_mb and quota in MiB: 16 TiB, beyond any
 * disk a node runs on, and small enough that bytes fit a size_t. */
#define CONFIG_MB_MAX (1ul << 24)
/* The longest control socket path: an AF_UNIX path (sun_path) holds 108
 * bytes on Linux, 104 on the BSDs; below 100 fits every one. */
#define CONFIG_CONTROL_MAX 100

typedef struct {
    wm_config_t *cfg;
    char *err;
    size_t errcap;
    int failed;
} load_ctx_t;

static const char *role_names[] = {[WM_ROLE_STATION] = "station",
                                   [WM_ROLE_TOWN] = "town",
                                   [WM_ROLE_COUNTY] = "county",
                                   [WM_ROLE_CITY] = "city",
                                   [WM_ROLE_PROVINCE] = "province"};

const char *wm_role_name(wm_role_t role)
{
    return role >= WM_ROLE_STATION && role <= WM_ROLE_PROVINCE ? role_names[role] : NULL;
}

wm_role_t wm_role_parse(const char *s)
{
    for (int r = WM_ROLE_STATION; r <= WM_ROLE_PROVINCE; r++)
        if (strcmp(s, role_names[r]) == 0)
            return (wm_role_t)r;
    return 0;
}

/* Resolves v against the config directory into out. */
static int set_path(const wm_config_t *cfg, const char *v, char *out, size_t cap)
{
    int n = v[0] == '/' ? snprintf(out, cap, "%s", v) : snprintf(out, cap, "%s/%s", cfg->dir, v);
    return n > 0 && (size_t)n < cap;
}

static int set_str(const char *v, char *out, size_t cap)
{
    size_t n = strlen(v);
    if (n >= cap)
        return 0;
    memcpy(out, v, n + 1);
    return 1;
}

/* Records the first error; inih reports its line number when done. */
static int bad(load_ctx_t *lc, const char *fmt, const char *a, const char *b)
{
    if (!lc->failed)
        snprintf(lc->err, lc->errcap, fmt, a, b);
    lc->failed = 1;
    return 0;
}

/* Looks [section] key up among the keys the config knows. 1: a known key;
 * 0: a section header alone (nothing to set); -1: unknown (recorded). */
static int entry_known(load_ctx_t *lc, const char *section, const char *key)
{
    const struct {
        const char *section, *key;
    } *k, keys[] = {{"node", "role"},           {"node", "id"},
                    {"node", "name"},           {"storage", "data_dir"},
                    {"storage", "map_size_mb"}, {"keys", "sign_key"},
                    {"keys", "curve_key"},      {"control", "socket"},
                    {"sync", "listen"},         {"sync", "upstream"},
                    {"sync", "upstream_key"},   {"log", "level"},
                    {"log", "peer_lines"},      {"log", "peer_window"},
                    {"report", "cadence_days"}, {"report", "silent_days"},
                    {"report", "publish_at_close"}, {"orders", "review_days"},
                    {"storage", "map_max_mb"},  {"quota", "day_mb"},
                    {"quota", "total_mb"},
                    {"sync", "memory_mb"},      {"export", "postgres"},
                    {"sync", "compress"},       {"quota", "blob_mb"},
                    {"sync", "blob_rate"},
                    {"web", "listen"},          {"web", "tls_cert"},
                    {"web", "tls_key"},         {"web", "session_minutes"},
                    {"web", "users"},           {"web", "assets"},
                    {"sync", "heartbeat_s"},    {"sync", "dead_link_s"},
                    {"sync", "handshake_s"},    {"sync", "keepalive_s"},
                    {"blobs", "max_px"},        {"blobs", "date_tolerance_days"},
                    {"blobs", "keep_days"},     {"blobs", "photos_required_from"},
                    {NULL, NULL}};
    int known_section = 0;
    for (k = keys; k->section; k++) {
        if (strcmp(k->section, section) != 0)
            continue;
        known_section = 1;
        if (strcmp(k->key, key) == 0)
            break;
    }
    if (!known_section) {
        bad(lc, _("unknown section [%s]%s"), section, "");
        return -1;
    }
    if (!key[0])
        return 0;
    if (!k->section) {
        bad(lc, _("unknown key \"%s\" in [%s]"), key, section);
        return -1;
    }
    return 1;
}

/* value as a whole decimal number (strtoul's rules) into *v; nonzero if
 * it is not one or out of range. */
static int parse_whole(const char *value, unsigned long *v)
{
    char *end = NULL;
    errno = 0;
    *v = strtoul(value, &end, 10);
    return errno || !end || *end;
}

/* The [sync] timers, seconds. 1: set; 0: a bad value (recorded); -1: key
 * is not a timer. */
static int set_timer(load_ctx_t *lc, const char *key, const char *value)
{
    static const struct {
        const char *key;
        unsigned long min, max;
        size_t off;
    } timers[] = {{"heartbeat_s", 1, 300, offsetof(wm_config_t, heartbeat_s)},
                  {"dead_link_s", 3, 3600, offsetof(wm_config_t, dead_link_s)},
                  {"handshake_s", 2, 600, offsetof(wm_config_t, handshake_s)},
                  {"keepalive_s", 0, 7200, offsetof(wm_config_t, keepalive_s)}};
    for (size_t i = 0; i < sizeof timers / sizeof timers[0]; i++) {
        unsigned long v;
        char range[64];
        if (strcmp(key, timers[i].key) != 0)
            continue;
        snprintf(range, sizeof range, "from %lu to %lu", timers[i].min, timers[i].max);
        if (parse_whole(value, &v) || value[0] == '-' || v < timers[i].min || v > timers[i].max) {
            char msg[160];
            snprintf(msg, sizeof msg, "%s must be a whole number of seconds %s (got \"%%s\")%%s",
                     key, range);
            return bad(lc, msg, value, "");
        }
        *(unsigned *)((char *)lc->cfg + timers[i].off) = (unsigned)v;
        return 1;
    }
    return -1;
}

/* The numeric keys. 1: set; 0: a bad value (recorded); -1: key is not a
 * numeric key. */
static int set_number(load_ctx_t *lc, const char *key, const char *value)
{
    wm_config_t *c = lc->cfg;
    unsigned long v;
    if (strcmp(key, "map_size_mb") == 0) {
        if (parse_whole(value, &v) || v < 1 || v > CONFIG_MB_MAX)
            return bad(lc, _("map_size_mb must be a whole number of MiB, 1 or more (got \"%s\")%s"),
                       value, "");
        c->map_mb = v;
    } else if (strcmp(key, "map_max_mb") == 0 || strcmp(key, "day_mb") == 0 ||
               strcmp(key, "total_mb") == 0) {
        if (parse_whole(value, &v) || value[0] == '-' || v > CONFIG_MB_MAX)
            return bad(lc, _("%s must be a whole number of MiB, 0 for no limit (got \"%s\")"), key,
                       value);
        if (key[0] == 'm')
            c->map_max_mb = v;
        else
            *(key[0] == 'd' ? &c->quota_day_mb : &c->quota_total_mb) = (unsigned)v;
    } else if (strcmp(key, "blob_mb") == 0) {
        if (parse_whole(value, &v) || value[0] == '-' || v > CONFIG_MB_MAX)
            return bad(lc, _("%s must be a whole number of MiB, 0 for no limit (got \"%s\")"), key,
                       value);
        c->quota_blob_mb = (unsigned)v;
    } else if (strcmp(key, "blob_rate") == 0) {
        if (parse_whole(value, &v) || value[0] == '-' || v > WM_CONFIG_BLOB_RATE_MAX)
            return bad(lc, _("blob_rate must be a whole number of bytes a second, 0 for no cap (got \"%s\")%s"),
                       value, "");
        c->blob_rate = v;
    } else if (strcmp(key, "memory_mb") == 0) {
        if (parse_whole(value, &v) || value[0] == '-' || v > CONFIG_MB_MAX)
            return bad(lc, "memory_mb must be a whole number of MiB, 0 for no budget (got \"%s\")%s",
                       value, "");
        c->sync_memory_mb = (unsigned)v;
    } else if (strcmp(key, "review_days") == 0) {
        if (parse_whole(value, &v) || v < 1 || v > 366)
            return bad(lc, _("%s must be a whole number of days from 1 to 366 (got \"%s\")"), key,
                       value);
        c->review_days = (unsigned)v;
    } else if (strcmp(key, "cadence_days") == 0 || strcmp(key, "silent_days") == 0) {
        if (parse_whole(value, &v) || v < 1 || v > 366)
            return bad(lc, _("%s must be a whole number of days from 1 to 366 (got \"%s\")"), key,
                       value);
        *(key[0] == 'c' ? &c->cadence_days : &c->silent_days) = (unsigned)v;
    } else if (strcmp(key, "max_px") == 0) {
        if (parse_whole(value, &v) || v < WM_CONFIG_MAX_PX_MIN || v > WM_CONFIG_MAX_PX_MAX)
            return bad(lc, _("max_px must be a whole number of pixels from 64 to 8192 (got "
                             "\"%s\")%s"),
                       value, "");
        c->blobs_max_px = (unsigned)v;
    } else if (strcmp(key, "keep_days") == 0) {
        if (parse_whole(value, &v) || value[0] == '-' || v > WM_CONFIG_KEEP_DAYS_MAX)
            return bad(lc, _("keep_days must be a whole number of days, 0 for never (got \"%s\")%s"),
                       value, "");
        c->blobs_keep_days = (unsigned)v;
    } else if (strcmp(key, "date_tolerance_days") == 0) {
        if (parse_whole(value, &v) || value[0] == '-' || v > WM_CONFIG_DATE_DAYS_MAX)
            return bad(lc, _("date_tolerance_days must be a whole number of days from 0 to 366 "
                             "(got \"%s\")%s"),
                       value, "");
        c->blobs_date_days = (unsigned)v;
    } else if (strcmp(key, "photos_required_from") == 0) {
        if (value[0] && wm_date_parse(value, &c->blobs_photos_from) != WM_OK)
            return bad(lc, _("photos_required_from must be a date YYYY-MM-DD, or empty for each "
                             "station's first activity with a photo (got \"%s\")%s"),
                       value, "");
        if (!value[0])
            c->blobs_photos_from = 0;
    } else if (strcmp(key, "peer_lines") == 0 || strcmp(key, "peer_window") == 0) {
        if (parse_whole(value, &v) || v < 1 || v > 86400)
            return bad(lc, _("%s must be a whole number from 1 to 86400 (got \"%s\")"), key, value);
        *(key[5] == 'l' ? &c->log_peer_lines : &c->log_peer_window) = (unsigned)v;
    } else {
        return set_timer(lc, key, value);
    }
    return 1;
}

/* The node's identity: role, id, name. 1: set; 0: a bad value (recorded);
 * -1: key is none of them. */
static int set_identity(load_ctx_t *lc, const char *key, const char *value)
{
    wm_config_t *c = lc->cfg;
    int ok = 1;
    if (strcmp(key, "role") == 0) {
        c->role = wm_role_parse(value);
        if (!c->role)
            return bad(lc, _("role must be station, town, county, city or province (got \"%s\")%s"), value, "");
    } else if (strcmp(key, "id") == 0) {
        if (wm_validate_id(value) != WM_OK)
            return bad(lc, _("id \"%s\" is not a lowercase slug path like xx-county/longhua/xinhe%s"),
                       value, "");
        ok = set_str(value, c->id, sizeof c->id);
    } else if (strcmp(key, "name") == 0) {
        if (!wm_utf8_valid(value, strlen(value)))
            return bad(lc, _("name is not valid UTF-8%s%s"), "", "");
        ok = set_str(value, c->name, sizeof c->name);
    } else {
        return -1;
    }
    return ok ? 1 : bad(lc, _("value of \"%s\" is too long%s"), key, "");
}

/* Every other key: paths, endpoints, keys, flags, the log level. 1: set;
 * 0: a bad value (recorded). */
static int set_setting(load_ctx_t *lc, const char *key, const char *value)
{
    wm_config_t *c = lc->cfg;
    int ok = 1;
    if (strcmp(key, "data_dir") == 0) {
        ok = set_path(c, value, c->data_dir, sizeof c->data_dir);
    } else if (strcmp(key, "publish_at_close") == 0) {
        if (strcmp(value, "yes") != 0 && strcmp(value, "no") != 0)
            return bad(lc, _("publish_at_close must be yes or no (got \"%s\")%s"), value, "");
        c->publish_at_close = strcmp(value, "yes") == 0;
    } else if (strcmp(key, "compress") == 0) {
        if (strcmp(value, "yes") != 0 && strcmp(value, "no") != 0)
            return bad(lc, _("compress must be yes or no (got \"%s\")%s"), value, "");
        c->compress = strcmp(value, "yes") == 0;
    } else if (strcmp(key, "sign_key") == 0) {
        ok = set_path(c, value, c->sign_key, sizeof c->sign_key);
    } else if (strcmp(key, "curve_key") == 0) {
        ok = set_path(c, value, c->curve_key, sizeof c->curve_key);
    } else if (strcmp(key, "socket") == 0) {
        ok = set_path(c, value, c->control, sizeof c->control) && strlen(c->control) < CONFIG_CONTROL_MAX;
    } else if (strcmp(key, "listen") == 0) {
        ok = set_str(value, c->listen, sizeof c->listen);
    } else if (strcmp(key, "upstream") == 0) {
        ok = set_str(value, c->upstream, sizeof c->upstream);
    } else if (strcmp(key, "upstream_key") == 0) {
        uint8_t tmp[32];
        if (value[0] && wm_unhex(value, tmp, sizeof tmp) != WM_OK)
            return bad(lc, _("upstream_key must be 64 hex digits (got \"%s\")%s"), value, "");
        ok = set_str(value, c->upstream_key, sizeof c->upstream_key);
    } else if (strcmp(key, "postgres") == 0) {
        ok = set_str(value, c->export_postgres, sizeof c->export_postgres);
    } else if (strcmp(key, "level") == 0) {
        if (strcmp(value, "error") && strcmp(value, "warn") && strcmp(value, "info") &&
            strcmp(value, "debug"))
            return bad(lc, _("level must be error, warn, info or debug (got \"%s\")%s"), value, "");
        ok = set_str(value, c->log_level, sizeof c->log_level);
    }
    return ok ? 1 : bad(lc, _("value of \"%s\" is too long%s"), key, "");
}

/* The [web] section, read by wmweb (and `wmctl user`, for the accounts
 * file). 1: set; 0: a bad value (recorded). */
static int set_web(load_ctx_t *lc, const char *key, const char *value)
{
    wm_config_t *c = lc->cfg;
    int ok = 1;
    unsigned long v;
    if (strcmp(key, "listen") == 0) {
        ok = set_str(value, c->web_listen, sizeof c->web_listen);
    } else if (strcmp(key, "tls_cert") == 0) {
        ok = !value[0] ? (c->web_tls_cert[0] = 0, 1)
                       : set_path(c, value, c->web_tls_cert, sizeof c->web_tls_cert);
    } else if (strcmp(key, "tls_key") == 0) {
        ok = !value[0] ? (c->web_tls_key[0] = 0, 1)
                       : set_path(c, value, c->web_tls_key, sizeof c->web_tls_key);
    } else if (strcmp(key, "users") == 0) {
        ok = set_path(c, value, c->web_users, sizeof c->web_users);
    } else if (strcmp(key, "assets") == 0) {
        ok = set_path(c, value, c->web_assets, sizeof c->web_assets);
    } else if (strcmp(key, "session_minutes") == 0) {
        if (parse_whole(value, &v) || v < 1 || v > 7 * 24 * 60)
            return bad(lc, "session_minutes must be a whole number from 1 to 10080 (got \"%s\")%s",
                       value, "");
        c->web_session_min = (unsigned)v;
    }
    return ok ? 1 : bad(lc, "value of \"%s\" is too long%s", key, "");
}

/* libinih's callback for one entry: 1 to go on, 0 on a bad one (the
 * first error is kept in lc). */
static int on_entry(void *user, const char *section, const char *key, const char *value)
{
    load_ctx_t *lc = user;
    if (!key) /* a section header alone, with libinih built to report one */
        key = "";
    int known = entry_known(lc, section, key);
    if (known <= 0)
        return known == 0;
    if (strcmp(section, "web") == 0)
        return set_web(lc, key, value);
    int rc = set_number(lc, key, value);
    if (rc < 0)
        rc = set_identity(lc, key, value);
    if (rc < 0)
        rc = set_setting(lc, key, value);
    return rc;
}

wm_err_t wm_config_load(const char *path, wm_config_t *cfg, char *err, size_t errcap)
{
    memset(cfg, 0, sizeof *cfg);
    err[0] = 0;
    if (!realpath(path, cfg->path)) {
        snprintf(err, errcap, "%s: %s", path, strerror(errno));
        return errno == ENOENT ? WM_ENOTFOUND : WM_EIO;
    }
    snprintf(cfg->dir, sizeof cfg->dir, "%s", cfg->path);
    char *slash = strrchr(cfg->dir, '/');
    if (slash && slash != cfg->dir)
        *slash = 0;
    /* Defaults, overridden by the file. */
    set_path(cfg, WM_NODEDIR_DATA, cfg->data_dir, sizeof cfg->data_dir);
    set_path(cfg, WM_NODEDIR_SIGN_KEY, cfg->sign_key, sizeof cfg->sign_key);
    set_path(cfg, WM_NODEDIR_CURVE_KEY, cfg->curve_key, sizeof cfg->curve_key);
    set_path(cfg, WM_NODEDIR_CONTROL, cfg->control, sizeof cfg->control);
    snprintf(cfg->log_level, sizeof cfg->log_level, "info");
    cfg->map_mb = 1024;
    cfg->sync_memory_mb = WM_CONFIG_MEMORY_MB;
    cfg->quota_day_mb = WM_QUOTA_DAY_MB;
    cfg->quota_total_mb = WM_QUOTA_TOTAL_MB;
    cfg->quota_blob_mb = WM_CONFIG_BLOB_MB;
    cfg->cadence_days = 14;
    cfg->silent_days = 7;
    cfg->review_days = 7;
    cfg->compress = 1;
    cfg->blobs_max_px = WM_CONFIG_MAX_PX;
    cfg->blobs_keep_days = WM_CONFIG_KEEP_DAYS;
    cfg->blobs_date_days = WM_CONFIG_DATE_DAYS;
    snprintf(cfg->web_listen, sizeof cfg->web_listen, "%s", WM_WEB_LISTEN);
    set_path(cfg, WM_NODEDIR_USERS, cfg->web_users, sizeof cfg->web_users);
    snprintf(cfg->web_assets, sizeof cfg->web_assets, "%s", WM_WEB_ASSETS);
    cfg->web_session_min = WM_WEB_SESSION_MIN;
    cfg->heartbeat_s = WM_CONFIG_HEARTBEAT_S;
    cfg->dead_link_s = WM_CONFIG_DEAD_LINK_S;
    cfg->handshake_s = WM_CONFIG_HANDSHAKE_S;
    cfg->keepalive_s = WM_CONFIG_KEEPALIVE_S;

    load_ctx_t lc = {cfg, err, errcap, 0};
    int rc = ini_parse(cfg->path, on_entry, &lc);
    if (rc < 0) {
        wm_why(err, errcap, "%s: cannot read the file", cfg->path);
        return WM_EIO;
    }
    if (lc.failed) {
        char why[WM_WHY_MAX];
        snprintf(why, sizeof why, "%s", err);
        snprintf(err, errcap, "%s:%d: %s", cfg->path, rc, why);
        return WM_ECONFIG;
    }
    if (rc > 0) {
        wm_why(err, errcap, "%s:%d: not a \"key = value\" line or [section]", cfg->path, rc);
        return WM_ECONFIG;
    }
    if (!cfg->role || !cfg->id[0]) {
        wm_why(err, errcap, "%s: [node] needs both role and id", cfg->path);
        return WM_ECONFIG;
    }
    if (cfg->dead_link_s < 2 * cfg->heartbeat_s) {
        snprintf(err, errcap,
                 "%s: [sync] dead_link_s (%u) must be at least twice heartbeat_s (%u): a live "
                 "link would look dead between two heartbeats",
                 cfg->path, cfg->dead_link_s, cfg->heartbeat_s);
        return WM_ECONFIG;
    }
    if (cfg->upstream[0] && !cfg->upstream_key[0]) {
        wm_why(err, errcap, "%s: [sync] upstream is set but upstream_key is not", cfg->path);
        return WM_ECONFIG;
    }
    return WM_OK;
}

wm_err_t wm_config_write(const char *path, wm_role_t role, const char *id, const char *name,
                         const char *listen, const char *upstream, const char *upstream_key)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0)
        return errno == EEXIST ? WM_EEXIST : WM_EIO;
    FILE *f = fdopen(fd, "w");
    if (!f) {
        close(fd);
        return WM_EIO;
    }
    fprintf(f,
            "# wmsync node configuration. Relative paths are relative to this file's\n"
            "# directory. See wmsync.conf(5). Unknown keys are errors.\n\n"
            "[node]\n"
            "# station (village / community), town (institute) or county (center)\n"
            "role = %s\n"
            "# lowercase slug path, unique in the county: county/town/station\n"
            "id = %s\n"
            "# display name, may be Chinese\n"
            "name = %s\n\n"
            "[storage]\n"
            "# LMDB environment directory\n"
            "data_dir = " WM_NODEDIR_DATA "\n"
            "# LMDB map size in MiB to start with; it grows by itself as the data grows\n"
            "map_size_mb = 1024\n"
            "# ceiling of that growth in MiB; 0: none (it grows while the disk lasts)\n"
            "map_max_mb = 0\n\n"
            "[keys]\n"
            "# Ed25519 record-signing seed (hex, mode 0600). Never copy it without data_dir.\n"
            "sign_key = " WM_NODEDIR_SIGN_KEY "\n"
            "# Curve25519 transport secret for ZeroMQ CURVE (hex, mode 0600)\n"
            "curve_key = " WM_NODEDIR_CURVE_KEY "\n\n"
            "[control]\n"
            "# local control socket for wmctl (mode 0600)\n"
            "socket = " WM_NODEDIR_CONTROL "\n\n"
            "[sync]\n"
            "# aggregators: ZeroMQ endpoint to listen on, e.g. tcp://0.0.0.0:7450\n"
            "listen = %s\n"
            "# the node above: its endpoint and its Curve25519 public key (hex)\n"
            "upstream = %s\n"
            "upstream_key = %s\n"
            "# aggregators: memory budget in MiB for children catching up; fewer batches\n"
            "# are let in flight while it is used up (0: no budget)\n"
            "# memory_mb = " WM_CONFIG_MEMORY_MB_STR "\n"
            "# compressed batches (feature \"zstd\"), used only when the other side\n"
            "# offers them too; no: this node offers none\n"
            "# compress = yes\n"
            "# stations: bytes a second the attachments (photos) may take of the link,\n"
            "# behind the records; 0: no cap (a 2G link: 2000; 3G: 20000)\n"
            "# blob_rate = 0\n\n"
            "# timers for thin links, in seconds (wmsync.conf(5)): heartbeat, silence\n"
            "# after which a link is dead, connect-to-welcome limit, TCP keepalive (0: off)\n"
            "# heartbeat_s = 5\n"
            "# dead_link_s = 15\n"
            "# handshake_s = 30\n"
            "# keepalive_s = 25\n\n"
            "[log]\n"
            "# error, warn, info or debug\n"
            "level = info\n"
            "# lines one peer (a station, a key, an address) may cause per window of\n"
            "# peer_window seconds; the rest are counted in one summary line\n"
            "# peer_lines = 20\n"
            "# peer_window = 60\n\n"
            "[report]\n"
            "# a volunteer team should serve at least once in this many days\n"
            "cadence_days = 14\n"
            "# a station not heard from for this many days is reported as a problem\n"
            "silent_days = 7\n"
            "# aggregators with an upstream: publish each month's signed rollup when the\n"
            "# month closes (it can always be published on demand with wmctl publish)\n"
            "publish_at_close = %s\n\n"
            "[quota]\n"
            "# aggregators: how much each enrolled child may store here, in MiB, counted\n"
            "# by the day its records were captured (a backlog after weeks offline is\n"
            "# spread over its own days) and in all; 0: no limit\n"
            "day_mb = %d\n"
            "total_mb = %d\n"
            "# aggregators: the attachments (photos, sign-in sheets) of each child held\n"
            "# here, in MiB; 0: no limit\n"
            "# blob_mb = 4096\n\n"
            "# aggregators: stream the verified records into PostgreSQL with\n"
            "# wmctl export --follow (docs/postgres.md); a libpq connection string\n"
            "# [export]\n"
            "# postgres = host=/run/postgresql dbname=wmsync\n\n"
            "[web]\n"
            "# the web console, wmweb(8): address:port to serve (anything but loopback\n"
            "# needs tls_cert and tls_key: wmctl web-cert makes a self-signed pair)\n"
            "# listen = " WM_WEB_LISTEN "\n"
            "# tls_cert = web.crt\n"
            "# tls_key = web.key\n"
            "# minutes a login lasts without use\n"
            "# session_minutes = %d\n"
            "# the console's accounts (wmctl user add)\n"
            "# users = " WM_NODEDIR_USERS "\n",
            wm_role_name(role), id, name, listen ? listen : "", upstream ? upstream : "",
            upstream_key ? upstream_key : "", role == WM_ROLE_TOWN ? "yes" : "no",
            WM_QUOTA_DAY_MB, WM_QUOTA_TOTAL_MB, WM_WEB_SESSION_MIN);
    int bad_write = ferror(f);
    if (fflush(f) != 0 || fsync(fileno(f)) != 0)
        bad_write = 1;
    if (fclose(f) != 0 || bad_write) {
        unlink(path);
        return WM_EIO;
    }
    return WM_OK;
}
