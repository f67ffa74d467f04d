// benzotaper: starts the vendored Swagger UI on /api/docs (a file, so the CSP needs no inline script).
(function () {
  "use strict";
  var meta = document.querySelector('meta[name="csrf-token"]');
  var token = meta ? meta.getAttribute("content") : "";
  window.addEventListener("load", function () {
    window.ui = window.SwaggerUIBundle({
      url: "/api/openapi.json",
      dom_id: "#swagger-ui",
      deepLinking: true,
      validatorUrl: null, // never send the schema to another site
      presets: [window.SwaggerUIBundle.presets.apis],
      layout: "BaseLayout",
      // "Try it out" sends the CSRF token like the app's own pages do; logging in or out
      // through the API hands out a new one, which is picked up from the answer.
      requestInterceptor: function (req) {
        req.headers["X-CSRF-Token"] = token;
        return req;
      },
      responseInterceptor: function (res) {
        if (res && res.body && typeof res.body.csrf_token === "string") {
          token = res.body.csrf_token;
        }
        return res;
      }
    });
  });
})();
