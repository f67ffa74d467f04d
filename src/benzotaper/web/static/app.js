// benzotaper: the only script besides htmx. No inline scripts anywhere (strict CSP).
(function () {
  "use strict";
  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : "";
  }
  // htmx requests carry the CSRF token in a header, like the hidden field in plain forms.
  document.addEventListener("htmx:configRequest", function (evt) {
    evt.detail.headers["X-CSRF-Token"] = csrfToken();
  });
  // A time zone not chosen yet defaults to the browser's own (the person can still change it).
  function browserTimeZone() {
    var zones = document.querySelectorAll("select[data-browser-tz]");
    var tz = "";
    try { tz = Intl.DateTimeFormat().resolvedOptions().timeZone || ""; } catch (e) { tz = ""; }
    zones.forEach(function (sel) {
      if (!sel.value && tz) { sel.value = tz; }  // an unknown name leaves the choice empty
    });
  }
  // "Undo" shows for a few seconds after "I took it" (the journal can correct it later).
  function armUndo() {
    document.querySelectorAll("[data-undo-seconds]:not([data-armed])").forEach(function (el) {
      el.setAttribute("data-armed", "");
      var seconds = parseInt(el.getAttribute("data-undo-seconds"), 10) || 10;
      window.setTimeout(function () { if (el.parentNode) { el.parentNode.removeChild(el); } },
        seconds * 1000);
    });
  }
  document.addEventListener("htmx:afterSettle", armUndo);
  // Wide screens: the menu is a row and always open (older browsers lack ::details-content).
  function openMenuOnWideScreens() {
    var menu = document.querySelector("details.menu");
    if (menu && window.matchMedia("(min-width: 48rem)").matches) { menu.open = true; }
  }
  function ready() { browserTimeZone(); armUndo(); openMenuOnWideScreens(); }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", ready);
  } else {
    ready();
  }
  // Compare: a row chooses its method in the builder and shows that plan (without JavaScript
  // the row's button posts the whole form with the choice).
  document.addEventListener("click", function (evt) {
    var target = evt.target;
    if (!target || !target.closest) { return; }
    var row = target.closest("tr.choosable");
    var button = row ? row.querySelector("button.choose") : null;
    if (!button) { return; }
    var strategy = document.getElementById("strategy");
    var crossover = document.getElementById("crossover");
    var show = document.querySelector("#plan-form button[value=preview]");
    if (!strategy || !crossover || !show || !window.htmx) { if (target !== button) { button.click(); } return; }
    evt.preventDefault();
    strategy.value = button.getAttribute("data-strategy");
    crossover.value = button.getAttribute("data-crossover");
    row.parentNode.querySelectorAll("tr.current").forEach(function (tr) { tr.classList.remove("current"); });
    row.classList.add("current");
    show.click();
    document.getElementById("preview").scrollIntoView();
  });
  // Buttons that remove or revoke something ask first (data-confirm="question").
  document.addEventListener("submit", function (evt) {
    var form = evt.target;
    var question = form && form.getAttribute ? form.getAttribute("data-confirm") : null;
    if (question && !window.confirm(question)) {
      evt.preventDefault();
    }
  });
})();
