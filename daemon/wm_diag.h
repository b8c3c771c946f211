/* SPDX-License-Identifier: MIT */
/*
 * wm_diag — the daemon's log lines on stderr. Under systemd (JOURNAL_STREAM
 * set) each line starts with a syslog priority prefix ("<6>") that
 * journald turns into the entry's priority; elsewhere it starts with an
 * ISO 8601 time and the level. One line per event, no trailing period.
 *
 * Lines a peer can cause (rejects, ZAP refusals, malformed frames, the
 * aggregator's rejects seen upstream) go through wm_diag_peer: at most
 * `lines` of them per peer per window (default 20 a minute); after that the
 * peer's lines are only counted, and when its window ends one summary line
 * says "… and 12,345 more from PEER in the last minute". A hostile peer
 * thus costs a bounded number of log lines however fast it sends.
 *
 * State is process-wide: the level and the rate limits (set them before the
 * poll loop or at a reload), and the per-peer counters, which a mutex
 * guards, so any thread may log.
 */
#ifndef WM_DIAG_H
#define WM_DIAG_H

typedef enum { WM_DIAG_ERROR = 3, WM_DIAG_WARN = 4, WM_DIAG_INFO = 6, WM_DIAG_DEBUG = 7 } wm_diag_level_t;

/* Default lines a peer may cause per window, and the window: enough to see
 * what a misbehaving peer does, few enough that a flood of a million bad
 * frames costs a handful of lines a minute. */
#define WM_DIAG_PEER_LINES 20
#define WM_DIAG_PEER_WINDOW_S 60
/* Peers counted at once. Beyond that, lines from peers not in the table
 * share one budget named WM_DIAG_PEER_OTHERS, so many peers (or one that
 * keeps changing its key) cannot multiply the budget. */
#define WM_DIAG_PEER_SLOTS 64
#define WM_DIAG_PEER_OTHERS "other peers"

/* Parses "error", "warn", "info", "debug"; info for anything else. */
wm_diag_level_t wm_diag_parse(const char *s);
void wm_diag_set_level(wm_diag_level_t level);
void wm_diag(wm_diag_level_t level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Sets the per-peer limit: at most `lines` lines per peer per `window_s`
 * seconds (0 = the default above). Counters already running keep their
 * window start. */
void wm_diag_peer_limit(unsigned lines, unsigned window_s);

/* Logs like wm_diag, charged to `peer` (a node id, a transport key or an
 * address: whatever names the sender; NULL or "" counts as "an unknown
 * peer"). Lines below the log level are neither written nor counted.
 * Returns 1 if the line was written, 0 if it was only counted. */
int wm_diag_peer(wm_diag_level_t level, const char *peer, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Writes the summary line of every peer whose window has ended with lines
 * held back, and forgets peers that were quiet. Call it from the poll loop
 * at least once a second; a summary is otherwise written only when the
 * peer sends again. wm_diag_peer_flush writes every pending summary now (at
 * shutdown). */
void wm_diag_tick(void);
void wm_diag_peer_flush(void);

#define wm_error(...) wm_diag(WM_DIAG_ERROR, __VA_ARGS__)
#define wm_warn(...) wm_diag(WM_DIAG_WARN, __VA_ARGS__)
#define wm_info(...) wm_diag(WM_DIAG_INFO, __VA_ARGS__)
#define wm_debug(...) wm_diag(WM_DIAG_DEBUG, __VA_ARGS__)

/* The same, charged to a peer (see wm_diag_peer). */
#define wm_warn_peer(peer, ...) wm_diag_peer(WM_DIAG_WARN, (peer), __VA_ARGS__)
#define wm_info_peer(peer, ...) wm_diag_peer(WM_DIAG_INFO, (peer), __VA_ARGS__)

#endif
