// portaladmin's small script: toasts from HX-Trigger events, confirmations, select-all boxes.
// No inline handlers (CSP), no eval: everything is wired here by data attributes.
(function () {
  "use strict";

  function toast(text, level) {
    var box = document.getElementById("toasts");
    if (!box) return;
    var el = document.createElement("div");
    el.className = "toast toast-" + (level || "info");
    el.setAttribute("role", "status");
    el.textContent = text;
    box.appendChild(el);
    setTimeout(function () { el.remove(); }, 8000);
  }

  document.body.addEventListener("toast", function (evt) {
    var d = evt.detail || {};
    toast(d.text || d.value || "Done", d.level);
  });
  document.body.addEventListener("jobFinished", function (evt) {
    var d = evt.detail || {};
    toast(d.text || "Job finished", d.level || "info");
  });

  // Confirmation: <form data-confirm="Really?"> (plain or hx-post forms: the submit event is stopped here
  // before htmx sees it). Elements that are not forms use htmx's own hx-confirm.
  document.addEventListener("submit", function (evt) {
    var form = evt.target;
    var msg = form.getAttribute && form.getAttribute("data-confirm");
    if (msg && !window.confirm(msg)) { evt.preventDefault(); evt.stopPropagation(); }
  }, true);
  // Select-all checkbox: <input type=checkbox data-select-all="name-of-boxes">
  document.addEventListener("change", function (evt) {
    var el = evt.target;
    var name = el.getAttribute && el.getAttribute("data-select-all");
    if (!name) return;
    document.querySelectorAll('input[type=checkbox][name="' + name + '"]').forEach(function (box) {
      box.checked = el.checked;
    });
  });

  // Typed confirmation: the submit button stays disabled until the input matches data-expect.
  document.addEventListener("input", function (evt) {
    var el = evt.target;
    var expect = el.getAttribute && el.getAttribute("data-expect");
    if (expect === null || expect === undefined) return;
    var btn = el.form && el.form.querySelector("[data-expect-submit]");
    if (btn) btn.disabled = el.value !== expect;
  });

  // htmx 2 ignores 4xx/5xx bodies: tell the user something went wrong.
  document.body.addEventListener("htmx:responseError", function (evt) {
    var xhr = evt.detail.xhr;
    var text = xhr.status === 403 ? "You do not have the role needed for this action."
      : xhr.status === 404 ? "Not found (it may have been deleted)."
      : xhr.status === 413 ? "Too large for this page: nothing was read or saved. Send a smaller file or less text."
      : "The server answered " + xhr.status + ".";
    toast(text, "error");
  });
  document.body.addEventListener("htmx:sendError", function () {
    toast("portaladmin cannot be reached. Check your network.", "error");
  });
})();
