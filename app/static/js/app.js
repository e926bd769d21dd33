// Hearth's small bits of behaviour that htmx does not cover. No inline scripts (CSP).
(function () {
  "use strict";
  // Move focus to the message area when htmx swaps an error into it, so keyboard and
  // screen-reader users notice.
  document.addEventListener("htmx:afterSwap", function (event) {
    if (event.detail.target && event.detail.target.id === "messages") {
      event.detail.target.scrollIntoView({ block: "nearest" });
    }
  });
})();
