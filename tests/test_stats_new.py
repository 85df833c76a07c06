"""`deckgen stats` and `deckgen new` on the sample deck."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from deckgen.cli import cli
from deckgen.compile import load_deck


def invoke(cards: Path, *args: str) -> tuple[int, str, str]:
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(cards.parent)
        result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_stats_table(sample_cards: Path) -> None:
    code, out, _ = invoke(sample_cards, "stats")
    assert code == 0
    lines = [" ".join(line.split()) for line in out.splitlines()]
    assert lines == [
        "round / topic / subtopic id cards min",
        "1 · Networking net 5",
        "TCP tcp 3 2",
        "Handshake tcp-handshake 1 1",
        "TIME_WAIT tcp-time-wait 3 1",
        "DNS dns 2 2",
        "2 · Languages lang 2",
        "Rust rust 2 1",
        "total 7",
        "* a card counts once, in its own round and its own topic; a subtopic counts the cards"
        " tagged with it, so a card can count in several subtopics of its topic or in none",
    ]


def test_stats_json_marks_short_topics(sample_cards: Path) -> None:
    (sample_cards / "net" / "dns.md").unlink()
    code, out, _ = invoke(sample_cards, "stats", "--format", "json")
    assert code == 0
    rows = {row["id"]: row for row in json.loads(out)["rows"]}
    assert rows["dns"] == {
        "kind": "topic",
        "id": "dns",
        "title": "DNS",
        "cards": 0,
        "min_cards": 2,
        "ok": False,
    }
    assert rows["tcp"]["ok"] is True


def test_new_appends_to_the_subtopic_file(sample_cards: Path) -> None:
    code, out, _ = invoke(sample_cards, "new", "tcp-handshake", "What is a SYN cookie?")
    assert code == 0
    path, line = out.strip().rsplit(":", 1)
    assert path == "cards/net/tcp.md"
    text = (sample_cards / "net" / "tcp.md").read_text().splitlines()
    assert text[int(line) - 1] == "## tcp-syn-cookie"
    card = next(c for c in load_deck(sample_cards).cards if c.id == "tcp-syn-cookie")
    assert card.front is not None and card.front.markdown == "What is a SYN cookie?"
    # a second card with the same question gets a fresh id
    code, out, _ = invoke(sample_cards, "new", "tcp-handshake", "What is a SYN cookie?")
    assert code == 0
    assert "## tcp-syn-cookie-2" in (sample_cards / "net" / "tcp.md").read_text()


def test_new_creates_a_file_for_an_uncovered_topic(sample_cards: Path) -> None:
    (sample_cards / "lang" / "rust.md").unlink()
    code, out, _ = invoke(sample_cards, "new", "rust", "--type", "cloze")
    assert code == 0
    assert out.strip() == "cards/lang/rust.md:6"
    (card,) = [c for c in load_deck(sample_cards).cards if c.topic == "rust"]
    assert card.id == "rust-new"
    assert card.text is not None and "{{c1::answer}}" in card.text.markdown


def test_new_rejects_unknown_topics_and_taken_ids(sample_cards: Path) -> None:
    code, _, err = invoke(sample_cards, "new", "tpc")
    assert code == 2
    assert "unknown topic 'tpc' (did you mean 'tcp'?)" in err
    code, _, err = invoke(sample_cards, "new", "tcp", "--id", "tcp-time-wait-side")
    assert code == 2
    assert "id 'tcp-time-wait-side' is already taken" in err


def test_new_leaves_the_words_lint_ignores_out_of_the_id(sample_cards: Path) -> None:
    from deckgen.checks.similarity import question_words

    question = "Why is the FIN sent from the client and not from the server?"
    code, _, _ = invoke(sample_cards, "new", "tcp", question)
    assert code == 0
    card = next(
        c for c in load_deck(sample_cards).cards if c.front and c.front.markdown == question
    )
    # one stop-word list: the id keeps exactly the words the near-duplicate check compares
    assert card.id == "tcp-" + "-".join(question_words(card)[:6])
    assert card.id == "tcp-fin-sent-client-not-server"


def test_new_transliterates_accented_words_in_the_id(sample_cards: Path) -> None:
    code, out, _ = invoke(sample_cards, "new", "rust", "¿Qué significa «español»?")
    assert code == 0
    path, line = out.strip().rsplit(":", 1)
    assert path == "cards/lang/rust.md"
    lines = (sample_cards / "lang" / "rust.md").read_text().splitlines()
    assert lines[int(line) - 1] == "## rust-que-significa-espanol"


def test_new_for_a_topic_says_which_file_and_which_subtopic_it_inherits(
    sample_cards: Path,
) -> None:
    (sample_cards / "net" / "tcp-reset.md").write_text(
        "---\ntopic: tcp\n---\n\n## tcp-rst\nQ: What does RST do?\n\nA: Aborts.\n\nSource: RFC\n"
    )
    code, out, err = invoke(sample_cards, "new", "tcp", "What is a half-open connection?")
    assert code == 0
    assert out == "cards/net/tcp.md:35\n"
    assert err.splitlines() == [
        "deckgen: 'tcp' has cards in 2 files: chose cards/net/tcp.md (most of them) over"
        " cards/net/tcp-reset.md",
        "deckgen: the card also gets the subtopic tag(s) tcp-time-wait from the front matter of"
        " cards/net/tcp.md; to choose its subtopic, give one of tcp-handshake, tcp-time-wait"
        " instead of 'tcp'",
        "deckgen: added a card at cards/net/tcp.md:35; fill in the fields, then run deckgen lint",
    ]
    lines = (sample_cards / "net" / "tcp.md").read_text().splitlines()
    assert lines[34] == "## tcp-half-open-connection"


def test_new_for_a_subtopic_tags_the_card_with_it(sample_cards: Path) -> None:
    code, _, err = invoke(sample_cards, "new", "tcp-handshake", "What is a SYN flood?")
    assert code == 0
    assert err.splitlines()[0] == (
        "deckgen: the card also gets the subtopic tag(s) tcp-time-wait from the front matter of"
        " cards/net/tcp.md"
    )
    text = (sample_cards / "net" / "tcp.md").read_text()
    assert text.endswith("## tcp-syn-flood\nTags: tcp-handshake\nQ: What is a SYN flood?\n"
                         "\nA: TODO\n\nSource: TODO\n")  # fmt: skip
    card = next(c for c in load_deck(sample_cards).cards if c.id == "tcp-syn-flood")
    assert card.tags == ("tcp-time-wait", "tcp-handshake")
