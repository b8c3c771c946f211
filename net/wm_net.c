/* SPDX-License-Identifier: MIT */
/* wm_net — ZeroMQ behind the project's names; see wm_net.h. */
#include "wm_net.h"
#include "wm_sync.h"

#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <zmq.h>

/* The longest AF_UNIX socket path, NUL included (sun_path, 108 on Linux),
 * and an ipc:// endpoint holding one. */
#define IPC_PATH_MAX sizeof(((struct sockaddr_un *)0)->sun_path)
#define IPC_EP_MAX (sizeof "ipc://" + IPC_PATH_MAX)

struct wm_net {
    void *ctx;
    wm_net_link_opts_t link; /* for sync sockets made from now on */
    unsigned monitors;   /* monitor endpoints made: each gets its own name */
};

struct wm_sock {
    void *z;
    char path[IPC_PATH_MAX]; /* control clients: the socket file, to notice a dead daemon */
    void *mon;               /* sync clients: the PAIR reading z's monitor events */
    wm_sync_link_ev_t ev;         /* what mon reported so far */
};

const char *wm_net_detail(void)
{
    return zmq_strerror(zmq_errno());
}

wm_err_t wm_net_new(wm_net_t **out)
{
    wm_net_t *n = calloc(1, sizeof *n);
    if (!n)
        return WM_ENOMEM;
    n->ctx = zmq_ctx_new();
    if (!n->ctx) {
        free(n);
        return WM_EIO;
    }
    *out = n;
    return WM_OK;
}

void wm_net_free(wm_net_t **n)
{
    if (!n || !*n)
        return;
    zmq_ctx_term((*n)->ctx);
    free(*n);
    *n = NULL;
}

static WM_MUST_CHECK wm_err_t sock_new(wm_net_t *n, int type, wm_sock_t **out)
{
    wm_sock_t *s = calloc(1, sizeof *s);
    if (!s)
        return WM_ENOMEM;
    s->z = zmq_socket(n->ctx, type);
    if (!s->z) {
        free(s);
        return WM_EIO;
    }
    int linger = 0;
    zmq_setsockopt(s->z, ZMQ_LINGER, &linger, sizeof linger);
    *out = s;
    return WM_OK;
}

void wm_sock_close(wm_sock_t **s)
{
    if (!s || !*s)
        return;
    if ((*s)->mon) {
        zmq_socket_monitor((*s)->z, NULL, 0); /* stops the events first */
        zmq_close((*s)->mon);
    }
    zmq_close((*s)->z);
    free(*s);
    *s = NULL;
}

wm_err_t wm_ctl_listen(wm_net_t *n, const char *path, wm_sock_t **out)
{
    char ep[IPC_EP_MAX];
    if (strlen(path) >= IPC_PATH_MAX) /* no socket file can have that name */
        return WM_EIO;
    wm_sock_t *s = NULL;
    wm_err_t err = sock_new(n, ZMQ_ROUTER, &s);
    if (err != WM_OK)
        return err;
    int64_t maxmsg = WM_CTL_MAX_BYTES;
    zmq_setsockopt(s->z, ZMQ_MAXMSGSIZE, &maxmsg, sizeof maxmsg);
    snprintf(ep, sizeof ep, "ipc://%s", path);
    unlink(path);
    mode_t old = umask(0077); /* created 0600, then opened to the group */
    int rc = zmq_bind(s->z, ep);
    umask(old);
    if (rc != 0 || chmod(path, WM_CTL_MODE) != 0) {
        wm_sock_close(&s);
        return WM_EIO;
    }
    *out = s;
    return WM_OK;
}

wm_err_t wm_wake_open(wm_net_t *n, wm_sock_t **rx, wm_sock_t **tx)
{
    static unsigned serial;
    char ep[64];
    wm_sock_t *r = NULL, *t = NULL;
    wm_err_t err = sock_new(n, ZMQ_PAIR, &r);
    if (err == WM_OK)
        err = sock_new(n, ZMQ_PAIR, &t);
    snprintf(ep, sizeof ep, "inproc://wm-wake-%u", ++serial);
    int hwm = 1; /* one waiting wake-up says it all */
    if (err == WM_OK) {
        zmq_setsockopt(t->z, ZMQ_SNDHWM, &hwm, sizeof hwm);
        if (zmq_bind(r->z, ep) != 0 || zmq_connect(t->z, ep) != 0)
            err = WM_EIO;
    }
    if (err != WM_OK) {
        wm_sock_close(&r);
        wm_sock_close(&t);
        return err;
    }
    *rx = r;
    *tx = t;
    return WM_OK;
}

void wm_wake_send(wm_sock_t *tx)
{
    zmq_send(tx->z, "", 0, ZMQ_DONTWAIT); /* EAGAIN: one is waiting already */
}

void wm_wake_drain(wm_sock_t *rx)
{
    char b[1];
    while (zmq_recv(rx->z, b, sizeof b, ZMQ_DONTWAIT) >= 0)
        ;
}

/* 1 if some process accepts connections on the unix socket PATH, 0 if
 * none does, -1 if we may not connect (EACCES: no write permission on
 * the socket file or no search permission on a directory above it). */
static int someone_listens(const char *path)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    if (strlen(path) >= sizeof sa.sun_path)
        return 0;
    strcpy(sa.sun_path, path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return 0;
    int rc = connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0 ? 1
             : errno == EACCES || errno == EPERM                  ? -1
                                                                  : 0;
    close(fd);
    return rc;
}

wm_err_t wm_ctl_connect(wm_net_t *n, const char *path, wm_sock_t **out)
{
    char ep[IPC_EP_MAX];
    /* Checked here, synchronously: ZeroMQ's ipc connect is asynchronous
     * and would only time out. */
    int listens = someone_listens(path);
    if (listens < 0)
        return WM_EPERM;
    if (!listens)
        return WM_EDOWN;
    wm_sock_t *s = NULL;
    wm_err_t err = sock_new(n, ZMQ_DEALER, &s);
    if (err != WM_OK)
        return err;
    snprintf(ep, sizeof ep, "ipc://%s", path);
    snprintf(s->path, sizeof s->path, "%s", path);
    if (zmq_connect(s->z, ep) != 0) {
        wm_sock_close(&s);
        return WM_EIO;
    }
    *out = s;
    return WM_OK;
}

void wm_msg_clear(wm_msg_t *m)
{
    for (size_t i = 0; i < m->n; i++)
        free(m->f[i].data);
    m->n = 0;
}

wm_err_t wm_msg_add(wm_msg_t *m, const void *data, size_t len)
{
    if (m->n >= WM_MSG_MAX_FRAMES)
        return WM_ETOOBIG;
    uint8_t *p = malloc(len ? len : 1);
    if (!p)
        return WM_ENOMEM;
    if (len)
        memcpy(p, data, len);
    m->f[m->n].data = p;
    m->f[m->n].len = len;
    m->n++;
    return WM_OK;
}

wm_err_t wm_sock_recv(wm_sock_t *s, wm_msg_t *m)
{
    wm_err_t err = WM_OK;
    m->n = 0;
    m->dropped = 0;
    for (;;) {
        zmq_msg_t part;
        zmq_msg_init(&part);
        if (zmq_msg_recv(&part, s->z, ZMQ_DONTWAIT) < 0) {
            int e = zmq_errno();
            zmq_msg_close(&part);
            if (m->n == 0)
                return e == EAGAIN ? WM_ETIMEOUT : WM_EIO;
            wm_msg_clear(m);
            return WM_EIO;
        }
        int more = zmq_msg_more(&part);
        if (!more) {
            const char *uid = zmq_msg_gets(&part, "User-Id");
            snprintf(m->user_id, sizeof m->user_id, "%s", uid ? uid : "");
        }
        if (err == WM_OK && m->n == WM_MSG_MAX_FRAMES)
            m->dropped++; /* kept: the first frames, to answer the sender */
        else if (err == WM_OK)
            err = wm_msg_add(m, zmq_msg_data(&part), zmq_msg_size(&part));
        zmq_msg_close(&part);
        if (!more)
            break;
    }
    if (err != WM_OK)
        wm_msg_clear(m);
    return err;
}

wm_err_t wm_sock_send(wm_sock_t *s, const wm_msg_t *m)
{
    for (size_t i = 0; i < m->n; i++) {
        int flags = ZMQ_DONTWAIT | (i + 1 < m->n ? ZMQ_SNDMORE : 0);
        if (zmq_send(s->z, m->f[i].data, m->f[i].len, flags) < 0)
            return zmq_errno() == EAGAIN ? WM_ETIMEOUT : WM_EIO;
    }
    return WM_OK;
}

int wm_net_poll_items(wm_poll_item_t *items, int n, long timeout_ms)
{
    zmq_pollitem_t zi[WM_NET_POLL_MAX];
    assert(n >= 0 && n <= WM_NET_POLL_MAX);
    for (int i = 0; i < n; i++) {
        zi[i] = (zmq_pollitem_t){.socket = items[i].sock ? items[i].sock->z : NULL,
                                 .fd = items[i].sock ? -1 : items[i].fd,
                                 .events = ZMQ_POLLIN};
        items[i].ready = 0;
    }
    int rc = zmq_poll(zi, n, timeout_ms);
    if (rc < 0)
        return zmq_errno() == EINTR ? 0 : WM_NET_POLL_ERR;
    for (int i = 0; i < n; i++)
        items[i].ready = (zi[i].revents & ZMQ_POLLIN) != 0;
    return rc;
}

int wm_net_poll(wm_sock_t *const *socks, int n, int *ready, long timeout_ms)
{
    wm_poll_item_t items[WM_NET_POLL_MAX];
    assert(n >= 0 && n <= WM_NET_POLL_MAX);
    for (int i = 0; i < n; i++)
        items[i] = (wm_poll_item_t){.sock = socks[i]};
    int rc = wm_net_poll_items(items, n, timeout_ms);
    for (int i = 0; i < n; i++)
        ready[i] = items[i].ready;
    return rc < 0 ? 0 : rc;
}

wm_err_t wm_ctl_call(wm_sock_t *s, const uint8_t *req, size_t len, uint8_t **reply,
                     size_t *rlen, int timeout_ms)
{
    if (zmq_send(s->z, req, len, 0) < 0)
        return WM_EIO;
    /* Wait in short slices: if the daemon dies meanwhile, say so now
     * rather than at the end of the timeout. */
    zmq_pollitem_t it = {.socket = s->z, .events = ZMQ_POLLIN};
    int rc = 0;
    for (int waited = 0; waited < timeout_ms && rc <= 0; waited += 200) {
        rc = zmq_poll(&it, 1, 200);
        if (rc == 0 && s->path[0] && someone_listens(s->path) == 0)
            return WM_EDOWN;
    }
    if (rc <= 0)
        return WM_ETIMEOUT;
    wm_msg_t m = {0};
    wm_err_t err = wm_sock_recv(s, &m);
    if (err != WM_OK)
        return err;
    if (m.n != 1) {
        wm_msg_clear(&m);
        return WM_EDECODE;
    }
    *reply = m.f[0].data;
    *rlen = m.f[0].len;
    return WM_OK;
}

void wm_net_set_link_opts(wm_net_t *n, const wm_net_link_opts_t *o)
{
    n->link = *o;
}

static void set_common_sync_opts(wm_net_t *n, wm_sock_t *s, size_t max_bytes)
{
    const wm_net_link_opts_t *o = &n->link;
    int ivl = o->zmtp_ivl_ms ? o->zmtp_ivl_ms : WM_SYNC_ZMTP_IVL_MS;
    int tmo = o->dead_ms ? o->dead_ms : WM_SYNC_ZMTP_TIMEOUT_MS, ttl = tmo;
    /* libzmq checks the size of the frame on the wire, which CURVE makes
     * longer than the message: max_bytes is the message's limit. */
    int64_t maxmsg = (int64_t)max_bytes + WM_SYNC_CURVE_OVERHEAD;
    int hwm = 64, ipv6 = 1;
    zmq_setsockopt(s->z, ZMQ_HEARTBEAT_IVL, &ivl, sizeof ivl);
    zmq_setsockopt(s->z, ZMQ_HEARTBEAT_TIMEOUT, &tmo, sizeof tmo);
    zmq_setsockopt(s->z, ZMQ_HEARTBEAT_TTL, &ttl, sizeof ttl);
    zmq_setsockopt(s->z, ZMQ_MAXMSGSIZE, &maxmsg, sizeof maxmsg);
    zmq_setsockopt(s->z, ZMQ_SNDHWM, &hwm, sizeof hwm);
    zmq_setsockopt(s->z, ZMQ_RCVHWM, &hwm, sizeof hwm);
    /* IPv6 endpoints too; an IPv4 address still works as before. */
    zmq_setsockopt(s->z, ZMQ_IPV6, &ipv6, sizeof ipv6);
    if (o->handshake_ms > 0)
        zmq_setsockopt(s->z, ZMQ_HANDSHAKE_IVL, &o->handshake_ms, sizeof o->handshake_ms);
    if (o->keepalive_s > 0) {
        /* Below a NAT's idle timeout, so an idle link keeps its mapping,
         * and a peer gone without FIN or RST is noticed by the kernel. */
        int on = 1, idle = o->keepalive_s, intvl = o->keepalive_s / 3 ? o->keepalive_s / 3 : 1,
            cnt = 3;
        zmq_setsockopt(s->z, ZMQ_TCP_KEEPALIVE, &on, sizeof on);
        zmq_setsockopt(s->z, ZMQ_TCP_KEEPALIVE_IDLE, &idle, sizeof idle);
        zmq_setsockopt(s->z, ZMQ_TCP_KEEPALIVE_INTVL, &intvl, sizeof intvl);
        zmq_setsockopt(s->z, ZMQ_TCP_KEEPALIVE_CNT, &cnt, sizeof cnt);
    }
}

/* A PAIR reading s's monitor events (wm_sync_link_poll). */
static WM_MUST_CHECK wm_err_t monitor_open(wm_net_t *n, wm_sock_t *s)
{
    char ep[64];
    snprintf(ep, sizeof ep, "inproc://wm-mon-%u", ++n->monitors);
    int ev = ZMQ_EVENT_CONNECTED | ZMQ_EVENT_CONNECT_RETRIED | ZMQ_EVENT_DISCONNECTED |
             ZMQ_EVENT_HANDSHAKE_SUCCEEDED | ZMQ_EVENT_HANDSHAKE_FAILED_AUTH |
             ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL | ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL;
    if (zmq_socket_monitor(s->z, ep, ev) != 0)
        return WM_EIO;
    s->mon = zmq_socket(n->ctx, ZMQ_PAIR);
    int linger = 0;
    if (!s->mon || zmq_setsockopt(s->mon, ZMQ_LINGER, &linger, sizeof linger) != 0 ||
        zmq_connect(s->mon, ep) != 0)
        return WM_EIO;
    return WM_OK;
}

void wm_sync_link_poll(wm_sock_t *s, wm_sync_link_ev_t *out)
{
    for (int i = 0; s->mon && i < 256; i++) {
        uint8_t b[6];
        char addr[8];
        if (zmq_recv(s->mon, b, sizeof b, ZMQ_DONTWAIT) < (int)sizeof b)
            break;
        if (zmq_recv(s->mon, addr, sizeof addr, ZMQ_DONTWAIT) < 0)
            break; /* the address frame: not needed */
        uint16_t ev;
        memcpy(&ev, b, sizeof ev);
        wm_sync_link_ev_t *e = &s->ev;
        switch (ev) {
        case ZMQ_EVENT_CONNECTED: e->tcp_up++; break;
        case ZMQ_EVENT_CONNECT_RETRIED: e->refused++; break;
        case ZMQ_EVENT_HANDSHAKE_SUCCEEDED: e->handshake_ok++; e->up = 1; break;
        case ZMQ_EVENT_HANDSHAKE_FAILED_AUTH: e->auth_refused++; break;
        case ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL: e->proto_failed++; break;
        case ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL: e->broken++; break;
        case ZMQ_EVENT_DISCONNECTED: e->disconnects++; e->up = 0; break;
        default: break;
        }
    }
    *out = s->ev;
}

wm_err_t wm_sync_listen(wm_net_t *n, const char *endpoint, const uint8_t *secret,
                        size_t max_bytes, wm_sock_t **out)
{
    wm_sock_t *s = NULL;
    wm_err_t err = sock_new(n, ZMQ_ROUTER, &s);
    if (err != WM_OK)
        return err;
    int one = 1;
    set_common_sync_opts(n, s, max_bytes);
    if (zmq_setsockopt(s->z, ZMQ_CURVE_SERVER, &one, sizeof one) != 0 ||
        zmq_setsockopt(s->z, ZMQ_CURVE_SECRETKEY, secret, 32) != 0 ||
        zmq_setsockopt(s->z, ZMQ_ZAP_DOMAIN, "wmsync", 6) != 0 ||
        zmq_bind(s->z, endpoint) != 0) {
        wm_sock_close(&s);
        return WM_EIO;
    }
    *out = s;
    return WM_OK;
}

wm_err_t wm_sync_connect(wm_net_t *n, const char *endpoint, const uint8_t server_pub[32],
                         const uint8_t *secret, const uint8_t pub[32], size_t max_bytes,
                         wm_sock_t **out)
{
    wm_sock_t *s = NULL;
    wm_err_t err = sock_new(n, ZMQ_DEALER, &s);
    if (err != WM_OK)
        return err;
    int ivl = 500, ivl_max = 30000, immediate = 1;
    set_common_sync_opts(n, s, max_bytes);
    zmq_setsockopt(s->z, ZMQ_RECONNECT_IVL, &ivl, sizeof ivl);
    zmq_setsockopt(s->z, ZMQ_RECONNECT_IVL_MAX, &ivl_max, sizeof ivl_max);
    /* Queue nothing for a peer that is not connected: a message either
     * goes out on a live link or the send fails and we retry later. */
    zmq_setsockopt(s->z, ZMQ_IMMEDIATE, &immediate, sizeof immediate);
    if (zmq_setsockopt(s->z, ZMQ_CURVE_SERVERKEY, server_pub, 32) != 0 ||
        zmq_setsockopt(s->z, ZMQ_CURVE_SECRETKEY, secret, 32) != 0 ||
        zmq_setsockopt(s->z, ZMQ_CURVE_PUBLICKEY, pub, 32) != 0 ||
        (n->link.monitor && monitor_open(n, s) != WM_OK) || zmq_connect(s->z, endpoint) != 0) {
        wm_sock_close(&s);
        return WM_EIO;
    }
    *out = s;
    return WM_OK;
}

wm_err_t wm_zap_open(wm_net_t *n, wm_sock_t **out)
{
    wm_sock_t *s = NULL;
    wm_err_t err = sock_new(n, ZMQ_REP, &s);
    if (err != WM_OK)
        return err;
    if (zmq_bind(s->z, "inproc://zeromq.zap.01") != 0) {
        wm_sock_close(&s);
        return WM_EIO;
    }
    *out = s;
    return WM_OK;
}

static void copy_frame_str(const wm_frame_t *f, char *out, size_t cap)
{
    size_t n = f->len < cap - 1 ? f->len : cap - 1;
    memcpy(out, f->data, n);
    out[n] = 0;
}

wm_err_t wm_zap_recv(wm_sock_t *zap, wm_zap_req_t *req)
{
    memset(req, 0, sizeof *req);
    wm_err_t err = wm_sock_recv(zap, &req->raw);
    if (err != WM_OK)
        return err;
    /* version, request id, domain, address, identity, mechanism, creds... */
    wm_msg_t *m = &req->raw;
    if (m->n < 6 || m->f[0].len != 3 || memcmp(m->f[0].data, "1.0", 3) != 0 ||
        m->f[1].len > sizeof req->request_id) {
        /* The request is refused either way: the caller hears WM_EDECODE,
         * and a reply that cannot be sent leaves libzmq nothing to admit. */
        WM_IGNORE(wm_zap_reply(zap, req, 0, "", "malformed ZAP request"));
        return WM_EDECODE;
    }
    memcpy(req->request_id, m->f[1].data, m->f[1].len);
    req->request_id_len = m->f[1].len;
    copy_frame_str(&m->f[2], req->domain, sizeof req->domain);
    copy_frame_str(&m->f[3], req->address, sizeof req->address);
    copy_frame_str(&m->f[5], req->mechanism, sizeof req->mechanism);
    if (strcmp(req->mechanism, "CURVE") == 0 && m->n >= 7 && m->f[6].len == 32) {
        memcpy(req->client_key, m->f[6].data, 32);
        req->has_key = 1;
    }
    return WM_OK;
}

wm_err_t wm_zap_reply(wm_sock_t *zap, wm_zap_req_t *req, int ok, const char *user_id,
                      const char *text)
{
    const char *code = ok ? "200" : "400";
    wm_msg_t r = {0};
    wm_err_t err = wm_msg_add(&r, "1.0", 3);
    if (err == WM_OK)
        err = wm_msg_add(&r, req->request_id, req->request_id_len);
    if (err == WM_OK)
        err = wm_msg_add(&r, code, 3);
    if (err == WM_OK)
        err = wm_msg_add(&r, text, strlen(text));
    if (err == WM_OK)
        err = wm_msg_add(&r, user_id, strlen(user_id));
    if (err == WM_OK)
        err = wm_msg_add(&r, "", 0);
    if (err == WM_OK)
        err = wm_sock_send(zap, &r);
    wm_msg_clear(&r);
    wm_msg_clear(&req->raw);
    return err;
}
