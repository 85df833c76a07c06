"""The pipeline's shape: rules registered by code, and findings located where they are written."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from deckgen import checks
from deckgen.build import build
from deckgen.cache import Cache
from deckgen.checks.registry import Registry
from deckgen.cli import cli
from deckgen.errors import DeckgenError, DiagnosticSink, Location
from deckgen.lint import lint_deck
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


# --------------------------------------------------------------------------- inline locations

FRONT = "---\ntopic: tcp\n---\n\n## tcp-one\nQ: What?\n\n"  # the answer starts on line 8


def located(cards: Path, code: str) -> list[str]:
    """`path:line:col: message` of every finding of `code`, as lint (and build) report it."""
    return [
        f"{d.location.display(cards.parent)}: {d.message}"
        for d in lint_deck(cards, cache=Cache(None)).diagnostics
        if d.code == code
    ]


@pytest.mark.parametrize(
    ("third_line", "code", "expected"),
    [
        (
            "and [the spec](missing.md) says so",
            "DG403",
            "cards/net/one.md:10:5: broken link 'missing.md' in card 'tcp-one'",
        ),
        (
            "see [x](javascript:alert(1))",
            "DG404",
            "cards/net/one.md:10:5: unsafe link in card 'tcp-one': URL scheme 'javascript:' is "
            "not allowed (use https:)",
        ),
        (
            "as drawn: ![diagram](img/none.png)",
            "DG401",
            "cards/net/one.md:10:11: missing image 'img/none.png' in card 'tcp-one'",
        ),
        (
            "or ![x](../../../etc/passwd)",
            "DG405",
            "cards/net/one.md:10:4: image '../../../etc/passwd' is outside the cards folder",
        ),
        (
            "click <b onclick=x()>here</b>",
            "DG404",
            "cards/net/one.md:10:7: unsafe HTML in card 'tcp-one': event-handler attribute "
            "'onclick' on <b> is not allowed",
        ),
        (
            "then [up](../../outside.md)",
            "DG405",
            "cards/net/one.md:10:6: link '../../outside.md' in card 'tcp-one' leaves the cards "
            "folder",
        ),
    ],
)
def test_an_inline_problem_points_at_its_own_line_and_column(
    sample_cards: Path,
    write_card: Callable[[str, str], Path],
    third_line: str,
    code: str,
    expected: str,
) -> None:
    write_card("net/one.md", f"{FRONT}A: The first line,\nthe second,\n{third_line}.\n")
    assert located(sample_cards, code) == [expected]


def test_inline_code_with_a_cloze_is_located_in_a_cloze_paragraph(
    sample_cards: Path, write_card: Callable[[str, str], Path]
) -> None:
    write_card(
        "net/one.md",
        "---\ntopic: tcp\n---\n\n## tcp-one\nCloze: The {{c1::SYN}} comes first,\n"
        "then the SYN-ACK,\nthen `{{c2::ACK}}` in code.\n",
    )
    assert located(sample_cards, "DG303") == [
        "cards/net/one.md:8:6: cloze deletion inside code in card 'tcp-one': Anki cannot hide "
        "text that the highlighter has split; move the deletion out of the code"
    ]


def test_inline_problems_in_containers_and_on_the_first_line(
    sample_cards: Path, write_card: Callable[[str, str], Path]
) -> None:
    write_card(
        "net/one.md",
        f"{FRONT}A: ![a](img/a.png) first\n\n> quoted\n> ![b](img/b.png)\n\n"
        "- one\n  - two ![c](img/c.png)\n\n| x | y |\n|---|---|\n| 1 | ![d](img/d.png) |\n",
    )
    assert [line.split(": ")[0] for line in located(sample_cards, "DG401")] == [
        "cards/net/one.md:8:4",  # after 'A: '
        "cards/net/one.md:11:3",  # after '> '
        "cards/net/one.md:14:9",  # in a nested list item
        "cards/net/one.md:18:7",  # in a table cell
    ]


def test_the_command_line_prints_the_column(
    sample_cards: Path, write_card: Callable[[str, str], Path]
) -> None:
    write_card("net/one.md", f"{FRONT}A: One,\ntwo,\nthree [x](missing.md).\n")
    result = CliRunner().invoke(cli, ["lint", "--cards", str(sample_cards), "--no-cache"])
    assert result.exit_code == 1
    assert "one.md:10:7: DG403 [error] broken link 'missing.md'" in result.output


# --------------------------------------------------------------------------- the pipeline


def test_a_bad_card_outside_the_selection_still_stops_the_build(
    sample_cards: Path, write_card: Callable[[str, str], Path], tmp_path: Path
) -> None:
    """Why the compile stage renders every card, not only the selected ones: a card is checked
    on its HTML, and any bad card stops the build."""
    write_card("net/one.md", f"{FRONT}A: ![x](img/none.png)\n")
    with pytest.raises(DeckgenError) as error:
        build(sample_cards, tmp_path / "dist", formats=["json"], include=["rust"])
    assert [d.code for d in error.value.diagnostics] == ["DG401"]
    assert not (tmp_path / "dist").exists()


def test_the_build_exports_only_the_selected_cards_and_their_media(
    sample_cards: Path, tmp_path: Path
) -> None:
    everything = build(sample_cards, tmp_path / "all", formats=["json"]).deck
    result = build(sample_cards, tmp_path / "dist", formats=["json"], include=["net"])
    assert (
        {c.card.section for c in result.deck.cards}
        == {"net"}
        != {c.card.section for c in everything.cards}
    )
    assert result.deck.deck.cards == tuple(c.card for c in result.deck.cards)
    used = {name for c in result.deck.cards for name in c.media}
    assert used and {m.name for m in result.deck.media} == used
    rust_only = build(sample_cards, tmp_path / "rust", formats=["json"], include=["rust"]).deck
    assert everything.media and not rust_only.media  # the image is used by a TCP card only
