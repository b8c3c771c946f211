/* SPDX-License-Identifier: MIT */
/*
 * forge_rollover — a hostile parent's log for it_keyroll.sh (PROTOCOL.md
 * §8, Key rollover): takes a real bundle of a town's own log and writes
 * another with one forged record after its last one, properly chained.
 *
 *   forge_rollover IN.wmb OUT.wmb MODE KEYFILE
 *
 * MODE (the last record of IN is at epoch E, seq S):
 *   foreign   a key rollover at E/S+1 naming KEYFILE's key from epoch E+1,
 *             signed by KEYFILE (not the key of epoch E): `bad_rollover`;
 *   no-roll   a plan at E+1/1 signed by KEYFILE, a key no rollover names:
 *             `no_rollover`;
 *   after     the bundle cut after its last key rollover (at E/S then),
 *             and a second key rollover at E/S+1 naming KEYFILE's key,
 *             signed by KEYFILE: the key that signed the first (the
 *             retired key, KEY.retired-STAMP) makes it `equivocation`.
 * KEYFILE is a signing key file (a node's keys/sign.key, or a retired one).
 * The bundle is read whole: a town's own log is small.
 *
 * Prints "forged MODE at EPOCH/SEQ" on stdout. Exit 0 on success, 1 on
 * failure, 2 on usage.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sync.pb-c.h"
#include "wm_bundle.h"
#include "wm_crypto.h"
#include "wm_record.h"

#define BUNDLE_MAX (64u << 20) /* more than any town's own log */

static uint8_t *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    uint8_t *buf = f ? malloc(BUNDLE_MAX) : NULL;
    *len = buf ? fread(buf, 1, BUNDLE_MAX, f) : 0;
    if (f)
        fclose(f);
    if (buf && (*len < WM_BUNDLE_MAGIC_LEN || *len == BUNDLE_MAX)) {
        free(buf);
        buf = NULL;
    }
    return buf;
}

/* How many records of b to keep so that it ends with its last key
 * rollover; 0 if it has none. */
static size_t upto_rollover(const Wm__Bundle *b)
{
    for (size_t i = b->n_records; i-- > 0;) {
        wm_srec_t v;
        wm_record_t *r = NULL;
        int roll = wm_srec_view(b->records[i].data, b->records[i].len, &v) == WM_OK &&
                   wm_record_decode(v.bytes, v.len, &r) == WM_OK &&
                   r->body_case == WM__RECORD__BODY_KEY_ROLLOVER;
        wm_record_free(&r);
        if (roll)
            return i + 1;
    }
    return 0;
}

/* The forged record of mode after last (the bundle's last record), signed
 * by s, appended to b. 0, or -1. */
static int forge(Wm__Bundle *b, const wm_record_t *last, const uint8_t last_hash[WM_HASH_BYTES],
                 const char *mode, const wm_signer_t *s, uint8_t **srec, size_t *len)
{
    wm_record_t r = WM__RECORD__INIT;
    Wm__KeyRollover k = WM__KEY_ROLLOVER__INIT;
    Wm__Plan p = WM__PLAN__INIT;
    static const uint8_t zero[WM_HASH_BYTES];
    r.schema = 1;
    r.station = b->node;
    r.captured = (int64_t)time(NULL);
    k.date = 20240315;
    k.new_sign_pub = (ProtobufCBinaryData){WM_PUB_BYTES, (uint8_t *)wm_signer_pub(s)};
    k.from_epoch = last->epoch + 1;
    if (strcmp(mode, "no-roll") == 0) {
        r.epoch = last->epoch + 1;
        r.seq = 1;
        r.prev = (ProtobufCBinaryData){WM_HASH_BYTES, (uint8_t *)zero};
        p.title = "forged plan";
        p.due = 20990101;
        r.body_case = WM__RECORD__BODY_PLAN;
        r.plan = &p;
    } else if (strcmp(mode, "foreign") == 0 || strcmp(mode, "after") == 0) {
        r.epoch = last->epoch;
        r.seq = last->seq + 1;
        r.prev = (ProtobufCBinaryData){WM_HASH_BYTES, (uint8_t *)last_hash};
        r.body_case = WM__RECORD__BODY_KEY_ROLLOVER;
        r.key_rollover = &k;
    } else {
        return -1;
    }
    if (wm_record_seal(&r, s, srec, len) != WM_OK)
        return -1;
    printf("forged %s at %" PRIu32 "/%" PRIu64 "\n", mode, r.epoch, r.seq);
    return 0;
}

int main(int argc, char **argv)
{
    int rc = 1;
    size_t inlen = 0, len = 0, outlen = 0;
    uint8_t *in = NULL, *srec = NULL, *out = NULL, h[WM_HASH_BYTES];
    Wm__Bundle *b = NULL;
    wm_signer_t *s = NULL;
    wm_record_t *last = NULL;
    wm_srec_t v;
    FILE *f = NULL;
    if (argc != 5) {
        fprintf(stderr, "usage: forge_rollover IN.wmb OUT.wmb foreign|no-roll|after KEYFILE\n");
        return 2;
    }
    if (wm_crypto_init() != WM_OK || !(in = slurp(argv[1], &inlen)) ||
        memcmp(in, WM_BUNDLE_MAGIC, WM_BUNDLE_MAGIC_LEN) != 0 ||
        wm_pb_decode(&wm__bundle__descriptor, in + WM_BUNDLE_MAGIC_LEN,
                     inlen - WM_BUNDLE_MAGIC_LEN, BUNDLE_MAX, (void **)&b) != WM_OK ||
        !b->n_records || wm_signer_load(argv[4], &s) != WM_OK) {
        fprintf(stderr, "forge_rollover: cannot read %s or the key %s\n", argv[1], argv[4]);
        goto out;
    }
    size_t n = strcmp(argv[3], "after") == 0 ? upto_rollover(b) : b->n_records;
    if (n == 0) {
        fprintf(stderr, "forge_rollover: %s holds no key rollover\n", argv[1]);
        goto out;
    }
    const ProtobufCBinaryData *lr = &b->records[n - 1];
    if (wm_srec_view(lr->data, lr->len, &v) != WM_OK ||
        wm_record_decode(v.bytes, v.len, &last) != WM_OK)
        goto out;
    wm_srec_hash_buf(lr->data, lr->len, h);
    if (forge(b, last, h, argv[3], s, &srec, &len) != 0)
        goto out;
    /* The bundle written: b's first n records (borrowed), then the forged one. */
    Wm__Bundle o = WM__BUNDLE__INIT;
    o.node = b->node;
    o.sign_pub = b->sign_pub;
    o.n_records = n + 1;
    if (!(o.records = calloc(n + 1, sizeof *o.records)))
        goto out;
    memcpy(o.records, b->records, n * sizeof *o.records);
    o.records[n] = (ProtobufCBinaryData){len, srec};
    int bad = wm_pb_encode(&o.base, &out, &outlen) != WM_OK || !(f = fopen(argv[2], "wb")) ||
              fwrite(WM_BUNDLE_MAGIC, 1, WM_BUNDLE_MAGIC_LEN, f) != WM_BUNDLE_MAGIC_LEN ||
              fwrite(out, 1, outlen, f) != outlen;
    free(o.records);
    if (bad)
        goto out;
    rc = 0;
out:
    if (f && fclose(f) != 0)
        rc = 1;
    wm_record_free(&last);
    wm_signer_free(&s);
    wm_pb_free(&b);
    free(srec);
    free(out);
    free(in);
    return rc;
}
