/* SPDX-License-Identifier: MIT */
/*
 * wm_log — the daemon's log lines on stderr. Under systemd (JOURNAL_STREAM
 * set) each line starts with a syslog priority prefix ("<6>") that
 * journald turns into the entry's priority; elsewhere it starts with an
 * ISO 8601 time and the level. One line per event, no trailing period.
 *
 * Lines a peer can cause (rejects, ZAP refusals, malformed frames, the
 * aggregator's rejects seen upstream) go through wm_log_peer: at most
 * `lines` of them per peer per window (default 20 a minute); after that the
 * peer's lines are only counted, and when its window ends one summary line
 * says "… and 12,345 more from PEER in the last minute". A hostile peer
 * thus costs a bounded number of log lines however fast it sends.
 *
 * State is process-wide: the level and the rate limits (set them before the
 * poll loop or at a reload), and the per-peer counters, which a mutex
 * guards, so any thread may log.
 */
#ifndef WM_LOG_H
#define WM_LOG_H

typedef enum { WM_LOG_ERROR = 3, WM_LOG_WARN = 4, WM_LOG_INFO = 6, WM_LOG_DEBUG = 7 } wm_log_level_t;

/* Default lines a peer may cause per window, and the window: enough to see
 * what a misbehaving peer does, few enough that a flood of a million bad
 * frames costs a handful of lines a minute. */
#define WM_LOG_PEER_LINES 20
#define WM_LOG_PEER_WINDOW_S 60
/* Peers counted at once. Beyond that, lines from peers not in the table
 * share one budget named WM_LOG_PEER_OTHERS, so many peers (or one that
 * keeps changing its key) cannot multiply the budget. */
#define WM_LOG_PEER_SLOTS 64
#define WM_LOG_PEER_OTHERS "other peers"

/* Parses "error", "warn", "info", "debug"; info for anything else. */
wm_log_level_t wm_log_parse(const char *s);
void wm_log_set_level(wm_log_level_t level);
void wm_log(wm_log_level_t level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Sets the per-peer limit: at most `lines` lines per peer per `window_s`
 * seconds (0 = the default above). Counters already running keep their
 * window start. */
void wm_log_peer_limit(unsigned lines, unsigned window_s);

/* Logs like wm_log, charged to `peer` (a node id, a transport key or an
 * address: whatever names the sender; NULL or "" counts as "an unknown
 * peer"). Lines below the log level are neither written nor counted.
 * Returns 1 if the line was written, 0 if it was only counted. */
int wm_log_peer(wm_log_level_t level, const char *peer, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Writes the summary line of every peer whose window has ended with lines
 * held back, and forgets peers that were quiet. Call it from the poll loop
 * at least once a second; a summary is otherwise written only when the
 * peer sends again. wm_log_peer_flush writes every pending summary now (at
 * shutdown). */
void wm_log_tick(void);
void wm_log_peer_flush(void);

#define wm_error(...) wm_log(WM_LOG_ERROR, __VA_ARGS__)
#define wm_warn(...) wm_log(WM_LOG_WARN, __VA_ARGS__)
#define wm_info(...) wm_log(WM_LOG_INFO, __VA_ARGS__)
#define wm_debug(...) wm_log(WM_LOG_DEBUG, __VA_ARGS__)

/* The same, charged to a peer (see wm_log_peer). */
#define wm_warn_peer(peer, ...) wm_log_peer(WM_LOG_WARN, (peer), __VA_ARGS__)
#define wm_info_peer(peer, ...) wm_log_peer(WM_LOG_INFO, (peer), __VA_ARGS__)

#endif
