// Show every row of the replication table, or only those of one status (no inline script).
(function () {
  "use strict";

  function bind() {
    var select = document.getElementById("replication-show");
    if (!select) return;
    var table = document.getElementById(select.dataset.table);
    select.addEventListener("change", function () {
      table.querySelectorAll("tr[data-status]").forEach(function (row) {
        row.hidden = select.value !== "" && row.dataset.status !== select.value;
      });
      table.querySelectorAll("tbody").forEach(function (body) {
        body.hidden = body.querySelectorAll("tr[data-status]:not([hidden])").length === 0;
      });
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", bind);
  } else {
    bind();
  }
})();
