/* SPDX-License-Identifier: MIT */
/*
 * sim_town — the stations of one town, for the tier tests (it_province.sh,
 * it_bigtown.sh): a province of 2,000 stations cannot run 2,000 station
 * daemons on two cores, so one process plays a town's N stations, each
 * with its own Ed25519 signing key and Curve25519 transport key, over its
 * own CURVE DEALER, speaking the station side of proto/sync.proto exactly
 * (Hello, Welcome, one Batch, Ack: sim_station.c). The town is a real daemon.
 *
 *   1. makes N identities, TOWN_ID/sNNNN, with Chinese display names
 *      ("东河湾村新时代文明实践站"), and enrols each at the running town
 *      through its control socket (the request `wmctl enroll` sends);
 *   2. seals each station's log: a volunteer team ("东河湾村文艺志愿服务队",
 *      which never serves in some stations: a team_never_served problem
 *      with a name), then per month of MONTHS (2024-05, 2024-06) a
 *      grassroots theme lecture, theory education, a festival culture and
 *      sports event, two volunteer services of the team, publicity and
 *      volunteers; EXTRA more theme lectures in the first month;
 *   3. syncs every station and waits for each Ack of its whole log;
 *   4. writes TRUTH: one JSON line per station, {"id", "name", "team",
 *      "months": {"2024-05": {figure path: value, …}, …}}: the sums of its
 *      records counted by hand, which the tests compare with the rollups
 *      of every tier (the brute-force sum of the station records).
 *
 * Usage: sim_town TOWN_DIR SERVER_KEY_HEX N EXTRA WORKDIR TRUTH [FIRST]
 *   FIRST: the number of the first station (default 1), so that runs for
 *   several towns name distinct villages.
 * Exit 0 when every station's log is acknowledged; 1 (with why) otherwise.
 */
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "control.pb-c.h"
#include "sim_station.h"
#include "sync.pb-c.h"
#include "wm_config.h"
#include "wm_crypto.h"
#include "wm_date.h"
#include "wm_net.h"
#include "wm_record.h"
#include "wm_sync.h"
#include "wm_validate.h"

#define CTL_VERSION 1
#define MAX_STATIONS 1020 /* sockets of one ZeroMQ context */
#define TIMEOUT_S 240
#define NMONTHS 2

static const uint32_t months[NMONTHS] = {202405, 202406};

typedef struct {
    sim_station_t sim; /* id, keys, the batch, the link */
    char name[160], team[160];
    json_t *truth; /* month -> {path: value} */
} station_t;

static void die(const char *what, const char *why)
{
    fprintf(stderr, "sim_town: %s: %s\n", what, why);
    exit(1);
}

static void check(wm_err_t err, const char *what)
{
    if (err != WM_OK)
        die(what, wm_strerror(err));
}

/* A village name of three characters, distinct for i < 12 * 12 * 10. */
static void village(unsigned i, char *out, size_t cap)
{
    static const char *const a[] = {"东", "西", "南", "北", "新", "老", "大", "小", "上", "下", "前", "后"};
    static const char *const b[] = {"河", "庄", "湾", "岭", "塘", "坪", "山", "桥", "沟", "坝", "林", "田"};
    static const char *const c[] = {"头", "口", "尾", "埠", "营", "堡", "集", "铺", "寨", "店"};
    snprintf(out, cap, "%s%s%s", a[i % 12], b[(i / 12) % 12], c[(i / 144) % 10]);
}

/* Adds v to truth[month][path]. */
static void count(station_t *s, uint32_t ym, const char *path, int64_t v)
{
    char m[16];
    snprintf(m, sizeof m, "%04u-%02u", ym / 100 % 10000, ym % 100);
    json_t *mo = json_object_get(s->truth, m);
    if (!mo) {
        mo = json_object();
        json_object_set_new(s->truth, m, mo);
    }
    json_object_set_new(mo, path, json_integer(json_integer_value(json_object_get(mo, path)) + v));
}

/* Seals body r as the station's next record. */
static void seal(station_t *s, wm_record_t *r)
{
    static uint8_t prev[WM_HASH_BYTES];
    wm_reject_t rej;
    uint8_t *srec = NULL;
    size_t len = 0;
    memcpy(prev, s->sim.head.hash, WM_HASH_BYTES);
    r->schema = WM_SCHEMA;
    r->station = s->sim.id;
    r->epoch = 1;
    r->seq = s->sim.n + 1;
    r->prev = (ProtobufCBinaryData){WM_HASH_BYTES, prev};
    r->captured = (int64_t)time(NULL);
    if (wm_validate_body(r, wm_date_today(), &rej) != WM_OK)
        die(s->sim.id, rej.why);
    check(wm_record_seal(r, s->sim.signer, &srec, &len), "seal");
    if (sim_station_push(&s->sim, srec, len) != WM_OK)
        die(s->sim.id, "too many records for one batch");
}

static const char *const cat_slug[] = {"", "theme_lecture", "theory_education", "party_training",
                                       "civilization_practice", "culture_sports",
                                       "volunteer_service"};
static const char *const kind_slug[] = {"", "environmental", "science", "legal", "campus_safety",
                                        "traffic", "assistance", "other"};

/* One activity, sealed and counted. */
static void activity(station_t *s, uint32_t date, Wm__Category cat, Wm__ServiceKind kind,
                     uint32_t participants, uint32_t hours_x100, const char *tag)
{
    wm_record_t r = WM__RECORD__INIT;
    Wm__Activity a = WM__ACTIVITY__INIT;
    char *tags[1] = {(char *)tag};
    char path[96];
    a.date = date;
    a.category = cat;
    a.service_kind = kind;
    a.title = "新时代文明实践活动";
    a.place = s->name;
    a.participants = participants;
    a.volunteers = kind ? 5 : 0;
    a.hours_x100 = hours_x100;
    if (kind)
        a.team = "wenyi";
    if (tag) {
        a.tags = tags;
        a.n_tags = 1;
    }
    r.body_case = WM__RECORD__BODY_ACTIVITY;
    r.activity = &a;
    seal(s, &r);
    uint32_t ym = date / 100;
    snprintf(path, sizeof path, "activities.%s", cat_slug[cat]);
    count(s, ym, path, 1);
    count(s, ym, "activities.total", 1);
    count(s, ym, "participants", participants);
    count(s, ym, "activity_volunteers", a.volunteers);
    count(s, ym, "late_entries", 1); /* recorded long after its 2024 date */
    if (kind) {
        snprintf(path, sizeof path, "volunteer_services.by_kind.%s", kind_slug[kind]);
        count(s, ym, path, 1);
        count(s, ym, "volunteer_services.by_kind.total", 1);
        count(s, ym, "volunteer_services.total", 1);
        count(s, ym, "service_hours_x100", hours_x100);
    }
    if (tag && strcmp(tag, "基层宣讲") == 0)
        count(s, ym, "grassroots_lectures", 1);
    else if (tag && cat == WM__CATEGORY__CULTURE_SPORTS)
        count(s, ym, "festival_events", 1);
}

/* The station's whole log (see the top of this file). */
static void make_log(station_t *s, unsigned no, unsigned extra)
{
    wm_record_t r = WM__RECORD__INIT;
    Wm__Team tm = WM__TEAM__INIT;
    tm.team = "wenyi";
    tm.action = WM__TEAM_ACTION__CREATE;
    tm.name = s->team;
    tm.kind = WM__TEAM_KIND__BRANCH;
    tm.trade = "文艺";
    r.body_case = WM__RECORD__BODY_TEAM;
    r.team = &tm;
    seal(s, &r);
    int serves = no % 5 != 0; /* every fifth team never serves */
    for (int m = 0; m < NMONTHS; m++) {
        uint32_t d = months[m] * 100;
        activity(s, d + 3, WM__CATEGORY__THEME_LECTURE, 0, 20 + no % 30, 0, "基层宣讲");
        activity(s, d + 8, WM__CATEGORY__THEORY_EDUCATION, 0, 15 + no % 11, 0, NULL);
        activity(s, d + 12, WM__CATEGORY__CULTURE_SPORTS, 0, 60 + no % 7, 0, "端午");
        if (serves) {
            activity(s, d + 5, WM__CATEGORY__VOLUNTEER_SERVICE, 1 + no % 7, 12, 250, NULL);
            activity(s, d + 19, WM__CATEGORY__VOLUNTEER_SERVICE, 1 + (no + 3) % 7, 9, 175, NULL);
        }
        Wm__Publicity pb = WM__PUBLICITY__INIT;
        wm_record_t rp = WM__RECORD__INIT;
        pb.date = d + 10;
        pb.channel = WM__CHANNEL__WECHAT;
        pb.count = 3;
        rp.body_case = WM__RECORD__BODY_PUBLICITY;
        rp.publicity = &pb;
        seal(s, &rp);
        count(s, months[m], "publicity.wechat", 3);
        count(s, months[m], "publicity.total", 3);
        Wm__Volunteers vo = WM__VOLUNTEERS__INIT;
        wm_record_t rv = WM__RECORD__INIT;
        vo.date = d + 11;
        vo.registered = 10;
        vo.verified = 8;
        rv.body_case = WM__RECORD__BODY_VOLUNTEERS;
        rv.volunteers = &vo;
        seal(s, &rv);
        count(s, months[m], "volunteers.registered", 10);
        count(s, months[m], "volunteers.verified", 8);
    }
    for (unsigned i = 0; i < extra; i++)
        activity(s, months[0] * 100 + 20 + i % 9, WM__CATEGORY__THEME_LECTURE, 0, 30, 0, NULL);
}

/* Enrols s at the town through its control socket. */
static void enroll(wm_sock_t *ctl, station_t *s)
{
    Wm__CtlRequest req = WM__CTL_REQUEST__INIT;
    Wm__Identity id = WM__IDENTITY__INIT;
    id.node = s->sim.id;
    id.name = s->name;
    id.role = "station";
    id.sign_pub = (ProtobufCBinaryData){WM_PUB_BYTES, (uint8_t *)wm_signer_pub(s->sim.signer)};
    id.curve_pub = (ProtobufCBinaryData){WM_PUB_BYTES, s->sim.curve_pub};
    req.version = CTL_VERSION;
    req.op_case = WM__CTL_REQUEST__OP_ENROLL;
    req.enroll = &id;
    uint8_t *buf = NULL, *rbuf = NULL;
    size_t len = 0, rlen = 0;
    Wm__CtlReply *rep = NULL;
    wm_err_t err = wm_pb_encode(&req.base, &buf, &len);
    if (err == WM_OK)
        err = wm_ctl_call(ctl, buf, len, &rbuf, &rlen, 15000);
    if (err == WM_OK)
        err = wm_pb_decode(&wm__ctl_reply__descriptor, rbuf, rlen, WM_CTL_MAX_BYTES, (void **)&rep);
    free(buf);
    free(rbuf);
    if (err != WM_OK)
        die("enroll", wm_strerror(err));
    if (rep->error && rep->error[0])
        die(s->sim.id, rep->message ? rep->message : rep->error);
    wm_pb_free(&rep);
}

int main(int argc, char **argv)
{
    if (argc < 7 || argc > 8) {
        fprintf(stderr, "usage: sim_town TOWN_DIR SERVER_KEY_HEX N EXTRA WORKDIR TRUTH [FIRST]\n");
        return 2;
    }
    const char *work = argv[5];
    int n = atoi(argv[3]);
    unsigned extra = (unsigned)atoi(argv[4]), first = argc == 8 ? (unsigned)atoi(argv[7]) : 1;
    uint8_t server[WM_PUB_BYTES];
    char why[8192], conf[4200], path[4400], v[64];
    wm_config_t town;
    if (n < 1 || n > MAX_STATIONS || extra > 30)
        die("usage", "N must be 1..1020 and EXTRA 0..30");
    if (wm_unhex(argv[2], server, sizeof server) != WM_OK)
        die("usage", "SERVER_KEY_HEX is not 64 hex digits");
    check(wm_crypto_init(), "crypto init");
    snprintf(conf, sizeof conf, "%s/" WM_CONF_NAME, argv[1]);
    if (wm_config_load(conf, &town, why, sizeof why) != WM_OK)
        die(conf, why);
    snprintf(path, sizeof path, "%s/keys", work);
    if ((mkdir(work, 0700) != 0 && errno != EEXIST) || (mkdir(path, 0700) != 0 && errno != EEXIST))
        die(work, strerror(errno));
    FILE *out = fopen(argv[6], "we");
    if (!out)
        die(argv[6], strerror(errno));
    station_t *st = calloc((size_t)n, sizeof *st);
    sim_station_t **sims = calloc((size_t)n, sizeof *sims);
    wm_net_t *net = NULL;
    wm_sock_t *ctl = NULL;
    if (!st || !sims)
        die("calloc", "out of memory");
    check(wm_net_new(&net), "net");
    if (wm_ctl_connect(net, town.control, &ctl) != WM_OK)
        die(town.control, "cannot connect to the town's control socket");
    for (int i = 0; i < n; i++) {
        station_t *s = &st[i];
        unsigned no = first + (unsigned)i;
        village(no, v, sizeof v);
        snprintf(s->sim.id, sizeof s->sim.id, "%s/s%04u", town.id, no);
        snprintf(s->name, sizeof s->name, "%s村新时代文明实践站", v);
        snprintf(s->team, sizeof s->team, "%s村文艺志愿服务队", v);
        snprintf(path, sizeof path, "%s/keys/s%04u.key", work, no);
        check(sim_station_keys(&s->sim, path), "station keys");
        sims[i] = &s->sim;
        s->truth = json_object();
        make_log(s, no, extra);
        enroll(ctl, s);
    }
    if (sim_sync_all(net, town.listen, server, sims, n, TIMEOUT_S, NULL, why, sizeof why) != 0)
        die("sync", why);
    for (int i = 0; i < n; i++) {
        json_t *line = json_pack("{s:s, s:s, s:s, s:O}", "id", st[i].sim.id, "name", st[i].name,
                                 "team", st[i].team, "months", st[i].truth);
        char *text = line ? json_dumps(line, JSON_COMPACT) : NULL;
        if (!text || fprintf(out, "%s\n", text) < 0)
            die(argv[6], "cannot write the truth");
        free(text);
        json_decref(line);
    }
    if (fclose(out) != 0)
        die(argv[6], strerror(errno));
    for (int i = 0; i < n; i++) {
        sim_station_free(&st[i].sim);
        json_decref(st[i].truth);
    }
    free(sims);
    free(st);
    wm_sock_close(&ctl);
    wm_net_free(&net);
    printf("sim_town: %d stations of %s synced\n", n, town.id);
    return 0;
}
