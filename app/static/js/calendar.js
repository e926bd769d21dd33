// The room calendar opens on two weeks (a tablet); a desktop wide enough for a month gets
// the month, unless a choice is already in the address (both are links on the page).
(function () {
  var table = document.querySelector(".room-calendar");
  if (!table || table.dataset.chosen === "yes") return;
  if (!window.matchMedia("(min-width: 1100px)").matches) return;
  var url = new URL(window.location.href);
  url.searchParams.set("start", table.dataset.start);
  url.searchParams.set("days", "31");
  window.location.replace(url.toString());
})();
