// A feed run's page while it imports: update the counters, say the progress
// in the live region (at each tenth of the way, not every time, so a screen
// reader is not interrupted every few seconds), and reload the page when the
// import ends to show its report (static/js/poll-progress.js). Without
// JavaScript the page has a "Refresh" link instead.
import { pollProgress } from "./poll-progress.js";

const panel = document.getElementById("feed-progress");
if (panel) {
  const message = document.getElementById("feed-progress-message");
  const number = (value) => Number(value).toLocaleString("en-GB");
  let announced = "";
  pollProgress({
    url: panel.dataset.progressUrl,
    message,
    seconds: Number(panel.dataset.pollSeconds) || 2,
    limit: Number(panel.dataset.pollLimit) || 150,
    show: (progress) => {
      if (!progress.active) return false;
      for (const element of panel.querySelectorAll("[data-counter]")) {
        const value = progress[element.dataset.counter];
        if (value !== undefined) element.textContent = number(value);
      }
      const step = `${progress.status}:${Math.floor(progress.percent_done / 10)}`;
      if (step !== announced) {
        announced = step;
        message.textContent = progress.status === "queued"
          ? "The import is waiting to start."
          : `Importing: ${number(progress.rows_done)} of ${number(progress.total_rows)} rows done (${progress.percent_done}%).`;
      }
      return true;
    },
  });
}
