"""The compile stage: each card file on its own, parsed, rendered to HTML and checked by the
field and card rules of deckgen.checks.

Rendering belongs here, before any selection, because checks need it: images are resolved and
refused, raw HTML and links are vetted, and MathJax delimiters are checked on the HTML each
cloze face shows. A file's result (its cards, their HTML, its media and its findings) depends
on nothing but its bytes, the deck's configuration and the files it names, so it is cached by
those; files are compiled in worker processes when there are many, each under a time budget.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import TypeVar

from markdown_it.token import Token

from deckgen.cache import Cache, file_stamp, fingerprint, stamps_match
from deckgen.checks import Field, card_rule, field_rule
from deckgen.errors import DeckgenError, Diagnostic, DiagnosticSink, Location
from deckgen.history import ReleaseRecord
from deckgen.ids import IdLock
from deckgen.load import Sources, drop_duplicate_ids, load_sources, parse_card_bytes
from deckgen.model import Card, Deck, DeckInfo, Syllabus, Text
from deckgen.render import CardRenderer, MediaFile, RenderedCard, RenderedDeck
from deckgen.rules import Severity
from deckgen.status import NO_STATUS, Status

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FileResult:
    """Everything one card file yields on its own: cached as a unit, keyed by its content."""

    cards: tuple[Card, ...]
    rendered: tuple[RenderedCard, ...]
    media: tuple[MediaFile, ...]
    diagnostics: tuple[Diagnostic, ...]
    stamps: tuple[tuple[str, tuple[int, int] | None], ...]  # other files the result read
    complete: bool = True  # False when the time budget cut the work short: never cached
    unchecked: tuple[str, ...] = ()  # ids of the cards of a file that failed as a whole


@dataclass(frozen=True)
class CardResult:
    """What one card yields once its file is parsed: kept per card, so that editing one card
    of a large file renders and checks only that card again (see `card_key`)."""

    rendered: RenderedCard
    media: tuple[MediaFile, ...]
    diagnostics: tuple[Diagnostic, ...]  # of its field and card rules
    stamps: tuple[tuple[str, tuple[int, int] | None], ...]  # other files its result read


CardResults = dict[str, CardResult]  # card_key -> result, for the cards of one file


def card_key(card: Card) -> str:
    """Everything a card's result depends on besides the deck's configuration: all its fields,
    its place (line numbers are in its messages) and its type's key (the type's definition is
    deckgen's code, in every fingerprint)."""
    parts = (getattr(card, f.name) for f in dataclasses.fields(card) if f.name != "type")
    return fingerprint(card.type.key, repr(tuple(parts)))


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


def compile_file(
    path: Path,
    data: bytes,
    info: DeckInfo,
    syllabus: Syllabus,
    root: Path,
    previous: CardResults | None = None,
) -> tuple[FileResult, CardResults]:
    """Parse, render and check one card file (its field and card rules): all that needs no
    other card file. A card whose `card_key` is in `previous` (and whose other files are
    unchanged) is taken from there; the second value is every card's result, to keep.

    Bounded by `file_budget()`: a file that takes longer yields no cards and one DG112 error,
    however its cost was built (a lexer gone cubic, a parser gone quadratic, …).
    """
    budget = file_budget()
    current: list[Card] = []  # the card being checked, to name it if time runs out
    result = within_budget(
        budget, lambda: _compile_file(path, data, info, syllabus, root, current, previous or {})
    )
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
    failed = FileResult(
        cards=(), rendered=(), media=(), diagnostics=tuple(sink.items), stamps=(), complete=False
    )
    return failed, {}


def _compile_file(
    path: Path,
    data: bytes,
    info: DeckInfo,
    syllabus: Syllabus,
    root: Path,
    current: list[Card],
    previous: CardResults,
) -> tuple[FileResult, CardResults]:
    sink = DiagnosticSink()
    unchecked: list[tuple[str, int]] = []
    cards = parse_card_bytes(path, data, syllabus, sink, unchecked)
    if unchecked:
        failed = FileResult(
            cards=(),
            rendered=(),
            media=(),
            diagnostics=_with_unchecked_note(path, sink.items, unchecked),
            stamps=(),
            unchecked=tuple(card_id for card_id, _ in unchecked),
        )
        return failed, {}
    deck = Deck(info=info, syllabus=syllabus, cards=tuple(cards), root=root)
    renderer = CardRenderer(deck, sink)
    field_rules, card_rules = field_rule.bound(sink), card_rule.bound(sink)

    def check_field(card: Card, name: str, text: Text, tokens: list[Token]) -> None:
        field = Field(card, name, text, tokens, root, renderer.touched)
        for check, reporting in field_rules:
            check(field, reporting)

    def compute(card: Card) -> CardResult:
        renderer.touched = set()  # what this card reads; Field adds its link targets too
        start = len(sink.items)
        rendered = renderer.render(card)
        for check, reporting in card_rules:
            check(card, deck, reporting)
        return CardResult(
            rendered=rendered,
            media=tuple(renderer.media[name] for name in rendered.media),
            diagnostics=tuple(sink.items[start:]),
            stamps=tuple(sorted((str(p), file_stamp(p)) for p in renderer.touched)),
        )

    renderer.field_hook = check_field
    results: CardResults = {}
    media: dict[str, MediaFile] = {}
    for card in cards:
        current.append(card)
        key = card_key(card)
        kept = previous.get(key)
        if kept is not None and stamps_match(kept.stamps):
            sink.extend(kept.diagnostics)
        else:
            kept = compute(card)
        results[key] = kept
        media.update((m.name, m) for m in kept.media)
    file_stamps = {name: stamp for r in results.values() for name, stamp in r.stamps}
    done = FileResult(
        cards=tuple(r.rendered.card for r in results.values()),
        rendered=tuple(r.rendered for r in results.values()),
        media=tuple(media.values()),
        diagnostics=tuple(sink.items),
        stamps=tuple(sorted(file_stamps.items())),
    )
    return done, results


def _with_unchecked_note(
    path: Path, diagnostics: list[Diagnostic], unchecked: list[tuple[str, int]]
) -> tuple[Diagnostic, ...]:
    """The file's diagnostics, its first error noting that its cards were not checked (the
    deck rules leave them alone rather than report each as missing)."""
    count = len(unchecked)
    note = (
        f"{count} card{'s' if count != 1 else ''} of this file not checked, nor the coverage "
        "of their topics, until this is fixed"
    )
    out = list(diagnostics)
    for index, diagnostic in enumerate(out):
        if diagnostic.severity is Severity.ERROR:
            where = Location(path, unchecked[0][1])
            out[index] = dataclasses.replace(
                diagnostic, related=(*diagnostic.related, (where, note))
            )
            break
    return tuple(out)


Job = tuple[Path, bytes, DeckInfo, Syllabus, Path, CardResults | None]


def _compile_file_job(job: Job) -> tuple[FileResult, CardResults]:
    return compile_file(*job)


# Below this much Markdown to compile, starting worker processes costs more than it saves
# (a forked worker is ready in milliseconds; each file's result comes back pickled).
PARALLEL_MIN_BYTES = 64 * 1024


def parallel_workers(jobs: Sequence[Job]) -> int:
    """How many processes compile these files: one, unless there is enough work for more
    and workers can be forked (Linux) rather than started afresh."""
    workers = min(os.cpu_count() or 1, 4, len(jobs))
    if workers < 2 or "fork" not in multiprocessing.get_all_start_methods():
        return 1
    return workers if sum(len(job[1]) for job in jobs) >= PARALLEL_MIN_BYTES else 1


def _compile_files(sources: Sources, cache: Cache, status: Status) -> list[tuple[FileResult, str]]:
    """Every card file's result, from the cache where its inputs are unchanged, else computed
    (in worker processes when there is enough to compile), each with its digest: its cache key
    and the stamps of the other files it read, which together decide all it holds."""
    root, info, syllabus = sources.root, sources.info, sources.syllabus
    config = fingerprint(repr(info), repr(syllabus), str(root), str(root.resolve()))
    results: dict[int, tuple[FileResult, str]] = {}
    jobs: list[tuple[int, str, Job]] = []
    for index, (path, data) in enumerate(sources.files):
        key = fingerprint(config, str(path), data)
        cached = cache.get("files", key)
        if isinstance(cached, FileResult) and stamps_match(cached.stamps):
            results[index] = cached, fingerprint(key, repr(cached.stamps))
        else:
            previous = cache.get("cards", fingerprint(config, str(path)), counted=False)
            kept = previous if isinstance(previous, dict) else None
            jobs.append((index, key, (path, data, info, syllabus, root, kept)))
    work = [job for _, _, job in jobs]
    label = "compiling card files"
    done: dict[int, tuple[FileResult, CardResults]] = {}
    workers = parallel_workers(work)
    if workers > 1:
        # Largest files first, one at a time: the workers finish together (map keeps order).
        order = sorted(range(len(work)), key=lambda i: -len(work[i][1]))
        context = multiprocessing.get_context("fork")
        with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
            results_in_order = pool.map(_compile_file_job, [work[i] for i in order])
            for i, computed_file in zip(order, results_in_order, strict=True):
                done[i] = computed_file
                status.count(label, len(done), len(work))
    else:
        for i, job in enumerate(work):
            done[i] = compile_file(*job)
            status.count(label, len(done), len(work))
    computed = [done[i] for i in range(len(work))]
    for (index, key, job), (result, per_card) in zip(jobs, computed, strict=True):
        # A file cut short by its time budget is tried again next run (a faster machine may
        # finish it), so only complete results are cached.
        if result.complete:
            cache.put("files", key, result)
        if per_card:  # the cards of this file as they are now, for the next edit of it
            cache.put("cards", fingerprint(config, str(job[0])), per_card)
        results[index] = result, fingerprint(key, repr(result.stamps))
    log.info("compile: %d files from cache, %d compiled", len(results) - len(jobs), len(jobs))
    return [results[index] for index in sorted(results)]


@dataclass(frozen=True)
class CompiledDeck:
    """The deck as the compile stage leaves it: every good card parsed and rendered, with the
    media the cards use, the record of published ids, and every problem found so far."""

    rendered: RenderedDeck
    lock: IdLock
    history: ReleaseRecord
    diagnostics: tuple[Diagnostic, ...]  # loading's and compiling's, unsorted
    unchecked: frozenset[str] = frozenset()  # ids of cards in files that failed as a whole
    # card file -> a digest of everything its cards hold (for work done on them later, cached)
    file_digests: Mapping[Path, str] = dataclasses.field(default_factory=dict)

    @property
    def deck(self) -> Deck:
        return self.rendered.deck


def compile_deck(sources: Sources, cache: Cache, status: Status = NO_STATUS) -> CompiledDeck:
    """Compile every card file that load read; keep the first card of each id. `status` is
    told how many of the files to compile are done."""
    sink = DiagnosticSink()
    sink.extend(sources.diagnostics)
    digested = _compile_files(sources, cache, status)
    files = [result for result, _ in digested]
    for result in files:
        sink.extend(result.diagnostics)
    cards = drop_duplicate_ids([c for result in files for c in result.cards], sink)
    kept = {id(card) for card in cards}
    deck = Deck(info=sources.info, syllabus=sources.syllabus, cards=tuple(cards), root=sources.root)
    media = {m.name: m for result in files for m in result.media}
    rendered = RenderedDeck(
        deck=deck,
        cards=tuple(r for result in files for r in result.rendered if id(r.card) in kept),
        media=tuple(sorted(media.values(), key=lambda m: m.name)),
    )
    return CompiledDeck(
        rendered=rendered,
        lock=sources.lock,
        history=sources.history,
        diagnostics=tuple(sink.items),
        unchecked=frozenset(card_id for result in files for card_id in result.unchecked),
        file_digests={
            path: digest for (path, _), (_, digest) in zip(sources.files, digested, strict=True)
        },
    )


def load_deck(cards_dir: Path, cache: Cache | None = None) -> Deck:
    """The deck's cards by the one loading path (load, then compile; cached), for the commands
    that need the cards but not the deck rules (stats, new, lock); raise DeckgenError listing
    every problem loading or compiling found."""
    cache = cache if cache is not None else Cache.for_cards(cards_dir)
    compiled = compile_deck(load_sources(cards_dir), cache)
    errors = [d for d in compiled.diagnostics if d.severity is Severity.ERROR]
    if errors:
        raise DeckgenError(errors)
    return compiled.deck
