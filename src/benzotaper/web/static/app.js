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
  // The installable app: a service worker keeps Today readable offline and shows reminders.
  function registerServiceWorker() {
    if (!("serviceWorker" in navigator)) { return; }
    navigator.serviceWorker.register("/sw.js", { scope: "/" }).catch(function () {});
    navigator.serviceWorker.addEventListener("message", function (evt) {
      if (evt.data && evt.data.type === "push") { document.documentElement.setAttribute("data-last-push", evt.data.body || ""); }
    });
  }
  function showOffline(evt) {
    var note = document.querySelector(".offline-note");
    if (note && evt) { note.hidden = evt.type === "online"; }
    else if (note && !navigator.onLine) { note.hidden = false; }
  }
  window.addEventListener("online", showOffline);
  window.addEventListener("offline", showOffline);
  // Logging out forgets the pages kept for offline reading (a shared device stays private).
  document.addEventListener("submit", function (evt) {
    var form = evt.target;
    if (form && form.getAttribute && form.getAttribute("action") === "/logout" &&
        navigator.serviceWorker && navigator.serviceWorker.controller) {
      navigator.serviceWorker.controller.postMessage({ type: "forget-pages" });
    }
  });
  // Account page: turn Web Push reminders on or off for this browser.
  function base64UrlToBytes(text) {
    var pad = "=".repeat((4 - text.length % 4) % 4);
    var raw = window.atob((text + pad).replace(/-/g, "+").replace(/_/g, "/"));
    var out = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i++) { out[i] = raw.charCodeAt(i); }
    return out;
  }
  function postJson(url, body) {
    return fetch(url, { method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrfToken() },
      body: JSON.stringify(body) }).then(function (r) {
      if (!r.ok) { throw new Error("The server refused (" + r.status + ")."); }
      return r.json();
    });
  }
  function setupPush() {
    var box = document.querySelector("[data-push]");
    if (!box) { return; }
    var status = box.querySelector(".push-status");
    var on = box.querySelector("[data-push-on]");
    var off = box.querySelector("[data-push-off]");
    function show(state, text) {
      box.setAttribute("data-state", state);
      status.textContent = text;
      on.hidden = state === "on" || state === "unsupported";
      off.hidden = state !== "on";
    }
    if (!("serviceWorker" in navigator) || !("PushManager" in window) || !("Notification" in window)) {
      show("unsupported", "This browser cannot show reminders. Add the plan to your calendar (.ics) instead.");
      return;
    }
    navigator.serviceWorker.ready.then(function (reg) {
      return reg.pushManager.getSubscription();
    }).then(function (sub) {
      show(sub ? "on" : "off", sub ? "Reminders are on for this device." : "Reminders are off for this device.");
    }).catch(function () { show("off", "Reminders are off for this device."); });
    on.addEventListener("click", function () {
      show("working", "Turning reminders on…");
      Notification.requestPermission().then(function (perm) {
        if (perm !== "granted") { throw new Error("Notifications are blocked for this site in the browser's settings."); }
        return fetch("/api/push/key", { credentials: "same-origin" }).then(function (r) { return r.json(); });
      }).then(function (key) {
        return navigator.serviceWorker.ready.then(function (reg) {
          return reg.pushManager.subscribe({ userVisibleOnly: true,
            applicationServerKey: base64UrlToBytes(key.public_key) });
        });
      }).then(function (sub) {
        return postJson("/api/push/subscriptions", sub.toJSON());
      }).then(function () {
        show("on", "Reminders are on for this device.");
      }).catch(function (err) {
        show("off", "Reminders could not be turned on: " + (err && err.message ? err.message : "unknown problem") + " You can add the plan to your calendar (.ics) instead.");
      });
    });
    off.addEventListener("click", function () {
      navigator.serviceWorker.ready.then(function (reg) {
        return reg.pushManager.getSubscription();
      }).then(function (sub) {
        var endpoint = sub ? sub.endpoint : null;
        return (sub ? sub.unsubscribe() : Promise.resolve()).then(function () {
          return postJson("/api/push/unsubscribe", { endpoint: endpoint });
        });
      }).then(function () {
        show("off", "Reminders are off for this device.");
      }).catch(function () { show("on", "Reminders could not be turned off. Please try again."); });
    });
  }
  function ready() {
    browserTimeZone(); armUndo(); openMenuOnWideScreens(); registerServiceWorker();
    showOffline(null); setupPush();
  }
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
    var tail = document.getElementById("tail");
    if (tail && button.getAttribute("data-tail")) { tail.value = button.getAttribute("data-tail"); }
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
