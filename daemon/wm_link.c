/* SPDX-License-Identifier: MIT */
/* wm_link — a sync link's wire bytes and clock; see wm_link.h. */
#include "wm_link.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "wm_wire.h"

void wm_link_sent(wm_link_t *l, size_t len)
{
    l->bytes_out += len + WM_LINK_MSG_OVERHEAD(len);
    l->msgs_out++;
}

void wm_link_received(wm_link_t *l, size_t len)
{
    l->bytes_in += len + WM_LINK_MSG_OVERHEAD(len);
    l->msgs_in++;
}

void wm_link_batch(wm_link_t *l, size_t n, int zipped)
{
    l->records += n;
    l->zbatches += zipped != 0;
}

/* Nonzero if name is one of the comma-separated names of list. */
static int listed(const char *list, const char *name)
{
    size_t len = strlen(name);
    for (const char *hit = list ? strstr(list, name) : NULL; hit; hit = strstr(hit + 1, name))
        if ((hit == list || hit[-1] == ',') && (hit[len] == 0 || hit[len] == ','))
            return 1;
    return 0;
}

size_t wm_link_features(int compress, char **out)
{
    const char *off = getenv("WMSYNCD_HELLO_FEATURES_OFF");
    size_t n = 0;
    for (size_t i = 0; wm_sync_features[i] && n < WM_SYNC_FEATURES_MAX; i++)
        if ((compress || strcmp(wm_sync_features[i], WM_WIRE_FEATURE) != 0) &&
            !listed(off, wm_sync_features[i]))
            out[n++] = (char *)wm_sync_features[i];
    return n;
}

int64_t wm_link_wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

json_t *wm_link_json(const wm_link_t *l)
{
    uint64_t all = l->bytes_out + l->bytes_in;
    double per = l->records ? (double)all / (double)l->records : 0.0;
    return json_pack("{s:I, s:I, s:I, s:I, s:I, s:f, s:I, s:b}", "wire_bytes", (json_int_t)all,
                     "wire_bytes_out", (json_int_t)l->bytes_out, "wire_bytes_in",
                     (json_int_t)l->bytes_in, "wire_messages",
                     (json_int_t)(l->msgs_out + l->msgs_in), "wire_records",
                     (json_int_t)l->records, "bytes_per_record", (double)(int64_t)(per * 10) / 10,
                     "zbatches", (json_int_t)l->zbatches, "zstd", l->zstd);
}
