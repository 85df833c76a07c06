"""The data model's own behaviour: what rounds and topics are called, and how items group."""

from __future__ import annotations

from pathlib import Path

from deckgen.cardtypes import BASIC
from deckgen.errors import Location
from deckgen.model import Card, Deck, DeckInfo, Round, Syllabus, Topic

SYLLABUS = Syllabus(
    rounds=(Round("net", "1 · Networking"), Round("lang", "2 · Languages")),
    topics=(
        Topic("tcp", "TCP", ("net",)),
        Topic("dns", "DNS", ("net",)),
        Topic("rust", "Rust", ("lang", "net")),  # a topic taught in two rounds
    ),
)


def card(card_id: str, round_: str, topic: str) -> Card:
    return Card(card_id, BASIC, Location(Path("x.md"), 1), round_, topic)


def test_titles_fall_back_to_the_id_the_syllabus_does_not_define() -> None:
    assert SYLLABUS.round_title("net") == "1 · Networking"
    assert SYLLABUS.topic_title("dns") == "DNS"
    assert SYLLABUS.round_title("ops") == "ops"
    assert SYLLABUS.topic_title("bgp") == "bgp"


def test_deck_path_names_round_and_topic_by_title_else_id() -> None:
    deck = Deck(DeckInfo("d", "Deck"), SYLLABUS, (), Path("cards"))
    assert deck.deck_path(card("a", "net", "tcp")) == "Deck::1 · Networking::TCP"
    assert deck.deck_path(card("b", "ops", "bgp")) == "Deck::ops::bgp"


def test_sections_follow_the_syllabus_and_keep_the_given_order_within_a_topic() -> None:
    cards = [
        card("rust-1", "lang", "rust"),
        card("dns-1", "net", "dns"),
        card("tcp-1", "net", "tcp"),
        card("dns-2", "net", "dns"),
        card("rust-net", "net", "rust"),
        card("lost", "ops", "tcp"),  # a round the syllabus does not define: no section
        card("stray", "net", "bgp"),  # likewise a topic
    ]
    sections = SYLLABUS.sections(cards, lambda c: (c.round, c.topic))
    found = [
        (round_.id, [(topic.id, [c.id for c in members]) for topic, members in topics])
        for round_, topics in sections
    ]
    assert found == [
        ("net", [("tcp", ["tcp-1"]), ("dns", ["dns-1", "dns-2"]), ("rust", ["rust-net"])]),
        ("lang", [("rust", ["rust-1"])]),
    ]


def test_sections_leave_out_rounds_and_topics_without_items() -> None:
    sections = SYLLABUS.sections([card("r", "lang", "rust")], lambda c: (c.round, c.topic))
    assert [(r.id, [t.id for t, _ in topics]) for r, topics in sections] == [("lang", ["rust"])]
    assert SYLLABUS.sections([], lambda c: (c.round, c.topic)) == []
