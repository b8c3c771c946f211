/* SPDX-License-Identifier: MIT */
/*
 * wmweb — the node's web console: shared pieces of its files.
 *
 *   wmweb.c        start-up: options, the configuration, libmicrohttpd
 *   web_http.c     each request: routing, bodies and their limits, the
 *                  security headers every answer carries, the access log
 *   web_session.c  sessions (random tokens, CSRF tokens) and login throttling
 *   web_static.c   the console's files from the asset directory
 *   web_api.c      the JSON API: login, status, records, void, users
 *   web_report.c   rollup (JSON, CSV, xlsx), report, children, publish, audit
 *   web_evid.c     activity photos and sign-in sheets: uploads (normalised
 *                  by client/photo.c, the code wmctl uses, then put to the
 *                  daemon in chunks) and the files shown on the pages
 *   web_msg.c      every message the API says to people, in Chinese and
 *                  English, chosen per request (never from the process
 *                  locale)
 *
 * wmweb is a client of the node like wmctl: writes go through the
 * daemon's control socket, reads use the LMDB environment read-only. It
 * never opens the node's keys. Threads: libmicrohttpd's pool runs the
 * handlers; web_t is shared (its mutable parts behind its mutexes), a
 * web_req_t belongs to one request.
 */
#ifndef WEB_H
#define WEB_H

#include <jansson.h>
#include <microhttpd.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "control.pb-c.h"
#include "wm_config.h"
#include "wm_net.h"
#include "wm_store.h"
#include "wm_users.h"

#define WEB_BODY_MAX (64 * 1024)   /* the largest request body: a record is < 64 KiB */
#define WEB_PAGE_SIZE 50           /* records per page of GET /api/v1/records */
#define WEB_SESSIONS_MAX 1024      /* open sessions; the oldest goes first beyond */
#define WEB_TOKEN_HEX 64           /* session and CSRF tokens: 32 random bytes, hex */
#define WEB_COOKIE "wmweb_session"
/* The largest upload (POST /api/v1/attachments): a phone's original photo
 * is 3-5 MB (a HEIF less, a 50-MP one more); wmweb holds one request's
 * body in memory, so this bounds what a request may make it hold. */
#define WEB_UPLOAD_MAX (32u << 20)
/* The bytes the bodies of all uploads in flight may hold together (three
 * of the largest at once); beyond, an upload is answered 503 busy with
 * Retry-After, its body not kept. With [web]'s one-photo-at-a-time
 * normalisation this keeps wmweb inside its unit's MemoryMax. */
#define WEB_UPLOADS_MEM (96u << 20)
#define WEB_BUSY_RETRY_S "5"
/* Files a session uploaded and may name in its next records (9 photos
 * and a sign-in sheet, twice); the oldest is forgotten beyond. */
#define WEB_UPLOADS_MAX 20

/* A file uploaded in a session: what the record naming it will carry. */
typedef struct {
    uint8_t hash[32];
    uint64_t size;
    const char *media_type; /* static */
    int64_t taken_at;       /* unix seconds UTC, 0: undated */
    uint64_t dhash;
} web_upload_t;

typedef struct web_sessions web_sessions_t;

typedef struct {
    wm_config_t cfg;
    char assets[4096];         /* the asset directory, resolved */
    int tls;                   /* served over HTTPS: cookies are Secure */
    wm_net_t *net;             /* one ZeroMQ context for control calls */
    web_sessions_t *sessions;
    pthread_mutex_t mu;        /* guards store and users */
    wm_store_t *store;         /* opened on first need, read-only */
    wm_users_t users;          /* reloaded when the file changes */
    pthread_mutex_t hash_mu;   /* one password hash at a time (64 MiB each) */
    pthread_mutex_t photo_mu;  /* one photo normalised at a time (libvips' memory) */
    pthread_mutex_t up_mu;     /* guards up_bytes */
    size_t up_bytes;           /* held by the bodies of uploads in flight */
} web_t;

/* A session as a request sees it (a copy). */
typedef struct {
    char token[WEB_TOKEN_HEX + 1];
    char csrf[WEB_TOKEN_HEX + 1];
    char user[WM_USER_NAME_MAX + 1];
    wm_user_role_t role;
    char lang[4]; /* "zh", "en" or "" (from the request) */
} web_session_t;

typedef struct {
    web_t *w;
    struct MHD_Connection *conn;
    const char *method, *url;
    char *body; /* NUL-terminated */
    size_t len, cap;
    size_t body_max; /* WEB_BODY_MAX, or the route's (uploads) */
    int raw;         /* an upload: its body is a file */
    int held_back;   /* an upload refused before its body was read (no session, no
                      * CSRF token, a role below the route's): the body is dropped */
    int busy;        /* an upload beyond WEB_UPLOADS_MEM: dropped, answered 503 */
    size_t up_counted; /* bytes of w->up_bytes this request holds */
    int too_big;
    int has_session;
    web_session_t s;
    const char *lang; /* "zh" or "en": session, else Accept-Language, else zh */
    char addr[64];    /* the client's address, for throttling and the log */
} web_req_t;

/* An answer. body is malloc'd (or NULL); headers are extra "Name: value"
 * pairs, static or in hdr_buf. */
typedef struct {
    unsigned status;
    char *body;
    size_t len;
    const char *ctype;
    char cookie[256];      /* Set-Cookie, "" for none */
    char disposition[256]; /* Content-Disposition, "" for none */
    char retry_after[16];  /* Retry-After, "" for none */
    int pruned;            /* a pruned photo's thumbnail: X-WM-Pruned: 1 */
    int fd;                /* a file to send instead of body (static files), -1 for none */
    uint64_t fd_size;
} web_resp_t;

/* ---- web_http.c ---- */
/* libmicrohttpd's access handler. */
enum MHD_Result web_handle(void *cls, struct MHD_Connection *conn, const char *url,
                           const char *method, const char *version, const char *upload,
                           size_t *upload_size, void **con_cls);
void web_request_done(void *cls, struct MHD_Connection *conn, void **con_cls,
                      enum MHD_RequestTerminationCode toe);
/* j (stolen) as the body of a JSON answer. */
void web_json(web_resp_t *r, unsigned status, json_t *j);
/* The error answer {"error": message in the request's language, "code":
 * code, "field": field (omitted when NULL)}; msgid is an English message
 * or format of web_msg.c's table, args as printf's. */
void web_error(web_req_t *q, web_resp_t *r, unsigned status, const char *code,
               const char *field, const char *msgid, ...);
/* The query parameter name, or NULL. */
const char *web_arg(web_req_t *q, const char *name);
/* One line to stderr (the journal): time, address, account, what. */
void web_log(web_req_t *q, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ---- web_session.c ---- */
WM_MUST_CHECK wm_err_t web_sessions_new(web_sessions_t **out, unsigned idle_min);
void web_sessions_free(web_sessions_t **s);
/* A new session for user (its tokens in *out). */
WM_MUST_CHECK wm_err_t web_session_open(web_sessions_t *s, const char *user, wm_user_role_t role,
                                        const char *lang, web_session_t *out);
/* The live session of token (refreshing its idle time) into *out: 1, or
 * 0 if there is none. */
int web_session_get(web_sessions_t *s, const char *token, web_session_t *out);
void web_session_close(web_sessions_t *s, const char *token);
/* Sets a session's language. */
void web_session_lang(web_sessions_t *s, const char *token, const char *lang);
/* Notes a file the session of token uploaded (the oldest of
 * WEB_UPLOADS_MAX is forgotten). */
void web_session_upload_add(web_sessions_t *s, const char *token, const web_upload_t *u);
/* The file of hash this session uploaded into *out: 1, or 0 if it did
 * not (a record may name only files its own session uploaded: their
 * capture time and dHash are what wmweb read from them). */
int web_session_upload_get(web_sessions_t *s, const char *token, const uint8_t hash[static 32],
                           web_upload_t *out);
/* Drops every session of user (deleted or re-passworded). */
void web_sessions_drop_user(web_sessions_t *s, const char *user);
size_t web_sessions_count(web_sessions_t *s);
/* Login throttling. How many seconds logins for user from addr must
 * wait (0: may try now). */
unsigned web_throttle_wait(web_sessions_t *s, const char *user, const char *addr);
/* Counts a failed login (ok 0) or clears the account's count (ok 1). */
void web_throttle_note(web_sessions_t *s, const char *user, const char *addr, int ok);

/* ---- web_static.c ---- */
/* Serves GET path from the asset directory (404 if absent, 400 for a path
 * that is not a plain relative path). */
void web_static(web_req_t *q, web_resp_t *r, const char *path);

/* ---- web_api.c, web_report.c ---- */
typedef void (*web_api_fn)(web_req_t *q, web_resp_t *r, const char *tail);
typedef struct {
    const char *method;
    const char *path;       /* "/api/v1/records"; a trailing '*' takes the rest */
    web_api_fn fn;
    int needs_session;      /* 0 only for login */
    wm_user_role_t role;    /* the least role allowed */
    int aggregator;         /* only on towns and counties */
} web_route_t;
/* The routes, for web_http.c; *n is set to their number. */
const web_route_t *web_routes(size_t *n);
/* The store, opened read-only on first use, into *out (NULL: the node
 * has no data yet). Nonzero if it cannot be read: r is answered then. */
int web_store_get(web_req_t *q, web_resp_t *r, wm_store_t **out);
/* A control call; on failure answers r (503 daemon down, 500) and
 * returns nonzero. */
int web_call(web_req_t *q, web_resp_t *r, Wm__CtlRequest *req, Wm__CtlReply **rep);
/* Answers r for a control call that failed with err (lost: the daemon
 * vanished with the request in flight). */
void web_failed_call(web_req_t *q, web_resp_t *r, wm_err_t err, int lost);

void web_rollup(web_req_t *q, web_resp_t *r, const char *tail);
void web_report(web_req_t *q, web_resp_t *r, const char *tail);
void web_children(web_req_t *q, web_resp_t *r, const char *tail);
void web_publish(web_req_t *q, web_resp_t *r, const char *tail);
void web_audit(web_req_t *q, web_resp_t *r, const char *tail);

/* ---- web_evid.c ---- */
/* The body limit of a request for method and url (known before its body
 * is read): WEB_BODY_MAX for a JSON body, or an upload's, whose body is
 * the file (any type) — then *raw, if not NULL, is set. */
size_t web_body_max(const char *method, const char *url, int *raw);
void web_upload(web_req_t *q, web_resp_t *r, const char *tail);
void web_blob(web_req_t *q, web_resp_t *r, const char *tail);
/* The attachments a new record's JSON body names ("photo": [hash, …],
 * "attach": hash), removed from j, into a[0..*n) (a the caller's, of
 * WM_PHOTOS_MAX + WM_SHEETS_MAX; hashes in h). Nonzero: answered 400. */
int web_attachments(web_req_t *q, web_resp_t *r, json_t *j, Wm__Attachment *a,
                    uint8_t (*h)[32], size_t *n);

/* ---- web_msg.c ---- */
/* The text of English message `en` (as formatted, e.g. a daemon's
 * rejection) in lang: the table's translation with the same values, or
 * en itself when the table has none. Writes into out (cap bytes). Also
 * gives the HTTP status the table attaches (409 for conflicts), else 0. */
unsigned web_msg(const char *lang, const char *en, char *out, size_t cap);
/* A field's label in lang ("date" → "日期"). */
const char *web_field_label(const char *lang, const char *field);

#endif
