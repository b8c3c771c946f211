/* SPDX-License-Identifier: MIT */
/*
 * audit_evidence — `wmctl audit --with-evidence` (issue 12 item 2): after
 * an audit has verified a town's station records (cmd_audit.c, in its
 * scratch store), every attachment of the activities of the audited
 * period is checked against the SIGNED reference in its record: the blob
 * is fetched from the town (blob_fetch.h; the town keeps the blobs), or
 * found held here already, and its bytes are hashed with the size the
 * record gives. Per attachment the verdict is one of
 *
 *   verified   held here, its bytes hash to the signed hash, of the signed size
 *   missing    the town does not hold it (never received, or pruned there)
 *   mismatch   the town's bytes (or size) are not the signed file: tampered
 *              or damaged; nothing of them is kept here
 *   unchecked  it could not be asked (a town without the feature, a
 *              timeout …): why is given
 *
 * printed one line each (verified ones only with a count) and kept as
 * JSON for --json.
 */
#ifndef AUDIT_EVIDENCE_H
#define AUDIT_EVIDENCE_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "wm_date.h"
#include "wm_store.h"
#include "wmctl.h"

typedef struct {
    json_t *items;  /* array of {"station","epoch","seq","attachment","hash","size",
                     * "status","detail"}; owned, created on first use */
    uint64_t verified, missing, mismatch, unchecked;
} audit_evidence_t;

/* Checks the attachments of the activities dated within p of each station
 * that covers (the report's "covers" array) lists, read from scratch
 * (their verified records, node numbers by id), fetching each blob through
 * the child via and the hops path[0 … n_path) below it. Adds to ev.
 * WMCTL_OK unless a mismatch was found or the records could not be read
 * (WMCTL_FAIL, printed). */
int audit_evidence_check(wmctl_t *w, wm_store_t *scratch, const json_t *covers, const char *via,
                         char *const *path, size_t n_path, const wm_period_t *p,
                         audit_evidence_t *ev);

/* The totals and items as one JSON object (a new reference). */
json_t *audit_evidence_json(const audit_evidence_t *ev);

/* Frees ev's items (ev itself is the caller's). */
void audit_evidence_free(audit_evidence_t *ev);

#endif
