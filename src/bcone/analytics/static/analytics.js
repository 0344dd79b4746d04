/* Charts of the analytics pages. Each chart element carries its data in data-chart (JSON written
   by the server) and its kind in data-kind: heatmap (RFM grid), retention, funnel, bars. */
(function () {
  "use strict";
  if (!window.echarts) return;
  var palette = ["#1d4ed8", "#0e9f6e", "#f59e0b", "#dc2626", "#7c3aed", "#0891b2", "#db2777", "#65a30d", "#ea580c"];

  function base() {
    return {
      color: palette,
      aria: { enabled: true },
      textStyle: { fontFamily: getComputedStyle(document.body).fontFamily },
      tooltip: { confine: true }
    };
  }

  function heatmap(data) {
    var cells = [];
    var max = 0;
    data.cells.forEach(function (row, r) {
      row.forEach(function (n, f) { cells.push([f, r, n]); if (n > max) max = n; });
    });
    return Object.assign(base(), {
      grid: { left: 8, right: 16, top: 16, bottom: 84, containLabel: true },
      xAxis: { type: "category", data: data.x, splitArea: { show: true } },
      yAxis: { type: "category", data: data.y, splitArea: { show: true } },
      visualMap: { min: 0, max: Math.max(max, 1), calculable: true, orient: "horizontal", left: "center", bottom: 0,
                   inRange: { color: ["#eff6ff", "#1d4ed8"] } },
      series: [{ type: "heatmap", data: cells, label: { show: true }, emphasis: { itemStyle: { borderColor: "#111" } } }]
    });
  }

  function retention(data) {
    var cells = [];
    var periods = [];
    for (var k = 0; k < data.periods; k++) periods.push(data.period_label.replace("{n}", k));
    data.counts.forEach(function (row, c) {
      row.forEach(function (n, k) {
        var size = data.sizes[c];
        cells.push([k, c, size ? Math.round(1000 * n / size) / 10 : 0, n]);
      });
    });
    return Object.assign(base(), {
      tooltip: { confine: true, formatter: function (p) {
        return data.cohorts[p.value[1]] + " · " + periods[p.value[0]] + "<br>" + p.value[2] + "% (" + p.value[3] + "/" + data.sizes[p.value[1]] + ")";
      } },
      grid: { left: 8, right: 16, top: 16, bottom: 84, containLabel: true },
      xAxis: { type: "category", data: periods, splitArea: { show: true } },
      yAxis: { type: "category", data: data.cohorts, inverse: true, splitArea: { show: true } },
      visualMap: { min: 0, max: 100, dimension: 2, calculable: true, orient: "horizontal", left: "center", bottom: 0,
                   formatter: function (v) { return Math.round(v) + "%"; }, inRange: { color: ["#f0fdf4", "#0e9f6e", "#065f46"] } },
      series: [{ type: "heatmap", data: cells, label: { show: data.periods <= 13, formatter: function (p) { return p.value[2]; } } }]
    });
  }

  function funnel(data) {
    return Object.assign(base(), {
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" }, confine: true },
      legend: { type: "scroll", top: 0, left: 0 },
      grid: { left: 8, right: 16, top: 44, bottom: 8, containLabel: true },
      xAxis: { type: "category", data: data.steps, axisLabel: { interval: 0, overflow: "break", width: 140 } },
      yAxis: { type: "value", minInterval: 1 },
      series: data.series.map(function (s) {
        return { name: s.name, type: "bar", barMaxWidth: 36, data: s.values, label: { show: data.series.length === 1, position: "top" } };
      })
    });
  }

  function bars(data) {
    var scale = data.scale || 1;
    return Object.assign(base(), {
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" }, confine: true },
      grid: { left: 8, right: 24, top: 8, bottom: 8, containLabel: true },
      xAxis: { type: "value" },
      yAxis: { type: "category", data: data.names, inverse: true },
      series: [{ type: "bar", barMaxWidth: 18, data: data.values.map(function (v) { return Math.round(v * scale * 100) / 100; }) }]
    });
  }

  function trend(data) {
    var l = data.labels;
    return Object.assign(base(), {
      tooltip: { trigger: "axis", confine: true },
      legend: { top: 0, left: 0 },
      grid: { left: 8, right: 8, top: 40, bottom: 8, containLabel: true },
      xAxis: { type: "category", data: data.periods },
      yAxis: [{ type: "value" }, { type: "value", minInterval: 1, splitLine: { show: false } }],
      series: [
        { name: l.sales, type: "bar", data: data.sales, barMaxWidth: 24 },
        { name: l.orders, type: "line", yAxisIndex: 1, data: data.orders, smooth: true, showSymbol: false },
        { name: l.scans, type: "line", yAxisIndex: 1, data: data.scans, smooth: true, showSymbol: false },
        { name: l.stores, type: "line", yAxisIndex: 1, data: data.stores, smooth: true, showSymbol: false }
      ]
    });
  }

  function people(data) {
    var l = data.labels;
    return Object.assign(base(), {
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" }, confine: true },
      legend: { top: 0, left: 0 },
      grid: { left: 8, right: 8, top: 40, bottom: 8, containLabel: true },
      xAxis: { type: "category", data: data.periods },
      yAxis: { type: "value", minInterval: 1 },
      series: [
        { name: l["new"], type: "bar", stack: "c", data: data["new"], barMaxWidth: 24 },
        { name: l.returning, type: "bar", stack: "c", data: data.returning, barMaxWidth: 24 }
      ]
    });
  }

  function npsTrend(data) {
    var l = data.labels;
    return Object.assign(base(), {
      tooltip: { trigger: "axis", confine: true },
      legend: { top: 0, left: 0 },
      grid: { left: 8, right: 8, top: 40, bottom: 8, containLabel: true },
      xAxis: { type: "category", data: data.periods },
      yAxis: [{ type: "value", min: -100, max: 100 }, { type: "value", minInterval: 1, splitLine: { show: false } }],
      series: [
        { name: l.responses, type: "bar", yAxisIndex: 1, data: data.responses, barMaxWidth: 24, itemStyle: { color: "#cbd5e1" } },
        { name: l.nps, type: "line", data: data.nps, smooth: true }
      ]
    });
  }

  function attribution(data) {
    var l = data.labels;
    return Object.assign(base(), {
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" }, confine: true },
      legend: { top: 0, left: 0 },
      grid: { left: 8, right: 24, top: 40, bottom: 8, containLabel: true },
      xAxis: { type: "value" },
      yAxis: { type: "category", data: data.names, inverse: true },
      series: [
        { name: l.acquired, type: "bar", data: data.acquired, barMaxWidth: 14 },
        { name: l.served, type: "bar", data: data.served, barMaxWidth: 14 }
      ]
    });
  }

  function drillTo(el, name, value) {
    var query = JSON.parse(el.dataset.drill || "{}");
    query[name] = value;
    var parts = Object.keys(query).map(function (k) { return encodeURIComponent(k) + "=" + encodeURIComponent(query[k]); });
    window.location.href = "/analytics/dashboard?" + parts.join("&");
  }

  function regionbars(data) {
    return bars({ names: data.names, values: data.values });
  }

  function channels(data, el, chart) {
    chart.on("click", function (p) { var key = data.keys[p.dataIndex]; if (key) drillTo(el, "channel", key); });
    return Object.assign(base(), {
      tooltip: { trigger: "item", confine: true, formatter: "{b}: ¥{c} ({d}%)" },
      legend: { type: "scroll", bottom: 0 },
      series: [{ type: "pie", radius: ["40%", "68%"], center: ["50%", "45%"], cursor: "pointer",
                 data: data.names.map(function (n, i) { return { name: n, value: data.values[i] }; }) }]
    });
  }

  function china(data, el, chart, geojson) {
    echarts.registerMap("bcone-china", geojson);
    var max = Math.max.apply(null, data.values.concat([1]));
    chart.on("click", function (p) { if (p.data && p.data.code) drillTo(el, "province", p.data.code); });
    return Object.assign(base(), {
      tooltip: { trigger: "item", confine: true, formatter: function (p) {
        return p.name + "<br>" + data.label + ": ¥" + (p.value || 0).toLocaleString();
      } },
      visualMap: { min: 0, max: max, calculable: true, left: 0, bottom: 0, inRange: { color: ["#eff6ff", "#1d4ed8"] } },
      series: [{ type: "map", map: "bcone-china", roam: true, cursor: "pointer",
                 top: 8, bottom: 8, label: { show: false },
                 data: data.names.map(function (n, i) { return { name: n, value: data.values[i], code: data.codes[i] }; }) }]
    });
  }

  var builders = { heatmap: heatmap, retention: retention, funnel: funnel, bars: bars, trend: trend,
                   people: people, nps: npsTrend, attribution: attribution, channels: channels, regionbars: regionbars, china: china };

  function failed(el) {
    var note = document.createElement("p");
    note.className = "alert alert-warning";
    note.setAttribute("role", "alert");
    note.textContent = el.dataset.failed || "The chart could not be drawn.";
    el.insertAdjacentElement("beforebegin", note);
  }

  document.querySelectorAll(".analytics-chart").forEach(function (el) {
    var build = builders[el.dataset.kind];
    try {
      var chart = echarts.init(el, null, { renderer: "canvas", locale: el.dataset.locale === "en" ? "EN" : "ZH" });
      chart.on("finished", function () { el.dataset.rendered = "true"; });
      var data = JSON.parse(el.dataset.chart);
      if (el.dataset.kind === "china") {
        fetch(el.dataset.map).then(function (r) { return r.json(); }).then(function (geojson) {
          chart.setOption(china(data, el, chart, geojson));
        }).catch(function () { failed(el); });
      } else {
        chart.setOption(build(data, el, chart));
      }
      if (window.ResizeObserver) new ResizeObserver(function () { chart.resize(); }).observe(el);
    } catch (err) {
      failed(el);
    }
  });
})();
