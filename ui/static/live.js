// Progressive enhancement for messaging: when the server says one of my conversations
// changed, fetch this page again and swap in its #live part. Without JavaScript the page
// works the same, only a reload shows new messages.
(function () {
  "use strict";
  var live = document.getElementById("live");
  if (!live || !window.EventSource) { return; }
  var source = new EventSource(live.getAttribute("data-events"));
  var only = live.getAttribute("data-conversation");
  source.addEventListener("update", function (event) {
    if (only && event.data !== only) { return; }
    fetch(window.location.href, { credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.text() : null; })
      .then(function (html) {
        if (!html) { return; }
        var fresh = new DOMParser().parseFromString(html, "text/html").getElementById("live");
        if (fresh) { live.innerHTML = fresh.innerHTML; }
      });
  });
}());
