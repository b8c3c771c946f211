/* SPDX-License-Identifier: MIT */
/*
 * wm_agg_peers — the aggregator's register of enrolled children: enrolment,
 * revocation, stolen keys, SIGHUP reload, and the durable bookkeeping of
 * each peer (PeerState in the store's "peers" sub-database). See
 * wm_agg_int.h.
 */
#include "wm_i18n.h"
#include "wm_agg_int.h"

#include "control.pb-c.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wm_diag.h"

/* ---- small helpers for protobuf-c owned strings and frontiers ---- */

void wm_agg_set_str(char **field, const char *v)
{
    if (*field && *field != protobuf_c_empty_string)
        free(*field);
    *field = strdup(v ? v : "");
}

void wm_agg_set_bytes(ProtobufCBinaryData *b, const uint8_t *data, size_t len)
{
    free(b->data);
    b->data = malloc(len ? len : 1);
    if (b->data)
        memcpy(b->data, data, len);
    b->len = b->data ? len : 0;
}

/* A Frontier pointing at h (not owned: for messages we send). */
void wm_agg_peer_claimed(wm_agg_peer_t *p, const Wm__Frontier *f)
{
    if (!f)
        return;
    if (!p->ps->claimed) {
        p->ps->claimed = malloc(sizeof *p->ps->claimed);
        if (!p->ps->claimed)
            return;
        wm__frontier__init(p->ps->claimed);
    }
    /* Through wm_head_t: a hash of any other length than 32 (a hostile
     * peer's megabyte, say) is never stored. */
    wm_head_t h;
    wm_head_from(f, &h);
    p->ps->claimed->epoch = h.epoch;
    p->ps->claimed->seq = h.seq;
    wm_agg_set_bytes(&p->ps->claimed->hash, h.hash, WM_HASH_BYTES);
    p->dirty = 1;
}

wm_agg_peer_t *wm_agg_peer_by_curve(wm_agg_t *a, const uint8_t key[static WM_PUB_BYTES])
{
    for (size_t i = 0; i < a->npeers; i++)
        if (a->peers[i].ps->curve_pub.len == WM_PUB_BYTES &&
            memcmp(a->peers[i].ps->curve_pub.data, key, WM_PUB_BYTES) == 0)
            return &a->peers[i];
    return NULL;
}

wm_agg_peer_t *wm_agg_peer_by_key(wm_agg_t *a, const char *key_hex)
{
    uint8_t key[WM_PUB_BYTES];
    if (wm_unhex(key_hex, key, sizeof key) != WM_OK)
        return NULL;
    return wm_agg_peer_by_curve(a, key);
}

wm_agg_peer_t *wm_agg_peer_find(wm_agg_t *a, const char *id)
{
    for (size_t i = 0; i < a->npeers; i++)
        if (strcmp(a->peers[i].ps->node, id) == 0)
            return &a->peers[i];
    return NULL;
}

/* ---- register ---- */

static int load_one(void *ctx, const Wm__PeerState *ps)
{
    wm_agg_t *a = ctx;
    uint8_t *buf = NULL;
    size_t len = 0;
    if (a->npeers == a->cap) {
        size_t cap = a->cap ? 2 * a->cap : 64;
        wm_agg_peer_t *np = realloc(a->peers, cap * sizeof *np);
        if (!np)
            return 1;
        a->peers = np;
        a->cap = cap;
    }
    /* Copy by re-encoding: the scan frees its own message. */
    wm_agg_peer_t *p = &a->peers[a->npeers];
    memset(p, 0, sizeof *p);
    if (wm_pb_encode(&ps->base, &buf, &len) != WM_OK ||
        wm_pb_decode(&wm__peer_state__descriptor, buf, len, WM_PEER_STATE_MAX, (void **)&p->ps) != WM_OK) {
        free(buf);
        return 1;
    }
    free(buf);
    a->npeers++;
    return 0;
}

WM_MUST_CHECK wm_err_t wm_agg_peers_load(wm_agg_t *a)
{
    wm_txn_t *t = NULL;
    wm_err_t err = wm_txn_begin(a->node->store, 0, &t);
    if (err == WM_OK)
        err = wm_peer_scan(t, load_one, a);
    for (size_t i = 0; err == WM_OK && i < a->npeers; i++) {
        err = wm_nodeno_lookup(t, a->peers[i].ps->node, &a->peers[i].node_no);
        if (err == WM_ENOTFOUND)
            err = WM_OK; /* numbered at enrolment; absent only if never stored */
    }
    wm_txn_abort(&t);
    return err;
}

/* Stores every changed peer in t. They stay marked changed until
 * peers_stored() says the transaction committed. */
WM_MUST_CHECK wm_err_t wm_agg_peers_flush(wm_agg_t *a, wm_txn_t *t)
{
    for (size_t i = 0; i < a->npeers; i++) {
        if (!a->peers[i].dirty)
            continue;
        wm_err_t err = wm_peer_put(t, a->peers[i].ps);
        if (err != WM_OK)
            return err;
    }
    return WM_OK;
}

/* Commits t holding flush_peers' writes; only then are the peers clean. */
WM_MUST_CHECK wm_err_t wm_agg_peers_commit(wm_agg_t *a, wm_txn_t **t)
{
    wm_err_t err = wm_txn_commit(t);
    for (size_t i = 0; err == WM_OK && i < a->npeers; i++)
        a->peers[i].dirty = 0;
    return err;
}

wm_agg_peer_t *wm_agg_peer_by_no(wm_agg_t *a, uint32_t node_no)
{
    for (size_t i = 0; i < a->npeers; i++)
        if (a->peers[i].node_no == node_no)
            return &a->peers[i];
    return NULL;
}

/* Marks key compromised in ps beyond after, unless it already is (the
 * earlier point stands: a key is never trusted further again). */
static WM_MUST_CHECK wm_err_t mark_compromised(Wm__PeerState *ps, const uint8_t *key, const wm_head_t *after)
{
    for (size_t i = 0; i < ps->n_compromised; i++)
        if (ps->compromised[i]->sign_pub.len == WM_PUB_BYTES &&
            memcmp(ps->compromised[i]->sign_pub.data, key, WM_PUB_BYTES) == 0)
            return WM_OK;
    Wm__CompromisedKey **np = realloc(ps->compromised, (ps->n_compromised + 1) * sizeof *np);
    if (!np)
        return WM_ENOMEM;
    ps->compromised = np;
    Wm__CompromisedKey *k = malloc(sizeof *k);
    if (!k)
        return WM_ENOMEM;
    wm__compromised_key__init(k);
    wm_agg_set_bytes(&k->sign_pub, key, WM_PUB_BYTES);
    k->after_epoch = after->epoch;
    k->after_seq = after->seq;
    k->at = (int64_t)time(NULL);
    np[ps->n_compromised++] = k;
    return WM_OK;
}

/* Nonzero if key is one of ps's compromised signing keys (sign) or
 * transport keys (!sign). */
static int key_compromised(const Wm__PeerState *ps, const uint8_t *key, int sign)
{
    size_t n = sign ? ps->n_compromised : ps->n_compromised_curve;
    for (size_t i = 0; i < n; i++) {
        const ProtobufCBinaryData *b = sign ? &ps->compromised[i]->sign_pub
                                            : &ps->compromised_curve[i];
        if (b->len == WM_PUB_BYTES && memcmp(b->data, key, WM_PUB_BYTES) == 0)
            return 1;
    }
    return 0;
}

/* One run of store_peer's transaction. */
static WM_MUST_CHECK wm_err_t store_peer_once(wm_agg_t *a, wm_agg_peer_t *p)
{
    wm_txn_t *t = NULL;
    uint32_t no = p->node_no;
    wm_err_t err = wm_txn_begin(a->node->store, 1, &t);
    if (err == WM_OK && !no)
        err = wm_nodeno_add(t, p->ps->node, &no);
    if (err == WM_OK)
        err = wm_peer_put(t, p->ps);
    if (err == WM_OK)
        err = wm_txn_commit(&t);
    wm_txn_abort(&t);
    if (err == WM_OK)
        p->node_no = no;
    return err;
}

/* Writes one peer now (enrol and revoke are durable before they answer). */
static WM_MUST_CHECK wm_err_t store_peer(wm_agg_t *a, wm_agg_peer_t *p)
{
    wm_err_t err;
    int tries = 0;
    do
        err = store_peer_once(a, p);
    while (wm_store_retry(a->node->store, &err, &tries));
    if (err == WM_OK)
        p->dirty = 0;
    return err;
}

/* An identity an aggregator may enrol: a valid node id other than its
 * own, a name of UTF-8 text, both keys 32 bytes, a transport key no other
 * node holds. WM_OK, or the reason in why and WM_EINVAL / WM_EEXIST. */
static wm_err_t enroll_check(const wm_agg_t *a, const Wm__Identity *id, char *why, size_t cap)
{
    char hex[65];
    if (!id->node || wm_validate_id(id->node) != WM_OK) {
        wm_why(why, cap, "the identity's node id is not a valid id");
        return WM_EINVAL;
    }
    if (id->name && (strlen(id->name) > WM_TEXT_MAX || !wm_utf8_valid(id->name, strlen(id->name)))) {
        wm_why(why, cap, "the identity's name is not UTF-8 text of at most %d bytes",
                 WM_TEXT_MAX);
        return WM_EINVAL;
    }
    if (id->sign_pub.len != WM_PUB_BYTES || id->curve_pub.len != WM_PUB_BYTES) {
        wm_why(why, cap, "the identity needs a 32-byte signing key and transport key");
        return WM_EINVAL;
    }
    if (strcmp(id->node, a->node->cfg->id) == 0) {
        wm_why(why, cap, "a node cannot enrol itself");
        return WM_EINVAL;
    }
    for (size_t i = 0; i < a->npeers; i++) {
        Wm__PeerState *o = a->peers[i].ps;
        if (strcmp(o->node, id->node) != 0 && o->curve_pub.len == WM_PUB_BYTES &&
            memcmp(o->curve_pub.data, id->curve_pub.data, WM_PUB_BYTES) == 0) {
            wm_why(why, cap, "transport key %s is already enrolled for %s",
                     wm_hex(id->curve_pub.data, 32, hex), o->node);
            return WM_EEXIST;
        }
    }
    return WM_OK;
}

/* WM_EPERM with the reason in why if either key of id was marked
 * compromised for the enrolled peer p; WM_OK otherwise. */
static wm_err_t enroll_compromised(const wm_agg_peer_t *p, const Wm__Identity *id, char *why,
                                   size_t cap)
{
    char hex[65];
    if (!key_compromised(p->ps, id->curve_pub.data, 0) &&
        !key_compromised(p->ps, id->sign_pub.data, 1))
        return WM_OK;
    snprintf(why, cap,
             "the %s key %s of %s was marked compromised; make new keys at the node "
             "(wmctl rekey --transport) and enrol its new line",
             key_compromised(p->ps, id->curve_pub.data, 0) ? "transport" : "signing",
             wm_hex(key_compromised(p->ps, id->curve_pub.data, 0) ? id->curve_pub.data
                                                                  : id->sign_pub.data,
                    32, hex),
             id->node);
    return WM_EPERM;
}

/* A new, empty peer entry for node, enrolled now, into *out (valid until
 * the peer table grows). WM_OK or WM_ENOMEM. */
static wm_err_t peer_add(wm_agg_t *a, const char *node, wm_agg_peer_t **out)
{
    if (a->npeers == a->cap) {
        size_t ncap = a->cap ? 2 * a->cap : 64;
        wm_agg_peer_t *np = realloc(a->peers, ncap * sizeof *np);
        if (!np)
            return WM_ENOMEM;
        a->peers = np;
        a->cap = ncap;
    }
    wm_agg_peer_t *p = &a->peers[a->npeers];
    memset(p, 0, sizeof *p);
    p->ps = malloc(sizeof *p->ps);
    if (!p->ps)
        return WM_ENOMEM;
    wm__peer_state__init(p->ps);
    wm_agg_set_str(&p->ps->node, node);
    p->ps->enrolled = (int64_t)time(NULL);
    a->npeers++;
    *out = p;
    return WM_OK;
}

/* A re-key of the enrolled peer p (id brings another signing key): the
 * old key still signs the epochs before the new one's first, which may
 * not have reached us yet, so it is kept as a prior key. WM_OK (also when
 * it is no re-key) or WM_ENOMEM. */
static wm_err_t enroll_rekey(wm_agg_peer_t *p, const Wm__Identity *id)
{
    if (p->ps->sign_pub.len != WM_PUB_BYTES ||
        memcmp(p->ps->sign_pub.data, id->sign_pub.data, WM_PUB_BYTES) == 0)
        return WM_OK;
    if (id->from_epoch > 1) {
        Wm__PriorKey **np = realloc(p->ps->prior, (p->ps->n_prior + 1) * sizeof *np);
        Wm__PriorKey *k = malloc(sizeof *k);
        if (!np || !k) {
            free(k);
            if (np)
                p->ps->prior = np;
            return WM_ENOMEM;
        }
        wm__prior_key__init(k);
        k->sign_pub = (ProtobufCBinaryData){0, NULL};
        wm_agg_set_bytes(&k->sign_pub, p->ps->sign_pub.data, WM_PUB_BYTES);
        k->until_epoch = id->from_epoch - 1;
        np[p->ps->n_prior++] = k;
        p->ps->prior = np;
    }
    wm_info("enrol: %s re-enrolled with a new signing key, from epoch %u%s", id->node,
            id->from_epoch, id->from_epoch > 1 ? "; the previous key keeps the epochs before" : "");
    return WM_OK;
}

wm_err_t wm_agg_enroll(wm_agg_t *a, const Wm__Identity *id, char *why, size_t cap)
{
    char hex[65];
    wm_err_t err = enroll_check(a, id, why, cap);
    if (err != WM_OK)
        return err;
    wm_agg_peer_t *p = wm_agg_peer_find(a, id->node);
    if (p && (err = enroll_compromised(p, id, why, cap)) != WM_OK)
        return err;
    err = p ? enroll_rekey(p, id) : peer_add(a, id->node, &p);
    if (err != WM_OK)
        return err;
    wm_agg_set_str(&p->ps->name, id->name ? id->name : "");
    wm_agg_set_str(&p->ps->role, id->role ? id->role : "station");
    wm_agg_set_bytes(&p->ps->sign_pub, id->sign_pub.data, WM_PUB_BYTES);
    wm_agg_set_bytes(&p->ps->curve_pub, id->curve_pub.data, WM_PUB_BYTES);
    p->ps->state = WM_PEER_ACTIVE;
    wm_agg_set_str(&p->ps->state_reason, "");
    if ((err = store_peer(a, p)) != WM_OK) {
        wm_why(why, cap, "cannot store the enrolment: %s", wm_strerror(err));
        p->dirty = 0;
        wm_err_t rerr = wm_agg_reload(a); /* what is in force is what is stored */
        if (rerr != WM_OK)
            wm_error("cannot read the enrolment register back: %s", wm_strerror(rerr));
        return err;
    }
    wm_info("enrolled %s (%s), transport key %s", id->node, id->name ? id->name : "",
            wm_hex(id->curve_pub.data, 32, hex));
    return WM_OK;
}

wm_err_t wm_agg_revoke(wm_agg_t *a, const char *id, char *why, size_t cap)
{
    wm_agg_peer_t *p = id ? wm_agg_peer_find(a, id) : NULL;
    if (!p) {
        wm_why(why, cap, "no enrolled node \"%s\"", id ? id : "");
        return WM_ENOTFOUND;
    }
    p->ps->state = WM_PEER_REVOKED;
    wm_agg_set_str(&p->ps->state_reason, "revoked by the administrator");
    p->session = WM_AGG_S_NONE;
    p->dirty = 1; /* changed: a reload must not undo it, a flush must store it */
    wm_err_t err = store_peer(a, p);
    if (err != WM_OK) {
        /* Not stored, yet refused from now on all the same: the peer stays
         * marked changed, so a reload keeps it and every flush (each
         * tick) tries to store it again. */
        snprintf(why, cap,
                 "cannot store the revocation (%s); it holds now and is stored as soon as the "
                 "store can be written",
                 wm_strerror(err));
        return err;
    }
    wm_info("revoked %s: its connection is refused from now on", id);
    return WM_OK;
}

wm_err_t wm_agg_compromise(wm_agg_t *a, const char *id, int after_set, wm_head_t *after,
                           char *why, size_t cap)
{
    char hex[65];
    wm_agg_peer_t *p = id ? wm_agg_peer_find(a, id) : NULL;
    if (!p) {
        wm_why(why, cap, "no enrolled node \"%s\"", id ? id : "");
        return WM_ENOTFOUND;
    }
    wm_head_t held;
    wm_err_t err = wm_agg_durable(a, p, &held);
    if (err != WM_OK) {
        wm_why(why, cap, "cannot read what is held of %s: %s", id, wm_strerror(err));
        return err;
    }
    if (after_set && (after->epoch < held.epoch ||
                      (after->epoch == held.epoch && after->seq < held.seq))) {
        snprintf(why, cap,
                 "--after %" PRIu32 ":%" PRIu64 " lies below what this aggregator already holds "
                 "of %s (%" PRIu32 ":%" PRIu64 "); records it holds stay accepted",
                 after->epoch, after->seq, id, held.epoch, held.seq);
        return WM_EINVAL;
    }
    if (!after_set)
        *after = held;
    Wm__PeerState *ps = p->ps;
    if (ps->sign_pub.len == WM_PUB_BYTES)
        err = mark_compromised(ps, ps->sign_pub.data, after);
    for (size_t i = 0; err == WM_OK && i < ps->n_prior; i++)
        if (ps->prior[i]->sign_pub.len == WM_PUB_BYTES)
            err = mark_compromised(ps, ps->prior[i]->sign_pub.data, after);
    if (err == WM_OK && ps->curve_pub.len == WM_PUB_BYTES &&
        !key_compromised(ps, ps->curve_pub.data, 0)) {
        ProtobufCBinaryData *nc =
            realloc(ps->compromised_curve, (ps->n_compromised_curve + 1) * sizeof *nc);
        if (!nc)
            err = WM_ENOMEM;
        else {
            ps->compromised_curve = nc;
            nc[ps->n_compromised_curve] = (ProtobufCBinaryData){0, NULL};
            wm_agg_set_bytes(&nc[ps->n_compromised_curve++], ps->curve_pub.data, WM_PUB_BYTES);
        }
    }
    if (err != WM_OK) {
        wm_why(why, cap, "out of memory");
        return err;
    }
    ps->state = WM_PEER_REVOKED;
    char reason[WM_WHY_MAX];
    snprintf(reason, sizeof reason,
             "keys compromised: nothing they signed after %" PRIu32 ":%" PRIu64 " is accepted",
             after->epoch, after->seq);
    wm_agg_set_str(&ps->state_reason, reason);
    p->session = WM_AGG_S_NONE;
    p->dirty = 1;
    if ((err = store_peer(a, p)) != WM_OK) {
        /* Not stored, yet in force all the same until the daemon restarts. */
        wm_why(why, cap, "cannot store the revocation (%s); it holds until the daemon restarts",
                 wm_strerror(err));
        return err;
    }
    wm_warn("revoked %s as COMPROMISED: its signing key %s (and %zu earlier) signs nothing after "
            "%" PRIu32 ":%" PRIu64 " here; its transport key is refused for good",
            id, ps->sign_pub.len == WM_PUB_BYTES ? wm_hex(ps->sign_pub.data, 32, hex) : "?",
            ps->n_prior, after->epoch, after->seq);
    return WM_OK;
}

void wm_agg_peers_free(wm_agg_t *a)
{
    for (size_t i = 0; i < a->npeers; i++) {
        wm_pb_free(&a->peers[i].ps);
        free(a->peers[i].route.data);
    }
    free(a->peers);
    a->peers = NULL;
    a->npeers = a->cap = 0;
}

wm_err_t wm_agg_reload(wm_agg_t *a)
{
    /* Re-read the register. A peer that stays keeps everything the loop
     * knows of it (session, verification progress) and takes the stored
     * PeerState, unless its own unsaved bookkeeping is newer than the disk
     * (a change whose commit failed, e.g. a revocation on a full disk). */
    wm_agg_t fresh = {.node = a->node};
    wm_err_t err = wm_agg_peers_load(&fresh);
    if (err != WM_OK) {
        wm_agg_peers_free(&fresh);
        return err;
    }
    for (size_t i = 0; i < fresh.npeers; i++) {
        wm_agg_peer_t *old = wm_agg_peer_find(a, fresh.peers[i].ps->node);
        if (!old)
            continue;
        /* Swap rather than free: a->peers must stay searchable by id
         * until the loop ends; wm_agg_peers_free(a) frees what it holds. */
        wm_agg_peer_t kept = *old;
        if (!old->dirty) {
            kept.ps = fresh.peers[i].ps;
            kept.node_no = fresh.peers[i].node_no;
        } else {
            old->ps = fresh.peers[i].ps; /* the stored copy, discarded */
        }
        fresh.peers[i].ps = NULL;
        if (kept.ps->state == WM_PEER_REVOKED)
            kept.session = WM_AGG_S_NONE;
        old->route = (wm_frame_t){0};
        fresh.peers[i] = kept;
    }
    wm_agg_peers_free(a);
    a->peers = fresh.peers;
    a->npeers = fresh.npeers;
    a->cap = fresh.cap;
    return WM_OK;
}
