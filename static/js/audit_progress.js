// The integrity page while a full check runs: ask for its progress every few
// seconds, say it in the live region, and reload the page when it finishes.
// Gives up after data-poll-limit asks, so a page left open does not keep its
// session alive for ever.
const panel = document.getElementById("audit-progress");
if (panel) {
  const message = document.getElementById("audit-progress-message");
  const checked = document.getElementById("events-checked");
  const seconds = Number(panel.dataset.pollSeconds) || 5;
  let left = Number(panel.dataset.pollLimit) || 60;

  const ask = async () => {
    left -= 1;
    try {
      const response = await fetch(panel.dataset.progressUrl, {
        headers: { Accept: "application/json" },
        credentials: "same-origin",
        redirect: "error",
      });
      const progress = await response.json();
      if (progress.id !== panel.dataset.verification ||
          !["queued", "running"].includes(progress.status)) {
        window.location.reload();
        return;
      }
      const count = progress.events_checked.toLocaleString("en-GB");
      if (checked) checked.textContent = count;
      message.textContent = progress.status === "running"
        ? `The check is running: ${count} events checked so far.`
        : "The check is waiting to start.";
    } catch {
      left = 0;
    }
    if (left > 0) {
      window.setTimeout(ask, seconds * 1000);
    } else {
      message.textContent = "This page has stopped checking for progress. Refresh the page to see it.";
    }
  };
  window.setTimeout(ask, seconds * 1000);
}
