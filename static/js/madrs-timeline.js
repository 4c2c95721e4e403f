// Draw a rated study's timeline from #timeline-data: the MADRS total at each visit on an axis of
// days since the first infusion, against the baseline, response and remission lines, with the
// infusions (dose) and their adverse effects on top. Planned visits sit on the axis, open; missed
// ones are crosses. The numbers and the words come from the server (followup.madrs_course).
(function () {
  "use strict";

  var CONFIG = { displaylogo: false, responsive: true };

  // A horizontal line with its name; "right"/"left" and "above"/"below" keep close lines'
  // names (response and remission can be 2 apart) from covering each other.
  function level(y, colour, dash, text, side, place) {
    return {
      shape: { type: "line", xref: "paper", x0: 0, x1: 1, y0: y, y1: y,
        line: { color: colour, width: 1.5, dash: dash } },
      note: { xref: "paper", x: side === "left" ? 0 : 1, xanchor: side, y: y,
        yanchor: place === "below" ? "top" : "bottom", text: text,
        showarrow: false, font: { size: 11, color: colour } },
    };
  }

  function visits(d, state) {
    return d.visits.filter(function (v) { return v.state === state; });
  }

  function draw() {
    var holder = document.getElementById("timeline-data");
    if (!holder || typeof Plotly === "undefined") return;
    var d = JSON.parse(holder.textContent);
    var L = d.labels;
    var top = d.total_max;
    var rated = visits(d, "rated");
    var layout = {
      margin: { l: 52, r: 20, t: 12, b: 48 },
      font: { family: "system-ui, sans-serif", size: 12 },
      legend: { orientation: "h", y: -0.3 },
      xaxis: { title: { text: L.days }, range: d.axis, dtick: 2, zeroline: false },
      yaxis: { title: { text: L.madrs + " (0-" + top + ")" }, range: [-2, top + 4] },
      shapes: [], annotations: [],
    };
    var levels = [level(d.remission_max, "#2e8b57", "dot", L.remission, "left", "below")];
    if (d.baseline_total !== null) {
      levels.push(level(d.baseline_total, "#555", "dash", L.baseline + " " + d.baseline_total,
        "right", "above"));
      levels.push(level(d.response_max, "#1f5fa8", "dashdot", L.response, "right", "above"));
    }
    levels.forEach(function (l) { layout.shapes.push(l.shape); layout.annotations.push(l.note); });
    // Each infusion a thin vertical line: the visit the morning after reads against it.
    d.infusions.forEach(function (i) {
      layout.shapes.push({ type: "line", x0: i.day, x1: i.day, yref: "paper", y0: 0, y1: 1,
        line: { color: "#7f8c8d", width: 1, dash: "dot" }, layer: "below" });
    });
    if (!rated.length) {
      layout.annotations.push({ xref: "paper", yref: "paper", x: 0.5, y: 0.5, text: L.no_rating,
        showarrow: false, font: { size: 14, color: "#666" } });
    }
    var withEffects = d.infusions.filter(function (i) { return i.effects.length; });
    Plotly.newPlot("chart-madrs", [
      {
        x: rated.map(function (v) { return v.day; }),
        y: rated.map(function (v) { return v.total; }),
        text: rated.map(function (v) { return v.code + " · " + v.date; }),
        mode: "lines+markers", name: L.madrs, line: { color: "#c0392b", width: 2.5 },
        marker: { size: 8 }, hovertemplate: "%{text}: %{y}<extra></extra>",
      },
      {
        x: visits(d, "planned").map(function (v) { return v.day; }),
        y: visits(d, "planned").map(function () { return 0; }),
        text: visits(d, "planned").map(function (v) { return v.code + " · " + v.date; }),
        mode: "markers", name: L.planned, cliponaxis: false,
        marker: { symbol: "circle-open", size: 10, color: "#7f8c8d" },
        hovertemplate: "%{text}<extra>" + L.planned + "</extra>",
      },
      {
        x: visits(d, "missing").map(function (v) { return v.day; }),
        y: visits(d, "missing").map(function () { return 0; }),
        text: visits(d, "missing").map(function (v) { return v.code + " · " + v.date; }),
        mode: "markers", name: L.missing, cliponaxis: false,
        marker: { symbol: "x", size: 11, color: "#333" },
        hovertemplate: "%{text}<extra>" + L.missing + "</extra>",
      },
      {
        x: d.infusions.map(function (i) { return i.day; }),
        y: d.infusions.map(function () { return top + 2; }),
        text: d.infusions.map(function (i) { return "#" + i.number + " · " + i.date + " · " + i.total_mg.toFixed(1) + " mg"; }),
        mode: "markers", name: L.infusion,
        marker: { symbol: "diamond", size: 10, color: "#7f8c8d" },
        hovertemplate: "%{text}<extra>" + L.infusion + "</extra>",
      },
      {
        x: withEffects.map(function (i) { return i.day; }),
        y: withEffects.map(function () { return top; }),
        text: withEffects.map(function (i) {
          return "#" + i.number + ": " + i.effects.map(function (e) {
            return e.label + " (" + e.severity + ")";
          }).join(", ");
        }),
        mode: "markers", name: L.adverse_effect,
        marker: { symbol: "triangle-down", size: 11, color: withEffects.map(function (i) {
          return i.effects.some(function (e) { return e.serious; }) ? "#c0392b" : "#e67e22";
        }) },
        hovertemplate: "%{text}<extra>" + L.adverse_effect + "</extra>",
      },
    ], layout, CONFIG);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
})();
