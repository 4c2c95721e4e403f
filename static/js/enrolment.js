// Enrolment: the chronic pain fields are asked only for the sites of a study that collects the
// pain history (the site's select lists them); DN4 is not asked for fibromyalgia.
(function () {
  "use strict";
  const site = document.getElementById("id_patient-site");
  const etiology = document.getElementById("id_patient-etiology");
  const dn4 = document.getElementById("id_patient-dn4");
  const painFields = Array.from(document.querySelectorAll(".enrol-form .pain-history"));

  function painAsked() {
    if (!site) return true;
    const sites = (site.dataset.painHistorySites || "").split(" ").filter(Boolean);
    return sites.includes(site.value);
  }

  function update() {
    const asked = painAsked();
    painFields.forEach(function (box) {
      // A field the server refused stays visible, so that its message can be read and acted on.
      const show = asked || box.classList.contains("has-error");
      box.hidden = !show;
      box.querySelectorAll("input, select, textarea").forEach(function (input) {
        input.disabled = !show;
      });
    });
    if (etiology && dn4 && !dn4.closest("[hidden]")) {
      const off = etiology.value === "fibromyalgia";
      dn4.disabled = off;
      if (off) dn4.value = "";
    }
  }

  if (site) site.addEventListener("change", update);
  if (etiology) etiology.addEventListener("change", update);
  update();
})();
