/* SPDX-License-Identifier: MIT */
/* wm_i18n — gettext set-up, per-request language, dates and counts as the
 * reader writes them; see wm_i18n.h. */
#include "wm_i18n.h"

#include <dirent.h>
#include <stdarg.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define LANG_CACHE 4 /* distinct languages wmsyncd keeps a locale for */

static char localedir[PATH_MAX] = WM_LOCALEDIR;
static const char *domain = WM_TEXTDOMAIN; /* set once, before any thread */
static char env_lang[WM_LANG_MAX + 1] = "C";
static struct {
    char name[WM_LANG_MAX + 1];
    locale_t loc;
} cache[LANG_CACHE];

/* Nonzero if dir holds a catalogue of ours: DIR/LANG/LC_MESSAGES/DOMAIN.mo
 * for some LANG. */
static int has_catalogue(const char *dir)
{
    DIR *d = opendir(dir);
    const struct dirent *e;
    int found = 0;
    if (!d)
        return 0;
    while (!found && (e = readdir(d)) != NULL) {
        char mo[PATH_MAX];
        struct stat st;
        if (e->d_name[0] == '.')
            continue;
        if (snprintf(mo, sizeof mo, "%s/%s/LC_MESSAGES/%s.mo", dir, e->d_name, domain) <
                (int)sizeof mo &&
            stat(mo, &st) == 0 && S_ISREG(st.st_mode))
            found = 1;
    }
    closedir(d);
    return found;
}

/* The first of the places wm_i18n.h names that holds catalogues. */
static void find_localedir(void)
{
    const char *env = getenv(WM_LOCALEDIR_ENV);
    char exe[PATH_MAX], cand[PATH_MAX];
    if (env && env[0]) {
        snprintf(localedir, sizeof localedir, "%s", env);
        return;
    }
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0)
        return;
    exe[n] = 0;
    char *slash = strrchr(exe, '/');
    if (!slash)
        return;
    *slash = 0;
    static const char *const rel[] = {"/../share/locale", "/../locale"};
    for (size_t i = 0; i < sizeof rel / sizeof rel[0]; i++) {
        if (snprintf(cand, sizeof cand, "%s%s", exe, rel[i]) >= (int)sizeof cand)
            continue;
        if (has_catalogue(cand)) {
            snprintf(localedir, sizeof localedir, "%s", cand);
            return;
        }
    }
}

/* The language the environment asks for, as setlocale(LC_MESSAGES, "")
 * would take it. */
static void note_env_lang(void)
{
    static const char *const vars[] = {"LC_ALL", "LC_MESSAGES", "LANG"};
    for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++) {
        const char *v = getenv(vars[i]);
        if (v && v[0]) {
            snprintf(env_lang, sizeof env_lang, "%s", v);
            return;
        }
    }
}

void wm_i18n_init(const char *dom, int global)
{
    domain = dom;
    note_env_lang();
    if (global) {
        setlocale(LC_CTYPE, "");
        setlocale(LC_MESSAGES, "");
    } else {
        /* Kept for the life of the process, in a static so that it stays
         * reachable (LeakSanitizer counts an unreferenced one as a leak). */
        static locale_t kept = (locale_t)0;
        if (kept == (locale_t)0)
            kept = newlocale(LC_CTYPE_MASK | LC_MESSAGES_MASK, "", (locale_t)0);
        if (kept != (locale_t)0)
            uselocale(kept);
    }
    find_localedir();
    bindtextdomain(domain, localedir);
    bind_textdomain_codeset(domain, "UTF-8");
}

const char *wm_i18n_domain(void)
{
    return domain;
}

const char *wm_i18n_localedir(void)
{
    return localedir;
}

const char *wm_i18n_lang(void)
{
    return env_lang;
}

static int lang_ok(const char *lang)
{
    size_t n = strlen(lang);
    if (n > WM_LANG_MAX || strstr(lang, ".."))
        return 0;
    return strspn(lang, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.@-") == n;
}

int wm_i18n_use(const char *lang)
{
    if (!lang || !lang[0] || strcmp(lang, "C") == 0 || strcmp(lang, "POSIX") == 0 ||
        !lang_ok(lang)) {
        uselocale(LC_GLOBAL_LOCALE);
        return lang && lang[0] && !lang_ok(lang) ? -1 : 0;
    }
    size_t free_slot = LANG_CACHE - 1;
    for (size_t i = 0; i < LANG_CACHE; i++) {
        if (cache[i].loc && strcmp(cache[i].name, lang) == 0) {
            uselocale(cache[i].loc);
            return 0;
        }
        if (!cache[i].loc && free_slot == LANG_CACHE - 1)
            free_slot = i;
    }
    locale_t l = newlocale(LC_CTYPE_MASK | LC_MESSAGES_MASK, lang, (locale_t)0);
    if (l == (locale_t)0) {
        uselocale(LC_GLOBAL_LOCALE);
        return -1;
    }
    uselocale(l);
    if (cache[free_slot].loc)
        freelocale(cache[free_slot].loc); /* all taken: the last slot is reused */
    snprintf(cache[free_slot].name, sizeof cache[free_slot].name, "%s", lang);
    cache[free_slot].loc = l;
    return 0;
}

const char *wm_i18n_pgettext(const char *ctx_msgid, const char *msgid)
{
    const char *t = dgettext(domain, ctx_msgid);
    return t == ctx_msgid ? msgid : t;
}

char *wm_i18n_date(uint32_t ymd, char buf[static 32])
{
    /* TRANSLATORS: a calendar date; %1$u year, %2$u month, %3$u day. */
    snprintf(buf, 32, C_("date", "%1$04u-%2$02u-%3$02u"), ymd / 10000, ymd / 100 % 100,
             ymd % 100);
    return buf;
}

char *wm_i18n_count(uint64_t n, char buf[static 32])
{
    /* TRANSLATORS: how large counts read: "plain" (10000000) or "wan"
     * (1000万, 2亿: whole 万 and 亿 only). Translate to "wan" for Chinese. */
    int wan = strcmp(C_("number style", "plain"), "wan") == 0;
    if (wan && n >= 100000000u && n % 100000000u == 0)
        snprintf(buf, 32, "%llu亿", (unsigned long long)(n / 100000000u));
    else if (wan && n >= 10000u && n % 10000u == 0)
        snprintf(buf, 32, "%llu万", (unsigned long long)(n / 10000u));
    else
        snprintf(buf, 32, "%llu", (unsigned long long)n);
    return buf;
}

char *wm_why(char *buf, size_t cap, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, cap, _(fmt), ap);
    va_end(ap);
    return buf;
}
