// portaladmin's small script: toasts from HX-Trigger events, live updates, confirmations, select-all boxes.
// No inline handlers (CSP), no eval: everything is wired here by data attributes.
(function () {
  "use strict";

  function toast(text, level) {
    var box = document.getElementById("toasts");
    if (!box) return;
    var el = document.createElement("div");
    el.className = "toast toast-" + (level || "info");
    el.setAttribute("role", level === "error" ? "alert" : "status");
    el.textContent = text;
    box.appendChild(el);
    setTimeout(function () { el.remove(); }, 8000);
  }

  // Phone menu: #nav-toggle folds #main-menu (CSS hides it below 768 px once .nav-ready is set, so without this
  // script the menu stays unfolded). Escape closes it and gives the focus back to the button.
  var navToggle = document.getElementById("nav-toggle");
  var navMenu = document.getElementById("main-menu");
  function setNavOpen(open) {
    navToggle.setAttribute("aria-expanded", open ? "true" : "false");
    navMenu.classList.toggle("open", open);
  }
  if (navToggle && navMenu) {
    document.documentElement.classList.add("nav-ready");
    navToggle.addEventListener("click", function () {
      setNavOpen(navToggle.getAttribute("aria-expanded") !== "true");
    });
    document.addEventListener("keydown", function (evt) {
      if (evt.key !== "Escape" || navToggle.getAttribute("aria-expanded") !== "true") return;
      setNavOpen(false);
      navToggle.focus();
    });
  }

  // Tables scroll inside their .table-scroll box on narrow screens. A box that really scrolls becomes a named,
  // focusable region so that keyboard users can scroll it too (and a box that fits stays out of the tab order).
  function fitTables() {
    document.querySelectorAll(".table-scroll").forEach(function (box) {
      var scrolls = box.scrollWidth > box.clientWidth + 1;
      if (scrolls && !box.hasAttribute("tabindex")) {
        var caption = box.querySelector("caption");
        box.tabIndex = 0;
        box.setAttribute("role", "region");
        box.setAttribute("aria-label", (caption ? caption.textContent.trim() : "Table") + ", scrolls sideways");
      } else if (!scrolls && box.hasAttribute("tabindex")) {
        box.removeAttribute("tabindex");
        box.removeAttribute("role");
        box.removeAttribute("aria-label");
      }
    });
  }
  var fitTimer = null;
  function fitTablesSoon() {
    clearTimeout(fitTimer);
    fitTimer = setTimeout(fitTables, 100);
  }
  fitTables();
  window.addEventListener("resize", fitTablesSoon);
  document.body.addEventListener("htmx:load", fitTables);

  // Progress for screen readers. Polled blocks are replaced whole every 2 s, which a live region inside them would
  // either miss or repeat; so one stable #live-status region says the state when it changes (data-live-status)
  // and the count (data-live-progress) at most every 15 s.
  var announced = {};
  function announceProgress(root, initial) {
    var live = document.getElementById("live-status");
    if (!live || !root || !root.querySelectorAll) return;
    var blocks = Array.prototype.slice.call(root.querySelectorAll("[data-live-status]"));
    if (root.hasAttribute && root.hasAttribute("data-live-status")) blocks.unshift(root);
    blocks.forEach(function (el) {
      var key = el.id || el.getAttribute("data-live-status");
      var state = el.getAttribute("data-live-status");
      var count = el.getAttribute("data-live-progress") || "";
      var last = announced[key];
      var now = Date.now();
      // A block already on the loaded page is not repeated; one that an action just inserted is said at once.
      if (!last && initial) { announced[key] = {state: state, count: count, at: now}; return; }
      if (!last || state !== last.state || (count !== last.count && now - last.at >= 15000)) {
        live.textContent = state + (count ? ": " + count : "") + ".";
        announced[key] = {state: state, count: count, at: now};
      }
    });
  }
  announceProgress(document, true);
  document.body.addEventListener("htmx:load", function (evt) { announceProgress(evt.detail.elt, false); });

  // Charts: <canvas data-chart="ID" data-stacked="horizontal|vertical"> drawn with Chart.js (vendored, loaded by
  // the page that has charts) from the JSON of <script type="application/json" id="ID"> (json_script). Each stack
  // has a pattern as well as a colour, so the chart reads without colour; the legend shows the same swatches.
  var CHART_STYLES = {
    idle: ["#1a7f5a", "solid"], busy: ["#0072b2", "diagonal"], error: ["#c2410c", "cross"],
    limit_reached: ["#a16207", "dots"], unknown: ["#6b7280", "horizontal"],
    succeeded: ["#1a7f5a", "solid"], failed: ["#c2410c", "cross"], other: ["#6b7280", "diagonal"],
    with_errors: ["#a16207", "dots"], cancelled: ["#6b7280", "horizontal"], running: ["#0072b2", "diagonal"],
    pending: ["#9ca3af", "dots"], median: ["#0072b2", "solid"], p95: ["#a16207", "diagonal"]
  };
  function chartFill(colour, kind) {
    if (kind === "solid") return colour;
    var tile = document.createElement("canvas");
    tile.width = tile.height = 8;
    var g = tile.getContext("2d");
    g.fillStyle = colour;
    g.globalAlpha = 0.3;
    g.fillRect(0, 0, 8, 8);
    g.globalAlpha = 1;
    g.strokeStyle = colour;
    g.lineWidth = 1.5;
    g.beginPath();
    if (kind === "diagonal" || kind === "cross") { g.moveTo(0, 8); g.lineTo(8, 0); g.moveTo(6, 10); g.lineTo(10, 6); g.moveTo(-2, 2); g.lineTo(2, -2); }
    if (kind === "cross") { g.moveTo(0, 0); g.lineTo(8, 8); g.moveTo(6, -2); g.lineTo(10, 2); g.moveTo(-2, 6); g.lineTo(2, 10); }
    if (kind === "horizontal") { g.moveTo(0, 4); g.lineTo(8, 4); }
    g.stroke();
    if (kind === "dots") { g.beginPath(); g.arc(4, 4, 1.8, 0, 2 * Math.PI); g.fill(); }
    return g.createPattern(tile, "repeat");
  }
  function drawCharts() {
    if (!window.Chart) return;
    document.querySelectorAll("canvas[data-chart]").forEach(function (canvas) {
      // htmx drops <script> elements from swapped content: a chart swapped in carries its numbers in
      // data-chart-json (same JSON, an attribute escaped by the template) instead of the json_script.
      var inline = canvas.getAttribute("data-chart-json");
      var source = document.getElementById(canvas.getAttribute("data-chart"));
      if ((!source && !inline) || window.Chart.getChart(canvas)) return;
      var data = JSON.parse(inline || source.textContent);
      var horizontal = canvas.getAttribute("data-stacked") === "horizontal";
      var stacked = canvas.getAttribute("data-stacked") !== "none";  // "none": bars side by side (median, p95)
      var unit = canvas.getAttribute("data-unit") || "";
      if (horizontal) canvas.parentNode.style.height = (6 + 2.5 * data.labels.length) + "rem";  // CSSOM: CSP allows it
      new window.Chart(canvas, {
        type: "bar",
        data: {
          labels: data.labels,
          datasets: data.series.map(function (s) {
            var style = CHART_STYLES[s.key] || ["#4b5563", "solid"];
            return {label: s.label, data: s.values, backgroundColor: chartFill(style[0], style[1]),
              borderColor: style[0], borderWidth: 1};
          })
        },
        options: {
          indexAxis: horizontal ? "y" : "x", responsive: true, maintainAspectRatio: false, animation: false,
          scales: {x: {stacked: stacked, ticks: {precision: 0}},
                   y: {stacked: stacked, ticks: {precision: 0}, title: {display: !!unit, text: unit === "s" ? "seconds" : unit}}},
          plugins: {legend: {position: "bottom"}}
        }
      });
      canvas.setAttribute("data-drawn", "true");
    });
  }
  // A live chart (<canvas data-chart-live="ID">, the job page's): each progress poll swaps in, out of band,
  // <div id="ID" data-chart-json="…"> with the numbers of now; the chart drawn is updated in place (no flicker,
  // no new canvas), only when the numbers changed.
  function updateLiveCharts() {
    if (!window.Chart) return;
    document.querySelectorAll("canvas[data-chart-live]").forEach(function (canvas) {
      var source = document.getElementById(canvas.getAttribute("data-chart-live"));
      var chart = window.Chart.getChart(canvas);
      var json = source && source.getAttribute("data-chart-json");
      if (!chart || !json || json === canvas.getAttribute("data-chart-shown")) return;
      var data = JSON.parse(json);
      chart.data.labels = data.labels;
      data.series.forEach(function (s, i) { if (chart.data.datasets[i]) chart.data.datasets[i].data = s.values; });
      chart.update("none");
      canvas.setAttribute("data-chart-shown", json);
    });
  }
  drawCharts();
  document.body.addEventListener("htmx:load", drawCharts);  // a chart swapped in
  document.body.addEventListener("htmx:afterSettle", updateLiveCharts);  // after each poll, its OOB numbers too

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

  // A bulk form's question names the action and how many: "Publish 95 datasets on Lyon?" — the "all matching"
  // box (data-count) when ticked, else the ticked rows (inputs named uid, inside or form= the form).
  function bulkQuestion(form, submitter, where) {
    var all = null, ticked = 0;
    Array.prototype.forEach.call(form.elements, function (el) {
      if (el.getAttribute("data-part") === "all-matching" && el.checked) all = el;
      if (el.name === "uid" && el.checked) ticked += 1;
    });
    var count = all ? parseInt(all.getAttribute("data-count"), 10) : ticked;
    if (!count) return "";
    var action = (submitter.textContent || "").replace(/[…\s]+$/, "").trim();
    return action + (/metadata$/i.test(action) ? " of " : " ") + count + " dataset" + (count === 1 ? "" : "s") + (where ? " on " + where : "") +
      (all ? " (every dataset matching the filter)" : "") + "?";
  }

  // Confirmation: <form data-confirm="Really?"> (plain or hx-post forms: the submit event is stopped here
  // before htmx sees it), unless the submit button has data-no-confirm. Elements that are not forms use
  // htmx's own hx-confirm.
  document.addEventListener("submit", function (evt) {
    var form = evt.target;
    var submitter = evt.submitter;  // a button marked data-no-confirm asks on its own page (e.g. bulk delete)
    if (submitter && submitter.hasAttribute("data-no-confirm")) return;
    var msg = form.getAttribute && form.getAttribute("data-confirm");
    var where = form.getAttribute && form.getAttribute("data-confirm-bulk");
    if (msg && where !== null && submitter) msg = bulkQuestion(form, submitter, where) || msg;
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

  // List-of-strings editor (metadata): <div data-list-editor> holding <div data-list-item> rows, each with an
  // input and buttons data-list-remove / data-list-up; a <template data-list-blank> row and a data-list-add
  // button. Every item is its own input, so commas inside an item are just characters.
  document.addEventListener("click", function (evt) {
    var btn = evt.target.closest && evt.target.closest("[data-list-add],[data-list-remove],[data-list-up]");
    if (!btn) return;
    var editor = btn.closest("[data-list-editor]");
    if (!editor) return;
    evt.preventDefault();
    var item = btn.closest("[data-list-item]");
    if (btn.hasAttribute("data-list-add")) {
      var blank = editor.querySelector("template[data-list-blank]");
      var row = blank.content.firstElementChild.cloneNode(true);
      editor.querySelector("[data-list-items]").appendChild(row);
      row.querySelector("input").focus();
    } else if (btn.hasAttribute("data-list-remove") && item) {
      item.remove();
    } else if (btn.hasAttribute("data-list-up") && item && item.previousElementSibling) {
      item.parentNode.insertBefore(item, item.previousElementSibling);
    }
    var form = editor.closest("form");
    if (form) form.dispatchEvent(new Event("change", {bubbles: true}));  // the one-time token follows changes
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
