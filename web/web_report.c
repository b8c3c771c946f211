/* SPDX-License-Identifier: MIT */
/*
 * web_report — the figures: GET /api/v1/rollup (JSON, CSV or xlsx, the
 * renderers of wmctl rollup), GET /api/v1/report (the prose of wmctl
 * report), and at aggregators GET /api/v1/children (each child's sync
 * state, as in status), POST /api/v1/publish (through the daemon, as
 * wmctl publish) and POST /api/v1/audit.
 */
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "render.h"
#include "wm_date.h"
#include "web.h"
#include "wm_rollupq.h"
#include "wm_status.h"

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

void web_audit(web_req_t *q, web_resp_t *r, const char *tail)
{
    (void)tail;
    web_error(q, r, 501, "not_yet", NULL, "not yet");
}
