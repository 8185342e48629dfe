// Runs in <head> before the first paint (not deferred), so a dark page never flashes white:
// the saved choice (the header toggle, in localStorage), else the OS preference.
(function () {
  "use strict";
  var saved = null;
  try { saved = window.localStorage.getItem("studio-theme"); } catch (e) { /* private mode */ }
  var dark = saved ? saved === "dark" : window.matchMedia("(prefers-color-scheme: dark)").matches;
  document.documentElement.classList.toggle("dark", dark);
})();
