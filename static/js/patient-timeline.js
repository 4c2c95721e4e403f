// Draw one patient's timeline from #timeline-data: one time axis for scores, doses and events.
// The axis spans the planned follow-up (series.axis), so that a patient with no visit or one
// visit gets a readable year rather than a range of a millisecond around one point.
(function () {
  "use strict";

  var CONFIG = { displaylogo: false, responsive: true };
  var DAY_MS = 86400000;

  function base(d, yTitle, range) {
    return {
      margin: { l: 52, r: 52, t: 12, b: 40 },
      font: { family: "system-ui, sans-serif", size: 12 },
      legend: { orientation: "h", y: -0.25 },
      xaxis: { type: "date", range: d.axis, tickformat: "%m/%Y" },
      yaxis: { title: { text: yTitle }, range: range },
      shapes: [],
      annotations: [],
    };
  }

  function note(layout, text) {
    layout.annotations.push({ xref: "paper", yref: "paper", x: 0.5, y: 0.5, text: text,
      showarrow: false, font: { size: 14, color: "#666" } });
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

  // Each adverse effect from its onset to its resolution (to today while still present), one
  // trace per kind so that serious ones stand out; null breaks the line between effects.
  function spans(d, serious, colour, y) {
    var xs = [], ys = [], texts = [];
    (d.spans || []).filter(function (s) { return s.serious === serious; }).forEach(function (s, i) {
      var level = y - (i % 4) * 0.15;
      var text = s.timepoint + ": " + s.label + " (" + s.severity + ") · " + s.outcome;
      xs.push(s.start, s.end, null); ys.push(level, level, null); texts.push(text, text, null);
    });
    return {
      x: xs, y: ys, text: texts, mode: "lines+markers", name: d.labels.effect_course,
      line: { color: colour, width: serious ? 5 : 3 }, marker: { size: 5, color: colour },
      showlegend: serious === false, connectgaps: false,
      hovertemplate: "%{text}<extra></extra>",
    };
  }

  function doseBars(d, axis) {
    return {
      type: "bar", yaxis: axis, name: d.labels.ketamine, opacity: 0.45,
      // A course lasts its days; the bar starts on its first day.
      width: d.doses.map(function (x) { return Math.max(x.days, 1) * DAY_MS; }),
      offset: 0,
      x: d.doses.map(function (x) { return x.date; }),
      y: d.doses.map(function (x) { return x.total_mg; }),
      marker: { color: "#7f8c8d" },
      hovertemplate: "%{y:.0f} mg<extra>" + d.labels.ketamine + "</extra>",
    };
  }

  function largestDose(d) {
    return d.doses.reduce(function (top, x) { return Math.max(top, x.total_mg); }, 0) || 1;
  }

  function band(y0, y1, colour) {
    return { type: "rect", xref: "paper", x0: 0, x1: 1, y0: y0, y1: y1, fillcolor: colour,
      opacity: 0.12, line: { width: 0 }, layer: "below" };
  }

  function draw() {
    var holder = document.getElementById("timeline-data");
    if (!holder || typeof Plotly === "undefined") return;
    var d = JSON.parse(holder.textContent);
    var L = d.labels;
    var answered = d.points.length > 0;

    var pain = base(d, "NPRS (0-10)", [0, 10.5]);
    // Doses on their own scale, the tallest at two fifths of the height: a landmark, not a wall.
    pain.yaxis2 = { title: { text: "mg" }, overlaying: "y", side: "right", showgrid: false,
      tickformat: ".0f",
      range: [0, largestDose(d) * 2.5] };
    if (!answered) note(pain, L.no_answers);
    Plotly.newPlot("chart-pain", [
      line(d.points, "nprs_mean", L.mean_pain, "#1f5fa8"),
      line(d.points, "nprs_max", L.max_pain, "#1f5fa8", "dot"),
      doseBars(d, "y2"),
      spans(d, false, "#e67e22", 9.7),
      spans(d, true, "#c0392b", 9.1),
      marks(d.events, 10.3, L.adverse_effect, "triangle-down", "#c0392b",
        function (e) { return e.timepoint + ": " + e.types.join(", "); }),
      marks(d.missed, 0.2, L.missed_call, "x", "#555",
        function (m) { return m.timepoint + ": " + m.status; }),
    ], pain, CONFIG);

    // Bands from the server's instrument definition: normal, borderline, abnormal.
    var H = d.scales.hads;
    var hads = base(d, "HADS (0-" + H.max + ")", [0, H.max]);
    hads.shapes = [band(0, H.normal_max, "#2e8b57"),
      band(H.normal_max, H.borderline_max, "#d68910"),
      band(H.borderline_max, H.max, "#c0392b")];
    if (!answered) note(hads, L.no_answers);
    Plotly.newPlot("chart-hads", [
      line(d.points, "hads_a", L.hads_anxiety, "#8e44ad"),
      line(d.points, "hads_d", L.hads_depression, "#c0392b"),
    ], hads, CONFIG);

    var sf12 = base(d, L.norm_score, [0, 70]);
    if (!answered) note(sf12, L.no_answers);
    Plotly.newPlot("chart-sf12", [
      line(d.points, "sf12_pcs", L.pcs, "#2e8b57"),
      line(d.points, "sf12_mcs", L.mcs, "#1f5fa8"),
    ], sf12, CONFIG);

    var total = d.doses.length ? d.doses[d.doses.length - 1].cumulative_mg : 1;
    var dose = base(d, L.mg_each, [0, largestDose(d) * 1.25]);
    dose.yaxis2 = { title: { text: L.mg_cumulative }, overlaying: "y", side: "right",
      showgrid: false, range: [0, total * 1.25] };
    if (!d.doses.length) note(dose, L.no_dose);
    Plotly.newPlot("chart-dose", [
      doseBars(d, "y"),
      {
        x: d.doses.map(function (x) { return x.date; }),
        y: d.doses.map(function (x) { return x.cumulative_mg; }),
        yaxis: "y2", mode: "lines+markers", line: { shape: "hv", color: "#1f5fa8" },
        name: L.cumulative,
      },
    ], dose, CONFIG);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
})();
