/* SPDX-License-Identifier: MIT */
/*
 * wmctl — the admin CLI. Dispatches from the command table below; each
 * command lives in cmd_<name>.c. Writes go through the daemon's control
 * socket; reads open LMDB read-only, so they work with the daemon down.
 */
#include "wmctl.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <pwd.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "render.h"
#include "wm_client.h"
#include "wm_crypto.h"
#include "wm_i18n.h"
#include "wm_net.h"
#include "wm_record.h"

#define DEFAULT_CONF "/etc/wmsync/" WM_CONF_NAME

static const wmctl_cmd_t commands[] = {
    {"init", cmd_init,
     "init --role station|town|county|city|province --id ID --name NAME --dir DIR [--listen EP] "
     "[--upstream EP (--upstream-key HEX | --upstream-id FILE)]",
     N_("create a node directory: config, signing and transport keys")},
    {"record", cmd_record, "record KIND --flag value ...",
     N_("record activity|publicity|volunteers|recruitment|team|funding|site|plan|plan-done|void")},
    {"log", cmd_log, "log [--from SEQ] [--epoch E] [--json]", N_("list the node's records")},
    {"verify", cmd_verify, "verify [--station ID] [--json]",
     N_("check the whole chain: linkage and every signature (exit 0 only if it verifies)")},
    {"blob", cmd_blob, "blob get HASH [--out FILE] [--thumb] [--force] | blob prune [--days N] | "
     "blob fetch HASH [--child ID [--path ID,...]] [--chunk BYTES] [--out FILE [--force]]",
     N_("write an evidence file (photo, sign-in sheet) this node holds, checked against its "
        "hash; fetch: bring one from the child that keeps it (aggregators)")},
    {"status", cmd_status, "status [--json]",
     N_("the node's head, sync state (station) or every child's sync state (aggregator)")},
    {"keys", cmd_keys, "keys [--json]", N_("print this node's one-line public identity")},
    {"enroll", cmd_enroll, "enroll FILE|-",
     N_("aggregator: enrol a child from its `wmctl keys` line")},
    {"upstream-id", cmd_upstream_id,
     "upstream-id FILE|- | upstream-id --reset-fork | upstream-id --forks [--json]",
     N_("child: pin the parent's `wmctl keys` line, so that its log comes down here")},
    {"revoke", cmd_revoke, "revoke --id ID [--compromised [--after EPOCH:SEQ]]",
     N_("aggregator: revoke a child, at once; --compromised: its keys were stolen")},
    {"bundle", cmd_bundle, "bundle export --out FILE [--since SEQ] [--no-blobs] [--force] | bundle import FILE",
     N_("move records by file: export at the station, import at the aggregator")},
    {"rollup", cmd_rollup,
     "rollup --period P [--station ID] [--format table|json|csv|xlsx] [--out FILE [--force]] "
     "[--lang zh|en]",
     N_("a period's figures and problems (P: 2024-05, 2024-W19, 2024-BW10, 2024-Q2, 2024-H1, "
     "2024, 2024-03-01..2024-05-31)")},
    {"report", cmd_report, "report --period P [--station ID] [--lang zh|en] [--out FILE [--force]]",
     N_("a period's figures as the prose of a progress report, problems included")},
    {"publish", cmd_publish, "publish --period P",
     N_("aggregator: append the signed rollup of P to its own log, for the tier above")},
    {"audit", cmd_audit, "audit --child ID --period P [--keys FILE] [--with-evidence] [--json]",
     N_("aggregator: recount a child's rollup of P, down the tiers to the station records; "
        "--with-evidence: check their photos against the signed hashes too")},
    {"backup", cmd_backup, "backup --out FILE [--force]",
     N_("a consistent, compacted copy of the node's data, taken while the daemon runs")},
    {"restore", cmd_restore, "restore FILE [--new-epoch]",
     N_("put a backup in place (daemon stopped); refuses what would fork the chain")},
    {"export", cmd_export, "export [--postgres CONNINFO] [--since YYYY-MM-DD] [--follow]",
     N_("aggregator: the verified records into PostgreSQL (docs/postgres.md), from the cursor "
     "kept there; --follow keeps streaming (the [export] postgres of the config by default)")},
    {"user", cmd_user,
     "user add NAME --role viewer|operator|admin [--password-stdin] | user passwd NAME "
     "[--password-stdin] | user del NAME | user list [--json]",
     N_("the web console's accounts (wmweb): viewers read, operators also record and void, "
     "admins also manage accounts and publish")},
    {"need", cmd_need,
     "need add --title T --service-kind K [--detail TEXT] [--resident NAME --phone P] [--date D]"
     " | need list [--json] | need review ID (--accept | --reject --reason R) [--date D]",
     N_("residents' needs: raise, list, review")},
    {"order", cmd_order,
     "order create --title T --service-kind K --due D (--to STATION_ID | --open) [--team TEAM]"
     " [--need ID]... [--from-order ID] | order list [--json] | order accept ID [--team TEAM]"
     " | order done ID --seq N [--epoch E] | order rate ID --score 1..5 [--comment TEXT]"
     " | order cancel ID --reason R   (each writing one takes [--date D])",
     N_("service orders: create, list, accept, done, rate, cancel")},
    {"notice", cmd_notice, "notice send --title T --body B [--to ID] [--date D] | notice list [--json]",
     N_("notices from an aggregator to its children")},
    {"web-cert", cmd_webcert, "web-cert [--host NAME|ADDRESS]... [--days N] [--force]",
     N_("a self-signed TLS certificate for the web console on a LAN (DIR/web.crt, web.key)")},
    {"rekey", cmd_rekey, "rekey [--transport]",
     N_("a new signing key (daemon stopped), --transport also a new transport key; then "
     "wmsyncd --new-epoch and re-enrol")},
};

void wmctl_progress(const char *what, uint64_t done, uint64_t total)
{
    static int shown;
    if (!isatty(2))
        return;
    if (!what) {
        if (shown)
            fputs("\r\033[K", stderr);
        shown = 0;
        return;
    }
    if (total) {
        int width = 30, fill = (int)(width * done / total);
        fprintf(stderr, "\r%s [%.*s%*s] %llu/%llu", what, fill,
                "##############################", width - fill, "",
                (unsigned long long)done, (unsigned long long)total);
    } else if (done % 1000 == 0) {
        fprintf(stderr, "\r%s %llu", what, (unsigned long long)done);
    }
    shown = 1;
}

void wmctl_err(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("wmctl: ", stderr);
    vfprintf(stderr, _(fmt), ap);
    fputc('\n', stderr);
    va_end(ap);
}

const char *wmctl_cols(const char *s, int width, char *buf, size_t cap)
{
    size_t cols = render_width(s);
    if (cols >= (size_t)width || strlen(s) + ((size_t)width - cols) >= cap)
        return s;
    snprintf(buf, cap, "%s%*s", s, (int)((size_t)width - cols), "");
    return buf;
}

void wmctl_reject(const char *field, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("wmctl: ", stderr);
    /* TRANSLATORS: the start of every refused input; %s is the option's
     * name without its dashes, kept as the operator typed it. */
    fprintf(stderr, _("rejected: --%s: "), field);
    vfprintf(stderr, _(fmt), ap);
    fputc('\n', stderr);
    va_end(ap);
}

void wmctl_scan_failed(wm_store_t *s, const char *node, wm_err_t err, const wm_scan_t *end)
{
    if (end->count)
        wmctl_err("cannot read the log of %s past record %" PRIu32 "/%" PRIu64
                  " (%" PRIu64 " record(s) read; the rest was not): %s [%s]",
                  node, end->epoch, end->seq, end->count, wm_strerror(err), wm_store_detail(s));
    else
        wmctl_err("cannot read the log of %s from its start: %s [%s]", node, wm_strerror(err),
                  wm_store_detail(s));
}

int wmctl_config(wmctl_t *w)
{
    char why[WM_WHY_MAX];
    if (w->cfg_loaded)
        return WMCTL_OK;
    if (wm_config_load(w->conf_path, &w->cfg, why, sizeof why) != WM_OK) {
        wmctl_err("%s", why);
        return WMCTL_USAGE;
    }
    w->cfg_loaded = 1;
    return WMCTL_OK;
}

int wmctl_open_ro(wmctl_t *w, wm_store_t **store, uint32_t *self)
{
    int rc = wmctl_config(w);
    *store = NULL;
    *self = 0;
    if (rc != WMCTL_OK)
        return rc;
    wm_err_t err = wm_store_open(w->cfg.data_dir, WM_STORE_RDONLY, w->cfg.map_mb, store);
    if (err == WM_ENOTFOUND)
        return WMCTL_OK;
    if (err != WM_OK) {
        wmctl_err("cannot open the log in %s: %s", w->cfg.data_dir, wm_strerror(err));
        return WMCTL_FAIL;
    }
    wm_txn_t *t = NULL;
    if ((err = wm_txn_begin(*store, 0, &t)) == WM_OK) {
        err = wm_nodeno_lookup(t, w->cfg.id, self);
        if (err == WM_ENOTFOUND)
            err = WM_OK, *self = 0;
    }
    wm_txn_abort(&t);
    if (err != WM_OK) {
        wmctl_err("cannot read the log in %s: %s", w->cfg.data_dir, wm_strerror(err));
        wm_store_close(store);
        return WMCTL_FAIL;
    }
    return WMCTL_OK;
}

/* Says why the control socket refused us, and who may use it. */
static void say_denied(const wmctl_t *w)
{
    struct stat st;
    if (stat(w->cfg.control, &st) != 0) {
        wmctl_err("permission denied: this user cannot reach the control socket %s of the daemon "
                  "for %s (a directory above it is closed to it); run wmctl as the daemon's user "
                  "or as root",
                  w->cfg.control, w->cfg.id);
        return;
    }
    const struct passwd *pw = getpwuid(st.st_uid);
    char owner[64];
    if (pw)
        snprintf(owner, sizeof owner, "%s", pw->pw_name);
    else
        snprintf(owner, sizeof owner, "uid %u", (unsigned)st.st_uid);
    wmctl_err("permission denied: this user may not use the control socket %s of the daemon for "
              "%s (owner %s, mode %04o); run wmctl as %s or as root",
              w->cfg.control, w->cfg.id, owner, (unsigned)(st.st_mode & 07777), owner);
}

wm_err_t wmctl_call_denied(wmctl_t *w)
{
    say_denied(w);
    return WM_EPERM;
}

wm_err_t wmctl_call(wmctl_t *w, Wm__CtlRequest *req, Wm__CtlReply **reply)
{
    req->lang = (char *)wm_i18n_lang(); /* the daemon words its answer in it */
    wm_err_t err = wm_client_call(NULL, w->cfg.control, req, WMCTL_TIMEOUT_MS, reply, &w->lost);
    if (err == WM_EPERM)
        say_denied(w);
    return err;
}

int wmctl_opts_parse(wmctl_opts_t *opts, int argc, char **argv, const char *const *flags)
{
    opts->n = 0;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (strncmp(a, "--", 2) != 0 || !a[2]) {
            wmctl_err("unexpected argument \"%s\" (options look like --name value)", a);
            return WMCTL_USAGE;
        }
        if (opts->n >= WM_OPTS_MAX) {
            wmctl_err("too many options");
            return WMCTL_USAGE;
        }
        wm_opt_t *o = &opts->o[opts->n++];
        *o = (wm_opt_t){.name = a + 2};
        char *eq = strchr(a + 2, '=');
        if (eq) { /* --name=value */
            *eq = 0;
            o->val = eq + 1;
            continue;
        }
        int is_flag = 0;
        for (const char *const *f = flags; f && *f; f++)
            is_flag |= strcmp(*f, o->name) == 0;
        if (is_flag)
            continue;
        if (i + 1 >= argc) {
            wmctl_err("--%s needs a value", o->name);
            return WMCTL_USAGE;
        }
        o->val = argv[++i];
    }
    return WMCTL_OK;
}

int wmctl_opts_unused(const wmctl_opts_t *opts, const char *cmd)
{
    const wm_opt_t *o = wm_opts_unused(opts);
    if (o) {
        wmctl_err("%s: unknown option --%s (see wmctl help %s)", cmd, o->name, cmd);
        return WMCTL_USAGE;
    }
    return WMCTL_OK;
}

static void usage(FILE *f)
{
    fprintf(f, _("usage: wmctl [-c CONFIG] COMMAND [options]\n\n"
                 "  -c CONFIG   node configuration (default $WMSYNC_CONF or %s)\n\n"
                 "commands:\n"),
            DEFAULT_CONF);
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(f, "  %-8s %s\n", commands[i].name, _(commands[i].help));
    fputs(_("\nwmctl help COMMAND shows a command's options.\n"), f);
}

static const wmctl_cmd_t *find(const char *name)
{
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(commands[i].name, name) == 0)
            return &commands[i];
    return NULL;
}

int main(int argc, char **argv)
{
    wmctl_t w = {.conf_path = getenv("WMSYNC_CONF")};
    int i = 1;
    wm_i18n_init(WM_TEXTDOMAIN, 1);
    if (!w.conf_path)
        w.conf_path = DEFAULT_CONF;
    while (i < argc && argv[i][0] == '-') {
        if (strcmp(argv[i], "-c") == 0 || strcmp(argv[i], "--config") == 0) {
            if (i + 1 >= argc) {
                wmctl_err("-c needs a file");
                return WMCTL_USAGE;
            }
            w.conf_path = argv[i + 1];
            i += 2;
        } else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            usage(stdout);
            return WMCTL_OK;
        } else {
            wmctl_err("unknown option %s", argv[i]);
            return WMCTL_USAGE;
        }
    }
    if (i >= argc) {
        usage(stderr);
        return WMCTL_USAGE;
    }
    if (strcmp(argv[i], "help") == 0) {
        const wmctl_cmd_t *c = i + 1 < argc ? find(argv[i + 1]) : NULL;
        if (!c) {
            usage(stdout);
            return WMCTL_OK;
        }
        printf(_("usage: wmctl [-c CONFIG] %s\n\n%s\n"), c->usage, _(c->help));
        return WMCTL_OK;
    }
    const wmctl_cmd_t *c = find(argv[i]);
    if (!c) {
        wmctl_err("unknown command \"%s\"", argv[i]);
        usage(stderr);
        return WMCTL_USAGE;
    }
    for (int k = i + 1; k < argc; k++)
        if (strcmp(argv[k], "--help") == 0 || strcmp(argv[k], "-h") == 0) {
            printf(_("usage: wmctl [-c CONFIG] %s\n\n%s\n"), c->usage, _(c->help));
            return WMCTL_OK;
        }
    if (wm_crypto_init() != WM_OK) {
        wmctl_err("libsodium failed to initialise");
        return WMCTL_FAIL;
    }
    return c->fn(&w, argc - i, argv + i);
}
