/* SPDX-License-Identifier: MIT */
/*
 * test_down — the child's side of feature "down" (daemon/wm_down.c) against
 * a hostile parent, no network: a real store and pin file, the parent's
 * log made here record by record (signed by the pinned key, or by another),
 * and handed to wm_down_ingest as a DOWN_BATCH (follow) or a bundle chunk
 * would be. Every refusal must name its reason and store nothing:
 *   a batch of the parent's log is stored, durably, and acked as `have`;
 *   the same batch again: `replay` over the network, duplicates in a bundle;
 *   records of another node: `wrong_parent`; naming another node: `wrong_node`;
 *   the parent's id signed by another key: `bad_signature`;
 *   a station's kind of record (a need) in a town's log: `wrong_tier`;
 *   a batch that skips ahead: `replay` (network), `gap` (bundle);
 *   records of an epoch below the newest held: `old_epoch`;
 *   a different record validly signed at a held place: `equivocation`, the
 *   record kept as proof, and nothing more taken, also after a restart.
 * Key rollover (the parent re-keys twice, K0 -> K1 -> K2):
 *   a rollover signed by the key followed moves the pin, durably (a
 *   restart follows K1), and the new key's epochs are taken, a rollover and
 *   the epoch after it in one batch too; a bundle of it all again: nothing
 *   new; the pin file unchanged; status "followed" names the key;
 *   a rollover signed by another key: `bad_rollover`; a new epoch under
 *   another key without one, or below the epoch it names: `no_rollover`;
 *   a second rollover (or any record) signed by the retired key after its
 *   rollover: `equivocation`, kept as proof; nothing stored by a refusal;
 *   an operator who pins another key by hand starts afresh from it.
 * A bundle of the whole log after a later epoch began: what is held is
 * duplicates; an older record held differently is a fork (proof kept) if
 * validly signed, `bad_signature` if not.
 * Fork reset: refused while no fork is recorded; after a fork, the copy is
 * archived (its proof readable under the archive's id), the log kept to
 * the last common record (the rollover before it followed again), the fork
 * mark cleared, durably; the other branch is then taken, and a bundle of
 * it again is duplicates.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "wm_down.h"
#include "wm_ident.h"
#include "wm_testutil.h"

#define PARENT "xx/longhua"
#define CHILD "xx/longhua/a"
#define MAXR 16

typedef struct {
    char *dir;
    wm_config_t cfg;
    wm_node_t node;
    wm_down_t *down;
    wm_signer_t *key, *other;
    uint8_t *rec[MAXR];
    size_t len[MAXR];
} fx_t;

/* Record seq of epoch of the parent's log, chained to prev, as signer s
 * signs it; title varies the content (a fork). */
static uint8_t *make(const char *station, uint32_t epoch, uint64_t seq, const uint8_t *prev,
                     const wm_signer_t *s, const char *title, size_t *len)
{
    tu_rec_t t;
    tu_rec_init(&t, station, epoch, seq, prev);
    tu_rec_plan(&t, title, 20990101);
    return tu_seal(&t, s, len);
}

/* The parent's log, epoch 1, seq 1 … n, into f->rec[0 … n). */
static void make_log(fx_t *f, size_t n)
{
    uint8_t h[WM_HASH_BYTES] = {0};
    for (size_t i = 0; i < n; i++) {
        char title[32];
        snprintf(title, sizeof title, "plan %zu", i + 1);
        f->rec[i] = make(PARENT, 1, i + 1, i ? h : NULL, f->key, title, &f->len[i]);
        wm_srec_hash_buf(f->rec[i], f->len[i], h);
    }
}

static void open_down(fx_t *f)
{
    assert_int_equal(wm_down_open(&f->node, &f->down), WM_OK);
}

static int setup(void **state)
{
    fx_t *f = calloc(1, sizeof *f);
    char why[256], data[PATH_MAX];
    assert_non_null(f);
    f->dir = tu_mkdtemp();
    snprintf(f->cfg.dir, sizeof f->cfg.dir, "%s", f->dir);
    snprintf(f->cfg.id, sizeof f->cfg.id, "%s", CHILD);
    f->key = tu_signer(7);
    f->other = tu_signer(9);
    wm_ident_t *pin = calloc(1, sizeof *pin);
    assert_non_null(pin);
    snprintf(pin->node, sizeof pin->node, "%s", PARENT);
    snprintf(pin->role, sizeof pin->role, "town");
    snprintf(pin->name, sizeof pin->name, "龙华镇");
    memcpy(pin->sign_pub, wm_signer_pub(f->key), WM_PUB_BYTES);
    assert_int_equal(wm_ident_pin_write(f->dir, pin, why, sizeof why), WM_OK);
    free(pin);
    snprintf(data, sizeof data, "%s/data", f->dir);
    assert_int_equal(wm_store_open(data, 0, 16, &f->node.store), WM_OK);
    f->node.cfg = &f->cfg;
    make_log(f, 6);
    open_down(f);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx_t *f = *state;
    wm_down_close(&f->down);
    wm_store_close(&f->node.store);
    for (size_t i = 0; i < MAXR; i++)
        free(f->rec[i]);
    wm_signer_free(&f->key);
    wm_signer_free(&f->other);
    tu_rmrf(f->dir);
    free(f->dir);
    free(f);
    return 0;
}

/* Ingests rec[from … to] (1-based seqs of the fixture's log). */
static void ingest(fx_t *f, const char *node, size_t from, size_t to, int follow,
                   wm_down_res_t *res)
{
    const uint8_t *r[MAXR];
    size_t l[MAXR], n = 0;
    for (size_t i = from; i <= to; i++, n++)
        r[n] = f->rec[i - 1], l[n] = f->len[i - 1];
    wm_down_ingest(f->down, node, r, l, n, follow, res);
}

static void ingest_one(fx_t *f, const uint8_t *rec, size_t len, int follow, wm_down_res_t *res)
{
    wm_down_ingest(f->down, PARENT, &rec, &len, 1, follow, res);
}

/* How many records of the parent's log the store holds. */
static uint64_t stored(fx_t *f)
{
    wm_txn_t *t = NULL;
    uint32_t no = 0;
    uint64_t n = 0;
    assert_int_equal(wm_txn_begin(f->node.store, 0, &t), WM_OK);
    if (wm_nodeno_lookup(t, PARENT, &no) == WM_OK)
        assert_int_equal(wm_log_count(t, no, &n), WM_OK);
    wm_txn_abort(&t);
    return n;
}

static void expect(const wm_down_res_t *res, wm_sync_reason_t want)
{
    if (res->reason != want)
        fail_msg("reason %s (%s), want %s", wm_sync_slug(res->reason), res->detail,
                 wm_sync_slug(want));
}

static void test_receive_and_replay(void **state)
{
    fx_t *f = *state;
    wm_down_res_t res;
    ingest(f, PARENT, 1, 3, 1, &res);
    expect(&res, WM_SYNC_R_OK);
    assert_int_equal(res.accepted, 3);
    assert_int_equal(res.have.seq, 3);
    assert_int_equal(stored(f), 3);
    ingest(f, PARENT, 2, 3, 1, &res); /* a parent resending what we hold */
    expect(&res, WM_SYNC_R_REPLAY);
    ingest(f, PARENT, 1, 3, 0, &res); /* a bundle may: duplicates */
    expect(&res, WM_SYNC_R_OK);
    assert_int_equal(res.accepted, 0);
    assert_int_equal(res.duplicates, 3);
    ingest(f, PARENT, 5, 6, 1, &res); /* skips record 4 */
    expect(&res, WM_SYNC_R_REPLAY);
    ingest(f, PARENT, 5, 6, 0, &res);
    expect(&res, WM_SYNC_R_GAP);
    assert_int_equal(stored(f), 3);
    /* Durable: a restarted child holds the same. */
    wm_down_close(&f->down);
    open_down(f);
    assert_int_equal(wm_down_have(f->down).seq, 3);
    ingest(f, PARENT, 4, 6, 1, &res);
    expect(&res, WM_SYNC_R_OK);
    assert_int_equal(stored(f), 6);
}

static void test_wrong_parent_and_key(void **state)
{
    fx_t *f = *state;
    wm_down_res_t res;
    size_t len;
    ingest(f, "xx/other", 1, 2, 1, &res);
    expect(&res, WM_SYNC_R_WRONG_PARENT);
    uint8_t *named = make("xx/other", 1, 1, NULL, f->key, "other", &len);
    ingest_one(f, named, len, 1, &res);
    free(named);
    expect(&res, WM_SYNC_R_WRONG_NODE);
    uint8_t *forged = make(PARENT, 1, 1, NULL, f->other, "forged", &len);
    ingest_one(f, forged, len, 1, &res);
    free(forged);
    expect(&res, WM_SYNC_R_BAD_SIGNATURE);
    /* A forged record chained under a validly signed one: each record's
     * own signature is checked before anything is stored. */
    uint8_t h[WM_HASH_BYTES];
    uint8_t *bad = make(PARENT, 1, 1, NULL, f->other, "forged", &len);
    wm_srec_hash_buf(bad, len, h);
    size_t len2;
    uint8_t *good = make(PARENT, 1, 2, h, f->key, "over it", &len2);
    const uint8_t *r[2] = {bad, good};
    size_t l[2] = {len, len2};
    wm_down_ingest(f->down, PARENT, r, l, 2, 1, &res);
    free(bad);
    free(good);
    expect(&res, WM_SYNC_R_BAD_SIGNATURE);
    /* A need is a station's record: the town pinned may not write one. */
    tu_rec_t t;
    Wm__Need need = WM__NEED__INIT;
    need.date = 20240304;
    need.title = "a station's need";
    need.service_kind = WM__SERVICE_KIND__ASSISTANCE;
    tu_rec_init(&t, PARENT, 1, 1, NULL);
    t.r.body_case = WM__RECORD__BODY_NEED;
    t.r.need = &need;
    uint8_t *nr = tu_seal(&t, f->key, &len);
    ingest_one(f, nr, len, 1, &res);
    free(nr);
    expect(&res, WM_SYNC_R_WRONG_TIER);
    assert_int_equal(stored(f), 0);
    assert_int_equal(wm_down_have(f->down).seq, 0);
}

static void test_old_epoch_and_fork(void **state)
{
    fx_t *f = *state;
    wm_down_res_t res;
    size_t len;
    ingest(f, PARENT, 1, 3, 1, &res);
    expect(&res, WM_SYNC_R_OK);
    uint8_t *e2 = make(PARENT, 2, 1, NULL, f->key, "epoch 2", &len);
    ingest_one(f, e2, len, 1, &res);
    free(e2);
    expect(&res, WM_SYNC_R_OK);
    assert_int_equal(wm_down_have(f->down).epoch, 2);
    ingest(f, PARENT, 4, 4, 0, &res); /* epoch 1 after epoch 2 began */
    expect(&res, WM_SYNC_R_OLD_EPOCH);
    /* The fork: another record 2/1, validly signed by the parent's key. */
    uint8_t *fork = make(PARENT, 2, 1, NULL, f->key, "another epoch 2", &len);
    ingest_one(f, fork, len, 0, &res);
    free(fork);
    expect(&res, WM_SYNC_R_EQUIVOCATION);
    wm_txn_t *t = NULL;
    uint32_t no = 0;
    uint64_t proofs = 0;
    assert_int_equal(wm_txn_begin(f->node.store, 0, &t), WM_OK);
    assert_int_equal(wm_nodeno_lookup(t, PARENT, &no), WM_OK);
    assert_int_equal(wm_proof_count(t, no, &proofs), WM_OK);
    wm_txn_abort(&t);
    assert_int_equal(proofs, 1);
    assert_int_equal(stored(f), 4);
    /* Nothing more is taken, also after a restart. */
    uint8_t h[WM_HASH_BYTES];
    wm_head_t have = wm_down_have(f->down);
    memcpy(h, have.hash, sizeof h);
    uint8_t *next = make(PARENT, 2, 2, h, f->key, "after the fork", &len);
    ingest_one(f, next, len, 1, &res);
    expect(&res, WM_SYNC_R_EQUIVOCATION);
    wm_down_close(&f->down);
    open_down(f);
    ingest_one(f, next, len, 1, &res);
    free(next);
    expect(&res, WM_SYNC_R_EQUIVOCATION);
    assert_int_equal(stored(f), 4);
    json_t *st = wm_down_status(f->down);
    assert_true(strlen(json_string_value(json_object_get(st, "forked"))) > 0);
    json_decref(st);
}

/* Record seq of epoch, chained to prev (NULL: none), signed by s: a key
 * rollover naming key `next` from epoch `from`. */
static uint8_t *make_roll(uint32_t epoch, uint64_t seq, const uint8_t *prev,
                          const wm_signer_t *s, const wm_signer_t *next, uint32_t from,
                          size_t *len)
{
    tu_rec_t t;
    Wm__KeyRollover k = WM__KEY_ROLLOVER__INIT;
    k.date = 20240304;
    k.new_sign_pub = (ProtobufCBinaryData){WM_PUB_BYTES, (uint8_t *)wm_signer_pub(next)};
    k.from_epoch = from;
    tu_rec_init(&t, PARENT, epoch, seq, prev);
    t.r.body_case = WM__RECORD__BODY_KEY_ROLLOVER;
    t.r.key_rollover = &k;
    return tu_seal(&t, s, len);
}

/* Puts rec (len bytes) at f->rec[i]; sets hash to its hash. */
static void put(fx_t *f, size_t i, uint8_t *rec, size_t len, uint8_t hash[WM_HASH_BYTES])
{
    free(f->rec[i]);
    f->rec[i] = rec;
    f->len[i] = len;
    wm_srec_hash_buf(rec, len, hash);
}

/* The parent's log with two re-keys into f->rec (1-based positions):
 * 1-3 epoch 1 by K0 (f->key), 4 the rollover K0 -> K1 from epoch 2; 5-6
 * epoch 2 by K1, 7 the rollover K1 -> K2 from epoch 3; 8 epoch 3/1 by K2. */
static void make_rekeyed(fx_t *f, const wm_signer_t *k1, const wm_signer_t *k2)
{
    uint8_t h[WM_HASH_BYTES];
    size_t len;
    uint8_t *r;
    wm_srec_hash_buf(f->rec[2], f->len[2], h);
    r = make_roll(1, 4, h, f->key, k1, 2, &len);
    put(f, 3, r, len, h);
    r = make(PARENT, 2, 1, NULL, k1, "k1 one", &len);
    put(f, 4, r, len, h);
    r = make(PARENT, 2, 2, h, k1, "k1 two", &len);
    put(f, 5, r, len, h);
    r = make_roll(2, 3, h, k1, k2, 3, &len);
    put(f, 6, r, len, h);
    r = make(PARENT, 3, 1, NULL, k2, "k2 one", &len);
    put(f, 7, r, len, h);
}

static uint64_t proofs(fx_t *f)
{
    wm_txn_t *t = NULL;
    uint32_t no = 0;
    uint64_t n = 0;
    assert_int_equal(wm_txn_begin(f->node.store, 0, &t), WM_OK);
    if (wm_nodeno_lookup(t, PARENT, &no) == WM_OK)
        assert_int_equal(wm_proof_count(t, no, &n), WM_OK);
    wm_txn_abort(&t);
    return n;
}

static void test_rollover_followed(void **state)
{
    fx_t *f = *state;
    wm_down_res_t res;
    wm_signer_t *k1 = tu_signer(11), *k2 = tu_signer(12);
    make_rekeyed(f, k1, k2);
    ingest(f, PARENT, 1, 4, 1, &res); /* epoch 1 and the rollover to K1 */
    expect(&res, WM_SYNC_R_OK);
    assert_true(res.rolled);
    assert_memory_equal(wm_down_pin_key(f->down), wm_signer_pub(k1), WM_PUB_BYTES);
    /* Durable: a restarted child follows K1. */
    wm_down_close(&f->down);
    open_down(f);
    assert_memory_equal(wm_down_pin_key(f->down), wm_signer_pub(k1), WM_PUB_BYTES);
    ingest(f, PARENT, 5, 6, 1, &res); /* epoch 2, signed by K1 */
    expect(&res, WM_SYNC_R_OK);
    assert_false(res.rolled);
    ingest(f, PARENT, 7, 8, 1, &res); /* the rollover to K2 and epoch 3 in one batch */
    expect(&res, WM_SYNC_R_OK);
    assert_true(res.rolled);
    assert_int_equal(stored(f), 8);
    assert_int_equal(wm_down_have(f->down).epoch, 3);
    assert_memory_equal(wm_down_pin_key(f->down), wm_signer_pub(k2), WM_PUB_BYTES);
    ingest(f, PARENT, 1, 8, 0, &res); /* a bundle of it all: nothing new */
    expect(&res, WM_SYNC_R_OK);
    assert_int_equal(res.duplicates, 8);
    json_t *st = wm_down_status(f->down);
    json_t *fo = json_object_get(st, "followed");
    char hex[2 * WM_PUB_BYTES + 1];
    wm_hex(wm_signer_pub(k2), WM_PUB_BYTES, hex);
    assert_string_equal(json_string_value(json_object_get(fo, "key")), hex);
    assert_int_equal(json_integer_value(json_object_get(fo, "from_epoch")), 3);
    assert_int_equal(json_integer_value(json_object_get(fo, "rollover_epoch")), 2);
    assert_int_equal(json_integer_value(json_object_get(fo, "rollover_seq")), 3);
    wm_hex(wm_signer_pub(f->key), WM_PUB_BYTES, hex); /* the pin file: unchanged */
    assert_string_equal(json_string_value(json_object_get(st, "pinned_key")), hex);
    json_decref(st);
    /* The operator pins another key by hand: the rollovers followed from
     * K0 no longer count. */
    char why[256];
    wm_ident_t pin;
    memset(&pin, 0, sizeof pin);
    snprintf(pin.node, sizeof pin.node, "%s", PARENT);
    snprintf(pin.role, sizeof pin.role, "town");
    memcpy(pin.sign_pub, wm_signer_pub(f->other), WM_PUB_BYTES);
    assert_int_equal(wm_ident_pin_write(f->dir, &pin, why, sizeof why), WM_OK);
    wm_down_reload(f->down);
    assert_memory_equal(wm_down_pin_key(f->down), wm_signer_pub(f->other), WM_PUB_BYTES);
    wm_signer_free(&k1);
    wm_signer_free(&k2);
}

static void test_rollover_hostile(void **state)
{
    fx_t *f = *state;
    wm_down_res_t res;
    size_t len;
    uint8_t h3[WM_HASH_BYTES], h4[WM_HASH_BYTES];
    wm_signer_t *k1 = tu_signer(11), *k2 = tu_signer(12);
    make_rekeyed(f, k1, k2);
    ingest(f, PARENT, 1, 3, 1, &res);
    expect(&res, WM_SYNC_R_OK);
    wm_srec_hash_buf(f->rec[2], f->len[2], h3);
    /* A rollover of the parent's log signed by another key. */
    uint8_t *forged = make_roll(1, 4, h3, f->other, f->other, 2, &len);
    ingest_one(f, forged, len, 1, &res);
    free(forged);
    expect(&res, WM_SYNC_R_BAD_ROLLOVER);
    /* A new epoch under another key, with no rollover. */
    ingest(f, PARENT, 5, 5, 1, &res);
    expect(&res, WM_SYNC_R_NO_ROLLOVER);
    assert_int_equal(stored(f), 3);
    assert_memory_equal(wm_down_pin_key(f->down), wm_signer_pub(f->key), WM_PUB_BYTES);
    /* A rollover that names epoch 3: epoch 2 is no epoch of the new key. */
    uint8_t *late = make_roll(1, 4, h3, f->key, k1, 3, &len);
    wm_srec_hash_buf(late, len, h4);
    const uint8_t *r[2] = {late, f->rec[4]};
    size_t l[2] = {len, f->len[4]};
    wm_down_ingest(f->down, PARENT, r, l, 2, 1, &res);
    free(late);
    expect(&res, WM_SYNC_R_NO_ROLLOVER);
    /* The true rollover; then epoch 2 signed by yet another key. */
    ingest(f, PARENT, 4, 4, 1, &res);
    expect(&res, WM_SYNC_R_OK);
    uint8_t *other2 = make(PARENT, 2, 1, NULL, f->other, "not k1", &len);
    ingest_one(f, other2, len, 1, &res);
    free(other2);
    expect(&res, WM_SYNC_R_NO_ROLLOVER);
    assert_int_equal(stored(f), 4);
    assert_int_equal(proofs(f), 0);
    /* A second rollover of epoch 1, signed by the retired key K0: a fork. */
    wm_srec_hash_buf(f->rec[3], f->len[3], h4);
    uint8_t *second = make_roll(1, 5, h4, f->key, f->other, 2, &len);
    ingest_one(f, second, len, 0, &res);
    free(second);
    expect(&res, WM_SYNC_R_EQUIVOCATION);
    assert_int_equal(proofs(f), 1);
    assert_int_equal(stored(f), 4);
    ingest(f, PARENT, 5, 6, 1, &res); /* the parent's log stays stopped */
    expect(&res, WM_SYNC_R_EQUIVOCATION);
    assert_int_equal(stored(f), 4);
    wm_signer_free(&k1);
    wm_signer_free(&k2);
}

static void test_fork_reset(void **state)
{
    fx_t *f = *state;
    wm_down_res_t res;
    wm_down_reset_t rr;
    char why[256];
    size_t len;
    uint8_t h[WM_HASH_BYTES];
    wm_signer_t *k1 = tu_signer(11), *k2 = tu_signer(12);
    assert_int_equal(wm_down_reset_fork(f->down, &rr, why, sizeof why), WM_ESTATE);
    assert_non_null(strstr(why, "nothing to reset"));
    make_rekeyed(f, k1, k2);
    ingest(f, PARENT, 1, 6, 1, &res); /* to epoch 2 seq 2, K1 followed */
    expect(&res, WM_SYNC_R_OK);
    /* Another record at 2/2, validly signed by K1: a fork. */
    wm_srec_hash_buf(f->rec[4], f->len[4], h);
    uint8_t *other = make(PARENT, 2, 2, h, k1, "the other branch", &len);
    ingest_one(f, other, len, 0, &res);
    expect(&res, WM_SYNC_R_EQUIVOCATION);
    assert_int_equal(wm_down_reset_fork(f->down, &rr, why, sizeof why), WM_OK);
    assert_string_equal(rr.archive, PARENT "~fork-1");
    assert_int_equal(rr.fork_epoch, 2);
    assert_int_equal(rr.fork_seq, 2);
    assert_int_equal(rr.kept.epoch, 2);
    assert_int_equal(rr.kept.seq, 1);
    assert_int_equal(stored(f), 5); /* 1/1-1/4 and 2/1: to the last common record */
    /* Durable, the rollover to K1 followed again, no fork marked. */
    wm_down_close(&f->down);
    open_down(f);
    assert_int_equal(wm_down_have(f->down).seq, 1);
    assert_memory_equal(wm_down_pin_key(f->down), wm_signer_pub(k1), WM_PUB_BYTES);
    json_t *st = wm_down_status(f->down);
    assert_string_equal(json_string_value(json_object_get(st, "forked")), "");
    json_t *fr = json_array_get(json_object_get(st, "forks_reset"), 0);
    assert_string_equal(json_string_value(json_object_get(fr, "archive")), PARENT "~fork-1");
    json_decref(st);
    /* The archive keeps the forked copy and its proof. */
    wm_txn_t *t = NULL;
    uint32_t no = 0, e = 0;
    uint64_t s = 0, n = 0;
    assert_int_equal(wm_txn_begin(f->node.store, 0, &t), WM_OK);
    assert_int_equal(wm_nodeno_lookup(t, PARENT "~fork-1", &no), WM_OK);
    assert_int_equal(wm_log_count(t, no, &n), WM_OK);
    assert_int_equal(wm_proof_first(t, no, &e, &s, NULL), WM_OK);
    wm_txn_abort(&t);
    assert_int_equal(n, 6);
    assert_int_equal(e, 2);
    assert_int_equal(s, 2);
    /* The other branch is taken now; a bundle of it again: duplicates. */
    ingest_one(f, other, len, 1, &res);
    expect(&res, WM_SYNC_R_OK);
    assert_int_equal(wm_down_have(f->down).seq, 2);
    ingest_one(f, other, len, 0, &res);
    expect(&res, WM_SYNC_R_OK);
    assert_int_equal(res.duplicates, 1);
    assert_int_equal(wm_down_reset_fork(f->down, &rr, why, sizeof why), WM_ESTATE);
    free(other);
    wm_signer_free(&k1);
    wm_signer_free(&k2);
}

/* A bundle of the whole log at a child that holds a later epoch: a record
 * of an earlier epoch held differently is a fork if its epoch's key signed
 * it (proof kept), a forgery otherwise (bad_signature); nothing stored. */
static void test_bundle_older_epoch(void **state)
{
    fx_t *f = *state;
    wm_down_res_t res;
    size_t len;
    uint8_t h[WM_HASH_BYTES];
    wm_signer_t *k1 = tu_signer(11), *k2 = tu_signer(12);
    make_rekeyed(f, k1, k2);
    ingest(f, PARENT, 1, 6, 1, &res); /* to epoch 2 */
    expect(&res, WM_SYNC_R_OK);
    wm_srec_hash_buf(f->rec[0], f->len[0], h);
    uint8_t *forged = make(PARENT, 1, 2, h, f->other, "forged", &len);
    const uint8_t *r[2] = {f->rec[0], forged};
    size_t l[2] = {f->len[0], len};
    wm_down_ingest(f->down, PARENT, r, l, 2, 0, &res);
    expect(&res, WM_SYNC_R_BAD_SIGNATURE);
    assert_int_equal(proofs(f), 0);
    free(forged);
    uint8_t *fork = make(PARENT, 1, 2, h, f->key, "another 1/2", &len);
    r[1] = fork, l[1] = len;
    wm_down_ingest(f->down, PARENT, r, l, 2, 0, &res);
    expect(&res, WM_SYNC_R_EQUIVOCATION);
    assert_int_equal(proofs(f), 1);
    assert_int_equal(stored(f), 6);
    free(fork);
    wm_signer_free(&k1);
    wm_signer_free(&k2);
}

int main(void)
{
    if (wm_crypto_init() != WM_OK)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_receive_and_replay, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wrong_parent_and_key, setup, teardown),
        cmocka_unit_test_setup_teardown(test_old_epoch_and_fork, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rollover_followed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rollover_hostile, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fork_reset, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bundle_older_epoch, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
