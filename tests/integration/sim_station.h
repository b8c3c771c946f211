/* SPDX-License-Identifier: MIT */
/*
 * sim_station — stations played in one process, for the programs that
 * need many of them at one town (sim_town for it_province, it_bigtown,
 * it_oldtier; bench_swarm for make bench): each has its own Ed25519
 * signer and Curve25519 transport key, holds one batch of sealed records,
 * and speaks the station side of proto/sync.proto over its own CURVE
 * DEALER: Hello, Welcome, one Batch, its Ack.
 *
 * Not thread-safe; a station belongs to its caller. Errors are returned
 * with a reason in the caller's buffer; nothing here exits.
 */
#ifndef SIM_STATION_H
#define SIM_STATION_H

#include <stddef.h>
#include <stdint.h>

#include "wm_crypto.h"
#include "wm_err.h"
#include "wm_net.h"
#include "wm_record.h"

#define SIM_MAX_RECS 64 /* the records of one batch */
#define SIM_SYNC_VERSION 1 /* the protocol version (daemon/wm_agg.h; nothing includes daemon/) */

typedef enum { SIM_HELLO, SIM_WELCOME, SIM_BATCH, SIM_ACK, SIM_DONE } sim_state_t;

typedef struct {
    char id[160];
    wm_signer_t *signer;
    uint8_t *curve_sec; /* wm_secure_alloc memory */
    uint8_t curve_pub[WM_PUB_BYTES];
    uint8_t *srec[SIM_MAX_RECS]; /* its one batch, sealed (owned) */
    size_t len[SIM_MAX_RECS], n;
    struct {
        uint32_t epoch;
        uint64_t seq;
        uint8_t hash[WM_HASH_BYTES];
    } head; /* of srec[n - 1]: epoch 1, seq n */
    wm_sock_t *sock;
    sim_state_t state;
} sim_station_t;

/* A new signer and a transport key written to keyfile (0600) and loaded. */
WM_MUST_CHECK wm_err_t sim_station_keys(sim_station_t *s, const char *keyfile);
/* Takes srec (malloc'd, sealed as seq n + 1 of epoch 1) as the next record
 * of the batch; WM_ETOOBIG (srec not taken) past SIM_MAX_RECS. */
WM_MUST_CHECK wm_err_t sim_station_push(sim_station_t *s, uint8_t *srec, size_t len);
/* Frees what s owns (socket, keys, records); s may be zeroed memory. */
void sim_station_free(sim_station_t *s);
/* Connects every station of st[0..n) to the town at endpoint (server_pub)
 * and runs each through Hello, Welcome, Batch and Ack, until every one
 * has its Ack (or a Welcome saying the town holds its head already).
 * *welcomed_s (may be NULL): seconds until the last batch went out. 0, or
 * -1 with why: a malformed message, a Reject, a Welcome that allows no
 * batch this size, a socket error, or timeout_s passed (how many were in
 * which state then). */
int sim_sync_all(wm_net_t *net, const char *endpoint, const uint8_t server_pub[WM_PUB_BYTES],
                 sim_station_t **st, int n, double timeout_s, double *welcomed_s, char *why,
                 size_t cap);

#endif
