// Draw the analysis charts from the JSON the page carries in #chart-data (no inline script).
(function () {
  "use strict";

  var COLOURS = ["#1f5fa8", "#c0392b", "#2e8b57", "#8e44ad", "#d68910"];
  var LAYOUT = {
    margin: { l: 48, r: 12, t: 36, b: 56 },
    font: { family: "system-ui, sans-serif", size: 12 },
    legend: { orientation: "h", y: -0.32 },
    xaxis: { title: { text: "Month" }, zeroline: false },
  };
  var CONFIG = { displaylogo: false, responsive: true };
  // Words of the charts in the page's language (the "labels" of #chart-data), English otherwise.
  var WORDS = {};
  function t(key, english) { return WORDS[key] || english; }

  function layout(title, yTitle, extra) {
    var out = JSON.parse(JSON.stringify(LAYOUT));
    out.title = { text: title, font: { size: 14 } };
    out.xaxis.title.text = t("month", "Month");
    out.yaxis = { title: { text: yTitle } };
    return Object.assign(out, extra || {});
  }

  function meanSem(points, name, colour, dash) {
    return {
      x: points.map(function (p) { return p.month !== undefined ? p.month : p.timepoint; }),
      y: points.map(function (p) { return p.mean; }),
      error_y: { type: "data", array: points.map(function (p) { return p.sem || 0; }), visible: true },
      mode: "lines+markers",
      name: name,
      line: { color: colour, dash: dash || "solid" },
    };
  }

  function drawEvolution(data) {
    document.querySelectorAll("[data-outcome]").forEach(function (node) {
      var rows = (data.evolution || {})[node.dataset.outcome] || [];
      var locf = rows.filter(function (r) { return r.data === "locf"; });
      var observed = rows.filter(function (r) { return r.data === "observed"; });
      Plotly.newPlot(node, [
        meanSem(locf, t("locf", "LOCF"), COLOURS[0]),
        meanSem(observed, t("observed", "Observed"), COLOURS[1], "dot"),
      ], layout(node.dataset.title, t("mean_sem", "Mean (SEM)")), CONFIG);
    });
  }

  var MONTH = { BL: 0, W1: 0.25 };
  function month(timepoint) {
    return timepoint in MONTH ? MONTH[timepoint] : Number(timepoint.slice(1));
  }

  function drawFigure2(data) {
    var node = document.getElementById("chart-figure2");
    if (!node || !data.figure2 || !data.figure2.bands) return;
    var traces = data.figure2.bands.map(function (band, i) {
      var points = band.timepoints.map(function (p) {
        return { month: month(p.timepoint), mean: p.mean, sem: p.sem };
      });
      var label = band.label.replace("<=", "≤").replace(">=", "≥");
      return meanSem(points, "HADS-D " + label + " (n = " + band.n + ")", COLOURS[i]);
    });
    var yTitle = t("nprs_mean_sem", "NPRS, mean (SEM)");
    Plotly.newPlot(node, traces, layout(t("figure2", "Mean pain (NPRS) by baseline HADS-D"), yTitle,
      { yaxis: { title: { text: yTitle }, range: [0, 10] } }), CONFIG);
  }

  function drawTrajectories(data) {
    var node = document.getElementById("chart-trajectories");
    if (!node || !data.trajectories) return;
    var traces = [];
    Object.keys(data.trajectories).forEach(function (name, i) {
      var g = data.trajectories[name];
      var label = (g.label || name.replace(/_/g, " ")) + " (n = " + g.n + ", " +
        g.pct.toFixed(1) + "%)";
      traces.push({
        x: g.curve.months, y: g.curve.observed_mean, mode: "markers",
        name: label + " " + t("observed_lower", "observed"),
        marker: { color: COLOURS[i], size: 8 },
      });
      traces.push({
        x: g.curve.grid, y: g.curve.grid_fitted, mode: "lines",
        name: label + " " + t("fitted", "fitted"),
        line: { color: COLOURS[i] },
      });
    });
    Plotly.newPlot(node, traces, layout(t("trajectories", "NPRS trajectories"), t("nprs", "NPRS"),
      { yaxis: { title: { text: t("nprs", "NPRS") }, range: [0, 10] } }), CONFIG);
  }

  function drawAdverse(data) {
    var node = document.getElementById("chart-adverse");
    if (!node || !data.adverse) return;
    Plotly.newPlot(node, [{
      type: "bar",
      x: data.adverse.map(function (r) { return r.timepoint; }),
      y: data.adverse.map(function (r) { return r.pct; }),
      text: data.adverse.map(function (r) { return r.n + "/" + r.of; }),
      marker: { color: COLOURS[0] },
      name: t("adverse_any", "At least one adverse effect"),
    }], layout(t("adverse_title", "Patients with an adverse effect"),
      t("adverse_axis", "% of reached patients"),
      { xaxis: { title: { text: t("call", "Call") } } }), CONFIG);
  }

  function draw() {
    var script = document.getElementById("chart-data");
    if (!script || typeof Plotly === "undefined") return;
    var data = JSON.parse(script.textContent);
    WORDS = data.labels || {};
    drawEvolution(data);
    drawFigure2(data);
    drawTrajectories(data);
    drawAdverse(data);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
})();
