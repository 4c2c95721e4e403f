// Draw the central-monitoring plots from the JSON the page carries in #monitoring-data.
(function () {
  "use strict";

  var CONFIG = { displaylogo: false, responsive: true };
  var BLUE = "#1f5fa8", RED = "#c0392b", GREY = "#7f8c8d";

  function layout(title, extra) {
    return Object.assign({
      title: { text: title, font: { size: 14 } },
      margin: { l: 56, r: 12, t: 40, b: 48 },
      font: { family: "system-ui, sans-serif", size: 12 },
      legend: { orientation: "h", y: -0.2 },
    }, extra || {});
  }

  function drawCompleteness(data) {
    var node = document.getElementById("chart-completeness");
    if (!node) return;
    Plotly.newPlot(node, [
      { type: "bar", x: data.sites, y: data.reached, name: data.labels.reached, marker: { color: BLUE } },
      { type: "bar", x: data.sites, y: data.on_time, name: data.labels.on_time, marker: { color: GREY } },
    ], layout(data.labels.reached + " · " + data.labels.on_time,
      { barmode: "group", yaxis: { range: [0, 100], title: { text: "%" } } }), CONFIG);
  }

  function shares(counts) {
    var total = counts.reduce(function (a, b) { return a + b; }, 0) || 1;
    return counts.map(function (n) { return 100 * n / total; });
  }

  function drawDistribution(data, site) {
    var node = document.getElementById("chart-distribution");
    if (!node || !site) return;
    var mine = data.counts[site] || [];
    var others = data.pooled.map(function (n, i) { return n - (mine[i] || 0); });
    var values = data.pooled.map(function (_n, i) { return i; });
    Plotly.react(node, [
      { type: "bar", x: values, y: shares(mine), name: data.labels.site + " " + site, marker: { color: RED } },
      { type: "bar", x: values, y: shares(others), name: data.labels.others, marker: { color: GREY } },
    ], layout(data.labels.distribution, {
      barmode: "group",
      xaxis: { title: { text: data.labels.value }, dtick: 1 },
      yaxis: { title: { text: data.labels.share } },
    }), CONFIG);
  }

  function drawMeans(data, measure) {
    var node = document.getElementById("chart-means");
    var block = data.means[measure];
    if (!node || !block) return;
    var sites = block.sites.slice().sort(function (a, b) { return a.mean - b.mean; });
    Plotly.react(node, [{
      type: "scatter", mode: "markers",
      x: sites.map(function (s) { return s.site + " (n=" + s.n + ")"; }),
      y: sites.map(function (s) { return s.mean; }),
      error_y: {
        type: "data", symmetric: false, visible: true,
        array: sites.map(function (s) { return s.high - s.mean; }),
        arrayminus: sites.map(function (s) { return s.mean - s.low; }),
      },
      marker: { color: BLUE }, name: data.labels.means,
    }], layout(data.labels.means, {
      showlegend: false,
      shapes: [{ type: "line", xref: "paper", x0: 0, x1: 1, y0: block.overall, y1: block.overall,
        line: { color: RED, dash: "dot" } }],
      annotations: [{ xref: "paper", x: 1, y: block.overall, text: data.labels.overall,
        showarrow: false, yanchor: "bottom", xanchor: "right", font: { color: RED } }],
    }), CONFIG);
  }

  document.addEventListener("DOMContentLoaded", function () {
    var source = document.getElementById("monitoring-data");
    if (!source || typeof Plotly === "undefined") return;
    var data = JSON.parse(source.textContent);
    var siteChoice = document.getElementById("site-choice");
    var measureChoice = document.getElementById("measure-choice");
    drawCompleteness(data);
    drawDistribution(data, siteChoice ? siteChoice.value : data.selected);
    drawMeans(data, measureChoice ? measureChoice.value : "baseline");
    if (siteChoice) siteChoice.addEventListener("change", function () { drawDistribution(data, siteChoice.value); });
    if (measureChoice) measureChoice.addEventListener("change", function () { drawMeans(data, measureChoice.value); });
  });
})();
