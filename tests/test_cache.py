"""The cache of per-file work: warm builds equal cold ones, and every input change is seen."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from deckgen.build import build
from deckgen.cache import Cache, project_folder_name, user_cache_root
from deckgen.lint import lint_deck

FORMATS = ["apkg", "json", "html"]


def cache_folder(cards: Path) -> Path:
    """Where the project's cache lives by default: in the user cache folder, not the checkout."""
    return user_cache_root() / "projects" / project_folder_name(cards)


def outputs(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def test_warm_build_is_byte_identical_to_cold(
    sample_cards: Path, tmp_path: Path, epoch: Callable[[int], None]
) -> None:
    cold = build(sample_cards, tmp_path / "cold", formats=FORMATS, use_cache=False)
    build(sample_cards, tmp_path / "first", formats=FORMATS)
    warm = build(sample_cards, tmp_path / "warm", formats=FORMATS)
    assert outputs(tmp_path / "cold") == outputs(tmp_path / "first") == outputs(tmp_path / "warm")
    assert len(cold.deck.cards) == len(warm.deck.cards) == 7
    assert (cache_folder(sample_cards) / "files").is_dir()
    assert not (sample_cards.parent / ".deckgen-cache").exists()


def test_cache_hits_and_misses_follow_the_files(sample_cards: Path) -> None:
    cache = Cache.for_cards(sample_cards)
    lint_deck(sample_cards, cache=cache)
    assert (cache.hits, cache.misses) == (0, 3)  # three card files, all new
    cache = Cache.for_cards(sample_cards)
    lint_deck(sample_cards, cache=cache)
    assert (cache.hits, cache.misses) == (3, 0)
    tcp = sample_cards / "net" / "tcp.md"
    tcp.write_text(tcp.read_text().replace("active closer", "side that closes first"))
    cache = Cache.for_cards(sample_cards)
    result = lint_deck(sample_cards, cache=cache)
    assert (cache.hits, cache.misses) == (2, 1)
    card = next(c for c in result.rendered.cards if c.card.id == "tcp-time-wait-side")
    assert "side that closes first" in card.back


def test_editing_one_card_renders_only_that_card_again(
    sample_cards: Path,
    tmp_path: Path,
    epoch: Callable[[int], None],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Per-card results: the other cards of the edited file come from the cache, and the
    build is byte-identical to a cold one of the edited deck (messages included)."""
    from deckgen.render import CardRenderer

    tcp = sample_cards / "net" / "tcp.md"
    extra = "\n## tcp-extra\nQ: What is an MSL?\n\nA: The maximum segment lifetime.\n"
    tcp.write_text(tcp.read_text() + extra)
    build(sample_cards, tmp_path / "first", formats=FORMATS)  # fills the cache
    tcp.write_text(tcp.read_text().replace("active closer", "side that closes first"))
    rendered: list[str] = []
    real = CardRenderer.render

    def counting(self: CardRenderer, card: object) -> object:
        rendered.append(card.id)  # type: ignore[attr-defined]
        return real(self, card)  # type: ignore[arg-type]

    monkeypatch.setattr(CardRenderer, "render", counting)
    warm = build(sample_cards, tmp_path / "warm", formats=FORMATS)
    assert rendered == ["tcp-time-wait-side"]
    monkeypatch.setattr(CardRenderer, "render", real)
    cold = build(sample_cards, tmp_path / "cold", formats=FORMATS, use_cache=False)
    assert outputs(tmp_path / "warm") == outputs(tmp_path / "cold")
    assert warm.warnings == cold.warnings  # the cached card's DG311 (no Source:) is kept
    assert any(w.code == "DG311" and "tcp-extra" in w.message for w in warm.warnings)


def test_a_changed_image_invalidates_the_cached_file(
    sample_cards: Path, tmp_path: Path, epoch: Callable[[int], None]
) -> None:
    first = build(sample_cards, tmp_path / "one", formats=["json"])
    (old,) = first.deck.media
    image = sample_cards / "net" / "img" / "handshake.png"
    image.write_bytes(image.read_bytes() + b"\0")  # same name, new content
    second = build(sample_cards, tmp_path / "two", formats=["json"])
    (new,) = second.deck.media
    assert new.name != old.name
    image.unlink()
    assert any(
        d.code == "DG401" for d in lint_deck(sample_cards).diagnostics
    )  # a missing image is noticed even though the card file did not change


def test_a_syllabus_change_invalidates_every_file(sample_cards: Path) -> None:
    lint_deck(sample_cards)
    syllabus = sample_cards / "syllabus.yaml"
    syllabus.write_text(syllabus.read_text().replace("id: tcp-handshake,", "id: tcp-open,"))
    cache = Cache.for_cards(sample_cards)
    result = lint_deck(sample_cards, cache=cache)
    assert cache.hits == 0
    assert any("unknown tag 'tcp-handshake'" in d.message for d in result.diagnostics)


def test_a_corrupt_entry_is_a_miss_not_a_crash(sample_cards: Path) -> None:
    lint_deck(sample_cards)
    for entry in cache_folder(sample_cards).rglob("*"):
        if entry.is_file():
            entry.write_bytes(b"not a pickle")
    cache = Cache.for_cards(sample_cards)
    result = lint_deck(sample_cards, cache=cache)
    assert cache.hits == 0
    assert len(result.deck.cards) == 7


def test_print_check_results_are_cached_per_card(
    sample_cards: Path, write_card: Callable[[str, str], Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    code = "\n".join(f"let x{i} = {i};" for i in range(90))
    write_card(
        "lang/long.md",
        f"---\ntopic: rust\n---\n\n## rust-long\nQ: What?\n\nA: Look:\n\n"
        f"```rust\n{code}\n```\n\nSource: RFC 9293\n",
    )
    files, cards = 4, 8  # the sample deck's three files and seven cards, plus rust-long

    def overflows(cache: Cache) -> list[str]:
        found = lint_deck(sample_cards, print_check=True, cache=cache).diagnostics
        return [d.message for d in found if d.code == "DG320"]

    cold = Cache.for_cards(sample_cards)
    found = overflows(cold)
    assert len(found) == 1 and "rust-long" in found[0]
    assert (cold.hits, cold.misses) == (0, files + cards)
    entries = [p for p in (cache_folder(sample_cards) / "print").rglob("*") if p.is_file()]
    assert len(entries) == cards  # one layout result per card, on disk

    def no_typesetting(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("a cached card was laid out again")

    monkeypatch.setattr("deckgen.exporters.pdf.TypstDocument", no_typesetting)
    warm = Cache.for_cards(sample_cards)
    assert overflows(warm) == found
    assert (warm.hits, warm.misses) == (files + cards, 0)


@pytest.mark.parametrize("variable", ["DECKGEN_NO_CACHE"])
def test_the_cache_can_be_switched_off(
    sample_cards: Path, monkeypatch: pytest.MonkeyPatch, variable: str
) -> None:
    monkeypatch.setenv(variable, "1")
    lint_deck(sample_cards)
    assert not user_cache_root().exists()
    assert not (sample_cards.parent / ".deckgen-cache").exists()


def test_the_near_duplicate_check_after_an_edit_is_the_cold_one(
    sample_cards: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A warm lint joins only the questions it has not seen, and finds what a cold lint finds:
    a question edited into a near-copy of another, and the copy edited away again."""
    import deckgen.checks.similarity as similarity

    def near(cache: Cache) -> list[str]:
        result = lint_deck(sample_cards, cache=cache)
        return [d.message for d in result.diagnostics if d.code == "DG301"]

    assert near(Cache.for_cards(sample_cards)) == []
    full_joins: list[int] = []
    join = similarity._similar_sets
    monkeypatch.setattr(
        similarity,
        "_similar_sets",
        lambda sets, *rest: full_joins.append(len(sets)) or join(sets, *rest),
    )
    worded: list[str] = []
    words = similarity.question_words
    monkeypatch.setattr(
        similarity, "question_words", lambda card: worded.append(card.id) or words(card)
    )
    tcp = sample_cards / "net" / "tcp.md"
    original = tcp.read_text()
    tcp.write_text(
        original.replace(
            "How long does TIME_WAIT last?",
            "Which side of a TCP connection enters TIME_WAIT first?",
        )
    )
    warm = near(Cache.for_cards(sample_cards))
    assert worded == ["tcp-time-wait-length"]  # the other questions' words are remembered
    assert warm == near(Cache(None)) != []
    assert "tcp-time-wait-length" in warm[0] and "tcp-time-wait-side" in warm[0]
    assert full_joins == [7]  # the cold lint's; the warm one probed the edited question only
    tcp.write_text(original)
    assert near(Cache.for_cards(sample_cards)) == near(Cache(None)) == []
    assert full_joins == [7, 7]
    worded.clear()
    assert near(Cache.for_cards(sample_cards)) == []  # nothing changed: nothing joined again
    assert (worded, full_joins) == ([], [7, 7])


@pytest.mark.usefixtures("epoch")
def test_the_notes_follow_every_input_they_are_made_of(sample_cards: Path, tmp_path: Path) -> None:
    """The notes' fields come from the cache, a file at a time: after a changed image, your own
    Sources template and a renamed topic, a warm build still writes what a cold one does."""
    templates = tmp_path / "templates"

    def warm_equals_cold(name: str, own: Path | None = None) -> dict[str, bytes]:
        warm = build(sample_cards, tmp_path / name, formats=["csv"], templates_dir=own)
        cold = build(
            sample_cards,
            tmp_path / f"{name}-cold",
            formats=["csv"],
            templates_dir=own,
            use_cache=False,
        )
        assert outputs(tmp_path / name) == outputs(tmp_path / f"{name}-cold")
        assert warm.deck.cards == cold.deck.cards
        return outputs(tmp_path / name)

    first = warm_equals_cold("first")
    assert warm_equals_cold("again") == first  # the notes of cached files, from the cache
    image = sample_cards / "net" / "img" / "handshake.png"
    image.write_bytes(image.read_bytes() + b"\0")  # a new media name in one card's field
    changed = warm_equals_cold("image")
    assert changed != first
    assert warm_equals_cold("image, cached") == changed
    image.write_bytes(image.read_bytes()[:-1])  # back as it was: the first notes again
    assert warm_equals_cold("image back") == first
    (templates / "anki").mkdir(parents=True)
    (templates / "anki" / "sources.html").write_text(
        '<ol class="mine">{% for s in sources %}<li>{{ s }}</li>{% endfor %}</ol>'
    )
    mine = warm_equals_cold("template", templates)
    assert b'class=""mine""' in mine["sample-deck.csv"]
    syllabus = sample_cards / "syllabus.yaml"
    syllabus.write_text(syllabus.read_text().replace("title: TCP", "title: The TCP"))
    assert warm_equals_cold("syllabus", templates) != mine
