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
