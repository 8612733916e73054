// The speakers of a session (templates/admin/session_form.html): "Add a speaker" adds an empty row, a copy of the
// last row for a new speaker with its values cleared and the next free index in its field names
// ("speakers-5-role"), as the server would have rendered it. Without JavaScript the page has empty rows already.
(function () {
  "use strict";

  var INDEX = /^speakers-(\d+)-/;

  function nextIndex(box) {
    var highest = -1;
    box.querySelectorAll("[name^='speakers-']").forEach(function (control) {
      var match = INDEX.exec(control.name);
      if (match) { highest = Math.max(highest, Number(match[1])); }
    });
    return highest + 1;
  }

  function renumber(row, index) {
    var prefix = "speakers-" + index + "-";
    ["name", "id", "for", "aria-describedby"].forEach(function (attribute) {
      row.querySelectorAll("[" + attribute + "]").forEach(function (element) {
        element.setAttribute(attribute, element.getAttribute(attribute).replace(/speakers-\d+-/g, prefix));
      });
    });
  }

  function clear(row, order) {
    row.classList.remove("has-error");
    row.querySelectorAll(".error").forEach(function (message) { message.remove(); });
    row.querySelectorAll(".has-error").forEach(function (field) { field.classList.remove("has-error"); });
    row.querySelectorAll("[aria-invalid]").forEach(function (control) { control.removeAttribute("aria-invalid"); });
    row.querySelectorAll("[aria-describedby]").forEach(function (control) {
      var kept = control.getAttribute("aria-describedby").split(" ").filter(function (id) {
        return !/-error$/.test(id);
      });
      if (kept.length) { control.setAttribute("aria-describedby", kept.join(" ")); }
      else { control.removeAttribute("aria-describedby"); }
    });
    row.querySelectorAll("input").forEach(function (input) {
      input.value = /-position$/.test(input.name) ? String(order) : "";
    });
    row.querySelectorAll("select").forEach(function (select) { select.value = select.dataset.default || ""; });
  }

  function enhance(box) {
    var list = box.querySelector(".speaker-rows");
    var button = box.querySelector("[data-add-speaker]");
    if (!list || !button) { return; }
    button.hidden = false;
    button.addEventListener("click", function () {
      var rows = list.querySelectorAll("[data-speaker-row]:not([data-linked])");
      if (!rows.length) { return; }
      var item = rows[rows.length - 1].closest("li").cloneNode(true);
      var number = list.children.length + 1;
      renumber(item, nextIndex(box));
      clear(item, number);
      var legend = item.querySelector("legend");
      legend.textContent = legend.textContent.replace(/\d+/, String(number));
      list.appendChild(item);
      item.querySelector("select, input:not([type=hidden])").focus();
    });
  }

  document.querySelectorAll("[data-session-speakers]").forEach(enhance);
})();
