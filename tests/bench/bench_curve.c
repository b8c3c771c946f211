/* SPDX-License-Identifier: MIT */
/*
 * bench_curve — the raw limit of bytes over ZeroMQ CURVE on loopback, for
 * bench_blobs.sh's blob throughput to stand beside: a DEALER sends MB
 * megabytes in messages of CHUNK bytes to a ROUTER (both CURVE, no ZAP, no
 * protocol, no disk), with at most WINDOW messages unanswered (the ROUTER
 * answers each with one byte, as an aggregator acks each chunk). Prints
 * "raw_curve_bps N". Like the other raw baselines it links the library
 * the layer under test is built on (here libzmq) directly.
 *
 * With "hash" it prints instead "raw_hash_bps N": BLAKE2b-256 (libsodium,
 * as wm_crypto) of MB megabytes fed CHUNK bytes at a time, one thread —
 * the other limit of a blob's path, since the receiving side hashes every
 * byte before the blob may count as present.
 *
 *   bench_curve [MB [CHUNK [WINDOW]]]     (default 200 262144 4)
 *   bench_curve hash [MB [CHUNK]]
 */
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zmq.h>

static char server_pub[41], server_sec[41];
static const char *endpoint = "tcp://127.0.0.1:0";
static char bound[256];
static volatile int ready;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what)
{
    fprintf(stderr, "bench_curve: %s: %s\n", what, zmq_strerror(zmq_errno()));
    exit(1);
}

typedef struct {
    void *ctx;
    long n;
} srv_t;

static void *server(void *arg)
{
    srv_t *s = arg;
    void *r = zmq_socket(s->ctx, ZMQ_ROUTER);
    int one = 1;
    size_t len = sizeof bound;
    if (!r || zmq_setsockopt(r, ZMQ_CURVE_SERVER, &one, sizeof one) ||
        zmq_setsockopt(r, ZMQ_CURVE_SECRETKEY, server_sec, 40) || zmq_bind(r, endpoint) ||
        zmq_getsockopt(r, ZMQ_LAST_ENDPOINT, bound, &len))
        die("server");
    __atomic_store_n(&ready, 1, __ATOMIC_RELEASE);
    for (long i = 0; i < s->n; i++) {
        zmq_msg_t id, body;
        zmq_msg_init(&id);
        zmq_msg_init(&body);
        if (zmq_msg_recv(&id, r, 0) < 0 || zmq_msg_recv(&body, r, 0) < 0)
            die("recv");
        if (zmq_msg_send(&id, r, ZMQ_SNDMORE) < 0 || zmq_send(r, "a", 1, 0) < 0)
            die("answer");
        zmq_msg_close(&body);
    }
    zmq_close(r);
    return NULL;
}

/* The hash limit: "raw_hash_bps N". */
static int hash_limit(long mb, size_t chunk)
{
    uint8_t *buf = malloc(chunk), out[32];
    crypto_generichash_state st;
    if (!buf || mb < 1 || chunk < 1 || sodium_init() < 0)
        return 2;
    memset(buf, 0x5a, chunk);
    uint64_t total = (uint64_t)mb * 1000000, done = 0;
    double t0 = now_s();
    crypto_generichash_init(&st, NULL, 0, sizeof out);
    while (done < total) {
        size_t n = total - done < chunk ? (size_t)(total - done) : chunk;
        crypto_generichash_update(&st, buf, n);
        done += n;
    }
    crypto_generichash_final(&st, out, sizeof out);
    printf("raw_hash_bps %.0f\n", (double)total / (now_s() - t0));
    free(buf);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "hash") == 0)
        return hash_limit(argc > 2 ? atol(argv[2]) : 200,
                          argc > 3 ? (size_t)atol(argv[3]) : 262144);
    long mb = argc > 1 ? atol(argv[1]) : 200;
    size_t chunk = argc > 2 ? (size_t)atol(argv[2]) : 262144;
    int window = argc > 3 ? atoi(argv[3]) : 4;
    char cpub[41], csec[41];
    if (mb < 1 || chunk < 1 || window < 1)
        return 2;
    if (zmq_curve_keypair(server_pub, server_sec) || zmq_curve_keypair(cpub, csec))
        die("keypair");
    void *ctx = zmq_ctx_new();
    srv_t s = {ctx, (long)((uint64_t)mb * 1000000 / chunk)};
    pthread_t th;
    pthread_create(&th, NULL, server, &s);
    while (!__atomic_load_n(&ready, __ATOMIC_ACQUIRE))
        nanosleep(&(struct timespec){0, 1000000}, NULL);
    void *d = zmq_socket(ctx, ZMQ_DEALER);
    if (!d || zmq_setsockopt(d, ZMQ_CURVE_SERVERKEY, server_pub, 40) ||
        zmq_setsockopt(d, ZMQ_CURVE_PUBLICKEY, cpub, 40) ||
        zmq_setsockopt(d, ZMQ_CURVE_SECRETKEY, csec, 40) || zmq_connect(d, bound))
        die("client");
    char *buf = malloc(chunk), a[8];
    memset(buf, 0x5a, chunk);
    double t0 = now_s();
    long sent = 0, answered = 0;
    while (answered < s.n) {
        while (sent < s.n && sent - answered < window) {
            if (zmq_send(d, buf, chunk, 0) < 0)
                die("send");
            sent++;
        }
        if (zmq_recv(d, a, sizeof a, 0) < 0)
            die("recv answer");
        answered++;
    }
    double dt = now_s() - t0;
    printf("raw_curve_bps %.0f\n", (double)s.n * (double)chunk / dt);
    pthread_join(th, NULL);
    free(buf);
    zmq_close(d);
    zmq_ctx_term(ctx);
    return 0;
}
