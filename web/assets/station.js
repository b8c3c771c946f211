/* SPDX-License-Identifier: MIT */
/*
 * station.js — the station's pages: the record form (one form per record
 * kind, its fields following the kind and the category, each field with
 * its own error line filled from the API's {"error", "field"}), the ledger
 * (台账: search, month and kind filters, void with a reason) and this
 * month's figures with a chart. The form's keys are the `wmctl record`
 * flags in snake_case (cli/cmd_record.c), which wmweb validates with the
 * same code as wmctl. An activity's photos and sign-in sheet are uploaded
 * one by one first (POST /api/v1/attachments: wmweb normalises each as
 * wmctl does and the daemon stores it durably), then the record names
 * their hashes ("photo", "attach"); the ledger shows them.
 */
"use strict";

WM.station = {};

function opts(prefix, slugs) {
  return slugs.map(function (s) { return {value: s, label: WM.t(prefix + s)}; });
}
function isVS(v) { return v.category === "volunteer_service"; }

/* Each kind's fields, in order. type: date, text, count, decimal, select,
 * radio, checks, tags, flag. show(v) hides a field whose value would be refused. */
WM.station.kinds = function () {
  return [
    {kind: "activity", fields: [
      {key: "date", type: "date", req: true},
      {key: "category", type: "select", req: true, options: opts("cat_", WM.CATEGORIES)},
      {key: "service_kind", type: "select", req: true, options: opts("sk_", WM.SERVICE_KINDS), show: isVS},
      {key: "title", type: "text", req: true},
      {key: "team", type: "team", show: isVS},
      {key: "place", type: "text"},
      {key: "participants", type: "count"},
      {key: "volunteers", type: "count"},
      {key: "hours", type: "decimal", hint: "h_hours", show: isVS},
      {key: "festival", type: "tags", hint: "h_festival"},
      {key: "grassroots", type: "flag", label: "f_grassroots", send: function (body, on) {
        if (on) body.tag = ["基层宣讲"];
      }, show: function (v) { return !isVS(v); }},
      {key: "photo", type: "files", hint: "h_photo", accept: "image/*", multiple: true, max: 9},
      {key: "attach", type: "files", hint: "h_attach", accept: "image/*,application/pdf"}
    ]},
    {kind: "publicity", fields: [
      {key: "date", type: "date", req: true},
      {key: "channel", type: "select", req: true, options: opts("ch_", WM.CHANNELS)},
      {key: "count", type: "count", req: true}
    ]},
    {kind: "volunteers", fields: [
      {key: "date", type: "date", req: true},
      {key: "registered", type: "count"},
      {key: "verified", type: "count"}
    ]},
    {kind: "recruitment", fields: [
      {key: "date", type: "date", req: true},
      {key: "count", type: "count", req: true, label: "f_count_posts"}
    ]},
    {kind: "team", fields: [
      {key: "disband", type: "radio", label: "f_team_action",
       options: [{value: "", label: WM.t("f_team_create")}, {value: "1", label: WM.t("f_team_disband")}]},
      {key: "team", type: "team", req: true, label: "f_team_id", hint: "h_team_id"},
      {key: "name", type: "text", req: true, show: function (v) { return !v.disband; }},
      /* "kind" names the record kind: the team's --kind is the key team_kind */
      {key: "team_kind", type: "select", options: opts("tk_", ["general", "branch"]),
       show: function (v) { return !v.disband; }},
      {key: "trade", type: "text", show: function (v) { return !v.disband; }}
    ]},
    {kind: "funding", fields: [
      {key: "date", type: "date", req: true},
      {key: "yuan", type: "decimal", req: true, hint: "h_yuan"},
      {key: "source", type: "text", req: true}
    ]},
    {kind: "site", fields: [
      {key: "date", type: "date", req: true},
      {key: "items", type: "checks", label: "site_items",
       options: ["plaque", "rules", "equipment", "manager", "ledger", "plan", "theme", "model"]}
    ]},
    {kind: "plan", fields: [
      {key: "title", type: "text", req: true, label: "f_plan_title"},
      {key: "due", type: "date", req: true}
    ]},
    {kind: "plan_done", fields: [
      {key: "plan", type: "plan", req: true},
      {key: "date", type: "date", req: true}
    ]}
  ];
};

/* One field: its label, input, hint and error line. */
function fieldNode(f) {
  var id = "f-" + f.key, input;
  var label = WM.t(f.label || "f_" + f.key);
  switch (f.type) {
  case "select":
    input = WM.el("select", {id: id, name: f.key},
      WM.el("option", {value: "", text: f.req ? WM.t("pick") : WM.t("none")}),
      f.options.map(function (o) { return WM.el("option", {value: o.value, text: o.label}); }));
    break;
  case "radio":
    input = WM.el("div", {class: "radios", id: id, role: "radiogroup"}, f.options.map(function (o, i) {
      return WM.el("label", {class: "choice"},
        WM.el("input", {type: "radio", name: f.key, value: o.value, checked: i === 0}), o.label);
    }));
    break;
  case "checks":
    input = WM.el("div", {class: "checks", id: id}, f.options.map(function (o) {
      return WM.el("label", {class: "choice"},
        WM.el("input", {type: "checkbox", name: o, id: "f-" + o}), WM.t("site_" + o));
    }));
    break;
  case "flag":
    return WM.el("div", {class: "field flag", "data-key": f.key},
      WM.el("label", {class: "choice"}, WM.el("input", {type: "checkbox", id: id, name: f.key}), label),
      WM.el("div", {class: "err", id: "err-" + f.key, "aria-live": "polite"}));
  case "plan":
    input = WM.el("select", {id: id, name: f.key}, WM.el("option", {value: "", text: WM.t("pick")}));
    break;
  case "files":
    input = WM.el("input", {id: id, name: f.key, type: "file", accept: f.accept, multiple: !!f.multiple});
    break;
  default:
    input = WM.el("input", {id: id, name: f.key, type: f.type === "date" ? "date" : "text",
                            autocomplete: "off",
                            inputmode: f.type === "count" ? "numeric" : f.type === "decimal" ? "decimal" : null,
                            list: f.type === "team" ? "teams" : null});
    if (f.key === "date")
      input.value = WM.today();
  }
  return WM.el("div", {class: "field" + (f.type === "checks" || f.type === "radio" ? " wide" : ""),
                       "data-key": f.key},
    WM.el("label", {for: id}, label, f.req ? WM.el("span", {class: "req", title: WM.t("h_required"), text: " *"}) : null),
    input,
    f.hint ? WM.el("div", {class: "hint", text: WM.t(f.hint)}) : null,
    WM.el("div", {class: "err", id: "err-" + f.key, "aria-live": "polite"}));
}

/* The form's current values, by key (for show()). */
function formValues(form, spec) {
  var v = {};
  spec.fields.forEach(function (f) {
    if (f.type === "radio") {
      var c = form.querySelector("input[name=" + f.key + "]:checked");
      v[f.key] = c ? c.value : "";
    } else if (f.type === "flag") {
      v[f.key] = form.querySelector("#f-" + f.key).checked;
    } else if (f.type === "files") {
      v[f.key] = form.querySelector("#f-" + f.key).files.length;
    } else if (f.type !== "checks") {
      v[f.key] = form.querySelector("#f-" + f.key).value;
    }
  });
  return v;
}

/* The API body: the wmctl flags in snake_case; empty optional fields left out. */
function formBody(form, spec) {
  var v = formValues(form, spec), body = {kind: spec.kind};
  spec.fields.forEach(function (f) {
    if (f.show && !f.show(v))
      return;
    var x = v[f.key];
    switch (f.type) {
    case "checks":
      f.options.forEach(function (o) {
        if (form.querySelector("#f-" + o).checked)
          body[o] = true;
      });
      return;
    case "flag":
      f.send(body, x);
      return;
    case "files": /* uploaded first: submit() adds their hashes */
      return;
    case "radio":
      if (x)
        body[f.key] = true;
      return;
    case "tags":
      x = x.split(/[,，、;；\s]+/).filter(function (s) { return s; });
      if (x.length)
        body[f.key] = x;
      return;
    case "plan":
      if (x) {
        var es = x.split(":");
        body.epoch = Number(es[0]);
        body.plan = Number(es[1]);
      }
      return;
    case "count":
      x = x.trim();
      if (x !== "")
        body[f.key] = /^\d+$/.test(x) ? Number(x) : x;
      return;
    case "decimal":
      x = x.trim();
      if (x !== "")
        body[f.key] = /^\d+(\.\d+)?$/.test(x) ? Number(x) : x;
      return;
    default:
      x = x.trim();
      if (x !== "")
        body[f.key] = x;
    }
  });
  return body;
}

function clearErrors(form) {
  Array.prototype.forEach.call(form.querySelectorAll(".err"), function (e) { e.textContent = ""; });
  Array.prototype.forEach.call(form.querySelectorAll("[aria-invalid]"), function (e) {
    e.removeAttribute("aria-invalid");
  });
  Array.prototype.forEach.call(form.querySelectorAll(".field.invalid"), function (e) {
    e.classList.remove("invalid");
  });
}

/* Puts the API's message beside the field it names; false if no such field is shown. */
function showFieldError(form, field, msg) {
  var key = String(field || "").replace(/-/g, "_");
  if (key === "seq" || key === "epoch")
    key = "plan";
  if (key === "tag")
    key = "festival";
  if (["plaque", "rules", "equipment", "manager", "ledger", "plan", "theme", "model"].indexOf(key) >= 0 &&
      !form.querySelector("#err-" + key))
    key = "items";
  var err = form.querySelector("#err-" + key);
  if (!err || err.closest(".field").hidden)
    return false;
  err.textContent = msg;
  err.closest(".field").classList.add("invalid");
  var input = form.querySelector("#f-" + key);
  if (input) {
    input.setAttribute("aria-invalid", "true");
    input.focus();
  }
  return true;
}

/* Teams for the team field's suggestions: every team the station's rollup lists. */
WM.station.loadTeams = function (list) {
  WM.api("GET", "/api/v1/rollup" + WM.query({period: "2000-01-01.." + WM.today(), format: "json"}))
    .then(function (r) {
      if (r.status !== 200 || !r.data)
        return;
      var teams = Object.keys(WM.get(r.data, "totals.volunteer_services.by_team") || {}).sort();
      WM.clear(list);
      teams.forEach(function (t) { list.appendChild(WM.el("option", {value: t})); });
    });
};

/* Open plans for the plan-done form: plan records neither voided nor done
 * (the latest page of each kind: the plans a station keeps are few). */
function loadPlans(select) {
  var done = {};
  WM.api("GET", "/api/v1/records" + WM.query({kind: "plan_done"})).then(function (r) {
    ((r.data && r.data.records) || []).forEach(function (rec) {
      if (!rec.voided_by && rec.plan_done)
        done[(rec.plan_done.plan_epoch || rec.epoch) + ":" + rec.plan_done.plan_seq] = true;
    });
    return WM.api("GET", "/api/v1/records" + WM.query({kind: "plan"}));
  }).then(function (r) {
    if (r.status !== 200 || !r.data)
      return;
    (r.data.records || []).forEach(function (rec) {
      if (rec.voided_by || !rec.plan || done[rec.epoch + ":" + rec.seq])
        return;
      select.appendChild(WM.el("option", {value: rec.epoch + ":" + rec.seq,
                                          text: rec.seq + " · " + rec.plan.title + WM.paren(rec.plan.due)}));
    });
  });
}

WM.station.renderRecord = function (main) {
  var kinds = WM.station.kinds();
  var current = WM.station.kind || "activity";
  var chips = WM.el("div", {class: "chips", role: "tablist", "aria-label": WM.t("col_kind")});
  var holder = WM.el("div");
  var teams = WM.el("datalist", {id: "teams"});
  main.appendChild(WM.el("section", {class: "card"}, chips, teams, holder));
  WM.station.loadTeams(teams);

  function build() {
    var spec = kinds.filter(function (k) { return k.kind === current; })[0];
    WM.station.kind = current;
    WM.clear(chips);
    kinds.forEach(function (k) {
      chips.appendChild(WM.el("button", {type: "button", class: "chip", id: "kind-" + k.kind,
        "aria-pressed": k.kind === current ? "true" : "false", text: WM.t("kind_" + k.kind),
        onclick: function () { current = k.kind; build(); }}));
    });
    var note = WM.el("div", {id: "form-note", hidden: true});
    var form = WM.el("form", {id: "record-form", class: "record-form", novalidate: true,
                              "data-kind": spec.kind},
      WM.el("h2", {text: WM.t("kind_" + spec.kind)}),
      WM.el("div", {class: "grid"}, spec.fields.map(fieldNode)),
      WM.el("div", {class: "actions"},
        WM.el("button", {type: "submit", id: "record-submit", class: "primary", text: WM.t("submit_record")})),
      note);
    function refresh() {
      var v = formValues(form, spec);
      spec.fields.forEach(function (f) {
        form.querySelector(".field[data-key=" + f.key + "]").hidden = !!(f.show && !f.show(v));
      });
    }
    form.addEventListener("change", refresh);
    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      submit(form, spec, note);
    });
    if (spec.kind === "plan_done")
      loadPlans(form.querySelector("#f-plan"));
    WM.clear(holder).appendChild(form);
    refresh();
  }
  build();
};

/* The form's files, in order: [{key, file}]. */
function formFiles(form, spec) {
  var out = [];
  spec.fields.forEach(function (f) {
    if (f.type !== "files")
      return;
    Array.prototype.forEach.call(form.querySelector("#f-" + f.key).files, function (file) {
      out.push({key: f.key, file: file});
    });
  });
  return out;
}

/* Uploads the files one after the other (each a POST of its bytes: wmweb
 * bounds a request's body); resolves with {ok, hashes: {photo: [...],
 * attach: [...]}} or {ok: false, key, msg}. */
function uploadAll(files, note) {
  var hashes = {}, i = 0;
  function next() {
    if (i === files.length)
      return Promise.resolve({ok: true, hashes: hashes});
    var it = files[i++];
    WM.notice(note, "", WM.t("uploading", {i: i, n: files.length, name: it.file.name}));
    return WM.upload("/api/v1/attachments" + WM.query({name: it.file.name}), it.file).then(function (r) {
      if (r.status !== 201 || !r.data || !r.data.hash)
        return {ok: false, key: it.key, msg: WM.t("upload_failed", {name: it.file.name}) + WM.errorText(r)};
      (hashes[it.key] = hashes[it.key] || []).push(r.data.hash);
      return next();
    });
  }
  return next();
}

function submit(form, spec, note) {
  var button = form.querySelector("#record-submit");
  clearErrors(form);
  WM.notice(note, "", "");
  var files = formFiles(form, spec);
  var photos = files.filter(function (x) { return x.key === "photo"; }).length;
  if (photos > 9) {
    showFieldError(form, "photo", WM.t("too_many_photos", {n: 9}));
    WM.notice(note, "bad", WM.t("save_failed") + WM.t("fix_fields"));
    return;
  }
  button.disabled = true;
  var body = formBody(form, spec);
  uploadAll(files, note).then(function (u) {
    if (!u.ok)
      return {status: 400, data: {error: u.msg, field: u.key}};
    if (u.hashes.photo)
      body.photo = u.hashes.photo;
    if (u.hashes.attach)
      body.attach = u.hashes.attach[0];
    return WM.api("POST", "/api/v1/records", body);
  }).then(function (r) {
    button.disabled = false;
    if (r.status === 201 || r.status === 200) {
      WM.notice(note, "ok", WM.t("saved", {kind: WM.t("kind_" + spec.kind), seq: r.data.seq}));
      /* ready for the next one: the texts and ticks cleared, the date and selects kept */
      Array.prototype.forEach.call(form.querySelectorAll("input[type=text]"), function (i) { i.value = ""; });
      Array.prototype.forEach.call(form.querySelectorAll("input[type=checkbox]"), function (i) { i.checked = false; });
      Array.prototype.forEach.call(form.querySelectorAll("input[type=file]"), function (i) { i.value = ""; });
      WM.refreshBanner();
      return;
    }
    var msg = WM.errorText(r);
    if (r.status === 400 && r.data && r.data.field && showFieldError(form, r.data.field, msg)) {
      WM.notice(note, "bad", WM.t("save_failed") + WM.t("fix_fields"));
      return;
    }
    WM.notice(note, "bad", WM.t("save_failed") + msg);
  });
}

/* ---- the ledger (台账) ------------------------------------------------ */

function monthEnd(m) {
  var p = m.split("-"), d = new Date(Number(p[0]), Number(p[1]), 0);
  return m + "-" + WM.pad(d.getDate());
}

/* One line saying what a record is. */
WM.station.summary = function (rec) {
  var b = rec[rec.kind] || {}, parts = [];
  switch (rec.kind) {
  case "activity":
    parts.push(WM.t("cat_" + b.category) + (b.service_kind ? "·" + WM.t("sk_" + b.service_kind) : "") +
               (WM.lang === "en" ? ": " : "：") + (b.title || ""));
    if (b.place) parts.push(b.place);
    if (b.team) parts.push(WM.t("f_team") + " " + b.team);
    if (b.hours) parts.push(b.hours + " h");
    if (b.tags && b.tags.length) parts.push(b.tags.join("、"));
    break;
  case "publicity": parts.push(WM.t("ch_" + b.channel) + " × " + (b.count || 0)); break;
  case "volunteers":
    parts.push(WM.t("f_registered") + " " + (b.registered || 0) + " · " + WM.t("f_verified") + " " + (b.verified || 0));
    break;
  case "recruitment": parts.push(WM.t("f_count_posts") + " " + (b.count || 0)); break;
  case "team":
    if (b.action === "disband")
      parts.push(WM.t("team_disband_of", {team: b.team}));
    else
      parts.push((b.name || "") + WM.paren(b.team + (b.kind ? ", " + WM.t("tk_" + b.kind) : "") +
                                             (b.trade ? ", " + b.trade : "")));
    break;
  case "funding": parts.push("¥" + WM.num(b.yuan || 0) + " · " + (b.source || "")); break;
  case "site":
    parts.push(["plaque", "rules", "equipment", "manager", "ledger", "plan", "theme"].filter(function (k) {
      return b[k];
    }).map(function (k) { return WM.t("site_" + k); }).concat(b.model_station ? [WM.t("site_model")] : [])
      .join("、") || WM.t("none"));
    break;
  case "plan": parts.push((b.title || "") + " → " + (b.due || "")); break;
  case "plan_done": parts.push(WM.t("plan_done_of", {seq: b.plan_seq})); break;
  case "void": parts.push(WM.t("void_of", {seq: b.target_seq, reason: b.reason || ""})); break;
  case "rollup": parts.push(WM.t("rollup_of", {period: b.period})); break;
  default: parts.push(rec.kind);
  }
  return parts.join(" · ");
};

function recDate(rec) {
  var b = rec[rec.kind] || {};
  return rec.day || b.date || b.due || (rec.captured ? WM.when(rec.captured).slice(0, 10) : "");
}

function people(rec) {
  var b = rec[rec.kind] || {}, n = [];
  if (rec.kind !== "activity")
    return "";
  if (b.participants) n.push(b.participants);
  if (b.volunteers) n.push(WM.t("f_volunteers").replace(/（.*|\s.*/, "") + " " + b.volunteers);
  return n.join(" / ");
}

WM.station.renderLedger = function (main) {
  var kinds = ["activity", "publicity", "volunteers", "recruitment", "team", "funding", "site", "plan",
               "plan_done", "void", "rollup"];
  var month = WM.el("input", {type: "month", id: "ledger-month", "aria-label": WM.t("ledger_month")});
  var kind = WM.el("select", {id: "ledger-kind", "aria-label": WM.t("ledger_kind")},
    WM.el("option", {value: "", text: WM.t("kind_all")}),
    kinds.map(function (k) { return WM.el("option", {value: k, text: WM.t("kind_" + k)}); }));
  var q = WM.el("input", {type: "search", id: "ledger-q", placeholder: WM.t("ledger_search_ph"),
                          "aria-label": WM.t("ledger_search")});
  var filters = WM.el("form", {class: "filters", id: "ledger-filters"},
    WM.el("label", {}, WM.t("ledger_month"), month), WM.el("label", {}, WM.t("ledger_kind"), kind),
    WM.el("label", {class: "grow"}, WM.t("ledger_search"), q),
    WM.el("button", {type: "submit", text: WM.t("ledger_go")}));
  var note = WM.el("div", {id: "ledger-note", hidden: true});
  var body = WM.el("tbody", {id: "ledger-rows"});
  var table = WM.el("table", {class: "ledger cards", id: "ledger"},
    WM.el("thead", {}, WM.el("tr", {}, ["col_seq", "col_date", "col_kind", "col_what", "col_people", "col_by",
                                        "col_state", "col_action"].map(function (k) {
      return WM.el("th", {scope: "col", text: WM.t(k)});
    }))), body);
  var more = WM.el("button", {type: "button", id: "ledger-more", hidden: true, text: WM.t("ledger_more")});
  var empty = WM.el("p", {class: "muted", id: "ledger-empty", hidden: true, text: WM.t("ledger_empty")});
  main.appendChild(WM.el("section", {class: "card"}, filters, note, WM.el("div", {class: "scroll"}, table),
                         empty, more));
  var page = null;

  function load(reset) {
    var m = month.value;
    if (reset) {
      page = null;
      WM.clear(body);
    }
    WM.api("GET", "/api/v1/records" + WM.query({kind: kind.value, q: q.value.trim(),
      from: m ? m + "-01" : "", to: m ? monthEnd(m) : "", page: page})).then(function (r) {
      if (r.status !== 200) {
        WM.notice(note, "bad", WM.errorText(r));
        return;
      }
      (r.data.records || []).forEach(function (rec) { body.appendChild(row(rec)); });
      page = r.data.next_page;
      more.hidden = page === null || page === undefined;
      empty.hidden = body.children.length > 0;
    });
  }
  function row(rec) {
    var canVoid = WM.canWrite() && !rec.voided_by && rec.kind !== "void" && rec.kind !== "rollup";
    var cells = [
      ["col_seq", String(rec.seq)], ["col_date", recDate(rec)], ["col_kind", WM.t("kind_" + rec.kind)],
      ["col_what", WM.station.summary(rec)], ["col_people", people(rec)], ["col_by", rec.account || rec.operator || ""],
      ["col_state", rec.voided_by ? WM.t("st_voided") + WM.paren(rec.voided_by) : WM.t("st_valid")]
    ].map(function (c) { return WM.el("td", {"data-label": WM.t(c[0]), text: c[1]}); });
    WM.append(cells[3], WM.station.attachments(rec));
    cells.push(WM.el("td", {"data-label": ""}, canVoid ? WM.el("button", {type: "button", class: "small void",
      "data-seq": rec.seq, text: WM.t("void_button"), onclick: function () { voidDialog(rec, load); }}) : null));
    return WM.el("tr", {id: "rec-" + rec.epoch + "-" + rec.seq, class: rec.voided_by ? "voided" : null}, cells);
  }
  filters.addEventListener("submit", function (ev) { ev.preventDefault(); load(true); });
  month.addEventListener("change", function () { load(true); });
  kind.addEventListener("change", function () { load(true); });
  more.addEventListener("click", function () { load(false); });
  load(true);
};

/* An activity's photos (thumbnails linking to the photo) and sign-in
 * sheet (a link), or null. wmweb serves a pruned photo's thumbnail with
 * X-WM-Pruned; the image shows the same either way. */
WM.station.attachments = function (rec) {
  var a = (rec.activity && rec.activity.attachments) || [];
  if (!a.length)
    return null;
  var n = 0;
  return WM.el("div", {class: "attachments"}, a.map(function (x) {
    var src = "/api/v1/blobs/" + x.hash;
    if (x.role === "sign_in_sheet")
      return WM.el("a", {href: src, class: "sheet", text: WM.t("att_sheet")});
    n++;
    return WM.el("a", {href: src, target: "_blank", rel: "noopener"},
      WM.el("img", {src: src, class: "thumb", loading: "lazy", alt: WM.t("att_photo", {i: n}),
                    "data-hash": x.hash}));
  }));
};

/* The void dialog: a required reason, then POST …/void; the ledger reloads. */
function voidDialog(rec, reload) {
  var reason = WM.el("input", {type: "text", id: "void-reason", autocomplete: "off"});
  var err = WM.el("div", {class: "err", id: "err-reason", "aria-live": "polite"});
  var dlg = WM.el("dialog", {id: "void-dialog", class: "dialog"});
  var form = WM.el("form", {novalidate: true},
    WM.el("h2", {text: WM.t("void_title") + " #" + rec.seq}),
    WM.el("p", {text: WM.station.summary(rec)}),
    WM.el("p", {class: "muted", text: WM.t("void_explain")}),
    WM.el("div", {class: "field"}, WM.el("label", {for: "void-reason", text: WM.t("f_reason")}), reason, err),
    WM.el("div", {class: "actions"},
      WM.el("button", {type: "button", id: "void-cancel", text: WM.t("cancel"),
                       onclick: function () { dlg.close(); dlg.remove(); }}),
      WM.el("button", {type: "submit", id: "void-confirm", class: "danger", text: WM.t("void_confirm")})));
  dlg.appendChild(form);
  document.body.appendChild(dlg);
  form.addEventListener("submit", function (ev) {
    ev.preventDefault();
    err.textContent = "";
    WM.api("POST", "/api/v1/records/" + rec.epoch + "/" + rec.seq + "/void", {reason: reason.value.trim()})
      .then(function (r) {
        if (r.status === 200 || r.status === 201) {
          dlg.close();
          dlg.remove();
          WM.flash("ok", WM.t("voided_ok", {seq: rec.seq}));
          WM.refreshBanner();
          reload(true);
          return;
        }
        err.textContent = WM.errorText(r);
      });
  });
  dlg.showModal();
  reason.focus();
}

/* ---- this month's figures ------------------------------------------- */

WM.figureCards = function (totals) {
  var items = [
    ["m_activities", "activities.total"], ["m_participants", "participants"],
    ["m_services", "volunteer_services.total"], ["m_hours", "service_hours"],
    ["m_lectures", "grassroots_lectures"], ["m_publicity", "publicity.total"],
    ["m_volunteers", "volunteers.registered"], ["m_funding", "funding_yuan"]
  ];
  if (totals.orders) /* needs and orders: only where there are some, as the rollup says */
    items = items.concat([["m_needs", "orders.needs_received"], ["m_orders", "orders.orders_dispatched"],
                          ["m_orders_done", "orders.orders_done"], ["m_loops", "orders.loops_closed"],
                          ["m_satisfaction", "orders.satisfaction_rate"]]);
  function value(key) {
    var v = WM.get(totals, key);
    if (key === "orders.satisfaction_rate")
      return v === null || v === undefined ? "–" : WM.num(Math.round(v * 1000) / 10, 0) + "%";
    return WM.num(v || 0, key === "funding_yuan" ? 2 : 0);
  }
  return WM.el("div", {class: "figures"}, items.map(function (it) {
    return WM.el("div", {class: "figure", "data-figure": it[1]},
      WM.el("div", {class: "value", text: value(it[1])}),
      WM.el("div", {class: "label", text: WM.t(it[0])}));
  }));
};

WM.station.renderMonth = function (main) {
  var period = WM.thisMonth();
  var box = WM.el("section", {class: "card", id: "month"}, WM.el("h2", {text: WM.t("tab_month") + " · " + period}));
  main.appendChild(box);
  WM.api("GET", "/api/v1/rollup" + WM.query({period: period, format: "json"})).then(function (r) {
    if (r.status !== 200) {
      box.appendChild(WM.el("div", {class: "notice bad", text: WM.errorText(r)}));
      return;
    }
    var t = r.data.totals;
    box.appendChild(WM.figureCards(t));
    box.appendChild(WM.chartCategories("chart-categories", t));
    WM.append(box, WM.town.teamChart(r.data));
  });
};
