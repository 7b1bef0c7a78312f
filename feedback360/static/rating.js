// Autosave for the value-by-value rating pages: every change is posted to the page's own
// address with action=autosave; the buttons still save without this script. On every
// rating page, answers not yet saved are kept in this tab until they are (see `keeper`), and
// the count of characters left under each comment box.
(function () {
  "use strict";

  var RETRY_MS = [2000, 5000, 10000, 20000];
  var TYPING_PAUSE_MS = 800;
  var KEPT_PREFIX = "feedback360:unsaved:"; // session_timeout.js clears these at sign-out
  var TOKEN_HEADER = "X-CSRF-Token"; // a fresh form token, after one that had expired

  // The answers on the page: the chosen rating of each statement, each comment's words.
  function fieldValues(form) {
    var values = {};
    var fields = form.querySelectorAll("input[type=radio], textarea");
    for (var i = 0; i < fields.length; i += 1) {
      var field = fields[i];
      if (field.type !== "radio") values[field.name] = field.value;
      else if (field.checked) values[field.name] = field.value;
    }
    return values;
  }

  function same(a, b) {
    var names = Object.keys(a).concat(Object.keys(b));
    for (var i = 0; i < names.length; i += 1) {
      if (a[names[i]] !== b[names[i]]) return false;
    }
    return true;
  }

  // Answers not yet saved are kept in this tab (sessionStorage, one entry a page) with the
  // answers the page came with, until a save is heard of. A time-out, an expired form or a
  // lost connection then loses nothing: opening the page again (after signing in again)
  // puts them back, saying so, if the page still comes with the answers they were typed over.
  function keeper(form) {
    var key = KEPT_PREFIX + window.location.pathname;
    var base = fieldValues(form); // as the server sent the page

    function write(entry) {
      try {
        if (entry) window.sessionStorage.setItem(key, JSON.stringify(entry));
        else window.sessionStorage.removeItem(key);
      } catch (error) { /* storage full or refused: the page itself still holds them */ }
    }

    function read() {
      try {
        var entry = JSON.parse(window.sessionStorage.getItem(key) || "null");
        return entry && entry.base && entry.values ? entry : null;
      } catch (error) {
        return null;
      }
    }

    function putBack(values) {
      var fields = form.querySelectorAll("input[type=radio], textarea");
      for (var i = 0; i < fields.length; i += 1) {
        var field = fields[i];
        if (field.type === "radio") field.checked = values[field.name] === field.value;
        else if (typeof values[field.name] === "string") field.value = values[field.name];
      }
    }

    return {
      remember: function () { write({ base: base, values: fieldValues(form) }); },
      // These answers were saved: forget them, unless more were typed since.
      saved: function (values) {
        base = values;
        write(same(values, fieldValues(form)) ? null : { base: base, values: fieldValues(form) });
      },
      // Put back what was kept for this page; whether there was anything.
      restore: function () {
        var kept = read();
        if (!kept) return false;
        if (same(kept.values, base) || !same(kept.base, base)) {
          write(null); // saved after all, or the page was saved another way since
          return false;
        }
        putBack(kept.values);
        return true;
      },
    };
  }

  // Said once, above the form, and announced.
  function notice(form, words) {
    var box = document.createElement("div");
    box.className = "notice notice-info";
    box.setAttribute("role", "status");
    form.parentNode.insertBefore(box, form);
    setTimeout(function () { box.textContent = words; }, 100);
  }

  function keepAnswers(form) {
    var kept = keeper(form);
    form.addEventListener("change", kept.remember);
    form.addEventListener("input", kept.remember);
    if (kept.restore()) {
      notice(form, "Answers you had not saved were put back, as you left them: check them " +
        "and choose “Save and come back later” or another button to save them.");
    }
  }

  function start(form) {
    var status = form.querySelector("[data-autosave-status]");
    var kept = keeper(form);
    var pending = false; // a change not yet stored
    var sending = false;
    var unsaved = false; // a save was refused: send again when the person is signed in again
    var tokenRenewed = false;
    var failures = 0;
    var typingTimer = null;
    var retryTimer = null;

    function say(text, problem) {
      if (!status) return;
      status.textContent = text;
      status.classList.toggle("problem", Boolean(problem));
    }

    function send() {
      if (sending) {
        pending = true; // sent again as soon as the current save answers
        return;
      }
      clearTimeout(retryTimer);
      pending = false;
      sending = true;
      var sent = fieldValues(form);
      var data = new FormData(form);
      data.set("action", "autosave");
      // getAttribute: form.action would be the buttons named "action", not the address.
      fetch(form.getAttribute("action") || window.location.href, {
        method: "POST",
        body: data,
        credentials: "same-origin",
        headers: { "X-Requested-With": "fetch" },
      })
        .then(function (response) {
          sending = false;
          if (response.status === 204) {
            failures = 0;
            unsaved = false;
            tokenRenewed = false;
            kept.saved(sent);
            if (pending) return send();
            var now = new Date();
            var minutes = String(now.getMinutes()).padStart(2, "0");
            say("Saved at " + now.getHours() + ":" + minutes + ".");
            return;
          }
          unsaved = true; // kept in this tab (kept.remember) until saved
          var token = response.headers.get(TOKEN_HEADER);
          if (response.status === 400 && token && !tokenRenewed) {
            // The page's form token had expired: take the fresh one and send again, once.
            tokenRenewed = true;
            var input = form.querySelector("input[name=csrf_token]");
            if (input) input.value = token;
            return send();
          }
          if (response.status === 401) {
            say("Not saved: you were signed out. Your answers are kept in this browser tab " +
              "and are saved once you sign in again.", true);
            return;
          }
          // The server refused the answers (too long a comment, a closed cycle): say why.
          return response
            .json()
            .catch(function () { return {}; })
            .then(function (body) {
              say("Not saved: " + (body.error || "please use the buttons below to save."), true);
            });
        })
        .catch(function () {
          // No connection: keep what is on the page and try again, waiting a little longer each time.
          sending = false;
          pending = true;
          var wait = RETRY_MS[Math.min(failures, RETRY_MS.length - 1)];
          failures += 1;
          say("Connection lost: your answers are kept on this page and will be saved when it is back. Trying again…", true);
          retryTimer = setTimeout(send, wait);
        });
    }

    // The counts on the page were right when it loaded; keep them right as answers change.
    function recount() {
      var chosen = {};
      var checked = form.querySelectorAll("input[type=radio]:checked");
      for (var i = 0; i < checked.length; i += 1) chosen[checked[i].name] = true;
      var onPage = Object.keys(chosen).length;
      var page = document.querySelector("[data-count-page]");
      var all = document.querySelector("[data-count-all]");
      var elsewhere = document.querySelector("[data-elsewhere]");
      if (page) page.textContent = String(onPage);
      if (all && elsewhere) all.textContent = String(Number(elsewhere.dataset.elsewhere) + onPage);
    }

    form.addEventListener("change", function () {
      kept.remember();
      clearTimeout(typingTimer);
      recount();
      send();
    });
    form.addEventListener("input", function (event) {
      if (event.target.tagName !== "TEXTAREA") return;
      kept.remember();
      pending = true;
      clearTimeout(typingTimer);
      typingTimer = setTimeout(send, TYPING_PAUSE_MS);
    });
    window.addEventListener("online", function () { if (pending) send(); });
    // Signed in again in another tab (session_timeout.js): send what could not be saved.
    document.addEventListener("feedback360:signed-in-again", function () {
      if (unsaved || pending) send();
    });
    // Leaving with unsaved words: the browser asks before the page closes.
    window.addEventListener("beforeunload", function (event) {
      if ((pending || sending) && !form.dataset.submitting) {
        event.preventDefault();
        event.returnValue = "";
      }
    });
    form.addEventListener("submit", function () { form.dataset.submitting = "1"; });

    // Answers kept from before a time-out: put back and saved now.
    if (kept.restore()) {
      recount();
      notice(form, "Answers you had not saved were put back, as you left them, and are " +
        "being saved now: check them.");
      send();
      return;
    }
    // An answer chosen while the page was still loading came before these listeners: save it now.
    if (changedSinceLoad(form)) {
      recount();
      send();
    }
  }

  // The count of characters left under each comment box. Its text is read with the box
  // (aria-describedby); a separate polite live region speaks only near or over the limit,
  // once the person pauses, rather than on every keystroke.
  var NEAR_LIMIT = 0.1; // the last tenth of the limit
  var COUNT_PAUSE_MS = 1000;

  function plural(n, word) {
    return n.toLocaleString("en-GB") + " " + word + (n === 1 ? "" : "s");
  }

  function countLength(text) {
    // As the server counts: the text trimmed, a line break sent as two characters (\r\n),
    // and a character outside the Basic Multilingual Plane (an emoji) as one.
    return Array.from(text.trim().replace(/\r\n|\r|\n/g, "\r\n")).length;
  }

  function startCount(count) {
    var box = document.getElementById(count.id.replace(/-count$/, ""));
    var limit = Number(count.dataset.characterLimit);
    if (!box || !limit) return;
    var live = document.createElement("p");
    live.className = "visually-hidden";
    live.setAttribute("aria-live", "polite");
    count.parentNode.insertBefore(live, count.nextSibling);
    var pauseTimer = null;

    function message() {
      var left = limit - countLength(box.value);
      if (left < 0) return plural(-left, "character") + " too many";
      return "You have " + plural(left, "character") + " left";
    }

    function update() {
      var text = message();
      count.textContent = text + ".";
      count.classList.toggle("error-message", text.indexOf("too many") !== -1);
      return text;
    }

    update();
    box.addEventListener("input", function () {
      var text = update();
      clearTimeout(pauseTimer);
      var near = limit - countLength(box.value) <= limit * NEAR_LIMIT;
      pauseTimer = setTimeout(function () {
        live.textContent = near ? text + "." : "";
      }, COUNT_PAUSE_MS);
    });
  }

  function changedSinceLoad(form) {
    var fields = form.querySelectorAll("input[type=radio], textarea");
    for (var i = 0; i < fields.length; i += 1) {
      var field = fields[i];
      if (field.type === "radio" ? field.checked !== field.defaultChecked : field.value !== field.defaultValue) {
        return true;
      }
    }
    return false;
  }

  document.addEventListener("DOMContentLoaded", function () {
    var forms = document.querySelectorAll("form[data-autosave]");
    for (var i = 0; i < forms.length; i += 1) start(forms[i]);
    var keeping = document.querySelectorAll("form[data-keep-answers]");
    for (var k = 0; k < keeping.length; k += 1) keepAnswers(keeping[k]);
    var counts = document.querySelectorAll("[data-character-limit]");
    for (var j = 0; j < counts.length; j += 1) startCount(counts[j]);
  });
})();
