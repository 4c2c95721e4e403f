// Keyboard entry of a telephone call: a digit key picks a radio answer and moves on, Enter moves
// to the next field instead of submitting, and the interview shows only once the patient is reached.
(function () {
  "use strict";

  const form = document.getElementById("call-form");
  if (!form) return;

  function focusables() {
    // One stop per radio group (its checked radio, else its first), as Tab does.
    const seen = new Set();
    const stops = [];
    form.querySelectorAll("input, select, textarea, button").forEach(function (el) {
      if (el.disabled || el.type === "hidden" || el.closest("[hidden]")) return;
      // A missing-answer reason is reached with Tab, not by answering the item before it.
      if (el.hasAttribute("data-skip-focus")) return;
      if (el.type === "radio") {
        if (seen.has(el.name)) return;
        seen.add(el.name);
        const group = form.querySelectorAll('input[type="radio"][name="' + el.name + '"]');
        stops.push(Array.from(group).find(function (r) { return r.checked; }) || el);
        return;
      }
      stops.push(el);
    });
    return stops;
  }

  function focusNext(el) {
    const stops = focusables();
    const at = stops.findIndex(function (s) {
      return s === el || (el.type === "radio" && s.type === "radio" && s.name === el.name);
    });
    if (at >= 0 && at + 1 < stops.length) stops[at + 1].focus();
  }

  function pick(radio) {
    radio.checked = true;
    radio.dispatchEvent(new Event("change", { bubbles: true }));
  }

  form.addEventListener("keydown", function (event) {
    const el = event.target;
    if (event.ctrlKey || event.altKey || event.metaKey) return;
    if (el.type === "radio" && /^[0-9]$/.test(event.key)) {
      const group = Array.from(form.querySelectorAll('input[type="radio"][name="' + el.name + '"]'));
      // The digit is the answer's code when the codes are digits, else its position from 1.
      let target = group.find(function (r) { return r.value === event.key; });
      if (!target && !group.some(function (r) { return /^[0-9]+$/.test(r.value); })) {
        target = group[Number(event.key) - 1];
      }
      if (target) {
        event.preventDefault();
        pick(target);
        focusNext(target);
      }
      return;
    }
    if (event.key === "Enter" && el.tagName === "INPUT" && el.type !== "submit") {
      event.preventDefault();
      if (el.type === "radio" || el.type === "checkbox") el.click();
      else focusNext(el);
    }
  });

  const interview = document.getElementById("interview");
  const save = document.getElementById("save-button");

  function outcomeChanged() {
    const chosen = form.querySelector('input[name="outcome"]:checked');
    if (!chosen || !interview) return;
    const reached = chosen.value === "reached";
    interview.hidden = !reached;
    if (save && save.dataset.labelReached) {
      save.textContent = reached ? save.dataset.labelReached : save.dataset.labelUnreached;
    }
  }

  // Each adverse effect shows its onset and outcome once ticked, its seriousness criteria once
  // Serious is ticked; a detail already filled in (or refused) stays shown.
  function effectRows() {
    return form.querySelectorAll("#adverse-effects tbody tr");
  }

  function effectDetails(row) {
    const ticked = row.querySelector("td:first-child input[type=checkbox]");
    const serious = row.querySelector('input[name$="_serious"]');
    const criteria = row.querySelector(".criteria");
    const course = row.querySelector(".ae-details");
    const kept = function (box) {
      return box && (box.querySelector(".error") ||
        Array.prototype.some.call(box.querySelectorAll("input, select"), function (el) {
          return el.type === "checkbox" ? el.checked : el.value !== "";
        }));
    };
    if (course) course.hidden = !(ticked && ticked.checked) && !kept(course);
    if (criteria) criteria.hidden = !(serious && serious.checked) && !kept(criteria);
  }

  form.addEventListener("change", function (event) {
    if (event.target.name === "outcome") outcomeChanged();
    const row = event.target.closest && event.target.closest("#adverse-effects tbody tr");
    if (row) effectDetails(row);
  });
  outcomeChanged();
  effectRows().forEach(effectDetails);

  const summary = document.getElementById("error-summary");
  if (summary) summary.focus();
})();
