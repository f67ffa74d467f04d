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
  // The plan builder asks for a preview a moment after a field changes. htmx sends such a
  // request to the formaction of the submit button clicked last, so clicking "Save this plan"
  // right after editing a field saved the plan twice (the delayed request went to /plan/save
  // too). The form's own requests always go to its hx-post, and none is sent once the form is
  // being submitted normally (a full-page post: save, add a row).
  document.addEventListener("htmx:configRequest", function (evt) {
    var elt = evt.detail.elt;
    if (!elt || elt.id !== "plan-form") {
      return;
    }
    if (elt.hasAttribute("data-submitting")) {
      evt.preventDefault();
      return;
    }
    evt.detail.path = elt.getAttribute("hx-post");
  });
  document.addEventListener("submit", function (evt) {
    if (evt.target && evt.target.id === "plan-form" && !evt.defaultPrevented) {
      evt.target.setAttribute("data-submitting", "1");
    }
  });
  window.addEventListener("pageshow", function () {
    var form = document.getElementById("plan-form");
    if (form) {
      form.removeAttribute("data-submitting");
    }
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
