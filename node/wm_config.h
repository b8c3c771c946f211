/* SPDX-License-Identifier: MIT */
/*
 * wm_config — a node's configuration file (INI, parsed by libinih) and the
 * node directory it describes (its layout and defaults: wm_nodedir.h).
 * Relative paths in the file are resolved against the file's own
 * directory, so a node directory can be moved.
 * Unknown sections and keys are errors, reported with their line.
 * Thread-safe; no state.
 */
#ifndef WM_CONFIG_H
#define WM_CONFIG_H

#include <limits.h>
#include <stddef.h>

#include "wm_err.h"
#include "wm_validate.h"

#define WM_CONF_NAME "wmsync.conf"
/* [sync] memory_mb by default: an aggregator's resident memory while ten
 * children catch up at once stays under about 48 MiB (tests/bench). */
#define WM_CONFIG_MEMORY_MB 32
#define WM_CONFIG_MEMORY_MB_STR "32"
/* [blobs] defaults and ranges: a photo's longest side (pixels) and how
 * many days its capture date may lie from the activity's. */
#define WM_CONFIG_MAX_PX 1600
#define WM_CONFIG_MAX_PX_MIN 64
#define WM_CONFIG_MAX_PX_MAX 8192
#define WM_CONFIG_DATE_DAYS 3
#define WM_CONFIG_DATE_DAYS_MAX 366

/* [web] defaults: loopback only, the packaged assets, 8 hours idle. */
#define WM_WEB_LISTEN "127.0.0.1:7460"
#define WM_WEB_ASSETS "/usr/share/wmsync/web"
#define WM_WEB_SESSION_MIN 480

/* The tiers, lowest first. Every role above station is an aggregator and
 * may itself have an upstream: one code path serves them all. */
typedef enum {
    WM_ROLE_STATION = 1,
    WM_ROLE_TOWN,
    WM_ROLE_COUNTY,
    WM_ROLE_CITY,
    WM_ROLE_PROVINCE
} wm_role_t;

typedef struct {
    char path[PATH_MAX];       /* the config file itself */
    char dir[PATH_MAX];        /* its directory: the node directory */
    wm_role_t role;
    char id[WM_ID_MAX + 1];    /* node id, a lowercase slug path */
    char name[WM_TEXT_MAX + 1]; /* display name, UTF-8 */
    char data_dir[PATH_MAX];   /* LMDB environment directory */
    size_t map_mb;             /* first LMDB map size, MiB (it grows by itself) */
    size_t map_max_mb;         /* ceiling of the map's growth, MiB; 0: none */
    char sign_key[PATH_MAX];   /* Ed25519 seed, hex, mode 0600 */
    char curve_key[PATH_MAX];  /* Curve25519 secret, hex, mode 0600 */
    char control[PATH_MAX];    /* control socket path (ipc) */
    char listen[256];          /* aggregator: ZeroMQ endpoint to bind */
    char upstream[256];        /* endpoint of the node above, "" if none */
    char upstream_key[65];     /* its Curve25519 public key, hex */
    char log_level[16];        /* error | warn | info | debug */
    unsigned log_peer_lines;   /* [log] lines one peer may cause per window; 0 = the default */
    unsigned log_peer_window;  /* [log] that window in seconds; 0 = the default */
    unsigned cadence_days;     /* [report] a team serves at least once per this many days */
    unsigned silent_days;      /* [report] a station unsynced this long is a problem */
    unsigned review_days;      /* [orders] a need unreviewed longer is a problem (7) */
    int publish_at_close;      /* [report] aggregators publish each month's rollup at its close */
    unsigned quota_day_mb;     /* [quota] a child's records of one capture day, MiB; 0: no limit */
    unsigned quota_total_mb;   /* [quota] all of a child's records, MiB; 0: no limit */
    unsigned sync_memory_mb;   /* [sync] aggregator's memory budget for catch-up, MiB; 0: none */
    unsigned quota_blob_mb;    /* [quota] a child's blobs (attachments) held here, MiB; 0: no limit */
    unsigned long blob_rate;   /* [sync] bytes/s a child sends blobs at most; 0: no cap */
    char export_postgres[1024]; /* [export] libpq connection string, "" if none */
    int compress;              /* [sync] offer feature "zstd" (compressed batches); default 1 */
    unsigned blobs_max_px;     /* [blobs] longest side of a stored photo, pixels (1600) */
    unsigned blobs_keep_days;  /* [blobs] keep_days: a station's confirmed blobs older than
                                  this may be pruned (wmctl blob prune); 0: never (365) */
    unsigned blobs_date_days;  /* [blobs] date_tolerance_days: a photo taken further than this
                                * from its activity's date is a finding (3) */
    uint32_t blobs_photos_from; /* [blobs] photos_required_from, YYYYMMDD: activities dated
                                 * before it are never "without a photo"; 0 (unset): each
                                 * station's first activity with a photo (wm_evidcheck.h) */
    char web_listen[256];      /* [web] listen: ADDRESS:PORT wmweb serves */
    char web_tls_cert[PATH_MAX]; /* [web] PEM certificate, "" for plain HTTP (loopback only) */
    char web_tls_key[PATH_MAX];  /* [web] its PEM private key */
    char web_users[PATH_MAX];  /* [web] the accounts file (node/wm_users.h) */
    char web_assets[PATH_MAX]; /* [web] the console's static files */
    unsigned web_session_min;  /* [web] minutes a login lasts without use */
    /* [sync] timers for thin links (design.md §8), in seconds; defaults
     * WM_CONFIG_HEARTBEAT_S … WM_CONFIG_KEEPALIVE_S */
    unsigned heartbeat_s;      /* the child sends a heartbeat this often; ZMTP pings too */
    unsigned dead_link_s;      /* a link silent this long is dead (both sides) */
    unsigned handshake_s;      /* connect to Welcome must take no longer */
    unsigned keepalive_s;      /* TCP keepalive idle time; 0: off */
} wm_config_t;

/* Defaults of the [sync] timers. A heartbeat every 5 s keeps any NAT
 * mapping alive and answers a live link within a second of a 2G round
 * trip; 15 s of silence (three heartbeats, as before) is the bound on showing a dead
 * link as connected; 30 s covers TCP, ZMTP, CURVE, ZAP and Hello/Welcome
 * (six round trips) even at 2G's worst round trips of 2–3 s; TCP keepalive
 * at 25 s idle stays below the shortest carrier-grade NAT idle timeouts
 * (30–60 s) for connections that carry no heartbeat yet (the handshake). */
#define WM_CONFIG_HEARTBEAT_S 5
#define WM_CONFIG_DEAD_LINK_S 15
#define WM_CONFIG_HANDSHAKE_S 30
#define WM_CONFIG_KEEPALIVE_S 25
/* Default [quota] blob_mb: a station's photos of several years (a few
 * hundred KB each after normalisation, ~9 per activity). */
#define WM_CONFIG_BLOB_MB 4096
/* Default [blobs] keep_days: a year of photos stays at the station. */
#define WM_CONFIG_KEEP_DAYS 365
#define WM_CONFIG_KEEP_DAYS_MAX 36500
/* The largest [sync] blob_rate that may be set, bytes/s (10 Gbit/s). */
#define WM_CONFIG_BLOB_RATE_MAX 1250000000ul

/* Loads and checks PATH into *cfg. On failure returns WM_ECONFIG (or
 * WM_ENOTFOUND / WM_EIO for the file itself) and writes a sentence naming
 * the line and key at fault into err. */
WM_MUST_CHECK wm_err_t wm_config_load(const char *path, wm_config_t *cfg, char *err, size_t errcap);

/* "station", "town", "county", "city", "province"; NULL for an unknown role. */
const char *wm_role_name(wm_role_t role);
/* Parses a role name; 0 if unknown. */
wm_role_t wm_role_parse(const char *s);

/* Writes a commented configuration for a new node to PATH (must not
 * exist; mode 0644). Paths written are relative to the node directory. */
WM_MUST_CHECK wm_err_t wm_config_write(const char *path, wm_role_t role, const char *id, const char *name,
                         const char *listen, const char *upstream, const char *upstream_key);

#endif
