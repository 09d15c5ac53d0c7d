/* Compose and review pages: live preview, SMS counter, audience counts, cost.
 *
 * Plain JS, no dependency. The SMS rules mirror campaigns/sms.py exactly (the
 * tests compare both on sample texts through window.PartnerHubSms.smsLength).
 */
(function () {
  "use strict";

  var GSM7_BASIC = new Set(Array.from(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?" +
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
  ));
  var GSM7_EXTENDED = new Set(Array.from("^{}\\[~]|€\f"));
  var STOP_AT_END = /\s*STOP(?: au)? 36180\s*$/i;
  var SMS_SENDER = /^[A-Za-z0-9]{3,11}$/;

  /* Characters and parts as the operator counts them (`:br:` counts two). */
  function smsLength(text) {
    text = text.split(":br:").join("\n\n").split(":euro:").join("€");
    var chars = Array.from(text);
    var gsm = chars.every(function (c) { return GSM7_BASIC.has(c) || GSM7_EXTENDED.has(c); });
    var count, single, multi, encoding;
    if (gsm) {
      count = chars.reduce(function (n, c) { return n + (GSM7_EXTENDED.has(c) ? 2 : 1); }, 0);
      single = 160; multi = 153; encoding = "GSM-7";
    } else {
      count = text.length; // UTF-16 code units, as the operators count them
      single = 70; multi = 67; encoding = "Unicode";
    }
    if (count <= single) {
      return { encoding: encoding, characters: count, parts: count ? 1 : 0, perPart: single };
    }
    return { encoding: encoding, characters: count, parts: Math.ceil(count / multi), perPart: multi };
  }

  /* The text as the server saves it: STOP mention once, at the end, if asked. */
  function smsWithStop(text, addStop, mention) {
    var body = text.replace(STOP_AT_END, "").replace(/\s+$/, "");
    return body && addStop ? body + " " + mention : body;
  }

  function fmt(template, params) {
    return template.replace(/%\((\w+)\)s/g, function (_, key) {
      return params[key] === undefined ? "" : String(params[key]);
    });
  }

  function amount(value) {
    return String(Math.round(value * 1000) / 1000);
  }

  function debounce(fn, ms) {
    var timer = null;
    return function () {
      clearTimeout(timer);
      timer = setTimeout(fn, ms);
    };
  }

  window.PartnerHubSms = { smsLength: smsLength, smsWithStop: smsWithStop };

  // Merge fields (merge_fields.js): the text as the chosen sample recipient gets it.
  function fill(text) {
    return window.PartnerHubMerge ? window.PartnerHubMerge.fill(text) : text;
  }

  function initCompose(form) {
    var config = JSON.parse(document.getElementById("compose-config").textContent);
    var text = config.text;
    var csrf = form.querySelector("[name=csrfmiddlewaretoken]").value;
    var audience = document.getElementById("id_audience");
    var account = document.getElementById("id_account");
    var countsBox = document.getElementById("audience-counts");
    var costBox = document.getElementById("cost-estimate");

    function parts() {
      if (config.channel !== "sms") { return 1; }
      var stop = document.getElementById("id_add_stop");
      var full = smsWithStop(fill(document.getElementById("id_text").value), stop && stop.checked, config.stopMention);
      return Math.max(smsLength(full).parts, 1);
    }

    function updateCost() {
      var sendable = countsBox.dataset.sendable;
      if (sendable === "" || sendable === undefined) { costBox.textContent = ""; return; }
      var n = parts();
      var chosen = account ? account.value : "";
      var price = (config.prices && config.prices[chosen]) || config.unitCost;
      var unit = (config.units && config.units[chosen]) || "";
      var cost = Number(price) * Number(sendable) * n;
      var message = config.channel === "sms"
        ? fmt(text.cost, { cost: amount(cost), parts: n, sendable: sendable, unit: price })
        : fmt(text.costEmail, { cost: amount(cost), unit: unit });
      var credits = account ? config.credits[account.value] : null;
      costBox.classList.remove("ph-error");
      if (credits !== null && credits !== undefined) {
        var shown = (config.creditsText && config.creditsText[chosen]) || credits;
        message += " " + fmt(text.credits, { credits: shown, unit: unit });
        if (cost > Number(credits)) {
          message += " " + text.notEnough;
          costBox.classList.add("ph-error");
        }
      }
      costBox.textContent = message;
    }

    function updateCounts() {
      if (!audience.value) {
        countsBox.dataset.sendable = "";
        countsBox.textContent = text.noAudience;
        updateCost();
        return;
      }
      var url = config.countsUrl + "?channel=" + encodeURIComponent(config.channel) +
        "&audience=" + encodeURIComponent(audience.value);
      fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
        .then(function (response) { return response.ok ? response.json() : Promise.reject(response); })
        .then(function (counts) {
          countsBox.dataset.sendable = counts.sendable;
          countsBox.textContent = fmt(text.counts, counts);
          updateCost();
        })
        .catch(function () { countsBox.dataset.sendable = ""; updateCost(); });
    }

    audience.addEventListener("change", updateCounts);
    if (account) { account.addEventListener("change", updateCost); }
    form.querySelectorAll(".ph-insert").forEach(function (button) {
      button.addEventListener("click", function () { insertAtCursor(button); });
    });
    if (config.channel === "email") { initEmail(config, csrf); }
    if (config.channel === "sms") { initSms(config, updateCost); }
    updateCost();
  }

  function insertAtCursor(button) {
    var target = document.getElementById(button.dataset.target);
    var code = button.dataset.insert;
    var start = target.selectionStart, end = target.selectionEnd;
    target.value = target.value.slice(0, start) + code + target.value.slice(end);
    target.focus();
    target.selectionStart = target.selectionEnd = start + code.length;
    target.dispatchEvent(new Event("input", { bubbles: true }));
  }

  function initEmail(config, csrf) {
    var html = document.getElementById("id_html");
    var frame = document.getElementById("preview-frame");
    var status = document.getElementById("preview-status");
    var warning = document.getElementById("unsubscribe-warning");
    var version = 0;

    function checkUnsubscribe() {
      warning.hidden = !html.value.trim() || html.value.indexOf(config.unsubscribePlaceholder) !== -1;
    }

    function refresh() {
      var mine = ++version;
      var body = new FormData();
      body.append("html", fill(html.value));
      status.textContent = "…";
      fetch(config.previewUrl, {
        method: "POST", body: body, credentials: "same-origin",
        headers: { "X-CSRFToken": csrf, Accept: "application/json" }
      })
        .then(function (response) { return response.ok ? response.json() : Promise.reject(response); })
        .then(function (data) {
          if (mine !== version) { return; } // a newer request is on its way
          frame.srcdoc = data.html;
          frame.dataset.version = String(mine);
          warning.hidden = !data.missingUnsubscribe;
          status.textContent = "";
        })
        .catch(function () { status.textContent = config.text.previewFailed; });
    }

    html.addEventListener("input", checkUnsubscribe);
    html.addEventListener("input", debounce(refresh, 300));
  }

  function initSms(config, updateCost) {
    var textarea = document.getElementById("id_text");
    var stop = document.getElementById("id_add_stop");
    var sender = document.getElementById("id_sender");
    var counter = document.getElementById("sms-counter");
    var bubble = document.getElementById("sms-preview");
    var senderPreview = document.getElementById("sms-preview-sender");
    var senderLive = document.getElementById("sender-live");

    function update() {
      var full = smsWithStop(fill(textarea.value), stop.checked, config.stopMention);
      var length = smsLength(full);
      var message = fmt(config.text.sms, length);
      counter.classList.toggle("ph-error", length.parts > config.maxParts);
      if (length.parts > config.maxParts) {
        message += " " + fmt(config.text.tooLong, { max: config.maxParts });
      }
      counter.textContent = message;
      counter.dataset.parts = String(length.parts);
      counter.dataset.characters = String(length.characters);
      counter.dataset.encoding = length.encoding;
      bubble.textContent = full;
      updateCost();
    }

    // The server's own error (after a submit) already says it: the live
    // message takes over only once the sender is being typed again.
    var serverError = document.getElementById("id_sender_error");

    function checkSender(typing) {
      var value = sender.value.trim();
      var bad = value !== "" && !SMS_SENDER.test(value);
      if (typing && serverError) {
        serverError.hidden = true;
      }
      var shown = bad && (typing || !serverError);
      senderLive.hidden = !shown;
      senderLive.textContent = shown ? config.text.senderInvalid : "";
      sender.setAttribute("aria-invalid", bad ? "true" : "false");
      senderPreview.textContent = value || "36xxx";
    }

    textarea.addEventListener("input", update);
    stop.addEventListener("change", update);
    sender.addEventListener("input", function () { checkSender(true); });
    update();
    checkSender(false);
  }

  function initReview(form) {
    var fields = document.getElementById("schedule-fields");
    var radios = form.querySelectorAll("input[name=mode]");
    var when = form.querySelector("input[name=scheduled_at]");
    var button = document.getElementById("confirm-button");
    function label(later) {
      // The picker gives "YYYY-MM-DDTHH:MM" (Paris time): the button says
      // "… on dd/mm at HH:MM".
      var match = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}:\d{2})/.exec(when ? when.value : "");
      if (!later) { return button.dataset.labelNow; }
      if (!match) { return button.dataset.labelLaterUndated; }
      return button.dataset.labelLater
        .replace("%(date)s", match[3] + "/" + match[2])
        .replace("%(time)s", match[4]);
    }
    function toggle() {
      var checked = form.querySelector("input[name=mode]:checked");
      var later = !!checked && checked.value === "later";
      fields.hidden = !later;
      if (button) { button.textContent = label(later); }
    }
    radios.forEach(function (radio) { radio.addEventListener("change", toggle); });
    if (when) { when.addEventListener("input", toggle); when.addEventListener("change", toggle); }
    toggle();
  }

  document.addEventListener("DOMContentLoaded", function () {
    var compose = document.getElementById("compose-form");
    if (compose) { initCompose(compose); }
    var review = document.getElementById("review-form");
    if (review) { initReview(review); }
  });
})();
