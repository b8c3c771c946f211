/* SPDX-License-Identifier: MIT */
/*
 * test_store — storage/wm_store.c against real LMDB environments in
 * scratch directories: appending signed chains, reading them back (get,
 * head, scan, count), whole-log verification, every way an append can be
 * refused (broken chain, replay, equivocation), reopen and read-only open,
 * map growth (a 1 MiB map taking far more, with a reader in another
 * process), map-full at the map_max_mb ceiling, epoch keys, the team
 * and reference indexes, and hot copies.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "wm_store.h"
#include "wm_testutil.h"

#define STATION "xx-county/longhua/xinhe"
#define OTHER "xx-county/longhua/other"

/* A station's chain as the test builds it: the srecs in order. */
typedef struct {
    const char *station;
    uint32_t epoch;
    wm_signer_t *signer;
    uint64_t seq;                 /* of the last record built */
    uint8_t head[WM_HASH_BYTES];  /* its hash */
    uint8_t **srec;               /* srec[i] is seq i + 1 */
    size_t *len;
    size_t cap;
} chain_t;

static void chain_init(chain_t *c, const char *station, uint32_t epoch, uint8_t key)
{
    memset(c, 0, sizeof *c);
    c->station = station;
    c->epoch = epoch;
    c->signer = tu_signer(key);
}

static void chain_free(chain_t *c)
{
    for (uint64_t i = 0; i < c->seq; i++)
        free(c->srec[i]);
    free(c->srec);
    free(c->len);
    wm_signer_free(&c->signer);
}

/* Keeps a sealed record as the chain's next one. */
static void chain_push(chain_t *c, uint8_t *srec, size_t len)
{
    if (c->seq == c->cap) {
        c->cap = c->cap ? 2 * c->cap : 16;
        c->srec = realloc(c->srec, c->cap * sizeof *c->srec);
        c->len = realloc(c->len, c->cap * sizeof *c->len);
        assert_non_null(c->srec);
        assert_non_null(c->len);
    }
    c->srec[c->seq] = srec;
    c->len[c->seq] = len;
    c->seq++;
    tu_srec_hash(srec, len, c->head);
}

/* Header of the next record of c, ready for a body setter. */
static void chain_next(chain_t *c, tu_rec_t *t)
{
    tu_rec_init(t, c->station, c->epoch, c->seq + 1, c->seq ? c->head : NULL);
}

/* Seals t with the chain's key and keeps it. */
static void chain_seal(chain_t *c, const tu_rec_t *t)
{
    size_t len = 0;
    uint8_t *s = tu_seal(t, c->signer, &len);
    chain_push(c, s, len);
}

/* Adds n activity records to c. */
static void chain_grow(chain_t *c, int n)
{
    for (int i = 0; i < n; i++) {
        tu_rec_t t;
        char title[64];
        snprintf(title, sizeof title, "活动 %llu", (unsigned long long)c->seq + 1);
        chain_next(c, &t);
        tu_rec_activity(&t, title);
        chain_seal(c, &t);
    }
}

/* Decodes an srec and appends it; returns the append's code. */
static wm_err_t append_srec(wm_txn_t *t, uint32_t node, const uint8_t *srec, size_t len)
{
    wm_record_t *r = NULL;
    assert_int_equal(wm_record_decode(srec + WM_SIG_BYTES, len - WM_SIG_BYTES, &r), WM_OK);
    wm_err_t rc = wm_log_append(t, node, r, srec, len);
    wm_record_free(&r);
    return rc;
}

/* Appends records [from, to] (seq numbers) of c in one transaction. */
static void append_range(wm_store_t *s, uint32_t node, const chain_t *c, uint64_t from, uint64_t to)
{
    wm_txn_t *t = NULL;
    assert_int_equal(wm_txn_begin(s, 1, &t), WM_OK);
    for (uint64_t q = from; q <= to; q++)
        assert_int_equal(append_srec(t, node, c->srec[q - 1], c->len[q - 1]), WM_OK);
    assert_int_equal(wm_txn_commit(&t), WM_OK);
    assert_null(t);
}

/* Opens a store in a new directory with node 1 = c->station, keyed. */
static wm_store_t *open_with_station(const char *dir, const chain_t *c, size_t map_mb, unsigned flags)
{
    wm_store_t *s = NULL;
    wm_txn_t *t = NULL;
    uint32_t node = 0;
    assert_int_equal(wm_store_open(dir, flags, map_mb, &s), WM_OK);
    assert_int_equal(wm_txn_begin(s, 1, &t), WM_OK);
    assert_int_equal(wm_nodeno_add(t, c->station, &node), WM_OK);
    assert_int_equal(node, 1);
    assert_int_equal(wm_epoch_set(t, node, c->epoch, wm_signer_pub(c->signer)), WM_OK);
    assert_int_equal(wm_txn_commit(&t), WM_OK);
    return s;
}

static void expect_verified(wm_store_t *s, uint32_t node, const char *station, uint64_t records,
                            uint64_t head_seq, const uint8_t *head_hash)
{
    wm_txn_t *t = NULL;
    wm_verify_t v;
    assert_int_equal(wm_txn_begin(s, 0, &t), WM_OK);
    wm_err_t rc = wm_log_verify(t, node, station, &v);
    if (rc != WM_OK)
        fail_msg("verify failed at %u/%llu: %s", v.bad_epoch, (unsigned long long)v.bad_seq, v.why);
    assert_int_equal(v.error, WM_OK);
    assert_int_equal(v.records, records);
    assert_int_equal(v.head.seq, head_seq);
    if (head_hash)
        assert_memory_equal(v.head.hash, head_hash, WM_HASH_BYTES);
    uint64_t n = 0;
    assert_int_equal(wm_log_count(t, node, &n), WM_OK);
    assert_int_equal(n, records);
    wm_txn_abort(&t);
    assert_null(t);
}

typedef struct {
    uint32_t epoch[64];
    uint64_t seq[64];
    int n;
    int stop_after;
    const chain_t *c;
} scan_t;

static int scan_fn(void *ctx, uint32_t epoch, uint64_t seq, const wm_srec_t *v)
{
    scan_t *sc = ctx;
    assert_true(sc->n < 64);
    sc->epoch[sc->n] = epoch;
    sc->seq[sc->n] = seq;
    sc->n++;
    if (sc->c && sc->c->epoch == epoch) {
        /* The view is the stored srec, byte for byte. */
        assert_int_equal(v->len + WM_SIG_BYTES, sc->c->len[seq - 1]);
        assert_memory_equal(v->sig, sc->c->srec[seq - 1], sc->c->len[seq - 1]);
    }
    return sc->stop_after && sc->n == sc->stop_after ? 42 : 0;
}

static void test_append_read_verify(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp();
    chain_t c;
    chain_init(&c, STATION, 1, 1);
    chain_grow(&c, 10);
    wm_store_t *s = open_with_station(dir, &c, 0, 0);
    append_range(s, 1, &c, 1, 10);

    wm_txn_t *t = NULL;
    wm_head_t h;
    wm_srec_t v;
    assert_int_equal(wm_txn_begin(s, 0, &t), WM_OK);
    assert_int_equal(wm_log_head(t, 1, 1, &h), WM_OK);
    assert_int_equal(h.epoch, 1);
    assert_int_equal(h.seq, 10);
    assert_memory_equal(h.hash, c.head, WM_HASH_BYTES);
    /* An empty epoch has seq 0 and a zero hash. */
    static const uint8_t zero[WM_HASH_BYTES];
    assert_int_equal(wm_log_head(t, 1, 2, &h), WM_OK);
    assert_int_equal(h.seq, 0);
    assert_memory_equal(h.hash, zero, WM_HASH_BYTES);
    assert_int_equal(wm_log_head(t, 2, 1, &h), WM_OK);
    assert_int_equal(h.seq, 0);

    for (uint64_t q = 1; q <= 10; q++) {
        assert_int_equal(wm_log_get(t, 1, 1, q, &v), WM_OK);
        assert_int_equal(v.len + WM_SIG_BYTES, c.len[q - 1]);
        assert_memory_equal(v.sig, c.srec[q - 1], WM_SIG_BYTES);
        assert_memory_equal(v.bytes, c.srec[q - 1] + WM_SIG_BYTES, v.len);
    }
    assert_int_equal(wm_log_get(t, 1, 1, 0, &v), WM_ENOTFOUND);
    assert_int_equal(wm_log_get(t, 1, 1, 11, &v), WM_ENOTFOUND);
    assert_int_equal(wm_log_get(t, 1, 2, 1, &v), WM_ENOTFOUND);
    assert_int_equal(wm_log_get(t, 2, 1, 1, &v), WM_ENOTFOUND);

    scan_t sc;
    memset(&sc, 0, sizeof sc);
    sc.c = &c;
    wm_scan_t end;
    assert_int_equal(wm_log_scan(t, 1, 1, 4, scan_fn, &sc, &end), WM_OK);
    assert_int_equal(end.stop, 0);
    assert_int_equal(end.count, 7);
    assert_int_equal(end.seq, 10);
    assert_int_equal(sc.n, 7);
    for (int i = 0; i < sc.n; i++) {
        assert_int_equal(sc.epoch[i], 1);
        assert_int_equal(sc.seq[i], 4 + (uint64_t)i);
    }
    memset(&sc, 0, sizeof sc);
    sc.stop_after = 3;
    assert_int_equal(wm_log_scan(t, 1, 0, 0, scan_fn, &sc, &end), WM_OK);
    assert_int_equal(end.stop, 42);
    assert_int_equal(end.seq, 3);
    assert_int_equal(sc.n, 3);
    assert_int_equal(sc.seq[2], 3);
    memset(&sc, 0, sizeof sc);
    assert_int_equal(wm_log_scan(t, 1, 1, 11, scan_fn, &sc, &end), WM_OK);
    assert_int_equal(end.count, 0);
    assert_int_equal(sc.n, 0);
    assert_int_equal(wm_log_scan(t, 2, 0, 0, scan_fn, &sc, NULL), WM_OK);
    assert_int_equal(sc.n, 0);

    uint64_t n = 99;
    assert_int_equal(wm_log_count(t, 1, &n), WM_OK);
    assert_int_equal(n, 10);
    assert_int_equal(wm_log_count(t, 7, &n), WM_OK);
    assert_int_equal(n, 0);
    wm_txn_abort(&t);

    expect_verified(s, 1, STATION, 10, 10, c.head);

    /* Verifying against another station id fails on the first record. */
    wm_verify_t vr;
    assert_int_equal(wm_txn_begin(s, 0, &t), WM_OK);
    assert_int_equal(wm_log_verify(t, 1, OTHER, &vr), WM_ECHAIN);
    assert_int_equal(vr.bad_seq, 1);
    assert_int_equal(vr.records, 0);
    wm_txn_abort(&t);

    wm_store_close(&s);
    assert_null(s);
    wm_store_close(&s);
    chain_free(&c);
    tu_rmrf(dir);
    free(dir);
}

static void test_nodes_and_meta(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp();
    wm_store_t *s = NULL;
    wm_txn_t *t = NULL;
    uint32_t a = 0, b = 0, x = 0;
    const char *name = NULL;
    char buf[16];
    size_t len = 0;
    assert_int_equal(wm_store_open(dir, 0, 8, &s), WM_OK);
    assert_int_equal(wm_txn_begin(s, 1, &t), WM_OK);
    assert_int_equal(wm_nodeno_lookup(t, STATION, &x), WM_ENOTFOUND);
    assert_int_equal(wm_nodeno_add(t, STATION, &a), WM_OK);
    assert_int_equal(wm_nodeno_add(t, OTHER, &b), WM_OK);
    assert_int_equal(a, 1);
    assert_int_equal(b, 2);
    assert_int_equal(wm_nodeno_add(t, STATION, &x), WM_OK);
    assert_int_equal(x, 1);
    assert_int_equal(wm_nodeno_lookup(t, OTHER, &x), WM_OK);
    assert_int_equal(x, 2);
    assert_int_equal(wm_nodeno_name(t, 2, &name), WM_OK);
    assert_string_equal(name, OTHER);
    assert_int_equal(wm_nodeno_name(t, 3, &name), WM_ENOTFOUND);

    assert_int_equal(wm_meta_get(t, "cursor", buf, sizeof buf, &len), WM_ENOTFOUND);
    assert_int_equal(wm_meta_put(t, "cursor", "0123456789abcdefXYZ", 19), WM_OK);
    memset(buf, 0, sizeof buf);
    assert_int_equal(wm_meta_get(t, "cursor", buf, sizeof buf, &len), WM_OK);
    assert_int_equal(len, 19); /* the stored length, though only 16 were copied */
    assert_memory_equal(buf, "0123456789abcdef", 16);
    assert_int_equal(wm_meta_get(t, "format", buf, sizeof buf, &len), WM_OK);
    assert_int_equal(len, 4);
    assert_memory_equal(buf, "\0\0\0\1", 4); /* big-endian WM_STORE_FORMAT */
    assert_int_equal(wm_txn_commit(&t), WM_OK);

    uint8_t id1[WM_LOG_ID_BYTES], id2[WM_LOG_ID_BYTES];
    static const uint8_t zero[WM_LOG_ID_BYTES];
    assert_int_equal(wm_store_log_id(s, id1), WM_OK);
    assert_memory_not_equal(id1, zero, WM_LOG_ID_BYTES);
    wm_store_close(&s);

    /* Numbers, metadata and log id survive a reopen. */
    assert_int_equal(wm_store_open(dir, 0, 8, &s), WM_OK);
    assert_int_equal(wm_store_log_id(s, id2), WM_OK);
    assert_memory_equal(id1, id2, WM_LOG_ID_BYTES);
    assert_int_equal(wm_txn_begin(s, 1, &t), WM_OK);
    assert_int_equal(wm_nodeno_lookup(t, OTHER, &x), WM_OK);
    assert_int_equal(x, 2);
    assert_int_equal(wm_nodeno_add(t, "third", &x), WM_OK);
    assert_int_equal(x, 3);
    assert_int_equal(wm_meta_get(t, "cursor", buf, sizeof buf, &len), WM_OK);
    assert_int_equal(len, 19);
    assert_int_equal(wm_txn_commit(&t), WM_OK);
    wm_store_close(&s);

    /* Another environment has another log id. */
    char *dir2 = tu_mkdtemp();
    assert_int_equal(wm_store_open(dir2, 0, 8, &s), WM_OK);
    assert_int_equal(wm_store_log_id(s, id2), WM_OK);
    assert_memory_not_equal(id1, id2, WM_LOG_ID_BYTES);
    wm_store_close(&s);

    tu_rmrf(dir);
    tu_rmrf(dir2);
    free(dir);
    free(dir2);
}

static void test_chain_refusals(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp();
    chain_t c;
    chain_init(&c, STATION, 1, 1);
    chain_grow(&c, 5);
    wm_store_t *s = open_with_station(dir, &c, 0, 0);
    append_range(s, 1, &c, 1, 5);

    wm_txn_t *t = NULL;
    tu_rec_t r;
    size_t len = 0;
    uint8_t *bad = NULL;
    uint8_t wrong[WM_HASH_BYTES];

    assert_int_equal(wm_txn_begin(s, 1, &t), WM_OK);
    /* Wrong prev. */
    memcpy(wrong, c.head, sizeof wrong);
    wrong[0] ^= 1;
    tu_rec_init(&r, STATION, 1, 6, wrong);
    tu_rec_activity(&r, "wrong prev");
    bad = tu_seal(&r, c.signer, &len);
    assert_int_equal(append_srec(t, 1, bad, len), WM_ECHAIN);
    free(bad);
    /* The prev of an older record. */
    tu_srec_hash(c.srec[3], c.len[3], wrong);
    tu_rec_init(&r, STATION, 1, 6, wrong);
    tu_rec_activity(&r, "stale prev");
    bad = tu_seal(&r, c.signer, &len);
    assert_int_equal(append_srec(t, 1, bad, len), WM_ECHAIN);
    free(bad);
    /* A gap. */
    tu_rec_init(&r, STATION, 1, 7, c.head);
    tu_rec_activity(&r, "gap");
    bad = tu_seal(&r, c.signer, &len);
    assert_int_equal(append_srec(t, 1, bad, len), WM_ECHAIN);
    free(bad);
    /* Another station's record under this node. */
    tu_rec_init(&r, OTHER, 1, 6, c.head);
    tu_rec_activity(&r, "wrong station");
    bad = tu_seal(&r, c.signer, &len);
    assert_int_equal(append_srec(t, 1, bad, len), WM_ECHAIN);
    free(bad);
    /* A new epoch that does not start at seq 1, or starts with a prev. */
    tu_rec_init(&r, STATION, 2, 2, NULL);
    tu_rec_activity(&r, "epoch 2 gap");
    bad = tu_seal(&r, c.signer, &len);
    assert_int_equal(append_srec(t, 1, bad, len), WM_ECHAIN);
    free(bad);
    tu_rec_init(&r, STATION, 2, 1, c.head);
    tu_rec_activity(&r, "epoch 2 with prev");
    bad = tu_seal(&r, c.signer, &len);
    assert_int_equal(append_srec(t, 1, bad, len), WM_ECHAIN);
    free(bad);

    /* Replays of stored records: WM_EEXIST, nothing changes. */
    assert_int_equal(append_srec(t, 1, c.srec[4], c.len[4]), WM_EEXIST);
    assert_int_equal(append_srec(t, 1, c.srec[0], c.len[0]), WM_EEXIST);
    /* A different record at a stored seq: equivocation. */
    tu_srec_hash(c.srec[1], c.len[1], wrong);
    tu_rec_init(&r, STATION, 1, 3, wrong);
    tu_rec_activity(&r, "a second seq 3");
    bad = tu_seal(&r, c.signer, &len);
    assert_int_equal(append_srec(t, 1, bad, len), WM_EFORKED);
    free(bad);
    /* The same bytes signed by another key also differ. */
    wm_signer_t *k2 = tu_signer(2);
    uint8_t *copy = malloc(c.len[2]);
    assert_non_null(copy);
    memcpy(copy, c.srec[2], c.len[2]);
    assert_int_equal(wm_sign(k2, WM_CTX_RECORD, copy + WM_SIG_BYTES, c.len[2] - WM_SIG_BYTES, copy),
                     WM_OK);
    assert_int_equal(append_srec(t, 1, copy, c.len[2]), WM_EFORKED);
    free(copy);
    wm_signer_free(&k2);
    assert_int_equal(wm_txn_commit(&t), WM_OK);

    /* Nothing of the refused records was stored. */
    expect_verified(s, 1, STATION, 5, 5, c.head);
    wm_srec_t v;
    assert_int_equal(wm_txn_begin(s, 0, &t), WM_OK);
    assert_int_equal(wm_log_get(t, 1, 1, 3, &v), WM_OK);
    assert_memory_equal(v.sig, c.srec[2], c.len[2]);
    assert_int_equal(wm_log_get(t, 1, 2, 1, &v), WM_ENOTFOUND);
    wm_txn_abort(&t);

    /* The chain still grows from its real head. */
    chain_grow(&c, 1);
    append_range(s, 1, &c, 6, 6);
    expect_verified(s, 1, STATION, 6, 6, c.head);

    wm_store_close(&s);
    chain_free(&c);
    tu_rmrf(dir);
    free(dir);
}

/* Refused appends inside a batch leave the batch's earlier appends and its
 * cached head intact. */
static void test_batch_with_refusal(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp();
    chain_t c;
    chain_init(&c, STATION, 1, 1);
    chain_grow(&c, 6);
    wm_store_t *s = open_with_station(dir, &c, 0, 0);
    wm_txn_t *t = NULL;
    assert_int_equal(wm_txn_begin(s, 1, &t), WM_OK);
    for (uint64_t q = 1; q <= 3; q++)
        assert_int_equal(append_srec(t, 1, c.srec[q - 1], c.len[q - 1]), WM_OK);
    assert_int_equal(append_srec(t, 1, c.srec[4], c.len[4]), WM_ECHAIN); /* gap */
    assert_int_equal(append_srec(t, 1, c.srec[1], c.len[1]), WM_EEXIST);
    wm_head_t h;
    assert_int_equal(wm_log_head(t, 1, 1, &h), WM_OK);
    assert_int_equal(h.seq, 3);
    uint8_t h3[WM_HASH_BYTES];
    tu_srec_hash(c.srec[2], c.len[2], h3);
    assert_memory_equal(h.hash, h3, WM_HASH_BYTES);
    for (uint64_t q = 4; q <= 6; q++)
        assert_int_equal(append_srec(t, 1, c.srec[q - 1], c.len[q - 1]), WM_OK);
    assert_int_equal(wm_txn_commit(&t), WM_OK);
    expect_verified(s, 1, STATION, 6, 6, c.head);

    /* An aborted batch leaves nothing. */
    chain_grow(&c, 2);
    assert_int_equal(wm_txn_begin(s, 1, &t), WM_OK);
    assert_int_equal(append_srec(t, 1, c.srec[6], c.len[6]), WM_OK);
    assert_int_equal(append_srec(t, 1, c.srec[7], c.len[7]), WM_OK);
    wm_txn_abort(&t);
    assert_null(t);
    wm_txn_abort(&t);
    uint8_t h6[WM_HASH_BYTES];
    tu_srec_hash(c.srec[5], c.len[5], h6);
    expect_verified(s, 1, STATION, 6, 6, h6);

    wm_store_close(&s);
    chain_free(&c);
    tu_rmrf(dir);
    free(dir);
}

static void test_multi_epoch_and_nodes(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp();
    chain_t c1, c2, o;
    chain_init(&c1, STATION, 1, 1);
    chain_init(&c2, STATION, 2, 2); /* re-keyed */
    chain_init(&o, OTHER, 1, 3);
    chain_grow(&c1, 3);
    chain_grow(&c2, 2);
    chain_grow(&o, 4);
    wm_store_t *s = open_with_station(dir, &c1, 0, 0);
    wm_txn_t *t = NULL;
    uint32_t n2 = 0;
    assert_int_equal(wm_txn_begin(s, 1, &t), WM_OK);
    assert_int_equal(wm_epoch_set(t, 1, 2, wm_signer_pub(c2.signer)), WM_OK);
    assert_int_equal(wm_nodeno_add(t, OTHER, &n2), WM_OK);
    assert_int_equal(wm_epoch_set(t, n2, 1, wm_signer_pub(o.signer)), WM_OK);
    /* Interleaved appends across nodes and epochs in one transaction. */
    for (uint64_t q = 1; q <= 4; q++) {
        if (q <= 3)
            assert_int_equal(append_srec(t, 1, c1.srec[q - 1], c1.len[q - 1]), WM_OK);
        assert_int_equal(append_srec(t, n2, o.srec[q - 1], o.len[q - 1]), WM_OK);
        if (q <= 2)
            assert_int_equal(append_srec(t, 1, c2.srec[q - 1], c2.len[q - 1]), WM_OK);
    }
    assert_int_equal(wm_txn_commit(&t), WM_OK);

    wm_verify_t v;
    wm_head_t h;
    assert_int_equal(wm_txn_begin(s, 0, &t), WM_OK);
    assert_int_equal(wm_log_verify(t, 1, STATION, &v), WM_OK);
    assert_int_equal(v.records, 5);
    assert_int_equal(v.epochs, 2);
    assert_int_equal(v.head.epoch, 2);
    assert_int_equal(v.head.seq, 2);
    assert_memory_equal(v.head.hash, c2.head, WM_HASH_BYTES);
    assert_int_equal(wm_log_verify(t, n2, OTHER, &v), WM_OK);
    assert_int_equal(v.records, 4);
    assert_int_equal(wm_log_head(t, 1, 1, &h), WM_OK);
    assert_int_equal(h.seq, 3);
    assert_memory_equal(h.hash, c1.head, WM_HASH_BYTES);
    assert_int_equal(wm_log_head(t, 1, 2, &h), WM_OK);
    assert_int_equal(h.seq, 2);
    assert_int_equal(wm_log_head(t, n2, 1, &h), WM_OK);
    assert_int_equal(h.seq, 4);
    assert_memory_equal(h.hash, o.head, WM_HASH_BYTES);

    scan_t sc;
    memset(&sc, 0, sizeof sc);
    assert_int_equal(wm_log_scan(t, 1, 1, 2, scan_fn, &sc, NULL), WM_OK);
    assert_int_equal(sc.n, 4); /* 1/2, 1/3, 2/1, 2/2 */
    assert_int_equal(sc.epoch[1], 1);
    assert_int_equal(sc.seq[1], 3);
    assert_int_equal(sc.epoch[2], 2);
    assert_int_equal(sc.seq[2], 1);
    uint64_t n = 0;
    assert_int_equal(wm_log_count(t, 1, &n), WM_OK);
    assert_int_equal(n, 5);
    wm_txn_abort(&t);

    wm_store_close(&s);
    chain_free(&c1);
    chain_free(&c2);
    chain_free(&o);
    tu_rmrf(dir);
    free(dir);
}

static void test_reopen_and_readonly(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp();
    chain_t c;
    uint8_t id1[WM_LOG_ID_BYTES], id2[WM_LOG_ID_BYTES];
    chain_init(&c, STATION, 1, 1);
    chain_grow(&c, 8);
    wm_store_t *s = open_with_station(dir, &c, 0, 0);
    append_range(s, 1, &c, 1, 5);
    assert_int_equal(wm_store_log_id(s, id1), WM_OK);
    wm_store_close(&s);

    /* Reopen read-write: data, head and log id intact; appends continue
     * from the stored head (no cached state from before). */
    assert_int_equal(wm_store_open(dir, 0, 0, &s), WM_OK);
    assert_int_equal(wm_store_log_id(s, id2), WM_OK);
    assert_memory_equal(id1, id2, WM_LOG_ID_BYTES);
    uint8_t h5[WM_HASH_BYTES];
    tu_srec_hash(c.srec[4], c.len[4], h5);
    expect_verified(s, 1, STATION, 5, 5, h5);
    append_range(s, 1, &c, 6, 8);
    wm_store_close(&s);

    /* Read-only open after close. */
    assert_int_equal(wm_store_open(dir, WM_STORE_RDONLY, 0, &s), WM_OK);
    assert_int_equal(wm_store_log_id(s, id2), WM_OK);
    assert_memory_equal(id1, id2, WM_LOG_ID_BYTES);
    expect_verified(s, 1, STATION, 8, 8, c.head);
    wm_txn_t *t = NULL;
    uint32_t node = 0;
    assert_int_equal(wm_txn_begin(s, 0, &t), WM_OK);
    assert_int_equal(wm_nodeno_lookup(t, STATION, &node), WM_OK);
    assert_int_equal(node, 1);
    wm_txn_abort(&t);
    wm_store_close(&s);

    /* Read-only never creates anything. */
    char missing[600];
    snprintf(missing, sizeof missing, "%s/nope", dir);
    assert_int_equal(wm_store_open(missing, WM_STORE_RDONLY, 0, &s), WM_ENOTFOUND);
    assert_null(s);
    struct stat st;
    assert_int_equal(stat(missing, &st), -1);
    assert_int_equal(mkdir(missing, 0700), 0);
    assert_int_equal(wm_store_open(missing, WM_STORE_RDONLY, 0, &s), WM_ENOTFOUND);
    assert_null(s);

    chain_free(&c);
    tu_rmrf(dir);
    free(dir);
}

/* Fills a 1 MiB map until LMDB refuses, then checks the store holds
 * exactly what committed and grows again with a larger map. */
static void test_map_full(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp();
    chain_t c;
    enum { BATCH = 25, LIMIT = 20000 };
    chain_init(&c, STATION, 1, 1);
    wm_store_t *s = open_with_station(dir, &c, 1, WM_STORE_NOSYNC);
    wm_store_set_map_max(s, 1); /* the ceiling of growth: the map stays at 1 MiB */
    uint64_t committed = 0;
    wm_err_t rc = WM_OK;
    int full_in_append = 0, full_in_commit = 0;

    while (committed < LIMIT) {
        wm_txn_t *t = NULL;
        chain_grow(&c, BATCH);
        assert_int_equal(wm_txn_begin(s, 1, &t), WM_OK);
        for (uint64_t q = committed + 1; q <= committed + BATCH; q++) {
            rc = append_srec(t, 1, c.srec[q - 1], c.len[q - 1]);
            if (rc != WM_OK)
                break;
        }
        if (rc != WM_OK) {
            full_in_append = 1;
            wm_txn_abort(&t);
            break;
        }
        rc = wm_txn_commit(&t);
        assert_null(t);
        if (rc != WM_OK) {
            full_in_commit = 1;
            break;
        }
        committed += BATCH;
    }
    assert_int_equal(rc, WM_EMAPFULL);
    assert_true(full_in_append || full_in_commit);
    assert_true(committed > 100); /* a 1 MiB map holds a few thousand */
    assert_non_null(strstr(wm_store_detail(s), "MDB_MAP_FULL"));
    assert_string_equal(wm_errname(rc), "map_full");

    uint8_t hc[WM_HASH_BYTES];
    tu_srec_hash(c.srec[committed - 1], c.len[committed - 1], hc);
    expect_verified(s, 1, STATION, committed, committed, hc);

    /* At the ceiling, growing says so. */
    assert_int_equal(wm_store_grow(s), WM_EMAPFULL);
    assert_non_null(strstr(wm_store_detail(s), "map_max_mb"));
    wm_store_close(&s);

    /* Same size again: still intact. */
    assert_int_equal(wm_store_open(dir, WM_STORE_NOSYNC, 1, &s), WM_OK);
    expect_verified(s, 1, STATION, committed, committed, hc);
    wm_store_close(&s);

    /* Without the ceiling the map takes the rest of the chain. */
    assert_int_equal(wm_store_open(dir, 0, 1, &s), WM_OK);
    append_range(s, 1, &c, committed + 1, c.seq);
    expect_verified(s, 1, STATION, c.seq, c.seq, c.head);
    wm_store_close(&s);

    chain_free(&c);
    tu_rmrf(dir);
    free(dir);
}

/* A reader in another process: counts the log until the pipe closes.
 * Exits 0 if every read transaction succeeded and the count never went
 * down, 1 otherwise. */
static void reader_child(const char *dir, int stop_fd)
{
    wm_store_t *s = NULL;
    uint64_t last = 0;
    int bad = 0, reads = 0;
    while (!bad) {
        char b;
        if (read(stop_fd, &b, 1) == 0) /* parent closed the pipe */
            break;
        if (!s && wm_store_open(dir, WM_STORE_RDONLY, 1, &s) != WM_OK) {
            bad = 1;
            break;
        }
        wm_txn_t *t = NULL;
        uint64_t n = 0;
        if (wm_txn_begin(s, 0, &t) != WM_OK || wm_log_count(t, 1, &n) != WM_OK || n < last) {
            fprintf(stderr, "reader: read %d failed: %s\n", reads, wm_store_detail(s));
            bad = 1;
        }
        wm_txn_abort(&t);
        last = n;
        reads++;
    }
    wm_store_close(&s);
    fprintf(stderr, "reader: %d reads, last saw %llu records\n", reads, (unsigned long long)last);
    _exit(bad);
}

/* A 1 MiB map takes far more than 1 MiB: batches that hit MDB_MAP_FULL
 * are run again after wm_store_grow (as every writer of wmsync does), and
 * a reader in another process keeps reading while the map grows. */
static void test_map_grows(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp();
    chain_t c;
    enum { SMALL = 25, BIG = 3000, TOTAL = 24000 };
    chain_init(&c, STATION, 1, 1);
    chain_grow(&c, TOTAL);
    wm_store_t *s = open_with_station(dir, &c, 1, WM_STORE_NOSYNC);
    int pfd[2];
    assert_int_equal(pipe(pfd), 0);
    assert_int_equal(fcntl(pfd[0], F_SETFL, O_NONBLOCK), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(pfd[1]);
        reader_child(dir, pfd[0]);
    }
    close(pfd[0]);
    uint64_t committed = 0;
    int retries = 0;
    while (committed < TOTAL) {
        /* Every fourth batch is big: more than the map's free room. */
        uint64_t n = (committed / SMALL) % 4 == 3 ? BIG : SMALL;
        if (committed + n > TOTAL)
            n = TOTAL - committed;
        wm_err_t err;
        int tries = 0;
        do {
            wm_txn_t *t = NULL;
            err = wm_txn_begin(s, 1, &t);
            for (uint64_t q = committed + 1; err == WM_OK && q <= committed + n; q++)
                err = append_srec(t, 1, c.srec[q - 1], c.len[q - 1]);
            if (err == WM_OK)
                err = wm_txn_commit(&t);
            wm_txn_abort(&t);
            if (err == WM_EMAPFULL)
                retries++;
        } while (wm_store_retry(s, &err, &tries));
        assert_int_equal(err, WM_OK);
        committed += n;
    }
    close(pfd[1]);
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    assert_true(retries > 0); /* the big batches did not fit at first */
    expect_verified(s, 1, STATION, TOTAL, TOTAL, c.head);
    wm_store_close(&s);

    /* Reopened with the same tiny map_size_mb: the data is all there, and
     * the next write has room. */
    assert_int_equal(wm_store_open(dir, 0, 1, &s), WM_OK);
    expect_verified(s, 1, STATION, TOTAL, TOTAL, c.head);
    chain_grow(&c, 10);
    append_range(s, 1, &c, TOTAL + 1, TOTAL + 10);
    wm_store_close(&s);
    chain_free(&c);
    tu_rmrf(dir);
    free(dir);
}

static void test_epoch_keys(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp();
    wm_store_t *s = NULL;
    wm_txn_t *t = NULL;
    wm_signer_t *a = tu_signer(1), *b = tu_signer(2);
    uint8_t pub[WM_PUB_BYTES];
    uint32_t e = 0;
    assert_int_equal(wm_store_open(dir, 0, 8, &s), WM_OK);
    assert_int_equal(wm_txn_begin(s, 1, &t), WM_OK);
    assert_int_equal(wm_epoch_key(t, 1, 1, pub), WM_ENOTFOUND);
    assert_int_equal(wm_epoch_last(t, 1, &e), WM_ENOTFOUND);
    assert_int_equal(wm_epoch_set(t, 1, 1, wm_signer_pub(a)), WM_OK);
    assert_int_equal(wm_epoch_set(t, 1, 1, wm_signer_pub(a)), WM_OK); /* same key: no-op */
    assert_int_equal(wm_epoch_set(t, 1, 1, wm_signer_pub(b)), WM_EEXIST);
    assert_int_equal(wm_epoch_key(t, 1, 1, pub), WM_OK);
    assert_memory_equal(pub, wm_signer_pub(a), WM_PUB_BYTES);
    assert_int_equal(wm_epoch_set(t, 1, 3, wm_signer_pub(b)), WM_OK);
    assert_int_equal(wm_epoch_set(t, 2, 7, wm_signer_pub(a)), WM_OK);
    assert_int_equal(wm_epoch_set(t, 4, 0xffffffffu, wm_signer_pub(a)), WM_OK);
    assert_int_equal(wm_epoch_last(t, 1, &e), WM_OK);
    assert_int_equal(e, 3);
    assert_int_equal(wm_epoch_last(t, 2, &e), WM_OK);
    assert_int_equal(e, 7);
    assert_int_equal(wm_epoch_last(t, 3, &e), WM_ENOTFOUND);
    assert_int_equal(wm_epoch_last(t, 4, &e), WM_OK);
    assert_int_equal(e, 0xffffffffu);
    assert_int_equal(wm_epoch_last(t, 5, &e), WM_ENOTFOUND);
    assert_int_equal(wm_epoch_last(t, 0, &e), WM_ENOTFOUND);
    assert_int_equal(wm_epoch_key(t, 1, 2, pub), WM_ENOTFOUND);
    assert_int_equal(wm_txn_commit(&t), WM_OK);

    /* Committed, and still refusing change after a reopen. */
    wm_store_close(&s);
    assert_int_equal(wm_store_open(dir, 0, 8, &s), WM_OK);
    assert_int_equal(wm_txn_begin(s, 1, &t), WM_OK);
    assert_int_equal(wm_epoch_key(t, 1, 3, pub), WM_OK);
    assert_memory_equal(pub, wm_signer_pub(b), WM_PUB_BYTES);
    assert_int_equal(wm_epoch_set(t, 1, 3, wm_signer_pub(a)), WM_EEXIST);
    assert_int_equal(wm_epoch_key(t, 1, 3, pub), WM_OK);
    assert_memory_equal(pub, wm_signer_pub(b), WM_PUB_BYTES);
    wm_txn_abort(&t);
    wm_store_close(&s);

    wm_signer_free(&a);
    wm_signer_free(&b);
    tu_rmrf(dir);
    free(dir);
}

static void test_team_and_ref_indexes(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp();
    chain_t c;
    tu_rec_t r;
    chain_init(&c, STATION, 1, 1);
    chain_grow(&c, 2); /* 1, 2: activities */
    chain_next(&c, &r);
    tu_rec_team(&r, "legal-branch", WM__TEAM_ACTION__CREATE, "普法分队");
    chain_seal(&c, &r); /* 3 */
    chain_next(&c, &r);
    tu_rec_team(&r, "legal-branch", WM__TEAM_ACTION__RENAME, "普法志愿服务分队");
    chain_seal(&c, &r); /* 4 */
    chain_next(&c, &r);
    tu_rec_team(&r, "science", WM__TEAM_ACTION__CREATE, "科普分队");
    chain_seal(&c, &r); /* 5 */
    chain_next(&c, &r);
    tu_rec_team(&r, "science", WM__TEAM_ACTION__DISBAND, "");
    chain_seal(&c, &r); /* 6 */
    chain_next(&c, &r);
    tu_rec_void(&r, 1, 2, "重复录入");
    chain_seal(&c, &r); /* 7 */
    chain_next(&c, &r);
    tu_rec_plan(&r, "五月底前组织外出参观学习", 20240531);
    chain_seal(&c, &r); /* 8 */
    chain_next(&c, &r);
    tu_rec_plan_done(&r, 0, 8, 20240520); /* epoch 0: this epoch */
    chain_seal(&c, &r); /* 9 */
    chain_next(&c, &r);
    tu_rec_void(&r, 0, 1, "录错");
    chain_seal(&c, &r); /* 10 */

    wm_store_t *s = open_with_station(dir, &c, 0, 0);
    append_range(s, 1, &c, 1, c.seq);
    expect_verified(s, 1, STATION, 10, 10, c.head);

    wm_txn_t *t = NULL;
    wm_team_state_t st = 0;
    uint32_t be = 0;
    uint64_t bs = 0;
    assert_int_equal(wm_txn_begin(s, 0, &t), WM_OK);
    assert_int_equal(wm_team_state(t, 1, "legal-branch", &st), WM_OK);
    assert_int_equal(st, WM_TEAM_ACTIVE);
    assert_int_equal(wm_team_state(t, 1, "science", &st), WM_OK);
    assert_int_equal(st, WM_TEAM_DISBANDED);
    assert_int_equal(wm_team_state(t, 1, "traffic", &st), WM_ENOTFOUND);
    assert_int_equal(wm_team_state(t, 2, "legal-branch", &st), WM_ENOTFOUND);

    assert_int_equal(wm_ref_get(t, 1, 1, 2, 'v', &be, &bs), WM_OK);
    assert_int_equal(be, 1);
    assert_int_equal(bs, 7);
    assert_int_equal(wm_ref_get(t, 1, 1, 1, 'v', &be, &bs), WM_OK);
    assert_int_equal(bs, 10);
    assert_int_equal(wm_ref_get(t, 1, 1, 8, 'd', &be, &bs), WM_OK);
    assert_int_equal(be, 1);
    assert_int_equal(bs, 9);
    assert_int_equal(wm_ref_get(t, 1, 1, 8, 'v', &be, &bs), WM_ENOTFOUND);
    assert_int_equal(wm_ref_get(t, 1, 1, 2, 'd', &be, &bs), WM_ENOTFOUND);
    assert_int_equal(wm_ref_get(t, 1, 1, 3, 'v', &be, &bs), WM_ENOTFOUND);
    assert_int_equal(wm_ref_get(t, 1, 2, 2, 'v', &be, &bs), WM_ENOTFOUND);
    wm_txn_abort(&t);

    /* A second void of the same target keeps the first reference; a team
     * created again after disbanding is active again. */
    chain_next(&c, &r);
    tu_rec_void(&r, 1, 2, "再次作废");
    chain_seal(&c, &r); /* 11 */
    chain_next(&c, &r);
    tu_rec_team(&r, "science", WM__TEAM_ACTION__CREATE, "科普分队");
    chain_seal(&c, &r); /* 12 */
    append_range(s, 1, &c, 11, 12);
    assert_int_equal(wm_txn_begin(s, 0, &t), WM_OK);
    assert_int_equal(wm_ref_get(t, 1, 1, 2, 'v', &be, &bs), WM_OK);
    assert_int_equal(bs, 7);
    assert_int_equal(wm_team_state(t, 1, "science", &st), WM_OK);
    assert_int_equal(st, WM_TEAM_ACTIVE);
    wm_txn_abort(&t);

    wm_store_close(&s);
    chain_free(&c);
    tu_rmrf(dir);
    free(dir);
}

static void test_verify_wrong_key(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp();
    chain_t c;
    chain_init(&c, STATION, 1, 1);
    chain_grow(&c, 3);
    /* Record 4 chains correctly but is signed by an impostor key. */
    wm_signer_t *good = c.signer;
    c.signer = tu_signer(0x66);
    chain_grow(&c, 1);
    wm_signer_free(&c.signer);
    c.signer = good;
    chain_grow(&c, 2);

    wm_store_t *s = open_with_station(dir, &c, 0, 0);
    /* wm_log_append trusts its caller to have verified: it stores it. */
    append_range(s, 1, &c, 1, 6);

    wm_txn_t *t = NULL;
    wm_verify_t v;
    assert_int_equal(wm_txn_begin(s, 0, &t), WM_OK);
    assert_int_equal(wm_log_verify(t, 1, STATION, &v), WM_EBADSIG);
    assert_int_equal(v.error, WM_EBADSIG);
    assert_int_equal(v.bad_epoch, 1);
    assert_int_equal(v.bad_seq, 4);
    assert_int_equal(v.records, 3);
    assert_true(v.why[0] != 0);
    wm_txn_abort(&t);
    wm_store_close(&s);

    /* An epoch with no known key fails verification too. */
    char *dir2 = tu_mkdtemp();
    uint32_t node = 0;
    assert_int_equal(wm_store_open(dir2, 0, 0, &s), WM_OK);
    assert_int_equal(wm_txn_begin(s, 1, &t), WM_OK);
    assert_int_equal(wm_nodeno_add(t, STATION, &node), WM_OK);
    assert_int_equal(append_srec(t, node, c.srec[0], c.len[0]), WM_OK);
    assert_int_equal(wm_txn_commit(&t), WM_OK);
    assert_int_equal(wm_txn_begin(s, 0, &t), WM_OK);
    assert_int_equal(wm_log_verify(t, node, STATION, &v), WM_ENOTFOUND);
    assert_int_equal(v.bad_seq, 1);
    wm_txn_abort(&t);
    wm_store_close(&s);

    chain_free(&c);
    tu_rmrf(dir);
    tu_rmrf(dir2);
    free(dir);
    free(dir2);
}

static void test_copy(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp();
    char *dir2 = tu_mkdtemp();
    char path[600];
    chain_t c;
    uint8_t id1[WM_LOG_ID_BYTES], id2[WM_LOG_ID_BYTES];
    chain_init(&c, STATION, 1, 1);
    chain_grow(&c, 20);
    wm_store_t *s = open_with_station(dir, &c, 0, 0), *s2 = NULL;
    append_range(s, 1, &c, 1, 20);
    assert_int_equal(wm_store_log_id(s, id1), WM_OK);

    snprintf(path, sizeof path, "%s/data.mdb", dir2);
    /* Copy while a read transaction is open (a live environment). */
    wm_txn_t *t = NULL;
    assert_int_equal(wm_txn_begin(s, 0, &t), WM_OK);
    assert_int_equal(wm_store_copy(s, path), WM_OK);
    wm_txn_abort(&t);
    assert_int_equal(wm_store_copy(s, path), WM_EEXIST);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);

    /* The original keeps growing; the copy is a snapshot. */
    chain_grow(&c, 1);
    append_range(s, 1, &c, 21, 21);
    wm_store_close(&s);

    assert_int_equal(wm_store_open(dir2, 0, 0, &s2), WM_OK);
    assert_int_equal(wm_store_log_id(s2, id2), WM_OK);
    assert_memory_equal(id1, id2, WM_LOG_ID_BYTES);
    uint8_t h20[WM_HASH_BYTES];
    tu_srec_hash(c.srec[19], c.len[19], h20);
    expect_verified(s2, 1, STATION, 20, 20, h20);
    wm_store_close(&s2);

    chain_free(&c);
    tu_rmrf(dir);
    tu_rmrf(dir2);
    free(dir);
    free(dir2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_append_read_verify),
        cmocka_unit_test(test_nodes_and_meta),
        cmocka_unit_test(test_chain_refusals),
        cmocka_unit_test(test_batch_with_refusal),
        cmocka_unit_test(test_multi_epoch_and_nodes),
        cmocka_unit_test(test_reopen_and_readonly),
        cmocka_unit_test(test_map_full),
        cmocka_unit_test(test_map_grows),
        cmocka_unit_test(test_epoch_keys),
        cmocka_unit_test(test_team_and_ref_indexes),
        cmocka_unit_test(test_verify_wrong_key),
        cmocka_unit_test(test_copy),
    };
    if (wm_crypto_init() != WM_OK)
        return 1;
    return cmocka_run_group_tests(tests, NULL, NULL);
}
