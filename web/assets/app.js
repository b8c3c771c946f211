/* SPDX-License-Identifier: MIT */
/*
 * app.js — starts the console: the login form, then the page of the node's
 * role (a station records and keeps its ledger; a town or county watches
 * its children and reports), chosen from /api/v1/status. The tabs are
 * routed by the URL's #hash; the sync banner is refreshed every
 * BANNER_REFRESH_MS. Loaded last: it uses every other script.
 */
"use strict";

var BANNER_REFRESH_MS = 15000;

WM.status = null;

/* The tiers: each aggregator's children and the node above each role. */
WM.TIERS = {
  station: {child: null, up: "town"},
  town: {child: "station", up: "county"},
  county: {child: "town", up: "city"},
  city: {child: "county", up: "province"},
  province: {child: "city", up: null}
};
WM.tier = function () { return WM.TIERS[WM.status ? WM.status.role : "station"] || WM.TIERS.county; };
/* "站点", "镇" …: what this node's children are. */
WM.childWord = function () { return WM.t("child_" + (WM.tier().child || "station")); };
WM.upWord = function () { return WM.tier().up ? WM.t("up_" + WM.tier().up) : ""; };

WM.canWrite = function () {
  return !!(WM.session && (WM.session.role === "operator" || WM.session.role === "admin"));
};

WM.tabs = function () {
  var role = WM.status ? WM.status.role : "station";
  var admin = WM.session && WM.session.role === "admin" ? [["users", WM.users.render]] : [];
  if (role === "station")
    return (WM.canWrite() ? [["record", WM.station.renderRecord]] : [])
      .concat([["ledger", WM.station.renderLedger], ["month", WM.station.renderMonth]], admin);
  var child = WM.tier().child;
  var t = [[child === "station" ? "stations" : child === "town" ? "towns" : "children", WM.town.renderChildren],
           ["rollup", WM.town.renderRollup], ["problems", WM.town.renderProblems],
           ["report", WM.town.renderReport]];
  /* an aggregator of aggregators audits what its children published */
  if (child !== "station")
    t.push(["audit", WM.town.renderAudit]);
  t.push(["ledger", WM.station.renderLedger]);
  return t.concat(admin);
};

function $(id) { return document.getElementById(id); }

/* A short message at the top of the page (after a void, a publication …). */
WM.flash = function (cls, text) {
  WM.notice($("flash"), cls, text);
};

function langButton() {
  return WM.el("button", {type: "button", class: "link", id: "lang", lang: WM.lang === "en" ? "zh-CN" : "en",
                          text: WM.t("lang_switch"), onclick: function () {
    WM.setLang(WM.lang === "en" ? "zh" : "en");
    start();
  }});
}

/* ---- login ------------------------------------------------------------ */

function showLogin(message) {
  WM.session = null;
  WM.status = null;
  try { window.sessionStorage.removeItem("wm.session"); } catch (e) { /* none kept */ }
  document.title = WM.t("app_title");
  var user = WM.el("input", {id: "login-user", name: "user", autocomplete: "username", required: true,
                             autocapitalize: "none"});
  var pw = WM.el("input", {id: "login-password", name: "password", type: "password",
                           autocomplete: "current-password", required: true});
  var note = WM.el("div", {id: "login-error", hidden: true});
  var form = WM.el("form", {id: "login-form", class: "card login", novalidate: true},
    WM.el("div", {class: "login-head"}, WM.el("img", {src: "/favicon.svg", alt: "", width: 48, height: 48}),
          WM.el("h1", {text: WM.t("app_title")})),
    WM.el("p", {class: "muted", text: WM.t("login_hint")}),
    WM.el("div", {class: "field"}, WM.el("label", {for: "login-user", text: WM.t("login_user")}), user),
    WM.el("div", {class: "field"}, WM.el("label", {for: "login-password", text: WM.t("login_password")}), pw),
    note,
    WM.el("div", {class: "actions"}, WM.el("button", {type: "submit", class: "primary wide", id: "login-submit",
                                                      text: WM.t("login_button")})),
    WM.el("div", {class: "login-foot"}, langButton()));
  form.addEventListener("submit", function (ev) {
    ev.preventDefault();
    WM.notice(note, "", "");
    WM.api("POST", "/api/v1/login", {user: user.value.trim(), password: pw.value}).then(function (r) {
      if (r.status === 200 && r.data) {
        keepSession(r.data);
        start();
        return;
      }
      pw.value = "";
      WM.notice(note, "bad", WM.errorText(r));
    });
  });
  var root = WM.clear($("app"));
  root.className = "login-page";
  root.appendChild(form);
  if (message)
    WM.notice(note, "warn", message);
  user.focus();
}

function keepSession(s) {
  WM.session = {user: s.user, role: s.role, csrf: s.csrf};
  try { window.sessionStorage.setItem("wm.session", JSON.stringify(WM.session)); } catch (e) { /* ok */ }
}

WM.onUnauthorized = function () {
  if (WM.session)
    showLogin(WM.t("session_expired"));
};

/* ---- the sync banner -------------------------------------------------- */

function bannerText(s) {
  if (!s.daemon_running)
    return ["bad", WM.t("sync_down")];
  var up = WM.upWord();
  var parts = [], cls = "ok";
  if (s.pending === undefined || s.pending === null) {
    parts.push(WM.t("sync_no_upstream"));
    cls = "info";
  } else {
    var contact = WM.toDate(s.last_contact);
    if (!contact && !s.pending) {
      parts.push(WM.t("sync_not_yet", {up: up}));
      cls = "info";
    } else {
      parts.push(s.pending > 0 ? WM.t("sync_pending", {n: s.pending, up: up}) : WM.t("sync_all", {up: up}));
      parts.push(contact ? WM.t("sync_last", {when: WM.when(contact)}) : WM.t("sync_never"));
    }
    if (s.pending > 0) {
      cls = "warn";
      parts.push(s.connected ? WM.t("sync_connected") : WM.t("sync_offline"));
    }
    if (s.last_reject) {
      cls = "bad";
      parts.push("。" + WM.t("sync_problem", {why: s.last_reject_hint || s.last_reject}));
    }
  }
  if (s.role !== "station" && s.stations) {
    var n = s.stations.filter(WM.town.needsAttention).length;
    parts.push(" · " + WM.t(n ? "att_count" : "att_none", {n: n, child: WM.childWord()}));
    if (n && cls !== "bad")
      cls = "warn";
  }
  return [cls, parts.join("")];
}

WM.refreshBanner = function () {
  return WM.api("GET", "/api/v1/status").then(function (r) {
    var b = $("banner");
    if (r.status === 200 && r.data) {
      WM.status = r.data;
      var bt = bannerText(r.data);
      if (b) {
        WM.notice(b, bt[0], bt[1]);
        b.setAttribute("data-state", r.data.daemon_running ? (r.data.pending > 0 ? "pending" : "synced") : "down");
      }
    } else if (b && r.status !== 401) {
      WM.notice(b, "bad", r.status === 503 ? WM.t("sync_down") + " " + WM.errorText(r) : WM.errorText(r));
      b.setAttribute("data-state", r.status === 503 ? "down" : "error");
    }
    return r;
  });
};

/* ---- the page --------------------------------------------------------- */

function route() {
  var parts = (window.location.hash || "").slice(1).split("/");
  var tabs = WM.tabs(), name = parts[0];
  /* "#rollup/2024-Q2": a tab and the period it shows */
  if (parts.length > 1 && /^\d{4}/.test(parts.slice(1).join("/")))
    WM.town.period = decodeURIComponent(parts.slice(1).join("/"));
  var tab = tabs.filter(function (t) { return t[0] === name; })[0] || tabs[0];
  Array.prototype.forEach.call(document.querySelectorAll("#tabs a"), function (a) {
    if (a.getAttribute("data-tab") === tab[0])
      a.setAttribute("aria-current", "page");
    else
      a.removeAttribute("aria-current");
  });
  WM.destroyCharts();
  var main = WM.clear($("main"));
  main.setAttribute("data-tab", tab[0]);
  WM.notice($("flash"), "", "");
  tab[1](main);
}

function renderShell() {
  var s = WM.status, roleWord = WM.t("node_" + s.role);
  if (roleWord === "node_" + s.role)
    roleWord = s.role;
  document.title = (s.name || s.id) + " · " + WM.t("app_title");
  var root = WM.clear($("app"));
  root.className = "console role-" + s.role;
  root.appendChild(WM.el("header", {class: "top"},
    WM.el("div", {class: "brand"}, WM.el("img", {src: "/favicon.svg", alt: "", width: 32, height: 32}),
      WM.el("div", {},
        WM.el("div", {class: "node", id: "node-name", text: s.name || s.id}),
        WM.el("div", {class: "muted small", text: WM.t("app_title") + " · " + roleWord}))),
    WM.el("div", {class: "who"},
      WM.el("span", {id: "user", text: WM.session.user + WM.paren(WM.t("role_" + WM.session.role))}),
      langButton(),
      WM.el("button", {type: "button", class: "link", id: "logout", text: WM.t("logout"), onclick: function () {
        WM.api("POST", "/api/v1/logout", {}).then(function () { showLogin(); });
      }}))));
  root.appendChild(WM.el("div", {id: "banner", class: "notice", role: "status"}));
  root.appendChild(WM.el("nav", {id: "tabs"}, WM.tabs().map(function (t) {
    return WM.el("a", {href: "#" + t[0], "data-tab": t[0], id: "tab-" + t[0],
                       text: t[0] === "children" ? WM.t("tab_children") + WM.paren(WM.childWord()) : WM.t("tab_" + t[0])});
  })));
  root.appendChild(WM.el("div", {id: "flash", hidden: true}));
  root.appendChild(WM.el("main", {id: "main"}));
}

var bannerTimer = null;

function start() {
  WM.setLang(WM.lang);
  if (bannerTimer) {
    window.clearInterval(bannerTimer);
    bannerTimer = null;
  }
  var root = WM.clear($("app"));
  root.appendChild(WM.el("p", {class: "muted loading", text: WM.t("loading")}));
  WM.api("GET", "/api/v1/session").then(function (r) {
    if (r.status === 200 && r.data && r.data.csrf) {
      keepSession(r.data);
    } else if (r.status === 401) {
      showLogin();
      return null;
    } else {
      try { WM.session = JSON.parse(window.sessionStorage.getItem("wm.session")); } catch (e) { WM.session = null; }
      if (!WM.session) {
        showLogin();
        return null;
      }
    }
    return WM.refreshBanner();
  }).then(function (r) {
    if (!r)
      return;
    if (r.status !== 200 || !r.data) {
      if (r.status !== 401) {
        WM.clear(root).appendChild(WM.el("div", {class: "card"},
          WM.el("div", {class: "notice bad", id: "banner", role: "alert", "data-state": r.status === 503 ? "down" : "error",
            text: (r.status === 503 ? WM.t("sync_down") + " " : "") + WM.errorText(r)}),
          WM.el("button", {type: "button", text: WM.t("retry"), onclick: start})));
      }
      return;
    }
    renderShell();
    WM.refreshBanner();
    route();
    bannerTimer = window.setInterval(WM.refreshBanner, BANNER_REFRESH_MS);
  });
}

window.addEventListener("hashchange", function () {
  if (WM.status && WM.session)
    route();
});
document.addEventListener("DOMContentLoaded", start);
