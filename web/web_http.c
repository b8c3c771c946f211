/* SPDX-License-Identifier: MIT */
/*
 * web_http — one HTTP request of wmweb, from libmicrohttpd to an answer:
 * the body (at most WEB_BODY_MAX bytes), the session, the language, the
 * checks every API request passes in this order, and the headers every
 * answer carries.
 *
 *   /api/… no such route ─────────────────────────▶ 404 (405: wrong method)
 *   route needs a session, none (or expired) ─────▶ 401 login_required
 *   POST/DELETE with a session: X-CSRF-Token ≠ the session's ─▶ 403 csrf
 *   Origin header naming another host ────────────▶ 403 csrf
 *   body larger than WEB_BODY_MAX (an upload's: its route's) ▶ 413 too_big
 *   (an upload is judged on its headers before its body is read: without a
 *   session, the CSRF token or the role its body is dropped, and refused
 *   as above; beyond WEB_UPLOADS_MEM of uploads in flight: 503 busy)
 *   POST not application/json, or not a JSON object ─▶ 415 / 400 malformed
 *                                 (uploads: any type; web_evid.c checks it)
 *   the account's role below the route's ─────────▶ 403 forbidden
 *   the route is for aggregators, this is a station ─▶ 404 not_here
 *   then the handler: 200/201, 400 with "field", 404, 409, 503 …
 *
 * Anything else is a static file (GET or HEAD only; web_static.c).
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "web.h"
#include "wm_crypto.h"

/* Scripts only from this origin, no inline script or style, no framing. */
#define WEB_CSP                                                                               \
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "         \
    "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; "               \
    "form-action 'self'; frame-ancestors 'none'"

void web_log(web_req_t *q, const char *fmt, ...)
{
    char when[32], line[1024];
    time_t now = time(NULL);
    struct tm tm;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    gmtime_r(&now, &tm);
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
    fprintf(stderr, "wmweb: %s %s %s: %s\n", when, q->addr,
            q->has_session ? q->s.user : "-", line);
}

void web_json(web_resp_t *r, unsigned status, json_t *j)
{
    r->status = status;
    r->ctype = "application/json; charset=utf-8";
    r->body = j ? json_dumps(j, JSON_COMPACT) : NULL;
    r->len = r->body ? strlen(r->body) : 0;
    if (j && !r->body) {
        r->status = 500;
        r->body = strdup("{\"error\":\"out of memory\",\"code\":\"internal\"}");
        r->len = r->body ? strlen(r->body) : 0;
    }
    json_decref(j);
}

void web_error(web_req_t *q, web_resp_t *r, unsigned status, const char *code,
               const char *field, const char *msgid, ...)
{
    char en[1024], text[1536];
    va_list ap;
    va_start(ap, msgid);
    vsnprintf(en, sizeof en, msgid, ap);
    va_end(ap);
    web_msg(q->lang, en, text, sizeof text);
    json_t *j = json_pack("{s:s, s:s}", "error", text, "code", code);
    if (j && field)
        json_object_set_new(j, "field", json_string(field));
    web_json(r, status, j);
}

const char *web_arg(web_req_t *q, const char *name)
{
    return MHD_lookup_connection_value(q->conn, MHD_GET_ARGUMENT_KIND, name);
}

/* "zh" or "en" from Accept-Language: the one with the higher q, zh when
 * neither is named. */
static const char *accept_lang(const char *h)
{
    double best_zh = -1, best_en = -1;
    while (h && *h) {
        size_t n = strcspn(h, ",");
        char tag[64];
        snprintf(tag, sizeof tag, "%.*s", (int)(n < sizeof tag - 1 ? n : sizeof tag - 1), h);
        double qv = 1;
        char *semi = strchr(tag, ';');
        if (semi) {
            char *qs = strstr(semi, "q=");
            qv = qs ? atof(qs + 2) : 1;
            *semi = 0;
        }
        char *t = tag + strspn(tag, " \t");
        if (strncasecmp(t, "zh", 2) == 0 && qv > best_zh)
            best_zh = qv;
        if (strncasecmp(t, "en", 2) == 0 && qv > best_en)
            best_en = qv;
        h += n + (h[n] == ',');
    }
    return best_en > best_zh ? "en" : "zh";
}

static void client_addr(struct MHD_Connection *conn, char *out, size_t cap)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    snprintf(out, cap, "?");
    if (!ci || !ci->client_addr)
        return;
    const struct sockaddr *sa = ci->client_addr;
    if (sa->sa_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, out,
                  (socklen_t)cap);
    else if (sa->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, out,
                  (socklen_t)cap);
}

/* The route for method and url: 1 found (*tail: what a '*' took), 0 none
 * at all, -1 the path exists for other methods. */
static int find_route(const char *method, const char *url, const web_route_t **out,
                      const char **tail)
{
    size_t n = 0;
    const web_route_t *rt = web_routes(&n);
    int path_seen = 0;
    for (size_t i = 0; i < n; i++) {
        size_t pl = strlen(rt[i].path);
        int star = rt[i].path[pl - 1] == '*';
        int match = star ? strncmp(url, rt[i].path, pl - 1) == 0 && url[pl - 1]
                         : strcmp(url, rt[i].path) == 0;
        if (!match)
            continue;
        path_seen = 1;
        if (strcmp(method, rt[i].method) == 0) {
            *out = &rt[i];
            *tail = star ? url + pl - 1 : "";
            return 1;
        }
    }
    return path_seen ? -1 : 0;
}

static int is_write(const char *method)
{
    return strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0;
}

/* The Origin header, if any, must name this host (a cross-site form or
 * script). */
static int foreign_origin(web_req_t *q)
{
    const char *origin = MHD_lookup_connection_value(q->conn, MHD_HEADER_KIND, "Origin");
    const char *host = MHD_lookup_connection_value(q->conn, MHD_HEADER_KIND, "Host");
    if (!origin)
        return 0;
    const char *p = strstr(origin, "://");
    return !host || !p || strcmp(p + 3, host) != 0;
}

/* The checks of the table above, before the handler. Nonzero: answered. */
static int gate(web_req_t *q, web_resp_t *r, const web_route_t *rt)
{
    if (rt->needs_session && !q->has_session) {
        web_error(q, r, 401, "login_required", NULL, "please log in");
        return 1;
    }
    if (is_write(q->method)) {
        const char *tok = MHD_lookup_connection_value(q->conn, MHD_HEADER_KIND, "X-CSRF-Token");
        if (foreign_origin(q) ||
            (q->has_session && (!tok || strlen(tok) != WEB_TOKEN_HEX ||
                                !wm_ct_equal((const uint8_t *)tok, (const uint8_t *)q->s.csrf,
                                             WEB_TOKEN_HEX)))) {
            web_log(q, "%s %s refused: no valid CSRF token", q->method, q->url);
            web_error(q, r, 403, "csrf", NULL,
                      "the request lacks this session's X-CSRF-Token; reload the page");
            return 1;
        }
    }
    if (q->busy) {
        snprintf(r->retry_after, sizeof r->retry_after, "%s", WEB_BUSY_RETRY_S);
        web_error(q, r, 503, "busy", NULL, "the console is receiving other files; try again in "
                                           "a few seconds");
        return 1;
    }
    if (q->too_big && !q->held_back) {
        web_error(q, r, 413, "too_big", NULL, "the request body is larger than %d bytes",
                  (int)q->body_max);
        return 1;
    }
    int raw = 0;
    web_body_max(q->method, q->url, &raw);
    if (strcmp(q->method, "POST") == 0 && !raw) {
        const char *ct = MHD_lookup_connection_value(q->conn, MHD_HEADER_KIND, "Content-Type");
        if (!ct || strncasecmp(ct, "application/json", 16) != 0) {
            web_error(q, r, 415, "malformed", NULL, "the request body must be JSON");
            return 1;
        }
    }
    if (rt->needs_session && q->s.role < rt->role) {
        web_error(q, r, 403, "forbidden", NULL, "this account (%s) may not do this",
                  wm_user_role_name(q->s.role));
        return 1;
    }
    if (rt->aggregator && !q->w->cfg.listen[0]) {
        web_error(q, r, 404, "not_here", NULL, "only a town or a county has this");
        return 1;
    }
    return 0;
}

/* Whether an upload's body may be read: its headers carry a live
 * session whose role the route allows and that session's CSRF token (the
 * gate answers the refusal; the body is not kept meanwhile). */
static int upload_admitted(web_req_t *q, const char *method, const char *url)
{
    const web_route_t *rt = NULL;
    const char *tail = "";
    web_session_t s;
    const char *cookie = MHD_lookup_connection_value(q->conn, MHD_COOKIE_KIND, WEB_COOKIE);
    const char *tok = MHD_lookup_connection_value(q->conn, MHD_HEADER_KIND, "X-CSRF-Token");
    int ok = find_route(method, url, &rt, &tail) == 1 && cookie &&
             web_session_get(q->w->sessions, cookie, &s) && s.role >= rt->role && tok &&
             strlen(tok) == WEB_TOKEN_HEX &&
             wm_ct_equal((const uint8_t *)tok, (const uint8_t *)s.csrf, WEB_TOKEN_HEX);
    memset(&s, 0, sizeof s);
    return ok;
}

/* Grows q's body to hold n more bytes; 0 if it may not (too big, or the
 * uploads in flight hold WEB_UPLOADS_MEM: q->busy), -1 out of memory. */
static int body_room(web_req_t *q, size_t n)
{
    if (q->len + n > q->body_max)
        return 0;
    if (q->len + n + 1 <= q->cap)
        return 1;
    size_t cap = q->cap ? q->cap : 4096;
    while (cap < q->len + n + 1)
        cap *= 2; /* doubling: an upload comes in many pieces */
    if (cap > q->body_max + 1)
        cap = q->body_max + 1;
    if (q->raw) {
        web_t *w = q->w;
        pthread_mutex_lock(&w->up_mu);
        int room = w->up_bytes + (cap - q->cap) <= WEB_UPLOADS_MEM;
        if (room)
            w->up_bytes += cap - q->cap, q->up_counted += cap - q->cap;
        pthread_mutex_unlock(&w->up_mu);
        if (!room) {
            q->busy = 1;
            return 0;
        }
    }
    char *nb = realloc(q->body, cap);
    if (!nb)
        return -1;
    q->body = nb, q->cap = cap;
    return 1;
}

static void dispatch(web_req_t *q, web_resp_t *r)
{
    const web_route_t *rt = NULL;
    const char *tail = "";
    int found = find_route(q->method, q->url, &rt, &tail);
    if (found == 0 && strncmp(q->url, "/api/", 5) == 0) {
        web_error(q, r, 404, "not_found", NULL, "no such API path");
        return;
    }
    if (found < 0) {
        web_error(q, r, 405, "method", NULL, "method %s is not allowed here", q->method);
        return;
    }
    if (found == 0) {
        if (strcmp(q->method, "GET") != 0 && strcmp(q->method, "HEAD") != 0)
            web_error(q, r, 405, "method", NULL, "method %s is not allowed here", q->method);
        else
            web_static(q, r, q->url);
        return;
    }
    if (gate(q, r, rt))
        return;
    rt->fn(q, r, tail);
}

static void load_session(web_req_t *q)
{
    const char *tok = MHD_lookup_connection_value(q->conn, MHD_COOKIE_KIND, WEB_COOKIE);
    q->has_session = tok && web_session_get(q->w->sessions, tok, &q->s);
    const char *al = MHD_lookup_connection_value(q->conn, MHD_HEADER_KIND, "Accept-Language");
    q->lang = q->has_session && q->s.lang[0] ? (strcmp(q->s.lang, "en") == 0 ? "en" : "zh")
                                             : accept_lang(al);
}

static struct MHD_Response *make_response(web_req_t *q, web_resp_t *r)
{
    struct MHD_Response *resp;
    if (r->fd >= 0) {
        resp = MHD_create_response_from_fd64(r->fd_size, r->fd);
        r->fd = -1; /* libmicrohttpd closes it */
    } else {
        resp = MHD_create_response_from_buffer(r->len, r->body ? r->body : (char *)"",
                                               r->body ? MHD_RESPMEM_MUST_FREE
                                                       : MHD_RESPMEM_PERSISTENT);
        r->body = NULL;
    }
    if (!resp)
        return NULL;
    MHD_add_response_header(resp, "Content-Security-Policy", WEB_CSP);
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(resp, "X-Frame-Options", "DENY");
    MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
    if (q->w->tls)
        MHD_add_response_header(resp, "Strict-Transport-Security", "max-age=31536000");
    if (strncmp(q->url, "/api/", 5) == 0)
        MHD_add_response_header(resp, "Cache-Control", "no-store");
    if (r->ctype)
        MHD_add_response_header(resp, "Content-Type", r->ctype);
    if (r->cookie[0])
        MHD_add_response_header(resp, "Set-Cookie", r->cookie);
    if (r->disposition[0])
        MHD_add_response_header(resp, "Content-Disposition", r->disposition);
    if (r->pruned)
        MHD_add_response_header(resp, "X-WM-Pruned", "1");
    if (r->retry_after[0])
        MHD_add_response_header(resp, "Retry-After", r->retry_after);
    MHD_add_response_header(resp, "Content-Language", q->lang);
    MHD_add_response_header(resp, "Vary", "Cookie, Accept-Language");
    return resp;
}

enum MHD_Result web_handle(void *cls, struct MHD_Connection *conn, const char *url,
                           const char *method, const char *version, const char *upload,
                           size_t *upload_size, void **con_cls)
{
    (void)version;
    web_req_t *q = *con_cls;
    if (!q) {
        q = calloc(1, sizeof *q);
        if (!q)
            return MHD_NO;
        q->w = cls;
        q->conn = conn;
        q->body_max = web_body_max(method, url, &q->raw);
        if (q->raw && !upload_admitted(q, method, url))
            q->held_back = 1, q->body_max = 0; /* refused anyway: not worth the memory */
        *con_cls = q;
        return MHD_YES;
    }
    if (*upload_size) {
        size_t n = *upload_size;
        int room = q->too_big ? 0 : body_room(q, n);
        if (room < 0)
            return MHD_NO;
        if (room) {
            memcpy(q->body + q->len, upload, n);
            q->len += n;
            q->body[q->len] = 0;
        } else {
            q->too_big = 1; /* the rest is read and dropped */
        }
        *upload_size = 0;
        return MHD_YES;
    }
    q->method = method;
    q->url = url;
    client_addr(conn, q->addr, sizeof q->addr);
    load_session(q);
    web_resp_t r = {.fd = -1};
    dispatch(q, &r);
    struct MHD_Response *resp = make_response(q, &r);
    free(r.body);
    if (r.fd >= 0)
        close(r.fd);
    if (!resp)
        return MHD_NO;
    enum MHD_Result rc = MHD_queue_response(conn, r.status ? r.status : 500, resp);
    MHD_destroy_response(resp);
    return rc;
}

void web_request_done(void *cls, struct MHD_Connection *conn, void **con_cls,
                      enum MHD_RequestTerminationCode toe)
{
    (void)cls, (void)conn, (void)toe;
    web_req_t *q = *con_cls;
    if (!q)
        return;
    if (q->up_counted) {
        pthread_mutex_lock(&q->w->up_mu);
        q->w->up_bytes -= q->up_counted;
        pthread_mutex_unlock(&q->w->up_mu);
    }
    free(q->body);
    memset(q, 0, sizeof *q); /* the session copy holds tokens */
    free(q);
    *con_cls = NULL;
}
