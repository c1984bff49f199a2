// portaladmin's small script: toasts from HX-Trigger events, live updates, confirmations, select-all boxes.
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

  // Live screens (portaladmin.core.live): a response says which objects changed ({"changed": {"keys", "clear"}}).
  // Each element showing one of them (data-live-key="key1 key2", with an id) is re-read from its data-live-src URL,
  // one request per source, and swapped by id. An element the answer no longer holds (e.g. it left the filter)
  // is removed. "clear" names the checkboxes whose selection is cleared (after a bulk action).
  function clearSelection(name) {
    document.querySelectorAll('input[type=checkbox][name="' + name + '"], input[data-select-all="' + name + '"]')
      .forEach(function (box) { box.checked = false; });
  }
  function liveRefresh(src, els) {
    fetch(src, { headers: { "HX-Request": "true", "X-Live": "1" }, credentials: "same-origin" })
      .then(function (resp) { return resp.ok ? resp.text() : null; })
      .then(function (html) {
        if (html === null) return;
        var doc = new DOMParser().parseFromString(html, "text/html");
        els.forEach(function (el) {
          var fresh = doc.getElementById(el.id);
          if (!fresh) { el.remove(); return; }
          var node = document.importNode(fresh, true);
          el.replaceWith(node);
          if (window.htmx) window.htmx.process(node);
          stampAll(node);
        });
        document.body.dispatchEvent(new CustomEvent("liveUpdated", { detail: { src: src } }));
      })
      .catch(function () { /* the next change or a reload brings it back */ });
  }
  document.body.addEventListener("changed", function (evt) {
    var d = evt.detail || {};
    if (d.clear) clearSelection(d.clear);
    var keys = d.keys || [];
    if (!keys.length) return;
    var wanted = {};
    keys.forEach(function (k) { wanted[k] = true; });
    var bySrc = {};
    document.querySelectorAll("[data-live-key][data-live-src]").forEach(function (el) {
      if (!el.id) return;
      var hit = el.getAttribute("data-live-key").split(/\s+/).some(function (k) { return wanted[k]; });
      if (!hit) return;
      var src = el.getAttribute("data-live-src");
      (bySrc[src] = bySrc[src] || []).push(el);
    });
    Object.keys(bySrc).forEach(function (src) { liveRefresh(src, bySrc[src]); });
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

  // Double submits. Every POST form carries a one-time submit token, renewed whenever the form changes: a second
  // submit of an unchanged form carries the same token and the server answers it with what the first one started
  // (jobs.services.job_create). And a form's submit buttons are disabled while its request runs.
  function newToken() {
    if (window.crypto && window.crypto.randomUUID) return window.crypto.randomUUID();
    return String(Date.now()) + String(Math.random()).slice(2);
  }
  function isPostForm(form) {
    return form && form.tagName === "FORM" &&
      ((form.getAttribute("method") || "").toLowerCase() === "post" || form.hasAttribute("hx-post"));
  }
  function stamp(form) {
    if (!isPostForm(form)) return;
    var input = form.querySelector('input[name="submit_token"]');
    if (!input) {
      input = document.createElement("input");
      input.type = "hidden";
      input.name = "submit_token";
      form.appendChild(input);
    }
    input.value = newToken();
  }
  function stampAll(root) {
    if (!root) return;
    if (root.tagName === "FORM") stamp(root);
    if (root.querySelectorAll) root.querySelectorAll("form").forEach(stamp);
  }
  stampAll(document);
  document.body.addEventListener("htmx:load", function (evt) { stampAll(evt.detail.elt); });
  ["change", "input"].forEach(function (type) {
    document.addEventListener(type, function (evt) {
      var el = evt.target;
      if (el && el.form && el.name !== "submit_token") stamp(el.form);
    });
  });
  function buttons(form) {
    return form ? form.querySelectorAll('button[type="submit"], button:not([type]), input[type="submit"]') : [];
  }
  function setBusy(form, busy) {
    buttons(form).forEach(function (b) {
      if (busy) { b.disabled = true; b.setAttribute("aria-busy", "true"); b.setAttribute("data-busy", "1"); }
      else if (b.getAttribute("data-busy")) { b.disabled = false; b.removeAttribute("aria-busy"); b.removeAttribute("data-busy"); }
    });
  }
  document.body.addEventListener("htmx:beforeRequest", function (evt) {
    var cfg = evt.detail.requestConfig || {};
    if ((cfg.verb || "get").toLowerCase() === "get") return;
    var elt = evt.detail.elt;
    setBusy(elt && elt.closest ? elt.closest("form") : null, true);
  });
  document.body.addEventListener("htmx:afterRequest", function (evt) {
    var elt = evt.detail.elt;
    setBusy(elt && elt.closest ? elt.closest("form") : null, false);
  });
  // Plain forms: disable after the browser has taken the submit (the clicked button's value is still sent).
  document.addEventListener("submit", function (evt) {
    var form = evt.target;
    if (evt.defaultPrevented || !isPostForm(form) || form.hasAttribute("hx-post")) return;
    setTimeout(function () { setBusy(form, true); }, 0);
  });
  window.addEventListener("pageshow", function () {  // back to a page kept in the history cache
    document.querySelectorAll("form").forEach(function (form) { setBusy(form, false); });
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
