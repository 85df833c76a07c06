"""The data model's own behaviour: what sections and topics are called, and how items group."""

from __future__ import annotations

from pathlib import Path

from deckgen.cardtypes import BASIC
from deckgen.errors import Location
from deckgen.model import Card, Deck, DeckInfo, Section, Syllabus, Topic

SYLLABUS = Syllabus(
    sections=(Section("net", "1 · Networking"), Section("lang", "2 · Languages")),
    topics=(
        Topic("tcp", "TCP", ("net",)),
        Topic("dns", "DNS", ("net",)),
        Topic("rust", "Rust", ("lang", "net")),  # a topic taught in two sections
    ),
)
# The same topics without sections: a language deck's syllabus.
FLAT = Syllabus(sections=(), topics=tuple(Topic(t.id, t.title) for t in SYLLABUS.topics))


def card(card_id: str, section: str, topic: str) -> Card:
    return Card(card_id, BASIC, Location(Path("x.md"), 1), section, topic)


def test_titles_fall_back_to_the_id_the_syllabus_does_not_define() -> None:
    assert SYLLABUS.section_title("net") == "1 · Networking"
    assert SYLLABUS.topic_title("dns") == "DNS"
    assert SYLLABUS.section_title("ops") == "ops"
    assert SYLLABUS.topic_title("bgp") == "bgp"
    assert SYLLABUS.place_title("net", "tcp") == "1 · Networking › TCP"
    assert FLAT.place_title("", "tcp") == "TCP"


def test_deck_path_names_section_and_topic_by_title_else_id() -> None:
    deck = Deck(DeckInfo("d", "Deck"), SYLLABUS, (), Path("cards"))
    assert deck.deck_path(card("a", "net", "tcp")) == "Deck::1 · Networking::TCP"
    assert deck.deck_path(card("b", "ops", "bgp")) == "Deck::ops::bgp"


def test_deck_path_without_sections_is_deck_then_topic() -> None:
    deck = Deck(DeckInfo("d", "Deck"), FLAT, (), Path("cards"))
    assert deck.deck_path(card("a", "", "tcp")) == "Deck::TCP"
    assert card("a", "", "tcp").all_tags() == ("tcp",)


def test_outline_follows_the_syllabus_and_keeps_the_given_order_within_a_topic() -> None:
    cards = [
        card("rust-1", "lang", "rust"),
        card("dns-1", "net", "dns"),
        card("tcp-1", "net", "tcp"),
        card("dns-2", "net", "dns"),
        card("rust-net", "net", "rust"),
        card("lost", "ops", "tcp"),  # a section the syllabus does not define: no group
        card("stray", "net", "bgp"),  # likewise a topic
    ]
    outline = SYLLABUS.outline(cards, lambda c: (c.section, c.topic))
    found = [
        (
            section.id if section else None,
            [(t.id, [c.id for c in members]) for t, members in topics],
        )
        for section, topics in outline
    ]
    assert found == [
        ("net", [("tcp", ["tcp-1"]), ("dns", ["dns-1", "dns-2"]), ("rust", ["rust-net"])]),
        ("lang", [("rust", ["rust-1"])]),
    ]


def test_outline_without_sections_is_one_group_of_topics() -> None:
    cards = [card("rust-1", "", "rust"), card("tcp-1", "", "tcp"), card("x", "net", "tcp")]
    outline = FLAT.outline(cards, lambda c: (c.section, c.topic))
    found = [(s, [(t.id, [c.id for c in m]) for t, m in topics]) for s, topics in outline]
    assert found == [(None, [("tcp", ["tcp-1"]), ("rust", ["rust-1"])])]


def test_outline_leaves_out_sections_and_topics_without_items() -> None:
    outline = SYLLABUS.outline([card("r", "lang", "rust")], lambda c: (c.section, c.topic))
    assert [(s.id, [t.id for t, _ in topics]) for s, topics in outline if s] == [("lang", ["rust"])]
    assert SYLLABUS.outline([], lambda c: (c.section, c.topic)) == []
    assert FLAT.outline([], lambda c: (c.section, c.topic)) == []
