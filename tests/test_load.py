"""Parsing card files: fields, types, tags and exact `path:line` messages for bad input."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest

from deckgen.cardtypes import BASIC, CARD_TYPES, CLOZE, REVERSED
from deckgen.compile import load_deck
from deckgen.errors import DeckgenError


def messages(cards: Path) -> list[str]:
    with pytest.raises(DeckgenError) as info:
        load_deck(cards)
    return [d.display(cards.parent) for d in info.value.diagnostics]


def test_sample_deck_parses_every_type(sample_cards: Path) -> None:
    deck = load_deck(sample_cards)
    by_id = {card.id: card for card in deck.cards}
    assert list(by_id) == [
        "rust-two-mut-borrows",
        "rust-ownership-rule",
        "dns-ttl-term",
        "dns-resolution-order",
        "tcp-time-wait-side",
        "tcp-time-wait-length",
        "tcp-handshake-diagram",
    ]
    side = by_id["tcp-time-wait-side"]
    assert side.type is BASIC
    assert side.location.line == 8
    assert side.front is not None and side.front.line == 9
    assert side.front.markdown == "Which side of a TCP connection enters TIME_WAIT?"
    assert side.back is not None and side.back.markdown.startswith("The **active closer**")
    assert [s.markdown for s in side.sources] == ["RFC 9293 §3.3.2"]
    assert (side.section, side.topic, side.tags) == ("net", "tcp", ("tcp-time-wait",))

    length = by_id["tcp-time-wait-length"]
    assert length.extra is not None and length.extra.markdown == "RFC 9293 sets MSL to 2 minutes."
    assert len(length.sources) == 2

    diagram = by_id["tcp-handshake-diagram"]
    assert diagram.tags == ("tcp-time-wait", "tcp-handshake")
    assert diagram.all_tags() == ("net", "tcp", "tcp-time-wait", "tcp-handshake")

    assert by_id["dns-ttl-term"].type is REVERSED
    cloze = by_id["dns-resolution-order"]
    assert cloze.type is CLOZE
    assert cloze.text is not None and "{{c3::authoritative}}" in cloze.text.markdown

    code = by_id["rust-two-mut-borrows"]
    assert code.front is not None and "```rust" in code.front.markdown
    assert code.section == "lang"  # the topic's first section when front matter names none


def test_field_markers_inside_code_and_lists_are_content(
    sample_cards: Path, write_card: Callable[[str, str], Path]
) -> None:
    write_card(
        "lang/more.md",
        "---\ntopic: rust\n---\n## rust-markers\nQ: What is printed?\n\n"
        "```text\nA: not a field\n```\n\n- Source: not a field either\n\nA: done\n",
    )
    card = next(c for c in load_deck(sample_cards).cards if c.id == "rust-markers")
    assert card.front is not None
    assert "A: not a field" in card.front.markdown
    assert "- Source: not a field either" in card.front.markdown
    assert card.back is not None and card.back.markdown == "done"
    assert card.sources == ()


BAD_CARDS = [
    pytest.param(
        "---\ntopic: tcp\nsection: [net\n---\n## a-b\nQ: x\n\nA: y\n",
        "cards/bad.md:3:14: invalid YAML: expected ',' or ']', but got '<stream end>'",
        id="malformed-yaml",
    ),
    pytest.param(
        "## a-b\nQ: x\n\nA: y\n",
        "cards/bad.md:1: missing front matter: a file of cards starts with '---', "
        "then at least 'topic: <id>', then '---'",
        id="no-front-matter",
    ),
    pytest.param(
        "---\ntopic: tcp\ntopik: dns\n---\n## a-b\nQ: x\n\nA: y\n",
        "cards/bad.md:3: unknown front-matter key 'topik' (did you mean 'topic'?) "
        "(known keys: section, tags, topic)",
        id="unknown-key",
    ),
    pytest.param(
        "---\ntopic: tcp\ntags: 3\n---\n## a-b\nQ: x\n\nA: y\n",
        "cards/bad.md:3: front-matter key 'tags' must be a list of strings",
        id="wrong-type",
    ),
    pytest.param(
        "---\ntopic: tpc\n---\n## a-b\nQ: x\n\nA: y\n",
        "cards/bad.md:2: unknown topic 'tpc' (did you mean 'tcp'?)",
        id="unknown-topic",
    ),
    pytest.param(
        "---\ntopic: tcp\nsection: lang2\n---\n## a-b\nQ: x\n\nA: y\n",
        "cards/bad.md:3: unknown section 'lang2' (did you mean 'lang'?)",
        id="unknown-section",
    ),
    pytest.param(
        "---\ntopic: tcp\nround: net\n---\n## a-b\nQ: x\n\nA: y\n",
        "cards/bad.md:3: unknown front-matter key 'round' (did you mean 'section'?) "
        "(known keys: section, tags, topic)",
        id="old-round-key",
    ),
    pytest.param(
        "---\ntopic: tcp\n---\n## a-b\nTags: tcp-handshak\nQ: x\n\nA: y\n",
        "cards/bad.md:5: unknown tag 'tcp-handshak' (did you mean 'tcp-handshake'?): "
        "tags come from the syllabus",
        id="unknown-tag",
    ),
    pytest.param(
        "---\ntopic: tcp\n---\n##\nQ: x\n\nA: y\n",
        "cards/bad.md:4: missing card id: write the id after '## '",
        id="missing-id",
    ),
    pytest.param(
        "---\ntopic: tcp\n---\n## Bad Id\nQ: x\n\nA: y\n",
        "cards/bad.md:4: invalid card id 'Bad Id': use lowercase letters, digits and "
        "single hyphens (at most 80 characters)",
        id="malformed-id",
    ),
    pytest.param(
        "---\ntopic: tcp\n---\n## a-b\nType: quiz\nQ: x\n\nA: y\n",
        f"cards/bad.md:4: unknown card type 'quiz' (expected one of: {', '.join(CARD_TYPES)})",
        id="unknown-type",
    ),
    pytest.param(
        "---\ntopic: tcp\n---\n## a-b\n\nCloze: no deletions here\n",
        "cards/bad.md:6: cloze card 'a-b' has no deletions: mark them as {{c1::…}}",
        id="cloze-without-deletions",
    ),
    pytest.param(
        "---\ntopic: tcp\n---\n## a-b\nQ: x\n",
        "cards/bad.md:4: card 'a-b' needs 'A:'",
        id="missing-answer",
    ),
    pytest.param(
        "---\ntopic: tcp\n---\n## a-b\nQ: x\n\nA:\n\nSource: y\n",
        "cards/bad.md:7: empty 'A:' in card 'a-b'",
        id="empty-answer",
    ),
    pytest.param(
        "---\ntopic: tcp\n---\nQ: stray\n\n## a-b\nQ: x\n\nA: y\n",
        "cards/bad.md:4: field outside a card: start each card with a '## card-id' heading",
        id="field-outside-card",
    ),
    pytest.param(
        "---\ntopic: tcp\n---\n## a-b\nWhat?\n\nQ: x\n\nA: y\n",
        "cards/bad.md:5: text before the first field of card 'a-b': start it with 'Q:' or 'Cloze:'",
        id="text-before-field",
    ),
    pytest.param(
        "---\ntopic: tcp\n---\n## a-b\nQ: x\n\nA: y\n\nA: z\n",
        "cards/bad.md:9: duplicate field 'A:' in card 'a-b'",
        id="duplicate-field",
    ),
]


@pytest.mark.parametrize(("text", "expected"), BAD_CARDS)
def test_bad_card_reports_path_and_line(
    sample_cards: Path, write_card: Callable[[str, str], Path], text: str, expected: str
) -> None:
    write_card("bad.md", text)
    # a file that fails as a whole (front matter) notes that its cards were not checked
    found = [
        re.sub(r" \(cards/bad\.md:(\d+): 1 card of this file not checked.*\)$", "", m)
        for m in messages(sample_cards)
    ]
    assert expected in found


def test_duplicate_id_names_both_places(
    sample_cards: Path, write_card: Callable[[str, str], Path]
) -> None:
    write_card("net/zz.md", "---\ntopic: tcp\n---\n\n## dns-ttl-term\nQ: x\n\nA: y\n")
    assert messages(sample_cards) == [
        "cards/net/zz.md:5: duplicate id 'dns-ttl-term' (cards/net/dns.md:6: first defined here)"
    ]


def test_all_problems_are_reported_at_once(
    sample_cards: Path, write_card: Callable[[str, str], Path]
) -> None:
    write_card("a.md", "---\ntopic: nope\n---\n## a-b\nQ: x\n\nA: y\n")
    write_card("b.md", "---\ntopic: tcp\n---\n## Bad\nQ: x\n\nA: y\n")
    found = messages(sample_cards)
    assert [m.split(":")[0] for m in found] == ["cards/a.md", "cards/b.md"]


def test_yaml_tags_are_not_constructed(
    sample_cards: Path, write_card: Callable[[str, str], Path]
) -> None:
    write_card(
        "evil.md",
        "---\ntopic: !!python/object/apply:os.system ['true']\n---\n## a-b\nQ: x\n\nA: y\n",
    )
    (message,) = messages(sample_cards)
    assert message.startswith("cards/evil.md:2:8: invalid YAML: could not determine a constructor")


@pytest.mark.parametrize(
    ("remote", "expected"),
    [
        ("git@github.com:acme/deck.git", "https://github.com/acme/deck"),
        ("https://gitlab.example/team/deck.git", "https://gitlab.example/team/deck"),
        ("file:///srv/deck.git", ""),
    ],
)
def test_report_links_fall_back_to_the_git_remote(
    sample_cards: Path, remote: str, expected: str
) -> None:
    import subprocess

    (sample_cards / "deck.yaml").write_text("id: sample-deck\nname: Sample Deck\n")
    subprocess.run(["git", "init", "-q"], cwd=sample_cards.parent, check=True)
    subprocess.run(["git", "remote", "add", "origin", remote], cwd=sample_cards.parent, check=True)
    assert load_deck(sample_cards).info.repository == expected
