/* SPDX-License-Identifier: MIT */
/*
 * town.js — the aggregator's pages, for a town institute (its stations) and
 * a county center (its towns): every child with its sync state, highlighted
 * when it needs attention; the rollup of any period as figures, charts and
 * a table, with CSV and xlsx downloads and publication upward; the problems
 * of the period; the report prose; and, at a county, the audit of a town's
 * figures with its verdict figure by figure.
 */
"use strict";

WM.town = {};

/* "ok" | "behind" | "silent N days" | "quarantined" | "revoked" → [label, class] */
WM.town.state = function (s) {
  var m = /^silent (\d+) days?$/.exec(s || "");
  if (m)
    return [WM.t("state_silent", {n: m[1]}), "bad"];
  if (s === "ok")
    return [WM.t("state_ok"), "ok"];
  if (s === "behind" || s === "verifying")
    return [WM.t("state_" + s), "warn"];
  if (s === "never seen")
    return [WM.t("state_never"), "bad"];
  if (s === "quarantined")
    return [WM.t("state_quarantined"), "bad"];
  /* revoked on purpose: shown, not counted as needing attention */
  if (s === "revoked")
    return [WM.t("state_revoked"), "off"];
  return [s || "?", "warn"];
};

/* A child whose state is anything but ok or revoked on purpose. */
WM.town.needsAttention = function (r) { return r.state !== "ok" && r.state !== "revoked"; };

function childWord() { return WM.childWord(); }

WM.town.renderChildren = function (main) {
  var rows = (WM.status.stations || []).slice();
  var attention = rows.filter(WM.town.needsAttention);
  rows.sort(function (a, b) {
    return WM.town.needsAttention(b) - WM.town.needsAttention(a) || String(a.id).localeCompare(String(b.id));
  });
  var summary = WM.el("div", {id: "attention"});
  WM.notice(summary, attention.length ? "warn" : "ok",
            WM.t(attention.length ? "att_count" : "att_none", {n: attention.length, child: WM.childWord()}));
  var body = WM.el("tbody", {}, rows.map(function (r) {
    var st = WM.town.state(r.state);
    return WM.el("tr", {class: st[1] === "ok" ? null : st[1] === "off" ? "off" : "attention " + st[1], "data-id": r.id,
                        "data-state": r.state},
      WM.el("td", {"data-label": childWord()}, WM.el("strong", {text: r.name || r.id}),
            WM.el("div", {class: "muted small", text: r.id})),
      WM.el("td", {"data-label": WM.t("col_state2")}, WM.el("span", {class: "badge " + st[1], text: st[0]})),
      WM.el("td", {"data-label": WM.t("col_lag"), text: WM.num(r.lag || 0)}),
      WM.el("td", {"data-label": WM.t("col_last"), text: WM.when(r.last_seen_unix || r.last_seen)}),
      WM.el("td", {"data-label": WM.t("col_records"), text: WM.num(r.seq || 0)}));
  }));
  var table = WM.el("table", {class: "cards", id: "children"},
    WM.el("thead", {}, WM.el("tr", {}, [childWord(), WM.t("col_state2"), WM.t("col_lag"), WM.t("col_last"),
                                        WM.t("col_records")].map(function (h) {
      return WM.el("th", {scope: "col", text: h});
    }))), body);
  main.appendChild(WM.el("section", {class: "card"}, summary, WM.el("div", {class: "scroll"}, table)));
};

/* ---- the period's rollup -------------------------------------------- */

/* The period shared by the figures, problems and report tabs. */
WM.town.period = WM.thisMonth();

function periodBar(main, onShow) {
  var picker = WM.periodPicker("period", function () {
    WM.town.period = picker.value();
    var tab = (window.location.hash || "#").slice(1).split("/")[0];
    window.history.replaceState(null, "", "#" + tab + "/" + WM.town.period);
    onShow();
  });
  picker.set(WM.town.period);
  main.appendChild(WM.el("section", {class: "card toolbar"}, picker.node));
  return picker;
}

function loadRollup(period) {
  return WM.api("GET", "/api/v1/rollup" + WM.query({period: period, format: "json"}));
}

/*
 * A tab that shows one period: the period bar, then out (appended to main),
 * filled by draw(out, answer's data) once load(period) answers 200, else by
 * the error in plain words. Drawn at once and at every "show".
 */
function periodPage(main, out, load, draw) {
  periodBar(main, show);
  main.appendChild(out);
  function show() {
    WM.destroyCharts();
    WM.clear(out).appendChild(WM.el("p", {class: "muted", text: WM.t("loading")}));
    load(WM.town.period).then(function (r) {
    WM.clear(out);
    if (r.status !== 200 || !r.data) {
      out.appendChild(WM.el("div", {class: "notice bad", role: "alert", text: WM.errorText(r)}));
      return;
    }
    draw(out, r.data);
    });
  }
  show();
}

/* The problems the rollup lists that concern a team, by by_team key. */
function lateTeams(rollup) {
  var late = {}, blocks = 0, own = rollup.scope === "station";
  (rollup.problems || []).forEach(function (p) {
    if (p.kind !== "team_below_cadence" && p.kind !== "team_never_served")
    return;
    late[own ? p.team : p.station + "/" + p.team] = true;
    if (p.kind === "team_below_cadence")
    blocks = Math.max(blocks, p.blocks || 0);
  });
  return {late: late, blocks: blocks};
}

/* Days of the period, for the cadence line when no problem names it. */
function periodDays(rollup) {
  var a = WM.toDate(rollup.from + "T00:00:00"), b = WM.toDate(rollup.to + "T00:00:00");
  return a && b ? Math.round((b - a) / 86400000) + 1 : 0;
}

/* Shortens "xx/longhua/xinhe/team0" to "xinhe/team0" under the node's own id. */
function shortTeams(byTeam, own) {
  var out = {};
  Object.keys(byTeam || {}).forEach(function (k) {
    out[k.indexOf(own + "/") === 0 ? k.slice(own.length + 1) : k] = byTeam[k];
  });
  return out;
}

/*
 * The teams of a rollup against the cadence, or null without teams: the
 * services the cadence asks for are the period's whole blocks of
 * cadence_days (as a team_below_cadence problem states them; else 14-day
 * blocks), and the teams a problem names are drawn red.
 */
WM.town.teamChart = function (j) {
  var lt = lateTeams(j), late = {};
  var by = shortTeams(WM.get(j.totals, "volunteer_services.by_team"), j.id);
  if (!Object.keys(by).length)
    return null;
  Object.keys(lt.late).forEach(function (k) {
    late[k.indexOf(j.id + "/") === 0 ? k.slice(j.id.length + 1) : k] = true;
  });
  return WM.chartTeams("chart-teams", by, lt.blocks || Math.floor(periodDays(j) / 14), late);
};

var ROW_COLUMNS = [
  ["activities.total", "m_activities"], ["activities.theme_lecture", null], ["activities.theory_education", null],
  ["activities.party_training", null], ["activities.civilization_practice", null],
  ["activities.culture_sports", null], ["volunteer_services.total", "m_services"],
  ["service_hours", "m_hours"], ["participants", "m_participants"], ["grassroots_lectures", "m_lectures"],
  ["publicity.total", "m_publicity"], ["volunteers.registered", "m_volunteers"], ["funding_yuan", "m_funding"]
];

function rollupTable(rollup) {
  var head = [childWord()].concat(ROW_COLUMNS.map(function (c) {
    return c[1] ? WM.t(c[1]) : WM.fig(c[0].split(".")[1]);
  }));
  function tr(name, totals, cls) {
    return WM.el("tr", {class: cls}, WM.el("th", {scope: "row", text: name}), ROW_COLUMNS.map(function (c) {
      return WM.el("td", {class: "num", text: WM.num(WM.get(totals, c[0]) || 0, c[0] === "funding_yuan" ? 2 : 0)});
    }));
  }
  var rows = (rollup.stations || []).map(function (r) { return tr(r.name || r.id, r.totals); });
  return WM.el("div", {class: "scroll"}, WM.el("table", {class: "figures-table", id: "rollup-table"},
    WM.el("thead", {}, WM.el("tr", {}, head.map(function (h) { return WM.el("th", {scope: "col", text: h}); }))),
    WM.el("tbody", {}, rows), WM.el("tfoot", {}, tr(WM.t("total_row"), rollup.totals, "total"))));
}

function downloads(period) {
  function a(fmt, label) {
    return WM.el("a", {class: "button", id: "download-" + fmt, download: "",
                       href: "/api/v1/rollup" + WM.query({period: period, format: fmt, lang: WM.lang}),
                       text: WM.t(label)});
  }
  var box = WM.el("div", {class: "actions"}, a("csv", "download_csv"), a("xlsx", "download_xlsx"));
  /* an aggregator with an upstream publishes to the tier above */
  if (WM.status.pending !== undefined && WM.upWord() && WM.session && WM.session.role === "admin") {
    var note = WM.el("div", {id: "publish-note", hidden: true});
    box.appendChild(WM.el("button", {type: "button", id: "publish", class: "primary",
                                     text: WM.t("publish", {up: WM.upWord()}),
      onclick: function () {
        if (!window.confirm(WM.t("publish_confirm", {period: period})))
          return;
        WM.api("POST", "/api/v1/publish", {period: period}).then(function (r) {
          if (r.status === 200 || r.status === 201)
            WM.notice(note, "ok", WM.t("published", {period: period, seq: r.data.seq}));
          else
            WM.notice(note, "bad", WM.errorText(r));
          WM.refreshBanner();
        });
      }}));
    box.appendChild(note);
  }
  return box;
}

WM.town.renderRollup = function (main) {
  periodPage(main, WM.el("div", {id: "rollup"}), loadRollup, function (out, j) {
    out.appendChild(WM.el("section", {class: "card"},
      WM.el("h2", {text: (j.name || j.id) + " · " + j.period + WM.paren(j.from + " – " + j.to)}),
      WM.figureCards(j.totals), downloads(j.period)));
    var charts = WM.el("section", {class: "card charts"});
    var rows = (j.stations || []).filter(function (s) {
      return s.id !== j.id || WM.get(s.totals, "activities.total");
    });
    if (rows.length)
      charts.appendChild(WM.chartCategoriesByRow("chart-stations", rows));
    else
      charts.appendChild(WM.chartCategories("chart-categories", j.totals));
    WM.append(charts, WM.town.teamChart(j));
    out.appendChild(charts);
    out.appendChild(WM.el("section", {class: "card"}, rollupTable(j)));
  });
};

/* ---- problems ------------------------------------------------------- */

var PROBLEM_KINDS = {
  zh: {team_never_served: "志愿服务队从未开展志愿服务", team_below_cadence: "志愿服务未达到规定频次",
       station_no_grassroots_lecture: "未按月开展基层宣讲", station_no_activity: "本期未开展活动",
       station_not_synced: "未及时同步", late_entries: "活动补录", town_not_reported: "镇未上报本期汇总",
       town_report_invalid: "镇上报的汇总数据无法合计", activity_without_photo: "活动没有照片",
       photo_undated: "照片没有拍摄日期", photo_date_mismatch: "照片拍摄日期与活动日期不符",
       photo_reused: "同一张照片用于多场活动", photo_near_duplicate: "近似照片用于多场活动",
       order_overdue: "服务订单逾期未完成", need_unreviewed: "群众需求未及时审核",
       order_step_not_counted: "站点的接单、完成或评单未计入"},
  en: {team_never_served: "Team never served", team_below_cadence: "Team below the service cadence",
       station_no_grassroots_lecture: "No monthly grassroots lecture", station_no_activity: "No activity in the period",
       station_not_synced: "Not synced", late_entries: "Late entries", town_not_reported: "Town has not reported",
       town_report_invalid: "Town's report cannot be added up",
       activity_without_photo: "Activities without a photo", photo_undated: "Photos without a date",
       photo_date_mismatch: "Photo taken far from the activity date",
       photo_reused: "The same photo on several activities",
       photo_near_duplicate: "Near-identical photos on several activities",
       order_overdue: "Service order overdue", need_unreviewed: "Need left unreviewed",
       order_step_not_counted: "Order step not counted"}
};

/* Why a step was not counted (storage/wm_orders.h), as cli/render_rows.c words it. */
var STEP_REASONS = {
  order_unknown: ["没有这个订单", "no such order"],
  order_not_addressed: ["订单派给了别的站点", "the order is addressed to another station"],
  order_cancelled: ["订单已撤销", "the order was cancelled"],
  order_taken: ["订单已被其他站点接走", "order taken by another station"],
  order_not_accepted: ["该站点没有接这个订单", "the station did not take the order"],
  order_not_done: ["订单尚未完成", "the order is not done"],
  rating_not_theirs: ["订单不是回应该站点群众的需求", "the order answers no need of the station"],
  rating_repeated: ["订单已经评过", "the order was rated before"]
};

/* The needs-and-orders problems (order_overdue, need_unreviewed, order_step_not_counted). */
function orderText(p, st, zh) {
  var step = p.step || "", why = STEP_REASONS[p.reason];
  switch (p.kind) {
  case "order_overdue":
    return zh ? st + "的服务订单“" + p.name + "”（" + p.order + "）截止日期" + p.due + "已过，仍未完成"
              : st + ": service order \"" + p.name + "\" (" + p.order + ") was due " + p.due + " and is not done";
  case "need_unreviewed":
    return zh ? st + "提出的群众需求“" + p.name + "”（" + p.need + "）已" + p.days + "天未审核"
              : st + ": the need \"" + p.name + "\" (" + p.need + ") has waited " + p.days + " days for review";
  default:
    why = why ? why[zh ? 0 : 1] : (p.reason || "");
    return zh ? st + "对订单" + p.order + "的" + (step === "order_accept" ? "接单" : step === "order_done" ? "完成" : "评单") +
                "未计入：" + why
              : st + ": its " + (step === "order_accept" ? "acceptance" : step === "order_done" ? "completion" : "rating") +
                " of order " + p.order + " is not counted: " + why;
  }
}

function nameOf(j, id) {
  var n = null;
  (j.stations || []).forEach(function (s) { if (s.id === id && s.name) n = s.name; });
  if (!n && j.id === id)
    n = j.name;
  return n || id || "";
}

/* The activities a photo problem lists, as cli/render_rows.c words them. */
function photoActs(j, p, zh) {
  return (p.activities || []).map(function (a) {
    return zh ? nameOf(j, a.station) + "第" + a.seq + "号记录（" + a.date + "）"
              : nameOf(j, a.station) + " seq " + a.seq + " (" + a.date + ")";
  }).join(zh ? "、" : ", ");
}

/* The evidence problems (storage/wm_evidcheck.h); hashes cut to 12 digits. */
function photoText(j, p, st, zh) {
  var h = (p.hash || "").slice(0, 12), days = Math.abs(p.days_off || 0);
  var across = p.across ? (zh ? "不同站点的" : "different stations' ") : "";
  switch (p.kind) {
  case "activity_without_photo": /* "from": the date photos are required from (older towns: none) */
    return zh ? st + "有" + p.count + "场活动没有照片" + (p.from ? "（自" + p.from + "起要求照片）" : "")
              : st + ": " + p.count + " activities without a photo" +
                (p.from ? " (photos required from " + p.from + ")" : "");
  case "photo_undated":
    return zh ? st + "有" + p.count + "张活动照片没有拍摄日期（无法核对）"
              : st + ": " + p.count + " photos without a capture date (cannot be checked)";
  case "photo_date_mismatch":
    return zh ? st + "第" + p.seq + "号记录（" + p.date + "）的照片" + h + "拍摄于" + p.taken + "，相差" + days + "天"
              : st + ": the photo " + h + " of seq " + p.seq + " (" + p.date + ") was taken on " + p.taken +
                ", " + days + " days apart";
  case "photo_reused":
    return (zh ? "同一张照片" + h + "用于" + across + "多场活动："
               : "the same photo " + h + " on " + across + "several activities: ") + photoActs(j, p, zh);
  default:
    return (zh ? "近似照片" + h + "与" + (p.other || "").slice(0, 12) + "（差" + p.distance + "位）用于" + across + "不同活动："
               : "near-identical photos " + h + " and " + (p.other || "").slice(0, 12) + " (" + p.distance +
                 " bits apart) on " + across + "different activities: ") + photoActs(j, p, zh);
  }
}

/* One problem as a sentence, as cli/render_rows.c words it. */
WM.town.problemText = function (j, p) {
  var zh = WM.lang !== "en", st = nameOf(j, p.station || p.town), s;
  switch (p.kind) {
  case "team_never_served":
    s = zh ? st + "的志愿服务队“" + p.name + "”（" + p.team + "）至今没有开展过一次志愿服务活动"
           : st + ": volunteer team \"" + p.name + "\" (" + p.team + ") has never served";
    break;
  case "team_below_cadence":
    s = zh ? st + "的志愿服务队“" + p.name + "”（" + p.team + "）未做到每" + p.cadence_days + "天至少一次志愿服务：" +
             p.blocks + "个周期中有" + p.blocks_missed + "个没有开展"
           : st + ": volunteer team \"" + p.name + "\" (" + p.team + ") did not serve at least every " +
             p.cadence_days + " days: no service in " + p.blocks_missed + " of " + p.blocks + " blocks";
    break;
  case "station_no_grassroots_lecture":
    s = zh ? st + "在" + (p.months || []).join("、") + "没有开展每月基层宣讲"
           : st + ": no grassroots lecture in " + (p.months || []).join(", ");
    break;
  case "station_no_activity":
    s = zh ? st + "本期没有开展活动" : st + ": no activity in the period";
    break;
  case "station_not_synced":
    s = p.days < 0 ? (zh ? st + "从未同步数据" : st + ": never synced")
                   : (zh ? st + "已" + p.days + "天未同步数据" : st + ": not synced for " + p.days + " days");
    break;
  case "late_entries":
    s = zh ? st + "有" + p.count + "场活动在活动日期" + p.late_days + "天之后才录入"
           : st + ": " + p.count + " activities entered more than " + p.late_days + " days after their date";
    break;
  case "town_not_reported":
    s = zh ? st + "未上报本期汇总" : st + ": no rollup of the period reported";
    break;
  case "town_report_invalid":
    s = zh ? st + "上报的汇总中“" + p.field + "”超出可合计的范围，未计入合计"
           : st + ": its report's \"" + p.field + "\" is beyond what can be added up; left out of the sums";
    break;
  case "order_overdue": case "need_unreviewed": case "order_step_not_counted":
    s = orderText(p, st, zh);
    break;
  case "activity_without_photo": case "photo_undated": case "photo_date_mismatch":
  case "photo_reused": case "photo_near_duplicate":
    s = photoText(j, p, st, zh);
    break;
  default:
    s = st + ": " + p.kind + (p.team ? " (" + p.team + ")" : "");
  }
  if (p.town && p.kind !== "town_not_reported" && p.kind !== "town_report_invalid")
    s += zh ? "（" + nameOf(j, p.town) + "）" : " (" + nameOf(j, p.town) + ")";
  return s;
};

WM.town.renderProblems = function (main) {
  periodPage(main, WM.el("section", {class: "card", id: "problems"}), loadRollup, function (out, j) {
    var groups = {}, order = [];
    (j.problems || []).forEach(function (p) {
      if (!groups[p.kind]) {
        groups[p.kind] = [];
        order.push(p.kind);
      }
      groups[p.kind].push(p);
    });
    out.appendChild(WM.el("h2", {text: WM.t("tab_problems") + " · " + j.period}));
    if (!order.length)
      out.appendChild(WM.el("div", {class: "notice ok", text: WM.t("no_problems")}));
    order.forEach(function (k) {
      out.appendChild(WM.el("h3", {text: (PROBLEM_KINDS[WM.lang][k] || k) + WM.paren(groups[k].length)}));
      out.appendChild(WM.el("ul", {class: "problems", "data-kind": k}, groups[k].map(function (p) {
        return WM.el("li", {text: WM.town.problemText(j, p)});
      })));
    });
  });
};

/* ---- the report prose ------------------------------------------------ */

function loadReport(period) {
  return WM.api("GET", "/api/v1/report" + WM.query({period: period, lang: WM.lang}));
}

WM.town.renderReport = function (main) {
  periodPage(main, WM.el("section", {class: "card", id: "report"}), loadReport, function (out, data) {
    var text = data.text || WM.t("report_none");
    out.appendChild(WM.el("div", {class: "actions noprint"},
      WM.el("button", {type: "button", id: "print", text: WM.t("print"),
                       onclick: function () { window.print(); }})));
    /* The prose of cli/report_text.c: a title, the period, numbered
     * section heads ("一、", "1. ") and paragraphs. */
    text.split(/\n+/).filter(function (p) { return p.trim(); }).forEach(function (para, i) {
      var cls = i === 0 ? "prose-title" : i === 1 && /^[（(]|^\d{4}/.test(para) ? "prose-period" :
                /^([一二三四五六七八九十]+、|\d+\. )/.test(para) ? "prose-head" : "prose";
      out.appendChild(WM.el("p", {class: cls, text: para}));
    });
  });
};

/* ---- the county's audit --------------------------------------------- */

function flatFigures(v) {
  /* {"figures": [...]} as asked of wmweb; else the keys the server chose. */
  return v.figures || v.compared || v.checks || [];
}

WM.town.renderAudit = function (main) {
  var towns = (WM.status.stations || []).map(function (s) {
    return WM.el("option", {value: s.id, text: (s.name || s.id) + WM.paren(s.id)});
  });
  var town = WM.el("select", {id: "audit-town"}, towns);
  var out = WM.el("section", {class: "card", id: "audit-result"},
                  WM.el("p", {class: "muted", text: WM.t("audit_explain")}));
  var picker = WM.periodPicker("audit-period", run);
  picker.set(WM.town.period);
  var runButton = picker.node.querySelector("button");
  runButton.textContent = WM.t("audit_run");
  runButton.id = "audit-run";
  main.appendChild(WM.el("section", {class: "card toolbar"},
    WM.el("label", {for: "audit-town", class: "strong", text: WM.t("audit_town", {child: WM.childWord()})}),
    town, picker.node));
  main.appendChild(out);
  function run() {
    WM.town.period = picker.value();
    WM.clear(out).appendChild(WM.el("p", {class: "muted", text: WM.t("audit_running")}));
    runButton.disabled = true;
    WM.api("POST", "/api/v1/audit", {town: town.value, period: picker.value()}).then(function (r) {
      runButton.disabled = false;
      WM.clear(out);
      if (r.status !== 200 || !r.data) {
        out.appendChild(WM.el("div", {class: "notice bad", role: "alert", id: "audit-error",
                                      "data-status": r.status, text: WM.errorText(r)}));
        return;
      }
      showVerdict(out, r.data);
    });
  }
};

function showVerdict(out, v) {
  var figs = flatFigures(v);
  var bad = figs.filter(function (f) { return f.ok === false; });
  var passed = typeof v.ok === "boolean" ? v.ok :
               v.verdict ? /^(ok|confirmed|passed)$/i.test(v.verdict) : !bad.length && !(v.failures || []).length;
  out.appendChild(WM.el("div", {class: "notice " + (passed ? "ok" : "bad"), id: "audit-verdict",
                                "data-verdict": passed ? "ok" : "failed",
    text: passed ? WM.t("audit_ok", {n: v.confirmed !== undefined ? v.confirmed : figs.length, r: v.records || 0})
                 : WM.t("audit_fail", {n: bad.length || v.differs || "?"})}));
  (v.failures || []).concat(v.notes || []).forEach(function (s) {
    out.appendChild(WM.el("p", {class: "muted", text: typeof s === "string" ? s : JSON.stringify(s)}));
  });
  if (!figs.length)
    return;
  out.appendChild(WM.el("div", {class: "scroll"}, WM.el("table", {class: "figures-table", id: "audit-table"},
    WM.el("thead", {}, WM.el("tr", {}, [WM.t("fig"), WM.t("audit_col_report"), WM.t("audit_col_records"),
                                        WM.t("audit_col_ok")].map(function (h) {
      return WM.el("th", {scope: "col", text: h});
    }))),
    WM.el("tbody", {}, figs.map(function (f) {
      return WM.el("tr", {class: f.ok === false ? "attention bad" : null},
        WM.el("th", {scope: "row", text: figLabel(f.path || f.figure || "")}),
        WM.el("td", {class: "num", text: WM.num(f.report)}),
        WM.el("td", {class: "num", text: WM.num(f.records)}),
        WM.el("td", {}, WM.el("span", {class: "badge " + (f.ok === false ? "bad" : "ok"),
                                       text: f.ok === false ? WM.t("audit_diff") : WM.t("audit_same")})));
    })))));
}

/* "totals.activities.theme_lecture" → "活动 · 主题宣讲" (station ids stay as they are). */
function figLabel(path) {
  return path.split(".").filter(function (p) { return p !== "totals"; }).map(WM.fig).join(" · ");
}
