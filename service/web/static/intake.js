// Progressive enhancement for the intake form: hide questions that do not apply, and stop a
// second click from sending twice. Without this file every question shows, and the server
// drops answers to questions that did not apply.
(function () {
  "use strict";
  var form = document.querySelector("form.intake-form");
  if (!form) return;

  function answerOf(linkId) {
    var fields = form.querySelectorAll('[name="' + linkId + '"]');
    var chosen = [];
    fields.forEach(function (field) {
      if (field.closest("[hidden]")) return;  // a question that does not apply has no answer
      if (field.type === "radio" || field.type === "checkbox") {
        if (field.checked) chosen.push(field.value);
      } else if (field.value !== "") {
        chosen.push(field.value);
      }
    });
    return chosen;
  }

  function holds(rule) {
    var chosen = answerOf(rule.question);
    var expected = rule.answer === true ? "yes" : rule.answer === false ? "no" : String(rule.answer);
    if (rule.operator === "exists") return (chosen.length > 0) === Boolean(rule.answer);
    var matches = chosen.indexOf(expected) !== -1;
    if (chosen.length === 0) return rule.operator === "!=";
    return rule.operator === "=" ? matches : !matches;
  }

  function update() {
    form.querySelectorAll("[data-enable-when]").forEach(function (block) {
      var condition = JSON.parse(block.getAttribute("data-enable-when"));
      var results = condition.rules.map(holds);
      var enabled = condition.behavior === "any" ? results.some(Boolean) : results.every(Boolean);
      // Hidden, not disabled: whatever was answered is still sent, and the server drops it,
      // except an answer that is an emergency on its own, which it never drops (safety).
      block.hidden = !enabled;
    });
  }

  // With the script running, the questions show and hide themselves: the notes are not needed.
  form.querySelectorAll("[data-condition-note]").forEach(function (note) { note.hidden = true; });
  form.addEventListener("change", update);
  update();

  form.addEventListener("submit", function (event) {
    var button = form.querySelector('button[type="submit"]');
    if (button.disabled) { event.preventDefault(); return; }
    button.disabled = true;
    button.textContent = button.getAttribute("data-sending-label");
  });

  var summary = document.getElementById("error-summary") || document.getElementById("not-saved");
  if (summary) summary.focus();
})();
