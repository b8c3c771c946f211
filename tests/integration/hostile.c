/* SPDX-License-Identifier: MIT */
/*
 * hostile — a misbehaving sync client for it_sync_hostile.sh.
 *
 *   hostile ENDPOINT TOWN_PUB_HEX KEYDIR STATION_ID SCENARIO [ARG]
 *   hostile --dump DIR
 *   hostile --bundle KEYDIR STATION_ID N OUT [pad=MB] [big=K] [node-last]
 *
 * It connects to a real aggregator as the station whose keys are in KEYDIR
 * (sign.key, curve.key), plays one scenario of PROTOCOL.md's bad inputs and
 * prints on stdout what came back: the reject reason, "ack", "welcome" or
 * "none" (nothing within the timeout). Details go to stderr. Exit 0 when the
 * scenario ran, 2 on a usage or setup error.
 *
 * It keeps its own signed chain of the station's log, built with the
 * station's real signing key: record k is an activity titled "hostile k",
 * captured at a fixed time, so every run rebuilds the same bytes (Ed25519
 * is deterministic) and a replay is byte-identical. Batches start from the
 * aggregator's durable seq d (from Welcome): records d+1, d+2, ...
 *
 * --dump writes a few valid encodings of SyncMsg, Bundle and Identity to
 * DIR: the seed corpus of tests/fuzz/fuzz_sync.
 *
 * --bundle writes a bundle file of the station's records 1..N (the same
 * chain), field by field so it is never whole in memory: pad=MB adds an
 * unknown field of MB MiB (a hole in the file) after the first half of the
 * records, big=K replaces record K by 5,000,000 bytes (over the record size
 * limit), node-last writes the node id after the records (valid protobuf,
 * not the order wmctl writes).
 *
 * Only wm_net talks to ZeroMQ; this program uses its API.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "record.pb-c.h"
#include "sync.pb-c.h"
#include "wm_crypto.h"
#include "wm_net.h"
#include "wm_record.h"
#include "wm_sync.h"
#include "wm_wire.h"
#include <zstd.h>

#define SYNC_VERSION 1
#define CLIENT_MAX_MSG (8u << 20)  /* what we accept from the town */
#define REPLY_MS 5000              /* wait for an answer this long */
#define NONE_MS 2500               /* ... when "none" is the expected outcome */
#define SEND_MS 5000               /* a send may wait this long for the link */
#define BASE_CAPTURED 1710460800   /* 2024-03-15, fixed: reproducible records */
#define CLAIM_SEQ 64               /* the head this client says it has */
#define OVERSIZE (1200u * 1024)    /* over the town's ZMQ_MAXMSGSIZE (1 MiB + 64 KiB) */
#define WM_BLOB_HEXLEN_ 64         /* hex digits of a blob's hash */
#define BIG_RECORD 5000000         /* --bundle big=K: over every limit, the control socket's too */

typedef struct {
    uint8_t *data;
    size_t len;
} srec_buf_t;

typedef struct {
    wm_net_t *net;
    wm_sock_t *sock;
    wm_signer_t *signer;
    const char *station;
    uint64_t durable; /* the town's durable seq for us, from the last reply */
    uint32_t credit;  /* the credit of the last Welcome */
    uint64_t next_batch;
    uint64_t claim_seq; /* the head this client says it has (CLAIM_SEQ unless a scenario says) */
    char **features;    /* what its Hello lists (none unless a scenario says) */
    size_t n_features;
    uint8_t claim_hash[WM_HASH_BYTES];
} client_t;

static void die(const char *what)
{
    fprintf(stderr, "hostile: %s\n", what);
    exit(2);
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

/* ---- records ---- */

typedef struct {
    const char *station;
    uint64_t seq;
    const uint8_t *prev; /* WM_HASH_BYTES */
    int64_t captured;
    const char *title;
    uint32_t epoch;
} rec_spec_t;

/* A body other than the activity make_record writes. */
typedef struct {
    const char *rollup_id; /* set: a RollupReport whose json names this id */
    uint64_t void_seq;     /* set: a Void of this seq of epoch 1 */
    Wm__Record__BodyCase orders; /* set: a needs-and-orders record of this kind */
} odd_body_t;

/* Bodies of the needs-and-orders kinds, valid by the content rules, for
 * the tier checks (PROTOCOL.md §3, Who may write what). */
typedef struct {
    Wm__Need need;
    Wm__OrderAccept accept;
    Wm__ServiceOrder order;
    Wm__OrderAssigned assigned;
    Wm__Notice notice;
} orders_bodies_t;

static void orders_body(Wm__Record *r, orders_bodies_t *b, Wm__Record__BodyCase kind)
{
    b->need = (Wm__Need)WM__NEED__INIT;
    b->accept = (Wm__OrderAccept)WM__ORDER_ACCEPT__INIT;
    b->order = (Wm__ServiceOrder)WM__SERVICE_ORDER__INIT;
    b->assigned = (Wm__OrderAssigned)WM__ORDER_ASSIGNED__INIT;
    b->notice = (Wm__Notice)WM__NOTICE__INIT;
    r->body_case = kind;
    switch (kind) {
    case WM__RECORD__BODY_NEED:
        b->need.date = 20240315, b->need.title = (char *)"hostile need";
        b->need.service_kind = WM__SERVICE_KIND__ASSISTANCE;
        r->need = &b->need;
        break;
    case WM__RECORD__BODY_ORDER_ACCEPT:
        b->accept.date = 20240315, b->accept.order_station = (char *)"xx/longhua";
        b->accept.order_epoch = 1, b->accept.order_seq = 1;
        r->order_accept = &b->accept;
        break;
    case WM__RECORD__BODY_SERVICE_ORDER:
        b->order.date = 20240315, b->order.title = (char *)"hostile order";
        b->order.service_kind = WM__SERVICE_KIND__LEGAL, b->order.due = 20240401;
        r->service_order = &b->order;
        break;
    case WM__RECORD__BODY_NOTICE:
        b->notice.date = 20240315, b->notice.title = (char *)"hostile notice";
        b->notice.body = (char *)"x";
        r->notice = &b->notice;
        break;
    default: /* WM__RECORD__BODY_ORDER_ASSIGNED */
        b->assigned.date = 20240315, b->assigned.order_station = (char *)"xx/longhua";
        b->assigned.order_epoch = 1, b->assigned.order_seq = 1;
        b->assigned.station = (char *)r->station, b->assigned.accept_seq = 1;
        r->order_assigned = &b->assigned;
        break;
    }
}

static srec_buf_t make_odd_record(const wm_signer_t *s, const rec_spec_t *sp,
                                  const odd_body_t *odd)
{
    Wm__Record r = WM__RECORD__INIT;
    Wm__Activity a = WM__ACTIVITY__INIT;
    char title[64];
    if (!sp->title)
        snprintf(title, sizeof title, "hostile %" PRIu64, sp->seq);
    a.date = 20240315;
    a.category = WM__CATEGORY__THEME_LECTURE;
    a.title = (char *)(sp->title ? sp->title : title);
    a.participants = 10;
    r.schema = 1;
    r.station = (char *)sp->station;
    r.epoch = sp->epoch;
    r.seq = sp->seq;
    r.prev = (ProtobufCBinaryData){WM_HASH_BYTES, (uint8_t *)sp->prev};
    r.captured = sp->captured;
    r.body_case = WM__RECORD__BODY_ACTIVITY;
    r.activity = &a;
    Wm__RollupReport rr = WM__ROLLUP_REPORT__INIT;
    Wm__Void vd = WM__VOID__INIT;
    orders_bodies_t ob;
    char json[256];
    if (odd && odd->rollup_id) {
        snprintf(json, sizeof json, "{\"period\":\"2024-03\",\"scope\":\"town\",\"id\":\"%s\"}",
                 odd->rollup_id);
        rr.period = (char *)"2024-03";
        rr.from = 20240301;
        rr.to = 20240331;
        rr.json = json;
        r.body_case = WM__RECORD__BODY_ROLLUP;
        r.rollup = &rr;
    } else if (odd && odd->orders) {
        orders_body(&r, &ob, odd->orders);
    } else if (odd && odd->void_seq) {
        vd.target_epoch = 1;
        vd.target_seq = odd->void_seq;
        vd.reason = (char *)"hostile";
        r.body_case = WM__RECORD__BODY_VOID;
        r.void_ = &vd;
    }
    srec_buf_t out = {0};
    if (wm_record_seal(&r, s, &out.data, &out.len) != WM_OK)
        die("cannot seal a record");
    return out;
}

static srec_buf_t make_record(const wm_signer_t *s, const rec_spec_t *sp)
{
    return make_odd_record(s, sp, NULL);
}

static void srec_hash(const srec_buf_t *b, uint8_t h[static WM_HASH_BYTES])
{
    wm_srec_hash_buf(b->data, b->len, h);
}

/* Records 1..n of the station's reproducible chain (index k-1 is seq k). */
static srec_buf_t *build_chain(const wm_signer_t *s, const char *station, uint64_t n)
{
    srec_buf_t *c = calloc(n ? n : 1, sizeof *c);
    uint8_t prev[WM_HASH_BYTES] = {0};
    if (!c)
        die("out of memory");
    for (uint64_t k = 1; k <= n; k++) {
        rec_spec_t sp = {station, k, prev, BASE_CAPTURED + (int64_t)k, NULL, 1};
        c[k - 1] = make_record(s, &sp);
        srec_hash(&c[k - 1], prev);
    }
    return c;
}

static void free_chain(srec_buf_t *c, size_t n)
{
    for (size_t i = 0; c && i < n; i++)
        free(c[i].data);
    free(c);
}

/* ---- messages ---- */

static uint8_t *encode(Wm__SyncMsg *m, size_t *len)
{
    uint8_t *buf = NULL;
    if (wm_pb_encode(&m->base, &buf, len) != WM_OK)
        die("cannot encode");
    return buf;
}

/* Sends frames, waiting for the link (ZMQ_IMMEDIATE refuses while it is
 * not up, and the HWM while it is full). Returns 0 if sent. */
static int send_frames(client_t *c, const wm_frame_t *f, size_t n, long wait_ms)
{
    wm_msg_t m = {.n = n};
    for (size_t i = 0; i < n; i++)
        m.f[i] = f[i];
    int64_t deadline = now_ms() + wait_ms;
    for (;;) {
        wm_err_t err = wm_sock_send(c->sock, &m);
        if (err == WM_OK)
            return 0;
        if (err != WM_ETIMEOUT || now_ms() >= deadline)
            return -1;
        sleep_ms(5);
    }
}

static int send_msg(client_t *c, Wm__SyncMsg *m, long wait_ms)
{
    size_t len = 0;
    uint8_t *buf = encode(m, &len);
    wm_frame_t f = {buf, len};
    int rc = send_frames(c, &f, 1, wait_ms);
    free(buf);
    return rc;
}

/* The next message from the town within timeout_ms, decoded; NULL if none. */
static Wm__SyncMsg *recv_msg(client_t *c, long timeout_ms)
{
    int64_t deadline = now_ms() + timeout_ms;
    for (;;) {
        wm_msg_t m = {0};
        if (wm_sock_recv(c->sock, &m) == WM_OK) {
            Wm__SyncMsg *sm = NULL;
            if (m.n != 1 || wm_pb_decode(&wm__sync_msg__descriptor, m.f[0].data, m.f[0].len,
                                         CLIENT_MAX_MSG, (void **)&sm) != WM_OK) {
                fprintf(stderr, "hostile: undecodable reply from the town\n");
                wm_msg_clear(&m);
                continue;
            }
            wm_msg_clear(&m);
            if (sm->msg_case == WM__SYNC_MSG__MSG_HEARTBEAT) {
                wm_pb_free(&sm);
                continue;
            }
            return sm;
        }
        long left = (long)(deadline - now_ms());
        if (left <= 0)
            return NULL;
        int ready = 0;
        wm_net_poll(&c->sock, 1, &ready, left < 50 ? left : 50);
    }
}

/* The outcome word of a reply; notes the durable seq it carries. */
static const char *outcome(client_t *c, const Wm__SyncMsg *sm)
{
    if (!sm)
        return "none";
    switch (sm->msg_case) {
    case WM__SYNC_MSG__MSG_WELCOME:
        if (sm->welcome->durable)
            c->durable = sm->welcome->durable->seq;
        c->credit = sm->welcome->credit;
        fprintf(stderr, "hostile: welcome: town holds seq %" PRIu64 ", credit %u\n", c->durable,
                sm->welcome->credit);
        return "welcome";
    case WM__SYNC_MSG__MSG_ACK:
        if (sm->ack->durable)
            c->durable = sm->ack->durable->seq;
        fprintf(stderr, "hostile: ack of batch %" PRIu64 ": durable seq %" PRIu64
                        ", flagged %u\n",
                sm->ack->batch_id, c->durable, sm->ack->flagged);
        return "ack";
    case WM__SYNC_MSG__MSG_REJECT:
        if (sm->reject->durable)
            c->durable = sm->reject->durable->seq;
        fprintf(stderr, "hostile: reject of batch %" PRIu64 ": %s (seq %" PRIu64 "): %s\n",
                sm->reject->batch_id, sm->reject->reason, sm->reject->seq, sm->reject->detail);
        if (getenv("HOSTILE_DURABLE")) { /* "reason@durable seq" */
            static char word[80];
            snprintf(word, sizeof word, "%s@%" PRIu64, sm->reject->reason, c->durable);
            return word;
        }
        return sm->reject->reason;
    default:
        return "other";
    }
}

/* Prints the outcome of the next reply and frees it. */
static void report_next(client_t *c, long timeout_ms)
{
    Wm__SyncMsg *sm = recv_msg(c, timeout_ms);
    printf("%s\n", outcome(c, sm));
    wm_pb_free(&sm);
}

/* After a send that returned `sent`: "none" if it failed (the link never
 * came up), else the outcome of the next reply, as report_next. */
static void report_sent(client_t *c, int sent, long timeout_ms)
{
    if (sent != 0)
        printf("none\n");
    else
        report_next(c, timeout_ms);
}

static int send_hello(client_t *c, uint32_t version, const char *node, uint64_t seq,
                      const uint8_t *hash)
{
    Wm__SyncMsg m = WM__SYNC_MSG__INIT;
    Wm__Hello h = WM__HELLO__INIT;
    Wm__Frontier f = WM__FRONTIER__INIT;
    f.epoch = 1;
    f.seq = seq;
    f.hash = (ProtobufCBinaryData){WM_HASH_BYTES, (uint8_t *)hash};
    h.version = version;
    h.node = (char *)node;
    h.head = &f;
    h.features = c->features;
    h.n_features = c->n_features;
    m.msg_case = WM__SYNC_MSG__MSG_HELLO;
    m.hello = &h;
    return send_msg(c, &m, SEND_MS);
}

/* A session: Hello as ourselves and wait for Welcome. Prints the outcome
 * and returns 0 only if welcomed. */
static int await_welcome(client_t *c);

static int open_session(client_t *c)
{
    if (send_hello(c, SYNC_VERSION, c->station, c->claim_seq, c->claim_hash) != 0) {
        printf("none\n");
        return -1;
    }
    return await_welcome(c);
}

/* Waits for the answer to a Hello: 0 if it is Welcome, else prints it. */
static int await_welcome(client_t *c)
{
    Wm__SyncMsg *sm = recv_msg(c, REPLY_MS);
    const char *o = outcome(c, sm);
    int ok = strcmp(o, "welcome") == 0;
    if (!ok)
        printf("%s\n", o);
    wm_pb_free(&sm);
    return ok ? 0 : -1;
}

static int send_batch(client_t *c, const srec_buf_t *recs, size_t n)
{
    Wm__SyncMsg m = WM__SYNC_MSG__INIT;
    Wm__Batch b = WM__BATCH__INIT;
    Wm__Frontier f = WM__FRONTIER__INIT;
    ProtobufCBinaryData *bd = calloc(n ? n : 1, sizeof *bd);
    if (!bd)
        die("out of memory");
    for (size_t i = 0; i < n; i++)
        bd[i] = (ProtobufCBinaryData){recs[i].len, recs[i].data};
    f.epoch = 1;
    f.seq = c->claim_seq;
    f.hash = (ProtobufCBinaryData){WM_HASH_BYTES, c->claim_hash};
    b.batch_id = ++c->next_batch;
    b.records = bd;
    b.n_records = n;
    b.head = &f;
    m.msg_case = WM__SYNC_MSG__MSG_BATCH;
    m.batch = &b;
    int rc = send_msg(c, &m, SEND_MS);
    free(bd);
    return rc;
}

/* Sends one batch and prints the outcome of the reply. */
static void batch_and_report(client_t *c, const srec_buf_t *recs, size_t n)
{
    report_sent(c, send_batch(c, recs, n), REPLY_MS);
}

/* The valid records d+1 .. d+k of our chain (d: the town's durable seq)
 * in one batch, and the outcome of the reply. */
static void send_next(client_t *c, uint64_t k)
{
    uint64_t d = c->durable, n = d + k;
    srec_buf_t *ch = build_chain(c->signer, c->station, n);
    batch_and_report(c, ch + d, k);
    free_chain(ch, n);
}

/* ---- scenarios ---- */

typedef struct {
    const char *name;
    void (*fn)(client_t *c, const char *arg);
    const char *help;
} scenario_t;

static void sc_garbage(client_t *c, const char *arg)
{
    (void)arg;
    static const uint8_t junk[] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                                   0xff, 0xff, 0xff, 0x01, 0xde, 0xad, 0xbe, 0xef};
    wm_frame_t f = {(uint8_t *)junk, sizeof junk};
    report_sent(c, send_frames(c, &f, 1, SEND_MS), REPLY_MS);
}

static void sc_empty(client_t *c, const char *arg)
{
    (void)arg;
    wm_frame_t f = {(uint8_t *)"", 0};
    report_sent(c, send_frames(c, &f, 1, SEND_MS), REPLY_MS);
}

static void sc_two_frames(client_t *c, const char *arg)
{
    (void)arg;
    Wm__SyncMsg m = WM__SYNC_MSG__INIT;
    Wm__Hello h = WM__HELLO__INIT;
    h.version = SYNC_VERSION;
    h.node = (char *)c->station;
    m.msg_case = WM__SYNC_MSG__MSG_HELLO;
    m.hello = &h;
    size_t len = 0;
    uint8_t *buf = encode(&m, &len);
    wm_frame_t f[2] = {{buf, len}, {buf, len}};
    report_sent(c, send_frames(c, f, 2, SEND_MS), REPLY_MS);
    free(buf);
}

static void sc_version(client_t *c, const char *arg)
{
    (void)arg;
    report_sent(c, send_hello(c, 99, c->station, CLAIM_SEQ, c->claim_hash), REPLY_MS);
}

static void sc_hello_other(client_t *c, const char *arg)
{
    const char *node = arg ? arg : "xx/longhua/someone-else";
    report_sent(c, send_hello(c, SYNC_VERSION, node, CLAIM_SEQ, c->claim_hash), REPLY_MS);
}

/* Hello; prints "welcome" or the reject (or "none": unenrolled keys). */
static void sc_hello(client_t *c, const char *arg)
{
    long wait = arg && strcmp(arg, "short") == 0 ? NONE_MS : REPLY_MS;
    Wm__SyncMsg m = WM__SYNC_MSG__INIT;
    Wm__Hello h = WM__HELLO__INIT;
    Wm__Frontier f = WM__FRONTIER__INIT;
    f.epoch = 1;
    f.seq = c->claim_seq;
    f.hash = (ProtobufCBinaryData){WM_HASH_BYTES, c->claim_hash};
    h.version = SYNC_VERSION;
    h.node = (char *)c->station;
    h.head = &f;
    m.msg_case = WM__SYNC_MSG__MSG_HELLO;
    m.hello = &h;
    report_sent(c, send_msg(c, &m, wait), wait); /* "none": ZAP refused us */
}

/* Hello claiming less than the town holds (seq 1) or the same seq with
 * another hash. */
static void sc_behind(client_t *c, const char *arg)
{
    (void)arg;
    uint8_t h[WM_HASH_BYTES] = {0};
    send_hello(c, SYNC_VERSION, c->station, 1, h);
    report_next(c, REPLY_MS);
}

static void sc_diverged(client_t *c, const char *arg)
{
    uint8_t h[WM_HASH_BYTES];
    memset(h, 0xab, sizeof h);
    send_hello(c, SYNC_VERSION, c->station, arg ? strtoull(arg, NULL, 10) : 1, h);
    report_next(c, REPLY_MS);
}

static void sc_no_session(client_t *c, const char *arg)
{
    (void)arg;
    srec_buf_t *ch = build_chain(c->signer, c->station, 1);
    batch_and_report(c, ch, 1);
    free_chain(ch, 1);
}

static void sc_unexpected(client_t *c, const char *arg)
{
    (void)arg;
    Wm__SyncMsg m = WM__SYNC_MSG__INIT;
    Wm__Welcome w = WM__WELCOME__INIT;
    w.credit = 1000;
    m.msg_case = WM__SYNC_MSG__MSG_WELCOME;
    m.welcome = &w;
    report_sent(c, send_msg(c, &m, SEND_MS), REPLY_MS);
}

/* Records d+1 .. d+3 with the last one's signature altered. */
static void sc_bad_signature(client_t *c, const char *arg)
{
    (void)arg;
    if (open_session(c) != 0)
        return;
    uint64_t d = c->durable, n = d + 3;
    srec_buf_t *ch = build_chain(c->signer, c->station, n);
    ch[n - 1].data[7] ^= 0x40;
    batch_and_report(c, ch + d, 3);
    free_chain(ch, n);
}

/* A record in the middle of the batch with a bad signature: the chain to
 * the last (valid) signature authenticates its bytes, not its signature. */
static void sc_bad_sig_mid(client_t *c, const char *arg)
{
    (void)arg;
    if (open_session(c) != 0)
        return;
    uint64_t d = c->durable, n = d + 3;
    srec_buf_t *ch = build_chain(c->signer, c->station, n);
    ch[d + 1].data[7] ^= 0x40;
    batch_and_report(c, ch + d, 3);
    free_chain(ch, n);
}

/* The valid records d+1 .. d+3, then d+2 again with a corrupt signature
 * (same bytes): not an equivocation, the station never signed it. */
static void sc_resend_bad_sig(client_t *c, const char *arg)
{
    (void)arg;
    if (open_session(c) != 0)
        return;
    uint64_t d = c->durable, n = d + 3;
    srec_buf_t *ch = build_chain(c->signer, c->station, n);
    if (send_batch(c, ch + d, 3) != 0) {
        printf("none\n");
        free_chain(ch, n);
        return;
    }
    Wm__SyncMsg *sm = recv_msg(c, REPLY_MS);
    const char *o = outcome(c, sm);
    if (strcmp(o, "ack") != 0) {
        printf("first batch: %s\n", o);
    } else {
        ch[d + 1].data[7] ^= 0x40;
        batch_and_report(c, ch + d + 1, 1);
    }
    wm_pb_free(&sm);
    free_chain(ch, n);
}

/* ---- inner signatures: a batch that chains, whose tail is validly
 * signed, but one record inside was signed by a foreign key. Only the
 * holder of the station key can make it (record k+1, validly signed,
 * names the hash of record k with its foreign signature). ---- */

#define INNER_N 5 /* records in such a batch */

/* The INNER_N records after seq d. POS: "start", "middle", "end" (the
 * tail itself: refused at once), "before_end" (the record before the
 * tail), or "epoch": records d+1..d+3 of epoch 1, all valid, then epoch
 * 2, whose record 1 is the foreign one. */
static srec_buf_t *inner_bad_chain(const wm_signer_t *own, const char *station, uint64_t d,
                                   const char *pos)
{
    uint8_t seed[WM_SEED_BYTES], prev[WM_HASH_BYTES] = {0};
    wm_signer_t *foreign = NULL;
    memset(seed, 0x77, sizeof seed);
    if (wm_signer_from_seed(seed, &foreign) != WM_OK)
        die("cannot make the foreign signer");
    int bad = !pos ? -1
              : strcmp(pos, "start") == 0      ? 0
              : strcmp(pos, "middle") == 0     ? 2
              : strcmp(pos, "before_end") == 0 ? INNER_N - 2
              : strcmp(pos, "end") == 0        ? INNER_N - 1
              : strcmp(pos, "epoch") == 0      ? 3
                                               : -1;
    if (bad < 0)
        die("inner_bad_sig: ARG must be start, middle, before_end, end or epoch");
    int epochs = strcmp(pos, "epoch") == 0;
    srec_buf_t *base = build_chain(own, station, d ? d : 1);
    if (d)
        srec_hash(&base[d - 1], prev);
    free_chain(base, d ? d : 1);
    srec_buf_t *ch = calloc(INNER_N, sizeof *ch);
    if (!ch)
        die("out of memory");
    for (int k = 0; k < INNER_N; k++) {
        rec_spec_t sp = {station, d + 1 + (uint64_t)k, prev, BASE_CAPTURED + (int64_t)k, NULL, 1};
        if (epochs && k >= 3) { /* epoch 2 begins at seq 1 */
            sp.epoch = 2;
            sp.seq = (uint64_t)k - 2;
            if (k == 3)
                memset(prev, 0, sizeof prev);
        }
        ch[k] = make_record(k == bad ? foreign : own, &sp);
        srec_hash(&ch[k], prev);
    }
    wm_signer_free(&foreign);
    return ch;
}

/* Sends the INNER_N records after the town's durable seq with one inner
 * record signed by a foreign key (ARG: where, see inner_bad_chain). */
static void sc_inner_bad_sig(client_t *c, const char *arg)
{
    if (open_session(c) != 0)
        return;
    srec_buf_t *ch = inner_bad_chain(c->signer, c->station, c->durable, arg);
    batch_and_report(c, ch, INNER_N);
    free_chain(ch, INNER_N);
}

/* Writes such records 1..INNER_N as a bundle file (ARG "POS:FILE"); no
 * network. Prints "written". */
static void sc_inner_bad_bundle(client_t *c, const char *arg)
{
    char pos[32];
    const char *colon = arg ? strchr(arg, ':') : NULL;
    if (!colon || (size_t)(colon - arg) >= sizeof pos)
        die("inner_bad_bundle: ARG must be POS:FILE");
    memcpy(pos, arg, (size_t)(colon - arg));
    pos[colon - arg] = 0;
    srec_buf_t *ch = inner_bad_chain(c->signer, c->station, 0, pos);
    ProtobufCBinaryData bd[INNER_N];
    for (int i = 0; i < INNER_N; i++)
        bd[i] = (ProtobufCBinaryData){ch[i].len, ch[i].data};
    Wm__Bundle bu = WM__BUNDLE__INIT;
    Wm__Frontier from = WM__FRONTIER__INIT;
    bu.node = (char *)c->station;
    bu.sign_pub = (ProtobufCBinaryData){WM_PUB_BYTES, (uint8_t *)wm_signer_pub(c->signer)};
    bu.from = &from;
    bu.records = bd;
    bu.n_records = INNER_N;
    uint8_t *buf = NULL;
    size_t len = 0;
    if (wm_pb_encode(&bu.base, &buf, &len) != WM_OK)
        die("cannot encode the bundle");
    FILE *f = fopen(colon + 1, "wb");
    if (!f || fwrite("WMSYNCB1", 1, 8, f) != 8 || fwrite(buf, 1, len, f) != len || fclose(f) != 0)
        die("cannot write the bundle");
    free(buf);
    free_chain(ch, INNER_N);
    printf("written\n");
}

/* Record d+1 naming another station, signed with our key. */
static void sc_wrong_node_record(client_t *c, const char *arg)
{
    if (open_session(c) != 0)
        return;
    uint64_t d = c->durable;
    srec_buf_t *ch = build_chain(c->signer, arg ? arg : "xx/longhua/someone-else", d + 1);
    batch_and_report(c, ch + d, 1);
    free_chain(ch, d + 1);
}

/* Records d+3 .. d+4: seq d+1 and d+2 are missing. */
static void sc_gap(client_t *c, const char *arg)
{
    (void)arg;
    if (open_session(c) != 0)
        return;
    uint64_t d = c->durable, n = d + 4;
    srec_buf_t *ch = build_chain(c->signer, c->station, n);
    batch_and_report(c, ch + d + 2, 2);
    free_chain(ch, n);
}

/* Records d+1 .. d+3 where d+2 names a wrong prev hash (validly signed). */
static void sc_bad_chain(client_t *c, const char *arg)
{
    (void)arg;
    if (open_session(c) != 0)
        return;
    uint64_t d = c->durable, n = d + 3;
    srec_buf_t *ch = build_chain(c->signer, c->station, n);
    uint8_t prev[WM_HASH_BYTES];
    srec_hash(&ch[d], prev);
    prev[0] ^= 1;
    free(ch[d + 1].data);
    rec_spec_t sp = {c->station, d + 2, prev, BASE_CAPTURED + (int64_t)(d + 2), NULL, 1};
    ch[d + 1] = make_record(c->signer, &sp);
    batch_and_report(c, ch + d, 3);
    free_chain(ch, n);
}

/* 2001 records: one over max_records. */
static void sc_too_many(client_t *c, const char *arg)
{
    (void)arg;
    if (open_session(c) != 0)
        return;
    send_next(c, 2001);
}

/* 17 records of ~62 KB: over max_bytes (1 MiB), under the message limit. */
static void sc_too_many_bytes(client_t *c, const char *arg)
{
    (void)arg;
    if (open_session(c) != 0)
        return;
    enum { N = 17, TITLE = 62000 };
    uint64_t d = c->durable;
    srec_buf_t ch[N];
    char *title = malloc(TITLE + 1);
    uint8_t prev[WM_HASH_BYTES] = {0};
    srec_buf_t *base = build_chain(c->signer, c->station, d);
    if (!title)
        die("out of memory");
    memset(title, 'x', TITLE);
    title[TITLE] = 0;
    if (d)
        srec_hash(&base[d - 1], prev);
    size_t total = 0;
    for (int i = 0; i < N; i++) {
        rec_spec_t sp = {c->station, d + 1 + (uint64_t)i, prev,
                         BASE_CAPTURED + (int64_t)(d + 1 + (uint64_t)i), title, 1};
        ch[i] = make_record(c->signer, &sp);
        srec_hash(&ch[i], prev);
        total += ch[i].len;
    }
    fprintf(stderr, "hostile: %d records, %zu bytes\n", N, total);
    batch_and_report(c, ch, N);
    for (int i = 0; i < N; i++)
        free(ch[i].data);
    free_chain(base, d);
    free(title);
}

/* The valid records d+1 .. ARG (default d+3) in one batch. */
static void sc_valid(client_t *c, const char *arg)
{
    if (open_session(c) != 0)
        return;
    uint64_t d = c->durable, n = arg ? strtoull(arg, NULL, 10) : d + 3;
    if (n <= d) {
        printf("nothing to send (town holds %" PRIu64 ")\n", d);
        return;
    }
    send_next(c, n - d);
}

/* The valid records d+1 .. ARG in batches of at most 2000, keeping the
 * credit the town gives in flight. Prints "ack" once the last is acked,
 * else the first other outcome. */
static void sc_valid_many(client_t *c, const char *arg)
{
    enum { BATCH = 2000 };
    if (open_session(c) != 0)
        return;
    uint64_t d = c->durable, n = arg ? strtoull(arg, NULL, 10) : d + 3;
    if (n <= d) {
        printf("nothing to send (town holds %" PRIu64 ")\n", d);
        return;
    }
    srec_buf_t *ch = build_chain(c->signer, c->station, n);
    uint64_t sent = d;
    int inflight = 0, credit = 4;
    const char *o = "ack";
    while (c->durable < n) {
        while (inflight < credit && sent < n) {
            uint64_t k = n - sent < BATCH ? n - sent : BATCH;
            if (send_batch(c, ch + sent, (size_t)k) != 0) {
                o = "none";
                goto out;
            }
            sent += k;
            inflight++;
        }
        static char word[64]; /* the outcome outlives the reply it names */
        Wm__SyncMsg *sm = recv_msg(c, REPLY_MS);
        snprintf(word, sizeof word, "%s", outcome(c, sm));
        o = word;
        wm_pb_free(&sm);
        if (strcmp(o, "ack") != 0)
            goto out;
        inflight--;
    }
out:
    printf("%s\n", o);
    free_chain(ch, n);
}

/* The valid records d+1 .. ARG in batches of 2000, as a child keeps
 * credit (PROTOCOL.md §2): the Welcome's, plus what each answer returns.
 * Prints the outcome ("ack" once the last is acked) and
 * "welcome=W min=A max=B": the credit granted (held + in flight) at the
 * Welcome and at its lowest and highest after an answer. */
static void sc_credit(client_t *c, const char *arg)
{
    enum { BATCH = 2000 };
    if (open_session(c) != 0)
        return;
    uint64_t d = c->durable, n = arg ? strtoull(arg, NULL, 10) : d + 3, sent = d;
    uint32_t welcome = c->credit, credit = welcome, lo = welcome, hi = welcome, inflight = 0;
    srec_buf_t *ch = build_chain(c->signer, c->station, n > d ? n : 1);
    static char word[64]; /* the outcome outlives the reply it names */
    snprintf(word, sizeof word, "ack");
    while (c->durable < n) {
        for (; credit > 0 && sent < n; credit--, inflight++) {
            uint64_t k = n - sent < BATCH ? n - sent : BATCH;
            if (send_batch(c, ch + sent, (size_t)k) != 0) {
                snprintf(word, sizeof word, "none");
                goto out;
            }
            sent += k;
        }
        Wm__SyncMsg *sm = recv_msg(c, REPLY_MS);
        snprintf(word, sizeof word, "%s", outcome(c, sm));
        if (strcmp(word, "ack") == 0) {
            credit += sm->ack->credit;
            inflight--;
            lo = credit + inflight < lo ? credit + inflight : lo;
            hi = credit + inflight > hi ? credit + inflight : hi;
        }
        wm_pb_free(&sm);
        if (strcmp(word, "ack") != 0)
            break;
    }
out:
    printf("%s welcome=%u min=%u max=%u\n", word, welcome, lo, hi);
    free_chain(ch, n > d ? n : 1);
}

/* Everything the town already holds, again: must be acked, nothing new. */
static void sc_replay(client_t *c, const char *arg)
{
    (void)arg;
    if (open_session(c) != 0)
        return;
    uint64_t d = c->durable;
    if (!d) {
        printf("nothing to replay\n");
        return;
    }
    srec_buf_t *ch = build_chain(c->signer, c->station, d);
    batch_and_report(c, ch, d);
    free_chain(ch, d);
}

/* ARG (default 100) replay batches without waiting for acks. Prints
 * "over_credit" if any was refused so, else the first other outcome. */
static void sc_over_credit(client_t *c, const char *arg)
{
    if (open_session(c) != 0)
        return;
    uint64_t d = c->durable;
    int k = arg ? atoi(arg) : 100, got = 0, acks = 0, over = 0;
    const char *other = NULL;
    static char other_buf[64];
    srec_buf_t *ch = build_chain(c->signer, c->station, d ? d : 1);
    size_t n = d ? d : 1;
    for (int i = 0; i < k; i++)
        if (send_batch(c, ch, n) != 0)
            break;
    while (got < k) {
        Wm__SyncMsg *sm = recv_msg(c, REPLY_MS);
        if (!sm)
            break;
        got++;
        if (sm->msg_case == WM__SYNC_MSG__MSG_ACK) {
            acks++;
        } else if (sm->msg_case == WM__SYNC_MSG__MSG_REJECT &&
                   strcmp(sm->reject->reason, "over_credit") == 0) {
            over++;
        } else if (!other) {
            snprintf(other_buf, sizeof other_buf, "%s", outcome(c, sm));
            other = other_buf;
        }
        wm_pb_free(&sm);
    }
    fprintf(stderr, "hostile: %d batches sent, %d answers: %d acks, %d over_credit\n", k, got,
            acks, over);
    printf("%s\n", over ? "over_credit" : other ? other : acks ? "ack" : "none");
    free_chain(ch, n);
}

/* Records 1..3 (sent if the town lacks them), then another record 3,
 * validly signed. */
static void sc_equivocation(client_t *c, const char *arg)
{
    (void)arg;
    if (open_session(c) != 0)
        return;
    srec_buf_t *ch = build_chain(c->signer, c->station, 3);
    if (c->durable < 3) {
        if (send_batch(c, ch + c->durable, 3 - c->durable) != 0) {
            printf("none\n");
            free_chain(ch, 3);
            return;
        }
        Wm__SyncMsg *sm = recv_msg(c, REPLY_MS);
        const char *o = outcome(c, sm);
        int ok = strcmp(o, "ack") == 0;
        if (!ok)
            printf("setup batch: %s\n", o);
        wm_pb_free(&sm);
        if (!ok) {
            free_chain(ch, 3);
            return;
        }
    }
    uint8_t prev[WM_HASH_BYTES];
    srec_hash(&ch[1], prev);
    rec_spec_t sp = {c->station, 3, prev, BASE_CAPTURED + 3, "another record 3", 1};
    srec_buf_t alt = make_record(c->signer, &sp);
    batch_and_report(c, &alt, 1);
    free(alt.data);
    free_chain(ch, 3);
}

/* Record d+1 captured ten days from now. */
static void sc_future(client_t *c, const char *arg)
{
    (void)arg;
    if (open_session(c) != 0)
        return;
    uint64_t d = c->durable;
    uint8_t prev[WM_HASH_BYTES] = {0};
    srec_buf_t *ch = build_chain(c->signer, c->station, d);
    if (d)
        srec_hash(&ch[d - 1], prev);
    rec_spec_t sp = {c->station, d + 1, prev, (int64_t)time(NULL) + 10 * 86400, NULL, 1};
    srec_buf_t r = make_record(c->signer, &sp);
    batch_and_report(c, &r, 1);
    free(r.data);
    free_chain(ch, d);
}

/* ---- a peer of a later build (PROTOCOL.md §7) ---- */

/* Writes a protobuf varint at p (at most 10 bytes); returns its length. */
static size_t enc_varint(uint8_t *p, uint64_t v)
{
    size_t n = 0;
    do {
        p[n++] = (uint8_t)((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
        v >>= 7;
    } while (v);
    return n;
}

/* Field `field` (wire type 2) holding data[0..len), appended at p. */
static size_t put_bytes_field(uint8_t *p, uint32_t field, const uint8_t *data, size_t len)
{
    size_t n = enc_varint(p, (uint64_t)field << 3 | 2);
    n += enc_varint(p + n, len);
    memcpy(p + n, data, len);
    return n + len;
}

/* Sends a SyncMsg whose oneof is field `which`, holding inner[0..len),
 * plus an unknown top-level varint field 99 = 1. */
static int send_raw(client_t *c, uint32_t which, const uint8_t *inner, size_t len)
{
    uint8_t *buf = malloc(len + 32);
    if (!buf)
        die("out of memory");
    size_t n = put_bytes_field(buf, which, inner, len);
    n += enc_varint(buf + n, 99u << 3 | 0);
    n += enc_varint(buf + n, 1);
    wm_frame_t f = {buf, n};
    int rc = send_frames(c, &f, 1, SEND_MS);
    free(buf);
    return rc;
}

/* A Hello as a later build sends it: features this aggregator does not
 * know, an unknown field inside Hello and one beside it. Then records
 * d+1 .. d+3: the outcome of that batch is printed ("ack"). */
static void sc_hello_future(client_t *c, const char *arg)
{
    (void)arg;
    static const char later[] = "a field of a later build";
    char *features[] = {(char *)"zstd", (char *)"down-v2", (char *)""};
    Wm__Hello h = WM__HELLO__INIT;
    Wm__Frontier f = WM__FRONTIER__INIT;
    f.epoch = 1;
    f.seq = CLAIM_SEQ;
    f.hash = (ProtobufCBinaryData){WM_HASH_BYTES, c->claim_hash};
    h.version = SYNC_VERSION;
    h.node = (char *)c->station;
    h.head = &f;
    h.features = features;
    h.n_features = 3;
    uint8_t *hb = NULL;
    size_t hlen = 0;
    if (wm_pb_encode(&h.base, &hb, &hlen) != WM_OK)
        die("cannot encode");
    uint8_t *inner = malloc(hlen + sizeof later + 8);
    if (!inner)
        die("out of memory");
    memcpy(inner, hb, hlen);
    size_t n = hlen + put_bytes_field(inner + hlen, 50, (const uint8_t *)later, sizeof later - 1);
    free(hb);
    int rc = send_raw(c, 1 /* SyncMsg.hello */, inner, n);
    free(inner);
    if (rc != 0) {
        printf("none\n");
        return;
    }
    if (await_welcome(c) != 0)
        return;
    send_next(c, 3);
}

/* A message this aggregator does not know (SyncMsg field 30, reserved for
 * later builds): no answer. Then Hello must still be welcomed. Prints
 * "ignored" when both hold, else what came instead. */
static void sc_unknown_msg(client_t *c, const char *arg)
{
    (void)arg;
    static const uint8_t body[] = {0x08, 0x01, 0x12, 0x03, 'n', 'e', 'w'};
    if (send_raw(c, 30, body, sizeof body) != 0) {
        printf("none\n");
        return;
    }
    Wm__SyncMsg *sm = recv_msg(c, NONE_MS);
    if (sm) {
        printf("answered: %s\n", outcome(c, sm));
        wm_pb_free(&sm);
        return;
    }
    if (open_session(c) == 0)
        printf("ignored\n");
}

/* ---- the contract's corners (PROTOCOL.md §2, §4) ---- */

/* One message of ARG (default 8, the most wm_net sends) frames: malformed,
 * whatever the count (at the town's ROUTER, 8 frames and the identity are
 * one more than it keeps). */
static void sc_many_frames(client_t *c, const char *arg)
{
    size_t n = arg ? strtoull(arg, NULL, 10) : WM_MSG_MAX_FRAMES;
    wm_frame_t f[WM_MSG_MAX_FRAMES];
    if (n < 1 || n > WM_MSG_MAX_FRAMES)
        die("many_frames: ARG is 1..8");
    for (size_t i = 0; i < n; i++)
        f[i] = (wm_frame_t){(uint8_t *)"\xff\xff", 2};
    report_sent(c, send_frames(c, f, n, SEND_MS), REPLY_MS);
}

/* One undecodable frame of exactly WM_SYNC_MAX_MSG bytes (ARG "max") or
 * one byte more (ARG "over"): the first is answered (malformed), the
 * second makes libzmq drop the link (none). */
static void sc_size_edge(client_t *c, const char *arg)
{
    size_t n = WM_SYNC_MAX_MSG + (arg && strcmp(arg, "over") == 0 ? 1 : 0);
    uint8_t *big = malloc(n);
    if (!big)
        die("out of memory");
    memset(big, 0xff, n); /* an endless varint: never decodes */
    wm_frame_t f = {big, n};
    if (send_frames(c, &f, 1, SEND_MS) != 0)
        printf("none\n");
    else
        report_next(c, n > WM_SYNC_MAX_MSG ? NONE_MS : REPLY_MS);
    free(big);
}

/* Batch ids in one session: records d+1 as batch 5 (ack), d+2 as batch 5
 * again, d+2 as batch 0, d+2 as batch 6 (ack). Prints the four outcomes
 * joined by ",". */
static void sc_batch_ids(client_t *c, const char *arg)
{
    (void)arg;
    if (open_session(c) != 0)
        return;
    uint64_t d = c->durable, n = d + 2;
    static const uint64_t ids[] = {5, 5, 0, 6};
    srec_buf_t *ch = build_chain(c->signer, c->station, n);
    char line[256] = "";
    for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++) {
        c->next_batch = ids[i] - 1; /* send_batch numbers it ++next_batch */
        if (send_batch(c, ch + d + (i ? 1 : 0), 1) != 0)
            break;
        Wm__SyncMsg *sm = recv_msg(c, REPLY_MS);
        snprintf(line + strlen(line), sizeof line - strlen(line), "%s%s", i ? "," : "",
                 outcome(c, sm));
        wm_pb_free(&sm);
    }
    printf("%s\n", line);
    free_chain(ch, n);
}

/* Hello (its answer is not printed), then a batch of record 1: prints the
 * batch's outcome. */
static void sc_hello_then_batch(client_t *c, const char *arg)
{
    (void)arg;
    if (send_hello(c, SYNC_VERSION, c->station, c->claim_seq, c->claim_hash) != 0) {
        printf("none\n");
        return;
    }
    Wm__SyncMsg *sm = recv_msg(c, REPLY_MS);
    (void)outcome(c, sm);
    wm_pb_free(&sm);
    srec_buf_t *ch = build_chain(c->signer, c->station, 1);
    batch_and_report(c, ch, 1);
    free_chain(ch, 1);
}

/* A Records message nobody asked for (ARG "records"), or a Fetch sent up
 * to the aggregator (ARG "fetch"), in a session. */
static void sc_child_sends(client_t *c, const char *arg)
{
    if (open_session(c) != 0)
        return;
    Wm__SyncMsg m = WM__SYNC_MSG__INIT;
    Wm__Records r = WM__RECORDS__INIT;
    Wm__Fetch f = WM__FETCH__INIT;
    if (arg && strcmp(arg, "fetch") == 0) {
        f.req_id = 1;
        f.node = (char *)c->station;
        f.epoch = 1;
        f.from_seq = 1;
        m.msg_case = WM__SYNC_MSG__MSG_FETCH;
        m.fetch = &f;
    } else {
        r.req_id = 77;
        r.node = (char *)c->station;
        r.epoch = 1;
        r.error = (char *)"";
        m.msg_case = WM__SYNC_MSG__MSG_RECORDS;
        m.records = &r;
    }
    report_sent(c, send_msg(c, &m, SEND_MS), REPLY_MS);
}

/* Record d+1 as ARG says, validly signed: "fork" (its prev is not the
 * hash of record d: the town's own), "epoch_prev" (record 1 of epoch 1
 * naming a predecessor; needs d = 0), "rollup" (a RollupReport with our
 * own id), "rollup_other" (naming another node), "void_ahead" (a Void of
 * record d+5), or a needs-and-orders record: "need", "order_accept",
 * "service_order", "notice", "order_assigned". */
static void sc_odd_record(client_t *c, const char *arg)
{
    if (!arg)
        die("odd_record: ARG is fork, epoch_prev, rollup, rollup_other, void_ahead, need, "
            "order_accept, service_order, notice or order_assigned");
    if (open_session(c) != 0)
        return;
    uint64_t d = c->durable;
    uint8_t prev[WM_HASH_BYTES] = {0};
    srec_buf_t *base = build_chain(c->signer, c->station, d ? d : 1);
    if (d)
        srec_hash(&base[d - 1], prev);
    free_chain(base, d ? d : 1);
    rec_spec_t sp = {c->station, d + 1, prev, BASE_CAPTURED + (int64_t)(d + 1), NULL, 1};
    odd_body_t odd = {NULL, 0, WM__RECORD__BODY__NOT_SET};
    if (strcmp(arg, "fork") == 0 || strcmp(arg, "epoch_prev") == 0)
        prev[0] ^= 1;
    else if (strcmp(arg, "rollup") == 0)
        odd.rollup_id = c->station;
    else if (strcmp(arg, "rollup_other") == 0)
        odd.rollup_id = "xx/longhua/someone-else";
    else if (strcmp(arg, "void_ahead") == 0)
        odd.void_seq = d + 5;
    else if (strcmp(arg, "need") == 0)
        odd.orders = WM__RECORD__BODY_NEED;
    else if (strcmp(arg, "order_accept") == 0)
        odd.orders = WM__RECORD__BODY_ORDER_ACCEPT;
    else if (strcmp(arg, "service_order") == 0)
        odd.orders = WM__RECORD__BODY_SERVICE_ORDER;
    else if (strcmp(arg, "notice") == 0)
        odd.orders = WM__RECORD__BODY_NOTICE;
    else if (strcmp(arg, "order_assigned") == 0)
        odd.orders = WM__RECORD__BODY_ORDER_ASSIGNED;
    else
        die("odd_record: unknown ARG");
    srec_buf_t r = make_odd_record(c->signer, &sp, &odd);
    batch_and_report(c, &r, 1);
    free(r.data);
}

/* The valid records d+1 .. ARG in batches of 500, 8 in flight, the way a
 * child streams before it hears of a refusal: it goes on sending whatever
 * the answers say (so batches after a refused one arrive as gaps). Prints
 * the first refusal's reason ("ack" if none). */
static void sc_pipeline(client_t *c, const char *arg)
{
    enum { BATCH = 500, FLIGHT = 8 };
    if (open_session(c) != 0)
        return;
    uint64_t d = c->durable, n = arg ? strtoull(arg, NULL, 10) : d + 3, sent = d;
    srec_buf_t *ch = build_chain(c->signer, c->station, n > d ? n : d + 1);
    int inflight = 0, refused = 0;
    static char first[64] = "ack";
    while (sent < n || inflight > 0) {
        while (inflight < FLIGHT && sent < n) {
            uint64_t k = n - sent < BATCH ? n - sent : BATCH;
            if (send_batch(c, ch + sent, (size_t)k) != 0)
                break;
            sent += k;
            inflight++;
        }
        Wm__SyncMsg *sm = recv_msg(c, 20000);
        if (!sm)
            break;
        const char *o = outcome(c, sm);
        if (strcmp(o, "ack") != 0 && !refused++)
            snprintf(first, sizeof first, "%s", o);
        wm_pb_free(&sm);
        inflight--;
    }
    printf("%s\n", first);
    free_chain(ch, n > d ? n : d + 1);
}

/* Opens a session, writes ARG.ready, waits (up to 20 s) until ARG exists,
 * then sends a Heartbeat: prints its answer (a revocation meanwhile:
 * "revoked"). */
static void sc_wait_then_beat(client_t *c, const char *arg)
{
    char ready[4096];
    if (!arg)
        die("wait_then_beat: ARG is a path");
    if (open_session(c) != 0)
        return;
    snprintf(ready, sizeof ready, "%s.ready", arg);
    FILE *f = fopen(ready, "w");
    if (!f || fclose(f) != 0)
        die("cannot write the ready file");
    for (int64_t end = now_ms() + 20000; access(arg, F_OK) != 0;) {
        if (now_ms() >= end) {
            printf("timeout\n");
            return;
        }
        sleep_ms(20);
    }
    Wm__SyncMsg m = WM__SYNC_MSG__INIT;
    Wm__Heartbeat hb = WM__HEARTBEAT__INIT;
    m.msg_case = WM__SYNC_MSG__MSG_HEARTBEAT;
    m.heartbeat = &hb;
    report_sent(c, send_msg(c, &m, SEND_MS), REPLY_MS);
}

/* One frame over the town's message size limit: libzmq drops the link. */
static void sc_oversize(client_t *c, const char *arg)
{
    (void)arg;
    if (open_session(c) != 0)
        return;
    uint8_t *big = malloc(OVERSIZE);
    if (!big)
        die("out of memory");
    memset(big, 0x42, OVERSIZE);
    wm_frame_t f = {big, OVERSIZE};
    if (send_frames(c, &f, 1, SEND_MS) != 0)
        printf("none\n");
    else
        report_next(c, NONE_MS);
    free(big);
}

/* ARG (default 2000) garbage frames as fast as the link takes them. */
static void sc_flood(client_t *c, const char *arg)
{
    int k = arg ? atoi(arg) : 2000, sent = 0, answers = 0;
    int64_t t0 = now_ms();
    for (int i = 0; i < k; i++) {
        uint8_t junk[24];
        memset(junk, 0xff, sizeof junk);
        junk[0] = (uint8_t)i;
        wm_frame_t f = {junk, sizeof junk};
        wm_msg_t m = {.n = 1, .f = {f}};
        int64_t deadline = now_ms() + SEND_MS;
        for (;;) {
            wm_msg_t in = {0};
            while (wm_sock_recv(c->sock, &in) == WM_OK) { /* keep our inbox flowing */
                answers++;
                wm_msg_clear(&in);
            }
            wm_err_t err = wm_sock_send(c->sock, &m);
            if (err == WM_OK) {
                sent++;
                break;
            }
            if (err != WM_ETIMEOUT || now_ms() >= deadline)
                goto done;
            int ready = 0;
            wm_net_poll(&c->sock, 1, &ready, 1);
        }
    }
done:
    /* Collect what is still coming for a moment. */
    for (int64_t end = now_ms() + 1000; now_ms() < end && answers < sent;) {
        wm_msg_t in = {0};
        if (wm_sock_recv(c->sock, &in) == WM_OK) {
            answers++;
            wm_msg_clear(&in);
        } else {
            int ready = 0;
            wm_net_poll(&c->sock, 1, &ready, 50);
        }
    }
    fprintf(stderr, "hostile: flood: %d of %d garbage frames sent in %" PRId64
                    " ms, %d answers\n",
            sent, k, now_ms() - t0, answers);
    printf("%s\n", sent == k ? "flooded" : "incomplete");
}

/* ---- quotas and map growth ---- */

#define UNKNOWN_TAG 1000    /* a Record field no build knows: an unknown kind */
#define FLOOD_RECORD 60000  /* bytes of one flood record's unknown field */

/* Record seq of a chain whose records carry an unknown-kind body of `size`
 * bytes (size 0: an activity titled "backlog SEQ" padded to `pad` bytes). */
static srec_buf_t make_sized(const wm_signer_t *s, const char *station, uint64_t seq,
                             const uint8_t *prev, int64_t captured, size_t size, size_t pad)
{
    Wm__Record r = WM__RECORD__INIT;
    Wm__Activity a = WM__ACTIVITY__INIT;
    char title[256];
    int n = snprintf(title, sizeof title, "backlog %" PRIu64 " ", seq);
    while (n > 0 && (size_t)n < pad && (size_t)n < sizeof title - 1)
        title[n++] = 'x';
    title[n > 0 ? n : 0] = 0;
    r.schema = 1;
    r.station = (char *)station;
    r.epoch = 1;
    r.seq = seq;
    r.prev = (ProtobufCBinaryData){WM_HASH_BYTES, (uint8_t *)prev};
    r.captured = captured;
    ProtobufCMessageUnknownField uf = {0};
    uint8_t *body = NULL;
    if (size) {
        /* The field's bytes as protobuf-c packs them: length varint, data. */
        body = malloc(size + 10);
        if (!body)
            die("out of memory");
        size_t k = 0, v = size;
        do {
            body[k++] = (uint8_t)((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
            v >>= 7;
        } while (v);
        memset(body + k, 0x5a, size);
        uf = (ProtobufCMessageUnknownField){UNKNOWN_TAG, PROTOBUF_C_WIRE_TYPE_LENGTH_PREFIXED,
                                            k + size, body};
        r.base.n_unknown_fields = 1;
        r.base.unknown_fields = &uf;
    } else {
        a.date = 20240315;
        a.category = WM__CATEGORY__THEME_LECTURE;
        a.title = title;
        a.participants = 10;
        r.body_case = WM__RECORD__BODY_ACTIVITY;
        r.activity = &a;
    }
    srec_buf_t out = {0};
    if (wm_record_seal(&r, s, &out.data, &out.len) != WM_OK)
        die("cannot seal a record");
    free(body);
    return out;
}

/* Sends records[from..n) in batches within the town's limits, each after
 * the previous one's answer. Prints "ack" if all were acked, else the
 * first other outcome. */
static void send_all(client_t *c, srec_buf_t *recs, size_t from, size_t n)
{
    size_t batches = 0;
    while (from < n) {
        size_t k = 0, bytes = 0;
        while (from + k < n && k < 2000 && bytes + recs[from + k].len <= (1u << 20))
            bytes += recs[from + k++].len;
        if (send_batch(c, recs + from, k) != 0) {
            printf("none\n");
            return;
        }
        Wm__SyncMsg *sm = recv_msg(c, 20000);
        const char *o = outcome(c, sm);
        if (strcmp(o, "ack") != 0) {
            printf("%s\n", o);
            wm_pb_free(&sm);
            return;
        }
        wm_pb_free(&sm);
        from += k;
        batches++;
    }
    fprintf(stderr, "hostile: %zu records acked in %zu batches\n", n, batches);
    printf("ack\n");
}

/* An honest station back after ARG = "DAYSxPER_DAY" (default 60x40) days
 * offline: PER_DAY activity records of some 400 bytes for each capture day
 * from 2024-03-15 on, all sent now. */
static void sc_backlog(client_t *c, const char *arg)
{
    unsigned days = 60, per = 40;
    if (arg && sscanf(arg, "%ux%u", &days, &per) != 2)
        die("backlog: ARG is DAYSxPER_DAY");
    size_t n = (size_t)days * per;
    srec_buf_t *ch = calloc(n ? n : 1, sizeof *ch);
    uint8_t prev[WM_HASH_BYTES] = {0};
    if (!ch)
        die("out of memory");
    for (size_t i = 0; i < n; i++) {
        int64_t at = BASE_CAPTURED + (int64_t)(i / per) * 86400 + (int64_t)(i % per) * 600;
        ch[i] = make_sized(c->signer, c->station, i + 1, prev, at, 0, 250);
        srec_hash(&ch[i], prev);
    }
    c->claim_seq = n; /* our head is the backlog's last record */
    memcpy(c->claim_hash, prev, WM_HASH_BYTES);
    if (open_session(c) != 0) {
        free_chain(ch, n);
        return;
    }
    send_all(c, ch, c->durable < n ? c->durable : n, n);
    free_chain(ch, n);
}

/* ARG (default 200) unknown-kind records of 60 KB, all captured on one
 * day (2024-03-15), one a batch, from the town's durable seq on. */
static void sc_quota_flood(client_t *c, const char *arg)
{
    size_t n = arg ? strtoull(arg, NULL, 10) : 200;
    if (open_session(c) != 0)
        return;
    srec_buf_t *ch = calloc(n ? n : 1, sizeof *ch);
    uint8_t prev[WM_HASH_BYTES] = {0};
    if (!ch)
        die("out of memory");
    for (size_t i = 0; i < n; i++) {
        ch[i] = make_sized(c->signer, c->station, i + 1, prev, BASE_CAPTURED + (int64_t)i,
                           FLOOD_RECORD, 0);
        srec_hash(&ch[i], prev);
    }
    size_t from = c->durable < n ? c->durable : n;
    while (from < n) { /* one record a batch: the refusal names the first over */
        if (send_batch(c, ch + from, 1) != 0) {
            printf("none\n");
            break;
        }
        Wm__SyncMsg *sm = recv_msg(c, REPLY_MS);
        const char *o = outcome(c, sm);
        int ok = strcmp(o, "ack") == 0;
        if (!ok)
            printf("%s\n", o);
        wm_pb_free(&sm);
        if (!ok)
            break;
        from++;
    }
    if (from == n)
        printf("ack\n");
    fprintf(stderr, "hostile: flood: town holds %" PRIu64 " records\n", c->durable);
    free_chain(ch, n);
}

/* m as a ZBatch of recs[0..n) (wm_wire_pack), batch id, head f, zb filled
 * in; returns the compressed bytes (the caller frees them). */
static uint8_t *zbatch_msg(Wm__SyncMsg *m, Wm__ZBatch *zb, const ProtobufCBinaryData *recs,
                           size_t n, uint64_t id, Wm__Frontier *f)
{
    uint8_t *z = NULL;
    size_t zlen = 0;
    uint32_t raw = 0;
    if (wm_wire_pack(recs, n, &z, &zlen, &raw) != WM_OK)
        die("cannot pack");
    wm__zbatch__init(zb);
    zb->batch_id = id;
    zb->head = f;
    zb->count = (uint32_t)n;
    zb->raw_bytes = raw;
    zb->zstd = (ProtobufCBinaryData){zlen, z};
    m->msg_case = WM__SYNC_MSG__MSG_ZBATCH;
    m->zbatch = zb;
    return z;
}

/* Feature "zstd" (PROTOCOL.md §7.1): a Hello that lists it (or not, for
 * "unasked"), then records d+1 … d+5 as one ZBatch: "ok" as a station
 * sends it; "bomb" a frame of 64 MiB of zeros declared as such (above the
 * limit); "lie" the valid frame with raw_bytes one less than the frame
 * declares; "corrupt" a byte of it flipped; "unasked" a valid ZBatch on a
 * session that did not list the feature. Then, on the same session, the
 * same records as a plain Batch: the session still serves (prints both
 * outcomes, one a line). */
static void sc_zbatch(client_t *c, const char *arg)
{
    const char *mode = arg ? arg : "ok";
    char *feats[] = {WM_WIRE_FEATURE};
    Wm__SyncMsg m = WM__SYNC_MSG__INIT;
    Wm__Frontier f = WM__FRONTIER__INIT;
    f.epoch = 1;
    f.seq = c->claim_seq;
    f.hash = (ProtobufCBinaryData){WM_HASH_BYTES, c->claim_hash};
    c->features = feats;
    c->n_features = strcmp(mode, "unasked") != 0;
    if (open_session(c) != 0)
        return;
    uint64_t d = c->durable, n = d + 5;
    srec_buf_t *ch = build_chain(c->signer, c->station, n);
    ProtobufCBinaryData recs[5];
    for (size_t i = 0; i < 5; i++)
        recs[i] = (ProtobufCBinaryData){ch[d + i].len, ch[d + i].data};
    Wm__ZBatch zb;
    uint8_t *z = zbatch_msg(&m, &zb, recs, 5, ++c->next_batch, &f);
    size_t zlen = zb.zstd.len;
    uint32_t raw = zb.raw_bytes;
    if (strcmp(mode, "bomb") == 0) {
        size_t big = 64u << 20;
        uint8_t *zeros = calloc(1, big);
        free(z);
        zlen = ZSTD_compressBound(big);
        z = malloc(zlen);
        if (!zeros || !z || ZSTD_isError(zlen = ZSTD_compress(z, zlen, zeros, big, 3)))
            die("cannot make the bomb");
        free(zeros);
        raw = (uint32_t)big;
    } else if (strcmp(mode, "lie") == 0) {
        raw -= 1;
    } else if (strcmp(mode, "corrupt") == 0) {
        z[zlen / 2] ^= 0x5a;
    }
    zb.raw_bytes = raw;
    zb.zstd = (ProtobufCBinaryData){zlen, z};
    fprintf(stderr, "hostile: zbatch %s: %zu compressed bytes, %u declared\n", mode, zlen, raw);
    report_sent(c, send_msg(c, &m, SEND_MS), REPLY_MS);
    free(z);
    batch_and_report(c, ch + c->durable, n - c->durable);
    free_chain(ch, n);
}

/* ---- feature "blobs" (PROTOCOL.md §7.2) ---- */

/* The next blob answer's word: "want:FROM", "have", "nothing" (a WANT that
 * wants nothing), "present", the ACK's error up to its colon, or the
 * outcome of anything else. */
static void report_blob(client_t *c)
{
    Wm__SyncMsg *sm = recv_msg(c, REPLY_MS);
    if (sm && sm->msg_case == WM__SYNC_MSG__MSG_BLOB_WANT) {
        const Wm__BlobWant *w = sm->blob_want;
        if (w->n_want)
            printf("want:%" PRIu64 "\n", w->want[0]->from);
        else
            printf("%s\n", w->n_have ? "have" : "nothing");
    } else if (sm && sm->msg_case == WM__SYNC_MSG__MSG_BLOB_ACK) {
        const char *e = sm->blob_ack->error ? sm->blob_ack->error : "";
        fprintf(stderr, "hostile: blob ack: held %" PRIu64 ", present %d, error \"%s\"\n",
                sm->blob_ack->held, sm->blob_ack->present, e);
        printf("%.*s\n", e[0] ? (int)strcspn(e, ":") : 7, e[0] ? e : "present");
    } else {
        printf("%s\n", outcome(c, sm));
    }
    wm_pb_free(&sm);
}

/* ARG "tamper:HEX:SIZE": offers blob HEX (SIZE bytes, named by a verified
 * record of the station) and sends SIZE bytes that are not it, in one
 * chunk: two words (the WANT, the ACK). "unnamed": offers and sends a blob
 * no record names. "unasked": a chunk on a session without the feature. */
static void sc_blob(client_t *c, const char *arg)
{
    static char *feats[] = {WM_FEATURE_BLOBS};
    uint8_t hash[WM_HASH_BYTES] = {7};
    uint64_t size = 1000;
    int unasked = arg && strcmp(arg, "unasked") == 0;
    if (arg && strncmp(arg, "tamper:", 7) == 0) {
        char hex[WM_BLOB_HEXLEN_ + 1];
        if (sscanf(arg + 7, "%64[0-9a-f]:%" SCNu64, hex, &size) != 2 ||
            wm_unhex(hex, hash, sizeof hash) != WM_OK || size > (16u << 20))
            die("blob tamper:HEX:SIZE");
    }
    c->features = unasked ? NULL : feats;
    c->n_features = unasked ? 0 : 1;
    if (open_session(c) != 0)
        return;
    Wm__SyncMsg m = WM__SYNC_MSG__INIT;
    Wm__BlobRef ref = WM__BLOB_REF__INIT, *refs = &ref;
    Wm__BlobOffer o = WM__BLOB_OFFER__INIT;
    ref.hash = (ProtobufCBinaryData){WM_HASH_BYTES, hash};
    ref.size = size;
    o.blobs = &refs;
    o.n_blobs = 1;
    if (!unasked) {
        m.msg_case = WM__SYNC_MSG__MSG_BLOB_OFFER;
        m.blob_offer = &o;
        if (send_msg(c, &m, SEND_MS) != 0)
            die("send offer");
        report_blob(c);
    }
    uint8_t *data = malloc(size);
    if (!data)
        die("memory");
    memset(data, 'X', size); /* the right size, the wrong bytes */
    Wm__BlobChunk ch = WM__BLOB_CHUNK__INIT;
    ch.hash = ref.hash;
    ch.size = size;
    ch.data = (ProtobufCBinaryData){size, data};
    m.msg_case = WM__SYNC_MSG__MSG_BLOB_CHUNK;
    m.blob_chunk = &ch;
    if (send_msg(c, &m, SEND_MS) != 0)
        die("send chunk");
    report_blob(c);
    free(data);
}

/* ---- feature "blob-fetch" (PROTOCOL.md §7.3) ---- */

/* A child that lists "blob-fetch" and answers every BLOB_FETCH with wrong
 * bytes: as many as asked, of the size asked (or ARG's SIZE when the asker
 * does not know it), none of them the blob's. ARG "PATH[:SIZE]": writes
 * PATH.ready once welcomed, then answers (and beats) until PATH exists or
 * 30 s pass; prints how many fetches it answered. Unless SIZE is "unasked",
 * which sends one BLOB_DATA no fetch asked for and prints the answer. */
static void sc_blob_liar(client_t *c, const char *arg)
{
    char *feats[] = {WM_FEATURE_BLOB_FETCH};
    char path[4096], ready[4096 + 8];
    uint64_t claim = 0;
    unsigned answered = 0;
    if (!arg || sscanf(arg, "%4095[^:]:%" SCNu64, path, &claim) < 1)
        die("blob_liar: ARG is PATH[:SIZE]");
    c->features = feats;
    c->n_features = 1;
    if (open_session(c) != 0)
        return;
    if (strstr(arg, ":unasked")) {
        uint8_t h[WM_HASH_BYTES] = {1}, junk[64] = {0};
        Wm__SyncMsg m = WM__SYNC_MSG__INIT;
        Wm__BlobData d = WM__BLOB_DATA__INIT;
        d.req_id = 424242, d.hash = (ProtobufCBinaryData){sizeof h, h}, d.size = sizeof junk;
        d.data = (ProtobufCBinaryData){sizeof junk, junk};
        m.msg_case = WM__SYNC_MSG__MSG_BLOB_DATA;
        m.blob_data = &d;
        report_sent(c, send_msg(c, &m, SEND_MS), REPLY_MS);
        return;
    }
    snprintf(ready, sizeof ready, "%s.ready", path);
    FILE *f = fopen(ready, "w");
    if (!f || fclose(f) != 0)
        die("cannot write the ready file");
    for (int64_t end = now_ms() + 30000, beat = 0; access(path, F_OK) != 0 && now_ms() < end;) {
        if (now_ms() - beat > 2000) { /* stay in session */
            Wm__SyncMsg m = WM__SYNC_MSG__INIT;
            Wm__Heartbeat hb = WM__HEARTBEAT__INIT;
            m.msg_case = WM__SYNC_MSG__MSG_HEARTBEAT;
            m.heartbeat = &hb;
            if (send_msg(c, &m, SEND_MS) == 0)
                beat = now_ms();
        }
        Wm__SyncMsg *sm = recv_msg(c, 200);
        if (!sm || sm->msg_case != WM__SYNC_MSG__MSG_BLOB_FETCH) {
            wm_pb_free(&sm);
            continue;
        }
        const Wm__BlobFetch *bf = sm->blob_fetch;
        uint64_t size = bf->size ? bf->size : claim ? claim : 1000;
        uint64_t n = bf->offset < size ? size - bf->offset : 0;
        n = n < bf->max ? n : bf->max;
        uint8_t *junk = malloc(n ? n : 1);
        if (!junk)
            die("out of memory");
        memset(junk, 0x5a, n);
        Wm__SyncMsg m = WM__SYNC_MSG__INIT;
        Wm__BlobData d = WM__BLOB_DATA__INIT;
        d.req_id = bf->req_id, d.hash = bf->hash, d.size = size, d.offset = bf->offset;
        d.data = (ProtobufCBinaryData){n, junk};
        m.msg_case = WM__SYNC_MSG__MSG_BLOB_DATA;
        m.blob_data = &d;
        if (send_msg(c, &m, SEND_MS) == 0)
            answered++;
        free(junk);
        wm_pb_free(&sm);
    }
    printf("answered %u\n", answered);
}

static const scenario_t scenarios[] = {
    {"garbage", sc_garbage, "one frame of bytes that do not decode"},
    {"empty", sc_empty, "one empty frame (a SyncMsg with nothing set)"},
    {"two_frames", sc_two_frames, "a Hello split over two frames"},
    {"version", sc_version, "Hello with protocol version 99"},
    {"hello_other", sc_hello_other, "Hello naming another node [ARG]"},
    {"hello", sc_hello, "Hello; ARG \"short\" waits less"},
    {"behind", sc_behind, "Hello claiming seq 1"},
    {"diverged", sc_diverged, "Hello claiming seq ARG with another hash"},
    {"no_session", sc_no_session, "a Batch without Hello"},
    {"unexpected", sc_unexpected, "a Welcome sent to the town"},
    {"bad_signature", sc_bad_signature, "the last record's signature altered"},
    {"bad_sig_mid", sc_bad_sig_mid, "a middle record's signature altered"},
    {"resend_bad_sig", sc_resend_bad_sig, "a stored record resent with a corrupt signature"},
    {"wrong_node_record", sc_wrong_node_record, "a record naming another station [ARG]"},
    {"gap", sc_gap, "records starting at durable + 3"},
    {"bad_chain", sc_bad_chain, "a record with a wrong prev hash"},
    {"inner_bad_sig", sc_inner_bad_sig, "5 chained records, one signed by a foreign key [ARG: where]"},
    {"inner_bad_bundle", sc_inner_bad_bundle, "the same as a bundle file (ARG POS:FILE)"},
    {"too_many", sc_too_many, "2001 records in one batch"},
    {"too_many_bytes", sc_too_many_bytes, "17 records of 62 KB in one batch"},
    {"valid", sc_valid, "the valid records up to seq ARG"},
    {"valid_many", sc_valid_many, "the valid records up to seq ARG, in batches of 2000"},
    {"replay", sc_replay, "everything the town holds, again"},
    {"credit", sc_credit, "the valid records up to seq ARG, keeping the credit granted"},
    {"over_credit", sc_over_credit, "ARG batches without waiting for acks"},
    {"equivocation", sc_equivocation, "a second, validly signed record 3"},
    {"future", sc_future, "a record captured ten days from now"},
    {"hello_future", sc_hello_future, "Hello of a later build (features, unknown fields), a batch"},
    {"unknown_msg", sc_unknown_msg, "a message of a later build, then Hello"},
    {"many_frames", sc_many_frames, "one message of ARG frames (1..8, default 8)"},
    {"size_edge", sc_size_edge, "a frame of exactly the size limit (ARG max) or one over (over)"},
    {"batch_ids", sc_batch_ids, "batch ids 5, 5, 0, 6 in one session"},
    {"hello_then_batch", sc_hello_then_batch, "Hello, then a batch whatever the answer"},
    {"child_sends", sc_child_sends, "an unsolicited Records (ARG records) or a Fetch (fetch)"},
    {"odd_record", sc_odd_record,
     "record d+1: fork, epoch_prev, rollup, rollup_other, void_ahead, need, order_accept, "
     "service_order, notice, order_assigned"},
    {"pipeline", sc_pipeline, "records up to seq ARG, 8 batches of 500 in flight"},
    {"wait_then_beat", sc_wait_then_beat, "session, ARG.ready, wait for ARG, Heartbeat"},
    {"oversize", sc_oversize, "a frame over the town's message size limit"},
    {"flood", sc_flood, "ARG garbage frames as fast as possible"},
    {"backlog", sc_backlog, "ARG=DAYSxPER_DAY honest records of that many capture days"},
    {"quota_flood", sc_quota_flood, "ARG unknown-kind records of 60 KB, one capture day"},
    {"zbatch", sc_zbatch, "a compressed batch: ok, bomb, lie, corrupt, unasked; then plain"},
    {"blob", sc_blob, "feature blobs: tamper:HEX:SIZE (wrong bytes for a named blob), unnamed, unasked"},
    {"blob_liar", sc_blob_liar, "feature blob-fetch: answers every fetch with wrong bytes (ARG PATH[:SIZE|:unasked])"},
    {NULL, NULL, NULL},
};

/* ---- --dump: seeds for the fuzz corpus ---- */

static void write_file(const char *dir, const char *name, const uint8_t *buf, size_t len)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(buf, 1, len, f) != len || fclose(f) != 0)
        die("cannot write a corpus file");
}

static void dump_msg(const char *dir, const char *name, const ProtobufCMessage *m)
{
    uint8_t *buf = NULL;
    size_t len = 0;
    if (wm_pb_encode(m, &buf, &len) != WM_OK)
        die("cannot encode");
    write_file(dir, name, buf, len);
    free(buf);
}

static int dump(const char *dir)
{
    uint8_t seed[WM_SEED_BYTES], hash[WM_HASH_BYTES], key[WM_PUB_BYTES];
    wm_signer_t *s = NULL;
    const char *station = "xx/longhua/evil";
    for (int i = 0; i < WM_SEED_BYTES; i++)
        seed[i] = (uint8_t)i;
    memset(key, 0x5a, sizeof key);
    if (wm_signer_from_seed(seed, &s) != WM_OK)
        die("cannot make a signer");
    srec_buf_t *ch = build_chain(s, station, 3);
    srec_hash(&ch[2], hash);
    ProtobufCBinaryData bd[3];
    for (int i = 0; i < 3; i++)
        bd[i] = (ProtobufCBinaryData){ch[i].len, ch[i].data};
    Wm__Frontier f = WM__FRONTIER__INIT;
    f.epoch = 1;
    f.seq = 3;
    f.hash = (ProtobufCBinaryData){WM_HASH_BYTES, hash};

    Wm__SyncMsg m = WM__SYNC_MSG__INIT;
    Wm__Hello h = WM__HELLO__INIT;
    h.version = SYNC_VERSION;
    h.node = (char *)station;
    h.head = &f;
    m.msg_case = WM__SYNC_MSG__MSG_HELLO;
    m.hello = &h;
    dump_msg(dir, "hello.pb", &m.base);

    Wm__Welcome w = WM__WELCOME__INIT;
    w.durable = &f;
    w.credit = 8;
    w.max_records = 2000;
    w.max_bytes = 1u << 20;
    w.heartbeat_s = 5;
    m.msg_case = WM__SYNC_MSG__MSG_WELCOME;
    m.welcome = &w;
    dump_msg(dir, "welcome.pb", &m.base);

    Wm__Batch b = WM__BATCH__INIT;
    b.batch_id = 7;
    b.records = bd;
    b.n_records = 3;
    b.head = &f;
    m.msg_case = WM__SYNC_MSG__MSG_BATCH;
    m.batch = &b;
    dump_msg(dir, "batch3.pb", &m.base);

    Wm__ZBatch zb; /* the same records, compressed (wm_wire.h) */
    uint8_t *z = zbatch_msg(&m, &zb, bd, 3, 7, &f);
    dump_msg(dir, "zbatch3.pb", &m.base);
    free(z);

    Wm__Ack a = WM__ACK__INIT;
    a.batch_id = 7;
    a.durable = &f;
    a.credit = 1;
    a.flagged = 1;
    m.msg_case = WM__SYNC_MSG__MSG_ACK;
    m.ack = &a;
    dump_msg(dir, "ack.pb", &m.base);

    Wm__Reject r = WM__REJECT__INIT;
    r.batch_id = 7;
    r.reason = (char *)"bad_chain";
    r.detail = (char *)"record 1/2 does not chain to the record before it";
    r.seq = 2;
    r.durable = &f;
    r.credit = 1;
    m.msg_case = WM__SYNC_MSG__MSG_REJECT;
    m.reject = &r;
    dump_msg(dir, "reject.pb", &m.base);

    Wm__Heartbeat hb = WM__HEARTBEAT__INIT;
    hb.head = &f;
    m.msg_case = WM__SYNC_MSG__MSG_HEARTBEAT;
    m.heartbeat = &hb;
    dump_msg(dir, "heartbeat.pb", &m.base);

    uint8_t bh[WM_HASH_BYTES] = {7}, bytes[48] = {9};
    char *hop[] = {(char *)station};
    Wm__BlobFetch bf = WM__BLOB_FETCH__INIT; /* feature "blob-fetch" */
    bf.req_id = 3, bf.hash = (ProtobufCBinaryData){sizeof bh, bh}, bf.size = 48, bf.max = 16;
    bf.path = hop, bf.n_path = 1;
    m.msg_case = WM__SYNC_MSG__MSG_BLOB_FETCH;
    m.blob_fetch = &bf;
    dump_msg(dir, "blob_fetch.pb", &m.base);
    Wm__BlobData bdat = WM__BLOB_DATA__INIT;
    bdat.req_id = 3, bdat.hash = bf.hash, bdat.size = 48, bdat.offset = 16;
    bdat.data = (ProtobufCBinaryData){16, bytes + 16};
    m.msg_case = WM__SYNC_MSG__MSG_BLOB_DATA;
    m.blob_data = &bdat;
    dump_msg(dir, "blob_data.pb", &m.base);

    Wm__Bundle bu = WM__BUNDLE__INIT;
    Wm__Frontier from = WM__FRONTIER__INIT;
    bu.node = (char *)station;
    bu.sign_pub = (ProtobufCBinaryData){WM_PUB_BYTES, (uint8_t *)wm_signer_pub(s)};
    bu.from = &from;
    bu.records = bd;
    bu.n_records = 3;
    dump_msg(dir, "bundle.pb", &bu.base);

    Wm__Identity id = WM__IDENTITY__INIT;
    id.node = (char *)station;
    id.name = (char *)"站";
    id.role = (char *)"station";
    id.sign_pub = (ProtobufCBinaryData){WM_PUB_BYTES, (uint8_t *)wm_signer_pub(s)};
    id.curve_pub = (ProtobufCBinaryData){WM_PUB_BYTES, key};
    dump_msg(dir, "identity.pb", &id.base);

    free_chain(ch, 3);
    wm_signer_free(&s);
    return 0;
}

static void usage(void);

static void put_varint(FILE *f, uint64_t v)
{
    uint8_t b[10];
    fwrite(b, 1, enc_varint(b, v), f);
}

/* A length-delimited field: key, length, bytes (data NULL: a hole). */
static void put_field(FILE *f, unsigned no, const void *data, uint64_t len)
{
    put_varint(f, (uint64_t)no << 3 | 2);
    put_varint(f, len);
    if (data)
        fwrite(data, 1, (size_t)len, f);
    else if (fseeko(f, (off_t)len, SEEK_CUR) != 0)
        die("cannot seek");
}

static int write_bundle(int argc, char **argv)
{
    const char *station = argv[3], *out = argv[5];
    uint64_t n = strtoull(argv[4], NULL, 10), big = 0, pad_mb = 0;
    int node_last = 0;
    char path[4096];
    wm_signer_t *s = NULL;
    for (int i = 6; i < argc; i++) {
        if (strncmp(argv[i], "pad=", 4) == 0)
            pad_mb = strtoull(argv[i] + 4, NULL, 10);
        else if (strncmp(argv[i], "big=", 4) == 0)
            big = strtoull(argv[i] + 4, NULL, 10);
        else if (strcmp(argv[i], "node-last") == 0)
            node_last = 1;
        else
            usage();
    }
    snprintf(path, sizeof path, "%s/sign.key", argv[2]);
    if (wm_signer_load(path, &s) != WM_OK)
        die("cannot load KEYDIR/sign.key");
    FILE *f = fopen(out, "wb");
    if (!f)
        die("cannot create the bundle");
    fwrite("WMSYNCB1", 1, 8, f);
    if (!node_last)
        put_field(f, 1, station, strlen(station));
    put_field(f, 2, wm_signer_pub(s), WM_PUB_BYTES);
    uint8_t prev[WM_HASH_BYTES] = {0};
    for (uint64_t k = 1; k <= n; k++) {
        rec_spec_t sp = {station, k, prev, BASE_CAPTURED + (int64_t)k, NULL, 1};
        srec_buf_t r = make_record(s, &sp);
        srec_hash(&r, prev);
        if (k == big) {
            uint8_t *blob = calloc(1, BIG_RECORD);
            if (!blob)
                die("out of memory");
            put_field(f, 4, blob, BIG_RECORD);
            free(blob);
        } else {
            put_field(f, 4, r.data, r.len);
        }
        free(r.data);
        if (pad_mb && k == n / 2)
            put_field(f, 15, NULL, pad_mb << 20);
    }
    if (node_last)
        put_field(f, 1, station, strlen(station));
    if (ferror(f) | fclose(f))
        die("cannot write the bundle");
    wm_signer_free(&s);
    return 0;
}

static void usage(void)
{
    fprintf(stderr, "usage: hostile ENDPOINT TOWN_PUB_HEX KEYDIR STATION_ID SCENARIO [ARG]\n"
                    "       hostile --dump DIR\n"
                    "       hostile --bundle KEYDIR STATION_ID N OUT [pad=MB] [big=K] "
                    "[node-last]\nscenarios:\n");
    for (const scenario_t *s = scenarios; s->name; s++)
        fprintf(stderr, "  %-18s %s\n", s->name, s->help);
    exit(2);
}

int main(int argc, char **argv)
{
    if (wm_crypto_init() != WM_OK)
        die("libsodium does not initialise");
    if (argc == 3 && strcmp(argv[1], "--dump") == 0)
        return dump(argv[2]);
    if (argc >= 6 && strcmp(argv[1], "--bundle") == 0)
        return write_bundle(argc, argv);
    if (argc < 6 || argc > 7)
        usage();
    const scenario_t *sc = NULL;
    for (const scenario_t *s = scenarios; s->name && !sc; s++)
        if (strcmp(s->name, argv[5]) == 0)
            sc = s;
    if (!sc)
        usage();
    setvbuf(stdout, NULL, _IOLBF, 0);

    client_t c = {.station = argv[4], .claim_seq = CLAIM_SEQ};
    char path[4096];
    uint8_t server_pub[WM_PUB_BYTES], pub[WM_PUB_BYTES];
    uint8_t *secret = wm_secure_alloc(32);
    if (!secret || wm_unhex(argv[2], server_pub, sizeof server_pub) != WM_OK)
        die("TOWN_PUB_HEX must be 64 hex digits");
    snprintf(path, sizeof path, "%s/curve.key", argv[3]);
    if (wm_curve_load(path, secret, pub) != WM_OK)
        die("cannot load KEYDIR/curve.key");
    snprintf(path, sizeof path, "%s/sign.key", argv[3]);
    if (wm_signer_load(path, &c.signer) != WM_OK)
        die("cannot load KEYDIR/sign.key");
    srec_buf_t *claim = build_chain(c.signer, c.station, CLAIM_SEQ);
    srec_hash(&claim[CLAIM_SEQ - 1], c.claim_hash);
    free_chain(claim, CLAIM_SEQ);
    if (wm_net_new(&c.net) != WM_OK ||
        wm_sync_connect(c.net, argv[1], server_pub, secret, pub, CLIENT_MAX_MSG, &c.sock) !=
            WM_OK)
        die("cannot connect");
    sc->fn(&c, argc == 7 ? argv[6] : NULL);
    wm_sock_close(&c.sock);
    wm_net_free(&c.net);
    wm_signer_free(&c.signer);
    wm_secure_free(secret);
    return 0;
}
