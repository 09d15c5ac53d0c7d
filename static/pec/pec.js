/* PEC pages: live sanitised preview and cost on compose, busy buttons, auto-refresh. */
(function () {
  "use strict";

  function debounce(fn, ms) {
    var timer;
    return function () { clearTimeout(timer); timer = setTimeout(fn, ms); };
  }

  function compose(form) {
    var frame = document.getElementById("pec-preview-frame");
    var status = document.getElementById("pec-preview-status");
    var body = form.querySelector("[name=body_html]");
    var recipients = form.querySelector("[name=recipients]");
    var cost = document.getElementById("pec-cost-value");
    var price = parseFloat(form.dataset.price || "0");
    var csrf = form.querySelector("[name=csrfmiddlewaretoken]").value;

    function updateCost() {
      var count = recipients.value.split(/[\s,;]+/).filter(function (s) { return s.indexOf("@") > 0; }).length;
      cost.textContent = (count * price).toLocaleString(document.documentElement.lang || undefined,
        { style: "currency", currency: "EUR" }) + " (" + count + ")";
    }

    var refresh = debounce(function () {
      status.textContent = "…";
      var data = new FormData();
      data.append("body_html", body.value);
      fetch(form.dataset.previewUrl, { method: "POST", body: data, headers: { "X-CSRFToken": csrf }, credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.text() : Promise.reject(r.status); })
        .then(function (html) { frame.srcdoc = html; status.textContent = ""; })
        .catch(function () { status.textContent = "⚠"; });
    }, 400);

    body.addEventListener("input", refresh);
    recipients.addEventListener("input", updateCost);
    updateCost();
    if (body.value && !frame.getAttribute("srcdoc")) { refresh(); }
  }

  document.addEventListener("DOMContentLoaded", function () {
    var form = document.getElementById("pec-compose");
    if (form) { compose(form); }
    document.querySelectorAll("button[data-busy]").forEach(function (button) {
      button.form && button.form.addEventListener("submit", function () {
        setTimeout(function () { button.disabled = true; button.textContent = button.dataset.busy; }, 0);
      });
    });
    var live = document.querySelector("[data-auto-refresh]");
    if (live) {
      setTimeout(function () { window.location.reload(); }, parseInt(live.dataset.autoRefresh, 10) * 1000);
    }
  });
})();
