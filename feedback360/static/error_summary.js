// A page that shows errors moves focus to its summary, so that keyboard and screen reader
// users start from the list of what to fix; each entry links to its field.
(function () {
  "use strict";

  document.addEventListener("DOMContentLoaded", function () {
    var summary = document.querySelector(".error-summary");
    // A link to a place on the page (the summary's "Still to answer" links) goes there instead.
    if (summary && !window.location.hash) summary.focus();
  });
})();
