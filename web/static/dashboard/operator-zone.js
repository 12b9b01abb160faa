// The operator's time zone, from their browser, for the pages that show times in it or read
// a time they type (the do-not-disturb preview, a reschedule): it fills every hidden
// `data-operator-zone` field and names the zone wherever `data-operator-zone-name` asks.
// Without JavaScript those pages use UTC and say so.
(function () {
  "use strict";
  var zone = "";
  try {
    zone = Intl.DateTimeFormat().resolvedOptions().timeZone || "";
  } catch (error) {
    return;
  }
  if (!zone) return;
  document.querySelectorAll("input[data-operator-zone]").forEach(function (input) {
    input.value = zone;
  });
  document.querySelectorAll("[data-operator-zone-name]").forEach(function (element) {
    element.textContent = zone;
  });
})();
