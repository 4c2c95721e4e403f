// Draw one patient's timeline from #timeline-data: one time axis for scores, doses and events.
(function () {
  "use strict";

  var CONFIG = { displaylogo: false, responsive: true };

  function base(yTitle, range) {
    return {
      margin: { l: 52, r: 52, t: 12, b: 40 },
      font: { family: "system-ui, sans-serif", size: 12 },
      legend: { orientation: "h", y: -0.25 },
      xaxis: { type: "date" },
      yaxis: { title: { text: yTitle }, range: range },
      shapes: [],
    };
  }

  function line(points, key, name, colour, dash) {
    var kept = points.filter(function (p) { return p[key] !== null; });
    return {
      x: kept.map(function (p) { return p.date; }),
      y: kept.map(function (p) { return p[key]; }),
      text: kept.map(function (p) { return p.timepoint; }),
      mode: "lines+markers", name: name,
      line: { color: colour, dash: dash || "solid" },
      hovertemplate: "%{text}: %{y}<extra>" + name + "</extra>",
    };
  }

  function marks(list, y, name, symbol, colour, text) {
    return {
      x: list.map(function (e) { return e.date; }),
      y: list.map(function () { return y; }),
      text: list.map(text),
      mode: "markers", name: name,
      marker: { symbol: symbol, size: 11, color: colour },
      hovertemplate: "%{text}<extra>" + name + "</extra>",
    };
  }

  var DAY_MS = 86400000;

  function doseBars(doses, axis) {
    return {
      type: "bar", yaxis: axis, name: "Ketamine (mg)", opacity: 0.45,
      width: doses.map(function (d) { return Math.max(d.days, 2) * DAY_MS; }),
      x: doses.map(function (d) { return d.date; }),
      y: doses.map(function (d) { return d.total_mg; }),
      marker: { color: "#7f8c8d" },
      hovertemplate: "%{y:.0f} mg<extra>Ketamine</extra>",
    };
  }

  function band(y0, y1, colour) {
    return { type: "rect", xref: "paper", x0: 0, x1: 1, y0: y0, y1: y1, fillcolor: colour,
      opacity: 0.12, line: { width: 0 }, layer: "below" };
  }

  function draw() {
    var holder = document.getElementById("timeline-data");
    if (!holder || typeof Plotly === "undefined") return;
    var d = JSON.parse(holder.textContent);

    var pain = base("NPRS (0-10)", [0, 10.5]);
    pain.yaxis2 = { title: { text: "mg" }, overlaying: "y", side: "right", showgrid: false, rangemode: "tozero" };
    Plotly.newPlot("chart-pain", [
      line(d.points, "nprs_mean", "Mean pain", "#1f5fa8"),
      line(d.points, "nprs_max", "Maximal pain", "#1f5fa8", "dot"),
      doseBars(d.doses, "y2"),
      marks(d.events, 10.3, "Adverse effect", "triangle-down", "#c0392b",
        function (e) { return e.timepoint + ": " + e.types.join(", "); }),
      marks(d.missed, 0.2, "Missed call", "x", "#555",
        function (m) { return m.timepoint + ": " + m.status; }),
    ], pain, CONFIG);

    var hads = base("HADS (0-21)", [0, 21]);
    hads.shapes = [band(0, 7, "#2e8b57"), band(7, 10, "#d68910"), band(10, 21, "#c0392b")];
    Plotly.newPlot("chart-hads", [
      line(d.points, "hads_a", "HADS anxiety", "#8e44ad"),
      line(d.points, "hads_d", "HADS depression", "#c0392b"),
    ], hads, CONFIG);

    Plotly.newPlot("chart-sf12", [
      line(d.points, "sf12_pcs", "Physical (PCS)", "#2e8b57"),
      line(d.points, "sf12_mcs", "Mental (MCS)", "#1f5fa8"),
    ], base("Norm-based score", [0, 70]), CONFIG);

    var dose = base("mg per administration", null);
    dose.yaxis2 = { title: { text: "cumulative mg" }, overlaying: "y", side: "right", showgrid: false, rangemode: "tozero" };
    Plotly.newPlot("chart-dose", [
      doseBars(d.doses, "y"),
      {
        x: d.doses.map(function (x) { return x.date; }),
        y: d.doses.map(function (x) { return x.cumulative_mg; }),
        yaxis: "y2", mode: "lines+markers", line: { shape: "hv", color: "#1f5fa8" },
        name: "Cumulative (mg)",
      },
    ], dose, CONFIG);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
})();
