/* SPDX-License-Identifier: MIT */
/*
 * wm_notify — tells the service manager how the daemon is doing, the
 * sd_notify(3) way, without libsystemd: one AF_UNIX datagram with a state
 * string ("READY=1", "STOPPING=1", "STATUS=...") to the socket named by
 * $NOTIFY_SOCKET. A name starting with '@' is an abstract socket. Without
 * $NOTIFY_SOCKET (not started by systemd with Type=notify) it does nothing.
 *
 * Thread-safe (no state; reads the environment). The socket is opened and
 * closed on each call; the daemon notifies a handful of times in its life.
 */
#ifndef WM_NOTIFY_H
#define WM_NOTIFY_H

#include "wm_err.h"

/* Sends STATE (a NUL-terminated "KEY=VALUE" list, newline-separated) to
 * $NOTIFY_SOCKET. Returns WM_OK when it was sent or when there is nowhere
 * to send it (no $NOTIFY_SOCKET); WM_EINVAL if $NOTIFY_SOCKET is not a
 * usable AF_UNIX path (too long, not absolute and not '@'); WM_EIO if the
 * socket cannot be made or the datagram is not accepted (errno kept). */
WM_MUST_CHECK wm_err_t wm_notify(const char *state);

#endif
