"""The data model's own behaviour: what rounds and topics are called."""

from __future__ import annotations

from pathlib import Path

from deckgen.errors import Location
from deckgen.model import Card, CardType, Deck, DeckInfo, Round, Syllabus, Topic

SYLLABUS = Syllabus(
    rounds=(Round("net", "1 · Networking"), Round("lang", "2 · Languages")),
    topics=(
        Topic("tcp", "TCP", ("net",)),
        Topic("dns", "DNS", ("net",)),
        Topic("rust", "Rust", ("lang", "net")),  # a topic taught in two rounds
    ),
)


def card(card_id: str, round_: str, topic: str) -> Card:
    return Card(card_id, CardType.BASIC, Location(Path("x.md"), 1), round_, topic)


def test_titles_fall_back_to_the_id_the_syllabus_does_not_define() -> None:
    assert SYLLABUS.round_title("net") == "1 · Networking"
    assert SYLLABUS.topic_title("dns") == "DNS"
    assert SYLLABUS.round_title("ops") == "ops"
    assert SYLLABUS.topic_title("bgp") == "bgp"


def test_deck_path_names_round_and_topic_by_title_else_id() -> None:
    deck = Deck(DeckInfo("d", "Deck"), SYLLABUS, (), Path("cards"))
    assert deck.deck_path(card("a", "net", "tcp")) == "Deck::1 · Networking::TCP"
    assert deck.deck_path(card("b", "ops", "bgp")) == "Deck::ops::bgp"
