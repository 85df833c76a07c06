"""Checking a deck: every rule in deckgen.rules, run in one pass, every finding with a location."""

from __future__ import annotations

import logging
import math
import multiprocessing
import os
import re
import signal
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import TypeVar
from urllib.parse import urlsplit

from markdown_it.token import Token

from deckgen.cache import Cache, file_stamp, fingerprint, stamps_match
from deckgen.errors import Diagnostic, DiagnosticSink, Location
from deckgen.ids import IdLock, read_lock
from deckgen.load import (
    card_files,
    drop_duplicate_ids,
    parse_card_bytes,
    read_card_source,
    read_config,
)
from deckgen.markdown import CLOZE_OPEN_RE, CLOZE_RE
from deckgen.model import Card, CardType, Deck, DeckInfo, Syllabus, Text
from deckgen.plugins import DeckChecker, available_exporters
from deckgen.render import CardRenderer, MediaFile, RenderedCard, RenderedDeck, resolve_inside
from deckgen.rules import Severity
from deckgen.stats import coverage

log = logging.getLogger(__name__)

MAX_ANSWER_WORDS = 60
MAX_CLOZE_WORDS = 80  # a cloze carries its context and its answers in one text
MAX_ANSWER_ITEMS = 6
MAX_MEDIA_BYTES = 1024 * 1024
NEAR_DUPLICATE_SIMILARITY = 0.8

_STOPWORDS = frozenset(
    """a an and are as at be by does do for from how in is it its of on or that the this to was
    what when where which who why with you your""".split()
)
_WORD_RE = re.compile(r"[a-z0-9_]+(?:['.][a-z0-9_]+)*")
# Possessive runs: with plain `\s*\d*\s*` a `{{c` followed by thousands of spaces and no `:` is
# split between the two `\s*` every possible way (0.26 s per 5,000-character line). The runs
# cannot give anything back that the next item could use, so the matches are the same.
_CLOZE_LIKE_RE = re.compile(r"\{\{\s*+[cC]\s*+\d*+\s*+:{1,2}")


@dataclass(frozen=True)
class LintResult:
    deck: Deck
    rendered: RenderedDeck
    diagnostics: tuple[Diagnostic, ...]

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity is Severity.ERROR]

    @property
    def warnings(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity is Severity.WARNING]


# --------------------------------------------------------------------------- field rules


class FieldChecker:
    """Rules that read a field's token stream; the renderer calls it for every field it parses."""

    def __init__(self, sink: DiagnosticSink, root: Path, touched: set[Path]) -> None:
        self.sink = sink
        self.root = root
        self.touched = touched  # files whose existence the findings depend on

    def __call__(self, card: Card, name: str, text: Text, tokens: list[Token]) -> None:
        words = items = 0
        for token in tokens:
            line = text.line + (token.map[0] if token.map else 0)
            where = Location(card.path, line)
            if token.type in ("fence", "code_block"):
                if token.type == "fence" and not token.info.strip():
                    self.sink.report(
                        where,
                        f"code block in card '{card.id}' names no language (write ```rust, "
                        "```go, ```text …)",
                        "DG304",
                    )
                if CLOZE_OPEN_RE.search(token.content):
                    self._cloze_in_code(card, where)
            elif token.type == "list_item_open":
                items += 1
            for child in token.children or ():
                if child.type == "code_inline" and CLOZE_OPEN_RE.search(child.content):
                    self._cloze_in_code(card, where)
                elif child.type == "text":
                    words += len(child.content.split())
                elif child.type == "link_open":
                    self._check_link(card, str(child.attrGet("href") or ""), where)
        if name in ("back", "text"):
            self._check_length(card, name, text, words, items)

    def _cloze_in_code(self, card: Card, where: Location) -> None:
        self.sink.report(
            where,
            f"cloze deletion inside code in card '{card.id}': Anki cannot hide text that the "
            "highlighter has split; move the deletion out of the code",
            "DG303",
        )

    def _check_link(self, card: Card, href: str, where: Location) -> None:
        parts = urlsplit(href)
        if parts.scheme or parts.netloc or not parts.path:
            return
        target = resolve_inside(card.path.parent, parts.path, self.root)
        if target is not None:
            self.touched.add(target)
        if target is None:
            self.sink.report(
                where, f"link '{href}' in card '{card.id}' leaves the cards folder", "DG405"
            )
        elif not target.exists():
            self.sink.report(where, f"broken link '{href}' in card '{card.id}'", "DG403")

    def _check_length(self, card: Card, name: str, text: Text, words: int, items: int) -> None:
        label = "answer" if name == "back" else "cloze text"
        limit = MAX_ANSWER_WORDS if name == "back" else MAX_CLOZE_WORDS
        where = Location(card.path, text.line)
        if words > limit:
            self.sink.report(
                where,
                f"{label} of '{card.id}' has {words} words (limit {limit}): "
                "one fact per card — split it or move background to Extra:",
                "DG310",
            )
        if items > MAX_ANSWER_ITEMS:
            self.sink.report(
                where,
                f"{label} of '{card.id}' has {items} list items (limit {MAX_ANSWER_ITEMS}): "
                "split it into several cards",
                "DG310",
            )


# --------------------------------------------------------------------------- card rules


def check_cloze_syntax(card: Card, sink: DiagnosticSink) -> None:
    """Balanced `{{cN::…}}` in cloze cards; no cloze markup anywhere else."""
    for name, text in card.markdown_fields():
        if name == "source":
            continue
        if card.type is not CardType.CLOZE or name != "text":
            if CLOZE_OPEN_RE.search(text.markdown):
                sink.report(
                    Location(card.path, text.line),
                    f"cloze markup in the {name} of '{card.id}', which is a {card.type.value} "
                    "card: use 'Cloze:' for cloze cards",
                    "DG306",
                )
            continue
        for offset, line in enumerate(text.markdown.split("\n")):
            for match in _CLOZE_LIKE_RE.finditer(line):
                if not CLOZE_OPEN_RE.match(line, match.start()):
                    sink.report(
                        _at(card, text, offset, match.start()),
                        f"malformed cloze '{match.group(0)}' in '{card.id}': write {{{{c1::…}}}}",
                        "DG302",
                    )
        _check_cloze_balance(card, text, sink)


def _at(card: Card, text: Text, line_offset: int, index: int) -> Location:
    """The source location of character `index` on line `line_offset` of a field's Markdown."""
    col = index + (text.col if line_offset == 0 else 1)
    return Location(card.path, text.line + line_offset, col)


def _check_cloze_balance(card: Card, text: Text, sink: DiagnosticSink) -> None:
    opened: list[tuple[int, int]] = []  # (line offset, column) of each open deletion
    numbers = set()
    for offset, line in enumerate(text.markdown.split("\n")):
        for match in re.finditer(r"\{\{c(\d+)::|\}\}", line):
            if match.group(0) == "}}":
                if opened:
                    opened.pop()
                else:
                    sink.report(
                        _at(card, text, offset, match.start()),
                        f"'}}}}' without an opening {{{{c1:: in '{card.id}'",
                        "DG302",
                    )
            else:
                numbers.add(int(match.group(1)))
                opened.append((offset, match.start()))
    for offset, col in opened:
        sink.report(
            _at(card, text, offset, col),
            f"cloze deletion in '{card.id}' is never closed with '}}}}'",
            "DG302",
        )
    if 0 in numbers:
        sink.report(
            Location(card.path, text.line),
            f"'{{{{c0::' in '{card.id}': cloze numbers start at c1",
            "DG302",
        )


def check_card(card: Card, deck: Deck, sink: DiagnosticSink) -> None:
    if not card.sources:
        sink.report(
            card.location,
            f"card '{card.id}' has no Source: — cite an RFC section, official docs or a "
            "primary blog post",
            "DG311",
        )
    topic = deck.syllabus.topic(card.topic)
    if topic is not None and topic.subtopics:
        subtopics = {s.id for s in topic.subtopics}
        if not subtopics.intersection(card.tags):
            sink.report(
                card.location,
                f"card '{card.id}' names no subtopic of '{topic.id}' (one of: "
                f"{', '.join(sorted(subtopics))})",
                "DG211",
            )
    check_cloze_syntax(card, sink)


def check_media_sizes(rendered: RenderedDeck, sink: DiagnosticSink) -> None:
    for media in rendered.media:
        size = media.path.stat().st_size
        if size > MAX_MEDIA_BYTES:
            sink.report(
                Location(media.path),
                f"image is {size / 1024 / 1024:.1f} MiB (limit {MAX_MEDIA_BYTES // 1024} KiB): "
                "shrink or compress it",
                "DG402",
            )


# --------------------------------------------------------------------------- deck rules


def question_words(card: Card) -> list[str]:
    """The normalised words of what a card asks: front, or the cloze text with answers shown."""
    text = card.front or card.text
    if text is None:
        return []
    plain = CLOZE_RE.sub(r"\1", text.markdown).lower()
    return [w for w in _WORD_RE.findall(plain) if w not in _STOPWORDS]


# The similarity join's work for one lint run, counted in index entries probed plus words
# compared when verifying a candidate; 4 million is about 2.5 s. The shipped deck needs 77,
# bench/synth.py's decks 112 thousand (10,000 cards) and 2.9 million (50,000 cards: the count
# grows with the square of the cards sharing words). Questions written to share their rarest
# words reach it with one 128 KiB file, so past it the check stops and says so (DG112).
MAX_NEAR_DUPLICATE_COMPARISONS = 4_000_000


def _question_groups(cards: Iterable[Card]) -> tuple[list[frozenset[str]], list[list[Card]]]:
    """The distinct non-empty question word sets, in the order of the first card asking each,
    and for each the cards asking exactly it (in deck order)."""
    groups: dict[frozenset[str], list[Card]] = {}
    for card in cards:
        words = frozenset(question_words(card))
        if words:
            groups.setdefault(words, []).append(card)
    return list(groups), list(groups.values())


def _similar_sets(
    sets: Sequence[frozenset[str]],
    threshold: float,
    limit: int | None,
    found: Callable[[int, int, float], None],
) -> int | None:
    """Call `found(i, j, similarity)` for each pair of indices into `sets` whose Jaccard
    similarity >= threshold (a callback, so that memory need not grow with the pairs); return
    the index of the set at which `limit` comparisons ran out, or None when the join finished.

    An exact all-pairs similarity join (PPJoin, Xiao et al. 2008) instead of comparing every
    pair: with each set's words ordered rarest first, two sets that reach the threshold must
    share a word among the first `len - ceil(threshold * len) + 1` of each (prefix filter); sets
    are visited by size, so a smaller earlier set cannot match (length filter) and only a shorter
    prefix needs indexing; and the position of a shared prefix word bounds how large the overlap
    can still become (positional filter). Only the survivors are compared in full.
    """
    by_size = sorted(range(len(sets)), key=lambda n: len(sets[n]))  # stable: first asked first
    frequency = Counter(w for words in sets for w in words)
    index: dict[str, list[tuple[int, int]]] = defaultdict(list)  # word -> (visit, position)
    work = 0
    for x, n in enumerate(by_size):
        words = sets[n]
        size = len(words)
        ranked = sorted(words, key=lambda w: (frequency[w], w))
        prefix_length = size - math.ceil(threshold * size) + 1
        # Sets arrive by size, so only a shorter prefix needs indexing (the "mid-prefix").
        index_length = size - math.ceil(2 * threshold / (1 + threshold) * size) + 1
        overlap: dict[int, int] = {}
        for i, word in enumerate(ranked[:prefix_length]):
            entries = index[word]
            work += len(entries)
            if limit is not None and work > limit:
                return n
            for y, j in entries:
                other_size = len(sets[by_size[y]])
                if other_size < threshold * size:  # length filter
                    continue
                seen = overlap.get(y, 0)
                if seen < 0:
                    continue
                needed = math.ceil(threshold / (1 + threshold) * (size + other_size))
                if seen + 1 + min(size - i - 1, other_size - j - 1) >= needed:
                    overlap[y] = seen + 1
                else:
                    overlap[y] = -1  # cannot reach the threshold any more
            if i < index_length:
                entries.append((x, i))
        for y, seen in overlap.items():
            if seen <= 0:
                continue
            other = sets[by_size[y]]
            work += len(other)  # the intersection walks the smaller set, which is `other`
            if limit is not None and work > limit:
                return n
            shared = len(words & other)
            similarity = shared / (size + len(other) - shared)
            if similarity >= threshold:
                found(n, by_size[y], similarity)
    return None


def near_duplicates(
    cards: Iterable[Card], threshold: float = NEAR_DUPLICATE_SIMILARITY
) -> list[tuple[Card, Card, float]]:
    """Every pair (earlier, later, similarity) of cards whose question word sets have Jaccard
    similarity >= threshold, ordered by the later card.

    Not bounded: n cards asking the same question make n² pairs. Lint reports through
    `first_near_duplicates`, which is.
    """
    cards = list(cards)
    position = {id(card): n for n, card in enumerate(cards)}
    sets, groups = _question_groups(cards)
    pairs = [(a, b, 1.0) for group in groups for k, a in enumerate(group) for b in group[k + 1 :]]

    def found(i: int, j: int, similarity: float) -> None:
        for a in groups[i]:
            for b in groups[j]:
                first, second = sorted((a, b), key=lambda c: position[id(c)])
                pairs.append((first, second, similarity))

    _similar_sets(sets, threshold, None, found)
    pairs.sort(key=lambda p: (position[id(p[1])], position[id(p[0])]))
    return pairs


def first_near_duplicates(
    cards: Iterable[Card],
    threshold: float = NEAR_DUPLICATE_SIMILARITY,
    limit: int = MAX_NEAR_DUPLICATE_COMPARISONS,
) -> tuple[list[tuple[Card, Card, float]], Card | None]:
    """At most one finding per card: (earlier, card, similarity) for each card whose question
    is nearly that of an earlier card, ordered by card; and the card at which the join ran out
    of `limit` comparisons (None when it finished).

    A card asking exactly the words of an earlier one is paired with the first card asking
    them (100%); only that first card takes part in the join, so a thousand copies cost one.
    Any other card is paired with the earliest earlier card reaching the threshold.
    """
    cards = list(cards)
    position = {id(card): n for n, card in enumerate(cards)}
    sets, groups = _question_groups(cards)
    earliest: dict[int, tuple[int, float]] = {}  # set -> (earliest similar set, similarity)

    def found(i: int, j: int, similarity: float) -> None:
        first, second = min(i, j), max(i, j)  # sets are numbered in the order first asked
        if second not in earliest or first < earliest[second][0]:
            earliest[second] = (first, similarity)

    stopped = _similar_sets(sets, threshold, limit, found)
    pairs = []
    for n, group in enumerate(groups):
        if n in earliest:
            other, similarity = earliest[n]
            pairs.append((groups[other][0], group[0], similarity))
        pairs.extend((group[0], copy, 1.0) for copy in group[1:])
    pairs.sort(key=lambda p: position[id(p[1])])
    return pairs, (groups[stopped][0] if stopped is not None else None)


def check_near_duplicates(
    deck: Deck, sink: DiagnosticSink, limit: int = MAX_NEAR_DUPLICATE_COMPARISONS
) -> None:
    pairs, stopped = first_near_duplicates(deck.cards, limit=limit)
    for first, second, similarity in pairs:
        sink.report(
            second.location,
            f"question of '{second.id}' is nearly the same as '{first.id}' "
            f"({similarity:.0%} of words shared)",
            "DG301",
            related=[(first.location, f"the question of '{first.id}'")],
        )
    if stopped is not None:
        # An error, not silence: a check that quietly gives up can be made to give up.
        sink.report(
            stopped.location,
            f"too many similar questions to compare: the near-duplicate check stopped at "
            f"'{stopped.id}' after {limit:,} comparisons: questions with as many words as this "
            "one or more may not have been compared (do many cards ask almost the same thing?)",
            "DG112",
        )


def check_coverage(deck: Deck, sink: DiagnosticSink) -> None:
    syllabus_path = deck.syllabus.location.path if deck.syllabus.location else deck.root
    for row in coverage(deck):
        if row.short:
            sink.report(
                Location(syllabus_path, row.line),
                f"{row.kind} '{row.id}' ({row.title}) has {row.have} card"
                f"{'s' if row.have != 1 else ''}, needs {row.need}",
                "DG210",
            )


def check_published_ids(deck: Deck, lock: IdLock, sink: DiagnosticSink) -> None:
    present = {card.id: card for card in deck.cards}
    for card_id in lock.published:
        if card_id not in present and card_id not in lock.retired:
            sink.report(
                Location(lock.path, lock.lines.get(card_id, 0)),
                f"published card '{card_id}' has disappeared: learners' review history hangs on "
                f"it. Restore it, or retire it on purpose with `deckgen retire {card_id} "
                '--reason "…"`',
                "DG501",
            )
    for card_id, card in present.items():
        if card_id in lock.retired:
            sink.report(
                card.location,
                f"card id '{card_id}' was retired ({lock.retired[card_id]}) and must not be "
                "reused: choose a new id",
                "DG502",
            )


# --------------------------------------------------------------------------- entry point


def check_with_exporters(rendered: RenderedDeck, sink: DiagnosticSink, cache: Cache) -> None:
    """Ask the PDF exporter (through the plug-in interface) which cards cannot be printed."""
    exporter = available_exporters().get("pdf")
    checker = exporter() if exporter is not None else None
    if isinstance(checker, DeckChecker):
        checker.check(rendered, sink, cache)


@dataclass(frozen=True)
class FileResult:
    """Everything one card file yields on its own: cached as a unit, keyed by its content."""

    cards: tuple[Card, ...]
    rendered: tuple[RenderedCard, ...]
    media: tuple[MediaFile, ...]
    diagnostics: tuple[Diagnostic, ...]
    stamps: tuple[tuple[str, tuple[int, int] | None], ...]  # other files the result read
    complete: bool = True  # False when the time budget cut the work short: never cached


FILE_BUDGET_SECONDS = 5.0
FILE_BUDGET_ENV = "DECKGEN_FILE_BUDGET_SECONDS"

_T = TypeVar("_T")


class _OverBudget(Exception):
    """Raised by SIGALRM inside work that has used up its time."""


def file_budget() -> float:
    """Seconds of wall time one card file may take: $DECKGEN_FILE_BUDGET_SECONDS, else 5."""
    raw = os.environ.get(FILE_BUDGET_ENV, "").strip()
    if raw:
        try:
            seconds = float(raw)
        except ValueError:
            seconds = math.nan
        if math.isfinite(seconds) and seconds > 0:
            return seconds
        log.warning("ignoring %s=%r: not a positive number of seconds", FILE_BUDGET_ENV, raw)
    return FILE_BUDGET_SECONDS


def within_budget(seconds: float, work: Callable[[], _T]) -> _T | None:
    """`work()`, or None when it took more than `seconds` of wall time.

    A one-shot ITIMER_REAL raises in the middle of whatever runs then; CPython checks signals
    inside long regex matches too (tests/test_attack_dos.py checks that). Signals reach only
    the main thread, so elsewhere (and where there is no setitimer) the work runs unbounded.
    The previous SIGALRM handler is put back afterwards, and a timer someone else had armed is
    resumed with what it had left.
    """
    if threading.current_thread() is not threading.main_thread() or not hasattr(
        signal, "setitimer"
    ):
        return work()
    finished = False

    def expire(_signum: int, _frame: FrameType | None) -> None:
        if not finished:  # the alarm fires once; after the work it has nothing to stop
            raise _OverBudget

    previous = signal.signal(signal.SIGALRM, expire)
    outer_delay, outer_interval = signal.setitimer(signal.ITIMER_REAL, seconds)
    started = time.monotonic()
    try:
        try:
            return work()
        finally:
            finished = True
    except _OverBudget:  # also when the alarm came just after the work, before `finished`
        return None
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, signal.SIG_DFL if previous is None else previous)
        if outer_delay > 0:
            left = outer_delay - (time.monotonic() - started)
            signal.setitimer(signal.ITIMER_REAL, max(left, 1e-6), outer_interval)


def check_file(
    path: Path, data: bytes, info: DeckInfo, syllabus: Syllabus, root: Path
) -> FileResult:
    """Parse, render and check one card file: the part of linting that needs no other file.

    Bounded by `file_budget()`: a file that takes longer yields no cards and one DG112 error,
    however its cost was built (a lexer gone cubic, a parser gone quadratic, …).
    """
    budget = file_budget()
    current: list[Card] = []  # the card being checked, to name it if time runs out
    result = within_budget(budget, lambda: _check_file(path, data, info, syllabus, root, current))
    if result is not None:
        return result
    where = f"card '{current[-1].id}' (line {current[-1].location.line})" if current else "parsing"
    sink = DiagnosticSink()
    sink.report(
        Location(path, 1),
        f"file too expensive to check (over {budget:g} s): stopped in {where}; split the "
        "file, or shorten its longest code block, formula or cloze text",
        "DG112",
    )
    return FileResult(
        cards=(), rendered=(), media=(), diagnostics=tuple(sink.items), stamps=(), complete=False
    )


def _check_file(
    path: Path, data: bytes, info: DeckInfo, syllabus: Syllabus, root: Path, current: list[Card]
) -> FileResult:
    sink = DiagnosticSink()
    cards = parse_card_bytes(path, data, syllabus, sink)
    deck = Deck(info=info, syllabus=syllabus, cards=tuple(cards), root=root)
    renderer = CardRenderer(deck, sink)
    renderer.field_hook = FieldChecker(sink, root, renderer.touched)
    rendered = []
    for card in cards:
        current.append(card)
        rendered.append(renderer.render(card))
        check_card(card, deck, sink)
    return FileResult(
        cards=tuple(cards),
        rendered=tuple(rendered),
        media=tuple(renderer.media.values()),
        diagnostics=tuple(sink.items),
        stamps=tuple(sorted((str(p), file_stamp(p)) for p in renderer.touched)),
    )


def _check_file_job(job: tuple[Path, bytes, DeckInfo, Syllabus, Path]) -> FileResult:
    return check_file(*job)


PARALLEL_MIN_FILES = 48  # below this, starting worker processes costs more than it saves


def check_files(
    cards_dir: Path, info: DeckInfo, syllabus: Syllabus, sink: DiagnosticSink, cache: Cache
) -> list[FileResult]:
    """Every card file's result, from the cache where its inputs are unchanged, else computed
    (in worker processes when there are many)."""
    config = fingerprint(repr(info), repr(syllabus), str(cards_dir), str(cards_dir.resolve()))
    results: dict[int, FileResult] = {}
    jobs: list[tuple[int, str, tuple[Path, bytes, DeckInfo, Syllabus, Path]]] = []
    for index, path in enumerate(card_files(cards_dir)):
        data = read_card_source(path, cards_dir, sink)
        if data is None:
            continue
        key = fingerprint(config, str(path), data)
        cached = cache.get("files", key)
        if isinstance(cached, FileResult) and stamps_match(cached.stamps):
            results[index] = cached
        else:
            jobs.append((index, key, (path, data, info, syllabus, cards_dir)))
    workers = min(os.cpu_count() or 1, 4)
    forking = "fork" in multiprocessing.get_all_start_methods()  # cheap workers on Linux
    if len(jobs) >= PARALLEL_MIN_FILES and workers > 1 and forking:
        context = multiprocessing.get_context("fork")
        with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
            computed = list(pool.map(_check_file_job, [job for _, _, job in jobs], chunksize=8))
    else:
        computed = [check_file(*job) for _, _, job in jobs]
    for (index, key, _), result in zip(jobs, computed, strict=True):
        # A file cut short by its time budget is tried again next run (a faster machine may
        # finish it), so only complete results are cached.
        if result.complete:
            cache.put("files", key, result)
        results[index] = result
    return [results[index] for index in sorted(results)]


def lint_deck(
    cards_dir: Path, *, print_check: bool = False, cache: Cache | None = None
) -> LintResult:
    """Run every rule over the deck in `cards_dir`; never raises for problems in the cards.

    `print_check` lays out the printed cards to find those too long for their cell (DG320).
    Per-file work comes from `cache` (default: the project's cache folder) when unchanged.
    """
    sink = DiagnosticSink()
    cache = cache if cache is not None else Cache.for_cards(cards_dir)
    info, syllabus = read_config(cards_dir, sink)
    lock = read_lock(cards_dir)
    sink.extend(lock.problems)  # reading the record never raises: its problems come here
    files = check_files(cards_dir, info, syllabus, sink, cache) if cards_dir.is_dir() else []
    for result in files:
        sink.extend(result.diagnostics)
    cards = drop_duplicate_ids([c for result in files for c in result.cards], sink)
    kept = {id(card) for card in cards}
    deck = Deck(info=info, syllabus=syllabus, cards=tuple(cards), root=cards_dir)
    media = {m.name: m for result in files for m in result.media}
    rendered = RenderedDeck(
        deck=deck,
        cards=tuple(r for result in files for r in result.rendered if id(r.card) in kept),
        media=tuple(sorted(media.values(), key=lambda m: m.name)),
    )
    check_media_sizes(rendered, sink)
    check_near_duplicates(deck, sink)
    if deck.syllabus.topics:
        check_coverage(deck, sink)
    if lock.exists:
        check_published_ids(deck, lock, sink)
    if print_check and rendered.cards and not sink.errors:
        check_with_exporters(rendered, sink, cache)
    diagnostics = tuple(sorted(sink.items, key=lambda d: (d.location, d.code)))
    log.info("lint: %d files from cache, %d parsed", cache.hits, cache.misses)
    return LintResult(deck=deck, rendered=rendered, diagnostics=diagnostics)
