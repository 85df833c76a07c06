"""The pipeline's shape: rules registered by code, and findings located where they are written."""

from __future__ import annotations

from pathlib import Path

import pytest

from deckgen import checks
from deckgen.checks.registry import Registry
from deckgen.errors import DiagnosticSink, Location
from deckgen.rules import RULES


def test_every_registered_rule_is_in_the_catalogue_once() -> None:
    registered = [
        code
        for registry in (checks.field_rule, checks.card_rule, checks.deck_rule)
        for rule in registry
        for code in rule.codes
    ]
    assert set(registered) <= set(RULES)
    own = [
        rule.code
        for registry in (checks.field_rule, checks.card_rule, checks.deck_rule)
        for rule in registry
    ]
    assert len(own) == len(set(own))
    assert {rule.name for rule in checks.deck_rule} >= {"near-duplicate", "coverage"}


def test_a_rule_reports_only_its_own_codes() -> None:
    registry: Registry[checks.DeckRule] = Registry("deck")

    @registry("DG301")
    def wrong(rendered: object, lock: object, sink: DiagnosticSink) -> None:
        sink.report(Location(Path("x")), "not mine", "DG302")

    sink = DiagnosticSink()
    ((check, reporting),) = registry.bound(sink)
    with pytest.raises(AssertionError, match="DG301 reported DG302"):
        check(None, None, reporting)  # type: ignore[arg-type]


def test_unknown_or_repeated_codes_are_refused() -> None:
    registry: Registry[checks.CardRule] = Registry("card")
    with pytest.raises(ValueError, match=r"not in deckgen\.rules"):
        registry("DG999")
    registry("DG311")(lambda card, deck, sink: None)
    with pytest.raises(ValueError, match="registered twice"):
        registry("DG311")
