// Updraft console (Apache-2.0, part of Updraft; no dependencies).
// 1. /ui/launch: hands the launch token from the URL fragment to the server (POST /ui/session);
//    the fragment never reaches a server log or a Referer header.
// 2. Pages whose <main> has data-live fetch themselves every few seconds and swap <main>,
//    until an answer no longer has data-live (the run or attempt is final); its value is the
//    period in seconds. No refresh while the user is typing in a form or the tab is hidden.
(function () {
  "use strict";
  var REFRESH_MS = 3000;

  function period() {
    var main = document.getElementById("main");
    var seconds = main ? parseInt(main.getAttribute("data-live"), 10) : NaN;
    return seconds > 0 ? seconds * 1000 : REFRESH_MS;
  }

  var launch = document.getElementById("launch");
  if (launch) {
    var token = window.location.hash.slice(1);
    history.replaceState(null, "", window.location.pathname);
    if (token) {
      document.getElementById("launch-token").value = token;
      launch.submit();
    } else {
      launch.innerHTML = "<p>This launch URL has no token: get a new one with <code>updraft ui</code>.</p>";
    }
    return;
  }

  function typing(main) {
    var a = document.activeElement;
    return a && main.contains(a) && (a.tagName === "INPUT" || a.tagName === "TEXTAREA" || a.tagName === "SELECT");
  }

  function refresh() {
    var main = document.getElementById("main");
    if (!main || !main.hasAttribute("data-live")) { return; }
    if (typing(main) || document.hidden) { window.setTimeout(refresh, period()); return; }
    fetch(window.location.href, {credentials: "same-origin", headers: {"X-Updraft-Refresh": "1"}})
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (text) {
        if (text !== null) {
          var fresh = new DOMParser().parseFromString(text, "text/html").getElementById("main");
          if (fresh) {
            var log = document.getElementById("log");
            var atEnd = log && log.scrollTop + log.clientHeight >= log.scrollHeight - 4;
            main.innerHTML = fresh.innerHTML;
            if (fresh.hasAttribute("data-live")) {
              main.setAttribute("data-live", fresh.getAttribute("data-live"));
            } else {
              main.removeAttribute("data-live");
            }
            var newLog = document.getElementById("log");
            if (newLog && atEnd) { newLog.scrollTop = newLog.scrollHeight; }
          }
        }
        window.setTimeout(refresh, period());
      })
      .catch(function () { window.setTimeout(refresh, period() * 2); });
  }
  window.setTimeout(refresh, period());
})();
