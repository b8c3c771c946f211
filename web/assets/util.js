/* SPDX-License-Identifier: MIT */
/*
 * util.js — small helpers shared by the pages: building DOM nodes without
 * innerHTML (every text from the node or the API goes in as text, never as
 * markup), dates and times, numbers, and the period picker that composes
 * the period strings of docs/rollup-json.md (2024-05, 2024-Q2, 2024-H1,
 * 2024, 2024-03-01..2024-05-31).
 */
"use strict";

/* el("div", {class: "x", "data-k": 1, onclick: fn}, child, "text", [more]) */
WM.el = function (tag, attrs) {
  var e = document.createElement(tag);
  if (attrs) {
    Object.keys(attrs).forEach(function (k) {
      var v = attrs[k];
      if (v === undefined || v === null || v === false)
        return;
      if (k.slice(0, 2) === "on" && typeof v === "function")
        e.addEventListener(k.slice(2), v);
      else if (k === "text")
        e.textContent = v;
      else if (v === true)
        e.setAttribute(k, "");
      else
        e.setAttribute(k, String(v));
    });
  }
  for (var i = 2; i < arguments.length; i++)
    WM.append(e, arguments[i]);
  return e;
};

WM.append = function (parent, c) {
  if (c === undefined || c === null || c === false)
    return;
  if (Array.isArray(c)) {
    c.forEach(function (x) { WM.append(parent, x); });
    return;
  }
  parent.appendChild(typeof c === "object" ? c : document.createTextNode(String(c)));
};

WM.clear = function (e) {
  while (e.firstChild)
    e.removeChild(e.firstChild);
  return e;
};

WM.pad = function (n) { return (n < 10 ? "0" : "") + n; };

/* Today as YYYY-MM-DD in the browser's local time. */
WM.today = function () {
  var d = new Date();
  return d.getFullYear() + "-" + WM.pad(d.getMonth() + 1) + "-" + WM.pad(d.getDate());
};
WM.thisMonth = function () { return WM.today().slice(0, 7); };

/* A time as unix seconds, or "2026-11-30T01:18:48+0000": a Date, or null. */
WM.toDate = function (v) {
  if (v === undefined || v === null || v === "" || v === 0)
    return null;
  if (v instanceof Date)
    return v;
  if (typeof v === "number")
    return new Date(v * 1000);
  var m = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)([+-]\d\d)(\d\d)$/.exec(v);
  var d = new Date(m ? m[1] + m[2] + ":" + m[3] : v);
  return isNaN(d.getTime()) ? null : d;
};

/* "11-30 09:18 (3 min ago)" */
WM.when = function (v) {
  var d = WM.toDate(v);
  if (!d)
    return WM.t("never");
  var s = (Date.now() - d.getTime()) / 1000, ago;
  if (s < 90)
    ago = WM.t("just_now");
  else if (s < 3600)
    ago = WM.t("min_ago", {n: Math.round(s / 60)});
  else if (s < 86400 * 2)
    ago = WM.t("hour_ago", {n: Math.round(s / 3600)});
  else
    ago = WM.t("day_ago", {n: Math.floor(s / 86400)});
  var abs = d.getFullYear() + "-" + WM.pad(d.getMonth() + 1) + "-" + WM.pad(d.getDate()) + " " +
            WM.pad(d.getHours()) + ":" + WM.pad(d.getMinutes());
  return abs + WM.paren(ago);
};

/* "（x）" in Chinese, " (x)" in English. */
WM.paren = function (x) { return WM.lang === "en" ? " (" + x + ")" : "（" + x + "）"; };

/* A figure for people: grouped digits, at most two decimals (exactly
 * `places` when given, as yuan and fen want). */
WM.num = function (v, places) {
  if (typeof v !== "number")
    return v === undefined || v === null ? "" : String(v);
  return v.toLocaleString(WM.lang === "en" ? "en-US" : "zh-CN",
                          {minimumFractionDigits: places || 0, maximumFractionDigits: places || 2});
};

/* Reads a dotted path ("volunteer_services.by_kind.legal") of an object. */
WM.get = function (o, path) {
  var parts = path.split(".");
  for (var i = 0; i < parts.length && o !== undefined && o !== null; i++)
    o = o[parts[i]];
  return o;
};

/* A status line: class is "ok", "warn", "bad" or "info". */
WM.notice = function (box, cls, text) {
  WM.clear(box);
  if (!text) {
    box.hidden = true;
    return;
  }
  box.hidden = false;
  box.className = "notice " + cls;
  box.setAttribute("role", cls === "bad" ? "alert" : "status");
  box.textContent = text;
};

/*
 * The period picker: a kind (month, quarter, half year, year, range) and
 * the inputs of that kind. picker.value() is the period string; onChange()
 * runs when the user presses the button beside it.
 */
WM.periodPicker = function (id, onChange) {
  var now = new Date(), year = now.getFullYear();
  var kind = WM.el("select", {id: id + "-kind", "aria-label": WM.t("period")},
    ["month", "quarter", "half", "year", "range"].map(function (k) {
      return WM.el("option", {value: k, text: WM.t("p_" + k)});
    }));
  var years = [];
  for (var y = year; y >= year - 6; y--)
    years.push(WM.el("option", {value: y, text: String(y)}));
  var month = WM.el("input", {type: "month", id: id + "-month", value: WM.thisMonth(),
                              "aria-label": WM.t("p_month")});
  var ysel = WM.el("select", {id: id + "-year", "aria-label": WM.t("p_year")}, years);
  var q = WM.el("select", {id: id + "-q", "aria-label": WM.t("p_quarter")}, [1, 2, 3, 4].map(function (n) {
    return WM.el("option", {value: "Q" + n, text: WM.t("p_q", {n: n})});
  }));
  q.value = "Q" + (Math.floor(now.getMonth() / 3) + 1);
  var h = WM.el("select", {id: id + "-h", "aria-label": WM.t("p_half")},
    WM.el("option", {value: "H1", text: WM.t("p_h1")}), WM.el("option", {value: "H2", text: WM.t("p_h2")}));
  h.value = now.getMonth() < 6 ? "H1" : "H2";
  var from = WM.el("input", {type: "date", id: id + "-from", value: WM.thisMonth() + "-01",
                             "aria-label": WM.t("p_from")});
  var to = WM.el("input", {type: "date", id: id + "-to", value: WM.today(), "aria-label": WM.t("p_to")});
  var rangeBox = WM.el("span", {class: "range"}, from, WM.el("span", {text: "–"}), to);
  var button = WM.el("button", {type: "submit", id: id + "-go", text: WM.t("show")});
  var form = WM.el("form", {class: "period", id: id}, WM.el("label", {text: WM.t("period")}),
                   kind, month, ysel, q, h, rangeBox, button);
  function show() {
    var k = kind.value;
    month.hidden = k !== "month";
    ysel.hidden = !(k === "quarter" || k === "half" || k === "year");
    q.hidden = k !== "quarter";
    h.hidden = k !== "half";
    rangeBox.hidden = k !== "range";
  }
  kind.addEventListener("change", show);
  form.addEventListener("submit", function (ev) {
    ev.preventDefault();
    onChange();
  });
  show();
  return {
    node: form,
    value: function () {
      switch (kind.value) {
      case "quarter": return ysel.value + "-" + q.value;
      case "half": return ysel.value + "-" + h.value;
      case "year": return ysel.value;
      case "range": return from.value + ".." + to.value;
      default: return month.value || WM.thisMonth();
      }
    },
    set: function (p) {
      var m = /^(\d{4})/.exec(p);
      if (m && !ysel.querySelector("option[value='" + m[1] + "']"))
        ysel.appendChild(WM.el("option", {value: m[1], text: m[1]}));
      if ((m = /^(\d{4})-(\d\d)$/.exec(p))) { kind.value = "month"; month.value = p; }
      else if ((m = /^(\d{4})-(Q[1-4])$/.exec(p))) { kind.value = "quarter"; ysel.value = m[1]; q.value = m[2]; }
      else if ((m = /^(\d{4})-(H[12])$/.exec(p))) { kind.value = "half"; ysel.value = m[1]; h.value = m[2]; }
      else if ((m = /^(\d{4})$/.exec(p))) { kind.value = "year"; ysel.value = m[1]; }
      else if ((m = /^(\d{4}-\d\d-\d\d)\.\.(\d{4}-\d\d-\d\d)$/.exec(p))) {
        kind.value = "range"; from.value = m[1]; to.value = m[2];
      }
      show();
    }
  };
};
