/* SPDX-License-Identifier: MIT */
/*
 * sim_station — the station side of the sync protocol for played
 * stations (see sim_station.h): keys, the batch, and the loop that takes
 * all of them through Hello, Welcome, Batch and Ack at once.
 */
#include "sim_station.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "sync.pb-c.h"
#include "wm_sync.h"

wm_err_t sim_station_keys(sim_station_t *s, const char *keyfile)
{
    wm_err_t err = wm_signer_generate(&s->signer);
    if (err != WM_OK)
        return err;
    if (!(s->curve_sec = wm_secure_alloc(32)))
        return WM_ENOMEM;
    if ((err = wm_curve_generate(keyfile, s->curve_pub)) != WM_OK)
        return err;
    return wm_curve_load(keyfile, s->curve_sec, s->curve_pub);
}

wm_err_t sim_station_push(sim_station_t *s, uint8_t *srec, size_t len)
{
    if (s->n >= SIM_MAX_RECS)
        return WM_ETOOBIG;
    s->srec[s->n] = srec;
    s->len[s->n] = len;
    wm_srec_hash_buf(srec, len, s->head.hash);
    s->n++;
    s->head.epoch = 1;
    s->head.seq = s->n;
    return WM_OK;
}

void sim_station_free(sim_station_t *s)
{
    wm_sock_close(&s->sock);
    wm_signer_free(&s->signer);
    wm_secure_free(s->curve_sec);
    s->curve_sec = NULL;
    for (size_t i = 0; i < s->n; i++)
        free(s->srec[i]);
    s->n = 0;
}

static wm_err_t send_sync(wm_sock_t *sock, Wm__SyncMsg *m)
{
    uint8_t *buf = NULL;
    size_t len = 0;
    wm_err_t err = wm_pb_encode(&m->base, &buf, &len);
    if (err != WM_OK)
        return err;
    wm_msg_t out = {.n = 1, .f = {{buf, len}}};
    err = wm_sock_send(sock, &out);
    free(buf);
    return err;
}

/* The station's head as the protocol states it (points into s). */
static Wm__Frontier frontier_of(sim_station_t *s)
{
    Wm__Frontier f = WM__FRONTIER__INIT;
    f.epoch = s->head.epoch;
    f.seq = s->head.seq;
    f.hash = (ProtobufCBinaryData){WM_HASH_BYTES, s->head.hash};
    return f;
}

/* WM_OK once sent; WM_ETIMEOUT while the link is not up yet. */
static wm_err_t send_hello(sim_station_t *s)
{
    Wm__SyncMsg m = WM__SYNC_MSG__INIT;
    Wm__Hello h = WM__HELLO__INIT;
    Wm__Frontier f = frontier_of(s);
    h.version = SIM_SYNC_VERSION;
    h.node = s->id;
    h.head = &f;
    m.msg_case = WM__SYNC_MSG__MSG_HELLO;
    m.hello = &h;
    return send_sync(s->sock, &m);
}

static wm_err_t send_batch(sim_station_t *s)
{
    Wm__SyncMsg m = WM__SYNC_MSG__INIT;
    Wm__Batch b = WM__BATCH__INIT;
    Wm__Frontier f = frontier_of(s);
    ProtobufCBinaryData recs[SIM_MAX_RECS];
    for (size_t i = 0; i < s->n; i++)
        recs[i] = (ProtobufCBinaryData){s->len[i], s->srec[i]};
    b.batch_id = 1;
    b.records = recs;
    b.n_records = s->n;
    b.head = &f;
    m.msg_case = WM__SYNC_MSG__MSG_BATCH;
    m.batch = &b;
    return send_sync(s->sock, &m);
}

/* What one message from the town does to s; -1 (why) if it ends the run. */
static int on_msg(sim_station_t *s, const Wm__SyncMsg *sm, char *why, size_t cap)
{
    if (sm->msg_case == WM__SYNC_MSG__MSG_WELCOME && s->state == SIM_WELCOME) {
        if (sm->welcome->durable && sm->welcome->durable->seq == s->head.seq)
            s->state = SIM_DONE; /* the town holds it already */
        else if (sm->welcome->max_records < s->n) {
            snprintf(why, cap, "%s: the town's Welcome allows no batch of %zu records", s->id,
                     s->n);
            return -1;
        } else
            s->state = SIM_BATCH;
    } else if (sm->msg_case == WM__SYNC_MSG__MSG_ACK && sm->ack->durable &&
               sm->ack->durable->seq == s->head.seq) {
        s->state = SIM_DONE;
    } else if (sm->msg_case == WM__SYNC_MSG__MSG_REJECT) {
        snprintf(why, cap, "%s rejected: %s: %s", s->id,
                 sm->reject->reason ? sm->reject->reason : "",
                 sm->reject->detail ? sm->reject->detail : "");
        return -1;
    }
    return 0; /* heartbeats, and what this state does not wait for */
}

/* Takes every waiting message of s. 1 if there was one, 0 if none, -1 (why). */
static int on_msgs(sim_station_t *s, char *why, size_t cap)
{
    int got = 0;
    for (;;) {
        wm_msg_t m = {0};
        Wm__SyncMsg *sm = NULL;
        if (wm_sock_recv(s->sock, &m) != WM_OK)
            return got;
        got = 1;
        int bad = m.n != 1 || wm_pb_decode(&wm__sync_msg__descriptor, m.f[0].data, m.f[0].len,
                                           WM_SYNC_MAX_MSG, (void **)&sm) != WM_OK;
        wm_msg_clear(&m);
        if (bad) {
            snprintf(why, cap, "%s: a malformed message from the town", s->id);
            return -1;
        }
        int rc = on_msg(s, sm, why, cap);
        wm_pb_free(&sm);
        if (rc < 0)
            return -1;
    }
}

/* One turn of s: Hello, messages, Batch as its state allows. 1 on
 * progress, 0 on none, -1 (why) on an error. */
static int step(sim_station_t *s, char *why, size_t cap)
{
    sim_state_t was = s->state;
    wm_err_t err = WM_OK;
    int got = 0;
    if (s->state == SIM_HELLO && (err = send_hello(s)) == WM_OK)
        s->state = SIM_WELCOME;
    if (s->state == SIM_WELCOME || s->state == SIM_ACK)
        got = on_msgs(s, why, cap);
    if (got < 0)
        return -1;
    if (err == WM_OK && s->state == SIM_BATCH && (err = send_batch(s)) == WM_OK)
        s->state = SIM_ACK;
    if (err != WM_OK && err != WM_ETIMEOUT) {
        snprintf(why, cap, "%s: send: %s", s->id, wm_net_detail());
        return -1;
    }
    return got || s->state != was;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

int sim_sync_all(wm_net_t *net, const char *endpoint, const uint8_t server_pub[WM_PUB_BYTES],
                 sim_station_t **st, int n, double timeout_s, double *welcomed_s, char *why,
                 size_t cap)
{
    for (int i = 0; i < n; i++)
        if (wm_sync_connect(net, endpoint, server_pub, st[i]->curve_sec, st[i]->curve_pub,
                            WM_SYNC_MAX_MSG, &st[i]->sock) != WM_OK) {
            snprintf(why, cap, "connect: %s", wm_net_detail());
            return -1;
        }
    double t0 = now_s();
    int c[SIM_DONE + 1] = {0};
    while (c[SIM_DONE] < n) {
        if (now_s() - t0 > timeout_s) {
            snprintf(why, cap,
                     "after %.0f s: %d before Hello, %d awaiting Welcome, %d before Batch, "
                     "%d awaiting Ack, %d done",
                     timeout_s, c[SIM_HELLO], c[SIM_WELCOME], c[SIM_BATCH], c[SIM_ACK],
                     c[SIM_DONE]);
            return -1;
        }
        int progress = 0;
        memset(c, 0, sizeof c);
        for (int i = 0; i < n; i++) {
            int rc = step(st[i], why, cap);
            if (rc < 0)
                return -1;
            progress |= rc;
            c[st[i]->state]++;
        }
        if (welcomed_s && c[SIM_HELLO] + c[SIM_WELCOME] + c[SIM_BATCH] == 0 && !*welcomed_s)
            *welcomed_s = now_s() - t0;
        if (!progress)
            usleep(1000);
    }
    return 0;
}
