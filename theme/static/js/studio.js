// DeepSeek Studio: small progressive enhancements. No inline handlers (CSP), no eval.
(function () {
  "use strict";

  function toast(message) {
    var box = document.getElementById("toasts");
    if (!box) return;
    var item = document.createElement("div");
    item.setAttribute("role", "alert");
    item.className = "pointer-events-auto rounded-md bg-red-600 px-4 py-2 text-sm text-white shadow-lg";
    item.textContent = message;
    box.appendChild(item);
    setTimeout(function () { item.remove(); }, 6000);
  }

  document.addEventListener("DOMContentLoaded", function () {
    // The language switcher submits on change (a button is shown without JS).
    document.querySelectorAll("select[data-autosubmit]").forEach(function (select) {
      select.addEventListener("change", function () { select.form.submit(); });
    });
  });

  // Ctrl/Cmd+Enter generates; Esc stops the running generation.
  document.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
      var form = document.querySelector("form[data-generate-form]");
      if (form) { event.preventDefault(); form.requestSubmit(); }
    } else if (event.key === "Escape") {
      var stop = document.querySelector("button[data-stop]");
      if (stop) { event.preventDefault(); stop.click(); }
    }
  });

  // Failed htmx requests are never silent.
  document.addEventListener("htmx:responseError", function (event) {
    var status = event.detail.xhr.status;
    toast(status === 429 ? "Too many requests — wait a moment and try again."
      : "The studio could not complete that request (" + status + ").");
  });
  document.addEventListener("htmx:sendError", function () {
    toast("Network error — check your connection and try again.");
  });
})();

// Drafts: the editor's save state, saving when the page is hidden or left, copy buttons.
(function () {
  "use strict";

  function stateOf(form) { return form.querySelector("#save-state"); }

  function setState(form, state) {
    var box = stateOf(form);
    if (!box) return;
    box.dataset.state = state;
    var label = box.dataset["label" + state.charAt(0).toUpperCase() + state.slice(1)];
    if (label) box.textContent = label;
  }

  function editorOf(element) {
    return element && element.closest ? element.closest("form[data-autosave]") : null;
  }

  // Every keystroke counts as an edit; a save only clears the edits it carried.
  document.addEventListener("input", function (event) {
    var form = editorOf(event.target);
    if (!form) return;
    form.dataset.edits = String(Number(form.dataset.edits || 0) + 1);
    if (stateOf(form).dataset.state !== "conflict") setState(form, "dirty");
  });
  document.addEventListener("htmx:beforeRequest", function (event) {
    var form = editorOf(event.detail.elt);
    if (!form) return;
    form.dataset.sent = form.dataset.edits || "0";
    if (stateOf(form).dataset.state !== "conflict") setState(form, "saving");
  });
  document.addEventListener("htmx:afterRequest", function (event) {
    var form = editorOf(event.detail.elt);
    if (!form || !stateOf(form)) return;
    // Typed while the save was on its way: those keystrokes are not saved yet.
    var state = stateOf(form).dataset.state;
    if (state === "saved" && form.dataset.sent !== (form.dataset.edits || "0")) setState(form, "dirty");
  });
  ["htmx:responseError", "htmx:sendError"].forEach(function (name) {
    document.addEventListener(name, function (event) {
      var form = editorOf(event.detail.elt);
      if (form) setState(form, "error");
    });
  });

  function unsaved(form) {
    var state = stateOf(form) && stateOf(form).dataset.state;
    return state === "dirty" || state === "saving";
  }

  // Switching tabs: save now (the page lives on, so htmx gets the answer).
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState !== "hidden") return;
    document.querySelectorAll("form[data-autosave]").forEach(function (form) {
      if (stateOf(form).dataset.state === "dirty") htmx.trigger(form, "save-now");
    });
  });
  // Leaving the page: a beacon outlives it. A conflict or an error cannot be saved that way,
  // so the browser asks before the text is thrown away.
  var beaconSent = false;
  var discarding = false;
  document.addEventListener("click", function (event) {
    if (event.target.closest && event.target.closest("[data-discard]")) discarding = true;
  });
  window.addEventListener("pagehide", function () {
    document.querySelectorAll("form[data-autosave]").forEach(function (form) {
      if (unsaved(form) && navigator.sendBeacon(form.action, new FormData(form))) beaconSent = true;
    });
  });
  window.addEventListener("pageshow", function (event) {
    // Back from the cache after a beacon saved: the page's base version is stale.
    if (event.persisted && beaconSent) window.location.reload();
  });
  window.addEventListener("beforeunload", function (event) {
    if (discarding) return;
    document.querySelectorAll("form[data-autosave]").forEach(function (form) {
      var state = stateOf(form).dataset.state;
      if (state === "conflict" || state === "error") event.preventDefault();
    });
  });

  // Copy buttons: the Markdown of a version, or a share link as a full URL.
  function copyButtons(root) {
    root.querySelectorAll("[data-copy], [data-copy-href]").forEach(function (button) {
      if (!navigator.clipboard) return;
      button.hidden = false;
    });
  }
  document.addEventListener("DOMContentLoaded", function () { copyButtons(document); });
  document.addEventListener("htmx:load", function (event) { copyButtons(event.detail.elt); });
  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-copy], [data-copy-href]");
    if (!button) return;
    var text = button.dataset.copyHref
      ? new URL(button.dataset.copyHref, window.location.href).href
      : document.querySelector(button.dataset.copy).value;
    navigator.clipboard.writeText(text).then(function () {
      var label = button.textContent;
      button.textContent = button.dataset.copiedLabel || label;
      setTimeout(function () { button.textContent = label; }, 2000);
    });
  });
})();
