/* SPDX-License-Identifier: MIT */
/*
 * bench_ingest — how fast a town catches up with its stations, beside the
 * limits it is built on (docs/design.md §4.6, §4.7, §7). Two subcommands, run
 * by bench_sync.sh against real daemons:
 *
 *   bench_ingest limits
 *       the single-core Ed25519 verify rate (libsodium, 250-byte messages)
 *       and the raw LMDB rate of 100,000 puts of 250-byte values in one
 *       transaction plus its fsynced commit. Prints "limit_verify_per_s R",
 *       "limit_lmdb_batch_per_s R" and "limit_lmdb_cpu_us C" (the CPU
 *       microseconds of one such put, commit included; the least of 3).
 *
 *   bench_ingest catchup TOWN_DIR TOWN_PID WMSYNCD M LOGDIR STATION_DIR...
 *       starts one wmsyncd per station directory (each must hold M records
 *       the town does not have yet) and polls the town's LMDB read-only
 *       every 2 ms (the durable head of each station: node number, highest
 *       epoch, its head) until every station's stored seq is M. The clock
 *       starts just before the first station daemon is forked. Prints
 *       "catchup_s", "catchup_per_s" and per-station figures, plus the CPU
 *       seconds the town and the stations spent (from /proc), and the
 *       town's until every record was stored: all its threads
 *       (catchup_town_cpu_stored_s) and its poll loop's alone
 *       (catchup_town_loop_cpu_stored_s; the verifier thread excluded). The station
 *       daemons are stopped with SIGTERM at the end; their logs go to
 *       LOGDIR/STATION_ID_with_slashes_as_dashes.log.
 *
 * A benchmark, not a test: it fails only if something cannot run or the
 * town does not catch up within BENCH_TIMEOUT_S (default 300) seconds.
 * The limits do not go through the layers they are the limits of: the
 * verify rate calls <sodium.h> directly, the LMDB one is bench_lmdb.c.
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <fcntl.h>

#include "bench_lmdb.h"
#include "wm_config.h"
#include "wm_ingest.h"
#include "wm_stage.h"
#include "wm_store.h"

#define N_VERIFY 20000
#define N_LMDB 100000
#define MSG_BYTES 250
#define POLL_US 2000
#define MAX_STATIONS 256

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void die(const char *what, const char *why)
{
    fprintf(stderr, "bench_ingest: %s: %s\n", what, why);
    exit(1);
}


/* ---- limits -------------------------------------------------------- */

static double verify_rate(void)
{
    unsigned char pk[crypto_sign_PUBLICKEYBYTES], sk[crypto_sign_SECRETKEYBYTES];
    unsigned char msg[MSG_BYTES], sig[crypto_sign_BYTES];
    crypto_sign_keypair(pk, sk);
    randombytes_buf(msg, sizeof msg);
    crypto_sign_detached(sig, NULL, msg, sizeof msg, sk);
    double t0 = now_s();
    for (int i = 0; i < N_VERIFY; i++)
        if (crypto_sign_verify_detached(sig, msg, sizeof msg, pk) != 0)
            die("verify", "signature does not verify");
    double rate = N_VERIFY / (now_s() - t0);
    sodium_memzero(sk, sizeof sk);
    return rate;
}



/* The limit's value i: 250 random bytes, the first byte varying. */
static MDB_val random_value(size_t i, void *ctx)
{
    uint8_t *vb = ctx;
    vb[0] = (uint8_t)(i + 1);
    return (MDB_val){MSG_BYTES, vb};
}

/* bench_lmdb_batch of N_LMDB 250-byte values in TMPDIR. */
static double lmdb_batch_rate(double *cpu_us)
{
    char dir[4096];
    const char *tmp = getenv("TMPDIR");
    uint8_t vb[MSG_BYTES];
    randombytes_buf(vb, sizeof vb);
    snprintf(dir, sizeof dir, "%s/wmbench-lmdb.XXXXXX", tmp && *tmp ? tmp : "/tmp");
    return bench_lmdb_batch(dir, N_LMDB, random_value, vb, cpu_us);
}

static int cmd_limits(void)
{
    /* Interleaved, best of 3: these are ceilings, so the least disturbed
     * run is the fairest one to compare against. */
    double v = 0, l = 0, lc = 0;
    for (int i = 0; i < 3; i++) {
        double c, a = verify_rate(), b = lmdb_batch_rate(&c);
        v = a > v ? a : v;
        l = b > l ? b : l;
        lc = !lc || c < lc ? c : lc;
    }
    printf("limit_verify_per_s %.0f\n", v);
    printf("limit_lmdb_batch_per_s %.0f\n", l);
    printf("limit_lmdb_cpu_us %.3f\n", lc);
    return 0;
}

/* ---- catch-up ------------------------------------------------------ */

/* utime + stime of the process or thread whose stat file is path,
 * seconds; -1 if it cannot be read. */
static double cpu_stat_s(const char *path)
{
    char buf[2048];
    FILE *f = fopen(path, "re");
    if (!f)
        return -1;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    char *p = strrchr(buf, ')'); /* comm may hold spaces */
    unsigned long long ut = 0, stt = 0;
    if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &stt) != 2)
        return -1;
    return (double)(ut + stt) / (double)sysconf(_SC_CLK_TCK);
}

/* utime + stime of pid (all its threads), seconds; -1 if unreadable. */
static double cpu_s(pid_t pid)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    return cpu_stat_s(path);
}

/* The same of pid's main thread alone (the daemon's poll loop). */
static double cpu_main_s(pid_t pid)
{
    char path[96];
    snprintf(path, sizeof path, "/proc/%d/task/%d/stat", (int)pid, (int)pid);
    return cpu_stat_s(path);
}

typedef struct {
    wm_config_t cfg;
    char conf[4200];
    pid_t pid;
    double first_s, done_s, cpu;
    double verified_s;   /* when every record was verified (in the log) */
    uint64_t seq, vseq;
} station_t;

static pid_t spawn(const char *wmsyncd, const char *conf, const char *log)
{
    pid_t pid = fork();
    if (pid < 0)
        die("fork", strerror(errno));
    if (pid == 0) {
        int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd >= 0) {
            dup2(fd, 2);
            dup2(fd, 1);
        }
        execl(wmsyncd, wmsyncd, "-c", conf, (char *)NULL);
        _exit(127);
    }
    return pid;
}

static int cmd_catchup(int argc, char **argv)
{
    if (argc < 7) {
        fprintf(stderr, "usage: bench_ingest catchup TOWN_DIR TOWN_PID WMSYNCD M LOGDIR "
                        "STATION_DIR...\n");
        return 2;
    }
    const char *town_dir = argv[2], *wmsyncd = argv[4], *logdir = argv[6];
    pid_t town_pid = (pid_t)atoi(argv[3]);
    uint64_t m = strtoull(argv[5], NULL, 10);
    int n = argc - 7;
    if (n < 1 || n > MAX_STATIONS || m == 0)
        die("catchup", "need 1..256 station directories and M > 0");
    const char *tmo = getenv("BENCH_TIMEOUT_S");
    double timeout = tmo && *tmo ? atof(tmo) : 300;
    static station_t st[MAX_STATIONS];
    char why[8192], conf[4200];
    wm_config_t town;
    snprintf(conf, sizeof conf, "%s/" WM_CONF_NAME, town_dir);
    if (wm_config_load(conf, &town, why, sizeof why) != WM_OK)
        die(conf, why);
    for (int i = 0; i < n; i++) {
        snprintf(st[i].conf, sizeof st[i].conf, "%s/" WM_CONF_NAME, argv[7 + i]);
        if (wm_config_load(st[i].conf, &st[i].cfg, why, sizeof why) != WM_OK)
            die(st[i].conf, why);
    }
    wm_store_t *store = NULL;
    if (wm_store_open(town.data_dir, WM_STORE_RDONLY, town.map_mb, &store) != WM_OK)
        die(town.data_dir, "cannot open the town's store read-only");

    double town_cpu0 = cpu_s(town_pid), town_loop0 = cpu_main_s(town_pid);
    double town_cpu_stored = -1, town_loop_stored = -1;
    double t0 = now_s();
    for (int i = 0; i < n; i++) {
        char log[4400], slug[200];
        snprintf(slug, sizeof slug, "%s", st[i].cfg.id);
        for (char *p = slug; *p; p++)
            if (*p == '/')
                *p = '-';
        snprintf(log, sizeof log, "%s/%s.log", logdir, slug);
        st[i].pid = spawn(wmsyncd, st[i].conf, log);
        st[i].first_s = st[i].done_s = st[i].verified_s = -1;
    }
    int done = 0, verified = 0, polls = 0;
    uint64_t max_unverified = 0;
    double t = t0;
    while (done < n || verified < n) {
        wm_txn_t *txn = NULL;
        t = now_s();
        if (t - t0 > timeout)
            break;
        if (wm_txn_begin(store, 0, &txn) != WM_OK)
            die("poll", "cannot begin a read transaction");
        uint64_t unverified = 0;
        for (int i = 0; i < n; i++) {
            uint32_t node = 0;
            wm_head_t h = {0}, v = {0};
            if (st[i].verified_s >= 0 || wm_nodeno_lookup(txn, st[i].cfg.id, &node) != WM_OK ||
                wm_ingest_frontier(txn, node, &h) != WM_OK ||
                wm_stage_verified(txn, node, &v) != WM_OK)
                continue;
            /* stored: durable and acked (staged or in the log); verified:
             * each signature checked, in the log */
            st[i].seq = h.seq;
            st[i].vseq = v.seq;
            unverified += h.seq - v.seq;
            if (h.seq > 0 && st[i].first_s < 0)
                st[i].first_s = t - t0;
            if (h.seq >= m && st[i].done_s < 0) {
                st[i].done_s = t - t0;
                done++;
            }
            if (v.seq >= m) {
                st[i].verified_s = t - t0;
                verified++;
            }
        }
        if (unverified > max_unverified)
            max_unverified = unverified;
        if (done == n && town_cpu_stored < 0) { /* every record stored: acked */
            town_cpu_stored = cpu_s(town_pid) - town_cpu0;
            town_loop_stored = cpu_main_s(town_pid) - town_loop0;
        }
        wm_txn_abort(&txn);
        polls++;
        for (int i = 0; i < n; i++) {
            int status;
            if (st[i].pid > 0 && waitpid(st[i].pid, &status, WNOHANG) == st[i].pid) {
                fprintf(stderr, "bench_ingest: station daemon %s exited early (status %d)\n",
                        st[i].cfg.id, status);
                st[i].pid = 0;
            }
        }
        if (done < n || verified < n)
            usleep(POLL_US);
    }
    double elapsed = 0, verified_all = 0;
    for (int i = 0; i < n; i++) {
        if (st[i].done_s > elapsed)
            elapsed = st[i].done_s;
        if (st[i].verified_s > verified_all)
            verified_all = st[i].verified_s;
    }
    double town_cpu = cpu_s(town_pid) - town_cpu0, st_cpu = 0;
    for (int i = 0; i < n; i++) {
        st[i].cpu = st[i].pid > 0 ? cpu_s(st[i].pid) : 0;
        st_cpu += st[i].cpu;
        if (st[i].pid > 0)
            kill(st[i].pid, SIGTERM);
    }
    for (int i = 0; i < n; i++)
        if (st[i].pid > 0)
            waitpid(st[i].pid, NULL, 0);
    wm_store_close(&store);

    double first = 1e9, last_done = 0, first_done = 1e9;
    for (int i = 0; i < n; i++) {
        if (st[i].first_s >= 0 && st[i].first_s < first)
            first = st[i].first_s;
        if (st[i].done_s > last_done)
            last_done = st[i].done_s;
        if (st[i].done_s >= 0 && st[i].done_s < first_done)
            first_done = st[i].done_s;
    }
    if (done < n || verified < n) {
        for (int i = 0; i < n; i++)
            if (st[i].verified_s < 0)
                fprintf(stderr, "bench_ingest: %s: town holds seq %" PRIu64 " (verified %" PRIu64
                                ") of %" PRIu64 " after %.0f s\n",
                        st[i].cfg.id, st[i].seq, st[i].vseq, m, timeout);
        return 1;
    }
    double total = (double)m * n;
    printf("catchup_stations %d\n", n);
    printf("catchup_records %.0f\n", total);
    printf("catchup_s %.3f\n", elapsed);
    printf("catchup_per_s %.0f\n", total / elapsed);
    printf("catchup_first_record_s %.3f\n", first);
    printf("catchup_first_station_done_s %.3f\n", first_done);
    printf("catchup_town_cpu_s %.2f\n", town_cpu);
    printf("catchup_town_cpu_stored_s %.2f\n", town_cpu_stored);
    printf("catchup_town_loop_cpu_stored_s %.2f\n", town_loop_stored);
    printf("catchup_stations_cpu_s %.2f\n", st_cpu);
    printf("catchup_polls %d\n", polls);
    printf("catchup_verified_s %.3f\n", verified_all);
    printf("catchup_verify_lag_s %.3f\n", verified_all - elapsed);
    printf("catchup_verify_per_s %.0f\n", total / verified_all);
    printf("catchup_max_unverified %" PRIu64 "\n", max_unverified);
    return 0;
}

int main(int argc, char **argv)
{
    if (sodium_init() < 0)
        die("sodium_init", "failed");
    if (argc >= 2 && strcmp(argv[1], "limits") == 0)
        return cmd_limits();
    if (argc >= 2 && strcmp(argv[1], "catchup") == 0)
        return cmd_catchup(argc, argv);
    fprintf(stderr, "usage: bench_ingest limits | catchup TOWN_DIR TOWN_PID WMSYNCD M LOGDIR "
                    "STATION_DIR...\n");
    return 2;
}
