/* Merge fields on the compose page: insert buttons, fallbacks, sample recipient.
   compose.js asks window.PartnerHubMerge.fill(text) before it previews or counts,
   so the previews show the chosen recipient's values (the fallback when empty). */
(function () {
  "use strict";
  var PLACEHOLDER = /#([A-Z0-9_]{1,40})#/g;
  var panel = document.getElementById("merge-panel");
  if (!panel) { return; }
  var config = JSON.parse(document.getElementById("merge-config").textContent);
  var summary = JSON.parse(document.getElementById("merge-summary").textContent);
  var prefix = panel.dataset.prefix;
  var buttons = document.getElementById("merge-buttons");
  var fallbacks = document.getElementById("merge-fallbacks");
  var sampleField = document.getElementById("merge-sample-field");
  var sample = document.getElementById("merge-sample");
  var warnings = document.getElementById("merge-warnings");
  var subjectPreview = document.getElementById("merge-subject-preview");
  var noAudience = document.getElementById("merge-no-audience");
  var contentIds = config.channel === "email" ? ["id_subject", "id_html", "id_text"] : ["id_text"];
  var lastFocused = config.channel === "email" ? "id_html" : "id_text";

  var fmt = window.PartnerHubText.fmt;  // compose.js, loaded first (both deferred)

  function fallbackInput(field) {
    return document.getElementById("id_fallback_" + field);
  }

  function currentSample() {
    if (!summary || !sample) { return null; }
    return summary.samples.filter(function (s) { return String(s.id) === sample.value; })[0] || null;
  }

  function values() {
    var found = {};
    var chosen = currentSample();
    (summary ? summary.fields : []).forEach(function (field) {
      var value = chosen ? (chosen.values[field] || "") : "";
      if (!value.trim()) {
        var input = fallbackInput(field);
        value = input ? input.value.trim() : "";
      }
      found[field] = value.trim();
    });
    return found;
  }

  function fill(text) {
    if (!summary) { return text; }
    var known = values();
    return text.replace(PLACEHOLDER, function (match, name) {
      return Object.prototype.hasOwnProperty.call(known, name) ? known[name] : match;
    });
  }
  window.PartnerHubMerge = { fill: fill };

  function usedFields() {
    var used = {};
    contentIds.forEach(function (id) {
      var box = document.getElementById(id);
      if (!box) { return; }
      box.value.replace(PLACEHOLDER, function (match, name) { used[name] = true; return match; });
    });
    return used;
  }

  function totalSampled() {
    return summary && summary.total !== undefined ? summary.total : null;
  }

  function showState() {
    var used = usedFields();
    fallbacks.querySelectorAll("[data-field]").forEach(function (row) {
      row.hidden = !used[row.dataset.field];
    });
    warnings.textContent = "";
    Object.keys(used).forEach(function (field) {
      var empty = summary && summary.empty[field];
      if (!empty) { return; }
      var input = fallbackInput(field);
      var template = input && input.value.trim() ? config.text.empty : config.text.emptyNoFallback;
      var item = document.createElement("li");
      item.textContent = fmt(template, { count: empty, total: summary.total, field: field });
      item.dataset.field = field;
      warnings.appendChild(item);
    });
    warnings.hidden = !warnings.children.length;
    // Email: the subject as the sample recipient gets it; voice: the text read.
    var shown = document.getElementById(config.channel === "voice" ? "id_text" : "id_subject");
    var template = config.channel === "voice" ? config.text.voice : config.text.subject;
    if (shown && config.channel !== "sms") {
      subjectPreview.textContent = shown.value ? fmt(template, { subject: fill(shown.value) }) : "";
      subjectPreview.hidden = !shown.value;
    }
  }

  // Previews are redrawn (compose.js listens to "input") only for a content that
  // uses a merge field: a plain email keeps the preview the server drew.
  function refreshPreviews() {
    showState();
    contentIds.forEach(function (id) {
      var box = document.getElementById(id);
      if (box && id !== "id_subject" && usesMergeFields(box.value)) {
        box.dispatchEvent(new Event("input", { bubbles: true }));
      }
    });
  }

  function usesMergeFields(text) {
    var fields = summary ? summary.fields : [];
    return fields.some(function (field) { return text.indexOf("#" + field + "#") !== -1; });
  }

  function insert(field) {
    var target = document.getElementById(lastFocused);
    var code = "#" + field + "#";
    var start = target.selectionStart || 0, end = target.selectionEnd || 0;
    target.value = target.value.slice(0, start) + code + target.value.slice(end);
    target.focus();
    target.selectionStart = target.selectionEnd = start + code.length;
    target.dispatchEvent(new Event("input", { bubbles: true }));
  }

  function rebuild() {
    var typed = {};
    fallbacks.querySelectorAll("input").forEach(function (input) { typed[input.name] = input.value; });
    buttons.textContent = "";
    fallbacks.textContent = "";
    sample.textContent = "";
    var fields = summary ? summary.fields : [];
    fields.forEach(function (field) {
      var button = document.createElement("button");
      button.type = "button";
      button.className = "ph-button ph-button-secondary ph-merge-insert";
      button.dataset.field = field;
      button.textContent = "#" + field + "#";
      buttons.appendChild(button);
      buttons.appendChild(document.createTextNode(" "));
      var row = document.createElement("div");
      row.className = "ph-field";
      row.dataset.field = field;
      var label = document.createElement("label");
      label.htmlFor = "id_fallback_" + field;
      label.textContent = fmt(config.text.fallback, { field: field });
      var input = document.createElement("input");
      input.type = "text";
      input.id = "id_fallback_" + field;
      input.name = prefix + field;
      input.maxLength = 100;
      input.value = typed[prefix + field] || "";
      row.appendChild(label);
      row.appendChild(input);
      fallbacks.appendChild(row);
    });
    (summary ? summary.samples : []).forEach(function (s) {
      var option = document.createElement("option");
      option.value = String(s.id);
      option.textContent = s.label;
      sample.appendChild(option);
    });
    sampleField.hidden = !(summary && summary.samples.length);
    noAudience.hidden = !!summary;
    refreshPreviews();
  }

  function load(audienceId) {
    if (!audienceId) { summary = null; rebuild(); return; }
    var url = config.url + "?channel=" + encodeURIComponent(config.channel) +
      "&audience=" + encodeURIComponent(audienceId);
    fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.json() : Promise.reject(response); })
      .then(function (data) { summary = data; rebuild(); })
      .catch(function () { summary = null; rebuild(); });
  }

  buttons.addEventListener("click", function (event) {
    var button = event.target.closest(".ph-merge-insert");
    if (button) { insert(button.dataset.field); }
  });
  contentIds.forEach(function (id) {
    var box = document.getElementById(id);
    if (!box) { return; }
    box.addEventListener("focus", function () { lastFocused = id; });
    box.addEventListener("input", showState);
  });
  fallbacks.addEventListener("input", refreshPreviews);
  sample.addEventListener("change", refreshPreviews);
  var audience = document.getElementById("id_audience");
  if (audience) { audience.addEventListener("change", function () { load(audience.value); }); }
  document.addEventListener("DOMContentLoaded", function () { refreshPreviews(); });
})();
