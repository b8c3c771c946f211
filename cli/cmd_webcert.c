/* SPDX-License-Identifier: MIT */
/*
 * wmctl web-cert — a self-signed TLS certificate for the web console on a
 * LAN (wmweb refuses any address but loopback without TLS):
 *
 *   wmctl web-cert [--host NAME|ADDRESS]... [--days N] [--force]
 *
 * writes DIR/web.crt (0644) and DIR/web.key (0640) in the node directory,
 * both in the directory's group (the daemon's, wmsync, which the web user
 * joins: wmweb reads the key, nobody else), and prints the [web] lines to
 * add and the certificate's SHA-256 fingerprint, which the operator guide
 * has users compare when their browser first asks to trust it.
 *
 * The key is ECDSA P-256, made with GnuTLS (libmicrohttpd's TLS library,
 * so no new dependency and no openssl command): this is the only file that
 * includes gnutls.h. The certificate names every --host (default: this
 * machine's host name, localhost and 127.0.0.1) as a subject alternative
 * name, DNS or IP as each parses.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <gnutls/gnutls.h>
#include <gnutls/crypto.h>
#include <gnutls/x509.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "wm_i18n.h"
#include "wmctl.h"

#define WEBCERT_CRT "web.crt"
#define WEBCERT_KEY "web.key"
#define WEBCERT_DAYS 825    /* the longest validity browsers accept for a server certificate */
#define WEBCERT_DAYS_MAX 3650
#define WEBCERT_HOSTS_MAX 16
#define WEBCERT_PEM_MAX 16384

/* Adds host as a DNS or IP subject alternative name. */
static int add_san(gnutls_x509_crt_t crt, const char *host)
{
    unsigned char ip[16];
    if (inet_pton(AF_INET, host, ip) == 1)
        return gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_IPADDRESS, ip, 4,
                                                    GNUTLS_FSAN_APPEND);
    if (inet_pton(AF_INET6, host, ip) == 1)
        return gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_IPADDRESS, ip, 16,
                                                    GNUTLS_FSAN_APPEND);
    return gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_DNSNAME, host,
                                                (unsigned)strlen(host), GNUTLS_FSAN_APPEND);
}

/* The certificate's fields: serial, validity, names, usage; self-signed. */
static int make_cert(gnutls_x509_crt_t crt, gnutls_x509_privkey_t key, const char *cn,
                     const char *const *hosts, int nhosts, unsigned days)
{
    unsigned char serial[16];
    int rc = gnutls_rnd(GNUTLS_RND_NONCE, serial, sizeof serial);
    serial[0] &= 0x7f; /* a positive number */
    time_t now = time(NULL);
    if (rc == 0)
        rc = gnutls_x509_crt_set_version(crt, 3);
    if (rc == 0)
        rc = gnutls_x509_crt_set_serial(crt, serial, sizeof serial);
    if (rc == 0)
        rc = gnutls_x509_crt_set_activation_time(crt, now - 3600);
    if (rc == 0)
        rc = gnutls_x509_crt_set_expiration_time(crt, now + (time_t)days * 86400);
    if (rc == 0)
        rc = gnutls_x509_crt_set_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 0, cn,
                                           (unsigned)strlen(cn));
    for (int i = 0; rc == 0 && i < nhosts; i++)
        rc = add_san(crt, hosts[i]);
    if (rc == 0)
        rc = gnutls_x509_crt_set_key(crt, key);
    if (rc == 0)
        rc = gnutls_x509_crt_set_basic_constraints(crt, 0, -1);
    if (rc == 0)
        rc = gnutls_x509_crt_set_key_usage(crt, GNUTLS_KEY_DIGITAL_SIGNATURE);
    if (rc == 0)
        rc = gnutls_x509_crt_set_key_purpose_oid(crt, GNUTLS_KP_TLS_WWW_SERVER, 0);
    if (rc == 0)
        rc = gnutls_x509_crt_sign2(crt, crt, key, GNUTLS_DIG_SHA256, 0);
    return rc;
}

/* Writes len bytes to a new file path (mode, the directory's group).
 * force: replace an existing one. 0, or -1 with errno. */
static int write_file(const char *path, const void *buf, size_t len, mode_t mode, gid_t gid,
                      int force)
{
    char tmp[PATH_MAX + 8];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    if (!force && access(path, F_OK) == 0) {
        errno = EEXIST;
        return -1;
    }
    unlink(tmp);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0)
        return -1;
    int bad = write(fd, buf, len) != (ssize_t)len || fchown(fd, (uid_t)-1, gid) != 0 ||
              fchmod(fd, mode) != 0 || fsync(fd) != 0;
    int saved = errno;
    bad |= close(fd) != 0;
    if (!bad && rename(tmp, path) != 0)
        bad = 1, saved = errno;
    if (bad) {
        unlink(tmp);
        errno = saved;
        return -1;
    }
    return 0;
}

/* Generates the pair and writes both files; prints why on failure. */
static int generate(const wmctl_t *w, const char *const *hosts, int nhosts, unsigned days,
                    int force, char fpr[static 100])
{
    gnutls_x509_privkey_t key = NULL;
    gnutls_x509_crt_t crt = NULL;
    unsigned char kpem[WEBCERT_PEM_MAX], cpem[WEBCERT_PEM_MAX], digest[32];
    size_t klen = sizeof kpem, clen = sizeof cpem, dlen = sizeof digest;
    char kpath[PATH_MAX + 16], cpath[PATH_MAX + 16];
    struct stat st;
    int rc = gnutls_x509_privkey_init(&key);
    if (rc == 0)
        rc = gnutls_x509_privkey_generate(key, GNUTLS_PK_ECDSA,
                                          GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), 0);
    if (rc == 0)
        rc = gnutls_x509_crt_init(&crt);
    if (rc == 0)
        rc = make_cert(crt, key, w->cfg.name[0] ? w->cfg.name : w->cfg.id, hosts, nhosts, days);
    if (rc == 0)
        rc = gnutls_x509_privkey_export(key, GNUTLS_X509_FMT_PEM, kpem, &klen);
    if (rc == 0)
        rc = gnutls_x509_crt_export(crt, GNUTLS_X509_FMT_PEM, cpem, &clen);
    if (rc == 0)
        rc = gnutls_x509_crt_get_fingerprint(crt, GNUTLS_DIG_SHA256, digest, &dlen);
    gnutls_x509_crt_deinit(crt);
    gnutls_x509_privkey_deinit(key);
    if (rc != 0) {
        wmctl_err("web-cert: GnuTLS: %s", gnutls_strerror(rc));
        memset(kpem, 0, sizeof kpem);
        return WMCTL_FAIL;
    }
    for (size_t i = 0; i < dlen; i++)
        snprintf(fpr + 3 * i, 4, i + 1 < dlen ? "%02X:" : "%02X", digest[i]);
    snprintf(kpath, sizeof kpath, "%s/" WEBCERT_KEY, w->cfg.dir);
    snprintf(cpath, sizeof cpath, "%s/" WEBCERT_CRT, w->cfg.dir);
    gid_t gid = stat(w->cfg.dir, &st) == 0 ? st.st_gid : (gid_t)-1;
    rc = write_file(kpath, kpem, klen, 0640, gid, force) != 0 ? 1
         : write_file(cpath, cpem, clen, 0644, gid, force) != 0 ? 2
                                                                : 0;
    memset(kpem, 0, sizeof kpem);
    if (rc) {
        if (errno == EEXIST)
            wmctl_err("web-cert: %s exists (--force replaces it)", rc == 1 ? kpath : cpath);
        else
            wmctl_err("web-cert: cannot write %s: %s", rc == 1 ? kpath : cpath, strerror(errno));
        return WMCTL_FAIL;
    }
    return WMCTL_OK;
}

int cmd_webcert(wmctl_t *w, int argc, char **argv)
{
    static const char *const flags[] = {"force", NULL};
    const char *hosts[WEBCERT_HOSTS_MAX + 3];
    char host[256] = "", fpr[100] = "";
    wmctl_opts_t o;
    int rc = wmctl_opts_parse(&o, argc - 1, argv + 1, flags);
    if (rc)
        return rc;
    int n = wmctl_opt_all(&o, "host", hosts, WEBCERT_HOSTS_MAX), force = wmctl_flag(&o, "force");
    const char *ds = wmctl_opt(&o, "days");
    if ((rc = wmctl_opts_unused(&o, "web-cert")) || (rc = wmctl_config(w)))
        return rc;
    char *end = NULL;
    long days = ds ? strtol(ds, &end, 10) : WEBCERT_DAYS;
    if (ds && (!ds[0] || *end || days < 1 || days > WEBCERT_DAYS_MAX)) {
        wmctl_reject("days", "\"%s\" is not a number of days from 1 to %d", ds, WEBCERT_DAYS_MAX);
        return WMCTL_USAGE;
    }
    if (n > WEBCERT_HOSTS_MAX) {
        wmctl_reject("host", "at most %d names", WEBCERT_HOSTS_MAX);
        return WMCTL_USAGE;
    }
    if (n == 0) { /* this machine, by name and on loopback */
        if (gethostname(host, sizeof host - 1) == 0 && host[0])
            hosts[n++] = host;
        hosts[n++] = "localhost";
        hosts[n++] = "127.0.0.1";
    }
    if ((rc = generate(w, hosts, n, (unsigned)days, force, fpr)))
        return rc;
    printf(_("wrote %s/%s and %s/%s: a self-signed certificate for"), w->cfg.dir, WEBCERT_CRT,
           w->cfg.dir, WEBCERT_KEY);
    for (int i = 0; i < n; i++)
        printf(" %s", hosts[i]);
    printf(_(", valid for %ld days\nSHA-256 fingerprint (compare it with the one the browser "
             "shows before trusting it):\n  %s\nto use it, set in [web] of %s:\n  tls_cert = %s\n"
             "  tls_key = %s\n  listen = 0.0.0.0:7460\nand restart wmweb\n"),
           days, fpr, w->cfg.path, WEBCERT_CRT, WEBCERT_KEY);
    return WMCTL_OK;
}
