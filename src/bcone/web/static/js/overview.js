/* The overview chart: events per day, stacked by type, from /api/v1/overview/daily. */
(function () {
  "use strict";
  var el = document.getElementById("overview-chart");
  if (!el || !window.echarts) return;

  var english = el.dataset.locale === "en";
  var palette = ["#1d4ed8", "#0e9f6e", "#f59e0b", "#dc2626", "#7c3aed", "#0891b2", "#db2777", "#65a30d", "#ea580c", "#475569"];
  var chart = echarts.init(el, null, { renderer: "canvas", locale: english ? "EN" : "ZH" });
  // Tests and people alike may want to know when the bars have finished drawing.
  chart.on("finished", function () { el.dataset.rendered = "true"; });
  chart.showLoading({ text: el.dataset.loading || "", color: palette[0], maskColor: "rgba(255,255,255,0.7)" });

  function fail() {
    chart.hideLoading();
    var note = document.createElement("p");
    note.className = "alert alert-warning";
    note.setAttribute("role", "alert");
    note.textContent = el.dataset.failed || "The chart could not be loaded.";
    el.insertAdjacentElement("beforebegin", note);
  }

  fetch(el.dataset.src, { headers: { Accept: "application/json" }, credentials: "same-origin" })
    .then(function (response) {
      if (!response.ok) throw new Error("HTTP " + response.status);
      return response.json();
    })
    .then(function (data) {
      chart.hideLoading();
      chart.setOption({
        color: palette,
        aria: { enabled: true },
        textStyle: { fontFamily: getComputedStyle(document.body).fontFamily },
        tooltip: { trigger: "axis", axisPointer: { type: "shadow" }, confine: true },
        legend: { type: "scroll", top: 0, left: 0, icon: "roundRect", itemWidth: 12, itemHeight: 12 },
        grid: { left: 8, right: 16, top: 44, bottom: 8, containLabel: true },
        xAxis: {
          type: "category",
          data: data.days,
          axisTick: { alignWithLabel: true },
          axisLabel: { formatter: function (day) { return day.slice(5); }, hideOverlap: true }
        },
        yAxis: { type: "value", minInterval: 1, splitLine: { lineStyle: { color: "#eef2f7" } } },
        series: data.series.map(function (s) {
          return { name: s.label, type: "bar", stack: "events", barMaxWidth: 28, emphasis: { focus: "series" }, data: s.values };
        })
      });
    })
    .catch(fail);

  // Follow the container, not only the window: the navigation drawer and the grid change its width.
  if (window.ResizeObserver) {
    new ResizeObserver(function () { chart.resize(); }).observe(el);
  } else {
    window.addEventListener("resize", function () { chart.resize(); });
  }
})();
