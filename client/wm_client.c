/* SPDX-License-Identifier: MIT */
/* wm_client — one control call to the node's daemon; see wm_client.h. */
#include "wm_client.h"

#include <stdlib.h>

#include "wm_record.h"

wm_err_t wm_client_call(wm_net_t *net, const char *control, Wm__CtlRequest *req,
                        int timeout_ms, Wm__CtlReply **reply, int *lost)
{
    wm_net_t *own = NULL;
    wm_sock_t *s = NULL;
    uint8_t *buf = NULL, *rbuf = NULL;
    size_t len = 0, rlen = 0;
    if (lost)
        *lost = 0;
    req->version = WM_CLIENT_CTL_VERSION;
    wm_err_t err = wm_pb_encode(&req->base, &buf, &len);
    if (err == WM_OK && !net && (err = wm_net_new(&own)) == WM_OK)
        net = own;
    if (err == WM_OK)
        err = wm_ctl_connect(net, control, &s);
    if (err == WM_OK) {
        err = wm_ctl_call(s, buf, len, &rbuf, &rlen, timeout_ms);
        if (lost)
            *lost = err == WM_EDOWN;
    }
    if (err == WM_OK)
        err = wm_pb_decode(&wm__ctl_reply__descriptor, rbuf, rlen, WM_CTL_MAX_BYTES,
                           (void **)reply);
    free(buf);
    free(rbuf);
    wm_sock_close(&s);
    wm_net_free(&own);
    return err;
}

wm_err_t wm_client_user(wm_net_t *net, const char *control, const char *action,
                        const char *name, const char *role, const char *hash,
                        Wm__CtlReply **reply)
{
    Wm__CtlRequest req = WM__CTL_REQUEST__INIT;
    Wm__UserChange uc = WM__USER_CHANGE__INIT;
    uc.action = (char *)action;
    uc.name = (char *)name;
    uc.role = (char *)(role ? role : "");
    uc.hash = (char *)(hash ? hash : "");
    req.op_case = WM__CTL_REQUEST__OP_USER;
    req.user = &uc;
    return wm_client_call(net, control, &req, WM_CLIENT_TIMEOUT_MS, reply, NULL);
}
