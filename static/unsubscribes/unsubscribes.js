// "Sync now" runs inline and takes a few seconds: say so and prevent double posts.
document.addEventListener("submit", (event) => {
  const form = event.target;
  if (!form.classList || !form.classList.contains("un-sync-form")) return;
  const button = form.querySelector("button[type=submit]");
  if (!button) return;
  button.disabled = true;
  button.textContent = button.dataset.busy || button.textContent;
});
