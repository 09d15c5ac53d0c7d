/* Campaign page: poll the progress endpoint every 2 s while the campaign may still
 * move (scheduled, sending, or sent and not yet settled) and update the progress
 * bar, counters, funnel and status in place. Stops once the campaign is final. */
(function () {
  "use strict";
  var INTERVAL_MS = 2000;

  function formatter() {
    var lang = document.documentElement.lang || undefined;
    return {
      int: new Intl.NumberFormat(lang),
      pct: new Intl.NumberFormat(lang, { maximumFractionDigits: 1, minimumFractionDigits: 1 }),
      /* The server's percent format ("98,5 %" in French, "98.5%" in English). */
      percent: function (value) {
        var text = this.pct.format(value);
        return lang && lang.indexOf("fr") === 0 ? text + "\u00a0%" : text + "%";
      }
    };
  }

  function setText(root, selector, value) {
    root.querySelectorAll(selector).forEach(function (node) { node.textContent = value; });
  }

  function updateCounters(data, fmt) {
    document.querySelectorAll("#campaign-counters tbody tr").forEach(function (row) {
      var count = data.counts[row.dataset.status] || 0;
      var percent = data.total ? Math.round(count * 1000 / data.total) / 10 : 0;
      row.querySelector("[data-count]").textContent = fmt.int.format(count);
      row.querySelector("[data-percent]").textContent = fmt.percent(percent);
      var bar = row.querySelector(".ph-bar");
      if (bar) bar.style.width = percent + "%";
    });
  }

  function updateFunnel(data, fmt) {
    var table = document.getElementById("campaign-funnel");
    if (!table) return;
    data.funnel.forEach(function (step) {
      var row = table.querySelector("tr[data-key='" + step.key + "']");
      if (!row) return;
      var count = row.querySelector("[data-count]");
      var percent = row.querySelector("[data-percent]");
      count.dataset.count = step.count;
      count.textContent = fmt.int.format(step.count);
      percent.dataset.percent = step.percent;
      percent.textContent = fmt.percent(step.percent);
    });
    if (window.PartnerHubChart) window.PartnerHubChart.drawAll();
  }

  /* The words come from the server (campaigns/states.py): one vocabulary. */
  function updateStatus(data) {
    var state = data.state || {};
    var badge = document.getElementById("campaign-status");
    if (badge) {
      badge.textContent = state.label || data.status_label;
      badge.dataset.status = data.campaign_status;
      badge.className = "ph-badge " + (data.status_badge || "");
    }
    var summary = document.getElementById("campaign-state-summary");
    if (summary) {
      summary.textContent = state.summary || "";
      summary.hidden = !state.summary || state.summary === state.label;
      summary.classList.toggle("ph-error", state.key === "failed");
    }
    var advice = document.getElementById("campaign-state-advice");
    if (advice) {
      advice.textContent = state.advice || "";
      advice.hidden = !state.advice;
    }
  }

  function apply(root, data) {
    var fmt = formatter();
    var state = data.state || {};
    var bar = document.getElementById("campaign-progress");
    if (bar) {
      bar.value = state.percent_left || 0;
      bar.textContent = fmt.percent(state.percent_left || 0);
    }
    setText(root, "[data-field='state_progress']", state.progress || "");
    setText(root, "[data-field='percent_left']", fmt.percent(state.percent_left || 0));
    setText(root, "[data-field='state_rate']", state.rate || "");
    var rateNote = document.getElementById("campaign-rate-note");
    if (rateNote) {
      rateNote.textContent = state.rate_note || "";
      rateNote.hidden = !state.rate_note;
    }
    setText(root, "[data-field='percent_settled']", fmt.percent(data.percent_settled));
    updateCounters(data, fmt);
    updateFunnel(data, fmt);
    updateStatus(data);
    root.dataset.live = data.live ? "true" : "false";
    var note = document.getElementById("campaign-live-note");
    if (note) note.hidden = !data.live;
  }

  function poll(root) {
    fetch(root.dataset.progressUrl, {
      credentials: "same-origin",
      headers: { Accept: "application/json" },
      cache: "no-store"
    })
      .then(function (response) {
        if (!response.ok) throw new Error("HTTP " + response.status);
        return response.json();
      })
      .then(function (data) {
        if (data.total && !document.getElementById("campaign-funnel")) {
          /* Dispatch has just begun: reload once to show the funnel and table. */
          window.location.reload();
          return;
        }
        apply(root, data);
        if (data.live) window.setTimeout(function () { poll(root); }, INTERVAL_MS);
      })
      .catch(function () {
        /* A network blip: try again a little later rather than giving up. */
        window.setTimeout(function () { poll(root); }, INTERVAL_MS * 3);
      });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var root = document.querySelector(".ph-campaign[data-progress-url]");
    if (root && root.dataset.live === "true") {
      window.setTimeout(function () { poll(root); }, INTERVAL_MS);
    }
  });
})();
