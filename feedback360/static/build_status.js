// Follows a report build on the cycle's dashboard: fetches the build part of the page
// again every few seconds and updates it in place, so nothing reloads and a screen reader
// keeps its place; the status sentence is a polite live region. Without this script the
// page offers a Refresh link.
(function () {
  "use strict";

  var EVERY_MS = 2000;
  var AFTER_A_FAILURE_MS = 10000;

  function follow(part) {
    var address = part.getAttribute("data-build-status");
    var status = part.querySelector("[data-build-status-text]");
    var actions = part.querySelector("[data-build-actions]");

    function hideRefresh() {
      var refresh = actions.querySelector("[data-build-refresh]");
      if (refresh) refresh.hidden = true; // the status below updates by itself
    }

    function show(html) {
      var fresh = new DOMParser()
        .parseFromString(html, "text/html")
        .querySelector("[data-build-status]");
      if (!fresh) return false;
      var freshStatus = fresh.querySelector("[data-build-status-text]");
      // The same live region gets the new words, so assistive technology announces them.
      if (freshStatus && freshStatus.innerHTML !== status.innerHTML) {
        status.innerHTML = freshStatus.innerHTML;
      }
      actions.innerHTML = fresh.querySelector("[data-build-actions]").innerHTML;
      hideRefresh();
      part.setAttribute("data-running", fresh.getAttribute("data-running"));
      return fresh.getAttribute("data-running") === "yes";
    }

    function poll() {
      fetch(address, { credentials: "same-origin", headers: { "X-Requested-With": "fetch" } })
        .then(function (response) {
          if (!response.ok) throw new Error(response.status);
          return response.text();
        })
        .then(function (html) {
          if (show(html)) setTimeout(poll, EVERY_MS);
        })
        .catch(function () {
          setTimeout(poll, AFTER_A_FAILURE_MS);
        });
    }

    hideRefresh();
    setTimeout(poll, EVERY_MS);
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll('[data-build-status][data-running="yes"]').forEach(follow);
  });
})();
