// Enrolment: DN4 is not asked for fibromyalgia, so its field is disabled for that etiology.
(function () {
  "use strict";
  const etiology = document.getElementById("id_patient-etiology");
  const dn4 = document.getElementById("id_patient-dn4");
  if (!etiology || !dn4) return;
  function update() {
    const off = etiology.value === "fibromyalgia";
    dn4.disabled = off;
    if (off) dn4.value = "";
  }
  etiology.addEventListener("change", update);
  update();
})();
