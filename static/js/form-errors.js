// Every page, public or staff: when a form comes back with errors, move keyboard and screen-reader focus to its
// error summary (marked data-focus-on-load), so that it is read out and one Tab away from the first field at fault.
document.addEventListener("DOMContentLoaded", function () {
  var summary = document.querySelector("[data-focus-on-load]");
  if (summary) {
    summary.focus();
  }
});
