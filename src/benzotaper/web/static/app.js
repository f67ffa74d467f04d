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
  // Buttons that remove or revoke something ask first (data-confirm="question").
  document.addEventListener("submit", function (evt) {
    var form = evt.target;
    var question = form && form.getAttribute ? form.getAttribute("data-confirm") : null;
    if (question && !window.confirm(question)) {
      evt.preventDefault();
    }
  });
})();
