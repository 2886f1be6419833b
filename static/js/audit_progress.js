// The integrity page while a full check runs: say its progress in the live
// region, and reload the page when it finishes (static/js/poll-progress.js).
import { pollProgress } from "./poll-progress.js";

const panel = document.getElementById("audit-progress");
if (panel) {
  const message = document.getElementById("audit-progress-message");
  const checked = document.getElementById("events-checked");
  pollProgress({
    url: panel.dataset.progressUrl,
    message,
    seconds: Number(panel.dataset.pollSeconds) || 5,
    limit: Number(panel.dataset.pollLimit) || 60,
    show: (progress) => {
      if (progress.id !== panel.dataset.verification ||
          !["queued", "running"].includes(progress.status)) {
        return false;
      }
      const count = progress.events_checked.toLocaleString("en-GB");
      if (checked) checked.textContent = count;
      message.textContent = progress.status === "running"
        ? `The check is running: ${count} events checked so far.`
        : "The check is waiting to start.";
      return true;
    },
  });
}
