// Polls the import status every second, moves the progress bar, and opens the
// result page as soon as the import has ended.
(function () {
  "use strict";
  const box = document.getElementById("import-progress");
  if (!box) return;
  const bar = document.getElementById("import-bar");
  const phase = document.getElementById("import-phase");
  const text = (id, value) => { document.getElementById(id).textContent = value; };

  function show(data) {
    bar.value = data.percent;
    bar.textContent = data.percent + " %";
    text("import-percent", data.percent);
    text("import-status", data.status_label);
    text("import-rows", data.shown.rows_read);
    text("import-invalid", data.shown.invalid);
    phase.textContent = data.finished ? "" : (phase.dataset[data.phase] || "");
    if (data.finished) {
      document.getElementById("cancel-form").hidden = true;
      document.getElementById("result-link").hidden = false;
      box.dataset.finished = "true";
    }
  }

  async function poll() {
    try {
      const response = await fetch(box.dataset.statusUrl, {headers: {"Accept": "application/json"}});
      if (response.ok) {
        const data = await response.json();
        show(data);
        if (data.finished) {
          // The import ended: move on to its result (the link stays for no-JS).
          window.location.assign(data.result_url);
          return;
        }
      }
    } catch (error) { /* network hiccup: try again */ }
    window.setTimeout(poll, 1000);
  }
  if (box.dataset.finished !== "true") poll();
})();
