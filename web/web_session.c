/* SPDX-License-Identifier: MIT */
/*
 * web_session — wmweb's sessions and login throttling, in memory (a
 * restart logs everyone out).
 *
 * A session is named by 32 random bytes (the cookie, HttpOnly and
 * SameSite=Strict) and carries its own 32 random bytes of CSRF token,
 * which every state-changing request sends back in X-CSRF-Token. Tokens
 * are compared in constant time. A session ends at logout, after
 * [web] session_minutes without use, or when its account is deleted or
 * given a new password.
 *
 * Throttling: each failed login counts against the account name and the
 * client's address. After THROTTLE_FREE failures for an account (or
 * THROTTLE_FREE_ADDR from an address) within THROTTLE_WINDOW_S, every
 * further login for it waits THROTTLE_BASE_S, doubling with each further
 * failure up to THROTTLE_MAX_S; a success clears the account's count.
 * A login that must wait is refused before any password is hashed.
 *
 * Thread-safe: one mutex over both tables.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "web.h"
#include "wm_crypto.h"

#define THROTTLE_FREE 5        /* failures per account before it waits */
#define THROTTLE_FREE_ADDR 20  /* failures per address before it waits */
#define THROTTLE_WINDOW_S 900  /* failures older than this are forgotten */
#define THROTTLE_BASE_S 30     /* the first wait; doubles per failure */
#define THROTTLE_MAX_S 900     /* the longest wait */
#define THROTTLE_SLOTS 4096    /* counters kept; the stalest is reused */

typedef struct {
    web_session_t s;
    time_t last_used;
    int used;
    web_upload_t up[WEB_UPLOADS_MAX]; /* a ring: the next goes at nup % max */
    size_t nup;
} slot_t;

typedef struct {
    char key[WM_USER_NAME_MAX + 72]; /* "u:NAME" or "a:ADDRESS" */
    unsigned fails;
    time_t first, last;
} counter_t;

struct web_sessions {
    pthread_mutex_t mu;
    unsigned idle_s;
    slot_t *v;           /* WEB_SESSIONS_MAX */
    counter_t *c;        /* THROTTLE_SLOTS */
};

static void new_token(char out[static WEB_TOKEN_HEX + 1])
{
    uint8_t b[WEB_TOKEN_HEX / 2];
    wm_random(b, sizeof b);
    wm_hex(b, sizeof b, out);
}

wm_err_t web_sessions_new(web_sessions_t **out, unsigned idle_min)
{
    web_sessions_t *s = calloc(1, sizeof *s);
    if (s) {
        s->v = calloc(WEB_SESSIONS_MAX, sizeof *s->v);
        s->c = calloc(THROTTLE_SLOTS, sizeof *s->c);
    }
    if (!s || !s->v || !s->c) {
        web_sessions_free(&s);
        return WM_ENOMEM;
    }
    pthread_mutex_init(&s->mu, NULL);
    s->idle_s = idle_min * 60;
    *out = s;
    return WM_OK;
}

void web_sessions_free(web_sessions_t **s)
{
    if (!*s)
        return;
    if ((*s)->v)
        memset((*s)->v, 0, WEB_SESSIONS_MAX * sizeof *(*s)->v);
    free((*s)->v);
    free((*s)->c);
    free(*s);
    *s = NULL;
}

/* The slot of token, or NULL; expired slots are freed on the way. */
static slot_t *find(web_sessions_t *s, const char *token, time_t now)
{
    if (strlen(token) != WEB_TOKEN_HEX)
        return NULL;
    slot_t *hit = NULL;
    for (size_t i = 0; i < WEB_SESSIONS_MAX; i++) {
        slot_t *x = &s->v[i];
        if (!x->used)
            continue;
        if (now - x->last_used > (time_t)s->idle_s) {
            memset(x, 0, sizeof *x);
            continue;
        }
        if (wm_ct_equal((const uint8_t *)x->s.token, (const uint8_t *)token, WEB_TOKEN_HEX))
            hit = x;
    }
    return hit;
}

wm_err_t web_session_open(web_sessions_t *s, const char *user, wm_user_role_t role,
                          const char *lang, web_session_t *out)
{
    time_t now = time(NULL);
    pthread_mutex_lock(&s->mu);
    slot_t *x = NULL;
    for (size_t i = 0; i < WEB_SESSIONS_MAX; i++) {
        slot_t *y = &s->v[i];
        if (!y->used || now - y->last_used > (time_t)s->idle_s) {
            x = y;
            break;
        }
        if (!x || y->last_used < x->last_used)
            x = y; /* all in use: the least recently used goes */
    }
    memset(x, 0, sizeof *x);
    new_token(x->s.token);
    new_token(x->s.csrf);
    snprintf(x->s.user, sizeof x->s.user, "%s", user);
    snprintf(x->s.lang, sizeof x->s.lang, "%s", lang ? lang : "");
    x->s.role = role;
    x->last_used = now;
    x->used = 1;
    *out = x->s;
    pthread_mutex_unlock(&s->mu);
    return WM_OK;
}

int web_session_get(web_sessions_t *s, const char *token, web_session_t *out)
{
    time_t now = time(NULL);
    pthread_mutex_lock(&s->mu);
    slot_t *x = find(s, token, now);
    if (x) {
        x->last_used = now;
        *out = x->s;
    }
    pthread_mutex_unlock(&s->mu);
    return x != NULL;
}

void web_session_upload_add(web_sessions_t *s, const char *token, const web_upload_t *u)
{
    pthread_mutex_lock(&s->mu);
    slot_t *x = find(s, token, time(NULL));
    if (x)
        x->up[x->nup++ % WEB_UPLOADS_MAX] = *u;
    pthread_mutex_unlock(&s->mu);
}

int web_session_upload_get(web_sessions_t *s, const char *token, const uint8_t hash[static 32],
                           web_upload_t *out)
{
    int found = 0;
    pthread_mutex_lock(&s->mu);
    slot_t *x = find(s, token, time(NULL));
    size_t n = x ? (x->nup < WEB_UPLOADS_MAX ? x->nup : WEB_UPLOADS_MAX) : 0;
    for (size_t i = 0; i < n && !found; i++)
        if (memcmp(x->up[i].hash, hash, 32) == 0)
            *out = x->up[i], found = 1;
    pthread_mutex_unlock(&s->mu);
    return found;
}

void web_session_close(web_sessions_t *s, const char *token)
{
    pthread_mutex_lock(&s->mu);
    slot_t *x = find(s, token, time(NULL));
    if (x)
        memset(x, 0, sizeof *x);
    pthread_mutex_unlock(&s->mu);
}

void web_session_lang(web_sessions_t *s, const char *token, const char *lang)
{
    pthread_mutex_lock(&s->mu);
    slot_t *x = find(s, token, time(NULL));
    if (x)
        snprintf(x->s.lang, sizeof x->s.lang, "%s", lang);
    pthread_mutex_unlock(&s->mu);
}

void web_sessions_drop_user(web_sessions_t *s, const char *user)
{
    pthread_mutex_lock(&s->mu);
    for (size_t i = 0; i < WEB_SESSIONS_MAX; i++)
        if (s->v[i].used && strcmp(s->v[i].s.user, user) == 0)
            memset(&s->v[i], 0, sizeof s->v[i]);
    pthread_mutex_unlock(&s->mu);
}

size_t web_sessions_count(web_sessions_t *s)
{
    size_t n = 0;
    time_t now = time(NULL);
    pthread_mutex_lock(&s->mu);
    for (size_t i = 0; i < WEB_SESSIONS_MAX; i++)
        n += s->v[i].used && now - s->v[i].last_used <= (time_t)s->idle_s;
    pthread_mutex_unlock(&s->mu);
    return n;
}

/* The counter of key (created if create), or NULL. */
static counter_t *counter(web_sessions_t *s, const char *key, time_t now, int create)
{
    counter_t *stale = NULL;
    for (size_t i = 0; i < THROTTLE_SLOTS; i++) {
        counter_t *c = &s->c[i];
        if (c->key[0] && now - c->last > THROTTLE_WINDOW_S + THROTTLE_MAX_S)
            memset(c, 0, sizeof *c);
        if (c->key[0] && strcmp(c->key, key) == 0)
            return c;
        if (!stale || !c->key[0] || (stale->key[0] && c->last < stale->last))
            stale = c;
    }
    if (!create)
        return NULL;
    memset(stale, 0, sizeof *stale);
    snprintf(stale->key, sizeof stale->key, "%s", key);
    stale->first = now;
    return stale;
}

/* Seconds c must still wait, given the failures it may have for free. */
static unsigned wait_of(const counter_t *c, unsigned free_fails, time_t now)
{
    if (!c || c->fails < free_fails)
        return 0;
    unsigned shift = c->fails - free_fails, wait = THROTTLE_BASE_S;
    while (shift-- && wait < THROTTLE_MAX_S)
        wait *= 2;
    if (wait > THROTTLE_MAX_S)
        wait = THROTTLE_MAX_S;
    time_t until = c->last + wait;
    return until > now ? (unsigned)(until - now) : 0;
}

unsigned web_throttle_wait(web_sessions_t *s, const char *user, const char *addr)
{
    char ku[sizeof ((counter_t *)0)->key], ka[sizeof ku];
    time_t now = time(NULL);
    snprintf(ku, sizeof ku, "u:%s", user);
    snprintf(ka, sizeof ka, "a:%s", addr);
    pthread_mutex_lock(&s->mu);
    unsigned a = wait_of(counter(s, ku, now, 0), THROTTLE_FREE, now);
    unsigned b = wait_of(counter(s, ka, now, 0), THROTTLE_FREE_ADDR, now);
    pthread_mutex_unlock(&s->mu);
    return a > b ? a : b;
}

void web_throttle_note(web_sessions_t *s, const char *user, const char *addr, int ok)
{
    char ku[sizeof ((counter_t *)0)->key], ka[sizeof ku];
    time_t now = time(NULL);
    snprintf(ku, sizeof ku, "u:%s", user);
    snprintf(ka, sizeof ka, "a:%s", addr);
    pthread_mutex_lock(&s->mu);
    if (ok) {
        counter_t *c = counter(s, ku, now, 0);
        if (c)
            memset(c, 0, sizeof *c);
    } else {
        const char *keys[2] = {ku, ka};
        for (int i = 0; i < 2; i++) {
            counter_t *c = counter(s, keys[i], now, 1);
            if (now - c->first > THROTTLE_WINDOW_S)
                c->fails = 0, c->first = now;
            c->fails++;
            c->last = now;
        }
    }
    pthread_mutex_unlock(&s->mu);
}
