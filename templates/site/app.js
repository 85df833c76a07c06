// deckgen site: search, filters, study mode, marks and permalinks. No network, no dependencies:
// it works from file:// as well as from a web host.
(function () {
  "use strict";

  var deckId = document.body.getAttribute("data-deck") || "deck";
  var markKey = "deckgen:" + deckId + ":marked";
  var entries = Array.prototype.slice.call(document.querySelectorAll("article.entry"));
  var $ = function (id) { return document.getElementById(id); };
  var search = $("search"), sectionSel = $("filter-section"), topicSel = $("filter-topic");
  var tagSel = $("filter-tag"), onlyMarked = $("only-marked"), status = $("status");
  // The page carries no inline handlers (a Content-Security-Policy could then forbid them all).
  var filters = document.querySelector("form.filters");
  if (filters) filters.addEventListener("submit", function (e) { e.preventDefault(); });

  // ------------------------------------------------------------------ storage (may be blocked)
  function load(key, fallback) {
    try { var v = localStorage.getItem(key); return v === null ? fallback : JSON.parse(v); }
    catch (e) { return fallback; }
  }
  function save(key, value) {
    try { localStorage.setItem(key, JSON.stringify(value)); } catch (e) { /* private mode */ }
  }
  var marked = new Set(load(markKey, []));

  // ------------------------------------------------------------------ theme
  var toggle = $("theme-toggle");
  function applyTheme(dark) {
    document.documentElement.classList.toggle("dark", dark);
    document.documentElement.classList.toggle("nightMode", dark);
    toggle.setAttribute("aria-pressed", String(dark));
    toggle.textContent = dark ? "Light theme" : "Dark theme";
  }
  applyTheme(document.documentElement.classList.contains("dark"));
  toggle.addEventListener("click", function () {
    var dark = !document.documentElement.classList.contains("dark");
    applyTheme(dark);
    try { localStorage.setItem("deckgen:theme", dark ? "dark" : "light"); } catch (e) {}
  });

  // ------------------------------------------------------------------ typed answers
  // As Anki does, the typed answer is compared with the expected text character by character:
  // the typed line marks what was right (typeGood), wrong (typeBad) and left out (a "-"), the
  // expected line what was right and what was missed (typeMissed). The alignment is a longest
  // common subsequence; both texts are short (deckgen checks typed answers' length).
  var MAX_TYPED = 500;
  function compare(typed, expected) {
    var n = typed.length, m = expected.length, i, j, table = [];
    for (i = 0; i <= n; i++) table.push(new Array(m + 1).fill(0));
    for (i = n - 1; i >= 0; i--) {
      for (j = m - 1; j >= 0; j--) {
        table[i][j] = typed[i] === expected[j] ? table[i + 1][j + 1] + 1 : Math.max(table[i + 1][j], table[i][j + 1]);
      }
    }
    var given = [], wanted = [];
    for (i = 0, j = 0; i < n || j < m;) {
      if (i < n && j < m && typed[i] === expected[j]) { given.push(["typeGood", typed[i++]]); wanted.push(["typeGood", expected[j++]]); }
      else if (j < m && (i === n || table[i][j + 1] >= table[i + 1][j])) { given.push(["typeMissed", "-"]); wanted.push(["typeMissed", expected[j++]]); }
      else given.push(["typeBad", typed[i++]]);
    }
    return [given, wanted];
  }
  function line(parts) {
    var code = document.createElement("code");
    code.className = "typeans";
    parts.forEach(function (part) {
      var last = code.lastChild;
      if (last && last.className === part[0]) { last.textContent += part[1]; return; }
      var span = document.createElement("span");
      span.className = part[0]; span.textContent = part[1];
      code.appendChild(span);
    });
    return code;
  }
  function showTyped(entry) {
    var input = entry.querySelector("input.typeans"), result = entry.querySelector(".typeans-result");
    if (!input || !result) return;
    var expected = Array.from((result.getAttribute("data-expected") || "").normalize("NFC"));
    var typed = Array.from(input.value.trim().normalize("NFC")).slice(0, MAX_TYPED);
    result.textContent = "";
    if (!typed.length) { result.appendChild(line([["", expected.join("")]])); return; }
    if (typed.join("") === expected.join("")) { result.appendChild(line([["typeGood", expected.join("")]])); return; }
    var lines = compare(typed, expected);
    result.appendChild(line(lines[0]));
    var arrow = document.createElement("div");
    arrow.className = "typearrow"; arrow.textContent = "\u2193"; arrow.setAttribute("aria-hidden", "true");
    result.appendChild(arrow);
    result.appendChild(line(lines[1]));
  }

  // ------------------------------------------------------------------ one card
  function reveal(entry, shown) {
    var front = entry.querySelector(".face.front"), back = entry.querySelector(".face.back");
    var button = entry.querySelector("button.reveal");
    if (shown === undefined) shown = back.hidden;
    if (shown) showTyped(entry);
    back.hidden = !shown;
    front.hidden = shown;  // the back repeats the question above the answer, as in Anki
    button.setAttribute("aria-expanded", String(shown));
    button.textContent = shown ? "Hide answer" : "Show answer";
    if (studying && entry === current()) $("study-reveal").textContent = button.textContent;
  }
  function setMarked(entry, on) {
    if (on) marked.add(entry.id); else marked.delete(entry.id);
    entry.classList.toggle("marked", on);
    var button = entry.querySelector("button.mark");
    button.setAttribute("aria-pressed", String(on));
    button.textContent = on ? "Marked" : "Mark";
    save(markKey, Array.from(marked));
  }
  entries.forEach(function (entry) {
    entry.querySelector("button.reveal").addEventListener("click", function () { reveal(entry); });
    var typed = entry.querySelector("input.typeans");
    if (typed) {
      typed.setAttribute("maxlength", String(MAX_TYPED));
      typed.addEventListener("keydown", function (event) {
        if (event.key === "Enter") { event.preventDefault(); reveal(entry, true); }
      });
    }
    entry.querySelector("button.mark").addEventListener("click", function () {
      setMarked(entry, !marked.has(entry.id)); applyFilters();
    });
    if (marked.has(entry.id)) setMarked(entry, true);
  });

  // ------------------------------------------------------------------ filters
  function matches(entry) {
    var q = search.value.trim().toLowerCase();
    if (sectionSel && sectionSel.value && entry.getAttribute("data-section") !== sectionSel.value) return false;
    if (topicSel.value && entry.getAttribute("data-topic") !== topicSel.value) return false;
    if (tagSel.value) {
      var tags = entry.getAttribute("data-tags").split(" ");
      if (!tags.some(function (t) { return t === tagSel.value || t.indexOf(tagSel.value + "::") === 0; })) return false;
    }
    if (onlyMarked.checked && !marked.has(entry.id)) return false;
    if (q && (entry.id + " " + entry.textContent).toLowerCase().indexOf(q) < 0) return false;
    return true;
  }
  function visible() { return entries.filter(function (e) { return !e.hidden; }); }
  function applyFilters() {
    entries.forEach(function (entry) { entry.hidden = !matches(entry); });
    document.querySelectorAll("section.topic, section.section").forEach(function (section) {
      section.hidden = !section.querySelector("article.entry:not([hidden])");
    });
    var n = visible().length;
    status.textContent = n === entries.length ? n + " cards" : n + " of " + entries.length + " cards";
    if (studying) { order = visible(); position = Math.min(position, Math.max(order.length - 1, 0)); showStudyCard(); }
  }
  // The section filter is there only when the syllabus has sections.
  [search, sectionSel, topicSel, tagSel, onlyMarked].filter(Boolean).forEach(function (el) {
    el.addEventListener("input", applyFilters);
    el.addEventListener("change", applyFilters);
  });

  // ------------------------------------------------------------------ study mode
  var studying = false, order = [], position = 0;
  function current() { return order[position]; }
  function showStudyCard() {
    entries.forEach(function (e) { e.classList.remove("current"); });
    order.forEach(function (e, i) { e.style.display = i === position ? "" : "none"; });
    var entry = current();
    $("study-position").textContent = order.length ? "Card " + (position + 1) + " of " + order.length : "No cards match";
    if (!entry) return;
    entry.classList.add("current");
    reveal(entry, false);
    var typed = entry.querySelector("input.typeans");
    if (typed) typed.value = "";
    (typed || entry).focus({ preventScroll: true });
    window.scrollTo(0, 0);
  }
  function startStudy() {
    order = visible();
    if (!order.length) return;
    studying = true; position = 0;
    document.body.classList.add("studying");
    $("study-bar").hidden = false;
    showStudyCard();
    if (!current().querySelector("input.typeans")) $("study-reveal").focus();  // else: type
  }
  function stopStudy() {
    studying = false;
    document.body.classList.remove("studying");
    $("study-bar").hidden = true;
    entries.forEach(function (e) { e.style.display = ""; e.classList.remove("current"); });
    $("study-start").focus();
  }
  function move(step) {
    if (!order.length) return;
    position = (position + step + order.length) % order.length;
    showStudyCard();
  }
  function shuffle() {
    for (var i = order.length - 1; i > 0; i--) {
      var j = Math.floor(Math.random() * (i + 1)), t = order[i]; order[i] = order[j]; order[j] = t;
    }
    position = 0; showStudyCard();
  }
  $("study-start").addEventListener("click", startStudy);
  $("study-exit").addEventListener("click", stopStudy);
  $("study-next").addEventListener("click", function () { move(1); });
  $("study-prev").addEventListener("click", function () { move(-1); });
  $("study-shuffle").addEventListener("click", shuffle);
  $("study-reveal").addEventListener("click", function () { if (current()) reveal(current()); });

  document.addEventListener("keydown", function (event) {
    var typing = /^(INPUT|SELECT|TEXTAREA)$/.test(event.target.tagName);
    if (typing || event.altKey || event.ctrlKey || event.metaKey) return;
    var onButton = event.target.tagName === "BUTTON" || event.target.tagName === "A";
    if (studying) {
      if (event.key === " " || (event.key === "Enter" && !onButton)) { event.preventDefault(); reveal(current()); }
      else if (event.key === "ArrowRight" || event.key === "j") { event.preventDefault(); move(1); }
      else if (event.key === "ArrowLeft" || event.key === "k") { event.preventDefault(); move(-1); }
      else if (event.key === "s") shuffle();
      else if (event.key === "m" && current()) { setMarked(current(), !marked.has(current().id)); }
      else if (event.key === "Escape") stopStudy();
      return;
    }
    var entry = event.target.closest && event.target.closest("article.entry");
    if (entry && event.key === " " && !onButton) { event.preventDefault(); reveal(entry); }
    if (event.key === "/") { event.preventDefault(); search.focus(); }
  });

  // ------------------------------------------------------------------ permalinks
  // The card with this id, shown whatever the filters say; null when no card has it. The id is
  // data (a URL fragment, the preview's status): looked up by getElementById, never a selector.
  function showEntry(id, mark) {
    var entry = id && document.getElementById(id);
    if (!entry || !entry.classList.contains("entry")) return null;
    if (entry.hidden) {
      search.value = ""; if (sectionSel) sectionSel.value = ""; topicSel.value = ""; tagSel.value = ""; onlyMarked.checked = false;
      applyFilters();
    }
    entries.forEach(function (e) { e.classList.remove(mark); });
    entry.classList.add(mark);
    return entry;
  }
  function followHash() {
    var entry = showEntry(decodeURIComponent(location.hash.slice(1)), "targeted");
    if (!entry) return;
    entry.scrollIntoView({ block: "start" });
    entry.focus({ preventScroll: true });
  }
  window.addEventListener("hashchange", followHash);

  // ------------------------------------------------------------------ live preview
  // The status names the card of the edit that caused a rebuild: the page about to reload
  // keeps it for the next one (this tab only), which scrolls to it and highlights it briefly.
  var FOCUS_KEY = "deckgen:" + deckId + ":preview-focus";
  function showEdited() {
    var id = null;
    try { id = sessionStorage.getItem(FOCUS_KEY); sessionStorage.removeItem(FOCUS_KEY); } catch (e) {}
    var entry = typeof id === "string" ? showEntry(id, "edited") : null;
    if (!entry) return;
    entry.scrollIntoView({ block: "start" });
    setTimeout(function () {
      entry.classList.remove("edited");
      try { history.scrollRestoration = "auto"; } catch (e) {}  // a reload by hand keeps its place
    }, 2500);
  }
  var previewing = !!document.querySelector('meta[name="deckgen-preview"]');
  if (previewing && location.protocol.indexOf("http") === 0) {
    var version = null;
    var poll = function () {
      fetch("/__deckgen/status.json", { cache: "no-store" }).then(function (r) { return r.json(); })
        .then(function (state) {
          if (version !== null && state.version !== version) {
            try {
              if (typeof state.focus === "string") {
                sessionStorage.setItem(FOCUS_KEY, state.focus);
                history.scrollRestoration = "manual";  // else the reload puts back this scroll
              }
            } catch (e) { /* storage blocked: reload without scrolling */ }
            location.reload();
            return;
          }
          version = state.version;
          var list = $("lint-list");
          list.textContent = "";
          state.findings.forEach(function (line) {
            var li = document.createElement("li"); li.textContent = line; list.appendChild(li);
          });
          $("lint").hidden = state.findings.length === 0;
        })
        .catch(function () { /* the server is restarting */ })
        .then(function () { setTimeout(poll, 700); });
    };
    poll();
  }

  applyFilters();
  followHash();
  if (previewing) showEdited();
  window.deckgenSite = { showTyped: showTyped };  // study.js compares typed answers the same way
})();
