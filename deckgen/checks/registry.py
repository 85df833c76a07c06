"""The rule registry: every check over loaded cards is one function, registered with its code.

A rule is registered for what it looks at, which is also when the pipeline runs it:

* `@field_rule(code)`: one field's Markdown tokens, run by the compile stage as each field is
  rendered (cached with the file);
* `@card_rule(code)`: one card, run by the compile stage after the card is rendered;
* `@deck_rule(code)`: the whole compiled deck (and the records of earlier releases), run by
  the check stage.

The code names the rule in the catalogue (deckgen.rules), where its name and severity are; a
rule may report only the codes it was registered with (checked whenever assertions run).
Problems found while reading or rendering (a YAML error, an unsafe image) are reported by the
loader and the renderer themselves: they are not rules over cards but refusals to read them.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Generic, TypeVar

from markdown_it.token import Token

from deckgen.cache import Cache
from deckgen.errors import DiagnosticSink, Location
from deckgen.history import ReleaseRecord
from deckgen.ids import IdLock
from deckgen.model import Card, Deck, Text
from deckgen.render import FieldPlaces, RenderedDeck
from deckgen.rules import RULES


@dataclass(frozen=True)
class Field:
    """One field of a card as its field rules see it: the Markdown and its parsed tokens."""

    card: Card
    name: str  # "front", "back", "text" or "extra"
    text: Text
    tokens: list[Token]
    root: Path  # the cards folder
    touched: set[Path]  # a rule adds every other file its findings depend on, for the cache

    @functools.cached_property
    def _places(self) -> FieldPlaces:
        return FieldPlaces(self.card, self.text)

    def where(self, token: Token, child: Token | None = None) -> Location:
        """Where a block token of this field (its first line), or an inline `child` of it (its
        own line and column), is in the card file."""
        return self._places.of(token, child)


@dataclass(frozen=True)
class Records:
    """What earlier releases left for the deck rules: the published and retired ids, and the
    release history (what each release shipped)."""

    lock: IdLock
    history: ReleaseRecord
    unchecked: frozenset[str] = frozenset()  # ids of cards in files that failed as a whole
    cache: Cache | None = None  # for a rule whose work carries over from the last run


FieldRule = Callable[[Field, DiagnosticSink], None]
CardRule = Callable[[Card, Deck, DiagnosticSink], None]
DeckRule = Callable[[RenderedDeck, Records, DiagnosticSink], None]

R = TypeVar("R", FieldRule, CardRule, DeckRule)


class _RuleSink(DiagnosticSink):
    """The sink a rule reports to: the pipeline's own, refusing codes the rule was not
    registered with (a finding under a wrong code would be documented and counted wrongly)."""

    def __init__(self, target: DiagnosticSink, codes: tuple[str, ...]) -> None:
        super().__init__()
        self.items = target.items
        self.codes = codes

    def report(
        self,
        location: Location,
        message: str,
        code: str,
        related: Sequence[tuple[Location, str]] = (),
    ) -> None:
        assert code in self.codes, f"rule {self.codes[0]} reported {code}, not its own code"
        super().report(location, message, code, related)


@dataclass(frozen=True)
class Registered(Generic[R]):
    """A rule function and the codes it reports: its own first, then any it may also report."""

    codes: tuple[str, ...]
    check: R

    @property
    def code(self) -> str:
        return self.codes[0]

    @property
    def name(self) -> str:
        return RULES[self.code].name

    def reporting_to(self, sink: DiagnosticSink) -> DiagnosticSink:
        return _RuleSink(sink, self.codes)


class Registry(Generic[R]):
    """The rules of one scope, in the order they were registered."""

    def __init__(self, scope: str) -> None:
        self.scope = scope
        self._rules: list[Registered[R]] = []

    def __call__(self, code: str, *also: str) -> Callable[[R], R]:
        """Register the decorated function as the rule `code` (reporting also `also`)."""
        codes = (code, *also)
        for each in codes:
            if each not in RULES:
                raise ValueError(f"rule code {each!r} is not in deckgen.rules")
        if any(registered.code == code for registered in self._rules):
            raise ValueError(f"rule {code} is registered twice")

        def register(check: R) -> R:
            self._rules.append(Registered(codes, check))
            return check

        return register

    def __iter__(self) -> Iterator[Registered[R]]:
        return iter(self._rules)

    def bound(self, sink: DiagnosticSink) -> list[tuple[R, DiagnosticSink]]:
        """Each rule with the sink it reports to, made once for a run over many cards."""
        return [(rule.check, rule.reporting_to(sink)) for rule in self._rules]


field_rule: Registry[FieldRule] = Registry("field")
card_rule: Registry[CardRule] = Registry("card")
deck_rule: Registry[DeckRule] = Registry("deck")
