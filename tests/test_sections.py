"""Sections, the optional syllabus level above topics: a deck without them (a language deck)
builds to every format, a deck names them in its outputs (deck.yaml's `section:`), and the
keys they had before (`rounds:`, `round:`) are near-misses, never silently ignored."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from pypdf import PdfReader

from deckgen.build import build
from deckgen.cli import cli
from deckgen.compile import load_deck
from deckgen.errors import DeckgenError
from tests.ankiutil import import_package, open_collection
from tests.conftest import without_sections


def messages(cards: Path) -> list[str]:
    with pytest.raises(DeckgenError) as info:
        load_deck(cards)
    return [d.display(cards.parent) for d in info.value.diagnostics]


def test_a_deck_without_sections_builds_to_anki_as_deck_then_topic(
    sample_cards: Path, tmp_path: Path
) -> None:
    without_sections(sample_cards)
    assert "section" not in (sample_cards / "syllabus.yaml").read_text()
    result = build(sample_cards, tmp_path / "dist", formats=["apkg", "html", "pdf"])
    package = next(p for p in result.paths if p.suffix == ".apkg")
    col = open_collection(tmp_path / "anki")
    try:
        import_package(col, package)
        names = {col.decks.name(col.get_card(c).did) for c in col.find_cards("")}
        assert names == {"Sample Deck::TCP", "Sample Deck::DNS", "Sample Deck::Rust"}
        tags = {t for n in col.find_notes("") for t in col.get_note(n).tags}
        assert {t for t in tags if t.startswith("topic::")} == {
            "topic::tcp",
            "topic::dns",
            "topic::rust",
        }
        assert not [t for t in tags if t.startswith(("round::", "section::"))], tags
    finally:
        col.close()

    page = (tmp_path / "dist" / "sample-deck-site" / "index.html").read_text()
    assert 'id="filter-section"' not in page and "All sections" not in page
    assert 'class="section"' not in page and 'data-section=""' in page
    assert '<section class="topic" data-topic="tcp" data-group="0">\n    <h2>TCP</h2>' in page

    sheet = PdfReader(next(p for p in result.paths if p.name.endswith("-sheet-a4.pdf")))
    top = [item.title for item in sheet.outline if not isinstance(item, list)]
    assert top == ["TCP", "DNS", "Rust"]  # topics at the top, no section level


def test_a_deck_names_its_sections_in_the_site_and_the_anki_tags(
    sample_cards: Path, tmp_path: Path
) -> None:
    deck = sample_cards / "deck.yaml"
    deck.write_text(deck.read_text().split("section:\n")[0] + "section: {label: Unit}\n")
    (site,) = build(sample_cards, tmp_path / "dist", formats=["html"]).paths
    page = (site / "index.html").read_text()
    assert "<label>Unit\n" in page and '<option value="">All units</option>' in page
    assert '<section class="section" data-section="net">' in page
    assert "unit::net" in page and "round::" not in page and "section::" not in page
    loaded = load_deck(sample_cards)
    assert (loaded.info.section.plural, loaded.info.section.tag) == ("Units", "unit")


def test_the_default_names_are_section(sample_cards: Path, tmp_path: Path) -> None:
    deck = sample_cards / "deck.yaml"
    deck.write_text(deck.read_text().split("section:\n")[0])
    (site,) = build(sample_cards, tmp_path / "dist", formats=["html"]).paths
    page = (site / "index.html").read_text()
    assert "<label>Section\n" in page and '<option value="">All sections</option>' in page
    assert "section::net" in page and "round::" not in page


def test_section_tag_prefix_selects_like_the_id(sample_cards: Path, tmp_path: Path) -> None:
    by_prefix = build(sample_cards, tmp_path / "a", formats=["json"], include=["round::net"])
    by_id = build(sample_cards, tmp_path / "b", formats=["json"], include=["net"])
    assert [p.name for p in by_prefix.paths] == [p.name for p in by_id.paths]
    assert by_prefix.paths[0].read_bytes() == by_id.paths[0].read_bytes()


@pytest.mark.parametrize(
    ("file", "old", "new", "expected"),
    [
        pytest.param(
            "syllabus.yaml",
            "sections:\n",
            "rounds:\n",
            "cards/syllabus.yaml:1:1: unknown key 'rounds' in syllabus.yaml "
            "(did you mean 'sections'?)",
            id="syllabus-rounds",
        ),
        pytest.param(
            "syllabus.yaml",
            "    sections: [lang]\n",
            "    rounds: [lang]\n",
            "cards/syllabus.yaml:18:5: unknown key 'rounds' in 'topics[3]' "
            "(did you mean 'sections'?)",
            id="topic-rounds",
        ),
        pytest.param(
            "net/dns.md",
            "section: net\n",
            "round: net\n",
            "cards/net/dns.md:3: unknown front-matter key 'round' (did you mean 'section'?) "
            "(known keys: section, tags, topic)",
            id="front-matter-round",
        ),
    ],
)
def test_the_old_keys_are_near_misses(
    sample_cards: Path, file: str, old: str, new: str, expected: str
) -> None:
    path = sample_cards / file
    assert old in path.read_text()
    path.write_text(path.read_text().replace(old, new, 1))
    found = messages(sample_cards)
    assert expected in [re.sub(r" \(cards/\S+: \d+ cards? of this file.*\)$", "", m) for m in found]


def test_the_topic_of_a_syllabus_with_sections_must_name_its_sections(sample_cards: Path) -> None:
    syllabus = sample_cards / "syllabus.yaml"
    syllabus.write_text(syllabus.read_text().replace("    sections: [lang]\n", ""))
    assert "cards/syllabus.yaml:16:5: topic 'rust' needs 'sections': the syllabus has sections" in (
        messages(sample_cards)
    )


def test_sections_named_in_a_syllabus_without_sections_are_refused(sample_cards: Path) -> None:
    without_sections(sample_cards)
    syllabus = sample_cards / "syllabus.yaml"
    syllabus.write_text(syllabus.read_text().replace("    min_cards: 1\n", "    sections: [x]\n"))
    dns = sample_cards / "net" / "dns.md"
    dns.write_text(dns.read_text().replace("topic: dns\n", "topic: dns\nsection: net\n"))
    found = messages(sample_cards)
    assert (
        "cards/syllabus.yaml:13:5: 'sections' names sections, but the syllabus has no "
        "'sections:' list"
    ) in found
    assert any(
        m.startswith("cards/net/dns.md:3: unknown section 'net': the syllabus has no sections")
        for m in found
    ), found


def test_an_unknown_section_of_a_topic_gets_a_suggestion(sample_cards: Path) -> None:
    syllabus = sample_cards / "syllabus.yaml"
    syllabus.write_text(syllabus.read_text().replace("sections: [lang]", "sections: [langs]"))
    assert "cards/syllabus.yaml:18:5: unknown section 'langs' (did you mean 'lang'?)" in (
        messages(sample_cards)
    )


def test_new_starts_a_topic_file_without_a_section_in_a_deck_without_sections(
    sample_cards: Path,
) -> None:
    without_sections(sample_cards)
    syllabus = sample_cards / "syllabus.yaml"
    syllabus.write_text(syllabus.read_text() + "  - {id: verbs, title: Verbs}\n")
    args = ["new", "--cards", str(sample_cards), "verbs", "What does ser mean?"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    text = (sample_cards / "verbs.md").read_text()
    assert text.startswith("---\ntopic: verbs\n---\n\n## ")
    syllabus.write_text(syllabus.read_text().replace("{id: verbs, title: Verbs}", "{id: verbs}"))
    assert "cards/syllabus.yaml:14:5: 'topics[4]' needs 'title'" in messages(sample_cards)
