// DeepSeek Studio: small progressive enhancements. No inline handlers (CSP), no eval.
(function () {
  "use strict";

  // A toast: the message (translated, from #toasts' data-msg-* attributes) and a close button.
  // The same message twice in a row is shown once.
  function toast(kind, detail, own) {
    var box = document.getElementById("toasts");
    if (!box) return;
    var message = own || box.dataset["msg" + kind] || box.dataset.msgClient || "Error";
    if (detail) message += " (" + detail + ")";
    var last = box.lastElementChild;
    if (last && last.dataset.message === message) return;
    var item = document.createElement("div");
    item.dataset.message = message;
    item.setAttribute("role", "alert");
    item.className = "toast pointer-events-auto flex max-w-sm items-start gap-3 rounded-lg bg-red-700 px-4 py-3 text-sm text-white shadow-lg ring-1 ring-red-900/20";
    var text = document.createElement("p");
    text.textContent = message;
    var close = document.createElement("button");
    close.type = "button";
    close.className = "-my-1 ml-auto rounded px-1 text-lg leading-none hover:bg-red-800";
    close.setAttribute("aria-label", box.dataset.msgClose || "Dismiss");
    close.textContent = "×";
    close.addEventListener("click", function () { item.remove(); });
    item.append(text, close);
    box.appendChild(item);
    setTimeout(function () { item.remove(); }, 8000);
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
    } else if (event.key === "Escape" && !document.querySelector("dialog[open]")) {
      var stop = document.querySelector("button[data-stop]");
      if (stop) { event.preventDefault(); stop.click(); }
    }
  });

  // Failed htmx requests are never silent.
  document.addEventListener("htmx:responseError", function (event) {
    var xhr = event.detail.xhr;
    var status = xhr.status;
    // A refusal that explains itself (403 role, 429 limit) carries a toast for #toasts: show
    // its text (as text, never as HTML).
    var own = xhr.getResponseHeader("HX-Retarget") === "#toasts"
      ? new DOMParser().parseFromString(xhr.responseText, "text/html").body.textContent.trim() : "";
    if (own) toast("", "", own);
    else if (status === 429) toast("Busy");
    else if (status >= 500) toast("Server", status);
    else toast("Client", status);
  });
  document.addEventListener("htmx:sendError", function () { toast("Network"); });
  document.addEventListener("htmx:timeout", function () { toast("Timeout"); });
})();

// Drafts: the editor. Autosave keeps a working copy (autosave=1); Save, Ctrl/Cmd+S, leaving
// the editor by a link and a long idle make the editing session one version. The toolbar,
// the preview and the counts; the page saves when it is hidden (working copy) or left.
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
  // The form's own requests (saves), not the preview's inside it.
  function savingForm(element) {
    return element && element.matches && element.matches("form[data-autosave]") ? element : null;
  }

  // Words and characters: a CJK character counts as a word of its own (as word processors
  // count Chinese); characters are every character but line breaks.
  var CJK_CHAR = /[\u2e80-\u2fdf\u3040-\u30ff\u3100-\u31ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]/g;
  function counts(text) {
    var cjk = (text.match(CJK_CHAR) || []).length;
    var words = (text.replace(CJK_CHAR, " ").match(/[\p{L}\p{N}]+(?:['’\-][\p{L}\p{N}]+)*/gu) || []).length;
    return { words: words + cjk, chars: Array.from(text.replace(/\r?\n/g, "")).length };
  }
  function showCounts(form) {
    var box = form.querySelector("[data-editor-counts]");
    var text = form.querySelector("textarea[name=text]");
    if (!box || !text) return;
    var found = counts(text.value);
    box.textContent = box.dataset.label.replace("{words}", found.words).replace("{chars}", found.chars);
    box.hidden = false;
  }

  // The preview: the server renders the text (drafts:preview); refreshed as typing pauses.
  var previewTimer = null;
  function refreshPreview(form, now) {
    var pane = form.querySelector("#editor-preview");
    if (!pane || pane.hidden) return;
    clearTimeout(previewTimer);
    previewTimer = setTimeout(function () { htmx.trigger(pane, "refresh"); }, now ? 0 : 400);
  }
  document.addEventListener("click", function (event) {
    var toggle = event.target.closest && event.target.closest("[data-preview-toggle]");
    if (!toggle) return;
    var form = editorOf(toggle);
    var pane = form.querySelector("#editor-preview");
    var on = toggle.getAttribute("aria-pressed") !== "true";
    toggle.setAttribute("aria-pressed", on ? "true" : "false");
    pane.hidden = !on;
    form.querySelector("[data-editor-panes]").dataset.preview = on ? "on" : "off";
    refreshPreview(form, true);
  });

  // A long idle ends the session: the working copy becomes a version.
  var idleTimer = null;
  function armIdle(form) {
    clearTimeout(idleTimer);
    idleTimer = setTimeout(function () {
      var state = stateOf(form).dataset.state;
      if (state === "kept" || state === "dirty") htmx.trigger(form, "save-now");
    }, Number(form.dataset.idleMs) || 300000);
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("form[data-autosave]").forEach(function (form) {
      showCounts(form);
      var text = form.querySelector("textarea[name=text]");
      // Opened at a section: the caret at its heading, scrolled into view.
      if (text && text.dataset.caret) {
        var at = Number(text.dataset.caret);
        text.focus();
        text.setSelectionRange(at, at);
        var line = text.value.slice(0, at).split("\n").length - 1;
        text.scrollTop = Math.max(0, line * parseFloat(getComputedStyle(text).lineHeight) - 24);
      }
      var tools = form.querySelector("[data-editor-tools]");
      if (tools && window.customElements) {
        window.customElements.whenDefined("markdown-toolbar").then(function () { tools.hidden = false; });
      }
    });
  });

  // Every keystroke counts as an edit; a save only clears the edits it carried.
  document.addEventListener("input", function (event) {
    var form = editorOf(event.target);
    if (!form) return;
    form.dataset.edits = String(Number(form.dataset.edits || 0) + 1);
    if (stateOf(form).dataset.state !== "conflict") setState(form, "dirty");
    showCounts(form);
    refreshPreview(form, false);
    armIdle(form);
  });
  // Keeping (a pause in typing, the tab hidden) is an autosave; everything else ends the session.
  document.addEventListener("htmx:configRequest", function (event) {
    if (!savingForm(event.detail.elt)) return;
    var trigger = event.detail.triggeringEvent;
    if (trigger && (trigger.type === "input" || trigger.type === "keep-now")) {
      event.detail.parameters.autosave = "1";
    }
  });
  document.addEventListener("htmx:beforeRequest", function (event) {
    var form = savingForm(event.detail.elt);
    if (!form) return;
    form.dataset.sent = form.dataset.edits || "0";
    if (stateOf(form).dataset.state !== "conflict") setState(form, "saving");
  });
  document.addEventListener("htmx:afterRequest", function (event) {
    var form = savingForm(event.detail.elt);
    if (!form || !stateOf(form)) return;
    // Typed while the save was on its way: those keystrokes are not saved yet.
    var state = stateOf(form).dataset.state;
    if ((state === "saved" || state === "kept") && form.dataset.sent !== (form.dataset.edits || "0")) {
      setState(form, "dirty");
    }
  });
  ["htmx:responseError", "htmx:sendError"].forEach(function (name) {
    document.addEventListener(name, function (event) {
      var form = savingForm(event.detail.elt);
      if (form) setState(form, "error");
    });
  });

  // Ctrl/Cmd+S saves (a version); Ctrl/Cmd+B and +I are the toolbar's bold and italic.
  document.addEventListener("keydown", function (event) {
    if (!(event.ctrlKey || event.metaKey) || event.altKey) return;
    var key = event.key.toLowerCase();
    var form = document.querySelector("form[data-autosave]");
    if (!form) return;
    if (key === "s") {
      event.preventDefault();
      form.requestSubmit();
    } else if ((key === "b" || key === "i") && event.target.matches && event.target.matches("#editor-text")) {
      var button = form.querySelector(key === "b" ? "md-bold" : "md-italic");
      if (button) { event.preventDefault(); button.click(); }
    }
  });

  function unsaved(form) {
    var state = stateOf(form) && stateOf(form).dataset.state;
    return state === "dirty" || state === "saving" || state === "kept";
  }

  // Switching tabs: keep the working copy now (the page lives on, so htmx gets the answer).
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState !== "hidden") return;
    document.querySelectorAll("form[data-autosave]").forEach(function (form) {
      if (stateOf(form).dataset.state === "dirty") htmx.trigger(form, "keep-now");
    });
  });
  // Leaving the page: a beacon outlives it. Left by a link (Done, the breadcrumbs) the session
  // becomes a version; closed or reloaded, the text is kept as the working copy, offered on
  // the next visit. A conflict or an error cannot be saved that way, so the browser asks
  // before the text is thrown away.
  var beaconSent = false;
  var discarding = false;
  var leaving = false;
  document.addEventListener("click", function (event) {
    if (!event.target.closest) return;
    if (event.target.closest("[data-discard]")) discarding = true;
    var link = event.target.closest("a[href]");
    var form = editorOf(document.getElementById("editor-text"));
    if (!link || link.target || !form) return;
    leaving = true;
    // A save on its way would be cut off by the navigation (the browser aborts it): leave once
    // it has answered (or after a few seconds); the beacon then carries what it did not.
    if (stateOf(form).dataset.state !== "saving") return;
    event.preventDefault();
    var gone = false;
    function go() { if (!gone) { gone = true; window.location.assign(link.href); } }
    form.addEventListener("htmx:afterRequest", go, { once: true });
    setTimeout(go, 3000);
  });
  window.addEventListener("pagehide", function () {
    document.querySelectorAll("form[data-autosave]").forEach(function (form) {
      if (!unsaved(form)) return;
      var data = new FormData(form);
      if (!leaving) data.append("autosave", "1");
      if (navigator.sendBeacon(form.action, data)) beaconSent = true;
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
})();

// Drafts: copy buttons.
(function () {
  "use strict";

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

// Theme, shortcuts dialog, the request progress bar, live generation stats, focus after swaps.
(function () {
  "use strict";

  var root = document.documentElement;

  function editable(element) {
    return !!element && (element.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(element.tagName));
  }

  // Dark mode: the toggle's choice is kept in localStorage; without one the OS decides
  // (js/theme-init.js applies it before the first paint).
  function syncToggles() {
    var dark = root.classList.contains("dark");
    document.querySelectorAll("[data-theme-toggle]").forEach(function (button) {
      button.setAttribute("aria-pressed", dark ? "true" : "false");
    });
  }
  function savedTheme() {
    try { return window.localStorage.getItem("studio-theme"); } catch (e) { return null; }
  }
  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-theme-toggle]");
    if (!button) return;
    var dark = root.classList.toggle("dark");
    try { window.localStorage.setItem("studio-theme", dark ? "dark" : "light"); } catch (e) { /* private mode */ }
    syncToggles();
  });
  window.matchMedia("(prefers-color-scheme: dark)").addEventListener("change", function (event) {
    if (savedTheme()) return;
    root.classList.toggle("dark", event.matches);
    syncToggles();
  });
  document.addEventListener("DOMContentLoaded", syncToggles);

  // The shortcuts dialog: "?" (outside text fields) or the header button; Esc closes it and
  // focus goes back where it was.
  var opener = null;
  function openShortcuts() {
    var dialog = document.getElementById("shortcuts-dialog");
    if (!dialog || dialog.open) return;
    opener = document.activeElement;
    dialog.showModal();
  }
  document.addEventListener("click", function (event) {
    if (event.target.closest && event.target.closest("[data-shortcuts-open]")) openShortcuts();
  });
  document.addEventListener("keydown", function (event) {
    if (event.key !== "?" || event.ctrlKey || event.metaKey || event.altKey) return;
    if (editable(event.target)) return;
    event.preventDefault();
    openShortcuts();
  });
  document.addEventListener("DOMContentLoaded", function () {
    var dialog = document.getElementById("shortcuts-dialog");
    if (!dialog) return;
    dialog.addEventListener("close", function () {
      if (opener && opener.focus && document.contains(opener)) opener.focus();
      opener = null;
    });
    // A click on the backdrop (outside the box) closes it too.
    dialog.addEventListener("click", function (event) {
      if (event.target === dialog) dialog.close();
    });
  });

  // Every htmx request in flight shows the top progress bar.
  var inFlight = new Set();
  function busy() { root.classList.toggle("htmx-busy", inFlight.size > 0); }
  document.addEventListener("htmx:beforeRequest", function (event) {
    inFlight.add(event.detail.xhr); busy();
  });
  ["htmx:afterRequest", "htmx:sendError", "htmx:timeout", "htmx:xhr:abort"].forEach(function (name) {
    document.addEventListener(name, function (event) {
      inFlight.delete(event.detail.xhr); busy();
    });
  });

  // While a generation streams: elapsed time, an estimate of the tokens written (DeepSeek's
  // rule of thumb: about 0.3 token per English character, 0.6 per Chinese one; the exact count
  // comes with the final usage) and tokens per second.
  var CJK = /[\u3000-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff\uff00-\uffef]/;
  function estimateTokens(text) {
    var tokens = 0;
    for (var i = 0; i < text.length; i++) {
      var c = text.charAt(i);
      if (CJK.test(c)) tokens += 0.6;
      else if (c.trim()) tokens += 0.3;
    }
    return Math.round(tokens);
  }
  function updateStats() {
    var stats = document.querySelector("[data-live-stats]");
    if (!stats) return;
    // The server says how long ago it started; from there the browser's monotonic clock
    // counts (the two wall clocks may differ by seconds, or hours).
    if (!stats.dataset.startedAt) {
      stats.dataset.startedAt = String(performance.now() - (Number(stats.dataset.elapsedMs) || 0));
    }
    var started = Number(stats.dataset.startedAt);
    var now = performance.now();
    var elapsed = Math.max(0, (now - started) / 1000);
    var text = ["#stream-text", "#reasoning-text"].map(function (selector) {
      var element = document.querySelector(selector);
      return element ? element.textContent : "";
    }).join("");
    var tokens = estimateTokens(text);
    // The rate counts from the first text seen; text already there when the panel came in
    // (a reload mid-stream) was written since the start.
    var firstLook = !stats.dataset.watched;
    stats.dataset.watched = "1";
    if (tokens && !stats.dataset.firstText) stats.dataset.firstText = String(firstLook ? started : now);
    var writing = stats.dataset.firstText ? (now - Number(stats.dataset.firstText)) / 1000 : 0;
    stats.querySelector("[data-live-elapsed]").textContent = elapsed.toFixed(1);
    stats.querySelector("[data-live-tokens]").textContent = String(tokens);
    stats.querySelector("[data-live-rate]").textContent = writing > 0.2 ? (tokens / writing).toFixed(0) : "–";
  }
  setInterval(updateStats, 250);
  document.addEventListener("htmx:sseMessage", updateStats);

  // Where a stream resumes. The browser's own reconnect sends Last-Event-ID; but a stream
  // whose reconnect is refused (a proxy's 502 while a worker restarts) is closed, and htmx's
  // SSE extension opens a new one from the element's sse-connect URL, with no Last-Event-ID.
  // That URL's ?after= follows the last event received, so the new stream starts after what
  // the page shows rather than sending it again. (A "block" event is taken out of htmx's
  // swap below, so it is seen before its message, not after.)
  function followCursor(event) {
    var id = event.detail && event.detail.lastEventId;
    var stream = id && event.target.closest && event.target.closest("[sse-connect]");
    if (!stream) return;
    var url = new URL(stream.getAttribute("sse-connect"), window.location.href);
    if (url.searchParams.get("after") === id) return;
    url.searchParams.set("after", id);
    stream.setAttribute("sse-connect", url.pathname + url.search);
  }
  document.addEventListener("htmx:sseBeforeMessage", followCursor);
  document.addEventListener("htmx:sseMessage", followCursor);

  // A live answer's finished Markdown block (components/stream_text.html): HTML the server
  // rendered and sanitized once, standing for characters of the open text, which it
  // replaces. The data is "<number of characters>\n<html>". The open text keeps what came
  // after those characters. Only new HTML arrives: nothing already shown is sent again.
  document.addEventListener("htmx:sseBeforeMessage", function (event) {
    if (!event.detail || event.detail.type !== "block") return;
    event.preventDefault();  // not swapped by htmx: it goes beside the open text
    var tail = event.target;
    var stream = tail.closest("[data-stream]");
    var blocks = stream && stream.querySelector("[data-stream-blocks]");
    if (!blocks) return;
    var data = event.detail.data;
    var cut = data.indexOf("\n");
    var length = parseInt(data.slice(0, cut), 10) || 0;
    blocks.insertAdjacentHTML("beforeend", data.slice(cut + 1));
    // Characters, not UTF-16 units: the server counts code points (CJK, emoji alike).
    tail.textContent = Array.from(tail.textContent).slice(length).join("");
  });

  // A generation waiting for a slot in its worker (components/queued.html): each "queued"
  // event (the board's "queued-<deliverable>") carries how many start before it, 0 once its
  // turn has come. The notice says "Queued (n ahead)" in the page's language (its label),
  // and goes away at 0; the text then streams in below it.
  document.addEventListener("htmx:sseBeforeMessage", function (event) {
    var notice = event.target;
    if (!event.detail || !notice.matches || !notice.matches("[data-queued]")) return;
    event.preventDefault();  // not swapped by htmx: the number goes into the label
    var ahead = parseInt(event.detail.data, 10) || 0;
    notice.textContent = ahead > 0 ? notice.dataset.queuedLabel.replace("{n}", String(ahead)) : "";
    notice.hidden = ahead <= 0;
    // Not "Generating…" while it waits: the panel's status line gives way to the notice.
    var watching = notice.closest("[sse-connect]");
    if (watching) {
      watching.querySelectorAll("[data-generating]").forEach(function (label) {
        label.hidden = ahead > 0;
      });
    }
  });

  // A stream's final event: lists on the page that show drafts (Recent drafts) refresh, now
  // that its version is saved. Dispatched before the swap, while the element is in the page.
  document.addEventListener("htmx:sseBeforeMessage", function (event) {
    if (event.detail && event.detail.type === "done") htmx.trigger(document.body, "drafts-changed");
  });

  // Focus after swaps: when a draft panel replaces the one that held the focus (a version
  // picked, the final "done" swap after Generate or Stop), its heading takes it, so keyboard
  // and screen-reader users land on the result. Someone typing in a field keeps their place.
  document.addEventListener("htmx:load", function (event) {
    var panel = event.detail.elt;
    if (!panel.matches || !panel.matches(".draft-panel")) return;
    var active = document.activeElement;
    if (editable(active) && document.contains(active)) return;
    if (active && active !== document.body && document.contains(active) && !active.matches("button")) return;
    if (panel.querySelector("[data-live-stats]")) return;  // still streaming: wait for the end
    var heading = panel.querySelector("h1, h2");
    if (!heading) return;
    heading.setAttribute("tabindex", "-1");
    heading.focus();
  });
})();

// Menus (<details data-menu>) close on a click outside or Esc; on a narrow screen the draft
// pane sits below the form, so a new generation scrolls it into view.
(function () {
  "use strict";
  function openMenus() { return document.querySelectorAll("details[data-menu][open]"); }
  document.addEventListener("click", function (event) {
    openMenus().forEach(function (menu) {
      if (!menu.contains(event.target)) menu.open = false;
    });
  });
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") return;
    openMenus().forEach(function (menu) {
      menu.open = false;
      menu.querySelector("summary").focus();
      event.stopImmediatePropagation();
    });
  }, true);
  document.addEventListener("htmx:afterSwap", function (event) {
    var pane = event.detail && event.detail.target;  // SSE swaps carry none
    if (!pane || pane.id !== "draft-pane" || window.matchMedia("(min-width: 1024px)").matches) return;
    var reduce = window.matchMedia("(prefers-reduced-motion: reduce)").matches;
    pane.scrollIntoView({ behavior: reduce ? "auto" : "smooth", block: "start" });
  });
})();

// Experiments: once a run has started, its form folds away (a <details>) so the answers below
// are in sight; and the vote buttons, rendered disabled while any column is still writing,
// are enabled when the last column's final swap lands (each swap, no polling). The server
// refuses an early vote anyway (409).
(function () {
  "use strict";
  document.addEventListener("htmx:afterRequest", function (event) {
    var form = event.detail.elt;
    var details = form.closest && form.closest("details[data-run-details]");
    // Started (the run's URL is pushed), not refused with the form again.
    if (details && event.detail.xhr.getResponseHeader("HX-Push-Url")) details.open = false;
  });
  document.addEventListener("htmx:load", function (event) {
    var elt = event.detail.elt;
    if (!elt.matches || !elt.matches(".run-column")) return;
    var run = elt.closest("#run");
    var form = run && run.querySelector("form[data-vote-form][data-waiting]");
    if (!form || run.querySelector(".run-column[data-live]")) return;
    form.removeAttribute("data-waiting");
    form.querySelectorAll("button[name=choice]").forEach(function (button) { button.disabled = false; });
    var wait = form.querySelector("[data-vote-wait]");
    if (wait) wait.remove();
  });
})();

// Experiments: vote with the keyboard on a run page (1/2/3/4 pick a column, t a tie, b "both
// bad"), unless the editor is typing (the reason box, any field) or holds a modifier.
(function () {
  "use strict";
  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey || event.defaultPrevented) return;
    var target = event.target;
    if (target.closest && target.closest("input, textarea, select, [contenteditable]")) return;
    var key = event.key.toLowerCase();
    var form = document.querySelector("form[data-vote-form]");
    if (!form || !/^[1-9tb]$/.test(key)) return;
    var button = form.querySelector('button[data-vote-key="' + key + '"]');
    if (!button || button.disabled) return;
    event.preventDefault();
    button.click();  // a real click: htmx sends the button's name and value with the form
  });
})();

// Rewrites of a selection: text selected in the draft fills the rewrite form's "Only this text"
// field (which can also be typed into, so it works without this).
(function () {
  "use strict";
  function captureSelection() {
    var body = document.getElementById("draft-body");
    var field = document.querySelector("[data-selection-field]");
    var selection = window.getSelection();
    if (!body || !field || !selection || selection.isCollapsed) return;
    if (!body.contains(selection.anchorNode) || !body.contains(selection.focusNode)) return;
    var text = selection.toString().trim();
    if (text) field.value = text;
  }
  document.addEventListener("mouseup", captureSelection);
  document.addEventListener("keyup", function (event) {
    if (event.shiftKey || event.key === "Shift") captureSelection();
  });
})();

// Moving a section with ↑/↓ replaces the panel: the focus follows the section to its new place
// (the same button, or the other one where the first is now disabled), so the keys can go on.
document.addEventListener("htmx:load", function (event) {
  var panel = event.detail.elt;
  if (!panel.matches || !panel.matches(".draft-panel")) return;
  var item = panel.querySelector("[data-moved]");
  if (!item) return;
  var button = item.querySelector('button[value="' + item.dataset.moved + '"]:not([disabled])') ||
    item.querySelector("button[name=direction]:not([disabled])");
  if (button) button.focus();
});

// Fit to limits while it streams (components/tagged_items.html): the model answers each
// repaired item inside <item n="N">…</item>. The raw text arrives escaped, appended by each
// delta; this shows it as a list of items, the tags left out, each item's text set with
// textContent (never as HTML), and hides the raw text. A tag the stream has cut at the end
// ("<item " before its "n=…>") waits until it is whole.
(function () {
  "use strict";
  var TAG = /<item\b[^<>]*>|<\/item>/g;
  var CUT_TAG = /^<\/?(?:i(?:t(?:e(?:m(?:\s[^<>]*)?)?)?)?)?$/;

  function items(text) {
    var open = text.lastIndexOf("<");
    if (open >= 0 && CUT_TAG.test(text.slice(open))) text = text.slice(0, open);
    var found = [];
    var last = 0;
    var match;
    TAG.lastIndex = 0;
    while ((match = TAG.exec(text))) {
      var piece = text.slice(last, match.index).trim();
      if (piece) found.push(piece);
      last = TAG.lastIndex;
    }
    var rest = text.slice(last).trim();
    if (rest) found.push(rest);
    return found;
  }

  function show(box) {
    var raw = box.querySelector("[data-items-raw]");
    var view = box.querySelector("[data-items-view]");
    if (!raw || !view) return;
    var texts = items(raw.textContent);
    texts.forEach(function (text, i) {
      var item = view.children[i];
      if (!item) {
        item = document.createElement("li");
        item.className = "whitespace-pre-wrap break-words rounded-md border border-slate-200 p-2 dark:border-slate-800";
        item.setAttribute("data-streamed-item", "");
        view.appendChild(item);
      }
      if (item.textContent !== text) item.textContent = text;
    });
    while (view.children.length > texts.length) view.lastElementChild.remove();
    raw.hidden = true;
    view.hidden = false;
  }

  function showAll(root) {
    if (!root || !root.querySelectorAll) return;
    if (root.matches("[data-tagged-items]")) show(root);
    root.querySelectorAll("[data-tagged-items]").forEach(show);
  }
  document.addEventListener("DOMContentLoaded", function () { showAll(document.body); });
  document.addEventListener("htmx:load", function (event) { showAll(event.detail.elt); });
  document.addEventListener("htmx:sseMessage", function (event) {
    var box = event.target.closest && event.target.closest("[data-tagged-items]");
    if (box) show(box);
  });
})();

// The campaign board's one stream (campaigns/streaming.py) follows the generations it was
// opened for. A panel that Regenerate or Fit to limits swaps in (htmx) carries its new
// generation (data-follow): the board's stream is opened again with that generation added to
// its cursor, which resumes every other panel exactly after what it has shown. The old
// EventSource is closed first (the sse extension's own cleanup), so the tab keeps ONE
// connection; each panel's sse-swap listeners move to the new one.
(function () {
  "use strict";
  var joins = 0;

  function reopen(board, url) {
    htmx.trigger(board, "htmx:beforeCleanupElement");  // the sse extension closes its source
    board.setAttribute("hx-ext", "sse");
    board.setAttribute("sse-close", "end");
    board.setAttribute("data-board-stream", "");
    board.setAttribute("sse-connect", url);
    joins += 1;
    // A changed attribute makes htmx process the element again: each listener is registered
    // on the new source.
    board.querySelectorAll("[sse-swap]").forEach(function (element) {
      element.setAttribute("data-joined", String(joins));
    });
    htmx.process(board);
  }

  document.addEventListener("htmx:load", function (event) {
    var elt = event.detail.elt;
    if (!elt.matches || elt === document.body) return;  // the page's own panels are followed
    var panels = elt.matches("[data-follow]") ? [elt] : Array.from(elt.querySelectorAll("[data-follow]"));
    var board = panels.length && panels[0].closest("[data-board]");
    if (!board) return;
    var url = new URL(board.getAttribute("sse-connect") || board.dataset.board, window.location.href);
    var pairs = (url.searchParams.get("after") || "").split(".").filter(Boolean);
    var followed = pairs.map(function (pair) { return pair.split(":")[0]; });
    var added = panels.map(function (panel) { return panel.dataset.follow; })
      .filter(function (id) { return followed.indexOf(id) < 0; });
    if (!added.length) return;
    url.searchParams.set("after", pairs.concat(added.map(function (id) { return id + ":0"; })).join("."));
    reopen(board, url.pathname + url.search);
  });
})();
