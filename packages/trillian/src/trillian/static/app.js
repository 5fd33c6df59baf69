// Trillian's behaviour in the browser: local times, charts, confirmations.
// Loaded as an external file: the Content-Security-Policy allows no inline script.
"use strict";

(function () {
  var zone = Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
  // The server reads this to know where the viewer's "today" begins.
  document.cookie = "tz=" + encodeURIComponent(zone) + "; path=/; SameSite=Lax; max-age=31536000";

  var STATE_COLOURS = {
    COMPLETED: "#1a7f37",
    FAILED: "#cf222e",
    RUNNING: "#0969da",
    ABORTED: "#9a6700",
    NEW: "#57606a"
  };
  var SERIES_COLOURS = ["#0969da", "#8250df", "#bf3989", "#1a7f37", "#9a6700", "#cf222e", "#57606a"];

  var formats = {
    datetime: new Intl.DateTimeFormat(undefined, {
      year: "numeric", month: "short", day: "numeric", hour: "2-digit", minute: "2-digit"
    }),
    date: new Intl.DateTimeFormat(undefined, { year: "numeric", month: "short", day: "numeric" }),
    time: new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit", second: "2-digit" })
  };

  function localiseTimes(root) {
    root.querySelectorAll("time[datetime]:not([data-local])").forEach(function (el) {
      var moment = new Date(el.getAttribute("datetime"));
      if (isNaN(moment.getTime())) { return; }
      var format = formats[el.dataset.style] || formats.datetime;
      el.title = el.textContent.trim();  // keep UTC at hand on hover
      el.textContent = format.format(moment);
      el.dataset.local = "1";
    });
  }

  function readData(id) {
    var source = document.getElementById(id);
    return source ? JSON.parse(source.textContent) : null;
  }

  function formatSeconds(value) {
    if (value < 60) { return value.toFixed(value < 10 ? 1 : 0) + " s"; }
    if (value < 3600) { return (value / 60).toFixed(1) + " min"; }
    return (value / 3600).toFixed(1) + " h";
  }

  var base = {
    animation: false,
    textStyle: { fontFamily: "inherit", color: "#1b1f24" },
    grid: { left: 56, right: 16, top: 36, bottom: 40 },
    // Rich text tooltips are drawn on the canvas: HTML ones would need inline styles, which
    // the Content-Security-Policy refuses.
    tooltip: { renderMode: "richText" },
    legend: { top: 0, textStyle: { color: "#1b1f24" } }
  };

  function statesOptions(data) {
    var series = Object.keys(data.series).filter(function (state) {
      return data.series[state].some(function (n) { return n > 0; });
    }).map(function (state) {
      return {
        name: state.charAt(0) + state.slice(1).toLowerCase(),
        type: "bar",
        stack: "runs",
        itemStyle: { color: STATE_COLOURS[state] },
        data: data.x.map(function (x, i) { return [x, data.series[state][i]]; })
      };
    });
    return Object.assign({}, base, {
      tooltip: Object.assign({ trigger: "axis" }, base.tooltip),
      xAxis: { type: "time" },
      yAxis: { type: "value", minInterval: 1, name: "runs" },
      series: series
    });
  }

  function durationOptions(data) {
    var names = Object.keys(data);
    return Object.assign({}, base, {
      color: SERIES_COLOURS,
      tooltip: Object.assign({
        trigger: "item",
        formatter: function (p) {
          return p.seriesName + "\n" + formats.datetime.format(new Date(p.value[0])) + "\n" + formatSeconds(p.value[1]);
        }
      }, base.tooltip),
      xAxis: { type: "time" },
      yAxis: { type: "value", name: "duration", axisLabel: { formatter: formatSeconds } },
      series: names.map(function (name) {
        return { name: name, type: "line", showSymbol: true, symbolSize: 6, data: data[name] };
      })
    });
  }

  function reportOptions(data) {
    var names = Object.keys(data.lines);
    return Object.assign({}, base, {
      color: SERIES_COLOURS,
      legend: Object.assign({}, base.legend, { show: names.length > 1 }),
      tooltip: Object.assign({ trigger: "axis" }, base.tooltip),
      xAxis: { type: "time", name: data.x },
      yAxis: { type: "value", name: data.y, scale: true },
      dataZoom: [{ type: "inside" }, { type: "slider", height: 18, bottom: 4 }],
      grid: Object.assign({}, base.grid, { bottom: 56 }),
      series: names.map(function (name) {
        return {
          name: name,
          type: "line",
          showSymbol: false,
          sampling: "lttb",
          data: data.lines[name].map(function (p) { return [new Date(p[0]).getTime(), p[1]]; })
        };
      })
    });
  }

  var builders = { states: statesOptions, durations: durationOptions, report: reportOptions };
  var charts = [];

  function drawCharts(root) {
    if (typeof echarts === "undefined") { return; }
    root.querySelectorAll("[data-chart]:not([data-drawn])").forEach(function (el) {
      var data = readData(el.dataset.source);
      var build = builders[el.dataset.chart];
      if (!data || !build) { return; }
      var chart = echarts.init(el, null, { renderer: "canvas" });
      chart.setOption(build(data));
      el.dataset.drawn = "1";
      charts.push(chart);
    });
  }

  function confirmForms(root) {
    root.querySelectorAll("form[data-confirm]:not([data-bound])").forEach(function (form) {
      form.dataset.bound = "1";
      form.addEventListener("submit", function (event) {
        if (!window.confirm(form.dataset.confirm)) { event.preventDefault(); }
      });
    });
  }

  function enhance(root) {
    localiseTimes(root);
    drawCharts(root);
    confirmForms(root);
  }

  document.addEventListener("DOMContentLoaded", function () { enhance(document); });
  document.addEventListener("htmx:afterSettle", function () { enhance(document); });
  window.addEventListener("resize", function () { charts.forEach(function (c) { c.resize(); }); });
})();
