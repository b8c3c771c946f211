/* SPDX-License-Identifier: MIT */
/*
 * charts.js — the console's charts, drawn by Chart.js from Debian's
 * libjs-chart.js (served by wmweb as /vendor/chart.js; never fetched from the
 * internet). Without Chart.js every chart becomes a one-line note and the
 * tables beside it still carry every figure. Each chart's canvas gets a
 * data-points attribute (how many non-zero values it shows) so a test can
 * tell an empty chart from a drawn one.
 */
"use strict";

WM.CATEGORIES = ["theme_lecture", "theory_education", "party_training", "civilization_practice",
                 "culture_sports", "volunteer_service"];
WM.SERVICE_KINDS = ["environmental", "science", "legal", "campus_safety", "traffic", "assistance", "other"];
WM.CHANNELS = ["wechat", "website", "poster", "leaflet"];
WM.PALETTE = ["#c0392b", "#d68910", "#1e8449", "#2471a3", "#7d3c98", "#138d75", "#7f8c8d"];

WM.charts = [];

WM.destroyCharts = function () {
  WM.charts.forEach(function (c) { c.destroy(); });
  WM.charts = [];
};

/* A titled box with a canvas, or the note when Chart.js is missing. */
WM.chartBox = function (id, title, config, points) {
  var box = WM.el("figure", {class: "chart", id: id}, WM.el("figcaption", {text: title}));
  if (!window.Chart) {
    box.appendChild(WM.el("p", {class: "muted", text: WM.t("chart_missing")}));
    return box;
  }
  var canvas = WM.el("canvas", {"data-points": points, role: "img", "aria-label": title});
  var holder = WM.el("div", {class: "chart-holder"}, canvas);
  box.appendChild(holder);
  config.options = Object.assign({responsive: true, maintainAspectRatio: false, animation: false,
                                  plugins: {legend: {position: "bottom"}}}, config.options || {});
  /* Chart.js measures its parent: draw once the box is in the document. */
  window.requestAnimationFrame(function () {
    WM.charts.push(new window.Chart(canvas.getContext("2d"), config));
  });
  return box;
};

function countNonZero(arrays) {
  var n = 0;
  arrays.forEach(function (a) { a.forEach(function (v) { if (v) n++; }); });
  return n;
}

/* Activities of one scope by category: one bar per category. */
WM.chartCategories = function (id, totals) {
  var data = WM.CATEGORIES.map(function (c) { return WM.get(totals, "activities." + c) || 0; });
  return WM.chartBox(id, WM.t("chart_by_category"), {
    type: "bar",
    data: {labels: WM.CATEGORIES.map(WM.fig),
           datasets: [{label: WM.fig("activities"), data: data, backgroundColor: WM.PALETTE}]},
    options: {plugins: {legend: {display: false}}, scales: {y: {beginAtZero: true, ticks: {precision: 0}}}}
  }, countNonZero([data]));
};

/* Activities by category per station (or town): stacked bars. */
WM.chartCategoriesByRow = function (id, rows) {
  var sets = WM.CATEGORIES.map(function (c, i) {
    return {label: WM.fig(c), backgroundColor: WM.PALETTE[i],
            data: rows.map(function (r) { return WM.get(r.totals, "activities." + c) || 0; })};
  });
  return WM.chartBox(id, WM.t("chart_cat_station", {child: WM.childWord()}), {
    type: "bar",
    data: {labels: rows.map(function (r) { return r.name || r.id; }), datasets: sets},
    options: {scales: {x: {stacked: true}, y: {stacked: true, beginAtZero: true, ticks: {precision: 0}}}}
  }, countNonZero(sets.map(function (s) { return s.data; })));
};

/*
 * Volunteer services by team against the cadence: a bar per team, and the
 * number of services the cadence asks for in the period (one per block of
 * cadence_days) as a line. Teams the rollup lists as below the cadence or
 * never served are drawn red.
 */
WM.chartTeams = function (id, byTeam, expected, late) {
  var teams = Object.keys(byTeam || {}).sort();
  var served = teams.map(function (t) { return byTeam[t]; });
  var colors = teams.map(function (t) { return late[t] ? "#c0392b" : "#1e8449"; });
  var sets = [{type: "bar", label: WM.t("chart_served"), data: served, backgroundColor: colors}];
  if (expected > 0)
    sets.push({type: "line", label: WM.t("chart_expected"), borderColor: "#2471a3", borderDash: [6, 4],
               pointRadius: 0, data: teams.map(function () { return expected; })});
  return WM.chartBox(id, WM.t("chart_team"), {
    type: "bar",
    data: {labels: teams, datasets: sets},
    options: {indexAxis: "x", scales: {y: {beginAtZero: true, ticks: {precision: 0}}}}
  }, teams.length);
};
