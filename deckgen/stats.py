"""Coverage: how many cards each round, topic and subtopic has, against the syllabus minimum."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from deckgen.model import Deck


@dataclass(frozen=True)
class CoverageRow:
    kind: str  # "round", "topic" or "subtopic"
    id: str
    title: str
    have: int
    need: int
    line: int  # where the syllabus defines it (0 for rounds, which have no minimum)
    depth: int

    @property
    def short(self) -> bool:
        return self.have < self.need


def coverage(deck: Deck) -> list[CoverageRow]:
    """Rows in syllabus order: each round, then its topics and their subtopics."""
    by_round = Counter(card.round for card in deck.cards)
    by_topic = Counter(card.topic for card in deck.cards)
    by_tag = Counter(tag for card in deck.cards for tag in set(card.tags))
    rows = []
    for round_ in deck.syllabus.rounds:
        rows.append(CoverageRow("round", round_.id, round_.title, by_round[round_.id], 0, 0, 0))
        for topic in deck.syllabus.topics:
            if not topic.rounds or topic.rounds[0] != round_.id:
                continue
            rows.append(
                CoverageRow(
                    "topic",
                    topic.id,
                    topic.title,
                    by_topic[topic.id],
                    topic.min_cards,
                    topic.line,
                    1,
                )
            )
            rows.extend(
                CoverageRow("subtopic", s.id, s.title, by_tag[s.id], s.min_cards, s.line, 2)
                for s in topic.subtopics
            )
    return rows


def coverage_footnotes(deck: Deck) -> list[str]:
    """What the counts mean, for the table's foot: why the rows under a round need not add up."""
    notes = [
        "* a card counts once, in its own round and its own topic; a subtopic counts the cards"
        " tagged with it, so a card can count in several subtopics of its topic or in none"
    ]
    for topic in deck.syllabus.topics:
        if len(topic.rounds) > 1:
            notes.append(
                f"* topic '{topic.id}' belongs to rounds {', '.join(topic.rounds)}: it is listed"
                f" under '{topic.rounds[0]}' but counts its cards in every round, while each round"
                " counts only the cards whose round it is"
            )
    return notes
