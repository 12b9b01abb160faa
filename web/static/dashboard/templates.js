// The template editor (web/templates/templates/editor.html), under the dashboard's policy (a
// file of the dashboard's own, no inline code): a variable inserted at the cursor of the field
// the operator was last in; a problem's "line N" link selecting that line; the email preview
// frame at desktop or phone width, with the draft posted into it after each live preview
// (htmx swaps the preview panel; the frame loads a document of its own: see
// web/routes/template_preview.py).
(() => {
  "use strict";

  let lastField = null; // the template field (a Jinja source) the operator was last in
  let frameWidth = "desktop";

  document.addEventListener("focusin", (event) => {
    if (event.target.matches("[data-source-field]")) lastField = event.target;
  });

  function insertVariable(name) {
    const field = lastField || document.querySelector("[data-source-field]");
    if (!field || field.readOnly) return;
    const start = field.selectionStart ?? field.value.length;
    const end = field.selectionEnd ?? start;
    field.focus();
    field.setRangeText(`{{ ${name} }}`, start, end, "end");
    // As if typed: the live preview follows.
    field.dispatchEvent(new Event("input", { bubbles: true }));
  }

  function selectLine(fieldName, line) {
    const field = document.getElementById(`field-${fieldName}`);
    if (!field || !("setSelectionRange" in field)) return false;
    const lines = field.value.split("\n");
    const number = Math.min(Math.max(line, 1), lines.length);
    const start = lines.slice(0, number - 1).reduce((sum, text) => sum + text.length + 1, 0);
    field.focus();
    field.setSelectionRange(start, start + lines[number - 1].length);
    if (field.tagName === "TEXTAREA") {
      const lineHeight = parseFloat(getComputedStyle(field).lineHeight) || 20;
      field.scrollTop = Math.max(0, (number - 3) * lineHeight);
    }
    return true;
  }

  function showWidth(width) {
    frameWidth = width;
    for (const box of document.querySelectorAll("[data-frame-box]")) {
      box.classList.toggle("phone", width === "phone");
    }
    for (const button of document.querySelectorAll("[data-frame-width]")) {
      button.setAttribute("aria-pressed", String(button.dataset.frameWidth === width));
    }
  }

  // A draft's email (not saved yet) is posted into the frame, which then shows it in a
  // document of its own; a saved version's frame loads by itself (its src).
  function loadDraftFrame() {
    const form = document.getElementById("template-form");
    const submit = document.querySelector("[data-frame-submit]");
    if (form && submit && document.querySelector("iframe[data-draft]")) {
      form.requestSubmit(submit);
    }
  }

  document.addEventListener("click", (event) => {
    const target = event.target instanceof Element ? event.target : null;
    if (!target) return;
    const insert = target.closest("[data-insert]");
    if (insert) {
      insertVariable(insert.dataset.insert);
      return;
    }
    const width = target.closest("[data-frame-width]");
    if (width) {
      showWidth(width.dataset.frameWidth);
      return;
    }
    const link = target.closest(".line-link");
    if (link && selectLine(link.dataset.field, Number(link.dataset.line))) {
      event.preventDefault();
    }
  });

  // After each live preview: the width chosen stays; the draft goes into the new frame.
  document.addEventListener("htmx:afterSettle", () => {
    showWidth(frameWidth);
    loadDraftFrame();
  });

  loadDraftFrame(); // deferred: the page is parsed
})();
