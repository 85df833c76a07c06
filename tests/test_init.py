"""`deckgen init`: from an empty folder to a deck that lints clean, builds and imports."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from deckgen.cardtypes import CARD_TYPES
from deckgen.cli import cli
from tests.ankiutil import import_package, open_collection
from tests.conftest import definition_card_type


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result.exit_code, result.output


def test_init_then_build_works_and_every_card_type_reaches_anki(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    code, out = run("init", "Spanish Verbs")
    assert code == 0
    assert "Spanish Verbs/cards/deck.yaml" in out
    monkeypatch.chdir(tmp_path / "Spanish Verbs")
    assert 'id: spanish-verbs\nname: "Spanish Verbs"\n' in Path("cards/deck.yaml").read_text()
    code, out = run("lint", "--strict", "--print-check")
    assert code == 0, out
    code, out = run("build")
    assert code == 0, out
    col = open_collection(tmp_path / "anki")
    log = import_package(col, Path("dist/spanish-verbs.apkg"))
    assert len(log.new) == len(CARD_TYPES)
    types = {col.get_note(n).note_type()["name"] for n in col.find_notes("")}
    assert types == {f"Spanish Verbs · {t.label}" for t in CARD_TYPES.values()}
    # a syllabus without sections: <Deck>::<Topic>, tagged with the topic only
    assert {col.decks.name(col.get_card(c).did) for c in col.find_cards("")} == {
        "Spanish Verbs::Card types"
    }
    tags = {t for n in col.find_notes("") for t in col.get_note(n).tags}
    assert tags == {"topic::card-types", "deckgen::changed::unreleased"}
    col.close()


def test_init_refuses_a_folder_that_holds_anything(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("mine")
    code, out = run("init", str(tmp_path))
    assert code == 2
    assert f"{tmp_path} is not an empty folder: deckgen init writes only new decks" in out
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]


def test_a_type_registered_later_gets_a_card_that_lints(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    definition = definition_card_type()
    monkeypatch.setitem(CARD_TYPES, definition.key, definition)
    monkeypatch.chdir(tmp_path)
    assert run("init", "deck")[0] == 0
    monkeypatch.chdir(tmp_path / "deck")
    code, out = run("lint", "--strict")
    assert code == 0, out
    assert "## example-definition\nType: definition\n" in Path("cards/card-types.md").read_text()


@pytest.mark.parametrize(
    ("folder", "deck_id", "name"),
    [
        ("Verbos españoles", "verbos-espanoles", "Verbos españoles"),
        ("spanish-verbs", "spanish-verbs", "Spanish Verbs"),
        ("tcp_notes", "tcp-notes", "Tcp Notes"),
        ("Go: tricks #1", "go-tricks-1", "Go: tricks #1"),  # YAML-quoted, not a mapping
        ('a "b"', "a-b", "A B"),  # a name deckgen refuses falls back to the id's words
    ],
)
def test_the_deck_is_named_after_its_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, folder: str, deck_id: str, name: str
) -> None:
    monkeypatch.chdir(tmp_path)
    assert run("init", folder)[0] == 0
    text = (tmp_path / folder / "cards" / "deck.yaml").read_text(encoding="utf-8")
    assert f'id: {deck_id}\nname: "{name}"\n' in text
    monkeypatch.chdir(tmp_path / folder)
    assert run("lint", "--strict")[0] == 0
