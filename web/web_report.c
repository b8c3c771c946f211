/* SPDX-License-Identifier: MIT */
/*
 * web_report — the figures: GET /api/v1/rollup (JSON, CSV or xlsx, the
 * renderers of wmctl rollup), GET /api/v1/report (the prose of wmctl
 * report), and at aggregators GET /api/v1/children (each child's sync
 * state, as in status), POST /api/v1/publish (through the daemon, as
 * wmctl publish) and POST /api/v1/audit (wmctl audit, run as it is).
 */
#include <fcntl.h>
#include <limits.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "render.h"
#include "wm_date.h"
#include "web.h"
#include "wm_report.h"
#include "wm_rollupq.h"
#include "wm_status.h"
#include "wm_validate.h"

#define PERIOD_HELP                                                                           \
    "\"%s\" is not a period (2024-05, 2024-W19, 2024-BW10, 2024-Q2, 2024-H1, 2024, "           \
    "2024-03-01..2024-05-31)"

/* The rollup the request asks for (?period=&station=) into *out; nonzero:
 * answered. */
static int rollup_of(web_req_t *q, web_resp_t *r, json_t **out)
{
    const char *period = web_arg(q, "period"), *station = web_arg(q, "station");
    char why[WM_WHY_MAX];
    wm_store_t *s = NULL;
    if (station && !station[0])
        station = NULL;
    if (web_store_get(q, r, &s))
        return 1;
    if (!s) {
        web_error(q, r, 404, "no_data", NULL, "no data yet");
        return 1;
    }
    wm_err_t err = wm_rollupq(&q->w->cfg, s, period, station, out, why, sizeof why);
    if (err == WM_EINVAL)
        web_error(q, r, 400, "invalid", "period", PERIOD_HELP, period ? period : "");
    else if (err == WM_ENOTFOUND && !why[0])
        web_error(q, r, 404, "invalid", "station", "no station \"%s\" here", station);
    else if (err != WM_OK)
        web_error(q, r, 500, "storage", NULL, "cannot build the rollup: %s", why);
    return err != WM_OK;
}

/* lang= of the query, else the request's; nonzero: answered 400. */
static int lang_arg(web_req_t *q, web_resp_t *r, const char **lang)
{
    const char *l = web_arg(q, "lang");
    *lang = q->lang;
    if (!l || !l[0])
        return 0;
    if (strcmp(l, "zh") != 0 && strcmp(l, "en") != 0) {
        web_error(q, r, 400, "invalid", "lang", "lang must be zh or en");
        return 1;
    }
    *lang = l;
    return 0;
}

/* Writes with fn into memory as r's body. */
static void stream_body(web_req_t *q, web_resp_t *r, int (*fn)(const json_t *, const char *,
                                                              FILE *),
                        const json_t *j, const char *lang)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    int bad = !f || fn(j, lang, f);
    if (f)
        bad |= fclose(f) != 0;
    if (bad) {
        free(buf);
        web_error(q, r, 500, "internal", NULL, "out of memory");
        return;
    }
    r->status = 200;
    r->body = buf;
    r->len = len;
}

/* The workbook: libxlsxwriter writes files by name, so into a private
 * temporary file, read back and removed. */
static void xlsx_body(web_req_t *q, web_resp_t *r, const json_t *j, const char *lang)
{
    char path[] = "/tmp/wmweb-XXXXXX", why[WM_WHY_MAX];
    int fd = mkstemp(path);
    struct stat st;
    int bad = fd < 0;
    if (!bad)
        bad = render_xlsx_write(j, lang, path, why, sizeof why) != 0;
    if (!bad)
        bad = fstat(fd, &st) != 0; /* the writer replaced the file: stat the name */
    if (!bad)
        bad = stat(path, &st) != 0 || !(r->body = malloc((size_t)st.st_size + 1));
    if (!bad) {
        FILE *f = fopen(path, "rb");
        bad = !f || fread(r->body, 1, (size_t)st.st_size, f) != (size_t)st.st_size;
        if (f)
            fclose(f);
        r->len = (size_t)st.st_size;
    }
    if (fd >= 0) {
        close(fd);
        unlink(path);
    }
    if (bad) {
        free(r->body);
        r->body = NULL;
        web_error(q, r, 500, "internal", NULL, "cannot build the rollup: %s", "xlsx");
        return;
    }
    r->status = 200;
}

static int json_write(const json_t *j, const char *lang, FILE *f)
{
    (void)lang;
    return json_dumpf(j, f, JSON_COMPACT) != 0;
}

void web_rollup(web_req_t *q, web_resp_t *r, const char *tail)
{
    (void)tail;
    const char *format = web_arg(q, "format"), *lang;
    json_t *j = NULL;
    if (!format || !format[0])
        format = "json";
    if (strcmp(format, "json") && strcmp(format, "csv") && strcmp(format, "xlsx")) {
        web_error(q, r, 400, "invalid", "format", "format must be json, csv or xlsx");
        return;
    }
    if (lang_arg(q, r, &lang) || rollup_of(q, r, &j))
        return;
    const char *period = json_string_value(json_object_get(j, "period"));
    char name[128];
    snprintf(name, sizeof name, "rollup-%s.%s", period ? period : "period", format);
    for (char *c = name; *c; c++) /* a range "A..B" stays one plain file name */
        if (!strchr("abcdefghijklmnopqrstuvwxyz0123456789-_.", *c) && !(*c >= 'A' && *c <= 'Z'))
            *c = '_';
    if (strcmp(format, "json") == 0) {
        stream_body(q, r, json_write, j, lang);
        r->ctype = "application/json; charset=utf-8";
    } else if (strcmp(format, "csv") == 0) {
        stream_body(q, r, render_csv_write, j, lang);
        r->ctype = "text/csv; charset=utf-8";
        snprintf(r->disposition, sizeof r->disposition, "attachment; filename=\"%s\"", name);
    } else {
        xlsx_body(q, r, j, lang);
        r->ctype = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
        snprintf(r->disposition, sizeof r->disposition, "attachment; filename=\"%s\"", name);
    }
    json_decref(j);
}

void web_report(web_req_t *q, web_resp_t *r, const char *tail)
{
    (void)tail;
    const char *lang;
    json_t *j = NULL;
    char *buf = NULL;
    size_t len = 0;
    if (lang_arg(q, r, &lang) || rollup_of(q, r, &j))
        return;
    FILE *f = open_memstream(&buf, &len);
    int bad = !f || report_text_write(j, lang, q->w->cfg.cadence_days, f);
    if (f)
        bad |= fclose(f) != 0;
    if (bad)
        web_error(q, r, 500, "internal", NULL, "out of memory");
    else
        web_json(r, 200, json_pack("{s:O, s:s, s:s%}", "period", json_object_get(j, "period"),
                                   "lang", lang, "text", buf, len));
    free(buf);
    json_decref(j);
}

void web_children(web_req_t *q, web_resp_t *r, const char *tail)
{
    (void)tail;
    wm_store_t *s = NULL;
    char why[WM_WHY_MAX];
    json_t *st = NULL;
    if (web_store_get(q, r, &s))
        return;
    json_t *live = wm_status_live(q->w->net, q->w->cfg.control);
    if (wm_status_json(&q->w->cfg, s, live, &st, why, sizeof why) != WM_OK)
        web_error(q, r, 500, "storage", NULL, "cannot read the node's data: %s", why);
    else
        web_json(r, 200, json_pack("{s:O, s:O, s:b}", "children", json_object_get(st, "stations"),
                                   "caught_up", json_object_get(st, "caught_up"),
                                   "daemon_running", live != NULL));
    json_decref(st);
    json_decref(live);
}

void web_publish(web_req_t *q, web_resp_t *r, const char *tail)
{
    (void)tail;
    json_t *j = q->body ? json_loadb(q->body, q->len, 0, NULL) : NULL;
    const char *period = json_string_value(json_object_get(j, "period"));
    wm_period_t p;
    Wm__CtlRequest req = WM__CTL_REQUEST__INIT;
    Wm__CtlReply *rep = NULL;
    if (!json_is_object(j)) {
        web_error(q, r, 400, "malformed", NULL, "the request body is not a JSON object");
        goto out;
    }
    if (!period || wm_period_parse(period, &p) != WM_OK) {
        web_error(q, r, 400, "invalid", "period", PERIOD_HELP, period ? period : "");
        goto out;
    }
    req.op_case = WM__CTL_REQUEST__OP_PUBLISH;
    req.publish = (char *)period;
    if (web_call(q, r, &req, &rep))
        goto out;
    if (rep->error && rep->error[0]) {
        web_log(q, "publish %s refused: %s", period, rep->message);
        web_error(q, r, 409, rep->error, NULL, "the daemon could not do it: %s", rep->message);
    } else {
        web_log(q, "published %s as %" PRIu32 "/%" PRIu64, period, rep->epoch, rep->seq);
        web_json(r, 201, json_pack("{s:s, s:I, s:I}", "period", period, "epoch",
                                   (json_int_t)rep->epoch, "seq", (json_int_t)rep->seq));
    }
out:
    wm_pb_free(&rep);
    json_decref(j);
}

/* ---- audit: wmctl audit, run as a child process -------------------------
 * The audit (FETCH through the daemon, a scratch store, every signature
 * and chain checked, a recount) lives in wmctl (cli/cmd_audit.c) and is
 * run as it is, in the C locale so its lines can be read back: a line per
 * differing figure ("DIFFERS"), per failure ("FAILED"), per note ("NOTE"),
 * and the summary "N station record(s) verified and recounted: S
 * figure(s) confirmed, D differ". Its exit status is the verdict. */

#define AUDIT_OUT_MAX (256 * 1024) /* the most of wmctl's output kept */

/* The wmctl beside this wmweb: $WMWEB_WMCTL, EXE/../bin/wmctl (installed),
 * EXE/../cli/wmctl (the build tree), else "wmctl" from PATH. */
static void find_wmctl(char *out, size_t cap)
{
    const char *env = getenv("WMWEB_WMCTL");
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (env && env[0]) {
        snprintf(out, cap, "%s", env);
        return;
    }
    if (n > 0) {
        exe[n] = 0;
        char *slash = strrchr(exe, '/');
        if (slash)
            *slash = 0;
        const char *rel[] = {"/../bin/wmctl", "/../cli/wmctl"};
        for (size_t i = 0; i < 2; i++) {
            snprintf(out, cap, "%s%s", exe, rel[i]);
            if (access(out, X_OK) == 0)
                return;
        }
    }
    snprintf(out, cap, "wmctl");
}

/* Runs wmctl audit for town and period; its output (stdout and stderr)
 * into *buf, its exit status into *status (-1: it could not run). */
static void run_audit(web_req_t *q, const char *town, const char *period, char **buf,
                      size_t *len, int *status)
{
    char wmctl[PATH_MAX];
    int fds[2];
    find_wmctl(wmctl, sizeof wmctl);
    *buf = NULL, *len = 0, *status = -1;
    if (pipe2(fds, O_CLOEXEC) != 0)
        return;
    pid_t pid = fork();
    if (pid == 0) {
        dup2(fds[1], 1);
        dup2(fds[1], 2);
        setenv("LC_ALL", "C", 1);
        setenv("LANGUAGE", "C", 1);
        execlp(wmctl, wmctl, "-c", q->w->cfg.path, "audit", "--town", town, "--period", period,
               (char *)NULL);
        _exit(127);
    }
    close(fds[1]);
    FILE *f = pid > 0 ? open_memstream(buf, len) : NULL;
    char chunk[4096];
    ssize_t n;
    while (f && (n = read(fds[0], chunk, sizeof chunk)) > 0)
        if (*len + (size_t)n <= AUDIT_OUT_MAX)
            fwrite(chunk, 1, (size_t)n, f);
    close(fds[0]);
    if (f)
        fclose(f);
    int ws = 0;
    if (pid > 0 && waitpid(pid, &ws, 0) == pid && WIFEXITED(ws))
        *status = WEXITSTATUS(ws);
}

/* Every number under j as a figure {path, report, records, ok: true},
 * path as wmctl audit names it (PREFIX.key.key), unless differ holds it. */
static void add_figures(json_t *figs, const json_t *differ, const char *prefix, json_t *j)
{
    const char *k;
    json_t *v;
    json_object_foreach(j, k, v)
    {
        char path[512];
        snprintf(path, sizeof path, "%s.%s", prefix, k);
        if (json_is_object(v)) {
            add_figures(figs, differ, path, v);
            continue;
        }
        if (!json_is_number(v) || json_object_get(differ, path))
            continue;
        json_array_append_new(figs, json_pack("{s:s, s:f, s:f, s:b}", "path", path, "report",
                                              json_number_value(v), "records",
                                              json_number_value(v), "ok", 1));
    }
}

/* The figures wmctl audit confirmed: every figure of the town's published
 * report (as this node holds it) that no DIFFERS line names, after those
 * that differ. Only when the audit recounted at all and nothing failed. */
static void confirmed_figures(web_req_t *q, const char *town, const wm_period_t *p, json_t *v)
{
    json_t *figs = json_object_get(v, "figures"), *differ = json_object(), *rep = NULL, *row;
    wm_store_t *s = NULL;
    wm_txn_t *t = NULL;
    wm_head_t at;
    web_resp_t dummy = {.fd = -1};
    size_t i;
    json_array_foreach(figs, i, row)
        json_object_set(differ, json_string_value(json_object_get(row, "path")), json_true());
    if (json_array_size(json_object_get(v, "failures")) == 0 &&
        json_integer_value(json_object_get(v, "records")) > 0 && web_store_get(q, &dummy, &s) == 0 &&
        s && wm_txn_begin(s, 0, &t) == WM_OK && wm_report_find_full(t, town, p, &rep, &at) == WM_OK) {
        add_figures(figs, differ, "totals", json_object_get(rep, "totals"));
        json_array_foreach(json_object_get(rep, "stations"), i, row)
        {
            const char *id = json_string_value(json_object_get(row, "id"));
            if (id)
                add_figures(figs, differ, id, json_object_get(row, "totals"));
        }
    }
    wm_txn_abort(&t);
    free(dummy.body);
    json_decref(rep);
    json_decref(differ);
}

/* wmctl audit's lines as the verdict object of docs/openapi.json. */
static json_t *audit_verdict(const char *town, const char *period, char *out, int status)
{
    json_t *figs = json_array(), *fails = json_array(), *notes = json_array();
    unsigned long long records = 0;
    int same = 0, diffs = 0, summary = 0;
    for (char *save = NULL, *l = strtok_r(out, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
        char path[256];
        double rv = 0, cv = 0;
        l += strspn(l, " ");
        if (sscanf(l, "DIFFERS %255s report %lf, records %lf", path, &rv, &cv) == 3)
            json_array_append_new(figs, json_pack("{s:s, s:f, s:f, s:b}", "path", path,
                                                  "report", rv, "records", cv, "ok", 0));
        else if (strncmp(l, "DIFFERS ", 8) == 0)
            json_array_append_new(figs, json_pack("{s:s, s:b, s:s}", "path", l + 8, "ok", 0,
                                                  "note", l));
        else if (strncmp(l, "FAILED ", 7) == 0)
            json_array_append_new(fails, json_string(l + 7));
        else if (strncmp(l, "NOTE ", 5) == 0)
            json_array_append_new(notes, json_string(l + 5));
        else if (sscanf(l, "%llu station record(s) verified and recounted: %d figure(s) "
                           "confirmed, %d differ", &records, &same, &diffs) == 3)
            summary = 1;
    }
    int ok = status == 0 && summary && diffs == 0 && json_array_size(fails) == 0;
    return json_pack("{s:s, s:s, s:b, s:s, s:I, s:i, s:i, s:o, s:o, s:o}", "town", town,
                     "period", period, "ok", ok, "verdict", ok ? "confirmed" : "failed",
                     "records", (json_int_t)records, "confirmed", same, "differing", diffs,
                     "figures", figs, "failures", fails, "notes", notes);
}

void web_audit(web_req_t *q, web_resp_t *r, const char *tail)
{
    (void)tail;
    json_t *j = q->body ? json_loadb(q->body, q->len, 0, NULL) : NULL;
    const char *town = json_string_value(json_object_get(j, "town"));
    const char *period = json_string_value(json_object_get(j, "period"));
    wm_period_t p;
    char *out = NULL;
    size_t len = 0;
    int status = -1;
    if (!json_is_object(j)) {
        web_error(q, r, 400, "malformed", NULL, "the request body is not a JSON object");
        goto done;
    }
    if (!town || wm_validate_id(town) != WM_OK) {
        web_error(q, r, 400, "invalid", "town", "town is required");
        goto done;
    }
    if (!period || wm_period_parse(period, &p) != WM_OK) {
        web_error(q, r, 400, "invalid", "period", PERIOD_HELP, period ? period : "");
        goto done;
    }
    web_log(q, "audit of %s's rollup of %s", town, period);
    run_audit(q, town, period, &out, &len, &status);
    if (status < 0 || status == 127) {
        web_error(q, r, 500, "internal", NULL, "the daemon could not do it: %s",
                  "wmctl audit could not run");
    } else if (status == 2) { /* rejected input: wmctl named it */
        web_error(q, r, 400, "invalid", NULL, "the daemon could not do it: %s", out ? out : "");
    } else if (out && strstr(out, "is not running")) {
        web_failed_call(q, r, WM_EDOWN, 0);
    } else {
        json_t *text = json_string(out ? out : ""); /* before the lines are cut up */
        json_t *v = audit_verdict(town, period, out ? out : (char *)"", status);
        json_object_set_new(v, "text", text ? text : json_string(""));
        confirmed_figures(q, town, &p, v);
        web_json(r, 200, v);
    }
done:
    free(out);
    json_decref(j);
}
