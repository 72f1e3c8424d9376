// The daily diner chart of the canteen report, drawn with the vendored ECharts from the
// figures the page embeds as JSON (json_script), so no inline script is needed.
document.addEventListener("DOMContentLoaded", function () {
  var holder = document.getElementById("diner-chart");
  var source = document.getElementById("diner-chart-data");
  if (!holder || !source || typeof echarts === "undefined") {
    return;
  }
  var data = JSON.parse(source.textContent);
  var series = data.series.map(function (s) {
    return { name: s.name, type: "bar", stack: "diners", data: s.data };
  });
  series.push({ name: data.age.name, type: "line", data: data.age.data });
  var chart = echarts.init(holder);
  chart.setOption({
    tooltip: { trigger: "axis" },
    legend: { top: 0 },
    grid: { left: 40, right: 16, top: 32, bottom: 32 },
    xAxis: { type: "category", data: data.dates },
    yAxis: { type: "value", minInterval: 1 },
    series: series,
  });
  window.addEventListener("resize", function () {
    chart.resize();
  });
});
