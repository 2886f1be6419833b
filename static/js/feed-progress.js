// A feed run's page while it imports: ask for its progress every few
// seconds, update the counters, say it in the live region (at each tenth
// of the way, not every time), and reload the
// page when the import ends (to show its report). Gives up after
// data-poll-limit asks, so a page left open does not keep its session alive
// for ever. Without JavaScript the page has a "Refresh" link instead.
const panel = document.getElementById("feed-progress");
if (panel) {
  const message = document.getElementById("feed-progress-message");
  const seconds = Number(panel.dataset.pollSeconds) || 2;
  let left = Number(panel.dataset.pollLimit) || 150;
  const number = (value) => Number(value).toLocaleString("en-GB");
  // The live region speaks only when the status or the tens of per cent
  // change: a screen reader is not interrupted every few seconds.
  let announced = "";

  const show = (progress) => {
    for (const element of panel.querySelectorAll("[data-counter]")) {
      const value = progress[element.dataset.counter];
      if (value !== undefined) element.textContent = number(value);
    }
    const step = `${progress.status}:${Math.floor(progress.percent_done / 10)}`;
    if (step === announced) return;
    announced = step;
    message.textContent = progress.status === "queued"
      ? "The import is waiting to start."
      : `Importing: ${number(progress.rows_done)} of ${number(progress.total_rows)} rows done (${progress.percent_done}%).`;
  };

  const ask = async () => {
    left -= 1;
    try {
      const response = await fetch(panel.dataset.progressUrl, {
        headers: { Accept: "application/json" },
        credentials: "same-origin",
        redirect: "error",
      });
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      const progress = await response.json();
      if (!progress.active) {
        window.location.reload();
        return;
      }
      show(progress);
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
