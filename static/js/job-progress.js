// Progress bars of background jobs (templates/badges/_job_progress.html, templates/admin/import_job.html): poll the
// status URL every second until the job is done (then show the download link, or reload the page when the box asks
// for it with data-reload-when-done) or has failed.
(function () {
  "use strict";

  function format(text, values) {
    return text.replace(/\{(\w+)\}/g, function (match, key) { return key in values ? values[key] : match; });
  }

  function track(box) {
    if (box.dataset.tracking) { return; }
    box.dataset.tracking = "1";
    var bar = box.querySelector("progress");
    var label = box.querySelector(".job-progress-text");
    var link = box.querySelector(".job-progress-download");
    var failures = 0;

    function show(job) {
      bar.value = job.percent;
      bar.textContent = job.percent + " %";
      if (box.dataset.reloadWhenDone && (job.status === "done" || job.status === "failed")) {
        label.textContent = job.status === "done" ? box.dataset.textDone : box.dataset.textFailed;
        window.location.reload();  // the page then shows the outcome (counts, report, error)
        return true;
      }
      if (job.status === "done") {
        label.textContent = box.dataset.textDone;
        link.href = job.download_url;
        link.hidden = false;
        return true;
      }
      if (job.status === "failed") {
        label.textContent = box.dataset.textFailed;
        return true;
      }
      label.textContent = job.status === "running" && job.total
        ? format(box.dataset.textRunning, { done: job.progress, total: job.total })
        : box.dataset.textQueued;
      return false;
    }

    function poll() {
      fetch(box.dataset.statusUrl, { headers: { Accept: "application/json" }, credentials: "same-origin" })
        .then(function (response) {
          if (!response.ok) { throw new Error("HTTP " + response.status); }
          return response.json();
        })
        .then(function (job) {
          failures = 0;
          if (!show(job)) { window.setTimeout(poll, 1000); }
        })
        .catch(function () {
          failures += 1;
          if (failures > 5) { label.textContent = box.dataset.textLost; return; }
          window.setTimeout(poll, 2000);
        });
    }

    poll();
  }

  document.querySelectorAll(".job-progress[data-status-url]").forEach(track);
})();
