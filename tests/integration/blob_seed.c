/* SPDX-License-Identifier: MIT */
/*
 * blob_seed — a test helper for feature "blobs": puts N blobs of
 * pseudo-random bytes (SIZE each, from SEED) into a station's blob store
 * (NODE/blobs, storage/wm_blob.h) and appends, through the running
 * daemon's control socket, one activity per blob naming it as a photo
 * (Activity.attachments), as the station's own tools do once the file is
 * stored. Prints each blob's hash (hex), one a line.
 *
 *   blob_seed CONF N SIZE SEED
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wm_blob.h"
#include "wm_client.h"
#include "wm_config.h"

static int die(const char *what, const char *why)
{
    fprintf(stderr, "blob_seed: %s: %s\n", what, why);
    return 1;
}

/* One activity naming the blob (hash, size) as a JPEG photo. */
static int append(wm_net_t *net, const char *control, const uint8_t *hash, uint64_t size,
                  unsigned i)
{
    Wm__CtlRequest req = WM__CTL_REQUEST__INIT;
    Wm__CtlReply *rep = NULL;
    Wm__Record body = WM__RECORD__INIT;
    Wm__Activity a = WM__ACTIVITY__INIT;
    Wm__Attachment at = WM__ATTACHMENT__INIT, *atp = &at;
    char title[64];
    snprintf(title, sizeof title, "主题宣讲（附照片 %u）", i);
    at.hash = (ProtobufCBinaryData){WM_HASH_BYTES, (uint8_t *)hash};
    at.size = size;
    at.media_type = "image/jpeg";
    at.role = WM__ATTACHMENT_ROLE__PHOTO;
    a.date = 20240305;
    a.category = WM__CATEGORY__THEME_LECTURE;
    a.title = title;
    a.participants = 30;
    a.attachments = &atp;
    a.n_attachments = 1;
    body.body_case = WM__RECORD__BODY_ACTIVITY;
    body.activity = &a;
    req.op_case = WM__CTL_REQUEST__OP_APPEND;
    req.append = &body;
    wm_err_t err = wm_client_call(net, control, &req, WM_CLIENT_TIMEOUT_MS, &rep, NULL);
    if (err != WM_OK)
        return die("append", wm_strerror(err));
    int bad = rep->error && rep->error[0];
    if (bad)
        die("append refused", rep->message ? rep->message : rep->error);
    wm_pb_free(&rep);
    return bad;
}

int main(int argc, char **argv)
{
    wm_config_t cfg;
    char why[WM_WHY_MAX], dir[PATH_MAX + 16], hex[WM_BLOB_HEXLEN + 1];
    wm_blob_t *bs = NULL;
    wm_net_t *net = NULL;
    if (argc != 5)
        return die("usage", "blob_seed CONF N SIZE SEED");
    unsigned n = (unsigned)strtoul(argv[2], NULL, 10);
    size_t size = strtoull(argv[3], NULL, 10);
    uint32_t x = (uint32_t)strtoul(argv[4], NULL, 10) * 2654435761u + 1;
    if (wm_crypto_init() != WM_OK || wm_config_load(argv[1], &cfg, why, sizeof why) != WM_OK)
        return die(argv[1], why);
    snprintf(dir, sizeof dir, "%s/%s", cfg.dir, WM_BLOB_DIRNAME);
    if (wm_blob_open(dir, &bs) != WM_OK || wm_net_new(&net) != WM_OK)
        return die(dir, "cannot open");
    uint8_t *buf = malloc(size ? size : 1);
    int rc = buf ? 0 : 1;
    for (unsigned i = 0; rc == 0 && i < n; i++) {
        uint8_t hash[WM_HASH_BYTES];
        for (size_t k = 0; k < size; k++) {
            x ^= x << 13, x ^= x >> 17, x ^= x << 5;
            buf[k] = (uint8_t)x;
        }
        if (wm_blob_put(bs, buf, size, hash) != WM_OK) {
            rc = die("put", dir);
            break;
        }
        rc = append(net, cfg.control, hash, size, i);
        if (rc == 0)
            printf("%s\n", wm_hex(hash, WM_HASH_BYTES, hex));
    }
    free(buf);
    wm_blob_close(&bs);
    wm_net_free(&net);
    return rc;
}
