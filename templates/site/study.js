// deckgen site: spaced-repetition study with FSRS (ts-fsrs, vendored as fsrs.js, global FSRS),
// progress kept per deck in localStorage and moved as a JSON file
// (deckgen/schemas/progress.schema.json), and charts of it. No network: works from file://.
//
// A study card is one Anki card: a note's id and the card's ordinal (the template's index, or the
// cloze number minus one), never its position, so progress survives rebuilds and deck updates.
(function () {
  "use strict";

  var $ = function (id) { return document.getElementById(id); };
  if (!window.FSRS || !$("review") || !window.deckgenSite) return;  // a templates folder without the study session
  var F = window.FSRS;
  var deckId = document.body.getAttribute("data-deck") || "deck";
  var storeKey = "deckgen:" + deckId + ":progress";  // every file:// page shares one storage
  var SCHEMA = "https://deckgen.dev/schemas/progress-v1.json", VERSION = 1;
  var MINUTE = 60000, HOUR = 60 * MINUTE, DAY = 24 * HOUR;
  var ROLLOVER = 4 * HOUR;          // as in Anki, a new day starts at 4 a.m. local time
  var LEARN_AHEAD = 20 * MINUTE;    // Anki's learn-ahead limit: a learning card due this soon
  var MAX_ANSWER_MS = 60000;        // Anki's cap on the time an answer took
  var DEFAULTS = { new_per_day: 20, request_retention: F.default_request_retention };

  function now() { return new Date(Date.now()); }  // tests set the clock (Playwright's clock)
  function keyOf(id, ord) { return id + ":" + ord; }

  // ------------------------------------------------------------------ storage
  function settingsOf(given) {
    var s = given || {};
    var n = Number(s.new_per_day), r = Number(s.request_retention);
    return {
      new_per_day: Number.isInteger(n) && n >= 0 && n <= 9999 ? n : DEFAULTS.new_per_day,
      request_retention: r >= 0.7 && r <= 0.99 ? r : DEFAULTS.request_retention
    };
  }
  function load() {
    var data = null;
    try { data = JSON.parse(localStorage.getItem(storeKey) || "null"); } catch (e) { data = null; }
    if (!data || data.$schema !== SCHEMA || typeof data.cards !== "object") {
      return { $schema: SCHEMA, version: VERSION, deck: deckId, settings: settingsOf(null), cards: {} };
    }
    data.settings = settingsOf(data.settings);
    return data;
  }
  var progress = load();
  var storageFailed = false;
  function save() {
    try { localStorage.setItem(storeKey, JSON.stringify(progress)); storageFailed = false; }
    catch (e) { storageFailed = true; }  // private mode or full: the session goes on in memory
  }

  // An FSRS card as stored and exported: dates as ISO 8601 UTC strings.
  function storedState(card) {
    return {
      due: card.due.toISOString(),
      stability: card.stability,
      difficulty: card.difficulty,
      elapsed_days: card.elapsed_days,
      scheduled_days: card.scheduled_days,
      learning_steps: card.learning_steps,
      reps: card.reps,
      lapses: card.lapses,
      state: card.state,
      last_review: card.last_review ? new Date(card.last_review).toISOString() : null
    };
  }
  function fsrsCard(state) {
    return F.TypeConvert.card({
      due: state.due, stability: state.stability, difficulty: state.difficulty,
      elapsed_days: state.elapsed_days, scheduled_days: state.scheduled_days,
      learning_steps: state.learning_steps, reps: state.reps, lapses: state.lapses,
      state: state.state, last_review: state.last_review || undefined
    });
  }
  function record(id, ord, state, reviews) {
    return { card: id, ord: ord, state: state, reviews: reviews };
  }
  function review(rating, at, stateBefore, duration) {
    return { rating: rating, review: at, state: stateBefore, duration_ms: duration };
  }

  var schedulers = {};
  function scheduler() {
    var r = progress.settings.request_retention;
    if (!schedulers[r]) {
      // Fuzz off: the schedule is a function of the answers alone, as `deckgen sync` replays it.
      schedulers[r] = F.fsrs(F.generatorParameters({ request_retention: r, enable_fuzz: false }));
    }
    return schedulers[r];
  }

  // ------------------------------------------------------------------ the deck's study cards
  // The deck's cards and the current selection (search, section, topic, tag, marks) are app.js's.
  var site = window.deckgenSite;
  function cardsOf(list) {
    var out = [];
    list.forEach(function (rec) {
      ordsOfRec(rec).forEach(function (ord) {
        out.push({ key: keyOf(rec.id, ord), id: rec.id, ord: ord, rec: rec });
      });
    });
    return out;
  }
  var known = {};
  cardsOf(site.cards()).forEach(function (c) { known[c.key] = true; });
  function selected() { return cardsOf(site.selection()); }

  function dayStart(t) {
    var d = new Date(t - ROLLOVER);
    d.setHours(0, 0, 0, 0);
    return d.getTime() + ROLLOVER;
  }
  function introducedToday(t) {  // new cards first answered today, in the whole deck
    var start = dayStart(t), n = 0;
    Object.keys(progress.cards).forEach(function (k) {
      var first = progress.cards[k].reviews[0];
      if (first && Date.parse(first.review) >= start) n++;
    });
    return n;
  }
  function isNew(rec) { return !rec || rec.state.state === F.State.New; }
  function dueTime(rec) { return Date.parse(rec.state.due); }

  // Due cards first (the most overdue first), then new cards in deck order up to the day's limit;
  // with nothing left, a learning card due within the learn-ahead limit. The cards with progress
  // are looked at one by one, the new ones only until the day's are found: a large deck's
  // thousands of untouched cards cost nothing at each keystroke of the search.
  function ordsOfRec(rec) { return rec.ords.length ? rec.ords : [0]; }
  function buildQueue(t) {
    var due = [], fresh = [], ahead = [], time = t.getTime();
    var room = Math.max(0, progress.settings.new_per_day - introducedToday(time));
    var list = site.selection(), keys = Object.keys(progress.cards);
    var chosen = keys.length ? site.selected() : null;
    keys.forEach(function (key) {
      var rec = progress.cards[key], note = site.card(rec.card);
      if (isNew(rec) || !note || !chosen.has(note) || ordsOfRec(note).indexOf(rec.ord) < 0) return;
      var c = { key: key, id: note.id, ord: rec.ord, rec: note };
      var at = dueTime(rec);
      if (at <= time) due.push(c);
      else if (rec.state.state !== F.State.Review && at <= time + LEARN_AHEAD) ahead.push(c);
    });
    for (var i = 0; i < list.length && fresh.length < room; i++) {
      var ords = ordsOfRec(list[i]);
      for (var j = 0; j < ords.length && fresh.length < room; j++) {
        var key = keyOf(list[i].id, ords[j]);
        if (isNew(progress.cards[key])) fresh.push({ key: key, id: list[i].id, ord: ords[j], rec: list[i] });
      }
    }
    // the most overdue first; cards due at the same moment in deck order
    var byDue = function (a, b) {
      return dueTime(progress.cards[a.key]) - dueTime(progress.cards[b.key]) ||
        site.position(a.rec) - site.position(b.rec) || a.ord - b.ord;
    };
    due.sort(byDue); ahead.sort(byDue);
    return { due: due, fresh: fresh, ahead: ahead, room: room,
      cards: due.length || fresh.length ? due.concat(fresh) : ahead.slice(0, 1) };
  }

  // ------------------------------------------------------------------ intervals as Anki shows them
  function interval(ms) {
    var minutes = ms / MINUTE, days = ms / DAY;
    if (minutes < 1) return "<1m";
    if (minutes < 60) return Math.round(minutes) + "m";
    if (minutes < 1440) return Math.round(minutes / 60) + "h";
    if (days < 30) return Math.round(days) + "d";
    if (days < 365) return (days / 30).toFixed(1).replace(/\.0$/, "") + "mo";
    return (days / 365).toFixed(1).replace(/\.0$/, "") + "y";
  }

  // ------------------------------------------------------------------ the session
  var reviewing = false, current = null, shownAt = 0, revealed = false, undo = [];
  var panel = $("review"), cardBox = $("review-card"), showButton = $("review-show");
  var ratings = $("review-ratings"), rateButtons = Array.prototype.slice.call(ratings.querySelectorAll("button.rate"));

  function faces(c) {
    var entry = site.element(c.rec);
    var face = entry.querySelector('.study-face[data-ord="' + c.ord + '"]');
    return face ? [face.querySelector(".study-q"), face.querySelector(".study-a")]
      : [entry.querySelector(".face.front"), entry.querySelector(".face.back")];
  }
  function copy(face, className) {
    var box = document.createElement("div");
    box.className = className;
    Array.prototype.forEach.call(face.childNodes, function (n) { box.appendChild(n.cloneNode(true)); });
    return box;
  }
  function counts(q) {
    return "Due " + q.due.length + " · New " + q.fresh.length +
      (q.ahead.length ? " · Learning " + q.ahead.length : "");
  }
  function updateStartButton() {
    var q = buildQueue(now());
    $("review-start").textContent = "Review (" + q.due.length + " due, " + q.fresh.length + " new" +
      (q.ahead.length ? ", " + q.ahead.length + " learning" : "") + ")";
  }
  // Shows the queue's first card, or `pick` (the card an undo brings back).
  function showNext(pick) {
    var t = now(), q = buildQueue(t);
    current = pick || q.cards[0] || null;
    revealed = false;
    cardBox.textContent = "";
    $("review-counts").textContent = counts(q);
    $("review-undo").disabled = undo.length === 0;
    ratings.hidden = true;
    cardBox.hidden = !current; showButton.hidden = !current;
    $("review-empty").hidden = !!current;
    if (!current) {
      $("review-empty").textContent = "Nothing left to review in these cards for now." +
        (q.room === 0 ? " Today's new cards are done (" + progress.settings.new_per_day + " a day)." : "");
      $("review-exit").focus();
      return;
    }
    var f = faces(current);
    cardBox.appendChild(copy(f[0], "face front"));
    var back = copy(f[1], "face back");
    back.hidden = true;
    cardBox.appendChild(back);
    cardBox.setAttribute("data-card", current.key);
    shownAt = t.getTime();
    var typed = cardBox.querySelector("input.typeans");
    if (typed) typed.setAttribute("maxlength", "500");
    (typed || showButton).focus({ preventScroll: true });
    window.scrollTo(0, 0);
  }
  function reveal() {
    if (!current || revealed) return;
    revealed = true;
    if (window.deckgenSite && window.deckgenSite.showTyped) window.deckgenSite.showTyped(cardBox);
    cardBox.querySelector(".face.front").hidden = true;  // the back repeats the question, as in Anki
    cardBox.querySelector(".face.back").hidden = false;
    var t = now(), rec = progress.cards[current.key];
    var preview = scheduler().repeat(rec ? fsrsCard(rec.state) : F.createEmptyCard(t), t);
    rateButtons.forEach(function (b) {
      var next = preview[Number(b.getAttribute("data-rating"))].card;
      b.querySelector(".ivl").textContent = interval(next.due.getTime() - t.getTime());
    });
    showButton.hidden = true;
    ratings.hidden = false;
    rateButtons[2].focus({ preventScroll: true });
  }
  function answer(rating) {
    if (!current || !revealed) return;
    var t = now(), c = current, rec = progress.cards[c.key];
    var before = rec ? fsrsCard(rec.state) : F.createEmptyCard(t);
    var result = scheduler().next(before, t, rating);
    var took = Math.max(0, Math.min(MAX_ANSWER_MS, t.getTime() - shownAt));
    undo.push({ key: c.key, previous: rec || null });
    progress.cards[c.key] = record(c.id, c.ord, storedState(result.card),
      (rec ? rec.reviews : []).concat([review(rating, t.toISOString(), before.state, took)]));
    save();
    showNext();
  }
  function undoLast() {
    var last = undo.pop();
    if (!last) return;
    if (last.previous) progress.cards[last.key] = last.previous; else delete progress.cards[last.key];
    save();
    showNext(cardsOf(site.cards()).filter(function (c) { return c.key === last.key; })[0]);
  }
  function start() {
    reviewing = true;
    undo = [];
    document.body.classList.add("reviewing");
    panel.hidden = false;
    showNext();
  }
  function stop() {
    reviewing = false;
    current = null;
    document.body.classList.remove("reviewing");
    panel.hidden = true;
    cardBox.textContent = "";
    updateStartButton();
    $("review-start").focus();
  }

  $("review-start").addEventListener("click", start);
  // "Study only networking" in one click: a button beside each section's and topic's heading
  // selects it (the search, tag and marks stay as they are) and starts the session.
  function reviewSection(section, part, topic) {
    var heading = section.querySelector(":scope > h2, :scope > h3");
    if (!heading) return;
    var button = document.createElement("button");
    button.type = "button";
    button.className = "review-section";
    button.textContent = "Review";
    button.setAttribute("aria-label", "Review " + heading.textContent);
    button.addEventListener("click", function () {
      var sectionSel = $("filter-section"), topicSel = $("filter-topic");
      if (sectionSel) sectionSel.value = part;
      if (topicSel) topicSel.value = topic;
      (topicSel || sectionSel).dispatchEvent(new Event("change", { bubbles: true }));
      start();
    });
    var row = document.createElement("div");
    row.className = "section-head";
    heading.parentNode.insertBefore(row, heading);
    row.appendChild(heading);
    row.appendChild(button);
  }
  // A deck with sections: each section and each topic in it; without: each topic.
  document.querySelectorAll("main section.section").forEach(function (part) {
    reviewSection(part, part.getAttribute("data-section") || "", "");
  });
  document.querySelectorAll("main section.topic").forEach(function (topic) {
    var part = topic.closest("section.section");
    reviewSection(topic, part ? part.getAttribute("data-section") || "" : "", topic.getAttribute("data-topic") || "");
  });
  $("review-exit").addEventListener("click", stop);
  $("review-undo").addEventListener("click", undoLast);
  showButton.addEventListener("click", reveal);
  rateButtons.forEach(function (b) {
    b.addEventListener("click", function () { answer(Number(b.getAttribute("data-rating"))); });
  });
  // Captured before app.js's own keys, which stay out of the session. In a typed answer's box
  // the keys type; Enter shows the answer.
  window.addEventListener("keydown", function (event) {
    if (!reviewing || event.altKey || event.ctrlKey || event.metaKey) return;
    if (event.key === "Escape") { event.preventDefault(); event.stopPropagation(); stop(); return; }
    if (/^(INPUT|SELECT|TEXTAREA)$/.test(event.target.tagName)) {
      if (event.key === "Enter" && cardBox.contains(event.target)) { event.preventDefault(); reveal(); }
      return;
    }
    event.stopPropagation();
    var onButton = event.target.tagName === "BUTTON";
    if (event.key === " " || (event.key === "Enter" && !onButton)) {
      event.preventDefault();
      if (revealed) answer(F.Rating.Good); else reveal();
    } else if (/^[1-4]$/.test(event.key)) {
      event.preventDefault();
      answer(Number(event.key));
    } else if (event.key === "u" || event.key === "z") {
      event.preventDefault();
      undoLast();
    }
  }, true);

  // ------------------------------------------------------------------ settings
  var newInput = $("setting-new"), retentionInput = $("setting-retention");
  function showSettings() {
    newInput.value = String(progress.settings.new_per_day);
    retentionInput.value = String(progress.settings.request_retention);
  }
  function readSettings() {
    var n = Number(newInput.value), r = Number(retentionInput.value);
    if (newInput.value !== "" && Number.isInteger(n) && n >= 0 && n <= 9999) progress.settings.new_per_day = n;
    if (retentionInput.value !== "" && r >= 0.7 && r <= 0.99) progress.settings.request_retention = r;
    showSettings();  // a value out of range goes back to the one in use
    save();
    updateStartButton();
    drawCharts();
  }
  newInput.addEventListener("change", readSettings);
  retentionInput.addEventListener("change", readSettings);
  $("progress-settings").addEventListener("submit", function (e) { e.preventDefault(); });

  // ------------------------------------------------------------------ export and import
  var message = $("progress-message");
  function exported() {
    var p = scheduler().parameters;
    return {
      $schema: SCHEMA,
      version: VERSION,
      deck: deckId,
      exported: now().toISOString(),
      scheduler: {
        name: "ts-fsrs",
        version: F.FSRSVersion,
        parameters: {
          w: Array.prototype.slice.call(p.w),
          request_retention: p.request_retention,
          maximum_interval: p.maximum_interval,
          enable_fuzz: p.enable_fuzz,
          enable_short_term: p.enable_short_term,
          learning_steps: Array.prototype.slice.call(p.learning_steps),
          relearning_steps: Array.prototype.slice.call(p.relearning_steps)
        }
      },
      settings: progress.settings,
      cards: Object.keys(progress.cards).sort().map(function (k) { return progress.cards[k]; })
    };
  }
  $("progress-export").addEventListener("click", function () {
    var text = JSON.stringify(exported(), null, 1) + "\n";
    var link = document.createElement("a");
    link.href = URL.createObjectURL(new Blob([text], { type: "application/json" }));
    link.download = deckId + "-progress-" + now().toISOString().slice(0, 10) + ".json";
    document.body.appendChild(link);
    link.click();
    link.remove();
    setTimeout(function () { URL.revokeObjectURL(link.href); }, 0);
    message.textContent = "Exported " + Object.keys(progress.cards).length + " cards' progress.";
  });

  // Checks an imported file as the schema does; returns the first problem, or "".
  var ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/;
  function isTime(v) { return typeof v === "string" && ISO.test(v) && !isNaN(Date.parse(v)); }
  function isCount(v) { return Number.isInteger(v) && v >= 0; }
  function isNumber(v) { return typeof v === "number" && isFinite(v) && v >= 0; }
  function problem(data) {
    if (!data || data.$schema !== SCHEMA) return "this is not a deckgen progress file";
    if (data.version !== VERSION) return "progress file version " + data.version + " is not supported (this page reads " + VERSION + ")";
    if (data.deck !== deckId) return "it holds progress for the deck '" + data.deck + "', this page is the deck '" + deckId + "'";
    if (!Array.isArray(data.cards)) return "it has no list of cards";
    for (var i = 0; i < data.cards.length; i++) {
      var c = data.cards[i], where = "card " + (i + 1);
      if (!c || typeof c.card !== "string" || !c.card || !isCount(c.ord)) return where + " has no card id and ordinal";
      var s = c.state;
      if (!s || !isTime(s.due) || !(s.last_review === null || isTime(s.last_review)) ||
          !isNumber(s.stability) || !isNumber(s.difficulty) || !isCount(s.reps) || !isCount(s.lapses) ||
          !isNumber(s.elapsed_days) || !isNumber(s.scheduled_days) || !isCount(s.learning_steps) ||
          [0, 1, 2, 3].indexOf(s.state) < 0) return where + " (" + c.card + ") has no valid FSRS state";
      if (!Array.isArray(c.reviews)) return where + " (" + c.card + ") has no review log";
      for (var j = 0; j < c.reviews.length; j++) {
        var r = c.reviews[j];
        if (!r || [1, 2, 3, 4].indexOf(r.rating) < 0 || !isTime(r.review) ||
            [0, 1, 2, 3].indexOf(r.state) < 0 || !isCount(r.duration_ms)) {
          return where + " (" + c.card + "), review " + (j + 1) + " is not a rating 1-4 at a time";
        }
      }
    }
    return "";
  }
  function lastReview(rec) {
    var r = rec.reviews[rec.reviews.length - 1];
    return r ? Date.parse(r.review) : -Infinity;
  }
  function importText(text) {
    var data;
    try { data = JSON.parse(text); } catch (e) { data = null; }
    var why = data === null ? "it is not JSON" : problem(data);
    if (why) { message.textContent = "Not imported: " + why + ". Nothing changed."; return; }
    var taken = 0, newer = 0, aside = [];
    data.cards.forEach(function (c) {
      var key = keyOf(c.card, c.ord), mine = progress.cards[key];
      var s = c.state;
      var rec = record(c.card, c.ord, {
        due: s.due, stability: s.stability, difficulty: s.difficulty, elapsed_days: s.elapsed_days,
        scheduled_days: s.scheduled_days, learning_steps: s.learning_steps, reps: s.reps,
        lapses: s.lapses, state: s.state, last_review: s.last_review
      }, c.reviews.map(function (r) { return review(r.rating, r.review, r.state, r.duration_ms); }));
      if (mine && lastReview(mine) > lastReview(rec)) { newer++; return; }  // this browser's is newer
      progress.cards[key] = rec;  // kept even when the deck has no such card: exported again
      if (known[key]) taken++; else aside.push(key);
    });
    if (data.settings) progress.settings = settingsOf(data.settings);
    save();
    showSettings();
    updateStartButton();
    drawCharts();
    message.textContent = "Imported " + taken + " cards' progress." +
      (newer ? " Kept this browser's newer progress for " + newer + " cards." : "") +
      (aside.length ? " Kept aside " + aside.length + " cards that are not in this deck (" +
        listed(aside) + "): they stay in your progress and in its exports." : "") +
      (storageFailed ? " This browser would not store it: it lasts until the page closes." : "");
  }
  $("progress-import").addEventListener("change", function (event) {
    var file = event.target.files && event.target.files[0];
    if (!file) return;
    var reader = new FileReader();
    reader.onload = function () { importText(String(reader.result)); event.target.value = ""; };
    reader.onerror = function () { message.textContent = "Not imported: the file could not be read."; };
    reader.readAsText(file);
  });

  // ------------------------------------------------------------------ charts (SVG, drawn to fit)
  var SVG = "http://www.w3.org/2000/svg";
  function el(name, attrs, text) {
    var node = document.createElementNS(SVG, name);
    Object.keys(attrs).forEach(function (k) { node.setAttribute(k, String(attrs[k])); });
    if (text !== undefined) node.textContent = text;
    return node;
  }
  function chart(box, height, label) {
    box.textContent = "";
    var width = Math.max(260, Math.floor(box.clientWidth || 600));
    var svg = el("svg", { width: width, height: height, viewBox: "0 0 " + width + " " + height, role: "img", "aria-label": label });
    svg.appendChild(el("title", {}, label));
    box.appendChild(svg);
    return { svg: svg, width: width };
  }
  function shortDate(t) {
    var d = new Date(t);
    return d.toLocaleDateString(document.documentElement.lang || undefined, { month: "short", day: "numeric" });
  }
  // Columns for the days, a scale on the left, dates under the first, middle and last column.
  function columns(box, values, firstDay, label, className) {
    var c = chart(box, 170, label), top = 12, bottom = 30, left = 30, right = 8;
    var max = Math.max(1, Math.max.apply(null, values));
    var step = Math.pow(10, Math.floor(Math.log10(max)));
    var ceiling = Math.ceil(max / step) * step;
    var h = 170 - top - bottom, w = (c.width - left - right) / values.length;
    [0, ceiling / 2, ceiling].filter(Number.isInteger).forEach(function (v) {
      var y = top + h - (v / ceiling) * h;
      c.svg.appendChild(el("line", { x1: left, x2: c.width - right, y1: y, y2: y, "class": "grid" }));
      c.svg.appendChild(el("text", { x: left - 4, y: y + 4, "text-anchor": "end", "class": "tick" }, String(Math.round(v * 10) / 10)));
    });
    values.forEach(function (v, i) {
      var bh = (v / ceiling) * h;
      var bar = el("rect", { x: left + i * w + 1, y: top + h - bh, width: Math.max(1, w - 2), height: bh, "class": className });
      bar.appendChild(el("title", {}, shortDate(firstDay + i * DAY) + ": " + v));
      c.svg.appendChild(bar);
    });
    [0, Math.floor(values.length / 2), values.length - 1].forEach(function (i, n) {
      var anchor = ["start", "middle", "end"][n];
      var x = n === 0 ? left : n === 2 ? c.width - right : left + (i + 0.5) * w;
      c.svg.appendChild(el("text", { x: x, y: 170 - 10, "text-anchor": anchor, "class": "tick" }, shortDate(firstDay + i * DAY)));
    });
  }
  // One horizontal bar per row, its share of `total` (or a percentage), the value at its end.
  function bars(box, rows, label) {
    var rowH = 30, c = chart(box, rows.length * rowH + 8, label), left = 112, right = 92;
    rows.forEach(function (r, i) {
      var y = 4 + i * rowH, w = (c.width - left - right) * r.share;
      c.svg.appendChild(el("text", { x: 0, y: y + 19, "class": "label" }, r.name));
      c.svg.appendChild(el("rect", { x: left, y: y + 4, width: c.width - left - right, height: 20, rx: 3, "class": "track" }));
      c.svg.appendChild(el("rect", { x: left, y: y + 4, width: Math.max(0, w), height: 20, rx: 3, "class": r.className }));
      c.svg.appendChild(el("text", { x: c.width - right + 6, y: y + 19, "class": "value" }, r.value));
    });
  }
  function drawCharts() {
    if ($("progress").hidden) return;
    var t = now().getTime(), today = dayStart(t), cards = selected();
    var recs = cards.map(function (c) { return progress.cards[c.key]; }).filter(Boolean);
    var notes = site.selection().length;
    $("progress-scope").textContent = "· " + cards.length + " cards from " + notes + " notes" +
      (notes < site.cards().length ? " in the current selection" : "");
    // cards by state
    var n = { "new": cards.length - recs.length, learning: 0, review: 0 };
    recs.forEach(function (r) {
      if (r.state.state === F.State.New) n["new"]++;
      else if (r.state.state === F.State.Review) n.review++;
      else n.learning++;
    });
    var total = Math.max(1, cards.length);
    bars($("chart-states"), [
      { name: "New", share: n["new"] / total, value: String(n["new"]), className: "s-new" },
      { name: "Learning", share: n.learning / total, value: String(n.learning), className: "s-learning" },
      { name: "Review", share: n.review / total, value: String(n.review), className: "s-review" }
    ], "Cards by state: " + n["new"] + " new, " + n.learning + " learning, " + n.review + " review");
    // true retention: answers to cards in the review state, Hard/Good/Easy passing
    var periods = [["Today", today], ["Last 7 days", today - 6 * DAY], ["Last 30 days", today - 29 * DAY], ["All time", -Infinity]];
    var rows = periods.map(function (p) {
      var asked = 0, passed = 0;
      recs.forEach(function (r) {
        r.reviews.forEach(function (v) {
          if (v.state === F.State.Review && Date.parse(v.review) >= p[1] && Date.parse(v.review) <= t) {
            asked++; if (v.rating > 1) passed++;
          }
        });
      });
      return { name: p[0], share: asked ? passed / asked : 0, className: "retention",
        value: asked ? Math.round(100 * passed / asked) + "% of " + asked : "no reviews" };
    });
    bars($("chart-retention"), rows, "True retention: " + rows.map(function (r) { return r.name + " " + r.value; }).join(", "));
    // reviews a day, the last 30 days
    var perDay = new Array(30).fill(0), first = today - 29 * DAY;
    recs.forEach(function (r) {
      r.reviews.forEach(function (v) {
        var i = Math.floor((dayStart(Date.parse(v.review)) - first) / DAY);
        if (i >= 0 && i < 30) perDay[i]++;
      });
    });
    columns($("chart-reviews"), perDay, first, "Reviews a day over the last 30 days: " + perDay.reduce(function (a, b) { return a + b; }, 0) + " in all", "reviews");
    // due forecast: the next 30 days, overdue cards counted today
    var forecast = new Array(30).fill(0);
    recs.forEach(function (r) {
      if (r.state.state === F.State.New) return;
      var i = Math.max(0, Math.floor((dayStart(dueTime(r)) - today) / DAY));
      if (i < 30) forecast[i]++;
    });
    columns($("chart-forecast"), forecast, today, "Cards due in the next 30 days: " + forecast.reduce(function (a, b) { return a + b; }, 0) + " in all", "forecast");
  }
  // Progress for cards this page does not have (retired, or imported from a later build).
  function asideNote() {
    var aside = Object.keys(progress.cards).filter(function (k) { return !known[k]; }).sort();
    return aside.length ? "Your progress also holds " + aside.length + " cards this deck does not have (" +
      listed(aside) + "): kept, and in your exports." : "";
  }
  function listed(keys) {
    return keys.slice(0, 10).join(", ") + (keys.length > 10 ? " and " + (keys.length - 10) + " more" : "");
  }
  var progressButton = $("progress-open");
  progressButton.addEventListener("click", function () {
    var open = $("progress").hidden;
    $("progress").hidden = !open;
    progressButton.setAttribute("aria-expanded", String(open));
    if (open) { showSettings(); message.textContent = asideNote(); drawCharts(); }
  });
  var resizing = null;
  window.addEventListener("resize", function () {
    clearTimeout(resizing);
    resizing = setTimeout(drawCharts, 100);
  });
  var filters = document.querySelector("form.filters");
  if (filters) {
    ["input", "change"].forEach(function (type) {
      filters.addEventListener(type, function () { updateStartButton(); drawCharts(); });
    });
  }

  // Another tab of this deck answered or imported: take its progress, so neither overwrites the
  // other's reviews (the card on screen stays; its answer is added to the newer progress).
  window.addEventListener("storage", function (event) {
    if (event.key !== storeKey) return;
    progress = load();
    undo = [];
    if (reviewing) $("review-undo").disabled = true;
    updateStartButton();
    drawCharts();
  });

  updateStartButton();
  // For tests and curious learners: the session's state, read-only.
  window.deckgenStudy = {
    queue: function () { return buildQueue(now()).cards.map(function (c) { return c.key; }); },
    progress: function () { return JSON.parse(JSON.stringify(progress)); },
    exported: exported
  };
})();
