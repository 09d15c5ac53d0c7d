// "Sync now" queues the sync for a worker: prevent double posts, then follow the
// sync (queued -> running -> done) and reload the page to show its result.
document.addEventListener("submit", (event) => {
  const form = event.target;
  if (!form.classList || !form.classList.contains("un-sync-form")) return;
  const button = form.querySelector("button[type=submit]");
  if (!button) return;
  button.disabled = true;
  button.textContent = button.dataset.busy || button.textContent;
});

document.addEventListener("DOMContentLoaded", () => {
  const table = document.querySelector(".un-sync-table[data-status-url]");
  if (!table) return;
  const busy = (state) => state === "queued" || state === "running";
  const rows = [...table.querySelectorAll("tr[data-sync-state]")];
  if (!rows.some((row) => busy(row.dataset.syncState))) return;
  const poll = async () => {
    try {
      const answer = await fetch(table.dataset.statusUrl, {
        headers: { Accept: "application/json" },
        credentials: "same-origin",
      });
      if (answer.ok) {
        const status = await answer.json();
        if (!status.busy) {
          window.location.reload();
          return;
        }
      }
    } catch (error) {
      // A failed poll is retried at the next tick.
    }
    window.setTimeout(poll, 2000);
  };
  window.setTimeout(poll, 2000);
});
