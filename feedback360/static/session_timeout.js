// Before a signed-in session times out (WCAG 2.2.1), on every signed-in page: a dialog says
// how many minutes are left, and "Stay signed in" renews the session without reloading the
// page. Once the time has passed, it says so and how to carry on: sign in again in a new tab,
// then "Carry on" here gives this page's forms the new session's token, so nothing on the
// page is lost (and the rating pages' autosave sends what it could not).
//
// The server tells the time left in the page (data- attributes) and in the headers of every
// answer to a signed-in person, so the count restarts after any request the page makes
// (an autosave, say). Before warning, the page asks the server (which does not count asking
// as activity): another tab of the same session may have kept it alive.
(function () {
  "use strict";

  var CHECK_EVERY_MS = 1000;
  var IDLE_HEADER = "X-Session-Idle-Left";
  var MOST_HEADER = "X-Session-Most-Left";
  var KEPT_PREFIX = "feedback360:unsaved:"; // answers rating.js keeps in this tab
  var FETCH = { "X-Requested-With": "fetch" };

  function minutes(milliseconds) {
    var n = Math.max(1, Math.ceil(milliseconds / 60000));
    return n + (n === 1 ? " minute" : " minutes");
  }

  // `hidden`, and display too: a class's display (.button) would otherwise win over it.
  function shownIf(element, shown) {
    element.hidden = !shown;
    element.style.display = shown ? "" : "none";
  }

  function start(dialog) {
    var realFetch = window.fetch.bind(window);
    var part = function (name) { return dialog.querySelector("[data-" + name + "]"); };
    var title = part("title");
    var text = part("text");
    var signedOutPart = part("signed-out");
    var signIn = part("sign-in");
    var stay = part("stay");
    var carryOn = part("carry-on");
    var close = part("close");
    var status = document.querySelector("[data-session-status]");
    var warnBefore = Number(dialog.dataset.warnBefore) * 1000;
    var keepAliveUrl = dialog.dataset.keepAliveUrl;
    var idleDeadline = 0;
    var mostDeadline = 0;
    var shown = "quiet"; // or "warning", "longest", "signed-out"
    var dismissed = ""; // a warning closed by the person is not shown again
    var confirmed = ""; // the state the server's latest word agreed with
    var asking = false;
    var returnFocus = null;

    // What to show now, by the page's count: "quiet", "warning", "longest" or "signed-out".
    function stateNow() {
      var now = Date.now();
      var idleLeft = idleDeadline - now;
      var mostLeft = mostDeadline - now;
      if (Math.min(idleLeft, mostLeft) <= 0) return { state: "signed-out", left: 0 };
      if (mostLeft <= warnBefore && mostLeft <= idleLeft) return { state: "longest", left: mostLeft };
      if (idleLeft <= warnBefore) return { state: "warning", left: idleLeft };
      return { state: "quiet", left: idleLeft };
    }

    // The server's word on the time left: the count starts again from it.
    function heard(idleLeft, mostLeft) {
      var now = Date.now();
      idleDeadline = now + Number(idleLeft) * 1000;
      mostDeadline = now + Number(mostLeft) * 1000;
      confirmed = stateNow().state;
      check();
    }

    // Every answer this page's scripts get says how long is left, or that the session ended.
    window.fetch = function () {
      return realFetch.apply(window, arguments).then(function (response) {
        if (response.headers.get(IDLE_HEADER) !== null) {
          heard(response.headers.get(IDLE_HEADER), response.headers.get(MOST_HEADER));
        } else if (response.status === 401) {
          show("signed-out");
        }
        return response;
      });
    };

    function csrfToken() {
      var input = document.querySelector("input[name=csrf_token]");
      return input ? input.value : "";
    }

    function say(words) {
      if (!status) return;
      status.textContent = "";
      setTimeout(function () { status.textContent = words; }, 50);
    }

    function words(state, left) {
      if (state === "warning") {
        return "You have not done anything for a while, so you will be signed out in " +
          minutes(left) + ". Choose “Stay signed in” to carry on where you are.";
      }
      if (state === "longest") {
        return "You have been signed in for as long as is allowed, so you will be signed out in " +
          minutes(left) + ". Save what you are doing; you can then sign in again.";
      }
      var why = Date.now() >= mostDeadline ? "had been signed in for as long as is allowed"
        : "had been away for a while";
      return "You were signed out because you " + why + ". Nothing on this page " +
        "is lost. To carry on, sign in again in a new tab, then come back to this tab and " +
        "choose “Carry on”: you can then save what is on this page.";
    }

    function show(state, left) {
      var message = words(state, left);
      if (text.textContent !== message) text.textContent = message;
      if (shown === state) return;
      shown = state;
      title.textContent = state === "signed-out" ? "You have been signed out" : "You will be signed out soon";
      shownIf(stay, state === "warning");
      shownIf(carryOn, state === "signed-out");
      shownIf(signedOutPart, state === "signed-out");
      shownIf(close, state !== "warning");
      close.textContent = state === "longest" ? "OK" : "Close";
      if (!dialog.open) {
        returnFocus = document.activeElement;
        dialog.showModal();
      }
      (state === "warning" ? stay : state === "longest" ? close : signIn).focus();
    }

    function hide() {
      shown = "quiet";
      if (dialog.open) dialog.close();
    }

    dialog.addEventListener("close", function () {
      if (shown !== "quiet") dismissed = shown;
      shown = "quiet";
      if (returnFocus && document.contains(returnFocus)) returnFocus.focus();
      returnFocus = null;
    });

    // Ask the server how long is really left (another tab may have kept the session alive);
    // its answer is heard as any other, or says the session has ended.
    function ask() {
      if (asking) return;
      asking = true;
      realFetch(keepAliveUrl, { credentials: "same-origin", headers: FETCH })
        .then(function (response) {
          asking = false;
          if (response.ok) heard(response.headers.get(IDLE_HEADER), response.headers.get(MOST_HEADER));
          else if (response.status === 401) show("signed-out");
        })
        .catch(function () { // offline: go by the page's count
          asking = false;
          confirmed = stateNow().state;
          check();
        });
    }

    function check() {
      if (shown === "signed-out") return;
      var now = stateNow();
      if (now.state === "quiet") {
        dismissed = "";
        if (shown !== "quiet") hide();
        return;
      }
      if (now.state === dismissed) return;
      if (now.state !== confirmed) return ask();
      show(now.state, now.left);
    }

    stay.addEventListener("click", function () {
      realFetch(keepAliveUrl, {
        method: "POST",
        credentials: "same-origin",
        headers: { "X-Requested-With": "fetch", "X-CSRFToken": csrfToken() },
      }).then(function (response) {
        if (response.status === 401) return show("signed-out");
        if (!response.ok) {
          text.textContent = "That did not work. Please try again.";
          return;
        }
        heard(response.headers.get(IDLE_HEADER), response.headers.get(MOST_HEADER));
        hide();
        say("You are still signed in.");
      }).catch(function () {
        text.textContent = "The server could not be reached. Check your connection and try again.";
      });
    });

    carryOn.addEventListener("click", function () {
      realFetch(keepAliveUrl, { credentials: "same-origin", headers: FETCH })
        .then(function (response) {
          if (!response.ok) {
            text.textContent = "You are not signed in yet. Sign in again in a new tab first, " +
              "then come back to this tab and choose “Carry on”.";
            return null;
          }
          return response.json().then(function (body) {
            var inputs = document.querySelectorAll("input[name=csrf_token]");
            for (var i = 0; i < inputs.length; i += 1) inputs[i].value = body.csrf_token;
            shown = "quiet";
            heard(body.idle_left, body.most_left);
            if (dialog.open) dialog.close();
            say("You are signed in again. Nothing on this page was lost.");
            document.dispatchEvent(new CustomEvent("feedback360:signed-in-again"));
          });
        })
        .catch(function () {
          text.textContent = "The server could not be reached. Check your connection and try again.";
        });
    });

    close.addEventListener("click", function () { dialog.close(); });

    // Signing in again comes back to this page (the rating pages then put back what they kept).
    signIn.href = dialog.dataset.signInUrl + "?next=" +
      encodeURIComponent(window.location.pathname + window.location.search);

    // Signing out on purpose: the answers kept in this tab go too.
    var signOutUrl = dialog.dataset.signOutUrl;
    document.addEventListener("submit", function (event) {
      if (event.target.getAttribute("action") !== signOutUrl) return;
      for (var i = window.sessionStorage.length - 1; i >= 0; i -= 1) {
        var key = window.sessionStorage.key(i);
        if (key && key.indexOf(KEPT_PREFIX) === 0) window.sessionStorage.removeItem(key);
      }
    });

    heard(dialog.dataset.idleLeft, dialog.dataset.mostLeft);
    // A laptop that slept: timers stop, so the count is checked against the clock each second.
    setInterval(check, CHECK_EVERY_MS);
    document.addEventListener("visibilitychange", check);
  }

  var dialog = document.querySelector("[data-session-timeout]");
  if (dialog && typeof dialog.showModal === "function" && window.fetch) start(dialog);
})();
