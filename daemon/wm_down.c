/* SPDX-License-Identifier: MIT */
/* wm_down — the child's side of feature "down"; see wm_down.h. */
#include "wm_down.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "wm_append.h"
#include "wm_diag.h"
#include "wm_i18n.h"
#include "wm_ident.h"
#include "wm_ingest.h"


/* The meta "down_pin" (storage/wm_store.h): pinned[32] | key[32] |
 * from_epoch u32 | epoch u32 | seq u64, big-endian. */
#define PIN_META_BYTES (2 * WM_PUB_BYTES + 16)

struct wm_down {
    wm_node_t *node;
    int pinned;
    wm_ident_t pin;
    uint8_t key[WM_PUB_BYTES]; /* the key followed: the pin's, or the last rollover's */
    wm_rollover_t roll;        /* the last rollover followed (epoch 0: none) */
    wm_head_t have;          /* our frontier of the parent's log */
    wm_head_t parent_head;   /* the parent's head as it last said */
    int parent_known;        /* a DOWN_BATCH told its head and key */
    uint8_t parent_key[WM_PUB_BYTES];
    int parent_key_known;
    uint64_t received, duplicates;
    int64_t last_at;         /* unix seconds of the last records stored */
    char forked[WM_WHY_MAX]; /* "" while no fork was found */
    char last_reject[48];
    char last_reject_detail[WM_WHY_MAX];
    int64_t last_reject_at;
};

static void put_be(uint8_t *p, uint64_t v, int n)
{
    for (int i = n - 1; i >= 0; i--, v >>= 8)
        p[i] = (uint8_t)v;
}

static uint64_t get_be(const uint8_t *p, int n)
{
    uint64_t v = 0;
    for (int i = 0; i < n; i++)
        v = v << 8 | p[i];
    return v;
}

/* The rollovers followed, from meta "down_pin", in t: they count only
 * while the pin file still names the key they began from or the key they
 * lead to (an operator who pinned another key by hand starts afresh). */
static WM_MUST_CHECK wm_err_t load_followed(wm_down_t *d, wm_txn_t *t)
{
    uint8_t m[PIN_META_BYTES];
    size_t len = 0;
    memcpy(d->key, d->pin.sign_pub, WM_PUB_BYTES);
    memset(&d->roll, 0, sizeof d->roll);
    wm_err_t err = wm_meta_get(t, WM_META_DOWN_PIN, m, sizeof m, &len);
    if (err == WM_ENOTFOUND || (err == WM_OK && len == 0)) /* none, or none since a reset */
        return WM_OK;
    if (err != WM_OK || len != sizeof m)
        return err != WM_OK ? err : WM_ECORRUPT;
    if (memcmp(m, d->pin.sign_pub, WM_PUB_BYTES) != 0 &&
        memcmp(m + WM_PUB_BYTES, d->pin.sign_pub, WM_PUB_BYTES) != 0)
        return WM_OK;
    memcpy(d->key, m + WM_PUB_BYTES, WM_PUB_BYTES);
    memcpy(d->roll.key, d->key, WM_PUB_BYTES);
    d->roll.from_epoch = (uint32_t)get_be(m + 2 * WM_PUB_BYTES, 4);
    d->roll.epoch = (uint32_t)get_be(m + 2 * WM_PUB_BYTES + 4, 4);
    d->roll.seq = get_be(m + 2 * WM_PUB_BYTES + 8, 8);
    return WM_OK;
}

/* Keeps the rollover r followed (meta "down_pin"), in t: in the
 * transaction that stores the rollover record itself. */
static WM_MUST_CHECK wm_err_t keep_followed(wm_down_t *d, wm_txn_t *t, const wm_rollover_t *r)
{
    uint8_t m[PIN_META_BYTES], old[PIN_META_BYTES];
    size_t len = 0;
    /* The pin the chain began from: kept from before, else the file's. */
    if (wm_meta_get(t, WM_META_DOWN_PIN, old, sizeof old, &len) == WM_OK && len == sizeof old &&
        d->roll.epoch)
        memcpy(m, old, WM_PUB_BYTES);
    else
        memcpy(m, d->pin.sign_pub, WM_PUB_BYTES);
    memcpy(m + WM_PUB_BYTES, r->key, WM_PUB_BYTES);
    put_be(m + 2 * WM_PUB_BYTES, r->from_epoch, 4);
    put_be(m + 2 * WM_PUB_BYTES + 4, r->epoch, 4);
    put_be(m + 2 * WM_PUB_BYTES + 8, r->seq, 8);
    return wm_meta_put(t, WM_META_DOWN_PIN, m, sizeof m);
}

/* The frontier held of the pinned parent's log, the rollovers followed and
 * the fork mark. */
static WM_MUST_CHECK wm_err_t load_state(wm_down_t *d)
{
    wm_txn_t *t = NULL;
    uint32_t no = 0;
    size_t len = 0;
    memset(&d->have, 0, sizeof d->have);
    d->forked[0] = 0;
    wm_err_t err = wm_txn_begin(d->node->store, 0, &t);
    if (err != WM_OK)
        return err;
    if (d->pinned && (err = wm_nodeno_lookup(t, d->pin.node, &no)) == WM_OK)
        err = wm_ingest_frontier(t, no, &d->have);
    if (err == WM_ENOTFOUND)
        err = WM_OK;
    if (err == WM_OK && d->pinned)
        err = load_followed(d, t);
    if (err == WM_OK &&
        wm_meta_get(t, WM_META_DOWN_FORKED, d->forked, sizeof d->forked - 1, &len) == WM_OK)
        d->forked[len < sizeof d->forked ? len : sizeof d->forked - 1] = 0;
    wm_txn_abort(&t);
    return err;
}

void wm_down_reload(wm_down_t *d)
{
    char why[WM_WHY_MAX];
    wm_err_t err = wm_ident_pin_read(d->node->cfg, &d->pin, why, sizeof why);
    int was = d->pinned;
    d->pinned = err == WM_OK;
    if (err != WM_OK && err != WM_ENOTFOUND)
        wm_warn("down: no parent pinned: %s", why);
    else if (d->pinned && !was)
        wm_info("down: parent %s pinned; its log is received from the upstream", d->pin.node);
    if (load_state(d) != WM_OK)
        wm_warn("down: cannot read how far the parent's log is held");
}

wm_err_t wm_down_open(wm_node_t *node, wm_down_t **out)
{
    wm_down_t *d = calloc(1, sizeof *d);
    if (!d)
        return WM_ENOMEM;
    d->node = node;
    wm_down_reload(d);
    *out = d;
    return WM_OK;
}

void wm_down_close(wm_down_t **dp)
{
    if (!dp || !*dp)
        return;
    free(*dp);
    *dp = NULL;
}

int wm_down_pinned(const wm_down_t *d)
{
    return d && d->pinned;
}

const char *wm_down_parent(const wm_down_t *d)
{
    return d && d->pinned ? d->pin.node : "";
}

const uint8_t *wm_down_pin_key(const wm_down_t *d)
{
    return d && d->pinned ? d->key : NULL;
}

wm_head_t wm_down_have(const wm_down_t *d)
{
    return d->have;
}

static void set_res(wm_down_res_t *res, wm_sync_reason_t r, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void set_res(wm_down_res_t *res, wm_sync_reason_t r, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(res->detail, sizeof res->detail, fmt, ap);
    va_end(ap);
    res->reason = r;
}

/* A network batch must begin right after what we hold: its first record is
 * the next of our epoch, or record 1 of a later epoch. */
static int follows(const wm_head_t *have, const uint8_t *rec, size_t len, uint32_t *epoch,
                   uint64_t *seq)
{
    wm_srec_t v;
    wm_record_t *r = NULL;
    if (wm_srec_view(rec, len, &v) != WM_OK || wm_record_decode(v.bytes, v.len, &r) != WM_OK)
        return 1; /* ingest names what does not decode */
    *epoch = r->epoch;
    *seq = r->seq;
    wm_record_free(&r);
    if (*epoch == have->epoch)
        return *seq == have->seq + 1;
    return *epoch > have->epoch && *seq == 1;
}

/* The fork: the conflicting record kept as proof beside ours, and the
 * parent's log closed here (meta), in t. */
static WM_MUST_CHECK wm_err_t keep_fork(wm_txn_t *t, uint32_t no, const wm_ingest_t *ir)
{
    char what[WM_WHY_MAX];
    int n = snprintf(what, sizeof what, "two different records signed at %" PRIu32 "/%" PRIu64,
                     ir->bad_epoch, ir->bad_seq);
    wm_err_t err = wm_proof_put(t, no, ir->bad_epoch, ir->bad_seq, ir->proof, ir->proof_len);
    if (err == WM_OK)
        err = wm_meta_put(t, WM_META_DOWN_FORKED, what, n > 0 ? (size_t)n : 0);
    return err;
}

/* One run of the ingest transaction. Returns a storage error to retry
 * (WM_EMAPFULL) or report; WM_OK when the verdict is in ir (stored and
 * committed, or refused: nothing but a fork's proof committed). */
static WM_MUST_CHECK wm_err_t ingest_once(wm_down_t *d, const uint8_t *const *recs,
                                          const size_t *lens, size_t n, wm_ingest_t *ir)
{
    wm_txn_t *t = NULL, *c = NULL;
    uint32_t no = 0;
    int keep = 0;
    wm_err_t err = wm_txn_begin(d->node->store, 1, &t);
    if (err == WM_OK)
        err = wm_nodeno_add(t, d->pin.node, &no);
    if (err == WM_OK)
        err = wm_txn_begin_child(t, &c);
    if (err != WM_OK)
        goto out;
    /* The parent as the pin says: its role decides what it may write
     * (PROTOCOL.md §3, Who may write what), as for any child. */
    Wm__PeerState ps = WM__PEER_STATE__INIT;
    ps.node = d->pin.node;
    ps.role = d->pin.role;
    wm_sender_t s = {d->pin.node, no, d->key, WM_INGEST_SETTLE, &ps, NULL};
    const wm_rollover_t *roll = d->roll.epoch ? &d->roll : NULL;
    if (wm_ingest_follow(c, &s, roll, recs, lens, n, (int64_t)time(NULL), ir) == WM_OK) {
        keep = 1;
        /* A rollover moves the pin in the transaction that stores it. */
        if (ir->rolled.epoch)
            err = keep_followed(d, c, &ir->rolled);
        if (err == WM_OK)
            err = wm_txn_commit(&c);
    } else if (ir->reason == WM_SYNC_R_STORAGE) {
        err = ir->err;
    } else if (ir->equivocation) {
        wm_txn_abort(&c);
        keep = 1;
        err = keep_fork(t, no, ir);
    }
    wm_txn_abort(&c);
    /* The parent's records are durable here: only now may they be acked. */
    if (err == WM_OK && keep)
        err = wm_txn_commit(&t);
out:
    wm_txn_abort(&c);
    wm_txn_abort(&t);
    return err;
}

/* What the checks before ingest refuse: no pin, another node, a fork
 * found before, a batch that does not follow. Nonzero if refused. */
static int refused_before(wm_down_t *d, const char *node, const uint8_t *const *recs,
                          const size_t *lens, size_t n, int follow, wm_down_res_t *res)
{
    if (!d->pinned) {
        set_res(res, WM_SYNC_R_WRONG_PARENT,
                "no parent is pinned here (wmctl upstream-id FILE pins one)");
        return 1;
    }
    if (!node || strcmp(node, d->pin.node) != 0) {
        set_res(res, WM_SYNC_R_WRONG_PARENT,
                "these are records of \"%s\", but the parent pinned here is %s",
                node ? node : "", d->pin.node);
        return 1;
    }
    if (d->forked[0]) {
        set_res(res, WM_SYNC_R_EQUIVOCATION,
                "the log of %s forked before (proof kept): %s", d->pin.node, d->forked);
        return 1;
    }
    uint32_t e = 0;
    uint64_t s = 0;
    if (follow && n && !follows(&d->have, recs[0], lens[0], &e, &s)) {
        set_res(res, WM_SYNC_R_REPLAY,
                "the batch begins at %" PRIu32 "/%" PRIu64 ", but this node holds %s's log "
                "up to %" PRIu32 "/%" PRIu64 ": resume from there",
                e, s, d->pin.node, d->have.epoch, d->have.seq);
        res->bad_epoch = e;
        res->bad_seq = s;
        return 1;
    }
    return 0;
}

/* A bundle holds the parent's whole log: its leading records of epochs
 * below the one held, identical to what is stored, are duplicates (the
 * ingest would refuse an older epoch). How many lead so; *conflict is set
 * when the next one is held different at its place (a fork, or a
 * forgery: older_fork tells which). */
static size_t held_before(wm_down_t *d, const uint8_t *const *recs, const size_t *lens, size_t n,
                          int *conflict)
{
    wm_txn_t *t = NULL;
    uint32_t no = 0;
    size_t i = 0;
    *conflict = 0;
    if (!d->have.epoch || wm_txn_begin(d->node->store, 0, &t) != WM_OK)
        return 0;
    if (wm_nodeno_lookup(t, d->pin.node, &no) == WM_OK)
        for (; i < n; i++) {
            wm_srec_t v, have;
            wm_record_t *r = NULL;
            int held = 0, same = 0;
            if (wm_srec_view(recs[i], lens[i], &v) == WM_OK &&
                wm_record_decode(v.bytes, v.len, &r) == WM_OK && r->epoch < d->have.epoch &&
                wm_log_get(t, no, r->epoch, r->seq, &have) == WM_OK) {
                held = 1;
                same = have.len == v.len && memcmp(have.sig, v.sig, WM_SIG_BYTES) == 0 &&
                       memcmp(have.bytes, v.bytes, v.len) == 0;
            }
            wm_record_free(&r);
            if (!same) {
                *conflict = held;
                break;
            }
        }
    wm_txn_abort(&t);
    return i;
}

/* A bundle's record rec that differs from the one held at its place in an
 * older epoch: validly signed by that epoch's key, a fork (the proof kept,
 * committed); else a forgery, refused. The verdict in ir, as ingest's. */
static WM_MUST_CHECK wm_err_t older_fork_once(wm_down_t *d, const uint8_t *rec, size_t len,
                                              wm_ingest_t *ir)
{
    wm_txn_t *t = NULL;
    wm_srec_t v;
    wm_record_t *r = NULL;
    uint32_t no = 0;
    uint8_t pub[WM_PUB_BYTES];
    memset(ir, 0, sizeof *ir);
    wm_err_t err = wm_srec_view(rec, len, &v);
    if (err == WM_OK)
        err = wm_record_decode(v.bytes, v.len, &r);
    if (err == WM_OK)
        err = wm_txn_begin(d->node->store, 1, &t);
    if (err == WM_OK)
        err = wm_nodeno_lookup(t, d->pin.node, &no);
    if (err == WM_OK)
        err = wm_epoch_key(t, no, r->epoch, pub);
    if (err != WM_OK)
        goto out;
    ir->bad_epoch = r->epoch;
    ir->bad_seq = r->seq;
    ir->reason = WM_SYNC_R_BAD_SIGNATURE;
    snprintf(ir->detail, sizeof ir->detail, "record %" PRIu32 "/%" PRIu64 " differs from the "
             "one held and is not validly signed", r->epoch, r->seq);
    if (wm_srec_verify(&v, pub) != WM_OK)
        goto out;
    ir->reason = WM_SYNC_R_EQUIVOCATION;
    ir->equivocation = 1;
    ir->proof = rec;
    ir->proof_len = len;
    if ((err = keep_fork(t, no, ir)) == WM_OK)
        err = wm_txn_commit(&t); /* the proof is durable */
out:
    wm_record_free(&r);
    wm_txn_abort(&t);
    return err;
}

/* A refusal of the parent's records into res (a fork is marked and logged). */
static void refusal(wm_down_t *d, const wm_ingest_t *ir, wm_down_res_t *res)
{
    set_res(res, ir->reason, "%s", ir->detail);
    res->bad_epoch = ir->bad_epoch;
    res->bad_seq = ir->bad_seq;
    if (!ir->equivocation)
        return;
    if (d->roll.epoch == ir->bad_epoch && ir->bad_seq > d->roll.seq)
        set_res(res, ir->reason, "%s: its log forked; the record is kept here as proof, "
                "and nothing more of its log is taken", ir->detail);
    else
        set_res(res, ir->reason,
                "%s signed two different records at %" PRIu32 "/%" PRIu64 ": its log "
                "forked; the other record is kept here as proof, and nothing more of its "
                "log is taken",
                d->pin.node, ir->bad_epoch, ir->bad_seq);
    snprintf(d->forked, sizeof d->forked, "%s", res->detail);
    wm_error("down: the log of %s FORKED: %s", d->pin.node, res->detail);
}

/* The parent's key rollover ir stored: followed from now on. */
static void followed(wm_down_t *d, const wm_rollover_t *ro)
{
    char hex[2 * WM_PUB_BYTES + 1];
    d->roll = *ro;
    memcpy(d->key, ro->key, WM_PUB_BYTES);
    wm_info("down: %s's key rollover at %" PRIu32 "/%" PRIu64 " followed: its key from "
            "epoch %" PRIu32 " is %s",
            d->pin.node, ro->epoch, ro->seq, ro->from_epoch, wm_hex(ro->key, WM_PUB_BYTES, hex));
}

void wm_down_ingest(wm_down_t *d, const char *node, const uint8_t *const *recs,
                    const size_t *lens, size_t n, int follow, wm_down_res_t *res)
{
    memset(res, 0, sizeof *res);
    res->have = d->have;
    if (refused_before(d, node, recs, lens, n, follow, res))
        return;
    int conflict = 0;
    size_t skip = follow ? 0 : held_before(d, recs, lens, n, &conflict);
    recs += skip, lens += skip, n -= skip;
    res->duplicates = skip;
    wm_ingest_t ir;
    wm_err_t err;
    int tries = 0;
    do /* a full map grows, and the batch is ingested again */
        err = conflict ? older_fork_once(d, recs[0], lens[0], &ir)
                       : ingest_once(d, recs, lens, n, &ir);
    while (wm_store_retry(d->node->store, &err, &tries));
    if (err != WM_OK) {
        set_res(res, WM_SYNC_R_STORAGE, "cannot store the parent's records: %s",
                wm_strerror(err));
        return;
    }
    if (ir.reason != WM_SYNC_R_OK) {
        refusal(d, &ir, res);
        return;
    }
    if (ir.rolled.epoch) {
        followed(d, &ir.rolled);
        res->rolled = 1;
    }
    d->have = ir.durable;
    res->have = ir.durable;
    res->accepted = ir.accepted;
    res->duplicates += ir.duplicates;
    d->received += ir.accepted;
    d->duplicates += res->duplicates;
    if (ir.accepted)
        d->last_at = (int64_t)time(NULL);
}

/* ---- fork reset ---- */

/* The parent's records before the fork point, copied out of the log. */
typedef struct {
    uint32_t epoch;      /* the fork point: copy what lies before it (0/0: none) */
    uint64_t seq;
    uint8_t **srec;
    size_t *len, n, cap;
    int failed;
} kept_t;

static int keep_one(void *ctx, uint32_t epoch, uint64_t seq, const wm_srec_t *v)
{
    kept_t *k = ctx;
    if (epoch > k->epoch || (epoch == k->epoch && seq >= k->seq))
        return 1; /* the fork point: nothing from here on is common */
    if (k->n == k->cap) {
        size_t c = k->cap ? k->cap * 2 : 64;
        uint8_t **s = realloc(k->srec, c * sizeof *s);
        if (s)
            k->srec = s;
        size_t *l = s ? realloc(k->len, c * sizeof *l) : NULL;
        if (!l)
            return k->failed = 1;
        k->len = l;
        k->cap = c;
    }
    size_t len = WM_SIG_BYTES + v->len;
    uint8_t *b = malloc(len);
    if (!b)
        return k->failed = 1;
    memcpy(b, v->sig, len); /* sig and bytes are contiguous in the srec */
    k->srec[k->n] = b;
    k->len[k->n++] = len;
    return 0;
}

static void kept_free(kept_t *k)
{
    for (size_t i = 0; i < k->n; i++)
        free(k->srec[i]);
    free(k->srec);
    free(k->len);
}

/* Copies the kept records of node `from` into node `to`, with the keys of
 * their epochs, through the one append path (indexes and figures as for
 * any record); *roll is the last key rollover among them (epoch 0: none). */
static WM_MUST_CHECK wm_err_t copy_kept(wm_txn_t *t, uint32_t from, uint32_t to,
                                        const kept_t *k, wm_rollover_t *roll)
{
    wm_appender_t *ap = NULL;
    uint32_t keyed = 0;
    uint8_t pub[WM_PUB_BYTES];
    memset(roll, 0, sizeof *roll);
    wm_err_t err = wm_append_begin(t, 0, &ap);
    for (size_t i = 0; err == WM_OK && i < k->n; i++) {
        wm_srec_t v;
        wm_record_t *r = NULL;
        if ((err = wm_srec_view(k->srec[i], k->len[i], &v)) == WM_OK)
            err = wm_record_decode(v.bytes, v.len, &r);
        if (err == WM_OK && r->epoch != keyed && (err = wm_epoch_key(t, from, r->epoch, pub)) == WM_OK &&
            (err = wm_epoch_set(t, to, r->epoch, pub)) == WM_OK)
            keyed = r->epoch;
        if (err == WM_OK)
            err = wm_append_add(ap, to, r, k->srec[i], k->len[i]);
        if (err == WM_OK && r->body_case == WM__RECORD__BODY_KEY_ROLLOVER) {
            roll->epoch = r->epoch;
            roll->seq = r->seq;
            roll->from_epoch = r->key_rollover->from_epoch;
            memcpy(roll->key, r->key_rollover->new_sign_pub.data, WM_PUB_BYTES);
        }
        wm_record_free(&r);
    }
    if (err == WM_OK)
        err = wm_append_finish(&ap);
    wm_append_abandon(&ap);
    return err;
}

/* A free archive id for the parent's forked copy: PARENT~fork-N. */
static WM_MUST_CHECK wm_err_t archive_id(wm_txn_t *t, const char *parent, char *id, size_t cap)
{
    uint32_t no = 0;
    if (strlen(parent) > WM_ID_MAX)
        return WM_EINVAL; /* never: a pinned id is a node id */
    for (unsigned n = 1; n < 1000; n++) {
        int w = snprintf(id, cap, "%.*s" WM_NODE_ARCHIVE_MARK "%u", WM_ID_MAX, parent, n);
        if (w < 0 || (size_t)w >= cap)
            return WM_EINVAL;
        wm_err_t err = wm_nodeno_lookup(t, id, &no);
        if (err != WM_OK)
            return err == WM_ENOTFOUND ? WM_OK : err;
    }
    return WM_EEXIST;
}

/* Meta "down_forks" (a JSON array, one object per reset) with this one. */
static WM_MUST_CHECK wm_err_t note_reset(wm_down_t *d, wm_txn_t *t, const wm_down_reset_t *r)
{
    static char buf[64 * 1024]; /* single-threaded: the daemon's loop */
    size_t len = 0;
    json_t *a = NULL;
    if (wm_meta_get(t, WM_META_DOWN_FORKS, buf, sizeof buf - 1, &len) == WM_OK) {
        buf[len] = 0;
        a = json_loads(buf, 0, NULL);
    }
    if (!json_is_array(a)) {
        json_decref(a);
        a = json_array();
    }
    json_array_append_new(a, json_pack("{s:s, s:s, s:I, s:I, s:I, s:I, s:I, s:s}", "parent",
                                       d->pin.node, "archive", r->archive, "fork_epoch",
                                       (json_int_t)r->fork_epoch, "fork_seq",
                                       (json_int_t)r->fork_seq, "kept_epoch",
                                       (json_int_t)r->kept.epoch, "kept_seq",
                                       (json_int_t)r->kept.seq, "at", (json_int_t)time(NULL),
                                       "forked", d->forked));
    char *text = json_dumps(a, JSON_COMPACT);
    json_decref(a);
    if (!text)
        return WM_ENOMEM;
    wm_err_t err = strlen(text) < sizeof buf ? wm_meta_put(t, WM_META_DOWN_FORKS, text, strlen(text))
                                             : WM_ETOOBIG;
    free(text);
    return err;
}

/* The followed key after a reset: the last rollover among the records kept
 * (meta "down_pin"), or none. */
static WM_MUST_CHECK wm_err_t refollow(wm_down_t *d, wm_txn_t *t, const wm_rollover_t *roll)
{
    if (!roll->epoch)
        return wm_meta_put(t, WM_META_DOWN_PIN, "", 0);
    memset(&d->roll, 0, sizeof d->roll); /* the chain begins at the pin again */
    return keep_followed(d, t, roll);
}

/* One run of the reset's transaction (wm_down_reset_fork). */
static WM_MUST_CHECK wm_err_t reset_once(wm_down_t *d, wm_down_reset_t *out)
{
    wm_txn_t *t = NULL;
    uint32_t no = 0, fresh = 0;
    kept_t k = {0};
    wm_rollover_t roll;
    wm_err_t err = wm_txn_begin(d->node->store, 1, &t);
    if (err == WM_OK)
        err = wm_nodeno_lookup(t, d->pin.node, &no);
    if (err == WM_OK && (err = wm_proof_first(t, no, &k.epoch, &k.seq, NULL)) == WM_ENOTFOUND)
        err = WM_OK, k.epoch = 0, k.seq = 0; /* no proof: the log is taken from scratch */
    out->fork_epoch = k.epoch;
    out->fork_seq = k.seq;
    if (err == WM_OK)
        err = wm_log_scan(t, no, 0, 0, keep_one, &k, NULL);
    if (err == WM_OK && k.failed)
        err = WM_ENOMEM;
    if (err == WM_OK)
        err = archive_id(t, d->pin.node, out->archive, sizeof out->archive);
    if (err == WM_OK)
        err = wm_nodeno_rename(t, no, out->archive);
    if (err == WM_OK)
        err = wm_nodeno_add(t, d->pin.node, &fresh);
    if (err == WM_OK)
        err = copy_kept(t, no, fresh, &k, &roll);
    if (err == WM_OK)
        err = wm_ingest_frontier(t, fresh, &out->kept);
    if (err == WM_OK)
        err = note_reset(d, t, out);
    if (err == WM_OK)
        err = wm_meta_put(t, WM_META_DOWN_FORKED, "", 0);
    if (err == WM_OK)
        err = refollow(d, t, &roll);
    /* The fork is archived and the log kept to its last common record. */
    if (err == WM_OK)
        err = wm_txn_commit(&t);
    wm_txn_abort(&t);
    kept_free(&k);
    return err;
}

wm_err_t wm_down_reset_fork(wm_down_t *d, wm_down_reset_t *out, char *why, size_t cap)
{
    memset(out, 0, sizeof *out);
    if (!d->pinned) {
        wm_why(why, cap, "no parent is pinned here: there is no parent's log to reset");
        return WM_ENOTFOUND;
    }
    if (!d->forked[0]) {
        wm_why(why, cap, "no fork of %s's log is recorded here: nothing to reset", d->pin.node);
        return WM_ESTATE;
    }
    wm_err_t err;
    int tries = 0;
    do /* a full map grows, and the reset runs again */
        err = reset_once(d, out);
    while (wm_store_retry(d->node->store, &err, &tries));
    if (err != WM_OK) {
        wm_why(why, cap, "cannot reset the fork of %s's log: %s; nothing was changed",
               d->pin.node, wm_strerror(err));
        if (load_state(d) != WM_OK) /* the followed key as stored */
            wm_warn("down: cannot read how far the parent's log is held");
        return err;
    }
    wm_info("down: the fork of %s's log at %" PRIu32 "/%" PRIu64 " reset: the forked copy is "
            "kept as %s; the log is taken again after %" PRIu32 "/%" PRIu64,
            d->pin.node, out->fork_epoch, out->fork_seq, out->archive, out->kept.epoch,
            out->kept.seq);
    if (load_state(d) != WM_OK)
        wm_warn("down: cannot read how far the parent's log is held");
    return WM_OK;
}

void wm_down_seen(wm_down_t *d, const Wm__Frontier *head, const ProtobufCBinaryData *key)
{
    if (head) {
        wm_head_from(head, &d->parent_head);
        d->parent_known = 1;
    }
    if (key && key->len == WM_PUB_BYTES) {
        memcpy(d->parent_key, key->data, WM_PUB_BYTES);
        d->parent_key_known = 1;
    }
}

void wm_down_note_reject(wm_down_t *d, const wm_down_res_t *res)
{
    snprintf(d->last_reject, sizeof d->last_reject, "%s", wm_sync_slug(res->reason));
    snprintf(d->last_reject_detail, sizeof d->last_reject_detail, "%s", res->detail);
    d->last_reject_at = (int64_t)time(NULL);
}

/* The forks of the parent's log reset here (meta "down_forks"): an array,
 * empty if none (or unreadable: logged). */
static json_t *forks_reset(const wm_down_t *d)
{
    static char buf[64 * 1024]; /* single-threaded: the daemon's loop */
    wm_txn_t *t = NULL;
    size_t len = 0;
    json_t *a = NULL;
    wm_err_t err = wm_txn_begin(d->node->store, 0, &t);
    if (err == WM_OK)
        err = wm_meta_get(t, WM_META_DOWN_FORKS, buf, sizeof buf - 1, &len);
    wm_txn_abort(&t);
    if (err == WM_OK) {
        buf[len] = 0;
        a = json_loads(buf, 0, NULL);
    } else if (err != WM_ENOTFOUND) {
        wm_warn("down: cannot read the forks reset: %s", wm_strerror(err));
    }
    if (json_is_array(a))
        return a;
    json_decref(a);
    return json_array();
}

/* The key rollovers followed (status "followed"): null if none. */
static json_t *followed_status(const wm_down_t *d)
{
    char k[2 * WM_PUB_BYTES + 1];
    if (!d->roll.epoch)
        return json_null();
    wm_hex(d->key, WM_PUB_BYTES, k);
    return json_pack("{s:s, s:I, s:I, s:I}", "key", k, "from_epoch",
                     (json_int_t)d->roll.from_epoch, "rollover_epoch", (json_int_t)d->roll.epoch,
                     "rollover_seq", (json_int_t)d->roll.seq);
}

json_t *wm_down_status(wm_down_t *d)
{
    char pk[2 * WM_PUB_BYTES + 1] = "", sk[2 * WM_PUB_BYTES + 1] = "";
    if (!d || !d->pinned)
        return json_pack("{s:b}", "pinned", 0);
    wm_hex(d->pin.sign_pub, WM_PUB_BYTES, pk);
    if (d->parent_key_known)
        wm_hex(d->parent_key, WM_PUB_BYTES, sk);
    int caught = d->parent_known && d->parent_head.epoch == d->have.epoch &&
                 d->parent_head.seq == d->have.seq;
    json_t *j = json_pack(
        "{s:b, s:s, s:s, s:s, s:I, s:I, s:I, s:I, s:b, s:I, s:I, s:s, s:s, s:s, s:I}", "pinned",
        1, "parent", d->pin.node, "pinned_key", pk, "parent_key", sk, "have_epoch",
        (json_int_t)d->have.epoch, "have_seq", (json_int_t)d->have.seq, "parent_epoch",
        (json_int_t)d->parent_head.epoch, "parent_seq", (json_int_t)d->parent_head.seq,
        "caught_up", caught, "received", (json_int_t)d->received, "last_at",
        (json_int_t)d->last_at, "forked", d->forked, "last_reject", d->last_reject,
        "last_reject_detail", d->last_reject_detail, "last_reject_at",
        (json_int_t)d->last_reject_at);
    if (j)
        json_object_set_new(j, "pin_ok", d->parent_key_known
                                             ? json_boolean(memcmp(d->parent_key, d->key,
                                                                   WM_PUB_BYTES) == 0)
                                             : json_null());
    if (j)
        json_object_set_new(j, "followed", followed_status(d));
    if (j)
        json_object_set_new(j, "forks_reset", forks_reset(d));
    return j;
}
