// Ask a page's progress URL every few seconds until the work is done; shared
// by the integrity check and the feed import pages. `show(progress)` updates
// the page and returns true while the work goes on; once it returns false the
// page is reloaded to show the result. Gives up after `limit` asks, so a page
// left open does not keep its session alive for ever.
export const pollProgress = ({ url, message, seconds, limit, show }) => {
  let left = limit;
  const ask = async () => {
    left -= 1;
    try {
      const response = await fetch(url, {
        headers: { Accept: "application/json" },
        credentials: "same-origin",
        redirect: "error",
      });
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      if (!show(await response.json())) {
        window.location.reload();
        return;
      }
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
};
