/* SPDX-License-Identifier: MIT */
/*
 * users.js — the administrator's accounts page: who may use this node's
 * console and in which role (operator records and voids, viewer reads,
 * admin also manages accounts and publishes). Adds an account, sets a new
 * password, deletes one; the API (GET/POST/DELETE /api/v1/users) names the
 * field it refuses, shown beside it as in the record form.
 */
"use strict";

WM.users = {};

var ROLES = ["operator", "viewer", "admin"];

function userField(id, label, input) {
  return WM.el("div", {class: "field", "data-key": id}, WM.el("label", {for: "u-" + id, text: label}), input,
               WM.el("div", {class: "err", id: "uerr-" + id, "aria-live": "polite"}));
}

WM.users.render = function (main) {
  var note = WM.el("div", {id: "users-note", hidden: true});
  var body = WM.el("tbody", {id: "users-rows"});
  var table = WM.el("table", {class: "cards", id: "users"},
    WM.el("thead", {}, WM.el("tr", {}, [WM.t("login_user"), WM.t("u_role"), ""].map(function (h) {
      return WM.el("th", {scope: "col", text: h});
    }))), body);
  var name = WM.el("input", {id: "u-name", autocomplete: "off", autocapitalize: "none"});
  var role = WM.el("select", {id: "u-role"}, ROLES.map(function (r) {
    return WM.el("option", {value: r, text: WM.t("role_" + r) + " — " + WM.t("u_can_" + r)});
  }));
  var pw = WM.el("input", {id: "u-password", type: "password", autocomplete: "new-password"});
  var form = WM.el("form", {id: "user-form", novalidate: true},
    WM.el("h2", {text: WM.t("u_add")}),
    WM.el("div", {class: "grid"}, userField("name", WM.t("login_user"), name), userField("role", WM.t("u_role"), role),
          userField("password", WM.t("login_password"), pw)),
    WM.el("p", {class: "hint muted", text: WM.t("u_pw_hint")}),
    WM.el("div", {class: "actions"}, WM.el("button", {type: "submit", class: "primary", id: "user-submit",
                                                      text: WM.t("u_add")})));
  main.appendChild(WM.el("section", {class: "card"}, WM.el("h2", {text: WM.t("tab_users")}), note,
                         WM.el("div", {class: "scroll"}, table)));
  main.appendChild(WM.el("section", {class: "card"}, form));

  function fieldError(field, msg) {
    var e = document.getElementById("uerr-" + field);
    if (!e)
      return false;
    e.textContent = msg;
    e.closest(".field").classList.add("invalid");
    return true;
  }
  function clear() {
    Array.prototype.forEach.call(form.querySelectorAll(".err"), function (e) { e.textContent = ""; });
    Array.prototype.forEach.call(form.querySelectorAll(".invalid"), function (e) { e.classList.remove("invalid"); });
  }
  function load() {
    WM.api("GET", "/api/v1/users").then(function (r) {
      WM.clear(body);
      if (r.status !== 200) {
        WM.notice(note, "bad", WM.errorText(r));
        return;
      }
      (r.data.users || []).forEach(function (u) {
        var self = WM.session && u.name === WM.session.user;
        body.appendChild(WM.el("tr", {"data-user": u.name},
          WM.el("td", {"data-label": WM.t("login_user")}, WM.el("strong", {text: u.name}),
                self ? WM.el("span", {class: "muted", text: " " + WM.t("u_you")}) : null),
          WM.el("td", {"data-label": WM.t("u_role"), text: WM.t("role_" + u.role)}),
          WM.el("td", {"data-label": ""},
            WM.el("button", {type: "button", class: "small", text: WM.t("u_passwd"),
                             onclick: function () { passwd(u.name); }}), " ",
            self ? null : WM.el("button", {type: "button", class: "small", text: WM.t("u_del"),
                                           onclick: function () { del(u.name); }}))));
      });
    });
  }
  function passwd(user) {
    var p = window.prompt(WM.t("u_new_pw", {name: user}));
    if (!p)
      return;
    WM.api("POST", "/api/v1/users/" + encodeURIComponent(user) + "/password", {password: p}).then(function (r) {
      WM.notice(note, r.status === 200 ? "ok" : "bad", r.status === 200 ? WM.t("u_pw_set", {name: user}) : WM.errorText(r));
    });
  }
  function del(user) {
    if (!window.confirm(WM.t("u_del_confirm", {name: user})))
      return;
    WM.api("DELETE", "/api/v1/users/" + encodeURIComponent(user)).then(function (r) {
      WM.notice(note, r.status === 200 ? "ok" : "bad", r.status === 200 ? WM.t("u_deleted", {name: user}) : WM.errorText(r));
      load();
    });
  }
  form.addEventListener("submit", function (ev) {
    ev.preventDefault();
    clear();
    WM.api("POST", "/api/v1/users", {name: name.value.trim(), role: role.value, password: pw.value}).then(function (r) {
      if (r.status === 201 || r.status === 200) {
        WM.notice(note, "ok", WM.t("u_added", {name: name.value.trim()}));
        name.value = "";
        pw.value = "";
        load();
        return;
      }
      if (!(r.status === 400 && r.data && fieldError(r.data.field, WM.errorText(r))))
        WM.notice(note, "bad", WM.errorText(r));
    });
  });
  load();
};
