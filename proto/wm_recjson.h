/* SPDX-License-Identifier: MIT */
/*
 * wm_recjson — a record as a JSON object, generated from the protobuf-c
 * descriptors so every kind (present and future) is rendered by one piece
 * of code. Enum values appear as their slugs ("theme_lecture"), dates as
 * "YYYY-MM-DD", hours_x100 as "hours" (a number), fen as "yuan" (a number),
 * bytes as lowercase hex, fixed64 (a dHash) as 16 hex digits. No I/O;
 * thread-safe.
 */
#ifndef WM_RECJSON_H
#define WM_RECJSON_H

#include <jansson.h>

#include "wm_record.h"

/* {"station","epoch","seq","kind","captured","schema","prev", <kind>: {…}}
 * plus "hash" when v is given. Returns a new reference, NULL on ENOMEM. */
json_t *wm_record_json(const wm_record_t *r, const wm_srec_t *v);

#endif
