/* SPDX-License-Identifier: MIT */
/*
 * wmweb — the node's web console (wmweb(8)). Serves the console's pages
 * from the asset directory and its JSON API (docs/openapi.json) with
 * libmicrohttpd, as a client of the node like wmctl: writes through the
 * daemon's control socket, reads from the LMDB environment read-only. It
 * never opens a key file.
 *
 *   wmweb -c CONFIG [--assets DIR] [--listen ADDRESS:PORT]
 *
 * The [web] section of the configuration says where it listens (default
 * 127.0.0.1:7460); any address but loopback needs tls_cert and tls_key
 * (wmctl web-cert), and wmweb refuses to start without them. Port 0 takes
 * a free port. Once listening it prints one line "wmweb: serving URL" to
 * stdout. SIGTERM or SIGINT stops it.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "web.h"
#include "wm_crypto.h"

#define DEFAULT_CONF "/etc/wmsync/" WM_CONF_NAME
#define WEB_THREADS 4          /* request threads; one hashes a password at a time */
#define WEB_CONN_MAX 256       /* open connections */
#define WEB_CONN_PER_IP 64     /* from one address */
#define WEB_CONN_TIMEOUT_S 30  /* an idle connection is closed */
#define WEB_TLS_FILE_MAX (64 * 1024)

typedef struct {
    const char *conf, *assets, *listen;
} args_t;

static int usage(FILE *f)
{
    fprintf(f, "usage: wmweb [-c CONFIG] [--assets DIR] [--listen ADDRESS:PORT]\n"
               "Serves the node's web console (see wmweb(8)).\n");
    return f == stdout ? 0 : 2;
}

static int parse_args(int argc, char **argv, args_t *a)
{
    a->conf = getenv("WMSYNC_CONF");
    a->assets = getenv("WMWEB_ASSETS");
    for (int i = 1; i < argc; i++) {
        const char *o = argv[i];
        const char **dst = strcmp(o, "-c") == 0 || strcmp(o, "--config") == 0 ? &a->conf
                           : strcmp(o, "--assets") == 0                       ? &a->assets
                           : strcmp(o, "--listen") == 0                       ? &a->listen
                                                                              : NULL;
        if (strcmp(o, "-h") == 0 || strcmp(o, "--help") == 0)
            return usage(stdout) + 100;
        if (!dst || i + 1 >= argc) {
            fprintf(stderr, "wmweb: %s %s\n", o, dst ? "needs a value" : "is not an option");
            return usage(stderr);
        }
        *dst = argv[++i];
    }
    if (!a->conf)
        a->conf = DEFAULT_CONF;
    return 0;
}

/* ADDRESS:PORT ([v6]:PORT) into *ss; *loopback set. 0, or -1 if bad. */
static int parse_listen(const char *s, struct sockaddr_storage *ss, int *loopback)
{
    char host[128];
    const char *colon = strrchr(s, ':');
    if (!colon || colon == s || (size_t)(colon - s) >= sizeof host)
        return -1;
    snprintf(host, sizeof host, "%.*s", (int)(colon - s), s);
    char *end = NULL;
    long port = strtol(colon + 1, &end, 10);
    if (!colon[1] || *end || port < 0 || port > 65535)
        return -1;
    memset(ss, 0, sizeof *ss);
    struct sockaddr_in *v4 = (struct sockaddr_in *)ss;
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)ss;
    size_t hl = strlen(host);
    if (host[0] == '[' && host[hl - 1] == ']') {
        host[hl - 1] = 0;
        if (inet_pton(AF_INET6, host + 1, &v6->sin6_addr) != 1)
            return -1;
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons((uint16_t)port);
        *loopback = IN6_IS_ADDR_LOOPBACK(&v6->sin6_addr);
        return 0;
    }
    if (inet_pton(AF_INET, host, &v4->sin_addr) != 1)
        return -1;
    v4->sin_family = AF_INET;
    v4->sin_port = htons((uint16_t)port);
    *loopback = (ntohl(v4->sin_addr.s_addr) >> 24) == 127;
    return 0;
}

/* The whole of a small file, NUL-terminated (free it), or NULL. */
static char *slurp(const char *path)
{
    FILE *f = fopen(path, "re");
    char *buf = f ? calloc(1, WEB_TLS_FILE_MAX + 1) : NULL;
    size_t n = buf ? fread(buf, 1, WEB_TLS_FILE_MAX + 1, f) : 0;
    if (f)
        fclose(f);
    if (buf && (n == 0 || n > WEB_TLS_FILE_MAX)) {
        free(buf);
        buf = NULL;
    }
    return buf;
}

/* Loads the configuration and sets w up; prints why and returns nonzero
 * on failure. */
static int setup(web_t *w, const args_t *a)
{
    char why[WM_WHY_MAX];
    if (wm_config_load(a->conf, &w->cfg, why, sizeof why) != WM_OK) {
        fprintf(stderr, "wmweb: %s\n", why);
        return 1;
    }
    const char *assets = a->assets ? a->assets : w->cfg.web_assets;
    if (!realpath(assets, w->assets)) {
        fprintf(stderr, "wmweb: the asset directory %s: %s\n", assets, strerror(errno));
        return 1;
    }
    if (a->listen)
        snprintf(w->cfg.web_listen, sizeof w->cfg.web_listen, "%s", a->listen);
    pthread_mutex_init(&w->mu, NULL);
    pthread_mutex_init(&w->hash_mu, NULL);
    pthread_mutex_init(&w->photo_mu, NULL);
    pthread_mutex_init(&w->up_mu, NULL);
    if (wm_net_new(&w->net) != WM_OK ||
        web_sessions_new(&w->sessions, w->cfg.web_session_min) != WM_OK) {
        fprintf(stderr, "wmweb: out of memory\n");
        return 1;
    }
    return 0;
}

static struct MHD_Daemon *start(web_t *w, char **cert, char **key)
{
    struct sockaddr_storage ss;
    int loopback = 0;
    if (parse_listen(w->cfg.web_listen, &ss, &loopback) != 0) {
        fprintf(stderr, "wmweb: [web] listen \"%s\" is not ADDRESS:PORT (e.g. %s)\n",
                w->cfg.web_listen, WM_WEB_LISTEN);
        return NULL;
    }
    w->tls = w->cfg.web_tls_cert[0] != 0;
    if (!loopback && !w->tls) {
        fprintf(stderr, "wmweb: refusing to serve %s without TLS: only loopback may be plain "
                        "HTTP. Set [web] tls_cert and tls_key (wmctl web-cert makes a pair)\n",
                w->cfg.web_listen);
        return NULL;
    }
    if (w->tls && (!(*cert = slurp(w->cfg.web_tls_cert)) || !(*key = slurp(w->cfg.web_tls_key)))) {
        fprintf(stderr, "wmweb: cannot read the TLS certificate %s or its key %s\n",
                w->cfg.web_tls_cert, w->cfg.web_tls_key);
        return NULL;
    }
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO | MHD_USE_ERROR_LOG |
                     (ss.ss_family == AF_INET6 ? MHD_USE_IPv6 : 0) | (w->tls ? MHD_USE_TLS : 0);
    struct MHD_OptionItem tls_opts[] = {
        {w->tls ? MHD_OPTION_HTTPS_MEM_CERT : MHD_OPTION_END, 0, *cert},
        {MHD_OPTION_HTTPS_MEM_KEY, 0, *key},
        {MHD_OPTION_END, 0, NULL},
    };
    struct MHD_Daemon *d = MHD_start_daemon(
        flags, 0, NULL, NULL, web_handle, w, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
        MHD_OPTION_THREAD_POOL_SIZE, (unsigned)WEB_THREADS, MHD_OPTION_CONNECTION_LIMIT,
        (unsigned)WEB_CONN_MAX, MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)WEB_CONN_PER_IP,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)WEB_CONN_TIMEOUT_S,
        MHD_OPTION_NOTIFY_COMPLETED, web_request_done, w, MHD_OPTION_ARRAY, tls_opts,
        MHD_OPTION_END);
    if (!d)
        fprintf(stderr, "wmweb: cannot listen on %s: %s\n", w->cfg.web_listen, strerror(errno));
    return d;
}

static void announce(web_t *w, struct MHD_Daemon *d)
{
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
    char host[128];
    const char *colon = strrchr(w->cfg.web_listen, ':');
    snprintf(host, sizeof host, "%.*s", (int)(colon - w->cfg.web_listen), w->cfg.web_listen);
    printf("wmweb: serving %s://%s:%u/ for %s\n", w->tls ? "https" : "http", host,
           di ? (unsigned)di->port : 0u, w->cfg.id);
    fflush(stdout);
}

int main(int argc, char **argv)
{
    args_t a = {0};
    web_t *w = calloc(1, sizeof *w);
    char *cert = NULL, *key = NULL;
    struct MHD_Daemon *d = NULL;
    int rc = parse_args(argc, argv, &a), sig = 0;
    sigset_t set;
    if (rc)
        return rc >= 100 ? rc - 100 : rc;
    if (!w || wm_crypto_init() != WM_OK) {
        fprintf(stderr, "wmweb: cannot initialise\n");
        return 1;
    }
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &set, NULL); /* every thread inherits it */
    rc = 1;
    if (setup(w, &a) != 0 || !(d = start(w, &cert, &key)))
        goto out;
    announce(w, d);
    sigdelset(&set, SIGPIPE);
    sigwait(&set, &sig);
    fprintf(stderr, "wmweb: stopping (signal %d)\n", sig);
    rc = 0;
out:
    if (d)
        MHD_stop_daemon(d);
    if (key) {
        memset(key, 0, strlen(key));
        free(key);
    }
    free(cert);
    if (w) {
        wm_store_close(&w->store);
        wm_users_free(&w->users);
        web_sessions_free(&w->sessions);
        wm_net_free(&w->net);
        free(w);
    }
    return rc;
}
