"""The check stage: every deck rule of deckgen.checks over the compiled deck, and, when asked,
the checks only an output format can make (print overflow), asked of the installed exporters
through the plug-in interface (deckgen.plugins.DeckChecker) without importing any of them."""

from __future__ import annotations

from dataclasses import dataclass

from deckgen.cache import Cache
from deckgen.checks import deck_rule
from deckgen.checks.registry import Records
from deckgen.compile import CompiledDeck
from deckgen.errors import Diagnostic, DiagnosticSink
from deckgen.model import Deck
from deckgen.plugins import DeckChecker, available_exporters
from deckgen.render import RenderedDeck
from deckgen.rules import Severity


@dataclass(frozen=True)
class CheckedDeck:
    """The compiled deck and everything found in it: loading, compiling and checking."""

    compiled: CompiledDeck
    diagnostics: tuple[Diagnostic, ...]  # sorted by place, then code

    @property
    def deck(self) -> Deck:
        return self.compiled.deck

    @property
    def rendered(self) -> RenderedDeck:
        return self.compiled.rendered

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity is Severity.ERROR]

    @property
    def warnings(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity is Severity.WARNING]


def check_with_exporters(rendered: RenderedDeck, sink: DiagnosticSink, cache: Cache) -> None:
    """Ask the PDF exporter (through the plug-in interface) which cards cannot be printed."""
    exporter = available_exporters().get("pdf")
    checker = exporter() if exporter is not None else None
    if isinstance(checker, DeckChecker):
        checker.check(rendered, sink, cache)


def check_deck(
    compiled: CompiledDeck, *, print_check: bool = False, cache: Cache | None = None
) -> CheckedDeck:
    """Run every deck rule; never raises for problems in the cards.

    `print_check` also lays out the printed cards to find those too long for their cell
    (DG320), once nothing else is wrong; the layouts are cached in `cache`, as is the last
    near-duplicate join (a rebuild compares only the questions it did not see).
    """
    sink = DiagnosticSink()
    sink.extend(compiled.diagnostics)
    cache = cache if cache is not None else Cache(None)
    records = Records(compiled.lock, compiled.history, compiled.unchecked, cache)
    for check, reporting in deck_rule.bound(sink):
        check(compiled.rendered, records, reporting)
    if print_check and compiled.rendered.cards and not sink.errors:
        check_with_exporters(compiled.rendered, sink, cache)
    diagnostics = tuple(sorted(sink.items, key=lambda d: (d.location, d.code)))
    return CheckedDeck(compiled=compiled, diagnostics=diagnostics)
