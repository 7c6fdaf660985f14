// "My exports": while a job is queued or running, ask the status endpoint every two
// seconds, update the progress bars, and reload the page when a job finishes.
(function () {
  const table = document.querySelector("[data-export-jobs][data-poll-url]");
  if (!table) return;
  const url = table.dataset.pollUrl;
  async function poll() {
    let data;
    try {
      const response = await fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } });
      if (!response.ok) return setTimeout(poll, 5000);
      data = await response.json();
    } catch (error) {
      return setTimeout(poll, 5000);
    }
    let changed = false;
    let unfinished = false;
    for (const job of data.jobs) {
      const row = table.querySelector(`tr[data-job="${job.id}"]`);
      if (!row) continue;
      if (row.dataset.status !== job.status && job.finished) changed = true;
      if (!job.finished) unfinished = true;
      const bar = row.querySelector("progress");
      if (bar) bar.value = job.percent;
      const text = row.querySelector("[data-progress]");
      if (text && job.total) text.textContent = `${job.done} / ${job.total}`;
      row.children[2].textContent = job.status_label;
    }
    if (changed) return window.location.reload();
    if (unfinished) setTimeout(poll, 2000);
  }
  setTimeout(poll, 2000);
})();
