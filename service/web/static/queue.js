// Live reception queue: on every server-sent event, fetch the fresh rows and alerts and swap
// them in. If the stream drops, poll every 10 s until it is back. Without this file the page
// still works with the browser's reload.
(function () {
  "use strict";
  var live = document.getElementById("queue-live");
  if (!live) return;
  var status = document.getElementById("live-status");
  var rowsUrl = live.getAttribute("data-rows-url");
  var poller = null;
  var refreshing = false;
  var source = null;

  // The session ended (signed out here or elsewhere, or idle): reloading shows the sign-in page.
  function signedOut() {
    if (source) source.close();
    window.location.reload();
  }

  function refresh() {
    if (refreshing) return;
    refreshing = true;
    fetch(rowsUrl, { credentials: "same-origin", headers: { "Accept": "text/html" } })
      .then(function (response) {
        // Sent to the sign-in page: the session ended while the stream was down.
        if (response.redirected) { signedOut(); return null; }
        if (!response.ok) throw new Error("queue " + response.status);
        return response.text();
      })
      .then(function (html) { if (html !== null) live.innerHTML = html; })
      .catch(function () { if (status) status.textContent = "Could not refresh; retrying."; })
      .finally(function () { refreshing = false; });
  }

  function poll() {
    if (poller === null) poller = window.setInterval(refresh, 10000);
  }

  if (!window.EventSource) { poll(); return; }
  source = new EventSource(live.getAttribute("data-events-url"));
  source.addEventListener("queue", refresh);
  source.addEventListener("signed-out", signedOut);
  source.addEventListener("open", function () {
    if (poller !== null) { window.clearInterval(poller); poller = null; refresh(); }
    if (status) status.setAttribute("data-live", "yes");
  });
  source.addEventListener("error", function () {
    if (status) status.setAttribute("data-live", "no");
    poll();
    // A reconnect refused (sent to the sign-in page) closes the stream for good: ask now.
    if (source.readyState === EventSource.CLOSED) refresh();
  });
})();
