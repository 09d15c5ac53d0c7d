/* Compose and review pages: live preview, SMS counter, audience counts, cost.
 *
 * Plain JS, no dependency. The SMS rules mirror campaigns/sms.py exactly (the
 * tests compare both on sample texts through window.PartnerHubSms.smsLength).
 */
(function () {
  "use strict";

  var STOP_AT_END = /\s*(?:STOP(?: au)? 36180|NoPub\s*=\s*STOP)\s*$/i;
  var SMS_SENDER = /^[A-Za-z0-9]{3,11}$/;
  var charset = null;

  /* The provider's substitution table, served by the page (sms_charset.py):
   * the same table as the server's counter and the sandbox. */
  function table() {
    if (charset === null) {
      var node = document.getElementById("sms-charset");
      var data = JSON.parse(node.textContent);
      charset = {
        subs: data.substitutions,
        kept: new Set(Array.from(data.kept)),
        extended: new Set(Array.from(data.extended)),
        fallback: data.fallback,
        breakToken: data.breakToken,
        brk: data["break"],
        euroToken: data.euroToken
      };
    }
    return charset;
  }

  function expandTokens(text) {
    var t = table();
    return text.split("\r\n").join("\n").split(t.breakToken).join(t.brk)
      .split(t.euroToken).join("€");
  }

  /* One typed code point as the provider sends it in GSM mode. */
  function renderChar(c) {
    var t = table();
    if (Object.prototype.hasOwnProperty.call(t.subs, c)) { return t.subs[c]; }
    return t.kept.has(c) ? c : t.fallback;
  }

  /* [{from, to}] per code point: what is typed and what arrives. */
  function gsmPieces(text) {
    return Array.from(expandTokens(text)).map(function (c) {
      return { from: c, to: renderChar(c) };
    });
  }

  function gsmRender(text) {
    return gsmPieces(text).map(function (p) { return p.to; }).join("");
  }

  /* Characters and parts as the provider bills them (campaigns/sms.py). */
  function smsLength(text, options) {
    options = options || {};
    var shown = options.unicode ? expandTokens(text) : gsmRender(text);
    if (options.providerStop && shown) { shown = shown + " " + options.stopMention; }
    var count, single, multi, encoding;
    if (options.unicode) {
      count = shown.length; // UTF-16 code units, as the operators count them
      single = 70; multi = 67; encoding = "Unicode";
    } else {
      var ext = table().extended;
      count = Array.from(shown).reduce(function (n, c) { return n + (ext.has(c) ? 2 : 1); }, 0);
      single = 160; multi = 153; encoding = "GSM-7";
    }
    var parts = count <= single ? (count ? 1 : 0) : Math.ceil(count / multi);
    return {
      encoding: encoding, characters: count, parts: parts,
      perPart: count <= single ? single : multi, text: shown
    };
  }

  /* The text as the server saves it: "NoPub=STOP" written only on Low Cost. */
  function smsWithStop(text, addStop, lowCostMention) {
    var body = text.replace(STOP_AT_END, "").replace(/\s+$/, "");
    return body && addStop && lowCostMention ? body + " " + lowCostMention : body;
  }

  function fmt(template, params) {
    return template.replace(/%\((\w+)\)s/g, function (_, key) {
      return params[key] === undefined ? "" : String(params[key]);
    });
  }

  // Numbers as the page's language writes them (the server's formatter does the
  // same for what it renders): grouped thousands, the decimal comma in French.
  var LOCALE = document.documentElement.lang || undefined;

  function amount(value, places) {
    return new Intl.NumberFormat(LOCALE, { maximumFractionDigits: places }).format(value);
  }

  function debounce(fn, ms) {
    var timer = null;
    return function () {
      clearTimeout(timer);
      timer = setTimeout(fn, ms);
    };
  }

  window.PartnerHubSms = { smsLength: smsLength, smsWithStop: smsWithStop, gsmRender: gsmRender };
  window.PartnerHubText = { fmt: fmt };  // merge_fields.js formats its messages with it

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
      return Math.max(smsState(config).length.parts, 1);
    }

    function updateCost() {
      var sendable = countsBox.dataset.sendable;
      if (sendable === "" || sendable === undefined) { costBox.textContent = ""; return; }
      var n = parts();
      var chosen = account ? account.value : "";
      var price = (config.prices && config.prices[chosen]) || config.unitCost;
      var mode = form.querySelector("[name=voice_mode]:checked");
      if (mode && mode.value === "voicemail" && config.voicemailPrices) {
        price = config.voicemailPrices[chosen] || price;  // a voicemail drop's own price
      }
      var unit = (config.units && config.units[chosen]) || "";
      var cost = Number(price) * Number(sendable) * n;
      var message = config.channel === "sms"
        ? fmt(text.cost, {
          cost: amount(cost, 2), unit: unit, parts: n,
          sendable: amount(Number(sendable), 0), price: amount(Number(price), 4)
        })
        : fmt(text.costEmail, { cost: amount(cost, 2), unit: unit });
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
    form.querySelectorAll("[name=voice_mode]").forEach(function (radio) {
      radio.addEventListener("change", updateCost);
    });
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

  function checkedValue(name, fallback) {
    var input = document.querySelector("[name=" + name + "]:checked") ||
      document.querySelector("select[name=" + name + "]");
    return input ? input.value : fallback;
  }

  /* What will be sent, from the form: options, saved text, length. */
  function smsState(config) {
    var stop = document.getElementById("id_add_stop");
    var unicode = checkedValue("sms_encoding", "gsm") === "unicode";
    var lowCost = checkedValue("sms_range", "1") === "2";
    var addStop = !!(stop && stop.checked);
    var typed = fill(document.getElementById("id_text").value);
    var saved = smsWithStop(typed, addStop, lowCost ? config.lowCostStop : "");
    var options = { unicode: unicode, providerStop: addStop && !lowCost, stopMention: config.stopMention };
    return {
      saved: saved, unicode: unicode, lowCost: lowCost, options: options,
      length: smsLength(saved, options),
      maxParts: lowCost ? 1 : config.maxParts
    };
  }

  /* The bubble: what arrives, changed characters marked, mention set apart. */
  function fillPreview(bubble, state, config) {
    bubble.textContent = "";
    var changed = 0;
    if (state.unicode) {
      bubble.appendChild(document.createTextNode(expandTokens(state.saved)));
    } else {
      gsmPieces(state.saved).forEach(function (piece) {
        if (piece.to === piece.from) { bubble.appendChild(document.createTextNode(piece.to)); return; }
        changed += 1;
        var mark = document.createElement(piece.to ? "mark" : "del");
        mark.className = piece.to ? "ph-sms-changed" : "ph-sms-removed";
        mark.textContent = piece.to || piece.from;
        mark.title = fmt(piece.to ? config.text.replaced : config.text.removed, { from: piece.from, to: piece.to });
        bubble.appendChild(mark);
      });
    }
    if (state.options.providerStop && state.length.text) {
      var stop = document.createElement("span");
      stop.className = "ph-sms-stop";
      stop.textContent = " " + config.stopMention;
      bubble.appendChild(stop);
    }
    return changed;
  }

  function initSms(config, updateCost) {
    var textarea = document.getElementById("id_text");
    var stop = document.getElementById("id_add_stop");
    var sender = document.getElementById("id_sender");
    var counter = document.getElementById("sms-counter");
    var bubble = document.getElementById("sms-preview");
    var changes = document.getElementById("sms-changes");
    var senderPreview = document.getElementById("sms-preview-sender");
    var senderLive = document.getElementById("sender-live");

    function update() {
      var state = smsState(config);
      var length = state.length;
      var message = fmt(config.text.sms, length);
      var tooLong = length.parts > state.maxParts;
      counter.classList.toggle("ph-error", tooLong);
      if (tooLong) {
        message += " " + (state.lowCost ? config.text.lowCostTooLong : fmt(config.text.tooLong, { max: config.maxParts }));
      }
      counter.textContent = message;
      counter.dataset.parts = String(length.parts);
      counter.dataset.characters = String(length.characters);
      counter.dataset.encoding = length.encoding;
      var changed = fillPreview(bubble, state, config);
      bubble.dataset.text = length.text;
      changes.hidden = !changed;
      changes.textContent = changed ? fmt(config.text.changed, { count: changed }) : "";
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
    document.querySelectorAll("[name=sms_encoding], [name=sms_range]").forEach(function (input) {
      input.addEventListener("change", update);
    });
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
