// deckgen site: the saved or preferred theme, applied before the first paint.
(function () {
  var saved = null;
  try { saved = localStorage.getItem("deckgen:theme"); } catch (e) {}
  var dark = saved ? saved === "dark" : window.matchMedia("(prefers-color-scheme: dark)").matches;
  if (dark) document.documentElement.classList.add("dark", "nightMode");
})();
