/* SPDX-License-Identifier: MIT */
/*
 * api.js — the one way the pages talk to wmweb's JSON API (docs/openapi.json).
 * Every request carries the page's language (Accept-Language), so error
 * messages come back in it; every state-changing request carries the
 * session's CSRF token (X-CSRF-Token). WM.api resolves, never rejects, with
 * {status, data}: status 0 means the web service could not be reached, data
 * is the parsed JSON body (or null). A 401 anywhere sends the page back to
 * the login form (WM.onUnauthorized, set by app.js).
 */
"use strict";

WM.session = null; /* {user, role, csrf} once logged in */

WM.api = function (method, path, body) {
  var headers = {"Accept": "application/json",
                 "Accept-Language": WM.lang === "en" ? "en" : "zh-CN,zh;q=0.9"};
  var init = {method: method, headers: headers, credentials: "same-origin", cache: "no-store"};
  if (method !== "GET" && WM.session && WM.session.csrf)
    headers["X-CSRF-Token"] = WM.session.csrf;
  if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  return window.fetch(path, init).then(function (res) {
    return res.text().then(function (text) {
      var data = null;
      if (text) {
        try { data = JSON.parse(text); } catch (e) { data = {error: text}; }
      }
      if (res.status === 401 && path !== "/api/v1/login" && WM.onUnauthorized)
        WM.onUnauthorized();
      return {status: res.status, data: data};
    });
  }, function () {
    return {status: 0, data: {error: WM.t("net_error")}};
  });
};

/* POSTs a file's bytes as they are (an upload: wmweb's body is the file),
 * with the CSRF token; resolves as WM.api. */
WM.upload = function (path, file) {
  var headers = {"Accept": "application/json", "Content-Type": "application/octet-stream",
                 "Accept-Language": WM.lang === "en" ? "en" : "zh-CN,zh;q=0.9"};
  if (WM.session && WM.session.csrf)
    headers["X-CSRF-Token"] = WM.session.csrf;
  return window.fetch(path, {method: "POST", headers: headers, body: file, credentials: "same-origin",
                             cache: "no-store"}).then(function (res) {
    return res.text().then(function (text) {
      var data = null;
      try { data = text ? JSON.parse(text) : null; } catch (e) { data = {error: text}; }
      if (res.status === 401 && WM.onUnauthorized)
        WM.onUnauthorized();
      return {status: res.status, data: data};
    });
  }, function () {
    return {status: 0, data: {error: WM.t("net_error")}};
  });
};

/* The sentence to show for a failed call. */
WM.errorText = function (r) {
  if (r.status === 0)
    return WM.t("net_error");
  if (r.status === 403)
    return (r.data && r.data.error) || WM.t("forbidden");
  if (r.status === 501)
    return WM.t("not_implemented");
  if (r.status === 503)
    return WM.t("daemon_down_http", {msg: (r.data && r.data.error) || ""});
  return (r.data && r.data.error) || ("HTTP " + r.status);
};

WM.query = function (params) {
  var parts = [];
  Object.keys(params).forEach(function (k) {
    var v = params[k];
    if (v !== undefined && v !== null && v !== "")
      parts.push(encodeURIComponent(k) + "=" + encodeURIComponent(v));
  });
  return parts.length ? "?" + parts.join("&") : "";
};
