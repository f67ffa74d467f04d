// benzotaper service worker: Today readable offline, dose reminders by Web Push.
// Pages are fetched from the network first; the last copy of Today (and of any page opened
// while online) is kept so it can be read without a connection. Logging out clears the copies.
"use strict";
var VERSION = "bt-v1";
var STATIC = VERSION + "-static";
var PAGES = VERSION + "-pages";
var PRECACHE = ["/static/app.css", "/static/app.js", "/static/htmx.min.js",
  "/static/favicon.svg", "/static/icons/icon-192.png", "/offline"];

self.addEventListener("install", function (event) {
  event.waitUntil(caches.open(STATIC).then(function (c) { return c.addAll(PRECACHE); })
    .then(function () { return self.skipWaiting(); }));
});

self.addEventListener("activate", function (event) {
  event.waitUntil(caches.keys().then(function (names) {
    return Promise.all(names.filter(function (n) { return n.indexOf(VERSION) !== 0; })
      .map(function (n) { return caches.delete(n); }));
  }).then(function () { return self.clients.claim(); }));
});

function pageCopy(request) {
  // Today is kept under one key whatever its query (?undo=...).
  var url = new URL(request.url);
  return url.pathname === "/today" ? "/today" : url.pathname + url.search;
}

self.addEventListener("fetch", function (event) {
  var request = event.request;
  var url = new URL(request.url);
  if (request.method !== "GET" || url.origin !== self.location.origin) { return; }
  if (url.pathname.indexOf("/static/") === 0) {
    // The kept copy at once, refreshed from the network for next time.
    event.respondWith(caches.open(STATIC).then(function (cache) {
      return cache.match(request).then(function (hit) {
        var fresh = fetch(request).then(function (response) {
          if (response.ok) { cache.put(request, response.clone()); }
          return response;
        });
        if (hit) { event.waitUntil(fresh.catch(function () {})); return hit; }
        return fresh;
      });
    }));
    return;
  }
  if (request.mode !== "navigate") { return; }
  event.respondWith(fetch(request).then(function (response) {
    if (response.ok && !response.redirected && url.pathname === "/today") {
      var copy = response.clone();
      caches.open(PAGES).then(function (c) { c.put(pageCopy(request), copy); });
    }
    return response;
  }).catch(function () {
    return caches.match(pageCopy(request)).then(function (hit) {
      if (!hit) { return caches.match("/offline"); }
      // The kept copy says it is one: its "You are offline" line is shown.
      return hit.text().then(function (html) {
        var marked = html.replace('class="notice offline-note" role="status" hidden',
          'class="notice offline-note" role="status"');
        return new Response(marked, { status: 200, headers: hit.headers });
      });
    });
  }));
});

self.addEventListener("message", function (event) {
  if (event.data && event.data.type === "forget-pages") {
    event.waitUntil(caches.delete(PAGES));
  }
});

self.addEventListener("push", function (event) {
  var data = {};
  try { data = event.data ? event.data.json() : {}; } catch (e) { data = {}; }
  var title = data.title || "benzotaper";
  var options = {
    body: data.body || "Time for your dose. Tap to record it.",
    tag: data.tag || "dose",
    icon: "/static/icons/icon-192.png",
    data: { url: data.url || "/today" }
  };
  event.waitUntil(Promise.all([
    self.registration.showNotification(title, options),
    // Open pages hear about it too (the page can say a reminder came; tests check delivery).
    self.clients.matchAll({ includeUncontrolled: true }).then(function (list) {
      list.forEach(function (client) {
        client.postMessage({ type: "push", title: title, body: options.body });
      });
    })
  ]));
});

self.addEventListener("notificationclick", function (event) {
  event.notification.close();
  var target = (event.notification.data && event.notification.data.url) || "/today";
  event.waitUntil(self.clients.matchAll({ type: "window" }).then(function (list) {
    for (var i = 0; i < list.length; i++) {
      if (new URL(list[i].url).pathname === target && "focus" in list[i]) {
        return list[i].focus();
      }
    }
    return self.clients.openWindow(target);
  }));
});
