// A deliverable's review page: selecting text in the draft makes the comment form's
// comment one on that selection (its quote and its start offset in the text).
(() => {
  "use strict";
  const text = document.querySelector("[data-review-text]");
  const form = document.querySelector("[data-comment-form]");
  if (!text || !form) return;
  const quote = form.querySelector("[data-quote-field]");
  const start = form.querySelector("[data-start-field]");
  const note = form.querySelector("[data-selection-note]");
  const shown = form.querySelector("[data-selection-quote]");

  function clear() {
    quote.value = "";
    start.value = "";
    note.classList.add("hidden");
  }

  function pick() {
    const selection = window.getSelection();
    if (!selection || selection.isCollapsed || selection.rangeCount === 0) return;
    const range = selection.getRangeAt(0);
    if (!text.contains(range.startContainer) || !text.contains(range.endContainer)) return;
    const before = document.createRange();
    before.selectNodeContents(text);
    before.setEnd(range.startContainer, range.startOffset);
    const picked = range.toString();
    if (!picked.trim()) return;
    // Offsets in code points, as the server counts them.
    start.value = String([...before.toString()].length);
    quote.value = picked;
    shown.textContent = picked;
    note.classList.remove("hidden");
  }

  text.addEventListener("mouseup", pick);
  text.addEventListener("keyup", pick);
  form.querySelector("[data-selection-clear]").addEventListener("click", clear);
})();
