"""A deck's `language:` reaches the site's `lang`, the PDFs' language and hyphenation, and JSON."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from deckgen.build import build
from deckgen.cache import Cache
from deckgen.compile import compile_deck
from deckgen.exporters.pdf import print_options
from deckgen.lint import lint_deck
from deckgen.load import load_sources
from deckgen.printing import cards_page, print_cards, sheet_page


def set_language(cards: Path, value: str) -> None:
    deck = cards / "deck.yaml"
    deck.write_text(deck.read_text() + f"language: {value}\n", encoding="utf-8")


def test_a_language_reaches_every_format(
    sample_cards: Path, tmp_path: Path, epoch: Callable[[int], None]
) -> None:
    set_language(sample_cards, "pt-BR")
    out = tmp_path / "dist"
    build(sample_cards, out, formats=["html", "json"])
    page = (out / "sample-deck-site" / "index.html").read_text()
    assert '<html lang="pt-BR">' in page
    assert json.loads((out / "sample-deck.json").read_text())["deck"]["language"] == "pt-BR"

    rendered = compile_deck(load_sources(sample_cards), Cache(None)).rendered
    cards = print_cards(rendered)
    for source in (
        cards_page(rendered, cards, print_options({}), 1_700_000_000).text,
        sheet_page(rendered, cards, print_options({}), 1_700_000_000).text,
    ):
        assert 'lang: "pt", region: "BR", hyphenate: true' in source


def test_english_is_the_default(sample_cards: Path, tmp_path: Path) -> None:
    rendered = compile_deck(load_sources(sample_cards), Cache(None)).rendered
    assert rendered.deck.info.language == "en"
    source = cards_page(rendered, print_cards(rendered), print_options({}), 1_700_000_000).text
    assert 'lang: "en", hyphenate: true' in source


@pytest.mark.parametrize("value", ['"en\\" onload=\\"x"', "english", "EN", "pt_BR", "[en]"])
def test_a_language_that_is_not_a_tag_is_refused_at_its_line(
    sample_cards: Path, value: str
) -> None:
    set_language(sample_cards, value)
    line = len((sample_cards / "deck.yaml").read_text().splitlines())
    errors = lint_deck(sample_cards).errors
    assert [d.code for d in errors] == ["DG110"]
    assert [d.display(sample_cards.parent) for d in errors] == [
        f"cards/deck.yaml:{line}:1: "
        + (
            "'language' must be a string"  # the schema's check: a list is not a tag
            if value == "[en]"
            else "deck 'language' must be a language tag such as en, es, pt-BR or zh-Hant-TW"
        )
    ]
