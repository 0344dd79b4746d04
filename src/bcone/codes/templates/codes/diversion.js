// Diversion alerts as a scatter on longitude/latitude axes (no China map data is bundled).
(function () {
  var node = document.getElementById("diversion-map");
  var data = document.getElementById("diversion-data");
  if (!node || !data || typeof echarts === "undefined") return;
  var points = JSON.parse(data.textContent || "[]");
  var chart = echarts.init(node);
  chart.setOption({
    tooltip: { formatter: function (p) { return p.data[2] + " · " + p.data[3]; } },
    xAxis: { type: "value", name: "lng", min: 73, max: 135 },
    yAxis: { type: "value", name: "lat", min: 18, max: 54 },
    series: [{ type: "scatter", symbolSize: function (v) { return 6 + Math.min(24, 3 * v[4]); }, data: points }],
  });
  window.addEventListener("resize", function () { chart.resize(); });
})();
