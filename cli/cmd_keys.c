/* SPDX-License-Identifier: MIT */
/*
 * wmctl keys / enroll / revoke — a node's public identity, and the
 * aggregator's register of the children allowed to sync with it.
 *
 * Identity line (PROTOCOL.md §6; one line, fields separated by one space,
 * NAME last: it is the rest of the line and may contain spaces):
 *     wmsync-id 1 ROLE ID SIGN_PUB_HEX CURVE_PUB_HEX [from=N] NAME
 * `keys` writes from=N whenever N > 1 or the name itself begins with
 * "from=", so a reader that takes at most one from= token is never misled.
 */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "wm_i18n.h"
#include "sync.pb-c.h"
#include "wm_crypto.h"
#include "wm_ident.h"
#include "wm_nodedir.h"
#include "wm_record.h"
#include "wmctl.h"

#define ID_MAGIC "wmsync-id"
#define ID_FROM "from="

/* The first epoch the signing key sp signs in this node's log; if it signs
 * none yet (just re-keyed), the epoch it will begin: one past every epoch
 * the log or the aggregator above has seen. 1 for a new node. */
static uint32_t first_epoch_of(wmctl_t *w, const uint8_t sp[WM_PUB_BYTES])
{
    wm_store_t *s = NULL;
    uint32_t self = 0, last = 0, first = 0;
    wm_head_t acked = {0};
    if (wmctl_open_ro(w, &s, &self) != WMCTL_OK)
        return 0;
    if (!s)
        return 1;
    wm_txn_t *t = NULL;
    wm_err_t err = wm_txn_begin(s, 0, &t);
    if (err == WM_OK)
        err = wm_acked_get(t, &acked);
    if (err != WM_OK) {
        wmctl_err("cannot read the log of %s: %s", w->cfg.id, wm_strerror(err));
        wm_txn_abort(&t);
        wm_store_close(&s);
        return 0;
    }
    {
        if (self && wm_epoch_last(t, self, &last) == WM_OK)
            for (uint32_t e = 1; e <= last && !first; e++) {
                uint8_t k[WM_PUB_BYTES];
                if (wm_epoch_key(t, self, e, k) == WM_OK && memcmp(k, sp, WM_PUB_BYTES) == 0)
                    first = e;
            }
    }
    wm_txn_abort(&t);
    wm_store_close(&s);
    if (first)
        return first;
    return (last > acked.epoch ? last : acked.epoch) + 1;
}

int cmd_keys(wmctl_t *w, int argc, char **argv)
{
    static const char *const flags[] = {"json", NULL};
    wmctl_opts_t o;
    int rc = wmctl_opts_parse(&o, argc - 1, argv + 1, flags);
    if (rc)
        return rc;
    int json = wmctl_flag(&o, "json");
    if ((rc = wmctl_opts_unused(&o, "keys")) || (rc = wmctl_config(w)))
        return rc;
    uint8_t sp[WM_PUB_BYTES], cp[WM_PUB_BYTES];
    if (wm_nodedir_read_pub(w->cfg.sign_key, sp) != WM_OK ||
        wm_nodedir_read_pub(w->cfg.curve_key, cp) != WM_OK) {
        wmctl_err("cannot read the public key files beside %s and %s", w->cfg.sign_key,
                  w->cfg.curve_key);
        return WMCTL_FAIL;
    }
    char sh[65], ch[65], from[24] = "";
    wm_hex(sp, 32, sh);
    wm_hex(cp, 32, ch);
    uint32_t first = first_epoch_of(w, sp);
    if (first == 0)
        return WMCTL_FAIL; /* the log could not be read: why is printed */
    /* After a re-key the town keeps the old key for earlier epochs; a name
     * that itself begins with "from=" gets the token too, so it is never
     * read as one. */
    if (first > 1 || strncmp(w->cfg.name, ID_FROM, strlen(ID_FROM)) == 0)
        snprintf(from, sizeof from, ID_FROM "%" PRIu32 " ", first);
    if (json) {
        json_t *j = json_pack("{s:s, s:s, s:s, s:s, s:s, s:I}", "id", w->cfg.id, "name",
                              w->cfg.name, "role", wm_role_name(w->cfg.role), "sign_pub", sh,
                              "curve_pub", ch, "from_epoch", (json_int_t)first);
        char *s = json_dumps(j, JSON_COMPACT);
        puts(s ? s : "{}");
        free(s);
        json_decref(j);
    } else {
        printf(ID_MAGIC " 1 %s %s %s %s %s%s\n", wm_role_name(w->cfg.role), w->cfg.id, sh, ch,
               from, w->cfg.name);
    }
    return WMCTL_OK;
}

/* Sends one admin request. WMCTL_OK with the daemon's reply in *rep (the
 * caller frees it with wm_pb_free) if the daemon did it; otherwise it
 * prints why (the daemon's message, or that there was no answer) and
 * returns WMCTL_USAGE for a request the daemon found invalid, WMCTL_FAIL
 * else, *rep NULL. */
static int admin_call(wmctl_t *w, Wm__CtlRequest *req, Wm__CtlReply **rep)
{
    int rc = WMCTL_FAIL;
    *rep = NULL;
    wm_err_t err = wmctl_call(w, req, rep);
    if (err == WM_EPERM) /* wmctl_call said why */
        goto out;
    if (err == WM_EDOWN) {
        wmctl_err("the wmsyncd daemon for %s is not running; start it and try again", w->cfg.id);
        goto out;
    }
    if (err != WM_OK) {
        wmctl_err("no answer from the daemon: %s", wm_strerror(err));
        goto out;
    }
    if ((*rep)->error && (*rep)->error[0]) {
        wmctl_err("%s", (*rep)->message);
        rc = strcmp((*rep)->error, "invalid") == 0 ? WMCTL_USAGE : WMCTL_FAIL;
        goto out;
    }
    rc = WMCTL_OK;
out:
    if (rc != WMCTL_OK)
        wm_pb_free(rep);
    return rc;
}

/* Sends one admin request and, if the daemon did it, prints `done`. */
static int admin_do(wmctl_t *w, Wm__CtlRequest *req, const char *done)
{
    Wm__CtlReply *rep = NULL;
    int rc = admin_call(w, req, &rep);
    if (rc == WMCTL_OK)
        printf("%s\n", done);
    wm_pb_free(&rep);
    return rc;
}

int cmd_enroll(wmctl_t *w, int argc, char **argv)
{
    if (argc != 2) {
        wmctl_err("usage: wmctl enroll FILE   (FILE holds a node's `wmctl keys` line; - for stdin)");
        return WMCTL_USAGE;
    }
    int rc = wmctl_config(w);
    if (rc)
        return rc;
    FILE *f = strcmp(argv[1], "-") == 0 ? stdin : fopen(argv[1], "re");
    if (!f) {
        wmctl_err("cannot open %s", argv[1]);
        return WMCTL_FAIL;
    }
    char line[WMCTL_ID_LINE_MAX];
    int got = fgets(line, sizeof line, f) != NULL;
    if (f != stdin)
        fclose(f);
    if (got && !strchr(line, '\n') && strlen(line) == sizeof line - 1) {
        wmctl_err("rejected: the identity line in %s is longer than %d bytes", argv[1],
                  WMCTL_ID_LINE_MAX - 1);
        return WMCTL_USAGE;
    }
    static wm_ident_t in; /* two lines of text: not on the stack */
    Wm__Identity id = WM__IDENTITY__INIT;
    if (!got || wm_ident_parse(line, &in) != 0) {
        wmctl_err("rejected: %s does not hold an identity line (wmsync-id 1 ROLE ID SIGN_PUB "
                  "CURVE_PUB NAME) or its --json form",
                  argv[1]);
        return WMCTL_USAGE;
    }
    id.node = in.node;
    id.name = in.name;
    id.role = in.role;
    id.sign_pub = (ProtobufCBinaryData){WM_PUB_BYTES, in.sign_pub};
    id.curve_pub = (ProtobufCBinaryData){WM_PUB_BYTES, in.curve_pub};
    id.from_epoch = in.from_epoch;
    Wm__CtlRequest req = WM__CTL_REQUEST__INIT;
    req.op_case = WM__CTL_REQUEST__OP_ENROLL;
    req.enroll = &id;
    char done[512];
    wm_why(done, sizeof done, "enrolled %s (%s)", id.node, id.name);
    return admin_do(w, &req, done);
}

/* "EPOCH:SEQ" (epoch 0 … 2^32-1, seq 0 … 2^64-1), nothing else. */
static int parse_point(const char *text, uint32_t *epoch, uint64_t *seq)
{
    char *end = NULL;
    if (text[0] < '0' || text[0] > '9')
        return -1;
    errno = 0;
    unsigned long long e = strtoull(text, &end, 10);
    if (errno || *end != ':' || e > UINT32_MAX || end[1] < '0' || end[1] > '9')
        return -1;
    const char *st = end + 1;
    unsigned long long sq = strtoull(st, &end, 10);
    if (errno || *end)
        return -1;
    *epoch = (uint32_t)e;
    *seq = (uint64_t)sq;
    return 0;
}

/* revoke --compromised: the answer names the point the keys stop at. */
static int revoke_compromised(wmctl_t *w, const char *id, const char *after)
{
    Wm__Compromise c = WM__COMPROMISE__INIT;
    c.node = (char *)id;
    if (after && parse_point(after, &c.after_epoch, &c.after_seq) != 0) {
        wmctl_err("rejected: --after: \"%s\" is not EPOCH:SEQ (e.g. 1:212)", after);
        return WMCTL_USAGE;
    }
    c.after_set = after != NULL;
    Wm__CtlRequest req = WM__CTL_REQUEST__INIT;
    req.op_case = WM__CTL_REQUEST__OP_COMPROMISE;
    req.compromise = &c;
    Wm__CtlReply *rep = NULL;
    int rc = admin_call(w, &req, &rep);
    if (rc == WMCTL_OK) {
        printf(_("revoked %s as compromised: nothing its signing keys signed after %" PRIu32
               ":%" PRIu64 " is accepted here again; its transport key is refused for good.\n"
               "At the station: wmctl rekey --transport, then wmsyncd --new-epoch; re-issue\n"
               "each record after that point which never reached here (wmctl log --epoch %" PRIu32
               " --from %" PRIu64 "\n"
               "lists them: record each again, then void the original), and enrol its new\n"
               "`wmctl keys` line here.\n"),
               id, rep->after_epoch, rep->after_seq, rep->after_epoch, rep->after_seq + 1);
    }
    wm_pb_free(&rep);
    return rc;
}

int cmd_revoke(wmctl_t *w, int argc, char **argv)
{
    static const char *const flags[] = {"compromised", NULL};
    wmctl_opts_t o;
    int rc = wmctl_opts_parse(&o, argc - 1, argv + 1, flags);
    if (rc)
        return rc;
    const char *id = wmctl_opt(&o, "id"), *after = wmctl_opt(&o, "after");
    int compromised = wmctl_flag(&o, "compromised");
    if ((rc = wmctl_opts_unused(&o, "revoke")) || (rc = wmctl_config(w)))
        return rc;
    if (!id) {
        wmctl_err("revoke: --id is required");
        return WMCTL_USAGE;
    }
    if (after && !compromised) {
        wmctl_err("rejected: --after: only with --compromised");
        return WMCTL_USAGE;
    }
    if (compromised)
        return revoke_compromised(w, id, after);
    Wm__CtlRequest req = WM__CTL_REQUEST__INIT;
    req.op_case = WM__CTL_REQUEST__OP_REVOKE;
    req.revoke = (char *)id;
    char done[512];
    wm_why(done, sizeof done, "revoked %s: it can no longer sync, also on a live connection", id);
    return admin_do(w, &req, done);
}
