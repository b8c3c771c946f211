/* SPDX-License-Identifier: MIT */
/* wm_net — ZeroMQ behind the project's names; see wm_net.h. */
#include "wm_net.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <zmq.h>

struct wm_net {
    void *ctx;
};

struct wm_sock {
    void *z;
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

static wm_err_t sock_new(wm_net_t *n, int type, wm_sock_t **out)
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
    zmq_close((*s)->z);
    free(*s);
    *s = NULL;
}

wm_err_t wm_ctl_listen(wm_net_t *n, const char *path, wm_sock_t **out)
{
    char ep[160];
    wm_sock_t *s = NULL;
    wm_err_t err = sock_new(n, ZMQ_ROUTER, &s);
    if (err != WM_OK)
        return err;
    int64_t maxmsg = WM_CTL_MAX_BYTES;
    zmq_setsockopt(s->z, ZMQ_MAXMSGSIZE, &maxmsg, sizeof maxmsg);
    snprintf(ep, sizeof ep, "ipc://%s", path);
    unlink(path);
    mode_t old = umask(0077); /* the socket file is created 0600 */
    int rc = zmq_bind(s->z, ep);
    umask(old);
    if (rc != 0 || chmod(path, 0600) != 0) {
        wm_sock_close(&s);
        return WM_EIO;
    }
    *out = s;
    return WM_OK;
}

/* Nonzero if some process accepts connections on the unix socket PATH. */
static int someone_listens(const char *path)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    if (strlen(path) >= sizeof sa.sun_path)
        return 0;
    strcpy(sa.sun_path, path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return 0;
    int ok = connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0;
    close(fd);
    return ok;
}

wm_err_t wm_ctl_connect(wm_net_t *n, const char *path, wm_sock_t **out)
{
    char ep[160];
    if (!someone_listens(path))
        return WM_EDOWN;
    wm_sock_t *s = NULL;
    wm_err_t err = sock_new(n, ZMQ_DEALER, &s);
    if (err != WM_OK)
        return err;
    snprintf(ep, sizeof ep, "ipc://%s", path);
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
        if (err == WM_OK) {
            err = wm_msg_add(m, zmq_msg_data(&part), zmq_msg_size(&part));
        }
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

int wm_net_poll(wm_sock_t *const *socks, int n, int *ready, long timeout_ms)
{
    zmq_pollitem_t items[16];
    if (n > 16)
        n = 16;
    for (int i = 0; i < n; i++)
        items[i] = (zmq_pollitem_t){.socket = socks[i]->z, .events = ZMQ_POLLIN};
    int rc = zmq_poll(items, n, timeout_ms);
    if (rc < 0)
        rc = 0; /* EINTR: the caller checks its signal flags */
    for (int i = 0; i < n; i++)
        ready[i] = (items[i].revents & ZMQ_POLLIN) != 0;
    return rc;
}

wm_err_t wm_ctl_call(wm_sock_t *s, const uint8_t *req, size_t len, uint8_t **reply,
                     size_t *rlen, int timeout_ms)
{
    if (zmq_send(s->z, req, len, 0) < 0)
        return WM_EIO;
    zmq_pollitem_t it = {.socket = s->z, .events = ZMQ_POLLIN};
    int rc;
    do {
        rc = zmq_poll(&it, 1, timeout_ms);
    } while (rc < 0 && zmq_errno() == EINTR);
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
