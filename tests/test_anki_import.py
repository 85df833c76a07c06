"""The built .apkg, checked by the official `anki` package: import, render, review, re-import."""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from deckgen.build import build
from tests.ankiutil import import_package, open_collection, review_all_due
from tests.conftest import SampleBuild


def build_apkg(cards: Path, out: Path, *tags: str) -> Path:
    result = build(cards, out, formats=["apkg"], include=tags)
    (path,) = result.paths
    return path


def test_import_counts_decks_tags_and_rendering(sample_build: SampleBuild, tmp_path: Path) -> None:
    sample_cards, package = sample_build.cards, sample_build.apkg
    col = open_collection(tmp_path / "anki")
    log = import_package(col, package)

    assert len(log.new) == 7
    assert not log.duplicate and not log.conflicting
    # 3 basic + 1 reversed (2 cards) + cloze with 3 deletions + basic + cloze with 2 = 12
    assert col.note_count() == 7
    assert col.card_count() == 3 + 2 + 3 + 1 + 2
    names = {d.name for d in col.decks.all_names_and_ids()}
    assert {
        "Sample Deck",
        "Sample Deck::1 · Networking::TCP",
        "Sample Deck::1 · Networking::DNS",
        "Sample Deck::2 · Languages::Rust",
    } <= names

    note = col.get_note(col.find_notes('"CardId:tcp-handshake-diagram"')[0])
    assert sorted(note.tags) == [
        "deckgen::changed::unreleased",  # no release recorded yet (tests/test_release.py)
        "round::net",
        "tcp-handshake",
        "tcp-time-wait",
        "topic::tcp",
    ]

    for card_id in col.find_cards(""):
        card = col.get_card(card_id)
        question, answer = card.question(), card.answer()
        card_note = card.note()
        assert card_note["CardId"] in answer
        assert "Sources" in answer
        assert "{{" not in re.sub(r"<style>.*?</style>", "", answer, flags=re.S)
        if card_note.note_type()["type"] == 1:  # cloze
            assert "[...]" in question or "[how many?]" in question
        else:
            assert question.strip()

    media = sorted(Path(col.media.dir()).iterdir())
    assert len(media) == 1
    assert re.fullmatch(r"[0-9a-f]{20}\.png", media[0].name)
    assert media[0].read_bytes() == (sample_cards / "net" / "img" / "handshake.png").read_bytes()
    col.close()


def test_rendered_content_reaches_anki(sample_build: SampleBuild, tmp_path: Path) -> None:
    col = open_collection(tmp_path / "anki")
    import_package(col, sample_build.apkg)

    def answer_of(card_id: str, ord_: int = 0) -> tuple[str, str]:
        (note_id,) = col.find_notes(f'"CardId:{card_id}"')
        card = col.get_note(note_id).cards()[ord_]
        return card.question(), card.answer()

    question, answer = answer_of("rust-two-mut-borrows")
    assert '<pre class="highlight"><code class="language-rust">' in question
    assert '<span class="kd">let</span>' in question
    assert "E0499" in answer

    _, answer = answer_of("tcp-time-wait-length")
    assert r"\(2 \times MSL\)" in answer
    assert 'href="https://www.rfc-editor.org/rfc/rfc9293#section-3.4.2"' in answer

    question, answer = answer_of("dns-ttl-term", 1)  # the reversed card
    assert "number of seconds a resolver may cache" in question
    assert "TTL (DNS)" in answer

    question, answer = answer_of("rust-ownership-rule", 0)
    assert "[how many?]" in question
    assert "exactly one owner" in answer
    col.close()


def test_filtered_build_imports_only_selection(
    sample_cards: Path, tmp_path: Path, epoch: Callable[[int], None]
) -> None:
    package = build_apkg(sample_cards, tmp_path / "dist", "net")
    assert package.name == "sample-deck--net.apkg"
    col = open_collection(tmp_path / "anki")
    log = import_package(col, package)
    assert len(log.new) == 5
    ids = {col.get_note(n)["CardId"] for n in col.find_notes("")}
    assert ids == {
        "tcp-time-wait-side",
        "tcp-time-wait-length",
        "tcp-handshake-diagram",
        "dns-ttl-term",
        "dns-resolution-order",
    }
    col.close()


def test_two_builds_are_byte_identical(
    sample_build: SampleBuild, sample_cards: Path, tmp_path: Path, epoch: Callable[[int], None]
) -> None:
    first = sample_build.apkg.read_bytes()  # the session's build, in its own folders and cache
    second = build_apkg(sample_cards, tmp_path / "two").read_bytes()
    assert first == second


def test_same_timestamp_reimport_changes_nothing(sample_build: SampleBuild, tmp_path: Path) -> None:
    col = open_collection(tmp_path / "anki")
    package = sample_build.apkg
    import_package(col, package)
    log = import_package(col, package)
    assert not log.new and not log.updated
    assert len(log.duplicate) == 7
    col.close()


def test_reimport_of_edited_build_keeps_reviews(
    sample_cards: Path, tmp_path: Path, epoch: Callable[[int], None]
) -> None:
    epoch(1_700_000_000)
    col = open_collection(tmp_path / "anki")
    import_package(col, build_apkg(sample_cards, tmp_path / "v1"))
    note_ids_before = set(col.find_notes(""))
    answered = review_all_due(col, "Sample Deck", limit=20)
    assert len(answered) == col.card_count()
    history_before = {
        cid: (col.get_card(cid).ivl, col.get_card(cid).due, col.get_card(cid).queue)
        for cid in answered
    }
    revlog_before = col.db.scalar("select count() from revlog")
    assert revlog_before == len(answered)
    assert all(ivl > 0 for ivl, _, _ in history_before.values())

    # Edit one answer, and move another card to a different file (and the same deck).
    tcp = sample_cards / "net" / "tcp.md"
    text = tcp.read_text()
    text = text.replace("the side that sends the first FIN", "the side whose FIN goes out first")
    moved_start = text.index("## tcp-time-wait-length")
    moved_end = text.index("## tcp-handshake-diagram")
    moved = text[moved_start:moved_end]
    tcp.write_text(text[:moved_start] + text[moved_end:])
    (sample_cards / "net" / "more-tcp.md").write_text(
        "---\ntopic: tcp\ntags: [tcp-time-wait]\n---\n\n" + moved
    )
    epoch(1_700_000_600)
    log = import_package(col, build_apkg(sample_cards, tmp_path / "v2"))

    assert not log.new, "a re-import must not add notes"
    assert not log.conflicting
    assert len(log.updated) == 7  # the whole deck is newer
    assert set(col.find_notes("")) == note_ids_before
    (edited,) = col.find_notes('"CardId:tcp-time-wait-side"')
    assert "whose FIN goes out first" in col.get_note(edited)["Back"]
    (moved_id,) = col.find_notes('"CardId:tcp-time-wait-length"')
    assert col.get_note(moved_id)["SourceFile"] == "cards/net/more-tcp.md"
    history_after = {
        cid: (col.get_card(cid).ivl, col.get_card(cid).due, col.get_card(cid).queue)
        for cid in answered
    }
    assert history_after == history_before
    assert col.db.scalar("select count() from revlog") == revlog_before
    col.close()


def test_template_change_applies_without_conflict(
    sample_cards: Path, tmp_path: Path, epoch: Callable[[int], None]
) -> None:
    """A new card style must reach learners: same field names, so no 'Name+' copy."""
    templates = tmp_path / "templates"
    shutil.copytree(Path(__file__).parent.parent / "templates", templates)
    col = open_collection(tmp_path / "anki")
    import_package(col, build_apkg(sample_cards, tmp_path / "v1"))
    models_before = sorted(m.name for m in col.models.all_names_and_ids())

    css = templates / "anki" / "style.css"
    css.write_text(css.read_text() + "\n.marker-for-test { color: red; }\n")
    epoch(1_700_000_600)
    result = build(sample_cards, tmp_path / "v2", formats=["apkg"], templates_dir=templates)
    log = import_package(col, result.paths[0])
    assert not log.conflicting
    assert sorted(m.name for m in col.models.all_names_and_ids()) == models_before
    (note_id,) = col.find_notes('"CardId:tcp-time-wait-side"')
    assert ".marker-for-test" in col.get_note(note_id).note_type()["css"]
    col.close()


@pytest.mark.parametrize("tags", [(), ("networking",)])
def test_shipped_deck_imports_and_renders(tmp_path: Path, tags: tuple[str, ...]) -> None:
    cards = Path(__file__).parent.parent / "cards"
    result = build(cards, tmp_path / "dist", formats=["apkg"], include=tags)
    col = open_collection(tmp_path / "anki")
    log = import_package(col, result.paths[0])
    assert len(log.new) == len(result.deck.cards) > 0
    assert not log.conflicting
    for card_id in col.find_cards(""):
        card = col.get_card(card_id)
        assert card.question().strip()
        assert card.note()["CardId"] in card.answer()
    if tags:
        for note_id in col.find_notes(""):
            assert "round::networking" in col.get_note(note_id).tags
    col.close()
