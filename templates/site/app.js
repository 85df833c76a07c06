// deckgen site: search, filters, study mode, marks and permalinks. No network, no dependencies:
// it works from file:// as well as from a web host.
(function () {
  "use strict";

  var deckId = document.body.getAttribute("data-deck") || "deck";
  var markKey = "deckgen:" + deckId + ":marked";
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

  // ------------------------------------------------------------------ the cards
  // Every card is a record, in the page's order, from the data files (cards-N.js, each a call of
  // deckgenCards). Its article is the one index.html lists, or one made from the HTML deckgen
  // rendered for it, only when it is to be shown: the page holds the cards on the screen and
  // the next ones, never the whole deck.
  var LISTED = Number(document.body.getAttribute("data-listed")) || 100;
  var records = [], byId = new Map(), listed = new Map(), topics = [];
  document.querySelectorAll("main article.entry").forEach(function (a) { listed.set(a.id, a); });
  document.querySelectorAll("main section.topic").forEach(function (section, i) {
    var n = Number(section.getAttribute("data-group"));
    topics[isNaN(n) ? i : n] = section;
  });
  function add(id, section, topic, group, tags, ords, text, html) {
    if (byId.has(id)) return;
    var rec = { index: records.length, id: id, section: section, topic: topic, group: group, tags: tags, ords: ords,
      text: text.toLowerCase(), html: html, el: listed.get(id) || null };
    records.push(rec); byId.set(id, rec);
    if (rec.el) prepare(rec.el);
    changed();
  }
  window.deckgenCards = function (n, rows) {
    rows.forEach(function (r) { add(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7]); });
  };
  // Without data files (an index.html of one's own that lists every card): the listed cards.
  function fromPage() {
    listed.forEach(function (a) {
      var section = a.closest("section.topic");
      var faces = Array.prototype.map.call(a.querySelectorAll(".face, .study-q, .study-a"),
        function (f) { return f.textContent; });
      add(a.id, a.getAttribute("data-section") || "", a.getAttribute("data-topic") || "",
        section ? topics.indexOf(section) : 0, (a.getAttribute("data-tags") || "").split(" ").filter(Boolean),
        (a.getAttribute("data-ords") || "").split(" ").filter(Boolean).map(Number),
        [a.id].concat(faces).join(" "), null);
    });
  }
  // The card's article, made from its HTML the first time it is wanted. The HTML was rendered
  // and escaped by deckgen (site/card.html), as index.html's own cards were: the browser parses
  // it, inert, in a template; nothing of it is put together here.
  function element(rec) {
    if (!rec.el) {
      var template = document.createElement("template");
      template.innerHTML = rec.html;
      rec.el = template.content.firstElementChild;
      rec.html = null;
      prepare(rec.el);
    }
    return rec.el;
  }

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
  function showMarked(entry, on) {
    entry.classList.toggle("marked", on);
    var button = entry.querySelector("button.mark");
    button.setAttribute("aria-pressed", String(on));
    button.textContent = on ? "Marked" : "Mark";
  }
  function setMarked(entry, on) {
    if (on) marked.add(entry.id); else marked.delete(entry.id);
    marksChanged++;
    showMarked(entry, on);
    save(markKey, Array.from(marked));
  }
  function prepare(entry) {
    var typed = entry.querySelector("input.typeans");
    if (typed) typed.setAttribute("maxlength", String(MAX_TYPED));
    if (marked.has(entry.id)) showMarked(entry, true);
  }
  // One listener for every card, those made later too.
  var main = $("cards");
  main.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("button");
    var entry = button && button.closest("article.entry");
    if (!entry || !main.contains(entry)) return;
    if (button.classList.contains("reveal")) reveal(entry);
    else if (button.classList.contains("mark")) { setMarked(entry, !marked.has(entry.id)); showWindow(); }
  });
  main.addEventListener("keydown", function (event) {
    var entry = event.target.closest && event.target.closest("article.entry");
    if (entry && event.key === "Enter" && event.target.matches("input.typeans")) {
      event.preventDefault(); reveal(entry, true);
    }
  });

  // ------------------------------------------------------------------ filters
  // The cards that match, computed once per change of the search or a filter. Typing on in the
  // search box looks only among the cards the shorter text matched.
  var matched = [], matchedFor = null, matchedText = "", marksChanged = 0, dataChanged = 0;
  function changed() { dataChanged++; }
  function matches(rec, q) {
    if (sectionSel && sectionSel.value && rec.section !== sectionSel.value) return false;
    if (topicSel.value && rec.topic !== topicSel.value) return false;
    if (tagSel.value) {
      var tag = tagSel.value;
      if (!rec.tags.some(function (t) { return t === tag || t.indexOf(tag + "::") === 0; })) return false;
    }
    if (onlyMarked.checked && !marked.has(rec.id)) return false;
    return !q || rec.text.indexOf(q) >= 0;
  }
  function selection() {
    var q = search.value.trim().toLowerCase();
    var key = [sectionSel ? sectionSel.value : "", topicSel.value, tagSel.value, onlyMarked.checked,
      onlyMarked.checked ? marksChanged : 0, dataChanged].join("\u0000");
    if (key === matchedFor && q === matchedText) return matched;
    var from = key === matchedFor && q.indexOf(matchedText) >= 0 ? matched : records;
    matched = from.filter(function (rec) { return matches(rec, q); });
    matchedFor = key; matchedText = q;
    return matched;
  }

  // ------------------------------------------------------------------ what the page shows
  // A window of the matching cards, `first` to `last`: LISTED of them, and LISTED more each time
  // the learner scrolls near the end (or asks for the earlier ones, after a permalink).
  var first = 0, last = LISTED, shown = [], more = $("more"), earlier = $("earlier");
  if (!more) { more = document.createElement("p"); more.hidden = true; main.after(more); }
  function render(list) {
    var previous = shown, after = new Map(), now = new Set(), groups = new Set();
    list.forEach(function (rec) {
      var entry = element(rec), topic = topics[rec.group] || main;
      var before = after.has(topic) ? after.get(topic).nextElementSibling : topic.querySelector(":scope > article.entry");
      if (entry !== before) topic.insertBefore(entry, before);
      after.set(topic, entry); now.add(entry); groups.add(topic);
    });
    previous.forEach(function (entry) { if (!now.has(entry)) entry.remove(); });
    shown = list.map(function (rec) { return rec.el; });
    topics.forEach(function (topic) { if (topic) topic.hidden = !groups.has(topic); });
    document.querySelectorAll("main section.section").forEach(function (section) {
      section.hidden = !section.querySelector("section.topic:not([hidden])");
    });
  }
  function showWindow() {
    var list = selection();
    first = Math.min(first, Math.max(list.length - 1, 0));
    render(list.slice(first, last));
    more.hidden = last >= list.length;
    if (earlier) earlier.hidden = first === 0;
    var n = list.length;
    status.textContent = n === records.length ? n + " cards" : n + " of " + records.length + " cards";
    main.setAttribute("data-shown", String(shown.length));
    requestAnimationFrame(nearTheEnd);
  }
  function applyFilters() {
    first = 0; last = LISTED;
    if (studying) { order = selection().slice(); position = Math.min(position, Math.max(order.length - 1, 0)); showStudyCard(); return; }
    showWindow();
  }
  // More cards when the end of the list comes near the screen.
  function nearTheEnd() {
    if (studying || more.hidden || more.getBoundingClientRect().top > innerHeight * 3) return;
    last += LISTED;
    showWindow();
  }
  if (window.IntersectionObserver) {
    new IntersectionObserver(function (seen) { if (seen[0].isIntersecting) nearTheEnd(); },
      { rootMargin: "0px 0px 200% 0px" }).observe(more);
  }
  window.addEventListener("scroll", function () { if (!more.hidden) requestAnimationFrame(nearTheEnd); }, { passive: true });
  if (earlier) earlier.querySelector("button").addEventListener("click", function () { first = Math.max(0, first - LISTED); showWindow(); });
  // The section filter is there only when the syllabus has sections.
  [search, sectionSel, topicSel, tagSel, onlyMarked].filter(Boolean).forEach(function (el) {
    el.addEventListener("input", applyFilters);
    el.addEventListener("change", applyFilters);
  });

  // ------------------------------------------------------------------ study mode
  var studying = false, order = [], position = 0;
  function current() { return order[position] ? element(order[position]) : undefined; }
  function showStudyCard() {
    shown.forEach(function (e) { e.classList.remove("current"); });
    render(order[position] ? [order[position]] : []);
    more.hidden = true;
    if (earlier) earlier.hidden = true;
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
    order = selection().slice();
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
    shown.forEach(function (e) { e.classList.remove("current"); });
    showWindow();
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
    var rec = typeof id === "string" ? byId.get(id) : null;
    if (!rec) return null;
    var at = selection().indexOf(rec);
    if (at < 0) {
      search.value = ""; if (sectionSel) sectionSel.value = ""; topicSel.value = ""; tagSel.value = ""; onlyMarked.checked = false;
      applyFilters();
      at = selection().indexOf(rec);
    }
    if (at < first || at >= last) { first = at; last = at + LISTED; showWindow(); }
    records.forEach(function (r) { if (r.el) r.el.classList.remove(mark); });
    var entry = element(rec);
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

  // The data files run after the page is parsed (they are deferred): then the page shows its
  // window of cards, and a permalink's card.
  function start() {
    if (!records.length) fromPage();
    showWindow();
    followHash();
    if (previewing) showEdited();
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
  // study.js asks for the cards, the current selection and a card's article here, and compares
  // typed answers the same way.
  var chosen = { list: null, set: null };
  window.deckgenSite = {
    showTyped: showTyped,
    cards: function () { if (!records.length) fromPage(); return records; },
    selection: selection,
    selected: function () {
      var list = selection();
      if (chosen.list !== list) { chosen.list = list; chosen.set = new Set(list); }
      return chosen.set;
    },
    card: function (id) { return byId.get(id); },
    position: function (rec) { return rec.index; },
    element: element
  };
})();
