"""Checking a deck: the pipeline that runs the rules of deckgen.checks, every finding located."""

from __future__ import annotations

import logging
import math
import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import TypeVar

from markdown_it.token import Token

from deckgen.cache import Cache, file_stamp, fingerprint, stamps_match
from deckgen.checks import Field, card_rule, deck_rule, field_rule
from deckgen.errors import Diagnostic, DiagnosticSink, Location
from deckgen.ids import read_lock
from deckgen.load import (
    card_files,
    drop_duplicate_ids,
    parse_card_bytes,
    read_card_source,
    read_config,
)
from deckgen.model import Card, Deck, DeckInfo, Syllabus, Text
from deckgen.plugins import DeckChecker, available_exporters
from deckgen.render import CardRenderer, MediaFile, RenderedCard, RenderedDeck
from deckgen.rules import Severity

log = logging.getLogger(__name__)


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
    field_rules, card_rules = field_rule.bound(sink), card_rule.bound(sink)

    def check_field(card: Card, name: str, text: Text, tokens: list[Token]) -> None:
        field = Field(card, name, text, tokens, root, renderer.touched)
        for check, reporting in field_rules:
            check(field, reporting)

    renderer.field_hook = check_field
    rendered = []
    for card in cards:
        current.append(card)
        rendered.append(renderer.render(card))
        for check, reporting in card_rules:
            check(card, deck, reporting)
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
    for check, reporting in deck_rule.bound(sink):
        check(rendered, lock, reporting)
    if print_check and rendered.cards and not sink.errors:
        check_with_exporters(rendered, sink, cache)
    diagnostics = tuple(sorted(sink.items, key=lambda d: (d.location, d.code)))
    log.info("lint: %d files from cache, %d parsed", cache.hits, cache.misses)
    return LintResult(deck=deck, rendered=rendered, diagnostics=diagnostics)
