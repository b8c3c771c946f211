/* SPDX-License-Identifier: MIT */
/* wm_opts — named values read by wmctl and wmweb alike; see wm_opts.h. */
#include "wm_opts.h"

#include <string.h>

int wm_opts_add(wm_opts_t *opts, const char *name, const char *val)
{
    if (opts->n >= WM_OPTS_MAX)
        return -1;
    opts->o[opts->n++] = (wm_opt_t){.name = name, .val = val};
    return 0;
}

const char *wm_opt(wm_opts_t *opts, const char *name)
{
    const char *v = NULL;
    for (int i = 0; i < opts->n; i++)
        if (strcmp(opts->o[i].name, name) == 0 && opts->o[i].val) {
            opts->o[i].used = 1;
            v = opts->o[i].val; /* the last one wins */
        }
    return v;
}

int wm_flag(wm_opts_t *opts, const char *name)
{
    int seen = 0;
    for (int i = 0; i < opts->n; i++)
        if (strcmp(opts->o[i].name, name) == 0 && !opts->o[i].val)
            opts->o[i].used = 1, seen = 1;
    return seen;
}

int wm_opt_all(wm_opts_t *opts, const char *name, const char **out, int cap)
{
    int k = 0;
    for (int i = 0; i < opts->n; i++)
        if (strcmp(opts->o[i].name, name) == 0 && opts->o[i].val) {
            opts->o[i].used = 1;
            if (k < cap)
                out[k] = opts->o[i].val;
            k++;
        }
    return k;
}

const wm_opt_t *wm_opts_unused(const wm_opts_t *opts)
{
    for (int i = 0; i < opts->n; i++)
        if (!opts->o[i].used)
            return &opts->o[i];
    return NULL;
}
