/* SPDX-License-Identifier: MIT */
/*
 * wm_i18n — the messages of wmctl and wmsyncd in the reader's language,
 * with GNU gettext (text domain "wmsync", catalogues po/LANG.po, built into
 * LOCALEDIR/LANG/LC_MESSAGES/wmsync.mo).
 *
 * Marking: _("text") translates now; N_("text") only marks a string that
 * a table holds and that is translated where it is printed (_(p->help)).
 * wmctl_err(fmt, ...), wm_reject(rej, field, fmt, ...) and wm_why(buf, cap,
 * fmt, ...) translate their format themselves: their call sites need no mark (xgettext is told, see
 * po/CMakeLists.txt). A translation may reorder arguments only with
 * positional %1$s forms; msgfmt --check-format runs at every build.
 *
 * What is never translated: reject slugs on the wire and in JSON, JSON
 * keys, error names (wm_errname), record kinds and enum slugs, ids. Only
 * the sentences around them are.
 *
 * Which language: the process's LC_MESSAGES (LANG, LC_ALL, LANGUAGE) for
 * what wmctl prints and for what wmsyncd prints while starting; per
 * request in wmsyncd, the language wmctl names in CtlRequest.lang
 * (wm_i18n_use). The sync protocol's REJECT detail is always English:
 * wmsyncd serves in the C locale once started.
 *
 * Thread-safety: wm_i18n_init once in main before any thread starts; the
 * rest is thread-safe (gettext and uselocale are per thread).
 */
#ifndef WM_I18N_H
#define WM_I18N_H

#include <libintl.h>
#include <locale.h>
#include <stddef.h>
#include <stdint.h>

/* The text domains: wmctl's catalogue (package wmsync-cli) and wmsyncd's
 * (wmsync-daemon), the same translations installed under two names so
 * that each package owns its file. */
#define WM_TEXTDOMAIN "wmsync"
#define WM_TEXTDOMAIN_DAEMON "wmsyncd"
/* The installed catalogues, the last place looked (CMake sets it). */
#ifndef WM_LOCALEDIR
#define WM_LOCALEDIR "/usr/share/locale"
#endif
/* The environment variable that names the catalogue directory first. */
#define WM_LOCALEDIR_ENV "WMSYNC_LOCALEDIR"
#define WM_LANG_MAX 64 /* bytes of a locale name in CtlRequest.lang */

#define _(s) dgettext(wm_i18n_domain(), s)
#define N_(s) (s)
/* A translatable string with a context, for words that mean more than one
 * thing (see po/zh_CN.po's msgctxt entries). */
#define C_(ctx, s) wm_i18n_pgettext(ctx "\004" s, s)

/* Sets the text domain (WM_TEXTDOMAIN or WM_TEXTDOMAIN_DAEMON), LC_CTYPE and LC_MESSAGES from the environment (never LC_NUMERIC or
 * LC_TIME: JSON and CSV output must not change with the locale) and binds
 * it to the first of: $WMSYNC_LOCALEDIR; EXE_DIR/../share/locale and
 * EXE_DIR/../locale (an install prefix, the build tree) when it holds a
 * catalogue of the domain; WM_LOCALEDIR. Output is UTF-8 whatever the locale's charset.
 * If global is 0 (wmsyncd) the process's own locale stays "C" and only the
 * calling thread takes the environment's language (wm_i18n_use(NULL)
 * returns to "C"). Never fails: without a catalogue messages stay English. */
void wm_i18n_init(const char *domain, int global);

/* The text domain wm_i18n_init set (WM_TEXTDOMAIN before it). */
const char *wm_i18n_domain(void);

/* The directory the text domain is bound to (for --version-like output
 * and tests). Valid for the life of the process. */
const char *wm_i18n_localedir(void);

/* The calling thread's message language for what follows: lang a locale
 * name such as "zh_CN.UTF-8" (from CtlRequest.lang; characters outside
 * [A-Za-z0-9_.@-] or a name longer than WM_LANG_MAX are refused), NULL or
 * "" for the C locale (English). Returns 0 if lang was taken, -1 if not
 * (unknown or uninstalled locale: the thread is then in the C locale).
 * Locales are cached; thread-safe for one thread (wmsyncd's loop). */
int wm_i18n_use(const char *lang);

/* The locale name of LC_MESSAGES this process took from its environment
 * ("C" if none), for CtlRequest.lang. Valid for the life of the process. */
const char *wm_i18n_lang(void);

/* A date YYYYMMDD as the reader writes it: "2024-05-03" in English,
 * "2024年5月3日" in Chinese (the translation of the date format). buf is
 * returned. */
char *wm_i18n_date(uint32_t ymd, char buf[static 32]);

/* A count as the reader writes it: "10000000" in English, "1000万" in
 * Chinese text (whole 万 and 亿 only; other numbers as digits). buf is
 * returned. */
char *wm_i18n_count(uint64_t n, char buf[static 32]);

/* snprintf(buf, cap, _(fmt), ...): a "why" sentence in the reader's
 * language (xgettext takes fmt). Returns buf. */
char *wm_why(char *buf, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* pgettext: "ctx\004msgid" looked up in the text domain; msgid if not
 * translated. */
const char *wm_i18n_pgettext(const char *ctx_msgid, const char *msgid)
    __attribute__((format_arg(2)));

#endif
