/* Live attendance counts: every [data-counts-url] panel is refreshed every few seconds (not while the tab
   is hidden). Nothing is touched when the figures did not change (a screen reader's place in the table stays);
   rows are rebuilt with textContent only; the total is said (the panel's polite live region) when it changes.
   window.seminarCounts.refresh() asks for an update now (the desk calls it after each check-in). */
(function () {
  "use strict";
  var INTERVAL_MS = 5000;
  var panels = Array.prototype.slice.call(document.querySelectorAll("[data-counts-url]"));
  if (!panels.length) { return; }

  function cell(tag, text, scope) {
    var el = document.createElement(tag);
    el.textContent = text;
    if (scope) { el.setAttribute("scope", scope); }
    return el;
  }

  function fillRows(tbody, rows, keys) {
    var fragment = document.createDocumentFragment();
    rows.forEach(function (row) {
      var tr = document.createElement("tr");
      tr.appendChild(cell("th", row[keys[0]], "row"));
      keys.slice(1).forEach(function (key) { tr.appendChild(cell("td", String(row[key]))); });
      fragment.appendChild(tr);
    });
    tbody.replaceChildren(fragment);
  }

  function render(panel, data) {
    var figures = JSON.stringify(data);
    panel.querySelector("[data-count-status]").textContent = "";
    if (figures === panel.seminarFigures) { return; }
    var before = panel.seminarFigures ? JSON.parse(panel.seminarFigures).checked_in : null;
    panel.seminarFigures = figures;
    if (before !== null && before !== data.checked_in) {
      var region = panel.querySelector("[data-count-announce]");
      region.textContent = region.getAttribute("data-label").replace("{checked_in}", data.checked_in)
        .replace("{expected}", data.expected);
    }
    panel.querySelector('[data-count="checked_in"]').textContent = data.checked_in;
    panel.querySelector('[data-count="expected"]').textContent = data.expected;
    var progress = panel.querySelector("[data-count-progress]");
    progress.max = Math.max(data.expected, 1);
    progress.value = Math.min(data.checked_in, progress.max);
    progress.textContent = data.checked_in + " / " + data.expected;
    fillRows(panel.querySelector('[data-count-rows="categories"]'), data.categories,
             ["label", "checked_in", "expected"]);
    fillRows(panel.querySelector('[data-count-rows="round_tables"]'), data.round_tables,
             ["title", "checked_in", "expected", "attending"]);
  }

  function refresh() {
    panels.forEach(function (panel) {
      fetch(panel.getAttribute("data-counts-url"), {headers: {"Accept": "application/json"}, credentials: "same-origin"})
        .then(function (response) { if (!response.ok) { throw new Error(response.status); } return response.json(); })
        .then(function (data) { render(panel, data); })
        .catch(function () {
          var status = panel.querySelector("[data-count-status]");
          status.textContent = status.getAttribute("data-label-stale");
        });
    });
  }

  window.seminarCounts = {refresh: refresh};
  refresh();
  window.setInterval(function () { if (!document.hidden) { refresh(); } }, INTERVAL_MS);
  document.addEventListener("visibilitychange", function () { if (!document.hidden) { refresh(); } });
})();
